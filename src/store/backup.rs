//! Nightly care of the database: an online backup into `backups/` in the data folder (SQLite's
//! backup API, so the kiosk keeps working while it runs), checked by opening it and running
//! `PRAGMA integrity_check`, keeping only the newest few.

use std::fs;
use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset};
use rusqlite::{Connection, OptionalExtension, params};

use super::{Store, StoreError};

/// The folder, inside the data folder, that holds the backups.
pub const BACKUP_DIR: &str = "backups";
/// The start of every backup file's name; the rest is its time, so names sort by age.
const BACKUP_PREFIX: &str = "concerns-";

/// A backup that was written and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupReport {
    pub path: PathBuf,
    /// How many concerns the backup holds (read back from the backup itself).
    pub concerns: u64,
    /// Older backups deleted to keep the newest ones.
    pub removed: usize,
}

impl Store {
    /// Copies the live database into `backups/concerns-YYYYMMDD-HHMMSS.db`, checks the copy,
    /// and keeps the newest `keep` backups.
    pub fn backup(
        &self,
        now: DateTime<FixedOffset>,
        keep: usize,
    ) -> Result<BackupReport, StoreError> {
        let dir = self
            .path
            .parent()
            .unwrap_or(Path::new("."))
            .join(BACKUP_DIR);
        let folder_error = |source| StoreError::DataFolder {
            path: dir.clone(),
            source,
        };
        fs::create_dir_all(&dir).map_err(folder_error)?;
        let path = dir.join(format!("{BACKUP_PREFIX}{}.db", now.format("%Y%m%d-%H%M%S")));
        // SQLite copies 100 pages a step, so the kiosk's own writes are not held up for long.
        self.conn.backup(rusqlite::MAIN_DB, &path, None)?;
        let copy = Connection::open(&path)?;
        // The copy inherits WAL mode from the live file; a backup should be one self-contained
        // file that can be copied off the kiosk as it is.
        let _mode: String = copy.query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0))?;
        let problems: String = copy.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        if problems != "ok" {
            return Err(StoreError::Damaged(format!(
                "the backup {} failed its check: {problems}",
                path.display()
            )));
        }
        let concerns = copy.query_row("SELECT count(*) FROM concerns", [], |r| r.get(0))?;
        drop(copy);
        let removed = prune_backups(&dir, keep).map_err(folder_error)?;
        Ok(BackupReport {
            path,
            concerns,
            removed,
        })
    }

    /// A value the store keeps about itself (e.g. the date of the last backup).
    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", params![key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = ?2",
            params![key, value],
        )?;
        Ok(())
    }
}

/// Deletes all but the newest `keep` backups in `dir`; returns how many went.
fn prune_backups(dir: &Path, keep: usize) -> std::io::Result<usize> {
    let mut backups: Vec<PathBuf> = fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(BACKUP_PREFIX) && n.ends_with(".db"))
        })
        .collect();
    backups.sort();
    let excess = backups.len().saturating_sub(keep);
    for old in &backups[..excess] {
        fs::remove_file(old)?;
    }
    Ok(excess)
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;
    use crate::concern::{Draft, Lang};
    use crate::config::Config;

    #[test]
    fn a_backup_opens_passes_its_check_holds_the_concerns_and_only_seven_stay() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::demo().unwrap();
        let start = DateTime::parse_from_rfc3339("2026-11-26T03:30:00+08:00").unwrap();
        let (mut store, _) = Store::open(dir.path(), start).unwrap();
        for phrase in ["1", "2", "3"] {
            let draft = Draft {
                category: "noise".into(),
                phrases: vec![phrase.into()],
                text: None,
                location: None,
                phone: None,
                lang: Lang::ZhCn,
            };
            store
                .file_concern(draft.validate(&config, start).unwrap(), "A")
                .unwrap();
        }
        let first = store.backup(start, 7).unwrap();
        assert_eq!(first.concerns, 3);
        let copy = Connection::open(&first.path).unwrap();
        let tickets: Vec<String> = copy
            .prepare("SELECT ticket FROM concerns ORDER BY ticket")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(tickets, ["A1126-001", "A1126-002", "A1126-003"]);

        for night in 1..10 {
            store.backup(start + TimeDelta::days(night), 7).unwrap();
        }
        let mut kept: Vec<String> = fs::read_dir(dir.path().join(BACKUP_DIR))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        kept.sort();
        assert_eq!(kept.len(), 7);
        assert_eq!(
            kept[0], "concerns-20261129-033000.db",
            "the oldest went first"
        );
    }
}
