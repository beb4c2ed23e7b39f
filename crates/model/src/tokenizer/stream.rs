//! Encoding a text of any length as it is read: pre-tokens are final once enough text follows
//! them, so only the unfinished tail is held, and memory stays proportional to the longest
//! pre-token instead of the whole text (50 MB of spaces took 9.3 GB when encoded at once).

use std::collections::HashMap;
use std::io::{self, Read};

use super::pretokenize::{for_each_piece, Piece};
use super::Tokenizer;

/// Bytes read at a time.
const CHUNK: usize = 64 << 10;
/// A pre-token is final once this many bytes (beyond any added token's length) follow its
/// start: GPT-2's pattern looks at most 3 characters past where a match starts (`'ll`) and
/// one past where it ends (`\s+(?!\S)`).
const LOOKAHEAD: usize = 64;
/// Distinct pre-tokens remembered before the memo starts again: prose repeats words, but an
/// endless input must not grow it without bound.
const MEMO_ENTRIES: usize = 1 << 16;

impl Tokenizer {
    /// Encodes all that `input` yields, handing each id to `emit` in order: the same ids as
    /// [`Tokenizer::encode`] of the whole text. Only the pre-token being read is held, so a
    /// pre-token (a word, a number, a whitespace run) longer than `max_piece` bytes is an
    /// `InvalidData` error, as is text that is not UTF-8; `emit`'s errors end the run.
    pub fn encode_reader(
        &self,
        mut input: impl Read,
        max_piece: usize,
        mut emit: impl FnMut(u32) -> io::Result<()>,
    ) -> io::Result<()> {
        let mut pending: Vec<u8> = Vec::new(); // read, not yet cut into final pre-tokens
        let mut done = 0; // bytes before `pending`, for error messages
        let mut chunk = vec![0u8; CHUNK];
        let mut memo: HashMap<String, Vec<u32>> = HashMap::new();
        loop {
            let n = match input.read(&mut chunk) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            let end = n == 0;
            pending.extend_from_slice(&chunk[..n]);
            let text = match std::str::from_utf8(&pending) {
                Ok(text) => text,
                // A character cut by the read completes with the next one.
                Err(e) if e.error_len().is_none() && !end => {
                    std::str::from_utf8(&pending[..e.valid_up_to()]).map_err(invalid_utf8(done))?
                }
                Err(e) => return Err(invalid_utf8(done)(e)),
            };
            let cut = self.encode_settled(text, end, &mut memo, &mut emit)?;
            done += cut;
            pending.drain(..cut);
            if pending.len() > max_piece {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "a pre-token (a word, number, punctuation or whitespace run) at byte \
                         {done} is longer than the {max_piece} bytes one may be"
                    ),
                ));
            }
            if end {
                return Ok(());
            }
        }
    }

    /// Encodes the pre-tokens of `text` that no later text can change (all of them at the
    /// `end`) and returns the byte where the rest starts.
    fn encode_settled(
        &self,
        text: &str,
        end: bool,
        memo: &mut HashMap<String, Vec<u32>>,
        emit: &mut impl FnMut(u32) -> io::Result<()>,
    ) -> io::Result<usize> {
        let mut pieces = Vec::new();
        for_each_piece(text, &self.tables.added, self.tables.digits, |p| {
            pieces.push(p)
        });
        let start = |p: &Piece| match *p {
            Piece::Text { start, .. } | Piece::Added { start, .. } => start,
        };
        let tail = text
            .len()
            .saturating_sub(LOOKAHEAD + self.tables.added.longest);
        let cut = match end {
            true => text.len(),
            false => pieces
                .iter()
                .map(start)
                .find(|&s| s >= tail)
                .unwrap_or(text.len())
                .min(pieces.last().map_or(0, start)),
        };
        for piece in pieces.iter().take_while(|p| start(p) < cut) {
            match *piece {
                Piece::Added { id, .. } => emit(id)?,
                Piece::Text { text: word, .. } => {
                    if !memo.contains_key(word) {
                        if memo.len() >= MEMO_ENTRIES {
                            memo.clear();
                        }
                        memo.insert(word.to_string(), self.merge(word, |_, _| {}));
                    }
                    memo[word].iter().try_for_each(|&id| emit(id))?;
                }
            }
        }
        Ok(cut)
    }
}

fn invalid_utf8(done: usize) -> impl Fn(std::str::Utf8Error) -> io::Error {
    move |e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("the text is not UTF-8 (byte {})", done + e.valid_up_to()),
        )
    }
}
