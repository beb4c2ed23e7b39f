//! The `nexttoken` CLI as a user runs it: output on stdout, one-line errors, exit codes.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use nexttoken_model::kernels::Path;

const TINY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/tiny-gpt2");

fn nexttoken(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nexttoken"))
        .args(args)
        .env("HF_HUB_OFFLINE", "1")
        .env(
            "HF_HUB_CACHE",
            std::env::temp_dir().join("nexttoken-cli-test-empty-cache"),
        )
        .output()
        .unwrap()
}

fn stdout_json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A failed run: non-zero exit and exactly one line on stderr besides the load's notes (the
/// fixture has no tokenizer files, and the fallback to GPT-2's says so).
fn error_line(out: &Output) -> String {
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr.clone()).unwrap();
    let lines: Vec<&str> = err.lines().filter(|l| !l.starts_with("note: ")).collect();
    assert_eq!(lines.len(), 1, "{err}");
    lines[0].to_string()
}

#[test]
fn tokenize_prints_ids_and_display() {
    let v = stdout_json(&nexttoken(&["tokenize", "--json", "Hello world"]));
    assert_eq!(v["count"], 2);
    assert_eq!(v["tokens"][0]["id"], 15496);
    assert_eq!(v["tokens"][1]["display"], "·world");
    let plain = String::from_utf8(nexttoken(&["tokenize", "Hello world"]).stdout).unwrap();
    assert!(
        plain.contains("15496") && plain.contains("·world") && plain.contains("2 tokens"),
        "{plain}"
    );
}

#[test]
fn tokenize_reads_stdin() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_nexttoken"))
        .args(["tokenize", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all("🦀".as_bytes())
        .unwrap();
    let v = stdout_json(&child.wait_with_output().unwrap());
    let displays: Vec<&str> = v["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["display"].as_str().unwrap())
        .collect();
    assert_eq!(displays, ["<0xF0><0x9F>", "<0xA6>", "<0x80>"]);
}

#[test]
fn trace_json_follows_the_contract() {
    let v = stdout_json(&nexttoken(&[
        "trace",
        "--json",
        "-m",
        TINY,
        "--steps",
        "3",
        "--top",
        "5",
        "The United States",
    ]));
    assert_eq!(v["version"], 1);
    for field in ["name", "n_layer", "n_head", "n_embd", "vocab_size"] {
        assert!(!v["model"][field].is_null(), "model.{field}");
    }
    assert_eq!(v["prompt"], "The United States");
    let tokens: Vec<u64> = v["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_u64().unwrap())
        .collect();
    assert_eq!(tokens, [464, 1578, 1829]);
    let norms = v["resid_norms"].as_array().unwrap();
    assert_eq!(norms.len(), 3, "n_layer + 1 rows");
    assert!(norms.iter().all(|row| row.as_array().unwrap().len() == 3));
    let steps = v["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 3);
    for step in steps {
        let cands = step["candidates"].as_array().unwrap();
        assert_eq!(cands.len(), 5);
        assert_eq!(
            step["chosen"]["id"], cands[0]["id"],
            "greedy takes the top candidate"
        );
        let logits: Vec<f64> = cands.iter().map(|c| c["logit"].as_f64().unwrap()).collect();
        assert!(logits.windows(2).all(|w| w[0] >= w[1]), "sorted by logit");
        assert!(cands
            .iter()
            .all(|c| c["text"].is_string() && (0.0..=1.0).contains(&c["prob"].as_f64().unwrap())));
    }
}

#[test]
fn sampling_is_reproducible_from_the_seed() {
    let run = |seed: &str| {
        let out = nexttoken(&[
            "generate",
            "-m",
            TINY,
            "-n",
            "8",
            "--temperature",
            "1.5",
            "--seed",
            seed,
            "Once upon a time",
        ]);
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let a = run("11");
    assert!(a.starts_with("Once upon a time"));
    assert_eq!(a, run("11"));
    assert_ne!(a, run("12"));
}

#[test]
fn errors_are_one_line_and_fail() {
    let err = error_line(&nexttoken(&[
        "trace",
        "-m",
        TINY,
        "--temperature",
        "-1",
        "hi",
    ]));
    assert!(err.contains("temperature must be in"), "{err}");
    let err = error_line(&nexttoken(&["trace", "-m", TINY, ""]));
    assert!(err.contains("the prompt is empty"), "{err}");
    let err = error_line(&nexttoken(&["trace", "-m", TINY, &"word ".repeat(100)]));
    assert!(err.contains("this model reads at most 64"), "{err}");
    let err = error_line(&nexttoken(&[
        "trace",
        "-m",
        "no-such-org/no-such-model",
        "hi",
    ]));
    assert!(err.contains("HF_HUB_OFFLINE"), "{err}");
}

/// Each bad flag value: a non-zero exit and one line naming the problem, before any output.
#[test]
fn bad_values_are_one_line_errors() {
    let cases: [(&[&str], &str); 10] = [
        (&["--temperature", "NaN"], "temperature must be in"),
        (&["--temperature", "inf"], "temperature must be in"),
        (&["--top-p", "1.5"], "top_p must be in"),
        (&["--top-p", "0"], "top_p must be in"),
        (&["--top-k", "50258"], "top_k must be in"),
        (&["--seed", "-1"], "--seed"),
        (&["--seed", "18446744073709551616"], "--seed"),
        (&["--steps", "-1"], "--steps"),
        (&["--steps", "64"], "at most 63 steps"),
        (&["--colour", "red"], "--colour"),
    ];
    for command in ["trace", "generate"] {
        for (flags, expected) in cases {
            let mut args = vec![command, "-m", TINY];
            args.extend_from_slice(flags);
            args.push("hi");
            let out = nexttoken(&args);
            let err = error_line(&out);
            assert!(err.contains(expected), "{args:?}: {err}");
            assert!(out.stdout.is_empty(), "{args:?} printed before failing");
        }
    }
}

/// Whitespace and control characters are tokens to GPT-2; `<|endoftext|>` is token 50256.
#[test]
fn odd_prompts_run() {
    for prompt in [" ", "\n", "\u{7}", "<|endoftext|>"] {
        let out = nexttoken(&["trace", "-m", TINY, "--json", "-n", "1", prompt]);
        stdout_json(&out);
    }
    let out = nexttoken(&["tokenize", "--json", "<|endoftext|>"]);
    assert_eq!(stdout_json(&out)["tokens"][0]["id"], 50256);
}

#[test]
fn invalid_utf8_on_stdin_is_one_line() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_nexttoken"))
        .arg("tokenize")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"ok \xff\xfe")
        .unwrap();
    let err = error_line(&child.wait_with_output().unwrap());
    assert!(err.contains("UTF-8"), "{err}");
}

#[test]
fn help_documents_every_flag() {
    let help = String::from_utf8(nexttoken(&["trace", "--help"]).stdout).unwrap();
    for flag in [
        "--model",
        "--steps",
        "--top-k",
        "--temperature",
        "--top-p",
        "--seed",
        "--json",
    ] {
        assert!(help.contains(flag), "{flag} missing from --help");
    }
}

#[test]
fn bench_prints_the_measurements_as_json() {
    for dtype in ["f32", "f16"] {
        let v = stdout_json(&nexttoken(&[
            "bench",
            "--model",
            TINY,
            "--dtype",
            dtype,
            "--runs",
            "1",
            "--prompt-tokens",
            "4",
            "--decode-tokens",
            "3",
            "--prefill-tokens",
            "8",
            "--interleave",
            "5",
            "--json",
        ]));
        assert_eq!(v["dtype"], dtype);
        for key in [
            "prefill_ms",
            "decode_tok_s",
            "peak_rss_mb",
            "decode_recorded_tok_s",
            "read_gb_s",
            "decode_share_of_bandwidth",
            "interleaved_step_ms",
            "interleaved_read_gb_s",
            "interleaved_share",
        ] {
            assert!(v[key].as_f64().unwrap() > 0.0, "{key}: {v}");
        }
        let quartiles = [
            "interleaved_share_q1",
            "interleaved_share",
            "interleaved_share_q3",
        ];
        let q = quartiles.map(|k| v[k].as_f64().unwrap());
        assert!(q[0] <= q[1] && q[1] <= q[2], "{v}");
        let path = v["kernels"].as_str().unwrap();
        assert!(Path::available().iter().any(|p| p.name() == path), "{v}");
    }
    let out = nexttoken(&["bench", "--model", TINY, "--dtype", "f8"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("expected f32, bf16 or f16"),
        "{err}"
    );
}

/// `NEXTTOKEN_KERNELS` picks the kernels every command runs; a path this CPU cannot run, or no
/// path at all, is a one-line error before any work.
#[test]
fn the_kernel_path_is_chosen_or_refused() {
    let run = |value: &str| {
        Command::new(env!("CARGO_BIN_EXE_nexttoken"))
            .args(["trace", "-m", TINY, "--steps", "1", "hi"])
            .env("NEXTTOKEN_KERNELS", value)
            .env("HF_HUB_OFFLINE", "1")
            .output()
            .unwrap()
    };
    assert!(run("portable").status.success());
    // On x86 `neon`, on AArch64 the x86 paths: known names this CPU cannot run.
    if let Some(p) = Path::ALL.into_iter().find(|p| !p.supported()) {
        let out = run(p.name());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && err.contains("cannot run it"),
            "{err}"
        );
    }
    let out = run("avx1024");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("not a kernel path"),
        "{err}"
    );
}
