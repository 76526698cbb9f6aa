//! Text to the bytes a Chinese-mode printer prints: printable ASCII as one byte, everything
//! else as a two-byte GBK code, and a visible □ for what the printer's GBK font cannot show.
//!
//! encoding_rs's GBK encoder is the WHATWG one: it never writes four-byte GB18030 sequences
//! (which printers print as junk), but for a character outside GBK its `encode()` writes an
//! HTML reference such as `&#165;` (for ¥), it writes the euro sign as the single byte 0x80, and
//! it maps private-use characters into GBK's user-defined areas. None of those print as meant,
//! so each character is encoded on its own and only a plain two-byte code is kept.

use encoding_rs::{EncoderResult, GBK};

/// What a character the printer cannot print becomes: a white square, the usual sign for a
/// missing character in Chinese text, so a reader sees that something was there.
pub const SUBSTITUTE: char = '□';
/// □ in GBK.
const SUBSTITUTE_GBK: [u8; 2] = [0xA1, 0xF5];

/// Appends `text` encoded for a printer in Chinese mode. Control characters are dropped here
/// too, whatever the caller did: no byte of text may ever act as a command.
pub fn encode_into(text: &str, out: &mut Vec<u8>) {
    let mut encoder = GBK.new_encoder();
    for c in text.chars() {
        if c == ' ' || c.is_ascii_graphic() {
            out.push(c as u8);
            continue;
        }
        if c.is_ascii() || c.is_control() {
            continue;
        }
        out.extend_from_slice(&gbk_pair(&mut encoder, c).unwrap_or(SUBSTITUTE_GBK));
    }
}

/// Whether a Chinese-mode printer prints `c` as itself (control characters, which are never
/// printed, count as printable: nothing stands in for them).
pub fn prints(c: char) -> bool {
    c.is_ascii() || c.is_control() || gbk_pair(&mut GBK.new_encoder(), c).is_some()
}

/// `c`'s plain two-byte GBK code, if the printer's font has one.
fn gbk_pair(encoder: &mut encoding_rs::Encoder, c: char) -> Option<[u8; 2]> {
    let c = lookalike(c);
    let mut utf8 = [0u8; 4];
    let mut gbk = [0u8; 8];
    let (result, _, written) =
        encoder.encode_from_utf8_without_replacement(c.encode_utf8(&mut utf8), &mut gbk, true);
    match (result, &gbk[..written]) {
        (EncoderResult::InputEmpty, &[lead, trail]) if is_printable_pair(lead, trail) => {
            Some([lead, trail])
        }
        _ => None,
    }
}

/// Whether `text` needs the printer's Chinese mode (any character beyond ASCII).
pub fn needs_chinese_mode(text: &str) -> bool {
    !text.is_ascii()
}

/// Characters outside GBK that have a printable twin inside it.
fn lookalike(c: char) -> char {
    match c {
        // The half-width yen sign is a four-byte GB18030 code; GBK has the full-width one.
        '¥' => '￥',
        c => c,
    }
}

/// A two-byte code in GBK's character areas. The user-defined areas (AAA1–AFFE, F8A1–FEFE,
/// A140–A7A0) hold nothing in a printer's font.
fn is_printable_pair(lead: u8, trail: u8) -> bool {
    let valid = (0x81..=0xFE).contains(&lead) && (0x40..=0xFE).contains(&trail) && trail != 0x7F;
    let user_area_lead = (0xAA..=0xAF).contains(&lead) || (0xF8..=0xFE).contains(&lead);
    let user_defined =
        (user_area_lead && trail >= 0xA1) || ((0xA1..=0xA7).contains(&lead) && trail <= 0xA0);
    valid && !user_defined
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(text: &str) -> Vec<u8> {
        let mut out = Vec::new();
        encode_into(text, &mut out);
        out
    }

    #[test]
    fn chinese_is_two_bytes_a_character_and_ascii_one() {
        assert_eq!(
            encode("3幢2单元"),
            [b'3', 0xB4, 0xB1, b'2', 0xB5, 0xA5, 0xD4, 0xAA]
        );
        assert_eq!(encode("意见"), [0xD2, 0xE2, 0xBC, 0xFB]);
    }

    #[test]
    fn characters_outside_gbk_become_a_visible_square_never_four_bytes() {
        for c in [
            '𠀀',
            '😀',
            '🀄',
            '\u{10FFFF}',
            '\u{E000}',
            '\u{F8FF}',
            '€',
            'ŝ',
        ] {
            let bytes = encode(&format!("好{c}的"));
            assert_eq!(
                bytes,
                [0xBA, 0xC3, 0xA1, 0xF5, 0xB5, 0xC4],
                "{c:?} gave {bytes:02X?}"
            );
        }
    }

    #[test]
    fn the_half_width_yen_prints_as_the_full_width_one() {
        assert_eq!(encode("¥5"), [0xA3, 0xA4, b'5']);
        assert_eq!(encode("￥5"), [0xA3, 0xA4, b'5']);
    }

    #[test]
    fn no_control_byte_survives_encoding() {
        let bytes = encode("a\u{1b}@\u{1d}V\u{1c}&\u{10}\u{4}\u{1}\u{0}\u{7f}\u{9b}\u{85}\n好");
        assert_eq!(bytes, [b'a', b'@', b'V', b'&', 0xBA, 0xC3]);
    }

    /// Every byte the encoder writes is printable ASCII or half of a two-byte code: so a
    /// printer can never read a four-byte GB18030 sequence or a command out of text.
    #[test]
    fn every_output_byte_is_ascii_text_or_part_of_a_gbk_pair() {
        let sample: String = (0x20u32..0x3_0000).filter_map(char::from_u32).collect();
        let bytes = encode(&sample);
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if (0x20..0x7F).contains(&b) {
                i += 1;
            } else {
                assert!(is_printable_pair(b, bytes[i + 1]), "at {i}: {b:02X}");
                i += 2;
            }
        }
    }

    #[test]
    fn what_prints_as_itself_is_what_encodes_to_a_pair_of_its_own() {
        for c in ['楼', '暪', '￥', '¥', 'a', '，'] {
            assert!(prints(c), "{c}");
        }
        // Outside GBK (CJK extension B), and private use: both come out as □.
        for c in ['\u{20000}', '\u{E000}'] {
            assert!(!prints(c), "{c}");
            assert_eq!(encode(&c.to_string()), SUBSTITUTE_GBK);
        }
    }
}
