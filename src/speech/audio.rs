//! Where speech is heard: the kiosk's sound card through ALSA, behind a small trait so tests
//! record what would have been played instead.

use thiserror::Error;

use super::clip::Clip;

/// Frames written to the sound card at a time: 50 ms at 22,050 Hz, so a tap stops speech
/// within a twentieth of a second.
pub const CHUNK_FRAMES: usize = 1102;

/// How a clip's playing ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Played {
    Whole,
    /// Cut short after this many samples (the screen changed, a tap, a new prompt).
    Stopped {
        after_samples: usize,
    },
}

#[derive(Debug, Error)]
pub enum AudioError {
    #[error("no sound device: {0}")]
    NoDevice(String),
    #[error("the sound device failed: {0}")]
    Failed(String),
}

/// A way to be heard.
pub trait AudioSink: Send {
    /// Plays `clip` at `volume` percent, checking `keep_going` between chunks of
    /// [`CHUNK_FRAMES`]; stops at once when it says no.
    fn play(
        &mut self,
        clip: &Clip,
        volume: u8,
        keep_going: &dyn Fn() -> bool,
    ) -> Result<Played, AudioError>;
    /// What `doctor` says about it.
    fn describe(&self) -> String;
}

/// The samples scaled to `volume` percent (at most 100).
pub fn at_volume(samples: &[i16], volume: u8) -> Vec<i16> {
    let volume = i32::from(volume.min(100));
    samples
        .iter()
        .map(|&s| i16::try_from(i32::from(s) * volume / 100).unwrap_or(s))
        .collect()
}

/// The sound card, opened for each clip so that a card plugged in later, or one that failed
/// once, is tried again.
pub struct AlsaSink {
    device: String,
}

impl AlsaSink {
    /// The ALSA playback `device` (`speech.device`), if it opens for playback now.
    pub fn open(device: &str) -> Result<AlsaSink, AudioError> {
        let sink = AlsaSink {
            device: device.to_string(),
        };
        sink.open_pcm(22_050)?;
        Ok(sink)
    }

    fn open_pcm(&self, rate: u32) -> Result<alsa::pcm::PCM, AudioError> {
        use alsa::pcm::{Access, Format, HwParams, PCM};
        let pcm = PCM::new(&self.device, alsa::Direction::Playback, false)
            .map_err(|e| AudioError::NoDevice(format!("{}: {e}", self.device)))?;
        {
            let failed = |e: alsa::Error| AudioError::Failed(e.to_string());
            let params = HwParams::any(&pcm).map_err(failed)?;
            params.set_channels(1).map_err(failed)?;
            params
                .set_rate(rate, alsa::ValueOr::Nearest)
                .map_err(failed)?;
            params.set_format(Format::s16()).map_err(failed)?;
            params.set_access(Access::RWInterleaved).map_err(failed)?;
            pcm.hw_params(&params).map_err(failed)?;
        }
        Ok(pcm)
    }
}

impl AudioSink for AlsaSink {
    fn play(
        &mut self,
        clip: &Clip,
        volume: u8,
        keep_going: &dyn Fn() -> bool,
    ) -> Result<Played, AudioError> {
        let failed = |e: alsa::Error| AudioError::Failed(e.to_string());
        let pcm = self.open_pcm(clip.sample_rate)?;
        let io = pcm.io_i16().map_err(failed)?;
        let samples = at_volume(&clip.samples, volume);
        let mut played = 0;
        for chunk in samples.chunks(CHUNK_FRAMES) {
            if !keep_going() {
                // Drop what is buffered rather than let it play out.
                pcm.drop().map_err(failed)?;
                return Ok(Played::Stopped {
                    after_samples: played,
                });
            }
            let mut written = 0;
            while written < chunk.len() {
                match io.writei(&chunk[written..]) {
                    Ok(frames) => written += frames,
                    // An underrun: recover and go on with the rest.
                    Err(e) => pcm.try_recover(e, true).map_err(failed)?,
                }
            }
            played += chunk.len();
        }
        pcm.drain().map_err(failed)?;
        Ok(Played::Whole)
    }

    fn describe(&self) -> String {
        format!("ALSA device `{}`", self.device)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volume_scales_every_sample_and_never_goes_past_full() {
        assert_eq!(at_volume(&[1000, -1000, i16::MAX], 50), [500, -500, 16383]);
        assert_eq!(at_volume(&[i16::MIN, 7], 200), [i16::MIN, 7]);
        assert_eq!(at_volume(&[1234], 0), [0]);
    }
}
