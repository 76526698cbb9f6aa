//! Property tests of the two encoders on arbitrary text: what a resident types never reaches
//! the printer as a command, never as four-byte GB18030, and never wider than the paper.

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use super::document::{Align, Document, Style, TextSize};
use super::{RasterImage, encode_raster, encode_text, gbk, render_raster};

/// Any text a person or a config could produce: every Unicode scalar value, with extra weight
/// on the control, format and CJK characters that matter to a printer.
fn any_text() -> impl Strategy<Value = String> {
    let character = prop_oneof![
        3 => any::<char>(),
        2 => (0u32..0x20).prop_map(|c| char::from_u32(c).unwrap_or(' ')),
        1 => prop::sample::select(vec!['\u{7f}', '\u{9b}', '\u{202e}', '\u{200b}', '\u{2028}', '\u{feff}', '¥', '€']),
        3 => (0x4E00u32..0x9FFF).prop_map(|c| char::from_u32(c).unwrap_or('中')),
        2 => (0x20u32..0x7F).prop_map(|c| char::from_u32(c).unwrap_or('a')),
    ];
    prop::collection::vec(character, 0..120).prop_map(|chars| chars.into_iter().collect())
}

fn any_style() -> impl Strategy<Value = Style> {
    (
        prop::sample::select(TextSize::ALL.to_vec()),
        any::<bool>(),
        prop::sample::select(vec![Align::Left, Align::Centre, Align::Right]),
    )
        .prop_map(|(size, bold, align)| Style { size, bold, align })
}

/// A document of arbitrary paragraphs, separators, feeds and cuts on either paper width.
fn any_document() -> impl Strategy<Value = Document> {
    let block = prop_oneof![
        6 => (any_text(), any_style()).prop_map(|(text, style)| (Some((text, style)), 0u8)),
        1 => Just((None, 1)),
        1 => (0u8..8).prop_map(|lines| (None, 2 + lines)),
        1 => Just((None, 10)),
    ];
    (
        prop::sample::select(vec![384u32, 576]),
        prop::collection::vec(block, 0..12),
    )
        .prop_map(|(width, blocks)| {
            let mut doc = Document::new(width);
            for block in blocks {
                match block {
                    (Some((text, style)), _) => {
                        doc.text(&text, style);
                    }
                    (None, 1) => {
                        doc.separator();
                    }
                    (None, 10) => {
                        doc.cut();
                    }
                    (None, lines) => {
                        doc.feed(lines - 2);
                    }
                }
            }
            doc
        })
}

/// The commands the text encoder writes for paragraphs, rules, feeds and cuts, by their first
/// two bytes, with how many parameter bytes follow.
fn command_length(bytes: &[u8]) -> Option<usize> {
    match bytes {
        [0x1B, b'@', ..] | [0x1C, b'&', ..] | [0x1C, b'.', ..] => Some(2),
        [0x1B, b'a', ..] | [0x1B, b'E', ..] | [0x1B, b'd', ..] | [0x1D, b'!', ..] => Some(3),
        [0x1D, b'V', ..] => Some(4),
        _ => None,
    }
}

/// Whether `bytes` starts with a plain two-byte GBK code (never the first half of a
/// four-byte GB18030 sequence, whose second byte is a digit).
fn is_two_byte_gbk(bytes: &[u8]) -> bool {
    matches!(bytes, [0x81..=0xFE, 0x40..=0x7E | 0x80..=0xFE, ..])
}

/// Walks the encoder's output: every byte is part of one of its own commands, a line feed,
/// printable ASCII or a two-byte GBK code; and the text it carries is exactly the document's
/// lines, encoded.
fn check_text_mode(doc: Document) -> Result<(), TestCaseError> {
    let Ok(bytes) = encode_text(&doc) else {
        return Err(TestCaseError::fail(
            "a document without a QR code always encodes",
        ));
    };
    let mut carried = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let rest = &bytes[at..];
        if let Some(length) = command_length(rest) {
            prop_assert!(rest.len() >= length, "a command cut short at {at}");
            at += length;
        } else if rest[0] == b'\n' || (0x20..0x7F).contains(&rest[0]) {
            carried.push(rest[0]);
            at += 1;
        } else {
            prop_assert!(
                is_two_byte_gbk(rest),
                "byte {:#04x} at {at} is neither a command, ASCII nor GBK",
                rest[0]
            );
            carried.extend_from_slice(&rest[..2]);
            at += 2;
        }
    }
    let mut expected = Vec::new();
    for paragraph in doc.blocks.iter().filter_map(|b| match b {
        super::Block::Text(p) => Some(p.lines(doc.width_dots)),
        super::Block::Separator => Some(vec!["-".repeat(doc.columns(TextSize::Normal))]),
        _ => None,
    }) {
        for line in paragraph {
            gbk::encode_into(&line, &mut expected);
            expected.push(b'\n');
        }
    }
    prop_assert_eq!(carried, expected);
    Ok(())
}

/// The raster job, replayed as a printer would (ESC J feeds, GS L margins, GS v 0 bands),
/// puts exactly the drawn image on paper, and no band reaches past the paper's edge.
fn check_raster_mode(doc: Document) -> Result<(), TestCaseError> {
    let image = match render_raster(&doc) {
        Ok(image) => image,
        Err(e) => return Err(TestCaseError::fail(format!("cannot draw: {e}"))),
    };
    prop_assert_eq!(image.width(), doc.width_dots);
    let bytes = encode_raster(&image, 24);
    let mut paper = RasterImage::new(image.width(), image.height());
    let (mut top, mut margin_dots, mut at) = (0u32, 0u32, 0usize);
    while at < bytes.len() {
        match bytes[at..] {
            [0x1B, 0x40, ..] => at += 2,
            [0x1B, b'J', dots, ..] => {
                top += u32::from(dots);
                at += 3;
            }
            [0x1D, b'L', low, high, ..] => {
                margin_dots = u32::from(low) + 256 * u32::from(high);
                at += 4;
            }
            [0x1D, b'v', b'0', m @ 0..=3, xl, xh, yl, yh, ..] => {
                let (across, down) = (1 + u32::from(m & 1), 1 + u32::from(m >> 1));
                let width_bytes = u32::from(xl) + 256 * u32::from(xh);
                let rows = u32::from(yl) + 256 * u32::from(yh);
                prop_assert!(
                    margin_dots + width_bytes * 8 * across <= doc.width_dots,
                    "a band from dot {} {} dots wide on {}-dot paper",
                    margin_dots,
                    width_bytes * 8 * across,
                    doc.width_dots
                );
                let data = &bytes[at + 8..];
                for y in 0..rows {
                    for x in 0..width_bytes * 8 {
                        let byte = data[usize::try_from(y * width_bytes + x / 8).unwrap()];
                        if byte & (0x80 >> (x % 8)) != 0 {
                            paper.fill(
                                i64::from(margin_dots + x * across),
                                i64::from(top + y * down),
                                across,
                                down,
                            );
                        }
                    }
                }
                top += rows * down;
                at += 8 + usize::try_from(width_bytes * rows).unwrap();
            }
            [0x1B, b'd', 3, 0x1D, b'V', 66, 0] => break,
            _ => return Err(TestCaseError::fail(format!("unexpected bytes at {at}"))),
        }
    }
    prop_assert_eq!(top, image.height());
    prop_assert!(paper == image, "the paper differs from the drawn image");
    Ok(())
}

proptest! {
    #![proptest_config(crate::property_runs::short())]

    #[test]
    fn text_mode_sends_only_its_own_commands_and_two_byte_gbk(doc in any_document()) {
        check_text_mode(doc)?;
    }

    #[test]
    fn raster_mode_never_draws_wider_than_the_paper(doc in any_document()) {
        check_raster_mode(doc)?;
    }
}

#[test]
#[ignore = "long property run: cargo test --release -- --ignored"]
fn text_mode_sends_only_its_own_commands_and_two_byte_gbk_long() {
    crate::property_runs::long("text mode", any_document(), check_text_mode);
}

#[test]
#[ignore = "long property run: cargo test --release -- --ignored"]
fn raster_mode_never_draws_wider_than_the_paper_long() {
    crate::property_runs::long("raster mode", any_document(), check_raster_mode);
}
