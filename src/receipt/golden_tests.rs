//! Golden tests: the reference receipt's exact bytes in both modes, pinned in `tests/golden/`
//! (rewrite them with `UPDATE_GOLDEN=1 cargo test --lib receipt`), its size against the
//! design's goals, and what a printer would make of the bytes.
//!
//! `RECEIPT_PREVIEW_DIR=/some/dir` also writes the reference receipts' PNG previews there.

use std::path::{Path, PathBuf};

use encoding_rs::GBK;

use super::*;
use crate::concern::{Concern, Lang};
use crate::config::Config;

/// The design's goal for a text-mode receipt: 1.2 KB, 1.3 s at 9600 baud.
const TEXT_GOAL_BYTES: usize = 1200;
/// The design's goal for a raster receipt on 58 mm paper.
const RASTER_GOAL_BYTES: usize = 50_000;
const TRACKING_URL: &str = "https://office.example.org/t/A1126-001";

fn config(width_dots: u32) -> Config {
    let mut config = Config::demo().expect("the demo config");
    config.printer.width_dots = width_dots;
    config
}

fn reference(lang: Lang, width_dots: u32) -> (Concern, Document) {
    let config = config(width_dots);
    let concern = reference_concern(&config, lang).expect("the reference concern files");
    let doc = receipt(&concern, &config);
    (concern, doc)
}

fn golden_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

/// Compares `actual` with the golden file, or rewrites it under `UPDATE_GOLDEN=1`.
fn check_golden(name: &str, actual: &[u8]) {
    let path = golden_path(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().expect("tests/golden has a parent"))
            .expect("create tests/golden");
        std::fs::write(&path, actual).expect("write the golden file");
        return;
    }
    let expected = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run `UPDATE_GOLDEN=1 cargo test --lib receipt` to create it",
            path.display()
        )
    });
    if expected != actual {
        let first = expected
            .iter()
            .zip(actual)
            .position(|(a, b)| a != b)
            .unwrap_or(expected.len().min(actual.len()));
        panic!(
            "{name} differs from its golden file at byte {first} ({} bytes expected, {} made); \
             if the change is intended, rerun with UPDATE_GOLDEN=1 and review the PNG previews",
            expected.len(),
            actual.len()
        );
    }
}

#[test]
fn the_reference_receipt_in_text_mode_is_byte_for_byte_the_golden_one() {
    let (_, zh) = reference(Lang::ZhCn, 384);
    check_golden("receipt-zh-text-384.bin", &encode_text(&zh).unwrap());
    let (_, en) = reference(Lang::En, 384);
    check_golden("receipt-en-text-384.bin", &encode_text(&en).unwrap());
}

#[test]
fn the_reference_receipt_in_raster_mode_is_byte_for_byte_the_golden_one() {
    let (_, zh) = reference(Lang::ZhCn, 384);
    let image = render_raster(&zh).unwrap();
    check_golden(
        "receipt-zh-raster-384.bin",
        &encode_raster(&image, DEFAULT_BAND_ROWS),
    );
    // The README shows these previews: pinning them keeps the pictures true to the code.
    check_golden("receipt-zh-384.png", &png_bytes(&image).unwrap());
    let (_, en) = reference(Lang::En, 384);
    check_golden(
        "receipt-en-384.png",
        &png_bytes(&render_raster(&en).unwrap()).unwrap(),
    );
}

#[test]
fn the_reference_receipt_meets_the_size_goals() {
    let mut report = Vec::new();
    let mut text_sizes = Vec::new();
    let mut raster_sizes = Vec::new();
    for lang in [Lang::ZhCn, Lang::En] {
        let (_, doc) = reference(lang, 384);
        let text = encode_text(&doc).unwrap();
        report.push(format!("{} text 384: {} bytes", lang.tag(), text.len()));
        text_sizes.push(text.len());
        for width in [384, 576] {
            let (_, doc) = reference(lang, width);
            let image = render_raster(&doc).unwrap();
            let raster = encode_raster(&image, DEFAULT_BAND_ROWS);
            report.push(format!(
                "{} raster {width}: {} bytes, {} rows",
                lang.tag(),
                raster.len(),
                image.height()
            ));
            if width == 384 {
                raster_sizes.push(raster.len());
            }
        }
    }
    let report = report.join("\n");
    eprintln!("{report}");
    assert!(text_sizes.iter().all(|&n| n <= TEXT_GOAL_BYTES), "{report}");
    assert!(
        raster_sizes.iter().all(|&n| n <= RASTER_GOAL_BYTES),
        "{report}"
    );
}

/// What a printer does with a text-mode stream, as far as these tests need to know.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Printed {
    Init,
    Align(u8),
    Bold(u8),
    Size(u8),
    ChineseOn,
    ChineseOff,
    Feed(u8),
    Cut,
    QrModel(u8),
    QrModule(u8),
    QrCorrection(u8),
    QrStore(Vec<u8>),
    QrPrint,
    Line(String),
}

/// Decodes a text-mode stream. Panics on any byte that is neither a command the encoder sends
/// nor text: a stray control byte is exactly what must never reach a printer.
fn decode(bytes: &[u8]) -> Vec<Printed> {
    let mut printed = Vec::new();
    let mut chinese = false;
    let mut text: Vec<u8> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let rest = &bytes[i..];
        let (event, used) = match rest {
            [0x0A, ..] => {
                let (line, _, bad) = GBK.decode(&text);
                assert!(!bad, "undecodable text {text:02X?}");
                let line = line.into_owned();
                text.clear();
                (Printed::Line(line), 1)
            }
            [0x1B, b'@', ..] => (Printed::Init, 2),
            [0x1B, b'a', n, ..] => (Printed::Align(*n), 3),
            [0x1B, b'E', n, ..] => (Printed::Bold(*n), 3),
            [0x1B, b'd', n, ..] => (Printed::Feed(*n), 3),
            [0x1D, b'!', n, ..] => (Printed::Size(*n), 3),
            [0x1C, b'&', ..] => {
                chinese = true;
                (Printed::ChineseOn, 2)
            }
            [0x1C, b'.', ..] => {
                chinese = false;
                (Printed::ChineseOff, 2)
            }
            [0x1D, b'V', 66, 0, ..] => (Printed::Cut, 4),
            [0x1D, b'(', b'k', 4, 0, 49, 65, n, 0, ..] => (Printed::QrModel(*n), 9),
            [0x1D, b'(', b'k', 3, 0, 49, 67, n, ..] => (Printed::QrModule(*n), 8),
            [0x1D, b'(', b'k', 3, 0, 49, 69, n, ..] => (Printed::QrCorrection(*n), 8),
            [0x1D, b'(', b'k', 3, 0, 49, 81, 48, ..] => (Printed::QrPrint, 8),
            [0x1D, b'(', b'k', pl, ph, 49, 80, 48, ..] => {
                let len = usize::from(u16::from_le_bytes([*pl, *ph])) - 3;
                (Printed::QrStore(rest[8..8 + len].to_vec()), 8 + len)
            }
            [b, ..] if *b < 0x20 || *b == 0x7F => {
                panic!(
                    "stray control byte {b:02X} at {i}: {:02X?}",
                    &rest[..rest.len().min(8)]
                )
            }
            [b, trail, ..] if *b >= 0x80 => {
                assert!(chinese, "a GBK byte outside Chinese mode at {i}");
                text.extend_from_slice(&[*b, *trail]);
                i += 2;
                continue;
            }
            [b, ..] => {
                assert!(*b < 0x80, "a lone byte {b:02X} at {i}");
                text.push(*b);
                i += 1;
                continue;
            }
            [] => unreachable!(),
        };
        printed.push(event);
        i += used;
    }
    assert!(text.is_empty(), "text after the last line feed");
    printed
}

fn lines(printed: &[Printed]) -> Vec<&str> {
    printed
        .iter()
        .filter_map(|p| match p {
            Printed::Line(line) => Some(line.as_str()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_printer_reads_the_chinese_receipt_back_as_its_lines_and_a_model_2_qr_code() {
    let (_, doc) = reference(Lang::ZhCn, 384);
    let printed = decode(&encode_text(&doc).unwrap());
    // Separators print as lines of dashes; everything else is the document's text.
    let text: Vec<&str> = lines(&printed)
        .into_iter()
        .filter(|l| !l.starts_with("---"))
        .collect();
    assert_eq!(text, doc.plain_lines());
    for expected in [
        "A1126-001",
        "类别：报修设施",
        "橙色：30天内答复（2026-12-26前）",
        "电话：138****5678",
    ] {
        assert!(
            text.contains(&expected),
            "{expected} missing from {text:#?}"
        );
    }
    assert_eq!(printed[0], Printed::Init);
    assert!(
        printed.contains(&Printed::QrModel(50)),
        "Model 2 not selected"
    );
    assert!(printed.contains(&Printed::QrStore(TRACKING_URL.as_bytes().to_vec())));
    let ticket = printed
        .iter()
        .position(|p| p == &Printed::Line("A1126-001".into()))
        .unwrap();
    assert!(
        printed[..ticket].contains(&Printed::Size(0x22)),
        "the ticket number is not triple size"
    );
    assert_eq!(printed[printed.len() - 1], Printed::Cut);
    assert_eq!(printed.iter().filter(|p| **p == Printed::Cut).count(), 1);
}

#[test]
fn control_bytes_in_user_text_print_as_plain_text_never_as_commands() {
    let config = config(384);
    let mut concern = reference_concern(&config, Lang::ZhCn).unwrap();
    // Straight into the concern, past the filing checks: the encoders must hold on their own.
    concern.details.text =
        Some("坏了\u{1b}@\u{1d}V\u{42}\u{0}\u{1c}.\u{10}\u{4}\u{1}\u{1b}d\u{ff}完".into());
    concern.details.location = Some("\u{1d}!\u{77}\u{1b}E\u{1}3幢".into());
    let doc = receipt(&concern, &config);
    let printed = decode(&encode_text(&doc).unwrap());
    assert_eq!(printed.iter().filter(|p| **p == Printed::Init).count(), 1);
    assert_eq!(printed.iter().filter(|p| **p == Printed::Cut).count(), 1);
    assert!(!printed.contains(&Printed::Size(0x77)));
    let text = lines(&printed).concat();
    assert!(text.contains("说明：坏了@VB.d□完"), "{text}");
    assert!(text.contains("地点：!wE3幢"), "{text}");

    let image = render_raster(&doc).unwrap();
    let job = encode_raster(&image, DEFAULT_BAND_ROWS);
    let bands: usize = raster_bands(&image, DEFAULT_BAND_ROWS).count();
    // Nothing but ESC @, the bands and the feed and cut: the job's length says so.
    assert_eq!(
        job.len(),
        2 + bands * 8 + image.rows(0, image.height()).len() + 7
    );
}

#[test]
fn the_qr_code_in_the_raster_receipt_decodes_to_the_tracking_url() {
    for width in [384, 576] {
        for lang in [Lang::ZhCn, Lang::En] {
            let (_, doc) = reference(lang, width);
            let image = render_raster(&doc).unwrap();
            assert_eq!(image.width(), width);
            let w = usize::try_from(image.width()).unwrap();
            let h = usize::try_from(image.height()).unwrap();
            let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| {
                if image.is_black(x as u32, y as u32) {
                    0
                } else {
                    255
                }
            });
            let found: Vec<String> = prepared
                .detect_grids()
                .into_iter()
                .map(|g| g.decode().expect("a readable QR code").1)
                .collect();
            assert_eq!(found, [TRACKING_URL], "{lang:?} at {width} dots");
        }
    }
}

#[test]
fn the_png_preview_is_the_raster_image_dot_for_dot() {
    let (_, doc) = reference(Lang::ZhCn, 384);
    let image = render_raster(&doc).unwrap();
    let png = png_bytes(&image).unwrap();
    let mut reader = png::Decoder::new(std::io::Cursor::new(png))
        .read_info()
        .unwrap();
    let mut buffer = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buffer).unwrap();
    assert_eq!((info.width, info.height), (image.width(), image.height()));
    let inverted: Vec<u8> = buffer.iter().map(|b| !b).collect();
    assert_eq!(inverted, image.rows(0, image.height()));
}

#[test]
fn previews_are_written_when_asked() {
    let Some(dir) = std::env::var_os("RECEIPT_PREVIEW_DIR") else {
        return;
    };
    let dir = PathBuf::from(dir);
    for (lang, name) in [(Lang::ZhCn, "zh"), (Lang::En, "en")] {
        for width in [384, 576] {
            let (_, doc) = reference(lang, width);
            let image = render_raster(&doc).unwrap();
            let suffix = if width == 384 {
                String::new()
            } else {
                format!("-{width}")
            };
            write_png(&image, &dir.join(format!("receipt-{name}{suffix}.png"))).unwrap();
        }
    }
    let mut config = config(384);
    config.printer.mode = PrintMode::Text;
    let page = render_raster(&test_page(
        &config,
        "/dev/receipt-printer at 9600 baud, 8N1, XON/XOFF",
        "ready",
    ))
    .unwrap();
    write_png(&page, &dir.join("printer-test.png")).unwrap();
}
