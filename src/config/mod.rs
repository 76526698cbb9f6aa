//! The kiosk's configuration (kiosk.toml): loading a file or the built-in demo config, and
//! `Config::parse`, which reads the text once with the positions of its keys, deserializes the
//! schema and validates it, so that every refusal names the file, the line and the key.
//!
//! - `schema`: the sections and keys, their types and defaults;
//! - `lookup`: which file is used (`--config`, the environment, the appliance's, the demo);
//! - `error`: the `file:line: key `…`: problem` error;
//! - `source_map`: where each key is written, from the TOML parser's spans;
//! - `validate` and `usable`: what the types cannot say, with the bounds and their reasons.

mod error;
mod lookup;
mod schema;
mod source_map;
mod usable;
mod validate;

#[cfg(test)]
mod property_tests;
#[cfg(test)]
mod tests;

use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::NaiveTime;
use serde::Deserialize;
use toml::de::DeTable;

use crate::protocol::wire::STATUS_PAGE_PATH;

pub use error::ConfigError;
pub use lookup::{CONFIG_ENV, ConfigSource, SYSTEM_CONFIG_PATH};
pub use schema::{
    BackupSection, Config, DEFAULT_ALSA_DEVICE, DEFAULT_HANDWRITING_LIBRARY,
    DEFAULT_HANDWRITING_MODEL, DEFAULT_SPEECH_RATE_WPM, DailyWindow, FlowControl,
    HandwritingSection, KioskSection, PrinterKind, PrinterSection, RetentionSection, SpeechSection,
    StaffSection, StatusQuery, SummarySection, UploadSection,
};
pub use usable::{
    CODE_PLACEHOLDER, MAX_PIN_HASH_MEMORY_KIB, MAX_PIN_HASH_PASSES, TICKET_PLACEHOLDER,
    longest_ticket, tracking_address, tracking_url_warning,
};
pub use validate::{
    BACKUPS_KEPT, BAND_ROWS, BATCH_CONCERNS, MAX_ALSA_DEVICE_CHARS, MAX_CATEGORIES,
    MAX_HANDWRITING_PATH_CHARS, MAX_NAME_CHARS, MAX_PHRASES_PER_CATEGORY, MAX_PLACES,
    MAX_SHOWN_TEXT_CHARS, PAPER_WIDTHS_DOTS, REQUEST_TIMEOUT_SECONDS, RETENTION_DAYS,
    SPEECH_RATE_WPM, SPEECH_VOLUME_PERCENT, STALL_TIMEOUT_SECONDS, STANDARD_BAUDS,
    STATUS_TIMEOUT_MS, TICKET_PREFIX_LETTERS, TRIAGE_DAYS, UPLOAD_EVERY_MINUTES,
};

use source_map::SourceMap;

/// The demo config's staff PIN hash: argon2id of `2468` (`ui::staff::DEMO_PIN`, in the README),
/// so the staff menu can be tried on a laptop. A real kiosk's config names its own hash.
pub const DEMO_PIN_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$ZGVtby1raW9zay1zYWx0$NQe5E9FDswuMZoFZKiFiB6lnO92jPYcu4BdHo37XTNU";
/// The reference appliance config; the demo config is this file with laptop-friendly paths.
const REFERENCE_CONFIG: &str = include_str!("../../firmware-config/kiosk.toml");
/// The largest config file read: the reference, with a comment on every key, is 26 KB; a file
/// forty times larger is not a kiosk config but a log, an image or a device named by mistake.
pub const MAX_CONFIG_BYTES: usize = 1024 * 1024;
/// The demo's upload round: a minute, so an answer typed on the demo board is on the kiosk by
/// the time the newcomer walks back to it.
pub const DEMO_ROUND_MINUTES: u32 = 1;
/// What error messages call the built-in demo config.
const DEMO_NAME: &str = "<built-in demo config: firmware-config/kiosk.toml>";

impl Config {
    /// Reads and parses the file at `path`; a file larger than [`MAX_CONFIG_BYTES`] is refused
    /// unread beyond that (a device or a log named by mistake must not fill the memory).
    pub fn load_file(path: &Path) -> Result<Config, ConfigError> {
        let file = path.display().to_string();
        let unreadable = |problem: String| ConfigError {
            file: file.clone(),
            line: None,
            key: None,
            problem,
        };
        let mut bytes = Vec::new();
        let limit = u64::try_from(MAX_CONFIG_BYTES).unwrap_or(u64::MAX);
        std::fs::File::open(path)
            .and_then(|f| f.take(limit.saturating_add(1)).read_to_end(&mut bytes))
            .map_err(|e| unreadable(format!("cannot read the config file: {e}")))?;
        if bytes.len() > MAX_CONFIG_BYTES {
            return Err(unreadable(format!(
                "the file is larger than a kiosk config can be: at most 1 MiB ({MAX_CONFIG_BYTES} bytes)"
            )));
        }
        let text = String::from_utf8(bytes).map_err(|e| {
            unreadable(format!(
                "cannot read the config file: it is not UTF-8 text ({})",
                e.utf8_error()
            ))
        })?;
        Config::parse(&text, &file)
    }

    /// The reference config with a laptop's paths: data in `./kiosk-data`, receipts spooled to
    /// files, upload to a `concern-office` on loopback.
    pub fn demo() -> Result<Config, ConfigError> {
        let mut config = Config::parse(REFERENCE_CONFIG, DEMO_NAME)?;
        config.staff.pin_hash = Some(DEMO_PIN_HASH.into());
        config.kiosk.data_dir = PathBuf::from("kiosk-data");
        config.printer.kind = PrinterKind::Spool;
        config.printer.port = None;
        config.upload.endpoint = "http://127.0.0.1:8787".into();
        // The status page of the office on this machine, so a receipt's QR code opens in the
        // laptop's browser.
        config.kiosk.tracking_url = Some(format!(
            "{}{STATUS_PAGE_PATH}/{CODE_PLACEHOLDER}",
            config.upload.endpoint
        ));
        config.upload.token_file = PathBuf::from("kiosk-data/office-token");
        // A newcomer watching the loop should not wait half an hour for the next round, nor
        // find uploads asleep because it is evening.
        config.upload.every_minutes = DEMO_ROUND_MINUTES;
        config.upload.active_hours = DailyWindow {
            start: NaiveTime::MIN,
            end: NaiveTime::from_hms_opt(23, 59, 59).unwrap_or(NaiveTime::MIN),
        };
        Ok(config)
    }

    /// Parses and validates config text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Config, ConfigError> {
        // The parser recovers from a syntax error, so even then every key it could read has
        // its position, and the error names the key it is in.
        let (document, syntax_errors) = DeTable::parse_recoverable(text);
        let map = SourceMap::new(text, file, &document);
        if let Some(first) = syntax_errors.first() {
            return Err(map.toml_error(first));
        }
        let config = Config::deserialize(toml::de::Deserializer::from(document))
            .map_err(|e| map.toml_error(&e))?;
        validate::check(&config, &map)?;
        Ok(config)
    }
}
