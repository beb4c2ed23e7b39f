//! Any bytes, read as text (lossily) and as token ids: encoding never panics, decoding what
//! was encoded gives the text back, and decoding arbitrary ids only ever fails cleanly. The
//! same bytes streamed (`encode_reader`, what `nexttoken tokenize` runs) in reads of 1 to 16
//! bytes, some interrupted, under a pre-token bound of 1 to 128 bytes or none (the CLI's
//! 1 MiB scaled down to the fuzzer's inputs): the ids of `encode` of the whole text, or an
//! `InvalidData` error for text that is not UTF-8 or holds a longer stretch than the bound.

#![no_main]

use std::io::{self, Read};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use nexttoken_model::Tokenizer;

fn tokenizer() -> &'static Tokenizer {
    static TOKENIZER: OnceLock<Tokenizer> = OnceLock::new();
    TOKENIZER.get_or_init(Tokenizer::gpt2)
}

/// Yields `data` a few bytes a read, every other read `Interrupted` when `interrupt` is set.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
    interrupt: bool,
    reads: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.reads += 1;
        if self.interrupt && self.reads % 2 == 0 {
            return Err(io::ErrorKind::Interrupted.into());
        }
        let n = self.step.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

fn streamed(data: &[u8], control: u8) {
    let tokenizer = tokenizer();
    let reader = Trickle {
        data,
        step: usize::from(control & 0x0F) + 1,
        interrupt: control & 0x10 != 0,
        reads: 0,
    };
    let bound = match control >> 5 {
        0 => usize::MAX,
        b => 1 << (b + 1), // 4 to 256 bytes
    };
    let mut ids = Vec::new();
    let result = tokenizer.encode_reader(reader, bound, |id| {
        ids.push(id);
        Ok(())
    });
    match (std::str::from_utf8(data), result) {
        (Ok(text), Ok(())) => assert_eq!(ids, tokenizer.encode(text), "streamed {text:?}"),
        (Ok(text), Err(e)) => {
            assert_eq!(e.kind(), io::ErrorKind::InvalidData, "{text:?}: {e}");
            assert!(text.len() > bound, "{text:?} within {bound} bytes: {e}");
        }
        (Err(_), Ok(())) => panic!("bytes that are not UTF-8 were encoded"),
        (Err(_), Err(e)) => assert_eq!(e.kind(), io::ErrorKind::InvalidData, "{e}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, data)) = data.split_first() else {
        return;
    };
    let tokenizer = tokenizer();
    let text = String::from_utf8_lossy(data);
    let ids = tokenizer.encode(&text);
    let bytes = tokenizer.decode_bytes(&ids).expect("encoded ids decode");
    assert_eq!(bytes, text.as_bytes(), "round trip");
    streamed(data, control);
    let ids: Vec<u32> = data
        .chunks(2)
        .map(|c| u32::from(c[0]) << 8 | u32::from(*c.get(1).unwrap_or(&0)))
        .collect();
    let _ = tokenizer.decode_bytes(&ids);
    for id in ids {
        let _ = tokenizer.token_info(id);
    }
});
