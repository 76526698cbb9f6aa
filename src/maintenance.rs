//! Nightly care of the appliance: once a day, at or after the configured quiet hour, check the
//! database's integrity and back it up (the store does the work; this decides when).

use chrono::{DateTime, FixedOffset};

use crate::config::Config;
use crate::store::{BackupReport, Store, StoreError};

/// The store's note of the last day a backup was made.
const LAST_BACKUP_KEY: &str = "last_backup_date";

/// Checks and backs up the database if today's backup is due and not yet made. Returns the
/// backup made, if any.
pub fn nightly_tick(
    store: &Store,
    config: &Config,
    now: DateTime<FixedOffset>,
) -> Result<Option<BackupReport>, StoreError> {
    if now.time() < config.backup.at {
        return Ok(None);
    }
    let today = now.date_naive().to_string();
    if store.meta(LAST_BACKUP_KEY)?.as_deref() == Some(today.as_str()) {
        return Ok(None);
    }
    store.integrity_check()?;
    let keep = usize::try_from(config.backup.keep.max(1)).unwrap_or(usize::MAX);
    let report = store.backup(now, keep)?;
    store.set_meta(LAST_BACKUP_KEY, &today)?;
    store.audit(
        now,
        "system",
        "nightly-backup",
        &format!("{} ({} concerns)", report.path.display(), report.concerns),
    )?;
    Ok(Some(report))
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;

    #[test]
    fn the_backup_is_made_once_a_day_at_or_after_the_quiet_hour() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::demo().unwrap();
        let at = |text: &str| DateTime::parse_from_rfc3339(text).unwrap();
        let (store, _) = Store::open(dir.path(), at("2026-11-26T03:00:00+08:00")).unwrap();
        assert_eq!(
            nightly_tick(&store, &config, at("2026-11-26T03:29:00+08:00")).unwrap(),
            None
        );
        assert!(
            nightly_tick(&store, &config, at("2026-11-26T03:30:00+08:00"))
                .unwrap()
                .is_some()
        );
        assert_eq!(
            nightly_tick(&store, &config, at("2026-11-26T03:31:00+08:00")).unwrap(),
            None
        );
        assert_eq!(
            nightly_tick(&store, &config, at("2026-11-26T23:59:00+08:00")).unwrap(),
            None
        );
        let next_night = at("2026-11-26T03:30:00+08:00") + TimeDelta::days(1);
        assert!(nightly_tick(&store, &config, next_night).unwrap().is_some());
        let log = store.audit_log(10).unwrap();
        assert_eq!(
            log.iter().filter(|e| e.action == "nightly-backup").count(),
            2
        );
    }
}
