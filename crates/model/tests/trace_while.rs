//! `trace_while`, the cancellable trace: it stops when asked, and until then it takes exactly
//! the steps `trace` takes.

use nexttoken_model::{trace, trace_while, GenerateOptions, Sampling};

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
    let ids = |t: &nexttoken_model::Trace| t.steps.iter().map(|s| s.chosen.id).collect::<Vec<_>>();
    assert_eq!(ids(&part), ids(&full)[..3]);
    assert_eq!(
        part.resid_norms, full.resid_norms,
        "the prompt's record is whole"
    );
    let none = trace_while(&model, "Hello there", 10, options, || false).unwrap();
    assert!(none.steps.is_empty());
}
