//! Turning a resident's own words into text without a physical keyboard: the ink a finger
//! leaves on the writing pad, recognized by zinnia on a thread of its own, and pinyin typed on
//! the on-screen keyboard. The screens themselves are the UI's.

pub mod handwriting;
pub mod pinyin;
pub mod recognizer;
pub mod setup;
pub mod zinnia;

pub use handwriting::Ink;
pub use pinyin::{Pinyin, PinyinCandidate};
pub use recognizer::{CANDIDATES_SHOWN, HandwritingReader, Recognition, Recognized, start_reader};
pub use setup::{HandwritingOff, HandwritingSetup};
