//! The board's pages as askama templates (in `templates/`, HTML-escaped by default) and the
//! rows they show: a case as a person reads it, in the board's language, with the phone
//! number only for the roles that may call the resident back.

use askama::Template;

use super::view::{Counts, Filters};
use super::wording::Words;
use crate::concern::{Colour, ListKind};
use crate::office::accounts::Role;
use crate::office::case_store::CaseRecord;
use crate::office::cases::{CaseState, Deadline, Event, Urgency};

/// A (value, label) pair of a `<select>`.
pub type Choice = (String, String);

/// One case as a row of the board or of a list.
pub struct CaseRow {
    pub id: String,
    pub ticket: String,
    pub filed: String,
    pub received: String,
    pub category: String,
    pub what: String,
    pub place: String,
    pub phone: String,
    pub kiosk: String,
    pub colour_code: &'static str,
    pub colour_label: &'static str,
    pub list_label: &'static str,
    pub state_code: &'static str,
    pub state_label: &'static str,
    pub handler: String,
    pub due: String,
    pub urgency_code: &'static str,
    pub urgency_label: &'static str,
}

impl CaseRow {
    pub fn new(
        record: &CaseRecord,
        t: &Words,
        role: Role,
        today: chrono::NaiveDate,
        follow_up_days: u32,
    ) -> CaseRow {
        let concern = &record.concern.concern;
        let case = &record.case;
        let zh = t.is_zh();
        let pick = |zh_text: &str, en_text: &str| {
            if zh {
                zh_text.to_string()
            } else {
                en_text.to_string()
            }
        };
        let mut what: Vec<String> = concern.phrases.iter().map(|p| pick(&p.zh, &p.en)).collect();
        what.extend(concern.text.clone());
        let urgency = case.urgency(today, follow_up_days);
        let deadline = case.deadline(follow_up_days);
        let due = match deadline {
            Deadline::FollowUpBy(date) => format!("{} {date}", t.next_follow_up),
            Deadline::AnswerBy(date) => date.to_string(),
            Deadline::Nothing => String::new(),
        };
        CaseRow {
            id: concern.id.to_string(),
            ticket: concern.ticket.clone(),
            filed: concern.created_at.format("%Y-%m-%d %H:%M").to_string(),
            received: record
                .concern
                .received_at
                .with_timezone(&crate::office::cases::COMMUNITY_OFFSET)
                .format("%Y-%m-%d %H:%M")
                .to_string(),
            category: pick(&concern.category_label.zh, &concern.category_label.en),
            what: what.join(if zh { "；" } else { "; " }),
            place: concern.location.clone().unwrap_or_default(),
            phone: match (&concern.phone, role.sees_phone()) {
                (None, _) => String::new(),
                (Some(phone), true) => phone.clone(),
                (Some(_), false) => t.hidden.to_string(),
            },
            kiosk: record.concern.kiosk_id.clone(),
            colour_code: case.colour.code(),
            colour_label: t.colour(case.colour),
            list_label: t.list_name(case.list),
            state_code: case.state.code(),
            state_label: state_label(t, case.state),
            handler: case.handler.clone().unwrap_or_default(),
            due,
            urgency_code: match urgency {
                Urgency::Overdue => "overdue",
                Urgency::DueSoon => "soon",
                Urgency::Later => "later",
                Urgency::NothingDue => "settled",
            },
            urgency_label: t.urgency(urgency),
        }
    }
}

pub fn state_label(t: &Words, state: CaseState) -> &'static str {
    if t.is_zh() {
        state.label_zh()
    } else {
        state.label_en()
    }
}

/// The filter choices: "any" first, then each value.
pub fn choices(t: &Words, values: impl IntoIterator<Item = (String, String)>) -> Vec<Choice> {
    std::iter::once((String::new(), t.any.to_string()))
        .chain(values)
        .collect()
}

pub fn colour_choices(t: &Words) -> Vec<Choice> {
    [Colour::Green, Colour::Orange, Colour::Red]
        .into_iter()
        .map(|c| (c.code().to_string(), t.colour(c).to_string()))
        .collect()
}

pub fn list_choices(t: &Words) -> Vec<Choice> {
    [ListKind::Demands, ListKind::Conflicts]
        .into_iter()
        .map(|l| (l.code().to_string(), t.list_name(l).to_string()))
        .collect()
}

pub fn state_choices(t: &Words) -> Vec<Choice> {
    CaseState::ALL
        .into_iter()
        .map(|s| (s.code().to_string(), state_label(t, s).to_string()))
        .collect()
}

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub t: &'static Words,
    pub csrf: String,
    pub message: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "board.html")]
pub struct BoardPage {
    pub t: &'static Words,
    pub account_name: String,
    pub csrf: String,
    pub counts: Counts,
    pub filters: Filters,
    pub colour_options: Vec<Choice>,
    pub list_options: Vec<Choice>,
    pub state_options: Vec<Choice>,
    pub handler_options: Vec<Choice>,
    pub category_options: Vec<Choice>,
    pub kiosk_options: Vec<Choice>,
    pub rows: Vec<CaseRow>,
    pub previous_link: Option<String>,
    pub next_link: Option<String>,
}

/// An action form on the case page.
pub struct ActionForm {
    pub code: &'static str,
    pub label: &'static str,
    pub needs_note: bool,
}

/// One line of a case's history.
pub struct HistoryLine {
    pub at: String,
    pub actor: String,
    pub what: String,
    pub from: &'static str,
    pub to: &'static str,
    pub note: String,
}

/// A time of a case's history as the board shows it, by the community's clock.
pub fn board_time(at: chrono::DateTime<chrono::Utc>) -> String {
    at.with_timezone(&crate::office::cases::COMMUNITY_OFFSET)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

impl HistoryLine {
    pub fn new(event: &Event, t: &Words) -> HistoryLine {
        use crate::office::cases::Action;
        let what = match &event.action {
            Action::Recolour { to } => format!("{}: {}", t.recolour, t.colour(*to)),
            Action::MoveList { to } => format!("{}: {}", t.move_list, t.list_name(*to)),
            Action::Assign { handler } => format!("{}: {handler}", t.assign),
            Action::Answer { reply } => format!("{}: {reply}", t.answer),
            Action::Rate { rating } => format!("{}: {}", t.rating, t.rating_word(*rating)),
            other => t.action(other.code()).to_string(),
        };
        HistoryLine {
            at: board_time(event.at),
            actor: event.actor.clone(),
            what,
            from: state_label(t, event.from),
            to: state_label(t, event.to),
            note: event.note.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "case.html")]
pub struct CasePage {
    pub t: &'static Words,
    pub account_name: String,
    pub csrf: String,
    pub row: CaseRow,
    pub answer: Option<String>,
    /// The resident's rating and when it arrived, "不满意 · 2026-12-05 10:00".
    pub rating: Option<String>,
    /// Whether that rating sent the case back for supervision.
    pub unhappy: bool,
    pub message: Option<String>,
    pub actions: Vec<ActionForm>,
    pub colour_choices: Vec<Choice>,
    pub handler_choices: Vec<Choice>,
    pub history: Vec<HistoryLine>,
}

#[derive(Template)]
#[template(path = "list.html")]
pub struct ListPage {
    pub t: &'static Words,
    pub account_name: String,
    pub csrf: String,
    pub community: String,
    pub list_name: &'static str,
    pub today: String,
    pub rows: Vec<CaseRow>,
    pub other_lists: Vec<Choice>,
    pub xlsx_link: String,
}
