//! The bundled sotu-tiny model, as embedded in the binary, against HF transformers' logits for
//! the same F16 file (recorded by scripts/train_tiny/train.py export, see its model card).

use nexttoken::models::bundled;
use nexttoken_model::{KvCache, NoRecorder};

#[test]
fn bundled_model_matches_transformers_and_has_learned() {
    let model = bundled().unwrap();
    let ids = model.tokenizer.encode("the United");
    assert_eq!(ids, [1169, 1578]);
    let logits = model
        .forward(&ids, &mut KvCache::new(model.config()), &mut NoRecorder)
        .unwrap();
    let want = [-1.530306, 2.12191, -5.599567, -9.283777, -0.979072];
    for (got, want) in logits.iter().zip(want) {
        assert!((got - want).abs() < 1e-4, "{got} vs {want}");
    }
    let argmax = (0..logits.len())
        .max_by(|&a, &b| logits[a].total_cmp(&logits[b]))
        .unwrap();
    assert_eq!(argmax, 1829, "\" States\" follows \"the United\"");
    assert!((logits[argmax] - 11.868273).abs() < 1e-4);
}

/// The page's examples for the bundled model (web/prompts-sotu-tiny.json, also what `nexttoken
/// export` records with it) are ones it continues sensibly: its greedy next token on each is
/// the one a reader of those speeches expects.
#[test]
fn the_bundled_examples_suit_the_bundled_model() {
    let model = bundled().unwrap();
    let prompts = nexttoken::export::embedded_prompts_for(&model).unwrap();
    let expected = [" States", " of", " 30", " the", " be"];
    assert_eq!(prompts.len(), expected.len());
    for (p, want) in prompts.iter().zip(expected) {
        let ids = model.tokenizer.encode(&p.prompt);
        let logits = model
            .forward(&ids, &mut KvCache::new(model.config()), &mut NoRecorder)
            .unwrap();
        let argmax = (0..logits.len())
            .max_by(|&a, &b| logits[a].total_cmp(&logits[b]))
            .unwrap();
        let bytes = model.tokenizer.token_bytes(argmax as u32).unwrap();
        assert_eq!(bytes, want.as_bytes(), "after {:?}", p.prompt);
    }
}
