//! The page engine for everything printed: one document model for receipts and summaries, the
//! two ESC/POS encoders (text mode with the printer's GBK font, raster mode with our own
//! drawing), the ESC/POS byte sequences they send, and the PNG preview of the raster image.
//! It knows paper, fonts and printers, and nothing of concerns or the config.
//!
//! ```text
//! Document ─┬─► encode_text ───────────────► bytes (text mode)
//!           └─► RasterLayout ─┬─► strips ─► RasterEncoder ─► raster_job (streamed)
//!                             └─► render ─► RasterImage ─┬─► encode_raster
//!                                                        └─► png_bytes / write_png
//! ```
//!
//! No byte of user text can reach a printer as a command: text is cleaned when it enters the
//! model ([`Paragraph::new`]) and again when it is encoded.

mod document;
mod escpos_codes;
mod gbk;
mod glyphs;
mod preview;
mod printable;
#[cfg(test)]
mod property_tests;
mod raster_image;
mod raster_mode;
mod render;
mod text_mode;
mod wrap;

use std::path::PathBuf;

use serde::Deserialize;
use thiserror::Error;

pub use document::{Align, Block, Document, Paragraph, QrData, Style, TextSize, columns_for};
pub use gbk::SUBSTITUTE;
pub use preview::{png_bytes, write_png};
pub use printable::{COLUMN_DOTS, printable, text_columns};
pub use raster_image::RasterImage;
pub use raster_mode::{DEFAULT_BAND_ROWS, RASTER_START, RasterEncoder, encode_raster, raster_job};
pub use render::{RasterLayout, render_raster};
pub use text_mode::{MAX_QR_BYTES, encode_text};

/// How a printer is driven (the config's `printer.mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PrintMode {
    /// The printer's own Chinese font (GBK).
    Text,
    /// Every line drawn as an image: any printer.
    Raster,
}

/// The characters of `text` that a printer in `mode` cannot print, each once and in order:
/// they come out as □ (text mode: outside GBK; raster mode: in none of the bitmap fonts).
pub fn unprintable(text: &str, mode: PrintMode) -> Vec<char> {
    let prints = match mode {
        PrintMode::Text => gbk::prints,
        PrintMode::Raster => glyphs::drawable,
    };
    let mut found: Vec<char> = Vec::new();
    for c in text.chars() {
        if !prints(c) && !found.contains(&c) {
            found.push(c);
        }
    }
    found
}

/// Why a document could not be encoded or previewed.
#[derive(Debug, Error)]
pub enum PaperError {
    #[error("the QR code data is {bytes} bytes; a printed QR code holds at most {max}")]
    QrTooLong { bytes: usize, max: usize },
    #[error("the QR code needs {needed} dots with its margin; the paper is {width} dots wide")]
    QrTooWide { needed: u32, width: u32 },
    #[error("cannot make the QR code: {0}")]
    Qr(#[from] qrcode::types::QrError),
    #[error("cannot encode the PNG preview: {0}")]
    Png(#[from] png::EncodingError),
    #[error("cannot write the PNG preview {}: {source}", path.display())]
    WritePreview {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A document made ready for one printer mode: laid out and checked, so that nothing can fail
/// once its first byte is out. A raster job is drawn and encoded band by band as it is sent,
/// so the printer starts on the first band while the rest is still to be drawn.
pub struct PrintReady {
    band_rows: u32,
    layout: RasterLayout,
    /// The whole text-mode job: about a kilobyte, made at once.
    text: Option<Vec<u8>>,
}

impl PrintReady {
    /// The layout is made in both modes: it checks the QR code against the paper, and the PNG
    /// preview shows it.
    pub fn new(doc: &Document, mode: PrintMode, band_rows: u32) -> Result<PrintReady, PaperError> {
        let layout = RasterLayout::new(doc)?;
        let text = match mode {
            PrintMode::Text => Some(encode_text(doc)?),
            PrintMode::Raster => None,
        };
        Ok(PrintReady {
            band_rows,
            layout,
            text,
        })
    }

    /// The job's bytes in the pieces that may go out between two checks of the printer: the
    /// whole text job as one, a raster job as its bands, each made when it is asked for.
    pub fn chunks(&self) -> Box<dyn Iterator<Item = Vec<u8>> + '_> {
        match &self.text {
            Some(bytes) => Box::new(std::iter::once(bytes.clone())),
            None => Box::new(raster_job(&self.layout, self.band_rows)),
        }
    }

    /// Every byte of the job.
    pub fn bytes(&self) -> Vec<u8> {
        self.chunks().flatten().collect()
    }

    /// The PNG picture of the paper, drawn afresh.
    pub fn preview_png(&self) -> Result<Vec<u8>, PaperError> {
        png_bytes(&self.layout.render())
    }
}

/// The bytes of `doc` for a printer in `mode`: text mode as ESC/POS text, raster mode as the
/// drawn image in GS v 0 bands of at most `band_rows` rows.
pub fn encode(doc: &Document, mode: PrintMode, band_rows: u32) -> Result<Vec<u8>, PaperError> {
    Ok(PrintReady::new(doc, mode, band_rows)?.bytes())
}

#[cfg(test)]
mod unprintable_tests {
    use super::*;

    #[test]
    fn each_mode_names_what_its_fonts_lack_once_and_in_order() {
        let text = "楼道暪\u{20000}暪灯";
        // The printer's GBK font has 暪; the raster mode's GB2312 bitmaps do not.
        assert_eq!(unprintable(text, PrintMode::Text), ['\u{20000}']);
        assert_eq!(unprintable(text, PrintMode::Raster), ['暪', '\u{20000}']);
        assert!(unprintable("Broken light, gate 3 — ¥5", PrintMode::Raster).is_empty());
    }
}
