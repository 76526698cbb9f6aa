//! Spoken guidance: what each resident screen says aloud (`prompts`), the text made ready for
//! the ear (`spoken_text`), the engine that speaks it (espeak-ng, `espeak`), the clips it makes
//! (`clip`) and the folder that keeps them (`clip_cache`), the thread that speaks one prompt at
//! a time (`speaker`) and the sound card it plays on (`audio`); `setup` says whether this
//! kiosk can speak and starts its speaker.
//!
//! ```text
//! Prompt ─► text(lang) ─► Speaker ─► ClipCache ─┬─► cached WAV ─┬─► AudioSink (ALSA)
//!                                                └─► Espeak ─────┘
//! ```

mod audio;
mod clip;
mod clip_cache;
mod espeak;
mod prompts;
mod setup;
mod speaker;
mod spoken_text;

pub use audio::{AlsaSink, AudioError, AudioSink, CHUNK_FRAMES, Played, at_volume};
pub use clip::{Clip, ClipError};
pub use clip_cache::{CLIP_CACHE_DIR, ClipCache, Source};
pub use espeak::{ESPEAK_PROGRAM, Espeak, MAX_SPOKEN_CHARS, SpeechError};
pub use prompts::{CheckTrouble, Prompt, every_screen};
pub use setup::{SpeechOff, SpeechSetup, start_speaker};
pub use speaker::{Speaker, Spoken};
pub use spoken_text::{config_text, date, one_by_one, time, voices};
