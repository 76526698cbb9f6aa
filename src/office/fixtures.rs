//! What the office's unit tests share: concerns as the demo kiosk files them on 2026-12-01,
//! and an office in memory that holds them.

use std::sync::Arc;

use chrono::{DateTime, FixedOffset};
use uuid::Uuid;

use super::database::Database;
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

/// An office in memory holding `count` concerns from one batch.
pub fn office_with(count: u32) -> (Database, Vec<WireConcern>) {
    let concerns = concerns(1, count);
    let db = Database::in_memory();
    store(&db, &batch(concerns.clone(), Vec::new()), "sha", filed()).unwrap();
    (db, concerns)
}

/// Waits for one of the database's answers: an SQLite database in memory answers on this
/// thread, without a runtime.
pub fn wait<T>(answer: impl std::future::Future<Output = T>) -> T {
    futures::executor::block_on(answer)
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
