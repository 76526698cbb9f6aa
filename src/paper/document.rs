//! The document model every printed thing is made of (receipts, test pages, the staff summary):
//! paragraphs with a size, weight and alignment, separators, a QR code, feeds and a cut, for
//! one paper width. Both encoders and the PNG preview read the same model.

use super::printable::{COLUMN_DOTS, printable, text_columns};
use super::wrap::wrap;

/// Something printed on one paper width, top to bottom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// Printable width: 384 dots on 58 mm paper, 576 on 80 mm.
    pub width_dots: u32,
    pub blocks: Vec<Block>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// Text wrapped to the paper width.
    Text(Paragraph),
    /// A rule across the paper between sections.
    Separator,
    /// A QR code, centred.
    Qr(QrData),
    /// This many empty lines of normal height.
    Feed(u8),
    /// The end of a slip: fed past the cutter (or tear bar) and cut.
    Cut,
}

/// A paragraph of cleaned text with its style. The text can only be set through
/// [`Paragraph::new`], which removes every control and zero-width character.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paragraph {
    text: String,
    pub style: Style,
}

impl Paragraph {
    pub fn new(text: &str, style: Style) -> Paragraph {
        Paragraph {
            text: printable(text),
            style,
        }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The lines this paragraph prints as on paper `width_dots` wide.
    pub fn lines(&self, width_dots: u32) -> Vec<String> {
        wrap(&self.text, columns_for(width_dots, self.style.size))
    }
}

/// The data of a QR code, cleaned like every other text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrData(String);

impl QrData {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The bytes to encode, refused when a printed code could not hold them.
    pub fn checked_bytes(&self) -> Result<&[u8], super::PaperError> {
        let bytes = self.0.as_bytes();
        if bytes.len() > super::MAX_QR_BYTES {
            return Err(super::PaperError::QrTooLong {
                bytes: bytes.len(),
                max: super::MAX_QR_BYTES,
            });
        }
        Ok(bytes)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Style {
    pub size: TextSize,
    pub bold: bool,
    pub align: Align,
}

impl Style {
    pub const NORMAL: Style = Style {
        size: TextSize::Normal,
        bold: false,
        align: Align::Left,
    };

    pub fn sized(size: TextSize) -> Style {
        Style {
            size,
            ..Style::NORMAL
        }
    }

    pub fn bold(self) -> Style {
        Style { bold: true, ..self }
    }

    pub fn centred(self) -> Style {
        Style {
            align: Align::Centre,
            ..self
        }
    }

    pub fn right(self) -> Style {
        Style {
            align: Align::Right,
            ..self
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Align {
    #[default]
    Left,
    Centre,
    Right,
}

/// Character sizes, as multiples of the printer's 12×24 / 24×24 dot font (GS ! n).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TextSize {
    /// 24 dots high: body text (the design's minimum for receipts).
    #[default]
    Normal,
    /// 48 dots high, normal width: headings that must stay on one line.
    DoubleHeight,
    /// 48 × 48 dots a Chinese character.
    Double,
    /// 72 dots high, triple width: the ticket number (the design asks for at least 64).
    Ticket,
    /// 72 dots high, double width: a ticket number too long for triple width.
    TicketNarrow,
}

impl TextSize {
    pub const ALL: [TextSize; 5] = [
        TextSize::Normal,
        TextSize::DoubleHeight,
        TextSize::Double,
        TextSize::Ticket,
        TextSize::TicketNarrow,
    ];

    /// How many times wider than normal.
    pub fn width_factor(self) -> u8 {
        match self {
            TextSize::Normal | TextSize::DoubleHeight => 1,
            TextSize::Double | TextSize::TicketNarrow => 2,
            TextSize::Ticket => 3,
        }
    }

    /// How many times taller than normal.
    pub fn height_factor(self) -> u8 {
        match self {
            TextSize::Normal => 1,
            TextSize::DoubleHeight | TextSize::Double => 2,
            TextSize::Ticket | TextSize::TicketNarrow => 3,
        }
    }
}

/// Columns of a line at `size` on paper `width_dots` wide: 32 at 384 dots, 48 at 576.
pub fn columns_for(width_dots: u32, size: TextSize) -> usize {
    let column = COLUMN_DOTS * u32::from(size.width_factor());
    usize::try_from(width_dots / column).unwrap_or(usize::MAX)
}

impl Document {
    pub fn new(width_dots: u32) -> Document {
        Document {
            width_dots,
            blocks: Vec::new(),
        }
    }

    pub fn text(&mut self, text: &str, style: Style) -> &mut Document {
        self.blocks.push(Block::Text(Paragraph::new(text, style)));
        self
    }

    pub fn separator(&mut self) -> &mut Document {
        self.blocks.push(Block::Separator);
        self
    }

    /// A QR code of `data`; nothing when the cleaned data is empty.
    pub fn qr(&mut self, data: &str) -> &mut Document {
        let data = printable(data);
        if !data.is_empty() {
            self.blocks.push(Block::Qr(QrData(data)));
        }
        self
    }

    pub fn feed(&mut self, lines: u8) -> &mut Document {
        self.blocks.push(Block::Feed(lines));
        self
    }

    pub fn cut(&mut self) -> &mut Document {
        self.blocks.push(Block::Cut);
        self
    }

    /// Columns of a line at `size` on this document's paper.
    pub fn columns(&self, size: TextSize) -> usize {
        columns_for(self.width_dots, size)
    }

    /// Whether `text` prints on one line at `size`.
    pub fn fits_on_one_line(&self, text: &str, size: TextSize) -> bool {
        text_columns(&printable(text)) <= self.columns(size)
    }

    /// Every printed line's text, top to bottom: what a reader of the paper sees, without
    /// the QR codes. For tests and the text preview.
    pub fn plain_lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for block in &self.blocks {
            if let Block::Text(paragraph) = block {
                lines.extend(paragraph.lines(self.width_dots));
            }
        }
        lines
    }

    /// The document as a terminal shows it: its lines, with separators drawn as dashes.
    pub fn terminal_lines(&self) -> Vec<String> {
        let rule = "-".repeat(self.columns(TextSize::Normal));
        let mut lines = Vec::new();
        for block in &self.blocks {
            match block {
                Block::Text(paragraph) => lines.extend(paragraph.lines(self.width_dots)),
                Block::Separator => lines.push(rule.clone()),
                Block::Qr(_) | Block::Feed(_) | Block::Cut => {}
            }
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paper_width_and_size_give_the_columns() {
        let narrow = Document::new(384);
        let wide = Document::new(576);
        assert_eq!(narrow.columns(TextSize::Normal), 32);
        assert_eq!(narrow.columns(TextSize::DoubleHeight), 32);
        assert_eq!(narrow.columns(TextSize::Double), 16);
        assert_eq!(narrow.columns(TextSize::Ticket), 10);
        assert_eq!(wide.columns(TextSize::Normal), 48);
        assert_eq!(wide.columns(TextSize::Ticket), 16);
    }

    #[test]
    fn text_entering_the_model_loses_its_control_bytes() {
        let mut doc = Document::new(384);
        doc.text("A\u{1b}@B\u{1d}V\u{1c}.\u{10}\u{4}\u{1}C", Style::NORMAL)
            .qr("https://x.example/\u{1b}t/1");
        assert_eq!(doc.plain_lines(), ["A@BV.C"]);
        assert_eq!(
            doc.blocks[1],
            Block::Qr(QrData("https://x.example/t/1".into()))
        );
    }

    #[test]
    fn an_empty_qr_code_is_left_out() {
        let mut doc = Document::new(384);
        doc.qr("\u{1b}");
        assert!(doc.blocks.is_empty());
    }

    #[test]
    fn a_ticket_number_fits_at_triple_width_up_to_ten_characters_on_58mm() {
        let doc = Document::new(384);
        assert!(doc.fits_on_one_line("A1126-042", TextSize::Ticket));
        assert!(doc.fits_on_one_line("B1126-1234", TextSize::Ticket));
        assert!(!doc.fits_on_one_line("ABC1126-1234", TextSize::Ticket));
        assert!(doc.fits_on_one_line("ABC1126-1234", TextSize::TicketNarrow));
    }
}
