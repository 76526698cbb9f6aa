//! Tests of the printer emulator in `tests/support/printer_emulator/` itself: its decoder on
//! hand-built ESC/POS streams, and the live emulator over a real pseudo-terminal pair (status
//! answers, faults, XON/XOFF, a small receive buffer, unplugging).

mod support;

use std::io::{ErrorKind, Read, Write};
use std::thread;
use std::time::{Duration, Instant};

use serialport::{FlowControl, SerialPort, TTYPort};
use support::printer_emulator::{
    Align, BusyPattern, Cut, DecodeError, Decoder, EmulatorOptions, Event, Fault, FaultPolicy,
    Feed, HostOutput, LineSpacing, PrinterEmulator, Printout, QrErrorCorrection, XOFF, XON, decode,
};

/// Generous, because CI machines are slow; waits end as soon as the condition holds.
const WAIT: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------------------------
// Building byte streams by hand (deliberately not with the kiosk's own encoder)
// ---------------------------------------------------------------------------------------------

fn gbk(text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(text);
    assert!(!unmappable, "{text:?} is not all GBK");
    bytes.into_owned()
}

struct Stream(Vec<u8>);

impl Stream {
    /// Starts with ESC @, as every job should.
    fn job() -> Stream {
        Stream(vec![0x1B, b'@'])
    }

    fn raw(mut self, bytes: &[u8]) -> Stream {
        self.0.extend_from_slice(bytes);
        self
    }

    fn chinese_mode(self) -> Stream {
        self.raw(&[0x1C, b'&'])
    }

    fn line(self, text: &str) -> Stream {
        let bytes = gbk(text);
        self.raw(&bytes).raw(b"\n")
    }

    fn size(self, width: u8, height: u8) -> Stream {
        self.raw(&[0x1D, b'!', ((width - 1) << 4) | (height - 1)])
    }

    fn align(self, n: u8) -> Stream {
        self.raw(&[0x1B, b'a', n])
    }

    fn bold(self, on: bool) -> Stream {
        self.raw(&[0x1B, b'E', u8::from(on)])
    }

    /// GS ( k: Model 2, module size 6, error correction M, store, print.
    fn qr(self, data: &str) -> Stream {
        let store_length = u16::try_from(data.len() + 3).unwrap().to_le_bytes();
        self.raw(&[0x1D, b'(', b'k', 4, 0, 49, 65, 50, 0])
            .raw(&[0x1D, b'(', b'k', 3, 0, 49, 67, 6])
            .raw(&[0x1D, b'(', b'k', 3, 0, 49, 69, 49])
            .raw(&[
                0x1D,
                b'(',
                b'k',
                store_length[0],
                store_length[1],
                49,
                80,
                48,
            ])
            .raw(data.as_bytes())
            .raw(&[0x1D, b'(', b'k', 3, 0, 49, 81, 48])
    }

    /// GS v 0 bands of at most `band_rows` rows; each row's length a multiple of 8.
    fn raster(mut self, rows: &[Vec<bool>], band_rows: usize) -> Stream {
        let width_bytes = rows[0].len() / 8;
        for band in rows.chunks(band_rows) {
            let x = u16::try_from(width_bytes).unwrap().to_le_bytes();
            let y = u16::try_from(band.len()).unwrap().to_le_bytes();
            self.0
                .extend_from_slice(&[0x1D, b'v', b'0', 0, x[0], x[1], y[0], y[1]]);
            for row in band {
                for dots in row.chunks(8) {
                    let byte = dots
                        .iter()
                        .fold(0u8, |byte, &black| (byte << 1) | u8::from(black));
                    self.0.push(byte);
                }
            }
        }
        self
    }

    fn feed_lines(self, n: u8) -> Stream {
        self.raw(&[0x1B, b'd', n])
    }

    /// GS V 66 0: feed to the cutter and cut partially.
    fn cut(self) -> Stream {
        self.raw(&[0x1D, b'V', 66, 0])
    }

    fn bytes(self) -> Vec<u8> {
        self.0
    }
}

const TRACKING_URL: &str = "https://wanjia.example.org/t/A1126-042";

/// A Chinese receipt shaped like the kiosk's, built byte by byte.
fn chinese_receipt() -> Vec<u8> {
    Stream::job()
        .chinese_mode()
        .align(1)
        .size(2, 2)
        .bold(true)
        .line("万家星城社区")
        .bold(false)
        .size(3, 3)
        .line("A1126-042")
        .size(1, 1)
        .align(b'0')
        .line("类别：环境卫生")
        .line("电话：138****5678")
        .raw(&[0x1B, b'3', 40])
        .line("")
        .raw(&[0x1B, b'2'])
        .line("绿色：7天内答复，2026-12-03前")
        .align(1)
        .qr(TRACKING_URL)
        .feed_lines(3)
        .cut()
        .bytes()
}

/// A QR code of `text` as dot rows: 4 dots a module, a 4-module quiet zone, padded to bytes.
fn qr_rows(text: &str) -> Vec<Vec<bool>> {
    let code = qrcode::QrCode::new(text.as_bytes()).unwrap();
    let modules = code.width();
    let colors = code.to_colors();
    let scale = 4;
    let quiet = 4;
    let side = (modules + 2 * quiet) * scale;
    let width = side.div_ceil(8) * 8;
    (0..side)
        .map(|y| {
            (0..width)
                .map(|x| {
                    let (mx, my) = (
                        (x / scale).wrapping_sub(quiet),
                        (y / scale).wrapping_sub(quiet),
                    );
                    mx < modules && my < modules && colors[my * modules + mx] == qrcode::Color::Dark
                })
                .collect()
        })
        .collect()
}

fn text_line(event: &Event) -> &support::printer_emulator::TextLine {
    match event {
        Event::TextLine(line) => line,
        other => panic!("expected a text line, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// The decoder
// ---------------------------------------------------------------------------------------------

#[test]
fn chinese_text_comes_back_as_unicode_with_size_weight_and_alignment() {
    let events = decode(&chinese_receipt()).unwrap();

    assert_eq!(events[0], Event::Init);
    let title = text_line(&events[1]);
    assert_eq!(title.text, "万家星城社区");
    assert_eq!((title.width_mul, title.height_mul), (2, 2));
    assert!(title.bold);
    assert_eq!(title.align, Align::Center);
    assert_eq!(title.width_dots, 6 * 24 * 2);

    let ticket = text_line(&events[2]);
    assert_eq!(ticket.text, "A1126-042");
    assert_eq!(
        ticket.height_dots(),
        72,
        "a ticket number must be ≥ 64 dots"
    );
    assert_eq!(ticket.width_dots, 9 * 12 * 3);
    assert!(!ticket.bold);

    let category = text_line(&events[3]);
    assert_eq!(category.align, Align::Left, "ESC a '0' is left");
    assert_eq!((category.width_mul, category.height_mul), (1, 1));
    assert_eq!(
        category.width_dots,
        7 * 24,
        "full-width colon is double-byte"
    );

    assert_eq!(text_line(&events[5]).line_spacing, LineSpacing::Dots(40));
    assert_eq!(text_line(&events[6]).line_spacing, LineSpacing::Default);

    let printouts = Printout::split(&events);
    assert_eq!(printouts.len(), 1);
    assert!(printouts[0].cut);
    assert_eq!(
        printouts[0].lines(),
        [
            "万家星城社区",
            "A1126-042",
            "类别：环境卫生",
            "电话：138****5678",
            "",
            "绿色：7天内答复，2026-12-03前",
        ]
    );
    let tail = &events[events.len() - 2..];
    assert_eq!(
        tail,
        [
            Event::Feed(Feed::Lines(3)),
            Event::Cut(Cut {
                partial: true,
                extra_feed_dots: 0
            })
        ]
    );
}

#[test]
fn bytes_fed_one_at_a_time_decode_the_same_as_all_at_once() {
    let stream = chinese_receipt();
    let mut decoder = Decoder::new();
    let mut events = Vec::new();
    for byte in &stream {
        events.extend(decoder.push(std::slice::from_ref(byte)));
    }
    events.extend(decoder.finish());
    let events: Result<Vec<Event>, DecodeError> = events.into_iter().collect();
    assert_eq!(events.unwrap(), decode(&stream).unwrap());
}

#[test]
fn a_size_or_weight_change_inside_a_line_makes_spans() {
    let stream = Stream::job()
        .chinese_mode()
        .raw(&gbk("票号 "))
        .bold(true)
        .size(2, 2)
        .raw(b"A1")
        .raw(b"\n")
        .bytes();
    let events = decode(&stream).unwrap();
    let line = text_line(&events[1]);
    assert_eq!(line.text, "票号 A1");
    assert_eq!(line.spans.len(), 2);
    assert_eq!(line.spans[1].text, "A1");
    assert!(line.spans[1].bold);
    assert!(!line.bold, "only part of the line is bold");
    assert_eq!(
        (line.width_mul, line.height_mul),
        (2, 2),
        "the largest size counts"
    );
    assert_eq!(line.width_dots, 2 * 24 + 12 + 2 * 12 * 2);
}

#[test]
fn without_chinese_mode_gbk_bytes_print_as_code_page_437() {
    let mut stream = vec![0x1B, b'@'];
    stream.extend(gbk("万"));
    stream.extend([0x9C, b'\n']);
    let events = decode(&stream).unwrap();
    assert_eq!(text_line(&events[1]).text, "═≥£");
}

#[test]
fn qr_code_keeps_its_data_and_whether_model_2_was_chosen() {
    let events = decode(&Stream::job().qr(TRACKING_URL).bytes()).unwrap();
    let Event::Qr(qr) = &events[1] else {
        panic!("expected a QR code, got {events:?}");
    };
    assert_eq!(qr.data_text(), Some(TRACKING_URL));
    assert!(qr.model2);
    assert_eq!(qr.module_size, 6);
    assert_eq!(qr.ecc, QrErrorCorrection::M);

    // Store and print only: the printer's own default model, which the kiosk must not rely on.
    let mut bare = vec![
        0x1B, b'@', 0x1D, b'(', b'k', 6, 0, 49, 80, 48, b'a', b'b', b'c',
    ];
    bare.extend([0x1D, b'(', b'k', 3, 0, 49, 81, 48]);
    let events = decode(&bare).unwrap();
    let Event::Qr(qr) = &events[1] else {
        panic!("expected a QR code, got {events:?}");
    };
    assert_eq!(qr.data, b"abc");
    assert!(!qr.model2);
    assert_eq!((qr.module_size, qr.ecc), (3, QrErrorCorrection::L));
}

#[test]
fn two_raster_bands_reassemble_into_one_image_that_decodes_as_the_qr_code() {
    let rows = qr_rows(TRACKING_URL);
    let band_rows = rows.len() / 2 + 1;
    let stream = Stream::job().raster(&rows, band_rows).cut().bytes();
    assert_eq!(rows.chunks(band_rows).count(), 2, "two GS v 0 bands");

    let printouts = Printout::split(&decode(&stream).unwrap());
    let images = printouts[0].images();
    assert_eq!(images.len(), 1);
    let image = images[0];
    assert_eq!((image.width, image.height), (rows[0].len(), rows.len()));
    for (y, row) in rows.iter().enumerate() {
        assert_eq!(image.row(y), row.as_slice(), "row {y}");
    }
    assert_eq!(image.qr_texts(), [TRACKING_URL]);
}

#[test]
fn bands_separated_by_text_or_of_another_width_are_separate_images() {
    let narrow = vec![vec![true; 8]; 3];
    let wide = vec![vec![false; 16]; 2];
    let stream = Stream::job()
        .raster(&narrow, 24)
        .raster(&wide, 24)
        .line("between")
        .raster(&wide, 1)
        .cut()
        .bytes();
    let printouts = Printout::split(&decode(&stream).unwrap());
    let sizes: Vec<(usize, usize)> = printouts[0]
        .images()
        .iter()
        .map(|image| (image.width, image.height))
        .collect();
    assert_eq!(sizes, [(8, 3), (16, 2), (16, 2)]);
}

#[test]
fn the_left_margin_and_dot_feeds_put_bands_where_they_belong_on_the_paper() {
    let stream = Stream::job()
        .raw(&[0x1D, b'L', 16, 0])
        .raw(&[0x1D, b'v', b'0', 0, 1, 0, 2, 0, 0xF0, 0x0F])
        .raw(&[0x1B, b'J', 3])
        .raw(&[0x1D, b'L', 0, 0])
        .raw(&[0x1D, b'v', b'0', 0, 1, 0, 1, 0, 0x80])
        .feed_lines(3)
        .cut()
        .bytes();
    let printouts = Printout::split(&decode(&stream).unwrap());
    let lefts: Vec<usize> = printouts[0].images().iter().map(|i| i.left).collect();
    assert_eq!(lefts, [16, 0]);
    let paper = printouts[0].raster_paper(32).unwrap();
    assert_eq!(paper.height, 2 + 3 + 1, "two rows, three fed, one row");
    let black: Vec<(usize, usize)> = (0..paper.height)
        .flat_map(|y| (0..32).map(move |x| (x, y)))
        .filter(|&(x, y)| paper.is_black(x, y))
        .collect();
    assert_eq!(
        black,
        [
            (16, 0),
            (17, 0),
            (18, 0),
            (19, 0),
            (20, 1),
            (21, 1),
            (22, 1),
            (23, 1),
            (0, 5)
        ]
    );
}

#[test]
fn a_band_at_double_width_height_or_both_prints_each_dot_as_a_block() {
    for (m, across, down) in [(1u8, 2, 1), (2, 1, 2), (3, 2, 2), (51, 2, 2)] {
        let stream = Stream::job()
            .raw(&[0x1D, b'v', b'0', m, 1, 0, 1, 0, 0b1000_0001])
            .cut()
            .bytes();
        let printouts = Printout::split(&decode(&stream).unwrap());
        let paper = printouts[0].raster_paper(16).unwrap();
        assert_eq!(paper.height, down, "m = {m}");
        for y in 0..down {
            for x in 0..16 {
                let expected = x < across || (7 * across..8 * across).contains(&x);
                assert_eq!(paper.is_black(x, y), expected, "m = {m}, dot ({x}, {y})");
            }
        }
    }
}

#[test]
fn a_band_past_the_paper_or_a_margin_after_unprinted_text_is_an_error() {
    let past = Stream::job()
        .raw(&[0x1D, b'L', 0x40, 0x02])
        .raw(&[0x1D, b'v', b'0', 0, 1, 0, 1, 0, 0xFF])
        .bytes();
    assert!(matches!(
        decode(&past),
        Err(DecodeError::BadParameter {
            command: "GS L (left margin)",
            ..
        })
    ));
    let wide = Stream::job()
        .raw(&[0x1D, b'L', 0, 2])
        .raw(&[0x1D, b'v', b'0', 1, 5, 0, 1, 0, 1, 2, 3, 4, 5])
        .bytes();
    assert!(matches!(
        decode(&wide),
        Err(DecodeError::BadParameter {
            command: "GS v 0 (raster image)",
            ..
        })
    ));
    let mut pending = Stream::job().bytes();
    pending.extend_from_slice(b"abc");
    pending.extend_from_slice(&[0x1D, b'L', 8, 0]);
    assert!(matches!(
        decode(&pending),
        Err(DecodeError::NotAtLineStart {
            command: "GS L (left margin)",
            ..
        })
    ));
}

#[test]
fn each_cut_ends_a_printout() {
    let first = Stream::job().line("one").cut().bytes();
    let second = Stream::job().line("two").cut().bytes();
    let unfinished = Stream::job().line("three").bytes();
    let stream = [first, second, unfinished].concat();
    let printouts = Printout::split(&decode(&stream).unwrap());
    let summary: Vec<(Vec<String>, bool)> = printouts.iter().map(|p| (p.lines(), p.cut)).collect();
    assert_eq!(
        summary,
        [
            (vec!["one".to_string()], true),
            (vec!["two".to_string()], true),
            (vec!["three".to_string()], false),
        ]
    );
}

#[test]
fn unexpected_bytes_are_errors_with_their_offset() {
    let unknown = |offset: usize, bytes: &[u8]| DecodeError::UnknownCommand {
        offset,
        bytes: bytes.to_vec(),
    };
    assert_eq!(decode(b"ok\x07\n"), Err(unknown(2, &[0x07])));
    assert_eq!(decode(b"ok\r\n"), Err(unknown(2, &[0x0D])));
    assert_eq!(decode(b"ok\x7f\n"), Err(unknown(2, &[0x7F])));
    assert_eq!(decode(b"\x1bt\x00"), Err(unknown(0, &[0x1B, b't'])));
    assert_eq!(decode(b"\x1d(L\x00"), Err(unknown(0, &[0x1D, b'(', b'L'])));
    assert_eq!(decode(b"\x10\x05\x01"), Err(unknown(0, &[0x10, 0x05])));

    assert!(matches!(
        decode(b"\x10\x04\x05"),
        Err(DecodeError::BadParameter { offset: 0, .. })
    ));
    assert!(matches!(
        decode(b"\x1ba\x03"),
        Err(DecodeError::BadParameter { offset: 0, .. })
    ));
    assert!(matches!(
        decode(b"\x1d!\x08"),
        Err(DecodeError::BadParameter { offset: 0, .. })
    ));
}

#[test]
fn text_a_printer_would_mangle_or_drop_is_an_error() {
    // 𠀀 is outside GBK: GB18030 needs four bytes, which a GBK printer prints as junk.
    let (four_bytes, _, _) = encoding_rs::GB18030.encode("𠀀");
    assert_eq!(four_bytes.len(), 4);
    let stream = [b"\x1c&".as_slice(), &four_bytes, b"\n"].concat();
    assert!(matches!(
        decode(&stream),
        Err(DecodeError::BadText { offset: 2, .. })
    ));

    assert_eq!(
        decode(b"\x1b@abc"),
        Err(DecodeError::UnterminatedLine {
            offset: 2,
            text: "abc".to_string()
        })
    );
    assert!(matches!(
        decode(b"abc\x1dV\x00"),
        Err(DecodeError::NotAtLineStart { offset: 3, .. })
    ));
    assert!(matches!(
        decode(b"\x1dv0\x00\x01\x00\x02\x00\xff"),
        Err(DecodeError::Truncated { offset: 0, .. })
    ));
}

#[test]
fn status_answers_follow_epsons_dle_eot_table() {
    let table = [
        (Fault::None, [0x12, 0x12, 0x12, 0x12]),
        (Fault::PaperNearEnd, [0x12, 0x12, 0x12, 0x1E]),
        (Fault::PaperOut, [0x1A, 0x32, 0x12, 0x7E]),
        (Fault::CoverOpen, [0x1A, 0x16, 0x12, 0x12]),
        (Fault::Offline, [0x1A, 0x52, 0x52, 0x12]),
    ];
    for (fault, answers) in table {
        for (n, expected) in (1..=4).zip(answers) {
            let answer = fault.status_byte(n).unwrap();
            assert_eq!(answer, expected, "{fault:?}, DLE EOT {n}");
            assert_eq!(answer & 0b1001_0011, 0b0001_0010, "pattern 0xx1xx10");
        }
        assert_eq!(fault.status_byte(0), None);
        assert_eq!(fault.status_byte(5), None);
    }
}

// ---------------------------------------------------------------------------------------------
// The live emulator over a pty
// ---------------------------------------------------------------------------------------------

/// Opens the host end of the pty as the kiosk opens its printer port.
fn open_host(path: &str, flow_control: FlowControl) -> TTYPort {
    serialport::new(path, 9600)
        .flow_control(flow_control)
        .timeout(Duration::from_millis(500))
        .open_native()
        .expect("open the host end of the pty")
}

/// An emulator on a fresh pty; the pair's host end is returned to be kept open.
fn printer_on_pty(options: EmulatorOptions) -> (PrinterEmulator, TTYPort, String) {
    let (far_end, host_end) = TTYPort::pair().expect("a pseudo-terminal pair");
    let path = host_end.name().expect("the host end has a name");
    (
        PrinterEmulator::start_with(far_end, options),
        host_end,
        path,
    )
}

fn eventually(what: &str, condition: impl Fn() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(5));
    }
}

fn status(host: &mut TTYPort, n: u8) -> u8 {
    host.write_all(&[0x10, 0x04, n]).unwrap();
    let mut answer = [0u8];
    host.read_exact(&mut answer).unwrap();
    answer[0]
}

#[test]
fn a_stream_written_by_the_host_comes_out_as_the_receipt() {
    let (emulator, _host_end, path) = printer_on_pty(EmulatorOptions::default());
    let mut host = open_host(&path, FlowControl::Software);
    let stream = chinese_receipt();
    host.write_all(&stream).unwrap();

    let printouts = emulator.wait_for_printouts(1, WAIT).unwrap();
    assert_eq!(printouts, Printout::split(&decode(&stream).unwrap()));
    assert_eq!(printouts[0].qrs()[0].data_text(), Some(TRACKING_URL));
    assert_eq!(emulator.raw_bytes(), stream);
    assert_eq!(emulator.decode_errors(), []);
    assert_eq!(emulator.lost_bytes().total(), 0);
}

#[test]
fn dle_eot_is_answered_from_the_fault_state() {
    let (emulator, _host_end, path) = printer_on_pty(EmulatorOptions::default());
    let mut host = open_host(&path, FlowControl::Software);
    for fault in Fault::ALL {
        emulator.set_fault(fault);
        for n in 1..=4 {
            assert_eq!(
                status(&mut host, n),
                fault.status_byte(n).unwrap(),
                "{fault:?}, DLE EOT {n}"
            );
        }
    }
    assert_eq!(emulator.status_answers().len(), 20);
    assert_eq!(emulator.decode_errors(), []);
}

#[test]
fn status_is_answered_at_once_even_while_the_printer_is_busy() {
    let (emulator, _host_end, path) = printer_on_pty(EmulatorOptions::default());
    // Without flow control the host keeps sending after XOFF and reads the XOFF byte itself.
    let mut host = open_host(&path, FlowControl::None);
    assert_eq!(emulator.send_xoff(), HostOutput::Running);
    emulator.set_fault(Fault::PaperOut);
    host.write_all(&[0x10, 0x04, 4]).unwrap();
    let mut answers = [0u8; 2];
    host.read_exact(&mut answers).unwrap();
    assert_eq!(answers, [XOFF, 0x7E]);
}

#[test]
fn a_held_job_prints_once_the_fault_clears() {
    let (emulator, _host_end, path) = printer_on_pty(EmulatorOptions::default());
    let mut host = open_host(&path, FlowControl::Software);
    emulator.set_fault(Fault::PaperOut);
    assert_eq!(status(&mut host, 1), 0x1A);
    let stream = Stream::job().line("held").cut().bytes();
    host.write_all(&stream).unwrap();
    emulator.wait_for_raw_bytes(3 + stream.len(), WAIT).unwrap();
    thread::sleep(Duration::from_millis(50));
    assert_eq!(emulator.printouts(), []);

    emulator.set_fault(Fault::None);
    let printouts = emulator.wait_for_printouts(1, WAIT).unwrap();
    assert_eq!(printouts[0].lines(), ["held"]);
}

#[test]
fn a_discarding_printer_loses_what_arrives_during_a_fault() {
    let options = EmulatorOptions {
        fault_policy: FaultPolicy::Discard,
        ..EmulatorOptions::default()
    };
    let (emulator, _host_end, path) = printer_on_pty(options);
    let mut host = open_host(&path, FlowControl::Software);
    emulator.set_fault(Fault::CoverOpen);
    let lost_job = Stream::job().line("lost").cut().bytes();
    host.write_all(&lost_job).unwrap();
    eventually("the job to be discarded", || {
        emulator.lost_bytes().discarded_while_faulted == lost_job.len()
    });

    emulator.set_fault(Fault::None);
    host.write_all(&Stream::job().line("printed").cut().bytes())
        .unwrap();
    let printouts = emulator.wait_for_printouts(1, WAIT).unwrap();
    assert_eq!(printouts.len(), 1);
    assert_eq!(printouts[0].lines(), ["printed"]);
}

#[test]
fn xoff_stops_a_host_that_uses_software_flow_control() {
    let (emulator, _host_end, path) = printer_on_pty(EmulatorOptions::default());
    let mut host = open_host(&path, FlowControl::Software);

    assert_eq!(emulator.send_xoff(), HostOutput::Stopped);
    host.set_timeout(Duration::from_millis(300)).unwrap();
    let blocked = host.write(b"\x1b@").unwrap_err();
    assert_eq!(blocked.kind(), ErrorKind::TimedOut, "{blocked}");
    thread::sleep(Duration::from_millis(50));
    assert_eq!(emulator.raw_bytes(), b"");

    assert_eq!(emulator.send_xon(), HostOutput::Running);
    host.set_timeout(Duration::from_millis(500)).unwrap();
    let stream = chinese_receipt();
    host.write_all(&stream).unwrap();
    let printouts = emulator.wait_for_printouts(1, WAIT).unwrap();
    assert_eq!(printouts, Printout::split(&decode(&stream).unwrap()));
    assert_eq!(
        host.bytes_to_read().unwrap(),
        0,
        "the host's line discipline swallows XON and XOFF"
    );
}

#[test]
fn xoff_reaches_a_host_without_flow_control_as_a_plain_byte() {
    let (emulator, _host_end, path) = printer_on_pty(EmulatorOptions::default());
    let mut host = open_host(&path, FlowControl::None);
    assert_eq!(emulator.send_xoff(), HostOutput::Running);
    host.write_all(b"still sending\n").unwrap();
    emulator.wait_for_raw_bytes(14, WAIT).unwrap();
    assert_eq!(emulator.send_xon(), HostOutput::Running);
    let mut received = [0u8; 2];
    host.read_exact(&mut received).unwrap();
    assert_eq!(received, [XOFF, XON]);
}

/// A job of about 3 KB: mostly a raster band, so that it crosses several busy periods.
fn long_job() -> Vec<u8> {
    let rows: Vec<Vec<bool>> = (0..64)
        .map(|y| (0..384).map(|x| (x / 8 + y) % 3 == 0).collect())
        .collect();
    Stream::job()
        .line("busy test")
        .raster(&rows, 24)
        .line("end")
        .cut()
        .bytes()
}

fn busy_printer_options() -> EmulatorOptions {
    EmulatorOptions {
        receive_buffer_bytes: 256,
        busy: Some(BusyPattern {
            every_bytes: 1024,
            pause: Duration::from_millis(500),
        }),
        ..EmulatorOptions::default()
    }
}

#[test]
fn a_busy_printer_loses_nothing_from_a_host_that_honours_xoff() {
    let (emulator, _host_end, path) = printer_on_pty(busy_printer_options());
    let mut host = open_host(&path, FlowControl::Software);
    let stream = long_job();
    host.write_all(&stream).unwrap();

    let printouts = emulator.wait_for_printouts(1, WAIT).unwrap();
    assert_eq!(printouts, Printout::split(&decode(&stream).unwrap()));
    assert_eq!(emulator.lost_bytes().total(), 0);
    assert_eq!(emulator.decode_errors(), []);
}

#[test]
fn a_busy_printer_drops_bytes_from_a_host_that_ignores_xoff() {
    let (emulator, _host_end, path) = printer_on_pty(busy_printer_options());
    let mut host = open_host(&path, FlowControl::None);
    let stream = long_job();
    host.write_all(&stream).unwrap();

    emulator.wait_for_raw_bytes(stream.len(), WAIT).unwrap();
    assert_eq!(emulator.raw_bytes(), stream, "the line carried every byte");
    assert!(
        emulator.lost_bytes().overflowed > 1000,
        "{:?}",
        emulator.lost_bytes()
    );
    let mut flow_bytes = [0u8];
    host.read_exact(&mut flow_bytes).unwrap();
    assert_eq!(flow_bytes, [XOFF], "the printer did say stop");
}

#[test]
fn unplugging_breaks_the_host_port_and_replugging_prints_again() {
    let folder = tempfile::tempdir().unwrap();
    let device = folder.path().join("receipt-printer");
    let device_name = device.to_str().unwrap();
    let emulator = PrinterEmulator::plug_in_at(&device, EmulatorOptions::default()).unwrap();
    assert_eq!(emulator.device_path(), Some(device.as_path()));

    let mut host = open_host(device_name, FlowControl::Software);
    host.write_all(&Stream::job().line("before").cut().bytes())
        .unwrap();
    emulator.wait_for_printouts(1, WAIT).unwrap();

    emulator.disconnect();
    assert!(!emulator.is_connected());
    let write = host.write_all(b"\x1b@").unwrap_err();
    assert_eq!(write.kind(), ErrorKind::BrokenPipe, "{write}");
    let read = host.read(&mut [0u8]).unwrap_err();
    assert_eq!(read.kind(), ErrorKind::BrokenPipe, "{read}");
    assert!(!device.exists(), "the device node is gone while unplugged");
    assert!(serialport::new(device_name, 9600).open().is_err());
    drop(host);

    emulator.reconnect().unwrap();
    let mut host = open_host(device_name, FlowControl::Software);
    assert_eq!(status(&mut host, 1), 0x12);
    host.write_all(&Stream::job().line("after").cut().bytes())
        .unwrap();
    let printouts = emulator.wait_for_printouts(2, WAIT).unwrap();
    assert_eq!(printouts[1].lines(), ["after"]);
}

#[test]
fn a_bare_pty_cannot_be_replugged() {
    let (emulator, _host_end, _path) = printer_on_pty(EmulatorOptions::default());
    emulator.disconnect();
    assert_eq!(
        emulator.reconnect().unwrap_err().kind(),
        ErrorKind::Unsupported
    );
}

#[test]
fn a_bad_byte_from_the_host_is_reported_with_its_offset() {
    let (emulator, _host_end, path) = printer_on_pty(EmulatorOptions::default());
    let mut host = open_host(&path, FlowControl::Software);
    host.write_all(b"\x1b@ok\x07\n").unwrap();
    eventually("a decode error", || !emulator.decode_errors().is_empty());
    assert_eq!(
        emulator.decode_errors(),
        [DecodeError::UnknownCommand {
            offset: 4,
            bytes: vec![0x07]
        }]
    );
}

#[test]
fn a_held_job_that_fills_the_buffer_stops_the_host_and_loses_nothing() {
    let options = EmulatorOptions {
        receive_buffer_bytes: 256,
        ..EmulatorOptions::default()
    };
    let (emulator, _host_end, path) = printer_on_pty(options);
    let mut host = open_host(&path, FlowControl::Software);
    emulator.set_fault(Fault::PaperOut);
    let stream = long_job();
    // On its own thread, as a kiosk's printer task would: a write(2) that XOFF stops halfway
    // waits for XON whatever the port's timeout, because serialport only polls before it.
    let writer = thread::spawn({
        let stream = stream.clone();
        move || host.write_all(&stream)
    });
    eventually("the full buffer to stop the host", || {
        emulator.host_output() == HostOutput::Stopped
    });
    assert!(
        emulator.raw_bytes().len() <= 256,
        "the rest waits on the host's side"
    );
    assert_eq!(emulator.printouts(), []);

    emulator.set_fault(Fault::None);
    let printouts = emulator.wait_for_printouts(1, WAIT).unwrap();
    writer.join().unwrap().unwrap();
    assert_eq!(printouts, Printout::split(&decode(&stream).unwrap()));
    assert_eq!(emulator.lost_bytes().total(), 0);
}

#[test]
fn a_command_cut_off_halfway_swallows_the_next_job_until_a_power_cycle() {
    let (emulator, _host_end, path) = printer_on_pty(EmulatorOptions::default());
    let mut host = open_host(&path, FlowControl::Software);
    // A raster band of 48 × 24 = 1152 bytes, of which only 100 arrive.
    let mut cut_off = vec![0x1B, b'@', 0x1D, b'v', b'0', 0, 48, 0, 24, 0];
    cut_off.extend([0u8; 100]);
    let job = Stream::job().line("next job").cut().bytes();
    host.write_all(&[cut_off.as_slice(), &job].concat())
        .unwrap();
    emulator
        .wait_for_raw_bytes(cut_off.len() + job.len(), WAIT)
        .unwrap();
    thread::sleep(Duration::from_millis(50));
    assert_eq!(emulator.printouts(), [], "the job went into the image");

    emulator.power_cycle();
    host.write_all(&job).unwrap();
    let printouts = emulator.wait_for_printouts(1, WAIT).unwrap();
    assert_eq!(printouts[0].lines(), ["next job"]);
}

#[test]
fn a_line_rate_paces_reception() {
    let baud = 19_200;
    let options = EmulatorOptions {
        line_rate_baud: Some(baud),
        ..EmulatorOptions::default()
    };
    let (emulator, _host_end, path) = printer_on_pty(options);
    let mut host = open_host(&path, FlowControl::Software);
    let mut job = Stream::job();
    for _ in 0..16 {
        job = job.line(&"x".repeat(58));
    }
    let stream = job.cut().bytes();
    let started = Instant::now();
    host.write_all(&stream).unwrap();
    emulator.wait_for_printouts(1, WAIT).unwrap();
    let line_time = Duration::from_secs_f64(stream.len() as f64 * 10.0 / f64::from(baud));
    assert!(
        started.elapsed() >= line_time.mul_f64(0.9),
        "{:?} for {} bytes at {baud} baud",
        started.elapsed(),
        stream.len()
    );
}
