//! Prints how long the kiosk takes to load the handwriting model and to read one character
//! (the candidates a resident sees after a stroke: the ink as written and with its first two
//! strokes swapped): the real zinnia and Debian's model, on the twenty hand-written samples of
//! the tests, on a pad of the reference panel's size. Run with `cargo bench --bench handwriting`.

#[path = "../tests/support/handwriting_samples.rs"]
mod handwriting_samples;

use std::time::{Duration, Instant};

use concern_kiosk::config::Config;
use concern_kiosk::input_method::HandwritingSetup;
use concern_kiosk::input_method::recognizer::candidates_for;
use handwriting_samples::{SAMPLES, ink_for};

/// Rounds over the twenty samples: 500 readings give a steady median and 95th percentile.
const ROUNDS: usize = 25;
/// The reference panel's pad, in pixels.
const PAD: u32 = 430;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let config = Config::parse(
        include_str!("../firmware-config/kiosk.toml"),
        "firmware-config/kiosk.toml",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let setup = HandwritingSetup::check(&config).unwrap_or_else(|off| panic!("{off}"));
    let (recognizer, took) = setup.load().unwrap_or_else(|off| panic!("{off}"));
    println!(
        "model load: {:.1} ms ({} characters)",
        ms(took),
        recognizer.characters()
    );
    let inks: Vec<_> = SAMPLES
        .iter()
        .map(|(_, strokes)| ink_for(strokes, PAD))
        .collect();
    // The first readings page the mapped model in; the kiosk does that at start, so it is
    // reported apart.
    let first = Instant::now();
    for ink in &inks {
        std::hint::black_box(candidates_for(&recognizer, ink));
    }
    println!(
        "first pass over {} characters: {:.1} ms",
        inks.len(),
        ms(first.elapsed())
    );
    let mut times = Vec::with_capacity(inks.len() * ROUNDS);
    for _ in 0..ROUNDS {
        for ink in &inks {
            let started = Instant::now();
            std::hint::black_box(candidates_for(&recognizer, ink));
            times.push(started.elapsed());
        }
    }
    times.sort_unstable();
    let at = |quantile: usize| times[(times.len() * quantile / 100).min(times.len() - 1)];
    println!(
        "recognition per character: median {:.2} ms, p95 {:.2} ms ({} readings of {} characters)",
        ms(at(50)),
        ms(at(95)),
        times.len(),
        inks.len()
    );
}
