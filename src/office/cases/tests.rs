//! The case's life, step by step: which actions each state allows, what each leaves behind, and
//! the deadlines by the community's calendar across month and year ends.

use chrono::{NaiveDate, TimeZone, Utc};

use super::*;
use crate::concern::Rating;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// Midday in the community on that day.
fn noon(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 4, 0, 0).unwrap()
}

fn green_case(due: NaiveDate) -> Case {
    Case::new(Filing {
        colour: Colour::Green,
        list: ListKind::Demands,
        due_date: due,
        received_at: noon(2026, 12, 1),
    })
}

fn apply(case: &mut Case, action: Action, note: &str) -> Result<(), CaseError> {
    let event = case.decide(action, "李主任", note, noon(2026, 12, 2))?;
    case.record(event);
    Ok(())
}

#[test]
fn a_case_goes_through_every_state_and_its_history_says_so() {
    let mut case = green_case(date(2026, 12, 8));
    assert_eq!(case.state, CaseState::New);
    assert_eq!(case.possible_actions(), ["accept"]);
    apply(&mut case, Action::Accept, "").unwrap();
    assert_eq!(case.state, CaseState::Accepted);
    apply(
        &mut case,
        Action::Recolour { to: Colour::Orange },
        "需要物业报价",
    )
    .unwrap();
    assert_eq!(
        (case.state, case.colour),
        (CaseState::Accepted, Colour::Orange)
    );
    apply(
        &mut case,
        Action::MoveList {
            to: ListKind::Conflicts,
        },
        "涉及邻里纠纷",
    )
    .unwrap();
    assert_eq!(case.list, ListKind::Conflicts);
    apply(
        &mut case,
        Action::Assign {
            handler: "物业公司".into(),
        },
        "",
    )
    .unwrap();
    assert_eq!(case.state, CaseState::Assigned);
    assert_eq!(case.handler.as_deref(), Some("物业公司"));
    apply(&mut case, Action::Supervise, "三天没有动静").unwrap();
    assert_eq!(case.state, CaseState::Supervised);
    apply(
        &mut case,
        Action::Answer {
            reply: "路灯已修好。".into(),
        },
        "",
    )
    .unwrap();
    assert_eq!(case.state, CaseState::Answered);
    assert_eq!(case.answer.as_deref(), Some("路灯已修好。"));
    apply(&mut case, Action::TickOff, "").unwrap();
    assert_eq!(case.state, CaseState::TickedOff);
    assert!(case.ticked_off_at.is_some());
    apply(&mut case, Action::Reopen, "居民说灯又坏了").unwrap();
    assert_eq!(case.state, CaseState::Accepted);
    assert_eq!(case.ticked_off_at, None);
    let steps: Vec<(CaseState, CaseState, &str)> = case
        .events
        .iter()
        .map(|e| (e.from, e.to, e.action.code()))
        .collect();
    use CaseState::*;
    assert_eq!(
        steps,
        [
            (New, Accepted, "accept"),
            (Accepted, Accepted, "recolour"),
            (Accepted, Accepted, "move_list"),
            (Accepted, Assigned, "assign"),
            (Assigned, Supervised, "supervise"),
            (Supervised, Answered, "answer"),
            (Answered, TickedOff, "tick_off"),
            (TickedOff, Accepted, "reopen"),
        ]
    );
    // The state is what the events make: replaying them gives the same case.
    let (replayed, skipped) = Case::replay(case.filing.clone(), case.events.clone());
    assert!(skipped.is_empty());
    assert_eq!(replayed, case);
}

#[test]
fn actions_out_of_turn_are_refused_with_a_reason() {
    let mut case = green_case(date(2026, 12, 8));
    let answer = Action::Answer {
        reply: "好".into()
    };
    assert!(matches!(
        case.decide(answer.clone(), "x", "", noon(2026, 12, 2)),
        Err(CaseError::NotNow {
            state: CaseState::New,
            ..
        })
    ));
    assert_eq!(
        case.decide(Action::TickOff, "x", "", noon(2026, 12, 2))
            .unwrap_err()
            .to_string(),
        "a case that is new cannot be ticked off"
    );
    apply(&mut case, Action::Accept, "").unwrap();
    // A change of colour, list, supervision or a reopening needs its reason.
    assert_eq!(
        case.decide(
            Action::Recolour { to: Colour::Red },
            "x",
            "  ",
            noon(2026, 12, 2)
        ),
        Err(CaseError::NoteNeeded)
    );
    assert!(matches!(
        case.decide(
            Action::Recolour { to: Colour::Green },
            "x",
            "同色",
            noon(2026, 12, 2)
        ),
        Err(CaseError::Unchanged(_))
    ));
    assert_eq!(
        case.decide(Action::FollowUp, "x", "跟进", noon(2026, 12, 2)),
        Err(CaseError::NotRed)
    );
    apply(
        &mut case,
        Action::Assign {
            handler: "网格员王".into(),
        },
        "",
    )
    .unwrap();
    assert_eq!(
        case.decide(
            Action::Answer { reply: " ".into() },
            "x",
            "",
            noon(2026, 12, 2)
        ),
        Err(CaseError::EmptyAnswer)
    );
}

#[test]
fn a_stored_event_that_no_longer_fits_is_skipped_not_fatal() {
    let mut case = green_case(date(2026, 12, 8));
    apply(&mut case, Action::Accept, "").unwrap();
    let mut events = case.events.clone();
    let mut bogus = events[0].clone();
    bogus.action = Action::TickOff;
    events.push(bogus);
    let (replayed, skipped) = Case::replay(case.filing.clone(), events);
    assert_eq!(replayed.state, CaseState::Accepted);
    assert_eq!(skipped.len(), 1);
}

#[test]
fn overdue_is_the_day_after_the_receipts_date_in_the_communitys_calendar() {
    // Due on the last day of the year; the community's new year starts at 16:00 UTC.
    let case = green_case(date(2026, 12, 31));
    let days = DEFAULT_FOLLOW_UP_DAYS;
    assert_eq!(case.urgency(date(2026, 12, 28), days), Urgency::Later);
    assert_eq!(case.urgency(date(2026, 12, 29), days), Urgency::DueSoon);
    assert_eq!(case.urgency(date(2026, 12, 31), days), Urgency::DueSoon);
    assert_eq!(case.urgency(date(2027, 1, 1), days), Urgency::Overdue);
    let before_midnight = Utc.with_ymd_and_hms(2026, 12, 31, 15, 59, 59).unwrap();
    let after_midnight = Utc.with_ymd_and_hms(2026, 12, 31, 16, 0, 0).unwrap();
    assert_eq!(community_date(before_midnight), date(2026, 12, 31));
    assert_eq!(community_date(after_midnight), date(2027, 1, 1));
    assert_eq!(
        case.urgency(community_date(after_midnight), days),
        Urgency::Overdue
    );
    // Across a month end, February of a common year.
    let case = green_case(date(2027, 2, 28));
    assert_eq!(case.urgency(date(2027, 2, 28), days), Urgency::DueSoon);
    assert_eq!(case.urgency(date(2027, 3, 1), days), Urgency::Overdue);
}

#[test]
fn an_answer_keeps_the_promise_and_lateness_is_measured_by_the_first_one() {
    let mut case = green_case(date(2026, 12, 8));
    apply(&mut case, Action::Accept, "").unwrap();
    apply(
        &mut case,
        Action::Assign {
            handler: "物业公司".into(),
        },
        "",
    )
    .unwrap();
    assert_eq!(case.answered_on_time(), None);
    let late = Utc.with_ymd_and_hms(2026, 12, 8, 16, 30, 0).unwrap(); // 12-09 00:30 in the community
    let event = case
        .decide(
            Action::Answer {
                reply: "已处理".into(),
            },
            "物业公司",
            "",
            late,
        )
        .unwrap();
    case.record(event);
    assert_eq!(case.answered_on_time(), Some(false));
    assert_eq!(case.deadline(DEFAULT_FOLLOW_UP_DAYS), Deadline::Nothing);
    assert_eq!(case.urgency(date(2027, 1, 1), 14), Urgency::NothingDue);
}

#[test]
fn a_red_case_is_followed_up_every_interval_from_its_receipt_date() {
    let mut case = Case::new(Filing {
        colour: Colour::Red,
        list: ListKind::Conflicts,
        due_date: date(2026, 12, 15),
        received_at: noon(2026, 12, 1),
    });
    apply(&mut case, Action::Accept, "").unwrap();
    assert_eq!(case.deadline(14), Deadline::FollowUpBy(date(2026, 12, 15)));
    assert_eq!(case.urgency(date(2026, 12, 16), 14), Urgency::Overdue);
    let event = case
        .decide(
            Action::FollowUp,
            "网格员王",
            "已上门了解",
            noon(2026, 12, 20),
        )
        .unwrap();
    case.record(event);
    assert_eq!(case.deadline(14), Deadline::FollowUpBy(date(2027, 1, 3)));
    assert_eq!(case.urgency(date(2026, 12, 20), 14), Urgency::Later);
    // An answer does not end a red case's follow-up; ticking it off does.
    assign_and_answer(&mut case, "协调中");
    assert_eq!(case.deadline(14), Deadline::FollowUpBy(date(2027, 1, 3)));
    apply(&mut case, Action::TickOff, "").unwrap();
    assert_eq!(case.deadline(14), Deadline::Nothing);
}

fn assign_and_answer(case: &mut Case, reply: &str) {
    let handler = "物业公司".to_string();
    apply(case, Action::Assign { handler }, "").unwrap();
    let reply = reply.to_string();
    apply(case, Action::Answer { reply }, "").unwrap();
}

/// A green case accepted, assigned and answered.
fn answered_case() -> Case {
    let mut case = green_case(date(2026, 12, 8));
    apply(&mut case, Action::Accept, "").unwrap();
    assign_and_answer(&mut case, "路灯已修好。");
    case
}

fn rate(case: &mut Case, rating: Rating) -> Result<(), CaseError> {
    let event = case.decide(Action::Rate { rating }, RESIDENT, "", noon(2026, 12, 5))?;
    case.record(event);
    Ok(())
}

#[test]
fn an_unhappy_rating_of_a_ticked_off_case_sends_it_back_for_supervision() {
    let mut case = answered_case();
    apply(&mut case, Action::TickOff, "").unwrap();
    rate(&mut case, Rating::VeryUnsatisfied).unwrap();
    assert_eq!(case.state, CaseState::Supervised);
    assert_eq!(case.rating, Some(Rating::VeryUnsatisfied));
    assert_eq!(case.ticked_off_at, None);
    let last = case.events.last().unwrap();
    assert_eq!(
        (last.from, last.to, last.actor.as_str()),
        (CaseState::TickedOff, CaseState::Supervised, RESIDENT)
    );
    // The handler can answer again; the resident cannot rate twice.
    assert!(case.possible_actions().contains(&"answer"));
    assert_eq!(
        rate(&mut case, Rating::Satisfied),
        Err(CaseError::AlreadyRated)
    );
    let (replayed, skipped) = Case::replay(case.filing.clone(), case.events.clone());
    assert!(skipped.is_empty());
    assert_eq!(replayed, case);
}

#[test]
fn a_happy_rating_leaves_the_state_and_no_rating_comes_before_an_answer() {
    let mut unanswered = green_case(date(2026, 12, 8));
    apply(&mut unanswered, Action::Accept, "").unwrap();
    assert_eq!(
        rate(&mut unanswered, Rating::Satisfied),
        Err(CaseError::NotYetAnswered)
    );
    assert_eq!(unanswered.rating, None);
    for rating in [Rating::VerySatisfied, Rating::Satisfied, Rating::Fair] {
        let mut case = answered_case();
        rate(&mut case, rating).unwrap();
        assert_eq!(
            (case.state, case.rating),
            (CaseState::Answered, Some(rating))
        );
    }
    let mut case = answered_case();
    rate(&mut case, Rating::Unsatisfied).unwrap();
    assert_eq!(case.state, CaseState::Supervised);
    // Rating is never one of the board's actions.
    assert!(!answered_case().possible_actions().contains(&"rate"));
}
