//! `Tokenizer::encode_reader`: the ids of `encode` on the whole text, however the reads cut it
//! (inside a character, a contraction, a whitespace run or `<|endoftext|>`), holding only the
//! pre-token being read, with a bound on its length.

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use nexttoken_model::{Model, Tokenizer};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

/// Yields `text` in a first read of `first` bytes, then reads of 1, 2, 3, 5, 8, ... bytes,
/// cycling: every kind of cut.
struct Uneven<'a> {
    text: &'a [u8],
    first: Option<usize>,
    step: usize,
}

impl Read for Uneven<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        const SIZES: [usize; 9] = [1, 2, 3, 5, 8, 13, 100, 4096, 70_000];
        let size = self.first.take().unwrap_or(SIZES[self.step % SIZES.len()]);
        let n = size.min(buf.len()).min(self.text.len());
        self.step += 1;
        buf[..n].copy_from_slice(&self.text[..n]);
        self.text = &self.text[n..];
        Ok(n)
    }
}

fn streamed(tokenizer: &Tokenizer, text: &[u8], max_piece: usize) -> io::Result<Vec<u32>> {
    cut_at(tokenizer, text, max_piece, 1)
}

fn cut_at(
    tokenizer: &Tokenizer,
    text: &[u8],
    max_piece: usize,
    first: usize,
) -> io::Result<Vec<u32>> {
    let mut ids = Vec::new();
    let reader = Uneven {
        text,
        first: Some(first),
        step: 0,
    };
    tokenizer.encode_reader(reader, max_piece, |id| {
        ids.push(id);
        Ok(())
    })?;
    Ok(ids)
}

const TRICKY: &str = "don't  you'll   WE'LL\t\t\n\n  x <|endoftext|>y<|endoftext|><|endoftext|> \
    🦀é中文 3.14159 1234567  \u{a0}\u{3000}end   ";

#[test]
fn streamed_ids_match_the_whole_text_and_hugging_face() {
    let gpt2 = Tokenizer::gpt2();
    let text = std::fs::read_to_string(fixtures().join("tokenizer/sotu_sample.txt")).unwrap();
    let raw = std::fs::read(fixtures().join("tokenizer/sotu_sample.ids.u32le")).unwrap();
    let golden: Vec<u32> = raw
        .chunks_exact(4)
        .map(|b| u32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    assert_eq!(streamed(&gpt2, text.as_bytes(), 1 << 20).unwrap(), golden);
    // The first read ends at every byte of the tricky text, the others cut it elsewhere.
    let text = TRICKY.repeat(2);
    let want = gpt2.encode(&text);
    for first in 1..text.len() {
        let got = cut_at(&gpt2, text.as_bytes(), 1 << 20, first).unwrap();
        assert_eq!(got, want, "first read of {first} bytes");
    }
    // Digits apart (SmolLM's pre-tokenizer), from the tiny Llama fixture's tokenizer.json.
    let llama = Model::load(&fixtures().join("tiny-llama"), "tiny").unwrap();
    let text = TRICKY.repeat(50);
    let want = llama.tokenizer.encode(&text);
    assert_eq!(
        streamed(&llama.tokenizer, text.as_bytes(), 1 << 20).unwrap(),
        want
    );
}

#[test]
fn a_pre_token_over_the_bound_is_an_error_not_a_memory_spike() {
    let gpt2 = Tokenizer::gpt2();
    let spaces = format!("a{}b", " ".repeat(5000));
    let err = streamed(&gpt2, spaces.as_bytes(), 1000).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    assert!(
        err.to_string().contains("longer than the 1000 bytes"),
        "{err}"
    );
    let word = "x".repeat(5000);
    assert!(streamed(&gpt2, word.as_bytes(), 1000).is_err());
    // Within the bound, the same ids as at once.
    assert_eq!(
        streamed(&gpt2, spaces.as_bytes(), 6000).unwrap(),
        gpt2.encode(&spaces)
    );
}

#[test]
fn bad_utf8_and_a_failing_consumer_end_the_run() {
    let gpt2 = Tokenizer::gpt2();
    let err = streamed(&gpt2, b"ok \xff rest", 1000).unwrap_err();
    assert!(err.to_string().contains("not UTF-8 (byte 3)"), "{err}");
    let err = streamed(
        &gpt2,
        "cut \u{1F980}".as_bytes().split_last().unwrap().1,
        1000,
    );
    assert!(err.unwrap_err().to_string().contains("not UTF-8"));
    let mut calls = 0;
    let err = gpt2.encode_reader(TRICKY.as_bytes(), 1000, |_| {
        calls += 1;
        Err(io::Error::from(io::ErrorKind::BrokenPipe))
    });
    assert_eq!(err.unwrap_err().kind(), io::ErrorKind::BrokenPipe);
    assert_eq!(calls, 1, "the first failed write stops the run");
}
