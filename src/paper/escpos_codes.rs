//! The ESC/POS byte sequences the encoders send: the `escpos` crate's constants where its bytes
//! are right, our own where they are not or where the crate has none.
//!
//! Ours, and why:
//! - FS & / FS . (Chinese mode on/off): not in the crate.
//! - GS V 66 n (feed to the cutter, partial cut): the crate's `GS_PAPER_CUT_PARTIAL` is
//!   `GS V 65 1`, which per the ESC/POS manual is a *full* cut after a feed of one unit.
//! - GS ( k QR model: the crate's QR default is Model 1; we always select Model 2 (n1 = 50).
//! - GS v 0 raster: the crate's image path sits behind its `graphics` feature (the `image`
//!   crate) and scales images itself; we send our own 1-bit bands.
//! - ESC J n (feed n dots) and GS L (left margin): not in the crate.

use escpos::utils::{
    ESC_HARDWARE_INIT, ESC_PAPER_FEED, ESC_TEXT_EMPHASIS_OFF, ESC_TEXT_EMPHASIS_ON,
    ESC_TEXT_JUSTIFY_CENTER, ESC_TEXT_JUSTIFY_LEFT, ESC_TEXT_JUSTIFY_RIGHT, GS_2D,
    GS_2D_QRCODE_CORRECTION_LEVEL, GS_2D_QRCODE_MODEL, GS_2D_QRCODE_PRINT_SYMBOL_DATA,
    GS_2D_QRCODE_SIZE, GS_TEXT_SIZE_SELECT,
};

use super::document::{Align, TextSize};

/// Line feed: prints the line in the buffer and moves to the next.
pub const LF: u8 = 0x0A;
/// The prefix of the feed-by-dots command.
const ESC: u8 = 0x1B;
/// The prefix of the Chinese-mode commands.
const FS: u8 = 0x1C;
/// The prefix of the cut and raster commands we write ourselves.
const GS: u8 = 0x1D;

/// ESC @: clears the print buffer and every mode (size, bold, alignment) back to power-on.
pub const INIT: &[u8] = ESC_HARDWARE_INIT;
/// FS &: double-byte (GBK) characters on.
pub const CHINESE_MODE_ON: &[u8] = &[FS, b'&'];
/// FS .: double-byte characters off, so the next job starts in single-byte mode.
pub const CHINESE_MODE_OFF: &[u8] = &[FS, b'.'];
/// GS V 66 0: feed the last line to the cutting position, then cut leaving one point, so the
/// resident can tear the slip off without it dropping to the floor. Printers without a
/// cutter only feed.
pub const PARTIAL_CUT: &[u8] = &[GS, b'V', 66, 0];
/// ESC d n before the cut: printers without a cutter ignore GS V, and three lines (about
/// 11 mm) carry the last printed line past their tear bar.
pub const FEED_LINES_BEFORE_CUT: u8 = 3;

/// QR error correction M (15 % of the symbol may be lost): thermal print fades and rolls
/// curl, and L would gain only a version for a ~40-byte URL.
const QR_CORRECTION_M: u8 = 49;
/// GS ( k model n1 = 50: Model 2, what every phone reads; Model 1 is obsolete.
const QR_MODEL_2: u8 = 50;

pub fn align(align: Align) -> &'static [u8] {
    match align {
        Align::Left => ESC_TEXT_JUSTIFY_LEFT,
        Align::Centre => ESC_TEXT_JUSTIFY_CENTER,
        Align::Right => ESC_TEXT_JUSTIFY_RIGHT,
    }
}

pub fn bold(on: bool) -> &'static [u8] {
    if on {
        ESC_TEXT_EMPHASIS_ON
    } else {
        ESC_TEXT_EMPHASIS_OFF
    }
}

/// GS ! n: width factor − 1 in the high nibble, height factor − 1 in the low one.
pub fn size(size: TextSize, out: &mut Vec<u8>) {
    let n = ((size.width_factor() - 1) << 4) | (size.height_factor() - 1);
    out.extend_from_slice(GS_TEXT_SIZE_SELECT);
    out.push(n);
}

/// ESC d n: print and feed `lines` lines.
pub fn feed(lines: u8, out: &mut Vec<u8>) {
    out.extend_from_slice(ESC_PAPER_FEED);
    out.push(lines);
}

/// The end of a slip: a feed for tear-bar printers, then the partial cut.
pub fn cut(out: &mut Vec<u8>) {
    feed(FEED_LINES_BEFORE_CUT, out);
    out.extend_from_slice(PARTIAL_CUT);
}

/// A QR code printed by the printer: Model 2, `module_dots` per module, correction M, the
/// data stored (fn 80) and printed (fn 81). `data` must be at most 65532 bytes; the caller
/// keeps it far shorter.
pub fn qr(data: &[u8], module_dots: u8, out: &mut Vec<u8>) {
    out.extend_from_slice(GS_2D_QRCODE_MODEL);
    out.extend_from_slice(&[QR_MODEL_2, 0]);
    out.extend_from_slice(GS_2D_QRCODE_SIZE);
    out.push(module_dots);
    out.extend_from_slice(GS_2D_QRCODE_CORRECTION_LEVEL);
    out.push(QR_CORRECTION_M);
    // pL pH count the data plus cn, fn and m.
    let [pl, ph] = u16::try_from(data.len() + 3)
        .unwrap_or(u16::MAX)
        .to_le_bytes();
    out.extend_from_slice(GS_2D);
    out.extend_from_slice(&[pl, ph, 49, 80, 48]);
    out.extend_from_slice(data);
    out.extend_from_slice(GS_2D_QRCODE_PRINT_SYMBOL_DATA);
}

/// ESC J n: print what is buffered and feed `dots` vertical motion units (dots at 203 dpi).
pub fn feed_dots(dots: u8, out: &mut Vec<u8>) {
    out.extend_from_slice(&[ESC, b'J', dots]);
}

/// The length of a GS L command: what moving the left margin costs on the wire.
pub const LEFT_MARGIN_BYTES: usize = 4;

/// GS L nL nH: the left margin in horizontal motion units (dots at 203 dpi), where the next
/// line or raster band starts.
pub fn left_margin(dots: u16, out: &mut Vec<u8>) {
    let [nl, nh] = dots.to_le_bytes();
    out.extend_from_slice(&[GS, b'L', nl, nh]);
}

/// The length of a GS v 0 header, before its rows.
pub const RASTER_HEADER_BYTES: usize = 8;

/// GS v 0's scales (m): each data dot printed as 1 or 2 dots across and 1 or 2 down. The
/// encoder only uses a larger scale where the image's dots already come in such pairs, so the
/// paper shows exactly the drawn image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RasterScale {
    Normal,
    DoubleWidth,
    DoubleHeight,
    Quadruple,
}

impl RasterScale {
    pub const ALL: [RasterScale; 4] = [
        RasterScale::Normal,
        RasterScale::DoubleWidth,
        RasterScale::DoubleHeight,
        RasterScale::Quadruple,
    ];

    pub fn wide(self) -> bool {
        matches!(self, RasterScale::DoubleWidth | RasterScale::Quadruple)
    }

    pub fn tall(self) -> bool {
        matches!(self, RasterScale::DoubleHeight | RasterScale::Quadruple)
    }

    /// m in the manual: 0 normal, 1 double width, 2 double height, 3 quadruple.
    fn m(self) -> u8 {
        u8::from(self.wide()) | (u8::from(self.tall()) << 1)
    }
}

/// GS v 0 m: one band of a 1-bit image, `bytes_per_row` × `rows` of data, 1 = black, MSB left.
pub fn raster_band_header(scale: RasterScale, bytes_per_row: u16, rows: u16, out: &mut Vec<u8>) {
    let [xl, xh] = bytes_per_row.to_le_bytes();
    let [yl, yh] = rows.to_le_bytes();
    out.extend_from_slice(&[GS, b'v', b'0', scale.m(), xl, xh, yl, yh]);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The crate's constants must keep the bytes the ESC/POS manual gives; a crate update
    /// that changed one would change every receipt.
    #[test]
    fn the_bytes_taken_from_the_escpos_crate_are_the_manuals() {
        assert_eq!(INIT, [0x1B, 0x40]);
        assert_eq!(align(Align::Left), [0x1B, 0x61, 0]);
        assert_eq!(align(Align::Centre), [0x1B, 0x61, 1]);
        assert_eq!(align(Align::Right), [0x1B, 0x61, 2]);
        assert_eq!(bold(true), [0x1B, 0x45, 1]);
        assert_eq!(bold(false), [0x1B, 0x45, 0]);
        let mut out = Vec::new();
        size(TextSize::Ticket, &mut out);
        size(TextSize::DoubleHeight, &mut out);
        size(TextSize::TicketNarrow, &mut out);
        feed(3, &mut out);
        assert_eq!(
            out,
            [
                0x1D, 0x21, 0x22, 0x1D, 0x21, 0x01, 0x1D, 0x21, 0x12, 0x1B, 0x64, 3
            ]
        );
    }

    #[test]
    fn a_qr_code_selects_model_2_and_stores_then_prints_its_data() {
        let mut out = Vec::new();
        qr(b"https://x.example/t/A1", 6, &mut out);
        let mut expected = vec![
            0x1D, 0x28, 0x6B, 4, 0, 49, 65, 50, 0, // fn 65: Model 2
            0x1D, 0x28, 0x6B, 3, 0, 49, 67, 6, // fn 67: module 6 dots
            0x1D, 0x28, 0x6B, 3, 0, 49, 69, 49, // fn 69: correction M
            0x1D, 0x28, 0x6B, 25, 0, 49, 80, 48, // fn 80: store 22 bytes
        ];
        expected.extend_from_slice(b"https://x.example/t/A1");
        expected.extend_from_slice(&[0x1D, 0x28, 0x6B, 3, 0, 49, 81, 48]); // fn 81: print
        assert_eq!(out, expected);
    }

    #[test]
    fn the_cut_feeds_then_cuts_partially() {
        let mut out = Vec::new();
        cut(&mut out);
        assert_eq!(out, [0x1B, 0x64, 3, 0x1D, 0x56, 66, 0]);
    }

    #[test]
    fn a_dot_feed_and_a_left_margin_are_these_bytes() {
        let mut out = Vec::new();
        feed_dots(30, &mut out);
        left_margin(296, &mut out);
        assert_eq!(out, [0x1B, 0x4A, 30, 0x1D, 0x4C, 40, 1]);
        assert_eq!(out.len() - 3, LEFT_MARGIN_BYTES);
    }

    #[test]
    fn a_raster_band_header_gives_its_scale_width_in_bytes_and_rows() {
        let mut out = Vec::new();
        raster_band_header(RasterScale::Normal, 48, 24, &mut out);
        raster_band_header(RasterScale::DoubleWidth, 300, 1, &mut out);
        raster_band_header(RasterScale::DoubleHeight, 1, 2, &mut out);
        raster_band_header(RasterScale::Quadruple, 1, 2, &mut out);
        assert_eq!(out[..8], [0x1D, 0x76, 0x30, 0, 48, 0, 24, 0]);
        assert_eq!(out[8..16], [0x1D, 0x76, 0x30, 1, 44, 1, 1, 0]);
        assert_eq!(out[19], 2);
        assert_eq!(out[27], 3);
        assert_eq!(out.len(), 4 * RASTER_HEADER_BYTES);
    }
}
