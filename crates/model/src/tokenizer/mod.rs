//! Byte-level BPE (GPT-2's, and the Llama-family vocabularies built like it), written to be read.
//!
//! Encoding has two steps. `pretokenize` cuts the text into pre-tokens (words with the space
//! before them, numbers, punctuation, whitespace) and cuts out `<|endoftext|>`. `bpe` then
//! starts each pre-token as one token per byte and glues pairs together in the order GPT-2
//! learned them. Decoding concatenates the tokens' bytes. [`Tokenizer::explain`] shows both
//! steps for a learner.

mod bpe;
mod bytes;
mod chat;
mod display;
mod explain;
mod gguf;
mod load;
mod pretokenize;
mod stream;

pub use chat::ChatTemplate;
pub use display::{token_display, token_text};
pub use explain::{MergeStep, PreToken, MAX_PARTS_BYTES};

use crate::checkpoint::checks;
use crate::checkpoint::gguf::Gguf;
use crate::error::{Error, Result};
use bpe::{Applied, Word};
use load::{Tables, Vocabulary, Which, END_OF_TEXT};
use pretokenize::{for_each_piece, Piece};
use serde::Serialize;
use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::{Arc, OnceLock};

/// GPT-2's 50,000 merges as pairs of ids, packed from `data/gpt2/merges.txt` by `build.rs`;
/// its 50,257 tokens follow from them (`load::gpt2_vocabulary`, `data/gpt2/README.md`).
const GPT2_MERGES: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/gpt2_merges.bin"));

/// A byte-level BPE tokenizer, and the chat template its checkpoint ships, if any. Cloning is
/// cheap: the tables are shared.
#[derive(Clone)]
pub struct Tokenizer {
    tables: Arc<Tables>,
    chat: Option<Arc<ChatTemplate>>,
}

/// One token, for showing to a learner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenInfo {
    pub id: u32,
    /// The raw bytes; may be part of a UTF-8 character.
    pub bytes: Vec<u8>,
    /// See [`token_text`].
    pub text: String,
    /// See [`token_display`].
    pub display: String,
}

impl Tokenizer {
    /// GPT-2's own tokenizer, built into the binary. Parsed on the first call, shared after.
    pub fn gpt2() -> Tokenizer {
        static GPT2: OnceLock<Tokenizer> = OnceLock::new();
        let built = || {
            let tables = load::gpt2_vocabulary(GPT2_MERGES).and_then(Tables::build);
            Tokenizer::new(tables.expect("the built-in GPT-2 vocabulary is valid"))
        };
        GPT2.get_or_init(built).clone()
    }

    /// The tokenizer stored in a model directory: `vocab.json` + `merges.txt`, else
    /// `tokenizer.json`; `Ok(None)` when it has none of them. Half of the pair alone is an
    /// error: some other vocabulary would otherwise stand in for the model's own in silence.
    /// The directory's chat template comes with it (see [`ChatTemplate::from_dir`]).
    pub fn from_dir(dir: &Path) -> Result<Option<Tokenizer>> {
        let Some(tokenizer) = Self::vocabulary_in(dir)? else {
            return Ok(None);
        };
        Ok(Some(tokenizer.with_chat(ChatTemplate::from_dir(dir)?)))
    }

    fn vocabulary_in(dir: &Path) -> Result<Option<Tokenizer>> {
        let (vocab, merges) = (dir.join("vocab.json"), dir.join("merges.txt"));
        let json = dir.join("tokenizer.json");
        match (vocab.exists(), merges.exists()) {
            (true, true) => return Self::from_files(&vocab, &merges).map(Some),
            (true, false) | (false, true) if !json.exists() => {
                let (has, lacks) = match vocab.exists() {
                    true => ("vocab.json", "merges.txt"),
                    false => ("merges.txt", "vocab.json"),
                };
                return Err(Error::Tokenizer(format!(
                    "{} has {has} but no {lacks}: the vocabulary needs both (or tokenizer.json)",
                    dir.display()
                )));
            }
            _ => {}
        }
        if json.exists() {
            return Self::from_tokenizer_json(&json).map(Some);
        }
        Ok(None)
    }

    /// A Llama-family checkpoint's tokenizer: `tokenizer.json` (the whole pipeline, digits
    /// apart included), else `vocab.json` + `merges.txt`; it must have one.
    pub fn from_tokenizer_files(dir: &Path) -> Result<Tokenizer> {
        let json = dir.join("tokenizer.json");
        if json.exists() {
            let chat = ChatTemplate::from_dir(dir)?;
            return Ok(Self::from_tokenizer_json(&json)?.with_chat(chat));
        }
        Self::from_dir(dir)?.ok_or_else(|| {
            Error::Tokenizer(format!(
                "{} has neither tokenizer.json nor vocab.json + merges.txt",
                dir.display()
            ))
        })
    }

    /// A tokenizer from GPT-2 style `vocab.json` and `merges.txt`.
    pub fn from_files(vocab_json: &Path, merges_txt: &Path) -> Result<Tokenizer> {
        let vocab_text = read(vocab_json)?;
        let merges_text = read(merges_txt)?;
        let vocab =
            load::parse_vocab_and_merges(&vocab_text, &merges_text).map_err(|(which, msg)| {
                let path = match which {
                    Which::Vocab => vocab_json,
                    Which::Merges => merges_txt,
                };
                Error::Format {
                    path: path.to_path_buf(),
                    msg,
                }
            })?;
        let source = format!("{} + {}", vocab_json.display(), merges_txt.display());
        Self::build(vocab, &source)
    }

    /// A tokenizer from Hugging Face's `tokenizer.json`, if it describes a GPT-2 style BPE.
    pub fn from_tokenizer_json(path: &Path) -> Result<Tokenizer> {
        let vocab = load::parse_tokenizer_json(&read(path)?).map_err(|msg| Error::Format {
            path: path.to_path_buf(),
            msg,
        })?;
        Self::build(vocab, &path.display().to_string())
    }

    /// The tokenizer a GGUF file carries: its vocabulary, merges, special tokens,
    /// pre-tokenizer and chat template.
    pub fn from_gguf(file: &Gguf) -> Result<Tokenizer> {
        let vocab = gguf::parse_gguf(file).map_err(|msg| Error::Format {
            path: file.path().to_path_buf(),
            msg: format!("tokenizer: {msg}"),
        })?;
        let tokenizer = Self::build(vocab, &file.path().display().to_string())?;
        let chat = gguf::chat_template(file, |id| tokenizer.token_bytes(id));
        Ok(tokenizer.with_chat(chat))
    }

    fn with_chat(mut self, chat: Option<ChatTemplate>) -> Tokenizer {
        self.chat = chat.map(Arc::new);
        self
    }

    /// The checkpoint's chat template, if it ships one (instruct models do) and this build
    /// can render it (the `chat-templates` feature; the browser engines leave it out).
    pub fn chat_template(&self) -> Option<&ChatTemplate> {
        self.chat
            .as_deref()
            .filter(|_| cfg!(feature = "chat-templates"))
    }

    fn build(vocab: Vocabulary, source: &str) -> Result<Tokenizer> {
        let tables =
            Tables::build(vocab).map_err(|msg| Error::Tokenizer(format!("{source}: {msg}")))?;
        Ok(Tokenizer::new(tables))
    }

    fn new(tables: Tables) -> Tokenizer {
        Tokenizer {
            tables: Arc::new(tables),
            chat: None,
        }
    }

    /// Number of token ids, special tokens included (50,257 for GPT-2).
    pub fn vocab_size(&self) -> usize {
        self.tables.id_to_bytes.len()
    }

    /// The id of `<|endoftext|>` (50256 for GPT-2), if the vocabulary has it.
    pub fn eot_id(&self) -> Option<u32> {
        self.token_to_id(END_OF_TEXT.as_bytes())
    }

    /// The token ids for `text`. The literal text `<|endoftext|>` becomes that special token.
    pub fn encode(&self, text: &str) -> Vec<u32> {
        let mut ids = Vec::with_capacity(text.len() / 3);
        // Prose repeats words; remembering each pre-token's tokens skips most of the BPE work.
        let mut known: HashMap<&str, Vec<u32>> = HashMap::new();
        for_each_piece(
            text,
            &self.tables.added,
            self.tables.digits,
            |piece| match piece {
                Piece::Added { id, .. } => ids.push(id),
                Piece::Text { text: word, .. } => {
                    let word_ids = known
                        .entry(word)
                        .or_insert_with(|| self.merge(word, |_, _| {}));
                    ids.extend_from_slice(word_ids);
                }
            },
        );
        ids
    }

    /// Runs BPE on one pre-token, starting from its single-byte tokens.
    fn merge(&self, word: &str, on_merge: impl FnMut(Applied, &Word)) -> Vec<u32> {
        let byte_tokens = word
            .bytes()
            .filter_map(|b| self.tables.byte_ids[usize::from(b)]);
        let byte_tokens: Vec<u32> = byte_tokens.collect();
        bpe::merge_word(byte_tokens.into_iter(), &self.tables.merges, on_merge)
    }

    /// The bytes the ids stand for. Not always UTF-8: a cut can fall inside a character.
    pub fn decode_bytes(&self, ids: &[u32]) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(ids.len() * 4);
        for &id in ids {
            let bytes = self.token_bytes(id).ok_or_else(|| {
                let size = self.vocab_size();
                Error::Input(format!(
                    "unknown token id {id} (the vocabulary has {size} tokens)"
                ))
            })?;
            out.extend_from_slice(bytes);
        }
        Ok(out)
    }

    /// The raw bytes of one token.
    pub fn token_bytes(&self, id: u32) -> Option<&[u8]> {
        let index = usize::try_from(id).ok()?;
        self.tables.id_to_bytes.get(index).map(|bytes| &bytes[..])
    }

    /// The id of the token with exactly these bytes.
    pub fn token_to_id(&self, bytes: &[u8]) -> Option<u32> {
        self.tables.bytes_to_id.get(bytes).copied()
    }

    /// One token's id, bytes and readable forms.
    pub fn token_info(&self, id: u32) -> Option<TokenInfo> {
        let bytes = self.token_bytes(id)?;
        Some(TokenInfo {
            id,
            bytes: bytes.to_vec(),
            text: token_text(bytes),
            display: token_display(bytes),
        })
    }
}

impl fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokenizer")
            .field("vocab_size", &self.vocab_size())
            .field("merges", &self.tables.merges.len())
            .finish()
    }
}

fn read(path: &Path) -> Result<String> {
    checks::read_text(path, checks::MAX_TOKENIZER_BYTES)
}
