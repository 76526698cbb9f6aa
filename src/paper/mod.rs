//! The page engine for everything printed: one document model for receipts and summaries, the
//! two ESC/POS encoders (text mode with the printer's GBK font, raster mode with our own
//! drawing), the ESC/POS byte sequences they send, and the PNG preview of the raster image.
//! It knows paper, fonts and printers, and nothing of concerns or the config.
//!
//! ```text
//! Document ─┬─► encode_text ───────────────► bytes (text mode)
//!           └─► render_raster ─► RasterImage ─┬─► encode_raster / raster_bands
//!                                             └─► png_bytes / write_png
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
pub use raster_mode::{
    DEFAULT_BAND_ROWS, RASTER_START, encode_raster, raster_bands, raster_finish,
};
pub use render::render_raster;
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

/// The bytes of `doc` for a printer in `mode`: text mode as ESC/POS text, raster mode as the
/// drawn image in GS v 0 bands of `band_rows` rows.
pub fn encode(doc: &Document, mode: PrintMode, band_rows: u32) -> Result<Vec<u8>, PaperError> {
    match mode {
        PrintMode::Text => encode_text(doc),
        PrintMode::Raster => Ok(encode_raster(&render_raster(doc)?, band_rows)),
    }
}
