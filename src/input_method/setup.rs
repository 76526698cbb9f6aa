//! Whether this kiosk can read handwriting, from its `[handwriting]` config and this machine
//! (the zinnia library loads, the model is there): the one answer `doctor` and the kiosk both
//! give, before the model itself is loaded in the background.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use super::zinnia::HandwritingOff;
use super::zinnia::{Recognizer, Zinnia};
use crate::config::Config;

/// What the kiosk reads handwriting with: the library opened, the model found.
pub struct HandwritingSetup {
    zinnia: Arc<Zinnia>,
    model: PathBuf,
}

impl HandwritingSetup {
    /// Checks `config`'s handwriting on this machine: on, the library loads, the model file
    /// is readable. Cheap: the model is only read by `load`.
    pub fn check(config: &Config) -> Result<HandwritingSetup, HandwritingOff> {
        let handwriting = &config.handwriting;
        if !handwriting.enabled {
            return Err(HandwritingOff::Disabled);
        }
        let zinnia = Arc::new(Zinnia::open(&handwriting.library)?);
        Zinnia::check_model(&handwriting.model)?;
        Ok(HandwritingSetup {
            zinnia,
            model: handwriting.model.clone(),
        })
    }

    /// Reads the model (tens of megabytes: keep it off the UI thread), and how long it took.
    pub fn load(self) -> Result<(Recognizer, Duration), HandwritingOff> {
        let started = Instant::now();
        let recognizer = self.zinnia.load_model(&self.model)?;
        Ok((recognizer, started.elapsed()))
    }

    /// What `doctor` says of it once loaded.
    pub fn describe(recognizer: &Recognizer, model: &Path, took: Duration) -> String {
        format!(
            "zinnia with {} ({} characters), loaded in {} ms",
            model.display(),
            recognizer.characters(),
            took.as_millis()
        )
    }
}
