//! Golden tests: the reference receipt's exact bytes in both modes and its PNG previews, pinned
//! in `tests/golden/` (rewrite them with `UPDATE_GOLDEN=1 cargo test --lib receipt`), and its
//! size against the design's goals. What a printer makes of the bytes is tested end to end
//! through the printer emulator in `tests/printer.rs`.

use super::*;
use crate::concern::{Concern, Lang};
use crate::config::Config;
use crate::golden::check_golden;
use crate::paper::*;

/// The design's goal for a text-mode receipt: 1.2 KB, 1.3 s at 9600 baud.
const TEXT_GOAL_BYTES: usize = 1200;
/// The goal for a raster receipt on 58 mm paper: 21 s at 9600 baud, the default of most serial
/// printers, and 1.8 s at 115200, in either language.
const RASTER_GOAL_BYTES: usize = 20_000;
/// The reference file's tracking URL (the demo's points at the office on the laptop).
const TRACKING_URL: &str = "https://office.example.org/status/{code}";

fn config(width_dots: u32) -> Config {
    let mut config = Config::demo().expect("the demo config");
    config.printer.width_dots = width_dots;
    config.kiosk.tracking_url = Some(TRACKING_URL.into());
    config
}

fn reference(lang: Lang, width_dots: u32) -> (Concern, Document) {
    let config = config(width_dots);
    let concern = reference_concern(&config, lang).expect("the reference concern files");
    let doc = receipt(&concern, &config);
    (concern, doc)
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
            let code_url = TRACKING_URL.replace("{code}", REFERENCE_TRACKING_CODE);
            assert_eq!(found, [code_url], "{lang:?} at {width} dots");
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
