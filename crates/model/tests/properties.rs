//! Properties over generated inputs: the tokenizer round-trips any text and never panics,
//! and sampling never leaves the kept set.

use nexttoken_model::sampling::{uniform, Distribution, Sampling};
use nexttoken_model::tokenizer::{token_display, token_text};
use nexttoken_model::Tokenizer;
use proptest::prelude::*;

const REPLACEMENT: char = '\u{FFFD}';

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn decode_inverts_encode(s in "\\PC*|[ \\t\\r\\n'a-zA-Z0-9]{0,40}|.{0,12}") {
        let tok = Tokenizer::gpt2();
        let ids = tok.encode(&s);
        prop_assert_eq!(tok.decode_bytes(&ids).unwrap(), s.as_bytes());
        let explained: Vec<u32> = tok.explain(&s).into_iter().flat_map(|p| p.ids).collect();
        prop_assert_eq!(explained, ids);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let tok = Tokenizer::gpt2();
        let text = String::from_utf8_lossy(&bytes);
        let ids = tok.encode(&text);
        prop_assert!(ids.iter().all(|&id| (id as usize) < tok.vocab_size()));
        // Invalid bytes are shown as escapes, never as a replacement character (unless the
        // input spelled one out in valid UTF-8).
        let literal = bytes.windows(3).any(|w| w == "\u{FFFD}".as_bytes());
        prop_assert!(!token_display(&bytes).contains(REPLACEMENT) || literal);
        prop_assert!(!token_text(&bytes).contains(REPLACEMENT) || literal);
    }

    #[test]
    fn arbitrary_ids_decode_or_fail_cleanly(ids in proptest::collection::vec(any::<u32>(), 0..16)) {
        let tok = Tokenizer::gpt2();
        let ok = ids.iter().all(|&id| (id as usize) < tok.vocab_size());
        prop_assert_eq!(tok.decode_bytes(&ids).is_ok(), ok);
    }

    #[test]
    fn samples_stay_in_the_kept_set(
        logits in proptest::collection::vec(-30.0f32..30.0, 1..200),
        temperature in 0.05f32..5.0,
        top_k in proptest::option::of(1usize..50),
        top_p in proptest::option::of(0.01f32..=1.0),
        seed in any::<u64>(),
    ) {
        let settings = Sampling { greedy: false, temperature, top_k: top_k.map(|k| k.min(logits.len())), top_p };
        prop_assume!(settings.validate(logits.len()).is_ok());
        let d = Distribution::new(&logits, &settings);
        prop_assert!(d.kept >= 1 && d.kept <= logits.len());
        let kept = &d.order[..d.kept];
        for draw in 0..20 {
            prop_assert!(kept.contains(&d.pick(uniform(seed, draw))));
        }
        let total: f64 = d.final_probs.iter().sum();
        prop_assert!((total - 1.0).abs() < 1e-9);
        prop_assert!(d.final_probs[d.kept..].iter().all(|&p| p == 0.0));
    }
}
