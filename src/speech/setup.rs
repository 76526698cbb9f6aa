//! Whether this kiosk can speak, from its `[speech]` config and this machine (espeak-ng with
//! both voices, a sound device that opens), the one answer `doctor` and the kiosk both give;
//! and the speaker started from it, with the screens every resident hears rendered ahead.

use std::path::Path;

use thiserror::Error;

use super::audio::{AlsaSink, AudioError, AudioSink};
use super::clip_cache::ClipCache;
use super::espeak::{ESPEAK_PROGRAM, Espeak, SpeechError};
use super::prompts::Prompt;
use super::speaker::{Speaker, Spoken};
use crate::concern::Lang;
use crate::config::Config;

/// Why the kiosk is silent.
#[derive(Debug, Error)]
pub enum SpeechOff {
    #[error("switched off in the config ([speech] enabled = false)")]
    Disabled,
    #[error(transparent)]
    Engine(#[from] SpeechError),
    #[error(transparent)]
    Audio(#[from] AudioError),
    #[error("cannot start the speaker: {0}")]
    Thread(std::io::Error),
}

/// What the kiosk speaks with: the engine (behind its cache in `data_dir`) and the card.
pub struct SpeechSetup {
    pub cache: ClipCache,
    pub sink: AlsaSink,
}

impl SpeechSetup {
    /// Checks `config`'s speech on this machine: on, espeak-ng speaks both voices, the device
    /// opens.
    pub fn check(config: &Config, data_dir: &Path) -> Result<SpeechSetup, SpeechOff> {
        let speech = &config.speech;
        if !speech.enabled {
            return Err(SpeechOff::Disabled);
        }
        let engine = Espeak::new(Path::new(ESPEAK_PROGRAM), speech.rate_wpm);
        for lang in [Lang::ZhCn, Lang::En] {
            engine.render(".", lang)?;
        }
        let sink = AlsaSink::open(&speech.device)?;
        Ok(SpeechSetup {
            cache: ClipCache::new(data_dir, engine),
            sink,
        })
    }

    /// What `doctor` says of it.
    pub fn describe(&self) -> String {
        format!(
            "espeak-ng ({}, {}) at {} words a minute on {}",
            Espeak::voice(Lang::ZhCn),
            Espeak::voice(Lang::En),
            self.cache.engine().rate_wpm(),
            self.sink.describe()
        )
    }
}

/// The kiosk's speaker on this machine, or why there is none; `report` hears how each
/// prompt ended. The prompts that do not depend on a resident are rendered into the cache
/// first, while nobody is waiting.
pub fn start_speaker(
    config: &Config,
    data_dir: &Path,
    report: Box<dyn Fn(Spoken) + Send>,
) -> Result<Speaker, SpeechOff> {
    let voice = SpeechSetup::check(config, data_dir)?;
    let volume = config.speech.start_volume();
    let speaker = Speaker::start(voice.cache, Box::new(voice.sink), volume, report)
        .map_err(SpeechOff::Thread)?;
    speaker.warm(ahead_of_residents(config));
    Ok(speaker)
}

/// Every prompt that is the same for every resident, in each of the kiosk's languages.
fn ahead_of_residents(config: &Config) -> Vec<(String, Lang)> {
    let mut texts = Vec::new();
    for &lang in &config.kiosk.languages {
        let categories = config.categories.iter().map(|c| Prompt::Details {
            category: c.label.get(lang).to_string(),
        });
        for prompt in Prompt::same_for_everyone().into_iter().chain(categories) {
            texts.push((prompt.text(lang), lang));
        }
    }
    texts
}
