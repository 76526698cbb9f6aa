//! A sound card that records what it would have played, for tests of what the kiosk says: the
//! speaker on it is the real one, with the real espeak-ng rendering into a real cache folder.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use concern_kiosk::config::DEFAULT_SPEECH_RATE_WPM;
use concern_kiosk::speech::{
    AudioError, AudioSink, CHUNK_FRAMES, Clip, ClipCache, ESPEAK_PROGRAM, Espeak, Played, Speaker,
    Spoken,
};

/// How long a test waits for a prompt to be rendered and played: espeak-ng on a loaded CI
/// machine.
pub const HEARD_WITHIN: Duration = Duration::from_secs(30);

/// Plays each 50 ms chunk in `chunk_time`: a hundredth of real time so tests run fast, or real
/// time so a tap certainly lands while a prompt plays.
#[derive(Clone)]
pub struct RecordingSink {
    pub playing: Arc<AtomicBool>,
    chunk_time: Duration,
}

impl RecordingSink {
    pub fn fast() -> RecordingSink {
        RecordingSink {
            playing: Arc::default(),
            chunk_time: Duration::from_micros(500),
        }
    }

    pub fn real_time() -> RecordingSink {
        RecordingSink {
            playing: Arc::default(),
            chunk_time: Duration::from_millis(50),
        }
    }

    /// Waits until a clip is being played.
    #[track_caller]
    pub fn wait_until_playing(&self) {
        let started = Instant::now();
        while !self.playing.load(Ordering::SeqCst) {
            assert!(started.elapsed() < HEARD_WITHIN, "no prompt started");
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

impl AudioSink for RecordingSink {
    fn play(
        &mut self,
        clip: &Clip,
        _volume: u8,
        keep_going: &dyn Fn() -> bool,
    ) -> Result<Played, AudioError> {
        self.playing.store(true, Ordering::SeqCst);
        let mut played = 0;
        for chunk in clip.samples.chunks(CHUNK_FRAMES) {
            if !keep_going() {
                self.playing.store(false, Ordering::SeqCst);
                return Ok(Played::Stopped {
                    after_samples: played,
                });
            }
            std::thread::sleep(self.chunk_time);
            played += chunk.len();
        }
        self.playing.store(false, Ordering::SeqCst);
        Ok(Played::Whole)
    }

    fn describe(&self) -> String {
        "a recording".into()
    }
}

pub fn engine() -> Espeak {
    Espeak::new(Path::new(ESPEAK_PROGRAM), DEFAULT_SPEECH_RATE_WPM)
}

/// A speaker on `sink` at `volume`, its cache in `dir`, and how each prompt ended.
pub fn recording_speaker(
    dir: &Path,
    sink: RecordingSink,
    volume: u8,
) -> (Speaker, Receiver<Spoken>) {
    let (tell, heard) = channel();
    let speaker = Speaker::start(
        ClipCache::new(dir, engine()),
        Box::new(sink),
        volume,
        Box::new(move |spoken| {
            let _ = tell.send(spoken);
        }),
    )
    .expect("start the speaker");
    (speaker, heard)
}
