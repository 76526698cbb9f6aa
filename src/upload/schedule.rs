//! When the uploader runs by itself: every N minutes inside the active hours, once right after
//! closing time (after the daily summary), and when a waiting batch's or a failed pull's
//! backoff ends; plus the "upload now" entry point for the staff menu.

use std::sync::Arc;

use chrono::{DateTime, FixedOffset, NaiveDateTime, NaiveTime, TimeDelta, Timelike};
use tokio::sync::{mpsc, oneshot};
use tracing::warn;

use super::office_client::OfficeClient;
use super::uploader::{RoundMode, RoundReport, Uploader};
use crate::clock::Clock;
use crate::config::{Config, DailyWindow};
use crate::store::StoreError;

/// A day and a bit: the schedule always has a round within that span.
const SEARCH_MINUTES: i64 = 2 * 24 * 60;
/// The longest the uploader sleeps at once: well inside the watchdog's silence limit, and cheap
/// (one indexed query per wake-up).
const WAIT_SLICE: std::time::Duration = std::time::Duration::from_secs(5);

/// The uploader's timetable, from the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    pub every_minutes: u32,
    pub active_hours: DailyWindow,
    /// Closing time (`summary.print_at`): one more round a minute after it.
    pub closing: NaiveTime,
}

impl Schedule {
    pub fn from_config(config: &Config) -> Schedule {
        Schedule {
            every_minutes: config.upload.every_minutes,
            active_hours: config.upload.active_hours,
            closing: config.summary.print_at,
        }
    }

    fn active(&self, t: NaiveDateTime) -> bool {
        self.active_hours.contains(t.time())
    }

    fn is_round_minute(&self, t: NaiveDateTime) -> bool {
        let after_closing = self.closing + TimeDelta::minutes(1);
        if t.time() == after_closing {
            return true;
        }
        let since_start = (t.time() - self.active_hours.start).num_minutes();
        self.active(t) && since_start % i64::from(self.every_minutes.max(1)) == 0
    }

    /// The first round strictly after `now` (kiosk local time, whole minutes).
    pub fn next_round_after(&self, now: NaiveDateTime) -> NaiveDateTime {
        let start = now
            .with_second(0)
            .and_then(|t| t.with_nanosecond(0))
            .unwrap_or(now);
        (1..=SEARCH_MINUTES)
            .map(|m| start + TimeDelta::minutes(m))
            .find(|&t| self.is_round_minute(t))
            .unwrap_or(start + TimeDelta::minutes(i64::from(self.every_minutes.max(1))))
    }

    /// When a batch whose backoff ends at `retry_at` may go: at once inside the active hours,
    /// else at the next round.
    fn retry_time(&self, retry_at: NaiveDateTime) -> Option<NaiveDateTime> {
        self.active(retry_at).then_some(retry_at)
    }
}

type RoundReply = oneshot::Sender<Result<RoundReport, String>>;

/// Asks the running uploader for a round now (the staff menu's "upload now").
#[derive(Clone)]
pub struct UploadHandle {
    requests: mpsc::Sender<RoundReply>,
}

impl UploadHandle {
    pub async fn upload_now(&self) -> Result<RoundReport, String> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(reply)
            .await
            .map_err(|_| "the uploader has stopped".to_string())?;
        answer
            .await
            .map_err(|_| "the uploader stopped during the round".to_string())?
    }
}

/// Starts the uploader on its schedule; it runs until every [`UploadHandle`] is dropped.
pub fn spawn<C: OfficeClient + 'static>(
    uploader: Uploader<C>,
    schedule: Schedule,
    clock: Arc<dyn Clock>,
) -> (UploadHandle, tokio::task::JoinHandle<()>) {
    let (requests, inbox) = mpsc::channel(4);
    let task = tokio::spawn(run(uploader, schedule, clock, inbox));
    (UploadHandle { requests }, task)
}

async fn run<C: OfficeClient>(
    mut uploader: Uploader<C>,
    schedule: Schedule,
    clock: Arc<dyn Clock>,
    mut inbox: mpsc::Receiver<RoundReply>,
) {
    loop {
        uploader.report_in();
        let now = clock.now();
        let wake = match next_wake(&uploader, &schedule, now) {
            Ok(wake) => wake,
            Err(e) => {
                warn!(error = %e, "cannot read the upload queue");
                now.naive_local() + TimeDelta::minutes(1)
            }
        };
        let wait = (wake - now.naive_local()).to_std().unwrap_or_default();
        // Long waits go in slices, so the watchdog hears from a sleeping uploader and a clock
        // set forward (NTP after a cold boot) is noticed within a slice.
        let round_due = wait <= WAIT_SLICE;
        tokio::select! {
            () = tokio::time::sleep(wait.min(WAIT_SLICE)) => {
                if round_due && let Err(e) = uploader.round(RoundMode::Scheduled).await {
                    warn!(error = %e, "upload round failed");
                }
            }
            request = inbox.recv() => {
                let Some(reply) = request else { return };
                let report = uploader.round(RoundMode::Now).await.map_err(|e| e.to_string());
                // The asker may have given up waiting; the round's work is stored either way.
                let _ = reply.send(report);
            }
        }
    }
}

fn next_wake<C: OfficeClient>(
    uploader: &Uploader<C>,
    schedule: &Schedule,
    now: DateTime<FixedOffset>,
) -> Result<NaiveDateTime, StoreError> {
    let next_round = schedule.next_round_after(now.naive_local());
    let store = uploader.store();
    let batch_retry = store
        .waiting_batch(false)?
        .and_then(|batch| batch.next_attempt_at);
    // A pull that failed has its own backoff, whose end starts a round too; but while a batch
    // waits out its backoff the pull waits with it (a round then asks nothing).
    let retry = match batch_retry {
        Some(at) => Some(at),
        None => store.pull_state()?.next_attempt_at,
    }
    .and_then(|at| DateTime::parse_from_rfc3339(&at).ok())
    .map(|at| at.with_timezone(now.offset()).naive_local())
    .and_then(|at| schedule.retry_time(at.max(now.naive_local())));
    Ok(retry.map_or(next_round, |retry| retry.min(next_round)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule() -> Schedule {
        Schedule {
            every_minutes: 30,
            active_hours: DailyWindow {
                start: NaiveTime::from_hms_opt(7, 0, 0).unwrap(),
                end: NaiveTime::from_hms_opt(21, 0, 0).unwrap(),
            },
            closing: NaiveTime::from_hms_opt(17, 30, 0).unwrap(),
        }
    }

    fn at(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    #[test]
    fn rounds_come_every_n_minutes_inside_the_active_hours() {
        let s = schedule();
        assert_eq!(
            s.next_round_after(at("2026-11-26 09:00:00")),
            at("2026-11-26 09:30:00")
        );
        assert_eq!(
            s.next_round_after(at("2026-11-26 09:12:45")),
            at("2026-11-26 09:30:00")
        );
        assert_eq!(
            s.next_round_after(at("2026-11-26 20:31:00")),
            at("2026-11-27 07:00:00")
        );
        assert_eq!(
            s.next_round_after(at("2026-11-26 03:00:00")),
            at("2026-11-26 07:00:00")
        );
    }

    #[test]
    fn one_more_round_follows_closing_time() {
        let s = schedule();
        assert_eq!(
            s.next_round_after(at("2026-11-26 17:30:00")),
            at("2026-11-26 17:31:00")
        );
        let late = Schedule {
            active_hours: DailyWindow {
                start: NaiveTime::from_hms_opt(7, 0, 0).unwrap(),
                end: NaiveTime::from_hms_opt(17, 0, 0).unwrap(),
            },
            ..s
        };
        assert_eq!(
            late.next_round_after(at("2026-11-26 16:50:00")),
            at("2026-11-26 17:31:00")
        );
    }
}
