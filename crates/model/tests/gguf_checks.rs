//! A damaged or hostile GGUF file is a named error at load: never a panic, never an
//! allocation its size does not justify. Every file here is the tiny valid Llama of
//! `gguf_file` with one thing broken: the magic, the header's counts and lengths, metadata
//! types, the tensors' types, shapes and offsets, their values, or the tokenizer's metadata.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use nexttoken_model::{DType, KvCache, Model, NoRecorder};

mod gguf_file;

use gguf_file::{GgufFile, Meta, Tensor};

/// The largest single allocation this test binary made: a header that claims a huge string or
/// array must not get one before the file shows the bytes.
static LARGEST: AtomicUsize = AtomicUsize::new(0);

struct Counting;

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        System.alloc(layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        System.alloc_zeroed(layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        System.realloc(ptr, layout, new_size)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn load(dir: &Path, bytes: &[u8]) -> Result<Model, String> {
    let path = dir.join("m.gguf");
    std::fs::write(&path, bytes).unwrap();
    Model::load_with(&path, "test", DType::F32).map_err(|e| e.to_string())
}

fn edited(edit: impl FnOnce(&mut GgufFile)) -> Vec<u8> {
    let mut file = GgufFile::tiny_llama();
    edit(&mut file);
    file.bytes()
}

fn raw(kind: u32, parts: &[&[u8]]) -> Meta {
    Meta::Raw(kind, parts.concat())
}

/// Each damaged file, and what its error must say.
fn damaged() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let big = |n: u64| n.to_le_bytes();
    let string_type = 8u32.to_le_bytes();
    let set = |key: &'static str, value: Meta| edited(move |f| f.set(key, value));
    let remove = |key: &'static str| edited(move |f| f.remove(key));
    let tensor = |name: &'static str, edit: fn(&mut Tensor)| edited(move |f| edit(f.tensor(name)));
    let mut nan = GgufFile::tiny_llama();
    nan.tensor("blk.0.ffn_up.weight").data[20..24].copy_from_slice(&f32::NAN.to_le_bytes());
    let mut inf_f16 = GgufFile::tiny_llama();
    let norm = inf_f16.tensor("output_norm.weight");
    norm.kind = 1; // F16: 0x7C00 is +inf
    norm.data = [0x00u8, 0x3C].repeat(8);
    norm.data[6..8].copy_from_slice(&[0x00, 0x7C]);
    let valid = GgufFile::tiny_llama().bytes();
    vec![
        ("bad magic", edited(|f| f.magic = *b"GGUX"), "no GGUF magic"),
        (
            "version 1",
            edited(|f| f.version = 1),
            "version 1 is not supported",
        ),
        (
            "2^63 tensors",
            edited(|f| f.n_tensors = Some(1 << 63)),
            "a count of",
        ),
        (
            "u64::MAX keys",
            edited(|f| f.n_kv = Some(u64::MAX)),
            "a count of",
        ),
        (
            "a 2^62-byte string",
            set("general.name", raw(8, &[&big(1 << 62)])),
            "a string of",
        ),
        (
            "a 16 MiB string in a short file",
            set("general.name", raw(8, &[&big(1 << 24), b"ab"])),
            "cut short",
        ),
        (
            "an array of 2^40 strings",
            set("general.tags", raw(9, &[&string_type, &big(1 << 40)])),
            "items",
        ),
        (
            "an array of 2^21 + 1 strings",
            set("general.tags", raw(9, &[&string_type, &big((1 << 21) + 1)])),
            "items",
        ),
        (
            "an array of arrays",
            set("general.tags", raw(9, &[&9u32.to_le_bytes(), &big(1)])),
            "value type 9",
        ),
        (
            "metadata type 13",
            set("general.name", raw(13, &[])),
            "value type 13",
        ),
        (
            "a string that is not UTF-8",
            set("general.name", raw(8, &[&big(2), &[0xFF, 0xFE]])),
            "not UTF-8",
        ),
        (
            "alignment 3",
            set("general.alignment", Meta::U32(3)),
            "alignment",
        ),
        (
            "5 dimensions",
            tensor("output_norm.weight", |t| t.dims = vec![1, 1, 1, 1, 8]),
            "5 dimensions",
        ),
        (
            "dimensions that overflow",
            tensor("output_norm.weight", |t| t.dims = vec![1 << 40, 1 << 40]),
            "too many values",
        ),
        (
            "ggml type 99",
            tensor("blk.0.ffn_up.weight", |t| t.kind = 99),
            "ggml type 99 is not supported",
        ),
        (
            "Q4_0 rows of 8",
            tensor("blk.0.ffn_up.weight", |t| t.kind = 2),
            "not whole blocks",
        ),
        (
            "an offset past the end",
            tensor("blk.0.ffn_down.weight", |t| t.offset = Some(1 << 20)),
            "past the end of the file",
        ),
        (
            "an offset that overflows",
            tensor("blk.0.ffn_down.weight", |t| t.offset = Some(u64::MAX)),
            "offset overflows",
        ),
        (
            "tensor data cut short",
            valid[..valid.len() - 16].to_vec(),
            "past the end of the file",
        ),
        (
            "architecture gpt2",
            set("general.architecture", Meta::Str("gpt2".into())),
            "GGUF architecture \"gpt2\"",
        ),
        (
            "no block count",
            remove("llama.block_count"),
            "\"llama.block_count\" is missing",
        ),
        (
            "a block count in words",
            set("llama.block_count", Meta::Str("one".into())),
            "expected an unsigned integer",
        ),
        (
            "2^32 - 1 blocks",
            set("llama.block_count", Meta::U32(u32::MAX)),
            "num_hidden_layers = 4294967295 is outside",
        ),
        (
            "no heads",
            set("llama.attention.head_count", Meta::U32(0)),
            "num_attention_heads = 0 is outside",
        ),
        (
            "no vocabulary",
            remove("tokenizer.ggml.tokens"),
            "\"tokenizer.ggml.tokens\" is missing",
        ),
        (
            "no merges",
            remove("tokenizer.ggml.merges"),
            "\"tokenizer.ggml.merges\" is missing",
        ),
        (
            "no tokenizer model",
            remove("tokenizer.ggml.model"),
            "\"tokenizer.ggml.model\" is missing",
        ),
        (
            "a SentencePiece tokenizer",
            set("tokenizer.ggml.model", Meta::Str("llama".into())),
            "not byte-level BPE",
        ),
        (
            "tokens that are numbers",
            set("tokenizer.ggml.tokens", Meta::I32s(vec![1; 258])),
            "not a string",
        ),
        (
            "a merge of no token",
            set("tokenizer.ggml.merges", Meta::Strs(vec!["t h".into()])),
            "makes no token",
        ),
        (
            "NaN in a weight",
            nan.bytes(),
            "`blk.0.ffn_up.weight`: value 5 of 128 is NaN",
        ),
        (
            "+inf in an F16 weight",
            inf_f16.bytes(),
            "`output_norm.weight`: value 3 of 8 is inf",
        ),
        (
            "a tensor missing",
            edited(|f| f.tensors.retain(|t| t.name != "blk.0.ffn_down.weight")),
            "`blk.0.ffn_down.weight`: missing",
        ),
        (
            "a tensor of the wrong shape",
            tensor("blk.0.attn_q.weight", |t| t.dims = vec![4, 16]),
            "`blk.0.attn_q.weight`: shape [16, 4], expected [8, 8]",
        ),
        (
            "a second block the config lacks",
            edited(|f| {
                let mut extra = f.tensor("blk.0.attn_norm.weight").clone();
                extra.name = "blk.1.attn_norm.weight".into();
                f.tensors.push(extra);
            }),
            "blk.1.attn_norm.weight (does config.json match",
        ),
    ]
}

#[test]
fn the_tiny_llama_loads_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    let model = load(dir.path(), &GgufFile::tiny_llama().bytes()).unwrap();
    assert_eq!(model.tokenizer.encode(" the"), [256, 257], "Ġt + he");
    assert_eq!(model.tokenizer.encode("the"), [u32::from(b't'), 257]);
    let c = model.config();
    assert_eq!((c.n_layer, c.n_head, c.n_kv_head, c.n_embd), (1, 2, 1, 8));
    let logits = model
        .forward(&[256, 257, 1], &mut KvCache::new(c), &mut NoRecorder)
        .unwrap();
    assert_eq!(logits.len(), 258);
    assert!(logits.iter().all(|x| x.is_finite()));
}

#[test]
fn each_damage_is_a_named_error_and_nothing_large_is_allocated() {
    let dir = tempfile::tempdir().unwrap();
    for (what, bytes, says) in damaged() {
        match load(dir.path(), &bytes) {
            Ok(_) => panic!("{what}: loaded"),
            Err(e) => assert!(e.contains(says), "{what}: {e:?} does not say {says:?}"),
        }
    }
    let largest = LARGEST.load(Ordering::Relaxed);
    assert!(largest < 1 << 20, "an allocation of {largest} bytes");
}

#[test]
fn a_file_cut_anywhere_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = GgufFile::tiny_llama().bytes();
    for cut in 0..bytes.len() {
        let e = load(dir.path(), &bytes[..cut]).err();
        let e = e.unwrap_or_else(|| panic!("cut at {cut} of {}: loaded", bytes.len()));
        assert!(e.contains("m.gguf: GGUF: "), "cut at {cut}: {e}");
    }
}
