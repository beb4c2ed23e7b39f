//! Surprisal against HF `transformers`' logits, and the committing layer against the logit
//! lens read one position at a time.

use std::path::Path;

use nexttoken_model::lens::logit_lens;
use nexttoken_model::surprisal::surprisal;

mod common;

use common::{fixture_dir, tiny};

fn golden() -> (Vec<u32>, Vec<f32>) {
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture_dir().join("golden.json")).unwrap()).unwrap();
    let ids = meta["prompt_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as u32)
        .collect();
    let bytes = std::fs::read(Path::new(&fixture_dir()).join("golden.safetensors")).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let logits = st.tensor("logits").unwrap().data().chunks_exact(4);
    (
        ids,
        logits
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
            .collect(),
    )
}

#[test]
fn surprisal_is_minus_log2_of_transformers_probability() {
    let (model, (ids, logits)) = (tiny(), golden());
    let v = model.config().vocab_size;
    let got = surprisal(&model, &ids).unwrap();
    assert_eq!(got.len(), ids.len());
    assert_eq!(
        got[0].surprisal_bits, None,
        "nothing predicts the first token"
    );
    for (i, s) in got.iter().enumerate().skip(1) {
        let row: Vec<f64> = logits[(i - 1) * v..i * v]
            .iter()
            .map(|&l| l as f64)
            .collect();
        let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let lse = max + row.iter().map(|l| (l - max).exp()).sum::<f64>().ln();
        let want = -(row[ids[i] as usize] - lse) / std::f64::consts::LN_2;
        let bits = s.surprisal_bits.unwrap();
        assert!((bits - want).abs() < 1e-4, "position {i}: {bits} vs {want}");
        assert!(bits > 0.0);
    }
}

#[test]
fn the_committing_layer_is_where_the_lens_top_stops_changing() {
    let (model, (ids, _)) = (tiny(), golden());
    let got = surprisal(&model, &ids).unwrap();
    for (i, s) in got.iter().enumerate().skip(1) {
        let lens = logit_lens(&model, &ids, i - 1, 1).unwrap();
        let tops: Vec<u32> = lens.rows.iter().map(|r| r.top[0].id).collect();
        assert_eq!(s.top_id, Some(lens.final_id), "position {i}");
        let committed = (0..tops.len())
            .find(|&r| tops[r..].iter().all(|&t| t == lens.final_id))
            .unwrap();
        assert_eq!(
            s.committed,
            Some(committed),
            "position {i}: lens tops {tops:?}"
        );
    }
}

#[test]
fn one_token_has_nothing_to_be_surprised_by_and_none_is_an_error() {
    let model = tiny();
    let one = surprisal(&model, &[464]).unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].committed, None);
    assert!(surprisal(&model, &[]).is_err());
}
