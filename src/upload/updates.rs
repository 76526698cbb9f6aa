//! Pulling what the office did with the community's cases (`GET /v1/updates`): page after page
//! from the stored cursor, each page kept with its cursor in one transaction, and failures
//! retried on the same backoff as batches, remembered in the store across restarts.

use chrono::{DateTime, FixedOffset};
use tracing::{info, warn};

use super::backoff::retry_at;
use super::office_client::{OfficeClient, UploadError};
use crate::concern::clean_user_text;
use crate::protocol::wire::{StatusUpdate, UpdatesPage};
use crate::store::{Store, StoreError, utc_text};

/// The most pages one round pulls: 20 pages of 100 are 2000 case changes, a month of a busy
/// community's office, so a kiosk that was away catches up in a round or two while one round
/// stays short. What is left comes in the next round.
pub const MAX_PAGES_PER_ROUND: u32 = 20;
/// The longest reply from the office a kiosk keeps: the office's own limit. Longer text is
/// cut, so a broken office cannot fill the screen or the status slip.
pub const MAX_REPLY_CHARS: usize = 1000;
/// The longest ticket number or category label kept from the office: more than any the
/// kiosks issue or the config allows.
const MAX_LABEL_CHARS: usize = 80;

/// What the pull of a round did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PullOutcome {
    /// Pages arrived; `more` when the office holds changes beyond them (the next round asks).
    Pulled {
        changed: usize,
        pages: u32,
        cursor: u64,
        more: bool,
    },
    /// An attempt failed after `changed` cases had changed in earlier pages; asked again at
    /// `at` (refused or not: the office may have been misconfigured for a moment, and
    /// asking costs it nothing).
    Failed {
        changed: usize,
        cursor: u64,
        error: String,
        at: DateTime<FixedOffset>,
    },
    /// Still in its backoff wait (scheduled rounds only).
    NotDue { at: String },
    /// Not asked: the office just failed this round's batch, or a batch waits out its
    /// backoff, so the office is not knocked on twice.
    Skipped,
}

impl PullOutcome {
    /// One line for staff, e.g. "status: 3 cases changed, cursor 57".
    pub fn describe(&self) -> String {
        match self {
            PullOutcome::Pulled {
                changed,
                cursor,
                more,
                ..
            } => {
                let mut line = format!("status: {changed} cases changed, cursor {cursor}");
                if *more {
                    line.push_str("; more come in the next round");
                }
                line
            }
            PullOutcome::Failed {
                changed,
                cursor,
                error,
                at,
            } => format!(
                "status: {changed} cases changed, cursor {cursor}; then not pulled: {error}; asked again at {}",
                at.format("%Y-%m-%d %H:%M:%S")
            ),
            PullOutcome::NotDue { at } => format!("status: waiting to ask again at {at}"),
            PullOutcome::Skipped => {
                "status: not asked this round, as the office did not take the batch".into()
            }
        }
    }
}

/// Pulls pages until the office has no more, [`MAX_PAGES_PER_ROUND`] have come, or an
/// attempt fails. `honour_backoff`: a scheduled round waits out an earlier failure's backoff;
/// a person asking does not. `report_in` tells the watchdog before each page.
pub async fn pull<C: OfficeClient>(
    store: &mut Store,
    office: &C,
    now: impl Fn() -> DateTime<FixedOffset>,
    honour_backoff: bool,
    report_in: impl Fn(),
) -> Result<PullOutcome, StoreError> {
    let state = store.pull_state()?;
    if honour_backoff
        && let Some(at) = state.next_attempt_at
        && at > utc_text(now())
    {
        return Ok(PullOutcome::NotDue { at });
    }
    let (mut changed, mut pages) = (0, 0);
    let mut cursor = store.updates_cursor()?;
    loop {
        report_in();
        let answer = office.get_updates(cursor).await.and_then(|page| {
            // An office that says more wait yet moves the cursor nowhere would be asked the
            // same page forever.
            if page.more && page.next_after <= cursor {
                Err(UploadError::Retryable {
                    reason: format!(
                        "the office said more changes wait after {cursor} but moved the cursor to {}",
                        page.next_after
                    ),
                    retry_after: None,
                })
            } else {
                Ok(page)
            }
        });
        let page = match answer {
            Ok(page) => page,
            Err(error) => {
                let retry_after = match &error {
                    UploadError::Retryable { retry_after, .. } => *retry_after,
                    UploadError::Rejected { .. } => None,
                };
                let now = now();
                let error = error.to_string();
                let at = retry_at(now, state.failed_attempts.saturating_add(1), retry_after);
                store.pull_failed(&error, at)?;
                warn!(%error, retry_at = %at, "updates not pulled");
                return Ok(PullOutcome::Failed {
                    changed,
                    cursor,
                    error,
                    at,
                });
            }
        };
        let more = page.more;
        changed += store.apply_updates(&cleaned(page), now())?;
        pages += 1;
        cursor = store.updates_cursor()?;
        if !more || pages >= MAX_PAGES_PER_ROUND {
            info!(changed, pages, cursor, more, "updates pulled");
            return Ok(PullOutcome::Pulled {
                changed,
                pages,
                cursor,
                more,
            });
        }
    }
}

/// The page with every text the kiosk will show or print made safe: no control or format
/// characters (a printer command or a bidi override from a broken office), bounded lengths.
fn cleaned(mut page: UpdatesPage) -> UpdatesPage {
    for update in &mut page.updates {
        clean_update(update);
    }
    page
}

fn clean_update(update: &mut StatusUpdate) {
    let clip = |text: &str, limit: usize| clean_user_text(text).chars().take(limit).collect();
    update.ticket = clip(&update.ticket, MAX_LABEL_CHARS);
    update.category_label.zh = clip(&update.category_label.zh, MAX_LABEL_CHARS);
    update.category_label.en = clip(&update.category_label.en, MAX_LABEL_CHARS);
    update.reply = update
        .reply
        .as_deref()
        .map(|reply| clip(reply, MAX_REPLY_CHARS));
    update.tracking_digest = update
        .tracking_digest
        .take()
        .filter(|d| d.len() == 64 && d.bytes().all(|b| b.is_ascii_hexdigit()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::concern::{Bilingual, CaseState, Colour};

    #[test]
    fn what_the_office_wrote_reaches_the_kiosk_without_printer_commands_and_bounded() {
        let mut update = StatusUpdate {
            cursor: 1,
            concern_id: uuid::Uuid::nil(),
            ticket: "A1201-001\u{1b}@".into(),
            category_label: Bilingual {
                zh: "维修\u{202e}".into(),
                en: "Repairs".into(),
            },
            state: CaseState::Answered,
            colour: Colour::Green,
            promised_by: "2026-12-08".parse().unwrap(),
            due_date: None,
            reply: Some(format!("已修好\u{1d}V\u{0}{}", "好".repeat(5000))),
            rating: None,
            answered_at: None,
            changed_at: chrono::DateTime::UNIX_EPOCH,
            check_code: None,
            tracking_digest: Some("not a digest".into()),
        };
        clean_update(&mut update);
        assert_eq!(update.ticket, "A1201-001@");
        assert_eq!(update.category_label.zh, "维修");
        let reply = update.reply.unwrap();
        assert!(reply.starts_with("已修好V好"), "{reply}");
        assert_eq!(reply.chars().count(), MAX_REPLY_CHARS);
        assert_eq!(update.tracking_digest, None);
    }
}
