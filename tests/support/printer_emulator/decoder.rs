//! The ESC/POS decoder: [`decode`] for a whole stream, [`Decoder`] for bytes as they arrive. It
//! understands exactly the commands a kiosk receipt is made of and rejects everything else.

use super::events::{
    Align, Cut, DecodeError, Event, Feed, Image, LineSpacing, Qr, QrErrorCorrection, TextLine,
    TextSpan,
};
use super::{
    DLE, DOUBLE_BYTE_GLYPH_DOTS, EOT, ESC, FS, GS, LF, MAX_PAPER_DOTS, SINGLE_BYTE_GLYPH_DOTS,
};

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
    /// `GS L`: where lines and raster bands start, in dots (the horizontal motion unit of a
    /// 203 dpi printer).
    left_margin_dots: usize,
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
    left_dots: usize,
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
            left: self.left_dots,
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
            b'L' => self.step_left_margin(input, offset),
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
        // m: 0 normal, 1 double width, 2 double height, 3 quadruple (48–51 the same).
        let (across, down) = match mode {
            0..=3 | 48..=51 => (1 + usize::from(mode & 1), 1 + usize::from((mode >> 1) & 1)),
            _ => {
                return bad(
                    total,
                    format!("m = {mode}; expected 0–3 or 48–51 (the scale of the dots)"),
                );
            }
        };
        if let Some(error) = self.unprinted_text(offset, "GS v 0 (raster image)") {
            return Step::Rejected { skip: total, error };
        }
        let left_dots = self.settings.left_margin_dots;
        if left_dots + width_bytes * 8 * across > MAX_PAPER_DOTS {
            return bad(
                total,
                format!(
                    "{width_bytes} bytes wide from a left margin of {left_dots} dots: past the \
                     edge of 80 mm paper ({MAX_PAPER_DOTS} dots), where a printer cuts it off"
                ),
            );
        }
        let data = scaled(&input[8..total], width_bytes, across, down);
        let (width_bytes, rows) = (width_bytes * across, rows * down);
        match &mut self.image {
            Some(image) if image.width_bytes == width_bytes && image.left_dots == left_dots => {
                image.packed_rows.extend_from_slice(&data);
                image.height += rows;
            }
            _ => {
                self.flush_image(out);
                self.image = Some(ImageInProgress {
                    width_bytes,
                    left_dots,
                    height: rows,
                    packed_rows: data,
                });
            }
        }
        Step::Consumed(total)
    }

    fn step_left_margin(&mut self, input: &[u8], offset: usize) -> Step {
        if input.len() < 4 {
            return Step::NeedMore;
        }
        if let Some(error) = self.unprinted_text(offset, "GS L (left margin)") {
            return Step::Rejected { skip: 4, error };
        }
        let dots = usize::from(input[2]) + 256 * usize::from(input[3]);
        if dots >= MAX_PAPER_DOTS {
            return Step::Rejected {
                skip: 4,
                error: DecodeError::BadParameter {
                    offset,
                    command: "GS L (left margin)",
                    detail: format!("{dots} dots; 80 mm paper is {MAX_PAPER_DOTS} dots wide"),
                },
            };
        }
        self.settings.left_margin_dots = dots;
        Step::Consumed(4)
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

/// Raster rows as the printer prints them at a GS v 0 scale: each dot `across` dots wide and
/// each row `down` rows tall.
fn scaled(data: &[u8], width_bytes: usize, across: usize, down: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() * across * down);
    for row in data.chunks(width_bytes) {
        let wide: Vec<u8> = if across == 1 {
            row.to_vec()
        } else {
            row.iter()
                .flat_map(|&byte| {
                    let doubled = (0..8).fold(0u16, |acc, bit| {
                        if byte & (0x80 >> bit) != 0 {
                            acc | (0xC000 >> (2 * bit))
                        } else {
                            acc
                        }
                    });
                    doubled.to_be_bytes()
                })
                .collect()
        };
        for _ in 0..down {
            out.extend_from_slice(&wide);
        }
    }
    out
}

/// A name for the command that starts `bytes`, for [`DecodeError::Truncated`].
fn command_name(bytes: &[u8]) -> &'static str {
    match bytes {
        [ESC, ..] => "an ESC command",
        [GS, b'(', ..] => "GS ( k (QR code)",
        [GS, b'v', ..] => "GS v 0 (raster image)",
        [GS, b'V', ..] => "GS V (cut)",
        [GS, b'L', ..] => "GS L (left margin)",
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
