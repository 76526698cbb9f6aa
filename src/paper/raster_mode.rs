//! The raster-mode encoder (`mode = "raster"`): an image sent as GS v 0 bands, for printers
//! without a Chinese font. It sends ink, not paper: a run of white rows becomes a paper feed,
//! each band carries only the columns that hold ink, and a band whose dots come in pairs
//! (Chinese text is drawn from a 12-pixel font doubled) goes at GS v 0's double width and
//! height, a quarter of the data for the same dots. Bands let the printer task stream the image
//! and stop between two bands (paper out, XOFF) without the printer ever holding a
//! half-received band.
//!
//! Where the cropped band lands: GS v 0 prints from the left margin (GS L), and the printers'
//! manuals (Epson, Citizen, HPRT, Sprt) agree that GS L sets where a raster image starts, in
//! horizontal motion units, which are one dot on the 8-dot/mm printers the kiosk drives (the
//! 203 dpi default of GS P). Justification (ESC a) would also move the image, but centring
//! depends on the printer's own idea of the paper width, so it is left at ESC @'s left. A band
//! that would save fewer bytes than GS L costs is sent with white bytes in front instead.
//! ESC J n feeds n vertical motion units, also one dot at 203 dpi, so the paper moves exactly
//! as far as the white rows it replaces.

use super::escpos_codes;
use super::raster_image::RasterImage;
use super::render::RasterLayout;

/// Rows per band unless the config says otherwise: one text line's cell, about 1.2 KB at
/// 58 mm even uncropped, which fits every printer's receive buffer.
pub const DEFAULT_BAND_ROWS: u32 = 24;
/// The most rows one GS v 0 command may carry (yL + yH × 256 ≤ 2303 in the ESC/POS manual).
const MAX_BAND_ROWS: u32 = 2303;
/// The most dots one ESC J feeds (n is one byte).
const MAX_FEED_DOTS: u32 = 255;

/// What goes before the first band: ESC @, so no mode of an earlier job applies (the left
/// margin included: the encoder starts from margin 0).
pub const RASTER_START: &[u8] = escpos_codes::INIT;

/// Streams an image, strip by strip, as printer commands. Every row goes through
/// [`RasterEncoder::push`] in order; the commands do not depend on where one strip ends and
/// the next begins, so the streamed job and [`encode_raster`] of the whole image are the same
/// bytes.
pub struct RasterEncoder {
    band_rows: u32,
    bytes_per_row: usize,
    /// White rows not yet fed.
    blank_rows: u32,
    /// Inked rows not yet sent, full width, at most `band_rows`.
    band: Vec<u8>,
    band_height: u32,
    /// The left margin the printer holds now, in bytes (8 dots).
    left_margin_bytes: usize,
}

impl RasterEncoder {
    /// An encoder for images `width_dots` wide in bands of `band_rows` rows (clamped to
    /// 1…2303; a band also ends at a white row).
    pub fn new(width_dots: u32, band_rows: u32) -> RasterEncoder {
        let band_rows = band_rows.clamp(1, MAX_BAND_ROWS);
        RasterEncoder {
            band_rows,
            bytes_per_row: usize::try_from(width_dots.div_ceil(8)).unwrap_or(usize::MAX),
            blank_rows: 0,
            band: Vec::new(),
            band_height: 0,
            left_margin_bytes: 0,
        }
    }

    /// Takes the rows of `strip` (as wide as the encoder's image) and returns the chunks they
    /// completed: each a band with the feed and margin commands before it, whole commands
    /// only.
    pub fn push(&mut self, strip: &RasterImage) -> Vec<Vec<u8>> {
        let mut chunks = Vec::new();
        for y in 0..strip.height() {
            let row = strip.row(y);
            if row.iter().all(|&byte| byte == 0) {
                chunks.extend(self.send_band());
                self.blank_rows = self.blank_rows.saturating_add(1);
                continue;
            }
            self.band.extend_from_slice(row);
            self.band_height += 1;
            if self.band_height == self.band_rows {
                chunks.extend(self.send_band());
            }
        }
        chunks
    }

    /// The rest of the image (its last band, the white rows at its foot), the feed and the
    /// partial cut.
    pub fn finish(mut self) -> Vec<u8> {
        let mut out = self.send_band().unwrap_or_default();
        self.feed_blank_rows(&mut out);
        escpos_codes::cut(&mut out);
        out
    }

    fn feed_blank_rows(&mut self, out: &mut Vec<u8>) {
        while self.blank_rows > 0 {
            let dots = self.blank_rows.min(MAX_FEED_DOTS);
            escpos_codes::feed_dots(u8::try_from(dots).unwrap_or(u8::MAX), out);
            self.blank_rows -= dots;
        }
    }

    /// The pending band, cropped to its ink and halved where its dots come in pairs, with the
    /// feed before it; `None` when no inked row is pending.
    fn send_band(&mut self) -> Option<Vec<u8>> {
        if self.band_height == 0 {
            return None;
        }
        let per_row = self.bytes_per_row.max(1);
        let mut pending = std::mem::take(&mut self.band);
        let rows = pending.chunks(per_row);
        let first_ink = rows
            .clone()
            .filter_map(|row| row.iter().position(|&b| b != 0))
            .min()
            .unwrap_or(0);
        let last_ink = rows
            .filter_map(|row| row.iter().rposition(|&b| b != 0))
            .max()
            .unwrap_or(0);
        let band = Band {
            rows: &pending,
            per_row,
            height: usize::try_from(self.band_height).unwrap_or(usize::MAX),
            first_ink,
            last_ink,
        };
        let plan = band.cheapest(self.left_margin_bytes);

        let mut out = Vec::with_capacity(16 + plan.cost);
        self.feed_blank_rows(&mut out);
        if plan.margin != self.left_margin_bytes {
            escpos_codes::left_margin(dots(plan.margin), &mut out);
            self.left_margin_bytes = plan.margin;
        }
        band.encode(&plan, &mut out);
        // The buffer is kept for the next band: no allocation per band.
        pending.clear();
        self.band = pending;
        self.band_height = 0;
        Some(out)
    }
}

/// A band of inked rows, full width, and the bytes its ink spans.
struct Band<'a> {
    rows: &'a [u8],
    per_row: usize,
    height: usize,
    first_ink: usize,
    last_ink: usize,
}

/// How a band goes out: from which margin, at which of GS v 0's scales, and what it costs.
struct BandPlan {
    margin: usize,
    scale: escpos_codes::RasterScale,
    bytes_per_row: usize,
    cost: usize,
}

impl Band<'_> {
    fn row(&self, y: usize) -> &[u8] {
        &self.rows[y * self.per_row..(y + 1) * self.per_row]
    }

    /// Every row the same as the one above or below it, in pairs from the top: what GS v 0's
    /// double height prints from one row. Chinese body text is drawn from a 12-pixel font
    /// doubled, so most of its lines qualify.
    fn rows_in_pairs(&self) -> bool {
        self.height % 2 == 0 && (0..self.height / 2).all(|k| self.row(2 * k) == self.row(2 * k + 1))
    }

    /// Every dot the same as its neighbour, in pairs from each byte's left edge: what GS v 0's
    /// double width prints from one dot.
    fn dots_in_pairs(&self) -> bool {
        self.rows
            .iter()
            .all(|&byte| (byte ^ (byte << 1)) & 0xAA == 0)
    }

    /// The plan that sends the band in the fewest bytes, counting the GS L a new margin costs.
    /// Double width needs the doubled band to stay on the paper; a band inked near the right
    /// edge starts a byte further left instead.
    fn cheapest(&self, current_margin: usize) -> BandPlan {
        use escpos_codes::RasterScale;
        let tall = self.rows_in_pairs();
        let wide = self.dots_in_pairs();
        let mut margins = vec![self.first_ink, current_margin, 0];
        if let Some(earlier) = self.first_ink.checked_sub(1) {
            margins.push(earlier);
        }
        let mut best: Option<BandPlan> = None;
        for margin in margins.into_iter().filter(|&m| m <= self.first_ink) {
            let span = self.last_ink + 1 - margin;
            for scale in RasterScale::ALL {
                if (scale.tall() && !tall) || (scale.wide() && !wide) {
                    continue;
                }
                let bytes_per_row = if scale.wide() { span.div_ceil(2) } else { span };
                let printed = bytes_per_row * if scale.wide() { 2 } else { 1 };
                if margin + printed > self.per_row {
                    continue;
                }
                let rows = if scale.tall() {
                    self.height / 2
                } else {
                    self.height
                };
                let change = if margin == current_margin {
                    0
                } else {
                    escpos_codes::LEFT_MARGIN_BYTES
                };
                let cost = change + escpos_codes::RASTER_HEADER_BYTES + bytes_per_row * rows;
                if best.as_ref().is_none_or(|b| cost < b.cost) {
                    best = Some(BandPlan {
                        margin,
                        scale,
                        bytes_per_row,
                        cost,
                    });
                }
            }
        }
        // Normal scale from margin 0 always fits: the band is at most the paper's width.
        best.unwrap_or(BandPlan {
            margin: 0,
            scale: RasterScale::Normal,
            bytes_per_row: self.last_ink + 1,
            cost: 0,
        })
    }

    fn encode(&self, plan: &BandPlan, out: &mut Vec<u8>) {
        let rows = if plan.scale.tall() {
            self.height / 2
        } else {
            self.height
        };
        escpos_codes::raster_band_header(
            plan.scale,
            u16::try_from(plan.bytes_per_row).unwrap_or(u16::MAX),
            u16::try_from(rows).unwrap_or(u16::MAX),
            out,
        );
        let step = if plan.scale.tall() { 2 } else { 1 };
        for y in (0..self.height).step_by(step) {
            let row = self.row(y);
            if plan.scale.wide() {
                for pair in 0..plan.bytes_per_row {
                    let left = row.get(plan.margin + 2 * pair).copied().unwrap_or(0);
                    let right = row.get(plan.margin + 2 * pair + 1).copied().unwrap_or(0);
                    out.push((halve(left) << 4) | halve(right));
                }
            } else {
                out.extend_from_slice(&row[plan.margin..plan.margin + plan.bytes_per_row]);
            }
        }
    }
}

/// The four dots of a byte whose dots come in pairs, as the high nibble's pattern: bits 7, 5,
/// 3 and 1 become bits 3 to 0.
fn halve(byte: u8) -> u8 {
    ((byte >> 4) & 0x08) | ((byte >> 3) & 0x04) | ((byte >> 2) & 0x02) | ((byte >> 1) & 0x01)
}

fn dots(bytes: usize) -> u16 {
    u16::try_from(bytes * 8).unwrap_or(u16::MAX)
}

/// The whole raster job at once: ESC @, the bands and feeds, the feed and the cut. The print
/// task streams the same bytes with [`raster_job`].
pub fn encode_raster(image: &RasterImage, band_rows: u32) -> Vec<u8> {
    let mut encoder = RasterEncoder::new(image.width(), band_rows);
    let mut out = RASTER_START.to_vec();
    for chunk in encoder.push(image) {
        out.extend_from_slice(&chunk);
    }
    out.extend_from_slice(&encoder.finish());
    out
}

/// A laid-out document as the chunks of its raster job, each drawn and encoded only when the
/// previous one has been taken: ESC @ first, then the bands as their strips are drawn, then
/// the feed and the cut.
pub fn raster_job(layout: &RasterLayout, band_rows: u32) -> impl Iterator<Item = Vec<u8>> + '_ {
    let mut encoder = Some(RasterEncoder::new(layout.width_dots(), band_rows));
    let mut strips = layout.strips();
    let mut ready = std::collections::VecDeque::from([RASTER_START.to_vec()]);
    std::iter::from_fn(move || {
        loop {
            if let Some(chunk) = ready.pop_front() {
                return Some(chunk);
            }
            let working = encoder.as_mut()?;
            match strips.next() {
                Some(strip) => ready.extend(working.push(&strip)),
                None => return encoder.take().map(RasterEncoder::finish),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Dots on alternate diagonals: no two neighbours alike across or down, so every band goes
    /// at normal scale.
    fn checkered(image: &mut RasterImage, x0: u32, y0: u32, width: u32, height: u32) {
        for y in y0..y0 + height {
            for x in x0..x0 + width {
                if (x + y) % 2 == 0 {
                    image.fill(i64::from(x), i64::from(y), 1, 1);
                }
            }
        }
    }

    const CUT: [u8; 7] = [0x1B, 0x64, 3, 0x1D, 0x56, 66, 0];

    #[test]
    fn inked_rows_go_in_bands_of_band_rows_at_most() {
        let mut image = RasterImage::new(384, 50);
        checkered(&mut image, 0, 0, 384, 50);
        let job = encode_raster(&image, 24);
        assert_eq!(job[..2], [0x1B, 0x40]);
        assert_eq!(job[2..10], [0x1D, 0x76, 0x30, 0, 48, 0, 24, 0]);
        let second = 10 + 48 * 24;
        assert_eq!(job[second..second + 8], [0x1D, 0x76, 0x30, 0, 48, 0, 24, 0]);
        let third = second + 8 + 48 * 24;
        assert_eq!(job[third..third + 8], [0x1D, 0x76, 0x30, 0, 48, 0, 2, 0]);
        assert_eq!(job.len(), 2 + 3 * 8 + 48 * 50 + 7);
        assert_eq!(job[job.len() - 7..], CUT);
    }

    #[test]
    fn white_rows_become_a_feed_of_as_many_dots() {
        let mut image = RasterImage::new(384, 4);
        checkered(&mut image, 0, 0, 384, 1);
        checkered(&mut image, 0, 2, 384, 1);
        let job = encode_raster(&image, 24);
        let mut expected = vec![0x1B, 0x40];
        expected.extend_from_slice(&[0x1D, 0x76, 0x30, 0, 48, 0, 1, 0]);
        expected.extend_from_slice(&[0xAA; 48]);
        expected.extend_from_slice(&[0x1B, 0x4A, 1]);
        expected.extend_from_slice(&[0x1D, 0x76, 0x30, 0, 48, 0, 1, 0]);
        expected.extend_from_slice(&[0xAA; 48]);
        expected.extend_from_slice(&[0x1B, 0x4A, 1]);
        expected.extend_from_slice(&CUT);
        assert_eq!(job, expected);
    }

    #[test]
    fn a_long_white_run_is_fed_in_steps_of_255_dots() {
        let mut image = RasterImage::new(384, 600);
        image.fill(0, 599, 8, 1);
        let job = encode_raster(&image, 24);
        assert_eq!(
            job[2..11],
            [0x1B, 0x4A, 255, 0x1B, 0x4A, 255, 0x1B, 0x4A, 89]
        );
    }

    #[test]
    fn a_band_is_cropped_to_its_ink_and_placed_by_the_left_margin() {
        let mut image = RasterImage::new(384, 10);
        // Ink in bytes 20 to 22 only: a margin of 160 dots and 3 bytes a row.
        checkered(&mut image, 160, 0, 24, 10);
        let job = encode_raster(&image, 24);
        assert_eq!(
            job[2..14],
            [0x1D, 0x4C, 160, 0, 0x1D, 0x76, 0x30, 0, 3, 0, 10, 0]
        );
        assert_eq!(job.len(), 14 + 30 + CUT.len());
    }

    #[test]
    fn a_margin_that_saves_less_than_it_costs_is_left_as_it_is() {
        let mut image = RasterImage::new(384, 1);
        // One row inked in byte 2: GS L (4 bytes) would save only 2.
        checkered(&mut image, 16, 0, 8, 1);
        let job = encode_raster(&image, 24);
        assert_eq!(job[2..13], [0x1D, 0x76, 0x30, 0, 3, 0, 1, 0, 0, 0, 0xAA]);
    }

    #[test]
    fn a_band_left_of_the_current_margin_moves_the_margin_back() {
        let mut image = RasterImage::new(384, 20);
        checkered(&mut image, 200, 0, 8, 10);
        checkered(&mut image, 0, 10, 8, 10);
        let job = encode_raster(&image, 10);
        let second = 6 + 8 + 10;
        assert_eq!(job[2..6], [0x1D, 0x4C, 200, 0]);
        assert_eq!(job[second..second + 4], [0x1D, 0x4C, 0, 0]);
    }

    #[test]
    fn dots_doubled_both_ways_go_at_quadruple_scale_as_a_quarter_of_the_data() {
        let mut image = RasterImage::new(16, 4);
        image.fill(0, 0, 16, 4);
        let job = encode_raster(&image, 24);
        assert_eq!(job[2..12], [0x1D, 0x76, 0x30, 3, 1, 0, 2, 0, 0xFF, 0xFF]);
    }

    #[test]
    fn rows_doubled_but_not_dots_go_at_double_height() {
        let mut image = RasterImage::new(8, 4);
        for (y, byte) in [(0, 0xAA_u8), (1, 0xAA), (2, 0x55), (3, 0x55)] {
            for x in 0..8 {
                if byte & (0x80 >> x) != 0 {
                    image.fill(i64::from(x), y, 1, 1);
                }
            }
        }
        // Rows 0 and 1 alike, rows 2 and 3 alike: one row of each pair is sent.
        let job = encode_raster(&image, 24);
        assert_eq!(job[2..12], [0x1D, 0x76, 0x30, 2, 1, 0, 2, 0, 0xAA, 0x55]);
    }

    #[test]
    fn a_doubled_band_at_the_right_edge_starts_early_enough_to_stay_on_the_paper() {
        // Ink in bytes 1 to 3 of a 4-byte image, nine rows (no pairs down): double width from
        // byte 1 would print bytes 1 to 4, past the edge, so it starts at byte 0.
        let mut image = RasterImage::new(32, 9);
        image.fill(8, 0, 24, 9);
        let job = encode_raster(&image, 24);
        assert_eq!(job[2..10], [0x1D, 0x76, 0x30, 1, 2, 0, 9, 0]);
        assert_eq!(job[10..12], [0x0F, 0xFF]);
    }

    #[test]
    fn a_band_height_of_zero_means_one_row() {
        let mut image = RasterImage::new(384, 3);
        checkered(&mut image, 0, 0, 384, 3);
        let job = encode_raster(&image, 0);
        let headers = job.windows(3).filter(|w| *w == [0x1D, 0x76, 0x30]).count();
        assert_eq!(headers, 3);
    }

    #[test]
    fn strips_of_any_height_give_the_bytes_of_the_whole_image() {
        let mut image = RasterImage::new(384, 100);
        image.fill(40, 3, 100, 30);
        image.fill(0, 50, 384, 2);
        checkered(&mut image, 300, 60, 50, 37);
        let whole = encode_raster(&image, 24);
        for strip_rows in [1, 7, 24, 33, 100] {
            let mut encoder = RasterEncoder::new(384, 24);
            let mut streamed = RASTER_START.to_vec();
            for first in (0..100).step_by(strip_rows) {
                let rows = u32::try_from(strip_rows).unwrap().min(100 - first as u32);
                let mut strip = RasterImage::new(384, rows);
                for y in 0..rows {
                    for x in 0..384 {
                        if image.is_black(x, first as u32 + y) {
                            strip.fill(i64::from(x), i64::from(y), 1, 1);
                        }
                    }
                }
                for chunk in encoder.push(&strip) {
                    streamed.extend_from_slice(&chunk);
                }
            }
            streamed.extend_from_slice(&encoder.finish());
            assert_eq!(streamed, whole, "strips of {strip_rows} rows");
        }
    }

    #[test]
    fn halving_keeps_one_dot_of_each_pair() {
        assert_eq!(halve(0b1100_0011), 0b1001);
        assert_eq!(halve(0b0011_1100), 0b0110);
        assert_eq!(halve(0xFF), 0x0F);
    }
}
