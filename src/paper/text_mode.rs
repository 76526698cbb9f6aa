//! The text-mode encoder (`mode = "text"`): a document as ESC/POS commands and GBK text for a
//! printer with its own Chinese font. A receipt is about a kilobyte, a second at 9600 baud.

use super::PaperError;
use super::document::{Align, Block, Document, Style, TextSize};
use super::escpos_codes::{self, LF};
use super::gbk;

/// Dots per QR module on the printer: 6 dots (0.75 mm) make a tracking URL's 29-module code
/// about 22 mm wide, easy for a phone held by an unsteady hand, and cost no bytes.
pub const TEXT_MODE_QR_MODULE_DOTS: u8 = 6;
/// The most data a printed QR code may hold: the byte capacity of version 10 at correction M.
/// Its 57 modules fit 58 mm paper at both encoders' module sizes; a tracking URL needs ~40.
pub const MAX_QR_BYTES: usize = 213;

/// The printer's state as the encoder has set it, so that each command is sent only when
/// something changes.
struct PrinterState {
    style: Style,
    chinese_mode: bool,
}

/// The whole document as bytes for a Chinese-capable ESC/POS printer.
pub fn encode_text(doc: &Document) -> Result<Vec<u8>, PaperError> {
    let mut out = Vec::with_capacity(1024);
    out.extend_from_slice(escpos_codes::INIT);
    // ESC @ leaves left-aligned, normal-size, regular text.
    let mut state = PrinterState {
        style: Style::NORMAL,
        chinese_mode: false,
    };
    for block in &doc.blocks {
        match block {
            Block::Text(paragraph) => {
                set_style(&mut state, paragraph.style, &mut out);
                for line in paragraph.lines(doc.width_dots) {
                    write_line(&mut state, &line, &mut out);
                }
            }
            Block::Separator => {
                set_style(&mut state, Style::NORMAL, &mut out);
                let rule = "-".repeat(doc.columns(TextSize::Normal));
                write_line(&mut state, &rule, &mut out);
            }
            Block::Qr(data) => {
                let bytes = data.checked_bytes()?;
                let centred = Style {
                    align: Align::Centre,
                    ..state.style
                };
                set_style(&mut state, centred, &mut out);
                escpos_codes::qr(bytes, TEXT_MODE_QR_MODULE_DOTS, &mut out);
            }
            Block::Feed(lines) => escpos_codes::feed(*lines, &mut out),
            Block::Cut => {
                leave_chinese_mode(&mut state, &mut out);
                escpos_codes::cut(&mut out);
            }
        }
    }
    leave_chinese_mode(&mut state, &mut out);
    Ok(out)
}

fn set_style(state: &mut PrinterState, wanted: Style, out: &mut Vec<u8>) {
    if wanted.align != state.style.align {
        out.extend_from_slice(escpos_codes::align(wanted.align));
    }
    if wanted.size != state.style.size {
        escpos_codes::size(wanted.size, out);
    }
    if wanted.bold != state.style.bold {
        out.extend_from_slice(escpos_codes::bold(wanted.bold));
    }
    state.style = wanted;
}

fn write_line(state: &mut PrinterState, line: &str, out: &mut Vec<u8>) {
    if gbk::needs_chinese_mode(line) && !state.chinese_mode {
        out.extend_from_slice(escpos_codes::CHINESE_MODE_ON);
        state.chinese_mode = true;
    }
    gbk::encode_into(line, out);
    out.push(LF);
}

/// Chinese mode is switched off at the end of each slip so the next job, perhaps a raster one,
/// finds the printer as it was.
fn leave_chinese_mode(state: &mut PrinterState, out: &mut Vec<u8>) {
    if state.chinese_mode {
        out.extend_from_slice(escpos_codes::CHINESE_MODE_OFF);
        state.chinese_mode = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_document_is_exactly_these_bytes() {
        let mut doc = Document::new(384);
        doc.text(
            "回执",
            Style::sized(TextSize::DoubleHeight).bold().centred(),
        )
        .text("A1", Style::sized(TextSize::Ticket).centred())
        .separator()
        .cut();
        let bytes = encode_text(&doc).unwrap();
        let mut expected = vec![0x1B, 0x40]; // ESC @
        expected.extend_from_slice(&[0x1B, 0x61, 1, 0x1D, 0x21, 0x01, 0x1B, 0x45, 1]);
        expected.extend_from_slice(&[0x1C, 0x26, 0xBB, 0xD8, 0xD6, 0xB4, 0x0A]); // FS & 回执
        expected.extend_from_slice(&[0x1D, 0x21, 0x22, 0x1B, 0x45, 0, b'A', b'1', 0x0A]);
        expected.extend_from_slice(&[0x1B, 0x61, 0, 0x1D, 0x21, 0x00]);
        expected.extend_from_slice(&[b'-'; 32]);
        expected.push(0x0A);
        expected.extend_from_slice(&[0x1C, 0x2E]); // FS . before the cut
        expected.extend_from_slice(&[0x1B, 0x64, 3, 0x1D, 0x56, 66, 0]);
        assert_eq!(bytes, expected);
    }

    #[test]
    fn an_ascii_only_document_never_enters_chinese_mode() {
        let mut doc = Document::new(384);
        doc.text("Concern receipt", Style::NORMAL).cut();
        let bytes = encode_text(&doc).unwrap();
        assert!(!bytes.windows(2).any(|w| w == [0x1C, 0x26]));
        assert!(!bytes.windows(2).any(|w| w == [0x1C, 0x2E]));
    }

    #[test]
    fn a_qr_code_longer_than_the_paper_holds_is_refused() {
        let mut doc = Document::new(384);
        doc.qr(&"x".repeat(MAX_QR_BYTES + 1));
        assert!(matches!(
            encode_text(&doc),
            Err(PaperError::QrTooLong { bytes: 214, .. })
        ));
    }
}
