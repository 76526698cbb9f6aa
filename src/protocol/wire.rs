//! The batch format shared by the kiosk and the office (`concern-kiosk.batch/1`), its reply, the
//! URL paths, and the conversions between a domain concern and its wire form; documented field
//! by field in `docs/upload-api.md`. Changing a field's meaning means a new schema version;
//! adding an optional field does not.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::concern::{
    Bilingual, CaseState, CheckCode, Colour, Concern, Lang, ListKind, NewConcern, Rating,
    ResidentCodes, TrackingCode,
};

/// The schema this kiosk sends and the office accepts.
pub const SCHEMA: &str = "concern-kiosk.batch/1";
/// The path under the configured endpoint that batches are posted to.
pub const BATCHES_PATH: &str = "/v1/batches";
/// The office's liveness check, which `doctor` calls.
pub const HEALTH_PATH: &str = "/v1/health";
/// The resident's status page, served by the office at `{STATUS_PAGE_PATH}/{tracking code}`:
/// where a receipt's QR code (`kiosk.tracking_url`) points.
pub const STATUS_PAGE_PATH: &str = "/status";
/// Where kiosks pull what the office did: `GET {endpoint}/v1/updates?after=CURSOR`.
pub const UPDATES_PATH: &str = "/v1/updates";
/// The most updates one answer carries. A reply is at most 1000 characters, so a page stays
/// under about 400 KiB of JSON: one request over a weak mobile link, and a kiosk reads it
/// within [`MAX_UPDATES_PAGE_BYTES`].
pub const MAX_UPDATES_PER_PAGE: usize = 100;
/// The most of an updates answer a kiosk reads: a full page with room to spare, so a broken or
/// hostile office cannot make a kiosk hold more.
pub const MAX_UPDATES_PAGE_BYTES: usize = 1024 * 1024;

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
    /// Residents' ratings given at this kiosk since the last batch. Optional: an office that
    /// does not know ratings ignores the field, and a batch may carry ratings and no concerns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ratings: Vec<WireRating>,
}

/// A resident's rating of the office's answer (好差评), given at a kiosk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireRating {
    /// The concern rated; it may have been filed at any kiosk of the community.
    pub concern_id: Uuid,
    pub ticket: String,
    pub rating: Rating,
    pub rated_at: DateTime<FixedOffset>,
}

/// One page of `GET /v1/updates`: the cases that changed after the asked cursor, oldest change
/// first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdatesPage {
    pub updates: Vec<StatusUpdate>,
    /// Ask with `after=` this next; the cursor of the last update, or the asked one when the
    /// page is empty.
    pub next_after: u64,
    /// More changes wait beyond this page.
    pub more: bool,
}

/// Where one case stands now, as a kiosk shows it to the resident. Each change of a case gives
/// a new, larger cursor; a kiosk keeps, per ticket, the update with the largest cursor, so an
/// update seen twice or late changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusUpdate {
    pub cursor: u64,
    pub concern_id: Uuid,
    pub ticket: String,
    pub category_label: Bilingual,
    pub state: CaseState,
    pub colour: Colour,
    /// The date printed on the receipt.
    pub promised_by: NaiveDate,
    /// What the case is held to now (a red case's next follow-up); `None` when nothing is due.
    pub due_date: Option<NaiveDate>,
    /// The office's answer for the resident, once there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<Rating>,
    /// When the resident was first answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered_at: Option<DateTime<Utc>>,
    /// When the case last changed.
    pub changed_at: DateTime<Utc>,
    /// The receipt's check code, so any kiosk can let its resident read the reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_code: Option<CheckCode>,
    /// [`TrackingCode::digest`] of the QR code's tracking code, so any kiosk recognises a
    /// scanned receipt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_digest: Option<String>,
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
    /// The QR code's tracking code (optional: kiosks before it sent none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_code: Option<TrackingCode>,
    /// The check code printed beside the ticket (with `tracking_code`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_code: Option<CheckCode>,
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
            tracking_code: d.codes.as_ref().map(|c| c.tracking.clone()),
            check_code: d.codes.as_ref().map(|c| c.check.clone()),
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
                codes: w
                    .tracking_code
                    .zip(w.check_code)
                    .map(|(tracking, check)| ResidentCodes { tracking, check }),
            },
        }
    }
}
