//! Any bytes, read as text (lossily) and as token ids: encoding never panics, decoding what
//! was encoded gives the text back, and decoding arbitrary ids only ever fails cleanly.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use nexttoken_model::Tokenizer;

fn tokenizer() -> &'static Tokenizer {
    static TOKENIZER: OnceLock<Tokenizer> = OnceLock::new();
    TOKENIZER.get_or_init(Tokenizer::gpt2)
}

fuzz_target!(|data: &[u8]| {
    let tokenizer = tokenizer();
    let text = String::from_utf8_lossy(data);
    let ids = tokenizer.encode(&text);
    let bytes = tokenizer.decode_bytes(&ids).expect("encoded ids decode");
    assert_eq!(bytes, text.as_bytes(), "round trip");
    let ids: Vec<u32> = data
        .chunks(2)
        .map(|c| u32::from(c[0]) << 8 | u32::from(*c.get(1).unwrap_or(&0)))
        .collect();
    let _ = tokenizer.decode_bytes(&ids);
    for id in ids {
        let _ = tokenizer.token_info(id);
    }
});
