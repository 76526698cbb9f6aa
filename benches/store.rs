//! Prints what filing a concern costs: the median time of one durable filing (insert + commit
//! with `synchronous=FULL`, as the touchscreen does it) and the database size per 10,000
//! concerns. Run with `cargo bench --bench store`.

use std::time::Instant;

use chrono::{DateTime, Duration};
use concern_kiosk::concern::{Draft, Lang};
use concern_kiosk::config::Config;
use concern_kiosk::store::Store;

/// Ten thousand concerns is several years of one kiosk at a few dozen a day: the size its
/// database grows to in service (retention erases personal fields, not concerns).
const CONCERNS: usize = 10_000;

fn main() -> anyhow::Result<()> {
    let config = Config::demo()?;
    let dir = tempfile::tempdir()?;
    let start = DateTime::parse_from_rfc3339("2026-01-01T08:00:00+08:00")?;
    let (mut store, _) = Store::open(dir.path(), start)?;
    let mut timings = Vec::with_capacity(CONCERNS);
    for n in 0..CONCERNS {
        let category = &config.categories[n % config.categories.len()];
        let draft = Draft {
            category: category.code.clone(),
            phrases: vec!["1".into(), "2".into()],
            text: (n % 3 == 0).then(|| "楼上每天晚上十点以后还在装修，老人孩子都睡不好".into()),
            location: Some(format!("{}幢{}单元", n % 30 + 1, n % 4 + 1)),
            phone: (n % 2 == 0).then(|| "13812345678".into()),
            lang: if n % 5 == 0 { Lang::En } else { Lang::ZhCn },
        };
        // Forty a day, as a busy kiosk might see.
        let now = start + Duration::minutes((n as i64 / 40) * 24 * 60 + (n as i64 % 40) * 10);
        let concern = draft.validate(&config, now)?;
        let began = Instant::now();
        store.file_concern(concern, "A")?;
        timings.push(began.elapsed());
    }
    drop(store);
    // Reopening checkpoints nothing by itself; count the WAL too, as the disk holds it.
    let size: u64 = std::fs::read_dir(dir.path())?
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("concerns.db"))
        .map(|e| e.metadata().map(|m| m.len()).unwrap_or(0))
        .sum();
    timings.sort_unstable();
    let median = timings[timings.len() / 2];
    let p95 = timings[timings.len() * 95 / 100];
    println!("filing one concern (insert + commit, WAL, synchronous=FULL), {CONCERNS} filings:");
    println!(
        "  median {:.2} ms, p95 {:.2} ms",
        median.as_secs_f64() * 1e3,
        p95.as_secs_f64() * 1e3
    );
    println!(
        "database size per {CONCERNS} concerns: {:.2} MB ({} bytes, {:.0} bytes per concern)",
        size as f64 / 1e6,
        size,
        size as f64 / CONCERNS as f64
    );
    Ok(())
}
