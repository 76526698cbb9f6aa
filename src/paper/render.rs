//! Drawing a document into a 1-bit image one paper width wide, on the same 12/24-dot grid the
//! printer's own fonts use, so a receipt wraps and reads the same in both modes.

use qrcode::{EcLevel, QrCode};

use super::PaperError;
use super::document::{Align, Block, Document, TextSize};
use super::glyphs::{CELL_HEIGHT_DOTS, Cell, cell_width, draw_char};
use super::raster_image::RasterImage;

/// Dots between lines of text: with the 24-dot cell this is the printers' default 30-dot
/// (3.75 mm) line pitch, so both modes print about the same length.
pub const LINE_GAP_DOTS: u32 = 6;
/// Rows of a separator: 5 white, the rule, 5 white. Well under a text line: it parts sections
/// without costing a line of paper (a 30-row line is 1.4 KB of raster data at 58 mm).
const SEPARATOR_ROWS: u32 = 12;
/// A 2-dot rule: a 1-dot line fades on thermal paper.
const RULE_DOTS: u32 = 2;
/// Dots of a dashed "cut here" rule's dash and of its gap: 1 mm each, plainly dashed and
/// plainly not a separator.
const DASH_DOTS: u32 = 8;
/// Dots per QR module: 4 dots (0.5 mm) is the design's minimum and what a phone reads well;
/// every extra dot adds ~40 rows (about a kilobyte) to a receipt that must stay under 20 KB.
pub const RASTER_QR_MODULE_DOTS: u32 = 4;
/// White modules around a QR code: the 4 the QR standard requires for Model 2.
pub const QR_QUIET_MODULES: u32 = 4;

/// Rows of one line of text at `size`.
fn line_rows(size: TextSize) -> u32 {
    CELL_HEIGHT_DOTS * u32::from(size.height_factor()) + LINE_GAP_DOTS
}

/// A block made ready to draw, with the rows it takes.
enum Laid {
    Lines {
        lines: Vec<String>,
        size: TextSize,
        bold: bool,
        align: Align,
    },
    Rule {
        dashed: bool,
    },
    Qr(QrCode),
    Blank(u32),
}

impl Laid {
    fn rows(&self) -> u32 {
        match self {
            Laid::Lines { lines, size, .. } => {
                u32::try_from(lines.len()).unwrap_or(u32::MAX) * line_rows(*size)
            }
            Laid::Rule { .. } => SEPARATOR_ROWS,
            Laid::Qr(code) => qr_side_dots(code),
            Laid::Blank(rows) => *rows,
        }
    }
}

fn qr_side_dots(code: &QrCode) -> u32 {
    let modules = u32::try_from(code.width()).unwrap_or(u32::MAX);
    (modules + 2 * QR_QUIET_MODULES) * RASTER_QR_MODULE_DOTS
}

/// A document laid out for drawing: its lines wrapped, its QR codes made and checked, so every
/// error shows before a dot is drawn and the drawing itself cannot fail. Feeds and cuts after
/// the last printed block are left to the raster encoder, which ends every image with a feed
/// and a cut; a cut in the middle of a document is drawn as a dashed rule.
pub struct RasterLayout {
    width_dots: u32,
    blocks: Vec<Laid>,
}

impl RasterLayout {
    pub fn new(doc: &Document) -> Result<RasterLayout, PaperError> {
        let last_printed = doc
            .blocks
            .iter()
            .rposition(|b| matches!(b, Block::Text(_) | Block::Separator | Block::Qr(_)));
        let printed = last_printed.map_or(&doc.blocks[..0], |last| &doc.blocks[..=last]);
        let mut blocks = Vec::with_capacity(printed.len());
        for block in printed {
            blocks.push(lay_out(block, doc.width_dots)?);
        }
        Ok(RasterLayout {
            width_dots: doc.width_dots,
            blocks,
        })
    }

    pub fn width_dots(&self) -> u32 {
        self.width_dots
    }

    /// Rows of the whole image.
    pub fn height(&self) -> u32 {
        self.blocks.iter().map(Laid::rows).sum()
    }

    /// The image block by block, top to bottom, each strip drawn only when asked for: the
    /// printer gets the first band while the rest is still to be drawn. Stacked, the strips
    /// are [`RasterLayout::render`]'s image row for row.
    pub fn strips(&self) -> impl Iterator<Item = RasterImage> + '_ {
        self.blocks.iter().map(|block| {
            let mut strip = RasterImage::new(self.width_dots, block.rows());
            draw(&mut strip, block, 0);
            strip
        })
    }

    /// The whole image at once (the PNG preview, the tests).
    pub fn render(&self) -> RasterImage {
        let mut image = RasterImage::new(self.width_dots, self.height());
        let mut top = 0;
        for block in &self.blocks {
            draw(&mut image, block, i64::from(top));
            top += block.rows();
        }
        image
    }
}

/// The document as a 1-bit image exactly `width_dots` wide.
pub fn render_raster(doc: &Document) -> Result<RasterImage, PaperError> {
    Ok(RasterLayout::new(doc)?.render())
}

fn lay_out(block: &Block, width_dots: u32) -> Result<Laid, PaperError> {
    Ok(match block {
        Block::Text(paragraph) => Laid::Lines {
            lines: paragraph.lines(width_dots),
            size: paragraph.style.size,
            bold: paragraph.style.bold,
            align: paragraph.style.align,
        },
        Block::Separator => Laid::Rule { dashed: false },
        Block::Cut => Laid::Rule { dashed: true },
        Block::Feed(lines) => Laid::Blank(u32::from(*lines) * line_rows(TextSize::Normal)),
        Block::Qr(data) => {
            let bytes = data.checked_bytes()?;
            let code = QrCode::with_error_correction_level(bytes, EcLevel::M)?;
            let needed = qr_side_dots(&code);
            if needed > width_dots {
                return Err(PaperError::QrTooWide {
                    needed,
                    width: width_dots,
                });
            }
            Laid::Qr(code)
        }
    })
}

fn draw(image: &mut RasterImage, block: &Laid, top: i64) {
    let width = i64::from(image.width());
    match block {
        Laid::Lines {
            lines,
            size,
            bold,
            align,
        } => {
            let mut line_top = top;
            for line in lines {
                let line_width: i64 = line.chars().map(|c| i64::from(cell_width(c, *size))).sum();
                let mut x = match align {
                    Align::Left => 0,
                    Align::Centre => (width - line_width).max(0) / 2,
                    Align::Right => (width - line_width).max(0),
                };
                for c in line.chars() {
                    draw_char(image, c, Cell { x, top: line_top }, *size, *bold);
                    x += i64::from(cell_width(c, *size));
                }
                line_top += i64::from(line_rows(*size));
            }
        }
        Laid::Rule { dashed } => {
            let y = top + i64::from((SEPARATOR_ROWS - RULE_DOTS) / 2);
            if *dashed {
                let mut x = 0;
                while x < width {
                    image.fill(x, y, DASH_DOTS, RULE_DOTS);
                    x += i64::from(2 * DASH_DOTS);
                }
            } else {
                image.fill(0, y, image.width(), RULE_DOTS);
            }
        }
        Laid::Qr(code) => {
            let side = i64::from(qr_side_dots(code));
            let quiet = i64::from(QR_QUIET_MODULES * RASTER_QR_MODULE_DOTS);
            let left = (width - side) / 2 + quiet;
            let module = i64::from(RASTER_QR_MODULE_DOTS);
            let modules = code.width();
            for (index, colour) in code.to_colors().into_iter().enumerate() {
                if colour == qrcode::Color::Dark {
                    let column = i64::try_from(index % modules).unwrap_or(0);
                    let row = i64::try_from(index / modules).unwrap_or(0);
                    image.fill(
                        left + column * module,
                        top + quiet + row * module,
                        RASTER_QR_MODULE_DOTS,
                        RASTER_QR_MODULE_DOTS,
                    );
                }
            }
        }
        Laid::Blank(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paper::Style;

    fn decode_qr(image: &RasterImage) -> Vec<String> {
        let width = usize::try_from(image.width()).unwrap();
        let height = usize::try_from(image.height()).unwrap();
        let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| {
            if image.is_black(x as u32, y as u32) {
                0
            } else {
                255
            }
        });
        prepared
            .detect_grids()
            .into_iter()
            .map(|grid| grid.decode().expect("a readable QR code").1)
            .collect()
    }

    #[test]
    fn the_image_is_exactly_the_paper_width_and_the_lines_tall() {
        let mut doc = Document::new(384);
        doc.text("意见反映回执", Style::NORMAL)
            .text("A1126-001", Style::sized(TextSize::Ticket))
            .separator()
            .feed(1)
            .cut();
        let image = render_raster(&doc).unwrap();
        assert_eq!(image.width(), 384);
        // 30 + 78 + 16; the feed and cut after the last line are the encoder's.
        assert_eq!(image.height(), 30 + 78 + SEPARATOR_ROWS);
    }

    #[test]
    fn body_text_is_24_dots_high_and_the_ticket_number_72() {
        assert_eq!(line_rows(TextSize::Normal) - LINE_GAP_DOTS, 24);
        assert_eq!(line_rows(TextSize::Ticket) - LINE_GAP_DOTS, 72);
        assert_eq!(line_rows(TextSize::TicketNarrow) - LINE_GAP_DOTS, 72);
    }

    #[test]
    fn centred_text_is_centred() {
        let mut doc = Document::new(384);
        doc.text("II", Style::NORMAL.centred());
        let image = render_raster(&doc).unwrap();
        let black: Vec<u32> = (0..384)
            .filter(|&x| (0..30).any(|y| image.is_black(x, y)))
            .collect();
        let (left, right) = (black[0], black[black.len() - 1]);
        assert!(
            (left as i64 - (383 - right) as i64).abs() <= 2,
            "{left} {right}"
        );
    }

    #[test]
    fn a_qr_code_is_drawn_in_modules_a_phone_reads() {
        for width in [384, 576] {
            let mut doc = Document::new(width);
            doc.text("扫码查看办理进度", Style::NORMAL.centred())
                .qr("https://office.example.org/t/A1126-001");
            let image = render_raster(&doc).unwrap();
            assert_eq!(
                decode_qr(&image),
                ["https://office.example.org/t/A1126-001"]
            );
        }
    }

    #[test]
    fn a_qr_code_too_long_for_the_paper_is_refused() {
        let mut doc = Document::new(384);
        doc.qr(&"x".repeat(crate::paper::MAX_QR_BYTES + 1));
        assert!(matches!(
            render_raster(&doc),
            Err(PaperError::QrTooLong { .. })
        ));
    }

    #[test]
    fn the_strips_stacked_are_the_whole_image() {
        let mut doc = Document::new(384);
        doc.text("意见反映回执", Style::NORMAL.centred())
            .separator()
            .qr("https://office.example.org/t/A1126-001")
            .feed(2)
            .text("A1126-001", Style::sized(TextSize::Ticket))
            .cut();
        let layout = RasterLayout::new(&doc).unwrap();
        let whole = layout.render();
        let stacked: Vec<u8> = layout
            .strips()
            .flat_map(|strip| strip.rows(0, strip.height()).to_vec())
            .collect();
        assert_eq!(stacked, whole.rows(0, whole.height()));
        assert_eq!(layout.strips().count(), 5);
    }

    #[test]
    fn text_wider_than_the_paper_is_wrapped_never_clipped() {
        let mut doc = Document::new(384);
        doc.text(&"国".repeat(20), Style::NORMAL);
        let image = render_raster(&doc).unwrap();
        assert_eq!(image.height(), 2 * 30);
        // The 16th character ends at the paper's edge: ink in the last cell.
        assert!((360..384).any(|x| (0..30).any(|y| image.is_black(x, y))));
    }
}
