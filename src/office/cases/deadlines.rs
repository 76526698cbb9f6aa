//! What a case is held to, by the community's calendar: the date printed on the resident's
//! receipt for a green or orange case (an answer by then), the next follow-up for a red one,
//! and whether it is overdue, due soon or neither today.

use chrono::{DateTime, Days, FixedOffset, NaiveDate, Utc};

use super::Case;
use crate::concern::Colour;

/// The community's clock (Asia/Shanghai). China has kept UTC+8 without daylight saving since
/// 1991, so a fixed offset gives the right calendar day for every date a case can have, with
/// no time-zone database to ship or update.
pub const COMMUNITY_OFFSET: FixedOffset = match FixedOffset::east_opt(8 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+8 is a valid offset"),
};

/// How many days ahead a deadline counts as due soon: tomorrow and the day after still leave
/// time to act if someone picks the case up today.
pub const DUE_SOON_DAYS: u64 = 2;

/// The council's rule for red cases (定期跟进) unless the office is told otherwise: every
/// fortnight, often enough that a red case is never forgotten between two council meetings.
pub const DEFAULT_FOLLOW_UP_DAYS: u32 = 14;

/// The community's calendar day at `at`.
pub fn community_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&COMMUNITY_OFFSET).date_naive()
}

/// The deadline a case is held to now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deadline {
    /// The resident is promised an answer by this date (the receipt's).
    AnswerBy(NaiveDate),
    /// A red case is to be followed up by this date.
    FollowUpBy(NaiveDate),
    /// Nothing is due: ticked off, or a green or orange case that has had its answer.
    Nothing,
}

impl Deadline {
    pub fn date(self) -> Option<NaiveDate> {
        match self {
            Deadline::AnswerBy(date) | Deadline::FollowUpBy(date) => Some(date),
            Deadline::Nothing => None,
        }
    }
}

/// How a case's deadline stands today; the board lists overdue cases first, then those due
/// soon, then the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Urgency {
    Overdue,
    DueSoon,
    Later,
    NothingDue,
}

impl Case {
    /// The deadline the case is held to, with red cases followed up every `follow_up_days`.
    /// The receipt's date is never recomputed: a red case's first follow-up is the date its
    /// receipt printed, and re-colouring a case does not move it.
    pub fn deadline(&self, follow_up_days: u32) -> Deadline {
        if !self.state.is_open() {
            return Deadline::Nothing;
        }
        if self.colour == Colour::Red {
            let next = match self.last_follow_up_at {
                Some(at) => community_date(at)
                    .checked_add_days(Days::new(u64::from(follow_up_days)))
                    .unwrap_or(NaiveDate::MAX),
                None => self.filing.due_date,
            };
            return Deadline::FollowUpBy(next);
        }
        if self.first_answered_at.is_some() {
            Deadline::Nothing
        } else {
            Deadline::AnswerBy(self.filing.due_date)
        }
    }

    /// Overdue the day after its deadline, by the community's calendar.
    pub fn urgency(&self, today: NaiveDate, follow_up_days: u32) -> Urgency {
        match self.deadline(follow_up_days).date() {
            None => Urgency::NothingDue,
            Some(date) if today > date => Urgency::Overdue,
            Some(date)
                if today
                    .checked_add_days(Days::new(DUE_SOON_DAYS))
                    .is_none_or(|soon| date <= soon) =>
            {
                Urgency::DueSoon
            }
            Some(_) => Urgency::Later,
        }
    }

    /// Whether the resident's first answer came by the receipt's date; `None` before any answer.
    pub fn answered_on_time(&self) -> Option<bool> {
        self.first_answered_at
            .map(|at| community_date(at) <= self.filing.due_date)
    }
}
