//! `nexttoken patch` as a user runs it, on the tiny fixture model against the HF goldens of
//! scripts/make_patch_fixtures.py.

use std::process::{Command, Output};

const TINY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/tiny-gpt2");
const CLEAN: &str = "When Mary and John went to the store, John gave a drink to";
const CORRUPTED: &str = "When Mary and John went to the store, Mary gave a drink to";

fn patch(extra: &[&str]) -> Output {
    let mut args = vec![
        "patch",
        "--model",
        TINY,
        "--clean",
        CLEAN,
        "--corrupted",
        CORRUPTED,
    ];
    args.extend(["--answer", " Mary", "--other", " John"]);
    args.extend(extra);
    Command::new(env!("CARGO_BIN_EXE_nexttoken"))
        .args(&args)
        .env("HF_HUB_OFFLINE", "1")
        .output()
        .unwrap()
}

fn golden() -> serde_json::Value {
    let path = format!("{TINY}/patch.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn json(out: &Output) -> serde_json::Value {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stderr: {err}");
    serde_json::from_slice(&out.stdout).unwrap()
}

/// One line on stderr besides the load's notes (the fixture reads GPT-2's built-in vocabulary).
fn error_line(out: &Output) -> String {
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr.clone()).unwrap();
    let lines: Vec<&str> = err.lines().filter(|l| !l.starts_with("note: ")).collect();
    assert_eq!(lines.len(), 1, "{err}");
    lines[0].to_string()
}

fn close(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    (a.as_f64().unwrap() - b.as_f64().unwrap()).abs() < 1e-4
}

#[test]
fn every_sweep_prints_the_transformers_grid_as_json() {
    let g = golden();
    for (sweep, key, direction) in [
        ("resid", "resid", "denoise"),
        ("mlp", "mlp", "noise"),
        ("heads", "heads", "denoise"),
    ] {
        let v = json(&patch(&[
            "--sweep",
            sweep,
            "--direction",
            direction,
            "--json",
        ]));
        let rows = v["sweep"]["rows"].as_array().unwrap();
        let want = g[direction][key].as_array().unwrap();
        assert_eq!(rows.len(), want.len(), "{sweep}");
        for (row, want) in rows.iter().zip(want) {
            let got = row["metric"].as_array().unwrap();
            assert_eq!(got.len(), want.as_array().unwrap().len());
            assert!(got
                .iter()
                .zip(want.as_array().unwrap())
                .all(|(a, b)| close(a, b)));
        }
        assert!(close(&v["pair"]["clean"]["metric"], &g["metric"]["clean"]));
        assert_eq!(v["pair"]["differ"], serde_json::json!([9]));
    }
    let v = json(&patch(&["--sweep", "head-pos", "--layer", "1", "--json"]));
    assert_eq!(v["sweep"]["shape"], serde_json::json!([4, 14]));
    assert_eq!(v["sweep"]["axes"], serde_json::json!(["head", "position"]));
}

#[test]
fn the_table_shows_both_prompts_and_a_row_per_block() {
    let out = patch(&[]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for want in [
        "corrupted",
        "·Mary",
        "layer 0",
        "layer 1",
        "KL(clean ‖ corrupted)",
        "28 patched runs",
    ] {
        assert!(text.contains(want), "{want} in\n{text}");
    }
    assert!(!text.contains("-0%"), "{text}");
}

#[test]
fn what_cannot_be_patched_gets_one_plain_line() {
    let uneven = Command::new(env!("CARGO_BIN_EXE_nexttoken"))
        .args([
            "patch",
            "--model",
            TINY,
            "--clean",
            "The Eiffel Tower is in",
            "--corrupted",
        ])
        .args(["The tower is in", "--answer", " Paris", "--other", " Rome"])
        .output()
        .unwrap();
    let err = error_line(&uneven);
    assert!(
        err.contains("same number of tokens") && err.contains("·E|iff|el"),
        "{err}"
    );
    let err = error_line(&patch(&["--sweep", "head-pos"]));
    assert!(err.contains("--layer"), "{err}");
    let err = error_line(&patch(&["--sweep", "head-pos", "--layer", "2"]));
    assert!(err.contains("layer 2"), "{err}");
    let long_answer = Command::new(env!("CARGO_BIN_EXE_nexttoken"))
        .args([
            "patch",
            "--model",
            TINY,
            "--clean",
            "a b",
            "--corrupted",
            "a c",
        ])
        .args(["--answer", " Marylebone", "--other", " John"])
        .output()
        .unwrap();
    let err = error_line(&long_answer);
    assert!(err.contains("exactly one"), "{err}");
}
