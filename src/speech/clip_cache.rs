//! Rendered prompts kept in the data folder, keyed by text, voice and rate, so the prompts a
//! kiosk says all day start at once instead of after the engine has run.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::clip::Clip;
use super::espeak::{Espeak, SpeechError};
use crate::concern::Lang;

/// The folder of the cache inside the data folder.
pub const CLIP_CACHE_DIR: &str = "speech-cache";

/// A folder of WAV clips named by the hash of what made them.
pub struct ClipCache {
    dir: PathBuf,
    engine: Espeak,
}

/// Where a clip came from: what the first-sample benchmark tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Cache,
    Engine,
}

impl ClipCache {
    pub fn new(data_dir: &Path, engine: Espeak) -> ClipCache {
        ClipCache {
            dir: data_dir.join(CLIP_CACHE_DIR),
            engine,
        }
    }

    pub fn engine(&self) -> &Espeak {
        &self.engine
    }

    fn path(&self, text: &str, lang: Lang) -> PathBuf {
        let mut hash = Sha256::new();
        hash.update(Espeak::voice(lang).as_bytes());
        hash.update([0]);
        hash.update(self.engine.rate_wpm().to_le_bytes());
        hash.update(text.as_bytes());
        let key: String = hash
            .finalize()
            .iter()
            .take(16)
            .map(|b| format!("{b:02x}"))
            .collect();
        self.dir.join(format!("{key}.wav"))
    }

    /// The clip of `text` in `lang`: from the cache when it is there and readable, else from
    /// the engine, then kept. A cache that cannot be written only costs the next start.
    pub fn clip(&self, text: &str, lang: Lang) -> Result<(Clip, Source), SpeechError> {
        let path = self.path(text, lang);
        if let Some(clip) = fs::read(&path).ok().and_then(|b| Clip::from_wav(&b).ok()) {
            return Ok((clip, Source::Cache));
        }
        let clip = self.engine.render(text, lang)?;
        if let Err(error) = self.keep(&path, &clip) {
            tracing::warn!(path = %path.display(), %error, "a spoken prompt cannot be cached");
        }
        Ok((clip, Source::Engine))
    }

    /// Written under a temporary name and renamed, so a power cut leaves no half clip.
    fn keep(&self, path: &Path, clip: &Clip) -> std::io::Result<()> {
        fs::create_dir_all(&self.dir)?;
        let partial = path.with_extension("part");
        let mut file = fs::File::create(&partial)?;
        file.write_all(&clip.to_wav())?;
        file.sync_all()?;
        fs::rename(&partial, path)
    }
}
