//! Prints what a district asks of the office, side by side on this machine: 500 simulated
//! kiosks (async tasks, each with its own token) uploading 200 concerns each in batches of 50,
//! one answer in twenty dropped after the office stored the batch and the batch sent again,
//! into (a) one office on SQLite, (b) one office on PostgreSQL, (c) two offices on PostgreSQL
//! with the kiosks split between them — concerns per second, p50/p99 batch latency, concerns
//! stored and duplicates — and then the board's first page and the kiosks' updates feed with
//! 1,000,000 cases on PostgreSQL. The offices are real `concern-office` processes.
//!
//! PostgreSQL comes from `CONCERN_OFFICE_TEST_POSTGRES`, as for the tests: run
//! `. .ci/postgres && cargo bench --bench district`.

#[path = "../tests/support/board_http.rs"]
mod board_http;
#[path = "../tests/office_support/mod.rs"]
mod office_support;
#[path = "support/timing.rs"]
mod timing;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use concern_kiosk::office::{Database, Role};
use concern_kiosk::protocol::wire::{Batch, BatchReply};
use office_support::{RunningOffice, TestDb, batch, gzip, noise_concern};
use reqwest::StatusCode;
use timing::median;
use uuid::Uuid;

const KIOSKS: usize = 500;
const CONCERNS_PER_KIOSK: usize = 200;
const CONCERNS_PER_BATCH: usize = 50;
/// One answer in this many is lost after the office stored its batch: 5 %.
const DROP_ONE_IN: usize = 20;
const BIG_BOARD_CASES: i64 = 1_000_000;
const PASSWORD: &str = "a long enough password";
/// Requests timed against the 1,000,000 cases: each board page reads every case.
const REQUESTS: usize = 3;
/// A kiosk gives up on an answer after this long and sends the batch again, as the appliance's
/// `request_timeout_seconds` (60 by default) makes it do; without it one lost wake-up in the
/// HTTP client would stall the whole run.
const KIOSK_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

fn kiosk_id(k: usize) -> String {
    format!("kiosk-{k:03}")
}

fn token(k: usize) -> String {
    format!("token-of-kiosk-{k:03}-5f2c9a81d07e")
}

fn tokens_file() -> String {
    (0..KIOSKS)
        .map(|k| format!("{} {}\n", kiosk_id(k), token(k)))
        .collect()
}

fn batches_of(k: usize) -> Vec<Batch> {
    let concerns: Vec<_> = (0..CONCERNS_PER_KIOSK)
        .map(|n| {
            let mut concern = noise_concern(i64::try_from(n % 600).unwrap_or(0));
            concern.id = Uuid::now_v7();
            concern.ticket = format!("A1126-{:03}", n + 1);
            concern.tracking_code = None;
            concern
        })
        .collect();
    concerns
        .chunks(CONCERNS_PER_BATCH)
        .map(|chunk| batch(&kiosk_id(k), chunk.to_vec()))
        .collect()
}

/// What one kiosk saw of one batch.
struct Sent {
    latency: Duration,
    accepted: Vec<Uuid>,
    waits: Waits,
}

/// How often the office could not take a request at once, and how often a kiosk gave up
/// waiting for an answer.
#[derive(Default)]
struct Waits {
    busy: usize,
    timed_out: usize,
}

/// Sends `batch` until it is answered 200, waiting a moment on 503 as a kiosk does.
async fn send(
    http: &reqwest::Client,
    addr: SocketAddr,
    token: &str,
    batch: &Batch,
    waits: &mut Waits,
) -> BatchReply {
    let body = gzip(&serde_json::to_vec(batch).expect("a batch is JSON"));
    loop {
        let response = http
            .post(format!("http://{addr}/v1/batches"))
            .bearer_auth(token)
            .header("Idempotency-Key", batch.batch_id.to_string())
            .header("Content-Encoding", "gzip")
            .body(body.clone())
            .send()
            .await;
        match response {
            Ok(r) if r.status() == StatusCode::OK => match r.json().await {
                Ok(reply) => return reply,
                Err(e) if e.is_timeout() => waits.timed_out += 1,
                Err(e) => panic!("not a BatchReply: {e}"),
            },
            Ok(r) if r.status() == StatusCode::SERVICE_UNAVAILABLE => waits.busy += 1,
            Ok(r) => panic!("the office refused a batch: {}", r.status()),
            Err(e) if e.is_timeout() => waits.timed_out += 1,
            // A connection the office could not take yet: as busy.
            Err(_) => waits.busy += 1,
        }
        tokio::time::sleep(Duration::from_millis(10 + (waits.busy % 5) as u64 * 10)).await;
    }
}

async fn kiosk(k: usize, addr: SocketAddr, http: reqwest::Client) -> Vec<Sent> {
    let token = token(k);
    let mut sent = Vec::new();
    for (b, batch) in batches_of(k).into_iter().enumerate() {
        let started = Instant::now();
        let mut waits = Waits::default();
        let mut reply = send(&http, addr, &token, &batch, &mut waits).await;
        if (k * CONCERNS_PER_KIOSK / CONCERNS_PER_BATCH + b) % DROP_ONE_IN == 0 {
            // Stored, but the answer never reached the kiosk: it sends the batch again.
            let again = send(&http, addr, &token, &batch, &mut waits).await;
            assert!(again.accepted.is_empty(), "a retry stored something again");
            reply.accepted.extend(again.accepted);
        }
        sent.push(Sent {
            latency: started.elapsed(),
            accepted: reply.accepted,
            waits,
        });
    }
    sent
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// Runs the 500 kiosks against `offices` (kiosk k to office k mod n) and prints the figures.
async fn load(label: &str, db: &TestDb, offices: &[SocketAddr]) {
    let http = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(KIOSKS)
        .timeout(KIOSK_REQUEST_TIMEOUT)
        .build()
        .expect("an HTTP client");
    let started = Instant::now();
    let tasks: Vec<_> = (0..KIOSKS)
        .map(|k| tokio::spawn(kiosk(k, offices[k % offices.len()], http.clone())))
        .collect();
    let mut sent = Vec::new();
    for task in tasks {
        sent.extend(task.await.expect("a kiosk task"));
    }
    let elapsed = started.elapsed();
    let mut latencies: Vec<Duration> = sent.iter().map(|s| s.latency).collect();
    latencies.sort_unstable();
    let accepted: usize = sent.iter().map(|s| s.accepted.len()).sum();
    let unique: std::collections::HashSet<&Uuid> = sent.iter().flat_map(|s| &s.accepted).collect();
    let busy: usize = sent.iter().map(|s| s.waits.busy).sum();
    let timed_out: usize = sent.iter().map(|s| s.waits.timed_out).sum();
    let stored = db.count("SELECT COUNT(*) FROM concerns");
    let duplicates = db
        .count("SELECT COUNT(*) - COUNT(DISTINCT kiosk_id || ' ' || ticket) FROM concerns")
        + i64::try_from(accepted - unique.len()).unwrap_or(i64::MAX);
    let total = KIOSKS * CONCERNS_PER_KIOSK;
    println!(
        "  {label:<34} {:>7.0} concerns/s  batch p50 {:>6.1} ms  p99 {:>7.1} ms  stored {stored:>6}  duplicates {duplicates}  ({} batches, {} answers dropped, {busy} busy answers, {timed_out} timed out, {:.1} s)",
        total as f64 / elapsed.as_secs_f64(),
        percentile(&latencies, 0.5).as_secs_f64() * 1000.0,
        percentile(&latencies, 0.99).as_secs_f64() * 1000.0,
        sent.len(),
        sent.len().div_ceil(DROP_ONE_IN),
        elapsed.as_secs_f64(),
    );
    assert_eq!(
        stored,
        i64::try_from(total).unwrap_or(i64::MAX),
        "every concern stored"
    );
    assert_eq!(duplicates, 0, "no concern twice");
}

/// Fills the PostgreSQL database of `db` with `cases` new cases straight in SQL (uploading a
/// million would time the intake, not the board), each with its status-feed row.
fn fill(db: &TestDb, cases: i64) {
    db.execute(
            "INSERT INTO concerns (id, kiosk_id, batch_id, received_at, ticket, created_at,
                 created_at_epoch_ms, category, category_zh, category_en, list, colour, due_date,
                 lang, phrases, text, location, phone)
             SELECT CAST(CAST(md5(CAST(n AS TEXT)) AS uuid) AS TEXT), 'kiosk-000',
                 '0193a5c4-7e21-7c3a-9f10-4b2d8e6a0c11', '2026-11-26T17:30:00+08:00',
                 'A1126-' || to_char(n % 1000, 'FM000'), '2026-11-26T09:41:17+08:00',
                 1795657277000 + n, 'repairs', '报修设施', 'Repairs',
                 CASE WHEN n % 4 = 0 THEN 'conflicts' ELSE 'demands' END,
                 CASE n % 3 WHEN 0 THEN 'green' WHEN 1 THEN 'orange' ELSE 'red' END,
                 '2026-12-03', 'zh-CN', '[{\"zh\":\"路灯坏了\",\"en\":\"The street light is broken\"}]',
                 NULL, '3幢2单元', NULL
             FROM generate_series(1, CAST(CAST($1 AS TEXT) AS BIGINT)) AS n",
        &[&cases.to_string()],
    );
    db.execute(
        "INSERT INTO status_feed (cursor, concern_id, at)
             SELECT ROW_NUMBER() OVER (ORDER BY created_at_epoch_ms), id, received_at
             FROM concerns",
        &[],
    );
    db.execute(
        "UPDATE status_feed_counter SET last = (SELECT MAX(cursor) FROM status_feed)",
        &[],
    );
    db.execute("ANALYZE", &[]);
}

/// The median time of [`REQUESTS`] requests made by `request`, each answered with success,
/// and the size of the last answer.
async fn timed(request: impl Fn() -> reqwest::RequestBuilder) -> (Duration, usize) {
    let mut times = Vec::new();
    let mut bytes = 0;
    for _ in 0..REQUESTS {
        let started = Instant::now();
        let page = request().send().await.expect("an answer");
        assert!(page.status().is_success(), "{}", page.status());
        bytes = page.bytes().await.expect("the page").len();
        times.push(started.elapsed());
    }
    (median(times), bytes)
}

/// The board and the updates feed with a million cases: PostgreSQL only (the cases are
/// written with its `generate_series`).
async fn big_board(db: &TestDb) {
    // Opening the database makes its tables.
    let accounts = Database::open(&db.location()).await.expect("the database");
    accounts
        .add_account("li", Role::Council, PASSWORD, chrono::Utc::now())
        .await
        .expect("an account");
    let started = Instant::now();
    fill(db, BIG_BOARD_CASES);
    println!(
        "  {BIG_BOARD_CASES} cases written in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let office = RunningOffice::start_with_tokens(db, &tokens_file(), &[]);
    let base = format!("http://{}", office.addr);
    let http = board_http::client();
    let session = board_http::sign_in(&http, &base, "li", PASSWORD).await;
    let (board, size) = timed(|| {
        http.get(format!("{base}/board/"))
            .header("cookie", &session)
    })
    .await;
    println!(
        "  board, first page:            {:>8.0} ms median of {REQUESTS} ({} KiB)",
        board.as_secs_f64() * 1000.0,
        size / 1024
    );
    for (what, after) in [
        ("from cursor 0", 0),
        ("from the newest 50", BIG_BOARD_CASES - 50),
    ] {
        let (feed, size) = timed(|| {
            http.get(format!("{base}/v1/updates?after={after}"))
                .bearer_auth(token(0))
        })
        .await;
        println!(
            "  updates feed, {what:<17} {:>8.0} ms median of {REQUESTS} ({} KiB)",
            feed.as_secs_f64() * 1000.0,
            size / 1024
        );
    }
}

#[tokio::main]
async fn main() {
    let tokens = tokens_file();
    // The decode gate is opened to the office's largest setting: here it is the database, not
    // the office's memory, that is measured.
    let args = ["--max-decompressions", "64"];
    println!(
        "{KIOSKS} kiosks x {CONCERNS_PER_KIOSK} concerns in batches of {CONCERNS_PER_BATCH}, one answer in {DROP_ONE_IN} dropped after storing:"
    );
    let dir = tempfile::tempdir().expect("a temporary folder");
    let sqlite = TestDb::Sqlite(dir.path().join("office.db"));
    let office = RunningOffice::start_with_tokens(&sqlite, &tokens, &args);
    load("(a) one office, SQLite", &sqlite, &[office.addr]).await;
    drop(office);

    let postgres = TestDb::new(dir.path());
    if !postgres.is_postgres() {
        println!(
            "(b), (c) and the 1,000,000 cases need PostgreSQL: `. .ci/postgres` first, then run again"
        );
        return;
    }
    let office = RunningOffice::start_with_tokens(&postgres, &tokens, &args);
    load("(b) one office, PostgreSQL", &postgres, &[office.addr]).await;
    drop(office);

    let shared = TestDb::new(dir.path());
    let first = RunningOffice::start_with_tokens(&shared, &tokens, &args);
    let second = RunningOffice::start_with_tokens(&shared, &tokens, &args);
    load(
        "(c) two offices, one PostgreSQL",
        &shared,
        &[first.addr, second.addr],
    )
    .await;
    drop((first, second));

    println!("{BIG_BOARD_CASES} cases on PostgreSQL:");
    big_board(&TestDb::new(dir.path())).await;
}
