//! A byte-level BPE vocabulary from a GGUF file's metadata: `tokenizer.ggml.tokens` (spelled
//! as GPT-2 spells them), `tokenizer.ggml.merges`, `tokenizer.ggml.token_type`, and the
//! pre-tokenizer's name in `tokenizer.ggml.pre`.

use std::collections::HashMap;

use super::chat::ChatTemplate;
use super::load::{split_merge, Vocabulary};
use crate::checkpoint::gguf::{Gguf, Value};

/// llama.cpp's token types: control tokens (`<|im_start|>`) and user-defined ones are matched
/// whole in the text, as Hugging Face adds them.
const CONTROL: i64 = 3;
const USER_DEFINED: i64 = 4;

pub(crate) fn parse_gguf(g: &Gguf) -> Result<Vocabulary, String> {
    let text = |key: &str| g.string(key).map_err(|e| e.to_string());
    let model = text("tokenizer.ggml.model")?;
    if model != "gpt2" {
        return Err(format!(
            "tokenizer model {model:?} is not byte-level BPE (\"gpt2\")"
        ));
    }
    // llama.cpp's names: "smollm" cuts each number character apart before GPT-2's regex.
    let digits = match g.string("tokenizer.ggml.pre").unwrap_or("default") {
        "smollm" => true,
        "gpt2" | "default" => false,
        other => {
            return Err(format!(
                "pre-tokenizer {other:?} is not supported (gpt2, smollm are)"
            ))
        }
    };
    let strings = |key: &str| -> Result<Vec<String>, String> {
        let items = g.array(key).map_err(|e| e.to_string())?;
        items
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.clone()),
                other => Err(format!("{key} holds {other:?}, not a string")),
            })
            .collect()
    };
    let tokens = strings("tokenizer.ggml.tokens")?;
    let types: Vec<i64> = match g.array("tokenizer.ggml.token_type") {
        Ok(items) => items
            .iter()
            .map(|v| match v {
                Value::Int(t) => *t,
                Value::Uint(t) => *t as i64,
                _ => 0,
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    let merges = strings("tokenizer.ggml.merges")?
        .iter()
        .enumerate()
        .map(|(rank, m)| {
            let (l, r) = split_merge(m).ok_or_else(|| format!("merge {rank}: {m:?}"))?;
            Ok((l.to_string(), r.to_string()))
        })
        .collect::<Result<_, String>>()?;
    let mut vocab = HashMap::with_capacity(tokens.len());
    let mut added = Vec::new();
    for (id, token) in (0u32..).zip(&tokens) {
        if vocab.insert(token.clone(), id).is_some() {
            return Err(format!("token {token:?} appears twice"));
        }
        if matches!(types.get(id as usize), Some(&CONTROL | &USER_DEFINED)) {
            added.push((token.clone(), id));
        }
    }
    Ok(Vocabulary {
        tokens: vocab,
        merges,
        added,
        digits,
    })
}

/// `tokenizer.chat_template`, with the texts of the special tokens that its
/// `tokenizer.ggml.bos_token_id` and `eos_token_id` name (empty where the file names none).
pub(crate) fn chat_template<'a>(
    g: &Gguf,
    token: impl Fn(u32) -> Option<&'a [u8]>,
) -> Option<ChatTemplate> {
    let source = g.string("tokenizer.chat_template").ok()?;
    let text = |key: &str| {
        let id = g.uint(key).ok().and_then(|id| u32::try_from(id).ok());
        let bytes = id.and_then(&token).unwrap_or_default();
        String::from_utf8_lossy(bytes).into_owned()
    };
    Some(ChatTemplate::new(
        source.to_string(),
        text("tokenizer.ggml.bos_token_id"),
        text("tokenizer.ggml.eos_token_id"),
    ))
}
