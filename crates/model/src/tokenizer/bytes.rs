//! GPT-2's table between bytes and printable characters.
//!
//! GPT-2 tokens are byte strings (one emoji can be split over several tokens), but `vocab.json`
//! and `merges.txt` are text. So GPT-2 gives each of the 256 bytes its own printable character and
//! writes every token as a string of those characters. Printable Latin-1 bytes stand for
//! themselves; the other 68 (controls, space, DEL, no-break space, soft hyphen) are moved to
//! U+0100 and up, in byte order. That is why a space shows up as `Ġ` (U+0120) in the files.

use std::collections::HashMap;

/// The printable character GPT-2 uses for each byte, indexed by the byte.
pub(crate) fn bytes_to_unicode() -> [char; 256] {
    let mut table = ['\0'; 256];
    let mut next_moved = 0x100;
    for byte in 0..=255u8 {
        table[usize::from(byte)] = if stands_for_itself(byte) {
            char::from(byte)
        } else {
            let moved = char::from_u32(next_moved).expect("U+0100..U+0143 are all valid chars");
            next_moved += 1;
            moved
        };
    }
    table
}

/// The 256 byte characters in the order GPT-2 numbers them (ids 0..256): the bytes that stand
/// for themselves, then the moved ones, each in byte order.
pub(crate) fn byte_tokens_in_id_order() -> Vec<char> {
    let table = bytes_to_unicode();
    let (kept, moved): (Vec<u8>, Vec<u8>) = (0..=255u8).partition(|&b| stands_for_itself(b));
    kept.into_iter()
        .chain(moved)
        .map(|b| table[usize::from(b)])
        .collect()
}

/// Bytes whose Latin-1 character is visible, so the table keeps it as is.
fn stands_for_itself(byte: u8) -> bool {
    matches!(byte, b'!'..=b'~' | 0xA1..=0xAC | 0xAE..=0xFF)
}

/// The way back: from the characters of a vocabulary entry to the token's bytes.
pub(crate) struct ByteDecoder {
    byte_of: HashMap<char, u8>,
}

impl ByteDecoder {
    pub(crate) fn new() -> Self {
        let byte_of = (0..=255u8)
            .zip(bytes_to_unicode())
            .map(|(byte, c)| (c, byte))
            .collect();
        ByteDecoder { byte_of }
    }

    /// The bytes a vocabulary string stands for, or `None` if it has a character outside the
    /// table (then the file is not a byte-level BPE vocabulary).
    pub(crate) fn decode(&self, token: &str) -> Option<Vec<u8>> {
        token
            .chars()
            .map(|c| self.byte_of.get(&c).copied())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_byte_gets_its_own_printable_char() {
        let table = bytes_to_unicode();
        let distinct: HashSet<char> = table.iter().copied().collect();
        assert_eq!(distinct.len(), 256);
        for c in table {
            assert!(
                !c.is_control() && !c.is_whitespace(),
                "{c:?} is not printable"
            );
        }
    }

    #[test]
    fn matches_the_gpt2_files() {
        let table = bytes_to_unicode();
        assert_eq!(table[usize::from(b'a')], 'a');
        assert_eq!(table[usize::from(b' ')], 'Ġ');
        assert_eq!(table[usize::from(b'\n')], 'Ċ');
        assert_eq!(table[0], '\u{100}');
        assert_eq!(table[0xAD], '\u{143}');
    }

    #[test]
    fn decode_inverts_the_table() {
        let decoder = ByteDecoder::new();
        let all: String = bytes_to_unicode().iter().collect();
        let bytes: Vec<u8> = (0..=255).collect();
        assert_eq!(decoder.decode(&all), Some(bytes));
        assert_eq!(decoder.decode("Ġworld"), Some(b" world".to_vec()));
        assert_eq!(decoder.decode("▁world"), None);
    }
}
