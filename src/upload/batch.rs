//! Assembling a batch: the oldest concerns and residents' ratings no batch holds yet, as the
//! wire format's JSON, cut to the size budget by whole concerns, gzip'd once. The store keeps
//! the bytes as they are, so every retry sends exactly the same batch.

use std::io::Write;

use chrono::{DateTime, FixedOffset};
use flate2::Compression;
use flate2::write::GzEncoder;
use thiserror::Error;
use uuid::Uuid;

use crate::protocol::wire::{Batch, SCHEMA, WireConcern};
use crate::store::{Store, StoreError, StoredBatch};

/// The most ratings one batch carries. A kiosk hears a few a day; 100 (about 15 KiB of JSON)
/// clears months of them in one batch and leaves the JSON budget to the concerns.
pub const MAX_RATINGS_PER_BATCH: u32 = 100;

/// Why no batch could be made.
#[derive(Debug, Error)]
pub enum BatchError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write the batch as JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("cannot gzip the batch: {0}")]
    Gzip(#[from] std::io::Error),
}

/// Puts the oldest concerns not yet in a batch into a new one: at most `max_concerns`, and no
/// more than fit in `max_json_bytes` of JSON; with them, up to [`MAX_RATINGS_PER_BATCH`]
/// ratings waiting to go. `None` when nothing is waiting (or another uploader took the same
/// concerns meanwhile: the next round tries again).
pub fn assemble(
    store: &mut Store,
    kiosk_id: &str,
    max_concerns: u32,
    max_json_bytes: usize,
    now: DateTime<FixedOffset>,
) -> Result<Option<StoredBatch>, BatchError> {
    let mut concerns: Vec<WireConcern> = store
        .unbatched_concerns(max_concerns)?
        .iter()
        .map(|r| WireConcern::from(&r.concern))
        .collect();
    let ratings = store.unbatched_ratings(MAX_RATINGS_PER_BATCH)?;
    if concerns.is_empty() && ratings.is_empty() {
        return Ok(None);
    }
    let mut batch = Batch {
        schema: SCHEMA.to_string(),
        kiosk_id: kiosk_id.to_string(),
        batch_id: Uuid::now_v7(),
        sent_at: now,
        concerns: Vec::new(),
        ratings,
    };
    // Whole concerns only: drop from the end until the JSON fits (a concern is ~2 KB at most
    // and the ratings at most ~15 KiB, far below the limit, so at least one concern always
    // fits).
    let json = loop {
        batch.concerns = concerns.clone();
        let json = serde_json::to_vec(&batch)?;
        if json.len() <= max_json_bytes || concerns.len() <= 1 {
            break json;
        }
        let keep = (concerns.len() * max_json_bytes / json.len()).clamp(1, concerns.len() - 1);
        concerns.truncate(keep);
    };
    let mut gzip = GzEncoder::new(Vec::new(), Compression::default());
    gzip.write_all(&json)?;
    let body = gzip.finish()?;
    let ids: Vec<Uuid> = batch.concerns.iter().map(|c| c.id).collect();
    let rated: Vec<Uuid> = batch.ratings.iter().map(|r| r.concern_id).collect();
    Ok(store.save_batch(batch.batch_id, body, &ids, &rated, now)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::concern::Rating;
    use crate::protocol::wire::BatchReply;
    use crate::store::test_fixtures::store_with_concerns;

    fn at(text: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(text).unwrap()
    }

    #[test]
    fn a_batch_never_exceeds_its_json_budget() {
        let (_dir, mut store) = store_with_concerns(20);
        let now = at("2026-11-26T10:00:00+08:00");
        let batch = assemble(&mut store, "wanjia-01", 100, 4096, now)
            .unwrap()
            .unwrap();
        let mut json = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::GzDecoder::new(&batch.body[..]),
            &mut json,
        )
        .unwrap();
        assert!(json.len() <= 4096, "{} bytes", json.len());
        assert!(batch.concern_count >= 1 && batch.concern_count < 20);
    }

    fn decoded(batch: &StoredBatch) -> Batch {
        serde_json::from_reader(flate2::read::GzDecoder::new(&batch.body[..])).unwrap()
    }

    #[test]
    fn a_rating_rides_the_next_batch_alone_and_only_once() {
        let (_dir, mut store) = store_with_concerns(1);
        let now = at("2026-11-26T10:00:00+08:00");
        let first = assemble(&mut store, "wanjia-01", 100, 4096, now)
            .unwrap()
            .unwrap();
        assert_eq!((first.concern_count, first.rating_count), (1, 0));
        let ticket = &store.concerns_between(None, None).unwrap()[0]
            .concern
            .ticket;
        let status = store.case_status(ticket).unwrap().unwrap();
        store.rate(&status, Rating::Unsatisfied, now).unwrap();

        let second = assemble(&mut store, "wanjia-01", 100, 4096, now)
            .unwrap()
            .unwrap();
        assert_eq!((second.concern_count, second.rating_count), (0, 1));
        let sent = decoded(&second);
        assert!(sent.concerns.is_empty());
        assert_eq!(sent.ratings.len(), 1);
        assert_eq!(sent.ratings[0].concern_id, status.concern_id);
        assert_eq!(sent.ratings[0].rating, Rating::Unsatisfied);
        assert_eq!(store.upload_status().unwrap().waiting_ratings, 1);
        // Carried: the next batch does not take it again.
        assert!(
            assemble(&mut store, "wanjia-01", 100, 4096, now)
                .unwrap()
                .is_none()
        );
        store
            .batch_delivered(second.batch_id, &BatchReply::default(), now)
            .unwrap();
        assert_eq!(store.upload_status().unwrap().waiting_ratings, 0);
    }

    #[test]
    fn nothing_waiting_makes_no_batch() {
        let (_dir, mut store) = store_with_concerns(0);
        let now = at("2026-11-26T10:00:00+08:00");
        assert!(
            assemble(&mut store, "wanjia-01", 100, 4096, now)
                .unwrap()
                .is_none()
        );
    }
}
