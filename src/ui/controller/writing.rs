//! Write it yourself: the pad's strokes into ink and the ink to the recognizer thread, its
//! answers onto the screen, the keyboard's letters into pinyin (or straight into the text in
//! English), and the chosen characters into the resident's words, never past their limit.

use super::Controller;
use crate::concern::{Lang, MAX_TEXT_CHARS};
use crate::input_method::{HandwritingReader, Ink, Recognized};
use crate::speech::Prompt;
use crate::ui::{Kiosk, Screen};

/// The largest pad side believed, in pixels: far beyond any kiosk panel, so a bad value from
/// the view cannot make the ink's bounds absurd.
const MAX_PAD_PIXELS: f32 = 4096.0;

impl Controller {
    /// The handwriting recognizer (None: no handwriting here, and the button does not show).
    /// The button shows once the thread says the model is loaded.
    pub fn set_handwriting(&self, reader: Option<HandwritingReader>) {
        *self.inner.handwriting.borrow_mut() = reader;
    }

    /// What the recognizer thread reported; the UI loop delivers it here.
    pub fn handwriting_recognized(&self, recognized: Recognized) {
        match recognized {
            Recognized::Ready => self.set_can_write(true),
            Recognized::Failed(off) => {
                tracing::warn!(reason = %off, "handwriting off");
                *self.inner.handwriting.borrow_mut() = None;
                self.set_can_write(false);
            }
            Recognized::Candidates(recognition) => self.edit(|j| {
                let w = &mut j.writing;
                if recognition.request == w.request && w.ink.is_some() {
                    w.candidates = recognition.candidates;
                }
            }),
        }
    }

    fn set_can_write(&self, can_write: bool) {
        if let Some(window) = self.inner.window.upgrade() {
            slint::ComponentHandle::global::<Kiosk>(&window).set_can_write(can_write);
        }
    }

    pub(super) fn open_writing(&self) {
        self.edit(|j| {
            j.writing.clear_pad();
            j.writing.clear_typed();
        });
        self.go(Screen::Writing);
    }

    /// A finger touches the pad (`side` is the pad's width and height in pixels).
    pub(super) fn pad_down(&self, x: f32, y: f32, side: f32) {
        let side = side.clamp(1.0, MAX_PAD_PIXELS) as u32;
        self.edit(|j| {
            let w = &mut j.writing;
            let ink = w.ink.get_or_insert_with(|| Ink::new(side, side));
            ink.begin_stroke(pixel(x), pixel(y));
            w.ink_changes = w.ink_changes.wrapping_add(1);
        });
    }

    /// The finger moves on the pad: only the ink is drawn again, at the pace of the touch
    /// panel's reports.
    pub(super) fn pad_move(&self, x: f32, y: f32) {
        {
            let mut journey = self.inner.journey.borrow_mut();
            let w = &mut journey.writing;
            let Some(ink) = w.ink.as_mut().filter(|ink| ink.is_drawing()) else {
                return;
            };
            ink.extend_stroke(pixel(x), pixel(y));
            w.ink_changes = w.ink_changes.wrapping_add(1);
        }
        self.paint(|view, kiosk, scene| view.draw_ink(kiosk, scene));
    }

    /// The finger lifts: the stroke is done, and the ink goes to be recognized.
    pub(super) fn pad_up(&self) {
        let mut asked = None;
        self.edit(|j| {
            let w = &mut j.writing;
            let Some(ink) = w.ink.as_mut().filter(|ink| ink.is_drawing()) else {
                return;
            };
            ink.end_stroke();
            w.ink_changes = w.ink_changes.wrapping_add(1);
            w.request = w.request.wrapping_add(1);
            asked = w.ink.clone().map(|ink| (w.request, ink));
        });
        if let (Some((request, ink)), Some(reader)) =
            (asked, self.inner.handwriting.borrow().as_ref())
        {
            reader.recognize(request, ink);
        }
    }

    /// A candidate tapped: the character (or pinyin's word) joins the text and is said.
    pub(super) fn choose_candidate(&self, index: usize) {
        let mut chosen = None;
        self.edit(|j| {
            let w = &mut j.writing;
            if w.keyboard {
                if let Some(word) = w.words.get(index).cloned() {
                    chosen = Some(w.pinyin.choose(&word));
                    w.offer_words();
                }
            } else if let Some(character) = w.candidates.get(index).cloned() {
                chosen = Some(character);
                w.clear_pad();
            }
            if let Some(text) = &chosen {
                add_text(&mut j.text, text);
            }
        });
        if let Some(label) = chosen {
            self.say_tapped(Prompt::Tapped { label });
        }
    }

    /// Punctuation or a space, from beside the pad or on the keyboard.
    pub(super) fn add_mark(&self, mark: &str) {
        self.edit(|j| add_text(&mut j.text, mark));
    }

    /// A letter key: pinyin in Chinese, the letter itself in English.
    pub(super) fn writing_key(&self, key: &str) {
        let composes = self.lang() == Lang::ZhCn;
        self.edit(|j| {
            let Some(letter) = key.chars().next().filter(|_| key.chars().count() == 1) else {
                return;
            };
            if composes {
                let w = &mut j.writing;
                if w.pinyin.type_letter(letter) {
                    w.offer_words();
                }
            } else if letter.is_ascii_alphabetic() {
                add_text(&mut j.text, key);
            }
        });
    }

    /// Delete: a pinyin letter while one is typed, else the text's last character.
    pub(super) fn writing_delete(&self) {
        self.edit(|j| {
            let w = &mut j.writing;
            if w.pinyin.delete_letter() {
                w.offer_words();
            } else {
                j.text.pop();
            }
        });
    }

    pub(super) fn writing_tab(&self, keyboard: bool) {
        self.edit(|j| {
            let w = &mut j.writing;
            w.keyboard = keyboard;
            w.clear_pad();
            w.clear_typed();
        });
    }
}

/// Adds `addition` to the resident's words while they stay within the concern's limit; what
/// would pass it is left out whole (a word is not cut in half).
fn add_text(text: &mut String, addition: &str) {
    let room = MAX_TEXT_CHARS.saturating_sub(text.chars().count());
    if addition.chars().count() <= room {
        text.push_str(addition);
    }
}

/// A position from the view, in whole pixels (a NaN becomes 0; the ink clamps it to the pad).
fn pixel(at: f32) -> i32 {
    at.clamp(-MAX_PAD_PIXELS, MAX_PAD_PIXELS) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_words_stop_at_the_concerns_limit_without_cutting_a_word() {
        let mut text = "水".repeat(MAX_TEXT_CHARS - 1);
        add_text(&mut text, "楼道");
        assert_eq!(text.chars().count(), MAX_TEXT_CHARS - 1);
        add_text(&mut text, "灯");
        assert_eq!(text.chars().count(), MAX_TEXT_CHARS);
        add_text(&mut text, "，");
        assert_eq!(text.chars().count(), MAX_TEXT_CHARS);
    }

    #[test]
    fn positions_from_the_view_are_bounded() {
        assert_eq!(pixel(f32::NAN), 0);
        assert_eq!(pixel(1e12), 4096);
        assert_eq!(pixel(12.7), 12);
    }
}
