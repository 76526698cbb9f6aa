//! Prints what a long day's staff summary costs on the wire: 200 concerns, in text mode and in
//! raster mode (58 mm), the bytes and the transfer time at 9600 baud (8N1: 10 bits a byte).
//! Run with `cargo bench --bench summary`.

use chrono::{DateTime, TimeDelta};
use concern_kiosk::concern::{Draft, Lang};
use concern_kiosk::config::Config;
use concern_kiosk::paper::PrintMode;
use concern_kiosk::paper::{DEFAULT_BAND_ROWS, encode, render_raster};
use concern_kiosk::printer::line_seconds;
use concern_kiosk::store::Store;
use concern_kiosk::summary::{DailySummary, summary_sheet};

/// A very busy day at one kiosk: several times the few dozen concerns of an ordinary day, so
/// the figures show the sheet's length and drawing time with headroom.
const CONCERNS: usize = 200;
/// The goals for that day: a short strip staff can read at the desk, and bytes a 9600-baud
/// text printer takes in 10 s.
const PAPER_GOAL_METRES: f64 = 1.2;
const TEXT_GOAL_BYTES: usize = 10_000;
const RASTER_GOAL_BYTES: usize = 400_000;

fn main() -> anyhow::Result<()> {
    let config = Config::demo()?;
    let dir = tempfile::tempdir()?;
    let start = DateTime::parse_from_rfc3339("2026-11-26T08:00:00+08:00")?;
    let (mut store, _) = Store::open(dir.path(), start)?;
    for i in 0..CONCERNS {
        let category = &config.categories[i % config.categories.len()];
        let draft = Draft {
            category: category.code.clone(),
            phrases: vec!["1".into()],
            text: None,
            location: Some(format!("{}幢{}单元", i % 30 + 1, i % 4 + 1)),
            phone: None,
            lang: Lang::ZhCn,
        };
        let at = start + TimeDelta::minutes(i as i64 * 3);
        store.file_concern(draft.validate(&config, at)?, "A")?;
    }
    let closing = DateTime::parse_from_rfc3339("2026-11-26T17:30:00+08:00")?;
    let summary = DailySummary::gather(&store, &config, closing.date_naive(), closing)?;
    let sheet = summary_sheet(&summary, &config);
    println!("staff summary of a {CONCERNS}-concern day on 58 mm paper:");
    for (mode, goal) in [
        (PrintMode::Text, TEXT_GOAL_BYTES),
        (PrintMode::Raster, RASTER_GOAL_BYTES),
    ] {
        let bytes = encode(&sheet, mode, DEFAULT_BAND_ROWS)?.len();
        println!(
            "  {mode:?}: {bytes} bytes, {:.1} s at 9600 baud ({:.1} s at 115200)  (goal ≤ {goal} B: {})",
            line_seconds(bytes, 9600),
            line_seconds(bytes, 115_200),
            verdict(bytes <= goal)
        );
    }
    let image = render_raster(&sheet)?;
    let metres = f64::from(image.height()) / 203.0 * 0.0254;
    println!(
        "  the sheet is {} dots long ({metres:.2} m of paper)  (goal ≤ {PAPER_GOAL_METRES} m: {})",
        image.height(),
        verdict(metres <= PAPER_GOAL_METRES)
    );
    Ok(())
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
}
