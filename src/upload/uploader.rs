//! One upload round: take the waiting batch (or assemble the next one), post it, and record what
//! the office's answer means — delivered, retry later with backoff, or rejected until staff act;
//! then pull what the office did with the community's cases (`updates`). Batches go one at a
//! time, so memory does not grow with the backlog.

use std::sync::Arc;

use chrono::{DateTime, FixedOffset, TimeDelta};
use tracing::{info, warn};
use uuid::Uuid;

use super::backoff::retry_at;
use super::batch::{BatchError, assemble};
use super::office_client::{OfficeClient, UploadError};
use super::updates::{PullOutcome, pull};
use crate::clock::Clock;
use crate::health::Heartbeat;
use crate::store::{Store, UploadStatus, utc_text};

/// The most JSON one batch may carry: 256 KiB keeps a batch well inside the office's 4 MiB
/// limit and quick to resend over a weak mobile link.
pub const MAX_BATCH_JSON_BYTES: usize = 256 * 1024;

/// Who asked for the round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoundMode {
    /// The schedule: batches wait out their backoff; rejected batches wait for staff.
    Scheduled,
    /// A person asked (`upload --once`, the staff menu): try at once, rejected batches too.
    Now,
}

/// What happened to one batch in a round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchOutcome {
    Delivered {
        batch_id: Uuid,
        concerns: u32,
        /// Residents' ratings the batch carried; the office has them now.
        ratings: u32,
        acknowledged: u32,
        /// Concerns the office did not name; they go in a later batch.
        left_pending: u32,
    },
    WillRetry {
        batch_id: Uuid,
        concerns: u32,
        error: String,
        at: DateTime<FixedOffset>,
    },
    Rejected {
        batch_id: Uuid,
        concerns: u32,
        error: String,
    },
    /// Still in its backoff wait (scheduled rounds only).
    NotDue { batch_id: Uuid, at: String },
}

impl BatchOutcome {
    /// One line for staff.
    pub fn describe(&self) -> String {
        match self {
            BatchOutcome::Delivered {
                batch_id,
                concerns,
                ratings,
                acknowledged,
                left_pending,
            } => {
                let mut line = format!(
                    "batch {batch_id}: delivered, {acknowledged} of {concerns} concerns acknowledged"
                );
                if *ratings > 0 {
                    line.push_str(&format!(", {ratings} rating(s)"));
                }
                if *left_pending > 0 {
                    line.push_str(&format!(", {left_pending} go again in a later batch"));
                }
                line
            }
            BatchOutcome::WillRetry {
                batch_id,
                concerns,
                error,
                at,
            } => format!(
                "batch {batch_id} ({concerns} concerns): not delivered: {error}; tried again at {}",
                at.format("%Y-%m-%d %H:%M:%S")
            ),
            BatchOutcome::Rejected {
                batch_id,
                concerns,
                error,
            } => format!(
                "batch {batch_id} ({concerns} concerns): REJECTED: {error}; the concerns are kept; fix the cause, then run `concern-kiosk upload --once`"
            ),
            BatchOutcome::NotDue { batch_id, at } => {
                format!("batch {batch_id}: waiting to retry at {at}")
            }
        }
    }
}

/// What a round did and where uploading stands afterwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoundReport {
    pub batches: Vec<BatchOutcome>,
    /// What pulling the office's case changes did.
    pub updates: PullOutcome,
    /// Concerns whose phone number and free text retention erased in this round.
    pub erased: usize,
    pub status: UploadStatus,
}

pub struct Uploader<C: OfficeClient> {
    store: Store,
    office: C,
    clock: Arc<dyn Clock>,
    kiosk_id: String,
    max_batch: u32,
    retention: TimeDelta,
    /// The running kiosk's watchdog line; each batch reports in, since a round through a slow
    /// link can take many request timeouts.
    heartbeat: Option<Heartbeat>,
}

impl<C: OfficeClient> Uploader<C> {
    pub fn new(
        store: Store,
        office: C,
        clock: Arc<dyn Clock>,
        kiosk_id: &str,
        max_batch: u32,
        retention_days: u32,
    ) -> Uploader<C> {
        Uploader {
            store,
            office,
            clock,
            kiosk_id: kiosk_id.to_string(),
            max_batch,
            retention: TimeDelta::days(i64::from(retention_days)),
            heartbeat: None,
        }
    }

    pub fn with_heartbeat(mut self, heartbeat: Heartbeat) -> Uploader<C> {
        self.heartbeat = Some(heartbeat);
        self
    }

    /// Tells the watchdog the uploader is still working (or still waiting on purpose).
    pub fn report_in(&self) {
        if let Some(heartbeat) = &self.heartbeat {
            heartbeat.beat();
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Sends batches until nothing is waiting, the office fails (it is not hammered: the rest
    /// waits for the next round), or a batch is refused; then pulls updates, unless the office
    /// just failed a batch or a batch waits out its backoff (the pull shares that backoff).
    pub async fn round(&mut self, mode: RoundMode) -> Result<RoundReport, BatchError> {
        let batches = self.send_batches(mode).await?;
        let office_failing = matches!(
            batches.last(),
            Some(BatchOutcome::WillRetry { .. } | BatchOutcome::NotDue { .. })
        );
        let updates = if office_failing {
            PullOutcome::Skipped
        } else {
            let clock = &self.clock;
            let heartbeat = &self.heartbeat;
            pull(
                &mut self.store,
                &self.office,
                || clock.now(),
                mode == RoundMode::Scheduled,
                || {
                    if let Some(heartbeat) = heartbeat {
                        heartbeat.beat();
                    }
                },
            )
            .await?
        };
        let now = self.clock.now();
        // The config bounds the retention days; a clock so far off that the subtraction does
        // not fit erases nothing rather than everything.
        let erased = match now.checked_sub_signed(self.retention) {
            Some(cutoff) => self.store.erase_personal_data(cutoff, now)?,
            None => 0,
        };
        if erased > 0 {
            info!(erased, "retention: phone numbers and free text erased");
        }
        Ok(RoundReport {
            batches,
            updates,
            erased,
            status: self.store.upload_status()?,
        })
    }

    async fn send_batches(&mut self, mode: RoundMode) -> Result<Vec<BatchOutcome>, BatchError> {
        let mut batches = Vec::new();
        loop {
            self.report_in();
            let now = self.clock.now();
            let waiting = self.store.waiting_batch(mode == RoundMode::Now)?;
            let batch = match waiting {
                Some(batch) => batch,
                None => match assemble(
                    &mut self.store,
                    &self.kiosk_id,
                    self.max_batch,
                    MAX_BATCH_JSON_BYTES,
                    now,
                )? {
                    Some(batch) => batch,
                    None => break,
                },
            };
            if mode == RoundMode::Scheduled
                && let Some(at) = &batch.next_attempt_at
                && *at > utc_text(now)
            {
                batches.push(BatchOutcome::NotDue {
                    batch_id: batch.batch_id,
                    at: at.clone(),
                });
                break;
            }
            let answer = self
                .office
                .post_batch(batch.batch_id, batch.body.clone())
                .await;
            let now = self.clock.now();
            let outcome = match answer {
                Ok(reply) => {
                    let (acknowledged, left_pending) =
                        self.store.batch_delivered(batch.batch_id, &reply, now)?;
                    info!(batch = %batch.batch_id, acknowledged, left_pending, "batch delivered");
                    BatchOutcome::Delivered {
                        batch_id: batch.batch_id,
                        concerns: batch.concern_count,
                        ratings: batch.rating_count,
                        acknowledged,
                        left_pending,
                    }
                }
                Err(UploadError::Retryable {
                    reason,
                    retry_after,
                }) => {
                    let at = retry_at(now, batch.attempts.saturating_add(1), retry_after);
                    self.store
                        .batch_retry_later(batch.batch_id, &reason, now, at)?;
                    warn!(batch = %batch.batch_id, %reason, retry_at = %at, "batch not delivered");
                    BatchOutcome::WillRetry {
                        batch_id: batch.batch_id,
                        concerns: batch.concern_count,
                        error: reason,
                        at,
                    }
                }
                Err(rejected @ UploadError::Rejected { .. }) => {
                    let error = rejected.to_string();
                    self.store.batch_rejected(batch.batch_id, &error, now)?;
                    warn!(batch = %batch.batch_id, %error, "batch rejected: staff must act");
                    BatchOutcome::Rejected {
                        batch_id: batch.batch_id,
                        concerns: batch.concern_count,
                        error,
                    }
                }
            };
            let delivered = matches!(outcome, BatchOutcome::Delivered { .. });
            batches.push(outcome);
            if !delivered {
                break;
            }
        }
        Ok(batches)
    }
}
