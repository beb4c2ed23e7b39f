//! Reading a vocabulary: `vocab.json` + `merges.txt`, or Hugging Face's `tokenizer.json`.
//!
//! Parsing gives a [`Vocabulary`] of strings; [`Tables`] turns it into the byte-level lookups
//! that encoding needs and checks that the pieces fit together.

use super::bpe::{Merge, MergeTable};
use super::bytes::{byte_tokens_in_id_order, ByteDecoder};
use super::pretokenize::AddedTokens;
use serde::Deserialize;
use std::collections::HashMap;

/// GPT-2's end-of-text token, also its only special token.
pub(crate) const END_OF_TEXT: &str = "<|endoftext|>";

/// A vocabulary as written in the files (tokens as byte-level strings).
pub(crate) struct Vocabulary {
    pub tokens: HashMap<String, u32>,
    /// Pairs in learned order.
    pub merges: Vec<(String, String)>,
    /// Tokens matched literally in the input, as plain text.
    pub added: Vec<(String, u32)>,
    /// Whether number characters are cut apart before the regex (see `pretokenize`).
    pub digits: bool,
}

/// Parses `vocab.json` (token → id) and `merges.txt` ("left right" lines after a `#version`
/// header). `<|endoftext|>` becomes an added token when the vocabulary has it, which is how
/// Hugging Face loads GPT-2 from these two files.
pub(crate) fn parse_vocab_and_merges(
    vocab_json: &str,
    merges_txt: &str,
) -> Result<Vocabulary, (Which, String)> {
    let tokens: HashMap<String, u32> =
        serde_json::from_str(vocab_json).map_err(|e| (Which::Vocab, e.to_string()))?;
    let merges = parse_merges_txt(merges_txt).map_err(|msg| (Which::Merges, msg))?;
    let added = tokens
        .get(END_OF_TEXT)
        .map(|&id| (END_OF_TEXT.to_string(), id))
        .into_iter()
        .collect();
    Ok(Vocabulary {
        tokens,
        merges,
        added,
        digits: false,
    })
}

/// GPT-2's vocabulary from its merges packed as id pairs (`build.rs`): the 256 byte
/// characters in the order `bytes_to_unicode` first lists them (the bytes that stand for
/// themselves, then the moved ones), then each merge's result in learned order, then
/// `<|endoftext|>`. So neither the 1 MB `vocab.json` nor the 456 KB `merges.txt` is built into
/// the binary or the browser engines; a test holds the result to both files.
pub(crate) fn gpt2_vocabulary(packed: &[u8]) -> Result<Vocabulary, String> {
    let mut names: Vec<String> = byte_tokens_in_id_order()
        .into_iter()
        .map(String::from)
        .collect();
    let mut merges = Vec::with_capacity(packed.len() / 4);
    for pair in packed.chunks_exact(4) {
        let part = |at: usize| {
            let id = usize::from(u16::from_le_bytes([pair[at], pair[at + 1]]));
            names.get(id).cloned().ok_or(format!(
                "merge {}: id {id} is not yet a token",
                merges.len()
            ))
        };
        let (left, right) = (part(0)?, part(2)?);
        names.push(format!("{left}{right}"));
        merges.push((left, right));
    }
    names.push(END_OF_TEXT.to_string());
    let eot = u32::try_from(names.len() - 1).map_err(|e| e.to_string())?;
    Ok(Vocabulary {
        tokens: names.into_iter().zip(0..).collect(),
        merges,
        added: vec![(END_OF_TEXT.to_string(), eot)],
        digits: false,
    })
}

/// Which of the two files a parse error is in.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Which {
    Vocab,
    Merges,
}

fn parse_merges_txt(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut merges = Vec::new();
    for (number, line) in text.lines().enumerate() {
        if (number == 0 && line.starts_with("#version")) || line.is_empty() {
            continue;
        }
        let (left, right) = split_merge(line)
            .ok_or_else(|| format!("line {}: expected \"left right\", got {line:?}", number + 1))?;
        merges.push((left.to_string(), right.to_string()));
    }
    Ok(merges)
}

/// "left right" → (left, right). Byte-level tokens never hold a real space (it is `Ġ`).
pub(crate) fn split_merge(line: &str) -> Option<(&str, &str)> {
    let (left, right) = line.split_once(' ')?;
    let valid = !left.is_empty() && !right.is_empty() && !right.contains(' ');
    valid.then_some((left, right))
}

/// The parts of `tokenizer.json` that a GPT-2 style tokenizer uses.
#[derive(Deserialize)]
struct TokenizerJson {
    #[serde(default)]
    added_tokens: Vec<AddedTokenJson>,
    normalizer: Option<serde_json::Value>,
    pre_tokenizer: Option<serde_json::Value>,
    model: ModelJson,
}

#[derive(Deserialize)]
struct AddedTokenJson {
    id: u32,
    content: String,
}

#[derive(Deserialize)]
struct ModelJson {
    #[serde(rename = "type")]
    kind: Option<String>,
    vocab: HashMap<String, u32>,
    merges: Vec<MergeJson>,
}

/// Older files write a merge as "left right", newer ones as ["left", "right"].
#[derive(Deserialize)]
#[serde(untagged)]
enum MergeJson {
    Line(String),
    Pair(String, String),
}

/// Parses Hugging Face's `tokenizer.json`, refusing what this tokenizer would get wrong: other
/// models, normalizers, and pre-tokenizers other than GPT-2's plain byte-level one.
pub(crate) fn parse_tokenizer_json(text: &str) -> Result<Vocabulary, String> {
    let file: TokenizerJson = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let digits = check_pipeline(&file)?;
    let merges = file
        .model
        .merges
        .into_iter()
        .enumerate()
        .map(|(rank, merge)| match merge {
            MergeJson::Pair(left, right) => Ok((left, right)),
            MergeJson::Line(line) => split_merge(&line)
                .map(|(l, r)| (l.to_string(), r.to_string()))
                .ok_or_else(|| format!("model.merges[{rank}]: expected \"left right\"")),
        })
        .collect::<Result<_, String>>()?;
    let added = file
        .added_tokens
        .into_iter()
        .map(|t| (t.content, t.id))
        .collect();
    Ok(Vocabulary {
        tokens: file.model.vocab,
        merges,
        added,
        digits,
    })
}

/// Checks the pipeline is one this tokenizer reproduces; whether it cuts digits apart first.
fn check_pipeline(file: &TokenizerJson) -> Result<bool, String> {
    if let Some(kind) = file.model.kind.as_deref().filter(|&k| k != "BPE") {
        return Err(format!("model type {kind:?} is not BPE"));
    }
    if file.normalizer.as_ref().is_some_and(|n| !n.is_null()) {
        return Err("normalizers are not supported (GPT-2 has none)".into());
    }
    let Some(pre) = file.pre_tokenizer.as_ref().filter(|p| !p.is_null()) else {
        return Ok(false);
    };
    let is_gpt2 = |p: &serde_json::Value| {
        p["type"] == "ByteLevel" && p["add_prefix_space"] != true && p["use_regex"] != false
    };
    // SmolLM's: Sequence [Digits (each digit apart), ByteLevel as GPT-2's].
    let steps = pre["pretokenizers"].as_array().map(Vec::as_slice);
    let digits_first = pre["type"] == "Sequence"
        && matches!(steps, Some([d, b]) if d["type"] == "Digits"
            && d["individual_digits"] == true && is_gpt2(b));
    match (is_gpt2(pre), digits_first) {
        (true, _) => Ok(false),
        (_, true) => Ok(true),
        _ => Err(format!(
            "pre-tokenizer {pre} is not GPT-2's (ByteLevel, no prefix space, GPT-2 regex), \
             nor digits apart then GPT-2's"
        )),
    }
}

/// The lookups encoding and decoding use, all by token id.
#[derive(Debug)]
pub(crate) struct Tables {
    pub id_to_bytes: Vec<Box<[u8]>>,
    pub bytes_to_id: HashMap<Box<[u8]>, u32>,
    /// The single-byte token for each byte, where every word starts before merging. A
    /// vocabulary may lack some (SmolLM2's has no token for 21 bytes that its training text
    /// never held, such as 0x04 or 0xFF): such a byte is dropped, as `tokenizers` drops it.
    pub byte_ids: [Option<u32>; 256],
    pub merges: MergeTable,
    pub added: AddedTokens,
    pub digits: bool,
}

impl Tables {
    pub(crate) fn build(vocab: Vocabulary) -> Result<Tables, String> {
        if vocab.merges.is_empty() {
            // Byte-level BPE without merges cuts every text into single bytes: an empty or
            // truncated merges file, not a vocabulary anyone trained.
            return Err("no merges: every text would be cut into single bytes".into());
        }
        let id_to_bytes = tokens_by_id(&vocab)?;
        let mut bytes_to_id = HashMap::with_capacity(id_to_bytes.len());
        for (id, bytes) in (0u32..).zip(&id_to_bytes) {
            bytes_to_id.entry(bytes.clone()).or_insert(id);
        }
        let byte_ids = std::array::from_fn(|b| bytes_to_id.get(&[b as u8][..]).copied());
        let merges = merge_table(&vocab.merges, &bytes_to_id)?;
        let added: Vec<_> = vocab
            .added
            .into_iter()
            .filter(|(t, _)| !t.is_empty())
            .collect();
        Ok(Tables {
            id_to_bytes,
            bytes_to_id,
            byte_ids,
            merges,
            added: AddedTokens::new(&added)?,
            digits: vocab.digits,
        })
    }
}

/// Every token's bytes, indexed by id. Ids must run 0..n without gaps, as in GPT-2.
fn tokens_by_id(vocab: &Vocabulary) -> Result<Vec<Box<[u8]>>, String> {
    let decoder = ByteDecoder::new();
    // Dense ids are all below the number of entries; checking that first also keeps a bogus
    // huge id from allocating a huge table.
    let mut by_id: Vec<Option<Box<[u8]>>> = vec![None; vocab.tokens.len() + vocab.added.len()];
    let mut put = |id: u32, bytes: Box<[u8]>| -> Result<(), String> {
        let slot = usize::try_from(id)
            .ok()
            .and_then(|i| by_id.get_mut(i))
            .ok_or_else(|| format!("token id {id} leaves a gap in the ids"))?;
        match slot {
            Some(old) if *old != bytes => Err(format!("two tokens share id {id}")),
            _ => {
                *slot = Some(bytes);
                Ok(())
            }
        }
    };
    for (token, &id) in &vocab.tokens {
        let bytes = decoder
            .decode(token)
            .ok_or_else(|| format!("token {token:?} is not byte-level (GPT-2 style)"))?;
        put(id, bytes.into())?;
    }
    for (text, id) in &vocab.added {
        put(*id, text.as_bytes().into())?;
    }
    // Added tokens usually repeat a vocabulary entry, so the table may end early.
    let len = by_id
        .iter()
        .rposition(Option::is_some)
        .map_or(0, |last| last + 1);
    by_id
        .into_iter()
        .take(len)
        .enumerate()
        .map(|(id, bytes)| bytes.ok_or_else(|| format!("no token has id {id}")))
        .collect()
}

/// Ranks follow the merges' order; a pair listed twice keeps its first rank.
fn merge_table(
    merges: &[(String, String)],
    bytes_to_id: &HashMap<Box<[u8]>, u32>,
) -> Result<MergeTable, String> {
    let decoder = ByteDecoder::new();
    let id_of = |token: &str| -> Result<(Vec<u8>, u32), String> {
        let found = decoder.decode(token).and_then(|bytes| {
            let id = *bytes_to_id.get(&bytes[..])?;
            Some((bytes, id))
        });
        found.ok_or_else(|| format!("merge token {token:?} is not in the vocabulary"))
    };
    let mut table = MergeTable::with_capacity(merges.len());
    for ((left, right), rank) in merges.iter().zip(0u32..) {
        let (mut joined, left_id) = id_of(left)?;
        let (right_bytes, right_id) = id_of(right)?;
        joined.extend_from_slice(&right_bytes);
        let id = *bytes_to_id.get(&joined[..]).ok_or_else(|| {
            format!("merge {left:?} + {right:?} makes no token in the vocabulary")
        })?;
        table
            .entry((left_id, right_id))
            .or_insert(Merge { rank, id });
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vocabulary unpacked from `build.rs`'s id pairs is GPT-2's `vocab.json` and
    /// `merges.txt`, token for token, id for id and merge for merge (the files stay in
    /// `data/gpt2` for this test and for readers).
    #[test]
    fn gpt2_vocabulary_from_the_packed_merges_is_the_files() {
        let merges = include_str!("../../data/gpt2/merges.txt");
        let vocab_json = include_str!("../../data/gpt2/vocab.json");
        let file =
            parse_vocab_and_merges(vocab_json, merges).unwrap_or_else(|(_, e)| panic!("{e}"));
        let derived = gpt2_vocabulary(super::super::GPT2_MERGES).unwrap();
        assert_eq!(derived.tokens.len(), 50_257);
        assert_eq!(derived.tokens, file.tokens);
        assert_eq!(derived.merges, file.merges);
        assert_eq!(derived.added, file.added);
    }
}
