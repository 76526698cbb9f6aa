//! Drawing one character into the raster image: which bitmap font and whole-number scale it
//! gets at each text size, and where it sits in its cell of the printer's 12/24-dot grid.
//!
//! Fonts are scaled by whole numbers only, so every font pixel becomes a crisp block of dots.
//! Chinese uses WenQuanYi's GB2312 bitmaps (12 px doubled to the printer's 24-dot cell; 16 px
//! tripled at double size), Latin uses Spleen, a bitmap font drawn at exactly 12×24 and 32×64.

use std::convert::Infallible;

use embedded_graphics::Pixel;
use embedded_graphics::pixelcolor::BinaryColor;
use embedded_graphics::prelude::{DrawTarget, OriginDimensions, Point, Size};
use u8g2_fonts::FontRenderer;
use u8g2_fonts::fonts;
use u8g2_fonts::types::{FontColor, VerticalPosition};

use super::document::TextSize;
use super::gbk::SUBSTITUTE;
use super::printable::{COLUMN_DOTS, columns};
use super::raster_image::RasterImage;

/// Dots of a character cell's height at normal size: the printer's 24-dot fonts.
pub const CELL_HEIGHT_DOTS: u32 = 24;

static SPLEEN_12X24: FontRenderer = FontRenderer::new::<fonts::u8g2_font_spleen12x24_mf>();
static SPLEEN_32X64: FontRenderer = FontRenderer::new::<fonts::u8g2_font_spleen32x64_mr>();
static WQY_12: FontRenderer = FontRenderer::new::<fonts::u8g2_font_wqy12_t_gb2312>();
static WQY_16: FontRenderer = FontRenderer::new::<fonts::u8g2_font_wqy16_t_gb2312>();

/// A font at a scale, with the box (in font pixels) that is centred in a character cell.
struct Face {
    font: &'static FontRenderer,
    scale_x: u32,
    scale_y: u32,
    em_width: u32,
    em_height: u32,
    /// Font pixels from the top of the em box down to the baseline (measured from the fonts:
    /// the top of their bounding box).
    baseline: u32,
}

/// Spleen 12×24 at `x`×`y`: its em box is the half-width cell itself.
fn spleen_12x24(x: u32, y: u32) -> Face {
    Face {
        font: &SPLEEN_12X24,
        scale_x: x,
        scale_y: y,
        em_width: 12,
        em_height: 24,
        baseline: 19,
    }
}

/// WenQuanYi 12 px at `x`×`y`: a 12 px ideograph doubled fills a 24-dot cell.
fn wqy_12(x: u32, y: u32) -> Face {
    Face {
        font: &WQY_12,
        scale_x: x,
        scale_y: y,
        em_width: 12,
        em_height: 12,
        baseline: 11,
    }
}

/// The face for ASCII at `size`.
fn half_width_face(size: TextSize) -> Face {
    match size {
        // Spleen drawn at 32×64 is sharper than 12×24 tripled, and still 64 dots high.
        TextSize::Ticket => Face {
            font: &SPLEEN_32X64,
            scale_x: 1,
            scale_y: 1,
            em_width: 32,
            em_height: 64,
            baseline: 52,
        },
        size => spleen_12x24(
            u32::from(size.width_factor()),
            u32::from(size.height_factor()),
        ),
    }
}

/// The face for Chinese (and every other non-ASCII character) at `size`.
fn full_width_face(size: TextSize) -> Face {
    match size {
        // 16 px tripled is exactly the 48-dot cell and shows more strokes than 12 px ×4.
        TextSize::Double => Face {
            font: &WQY_16,
            scale_x: 3,
            scale_y: 3,
            em_width: 16,
            em_height: 16,
            baseline: 14,
        },
        size => wqy_12(
            2 * u32::from(size.width_factor()),
            2 * u32::from(size.height_factor()),
        ),
    }
}

/// Characters the bitmap fonts lack, drawn with a near twin they have.
fn font_lookalike(c: char) -> char {
    match c {
        '—' | '―' | '–' => '－',
        '¥' => '￥',
        c => c,
    }
}

/// Where a glyph goes: the cell's top-left corner, in dots.
#[derive(Debug, Clone, Copy)]
pub struct Cell {
    pub x: i64,
    pub top: i64,
}

/// Width in dots of `c`'s cell at `size`.
pub fn cell_width(c: char, size: TextSize) -> u32 {
    let columns = u32::try_from(columns(c)).unwrap_or(2);
    columns * COLUMN_DOTS * u32::from(size.width_factor())
}

/// Whether some font draws `c` (itself or its near twin) rather than □.
pub fn drawable(c: char) -> bool {
    let has = |font: &FontRenderer, glyph: char| {
        font.get_rendered_dimensions(glyph, Point::zero(), VerticalPosition::Baseline)
            .is_ok()
    };
    c.is_control()
        || [c, font_lookalike(c)]
            .into_iter()
            .any(|glyph| has(&SPLEEN_12X24, glyph) || has(&WQY_12, glyph))
}

/// Draws `c` in its cell. A character no font has is drawn as □, like in text mode.
pub fn draw_char(image: &mut RasterImage, c: char, cell: Cell, size: TextSize, bold: bool) {
    let candidates: Vec<(Face, char)> = if c.is_ascii() {
        vec![(half_width_face(size), c)]
    } else {
        vec![
            (full_width_face(size), c),
            (full_width_face(size), font_lookalike(c)),
            (half_width_face(size), c),
            (full_width_face(size), SUBSTITUTE),
        ]
    };
    let cell_width = i64::from(cell_width(c, size));
    let cell_height = i64::from(CELL_HEIGHT_DOTS * u32::from(size.height_factor()));
    for (face, glyph) in candidates {
        let em_width = i64::from(face.em_width * face.scale_x);
        let em_height = i64::from(face.em_height * face.scale_y);
        let origin = Point::new(
            to_i32(cell.x + (cell_width - em_width) / 2),
            to_i32(
                cell.top + (cell_height - em_height) / 2 + i64::from(face.baseline * face.scale_y),
            ),
        );
        // WenQuanYi 12 px doubled has strokes two dots apart: one more dot would close the
        // gaps of dense characters (答, 餐), so Chinese is only emboldened from triple scale.
        let embolden = bold && (glyph.is_ascii() || face.scale_x >= 3);
        let mut target = ScaledGlyph {
            image: &mut *image,
            origin,
            scale_x: face.scale_x,
            scale_y: face.scale_y,
            embolden: u32::from(embolden),
        };
        // A missing glyph is reported before anything is drawn: then try the next face.
        let drawn = face.font.render(
            glyph,
            Point::zero(),
            VerticalPosition::Baseline,
            FontColor::Transparent(BinaryColor::On),
            &mut target,
        );
        if drawn.is_ok() {
            return;
        }
    }
}

fn to_i32(n: i64) -> i32 {
    i32::try_from(n).unwrap_or(if n < 0 { i32::MIN } else { i32::MAX })
}

/// A draw target that enlarges each font pixel to a `scale_x`×`scale_y` block of dots placed
/// from `origin` (the glyph's baseline start), plus `embolden` dots to the right for bold.
struct ScaledGlyph<'a> {
    image: &'a mut RasterImage,
    origin: Point,
    scale_x: u32,
    scale_y: u32,
    embolden: u32,
}

impl OriginDimensions for ScaledGlyph<'_> {
    fn size(&self) -> Size {
        Size::new(self.image.width(), self.image.height())
    }
}

impl DrawTarget for ScaledGlyph<'_> {
    type Color = BinaryColor;
    type Error = Infallible;

    fn draw_iter<I>(&mut self, pixels: I) -> Result<(), Self::Error>
    where
        I: IntoIterator<Item = Pixel<Self::Color>>,
    {
        for Pixel(point, colour) in pixels {
            if colour.is_on() {
                let x = i64::from(self.origin.x) + i64::from(point.x) * i64::from(self.scale_x);
                let y = i64::from(self.origin.y) + i64::from(point.y) * i64::from(self.scale_y);
                self.image
                    .fill(x, y, self.scale_x + self.embolden, self.scale_y);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rows and columns of black dots drawn for `c` in a cell at the image's top left.
    fn ink(c: char, size: TextSize) -> (u32, u32) {
        let mut image = RasterImage::new(200, 200);
        draw_char(&mut image, c, Cell { x: 0, top: 0 }, size, false);
        let mut rows = (u32::MAX, 0);
        let mut cols = (u32::MAX, 0);
        for y in 0..200 {
            for x in 0..200 {
                if image.is_black(x, y) {
                    rows = (rows.0.min(y), rows.1.max(y));
                    cols = (cols.0.min(x), cols.1.max(x));
                }
            }
        }
        assert!(rows.0 <= rows.1, "{c} drew nothing");
        (rows.1 - rows.0 + 1, cols.1 - cols.0 + 1)
    }

    #[test]
    fn a_chinese_character_fills_its_24_dot_cell() {
        let (height, width) = ink('幢', TextSize::Normal);
        assert!((20..=24).contains(&height), "{height}");
        assert!((20..=24).contains(&width), "{width}");
    }

    #[test]
    fn double_size_chinese_fills_48_dots() {
        let (height, _) = ink('幢', TextSize::Double);
        assert!((44..=48).contains(&height), "{height}");
    }

    #[test]
    fn ticket_digits_are_drawn_from_the_64_dot_font() {
        let (height, width) = ink('8', TextSize::Ticket);
        assert!(height >= 40, "{height}");
        assert!(width <= 36, "{width}");
    }

    #[test]
    fn a_character_no_font_has_is_drawn_as_a_square() {
        let mut missing = RasterImage::new(48, 48);
        draw_char(
            &mut missing,
            '😀',
            Cell { x: 0, top: 0 },
            TextSize::Normal,
            false,
        );
        let mut square = RasterImage::new(48, 48);
        draw_char(
            &mut square,
            '□',
            Cell { x: 0, top: 0 },
            TextSize::Normal,
            false,
        );
        assert_eq!(missing, square);
        assert!(square.black_dots() > 0);
    }

    #[test]
    fn the_em_dash_is_drawn() {
        assert!(ink('—', TextSize::Normal).1 >= 12);
    }

    #[test]
    fn bold_adds_a_dot_to_every_stroke() {
        let mut regular = RasterImage::new(48, 48);
        draw_char(
            &mut regular,
            'H',
            Cell { x: 0, top: 0 },
            TextSize::Normal,
            false,
        );
        let mut bold = RasterImage::new(48, 48);
        draw_char(
            &mut bold,
            'H',
            Cell { x: 0, top: 0 },
            TextSize::Normal,
            true,
        );
        assert!(bold.black_dots() > regular.black_dots());
    }
}
