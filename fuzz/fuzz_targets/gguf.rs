//! Any GGUF file, loaded as a model: never a panic, and a model that loads runs a forward
//! pass. Inputs that start with the magic are whole files; any other input edits the tiny
//! valid Llama of the model crate's tests (each 3 bytes set one byte of it, a last lone byte
//! cuts it), so most runs get past the header into the tensors and the tokenizer.

#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use nexttoken_model::{DType, KvCache, Model, NoRecorder};

#[path = "../../crates/model/tests/gguf_file/mod.rs"]
mod gguf_file;

fn seed() -> &'static [u8] {
    static SEED: OnceLock<Vec<u8>> = OnceLock::new();
    SEED.get_or_init(|| gguf_file::GgufFile::tiny_llama().bytes())
}

/// One file per fuzzing process, rewritten for each input.
fn path() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        std::env::temp_dir().join(format!("nexttoken-fuzz-{}.gguf", std::process::id()))
    })
}

fn edited(edits: &[u8]) -> Vec<u8> {
    let mut file = seed().to_vec();
    let chunks = edits.chunks_exact(3);
    if let [cut] = chunks.remainder() {
        file.truncate(file.len() * usize::from(*cut) / 256);
    }
    for c in chunks {
        if let Some(at) = (usize::from(c[0]) << 8 | usize::from(c[1])).checked_rem(file.len()) {
            file[at] = c[2];
        }
    }
    file
}

fuzz_target!(|data: &[u8]| {
    let bytes = match data.starts_with(b"GGUF") {
        true => data.to_vec(),
        false => edited(data),
    };
    std::fs::write(path(), &bytes).expect("a temporary file");
    if let Ok(model) = Model::load_with(path(), "fuzz", DType::F32) {
        let ids = model.tokenizer.encode(" the cat");
        let mut cache = KvCache::new(model.config());
        let _ = model.forward(&ids, &mut cache, &mut NoRecorder);
    }
});
