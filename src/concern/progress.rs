//! How far a concern has come once the office has it, in the words each reader needs: the
//! council's case states (the board's), the resident's plain words for them (the kiosk's and
//! the status page's), and the resident's rating of the result (好差评).

use serde::{Deserialize, Serialize};

use super::Bilingual;

/// Where a case stands: the states of the council's loop, named as the board shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseState {
    /// 待受理: arrived from a kiosk, nobody has looked at it yet.
    New,
    /// 已受理: the council has taken it on.
    Accepted,
    /// 已交办: a handler is working on it.
    Assigned,
    /// 已答复: the handler has written the resident an answer.
    Answered,
    /// 督办: sent back to the handler to be pressed on.
    Supervised,
    /// 已销号: settled and ticked off the list.
    TickedOff,
}

impl CaseState {
    pub const ALL: [CaseState; 6] = [
        CaseState::New,
        CaseState::Accepted,
        CaseState::Assigned,
        CaseState::Answered,
        CaseState::Supervised,
        CaseState::TickedOff,
    ];

    pub fn code(self) -> &'static str {
        match self {
            CaseState::New => "new",
            CaseState::Accepted => "accepted",
            CaseState::Assigned => "assigned",
            CaseState::Answered => "answered",
            CaseState::Supervised => "supervised",
            CaseState::TickedOff => "ticked_off",
        }
    }

    pub fn from_code(code: &str) -> Option<CaseState> {
        CaseState::ALL.into_iter().find(|s| s.code() == code)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            CaseState::New => "待受理",
            CaseState::Accepted => "已受理",
            CaseState::Assigned => "已交办",
            CaseState::Answered => "已答复",
            CaseState::Supervised => "督办中",
            CaseState::TickedOff => "已销号",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            CaseState::New => "New",
            CaseState::Accepted => "Accepted",
            CaseState::Assigned => "Assigned",
            CaseState::Answered => "Answered",
            CaseState::Supervised => "Under supervision",
            CaseState::TickedOff => "Ticked off",
        }
    }

    /// Still on the council's lists: everything but a ticked-off case.
    pub fn is_open(self) -> bool {
        self != CaseState::TickedOff
    }

    /// The resident has had an answer (the receipt's promise is kept).
    pub fn has_answer(self) -> bool {
        matches!(self, CaseState::Answered | CaseState::TickedOff)
    }
}

/// The resident's verdict on the answer (好差评), one per case; the five faces of the kiosk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rating {
    VerySatisfied,
    Satisfied,
    Fair,
    Unsatisfied,
    VeryUnsatisfied,
}

impl Rating {
    /// Best first, the order the faces stand on the screen.
    pub const ALL: [Rating; 5] = [
        Rating::VerySatisfied,
        Rating::Satisfied,
        Rating::Fair,
        Rating::Unsatisfied,
        Rating::VeryUnsatisfied,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Rating::VerySatisfied => "very_satisfied",
            Rating::Satisfied => "satisfied",
            Rating::Fair => "fair",
            Rating::Unsatisfied => "unsatisfied",
            Rating::VeryUnsatisfied => "very_unsatisfied",
        }
    }

    pub fn from_code(code: &str) -> Option<Rating> {
        Rating::ALL.into_iter().find(|r| r.code() == code)
    }

    pub fn label(self) -> Bilingual {
        let (zh, en) = match self {
            Rating::VerySatisfied => ("非常满意", "Very satisfied"),
            Rating::Satisfied => ("满意", "Satisfied"),
            Rating::Fair => ("基本满意", "Fair"),
            Rating::Unsatisfied => ("不满意", "Unsatisfied"),
            Rating::VeryUnsatisfied => ("非常不满意", "Very unsatisfied"),
        };
        Bilingual {
            zh: zh.into(),
            en: en.into(),
        }
    }

    /// 不满意 and 非常不满意: the 12345 practice sends such a case back for supervision (督办),
    /// and the satisfaction rate counts it against the office.
    pub fn is_unhappy(self) -> bool {
        matches!(self, Rating::Unsatisfied | Rating::VeryUnsatisfied)
    }
}

/// Where the resident's concern stands, in the four things a resident needs to hear.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResidentProgress {
    /// 收到了: filed, or arrived at the office and not yet with anyone.
    Received,
    /// 已交给物业: someone is working on it.
    WithHandler,
    /// 已经办好了: answered (the reply goes with it).
    Done,
    /// 超期了，我们正在催办: past its date without an answer.
    Overdue,
}

impl ResidentProgress {
    /// What a case's state means to the resident; `overdue` is whether its date has passed
    /// (the office's deadline, by the community's calendar). An answered case is done even
    /// when late: the resident has the answer. A case sent back for supervision is with its
    /// handler again.
    pub fn of(state: CaseState, overdue: bool) -> ResidentProgress {
        match state {
            CaseState::Answered | CaseState::TickedOff => ResidentProgress::Done,
            _ if overdue => ResidentProgress::Overdue,
            CaseState::New | CaseState::Accepted => ResidentProgress::Received,
            CaseState::Assigned | CaseState::Supervised => ResidentProgress::WithHandler,
        }
    }

    pub fn words(self) -> Bilingual {
        let (zh, en) = match self {
            ResidentProgress::Received => ("收到了", "We have your concern"),
            ResidentProgress::WithHandler => ("已交给物业", "Passed to the property company"),
            ResidentProgress::Done => ("已经办好了", "It has been dealt with"),
            ResidentProgress::Overdue => {
                ("超期了，我们正在催办", "It is late; we are pressing for it")
            }
        };
        Bilingual {
            zh: zh.into(),
            en: en.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_reads_back_as_itself() {
        for state in CaseState::ALL {
            assert_eq!(CaseState::from_code(state.code()), Some(state));
        }
        for rating in Rating::ALL {
            assert_eq!(Rating::from_code(rating.code()), Some(rating));
        }
        assert_eq!(Rating::from_code("meh"), None);
    }

    #[test]
    fn only_the_two_bad_faces_are_unhappy() {
        let unhappy: Vec<_> = Rating::ALL.into_iter().filter(|r| r.is_unhappy()).collect();
        assert_eq!(unhappy, [Rating::Unsatisfied, Rating::VeryUnsatisfied]);
    }

    #[test]
    fn an_answer_is_done_even_late_and_a_late_open_case_is_being_pressed() {
        use CaseState::*;
        assert_eq!(ResidentProgress::of(New, false), ResidentProgress::Received);
        assert_eq!(
            ResidentProgress::of(Assigned, false),
            ResidentProgress::WithHandler
        );
        assert_eq!(
            ResidentProgress::of(Assigned, true),
            ResidentProgress::Overdue
        );
        assert_eq!(ResidentProgress::of(Answered, true), ResidentProgress::Done);
        assert_eq!(
            ResidentProgress::of(TickedOff, false),
            ResidentProgress::Done
        );
        assert_eq!(
            ResidentProgress::of(Supervised, false),
            ResidentProgress::WithHandler
        );
        assert_eq!(ResidentProgress::Done.words().zh, "已经办好了");
    }
}
