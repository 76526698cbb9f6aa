//! What the office's unit tests share: concerns as the demo kiosk files them on 2026-12-01,
//! and an office in memory that holds them.

use std::sync::Arc;

use chrono::{DateTime, FixedOffset};
use uuid::Uuid;

use super::database::{Database, DbLocation};
use super::postgres::{POSTGRES_VARIABLE, create_database};
use super::storage::StoreBatchError;
use crate::concern::{Concern, Draft, Lang};
use crate::config::Config;
use crate::protocol::wire::{Batch, BatchReply, SCHEMA, WireConcern, WireRating};

/// When the concerns were filed, by the kiosk's clock.
pub fn filed() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2026-12-01T09:30:00+08:00").unwrap()
}

/// Repairs concerns A1201-`first` to A1201-`last`, green, due a week after filing.
pub fn concerns(first: u32, last: u32) -> Vec<WireConcern> {
    let config = Config::demo().unwrap();
    (first..=last)
        .map(|n| {
            WireConcern::from(&Concern {
                ticket: format!("A1201-{n:03}"),
                details: Draft::preset("repairs", "1", Lang::ZhCn)
                    .validate(&config, filed())
                    .unwrap(),
            })
        })
        .collect()
}

/// A batch of kiosk `wanjia-01`.
pub fn batch(concerns: Vec<WireConcern>, ratings: Vec<WireRating>) -> Batch {
    Batch {
        schema: SCHEMA.into(),
        kiosk_id: "wanjia-01".into(),
        batch_id: Uuid::now_v7(),
        sent_at: filed(),
        concerns,
        ratings,
    }
}

/// A test office holding `count` concerns from one batch.
pub fn office_with(count: u32) -> (Database, Vec<WireConcern>) {
    let concerns = concerns(1, count);
    (office_holding(&concerns), concerns)
}

/// A test office holding `concerns`, from one batch.
pub fn office_holding(concerns: &[WireConcern]) -> Database {
    let db = test_db();
    store(&db, &batch(concerns.to_vec(), Vec::new()), "sha", filed()).unwrap();
    db
}

/// The office's database for one unit test: SQLite in memory, or, when
/// `CONCERN_OFFICE_TEST_POSTGRES` names a PostgreSQL server (the second run of the office's
/// tests in `.ci/run`), a fresh database of its own there.
pub fn test_db() -> Database {
    match std::env::var(POSTGRES_VARIABLE) {
        Ok(url) if !url.trim().is_empty() => wait(async {
            let name = format!("office_unit_{}", Uuid::now_v7().simple());
            let url = create_database(&url, &name).await.unwrap();
            Database::open(&DbLocation::parse(&url)).await.unwrap()
        }),
        _ => Database::in_memory(),
    }
}

thread_local! {
    /// One runtime per test thread: a PostgreSQL pool's connections live on the runtime that
    /// made them, so every answer of one test's database is waited for on the same one.
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime for the test");
}

/// Waits for one of the database's answers.
pub fn wait<T>(answer: impl std::future::Future<Output = T>) -> T {
    RUNTIME.with(|runtime| runtime.block_on(answer))
}

/// Stores `batch` as if it arrived at `received_at`.
pub fn store(
    db: &Database,
    batch: &Batch,
    sha: &str,
    received_at: DateTime<FixedOffset>,
) -> Result<BatchReply, StoreBatchError> {
    wait(db.store_batch(Arc::new(batch.clone()), sha.into(), received_at))
}
