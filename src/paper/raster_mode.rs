//! The raster-mode encoder (`mode = "raster"`): an image sent as GS v 0 bands, for printers
//! without a Chinese font. Bands let the printer task stream the image and stop between two
//! bands (paper out, XOFF) without the printer ever holding a half-received band.

use super::escpos_codes;
use super::raster_image::RasterImage;

/// Rows per band unless the config says otherwise: one text line's cell, about 1.2 KB at
/// 58 mm, which fits every printer's receive buffer and takes ~1.2 s at 9600 baud.
pub const DEFAULT_BAND_ROWS: u32 = 24;
/// The most rows one GS v 0 command may carry (yL + yH × 256 ≤ 2303 in the ESC/POS manual).
const MAX_BAND_ROWS: u32 = 2303;

/// What goes before the first band: ESC @, so no mode of an earlier job applies.
pub const RASTER_START: &[u8] = escpos_codes::INIT;

/// What goes after the last band: the feed and the partial cut, as in text mode.
pub fn raster_finish() -> Vec<u8> {
    let mut out = Vec::new();
    escpos_codes::cut(&mut out);
    out
}

/// The image as GS v 0 bands of `band_rows` rows (clamped to 1…2303; the last band may be
/// shorter), each a complete command. The job is [`RASTER_START`], the bands in order, then
/// [`raster_finish`]; [`encode_raster`] is exactly that concatenation.
pub fn raster_bands(image: &RasterImage, band_rows: u32) -> impl Iterator<Item = Vec<u8>> + '_ {
    let band_rows = band_rows.clamp(1, MAX_BAND_ROWS);
    let bytes_per_row = u16::try_from(image.bytes_per_row()).unwrap_or(u16::MAX);
    (0..image.height())
        .step_by(usize::try_from(band_rows).unwrap_or(1))
        .map(move |first| {
            let rows = band_rows.min(image.height() - first);
            let data = image.rows(first, rows);
            let mut band = Vec::with_capacity(8 + data.len());
            escpos_codes::raster_band_header(
                bytes_per_row,
                u16::try_from(rows).unwrap_or(u16::MAX),
                &mut band,
            );
            band.extend_from_slice(data);
            band
        })
}

/// The whole raster job: ESC @, the bands, the feed and the cut.
pub fn encode_raster(image: &RasterImage, band_rows: u32) -> Vec<u8> {
    let mut out = RASTER_START.to_vec();
    for band in raster_bands(image, band_rows) {
        out.extend_from_slice(&band);
    }
    out.extend_from_slice(&raster_finish());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn striped(width: u32, height: u32) -> RasterImage {
        let mut image = RasterImage::new(width, height);
        for y in (0..height).step_by(2) {
            image.fill(0, i64::from(y), width, 1);
        }
        image
    }

    #[test]
    fn bands_carry_every_row_once_in_order() {
        let image = striped(384, 50);
        let bands: Vec<Vec<u8>> = raster_bands(&image, 24).collect();
        assert_eq!(bands.len(), 3);
        assert_eq!(bands[0][..8], [0x1D, 0x76, 0x30, 0, 48, 0, 24, 0]);
        assert_eq!(bands[2][..8], [0x1D, 0x76, 0x30, 0, 48, 0, 2, 0]);
        let rows: Vec<u8> = bands.iter().flat_map(|b| b[8..].to_vec()).collect();
        assert_eq!(rows, image.rows(0, 50));
    }

    #[test]
    fn the_job_is_init_bands_feed_and_cut() {
        let image = striped(576, 10);
        let job = encode_raster(&image, 24);
        assert_eq!(job[..2], [0x1B, 0x40]);
        assert_eq!(job[2..10], [0x1D, 0x76, 0x30, 0, 72, 0, 10, 0]);
        assert_eq!(job.len(), 2 + 8 + 72 * 10 + 7);
        assert_eq!(job[job.len() - 7..], [0x1B, 0x64, 3, 0x1D, 0x56, 66, 0]);
    }

    #[test]
    fn a_band_height_of_zero_means_one_row() {
        let image = striped(384, 3);
        assert_eq!(raster_bands(&image, 0).count(), 3);
    }
}
