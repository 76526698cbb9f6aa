//! The persistent print queue: jobs wait in the database (pending → printing → done, or
//! failed), so a receipt survives a printer fault, an unplugged cable or a restart.
//!
//! A job is marked `printing` just before its bytes go out and `done` as soon as the printer has
//! taken them, so a retry never prints a job twice. The one unavoidable case: power lost (or the
//! process killed) after bytes went out but before `done` was committed. Such a job is found in
//! `printing` at the next start and printed again — a resident may get a second copy, never none.

use chrono::{DateTime, FixedOffset, NaiveDate};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::states::JobState;
use super::{Store, StoreError};
use crate::concern::Lang;

/// What a print job prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobKind {
    /// A concern's receipt; the id is the concern's.
    Receipt { concern_id: String },
    /// The printer test page.
    TestPage,
    /// The staff daily summary of one day, made from the store when it prints.
    Summary { date: NaiveDate },
    /// Where a case stands, for the resident at Check my concern, made from the store when it
    /// prints; the office's reply only `with_reply` (the resident proved the receipt).
    StatusSlip {
        ticket: String,
        lang: Lang,
        with_reply: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintJob {
    pub id: i64,
    pub kind: JobKind,
    pub state: JobState,
    pub attempts: u32,
    pub last_error: Option<String>,
}

impl Store {
    /// Queues a job and returns its id.
    pub fn enqueue_print(
        &self,
        kind: &JobKind,
        now: DateTime<FixedOffset>,
    ) -> Result<i64, StoreError> {
        insert_job(&self.conn, kind, now)
    }

    /// Queues the receipt of the concern with this ticket number again (a resident lost theirs)
    /// and notes in the audit log who asked. Returns the job and the ticket as stored, or `None`
    /// when no concern has that number.
    pub fn queue_reprint(
        &self,
        ticket: &str,
        actor: &str,
        now: DateTime<FixedOffset>,
    ) -> Result<Option<(i64, String)>, StoreError> {
        let Some(record) = self.concern_by_ticket(ticket)? else {
            return Ok(None);
        };
        let concern = record.concern;
        let job = self.enqueue_print(
            &JobKind::Receipt {
                concern_id: concern.details.id.to_string(),
            },
            now,
        )?;
        self.audit(now, actor, "reprint", &concern.ticket)?;
        Ok(Some((job, concern.ticket)))
    }

    /// The newest receipt job of a concern.
    pub fn receipt_job_for(&self, concern_id: &str) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT id FROM print_jobs WHERE kind = 'receipt' AND concern_id = ?1
                 ORDER BY id DESC LIMIT 1",
                params![concern_id],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// The oldest job waiting to print, if any.
    pub fn next_print_job(&self) -> Result<Option<PrintJob>, StoreError> {
        self.print_job_where("state = ?1 ORDER BY id LIMIT 1", params![JobState::Pending])
    }

    pub fn print_job(&self, id: i64) -> Result<Option<PrintJob>, StoreError> {
        self.print_job_where("id = ?1", params![id])
    }

    fn print_job_where(
        &self,
        condition: &str,
        values: &[&dyn rusqlite::ToSql],
    ) -> Result<Option<PrintJob>, StoreError> {
        let row = self
            .conn
            .query_row(
                &format!(
                    "SELECT id, kind, concern_id, state, attempts, last_error, summary_date,
                        slip_ticket, slip_lang, slip_with_reply
                     FROM print_jobs WHERE {condition}"
                ),
                values,
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, Option<String>>(2)?,
                        r.get::<_, JobState>(3)?,
                        r.get::<_, u32>(4)?,
                        r.get::<_, Option<String>>(5)?,
                        r.get::<_, Option<String>>(6)?,
                        (
                            r.get::<_, Option<String>>(7)?,
                            r.get::<_, Option<String>>(8)?,
                            r.get::<_, Option<bool>>(9)?,
                        ),
                    ))
                },
            )
            .optional()?;
        let Some((id, kind, concern_id, state, attempts, last_error, summary_date, slip)) = row
        else {
            return Ok(None);
        };
        let summary_date = summary_date.and_then(|d| d.parse().ok());
        let slip = match slip {
            (Some(ticket), Some(lang), Some(with_reply)) => {
                Lang::from_tag(&lang).map(|lang| (ticket, lang, with_reply))
            }
            _ => None,
        };
        let kind = match (kind.as_str(), concern_id, summary_date, slip) {
            ("receipt", Some(concern_id), _, _) => JobKind::Receipt { concern_id },
            ("test", _, _, _) => JobKind::TestPage,
            ("summary", _, Some(date), _) => JobKind::Summary { date },
            ("status", _, _, Some((ticket, lang, with_reply))) => JobKind::StatusSlip {
                ticket,
                lang,
                with_reply,
            },
            (other, _, _, _) => {
                return Err(StoreError::Damaged(format!(
                    "print job {id}: kind `{other}`"
                )));
            }
        };
        Ok(Some(PrintJob {
            id,
            kind,
            state,
            attempts,
            last_error,
        }))
    }

    /// Marks a job as going out to the printer now (one more attempt).
    pub fn start_print_job(&self, id: i64, now: DateTime<FixedOffset>) -> Result<(), StoreError> {
        self.set_job_state(id, JobState::Printing, None, true, now)
    }

    /// The printer has taken every byte of the job.
    pub fn finish_print_job(&self, id: i64, now: DateTime<FixedOffset>) -> Result<(), StoreError> {
        self.set_job_state(id, JobState::Done, None, false, now)
    }

    /// The printer could not take the job now (paper out, cover open, unplugged): it stays
    /// queued with the reason, and prints when the printer is ready again.
    pub fn defer_print_job(
        &self,
        id: i64,
        reason: &str,
        now: DateTime<FixedOffset>,
    ) -> Result<(), StoreError> {
        self.set_job_state(id, JobState::Pending, Some(reason), false, now)
    }

    /// The job can never print (its concern is gone, its document cannot be made).
    pub fn fail_print_job(
        &self,
        id: i64,
        reason: &str,
        now: DateTime<FixedOffset>,
    ) -> Result<(), StoreError> {
        self.set_job_state(id, JobState::Failed, Some(reason), false, now)
    }

    fn set_job_state(
        &self,
        id: i64,
        state: JobState,
        error: Option<&str>,
        count_attempt: bool,
        now: DateTime<FixedOffset>,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE print_jobs SET state = ?2, last_error = coalesce(?3, last_error),
                attempts = attempts + ?4, updated_at = ?5 WHERE id = ?1",
            params![id, state, error, i64::from(count_attempt), now.to_rfc3339()],
        )?;
        Ok(())
    }

    /// Queues the scheduled summary of `date` unless it was queued before (by this process or
    /// one before a restart). Returns the new job, or `None` when the day already has one.
    pub fn queue_daily_summary(
        &mut self,
        date: NaiveDate,
        now: DateTime<FixedOffset>,
    ) -> Result<Option<i64>, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let queued: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM daily_summaries WHERE summary_date = ?1)",
            params![date.to_string()],
            |r| r.get(0),
        )?;
        if queued {
            return Ok(None);
        }
        let job = insert_job(&tx, &JobKind::Summary { date }, now)?;
        tx.execute(
            "INSERT INTO daily_summaries (summary_date, queued_at, print_job) VALUES (?1, ?2, ?3)",
            params![date.to_string(), now.to_rfc3339(), job],
        )?;
        tx.commit()?;
        Ok(Some(job))
    }

    /// Jobs left `printing` by a crash or power cut go back to the queue (see the module note).
    pub fn requeue_interrupted_print_jobs(
        &self,
        now: DateTime<FixedOffset>,
    ) -> Result<usize, StoreError> {
        Ok(self.conn.execute(
            "UPDATE print_jobs SET state = ?2,
                last_error = 'interrupted while printing (power cut or restart): printed again',
                updated_at = ?1
             WHERE state = ?3",
            params![now.to_rfc3339(), JobState::Pending, JobState::Printing],
        )?)
    }
}

fn insert_job(
    conn: &Connection,
    kind: &JobKind,
    now: DateTime<FixedOffset>,
) -> Result<i64, StoreError> {
    let (kind_code, concern_id, summary_date) = match kind {
        JobKind::Receipt { concern_id } => ("receipt", Some(concern_id.clone()), None),
        JobKind::TestPage => ("test", None, None),
        JobKind::Summary { date } => ("summary", None, Some(date.to_string())),
        JobKind::StatusSlip { .. } => ("status", None, None),
    };
    let (slip_ticket, slip_lang, slip_with_reply) = match kind {
        JobKind::StatusSlip {
            ticket,
            lang,
            with_reply,
        } => (Some(ticket.as_str()), Some(lang.tag()), Some(*with_reply)),
        _ => (None, None, None),
    };
    conn.execute(
        "INSERT INTO print_jobs (kind, concern_id, summary_date, slip_ticket, slip_lang,
            slip_with_reply, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
        params![
            kind_code,
            concern_id,
            summary_date,
            slip_ticket,
            slip_lang,
            slip_with_reply,
            now.to_rfc3339()
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_fixtures::store_with_concerns;

    #[test]
    fn a_status_slip_job_reads_back_with_its_case_language_and_reply_flag() {
        let (_dir, store) = store_with_concerns(0);
        let now = DateTime::parse_from_rfc3339("2026-12-02T10:05:00+08:00").unwrap();
        for (lang, with_reply) in [(Lang::ZhCn, false), (Lang::En, true)] {
            let kind = JobKind::StatusSlip {
                ticket: "B1201-003".into(),
                lang,
                with_reply,
            };
            let id = store.enqueue_print(&kind, now).unwrap();
            let job = store.print_job(id).unwrap().unwrap();
            assert_eq!((job.kind, job.state), (kind, JobState::Pending));
        }
    }
}
