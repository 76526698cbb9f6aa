//! A serial ESC/POS receipt printer for tests, living on the far end of a pseudo-terminal pair.
//!
//! This file owns the printer the tests print to instead of a real thermal printer:
//!
//! * [`decode`] and [`Decoder`] turn the bytes a kiosk sends into [`Event`]s. They understand
//!   exactly the commands a kiosk receipt is made of and reject everything else with a
//!   [`DecodeError`] that names the byte offset: an unexpected byte on the wire is a bug.
//! * [`Printout`] groups events into receipts, one per cut.
//! * [`PrinterEmulator`] runs on its own thread on the master side of `TTYPort::pair()`, where a
//!   real printer would sit at the other end of the cable: it answers `DLE EOT n` from a
//!   settable [`Fault`], sends XOFF/XON when busy, has a small receive buffer that overflows
//!   when the host ignores XOFF, and can be unplugged and plugged in again.
//!
//! What a Linux pty does and does not emulate (checked on kernel 6.18):
//!
//! * XON/XOFF works: with `IXON` set on the host's side (serialport's `FlowControl::Software`),
//!   an XOFF (0x13) written by the emulator stops the host's output — `write()` blocks, so
//!   serialport's `write` times out — and XON (0x11) restarts it; the host's reader never sees
//!   the two bytes. Without `IXON` they arrive in the host's input like any other byte.
//! * The emulator learns whether the host really stopped from the pty's packet mode
//!   (`TIOCPKT`): the kernel reports `TIOCPKT_STOP`/`TIOCPKT_START` to the master when the
//!   host's output is stopped/restarted. A pty has no wire, so bytes the host handed to the
//!   kernel before the XOFF sit in the pty buffer (up to 16 KiB) exactly like bytes in a real
//!   UART's transmit queue; the emulator leaves them there while the host is stopped, as a real
//!   host would not transmit them. A host that ignores XOFF is never reported stopped, so its
//!   bytes keep arriving and overflow the receive buffer as they would on a real line.
//! * Unplugging works by closing the master: the host's reads and writes then fail (`poll`
//!   reports `POLLHUP`; serialport maps it to `BrokenPipe`) and the `/dev/pts/N` node vanishes,
//!   so it can never be opened again. A replugged adapter therefore gets a new pty, and
//!   [`PrinterEmulator::plug_in_at`] keeps a stable path in front of it (a symlink, like the
//!   udev rule's `/dev/receipt-printer`) that disappears while unplugged.
//! * Baud rates, parity and RTS/CTS are not emulated: a pty moves bytes as fast as both ends
//!   read and write ([`EmulatorOptions::line_rate_baud`] can slow the receiving side down).

// Each test binary that includes `tests/support` uses a different part of this module.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, RawFd};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serialport::{SerialPort, TTYPort};

const LF: u8 = 0x0A;
const ESC: u8 = 0x1B;
const GS: u8 = 0x1D;
const FS: u8 = 0x1C;
const DLE: u8 = 0x10;
const EOT: u8 = 0x04;
/// DC1: "resume sending", sent by the printer.
pub const XON: u8 = 0x11;
/// DC3: "stop sending", sent by the printer.
pub const XOFF: u8 = 0x13;

/// Printer dots a Font A character (12 × 24) takes across at normal width.
pub const SINGLE_BYTE_GLYPH_DOTS: usize = 12;
/// Printer dots a Chinese-mode double-byte character (24 × 24) takes across at normal width.
pub const DOUBLE_BYTE_GLYPH_DOTS: usize = 24;
/// Printer dots a text line is tall at height multiplier 1.
pub const GLYPH_HEIGHT_DOTS: usize = 24;

// ---------------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------------

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

/// A 1-bit raster image reassembled from consecutive `GS v 0` bands of the same width.
#[derive(Clone, PartialEq, Eq)]
pub struct Image {
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
            "Image {{ width: {}, height: {}, black_dots: {} }}",
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

// ---------------------------------------------------------------------------------------------
// Decoder
// ---------------------------------------------------------------------------------------------

/// Decodes a complete byte stream, stopping at the first error.
pub fn decode(bytes: &[u8]) -> Result<Vec<Event>, DecodeError> {
    let mut decoder = Decoder::new();
    decoder
        .push(bytes)
        .into_iter()
        .chain(decoder.finish())
        .collect()
}

/// The printer's settings that commands change and `ESC @` resets.
#[derive(Debug, Clone, Default)]
struct PrintSettings {
    chinese_mode: bool,
    width_mul: u8,
    height_mul: u8,
    bold: bool,
    align: Align,
    line_spacing: LineSpacing,
    /// `n1` of the last `GS ( k` function 65.
    qr_model: Option<u8>,
    qr_module_size: Option<u8>,
    qr_ecc: QrErrorCorrection,
    qr_data: Option<Vec<u8>>,
}

impl PrintSettings {
    fn power_on() -> PrintSettings {
        PrintSettings {
            width_mul: 1,
            height_mul: 1,
            ..PrintSettings::default()
        }
    }
}

#[derive(Debug, Clone)]
struct LineInProgress {
    start_offset: usize,
    align: Align,
    line_spacing: LineSpacing,
    spans: Vec<TextSpan>,
    width_dots: usize,
}

impl LineInProgress {
    fn text(&self) -> String {
        self.spans.iter().map(|span| span.text.as_str()).collect()
    }
}

#[derive(Debug, Clone)]
struct ImageInProgress {
    width_bytes: usize,
    height: usize,
    packed_rows: Vec<u8>,
}

impl ImageInProgress {
    fn to_image(&self) -> Image {
        let width = self.width_bytes * 8;
        let pixels = self
            .packed_rows
            .iter()
            .flat_map(|&byte| (0..8).map(move |bit| byte & (0x80 >> bit) != 0))
            .collect();
        Image {
            width,
            height: self.height,
            pixels,
        }
    }
}

/// What one parsing step did with the front of the unparsed input.
enum Step {
    Consumed(usize),
    NeedMore,
    /// The command was rejected; `skip` bytes are consumed (state may have changed as a real
    /// printer's would, e.g. `ESC @` still initialises).
    Rejected {
        skip: usize,
        error: DecodeError,
    },
}

/// Incremental ESC/POS decoder: feed it bytes as they arrive, in any chunks.
#[derive(Debug, Clone)]
pub struct Decoder {
    unparsed: Vec<u8>,
    unparsed_offset: usize,
    settings: PrintSettings,
    line: Option<LineInProgress>,
    image: Option<ImageInProgress>,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new()
    }
}

impl Decoder {
    /// A decoder in the power-on state: Chinese mode off (a kiosk must send `FS &`).
    pub fn new() -> Decoder {
        Decoder {
            unparsed: Vec::new(),
            unparsed_offset: 0,
            settings: PrintSettings::power_on(),
            line: None,
            image: None,
        }
    }

    /// Decodes what `bytes` completes. A command cut off at the end of `bytes` waits for the
    /// next call; after an error, decoding goes on past the rejected command.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Result<Event, DecodeError>> {
        let mut input = std::mem::take(&mut self.unparsed);
        input.extend_from_slice(bytes);
        let mut results = Vec::new();
        let mut position = 0;
        while position < input.len() {
            let mut events = Vec::new();
            let offset = self.unparsed_offset + position;
            let step = self.step(&input[position..], offset, &mut events);
            results.extend(events.into_iter().map(Ok));
            match step {
                Step::Consumed(length) => position += length,
                Step::NeedMore => break,
                Step::Rejected { skip, error } => {
                    results.push(Err(error));
                    position += skip;
                }
            }
        }
        input.drain(..position);
        self.unparsed_offset += position;
        self.unparsed = input;
        results
    }

    /// Ends the stream: reports a command cut off or a line never ended by LF, and emits the
    /// image whose bands ended the stream.
    pub fn finish(&mut self) -> Vec<Result<Event, DecodeError>> {
        let mut results = Vec::new();
        if !self.unparsed.is_empty() {
            results.push(Err(DecodeError::Truncated {
                offset: self.unparsed_offset,
                command: command_name(&self.unparsed),
            }));
            self.unparsed_offset += self.unparsed.len();
            self.unparsed.clear();
        }
        let mut events = Vec::new();
        self.flush_image(&mut events);
        results.extend(events.into_iter().map(Ok));
        if let Some(line) = self.line.take() {
            results.push(Err(DecodeError::UnterminatedLine {
                offset: line.start_offset,
                text: line.text(),
            }));
        }
        results
    }

    /// The image whose bands have arrived but that no later command has ended yet.
    pub fn pending_image(&self) -> Option<Image> {
        self.image.as_ref().map(ImageInProgress::to_image)
    }

    fn step(&mut self, input: &[u8], offset: usize, out: &mut Vec<Event>) -> Step {
        let first = input[0];
        match first {
            LF => {
                let line = self.take_line();
                self.emit(out, Event::TextLine(line));
                Step::Consumed(1)
            }
            ESC => self.step_esc(input, offset, out),
            GS => self.step_gs(input, offset, out),
            FS => self.step_fs(input, offset),
            DLE => self.step_dle(input, offset, out),
            0x20..=0x7E => {
                self.push_glyph(
                    offset,
                    &char::from(first).to_string(),
                    SINGLE_BYTE_GLYPH_DOTS,
                );
                Step::Consumed(1)
            }
            0x80..=0xFF if self.settings.chinese_mode => self.step_double_byte(input, offset),
            0x80..=0xFF => {
                let glyph = cp437_high_half(first).to_string();
                self.push_glyph(offset, &glyph, SINGLE_BYTE_GLYPH_DOTS);
                Step::Consumed(1)
            }
            _ => Step::Rejected {
                skip: 1,
                error: DecodeError::UnknownCommand {
                    offset,
                    bytes: vec![first],
                },
            },
        }
    }

    fn step_esc(&mut self, input: &[u8], offset: usize, out: &mut Vec<Event>) -> Step {
        let Some(&code) = input.get(1) else {
            return Step::NeedMore;
        };
        if code == b'@' {
            // ESC @ clears the print buffer: unprinted text is lost, which the tests must see.
            let lost_text = self.line.take().map(|line| line.text());
            self.flush_image(out);
            self.settings = PrintSettings::power_on();
            out.push(Event::Init);
            return match lost_text {
                Some(pending_text) => Step::Rejected {
                    skip: 2,
                    error: DecodeError::NotAtLineStart {
                        offset,
                        command: "ESC @ (initialize)",
                        pending_text,
                    },
                },
                None => Step::Consumed(2),
            };
        }
        if code == b'2' {
            self.settings.line_spacing = LineSpacing::Default;
            return Step::Consumed(2);
        }
        if !matches!(code, b'a' | b'E' | b'd' | b'J' | b'3') {
            return Step::Rejected {
                skip: 2,
                error: DecodeError::UnknownCommand {
                    offset,
                    bytes: vec![ESC, code],
                },
            };
        }
        let Some(&n) = input.get(2) else {
            return Step::NeedMore;
        };
        match code {
            b'a' => {
                self.settings.align = match n {
                    0 | b'0' => Align::Left,
                    1 | b'1' => Align::Center,
                    2 | b'2' => Align::Right,
                    _ => {
                        return Step::Rejected {
                            skip: 3,
                            error: DecodeError::BadParameter {
                                offset,
                                command: "ESC a (justification)",
                                detail: format!("n = {n}; expected 0, 1, 2 or '0', '1', '2'"),
                            },
                        };
                    }
                }
            }
            b'E' => self.settings.bold = n & 1 == 1,
            b'd' => {
                self.print_line_buffer(out);
                self.emit(out, Event::Feed(Feed::Lines(n)));
            }
            b'J' => {
                self.print_line_buffer(out);
                self.emit(out, Event::Feed(Feed::Dots(n)));
            }
            _ => self.settings.line_spacing = LineSpacing::Dots(n),
        }
        Step::Consumed(3)
    }

    fn step_gs(&mut self, input: &[u8], offset: usize, out: &mut Vec<Event>) -> Step {
        let Some(&code) = input.get(1) else {
            return Step::NeedMore;
        };
        match code {
            b'!' => {
                let Some(&n) = input.get(2) else {
                    return Step::NeedMore;
                };
                // Bits 3 and 7 are undefined: multipliers go 1–8 each way.
                if n & 0x88 != 0 {
                    return Step::Rejected {
                        skip: 3,
                        error: DecodeError::BadParameter {
                            offset,
                            command: "GS ! (character size)",
                            detail: format!("n = {n:#04X}; bits 3 and 7 must be 0"),
                        },
                    };
                }
                self.settings.width_mul = 1 + (n >> 4);
                self.settings.height_mul = 1 + (n & 0x0F);
                Step::Consumed(3)
            }
            b'(' => self.step_gs_paren(input, offset, out),
            b'v' => self.step_raster(input, offset, out),
            b'V' => self.step_cut(input, offset, out),
            _ => Step::Rejected {
                skip: 2,
                error: DecodeError::UnknownCommand {
                    offset,
                    bytes: vec![GS, code],
                },
            },
        }
    }

    fn step_gs_paren(&mut self, input: &[u8], offset: usize, out: &mut Vec<Event>) -> Step {
        let Some(&kind) = input.get(2) else {
            return Step::NeedMore;
        };
        if kind != b'k' {
            return Step::Rejected {
                skip: 3,
                error: DecodeError::UnknownCommand {
                    offset,
                    bytes: input[..3].to_vec(),
                },
            };
        }
        let (Some(&low), Some(&high)) = (input.get(3), input.get(4)) else {
            return Step::NeedMore;
        };
        let total = 5 + usize::from(low) + 256 * usize::from(high);
        if input.len() < total {
            return Step::NeedMore;
        }
        match self.qr_function(&input[5..total], offset, out) {
            Ok(()) => Step::Consumed(total),
            Err(error) => Step::Rejected { skip: total, error },
        }
    }

    fn qr_function(
        &mut self,
        parameters: &[u8],
        offset: usize,
        out: &mut Vec<Event>,
    ) -> Result<(), DecodeError> {
        let bad = |detail: String| DecodeError::BadParameter {
            offset,
            command: "GS ( k (QR code)",
            detail,
        };
        let [symbol, function, rest @ ..] = parameters else {
            return Err(bad(format!(
                "pL pH = {} bytes; cn and fn need 2",
                parameters.len()
            )));
        };
        if *symbol != 49 {
            return Err(bad(format!(
                "cn = {symbol}; only QR Code (cn = 49) is understood"
            )));
        }
        match (*function, rest) {
            (65, [model @ 49..=51, 0]) => self.settings.qr_model = Some(*model),
            (67, [size @ 1..=16]) => self.settings.qr_module_size = Some(*size),
            (69, [level @ 48..=51]) => {
                self.settings.qr_ecc = match *level {
                    48 => QrErrorCorrection::L,
                    49 => QrErrorCorrection::M,
                    50 => QrErrorCorrection::Q,
                    _ => QrErrorCorrection::H,
                }
            }
            (80, [48, data @ ..]) if !data.is_empty() => {
                self.settings.qr_data = Some(data.to_vec());
            }
            (81, [48]) => {
                if let Some(error) = self.unprinted_text(offset, "GS ( k fn 81 (print QR)") {
                    return Err(error);
                }
                let Some(data) = self.settings.qr_data.clone() else {
                    return Err(bad(
                        "fn 81 (print) with no data stored by fn 80 since ESC @".to_string(),
                    ));
                };
                let qr = Qr {
                    data,
                    model2: self.settings.qr_model == Some(50),
                    module_size: self.settings.qr_module_size.unwrap_or(3),
                    ecc: self.settings.qr_ecc,
                };
                self.emit(out, Event::Qr(qr));
            }
            (other, rest) => {
                return Err(bad(format!(
                    "fn {other} with parameters {rest:02X?} is not a QR function a receipt uses \
                     (65 model, 67 size, 69 error correction, 80 store, 81 print)"
                )));
            }
        }
        Ok(())
    }

    fn step_raster(&mut self, input: &[u8], offset: usize, out: &mut Vec<Event>) -> Step {
        let Some(&variant) = input.get(2) else {
            return Step::NeedMore;
        };
        if variant != b'0' {
            return Step::Rejected {
                skip: 3,
                error: DecodeError::UnknownCommand {
                    offset,
                    bytes: input[..3].to_vec(),
                },
            };
        }
        if input.len() < 8 {
            return Step::NeedMore;
        }
        let mode = input[3];
        let width_bytes = usize::from(input[4]) + 256 * usize::from(input[5]);
        let rows = usize::from(input[6]) + 256 * usize::from(input[7]);
        let bad = |skip: usize, detail: String| Step::Rejected {
            skip,
            error: DecodeError::BadParameter {
                offset,
                command: "GS v 0 (raster image)",
                detail,
            },
        };
        // Sizes are checked before waiting for the data: a wild size would otherwise make the
        // decoder swallow the rest of the stream as image data.
        if !(1..=128).contains(&width_bytes) || !(1..=4095).contains(&rows) {
            return bad(
                8,
                format!("{width_bytes} bytes × {rows} rows; expected 1–128 × 1–4095"),
            );
        }
        let total = 8 + width_bytes * rows;
        if input.len() < total {
            return Step::NeedMore;
        }
        if !matches!(mode, 0 | 48) {
            return bad(
                total,
                format!("m = {mode}; only normal scale (0) reassembles pixel for pixel"),
            );
        }
        if let Some(error) = self.unprinted_text(offset, "GS v 0 (raster image)") {
            return Step::Rejected { skip: total, error };
        }
        let data = &input[8..total];
        match &mut self.image {
            Some(image) if image.width_bytes == width_bytes => {
                image.packed_rows.extend_from_slice(data);
                image.height += rows;
            }
            _ => {
                self.flush_image(out);
                self.image = Some(ImageInProgress {
                    width_bytes,
                    height: rows,
                    packed_rows: data.to_vec(),
                });
            }
        }
        Step::Consumed(total)
    }

    fn step_cut(&mut self, input: &[u8], offset: usize, out: &mut Vec<Event>) -> Step {
        let Some(&mode) = input.get(2) else {
            return Step::NeedMore;
        };
        let (partial, length) = match mode {
            0 | 48 => (false, 3),
            1 | 49 => (true, 3),
            65 => (false, 4),
            66 => (true, 4),
            _ => {
                return Step::Rejected {
                    skip: 3,
                    error: DecodeError::BadParameter {
                        offset,
                        command: "GS V (cut)",
                        detail: format!("m = {mode}; expected 0, 1, 48, 49, 65 or 66"),
                    },
                };
            }
        };
        if input.len() < length {
            return Step::NeedMore;
        }
        if let Some(error) = self.unprinted_text(offset, "GS V (cut)") {
            return Step::Rejected {
                skip: length,
                error,
            };
        }
        let extra_feed_dots = if length == 4 { input[3] } else { 0 };
        self.emit(
            out,
            Event::Cut(Cut {
                partial,
                extra_feed_dots,
            }),
        );
        Step::Consumed(length)
    }

    fn step_fs(&mut self, input: &[u8], offset: usize) -> Step {
        let Some(&code) = input.get(1) else {
            return Step::NeedMore;
        };
        match code {
            b'&' => self.settings.chinese_mode = true,
            b'.' => self.settings.chinese_mode = false,
            _ => {
                return Step::Rejected {
                    skip: 2,
                    error: DecodeError::UnknownCommand {
                        offset,
                        bytes: vec![FS, code],
                    },
                };
            }
        }
        Step::Consumed(2)
    }

    fn step_dle(&mut self, input: &[u8], offset: usize, out: &mut Vec<Event>) -> Step {
        let Some(&code) = input.get(1) else {
            return Step::NeedMore;
        };
        if code != EOT {
            return Step::Rejected {
                skip: 2,
                error: DecodeError::UnknownCommand {
                    offset,
                    bytes: vec![DLE, code],
                },
            };
        }
        let Some(&n) = input.get(2) else {
            return Step::NeedMore;
        };
        if !(1..=4).contains(&n) {
            return Step::Rejected {
                skip: 3,
                error: DecodeError::BadParameter {
                    offset,
                    command: "DLE EOT (real-time status)",
                    detail: format!("n = {n}; expected 1–4 (exactly 3 bytes)"),
                },
            };
        }
        // A real-time request neither prints nor ends an image that is being sent in bands.
        out.push(Event::StatusRequest(n));
        Step::Consumed(3)
    }

    fn step_double_byte(&mut self, input: &[u8], offset: usize) -> Step {
        let lead = input[0];
        let bad = |skip: usize, reason: &'static str| Step::Rejected {
            skip,
            error: DecodeError::BadText {
                offset,
                bytes: input[..skip].to_vec(),
                reason,
            },
        };
        if !(0x81..=0xFE).contains(&lead) {
            return bad(1, "is not a GBK lead byte (0x81–0xFE) in Chinese mode");
        }
        let Some(&trail) = input.get(1) else {
            return Step::NeedMore;
        };
        if (0x30..=0x39).contains(&trail) {
            return bad(
                2,
                "start a four-byte GB18030 sequence, which a GBK printer prints as junk",
            );
        }
        if !(0x40..=0xFE).contains(&trail) || trail == 0x7F {
            // The trail byte is left to be decoded on its own: it may be a command.
            return bad(1, "is a GBK lead byte without a valid trail byte");
        }
        match encoding_rs::GBK.decode_without_bom_handling_and_without_replacement(&input[..2]) {
            Some(glyph) => {
                self.push_glyph(offset, &glyph, DOUBLE_BYTE_GLYPH_DOTS);
                Step::Consumed(2)
            }
            None => bad(2, "are not a GBK character"),
        }
    }

    fn push_glyph(&mut self, offset: usize, glyph: &str, base_width_dots: usize) {
        let settings = &self.settings;
        let line = self.line.get_or_insert_with(|| LineInProgress {
            start_offset: offset,
            align: settings.align,
            line_spacing: settings.line_spacing,
            spans: Vec::new(),
            width_dots: 0,
        });
        line.width_dots += base_width_dots * usize::from(settings.width_mul);
        match line.spans.last_mut() {
            Some(span)
                if span.width_mul == settings.width_mul
                    && span.height_mul == settings.height_mul
                    && span.bold == settings.bold =>
            {
                span.text.push_str(glyph);
            }
            _ => line.spans.push(TextSpan {
                text: glyph.to_string(),
                width_mul: settings.width_mul,
                height_mul: settings.height_mul,
                bold: settings.bold,
            }),
        }
    }

    /// Ends the current line (LF): a blank line when no character arrived since the last one.
    fn take_line(&mut self) -> TextLine {
        match self.line.take() {
            Some(line) => TextLine {
                text: line.text(),
                width_mul: line.spans.iter().map(|s| s.width_mul).max().unwrap_or(1),
                height_mul: line.spans.iter().map(|s| s.height_mul).max().unwrap_or(1),
                bold: line.spans.iter().all(|s| s.bold),
                align: line.align,
                line_spacing: line.line_spacing,
                width_dots: line.width_dots,
                spans: line.spans,
            },
            None => TextLine {
                text: String::new(),
                width_mul: self.settings.width_mul,
                height_mul: self.settings.height_mul,
                bold: self.settings.bold,
                align: self.settings.align,
                line_spacing: self.settings.line_spacing,
                width_dots: 0,
                spans: Vec::new(),
            },
        }
    }

    /// `ESC d` and `ESC J` print what is in the line buffer before feeding.
    fn print_line_buffer(&mut self, out: &mut Vec<Event>) {
        if self.line.is_some() {
            let line = self.take_line();
            self.emit(out, Event::TextLine(line));
        }
    }

    fn unprinted_text(&self, offset: usize, command: &'static str) -> Option<DecodeError> {
        self.line.as_ref().map(|line| DecodeError::NotAtLineStart {
            offset,
            command,
            pending_text: line.text(),
        })
    }

    /// Anything printed after an image's last band ends the image.
    fn emit(&mut self, out: &mut Vec<Event>, event: Event) {
        self.flush_image(out);
        out.push(event);
    }

    fn flush_image(&mut self, out: &mut Vec<Event>) {
        if let Some(image) = self.image.take() {
            out.push(Event::Image(image.to_image()));
        }
    }
}

/// A name for the command that starts `bytes`, for [`DecodeError::Truncated`].
fn command_name(bytes: &[u8]) -> &'static str {
    match bytes {
        [ESC, ..] => "an ESC command",
        [GS, b'(', ..] => "GS ( k (QR code)",
        [GS, b'v', ..] => "GS v 0 (raster image)",
        [GS, b'V', ..] => "GS V (cut)",
        [GS, ..] => "a GS command",
        [FS, ..] => "an FS command",
        [DLE, ..] => "DLE EOT (real-time status)",
        _ => "a double-byte character",
    }
}

/// Code page 437, the power-on code page of ESC/POS printers, for 0x80–0xFF outside Chinese
/// mode. A kiosk that forgets `FS &` gets these instead of Chinese, which tests then see.
const CP437_HIGH_HALF: [char; 128] = [
    'Ç', 'ü', 'é', 'â', 'ä', 'à', 'å', 'ç', 'ê', 'ë', 'è', 'ï', 'î', 'ì', 'Ä', 'Å', //
    'É', 'æ', 'Æ', 'ô', 'ö', 'ò', 'û', 'ù', 'ÿ', 'Ö', 'Ü', '¢', '£', '¥', '₧', 'ƒ', //
    'á', 'í', 'ó', 'ú', 'ñ', 'Ñ', 'ª', 'º', '¿', '⌐', '¬', '½', '¼', '¡', '«', '»', //
    '░', '▒', '▓', '│', '┤', '╡', '╢', '╖', '╕', '╣', '║', '╗', '╝', '╜', '╛', '┐', //
    '└', '┴', '┬', '├', '─', '┼', '╞', '╟', '╚', '╔', '╩', '╦', '╠', '═', '╬', '╧', //
    '╨', '╤', '╥', '╙', '╘', '╒', '╓', '╫', '╪', '┘', '┌', '█', '▄', '▌', '▐', '▀', //
    'α', 'ß', 'Γ', 'π', 'Σ', 'σ', 'µ', 'τ', 'Φ', 'Θ', 'Ω', 'δ', '∞', 'φ', 'ε', '∩', //
    '≡', '±', '≥', '≤', '⌠', '⌡', '÷', '≈', '°', '∙', '·', '√', 'ⁿ', '²', '■', '\u{A0}',
];

fn cp437_high_half(byte: u8) -> char {
    CP437_HIGH_HALF[usize::from(byte & 0x7F)]
}

// ---------------------------------------------------------------------------------------------
// Printouts
// ---------------------------------------------------------------------------------------------

/// What came out of the printer between two cuts: one receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Printout {
    /// The events of this receipt, its `Cut` last when it was cut.
    pub events: Vec<Event>,
    /// False for paper that was printed but not (yet) cut off.
    pub cut: bool,
}

impl Printout {
    /// Splits events at each cut. Events after the last cut make a last, uncut printout when
    /// they put anything on paper.
    pub fn split(events: &[Event]) -> Vec<Printout> {
        let mut printouts = Vec::new();
        let mut current = Vec::new();
        for event in events {
            current.push(event.clone());
            if matches!(event, Event::Cut(_)) {
                printouts.push(Printout {
                    events: std::mem::take(&mut current),
                    cut: true,
                });
            }
        }
        if current.iter().any(Event::marks_paper) {
            printouts.push(Printout {
                events: current,
                cut: false,
            });
        }
        printouts
    }

    /// The text of every line, blank ones included, trimmed.
    pub fn lines(&self) -> Vec<String> {
        self.text_lines()
            .into_iter()
            .map(|line| line.text.trim().to_string())
            .collect()
    }

    pub fn text_lines(&self) -> Vec<&TextLine> {
        self.events
            .iter()
            .filter_map(|event| match event {
                Event::TextLine(line) => Some(line),
                _ => None,
            })
            .collect()
    }

    pub fn images(&self) -> Vec<&Image> {
        self.events
            .iter()
            .filter_map(|event| match event {
                Event::Image(image) => Some(image),
                _ => None,
            })
            .collect()
    }

    pub fn qrs(&self) -> Vec<&Qr> {
        self.events
            .iter()
            .filter_map(|event| match event {
                Event::Qr(qr) => Some(qr),
                _ => None,
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Faults and DLE EOT
// ---------------------------------------------------------------------------------------------

/// The printer's condition, as the test sets it with [`PrinterEmulator::set_fault`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fault {
    #[default]
    None,
    /// The near-end sensor sees little paper left; the printer still prints.
    PaperNearEnd,
    /// The roll is empty: offline, printing stopped by paper end.
    PaperOut,
    /// The roll cover is open: offline.
    CoverOpen,
    /// Offline for another reason — the print head overheated, an auto-recoverable error.
    Offline,
}

impl Fault {
    pub const ALL: [Fault; 5] = [
        Fault::None,
        Fault::PaperNearEnd,
        Fault::PaperOut,
        Fault::CoverOpen,
        Fault::Offline,
    ];

    /// Whether the printer stops printing (goes offline) in this condition.
    pub fn stops_printing(self) -> bool {
        matches!(self, Fault::PaperOut | Fault::CoverOpen | Fault::Offline)
    }

    /// The answer to `DLE EOT n`, after Epson's ESC/POS reference for `DLE EOT` (the same
    /// table in the TM-T88III, TM-U220 and TM-L60II manuals). Every answer has the pattern
    /// `0xx1xx10` (bits 1 and 4 fixed on, 0 and 7 fixed off), so it can never be XON (0x11)
    /// or XOFF (0x13):
    ///
    /// | n | byte | bits set by faults |
    /// |---|------|--------------------|
    /// | 1 printer status | 0x12, 0x1A offline | bit 3 offline |
    /// | 2 offline cause | 0x12 | bit 2 cover open 0x16, bit 5 paper-end stop 0x32, bit 6 error 0x52 |
    /// | 3 error cause | 0x12 | bit 6 auto-recoverable error (head temperature) 0x52 |
    /// | 4 roll paper sensor | 0x12 | bits 2–3 near end 0x1E; bits 5–6 paper end, with near end, 0x7E |
    ///
    /// Bit 2 of n = 1 (drawer pin 3) reads low, and the feed button (bit 3 of n = 2, bit 6 of
    /// n = 1) is never pressed. Returns `None` for n outside 1–4.
    pub fn status_byte(self, n: u8) -> Option<u8> {
        const FIXED_BITS: u8 = 0b0001_0010;
        let fault_bits = match n {
            1 if self.stops_printing() => 0x08,
            2 => match self {
                Fault::CoverOpen => 0x04,
                Fault::PaperOut => 0x20,
                Fault::Offline => 0x40,
                _ => 0,
            },
            3 if self == Fault::Offline => 0x40,
            4 => match self {
                Fault::PaperNearEnd => 0x0C,
                // An empty roll also reads as near its end.
                Fault::PaperOut => 0x0C | 0x60,
                _ => 0,
            },
            1..=4 => 0,
            _ => return None,
        };
        Some(FIXED_BITS | fault_bits)
    }
}

// ---------------------------------------------------------------------------------------------
// The live emulator
// ---------------------------------------------------------------------------------------------

/// How much a typical cheap thermal printer buffers (Epson's TM-T20 offers 4 KiB or 45 bytes).
pub const DEFAULT_RECEIVE_BUFFER_BYTES: usize = 4096;
/// At most this many bytes are taken from the pty at a time, so that the bytes "in flight"
/// when the printer turns busy are about a UART FIFO's worth, not a whole job.
const READ_CHUNK_BYTES: usize = 32;
/// How long the worker sleeps or polls before it looks at its commands again.
const IDLE_POLL: Duration = Duration::from_millis(5);
/// How long after an XOFF/XON the emulator waits for the host to stop/restart before it
/// decides the host ignores flow control.
const HOST_REACTION_WINDOW: Duration = Duration::from_millis(200);
/// How long a request to the worker thread may take before the test is told it died.
const WORKER_REPLY_TIMEOUT: Duration = Duration::from_secs(10);

// Packet-mode status bits (linux/include/uapi/asm-generic/ioctls.h); libc does not define
// them for Linux.
const TIOCPKT_DATA: u8 = 0x00;
const TIOCPKT_STOP: u8 = 0x04;
const TIOCPKT_START: u8 = 0x08;

/// What a printer does with data that arrives while it is offline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FaultPolicy {
    /// Keep it in the receive buffer and print it when the fault clears, sending XOFF when
    /// the buffer fills — what Epson-style printers do (DIP switch "busy: receive buffer
    /// full"); once that XOFF holds a host back, not even its `DLE EOT` gets through, as on a
    /// real line. A kiosk that sends a job into a fault and resends it later prints it twice.
    #[default]
    Hold,
    /// Throw it away, counted in [`LostBytes::discarded_while_faulted`] — what some cheap
    /// printers do. A kiosk that sends into a fault and forgets the job loses a receipt.
    Discard,
}

/// Automatic busy periods: after every `every_bytes` bytes received, the printer stops
/// taking bytes from its receive buffer for `pause`, with XOFF at the start and XON at the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BusyPattern {
    pub every_bytes: usize,
    pub pause: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmulatorOptions {
    /// Bytes the printer holds while busy or faulted; more are dropped (counted).
    pub receive_buffer_bytes: usize,
    pub busy: Option<BusyPattern>,
    /// Receive no faster than this line rate (10 bits a byte); `None`: as fast as the pty.
    pub line_rate_baud: Option<u32>,
    pub fault_policy: FaultPolicy,
}

impl Default for EmulatorOptions {
    fn default() -> Self {
        EmulatorOptions {
            receive_buffer_bytes: DEFAULT_RECEIVE_BUFFER_BYTES,
            busy: None,
            line_rate_baud: None,
            fault_policy: FaultPolicy::Hold,
        }
    }
}

/// Whether the host's output is stopped, as the pty reports it to the emulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HostOutput {
    /// The host's line discipline honoured XOFF: it sends nothing until XON.
    Stopped,
    #[default]
    Running,
}

/// Bytes that reached the printer but will never be printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LostBytes {
    /// Arrived while the receive buffer was full (the host ignored XOFF).
    pub overflowed: usize,
    /// Arrived during a fault under [`FaultPolicy::Discard`].
    pub discarded_while_faulted: usize,
}

impl LostBytes {
    pub fn total(&self) -> usize {
        self.overflowed + self.discarded_while_faulted
    }
}

/// One `DLE EOT n` the emulator answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusAnswer {
    pub request: u8,
    pub answer: u8,
}

/// A wait that ran out, with what the emulator had seen, for the failure message.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "waited {waited:?} for {expected}; got {cut_printouts} cut printouts, {raw_bytes} raw \
     bytes, lost {lost:?}, decode errors {decode_errors:?}"
)]
pub struct WaitTimedOut {
    pub waited: Duration,
    pub expected: String,
    pub cut_printouts: usize,
    pub raw_bytes: usize,
    pub lost: LostBytes,
    pub decode_errors: Vec<DecodeError>,
}

/// What the worker thread records and the test reads.
#[derive(Debug, Default)]
struct Recording {
    fault: Fault,
    /// The print engine: decodes what it takes from the receive buffer.
    engine: Decoder,
    events: Vec<Event>,
    decode_errors: Vec<DecodeError>,
    raw_bytes: Vec<u8>,
    status_answers: Vec<StatusAnswer>,
    lost: LostBytes,
    host_output: HostOutput,
    connected: bool,
}

impl Recording {
    fn printouts(&self) -> Vec<Printout> {
        let mut events = self.events.clone();
        events.extend(self.engine.pending_image().map(Event::Image));
        Printout::split(&events)
    }

    fn timed_out(&self, waited: Duration, expected: String) -> WaitTimedOut {
        WaitTimedOut {
            waited,
            expected,
            cut_printouts: self.printouts().iter().filter(|p| p.cut).count(),
            raw_bytes: self.raw_bytes.len(),
            lost: self.lost,
            decode_errors: self.decode_errors.clone(),
        }
    }
}

struct Shared {
    recording: Mutex<Recording>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Recording> {
        // A panic elsewhere must not hide what was recorded from the failing test.
        self.recording
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// The printer's end of the cable: the pty master, in packet mode.
struct PtyLink {
    master: File,
    /// The host end from `TTYPort::pair()`, held open by [`PrinterEmulator::plug_in_at`] so
    /// that a host closing and reopening the device path does not hang up the master.
    host_end_keeper: Option<TTYPort>,
}

impl PtyLink {
    fn new(far_end: TTYPort, host_end_keeper: Option<TTYPort>) -> io::Result<PtyLink> {
        // SAFETY: `into_raw_fd` hands over the only owner of the open descriptor.
        let master = unsafe { File::from_raw_fd(far_end.into_raw_fd()) };
        let enable: nix::libc::c_int = 1;
        // SAFETY: TIOCPKT reads one c_int through the pointer, which outlives the call.
        let result = unsafe {
            nix::libc::ioctl(
                master.as_raw_fd(),
                nix::libc::TIOCPKT,
                &enable as *const nix::libc::c_int,
            )
        };
        if result != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(PtyLink {
            master,
            host_end_keeper,
        })
    }

    /// A new pty pair whose host end `device_path` (a symlink) points to.
    fn create_at(device_path: &Path) -> io::Result<PtyLink> {
        let (far_end, host_end) = TTYPort::pair()?;
        let host_path = host_end
            .name()
            .ok_or_else(|| io::Error::other("the pty's host end has no name"))?;
        replace_symlink(Path::new(&host_path), device_path)?;
        PtyLink::new(far_end, Some(host_end))
    }
}

/// Points `link` at `target`, atomically, as udev does when a device appears.
fn replace_symlink(target: &Path, link: &Path) -> io::Result<()> {
    let mut staging_name = link.file_name().unwrap_or_default().to_os_string();
    staging_name.push(".plugging-in");
    let staging = link.with_file_name(staging_name);
    match std::fs::remove_file(&staging) {
        Err(error) if error.kind() != io::ErrorKind::NotFound => return Err(error),
        _ => {}
    }
    std::os::unix::fs::symlink(target, &staging)?;
    std::fs::rename(&staging, link)
}

enum Command {
    SetBusy {
        busy: bool,
        reply: Sender<HostOutput>,
    },
    Attach {
        link: PtyLink,
        reply: Sender<()>,
    },
    Detach {
        reply: Sender<()>,
    },
    PowerCycle {
        reply: Sender<()>,
    },
    Shutdown,
}

/// A receipt printer on the far end of a pseudo-terminal, run by its own thread.
///
/// Bytes go through three stages, as in a real printer: on arrival a framer answers
/// `DLE EOT n` at once (real-time commands skip the queue); the bytes go into the receive
/// buffer (dropped when it is full); the print engine takes them out and decodes them, unless
/// the printer is busy or, under [`FaultPolicy::Hold`], faulted.
pub struct PrinterEmulator {
    shared: Arc<Shared>,
    commands: Sender<Command>,
    worker: Option<JoinHandle<()>>,
    device_path: Option<PathBuf>,
}

impl PrinterEmulator {
    /// Runs a printer on `far_end`, the first (master) port of `TTYPort::pair()`; the host
    /// uses the second one, or opens it again by its name. Keep that second port open for
    /// the emulator's life: when no host descriptor is open the pty hangs up.
    ///
    /// Panics when `far_end` is not a pty master (packet mode is what shows whether the host
    /// honours XOFF).
    pub fn start(far_end: TTYPort) -> PrinterEmulator {
        PrinterEmulator::start_with(far_end, EmulatorOptions::default())
    }

    pub fn start_with(far_end: TTYPort, options: EmulatorOptions) -> PrinterEmulator {
        let link = PtyLink::new(far_end, None)
            .expect("the printer emulator needs the master (first) port of TTYPort::pair()");
        PrinterEmulator::spawn(link, options, None)
    }

    /// Plugs a printer in at `device_path`: a new pty pair, with `device_path` a symlink to
    /// its host end, which the host opens like `/dev/receipt-printer`. This form can be
    /// unplugged with [`disconnect`](Self::disconnect) and plugged in again with
    /// [`reconnect`](Self::reconnect).
    pub fn plug_in_at(device_path: &Path, options: EmulatorOptions) -> io::Result<Self> {
        let link = PtyLink::create_at(device_path)?;
        Ok(PrinterEmulator::spawn(
            link,
            options,
            Some(device_path.to_path_buf()),
        ))
    }

    fn spawn(link: PtyLink, options: EmulatorOptions, device_path: Option<PathBuf>) -> Self {
        let shared = Arc::new(Shared {
            recording: Mutex::new(Recording {
                connected: true,
                ..Recording::default()
            }),
            changed: Condvar::new(),
        });
        let (commands, command_inbox) = mpsc::channel();
        let worker = Worker::new(Arc::clone(&shared), command_inbox, options, link);
        let worker = thread::Builder::new()
            .name("printer-emulator".to_string())
            .spawn(move || worker.run())
            .expect("start the printer emulator thread");
        PrinterEmulator {
            shared,
            commands,
            worker: Some(worker),
            device_path,
        }
    }

    /// The symlink the host opens, for an emulator made by [`plug_in_at`](Self::plug_in_at).
    pub fn device_path(&self) -> Option<&Path> {
        self.device_path.as_deref()
    }

    /// Sets the condition `DLE EOT` reports and whether the printer prints.
    pub fn set_fault(&self, fault: Fault) {
        self.shared.lock().fault = fault;
    }

    pub fn fault(&self) -> Fault {
        self.shared.lock().fault
    }

    /// Acts busy: sends XOFF and stops printing until [`send_xon`](Self::send_xon). Returns
    /// once the host has stopped, or after 200 ms when it ignores XOFF.
    pub fn send_xoff(&self) -> HostOutput {
        self.request(|reply| Command::SetBusy { busy: true, reply })
    }

    /// Ends [`send_xoff`](Self::send_xoff)'s busy period: sends XON (unless an automatic busy
    /// period or a full buffer still holds it back) and returns once the host runs again.
    pub fn send_xon(&self) -> HostOutput {
        self.request(|reply| Command::SetBusy { busy: false, reply })
    }

    /// Pulls the cable: closes the pty master, so the host's reads and writes fail, and
    /// removes the device symlink of a [`plug_in_at`](Self::plug_in_at) emulator. The
    /// printer keeps its state, including a command cut off halfway, as a real one would.
    pub fn disconnect(&self) {
        self.request(|reply| Command::Detach { reply });
        if let Some(path) = &self.device_path {
            // Already gone is what we want.
            let _ = std::fs::remove_file(path);
        }
    }

    /// Plugs the cable in again: a new pty behind the same device path. Only for an emulator
    /// made by [`plug_in_at`](Self::plug_in_at): a closed pty can never be reopened.
    pub fn reconnect(&self) -> io::Result<()> {
        let Some(path) = &self.device_path else {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "an emulator started on a bare pty cannot be replugged; use plug_in_at",
            ));
        };
        let link = PtyLink::create_at(path)?;
        self.request(|reply| Command::Attach { link, reply });
        Ok(())
    }

    /// Switches the printer off and on: the receive buffer, a half-received command and all
    /// settings are gone; what was printed and the fault stay.
    pub fn power_cycle(&self) {
        self.request(|reply| Command::PowerCycle { reply });
    }

    pub fn is_connected(&self) -> bool {
        self.shared.lock().connected
    }

    /// The receipts printed so far; the last one is uncut while paper is still coming out.
    pub fn printouts(&self) -> Vec<Printout> {
        self.shared.lock().printouts()
    }

    /// Everything the print engine decoded, in order.
    pub fn events(&self) -> Vec<Event> {
        self.shared.lock().events.clone()
    }

    /// Every byte that arrived over the pty, including lost ones.
    pub fn raw_bytes(&self) -> Vec<u8> {
        self.shared.lock().raw_bytes.clone()
    }

    pub fn decode_errors(&self) -> Vec<DecodeError> {
        self.shared.lock().decode_errors.clone()
    }

    pub fn status_answers(&self) -> Vec<StatusAnswer> {
        self.shared.lock().status_answers.clone()
    }

    pub fn lost_bytes(&self) -> LostBytes {
        self.shared.lock().lost
    }

    /// Whether the pty last reported the host's output stopped by XOFF.
    pub fn host_output(&self) -> HostOutput {
        self.shared.lock().host_output
    }

    /// Waits until at least `count` receipts have been cut; returns all cut receipts.
    pub fn wait_for_printouts(
        &self,
        count: usize,
        timeout: Duration,
    ) -> Result<Vec<Printout>, WaitTimedOut> {
        let recording = self.wait_until(timeout, |recording| {
            recording.printouts().iter().filter(|p| p.cut).count() >= count
        });
        match recording {
            Ok(recording) => Ok(recording
                .printouts()
                .into_iter()
                .filter(|printout| printout.cut)
                .collect()),
            Err(recording) => Err(recording.timed_out(timeout, format!("{count} cut printouts"))),
        }
    }

    /// Waits until at least `count` bytes have arrived over the pty.
    pub fn wait_for_raw_bytes(&self, count: usize, timeout: Duration) -> Result<(), WaitTimedOut> {
        match self.wait_until(timeout, |recording| recording.raw_bytes.len() >= count) {
            Ok(_) => Ok(()),
            Err(recording) => Err(recording.timed_out(timeout, format!("{count} raw bytes"))),
        }
    }

    fn wait_until(
        &self,
        timeout: Duration,
        done: impl Fn(&Recording) -> bool,
    ) -> Result<MutexGuard<'_, Recording>, MutexGuard<'_, Recording>> {
        let deadline = Instant::now() + timeout;
        let mut recording = self.shared.lock();
        loop {
            if done(&recording) {
                return Ok(recording);
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(recording);
            }
            recording = self
                .shared
                .changed
                .wait_timeout(recording, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    fn request<T>(&self, command: impl FnOnce(Sender<T>) -> Command) -> T {
        let (reply, answer) = mpsc::channel();
        self.commands
            .send(command(reply))
            .expect("the printer emulator thread has stopped");
        answer
            .recv_timeout(WORKER_REPLY_TIMEOUT)
            .expect("the printer emulator thread did not answer")
    }
}

impl Drop for PrinterEmulator {
    fn drop(&mut self) {
        // The worker may already be gone after a panic; there is nothing left to stop then.
        let _ = self.commands.send(Command::Shutdown);
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
        if let Some(path) = &self.device_path {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// The emulator's thread: owns the pty master and everything between it and the print engine.
struct Worker {
    shared: Arc<Shared>,
    commands: Receiver<Command>,
    options: EmulatorOptions,
    link: Option<PtyLink>,
    /// Sees every byte on arrival, only to find `DLE EOT n` at a command boundary.
    framer: Decoder,
    receive_buffer: VecDeque<u8>,
    busy_by_request: bool,
    busy_until: Option<Instant>,
    received_since_busy: usize,
    buffer_nearly_full: bool,
    xoff_sent: bool,
    host_stopped: bool,
    /// Set after sending XOFF/XON, until the host reacts or the window closes.
    reaction_deadline: Option<Instant>,
    reaction_waiters: Vec<Sender<HostOutput>>,
    next_read_at: Instant,
}

impl Worker {
    fn new(
        shared: Arc<Shared>,
        commands: Receiver<Command>,
        options: EmulatorOptions,
        link: PtyLink,
    ) -> Worker {
        Worker {
            shared,
            commands,
            options,
            link: Some(link),
            framer: Decoder::new(),
            receive_buffer: VecDeque::new(),
            busy_by_request: false,
            busy_until: None,
            received_since_busy: 0,
            buffer_nearly_full: false,
            xoff_sent: false,
            host_stopped: false,
            reaction_deadline: None,
            reaction_waiters: Vec::new(),
            next_read_at: Instant::now(),
        }
    }

    fn run(mut self) {
        loop {
            if !self.handle_commands() {
                return;
            }
            let now = Instant::now();
            if self.busy_until.is_some_and(|until| now >= until) {
                self.busy_until = None;
            }
            self.run_print_engine();
            self.update_flow_control(now);
            self.expire_reaction_window(now);
            self.pump_link();
        }
    }

    /// Returns false when the emulator is being dropped.
    fn handle_commands(&mut self) -> bool {
        loop {
            let command = match self.commands.try_recv() {
                Ok(command) => command,
                Err(mpsc::TryRecvError::Empty) => return true,
                Err(mpsc::TryRecvError::Disconnected) => return false,
            };
            match command {
                Command::SetBusy { busy, reply } => {
                    self.busy_by_request = busy;
                    self.update_flow_control(Instant::now());
                    if self.reaction_deadline.is_some() {
                        self.reaction_waiters.push(reply);
                    } else {
                        let _ = reply.send(self.host_output());
                    }
                }
                Command::Attach { link, reply } => {
                    self.link = Some(link);
                    self.set_connected(true);
                    let _ = reply.send(());
                }
                Command::Detach { reply } => {
                    self.link = None;
                    // The host's next port starts with its output running.
                    self.xoff_sent = false;
                    self.set_host_stopped(false);
                    self.resolve_reaction();
                    self.set_connected(false);
                    let _ = reply.send(());
                }
                Command::PowerCycle { reply } => {
                    self.framer = Decoder::new();
                    self.receive_buffer.clear();
                    self.busy_by_request = false;
                    self.busy_until = None;
                    self.received_since_busy = 0;
                    self.buffer_nearly_full = false;
                    self.shared.lock().engine = Decoder::new();
                    let _ = reply.send(());
                }
                Command::Shutdown => return false,
            }
        }
    }

    fn host_output(&self) -> HostOutput {
        if self.host_stopped {
            HostOutput::Stopped
        } else {
            HostOutput::Running
        }
    }

    fn set_connected(&self, connected: bool) {
        self.shared.lock().connected = connected;
        self.shared.changed.notify_all();
    }

    fn set_host_stopped(&mut self, stopped: bool) {
        self.host_stopped = stopped;
        self.shared.lock().host_output = self.host_output();
    }

    /// Moves bytes from the receive buffer into the print engine, unless the printer is busy.
    fn run_print_engine(&mut self) {
        if self.receive_buffer.is_empty() {
            return;
        }
        let mut recording = self.shared.lock();
        let faulted = recording.fault.stops_printing();
        let holding = faulted && self.options.fault_policy == FaultPolicy::Hold;
        if self.busy_by_request || self.busy_until.is_some() || holding {
            return;
        }
        let bytes: Vec<u8> = self.receive_buffer.drain(..).collect();
        if faulted {
            recording.lost.discarded_while_faulted += bytes.len();
        } else {
            for result in recording.engine.push(&bytes) {
                match result {
                    Ok(event) => recording.events.push(event),
                    Err(error) => recording.decode_errors.push(error),
                }
            }
        }
        drop(recording);
        self.shared.changed.notify_all();
    }

    /// Sends XOFF when the printer turns busy or its buffer nearly fills, XON when it is ready.
    fn update_flow_control(&mut self, now: Instant) {
        let capacity = self.options.receive_buffer_bytes;
        let filled = self.receive_buffer.len();
        // Hysteresis, so that a buffer hovering at the mark does not send a storm of XON/XOFF.
        let margin = (capacity / 2).min(256);
        if self.buffer_nearly_full {
            self.buffer_nearly_full = filled > capacity / 2;
        } else {
            self.buffer_nearly_full = capacity.saturating_sub(filled) < margin;
        }
        let want_xoff =
            self.busy_by_request || self.busy_until.is_some() || self.buffer_nearly_full;
        if want_xoff == self.xoff_sent || self.link.is_none() {
            return;
        }
        if self
            .write_to_host(&[if want_xoff { XOFF } else { XON }])
            .is_ok()
        {
            self.xoff_sent = want_xoff;
            self.reaction_deadline = Some(now + HOST_REACTION_WINDOW);
        }
    }

    fn expire_reaction_window(&mut self, now: Instant) {
        if self
            .reaction_deadline
            .is_some_and(|deadline| now >= deadline)
        {
            if !self.xoff_sent {
                // XON always restarts a host that honours XOFF; silence means it never stopped.
                self.set_host_stopped(false);
            }
            self.resolve_reaction();
        }
    }

    fn resolve_reaction(&mut self) {
        self.reaction_deadline = None;
        let output = self.host_output();
        for waiter in self.reaction_waiters.drain(..) {
            let _ = waiter.send(output);
        }
    }

    /// Waits briefly for the pty, then reads one packet: data or a flow-control report.
    fn pump_link(&mut self) {
        let Some(link) = &self.link else {
            thread::sleep(IDLE_POLL);
            return;
        };
        let fd = link.master.as_raw_fd();
        // A stopped host sends nothing; while waiting for it to stop after XOFF, bytes it wrote
        // before the XOFF stay queued on its side, as in a real UART's transmit buffer.
        let awaiting_stop = self.xoff_sent && self.reaction_deadline.is_some();
        let take_data = !self.host_stopped && !awaiting_stop;
        if take_data && self.options.line_rate_baud.is_some() {
            let now = Instant::now();
            if now < self.next_read_at {
                thread::sleep((self.next_read_at - now).min(IDLE_POLL));
                return;
            }
        }
        let interest = if take_data {
            nix::libc::POLLIN | nix::libc::POLLPRI
        } else {
            nix::libc::POLLPRI
        };
        let ready = match poll_fd(fd, interest, IDLE_POLL) {
            Ok(ready) => ready,
            Err(_) => {
                thread::sleep(IDLE_POLL);
                return;
            }
        };
        if ready & (nix::libc::POLLIN | nix::libc::POLLPRI) != 0 {
            self.read_packet();
        } else if ready & (nix::libc::POLLHUP | nix::libc::POLLERR) != 0 {
            // No host has the port open; the master reports a hangup until one does.
            thread::sleep(IDLE_POLL);
        }
    }

    fn read_packet(&mut self) {
        let Some(link) = &mut self.link else {
            return;
        };
        let mut packet = [0u8; 1 + READ_CHUNK_BYTES];
        let length = match link.master.read(&mut packet) {
            Ok(length) => length,
            Err(_) => {
                // EIO: the host closed its last descriptor between poll and read.
                thread::sleep(IDLE_POLL);
                return;
            }
        };
        let Some((&header, data)) = packet[..length].split_first() else {
            return;
        };
        if header == TIOCPKT_DATA {
            self.receive(data);
            return;
        }
        if header & TIOCPKT_STOP != 0 {
            self.set_host_stopped(true);
            if self.xoff_sent {
                self.resolve_reaction();
            }
        }
        if header & TIOCPKT_START != 0 {
            self.set_host_stopped(false);
            if !self.xoff_sent {
                self.resolve_reaction();
            }
        }
    }

    /// What the printer's receive interrupt does with bytes from the line.
    fn receive(&mut self, data: &[u8]) {
        let now = Instant::now();
        if let Some(baud) = self.options.line_rate_baud {
            let line_time = Duration::from_secs_f64(data.len() as f64 * 10.0 / f64::from(baud));
            self.next_read_at = self.next_read_at.max(now) + line_time;
        }
        let capacity = self.options.receive_buffer_bytes;
        let mut overflowed = 0;
        for &byte in data {
            if self.receive_buffer.len() >= capacity {
                overflowed += 1;
                continue;
            }
            self.receive_buffer.push_back(byte);
            self.received_since_busy += 1;
            let busy_period_due = self.options.busy.filter(|busy| {
                self.busy_until.is_none() && self.received_since_busy >= busy.every_bytes
            });
            if let Some(busy) = busy_period_due {
                self.busy_until = Some(now + busy.pause);
                self.received_since_busy = 0;
            }
        }
        {
            // One lock for both, so a test that sees the bytes also sees what was lost of them.
            let mut recording = self.shared.lock();
            recording.raw_bytes.extend_from_slice(data);
            recording.lost.overflowed += overflowed;
        }
        self.shared.changed.notify_all();
        for result in self.framer.push(data) {
            if let Ok(Event::StatusRequest(request)) = result {
                self.answer_status(request);
            }
        }
    }

    fn answer_status(&mut self, request: u8) {
        let Some(link) = &mut self.link else {
            return;
        };
        let mut recording = self.shared.lock();
        let Some(answer) = recording.fault.status_byte(request) else {
            return;
        };
        // Written under the lock, so a test that has read the answer also finds it recorded.
        if link.master.write_all(&[answer]).is_ok() {
            recording
                .status_answers
                .push(StatusAnswer { request, answer });
        }
    }

    fn write_to_host(&mut self, bytes: &[u8]) -> io::Result<()> {
        match &mut self.link {
            Some(link) => link.master.write_all(bytes),
            None => Err(io::Error::from(io::ErrorKind::NotConnected)),
        }
    }
}

/// `poll(2)` on one descriptor; returns the events that are ready (0 on timeout).
fn poll_fd(fd: RawFd, interest: nix::libc::c_short, timeout: Duration) -> io::Result<i16> {
    let mut entry = nix::libc::pollfd {
        fd,
        events: interest,
        revents: 0,
    };
    let timeout_ms =
        nix::libc::c_int::try_from(timeout.as_millis()).unwrap_or(nix::libc::c_int::MAX);
    // SAFETY: `entry` is one valid pollfd that outlives the call, and the count says one.
    let result = unsafe { nix::libc::poll(&mut entry, 1, timeout_ms) };
    if result < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(entry.revents)
}
