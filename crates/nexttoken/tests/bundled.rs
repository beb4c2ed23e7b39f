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
