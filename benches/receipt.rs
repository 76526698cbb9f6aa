//! Prints what the reference receipt costs on the wire and what the resident waits for it.
//!
//! - Bytes in text mode and in raster mode (58 mm and 80 mm paper), and the time those bytes
//!   need at common baud rates (8N1: 10 bits a byte).
//! - The wait: from the concern's commit to the first byte of its receipt on the wire, and to
//!   the cut, through the real print task and serial port to the printer emulator receiving at
//!   9600 and 115200 baud; beside it, how long drawing the whole image takes, which the printer
//!   would otherwise wait for before the first band.
//!
//! Run with `cargo bench --bench receipt`.

#[path = "../tests/support/printer_emulator/mod.rs"]
mod printer_emulator;

use std::sync::Arc;
use std::time::{Duration, Instant};

use concern_kiosk::clock::SystemClock;
use concern_kiosk::concern::Lang;
use concern_kiosk::config::{Config, FlowControl, PrinterKind};
use concern_kiosk::paper::{DEFAULT_BAND_ROWS, PrintMode, PrintReady, encode, render_raster};
use concern_kiosk::printer::print_queue::{DrainOutcome, PrintQueue};
use concern_kiosk::printer::printer_lock::PrinterLock;
use concern_kiosk::printer::{line_seconds, open_printer};
use concern_kiosk::receipt::{receipt, reference_concern};
use concern_kiosk::store::Store;
use printer_emulator::{EmulatorOptions, PrinterEmulator};

const BAUDS: [u32; 3] = [9600, 19200, 115200];
/// The goals: text mode ≤ 1.2 KB; raster ≤ 20,000 bytes at 58 mm (21 s at 9600 baud).
const TEXT_GOAL: usize = 1200;
const RASTER_58_GOAL: usize = 20_000;
/// The baud rates a resident's wait is measured at: most serial printers' default, and the
/// fastest common one.
const WAIT_BAUDS: [u32; 2] = [9600, 115_200];
/// ESC @, the first byte of every job (the status question before it is not the receipt).
const JOB_START: [u8; 2] = [0x1B, 0x40];

fn main() -> anyhow::Result<()> {
    bytes_on_the_wire()?;
    println!();
    residents_wait()
}

fn bytes_on_the_wire() -> anyhow::Result<()> {
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
                .map(|&baud| format!("{:.2} s", line_seconds(bytes, baud)))
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

/// The zh reference receipt, filed and printed through the print task to the emulator at each
/// baud rate, in both modes.
fn residents_wait() -> anyhow::Result<()> {
    let config = Config::demo()?;
    let concern = reference_concern(&config, Lang::ZhCn)?;
    let doc = receipt(&concern, &config);
    let started = Instant::now();
    render_raster(&doc)?;
    let whole_image = started.elapsed();
    let started = Instant::now();
    let job = PrintReady::new(&doc, PrintMode::Raster, DEFAULT_BAND_ROWS)?;
    let first_band = job.chunks().nth(1).map(|band| band.len());
    let first_band_ready = started.elapsed();
    println!(
        "drawing the whole raster receipt: {:.1} ms; laying it out and drawing its first band \
         ({} bytes): {:.1} ms",
        millis(whole_image),
        first_band.unwrap_or(0),
        millis(first_band_ready)
    );
    println!("the resident's wait, zh receipt on 58 mm paper, from the concern's commit:");
    println!(
        "{:<8} {:>7}  {:>16}  {:>12}",
        "mode", "baud", "first byte", "cut"
    );
    for mode in [PrintMode::Text, PrintMode::Raster] {
        for baud in WAIT_BAUDS {
            let (first_byte, cut) = wait_for_receipt(mode, baud)?;
            println!(
                "{:<8} {baud:>7}  {:>13.1} ms  {:>10.2} s",
                format!("{mode:?}"),
                millis(first_byte),
                cut.as_secs_f64()
            );
        }
    }
    Ok(())
}

/// Files the reference concern and drains the print queue into an emulated printer that
/// receives at `baud`: how long after the commit the job's first byte and the cut arrived.
fn wait_for_receipt(mode: PrintMode, baud: u32) -> anyhow::Result<(Duration, Duration)> {
    let dir = tempfile::tempdir()?;
    let port = dir.path().join("receipt-printer");
    let printer = PrinterEmulator::plug_in_at(
        &port,
        EmulatorOptions {
            line_rate_baud: Some(baud),
            ..EmulatorOptions::default()
        },
    )?;
    let mut config = Config::demo()?;
    config.kiosk.data_dir = dir.path().join("data");
    config.printer.kind = PrinterKind::Serial;
    config.printer.port = Some(port);
    config.printer.baud = baud;
    config.printer.flow_control = FlowControl::Xonxoff;
    config.printer.mode = mode;
    std::fs::create_dir_all(&config.kiosk.data_dir)?;
    let clock = Arc::new(SystemClock);
    let now = concern_kiosk::clock::local_now();
    let (mut store, _) = Store::open(&config.kiosk.data_dir, now)?;
    let (queue_store, _) = Store::open(&config.kiosk.data_dir, now)?;
    let lock = PrinterLock::try_acquire(&config.kiosk.data_dir)?
        .ok_or_else(|| anyhow::anyhow!("the printer lock is taken"))?;
    let mut queue = PrintQueue::new(
        queue_store,
        open_printer(&config),
        config.clone(),
        lock,
        clock,
    )?;
    let reference = reference_concern(&config, Lang::ZhCn)?;
    store.file_concern(reference.details, "A")?;
    let committed = Instant::now();
    let drain = std::thread::spawn(move || queue.drain());
    let mut first_byte = None;
    while first_byte.is_none() && committed.elapsed() < Duration::from_secs(60) {
        if printer.raw_bytes().windows(2).any(|w| w == JOB_START) {
            first_byte = Some(committed.elapsed());
        } else {
            std::thread::sleep(Duration::from_micros(500));
        }
    }
    printer
        .wait_for_printouts(1, Duration::from_secs(120))
        .map_err(|e| anyhow::anyhow!("no receipt: {e:?}"))?;
    let cut = committed.elapsed();
    let outcome = drain
        .join()
        .map_err(|_| anyhow::anyhow!("the print task panicked"))??;
    anyhow::ensure!(
        outcome == DrainOutcome::Empty,
        "the queue ended {outcome:?}"
    );
    anyhow::ensure!(printer.decode_errors().is_empty(), "the printer saw errors");
    let first_byte = first_byte.ok_or_else(|| anyhow::anyhow!("no byte reached the printer"))?;
    Ok((first_byte, cut))
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
}
