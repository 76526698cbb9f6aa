//! What the printer did with the bytes it was sent ([`Event`] and the parts it is made of), and
//! why a byte stream is not what a kiosk should send ([`DecodeError`]).

use super::GLYPH_HEIGHT_DOTS;

/// Justification selected with `ESC a n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Align {
    #[default]
    Left,
    Center,
    Right,
}

/// Line spacing selected with `ESC 2` (the printer's default) or `ESC 3 n` (n dots).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LineSpacing {
    #[default]
    Default,
    Dots(u8),
}

/// A run of characters printed with the same size and weight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextSpan {
    pub text: String,
    pub width_mul: u8,
    pub height_mul: u8,
    pub bold: bool,
}

/// One printed line of text, ended by LF (or printed by `ESC d` / `ESC J`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextLine {
    /// Every character of the line, untrimmed.
    pub text: String,
    /// The largest width multiplier in the line (`GS !`): what makes the line wide.
    pub width_mul: u8,
    /// The largest height multiplier in the line (`GS !`): what makes the line tall.
    pub height_mul: u8,
    /// True when every character of the line is bold (`ESC E`).
    pub bold: bool,
    /// The justification in force when the line's first character arrived; as on Epson
    /// printers, `ESC a` sent in the middle of a line applies from the next line on.
    pub align: Align,
    pub line_spacing: LineSpacing,
    /// How many dots across the line prints: 12 per single-byte character and 24 per
    /// double-byte one, times its width multiplier. A line wider than the paper (384 dots on
    /// 58 mm, 576 on 80 mm) would be wrapped by the printer where the kiosk did not mean it.
    pub width_dots: usize,
    /// The line split where size or weight changes; empty for a blank line.
    pub spans: Vec<TextSpan>,
}

impl TextLine {
    /// How tall the line prints, in dots (24 per height step).
    pub fn height_dots(&self) -> usize {
        GLYPH_HEIGHT_DOTS * usize::from(self.height_mul)
    }
}

/// Paper fed without printing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feed {
    /// `ESC d n`: n lines.
    Lines(u8),
    /// `ESC J n`: n dots (vertical motion units).
    Dots(u8),
}

/// `GS V`: a paper cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cut {
    pub partial: bool,
    /// For `GS V 65/66 n`: the n extra dots fed before cutting; 0 for `GS V 0/1/48/49`.
    pub extra_feed_dots: u8,
}

/// QR code error-correction level (`GS ( k` function 69).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QrErrorCorrection {
    /// Epson's default when function 69 is not sent.
    #[default]
    L,
    M,
    Q,
    H,
}

/// A QR code printed with `GS ( k` function 81 from data stored with function 80.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Qr {
    pub data: Vec<u8>,
    /// True only when Model 2 was chosen explicitly (function 65, n1 = 50) since the last
    /// `ESC @`. Printers differ in their default model, which is why the kiosk must choose.
    pub model2: bool,
    /// Module size in dots (function 67); 3, Epson's default, when not sent.
    pub module_size: u8,
    pub ecc: QrErrorCorrection,
}

impl Qr {
    /// The stored data as text, when it is UTF-8 (a tracking URL is).
    pub fn data_text(&self) -> Option<&str> {
        std::str::from_utf8(&self.data).ok()
    }
}

/// A 1-bit raster image reassembled from consecutive `GS v 0` bands of the same width and
/// left margin.
#[derive(Clone, PartialEq, Eq)]
pub struct Image {
    /// Dots from the paper's left edge to the image (`GS L`).
    pub left: usize,
    /// Dots across: the band's byte width × 8.
    pub width: usize,
    /// Dots down: the sum of the bands' heights.
    pub height: usize,
    /// Row-major, `true` = a black dot.
    pub pixels: Vec<bool>,
}

impl Image {
    /// Whether the dot at column `x`, row `y` is black; `false` outside the image.
    pub fn is_black(&self, x: usize, y: usize) -> bool {
        x < self.width && y < self.height && self.pixels[y * self.width + x]
    }

    /// Row `y`, left to right.
    pub fn row(&self, y: usize) -> &[bool] {
        &self.pixels[y * self.width..(y + 1) * self.width]
    }

    pub fn black_dots(&self) -> usize {
        self.pixels.iter().filter(|&&black| black).count()
    }

    /// The texts of the QR codes drawn in the image, decoded with `rqrr`.
    pub fn qr_texts(&self) -> Vec<String> {
        let mut prepared =
            rqrr::PreparedImage::prepare_from_greyscale(self.width, self.height, |x, y| {
                if self.is_black(x, y) { 0 } else { 255 }
            });
        prepared
            .detect_grids()
            .into_iter()
            .filter_map(|grid| grid.decode().ok().map(|(_, text)| text))
            .collect()
    }

    /// The image as text, `#` for black, for test failure messages.
    pub fn ascii_art(&self) -> String {
        let mut art = String::with_capacity((self.width + 1) * self.height);
        for y in 0..self.height {
            art.extend(
                self.row(y)
                    .iter()
                    .map(|&black| if black { '#' } else { '.' }),
            );
            art.push('\n');
        }
        art
    }
}

impl std::fmt::Debug for Image {
    // Thousands of booleans help nobody reading a failed assertion.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Image {{ left: {}, width: {}, height: {}, black_dots: {} }}",
            self.left,
            self.width,
            self.height,
            self.black_dots()
        )
    }
}

/// What the printer did with the bytes it was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// `ESC @`: everything back to the power-on state (Chinese mode off, normal size, left).
    Init,
    TextLine(TextLine),
    Feed(Feed),
    Qr(Qr),
    Image(Image),
    Cut(Cut),
    /// `DLE EOT n`, n = 1–4: a real-time status request (answered by the live emulator).
    StatusRequest(u8),
}

impl Event {
    /// Whether the event puts something on paper or moves it (what makes a printout).
    pub fn marks_paper(&self) -> bool {
        matches!(
            self,
            Event::TextLine(_) | Event::Feed(_) | Event::Qr(_) | Event::Image(_)
        )
    }
}

/// Why a byte stream is not what a kiosk should send. Offsets count from the first byte the
/// decoder was given (for the live emulator: the first byte its print engine took from the
/// receive buffer, which differs from [`PrinterEmulator::raw_bytes`] once bytes were lost).
///
/// [`PrinterEmulator::raw_bytes`]: super::PrinterEmulator::raw_bytes
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("byte {offset}: unknown command {bytes:02X?}")]
    UnknownCommand { offset: usize, bytes: Vec<u8> },
    #[error("byte {offset}: {command}: {detail}")]
    BadParameter {
        offset: usize,
        command: &'static str,
        detail: String,
    },
    #[error("byte {offset}: text bytes {bytes:02X?} {reason}")]
    BadText {
        offset: usize,
        bytes: Vec<u8>,
        reason: &'static str,
    },
    #[error(
        "byte {offset}: {command} arrived with unprinted text {pending_text:?} in the line; \
         a printer would not execute it there, so end the line with LF first"
    )]
    NotAtLineStart {
        offset: usize,
        command: &'static str,
        pending_text: String,
    },
    #[error("byte {offset}: the stream ends inside {command}")]
    Truncated {
        offset: usize,
        command: &'static str,
    },
    #[error("byte {offset}: text {text:?} is never ended by LF, so a printer would not print it")]
    UnterminatedLine { offset: usize, text: String },
}

impl DecodeError {
    pub fn offset(&self) -> usize {
        match self {
            DecodeError::UnknownCommand { offset, .. }
            | DecodeError::BadParameter { offset, .. }
            | DecodeError::BadText { offset, .. }
            | DecodeError::NotAtLineStart { offset, .. }
            | DecodeError::Truncated { offset, .. }
            | DecodeError::UnterminatedLine { offset, .. } => *offset,
        }
    }
}
