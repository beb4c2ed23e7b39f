//! `/api/pair` and `/api/patch`: the lab's answers equal the model crate's patching on the
//! fixture model, rows asked in pieces equal the whole sweep, and every bad pair is refused
//! with its own code.

use axum::http::StatusCode;
use nexttoken_api::lab::pair_report;
use nexttoken_model::patch::{Direction, Pair, Site};
use serde_json::{json, Value};

use crate::helpers::*;

const CLEAN: &str = "When Mary and John went to the store, John gave a drink to";
const CORRUPTED: &str = "When Mary and John went to the store, Mary gave a drink to";

fn encode(text: &str) -> Vec<u32> {
    model().tokenizer.encode(text)
}

fn one(text: &str) -> u32 {
    match encode(text)[..] {
        [id] => id,
        ref ids => panic!("{text:?} is {ids:?}"),
    }
}

fn body() -> Value {
    json!({
        "clean": encode(CLEAN), "corrupted": encode(CORRUPTED),
        "answer": one(" Mary"), "other": one(" John"),
    })
}

fn with(mut body: Value, key: &str, value: Value) -> Value {
    body[key] = value;
    body
}

fn model_pair(m: &nexttoken_model::Model) -> Pair<'_> {
    Pair::new(
        m,
        encode(CLEAN),
        encode(CORRUPTED),
        one(" Mary"),
        one(" John"),
    )
    .expect("pair")
}

fn floats(value: &Value) -> Vec<f64> {
    value
        .as_array()
        .expect("an array")
        .iter()
        .map(|v| v.as_f64().expect("a number"))
        .collect()
}

#[tokio::test]
async fn pair_reads_out_both_prompts_as_the_model_crate_does() {
    let got = post_ok(app(), "/api/pair", with(body(), "top_n", json!(5))).await;
    let m = model();
    assert_eq!(got, wire(&pair_report(&model_pair(&m), &m, 5)));
    assert_eq!(got["differ"], json!([9]), "John/Mary at position 9");
    assert_eq!(got["clean"]["top"].as_array().map(Vec::len), Some(5));
    assert_eq!(
        floats(&got["clean"]["lens"]).len(),
        m.config().n_layer + 1,
        "a lens value entering each block, then leaving the last"
    );
}

#[tokio::test]
async fn every_cell_is_the_plain_patched_run() {
    let m = model();
    let pair = model_pair(&m);
    let (t, n_layer, n_head) = (pair.len(), m.config().n_layer, m.config().n_head);
    for (sweep, direction, shape) in [
        ("resid", "denoise", [n_layer, t]),
        ("mlp", "noise", [n_layer, t]),
        ("heads", "denoise", [n_layer, n_head]),
    ] {
        let req = with(
            with(body(), "sweep", json!(sweep)),
            "direction",
            json!(direction),
        );
        let got = post_ok(app(), "/api/patch", req).await;
        assert_eq!(got["shape"], json!(shape));
        let dir = match direction {
            "denoise" => Direction::Denoise,
            _ => Direction::Noise,
        };
        for (layer, row) in got["rows"].as_array().expect("rows").iter().enumerate() {
            assert_eq!(row["row"], layer);
            for (col, value) in floats(&row["metric"]).into_iter().enumerate() {
                let (site, positions) = match sweep {
                    "resid" => (Site::Resid, col..col + 1),
                    "mlp" => (Site::Mlp, col..col + 1),
                    _ => (Site::Head(col), 0..t),
                };
                let want = pair.patched(dir, layer, site, positions).expect("patched");
                assert!(
                    (value - want as f64).abs() < 1e-4,
                    "{sweep} {direction} [{layer}, {col}]: {value} vs {want}"
                );
                let restored = pair.normalise(value as f32).expect("the pair differs");
                let got = row["restored"][col].as_f64().expect("restored");
                assert!((got - restored as f64).abs() < 1e-4);
            }
        }
    }
}

#[tokio::test]
async fn rows_asked_one_at_a_time_equal_the_whole_sweep() {
    let req = with(with(body(), "sweep", json!("head_pos")), "layer", json!(1));
    let whole = post_ok(app(), "/api/patch", req.clone()).await;
    assert_eq!(whole["axes"], json!(["head", "position"]));
    assert_eq!(whole["layer"], 1);
    let n_rows = whole["shape"][0].as_u64().expect("rows");
    for row in 0..n_rows {
        let one = post_ok(
            app(),
            "/api/patch",
            with(req.clone(), "rows", json!([row, row + 1])),
        )
        .await;
        assert_eq!(one["rows"].as_array().map(Vec::len), Some(1));
        assert_eq!(one["rows"][0], whole["rows"][row as usize]);
    }
}

#[tokio::test]
async fn bad_pairs_get_their_own_codes() {
    let patch = |key: &str, value: Value| with(with(body(), "sweep", json!("resid")), key, value);
    let cases = [
        (
            "/api/pair",
            with(body(), "corrupted", json!(encode("When Mary went"))),
        ),
        ("/api/pair", with(body(), "other", json!(one(" Mary")))),
        ("/api/pair", with(body(), "answer", json!(50257))),
        ("/api/pair", with(body(), "clean", json!([]))),
        ("/api/pair", with(body(), "clean", json!(vec![1; 65]))),
        ("/api/patch", patch("sweep", json!("neurons"))),
        ("/api/patch", patch("sweep", json!("head_pos"))),
        (
            "/api/patch",
            with(patch("sweep", json!("head_pos")), "layer", json!(2)),
        ),
        ("/api/patch", patch("direction", json!("sideways"))),
        ("/api/patch", patch("rows", json!([1, 1]))),
        ("/api/patch", patch("rows", json!([0, 3]))),
        ("/api/patch", patch("rows", json!([0]))),
    ];
    let codes = [
        "length_mismatch",
        "same_answer",
        "invalid_token",
        "empty_prompt",
        "prompt_too_long",
        "invalid_sweep",
        "invalid_sweep",
        "invalid_layer",
        "invalid_direction",
        "invalid_rows",
        "invalid_rows",
        "bad_request",
    ];
    for ((path, req), code) in cases.into_iter().zip(codes) {
        let message = post(app(), path, req.clone())
            .await
            .assert_error(StatusCode::BAD_REQUEST, code);
        if code == "length_mismatch" {
            assert!(message.contains("same number of tokens"), "{message}");
        }
    }
}
