//! Showing a token's bytes as text.
//!
//! A token is a byte string and need not be valid UTF-8: "🦀" is four bytes split over two
//! tokens. Replacing the broken bytes with U+FFFD would hide exactly what a learner should see,
//! so every byte of an invalid or incomplete sequence is written as `<0xF0>` instead.

/// The token's text: exact when the bytes are valid UTF-8; otherwise the valid parts as text and
/// each byte of a broken sequence as a `<0xF0>` style escape.
pub fn token_text(bytes: &[u8]) -> String {
    render(bytes, |out, c, _| out.push(c))
}

/// Like [`token_text`], made visible for token chips: a leading space as `·` (GPT-2 glues the
/// space to the word after it), `\n` as `↵`, `\t` as `⇥`, `\r` as `␍`, the other control
/// characters of C0 and DEL as `<0x01>` style escapes, and those that are not ASCII (the C1
/// controls such as U+0085, and the line and paragraph separators U+2028 and U+2029, which
/// break a line like `\n`) as `<U+0085>` style escapes.
pub fn token_display(bytes: &[u8]) -> String {
    render(bytes, |out, c, first| match c {
        ' ' if first => out.push('·'),
        '\n' => out.push('↵'),
        '\t' => out.push('⇥'),
        '\r' => out.push('␍'),
        '\0'..='\x1f' | '\x7f' => push_escape(out, c as u8),
        '\u{80}'..='\u{9f}' | '\u{2028}' | '\u{2029}' => {
            out.push_str(&format!("<U+{:04X}>", c as u32))
        }
        _ => out.push(c),
    })
}

/// Walks the valid and broken runs of `bytes`; `push_char` gets each valid char and whether it
/// is the token's first.
fn render(bytes: &[u8], mut push_char: impl FnMut(&mut String, char, bool)) -> String {
    let mut out = String::with_capacity(bytes.len());
    let mut first = true;
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            push_char(&mut out, c, first);
            first = false;
        }
        for &byte in chunk.invalid() {
            push_escape(&mut out, byte);
            first = false;
        }
    }
    out
}

fn push_escape(out: &mut String, byte: u8) {
    out.push_str(&format!("<0x{byte:02X}>"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_utf8_is_exact() {
        assert_eq!(token_text(" héllo 🦀\n".as_bytes()), " héllo 🦀\n");
        assert_eq!(token_text(b""), "");
    }

    #[test]
    fn broken_utf8_is_escaped_byte_by_byte() {
        let crab = "🦀".as_bytes();
        assert_eq!(token_text(&crab[..2]), "<0xF0><0x9F>");
        assert_eq!(token_text(&crab[2..]), "<0xA6><0x80>");
        assert_eq!(token_text(b"a\xffb"), "a<0xFF>b");
        assert!(!token_text(&crab[..3]).contains('\u{FFFD}'));
    }

    #[test]
    fn display_marks_a_leading_space_only() {
        assert_eq!(token_display(b" the"), "·the");
        assert_eq!(token_display(b"a b"), "a b");
        assert_eq!(token_display(b"  "), "· ");
    }

    #[test]
    fn display_shows_controls() {
        assert_eq!(token_display(b"\n\t\r"), "↵⇥␍");
        assert_eq!(
            token_display(b"\x00\x01\x1b\x7f"),
            "<0x00><0x01><0x1B><0x7F>"
        );
        assert_eq!(token_display(" 🦀".as_bytes()), "·🦀");
        assert_eq!(
            token_display("a\u{85}b\u{9f}\u{2028}\u{2029}".as_bytes()),
            "a<U+0085>b<U+009F><U+2028><U+2029>"
        );
        assert_eq!(
            token_display("\u{a0}é".as_bytes()),
            "\u{a0}é",
            "not controls"
        );
        assert_eq!(token_display(&" 🦀".as_bytes()[..3]), "·<0xF0><0x9F>");
    }
}
