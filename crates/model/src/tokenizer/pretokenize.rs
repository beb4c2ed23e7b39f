//! Step 1 of encoding: cut the text into pre-tokens.
//!
//! Added tokens such as `<|endoftext|>` are cut out first and matched literally, so typing that
//! text gives the special token, as Hugging Face `tokenizers` does for GPT-2. Vocabularies
//! learned with digits apart (SmolLM's, llama.cpp's "smollm" pre-tokenizer) then cut every
//! number character out on its own. The rest is cut by GPT-2's regex into contractions, words,
//! numbers, punctuation runs and whitespace. BPE then works inside each pre-token, so no token
//! ever spans two of them.

use aho_corasick::{AhoCorasick, MatchKind};
use fancy_regex::{Regex, RegexBuilder};
use std::ops::Range;
use std::sync::OnceLock;

/// GPT-2's pre-tokenizer pattern. A word keeps the one space before it (` world`); `\s+(?!\S)`
/// leaves the last space of a run to the word after it, so "a   b" is `a`, `  `, ` b`.
const GPT2_PATTERN: &str =
    r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

/// The pattern only backtracks over one whitespace run at a time, so its work is linear in the
/// input; the limit just has to be above any run a caller can send.
const BACKTRACK_LIMIT: usize = usize::MAX;

fn gpt2_regex() -> &'static Regex {
    static REGEX: OnceLock<Regex> = OnceLock::new();
    REGEX.get_or_init(|| {
        RegexBuilder::new(GPT2_PATTERN)
            .backtrack_limit(BACKTRACK_LIMIT)
            .build()
            .expect("GPT-2's pre-tokenizer pattern compiles")
    })
}

/// A piece of the input, with its byte offset in the whole text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Piece<'t> {
    /// A pre-token, for BPE to split further.
    Text { start: usize, text: &'t str },
    /// An added (special) token, matched literally.
    Added {
        start: usize,
        text: &'t str,
        id: u32,
    },
}

/// The tokens matched literally before the regex runs. At one position the longest wins.
#[derive(Debug, Clone)]
pub(crate) struct AddedTokens {
    finder: AhoCorasick,
    ids: Vec<u32>,
    /// Bytes of the longest: a text cut closer than this to its end may have cut one.
    pub(crate) longest: usize,
}

impl AddedTokens {
    /// `tokens` are (text, id) pairs with non-empty texts.
    pub(crate) fn new(tokens: &[(String, u32)]) -> Result<Self, String> {
        let finder = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(tokens.iter().map(|(text, _)| text))
            .map_err(|e| format!("added tokens: {e}"))?;
        let ids = tokens.iter().map(|&(_, id)| id).collect();
        let longest = tokens.iter().map(|(text, _)| text.len()).max().unwrap_or(0);
        Ok(AddedTokens {
            finder,
            ids,
            longest,
        })
    }
}

/// Calls `f` with each piece of `text`, in order, each number character apart when `digits`.
/// The pieces cover the text exactly.
pub(crate) fn for_each_piece<'t>(
    text: &'t str,
    added: &AddedTokens,
    digits: bool,
    mut f: impl FnMut(Piece<'t>),
) {
    let mut start = 0;
    let words = |range: Range<usize>, f: &mut dyn FnMut(Piece<'t>)| match digits {
        true => split_digits(text, range, f),
        false => split_words(text, range, f),
    };
    for found in added.finder.find_iter(text) {
        words(start..found.start(), &mut f);
        let id = added.ids[found.pattern().as_usize()];
        // The patterns are whole strings, so match bounds fall on char boundaries.
        let (start_at, text) = (found.start(), &text[found.range()]);
        f(Piece::Added {
            start: start_at,
            text,
            id,
        });
        start = found.end();
    }
    words(start..text.len(), &mut f);
}

/// Cuts each number character (`char::is_numeric`, as `tokenizers`' `Digits` does) out of
/// `text[range]` as its own piece and runs GPT-2's regex over the stretches between them.
fn split_digits<'t>(text: &'t str, range: Range<usize>, f: &mut dyn FnMut(Piece<'t>)) {
    let mut from = range.start;
    for (i, c) in text[range.clone()].char_indices() {
        if c.is_numeric() {
            let at = range.start + i;
            split_words(text, from..at, f);
            let end = at + c.len_utf8();
            f(Piece::Text {
                start: at,
                text: &text[at..end],
            });
            from = end;
        }
    }
    split_words(text, from..range.end, f);
}

/// Runs GPT-2's regex over `text[range]` alone, as `tokenizers` does between added tokens.
fn split_words<'t>(text: &'t str, range: Range<usize>, f: &mut dyn FnMut(Piece<'t>)) {
    let segment = &text[range.clone()];
    let mut done = 0;
    for found in gpt2_regex().find_iter(segment) {
        // Every char is whitespace, a letter, a number or "other", so the matches leave no gaps.
        // An error (the regex engine gave up) cannot happen with this pattern and limit; if it
        // ever did, the rest of the segment becomes one pre-token below rather than a panic.
        let Ok(found) = found else { break };
        let start = range.start + found.start();
        f(Piece::Text {
            start,
            text: found.as_str(),
        });
        done = found.end();
    }
    if done < segment.len() {
        let start = range.start + done;
        f(Piece::Text {
            start,
            text: &segment[done..],
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(text: &str) -> Vec<&str> {
        let added = AddedTokens::new(&[("<|endoftext|>".to_string(), 50256)]).unwrap();
        let mut out = Vec::new();
        for_each_piece(text, &added, false, |piece| match piece {
            Piece::Text { text, .. } | Piece::Added { text, .. } => out.push(text),
        });
        out
    }

    #[test]
    fn words_keep_the_space_before_them() {
        assert_eq!(pieces("Hello world!"), ["Hello", " world", "!"]);
        assert_eq!(pieces("a   b"), ["a", "  ", " b"]);
        assert_eq!(pieces("x  \n"), ["x", "  \n"]);
        assert_eq!(pieces(""), Vec::<&str>::new());
    }

    #[test]
    fn contractions_and_numbers() {
        assert_eq!(pieces("don't"), ["don", "'t"]);
        assert_eq!(pieces("DON'T"), ["DON", "'", "T"]);
        assert_eq!(pieces("pi 3.14"), ["pi", " 3", ".", "14"]);
    }

    #[test]
    fn added_tokens_are_cut_out_first() {
        assert_eq!(pieces("a <|endoftext|>b"), ["a", " ", "<|endoftext|>", "b"]);
        assert_eq!(pieces("<|endoftext|><|endoftext|>"), ["<|endoftext|>"; 2]);
    }

    #[test]
    fn offsets_cover_the_text() {
        let text = "Héllo,  wörld 🦀<|endoftext|>\n\n  end ";
        let added = AddedTokens::new(&[("<|endoftext|>".to_string(), 50256)]).unwrap();
        let mut next = 0;
        for_each_piece(text, &added, false, |piece| {
            let (Piece::Text { start, text: piece }
            | Piece::Added {
                start, text: piece, ..
            }) = piece;
            assert_eq!(start, next);
            assert_eq!(&text[start..start + piece.len()], piece);
            next = start + piece.len();
        });
        assert_eq!(next, text.len());
    }
}
