//! `trace_while`, the cancellable trace: it stops when asked, and until then it takes exactly
//! the steps `trace` takes. Every trace stops where the model ends its text.

use nexttoken_model::{trace, trace_while, Finish, GenerateOptions, Sampling};

mod common;

use common::tiny;

#[test]
fn stops_when_asked_after_the_same_steps() {
    let model = tiny();
    let options = GenerateOptions {
        sampling: Sampling {
            greedy: false,
            top_p: Some(0.9),
            ..Sampling::default()
        },
        seed: 7,
        top_n: 5,
    };
    let full = trace(&model, "Hello there", 10, options).unwrap();
    let mut asked = 0;
    let keep_going = || {
        asked += 1;
        asked <= 3
    };
    let part = trace_while(&model, "Hello there", 10, options, keep_going).unwrap();
    assert_eq!(part.steps.len(), 3);
    assert_eq!(part.finish_reason, Finish::Stopped);
    let ids = |t: &nexttoken_model::Trace| t.steps.iter().map(|s| s.chosen.id).collect::<Vec<_>>();
    assert_eq!(ids(&part), ids(&full)[..3]);
    assert_eq!(
        part.resid_norms, full.resid_norms,
        "the prompt's record is whole"
    );
    let none = trace_while(&model, "Hello there", 10, options, || false).unwrap();
    assert!(none.steps.is_empty());
}

/// A trace stops after the step that chooses a token ending the model's text and says why;
/// without one it takes every step.
#[test]
fn stops_where_the_model_ends_its_text() {
    let mut model = tiny();
    assert_eq!(
        model.eos,
        [50256],
        "config.json's eos_token_id, <|endoftext|>"
    );
    let options = GenerateOptions {
        sampling: Sampling::greedy(),
        seed: 0,
        top_n: 3,
    };
    let full = trace(&model, "Hello there", 6, options).unwrap();
    assert_eq!(full.finish_reason, Finish::Steps);
    let chosen: Vec<u32> = full.steps.iter().map(|s| s.chosen.id).collect();
    model.eos = vec![chosen[2]];
    let ended = trace(&model, "Hello there", 6, options).unwrap();
    let first = chosen.iter().position(|&id| id == chosen[2]).unwrap();
    let got: Vec<u32> = ended.steps.iter().map(|s| s.chosen.id).collect();
    assert_eq!(got, chosen[..=first]);
    assert_eq!(ended.finish_reason, Finish::Eos);
    assert_eq!(ended.model.eos_token_ids, [chosen[2]]);
}
