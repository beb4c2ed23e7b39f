//! A generation resumed from the state an earlier one left (`Generator::into_prefix`, then
//! `Generator::resume`) continues as one that ran the whole sequence from scratch.

use nexttoken_model::{GenerateOptions, Generator, NoRecorder, ResidNorms, Sampling};

mod common;

use common::{run_steps, tiny};

fn options() -> GenerateOptions {
    let sampling = Sampling {
        greedy: false,
        temperature: 0.9,
        top_k: None,
        top_p: Some(0.9),
    };
    GenerateOptions {
        sampling,
        seed: 11,
        top_n: 10,
    }
}

#[test]
fn a_resumed_generation_continues_as_one_from_scratch() {
    let m = tiny();
    let prompt = m.tokenizer.encode("The capital of France is");
    let mut first = Generator::new(&m, prompt.clone(), 0, options(), &mut NoRecorder).unwrap();
    let (head, _) = run_steps(&mut first, 3);
    let tokens = first.tokens().to_vec();
    assert_eq!(
        tokens[tokens.len() - 3..],
        head[..],
        "the three chosen tokens end the sequence"
    );
    let (fed, prefix) = first.into_prefix();
    assert_eq!(
        fed,
        tokens[..tokens.len() - 1],
        "the last chosen token is not fed yet"
    );
    let mut resumed = Generator::resume(&m, tokens.clone(), 3, options(), prefix).unwrap();
    let mut scratch = Generator::new(&m, tokens, 3, options(), &mut NoRecorder).unwrap();
    let (got, got_logits) = run_steps(&mut resumed, 5);
    let (want, want_logits) = run_steps(&mut scratch, 5);
    assert_eq!(got, want);
    assert_eq!(got_logits, want_logits, "the same bits");
}

#[test]
fn a_state_of_more_tokens_than_sent_is_refused() {
    let m = tiny();
    let mut g = Generator::new(&m, vec![1, 2, 3], 0, options(), &mut NoRecorder).unwrap();
    g.step(None).unwrap();
    let (_, prefix) = g.into_prefix();
    let err = Generator::resume(&m, vec![1, 2], 0, options(), prefix)
        .err()
        .unwrap();
    assert!(err.to_string().contains("cannot resume"), "{err}");
}

/// A fed choice leaves a state of every token, whose recorder saw that token alone; cut
/// back to a shared start, the state resumes a branch as a run from scratch would.
#[test]
fn a_fed_choice_and_a_cut_back_state_resume_as_from_scratch() {
    let m = tiny();
    let prompt = m.tokenizer.encode("The capital of France is");
    let mut g = Generator::new(&m, prompt.clone(), 0, options(), &mut NoRecorder).unwrap();
    g.step(None).unwrap();
    let norms = g.feed_pending(ResidNorms::new(m.config().n_layer)).unwrap();
    assert_eq!(norms.rows.len(), m.config().n_layer + 1);
    assert!(norms.rows.iter().all(|row| row.len() == 1), "one position");
    let (fed, prefix) = g.into_prefix();
    assert_eq!(fed.len(), prompt.len() + 1, "the chosen token is fed");

    let mut branch = prompt.clone();
    branch.push(31337);
    let cut = prefix.truncate(prompt.len());
    assert_eq!(cut.cache.len(), prompt.len());
    assert!(
        cut.logits.is_empty(),
        "the prediction after the cut is not known"
    );
    let mut resumed = Generator::resume(&m, branch.clone(), 1, options(), cut).unwrap();
    let mut scratch = Generator::new(&m, branch, 1, options(), &mut NoRecorder).unwrap();
    let (got, got_logits) = run_steps(&mut resumed, 3);
    let (want, want_logits) = run_steps(&mut scratch, 3);
    assert_eq!(got, want);
    let diff = got_logits
        .iter()
        .zip(&want_logits)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    assert!(diff <= 1e-4, "{diff:e}");
}

#[test]
fn a_state_cut_back_to_all_sent_tokens_is_refused() {
    let m = tiny();
    let mut g = Generator::new(&m, vec![1, 2, 3], 0, options(), &mut NoRecorder).unwrap();
    g.step(None).unwrap();
    g.feed_pending(NoRecorder).unwrap();
    let (_, prefix) = g.into_prefix();
    let err = Generator::resume(&m, vec![1, 2, 3], 0, options(), prefix.truncate(3))
        .err()
        .unwrap();
    assert!(err.to_string().contains("a token more"), "{err}");
}
