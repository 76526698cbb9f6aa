//! Unit tests of the store as a whole: filing, numbering, and what happens to a damaged or
//! locked database.

use super::opening::set_aside;
use super::*;
use crate::concern::{Draft, Lang};
use crate::config::Config;

fn at(rfc3339: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(rfc3339).unwrap()
}

fn file(store: &mut Store, config: &Config, when: &str) -> Concern {
    let draft = Draft {
        category: "repairs".into(),
        phrases: vec!["1".into()],
        text: Some("三楼灯坏了".into()),
        location: Some("3幢2单元".into()),
        phone: Some("13812345678".into()),
        lang: Lang::ZhCn,
    };
    let new = draft.validate(config, at(when)).unwrap();
    store
        .file_concern(new, &config.kiosk.ticket_prefix)
        .unwrap()
}

#[test]
fn filing_writes_concern_print_job_and_outbox_row_together() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::demo().unwrap();
    let (mut store, outcome) = Store::open(dir.path(), at("2026-11-26T09:00:00+08:00")).unwrap();
    assert_eq!(outcome, OpenOutcome::Created);
    let concern = file(&mut store, &config, "2026-11-26T09:30:00+08:00");
    assert_eq!(concern.ticket, "A1126-001");
    let records = store.concerns_between(None, None).unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].concern, concern);
    assert_eq!(records[0].receipt, Some(JobState::Pending));
    assert_eq!(records[0].upload, OutboxState::Pending);
    let mode: String = store
        .conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    let sync: i64 = store
        .conn
        .query_row("PRAGMA synchronous", [], |r| r.get(0))
        .unwrap();
    assert_eq!((mode.as_str(), sync), ("wal", 2));
}

#[test]
fn tickets_count_per_day_and_never_repeat_when_the_clock_goes_back() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::demo().unwrap();
    let (mut store, _) = Store::open(dir.path(), at("2026-11-26T09:00:00+08:00")).unwrap();
    let ticket = |store: &mut Store, when| file(store, &config, when).ticket;
    assert_eq!(ticket(&mut store, "2026-11-26T09:00:00+08:00"), "A1126-001");
    assert_eq!(ticket(&mut store, "2026-11-26T10:00:00+08:00"), "A1126-002");
    assert_eq!(ticket(&mut store, "2026-11-27T08:00:00+08:00"), "A1127-001");
    // The clock is set back a day, then back a year: the numbers carry on.
    assert_eq!(ticket(&mut store, "2026-11-26T18:00:00+08:00"), "A1126-003");
    assert_eq!(ticket(&mut store, "2025-11-26T18:00:00+08:00"), "A1126-004");
    // A restart does not reset anything.
    drop(store);
    let (mut store, outcome) = Store::open(dir.path(), at("2026-11-27T09:00:00+08:00")).unwrap();
    assert_eq!(outcome, OpenOutcome::Healthy);
    assert_eq!(ticket(&mut store, "2026-11-27T09:00:00+08:00"), "A1127-002");
}

#[test]
fn an_unreadable_database_is_set_aside_and_numbering_starts_above_the_floor() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::demo().unwrap();
    let (mut store, _) = Store::open(dir.path(), at("2026-11-26T09:00:00+08:00")).unwrap();
    file(&mut store, &config, "2026-11-26T09:00:00+08:00");
    drop(store);
    fs::write(
        dir.path().join(DB_FILE),
        b"this is not a database at all, just junk bytes",
    )
    .unwrap();
    let (mut store, outcome) = Store::open(dir.path(), at("2026-11-26T11:00:00+08:00")).unwrap();
    assert!(matches!(
        outcome,
        OpenOutcome::SetAside {
            counters_salvaged: false,
            ..
        }
    ));
    assert_eq!(
        file(&mut store, &config, "2026-11-26T11:00:00+08:00").ticket,
        "A1126-501"
    );
    assert_eq!(store.set_aside_files().unwrap().len(), 1);
    let log = store.audit_log(10).unwrap();
    assert_eq!(log[0].action, "database-set-aside");
    // A second unreadable file raises the floor again.
    drop(store);
    fs::write(
        dir.path().join(DB_FILE),
        b"junk again, the SD card is dying",
    )
    .unwrap();
    let (mut store, _) = Store::open(dir.path(), at("2026-11-26T12:00:00+08:00")).unwrap();
    assert_eq!(
        file(&mut store, &config, "2026-11-26T12:00:00+08:00").ticket,
        "A1126-1001"
    );
}

/// A concern filed the ordinary way, for the tests that only need the file to hold one.
fn one_concern_on_disk(dir: &Path) {
    let config = Config::demo().unwrap();
    let (mut store, _) = Store::open(dir, at("2026-12-01T09:00:00+08:00")).unwrap();
    file(&mut store, &config, "2026-12-01T09:00:00+08:00");
}

#[test]
fn a_database_locked_by_another_program_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    one_concern_on_disk(dir.path());
    let holder = Connection::open(dir.path().join(DB_FILE)).unwrap();
    holder
        .execute_batch("PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE;")
        .unwrap();
    let failed = Store::open(dir.path(), at("2026-12-01T10:00:00+08:00"));
    let Err(error) = failed else {
        panic!("a locked database opened as if it were free");
    };
    assert!(matches!(error, StoreError::Unavailable { .. }), "{error:?}");
    assert!(error.to_string().contains("left as it is"), "{error}");
    drop(holder);
    let (store, outcome) = Store::open(dir.path(), at("2026-12-01T10:01:00+08:00")).unwrap();
    assert_eq!(outcome, OpenOutcome::Healthy);
    assert!(store.set_aside_files().unwrap().is_empty());
    assert_eq!(store.concerns_between(None, None).unwrap().len(), 1);
}

#[test]
fn a_database_that_cannot_be_opened_is_not_taken_for_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    one_concern_on_disk(dir.path());
    // What SQLite reports when the process is out of file handles: it cannot open the
    // write-ahead log beside the file. A folder in its place gives the same error without
    // starving the test process of handles.
    let wal = dir.path().join(format!("{DB_FILE}-wal"));
    let _ = fs::remove_file(&wal);
    fs::create_dir(&wal).unwrap();
    let failed = Store::open(dir.path(), at("2026-12-01T10:00:00+08:00"));
    assert!(
        matches!(failed, Err(StoreError::Unavailable { .. })),
        "{:?}",
        failed.err()
    );
    fs::remove_dir(&wal).unwrap();
    let (store, outcome) = Store::open(dir.path(), at("2026-12-01T10:01:00+08:00")).unwrap();
    assert_eq!(outcome, OpenOutcome::Healthy);
    assert_eq!(store.concerns_between(None, None).unwrap().len(), 1);
}

#[test]
fn the_ticket_floor_is_on_disk_before_the_damaged_file_is_moved() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::demo().unwrap();
    let (mut store, _) = Store::open(dir.path(), at("2026-12-01T09:00:00+08:00")).unwrap();
    for _ in 0..3 {
        file(&mut store, &config, "2026-12-01T09:00:00+08:00");
    }
    drop(store);
    let path = dir.path().join(DB_FILE);
    // Only the moving happens here; a power cut right after it leaves no new database
    // that remembers the old numbers: the next start must still not issue A1201-001.
    set_aside(&path, "quick_check: test", at("2026-12-01T10:00:00+08:00")).unwrap();
    assert!(!path.exists());
    let (mut store, outcome) = Store::open(dir.path(), at("2026-12-01T10:01:00+08:00")).unwrap();
    assert_eq!(outcome, OpenOutcome::Created);
    assert_eq!(
        file(&mut store, &config, "2026-12-01T10:01:00+08:00").ticket,
        "A1201-004"
    );
}

#[test]
fn inspecting_a_damaged_database_reports_it_and_moves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    one_concern_on_disk(dir.path());
    let path = dir.path().join(DB_FILE);
    fs::write(&path, b"junk where the database was").unwrap();
    let inspected = Store::open_without_repair(dir.path());
    assert!(
        matches!(inspected, Err(StoreError::Corrupt { .. })),
        "{:?}",
        inspected.err()
    );
    assert!(path.exists());
    let folder: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !folder.iter().any(|name| name.contains(SET_ASIDE_MARK)),
        "{folder:?}"
    );
}
