//! A street office or a district: several `concern-office` processes in front of one database
//! (PostgreSQL in the second run of the office's tests, one SQLite file in the first), kiosks
//! retrying into whichever answers, and an SQLite office moved to the server with
//! `concern-office migrate`. Assertions are on the rows stored, the replies the kiosks get, and
//! the updates they page through.

mod office_support;

use std::collections::{BTreeSet, HashSet};

use chrono::Utc;
use concern_kiosk::office::cases::Action;
use concern_kiosk::office::{Office, Role, TokenTable};
use concern_kiosk::protocol::wire::{Batch, BatchReply, UpdatesPage, WireConcern};
use office_support::*;
use reqwest::StatusCode;
use uuid::Uuid;

/// Batches each kiosk sends, and concerns in each: enough for the two offices' transactions to
/// overlap many times.
const BATCHES_PER_KIOSK: usize = 12;
const CONCERNS_PER_BATCH: usize = 25;

fn concerns_of(kiosk: usize, batch: usize) -> Vec<WireConcern> {
    (0..CONCERNS_PER_BATCH)
        .map(|n| {
            let mut concern = noise_concern(i64::try_from(n).unwrap());
            concern.id = Uuid::now_v7();
            let number = batch * CONCERNS_PER_BATCH + n + 1;
            concern.ticket = format!("{}1126-{number:03}", ["A", "B"][kiosk]);
            concern.tracking_code = None;
            concern
        })
        .collect()
}

/// Posts `batch` as a kiosk does, again after a moment while the office is busy (503).
async fn post(addr: std::net::SocketAddr, token: &str, batch: &Batch) -> BatchReply {
    for _attempt in 0..BUSY_RETRIES {
        let response = client()
            .post(format!("http://{addr}/v1/batches"))
            .bearer_auth(token)
            .header("Idempotency-Key", batch.batch_id.to_string())
            .header("Content-Encoding", "gzip")
            .body(gzip(&serde_json::to_vec(batch).unwrap()))
            .send()
            .await
            .expect("the office answers");
        if response.status() == StatusCode::SERVICE_UNAVAILABLE {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            continue;
        }
        assert_eq!(response.status(), StatusCode::OK);
        return response.json().await.expect("a BatchReply");
    }
    panic!("the office stayed busy");
}

/// How often a busy office is asked again: far more than a shared machine ever needs.
const BUSY_RETRIES: usize = 500;

/// Every update a kiosk pages through from cursor 0, asking `addr`.
async fn all_updates(addr: std::net::SocketAddr, token: &str) -> Vec<(u64, String)> {
    let mut seen = Vec::new();
    let mut after = 0;
    loop {
        let page: UpdatesPage = client()
            .get(format!("http://{addr}/v1/updates?after={after}"))
            .bearer_auth(token)
            .send()
            .await
            .expect("the office answers")
            .json()
            .await
            .expect("an UpdatesPage");
        seen.extend(page.updates.iter().map(|u| (u.cursor, u.ticket.clone())));
        after = page.next_after;
        if !page.more {
            return seen;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_offices_on_one_database_store_each_concern_once_whichever_answers() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(dir.path());
    let first = RunningOffice::start_on(&db, &[]);
    let second = RunningOffice::start_on(&db, &[]);
    let kiosks = [(KIOSK_A, TOKEN_A), (KIOSK_B, TOKEN_B)];
    let mut sent = Vec::new();
    for (k, (kiosk, _)) in kiosks.iter().enumerate() {
        for b in 0..BATCHES_PER_KIOSK {
            sent.push((k, batch(kiosk, concerns_of(k, b))));
        }
    }

    // Every batch goes to both offices at once, as a kiosk whose first attempt timed out
    // retries into the other office behind the load balancer.
    let mut uploads = Vec::new();
    for (k, batch) in &sent {
        let token = kiosks[*k].1;
        let (batch_a, batch_b) = (batch.clone(), batch.clone());
        let (to_first, to_second) = (first.addr, second.addr);
        uploads.push(tokio::spawn(async move {
            let (a, b) = tokio::join!(
                post(to_first, token, &batch_a),
                post(to_second, token, &batch_b)
            );
            (batch_a, a, b)
        }));
    }
    let mut accepted = Vec::new();
    for upload in uploads {
        let (batch, a, b) = upload.await.unwrap();
        let ids: BTreeSet<Uuid> = batch.concerns.iter().map(|c| c.id).collect();
        for reply in [&a, &b] {
            // Each office answers for every concern of the batch: it is stored.
            let answered: BTreeSet<Uuid> = reply
                .accepted
                .iter()
                .chain(&reply.duplicates)
                .copied()
                .collect();
            assert_eq!(answered, ids);
        }
        accepted.extend(a.accepted);
        accepted.extend(b.accepted);
    }
    let total = kiosks.len() * BATCHES_PER_KIOSK * CONCERNS_PER_BATCH;
    // Each concern was taken in by exactly one of the two.
    assert_eq!(accepted.len(), total);
    assert_eq!(accepted.iter().collect::<HashSet<_>>().len(), total);
    assert_eq!(
        db.count("SELECT COUNT(*) FROM concerns"),
        i64::try_from(total).unwrap()
    );
    assert_eq!(
        db.count("SELECT COUNT(DISTINCT id) FROM concerns"),
        i64::try_from(total).unwrap()
    );
    assert_eq!(
        db.count("SELECT COUNT(*) FROM batches"),
        i64::try_from(2 * sent.len()).unwrap()
    );

    // A replay later, to either office, is all duplicates and stores nothing.
    let (_, replayed) = &sent[3];
    for addr in [first.addr, second.addr] {
        let reply = post(addr, TOKEN_A, replayed).await;
        assert!(reply.accepted.is_empty());
        assert_eq!(reply.duplicates.len(), CONCERNS_PER_BATCH);
    }
    assert_eq!(
        db.count("SELECT COUNT(*) FROM concerns"),
        i64::try_from(total).unwrap()
    );

    // Both offices hand the kiosks the same feed: every concern once, cursors rising.
    let from_first = all_updates(first.addr, TOKEN_A).await;
    let from_second = all_updates(second.addr, TOKEN_B).await;
    assert_eq!(from_first, from_second);
    assert_eq!(from_first.len(), total);
    assert!(from_first.windows(2).all(|w| w[0].0 < w[1].0));
    let tickets: HashSet<&String> = from_first.iter().map(|(_, t)| t).collect();
    assert_eq!(tickets.len(), total);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sqlite_office_moves_to_the_database_server_whole() {
    // The office as it ran for a while on its SQLite file: cases in every state, a rating,
    // accounts, a sign-in.
    let old = tempfile::tempdir().unwrap();
    let file = old.path().join("office.db");
    let tokens = TokenTable::parse(TOKENS_FILE, "tokens").unwrap();
    let office = Office::open(&file, tokens).unwrap();
    office
        .add_account("li", Role::Council, "a long enough password")
        .await
        .unwrap();
    office
        .add_account("wuye", Role::Handler, "another long password")
        .await
        .unwrap();
    let concerns = concerns_of(0, 0);
    let stored = office
        .db()
        .store_batch(
            batch(KIOSK_A, concerns.clone()).into(),
            "sha".into(),
            office.local_now(),
        )
        .await
        .unwrap();
    assert_eq!(stored.accepted.len(), CONCERNS_PER_BATCH);
    let now = Utc::now();
    for concern in &concerns[..5] {
        answer_case(&office, &concern.id.to_string(), "已处理").await;
    }
    office
        .db()
        .act(&concerns[0].id.to_string(), Action::TickOff, "li", "", now)
        .await
        .unwrap();
    office
        .db()
        .sign_in("li", "a long enough password", now)
        .await
        .unwrap();
    let cases_before = office.db().cases().await.unwrap();
    let accounts_before = office.db().accounts().await.unwrap();
    let feed_before = office.updates_after(0).await.unwrap();
    drop(office);

    let new = tempfile::tempdir().unwrap();
    let target = TestDb::new(new.path());
    let migrate = |to: &TestDb| {
        std::process::Command::new(env!("CARGO_BIN_EXE_concern-office"))
            .args(["migrate", "--from"])
            .arg(&file)
            .arg("--to")
            .arg(to.arg())
            .env("RUST_LOG", "warn")
            .output()
            .expect("run concern-office migrate")
    };
    let output = migrate(&target);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stdout}{stderr}");
    for (table, rows) in [
        ("accounts", 2),
        ("concerns", CONCERNS_PER_BATCH),
        ("batches", 1),
        // Accept, assign and answer for five cases, and one tick-off.
        ("case_events", 16),
        ("status_feed", CONCERNS_PER_BATCH + 16),
    ] {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(&format!("{table} ")))
            .unwrap_or_else(|| panic!("no line for {table}: {stdout}"));
        assert!(line.contains(&format!(" {rows} rows  sha256 ")), "{line}");
    }
    assert!(stdout.contains("counts and SHA-256 match"), "{stdout}");

    // Everything reads back the same from the new database, and the office goes on there.
    let moved = office_on(&target).await;
    assert_eq!(moved.db().cases().await.unwrap(), cases_before);
    assert_eq!(moved.db().accounts().await.unwrap(), accounts_before);
    assert_eq!(moved.updates_after(0).await.unwrap(), feed_before);
    let signed_in = moved
        .db()
        .sign_in("wuye", "another long password", now)
        .await
        .unwrap();
    assert!(matches!(
        signed_in,
        concern_kiosk::office::SignIn::Accepted(_)
    ));
    let next = moved
        .db()
        .act(&concerns[9].id.to_string(), Action::Accept, "li", "", now)
        .await
        .unwrap();
    assert_eq!(next.case.events.len(), 1);
    let page = moved.updates_after(feed_before.next_after).await.unwrap();
    assert_eq!(page.updates.len(), 1);
    assert!(page.updates[0].cursor > feed_before.next_after);

    // A second move into a database that is no longer empty changes nothing.
    let again = migrate(&target);
    assert_eq!(again.status.code(), Some(1));
    let refusal = String::from_utf8_lossy(&again.stderr);
    assert!(
        refusal.contains("already holds") && refusal.contains("Nothing was changed"),
        "{refusal}"
    );
    assert_eq!(
        target.count("SELECT COUNT(*) FROM concerns"),
        i64::try_from(CONCERNS_PER_BATCH).unwrap()
    );
}
