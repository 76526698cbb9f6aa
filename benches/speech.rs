//! Prints how long a resident waits between a screen appearing and its prompt's first sound:
//! from `Speaker::say` to the first samples handed to the sound card, with the clip rendered by
//! espeak-ng (uncached) and read from the data folder's cache. Run with
//! `cargo bench --bench speech`.

use std::path::Path;
use std::sync::mpsc::{Sender, channel};
use std::time::{Duration, Instant};

use concern_kiosk::concern::Lang;
use concern_kiosk::config::DEFAULT_SPEECH_RATE_WPM;
use concern_kiosk::speech::{
    AudioError, AudioSink, Clip, ClipCache, ESPEAK_PROGRAM, Espeak, Played, Prompt, Speaker,
};

/// Rounds per figure: espeak-ng's start-up varies from run to run.
const ROUNDS: usize = 10;

/// Tells the moment it is handed a clip, then plays nothing.
struct FirstSample(Sender<Instant>);

impl AudioSink for FirstSample {
    fn play(&mut self, _: &Clip, _: u8, _: &dyn Fn() -> bool) -> Result<Played, AudioError> {
        let _ = self.0.send(Instant::now());
        Ok(Played::Whole)
    }

    fn describe(&self) -> String {
        "the first sample's clock".into()
    }
}

fn main() -> anyhow::Result<()> {
    println!("screen change -> first audio sample ({ROUNDS} rounds, median):");
    for lang in [Lang::ZhCn, Lang::En] {
        let mut uncached = Vec::new();
        let mut cached = Vec::new();
        for round in 0..ROUNDS {
            let dir = tempfile::tempdir()?;
            let (tell, heard) = channel();
            let engine = Espeak::new(Path::new(ESPEAK_PROGRAM), DEFAULT_SPEECH_RATE_WPM);
            let speaker = Speaker::start(
                ClipCache::new(dir.path(), engine),
                Box::new(FirstSample(tell)),
                80,
                Box::new(|_| {}),
            )?;
            // A text no earlier round has cached.
            let words = format!("{} {round}", Prompt::Category.text(lang));
            for times in [&mut uncached, &mut cached] {
                let asked = Instant::now();
                speaker.say(words.clone(), lang);
                let first = heard.recv_timeout(Duration::from_secs(30))?;
                times.push(first - asked);
            }
        }
        println!(
            "  {:<6} uncached {:>7.1} ms   cached {:>6.2} ms",
            lang.tag(),
            median_ms(&mut uncached),
            median_ms(&mut cached)
        );
    }
    Ok(())
}

fn median_ms(times: &mut [Duration]) -> f64 {
    times.sort();
    times[times.len() / 2].as_secs_f64() * 1000.0
}
