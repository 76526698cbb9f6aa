//! Check my concern: a case looked up by the ticket typed or by the receipt's QR code read by a
//! USB barcode scanner (keyboard input), proved with the receipt's check code (a few wrong
//! codes lock that ticket for a while, so nobody can try all ten thousand), rated once, and
//! printed as a status slip.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, TimeDelta};
use tracing::{error, info, warn};

use super::Controller;
use super::journey::{Lookup, MIN_CHECK_TICKET_DIGITS, typed_ticket};
use crate::concern::{CheckCode, Rating, TrackingCode};
use crate::store::{CaseStatus, JobKind, RateOutcome, StoreError};
use crate::ui::{CheckNotice, Screen};

/// A scanner types the QR code's URL, about 50 characters; nothing longer is a receipt, and
/// a stuck key or a stray keyboard must not fill the memory.
const MAX_SCAN_CHARS: usize = 200;
/// Wrong check codes for one ticket before it is locked: enough for a slip of the finger, few
/// enough that guessing one of 10 000 codes is hopeless.
const WRONG_CODES_BEFORE_LOCK: u32 = 5;
/// How long such a ticket stays locked.
const CODE_LOCK: TimeDelta = TimeDelta::minutes(30);

/// The keys the scanner has typed since its last Return, and the check codes tried.
#[derive(Default)]
pub(super) struct Desk {
    scan: String,
    /// Past the limit since the last Return: the rest of that line is thrown away.
    scan_overflowed: bool,
    wrong_codes: HashMap<String, WrongCodes>,
}

#[derive(Default)]
struct WrongCodes {
    count: u32,
    locked_until: Option<DateTime<FixedOffset>>,
}

/// What a finished scan was.
#[derive(Debug, PartialEq)]
pub(super) enum Scanned {
    /// The receipt's tracking code (in its URL or alone): proves the receipt.
    Code(TrackingCode),
    /// A ticket number, from the QR code of an older receipt: as good as typing it.
    Ticket(String),
    Unreadable,
}

impl Desk {
    /// Takes one key's text; at Return, the text collected since the last one.
    fn key(&mut self, text: &str) -> Option<String> {
        let mut finished = None;
        for c in text.chars() {
            if c == '\n' || c == '\r' {
                let line = std::mem::take(&mut self.scan);
                finished = Some(if std::mem::take(&mut self.scan_overflowed) {
                    String::new()
                } else {
                    line
                });
            } else if c.is_control() {
                // Arrows, Tab and the like: a scanner sends none, a keyboard may.
            } else if self.scan.chars().count() < MAX_SCAN_CHARS {
                self.scan.push(c);
            } else {
                self.scan_overflowed = true;
            }
        }
        finished
    }

    fn locked(&self, ticket: &str, now: DateTime<FixedOffset>) -> bool {
        self.wrong_codes
            .get(ticket)
            .and_then(|w| w.locked_until)
            .is_some_and(|until| until > now)
    }

    /// Counts a wrong code; true when it locks the ticket.
    fn wrong_code(&mut self, ticket: &str, now: DateTime<FixedOffset>) -> bool {
        let wrong = self.wrong_codes.entry(ticket.to_string()).or_default();
        wrong.count = wrong.count.saturating_add(1);
        if wrong.count >= WRONG_CODES_BEFORE_LOCK {
            *wrong = WrongCodes {
                count: 0,
                locked_until: now.checked_add_signed(CODE_LOCK),
            };
            return true;
        }
        false
    }
}

/// What a scanned line is: the last path segment of a URL (or the whole text) as a tracking
/// code or a ticket number.
pub(super) fn read_scan(text: &str) -> Scanned {
    let text = text.trim();
    let without_query = text.split(['?', '#']).next().unwrap_or("");
    let last = without_query
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or("");
    if let Some(code) = TrackingCode::parse(last) {
        return Scanned::Code(code);
    }
    if is_ticket(last) {
        return Scanned::Ticket(last.to_ascii_uppercase());
    }
    Scanned::Unreadable
}

/// A prefix of letters, MMDD, a dash and three or four digits: A1126-001.
fn is_ticket(text: &str) -> bool {
    let Some((head, number)) = text.split_once('-') else {
        return false;
    };
    let digits = head.trim_start_matches(|c: char| c.is_ascii_alphabetic());
    let prefix = head.len() - digits.len();
    (1..=4).contains(&prefix)
        && digits.len() == 4
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (3..=4).contains(&number.len())
        && number.bytes().all(|b| b.is_ascii_digit())
}

impl Controller {
    pub(super) fn open_check(&self) {
        self.edit(|j| {
            j.check_ticket.clear();
            j.check_code.clear();
            j.lookup = None;
        });
        self.go(Screen::Check);
    }

    /// Looks up the ticket typed: the state and the promise, not yet the reply.
    pub(super) fn look_up(&self) {
        let digits = self.inner.journey.borrow().check_ticket.clone();
        if digits.len() < MIN_CHECK_TICKET_DIGITS {
            return;
        }
        let ticket = typed_ticket(&self.inner.config.kiosk.ticket_prefix, &digits);
        self.show_case(ticket, |store, t| store.case_status(t), false);
    }

    /// A key from the keyboard; true when it was taken (on Home and the Check screens).
    pub(super) fn scanner_key(&self, text: &str) -> bool {
        let taking = matches!(
            self.screen(),
            Screen::Home | Screen::Check | Screen::CheckCode | Screen::Result
        );
        if !taking {
            return false;
        }
        let Some(line) = self.inner.desk.borrow_mut().key(text) else {
            return true;
        };
        self.touched();
        match read_scan(&line) {
            Scanned::Code(code) => {
                info!("a receipt's QR code was scanned");
                self.show_case(
                    String::new(),
                    |store, _| store.case_status_by_code(&code),
                    true,
                );
            }
            Scanned::Ticket(ticket) => {
                self.show_case(ticket, |store, t| store.case_status(t), false);
            }
            Scanned::Unreadable => {
                warn!(
                    chars = line.chars().count(),
                    "a scan that is no receipt's code"
                );
                self.edit(|j| j.check_notice = CheckNotice::UnreadableScan);
            }
        }
        true
    }

    /// Shows what `find` found for `ticket` on the Result screen.
    fn show_case(
        &self,
        ticket: String,
        find: impl FnOnce(&crate::store::Store, &str) -> Result<Option<CaseStatus>, StoreError>,
        unlocked: bool,
    ) {
        let found = {
            let store = self.inner.store.borrow();
            find(&store, &ticket).and_then(|status| {
                status
                    .map(|s| store.last_news_at(&s).map(|news_at| (s, news_at)))
                    .transpose()
            })
        };
        let lookup = match found {
            Ok(Some((status, news_at))) => Lookup::Found {
                status,
                news_at,
                unlocked,
                thanked: false,
                printed: false,
            },
            Ok(None) => Lookup::Unknown { ticket },
            Err(e) => {
                error!(error = %e, "cannot look the case up");
                return self.edit(|j| j.check_notice = CheckNotice::Unavailable);
            }
        };
        self.edit(|j| {
            j.lookup = Some(lookup);
            j.check_code.clear();
        });
        self.go(Screen::Result);
    }

    pub(super) fn open_check_code(&self) {
        self.edit(|j| j.check_code.clear());
        self.go(Screen::CheckCode);
    }

    /// Proves the receipt with its check code: the reply shows, or a kind word says why not.
    pub(super) fn enter_code(&self) {
        let now = self.inner.clock.now();
        let (status, typed) = {
            let journey = self.inner.journey.borrow();
            let Some(Lookup::Found { status, .. }) = &journey.lookup else {
                return;
            };
            (status.clone(), journey.check_code.clone())
        };
        let mut desk = self.inner.desk.borrow_mut();
        let notice = if desk.locked(&status.ticket, now) {
            CheckNotice::TooManyTries
        } else if CheckCode::parse(&typed).is_some_and(|code| status.opens_with(&code)) {
            drop(desk);
            self.edit(|j| {
                // The slip may be printed again, now with the reply.
                if let Some(Lookup::Found {
                    unlocked, printed, ..
                }) = &mut j.lookup
                {
                    *unlocked = true;
                    *printed = false;
                }
            });
            return self.go(Screen::Result);
        } else if desk.wrong_code(&status.ticket, now) {
            warn!(ticket = %status.ticket, "too many wrong check codes: the ticket is locked");
            CheckNotice::TooManyTries
        } else {
            CheckNotice::WrongCode
        };
        drop(desk);
        self.edit(|j| {
            j.check_code.clear();
            j.check_notice = notice;
        });
    }

    pub(super) fn open_rating(&self) {
        if self.rateable().is_some() {
            self.go(Screen::Rate);
        }
    }

    /// The case on the screen, if its resident may rate it now.
    fn rateable(&self) -> Option<CaseStatus> {
        match &self.inner.journey.borrow().lookup {
            Some(Lookup::Found {
                status,
                unlocked: true,
                ..
            }) if status.may_be_rated() => Some(status.clone()),
            _ => None,
        }
    }

    /// One tap on a face: the rating is kept (once per case) and the resident thanked.
    pub(super) fn rate(&self, index: usize) {
        let (Some(rating), Some(status)) = (Rating::ALL.get(index).copied(), self.rateable())
        else {
            return;
        };
        let now = self.inner.clock.now();
        let outcome = self.inner.store.borrow_mut().rate(&status, rating, now);
        let given = match outcome {
            Ok(RateOutcome::Recorded) => {
                info!(ticket = %status.ticket, rating = rating.code(), "the resident rated the answer");
                Some(rating)
            }
            // Rated a moment ago at this kiosk, or the office has a rating: show that one.
            Ok(RateOutcome::AlreadyRated) => self
                .inner
                .store
                .borrow()
                .case_status(&status.ticket)
                .ok()
                .flatten()
                .and_then(|s| s.rating),
            Err(e) => {
                error!(error = %e, "cannot keep the resident's rating");
                None
            }
        };
        self.edit(|j| {
            if let Some(Lookup::Found {
                status, thanked, ..
            }) = &mut j.lookup
            {
                status.rating = given.or(status.rating);
                *thanked = given.is_some();
            }
        });
        self.go(Screen::Result);
    }

    /// Queues the status slip of the case on the screen, with the reply only if it shows.
    pub(super) fn print_status(&self) {
        let lang = self.lang();
        let kind = match &self.inner.journey.borrow().lookup {
            Some(Lookup::Found {
                status,
                unlocked,
                printed: false,
                ..
            }) => JobKind::StatusSlip {
                ticket: status.ticket.clone(),
                lang,
                with_reply: *unlocked,
            },
            _ => return,
        };
        let queued = self
            .inner
            .store
            .borrow()
            .enqueue_print(&kind, self.inner.clock.now());
        match queued {
            Ok(_) => {
                self.wake_printer();
                self.edit(|j| {
                    if let Some(Lookup::Found { printed, .. }) = &mut j.lookup {
                        *printed = true;
                    }
                });
            }
            Err(e) => error!(error = %e, "cannot queue the status slip"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scan_is_the_last_part_of_the_qr_codes_address() {
        let code = TrackingCode::parse("0123456789ABCDEF").unwrap();
        for text in [
            "http://127.0.0.1:8470/status/0123456789ABCDEF",
            "https://office.example.org/status/0123456789abcdef/",
            "https://office.example.org/status/0123456789ABCDEF?from=qr",
            " 0123456789ABCDEF ",
        ] {
            assert_eq!(read_scan(text), Scanned::Code(code.clone()), "{text}");
        }
        assert_eq!(
            read_scan("https://office.example.org/t/a1126-001"),
            Scanned::Ticket("A1126-001".into())
        );
        for garbage in [
            "",
            "hello",
            "https://example.org/",
            "A1126-01",
            "6901234567892",
        ] {
            assert_eq!(read_scan(garbage), Scanned::Unreadable, "{garbage}");
        }
    }

    #[test]
    fn keys_make_a_line_at_return_and_an_endless_one_is_dropped() {
        let mut desk = Desk::default();
        for c in "AB\tC".chars() {
            assert_eq!(desk.key(&c.to_string()), None);
        }
        assert_eq!(desk.key("\n").as_deref(), Some("ABC"));
        for _ in 0..MAX_SCAN_CHARS + 50 {
            desk.key("x");
        }
        assert_eq!(desk.scan.chars().count(), MAX_SCAN_CHARS);
        assert_eq!(desk.key("\r").as_deref(), Some(""));
        assert_eq!(desk.key("ok\n").as_deref(), Some("ok"));
    }

    #[test]
    fn five_wrong_codes_lock_the_ticket_for_half_an_hour() {
        let mut desk = Desk::default();
        let now = DateTime::parse_from_rfc3339("2026-12-02T10:00:00+08:00").unwrap();
        for _ in 1..WRONG_CODES_BEFORE_LOCK {
            assert!(!desk.wrong_code("A1201-001", now));
        }
        assert!(desk.wrong_code("A1201-001", now));
        assert!(desk.locked("A1201-001", now + TimeDelta::minutes(29)));
        assert!(!desk.locked("A1201-002", now));
        assert!(!desk.locked("A1201-001", now + CODE_LOCK));
    }
}
