//! Which characters may enter a printed document, and how many printer columns each takes.
//!
//! This is the encoder boundary's own defence: the concern module already cleans user text at
//! filing time, but a receipt can also be built from older rows, config text or staff input, so
//! every text is cleaned again here before it can reach a printer.

use unicode_width::UnicodeWidthChar;

/// Dots of one printer column: the width of a half-width (ASCII) character of the printer's
/// 12×24 font A. A Chinese character of its 24×24 font takes two columns.
pub const COLUMN_DOTS: u32 = 12;

/// The text with everything that could act on a printer or hide on paper removed: every
/// control character (below 0x20, 0x7F, C1) and every zero-width character (joiners, bidi
/// overrides, byte-order marks, combining marks). Line breaks and tabs become spaces, because
/// a document's lines are made by wrapping, never by the text.
pub fn printable(raw: &str) -> String {
    raw.chars()
        .filter_map(|c| match c {
            '\n' | '\r' | '\t' => Some(' '),
            c if is_invisible(c) => None,
            c => Some(c),
        })
        .collect()
}

/// Whether `c` must never be sent to a printer: controls are commands, zero-width characters
/// print nothing (or something else) and would let a text look different on paper.
pub fn is_invisible(c: char) -> bool {
    c.is_control() || matches!(c.width(), None | Some(0))
}

/// Printer columns of `c`. In the printer's Chinese mode every non-ASCII character is a
/// two-byte GBK code printed in a 24-dot cell (or its two-column substitute), whatever
/// Unicode's East Asian Width says, so only ASCII is half-width.
pub fn columns(c: char) -> usize {
    if c.is_ascii() { 1 } else { 2 }
}

/// Printer columns of a whole text.
pub fn text_columns(text: &str) -> usize {
    text.chars().map(columns).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printer_commands_in_text_are_removed_and_the_rest_is_kept() {
        let raw = "电梯\u{1b}@坏了\u{1d}V\u{0}\u{1c}&\u{10}\u{4}\u{1}\u{7f}\u{9b}OK";
        assert_eq!(printable(raw), "电梯@坏了V&OK");
    }

    #[test]
    fn invisible_characters_are_removed_and_line_breaks_become_spaces() {
        let raw = "3\u{200b}幢\u{202e}2\u{feff}单元\u{301}\r\n\t门口";
        assert_eq!(printable(raw), "3幢2单元   门口");
    }

    #[test]
    fn chinese_takes_two_columns_and_ascii_one() {
        assert_eq!(text_columns("3幢2单元"), 8);
        assert_eq!(text_columns("A1126-001"), 9);
        assert_eq!(text_columns("（￥—）"), 8);
    }
}
