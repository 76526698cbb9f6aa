//! A rendered prompt: 16-bit mono samples at the engine's rate, read from and written as WAV.

use thiserror::Error;

/// The loudest sample of a clip that counts as silence: below -48 dBFS, the hiss of a quiet
/// room through a kiosk's speaker.
const SILENCE_PEAK: i16 = 128;
/// The longest clip read back: ten minutes at 22,050 samples a second, far beyond any prompt,
/// so a damaged file cannot make the kiosk allocate without bound.
const MAX_SAMPLES: usize = 22_050 * 600;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clip {
    pub sample_rate: u32,
    pub samples: Vec<i16>,
}

/// Why bytes are not a clip.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ClipError {
    #[error("not a RIFF/WAVE file")]
    NotWave,
    #[error("a WAV file of {channels} channels at {bits} bits; clips are mono 16-bit PCM")]
    Format { channels: u16, bits: u16 },
    #[error("the WAV file has no data chunk")]
    NoData,
    #[error("the clip is longer than {MAX_SAMPLES} samples")]
    TooLong,
}

impl Clip {
    pub fn seconds(&self) -> f64 {
        self.samples.len() as f64 / f64::from(self.sample_rate.max(1))
    }

    /// Whether nothing in it would be heard.
    pub fn is_silent(&self) -> bool {
        self.samples
            .iter()
            .all(|s| s.unsigned_abs() <= SILENCE_PEAK.unsigned_abs())
    }

    /// The clip as a WAV file (RIFF, PCM, mono, 16-bit).
    pub fn to_wav(&self) -> Vec<u8> {
        let data_len = u32::try_from(self.samples.len() * 2).unwrap_or(u32::MAX);
        let mut out = Vec::with_capacity(44 + self.samples.len() * 2);
        out.extend_from_slice(b"RIFF");
        out.extend_from_slice(&data_len.saturating_add(36).to_le_bytes());
        out.extend_from_slice(b"WAVEfmt ");
        out.extend_from_slice(&16u32.to_le_bytes());
        out.extend_from_slice(&1u16.to_le_bytes()); // PCM
        out.extend_from_slice(&1u16.to_le_bytes()); // mono
        out.extend_from_slice(&self.sample_rate.to_le_bytes());
        out.extend_from_slice(&self.sample_rate.saturating_mul(2).to_le_bytes());
        out.extend_from_slice(&2u16.to_le_bytes());
        out.extend_from_slice(&16u16.to_le_bytes());
        out.extend_from_slice(b"data");
        out.extend_from_slice(&data_len.to_le_bytes());
        for sample in &self.samples {
            out.extend_from_slice(&sample.to_le_bytes());
        }
        out
    }

    /// Reads a mono 16-bit PCM WAV file. A data chunk whose length says "to the end" (what
    /// espeak-ng writes on a pipe: 0x7FFFFFFF or 0xFFFFFFFF) is read to the end.
    pub fn from_wav(bytes: &[u8]) -> Result<Clip, ClipError> {
        if bytes.len() < 12 || &bytes[..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
            return Err(ClipError::NotWave);
        }
        let mut at = 12;
        let mut format: Option<(u16, u16, u32)> = None;
        while let Some(header) = bytes.get(at..at + 8) {
            let id = &header[..4];
            let declared = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
            let body_start = at + 8;
            let available = bytes.len() - body_start;
            let length = usize::try_from(declared)
                .unwrap_or(usize::MAX)
                .min(available);
            let body = &bytes[body_start..body_start + length];
            match id {
                b"fmt " if body.len() >= 16 => {
                    let channels = u16::from_le_bytes([body[2], body[3]]);
                    let rate = u32::from_le_bytes([body[4], body[5], body[6], body[7]]);
                    let bits = u16::from_le_bytes([body[14], body[15]]);
                    format = Some((channels, bits, rate));
                }
                b"data" => {
                    let (channels, bits, sample_rate) = format.ok_or(ClipError::NoData)?;
                    if channels != 1 || bits != 16 {
                        return Err(ClipError::Format { channels, bits });
                    }
                    if body.len() / 2 > MAX_SAMPLES {
                        return Err(ClipError::TooLong);
                    }
                    let samples = body
                        .chunks_exact(2)
                        .map(|pair| i16::from_le_bytes([pair[0], pair[1]]))
                        .collect();
                    return Ok(Clip {
                        sample_rate,
                        samples,
                    });
                }
                _ => {}
            }
            // Chunks are padded to an even length.
            at = body_start + length + (length & 1);
        }
        Err(ClipError::NoData)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clip_survives_a_round_trip_through_wav() {
        let clip = Clip {
            sample_rate: 22_050,
            samples: vec![0, 1000, -1000, i16::MAX, i16::MIN],
        };
        assert_eq!(Clip::from_wav(&clip.to_wav()), Ok(clip));
    }

    #[test]
    fn a_streamed_data_chunk_is_read_to_the_end() {
        let clip = Clip {
            sample_rate: 22_050,
            samples: vec![5; 10],
        };
        let mut wav = clip.to_wav();
        wav[40..44].copy_from_slice(&0x7FFF_FFFFu32.to_le_bytes());
        assert_eq!(Clip::from_wav(&wav), Ok(clip));
    }

    #[test]
    fn silence_and_bad_files_are_told_apart() {
        let quiet = Clip {
            sample_rate: 22_050,
            samples: vec![100, -100, 0],
        };
        assert!(quiet.is_silent());
        assert_eq!(Clip::from_wav(b"not a wav file"), Err(ClipError::NotWave));
        let mut stereo = quiet.to_wav();
        stereo[22] = 2;
        assert_eq!(
            Clip::from_wav(&stereo),
            Err(ClipError::Format {
                channels: 2,
                bits: 16
            })
        );
    }
}
