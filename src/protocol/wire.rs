//! The batch format shared by the kiosk and the office (`concern-kiosk.batch/1`), its reply, the
//! URL paths, and the conversions between a domain concern and its wire form; documented field
//! by field in `docs/upload-api.md`. Changing a field's meaning means a new schema version;
//! adding an optional field does not.

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::concern::{Bilingual, Colour, Concern, Lang, ListKind, NewConcern};

/// The schema this kiosk sends and the office accepts.
pub const SCHEMA: &str = "concern-kiosk.batch/1";
/// The path under the configured endpoint that batches are posted to.
pub const BATCHES_PATH: &str = "/v1/batches";
/// The office's liveness check, which `doctor` calls.
pub const HEALTH_PATH: &str = "/v1/health";

/// One batch: the body of `POST {endpoint}/v1/batches`, gzip'd.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    pub schema: String,
    pub kiosk_id: String,
    /// Also sent as `Idempotency-Key`; a retried batch keeps it and its contents.
    pub batch_id: Uuid,
    /// When the kiosk assembled the batch (not when this attempt left).
    pub sent_at: DateTime<FixedOffset>,
    pub concerns: Vec<WireConcern>,
}

/// A concern as the office receives it: every field the resident gave and the kiosk decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireConcern {
    /// UUIDv7, unique across kiosks: the office stores each id once, forever.
    pub id: Uuid,
    pub ticket: String,
    pub created_at: DateTime<FixedOffset>,
    pub category: String,
    pub category_label: Bilingual,
    pub list: ListKind,
    pub colour: Colour,
    /// Green/orange: the promised answer date; red: the first follow-up date.
    pub due_date: NaiveDate,
    pub lang: Lang,
    pub phrases: Vec<Bilingual>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

impl From<&Concern> for WireConcern {
    fn from(concern: &Concern) -> WireConcern {
        let d = &concern.details;
        WireConcern {
            id: d.id,
            ticket: concern.ticket.clone(),
            created_at: d.created_at,
            category: d.category.clone(),
            category_label: d.category_label.clone(),
            list: d.list,
            colour: d.colour,
            due_date: d.due_date,
            lang: d.lang,
            phrases: d.phrases.clone(),
            text: d.text.clone(),
            location: d.location.clone(),
            phone: d.phone.clone(),
        }
    }
}

/// The office's answer to a stored batch (any 2xx).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchReply {
    /// Concern ids stored now.
    pub accepted: Vec<Uuid>,
    /// Concern ids the office already held (an earlier attempt got through).
    pub duplicates: Vec<Uuid>,
}

/// The office's answer to a batch it will not take (4xx, 5xx).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorReply {
    /// What is wrong, in words for the staff member reading `doctor`.
    pub error: String,
}
impl From<WireConcern> for Concern {
    fn from(w: WireConcern) -> Concern {
        Concern {
            ticket: w.ticket,
            details: NewConcern {
                id: w.id,
                created_at: w.created_at,
                category: w.category,
                category_label: w.category_label,
                list: w.list,
                colour: w.colour,
                due_date: w.due_date,
                lang: w.lang,
                phrases: w.phrases,
                text: w.text,
                location: w.location,
                phone: w.phone,
            },
        }
    }
}
