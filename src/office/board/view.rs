//! What the board shows, computed from the cases alone: which cases a signed-in account may
//! see, the filters, the order (overdue first, then due soon, then the rest), the counts at the
//! top, and the two lists for the property company.

use chrono::{Datelike, Days, NaiveDate};
use serde::Deserialize;

use crate::concern::{Colour, ListKind};
use crate::office::accounts::Account;
use crate::office::case_store::CaseRecord;
use crate::office::cases::{CaseState, Urgency, community_date};

/// The board's filters, as the form in its header sends them (empty fields mean "any").
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct Filters {
    #[serde(default)]
    pub colour: String,
    #[serde(default)]
    pub list: String,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub handler: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub kiosk: String,
    /// Filed on or after this day (YYYY-MM-DD).
    #[serde(default)]
    pub from: String,
    /// Filed on or before this day (YYYY-MM-DD).
    #[serde(default)]
    pub until: String,
    /// A ticket, or the start of one.
    #[serde(default)]
    pub ticket: String,
    /// Which page of the ordered cases, from 1.
    #[serde(default)]
    pub page: Option<u32>,
}

/// How many cases a page of the board lists: a screenful on an office PC, quick on a phone.
pub const PAGE_SIZE: usize = 50;

impl Filters {
    fn keeps(&self, record: &CaseRecord) -> bool {
        let concern = &record.concern.concern;
        let case = &record.case;
        let filed = concern.created_at.date_naive();
        let day = |text: &str| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok();
        (self.colour.is_empty() || case.colour.code() == self.colour)
            && (self.list.is_empty() || case.list.code() == self.list)
            && (self.state.is_empty() || case.state.code() == self.state)
            && (self.handler.is_empty() || case.handler.as_deref() == Some(self.handler.as_str()))
            && (self.category.is_empty() || concern.category == self.category)
            && (self.kiosk.is_empty() || record.concern.kiosk_id == self.kiosk)
            && day(&self.from).is_none_or(|from| filed >= from)
            && day(&self.until).is_none_or(|until| filed <= until)
            && (self.ticket.trim().is_empty()
                || concern
                    .ticket
                    .to_uppercase()
                    .starts_with(&self.ticket.trim().to_uppercase()))
    }
}

/// The cases `account` may see: a handler only those assigned to them.
pub fn visible_to<'a>(account: &Account, cases: &'a [CaseRecord]) -> Vec<&'a CaseRecord> {
    cases
        .iter()
        .filter(|record| {
            !account.role.sees_only_own_cases()
                || record.case.handler.as_deref() == Some(account.name.as_str())
        })
        .collect()
}

/// The cases the filters keep, overdue first, then due soon, then the rest, then settled;
/// within each, the earliest deadline first, then the oldest concern.
pub fn ordered<'a>(
    cases: &[&'a CaseRecord],
    filters: &Filters,
    today: NaiveDate,
    follow_up_days: u32,
) -> Vec<&'a CaseRecord> {
    let mut kept: Vec<&CaseRecord> = cases.iter().copied().filter(|r| filters.keeps(r)).collect();
    kept.sort_by_key(|record| {
        let case = &record.case;
        (
            case.urgency(today, follow_up_days),
            case.deadline(follow_up_days).date(),
            record.concern.concern.created_at,
        )
    });
    kept
}

/// The counts at the top of the board.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub new_today: usize,
    pub open_green: usize,
    pub open_orange: usize,
    pub open_red: usize,
    pub overdue: usize,
    pub settled_this_week: usize,
    /// Share of answered green and orange cases whose first answer came by the receipt's
    /// date, in whole percent; `None` before any answer.
    pub on_time_percent: Option<u32>,
    /// Cases the residents have rated, and of them those rated 非常满意, 满意 or 基本满意.
    pub rated: usize,
    pub satisfied: usize,
}

impl Counts {
    /// The satisfaction rate as the board shows it, "75% (3/4)"; `None` before any rating.
    pub fn satisfaction(&self) -> Option<String> {
        let percent = self.satisfied.checked_mul(100)?.checked_div(self.rated)?;
        Some(format!("{percent}% ({}/{})", self.satisfied, self.rated))
    }
}

/// The counts of `cases` on `today` (the community's day); the week starts on Monday.
pub fn counts(cases: &[&CaseRecord], today: NaiveDate, follow_up_days: u32) -> Counts {
    let monday = today
        .checked_sub_days(Days::new(u64::from(today.weekday().num_days_from_monday())))
        .unwrap_or(today);
    let mut counts = Counts::default();
    let (mut answered, mut on_time) = (0usize, 0usize);
    for record in cases {
        let case = &record.case;
        if community_date(case.filing.received_at) == today {
            counts.new_today += 1;
        }
        if case.state.is_open() {
            match case.colour {
                Colour::Green => counts.open_green += 1,
                Colour::Orange => counts.open_orange += 1,
                Colour::Red => counts.open_red += 1,
            }
        }
        if case.urgency(today, follow_up_days) == Urgency::Overdue {
            counts.overdue += 1;
        }
        if case.state == CaseState::TickedOff
            && case
                .ticked_off_at
                .is_some_and(|at| community_date(at) >= monday)
        {
            counts.settled_this_week += 1;
        }
        if let Some(rating) = case.rating {
            counts.rated += 1;
            counts.satisfied += usize::from(!rating.is_unhappy());
        }
        if case.colour != Colour::Red
            && let Some(kept) = case.answered_on_time()
        {
            answered += 1;
            on_time += usize::from(kept);
        }
    }
    counts.on_time_percent =
        (answered > 0).then(|| u32::try_from(on_time * 100 / answered).unwrap_or(100));
    counts
}

/// The cases the council has taken on (accepted, not yet ticked off) on one of its two lists,
/// oldest first: what the property company is handed.
pub fn list_cases(cases: &[CaseRecord], list: ListKind) -> Vec<&CaseRecord> {
    let mut kept: Vec<&CaseRecord> = cases
        .iter()
        .filter(|r| r.case.list == list && r.case.state.is_open() && r.case.state != CaseState::New)
        .collect();
    kept.sort_by_key(|r| r.concern.concern.created_at);
    kept
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeZone, Utc};

    use super::*;
    use crate::concern::{Concern, Draft, Lang};
    use crate::config::Config;
    use crate::office::StoredConcern;
    use crate::office::accounts::Role;
    use crate::office::cases::{Action, Case, Filing};
    use crate::protocol::wire::WireConcern;

    fn record(category: &str) -> CaseRecord {
        let config = Config::demo().unwrap();
        let filed = DateTime::parse_from_rfc3339("2026-12-01T09:30:00+08:00").unwrap();
        let details = Draft::preset(category, "1", Lang::ZhCn)
            .validate(&config, filed)
            .unwrap();
        let concern = WireConcern::from(&Concern {
            ticket: "A1201-001".into(),
            details,
        });
        let filing = Filing {
            colour: concern.colour,
            list: concern.list,
            due_date: concern.due_date,
            received_at: filed.with_timezone(&Utc),
        };
        CaseRecord {
            concern: StoredConcern {
                concern,
                kiosk_id: "wanjia-01".into(),
                batch_id: uuid::Uuid::now_v7(),
                received_at: filed,
            },
            case: Case::new(filing),
        }
    }

    fn step(record: &mut CaseRecord, action: Action, note: &str, day: u32) {
        let at = Utc.with_ymd_and_hms(2026, 12, day, 2, 0, 0).unwrap();
        let event = record.case.decide(action, "li", note, at).unwrap();
        record.case.record(event);
    }

    #[test]
    fn the_counts_and_the_lists_follow_a_case_through_every_state() {
        let mut case = record("repairs");
        assert_eq!(case.case.list, ListKind::Demands);
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let days = crate::office::cases::DEFAULT_FOLLOW_UP_DAYS;
        let look = |case: &CaseRecord, today| {
            let all = std::slice::from_ref(case);
            let listed = |list| list_cases(all, list).len();
            (
                counts(&[case], today, days),
                listed(ListKind::Demands),
                listed(ListKind::Conflicts),
            )
        };
        // New: counted as new today and open, on no list yet.
        let (c, demands, conflicts) = look(&case, today);
        assert_eq!(
            (c.new_today, c.open_green + c.open_orange + c.open_red),
            (1, 1)
        );
        assert_eq!((demands, conflicts), (0, 0));
        step(&mut case, Action::Accept, "", 1);
        assert_eq!(look(&case, today).1, 1);
        step(
            &mut case,
            Action::MoveList {
                to: ListKind::Conflicts,
            },
            "邻里之间",
            1,
        );
        let (_, demands, conflicts) = look(&case, today);
        assert_eq!((demands, conflicts), (0, 1));
        step(
            &mut case,
            Action::Assign {
                handler: "wuye".into(),
            },
            "",
            2,
        );
        // Past the receipt's date without an answer: overdue.
        let late = case.case.filing.due_date.succ_opt().unwrap();
        assert_eq!(look(&case, late).0.overdue, 1);
        step(
            &mut case,
            Action::Answer {
                reply: "已修好".into(),
            },
            "",
            3,
        );
        let (c, ..) = look(&case, late);
        assert_eq!((c.overdue, c.on_time_percent), (0, Some(100)));
        step(&mut case, Action::TickOff, "", 3);
        let thursday = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
        let (c, demands, conflicts) = look(&case, thursday);
        let open = |c: &Counts| c.open_green + c.open_orange + c.open_red;
        assert_eq!((c.settled_this_week, open(&c)), (1, 0));
        assert_eq!((demands, conflicts), (0, 0));
        // The next week it no longer counts as settled this week.
        let next_monday = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        assert_eq!(look(&case, next_monday).0.settled_this_week, 0);
        // Reopened, it is open and back on its list.
        step(&mut case, Action::Reopen, "居民说又坏了", 7);
        let (c, _, conflicts) = look(&case, next_monday);
        assert_eq!((open(&c), conflicts), (1, 1));
    }

    #[test]
    fn a_handler_sees_only_their_cases_and_filters_narrow_the_board() {
        let mut mine = record("repairs");
        step(&mut mine, Action::Accept, "", 1);
        step(
            &mut mine,
            Action::Assign {
                handler: "wuye".into(),
            },
            "",
            1,
        );
        let other = record("noise");
        let all = vec![mine, other];
        let handler = Account {
            name: "wuye".into(),
            role: Role::Handler,
        };
        let council = Account {
            name: "li".into(),
            role: Role::Council,
        };
        assert_eq!(visible_to(&handler, &all).len(), 1);
        assert_eq!(visible_to(&council, &all).len(), 2);
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let seen = visible_to(&council, &all);
        let by_state = Filters {
            state: "assigned".into(),
            ..Filters::default()
        };
        assert_eq!(ordered(&seen, &by_state, today, 14).len(), 1);
        let by_ticket = Filters {
            ticket: "a1201".into(),
            ..Filters::default()
        };
        assert_eq!(ordered(&seen, &by_ticket, today, 14).len(), 2);
    }
}
