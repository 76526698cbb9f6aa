//! A case from the store as the resident is told of it, on the screen and on the status slip
//! alike: the state in plain words by today's date, the news time in the kiosk's local time,
//! and the reply only for a resident who proved the receipt.

use chrono::{DateTime, FixedOffset, Utc};

use crate::receipt::CaseReport;
use crate::store::CaseStatus;

/// What `status` says at `now`, its last news at `news_at` (`Store::last_news_at`);
/// `with_reply` once the receipt is proved.
pub fn case_report(
    status: &CaseStatus,
    news_at: Option<DateTime<Utc>>,
    with_reply: bool,
    now: DateTime<FixedOffset>,
) -> CaseReport {
    CaseReport {
        ticket: status.ticket.clone(),
        category: status.category_label.clone(),
        progress: status.progress(now.date_naive()),
        colour: status.colour,
        promised_by: status.promised_by,
        updated_at: news_at.map(|at| at.with_timezone(now.offset())),
        reply: status.reply.clone().filter(|_| with_reply),
    }
}
