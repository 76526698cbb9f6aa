//! `doctor`: checks what a maintainer would check by hand (the config, the database, the data
//! folder, the printer, the clock, the upload, the office's status coming back) and says in one
//! line each what is wrong, or worth a look, and what to do.

use std::fs;
use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Datelike, FixedOffset};

use crate::app::{CommandError, Settings};
use crate::clock::local_now;
use crate::config::{Config, tracking_url_warning};
use crate::display;
use crate::input_method::HandwritingSetup;
use crate::printer::printer_lock::PrinterLock;
use crate::printer::{open_printer, slow_receipt_warning};
use crate::speech::SpeechSetup;
use crate::store::Store;
use crate::upload::office_from_config;

/// Below this much free space the WAL checkpoints, the spool and the nightly backups start to
/// fail; a year of concerns takes a few megabytes, so this is plenty of warning.
pub const MIN_FREE_BYTES: u64 = 64 * 1024 * 1024;
/// A clock before this year has not been set (a Pi has no battery clock; NTP has not synced).
const EARLIEST_PLAUSIBLE_YEAR: i32 = 2025;
/// How far behind the newest stored concern the clock may be before it counts as set back:
/// enough for a small NTP correction.
const CLOCK_SLACK_SECONDS: i64 = 120;

/// One line of the doctor's report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub name: &'static str,
    pub passed: bool,
    /// Passed, but something should be changed: shown, and `doctor` still exits 0.
    pub warning: bool,
    pub detail: String,
}

impl Check {
    fn new(name: &'static str, result: Result<String, String>) -> Check {
        let passed = result.is_ok();
        let detail = result.unwrap_or_else(|e| e);
        Check {
            name,
            passed,
            warning: false,
            detail,
        }
    }

    fn warn(name: &'static str, detail: String) -> Check {
        Check {
            name,
            passed: true,
            warning: true,
            detail,
        }
    }
}

/// Runs every check, prints the report and exits 1 when any failed.
pub fn doctor(settings: &Settings) -> Result<(), CommandError> {
    let checks = run_checks(settings, local_now());
    let mut stdout = std::io::stdout().lock();
    for check in &checks {
        let mark = match (check.passed, check.warning) {
            (false, _) => "FAIL",
            (true, true) => "WARN",
            (true, false) => "ok  ",
        };
        writeln!(stdout, "{mark}  {:<12} {}", check.name, check.detail)
            .map_err(|e| CommandError::Runtime(e.into()))?;
    }
    let failed = checks.iter().filter(|c| !c.passed).count();
    if failed == 0 {
        Ok(())
    } else {
        Err(CommandError::Runtime(anyhow::anyhow!(
            "{failed} of {} checks failed",
            checks.len()
        )))
    }
}

pub fn run_checks(settings: &Settings, now: DateTime<FixedOffset>) -> Vec<Check> {
    let config = &settings.config;
    let data_dir = &config.kiosk.data_dir;
    let mut checks = vec![Check::new(
        "config",
        Ok(format!(
            "{} ({} categories, kiosk {})",
            settings.source,
            config.categories.len(),
            config.kiosk.id
        )),
    )];
    if let Some(warning) = config
        .kiosk
        .tracking_url
        .as_deref()
        .and_then(tracking_url_warning)
    {
        checks.push(Check::warn("tracking url", warning));
    }
    checks.push(Check::new("data folder", check_data_folder(data_dir)));
    // Doctor only looks: a damaged file is reported and left for the kiosk to set aside.
    match Store::open_without_repair(data_dir) {
        Ok(store) => {
            checks.push(Check::new("database", check_database(&store)));
            checks.push(Check::new("clock", check_clock(&store, now)));
            checks.push(Check::new("upload", check_upload(config, &store)));
            checks.push(check_status(&store));
        }
        Err(e) => checks.push(Check::new("database", Err(e.to_string()))),
    }
    checks.push(Check::new("printer", check_printer(config)));
    if let Some(warning) = slow_receipt_warning(config) {
        checks.push(Check::warn("printer speed", warning));
    }
    checks.push(check_display());
    checks.push(check_speech(config, data_dir));
    checks.push(check_handwriting(config));
    checks
}

/// Whether residents can write by hand: on in the config, zinnia loads, its model loads (here
/// in full, as the kiosk does in the background). Without them "Write it yourself" does not
/// show; the phrases still work, so this is only worth a mention.
fn check_handwriting(config: &Config) -> Check {
    let loaded = HandwritingSetup::check(config).and_then(|setup| {
        let (recognizer, took) = setup.load()?;
        Ok(HandwritingSetup::describe(
            &recognizer,
            &config.handwriting.model,
            took,
        ))
    });
    match loaded {
        Ok(line) => Check::new("handwriting", Ok(line)),
        Err(off) => Check::warn("handwriting", format!("off: {off}")),
    }
}

/// Whether the kiosk can speak: on in the config, espeak-ng with both voices, and a sound
/// device that opens. Without them the kiosk works as it does silent, so this is only worth a
/// mention.
fn check_speech(config: &Config, data_dir: &Path) -> Check {
    match SpeechSetup::check(config, data_dir) {
        Ok(setup) => Check::new("speech", Ok(setup.describe())),
        Err(off) => Check::warn("speech", format!("off: {off}")),
    }
}

/// The DRM/KMS output the full-screen kiosk draws on. A desktop build opens a window instead,
/// so there a missing display is only worth a mention.
fn check_display() -> Check {
    let described = display::describe_this_machine();
    if cfg!(feature = "kiosk-linuxkms") {
        Check::new("display", described)
    } else {
        let line = described.unwrap_or_else(|e| e);
        Check::new(
            "display",
            Ok(format!(
                "a desktop window (this build has no full-screen display); {line}"
            )),
        )
    }
}

fn check_data_folder(dir: &Path) -> Result<String, String> {
    fs::create_dir_all(dir).map_err(|e| format!("{}: cannot create: {e}", dir.display()))?;
    let probe = dir.join(".doctor-write-test");
    let written =
        fs::File::create(&probe).and_then(|mut f| f.write_all(b"ok").and_then(|()| f.sync_all()));
    let _ = fs::remove_file(&probe);
    written.map_err(|e| format!("{}: not writable: {e}", dir.display()))?;
    let stat = nix::sys::statvfs::statvfs(dir)
        .map_err(|e| format!("{}: cannot read free space: {e}", dir.display()))?;
    // The statvfs field types differ between targets (u32 on 32-bit ARM boards).
    #[allow(clippy::useless_conversion)]
    let free = u64::from(stat.blocks_available()) * u64::from(stat.fragment_size());
    let free_mib = free / (1024 * 1024);
    if free < MIN_FREE_BYTES {
        return Err(format!(
            "{}: only {free_mib} MiB free; at least {} MiB are needed: delete old backups or logs",
            dir.display(),
            MIN_FREE_BYTES / (1024 * 1024)
        ));
    }
    Ok(format!("{}: writable, {free_mib} MiB free", dir.display()))
}

fn check_database(store: &Store) -> Result<String, String> {
    store
        .integrity_check()
        .map_err(|e| format!("{}: {e}", store.path().display()))?;
    let set_aside = store.set_aside_files().map_err(|e| e.to_string())?;
    if let Some(first) = set_aside.first() {
        return Err(format!(
            "{} corrupt database file(s) set aside, e.g. {}; a fresh database is in use. Concerns in them may not have reached the office: give them to the maintainer, then delete them",
            set_aside.len(),
            first.display()
        ));
    }
    Ok(format!("{}: integrity ok", store.path().display()))
}

fn check_upload(config: &Config, store: &Store) -> Result<String, String> {
    let status = store.upload_status().map_err(|e| e.to_string())?;
    if let Some(first) = status.rejected.first() {
        return Err(format!(
            "{} batch(es) REJECTED by the office, e.g. {} ({} concerns, {}): {}; the concerns are kept; fix the cause, then run `concern-kiosk upload --once`",
            status.rejected.len(),
            first.batch_id,
            first.concern_count,
            first.at,
            first.error
        ));
    }
    let office = office_from_config(config).map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(office.health()).map_err(|e| {
        format!(
            "{}: {e}; {} concern(s) and {} rating(s) wait",
            config.upload.endpoint, status.pending_concerns, status.waiting_ratings
        )
    })?;
    let last = status.last_success_at.as_deref().unwrap_or("never");
    Ok(format!(
        "{} answers; {} concern(s) and {} rating(s) pending; last delivery {last}",
        config.upload.endpoint, status.pending_concerns, status.waiting_ratings
    ))
}

/// When the office's case changes last arrived, and why the last pulls failed if they did: a
/// warning, as the kiosk keeps filing and the next rounds ask again by themselves.
fn check_status(store: &Store) -> Check {
    let read = store
        .status_last_arrived()
        .and_then(|arrived| Ok((arrived, store.updates_cursor()?, store.pull_state()?)));
    let (arrived, cursor, pull) = match read {
        Ok(read) => read,
        Err(e) => return Check::new("status", Err(e.to_string())),
    };
    let arrived = arrived.unwrap_or_else(|| "never".into());
    let line = format!("last arrived {arrived}, cursor {cursor}");
    match pull.last_error {
        Some(error) => Check::warn(
            "status",
            format!(
                "{line}; the last {} pull(s) failed: {error}; asked again at {}",
                pull.failed_attempts,
                pull.next_attempt_at.as_deref().unwrap_or("the next round")
            ),
        ),
        None => Check::new("status", Ok(line)),
    }
}

fn check_printer(config: &Config) -> Result<String, String> {
    let mut printer = open_printer(config);
    let lock = PrinterLock::try_acquire(&config.kiosk.data_dir)
        .map_err(|e| format!("cannot take the printer lock: {e}"))?;
    if lock.is_none() {
        return Ok(format!(
            "{}: in use by the running kiosk (its staff screen shows the status)",
            printer.describe()
        ));
    }
    let status = printer.status();
    let line = format!("{}: {}", printer.describe(), status.describe());
    if status.can_print() {
        Ok(line)
    } else {
        Err(line)
    }
}

fn check_clock(store: &Store, now: DateTime<FixedOffset>) -> Result<String, String> {
    if now.year() < EARLIEST_PLAUSIBLE_YEAR {
        return Err(format!(
            "the clock says {now}: it has not been set; check the network time (timedatectl)"
        ));
    }
    let latest = store.latest_created_at().map_err(|e| e.to_string())?;
    if let Some(latest) = latest
        && (latest - now).num_seconds() > CLOCK_SLACK_SECONDS
    {
        return Err(format!(
            "the clock says {now} but a concern was filed at {latest}: the clock was set back; check the network time (timedatectl)"
        ));
    }
    Ok(format!(
        "{} (UTC offset {})",
        now.format("%Y-%m-%d %H:%M:%S"),
        now.offset()
    ))
}
