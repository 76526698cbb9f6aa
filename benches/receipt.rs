//! Prints what the reference receipt costs on the wire: bytes in text mode and in raster mode
//! (58 mm and 80 mm paper), and the time those bytes need at common baud rates
//! (8N1: 10 bits a byte). Run with `cargo bench --bench receipt`.

use concern_kiosk::concern::Lang;
use concern_kiosk::config::Config;
use concern_kiosk::paper::PrintMode;
use concern_kiosk::paper::{DEFAULT_BAND_ROWS, encode};
use concern_kiosk::receipt::{receipt, reference_concern};

const BAUDS: [u32; 3] = [9600, 19200, 115200];
/// The goals: text mode ≤ 1.2 KB, raster ≤ 50 KB at 58 mm.
const TEXT_GOAL: usize = 1200;
const RASTER_58_GOAL: usize = 50_000;

fn main() -> anyhow::Result<()> {
    println!("reference receipt (repairs, orange, phone, text, QR):");
    println!(
        "{:<28} {:>8}  transfer time at 9600 / 19200 / 115200 baud",
        "mode", "bytes"
    );
    for lang in [Lang::ZhCn, Lang::En] {
        for (mode, width) in [
            (PrintMode::Text, 384),
            (PrintMode::Raster, 384),
            (PrintMode::Raster, 576),
        ] {
            let mut config = Config::demo()?;
            config.printer.width_dots = width;
            let concern = reference_concern(&config, lang)?;
            let bytes = encode(&receipt(&concern, &config), mode, DEFAULT_BAND_ROWS)?.len();
            let times: Vec<String> = BAUDS
                .iter()
                .map(|&baud| format!("{:.2} s", bytes as f64 * 10.0 / f64::from(baud)))
                .collect();
            let goal = match (mode, width) {
                (PrintMode::Text, _) => {
                    format!("(goal ≤ {TEXT_GOAL} B: {})", verdict(bytes <= TEXT_GOAL))
                }
                (PrintMode::Raster, 384) => {
                    format!(
                        "(goal ≤ {RASTER_58_GOAL} B: {})",
                        verdict(bytes <= RASTER_58_GOAL)
                    )
                }
                _ => String::new(),
            };
            let label = format!(
                "{} {:?} {} mm",
                lang.tag(),
                mode,
                if width == 384 { 58 } else { 80 }
            );
            println!("{label:<28} {bytes:>8}  {}  {goal}", times.join(" / "));
        }
    }
    Ok(())
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
}
