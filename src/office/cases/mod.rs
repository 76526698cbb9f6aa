//! A case: what the council does with a concern once it has arrived, as the article describes
//! it — accepted (受理), re-coloured or moved between the two lists with a reason, assigned to a
//! handler (交办), answered for the resident (答复), pressed again (督办), followed up while red,
//! ticked off (销号), reopened, and rated by the resident (好差评). Every change is an [`Event`]; a case's state, colour, list,
//! handler and answer are derived from its events and nothing else, so the history is the truth.
//! Pure: no clock, no database.

mod deadlines;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

pub use crate::concern::CaseState;
use crate::concern::{Colour, ListKind, Rating};

pub use deadlines::{
    COMMUNITY_OFFSET, DEFAULT_FOLLOW_UP_DAYS, DUE_SOON_DAYS, Deadline, Urgency, community_date,
};

/// What someone did to a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    Accept,
    Recolour {
        to: Colour,
    },
    MoveList {
        to: ListKind,
    },
    Assign {
        handler: String,
    },
    /// A reply written for the resident, who reads it at the kiosk and on the status page.
    Answer {
        reply: String,
    },
    Supervise,
    /// The periodic follow-up of a red case.
    FollowUp,
    TickOff,
    Reopen,
    /// The resident's verdict on the answer, given at a kiosk (actor [`RESIDENT`]); once per
    /// case. Never a button of the board: no member of staff rates for a resident.
    Rate {
        rating: Rating,
    },
}

/// The actor of the events residents make themselves.
pub const RESIDENT: &str = "resident";

impl Action {
    pub fn code(&self) -> &'static str {
        match self {
            Action::Accept => "accept",
            Action::Recolour { .. } => "recolour",
            Action::MoveList { .. } => "move_list",
            Action::Assign { .. } => "assign",
            Action::Answer { .. } => "answer",
            Action::Supervise => "supervise",
            Action::FollowUp => "follow_up",
            Action::TickOff => "tick_off",
            Action::Reopen => "reopen",
            Action::Rate { .. } => "rate",
        }
    }

    /// Actions that change what the council promised or decided need a reason in the history.
    fn needs_note(&self) -> bool {
        matches!(
            self,
            Action::Recolour { .. }
                | Action::MoveList { .. }
                | Action::Supervise
                | Action::FollowUp
                | Action::Reopen
        )
    }
}

/// One change of a case, kept for ever: who, when, what, from which state to which, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub at: DateTime<Utc>,
    pub actor: String,
    #[serde(flatten)]
    pub action: Action,
    pub from: CaseState,
    pub to: CaseState,
    pub note: String,
}

/// Why an action cannot be applied to a case as it stands.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CaseError {
    #[error("a case that is {} cannot be {}", .state.label_en().to_lowercase(), action_verb(.action))]
    NotNow {
        state: CaseState,
        action: &'static str,
    },
    #[error("say why: this change is kept in the case's history with its reason")]
    NoteNeeded,
    #[error("the answer for the resident is empty")]
    EmptyAnswer,
    #[error("no handler named")]
    NoHandler,
    #[error("only a red case is followed up periodically")]
    NotRed,
    #[error("the case is already {0}")]
    Unchanged(String),
    #[error("the resident has already rated this case; one rating per case")]
    AlreadyRated,
    #[error("the resident has had no answer yet, and a rating is of an answer")]
    NotYetAnswered,
}

fn action_verb(code: &str) -> &'static str {
    match code {
        "accept" => "accepted",
        "recolour" => "re-coloured",
        "move_list" => "moved to the other list",
        "assign" => "assigned",
        "answer" => "answered",
        "supervise" => "sent back for supervision",
        "follow_up" => "followed up",
        "tick_off" => "ticked off",
        "rate" => "rated",
        _ => "reopened",
    }
}

/// What the kiosk sent that a case starts from: the colour and list the category gave it, and
/// the date printed on the resident's receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filing {
    pub colour: Colour,
    pub list: ListKind,
    pub due_date: NaiveDate,
    pub received_at: DateTime<Utc>,
}

/// A case as its events leave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    pub filing: Filing,
    pub state: CaseState,
    pub colour: Colour,
    pub list: ListKind,
    pub handler: Option<String>,
    /// The latest answer written for the resident.
    pub answer: Option<String>,
    /// When the resident was first answered: what the receipt's promise is measured by.
    pub first_answered_at: Option<DateTime<Utc>>,
    pub ticked_off_at: Option<DateTime<Utc>>,
    pub last_follow_up_at: Option<DateTime<Utc>>,
    /// The resident's rating of the answer, once given.
    pub rating: Option<Rating>,
    pub events: Vec<Event>,
}

impl Case {
    /// A case with no events yet: new, with the kiosk's colour and list.
    pub fn new(filing: Filing) -> Case {
        Case {
            state: CaseState::New,
            colour: filing.colour,
            list: filing.list,
            filing,
            handler: None,
            answer: None,
            first_answered_at: None,
            ticked_off_at: None,
            last_follow_up_at: None,
            rating: None,
            events: Vec::new(),
        }
    }

    /// The case its stored events make, in order. An event that no longer fits (a database
    /// edited by hand) is skipped with its reason, so one bad row never hides a case.
    pub fn replay(filing: Filing, events: Vec<Event>) -> (Case, Vec<(Event, CaseError)>) {
        let mut case = Case::new(filing);
        let mut skipped = Vec::new();
        for event in events {
            match case.next_state(&event.action, &event.note) {
                Ok(_) => case.record(event),
                Err(e) => skipped.push((event, e)),
            }
        }
        (case, skipped)
    }

    /// The event `action` makes, if it may be done now; `note` is the reason or comment.
    pub fn decide(
        &self,
        action: Action,
        actor: &str,
        note: &str,
        at: DateTime<Utc>,
    ) -> Result<Event, CaseError> {
        let note = note.trim();
        let to = self.next_state(&action, note)?;
        Ok(Event {
            at,
            actor: actor.to_string(),
            action,
            from: self.state,
            to,
            note: note.to_string(),
        })
    }

    /// Applies an event that [`Case::decide`] made.
    pub fn record(&mut self, event: Event) {
        match &event.action {
            Action::Recolour { to } => self.colour = *to,
            Action::MoveList { to } => self.list = *to,
            Action::Assign { handler } => self.handler = Some(handler.clone()),
            Action::Answer { reply } => {
                self.answer = Some(reply.clone());
                self.first_answered_at.get_or_insert(event.at);
            }
            Action::FollowUp => self.last_follow_up_at = Some(event.at),
            Action::TickOff => self.ticked_off_at = Some(event.at),
            Action::Reopen => self.ticked_off_at = None,
            Action::Rate { rating } => {
                self.rating = Some(*rating);
                // An unhappy rating takes a ticked-off case back onto the lists.
                if event.to != CaseState::TickedOff {
                    self.ticked_off_at = None;
                }
            }
            Action::Accept | Action::Supervise => {}
        }
        self.state = event.to;
        self.events.push(event);
    }

    fn next_state(&self, action: &Action, note: &str) -> Result<CaseState, CaseError> {
        use CaseState::*;
        let state = self.state;
        if action.needs_note() && note.trim().is_empty() {
            return Err(CaseError::NoteNeeded);
        }
        let not_now = || CaseError::NotNow {
            state,
            action: action.code(),
        };
        let working = matches!(state, Accepted | Assigned | Answered | Supervised);
        match action {
            Action::Accept => (state == New).then_some(Accepted).ok_or_else(not_now),
            Action::Recolour { to } if working => {
                if *to == self.colour {
                    Err(CaseError::Unchanged(to.code().to_string()))
                } else {
                    Ok(state)
                }
            }
            Action::MoveList { to } if working => {
                if *to == self.list {
                    Err(CaseError::Unchanged(to.code().to_string()))
                } else {
                    Ok(state)
                }
            }
            Action::Assign { handler } if matches!(state, Accepted | Assigned | Supervised) => {
                if handler.trim().is_empty() {
                    Err(CaseError::NoHandler)
                } else {
                    Ok(Assigned)
                }
            }
            Action::Answer { reply } if matches!(state, Assigned | Supervised) => {
                if reply.trim().is_empty() {
                    Err(CaseError::EmptyAnswer)
                } else {
                    Ok(Answered)
                }
            }
            Action::Supervise if matches!(state, Assigned | Answered) => Ok(Supervised),
            Action::FollowUp if working => {
                if self.colour == Colour::Red {
                    Ok(state)
                } else {
                    Err(CaseError::NotRed)
                }
            }
            Action::TickOff => (state == Answered).then_some(TickedOff).ok_or_else(not_now),
            Action::Reopen => (state == TickedOff).then_some(Accepted).ok_or_else(not_now),
            Action::Rate { rating } => self.rated_state(*rating),
            _ => Err(not_now()),
        }
    }

    /// Where a rating leaves the case: once per case, only after an answer; 不满意 and
    /// 非常不满意 send an answered or ticked-off case back for supervision (督办), as the 12345
    /// practice does, and a happy rating leaves it where it is.
    fn rated_state(&self, rating: Rating) -> Result<CaseState, CaseError> {
        if self.rating.is_some() {
            return Err(CaseError::AlreadyRated);
        }
        if self.first_answered_at.is_none() {
            return Err(CaseError::NotYetAnswered);
        }
        let settled = matches!(self.state, CaseState::Answered | CaseState::TickedOff);
        Ok(if rating.is_unhappy() && settled {
            CaseState::Supervised
        } else {
            self.state
        })
    }

    /// The actions that may be done to the case as it stands (before any role is considered).
    pub fn possible_actions(&self) -> Vec<&'static str> {
        let probes = [
            Action::Accept,
            Action::Recolour {
                to: match self.colour {
                    Colour::Green => Colour::Orange,
                    _ => Colour::Green,
                },
            },
            Action::MoveList {
                to: match self.list {
                    ListKind::Demands => ListKind::Conflicts,
                    ListKind::Conflicts => ListKind::Demands,
                },
            },
            Action::Assign {
                handler: "-".into(),
            },
            Action::Answer { reply: "-".into() },
            Action::Supervise,
            Action::FollowUp,
            Action::TickOff,
            Action::Reopen,
        ];
        probes
            .iter()
            .filter(|action| self.next_state(action, "-").is_ok())
            .map(Action::code)
            .collect()
    }
}

#[cfg(test)]
mod tests;
