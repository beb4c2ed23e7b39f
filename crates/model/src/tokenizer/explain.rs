//! How the tokenizer cut a text, step by step, for the page to show.

use super::bpe::{Applied, Word};
use super::pretokenize::{for_each_piece, Piece};
use super::{token_display, Tokenizer};
use serde::Serialize;

/// One pre-token and how BPE split it into tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PreToken {
    /// The piece of the input, as the regex (or the special-token match) cut it.
    pub text: String,
    /// Where `text` sits in the input, in bytes.
    pub byte_start: usize,
    pub byte_end: usize,
    /// An added token such as `<|endoftext|>`: no BPE, one id.
    pub special: bool,
    /// The merges, in the order they happened.
    pub steps: Vec<MergeStep>,
    /// The final tokens.
    pub ids: Vec<u32>,
}

/// One merge: `left` and `right` became one token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MergeStep {
    /// Both halves as [`token_display`] shows them.
    pub left: String,
    pub right: String,
    /// The merge's line in `merges.txt`, counting from 0 after the `#version` header: GPT-2
    /// learned it as merge number `rank`, and lower ranks merge first.
    pub rank: u32,
    /// The pre-token's tokens right after this merge, as [`token_display`] shows them. Empty
    /// when the pre-token is longer than [`MAX_PARTS_BYTES`].
    pub parts: Vec<String>,
}

/// Longest pre-token whose steps list their `parts`. Every step repeats the whole word, so a
/// long run of letters would make the answer grow with the square of its length.
pub const MAX_PARTS_BYTES: usize = 256;

impl Tokenizer {
    /// The pre-tokens of `text` with every merge BPE made in them. Their `ids`, concatenated,
    /// are exactly [`Tokenizer::encode`]'s.
    pub fn explain(&self, text: &str) -> Vec<PreToken> {
        let mut pre_tokens = Vec::new();
        for_each_piece(text, &self.tables.added, self.tables.digits, |piece| {
            pre_tokens.push(match piece {
                Piece::Added { start, text, id } => PreToken {
                    text: text.to_string(),
                    byte_start: start,
                    byte_end: start + text.len(),
                    special: true,
                    steps: Vec::new(),
                    ids: vec![id],
                },
                Piece::Text { start, text } => self.explain_word(start, text),
            });
        });
        pre_tokens
    }

    fn explain_word(&self, start: usize, word: &str) -> PreToken {
        let mut steps = Vec::new();
        let show_parts = word.len() <= MAX_PARTS_BYTES;
        let ids = self.merge(word, |applied: Applied, now: &Word| {
            let parts = if show_parts {
                now.ids().into_iter().map(|id| self.display(id)).collect()
            } else {
                Vec::new()
            };
            steps.push(MergeStep {
                left: self.display(applied.left),
                right: self.display(applied.right),
                rank: applied.rank,
                parts,
            });
        });
        PreToken {
            text: word.to_string(),
            byte_start: start,
            byte_end: start + word.len(),
            special: false,
            steps,
            ids,
        }
    }

    fn display(&self, id: u32) -> String {
        self.token_bytes(id).map(token_display).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_each_merge_of_a_word() {
        let tokenizer = Tokenizer::gpt2();
        let explained = tokenizer.explain(" hello");
        assert_eq!(explained.len(), 1);
        let word = &explained[0];
        assert_eq!((word.byte_start, word.byte_end), (0, 6));
        assert_eq!(word.ids, tokenizer.encode(" hello"));
        let last = word.steps.last().expect("\" hello\" needs merges");
        assert_eq!(last.parts, ["·hello"]);
        let first = &word.steps[0];
        assert_eq!(first.parts.len(), 5, "one merge leaves five of six bytes");
        assert!(word
            .steps
            .windows(2)
            .all(|w| w[0].parts.len() == w[1].parts.len() + 1));
    }

    #[test]
    fn long_words_keep_steps_but_not_parts() {
        let tokenizer = Tokenizer::gpt2();
        let word = "a".repeat(MAX_PARTS_BYTES + 1);
        let explained = tokenizer.explain(&word);
        assert_eq!(explained[0].ids, tokenizer.encode(&word));
        assert!(!explained[0].steps.is_empty());
        assert!(explained[0].steps.iter().all(|s| s.parts.is_empty()));
    }

    #[test]
    fn special_tokens_are_one_step() {
        let tokenizer = Tokenizer::gpt2();
        let explained = tokenizer.explain("Hi<|endoftext|>");
        assert_eq!(explained.len(), 2);
        assert!(explained[1].special && explained[1].steps.is_empty());
        assert_eq!(explained[1].ids, [50256]);
        assert_eq!((explained[1].byte_start, explained[1].byte_end), (2, 15));
    }
}
