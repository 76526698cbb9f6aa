//! The 1-bit picture of a document exactly one paper width wide: what raster mode sends and
//! what the PNG preview shows, dot for dot.

use std::convert::Infallible;

use embedded_graphics::Pixel;
use embedded_graphics::pixelcolor::BinaryColor;
use embedded_graphics::prelude::{DrawTarget, OriginDimensions, Size};

/// Dots packed eight to a byte, leftmost dot in the most significant bit, 1 = black: the
/// layout GS v 0 takes, so bands are sent without conversion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RasterImage {
    width: u32,
    height: u32,
    bits: Vec<u8>,
}

impl RasterImage {
    /// An all-white image.
    pub fn new(width: u32, height: u32) -> RasterImage {
        let bytes = bytes_per_row(width) * to_usize(height);
        RasterImage {
            width,
            height,
            bits: vec![0; bytes],
        }
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    /// Bytes of one row: the width in dots rounded up to whole bytes.
    pub fn bytes_per_row(&self) -> usize {
        bytes_per_row(self.width)
    }

    /// Row `y`, packed; empty when `y` is below the image.
    pub fn row(&self, y: u32) -> &[u8] {
        let per_row = self.bytes_per_row();
        let start = to_usize(y) * per_row;
        self.bits.get(start..start + per_row).unwrap_or(&[])
    }

    /// Rows `first..first + count`, packed and contiguous.
    pub fn rows(&self, first: u32, count: u32) -> &[u8] {
        let per_row = self.bytes_per_row();
        let start = (to_usize(first) * per_row).min(self.bits.len());
        let end = (start + to_usize(count) * per_row).min(self.bits.len());
        &self.bits[start..end]
    }

    pub fn is_black(&self, x: u32, y: u32) -> bool {
        if x >= self.width || y >= self.height {
            return false;
        }
        let byte = self.row(y)[to_usize(x / 8)];
        byte & (0x80 >> (x % 8)) != 0
    }

    /// Blackens the rectangle, clipped to the image.
    pub fn fill(&mut self, x: i64, y: i64, width: u32, height: u32) {
        let x0 = x.clamp(0, i64::from(self.width));
        let y0 = y.clamp(0, i64::from(self.height));
        let x1 = (x + i64::from(width)).clamp(0, i64::from(self.width));
        let y1 = (y + i64::from(height)).clamp(0, i64::from(self.height));
        let per_row = self.bytes_per_row();
        for row in y0..y1 {
            let row_start = to_usize_i64(row) * per_row;
            for column in x0..x1 {
                let column = to_usize_i64(column);
                self.bits[row_start + column / 8] |= 0x80 >> (column % 8);
            }
        }
    }

    /// The number of black dots: for tests that check something was drawn.
    pub fn black_dots(&self) -> u64 {
        self.bits.iter().map(|b| u64::from(b.count_ones())).sum()
    }
}

fn bytes_per_row(width: u32) -> usize {
    to_usize(width.div_ceil(8))
}

fn to_usize(n: u32) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

fn to_usize_i64(n: i64) -> usize {
    usize::try_from(n).unwrap_or(0)
}

impl OriginDimensions for RasterImage {
    fn size(&self) -> Size {
        Size::new(self.width, self.height)
    }
}

impl DrawTarget for RasterImage {
    type Color = BinaryColor;
    type Error = Infallible;

    fn draw_iter<I>(&mut self, pixels: I) -> Result<(), Self::Error>
    where
        I: IntoIterator<Item = Pixel<Self::Color>>,
    {
        for Pixel(point, colour) in pixels {
            if colour.is_on() {
                self.fill(i64::from(point.x), i64::from(point.y), 1, 1);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dots_are_packed_msb_first_one_is_black() {
        let mut image = RasterImage::new(16, 2);
        image.fill(0, 0, 1, 1);
        image.fill(9, 1, 2, 1);
        assert_eq!(image.row(0), [0x80, 0x00]);
        assert_eq!(image.row(1), [0x00, 0x60]);
        assert!(image.is_black(10, 1));
        assert!(!image.is_black(11, 1));
        assert_eq!(image.black_dots(), 3);
    }

    #[test]
    fn drawing_outside_the_image_is_clipped() {
        let mut image = RasterImage::new(8, 1);
        image.fill(-3, -3, 5, 5);
        image.fill(7, 0, 10, 10);
        assert_eq!(image.row(0), [0b1100_0001]);
        assert_eq!(image.row(5), [] as [u8; 0]);
    }
}
