//! Extreme flag values and a reader that goes away: one-line errors that name the flag, and
//! quiet ends, never a panic.

use std::io::Write;
use std::process::{Command, Output, Stdio};

const TINY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/tiny-gpt2");
const HUGE: &str = "18446744073709551615"; // u64::MAX
const HUGE_LESS_ONE: &str = "18446744073709551614";

fn nexttoken(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nexttoken"))
        .args(args)
        .env("HF_HUB_OFFLINE", "1")
        .output()
        .unwrap()
}

#[test]
fn out_of_range_counts_are_refused_by_name() {
    let cases: &[(&[&str], &str)] = &[
        (&["trace", "-m", TINY, "-n", HUGE, "hi"], "--steps"),
        (&["generate", "-m", TINY, "-n", HUGE, "hi"], "--steps"),
        (&["trace", "-m", TINY, "--top", HUGE, "hi"], "--top"),
        (
            &["bench", "-m", TINY, "--prompt-tokens", HUGE],
            "--prompt-tokens",
        ),
        (
            &["bench", "-m", TINY, "--prefill-tokens", HUGE],
            "--prefill-tokens",
        ),
        (
            &["bench", "-m", TINY, "--decode-tokens", HUGE],
            "--decode-tokens",
        ),
        (&["bench", "-m", TINY, "--runs", HUGE], "--runs"),
        (&["bench", "-m", TINY, "--runs", "0"], "--runs"),
        (
            &[
                "export",
                "-m",
                TINY,
                "--out",
                "/nonexistent/x",
                "--steps",
                HUGE,
            ],
            "--steps",
        ),
        (&["serve", "--max-steps", HUGE], "--max-steps"),
        (
            &["serve", "--request-timeout-secs", HUGE_LESS_ONE],
            "--request-timeout-secs",
        ),
        (&["serve", "--cache-mb", HUGE], "--cache-mb"),
    ];
    for (args, flag) in cases {
        let out = nexttoken(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(
            err.contains(flag) && !err.contains("panicked"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn the_largest_accepted_step_count_meets_the_models_context_not_a_panic() {
    let out = nexttoken(&["trace", "-m", TINY, "-n", "131072", "hi"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("reads at most") && !err.contains("panicked"),
        "{err}"
    );
}

/// The command's stdout is a pipe whose reader is already gone (`| head -0`).
fn with_closed_stdout(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_nexttoken"))
        .args(args)
        .env("HF_HUB_OFFLINE", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

#[test]
fn a_closed_stdout_ends_quietly() {
    let text = "the people of the United States ".repeat(2000);
    let runs: &[&[&str]] = &[
        &["tokenize"],
        &["tokenize", "--json"],
        &["trace", "-m", TINY, "-n", "2", "hi"],
        &["generate", "-m", TINY, "-n", "2", "hi"],
    ];
    for args in runs {
        let out = with_closed_stdout(args, text.as_bytes());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?}: {:?} {err}", out.status);
        // The fixture's note that it reads GPT-2's built-in vocabulary, and nothing else.
        assert!(
            err.lines().all(|l| l.starts_with("note: ")),
            "{args:?}: {err}"
        );
    }
}

/// `tokenize` streams: a pre-token over its 1 MiB bound is one line of error, not gigabytes.
#[test]
fn tokenize_refuses_an_endless_pre_token_in_one_line() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_nexttoken"))
        .args(["tokenize", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    // The refusal may come before all is written: a closed pipe is then what this side sees.
    let _ = input.write_all(&vec![b' '; 3 << 20]);
    drop(input);
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("longer than the 1048576 bytes"), "{err}");
}
