//! Store-and-forward against the real office: the kiosk's uploader talks HTTP to a real
//! `concern-office` on 127.0.0.1 through a fault-injecting proxy, with a clock the test moves.
//! Whatever the network does, the office ends with every concern exactly once.

mod support;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, NaiveTime, TimeDelta};
use concern_kiosk::clock::{Clock, ManualClock};
use concern_kiosk::concern::{Draft, Lang};
use concern_kiosk::protocol::wire::BATCHES_PATH;
use concern_kiosk::store::Store;
use concern_kiosk::upload::office_client::HttpOffice;
use concern_kiosk::upload::schedule::Schedule;
use concern_kiosk::upload::uploader::{BatchOutcome, RoundMode, RoundReport, Uploader};
use concern_kiosk::upload::uploader_from_config;
use support::TestKiosk;
use support::fault_proxy::{FaultProxy, Mode, Recorded};
use support::office::{KIOSK_TOKEN, TestOffice};

fn start_time() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2026-11-26T09:00:00+08:00").unwrap()
}

/// A kiosk with `concerns` filed, an office, a proxy between them, and the kiosk's uploader.
struct Bench {
    kiosk: TestKiosk,
    office: TestOffice,
    proxy: FaultProxy,
    clock: Arc<ManualClock>,
    uploader: Uploader<HttpOffice>,
    runtime: tokio::runtime::Runtime,
}

impl Bench {
    fn new(concerns: usize, edit: impl Fn(&TestKiosk)) -> Bench {
        let office = TestOffice::start();
        let proxy = FaultProxy::start(office.addr).unwrap();
        let kiosk = TestKiosk::new();
        kiosk.upload_to(&proxy.url(), KIOSK_TOKEN);
        edit(&kiosk);
        let config = kiosk.load_config();
        let clock = Arc::new(ManualClock::new(start_time()));
        let (mut store, _) = Store::open(&config.kiosk.data_dir, clock.now()).unwrap();
        file_concerns(&mut store, &config, concerns, clock.now());
        let uploader = uploader_from_config(&config, store, clock.clone()).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        Bench {
            kiosk,
            office,
            proxy,
            clock,
            uploader,
            runtime,
        }
    }

    fn round(&mut self, mode: RoundMode) -> RoundReport {
        self.runtime.block_on(self.uploader.round(mode)).unwrap()
    }

    /// The batches that went through the proxy (each round also asks for updates).
    fn batch_requests(&self) -> Vec<Recorded> {
        self.proxy
            .requests()
            .into_iter()
            .filter(|r| r.method == "POST" && r.path == BATCHES_PATH)
            .collect()
    }

    fn pending(&self) -> u32 {
        self.uploader
            .store()
            .upload_status()
            .unwrap()
            .pending_concerns
    }

    /// The office holds exactly the kiosk's concerns, each once.
    fn assert_office_has_everything_once(&self) {
        let kiosk_ids: Vec<String> = {
            let mut ids: Vec<String> = self
                .uploader
                .store()
                .concerns_between(None, None)
                .unwrap()
                .iter()
                .map(|r| r.concern.details.id.to_string())
                .collect();
            ids.sort();
            ids
        };
        let (rows, distinct) = self.office.concern_counts();
        assert_eq!(rows, distinct, "the office stored a concern twice");
        assert_eq!(self.office.concern_ids(), kiosk_ids);
        assert_eq!(self.pending(), 0, "the kiosk still has concerns pending");
    }
}

fn file_concerns(
    store: &mut Store,
    config: &concern_kiosk::config::Config,
    n: usize,
    at: DateTime<FixedOffset>,
) {
    for i in 0..n {
        let category = &config.categories[i % config.categories.len()];
        let draft = Draft {
            category: category.code.clone(),
            phrases: vec!["1".into()],
            text: Some(format!("第{i}件事")),
            location: Some("3幢".into()),
            phone: (i % 2 == 0).then(|| "13812345678".into()),
            lang: Lang::ZhCn,
        };
        store
            .file_concern(draft.validate(config, at).unwrap(), "A")
            .unwrap();
    }
}

fn delivered(report: &RoundReport) -> usize {
    report
        .batches
        .iter()
        .filter(|b| matches!(b, BatchOutcome::Delivered { .. }))
        .count()
}

fn retry_at(report: &RoundReport) -> DateTime<FixedOffset> {
    match report.batches.last() {
        Some(BatchOutcome::WillRetry { at, .. }) => *at,
        other => panic!("expected a retry, got {other:?}"),
    }
}

#[test]
fn a_backlog_goes_in_batches_of_max_batch_and_arrives_once() {
    let mut bench = Bench::new(250, |_| {});
    let report = bench.round(RoundMode::Scheduled);
    assert_eq!(delivered(&report), 3, "{report:#?}");
    let sizes: Vec<u32> = report
        .batches
        .iter()
        .map(|b| match b {
            BatchOutcome::Delivered { concerns, .. } => *concerns,
            _ => 0,
        })
        .collect();
    assert_eq!(sizes, [100, 100, 50]);
    bench.assert_office_has_everything_once();
    let requests = bench.proxy.requests();
    let bearer = format!("Bearer {KIOSK_TOKEN}");
    assert!(
        requests
            .iter()
            .all(|r| r.header("authorization") == Some(&bearer))
    );
    let batches = bench.batch_requests();
    assert_eq!(batches.len(), 3);
    assert!(
        batches
            .iter()
            .all(|r| r.header("content-encoding") == Some("gzip")
                && r.header("idempotency-key").is_some())
    );
    // After the batches, the round asked for what the office did: the 250 new cases, a page
    // of at most 100 at a time, each page after the last one's cursor.
    let pulls: Vec<&str> = requests
        .iter()
        .filter(|r| r.path.starts_with("/v1/updates"))
        .map(|r| r.path.as_str())
        .collect();
    assert_eq!(
        pulls,
        [
            "/v1/updates?after=0",
            "/v1/updates?after=100",
            "/v1/updates?after=200"
        ]
    );
    assert_eq!(bench.uploader.store().updates_cursor().unwrap(), 250);
}

#[test]
fn a_connection_dropped_after_the_office_stored_the_batch_is_retried_without_duplicates() {
    let mut bench = Bench::new(30, |_| {});
    bench.proxy.queue_once(Mode::DropAfterUpstreamReplied);
    let first = bench.round(RoundMode::Scheduled);
    let at = retry_at(&first);
    assert_eq!(
        bench.office.concern_counts().0,
        30,
        "the office did store it"
    );
    assert_eq!(bench.pending(), 30, "but the kiosk never heard so");

    bench.clock.set(at);
    let second = bench.round(RoundMode::Scheduled);
    match &second.batches[0] {
        BatchOutcome::Delivered { acknowledged, .. } => assert_eq!(*acknowledged, 30),
        other => panic!("{other:?}"),
    }
    bench.assert_office_has_everything_once();
    let requests = bench.batch_requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests[0].header("idempotency-key"),
        requests[1].header("idempotency-key"),
        "a retry keeps its batch id"
    );
    assert_eq!(
        requests[0].body, requests[1].body,
        "a retry keeps its contents"
    );
}

#[test]
fn a_503_with_retry_after_is_waited_out_exactly() {
    let mut bench = Bench::new(5, |_| {});
    bench.proxy.queue_once(Mode::respond(
        503,
        &[("Retry-After", "120")],
        r#"{"error":"maintenance"}"#,
    ));
    let first = bench.round(RoundMode::Scheduled);
    assert_eq!(retry_at(&first), start_time() + TimeDelta::seconds(120));

    bench.clock.advance(TimeDelta::seconds(119));
    let early = bench.round(RoundMode::Scheduled);
    assert!(
        matches!(early.batches[0], BatchOutcome::NotDue { .. }),
        "{early:#?}"
    );
    assert_eq!(
        bench.proxy.requests().len(),
        1,
        "nothing may be sent before Retry-After, nor any updates asked"
    );

    bench.clock.advance(TimeDelta::seconds(1));
    let report = bench.round(RoundMode::Scheduled);
    assert_eq!(delivered(&report), 1);
    bench.assert_office_has_everything_once();
}

#[test]
fn a_retry_after_of_millions_of_years_waits_at_most_half_a_day() {
    let mut bench = Bench::new(5, |_| {});
    bench.proxy.queue_once(Mode::respond(
        503,
        &[("Retry-After", "99999999999999")],
        r#"{"error":"maintenance"}"#,
    ));
    let first = bench.round(RoundMode::Scheduled);
    assert_eq!(retry_at(&first), start_time() + TimeDelta::hours(12));
    bench.clock.advance(TimeDelta::hours(12));
    let report = bench.round(RoundMode::Scheduled);
    assert_eq!(delivered(&report), 1, "{report:#?}");
    bench.assert_office_has_everything_once();
}

#[test]
fn an_answer_slower_than_the_timeout_is_retried_without_duplicates() {
    let mut bench = Bench::new(10, |kiosk| kiosk.set_key("request_timeout_seconds", "1"));
    bench
        .proxy
        .queue_once(Mode::DelayResponse(Duration::from_secs(3)));
    let first = bench.round(RoundMode::Scheduled);
    match &first.batches[0] {
        BatchOutcome::WillRetry { error, .. } => assert!(error.contains("in time"), "{error}"),
        other => panic!("{other:?}"),
    }
    // The slow answer lands at the office anyway; the retry is answered as duplicates.
    bench.clock.set(retry_at(&first));
    let second = bench.round(RoundMode::Scheduled);
    assert_eq!(delivered(&second), 1);
    bench.assert_office_has_everything_once();
}

#[test]
fn a_401_rejects_the_batch_keeps_every_concern_and_waits_for_staff() {
    let mut bench = Bench::new(8, |_| {});
    bench.proxy.set_mode(Mode::respond(
        401,
        &[("Content-Type", "application/json")],
        r#"{"error":"unknown token: ask the office for this kiosk's token"}"#,
    ));
    let report = bench.round(RoundMode::Scheduled);
    match &report.batches[0] {
        BatchOutcome::Rejected { error, .. } => assert!(error.contains("unknown token"), "{error}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(report.status.rejected.len(), 1);
    assert_eq!(bench.pending(), 8, "every concern is kept");
    let records = bench.uploader.store().concerns_between(None, None).unwrap();
    assert!(records.iter().all(|r| r.concern.details.text.is_some()));

    // The schedule leaves a rejected batch alone...
    bench.clock.advance(TimeDelta::hours(2));
    bench.round(RoundMode::Scheduled);
    assert_eq!(bench.batch_requests().len(), 1);
    // ...and `doctor` says so, naming the office's reason.
    let doctor = bench.kiosk.run(&["doctor"]);
    let upload_line = support::stdout(&doctor)
        .lines()
        .find(|l| l.contains("upload"))
        .unwrap()
        .to_string();
    assert!(
        upload_line.starts_with("FAIL") && upload_line.contains("unknown token"),
        "{upload_line}"
    );

    // Staff fix the token and ask for an upload now: everything arrives.
    bench.proxy.set_mode(Mode::PassThrough);
    let report = bench.round(RoundMode::Now);
    assert_eq!(delivered(&report), 1, "{report:#?}");
    assert!(report.status.rejected.is_empty());
    bench.assert_office_has_everything_once();
}

#[test]
fn an_office_down_for_a_week_gets_everything_when_it_comes_back() {
    let mut bench = Bench::new(40, |_| {});
    // Down behind a front end that still takes connections: a refused connection is the
    // kernel's answer, which the proxy never sees, so only this way is every attempt counted.
    bench.proxy.set_mode(Mode::HangUp);
    let config = bench.kiosk.load_config();
    let schedule = Schedule::from_config(&config);
    // The reference config's timetable, which the bounds on the attempts below are worked out
    // from.
    let time = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
    assert_eq!(
        (
            schedule.every_minutes,
            schedule.active_hours.start,
            schedule.active_hours.end,
            schedule.closing
        ),
        (30, time(7, 0), time(21, 0), time(17, 30))
    );
    let (mut second_store, _) = Store::open(&config.kiosk.data_dir, bench.clock.now()).unwrap();
    // A week of the schedule's rounds, with residents filing concerns every day meanwhile.
    let mut rounds = 0;
    let mut attempts = 0;
    for _ in 0..7 {
        file_concerns(&mut second_store, &config, 5, bench.clock.now());
        let day_ends = bench.clock.now() + TimeDelta::days(1);
        loop {
            let now = bench.clock.now();
            let next = schedule.next_round_after(now.naive_local());
            let next = next.and_local_timezone(*now.offset()).unwrap();
            if next > day_ends {
                break;
            }
            bench.clock.set(next);
            let hung_up = bench.proxy.hung_up();
            let report = bench.round(RoundMode::Scheduled);
            assert_eq!(delivered(&report), 0);
            rounds += 1;
            // One attempt when the backoff is over, none while it lasts: never more, as a
            // failed batch ends the round.
            match &report.batches[..] {
                [BatchOutcome::WillRetry { at, .. }] => {
                    attempts += 1;
                    assert_eq!(bench.proxy.hung_up(), hung_up + 1, "{report:#?}");
                    // backoff.rs: a random share of 30 s doubled for each failed attempt
                    // before, up to 30 minutes.
                    let ceiling =
                        TimeDelta::seconds(30 << (attempts - 1).min(6)).min(TimeDelta::minutes(30));
                    assert!(
                        next <= *at && *at <= next + ceiling,
                        "attempt {attempts} at {next}: retry at {at}, past the ceiling {ceiling}"
                    );
                }
                [BatchOutcome::NotDue { .. }] => assert_eq!(bench.proxy.hung_up(), hung_up),
                other => panic!("{other:#?}"),
            }
        }
    }
    assert_eq!(bench.office.concern_counts().0, 0);
    assert_eq!(bench.pending(), 75);
    // The bounds (schedule.rs): rounds every 30 minutes inside 07:00-21:00 (07:00 to 20:30, 28
    // of them) and one a minute after closing at 17:30, so 29 in every 24 hours and none at
    // night. No backoff wait is longer than the 30 minutes between two rounds, so only the 17:31
    // round can find the wait of the 17:30 attempt still running: 28 or 29 attempts a day.
    assert_eq!(rounds, 7 * 29);
    assert!((7 * 28..=7 * 29).contains(&attempts), "{attempts} attempts");
    assert_eq!(
        bench.proxy.hung_up(),
        attempts,
        "every attempt reached the office's door"
    );

    bench.proxy.set_mode(Mode::PassThrough);
    bench.clock.advance(TimeDelta::minutes(30));
    let report = bench.round(RoundMode::Scheduled);
    assert!(delivered(&report) >= 1, "{report:#?}");
    bench.assert_office_has_everything_once();
}
