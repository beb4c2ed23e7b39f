//! A full context is refused up front and leaves everything as it was: a generator's step, and
//! a trace asked for more steps than fit.

use nexttoken_model::{trace, GenerateOptions, Generator, NoRecorder, Sampling};

mod common;

use common::tiny;

fn options() -> GenerateOptions {
    GenerateOptions {
        sampling: Sampling::greedy(),
        seed: 3,
        top_n: 5,
    }
}

/// A step that cannot run fails without losing the chosen token or its place: the sequence
/// never outgrows the context, a failed step changes nothing, and the state can still resume.
#[test]
fn a_step_past_the_context_fails_and_changes_nothing() {
    let m = tiny();
    let n = m.config().n_positions;
    let prompt: Vec<u32> = (0..n as u32 - 1).map(|i| 100 + i).collect();
    let mut g = Generator::new(&m, prompt, 0, options(), &mut NoRecorder).unwrap();
    let last = g.step(None).unwrap().chosen;
    assert_eq!(g.tokens().len(), n);
    for _ in 0..2 {
        let err = g.step(None).unwrap_err().to_string();
        assert!(err.contains("context"), "{err}");
        assert_eq!(g.tokens().len(), n, "a failed step adds nothing");
        assert_eq!(*g.tokens().last().unwrap(), last);
    }
    let (tokens, prefix) = (g.tokens().to_vec(), g.into_prefix());
    assert_eq!(
        prefix.0.len(),
        n - 1,
        "the last token is still pending, not lost"
    );
    let mut resumed = Generator::resume(&m, prefix.0, 1, options(), prefix.1).unwrap();
    assert_eq!(resumed.step(None).unwrap().chosen, last, "the same logits");
    assert_eq!(resumed.tokens(), &tokens[..]);
}

/// `trace` checks prompt + steps before running anything, so it never fails after some steps.
#[test]
fn a_trace_longer_than_the_context_is_refused_up_front() {
    let m = tiny();
    let n = m.config().n_positions;
    let prompt = "a b c d";
    let len = m.encode_prompt(prompt).unwrap().len();
    let fits = trace(&m, prompt, n - len, options()).unwrap();
    assert_eq!(fits.steps.len(), n - len);
    let err = trace(&m, prompt, n - len + 1, options())
        .unwrap_err()
        .to_string();
    assert!(err.contains("positions"), "{err}");
}
