//! The resident's journey as plain state: the screen shown, what has been chosen and typed so
//! far, which keypad is open, and the staff desk's own entries. No Slint calls and no store:
//! the controller changes it, the view shows it, and Back is decided here.

use chrono::{DateTime, Utc};

use crate::concern::{Concern, Draft, Lang};
use crate::config::Config;
use crate::input_method::{CANDIDATES_SHOWN, Ink, Pinyin, PinyinCandidate};
use crate::store::CaseStatus;
use crate::ui::{CheckNotice, Screen};

/// Building and unit numbers: three digits cover every estate the kiosk is meant for.
pub(super) const MAX_ADDRESS_DIGITS: usize = 4;
/// Phone numbers: 11-digit mobiles, or a landline with its area code (12 digits).
pub(super) const MAX_PHONE_DIGITS: usize = 12;
/// Staff PINs: four to eight digits; with the pad's lock after five wrong PINs, four digits
/// leave a guesser 5 chances in 10 000.
pub(super) const MIN_PIN_DIGITS: usize = 4;
pub(super) const MAX_PIN_DIGITS: usize = 8;
/// A ticket typed for a reprint: MMDD and the day's number, e.g. 1126042 for A1126-042.
pub(super) const TICKET_DIGITS: usize = 7;
/// A ticket typed to check on a concern: MMDD and a number of three digits, or four on the
/// rare day past 999 concerns (A1201-1001).
pub(super) const MIN_CHECK_TICKET_DIGITS: usize = 7;
pub(super) const MAX_CHECK_TICKET_DIGITS: usize = 8;

/// Everything the resident has chosen, and where they are. Back to its default after each
/// resident, so the next one never sees it.
#[derive(Default)]
pub(super) struct Journey {
    pub(super) screen: Screen,
    pub(super) category: Option<usize>,
    /// One flag per phrase of the chosen category.
    pub(super) chosen: Vec<bool>,
    /// The keypad covering the current screen, if one is open.
    pub(super) keypad: Option<Keypad>,
    pub(super) building: String,
    pub(super) unit: String,
    /// Whether the address keypad fills the unit (else the building).
    pub(super) typing_unit: bool,
    pub(super) location: Option<String>,
    /// The resident's own words, written or typed on the writing screen.
    pub(super) text: String,
    pub(super) writing: Writing,
    pub(super) phone: String,
    pub(super) phone_given: bool,
    /// Why the last Submit failed, in the resident's language.
    pub(super) problem: Option<String>,
    pub(super) filed: Option<Concern>,
    pub(super) pin: String,
    pub(super) reprint: String,
    /// What the last staff action came to.
    pub(super) staff_message: String,
    /// Check my concern: the ticket's digits typed (after the kiosk's prefix), the check code,
    /// the kind word shown with them, and what the lookup found.
    pub(super) check_ticket: String,
    pub(super) check_code: String,
    pub(super) check_notice: CheckNotice,
    pub(super) lookup: Option<Lookup>,
    pub(super) idle_warning: bool,
    pub(super) idle_seconds_left: u32,
}

/// The writing screen's state: the tab, the ink on the pad and what it may be, the pinyin
/// typed and the words it may be.
#[derive(Default)]
pub(super) struct Writing {
    pub(super) keyboard: bool,
    pub(super) ink: Option<Ink>,
    /// Counts every change of the ink, so the view draws it again only then.
    pub(super) ink_changes: u64,
    /// The last recognition asked for; older answers are stale.
    pub(super) request: u64,
    /// The characters the ink may be, best first.
    pub(super) candidates: Vec<String>,
    pub(super) pinyin: Pinyin,
    /// The words the pinyin typed may be.
    pub(super) words: Vec<PinyinCandidate>,
}

impl Writing {
    /// A clean pad: no ink and nothing to choose from it.
    pub(super) fn clear_pad(&mut self) {
        self.ink = None;
        self.candidates.clear();
        self.ink_changes = self.ink_changes.wrapping_add(1);
        self.request = self.request.wrapping_add(1);
    }

    /// Nothing typed on the keyboard, and nothing offered for it.
    pub(super) fn clear_typed(&mut self) {
        self.pinyin.clear();
        self.words.clear();
    }

    /// The words offered for the pinyin as it is typed now.
    pub(super) fn offer_words(&mut self) {
        self.words = self.pinyin.candidates(CANDIDATES_SHOWN);
    }
}

/// The keypad that covers its screen; each belongs to one screen, so at most one is open.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Keypad {
    /// Where: the building and unit number.
    Address,
    /// Contact: the phone number to call back.
    Phone,
    /// The staff menu: the ticket number of a receipt to print again.
    Reprint,
}

/// What looking a case up found.
#[derive(Clone, PartialEq, Debug)]
pub(super) enum Lookup {
    Found {
        status: CaseStatus,
        /// When the case last had news (`Store::last_news_at`).
        news_at: Option<DateTime<Utc>>,
        /// The receipt is proved (its check code, or its QR code scanned): the reply shows.
        unlocked: bool,
        /// The rating was given just now, so the resident is thanked for it.
        thanked: bool,
        /// A status slip was queued: once is enough for one look.
        printed: bool,
    },
    /// No case has this number (as typed; empty for a scanned code).
    Unknown { ticket: String },
}

/// Where Back leads from the current state.
#[derive(Clone, Copy, PartialEq, Debug)]
pub(super) enum Back {
    /// An open keypad closes first; the screen under it stays.
    CloseKeypad,
    /// The draft is forgotten.
    Home,
    To(Screen),
}

impl Journey {
    pub(super) fn back(&self) -> Back {
        if self.keypad.is_some() {
            return Back::CloseKeypad;
        }
        match self.screen {
            Screen::Home
            | Screen::Category
            | Screen::Done
            | Screen::StaffPin
            | Screen::StaffMenu => Back::Home,
            Screen::Emergency | Screen::Details => Back::To(Screen::Category),
            Screen::Place | Screen::Writing => Back::To(Screen::Details),
            Screen::Contact => Back::To(Screen::Place),
            Screen::Confirm => Back::To(Screen::Contact),
            Screen::Check => Back::Home,
            Screen::Result => Back::To(Screen::Check),
            Screen::CheckCode | Screen::Rate => Back::To(Screen::Result),
        }
    }

    /// Shows `screen` with no keypad over it (a keypad belongs to the screen it was opened on)
    /// and no earlier filing problem or check notice.
    pub(super) fn go(&mut self, screen: Screen) {
        self.screen = screen;
        self.problem = None;
        self.keypad = None;
        self.check_notice = CheckNotice::None;
    }

    /// The field the address keypad fills now.
    pub(super) fn address_field(&mut self) -> &mut String {
        if self.typing_unit {
            &mut self.unit
        } else {
            &mut self.building
        }
    }

    /// Whether the concern says anything yet: a phrase chosen or words written.
    pub(super) fn says_something(&self) -> bool {
        self.chosen.iter().any(|c| *c) || !self.text.is_empty()
    }

    /// The reprint's typed digits as a ticket number.
    pub(super) fn reprint_ticket(&self, prefix: &str) -> String {
        if self.reprint.is_empty() {
            return String::new();
        }
        typed_ticket(prefix, &self.reprint)
    }

    /// The phrases chosen on Details, joined as Confirm lists them.
    pub(super) fn what(&self, config: &Config, lang: Lang) -> String {
        let phrases = self
            .category
            .and_then(|i| config.categories.get(i))
            .map(|c| c.phrases.as_slice())
            .unwrap_or_default();
        let what: Vec<&str> = phrases
            .iter()
            .zip(&self.chosen)
            .filter(|(_, chosen)| **chosen)
            .map(|(phrase, _)| phrase.get(lang))
            .collect();
        what.join(crate::ui::wording::phrase_separator(lang))
    }

    /// The resident's choices as the core's draft; None before a category is chosen.
    pub(super) fn draft(&self, config: &Config, lang: Lang) -> Option<Draft> {
        let category = config.categories.get(self.category?)?;
        // Phrases by their 1-based number: unambiguous whatever the language.
        let phrases = self
            .chosen
            .iter()
            .enumerate()
            .filter(|(_, chosen)| **chosen)
            .map(|(index, _)| (index + 1).to_string())
            .collect();
        Some(Draft {
            category: category.code.clone(),
            phrases,
            text: (!self.text.is_empty()).then(|| self.text.clone()),
            location: self.location.clone(),
            phone: self.phone_given.then(|| self.phone.clone()),
            lang,
        })
    }
}

/// Typed digits as a ticket number: the kiosk's prefix, MMDD, a dash, the number.
pub(super) fn typed_ticket(prefix: &str, digits: &str) -> String {
    match digits.get(..4).zip(digits.get(4..)) {
        Some((day, number)) if !number.is_empty() => format!("{prefix}{day}-{number}"),
        _ => format!("{prefix}{digits}"),
    }
}

/// Adds a digit typed on a keypad to `field` unless it already holds `max`.
pub(super) fn push_digit(field: &mut String, digit: &str, max: usize) {
    if field.len() < max {
        field.push_str(digit);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_closes_an_open_keypad_before_it_leaves_the_screen() {
        for (screen, keypad) in [
            (Screen::Place, Keypad::Address),
            (Screen::Contact, Keypad::Phone),
            (Screen::StaffMenu, Keypad::Reprint),
        ] {
            let mut journey = Journey::default();
            journey.go(screen);
            journey.keypad = Some(keypad);
            assert_eq!(journey.back(), Back::CloseKeypad, "{keypad:?}");
            journey.keypad = None;
            assert_ne!(journey.back(), Back::CloseKeypad, "{keypad:?}");
        }
    }

    #[test]
    fn a_new_screen_starts_with_its_keypad_closed() {
        let mut journey = Journey {
            keypad: Some(Keypad::Address),
            problem: Some("not saved".into()),
            ..Journey::default()
        };
        journey.go(Screen::Contact);
        assert_eq!(journey.keypad, None);
        assert_eq!(journey.problem, None);
        assert_eq!(journey.back(), Back::To(Screen::Place));
    }

    #[test]
    fn a_reprint_ticket_gets_its_dash_after_the_date() {
        let mut journey = Journey::default();
        assert_eq!(journey.reprint_ticket("A"), "");
        journey.reprint = "1126".into();
        assert_eq!(journey.reprint_ticket("A"), "A1126");
        journey.reprint = "1126042".into();
        assert_eq!(journey.reprint_ticket("A"), "A1126-042");
        assert_eq!(typed_ticket("A", ""), "A");
        assert_eq!(typed_ticket("A", "12011001"), "A1201-1001");
    }

    #[test]
    fn back_from_an_answer_leads_to_the_number_and_from_there_home() {
        let mut journey = Journey::default();
        for (screen, back) in [
            (Screen::Rate, Back::To(Screen::Result)),
            (Screen::CheckCode, Back::To(Screen::Result)),
            (Screen::Result, Back::To(Screen::Check)),
            (Screen::Check, Back::Home),
        ] {
            journey.go(screen);
            assert_eq!(journey.back(), back, "{screen:?}");
        }
    }

    #[test]
    fn a_keypad_stops_at_its_field_length() {
        let mut pin = String::new();
        for _ in 0..MAX_PIN_DIGITS + 2 {
            push_digit(&mut pin, "1", MAX_PIN_DIGITS);
        }
        assert_eq!(pin.len(), MAX_PIN_DIGITS);
    }
}
