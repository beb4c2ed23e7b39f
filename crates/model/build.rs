//! Packs GPT-2's `data/gpt2/merges.txt` for the binary and the browser engines: each merge as
//! the ids of its two parts, two little-endian `u16`s (200 KB instead of the file's 456 KB).
//! Token ids are the 256 byte characters in the order `bytes_to_unicode` first lists them,
//! then each merge's result in order, so the parts of merge `i` always have smaller ids.
//! `tokenizer/load.rs` unpacks it; a test there holds the result to `merges.txt` and
//! `vocab.json`, which stay the source.

use std::collections::HashMap;
use std::path::Path;

#[allow(dead_code)] // the build uses only the byte order, not the decoder
#[path = "src/tokenizer/bytes.rs"]
mod bytes;

const MERGES: &str = "data/gpt2/merges.txt";

fn main() {
    println!("cargo:rerun-if-changed={MERGES}");
    println!("cargo:rerun-if-changed=src/tokenizer/bytes.rs");
    let text = std::fs::read_to_string(MERGES).expect("data/gpt2/merges.txt is in the crate");
    let mut ids: HashMap<String, u16> = HashMap::new();
    for (id, c) in (0..).zip(bytes::byte_tokens_in_id_order()) {
        ids.insert(c.to_string(), id);
    }
    let mut packed = Vec::new();
    for line in text.lines().skip(1).filter(|line| !line.is_empty()) {
        let (left, right) = line.split_once(' ').expect("a merge is \"left right\"");
        for part in [left, right] {
            packed.extend_from_slice(&ids[part].to_le_bytes());
        }
        let next = u16::try_from(ids.len()).expect("GPT-2's ids fit in u16");
        ids.insert(format!("{left}{right}"), next);
    }
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    std::fs::write(Path::new(&out).join("gpt2_merges.bin"), packed).expect("OUT_DIR is writable");
}
