//! The kiosk's voice: one thread that speaks one prompt at a time, so speaking never blocks the
//! UI. A new prompt cuts the one being spoken short (the screen changed, something was
//! tapped); the volume staff set lasts until the next resident, who starts at the configured
//! level again.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;

use tracing::warn;

use super::audio::{AudioSink, Played};
use super::clip_cache::ClipCache;
use super::spoken_text::voices;
use crate::concern::Lang;

/// What the thread is asked to do.
enum Request {
    Say {
        text: String,
        lang: Lang,
        generation: u64,
    },
    /// Render into the cache without playing, while nothing has been said since.
    Warm {
        texts: Vec<(String, Lang)>,
        generation: u64,
    },
    Quit,
}

/// What the speaker did with a prompt, for its log and the tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spoken {
    Whole { text: String, volume: u8 },
    CutShort { text: String, after_samples: usize },
    Failed { text: String, error: String },
}

/// The handle the UI holds; dropping it stops the thread.
pub struct Speaker {
    requests: Sender<Request>,
    /// The newest request: a prompt older than this is stale and stops.
    latest: Arc<AtomicU64>,
    volume: Arc<AtomicU8>,
    configured_volume: u8,
    thread: Option<JoinHandle<()>>,
}

impl Speaker {
    /// Starts the thread. `report` hears how each prompt ended.
    pub fn start(
        cache: ClipCache,
        sink: Box<dyn AudioSink>,
        configured_volume: u8,
        report: Box<dyn Fn(Spoken) + Send>,
    ) -> std::io::Result<Speaker> {
        let (requests, inbox) = channel();
        let latest = Arc::new(AtomicU64::new(0));
        let volume = Arc::new(AtomicU8::new(configured_volume.min(100)));
        let thread = {
            let latest = Arc::clone(&latest);
            let volume = Arc::clone(&volume);
            std::thread::Builder::new()
                .name("speaker".into())
                .spawn(move || speak_requests(&inbox, &cache, sink, &latest, &volume, &*report))?
        };
        Ok(Speaker {
            requests,
            latest,
            volume,
            configured_volume: configured_volume.min(100),
            thread: Some(thread),
        })
    }

    /// Speaks `text`, cutting short whatever is being spoken.
    pub fn say(&self, text: String, lang: Lang) {
        let generation = self.latest.fetch_add(1, Ordering::SeqCst) + 1;
        // A closed channel means the thread has gone; the kiosk goes on silent.
        let _ = self.requests.send(Request::Say {
            text,
            lang,
            generation,
        });
    }

    /// Renders `texts` into the cache while the kiosk is idle, so the first resident of the day
    /// hears them at once; given up as soon as anything is said.
    pub fn warm(&self, texts: Vec<(String, Lang)>) {
        let generation = self.latest.load(Ordering::SeqCst);
        let _ = self.requests.send(Request::Warm { texts, generation });
    }

    /// Stops speaking now.
    pub fn stop(&self) {
        self.latest.fetch_add(1, Ordering::SeqCst);
    }

    /// The volume from the staff menu, in percent, for this resident.
    pub fn set_volume(&self, percent: u8) {
        self.volume.store(percent.min(100), Ordering::SeqCst);
    }

    pub fn volume(&self) -> u8 {
        self.volume.load(Ordering::SeqCst)
    }

    /// A new resident: back to the configured volume, and nothing of the last one is said.
    pub fn new_resident(&self) {
        self.stop();
        self.set_volume(self.configured_volume);
    }
}

impl Drop for Speaker {
    fn drop(&mut self) {
        self.stop();
        let _ = self.requests.send(Request::Quit);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn speak_requests(
    inbox: &Receiver<Request>,
    cache: &ClipCache,
    mut sink: Box<dyn AudioSink>,
    latest: &AtomicU64,
    volume: &AtomicU8,
    report: &dyn Fn(Spoken),
) {
    while let Ok(request) = inbox.recv() {
        let (text, lang, generation) = match request {
            Request::Say {
                text,
                lang,
                generation,
            } => (text, lang, generation),
            Request::Warm { texts, generation } => {
                for (text, lang) in texts {
                    if latest.load(Ordering::SeqCst) != generation {
                        break;
                    }
                    for (part, voice) in voices(&text, lang) {
                        if let Err(e) = cache.clip(&part, voice) {
                            warn!(error = %e, "a prompt cannot be rendered ahead");
                        }
                    }
                }
                continue;
            }
            Request::Quit => return,
        };
        let current = || latest.load(Ordering::SeqCst) == generation;
        if !current() {
            continue;
        }
        report(speak(&text, lang, cache, &mut *sink, volume, &current));
    }
}

/// Speaks `text` part by part (one voice each), stopping when `current` says no.
fn speak(
    text: &str,
    lang: Lang,
    cache: &ClipCache,
    sink: &mut dyn AudioSink,
    volume: &AtomicU8,
    current: &dyn Fn() -> bool,
) -> Spoken {
    let level = volume.load(Ordering::SeqCst);
    let failed = |error: String| Spoken::Failed {
        text: text.to_string(),
        error,
    };
    let mut samples = 0;
    for (part, voice) in voices(text, lang) {
        let clip = match cache.clip(&part, voice) {
            Ok((clip, _)) => clip,
            Err(e) => {
                warn!(error = %e, "a prompt cannot be spoken");
                return failed(e.to_string());
            }
        };
        match sink.play(&clip, level, current) {
            Ok(Played::Whole) => samples += clip.samples.len(),
            Ok(Played::Stopped { after_samples }) => {
                return Spoken::CutShort {
                    text: text.to_string(),
                    after_samples: samples + after_samples,
                };
            }
            Err(e) => {
                warn!(error = %e, sink = sink.describe(), "speech cannot be played");
                return failed(e.to_string());
            }
        }
    }
    Spoken::Whole {
        text: text.to_string(),
        volume: level,
    }
}
