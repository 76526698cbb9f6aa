//! Stores the tests of the store and of the modules above it start from.

use chrono::{DateTime, FixedOffset, TimeDelta};

use super::Store;
use crate::concern::{Draft, Lang};
use crate::config::Config;

fn at(text: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(text).unwrap()
}

/// A store with `n` noise concerns filed a minute apart from 2026-11-26 09:00 (+08:00), each
/// with a phone number and free text.
pub fn store_with_concerns(n: usize) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::demo().unwrap();
    let (mut store, _) = Store::open(dir.path(), at("2026-11-26T09:00:00+08:00")).unwrap();
    for i in 0..n {
        let draft = Draft {
            category: "noise".into(),
            phrases: vec!["1".into()],
            text: Some(format!("楼上装修 {i}")),
            location: None,
            phone: Some("13812345678".into()),
            lang: Lang::ZhCn,
        };
        let filed = at("2026-11-26T09:00:00+08:00") + TimeDelta::minutes(i as i64);
        store
            .file_concern(draft.validate(&config, filed).unwrap(), "A")
            .unwrap();
    }
    (dir, store)
}
