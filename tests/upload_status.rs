//! Status flowing back: each upload round pulls `GET /v1/updates` through the fault-injecting
//! proxy from an office on 127.0.0.1, with a clock the test moves. Batches go to the real
//! `concern-office`; the updates come from a stand-in route beside it that serves pages of a
//! log the test writes, so the test decides what the office did and when.

mod support;

use std::io::Read;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, FixedOffset, TimeDelta, Utc};
use concern_kiosk::clock::{Clock, ManualClock};
use concern_kiosk::concern::{Bilingual, CaseState, CheckCode, Colour, Draft, Lang, Rating};
use concern_kiosk::office::{Office, TokenTable, router};
use concern_kiosk::protocol::wire::{Batch, ErrorReply, StatusUpdate, UPDATES_PATH, UpdatesPage};
use concern_kiosk::store::Store;
use concern_kiosk::upload::office_client::HttpOffice;
use concern_kiosk::upload::schedule::Schedule;
use concern_kiosk::upload::updates::PullOutcome;
use concern_kiosk::upload::uploader::{BatchOutcome, RoundMode, RoundReport, Uploader};
use concern_kiosk::upload::uploader_from_config;
use support::TestKiosk;
use support::fault_proxy::{FaultProxy, Mode, Outcome};
use support::office::{KIOSK_ID, KIOSK_TOKEN};
use uuid::Uuid;

fn start_time() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2026-11-26T09:00:00+08:00").unwrap()
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

// ---------------------------------------------------------------------------------------------
// The office: the real concern-office, and a stand-in for its updates
// ---------------------------------------------------------------------------------------------

/// What the stand-in updates route holds and saw.
struct UpdatesLog {
    /// Every change the office made, cursors increasing.
    changes: Mutex<Vec<StatusUpdate>>,
    /// The `after` of every request, in arrival order.
    asked: Mutex<Vec<u64>>,
    page_size: usize,
}

/// `concern-office`'s own routes, with `GET /v1/updates` answered from an [`UpdatesLog`].
struct StatusOffice {
    addr: SocketAddr,
    db: std::path::PathBuf,
    log: Arc<UpdatesLog>,
    _dir: tempfile::TempDir,
    _runtime: tokio::runtime::Runtime,
}

impl StatusOffice {
    fn start(page_size: usize) -> StatusOffice {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("office.db");
        let tokens = TokenTable::parse(&format!("{KIOSK_ID} {KIOSK_TOKEN}\n"), "tokens").unwrap();
        let office = Office::open(&db, tokens).unwrap();
        let log = Arc::new(UpdatesLog {
            changes: Mutex::new(Vec::new()),
            asked: Mutex::new(Vec::new()),
            page_size,
        });
        let app = Router::new()
            .route(UPDATES_PATH, get(serve_updates))
            .with_state(Arc::clone(&log))
            .fallback_service(router(office));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        runtime.spawn(async move { axum::serve(listener, app).await });
        StatusOffice {
            addr,
            db,
            log,
            _dir: dir,
            _runtime: runtime,
        }
    }

    /// The office changes a case: appended with the next cursor.
    fn change(&self, mut update: StatusUpdate) {
        let mut changes = lock(&self.log.changes);
        update.cursor = changes.last().map_or(1, |u| u.cursor + 1);
        changes.push(update);
    }

    fn last_cursor(&self) -> u64 {
        lock(&self.log.changes).last().map_or(0, |u| u.cursor)
    }

    fn asked(&self) -> Vec<u64> {
        lock(&self.log.asked).clone()
    }

    /// (rows, distinct ids) of the office's concerns.
    fn concern_counts(&self) -> (i64, i64) {
        rusqlite::Connection::open(&self.db)
            .unwrap()
            .query_row(
                "SELECT count(*), count(DISTINCT id) FROM concerns",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap()
    }
}

async fn serve_updates(
    State(log): State<Arc<UpdatesLog>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let refuse = |status: StatusCode, error: &str| {
        let reply = ErrorReply {
            error: error.into(),
        };
        (status, axum::Json(reply)).into_response()
    };
    let expected = format!("Bearer {KIOSK_TOKEN}");
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
        return refuse(StatusCode::UNAUTHORIZED, "unknown token");
    }
    let after = query
        .as_deref()
        .and_then(|q| q.strip_prefix("after="))
        .and_then(|n| n.parse::<u64>().ok());
    let Some(after) = after else {
        return refuse(StatusCode::BAD_REQUEST, "after= must be a cursor");
    };
    lock(&log.asked).push(after);
    let changes = lock(&log.changes);
    let waiting: Vec<&StatusUpdate> = changes.iter().filter(|u| u.cursor > after).collect();
    let updates: Vec<StatusUpdate> = waiting
        .iter()
        .take(log.page_size)
        .map(|u| (*u).clone())
        .collect();
    let page = UpdatesPage {
        next_after: updates.last().map_or(after, |u| u.cursor),
        more: waiting.len() > updates.len(),
        updates,
    };
    axum::Json(page).into_response()
}

/// A change of the case `n` (ticket `B1126-{n}`, filed at another kiosk) to `state`.
fn case_change(n: u32, state: CaseState, at: DateTime<FixedOffset>) -> StatusUpdate {
    let answered = state.has_answer();
    StatusUpdate {
        cursor: 0,
        concern_id: Uuid::from_u128(0x5eed_0000 + u128::from(n)),
        ticket: format!("B1126-{n:03}"),
        category_label: Bilingual {
            zh: "报修设施".into(),
            en: "Repairs".into(),
        },
        state,
        colour: Colour::Orange,
        promised_by: "2026-12-26".parse().unwrap(),
        due_date: Some("2026-12-26".parse().unwrap()),
        reply: answered.then(|| format!("第{n}件已经修好")),
        rating: None,
        answered_at: answered.then(|| at.with_timezone(&Utc)),
        changed_at: at.with_timezone(&Utc),
        check_code: CheckCode::parse("4821"),
        tracking_digest: None,
    }
}

// ---------------------------------------------------------------------------------------------
// The kiosk
// ---------------------------------------------------------------------------------------------

struct Bench {
    kiosk: TestKiosk,
    office: StatusOffice,
    proxy: FaultProxy,
    clock: Arc<ManualClock>,
    uploader: Uploader<HttpOffice>,
    runtime: tokio::runtime::Runtime,
}

impl Bench {
    fn new(page_size: usize) -> Bench {
        let office = StatusOffice::start(page_size);
        let proxy = FaultProxy::start(office.addr).unwrap();
        let kiosk = TestKiosk::new();
        kiosk.upload_to(&proxy.url(), KIOSK_TOKEN);
        let config = kiosk.load_config();
        let clock = Arc::new(ManualClock::new(start_time()));
        let (store, _) = Store::open(&config.kiosk.data_dir, clock.now()).unwrap();
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

    fn store(&self) -> &Store {
        self.uploader.store()
    }

    /// Files a concern as the touch screen would, through a second connection like the UI's.
    fn file_concern(&self) -> String {
        let config = self.kiosk.load_config();
        let (mut store, _) = Store::open(&config.kiosk.data_dir, self.clock.now()).unwrap();
        let draft = Draft {
            category: "repairs".into(),
            phrases: vec!["1".into()],
            text: None,
            location: Some("3幢".into()),
            phone: None,
            lang: Lang::ZhCn,
        };
        let concern = draft.validate(&config, self.clock.now()).unwrap();
        store.file_concern(concern, "A").unwrap().ticket
    }

    /// The requests for updates that went through the proxy, with what it did to each.
    fn update_requests(&self) -> Vec<(String, Outcome)> {
        self.proxy
            .requests()
            .into_iter()
            .filter(|r| r.path.starts_with(UPDATES_PATH))
            .map(|r| (r.path, r.outcome))
            .collect()
    }
}

fn pulled(report: &RoundReport) -> (usize, u64) {
    match &report.updates {
        PullOutcome::Pulled {
            changed, cursor, ..
        } => (*changed, *cursor),
        other => panic!("expected updates, got {other:?}"),
    }
}

fn failed_until(report: &RoundReport) -> (String, DateTime<FixedOffset>) {
    match &report.updates {
        PullOutcome::Failed { error, at, .. } => (error.clone(), *at),
        other => panic!("expected a failed pull, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------------

#[test]
fn an_updates_answer_cut_on_the_way_is_asked_again_from_the_same_cursor_and_applied_once() {
    let mut bench = Bench::new(100);
    let at = start_time();
    for n in 1..=3 {
        bench.office.change(case_change(n, CaseState::Assigned, at));
    }
    // The office sends the page; the kiosk gets its head and the first bytes of the body.
    bench
        .proxy
        .queue_once(Mode::CutAfterUpstreamReplied { keep: 300 });
    let first = bench.round(RoundMode::Scheduled);
    let (error, retry_at) = failed_until(&first);
    assert!(error.contains("cut off"), "{error}");
    assert_eq!(bench.store().updates_cursor().unwrap(), 0);
    assert_eq!(bench.store().case_status("B1126-001").unwrap(), None);
    // The failure and its backoff are in the store, so a restarted kiosk keeps to them.
    let config = bench.kiosk.load_config();
    let (reopened, _) = Store::open(&config.kiosk.data_dir, bench.clock.now()).unwrap();
    let kept = reopened.pull_state().unwrap();
    assert_eq!(kept.failed_attempts, 1);
    assert!(kept.next_attempt_at.is_some() && kept.last_error.is_some());
    drop(reopened);

    // Nothing is asked before the backoff is over...
    if retry_at > bench.clock.now() + TimeDelta::seconds(1) {
        let early = bench.round(RoundMode::Scheduled);
        assert!(
            matches!(early.updates, PullOutcome::NotDue { .. }),
            "{early:?}"
        );
        assert_eq!(bench.update_requests().len(), 1);
    }
    // ...then the same cursor is asked again, and every change is applied once.
    bench.clock.set(retry_at);
    let second = bench.round(RoundMode::Scheduled);
    assert_eq!(pulled(&second), (3, 3));
    let third = bench.round(RoundMode::Scheduled);
    assert_eq!(pulled(&third), (0, 3));
    let requests = bench.update_requests();
    let paths: Vec<&str> = requests.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/v1/updates?after=0",
            "/v1/updates?after=0",
            "/v1/updates?after=3"
        ]
    );
    match &requests[0].1 {
        Outcome::CutAfterUpstreamReplied { sent, whole, .. } => assert!(sent < whole),
        other => panic!("{other:?}"),
    }
    let status = bench.store().case_status("B1126-002").unwrap().unwrap();
    assert_eq!(status.state, CaseState::Assigned);
    assert_eq!(bench.store().pull_state().unwrap(), Default::default());
    assert_eq!(
        second.updates.describe(),
        "status: 3 cases changed, cursor 3"
    );
}

#[test]
fn an_update_for_a_ticket_this_kiosk_never_saw_is_kept_for_lookups() {
    let mut bench = Bench::new(100);
    let answered_at = start_time() + TimeDelta::hours(2);
    bench
        .office
        .change(case_change(7, CaseState::Answered, answered_at));
    let report = bench.round(RoundMode::Scheduled);
    assert_eq!(pulled(&report), (1, 1));
    let status = bench.store().case_status("b1126-007").unwrap().unwrap();
    assert_eq!(status.reply.as_deref(), Some("第7件已经修好"));
    assert_eq!(status.state, CaseState::Answered);
    assert!(status.opens_with(&CheckCode::parse("4821").unwrap()));
    assert_eq!(
        status.answered_at,
        Some(answered_at.with_timezone(&Utc)),
        "{status:?}"
    );
    assert!(bench.store().status_last_arrived().unwrap().is_some());
    // `doctor` shows when status arrived.
    let doctor = bench.kiosk.run(&["doctor"]);
    let line = support::stdout(&doctor)
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some("status"))
        .map(str::to_string)
        .unwrap_or_default();
    assert!(
        line.starts_with("ok") && line.contains("last arrived 2026-11-26T01:00:00Z, cursor 1"),
        "{line}"
    );
}

#[test]
fn an_updates_answer_over_a_mebibyte_is_refused_and_nothing_moves() {
    let mut bench = Bench::new(100);
    bench
        .office
        .change(case_change(1, CaseState::Assigned, start_time()));
    // A valid page, padded past the bound: a kiosk must not hold it, however well formed.
    let page = r#"{"updates":[],"next_after":99,"more":false}"#;
    let body = format!("{page}{}", " ".repeat(1024 * 1024));
    bench.proxy.queue_once(Mode::respond(
        200,
        &[("Content-Type", "application/json")],
        body,
    ));
    let report = bench.round(RoundMode::Scheduled);
    let (error, _) = failed_until(&report);
    assert!(error.contains("larger than 1024 KiB"), "{error}");
    assert_eq!(bench.store().updates_cursor().unwrap(), 0);
    // A person asking goes at once, and the real page arrives.
    let now = bench.round(RoundMode::Now);
    assert_eq!(pulled(&now), (1, 1));
}

#[test]
fn ratings_ride_the_next_batch_are_resent_byte_for_byte_and_marked_uploaded() {
    let mut bench = Bench::new(100);
    let ticket = bench.file_concern();
    let first = bench.round(RoundMode::Scheduled);
    assert!(matches!(
        first.batches[..],
        [BatchOutcome::Delivered { concerns: 1, .. }]
    ));
    // The office answers the concern; the kiosk hears of it and the resident rates it.
    let filed = bench.store().case_status(&ticket).unwrap().unwrap();
    bench.office.change(StatusUpdate {
        concern_id: filed.concern_id,
        ticket: ticket.clone(),
        check_code: filed.check_code.clone(),
        ..case_change(0, CaseState::Answered, bench.clock.now())
    });
    assert_eq!(pulled(&bench.round(RoundMode::Scheduled)), (1, 1));
    let answered = bench.store().case_status(&ticket).unwrap().unwrap();
    assert!(answered.may_be_rated(), "{answered:?}");
    let config = bench.kiosk.load_config();
    let (mut screen, _) = Store::open(&config.kiosk.data_dir, bench.clock.now()).unwrap();
    screen
        .rate(&answered, Rating::VeryUnsatisfied, bench.clock.now())
        .unwrap();
    assert_eq!(screen.upload_status().unwrap().waiting_ratings, 1);

    // The batch carrying it is lost on the way back: the pull waits, the rating stays.
    bench.proxy.queue_once(Mode::DropAfterUpstreamReplied);
    let lost = bench.round(RoundMode::Scheduled);
    let retry = match &lost.batches[..] {
        [BatchOutcome::WillRetry { at, .. }] => *at,
        other => panic!("{other:?}"),
    };
    assert_eq!(lost.updates, PullOutcome::Skipped);
    assert_eq!(lost.status.waiting_ratings, 1);
    bench.clock.set(retry);
    let again = bench.round(RoundMode::Scheduled);
    assert!(
        matches!(
            again.batches[..],
            [BatchOutcome::Delivered {
                concerns: 0,
                ratings: 1,
                ..
            }]
        ),
        "{again:?}"
    );
    assert_eq!(again.status.waiting_ratings, 0);

    let batches: Vec<Vec<u8>> = bench
        .proxy
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .map(|r| r.body)
        .collect();
    assert_eq!(batches.len(), 3);
    assert_eq!(batches[1], batches[2], "a retry sends the same bytes");
    let mut json = Vec::new();
    flate2::read::GzDecoder::new(&batches[2][..])
        .read_to_end(&mut json)
        .unwrap();
    let sent: Batch = serde_json::from_slice(&json).unwrap();
    assert!(sent.concerns.is_empty());
    assert_eq!(sent.ratings.len(), 1);
    assert_eq!(
        (sent.ratings[0].concern_id, sent.ratings[0].rating),
        (answered.concern_id, Rating::VeryUnsatisfied)
    );
    let row: (Option<String>, Option<String>) = support::open_db(&bench.kiosk.db_path())
        .query_row(
            "SELECT batch_id, uploaded_at FROM ratings WHERE ticket = ?1",
            [&ticket],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(row.0, Some(sent.batch_id.to_string()));
    assert!(row.1.is_some(), "{row:?}");
    assert_eq!(bench.office.concern_counts(), (1, 1));
}

/// How many cases the office takes on in each round of the day it cannot be reached.
const CASES_PER_ROUND: u32 = 5;

#[test]
fn an_office_down_for_a_day_sends_every_change_in_order_once_it_is_back() {
    let mut bench = Bench::new(100);
    let config = bench.kiosk.load_config();
    let schedule = Schedule::from_config(&config);
    bench.proxy.set_mode(Mode::HangUp);
    // A day of the schedule's rounds while the office is unreachable; residents keep filing
    // and their receipts keep printing, and the office's staff keep working on 125 cases.
    let day_ends = bench.clock.now() + TimeDelta::days(1);
    let mut tickets = Vec::new();
    let mut rounds: u32 = 0;
    loop {
        let now = bench.clock.now();
        let next = schedule.next_round_after(now.naive_local());
        let next = next.and_local_timezone(*now.offset()).unwrap();
        if next > day_ends {
            break;
        }
        bench.clock.set(next);
        if rounds % 7 == 0 {
            let filed = bench
                .kiosk
                .run(&["submit", "--category", "repairs", "--phrase", "1"]);
            assert!(filed.status.success(), "{}", support::stderr(&filed));
            tickets.push(support::stdout(&filed).trim().to_string());
        }
        // Five new cases with a handler, and last round's five answered.
        for k in 1..=CASES_PER_ROUND {
            let n = rounds * CASES_PER_ROUND + k;
            bench
                .office
                .change(case_change(n, CaseState::Assigned, next));
            if rounds > 0 {
                let earlier = n - CASES_PER_ROUND;
                bench
                    .office
                    .change(case_change(earlier, CaseState::Answered, next));
            }
        }
        let report = bench.round(RoundMode::Scheduled);
        assert_eq!(report.updates, PullOutcome::Skipped, "{report:#?}");
        rounds += 1;
    }
    assert!(rounds > 20, "{rounds}");
    for k in 1..=CASES_PER_ROUND {
        let n = (rounds - 1) * CASES_PER_ROUND + k;
        let at = bench.clock.now();
        bench.office.change(case_change(n, CaseState::Answered, at));
    }
    assert!(
        bench.update_requests().is_empty(),
        "asked while it was down"
    );
    let spooled = std::fs::read_dir(bench.kiosk.data_dir().join("spool"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension() == Some("bin".as_ref()))
        .count();
    assert_eq!(spooled, tickets.len(), "every receipt printed");

    bench.proxy.set_mode(Mode::PassThrough);
    bench.clock.advance(TimeDelta::minutes(30));
    let back = bench.round(RoundMode::Scheduled);
    let last = bench.office.last_cursor();
    assert!(last > 200, "{last} changes: more than two pages");
    match back.updates {
        PullOutcome::Pulled {
            pages,
            cursor,
            more,
            ..
        } => assert_eq!(
            (pages, cursor, more),
            (last.div_ceil(100) as u32, last, false)
        ),
        ref other => panic!("{other:?}"),
    }
    let asked: Vec<u64> = bench.office.asked();
    assert_eq!(
        asked,
        (0..last.div_ceil(100)).map(|p| p * 100).collect::<Vec<_>>(),
        "page after page, in order"
    );
    assert_eq!(bench.store().updates_cursor().unwrap(), last);
    // The later change of a case wins: every case ends answered.
    for n in 1..=rounds * CASES_PER_ROUND {
        let status = bench
            .store()
            .case_status(&format!("B1126-{n:03}"))
            .unwrap()
            .unwrap();
        assert_eq!(status.state, CaseState::Answered, "{status:?}");
    }
    assert_eq!(bench.office.concern_counts().0, tickets.len() as i64);
}

/// How often the crash test kills `upload --once` while it pulls.
const KILLS_WANTED: usize = 8;

#[test]
fn a_kiosk_killed_while_it_pulls_never_asks_for_a_page_it_has_stored() {
    // Small pages, many of them: many commits for the kills to land between.
    let office = StatusOffice::start(5);
    let kiosk = TestKiosk::new();
    kiosk.upload_to(&format!("http://{}", office.addr), KIOSK_TOKEN);
    let at = start_time();
    for n in 1..=600 {
        office.change(case_change(n, CaseState::Assigned, at));
    }
    for n in 1..=600 {
        office.change(case_change(n, CaseState::Answered, at));
    }
    let mut random = support::Lcg(0x05ca_1ab1_e0dd_ba11);
    let (mut kills, mut runs) = (0, 0);
    while kills < KILLS_WANTED {
        runs += 1;
        assert!(runs < 100, "the pull finished before it was killed enough");
        // Killed after a random few pages of this run, not after a random time: on a fast
        // machine a whole pull can finish inside any fixed delay, and no kill would land in it.
        let asked_before = office.asked().len();
        let pages = usize::try_from(1 + random.below(6)).unwrap();
        let mut child = kiosk.command(&["upload", "--once"]).spawn().unwrap();
        let started = Instant::now();
        while office.asked().len() < asked_before + pages
            && child.try_wait().unwrap().is_none()
            && started.elapsed() < Duration::from_secs(30)
        {
            std::thread::sleep(Duration::from_millis(1));
        }
        if support::kill_if_running(&mut child) {
            kills += 1;
        }
        child.wait().unwrap();
        assert!(started.elapsed() < Duration::from_secs(60));
    }
    // Left alone, each run pulls its pages until the cursor is at the office's last change.
    let last = office.last_cursor();
    let cursor = |kiosk: &TestKiosk| -> u64 {
        support::open_db(&kiosk.db_path())
            .query_row(
                "SELECT value FROM meta WHERE key = 'updates_after'",
                [],
                |r| r.get::<_, String>(0),
            )
            .map(|v| v.parse().unwrap())
            .unwrap_or(0)
    };
    for _ in 0..100 {
        if cursor(&kiosk) == last {
            break;
        }
        let run = kiosk.run(&["upload", "--once"]);
        assert!(run.status.success(), "{}", support::stderr(&run));
    }
    assert_eq!(cursor(&kiosk), last);
    let asked = office.asked();
    assert!(
        asked.windows(2).all(|w| w[0] <= w[1]),
        "a page already stored was asked for again: {asked:?}"
    );
    let db = support::open_db(&kiosk.db_path());
    let states: (i64, i64) = db
        .query_row(
            "SELECT count(*), count(*) FILTER (WHERE state = 'answered') FROM case_status",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(states, (600, 600));
    eprintln!("{kills} kills in {runs} runs; {} requests", asked.len());
}
