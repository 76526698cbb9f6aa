//! The staff daily summary: what it holds (gathered from the store), the printed sheet, and
//! when it prints by itself — once a day at `summary.print_at`, remembered in the store so a
//! restart does not print it twice.

mod sheet;

use chrono::{DateTime, Days, FixedOffset, NaiveDate, NaiveTime};

use crate::concern::{Colour, Rating};
use crate::config::Config;
use crate::store::{CaseStatus, ConcernRecord, JobKind, JobState, Store, StoreError, UploadStatus};

pub use sheet::summary_sheet;

/// Concerns due within this many days are listed as well as overdue ones, so staff can chase
/// them before the promise is broken.
pub const DUE_SOON_DAYS: u64 = 2;
/// How far back the summary looks for earlier concerns that are due: beyond three months an
/// unanswered concern is the office's to chase from its own lists, and the sheet stays short.
pub const EARLIER_DAYS_LOOKBACK: u64 = 90;

/// One day's summary, as gathered from the store when it is printed or shown.
#[derive(Debug, Clone)]
pub struct DailySummary {
    pub date: NaiveDate,
    pub made_at: DateTime<FixedOffset>,
    /// The day's concerns, oldest first.
    pub today: Vec<ConcernRecord>,
    /// Concerns of earlier days that are due (or overdue) by `date` + [`DUE_SOON_DAYS`], with the
    /// date that is due: the answer date, or a red concern's next follow-up.
    pub due: Vec<(ConcernRecord, NaiveDate)>,
    /// Concerns the office acknowledged during `date`.
    pub uploaded_on_date: u32,
    pub upload: UploadStatus,
    /// What the office did, as this kiosk last heard it: the cases it first answered during
    /// `date` (from any kiosk of the community), by ticket.
    pub answered: Vec<CaseStatus>,
    /// Open unanswered cases whose deadline at the office is before `date`.
    pub overdue_at_office: Vec<CaseStatus>,
    /// Unsatisfied and very unsatisfied ratings of `date`, by ticket.
    pub unhappy: Vec<(String, Rating)>,
}

impl DailySummary {
    pub fn gather(
        store: &Store,
        config: &Config,
        date: NaiveDate,
        now: DateTime<FixedOffset>,
    ) -> Result<DailySummary, StoreError> {
        let today = store.concerns_between(Some(date), Some(date))?;
        let due_by = date + Days::new(DUE_SOON_DAYS);
        let lookback = date - Days::new(EARLIER_DAYS_LOOKBACK);
        let follow_up = u64::from(config.triage.red.follow_up_every_days.max(1));
        let due = store
            .concerns_due_from_earlier_days(lookback, date, due_by)?
            .into_iter()
            .filter_map(|record| {
                let details = &record.concern.details;
                let due_on = if details.colour == Colour::Red {
                    next_follow_up(details.due_date, follow_up, date)
                } else {
                    details.due_date
                };
                (due_on <= due_by).then_some((record, due_on))
            })
            .collect();
        let start = day_start(date, now);
        let end = start + chrono::TimeDelta::days(1);
        Ok(DailySummary {
            date,
            made_at: now,
            today,
            due,
            uploaded_on_date: store.uploaded_between(start, end)?,
            upload: store.upload_status()?,
            answered: store.answered_between(start, end)?,
            overdue_at_office: store.overdue_by_office(date)?,
            unhappy: store.unhappy_ratings_on(date, start, end)?,
        })
    }

    /// The day's concerns whose receipt has not come out of the printer.
    pub fn unprinted(&self) -> Vec<&ConcernRecord> {
        self.today
            .iter()
            .filter(|r| r.receipt != Some(JobState::Done))
            .collect()
    }
}

/// A red concern's first follow-up date on or after `on`: they repeat every `every` days.
fn next_follow_up(first: NaiveDate, every: u64, on: NaiveDate) -> NaiveDate {
    if first >= on {
        return first;
    }
    let behind = (on - first).num_days().unsigned_abs();
    first + Days::new(behind.div_ceil(every) * every)
}

/// Midnight at the start of `date` in the kiosk's offset.
fn day_start(date: NaiveDate, now: DateTime<FixedOffset>) -> DateTime<FixedOffset> {
    date.and_time(NaiveTime::MIN)
        .and_local_timezone(*now.offset())
        .single()
        .unwrap_or(now)
}

/// Queues the day's summary at closing time, once: a summary queued earlier today (by this
/// process or one before a restart) is not queued again. Returns the new job.
pub fn schedule_tick(
    store: &mut Store,
    config: &Config,
    now: DateTime<FixedOffset>,
) -> Result<Option<i64>, StoreError> {
    if now.time() < config.summary.print_at {
        return Ok(None);
    }
    store.queue_daily_summary(now.date_naive(), now)
}

/// Queues a summary because a person asked (the command line or the staff menu); asked again,
/// it prints again. The request goes into the audit log.
pub fn queue_on_demand(
    store: &Store,
    date: NaiveDate,
    actor: &str,
    now: DateTime<FixedOffset>,
) -> Result<i64, StoreError> {
    let job = store.enqueue_print(&JobKind::Summary { date }, now)?;
    store.audit(now, actor, "print-summary", &date.to_string())?;
    Ok(job)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::concern::CaseState;
    use crate::concern::{Draft, Lang};
    use crate::golden::check_golden;
    use crate::paper::{png_bytes, render_raster};
    use crate::protocol::wire::{BatchReply, StatusUpdate, UpdatesPage};

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn at(text: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(text).unwrap()
    }

    /// A plausible day at the kiosk: the one the README shows.
    fn reference_day() -> (tempfile::TempDir, Store, Config) {
        let config = Config::demo().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (mut store, _) = Store::open(dir.path(), at("2026-11-26T08:00:00+08:00")).unwrap();
        let filings = [
            (
                "2026-11-14T10:05:00+08:00",
                "sanitation",
                "4",
                Some("5幢门口"),
            ),
            (
                "2026-11-26T08:12:00+08:00",
                "repairs",
                "1",
                Some("3幢2单元"),
            ),
            ("2026-11-26T08:40:00+08:00", "noise", "1", Some("7幢1单元")),
            (
                "2026-11-26T09:31:00+08:00",
                "sanitation",
                "1",
                Some("垃圾站"),
            ),
            ("2026-11-26T10:02:00+08:00", "safety", "2", Some("2幢3单元")),
            (
                "2026-11-26T10:47:00+08:00",
                "neighbours",
                "1",
                Some("6幢4单元"),
            ),
            ("2026-11-26T14:15:00+08:00", "suggestion", "1", None),
            (
                "2026-11-26T16:58:00+08:00",
                "parking",
                "1",
                Some("地下车库"),
            ),
        ];
        for (when, category, phrase, location) in filings {
            let draft = Draft {
                category: category.into(),
                phrases: vec![phrase.into()],
                text: None,
                location: location.map(str::to_string),
                phone: None,
                lang: Lang::ZhCn,
            };
            let concern = draft.validate(&config, at(when)).unwrap();
            store.file_concern(concern, "A").unwrap();
        }
        // The morning's receipts printed; the office has the first three concerns.
        for _ in 0..5 {
            let job = store.next_print_job().unwrap().unwrap();
            store
                .start_print_job(job.id, at("2026-11-26T11:00:00+08:00"))
                .unwrap();
            store
                .finish_print_job(job.id, at("2026-11-26T11:00:00+08:00"))
                .unwrap();
        }
        let noon = at("2026-11-26T12:00:00+08:00");
        let ids: Vec<_> = store.concerns_between(None, None).unwrap()[..3]
            .iter()
            .map(|r| r.concern.details.id)
            .collect();
        // What the batch's bytes are is the uploader's business, not the summary's.
        let batch = store
            .save_batch(uuid::Uuid::now_v7(), b"batch".to_vec(), &ids, &[], noon)
            .unwrap()
            .unwrap();
        let reply = BatchReply {
            accepted: ids,
            duplicates: vec![],
        };
        store.batch_delivered(batch.batch_id, &reply, noon).unwrap();
        // What the office did, as it reached the kiosk in the afternoon: the 14 November concern
        // is with a handler past the office's deadline; a concern filed at another kiosk was
        // answered today; one answered earlier was rated very unsatisfied today and is under
        // supervision again.
        let earlier = store.concerns_between(None, None).unwrap()[0].clone();
        let update =
            |cursor, ticket: &str, state, due, answered: Option<&str>, rating| StatusUpdate {
                cursor,
                concern_id: uuid::Uuid::from_u128(cursor.into()),
                ticket: ticket.into(),
                category_label: earlier.concern.details.category_label.clone(),
                state,
                colour: Colour::Green,
                promised_by: day(due),
                due_date: Some(day(due)),
                reply: answered.map(|_| "已处理".to_string()),
                rating,
                answered_at: answered.map(|t| at(t).with_timezone(&chrono::Utc)),
                changed_at: at("2026-11-26T15:20:00+08:00").with_timezone(&chrono::Utc),
                check_code: None,
                tracking_digest: None,
            };
        let overdue = StatusUpdate {
            concern_id: earlier.concern.details.id,
            ..update(
                1,
                &earlier.concern.ticket,
                CaseState::Assigned,
                "2026-11-21",
                None,
                None,
            )
        };
        let page = UpdatesPage {
            updates: vec![
                overdue,
                update(
                    2,
                    "B1126-004",
                    CaseState::Answered,
                    "2026-12-03",
                    Some("2026-11-26T15:20:00+08:00"),
                    None,
                ),
                update(
                    3,
                    "B1119-002",
                    CaseState::Supervised,
                    "2026-12-10",
                    Some("2026-11-24T10:00:00+08:00"),
                    Some(Rating::VeryUnsatisfied),
                ),
            ],
            next_after: 3,
            more: false,
        };
        store
            .apply_updates(&page, at("2026-11-26T15:30:00+08:00"))
            .unwrap();
        (dir, store, config)
    }

    #[test]
    fn the_reference_day_prints_as_the_golden_summary() {
        let (_dir, store, config) = reference_day();
        let closing = at("2026-11-26T17:30:00+08:00");
        let summary = DailySummary::gather(&store, &config, closing.date_naive(), closing).unwrap();
        assert_eq!(summary.today.len(), 7);
        assert_eq!(summary.due.len(), 1, "the 14 November concern is overdue");
        assert_eq!(summary.uploaded_on_date, 3);
        assert_eq!(summary.unprinted().len(), 3);
        let tickets = |cases: &[CaseStatus]| -> Vec<String> {
            cases.iter().map(|c| c.ticket.clone()).collect()
        };
        assert_eq!(tickets(&summary.answered), ["B1126-004"]);
        assert_eq!(tickets(&summary.overdue_at_office), ["A1114-001"]);
        assert_eq!(
            summary.unhappy,
            [("B1119-002".to_string(), Rating::VeryUnsatisfied)]
        );
        let sheet = summary_sheet(&summary, &config);
        let lines = sheet.plain_lines();
        for shown in [
            "今日已答复 (1)",
            "B1126-004",
            "办公室超期未答复 (1)",
            "A1114-001(11-21)",
            "不满意评价 (1)",
            "B1119-002 非常不满意",
        ] {
            assert!(lines.iter().any(|l| l == shown), "{shown}: {lines:#?}");
        }
        check_golden(
            "summary-zh-384.png",
            &png_bytes(&render_raster(&sheet).unwrap()).unwrap(),
        );
        // The English sheet on 80 mm paper, where an entry has room for its phrase.
        let mut wide = config.clone();
        wide.summary.language = Lang::En;
        wide.printer.width_dots = 576;
        let sheet = summary_sheet(&summary, &wide);
        let lines = sheet.plain_lines();
        assert!(
            lines
                .iter()
                .any(|l| l == "A1126-001 O Repairs 3幢2单元 08:12 The lift is…"),
            "{lines:#?}"
        );
        check_golden(
            "summary-en-576.png",
            &png_bytes(&render_raster(&sheet).unwrap()).unwrap(),
        );
    }

    #[test]
    fn an_empty_day_still_prints_a_short_summary() {
        let config = Config::demo().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let now = at("2026-11-26T17:30:00+08:00");
        let (store, _) = Store::open(dir.path(), now).unwrap();
        let summary = DailySummary::gather(&store, &config, now.date_naive(), now).unwrap();
        let lines = summary_sheet(&summary, &config).plain_lines();
        assert!(
            lines.iter().any(|l| l == "今日没有新的反映。"),
            "{lines:#?}"
        );
        assert!(lines.iter().any(|l| l.starts_with("居民诉求清单 (0)")));
    }

    #[test]
    fn red_follow_ups_repeat_every_n_days() {
        let first = day("2026-11-10");
        assert_eq!(next_follow_up(first, 14, day("2026-11-01")), first);
        assert_eq!(next_follow_up(first, 14, day("2026-11-10")), first);
        assert_eq!(
            next_follow_up(first, 14, day("2026-11-11")),
            day("2026-11-24")
        );
        assert_eq!(
            next_follow_up(first, 14, day("2026-11-24")),
            day("2026-11-24")
        );
    }
}
