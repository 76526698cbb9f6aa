//! Raster mode sends ink, not paper: white rows as feeds, each band cropped to its ink and sent
//! at double width or height where its dots come in pairs. Whatever the encoder saves, the
//! paper must come out as the drawn image: the receipt, the test page and the staff summary,
//! on 58 mm and 80 mm paper, streamed band by band as the print task sends them and decoded by
//! the printer emulator, are compared with the rendered image dot for dot.

mod support;

use chrono::{DateTime, FixedOffset, TimeDelta};
use concern_kiosk::concern::{Draft, Lang};
use concern_kiosk::config::Config;
use concern_kiosk::paper::{Document, PrintMode, PrintReady, render_raster};
use concern_kiosk::receipt::{receipt, reference_concern, test_page};
use concern_kiosk::store::Store;
use concern_kiosk::summary::{DailySummary, summary_sheet};
use support::printer_emulator::{Decoder, Image, Printout};

const WIDTHS: [u32; 2] = [384, 576];

fn config(width_dots: u32) -> Config {
    let mut config = Config::demo().expect("the demo config");
    config.printer.width_dots = width_dots;
    config.printer.mode = PrintMode::Raster;
    config
}

fn at(text: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(text).unwrap()
}

/// The document's raster job as the print task streams it, through the emulator's decoder
/// chunk by chunk, and the paper that comes out.
fn printed_paper(doc: &Document, config: &Config) -> (Image, usize) {
    let job = PrintReady::new(doc, PrintMode::Raster, config.printer.band_rows).unwrap();
    let mut decoder = Decoder::new();
    let mut events = Vec::new();
    let mut bytes = 0;
    for chunk in job.chunks() {
        bytes += chunk.len();
        events.extend(decoder.push(&chunk));
    }
    events.extend(decoder.finish());
    let events: Vec<_> = events
        .into_iter()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("the raster job does not decode: {e}"));
    let printouts = Printout::split(&events);
    assert_eq!(printouts.len(), 1, "one slip, cut once");
    assert!(printouts[0].cut);
    let paper = printouts[0]
        .raster_paper(usize::try_from(doc.width_dots).unwrap())
        .unwrap();
    (paper, bytes)
}

fn assert_same_dots(doc: &Document, config: &Config, what: &str) -> usize {
    let drawn = render_raster(doc).unwrap();
    let (paper, bytes) = printed_paper(doc, config);
    assert_eq!(
        (paper.width, paper.height),
        (drawn.width() as usize, drawn.height() as usize),
        "{what}: the paper's size"
    );
    let differing: Vec<(usize, usize)> = (0..paper.height)
        .flat_map(|y| (0..paper.width).map(move |x| (x, y)))
        .filter(|&(x, y)| paper.is_black(x, y) != drawn.is_black(x as u32, y as u32))
        .take(10)
        .collect();
    assert!(
        differing.is_empty(),
        "{what}: dots differ, first at {differing:?}"
    );
    let full = drawn.height() as usize * drawn.bytes_per_row();
    assert!(
        bytes < full,
        "{what}: {bytes} bytes, no fewer than the {full} bytes of the whole image"
    );
    bytes
}

#[test]
fn the_receipt_comes_out_dot_for_dot_on_both_papers_in_both_languages() {
    for width in WIDTHS {
        let config = config(width);
        for lang in [Lang::ZhCn, Lang::En] {
            let concern = reference_concern(&config, lang).unwrap();
            assert_same_dots(
                &receipt(&concern, &config),
                &config,
                &format!("{lang:?} receipt at {width} dots"),
            );
        }
    }
}

#[test]
fn the_test_page_comes_out_dot_for_dot_on_both_papers() {
    for width in WIDTHS {
        let config = config(width);
        let page = test_page(&config, "/dev/ttyUSB0 at 9600 baud, 8N1, XON/XOFF", "ready");
        assert_same_dots(&page, &config, &format!("test page at {width} dots"));
    }
}

#[test]
fn a_busy_days_summary_comes_out_dot_for_dot_on_both_papers() {
    for width in WIDTHS {
        let config = config(width);
        let dir = tempfile::tempdir().unwrap();
        let morning = at("2026-12-01T08:30:00+08:00");
        let (mut store, _) = Store::open(dir.path(), morning).unwrap();
        for (i, category) in config.categories.iter().cycle().take(40).enumerate() {
            let mut draft = Draft::preset(&category.code, "2", Lang::ZhCn);
            draft.location = (i % 3 != 0).then(|| format!("{}号楼", i + 1));
            draft.text = (i % 5 == 0).then(|| "晚上十点以后还很吵，老人睡不着".to_string());
            let filed_at = morning + TimeDelta::minutes(i64::try_from(i).unwrap() * 11);
            store
                .file_concern(draft.validate(&config, filed_at).unwrap(), "A")
                .unwrap();
        }
        let evening = at("2026-12-01T17:30:00+08:00");
        let summary = DailySummary::gather(&store, &config, evening.date_naive(), evening).unwrap();
        assert_same_dots(
            &summary_sheet(&summary, &config),
            &config,
            &format!("summary at {width} dots"),
        );
    }
}
