//! The touch UI's figures (issue 6): time to the first rendered frame with the software renderer,
//! peak memory after showing every screen once, and the median time from a tap to the next
//! screen's first frame. Headless, at the reference panel's 1280x800.

use std::time::{Duration, Instant};

use concern_kiosk::config::Config;
use concern_kiosk::ui::screenshots::{DEFAULT_SIZE, HeadlessKiosk};

/// Taps measured for the median: enough for a stable median, quick to run.
const TAPS: usize = 200;

fn main() -> anyhow::Result<()> {
    let start = Instant::now();
    let config = Config::demo()?;
    let kiosk = HeadlessKiosk::new(&config, DEFAULT_SIZE)?;
    kiosk.render();
    let first_frame = start.elapsed();

    let k = kiosk.kiosk();
    let every_screen = |tap: &dyn Fn()| {
        tap();
        kiosk.render();
    };
    every_screen(&|| k.invoke_start_report());
    every_screen(&|| k.invoke_choose_category(7));
    every_screen(&|| k.invoke_emergency_continue());
    every_screen(&|| k.invoke_toggle_phrase(0));
    every_screen(&|| k.invoke_details_next());
    every_screen(&|| k.invoke_open_address_keypad());
    every_screen(&|| k.invoke_place_digit("3".into()));
    every_screen(&|| k.invoke_place_done());
    every_screen(&|| k.invoke_open_phone_keypad());
    every_screen(&|| k.invoke_stay_anonymous());
    every_screen(&|| k.invoke_toggle_language());
    every_screen(&|| k.invoke_submit());
    every_screen(&|| k.invoke_finish());
    every_screen(&|| k.invoke_open_staff());
    every_screen(&|| k.invoke_back());
    let peak_rss_kib = peak_rss_kib();

    let mut taps: Vec<Duration> = Vec::with_capacity(TAPS);
    for i in 0..TAPS {
        let tapped = Instant::now();
        if i % 2 == 0 {
            k.invoke_start_report();
        } else {
            k.invoke_back();
        }
        kiosk.render();
        taps.push(tapped.elapsed());
    }
    taps.sort();
    let median = taps[TAPS / 2];

    println!(
        "ui: first rendered frame {first_frame:.1?} after start (software renderer, 1280x800)"
    );
    match peak_rss_kib {
        Some(kib) => println!(
            "ui: peak RSS {:.1} MiB after showing every screen once",
            kib as f64 / 1024.0
        ),
        None => println!("ui: peak RSS unknown (no /proc/self/status)"),
    }
    println!("ui: median tap to next screen's frame {median:.1?} over {TAPS} taps");
    Ok(())
}

/// VmHWM: the most resident memory this process has had.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}
