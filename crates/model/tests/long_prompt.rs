//! A prompt longer than one attention task's block of query rows (64), run at once, against
//! the same tokens fed one at a time (every step a single row): the logits at every position
//! and every row of every attention pattern agree bit for bit. Uses the bundled model (256
//! positions; the tiny fixture has only 64).

use std::path::Path;

use nexttoken_model::{ActivationCache, KvCache, Model};

fn model() -> Model {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/sotu-tiny");
    Model::load(&dir, "sotu-tiny").unwrap()
}

fn recorder(model: &Model) -> ActivationCache {
    let mut names: Vec<String> = (0..model.config().n_layer)
        .map(|l| format!("blocks.{l}.attn.hook_pattern"))
        .collect();
    names.push("logits".into());
    ActivationCache::only(&names.iter().map(String::as_str).collect::<Vec<_>>())
}

#[test]
fn a_long_prompt_at_once_equals_one_token_at_a_time() {
    let m = model();
    let (v, n_head) = (m.config().vocab_size, m.config().n_head);
    let ids: Vec<u32> = (0..100).map(|i| ((1000 + 7919 * i) % v) as u32).collect();
    let mut whole = recorder(&m);
    m.forward(&ids, &mut KvCache::new(m.config()), &mut whole)
        .unwrap();
    let all_logits = &whole.get("logits").unwrap().data; // (T, V)
    let mut cache = KvCache::new(m.config());
    for (j, &id) in ids.iter().enumerate() {
        let mut step = recorder(&m);
        let logits = m.forward(&[id], &mut cache, &mut step).unwrap();
        let row = &all_logits[j * v..(j + 1) * v];
        assert_eq!(logits, row, "logits at {j}");
        for l in 0..m.config().n_layer {
            let name = format!("blocks.{l}.attn.hook_pattern");
            let (at_once, alone) = (whole.get(&name).unwrap(), step.get(&name).unwrap());
            assert_eq!(alone.shape, [n_head, 1, j + 1]);
            let t = ids.len();
            for h in 0..n_head {
                let full_row = &at_once.data[(h * t + j) * t..(h * t + j + 1) * t]; // (S,)
                let pattern = &alone.data[h * (j + 1)..(h + 1) * (j + 1)];
                assert_eq!(pattern, &full_row[..=j], "layer {l} head {h} row {j}");
                assert!(
                    full_row[j + 1..].iter().all(|&p| p == 0.0),
                    "masked: layer {l} head {h} row {j}"
                );
            }
        }
    }
}
