//! What a concern can be about: the categories residents pick from (with their list, default
//! colour and preset phrases), the public places, and the council's triage windows. The config
//! file writes them down; the domain only reads them through [`FilingRules`].

use serde::Deserialize;

use super::{Bilingual, Colour, ListKind};

/// The rules a draft is checked against: the categories on offer and the triage windows.
pub trait FilingRules {
    fn categories(&self) -> &[Category];
    fn triage(&self) -> &TriageRules;

    /// The category with this code, if there is one.
    fn category(&self, code: &str) -> Option<&Category> {
        self.categories().iter().find(|c| c.code == code)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriageRules {
    pub green: Window,
    pub orange: Window,
    pub red: FollowUp,
}

impl Default for TriageRules {
    /// The article's rule: green a week, orange a month, red followed up periodically (every
    /// fortnight: often enough that a red concern is never forgotten between council meetings).
    fn default() -> Self {
        TriageRules {
            green: Window { days: 7 },
            orange: Window { days: 30 },
            red: FollowUp {
                follow_up_every_days: 14,
            },
        }
    }
}

impl TriageRules {
    /// The days a colour stands for: the answer window (green, orange) or the follow-up
    /// interval (red).
    pub fn days(&self, colour: Colour) -> u32 {
        match colour {
            Colour::Green => self.green.days,
            Colour::Orange => self.orange.days,
            Colour::Red => self.red.follow_up_every_days,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    pub days: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowUp {
    pub follow_up_every_days: u32,
}

/// A public place offered on the Where screen.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Place {
    pub label: Bilingual,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    pub code: String,
    pub list: ListKind,
    pub triage: Colour,
    pub label: Bilingual,
    pub icon: String,
    pub phrases: Vec<Bilingual>,
    #[serde(default)]
    pub emergency_notice: Option<Bilingual>,
}
