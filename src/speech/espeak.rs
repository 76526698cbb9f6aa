//! The speech engine: Debian's `espeak-ng` program, asked for one clip at a time. Chinese is
//! spoken with the `cmn-latn-pinyin` voice, which reads characters with Mandarin tones (the
//! plain `cmn` voice reads them with English rules); English with `en`. The text goes in on
//! standard input, never on the command line, so no text can act as an option.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use thiserror::Error;

use super::clip::{Clip, ClipError};
use crate::concern::Lang;

/// The program on the appliance (Debian's and Raspberry Pi OS's package `espeak-ng`).
pub const ESPEAK_PROGRAM: &str = "espeak-ng";
/// The rates espeak-ng accepts (its `-s` option).
pub const RATE_WPM: std::ops::RangeInclusive<u32> = 80..=450;
/// The longest text spoken at once: a screen's prompt with a long reply is well under it.
pub const MAX_SPOKEN_CHARS: usize = 2000;

#[derive(Debug, Error)]
pub enum SpeechError {
    #[error("cannot run {program}: {source} (install the espeak-ng package)")]
    Start {
        program: String,
        source: std::io::Error,
    },
    #[error("{program} failed ({status}): {stderr}")]
    Failed {
        program: String,
        status: std::process::ExitStatus,
        stderr: String,
    },
    #[error("{program} gave no usable audio: {0}", program = ESPEAK_PROGRAM)]
    Audio(#[from] ClipError),
    #[error("the text is {chars} characters; at most {MAX_SPOKEN_CHARS} are spoken at once")]
    TooLong { chars: usize },
}

/// espeak-ng, with the pace it speaks at.
#[derive(Debug, Clone)]
pub struct Espeak {
    program: PathBuf,
    rate_wpm: u32,
}

impl Espeak {
    /// The program at `program` (a name is looked up on `PATH`), speaking at `rate_wpm`
    /// (clamped to what espeak-ng takes).
    pub fn new(program: &Path, rate_wpm: u32) -> Espeak {
        Espeak {
            program: program.to_path_buf(),
            rate_wpm: rate_wpm.clamp(*RATE_WPM.start(), *RATE_WPM.end()),
        }
    }

    pub fn voice(lang: Lang) -> &'static str {
        match lang {
            Lang::ZhCn => "cmn-latn-pinyin",
            Lang::En => "en",
        }
    }

    pub fn rate_wpm(&self) -> u32 {
        self.rate_wpm
    }

    /// `text` spoken in `lang`'s voice.
    pub fn render(&self, text: &str, lang: Lang) -> Result<Clip, SpeechError> {
        let wav = self.run(&["--stdout"], text, lang)?;
        Ok(Clip::from_wav(&wav)?)
    }

    /// The phonemes espeak-ng would speak (`-x`): how a test or a person tuning the prompts
    /// sees that Chinese gets Mandarin tones.
    pub fn phonemes(&self, text: &str, lang: Lang) -> Result<String, SpeechError> {
        let out = self.run(&["-q", "-x"], text, lang)?;
        Ok(String::from_utf8_lossy(&out).trim().to_string())
    }

    fn run(&self, options: &[&str], text: &str, lang: Lang) -> Result<Vec<u8>, SpeechError> {
        let chars = text.chars().count();
        if chars > MAX_SPOKEN_CHARS {
            return Err(SpeechError::TooLong { chars });
        }
        let program = self.program.display().to_string();
        let mut child = Command::new(&self.program)
            .args(["-v", Espeak::voice(lang), "-s", &self.rate_wpm.to_string()])
            .args(options)
            .arg("--stdin")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| SpeechError::Start {
                program: program.clone(),
                source,
            })?;
        let written = child
            .stdin
            .take()
            .map(|mut stdin| stdin.write_all(text.as_bytes()));
        let output = child
            .wait_with_output()
            .map_err(|source| SpeechError::Start {
                program: program.clone(),
                source,
            })?;
        if let Some(Err(source)) = written {
            return Err(SpeechError::Start { program, source });
        }
        if !output.status.success() {
            return Err(SpeechError::Failed {
                program,
                status: output.status,
                stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
            });
        }
        Ok(output.stdout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_program_says_which_package_to_install() {
        let engine = Espeak::new(Path::new("/nonexistent/espeak-ng"), 140);
        let error = engine.render("你好", Lang::ZhCn).unwrap_err();
        assert!(
            error.to_string().contains("install the espeak-ng package"),
            "{error}"
        );
    }

    #[test]
    fn the_rate_is_kept_within_what_espeak_takes_and_long_texts_are_refused() {
        assert_eq!(Espeak::new(Path::new(ESPEAK_PROGRAM), 5).rate_wpm(), 80);
        let engine = Espeak::new(Path::new(ESPEAK_PROGRAM), 10_000);
        assert_eq!(engine.rate_wpm(), 450);
        assert!(matches!(
            engine.render(&"好".repeat(MAX_SPOKEN_CHARS + 1), Lang::ZhCn),
            Err(SpeechError::TooLong { .. })
        ));
    }
}
