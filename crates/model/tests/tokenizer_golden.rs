//! The hand-written tokenizer against Hugging Face `tokenizers`: every id must match.
//!
//! Fixtures come from `scripts/make_tokenizer_golden.py`; see `fixtures/tokenizer/README.md`.

use nexttoken_model::tokenizer::{token_display, token_text, PreToken};
use nexttoken_model::{Error, Tokenizer};
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Deserialize)]
struct Golden {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    text: String,
    ids: Vec<u32>,
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/tokenizer")
}

fn golden(relative: &str) -> Vec<Case> {
    let text = std::fs::read_to_string(fixtures().join(relative)).expect("golden file exists");
    let golden: Golden = serde_json::from_str(&text).expect("golden file is valid JSON");
    golden.cases
}

fn sample() -> (String, Vec<u32>) {
    let text = std::fs::read_to_string(fixtures().join("sotu_sample.txt")).expect("sample");
    let raw = std::fs::read(fixtures().join("sotu_sample.ids.u32le")).expect("sample ids");
    let ids = raw
        .chunks_exact(4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    (text, ids)
}

/// Equal id lists, or a failure that says where they part and what the text is there.
fn assert_same_ids(tokenizer: &Tokenizer, text: &str, got: &[u32], want: &[u32]) {
    if got == want {
        return;
    }
    let at = got.iter().zip(want).take_while(|(a, b)| a == b).count();
    let show = |ids: &[u32]| {
        let end = ids.len().min(at + 8);
        let window = &ids[at.saturating_sub(3).min(end)..end];
        let shown: Vec<String> = window
            .iter()
            .map(|&id| format!("{id}:{:?}", tokenizer.token_info(id).map(|t| t.display)))
            .collect();
        shown.join(" ")
    };
    panic!(
        "ids differ at index {at} (got {} ids, want {}) for {:?}\n got: {}\nwant: {}",
        got.len(),
        want.len(),
        text.chars().take(80).collect::<String>(),
        show(got),
        show(want)
    );
}

fn decoded(tokenizer: &Tokenizer, ids: &[u32]) -> String {
    let bytes = tokenizer.decode_bytes(ids).expect("ids are known");
    String::from_utf8(bytes).expect("whole text decodes to UTF-8")
}

fn explained_ids(pre_tokens: &[PreToken]) -> Vec<u32> {
    pre_tokens
        .iter()
        .flat_map(|p| p.ids.iter().copied())
        .collect()
}

#[test]
fn edge_cases_match_hugging_face() {
    let tokenizer = Tokenizer::gpt2();
    let cases = golden("golden.json");
    assert!(cases.len() >= 40);
    for case in &cases {
        assert_same_ids(
            &tokenizer,
            &case.text,
            &tokenizer.encode(&case.text),
            &case.ids,
        );
    }
}

#[test]
fn sample_matches_hugging_face() {
    let tokenizer = Tokenizer::gpt2();
    let (text, ids) = sample();
    assert!(text.len() >= 200_000 && ids.len() > 40_000);
    assert_same_ids(
        &tokenizer,
        "sotu_sample.txt",
        &tokenizer.encode(&text),
        &ids,
    );
}

#[test]
fn decode_inverts_encode() {
    let tokenizer = Tokenizer::gpt2();
    let (sample, _) = sample();
    for case in golden("golden.json") {
        assert_eq!(
            decoded(&tokenizer, &tokenizer.encode(&case.text)),
            case.text
        );
    }
    assert_eq!(decoded(&tokenizer, &tokenizer.encode(&sample)), sample);
}

#[test]
fn explain_agrees_with_encode() {
    let tokenizer = Tokenizer::gpt2();
    let (sample, _) = sample();
    let texts = golden("golden.json").into_iter().map(|c| c.text);
    for text in texts.chain([sample]) {
        let explained = tokenizer.explain(&text);
        assert_eq!(explained_ids(&explained), tokenizer.encode(&text));
        let mut next = 0;
        for pre in &explained {
            assert_eq!(
                (pre.byte_start, &text[pre.byte_start..pre.byte_end]),
                (next, &pre.text[..])
            );
            next = pre.byte_end;
        }
        assert_eq!(next, text.len());
    }
}

#[test]
fn explain_steps_use_merge_ranks() {
    let tokenizer = Tokenizer::gpt2();
    let explained = tokenizer.explain(" the");
    // merges.txt: line 0 is "Ġ t", line 2 "h e", line 6 "Ġt he".
    let ranks: Vec<u32> = explained[0].steps.iter().map(|s| s.rank).collect();
    assert_eq!(ranks, [0, 2, 6]);
    let first = &explained[0].steps[0];
    assert_eq!((&first.left[..], &first.right[..]), ("·", "t"));
    assert_eq!(first.parts, ["·t", "h", "e"]);
    assert_eq!(explained[0].steps[2].parts, ["·the"]);
    let json = serde_json::to_value(&explained).expect("serializes");
    assert_eq!(json[0]["steps"][0]["rank"], 0);
    assert_eq!(json[0]["special"], false);
}

#[test]
fn split_characters_show_byte_escapes() {
    let tokenizer = Tokenizer::gpt2();
    for text in ["🦀", "😀"] {
        let ids = tokenizer.encode(text);
        assert!(ids.len() > 1, "{text} is split over several tokens");
        for id in ids {
            let info = tokenizer.token_info(id).expect("known id");
            assert_eq!(info.bytes, tokenizer.token_bytes(id).unwrap());
            for shown in [&info.text, &info.display] {
                assert!(shown.contains("<0x"), "{shown:?} shows escapes");
                assert!(!shown.contains('\u{FFFD}'), "{shown:?} has no U+FFFD");
            }
        }
    }
    // 🦀 is F0 9F A6 80; GPT-2 cuts it as "F0 9F" + "A6" + "80".
    let ids = tokenizer.encode("🦀");
    let texts: Vec<String> = ids
        .iter()
        .map(|&id| token_text(tokenizer.token_bytes(id).unwrap()))
        .collect();
    assert_eq!(texts, ["<0xF0><0x9F>", "<0xA6>", "<0x80>"]);
}

#[test]
fn display_marks_the_leading_space() {
    let tokenizer = Tokenizer::gpt2();
    let id = tokenizer
        .token_to_id(b" the")
        .expect("\" the\" is a GPT-2 token");
    assert_eq!(id, 262);
    let info = tokenizer.token_info(id).unwrap();
    assert_eq!(
        (info.text.as_str(), info.display.as_str()),
        (" the", "·the")
    );
    assert_eq!(token_display(b"\n\n"), "↵↵");
    let json = serde_json::to_value(&info).expect("serializes");
    assert_eq!(json["display"], "·the");
}

#[test]
fn vocabulary_facts() {
    let tokenizer = Tokenizer::gpt2();
    assert_eq!(tokenizer.vocab_size(), 50257);
    assert_eq!(tokenizer.eot_id(), Some(50256));
    assert_eq!(tokenizer.token_bytes(50256), Some(&b"<|endoftext|>"[..]));
    assert_eq!(tokenizer.token_bytes(50257), None);
    assert_eq!(tokenizer.token_to_id(b"!"), Some(0));
    assert_eq!(tokenizer.token_to_id(b"not a token at all"), None);
    assert!(tokenizer.token_info(u32::MAX).is_none());
}

#[test]
fn unknown_ids_are_input_errors() {
    let tokenizer = Tokenizer::gpt2();
    match tokenizer.decode_bytes(&[15496, 50257]) {
        Err(Error::Input(msg)) => assert!(msg.contains("50257"), "{msg}"),
        other => panic!("expected Error::Input, got {other:?}"),
    }
}

#[test]
fn clones_share_and_cross_threads() {
    fn send_sync<T: Send + Sync + Clone>() {}
    send_sync::<Tokenizer>();
    let tokenizer = Tokenizer::gpt2();
    let handle = std::thread::spawn(move || tokenizer.encode("Hello world"));
    assert_eq!(handle.join().unwrap(), [15496, 995]);
}

#[test]
fn vocab_and_merges_files_load_like_the_built_in() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/gpt2");
    let loaded = Tokenizer::from_dir(&dir)
        .unwrap()
        .expect("vocab.json + merges.txt found");
    let (text, ids) = sample();
    assert_eq!(loaded.encode(&text), ids);
    assert_eq!(loaded.eot_id(), Some(50256));
}

#[test]
fn tokenizer_json_from_hugging_face_loads() {
    let tiny = Tokenizer::from_dir(&fixtures().join("tiny"))
        .unwrap()
        .expect("tokenizer.json found");
    assert_eq!(tiny.vocab_size(), 557);
    assert_eq!(tiny.eot_id(), Some(556));
    for case in golden("tiny/golden.json") {
        assert_same_ids(&tiny, &case.text, &tiny.encode(&case.text), &case.ids);
        assert_eq!(decoded(&tiny, &case.ids), case.text);
    }
}

/// A scratch directory under the target folder, fresh for each test that asks.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

#[test]
fn tokenizer_json_with_string_merges_loads() {
    let original = std::fs::read_to_string(fixtures().join("tiny/tokenizer.json")).unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&original).unwrap();
    let merges = json["model"]["merges"].as_array_mut().unwrap();
    for merge in merges.iter_mut() {
        *merge = format!(
            "{} {}",
            merge[0].as_str().unwrap(),
            merge[1].as_str().unwrap()
        )
        .into();
    }
    let dir = scratch("string_merges");
    std::fs::write(dir.join("tokenizer.json"), json.to_string()).unwrap();
    let tiny = Tokenizer::from_dir(&dir)
        .unwrap()
        .expect("tokenizer.json found");
    for case in golden("tiny/golden.json") {
        assert_eq!(tiny.encode(&case.text), case.ids);
    }
}

#[test]
fn missing_and_broken_files() {
    assert!(Tokenizer::from_dir(&scratch("empty")).unwrap().is_none());

    let dir = scratch("broken");
    let gpt2 = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/gpt2");
    std::fs::copy(gpt2.join("vocab.json"), dir.join("vocab.json")).unwrap();
    std::fs::write(dir.join("merges.txt"), "#version: 0.2\nĠ t\nnot-a-pair\n").unwrap();
    let err = Tokenizer::from_dir(&dir).unwrap_err();
    assert!(
        matches!(err, Error::Format { ref path, .. } if path.ends_with("merges.txt")),
        "{err}"
    );
    assert!(err.to_string().contains("line 3"), "{err}");

    std::fs::write(dir.join("merges.txt"), "#version: 0.2\nĠ t\nqqq zzz\n").unwrap();
    let err = Tokenizer::from_dir(&dir).unwrap_err();
    assert!(matches!(err, Error::Tokenizer(_)), "{err}");

    let json = scratch("not_gpt2");
    let llama_like = r#"{"model": {"type": "BPE", "vocab": {"▁a": 0}, "merges": []},
        "pre_tokenizer": {"type": "Metaspace"}}"#;
    std::fs::write(json.join("tokenizer.json"), llama_like).unwrap();
    let err = Tokenizer::from_dir(&json).unwrap_err();
    assert!(err.to_string().contains("pre-tokenizer"), "{err}");
}

/// A small deterministic generator, so the stress test needs no extra crate.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Random strings drawn from troublesome pieces: every input must round-trip without panics.
#[test]
fn arbitrary_text_round_trips() {
    let pieces = [
        " ",
        "  ",
        "\n",
        "\r\n",
        "\t",
        "\0",
        "\x1b",
        "a",
        "Z",
        "é",
        "e\u{301}",
        "'s",
        "'",
        "9",
        "½",
        "🦀",
        "👍🏽",
        "\u{200d}",
        "日本",
        "<|endoftext|>",
        "<|",
        "|>",
        "\u{a0}",
        "\u{2028}",
        "ab",
        "!!",
        ".",
        "\u{fffd}",
        "\u{10ffff}",
    ];
    let tokenizer = Tokenizer::gpt2();
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    for _ in 0..2000 {
        let len = rng.next() % 40;
        let text: String = (0..len)
            .map(|_| pieces[(rng.next() % pieces.len() as u64) as usize])
            .collect();
        let ids = tokenizer.encode(&text);
        assert_eq!(decoded(&tokenizer, &ids), text);
        assert_eq!(explained_ids(&tokenizer.explain(&text)), ids);
    }
}

#[test]
fn long_runs_stay_fast() {
    let tokenizer = Tokenizer::gpt2();
    for text in [
        " ".repeat(200_000),
        "a".repeat(200_000),
        "\n".repeat(100_000) + "x",
        "🦀".repeat(50_000),
        format!("x{}y", " ".repeat(100_000)),
    ] {
        let ids = tokenizer.encode(&text);
        assert_eq!(decoded(&tokenizer, &ids), text);
    }
}

/// `cargo test --release -p nexttoken-model --test tokenizer_golden -- --ignored --nocapture`
#[test]
#[ignore = "a measurement, not a check; run in release"]
fn encode_speed() {
    let loading = std::time::Instant::now();
    let tokenizer = Tokenizer::gpt2();
    println!(
        "first Tokenizer::gpt2(): {:.0} ms",
        loading.elapsed().as_secs_f64() * 1e3
    );
    let (text, _) = sample();
    let rounds = 10;
    let started = std::time::Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(tokenizer.encode(&text));
    }
    let seconds = started.elapsed().as_secs_f64();
    let mb = (text.len() * rounds) as f64 / 1e6;
    println!(
        "encode: {:.2} MB/s ({mb:.1} MB in {seconds:.2} s)",
        mb / seconds
    );
}
