//! The kiosk.toml schema, where the file is looked up, the built-in demo configuration, and
//! validation whose every error names the file, the line and the key.

use std::fmt;
use std::path::{Path, PathBuf};

use chrono::NaiveTime;
use serde::{Deserialize, Deserializer};
use thiserror::Error;

use crate::concern::{Bilingual, Colour, Lang, ListKind};

/// The appliance's config, read when no file is named on the command line or in the
/// environment.
pub const SYSTEM_CONFIG_PATH: &str = "/etc/concern-kiosk/kiosk.toml";
/// The environment variable that names the config file.
pub const CONFIG_ENV: &str = "CONCERN_KIOSK_CONFIG";
/// The demo config's staff PIN hash: argon2id of `2468` (`ui::staff::DEMO_PIN`, in the README),
/// so the staff menu can be tried on a laptop. A real kiosk's config names its own hash.
pub const DEMO_PIN_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$ZGVtby1raW9zay1zYWx0$NQe5E9FDswuMZoFZKiFiB6lnO92jPYcu4BdHo37XTNU";
/// The reference appliance config; the demo config is this file with laptop-friendly paths.
const REFERENCE_CONFIG: &str = include_str!("../firmware-config/kiosk.toml");
/// What error messages call the built-in demo config.
const DEMO_NAME: &str = "<built-in demo config: firmware-config/kiosk.toml>";
/// The line speeds thermal printers offer (8N1).
const STANDARD_BAUDS: [u32; 5] = [9600, 19200, 38400, 57600, 115200];
/// The Category screen shows every category at once, without scrolling: ten tiles fit.
pub const MAX_CATEGORIES: usize = 10;
/// The Details screen shows every preset phrase as a large button: eight fit.
pub const MAX_PHRASES_PER_CATEGORY: usize = 8;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub kiosk: KioskSection,
    pub printer: PrinterSection,
    pub upload: UploadSection,
    #[serde(default)]
    pub summary: SummarySection,
    #[serde(default)]
    pub staff: StaffSection,
    #[serde(default)]
    pub retention: RetentionSection,
    #[serde(default)]
    pub backup: BackupSection,
    #[serde(default)]
    pub triage: TriageRules,
    #[serde(default, rename = "place")]
    pub places: Vec<Place>,
    #[serde(rename = "category")]
    pub categories: Vec<Category>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KioskSection {
    pub id: String,
    #[serde(default = "default_ticket_prefix")]
    pub ticket_prefix: String,
    pub community: Bilingual,
    pub hotline: String,
    /// The first language is the one the screen starts in.
    #[serde(default = "default_languages")]
    pub languages: Vec<Lang>,
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    #[serde(default)]
    pub tracking_url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PrinterKind {
    /// An ESC/POS printer on a serial port.
    Serial,
    /// Receipts written as files (demo, laptops).
    Spool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FlowControl {
    None,
    Xonxoff,
    Rtscts,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PrintMode {
    /// The printer's own Chinese font (GBK).
    Text,
    /// Every line drawn as an image: any printer.
    Raster,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StatusQuery {
    DleEot,
    None,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrinterSection {
    pub kind: PrinterKind,
    #[serde(default)]
    pub port: Option<PathBuf>,
    #[serde(default = "default_baud")]
    pub baud: u32,
    #[serde(default = "default_flow_control")]
    pub flow_control: FlowControl,
    #[serde(default = "default_mode")]
    pub mode: PrintMode,
    #[serde(default = "default_width_dots")]
    pub width_dots: u32,
    #[serde(default = "default_status")]
    pub status: StatusQuery,
    /// Raster mode: rows of dots per GS v 0 command. Small bands let the printer pause the
    /// line between them and let a shutdown finish the band in flight.
    #[serde(default = "default_band_rows")]
    pub band_rows: u32,
    #[serde(default = "default_status_timeout_ms")]
    pub status_timeout_ms: u32,
    #[serde(default = "default_stall_timeout_seconds")]
    pub stall_timeout_seconds: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadSection {
    pub endpoint: String,
    pub token_file: PathBuf,
    #[serde(default = "default_every_minutes")]
    pub every_minutes: u32,
    #[serde(default = "default_active_hours")]
    pub active_hours: ActiveHours,
    #[serde(default = "default_max_batch")]
    pub max_batch: u32,
    /// An extra CA certificate (PEM) for an office with its own certificate authority.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    #[serde(default = "default_request_timeout_seconds")]
    pub request_timeout_seconds: u32,
}

/// The daily window in which the uploader runs on its schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActiveHours {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl<'de> Deserialize<'de> for ActiveHours {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        let bad =
            || serde::de::Error::custom(format!("`{raw}` is not a window like \"07:00-21:00\""));
        let (start, end) = raw.split_once('-').ok_or_else(bad)?;
        let parse = |t: &str| NaiveTime::parse_from_str(t.trim(), "%H:%M").map_err(|_| bad());
        Ok(ActiveHours {
            start: parse(start)?,
            end: parse(end)?,
        })
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SummarySection {
    #[serde(default = "default_print_at", deserialize_with = "clock_time")]
    pub print_at: NaiveTime,
    /// The language of the printed summary: staff and the council read Chinese.
    #[serde(default = "default_summary_language")]
    pub language: Lang,
}

impl Default for SummarySection {
    fn default() -> Self {
        SummarySection {
            print_at: default_print_at(),
            language: default_summary_language(),
        }
    }
}

fn default_summary_language() -> Lang {
    Lang::ZhCn
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffSection {
    /// An argon2id PHC string; the staff menu is locked while it is missing.
    #[serde(default)]
    pub pin_hash: Option<String>,
}

/// The nightly integrity check and database backup.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupSection {
    /// The quiet hour: the first check at or after it each day backs up.
    #[serde(default = "default_backup_at", deserialize_with = "clock_time")]
    pub at: NaiveTime,
    /// How many backups stay in `backups/` of the data folder.
    #[serde(default = "default_backups_kept")]
    pub keep: u32,
}

impl Default for BackupSection {
    fn default() -> Self {
        BackupSection {
            at: default_backup_at(),
            keep: default_backups_kept(),
        }
    }
}

/// Half past three: the centre is closed, nobody files, the uploader is outside active hours.
fn default_backup_at() -> NaiveTime {
    NaiveTime::from_hms_opt(3, 30, 0).unwrap_or(NaiveTime::MIN)
}
/// A week of nights: a problem noticed on Monday can still be undone from last Monday.
fn default_backups_kept() -> u32 {
    7
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionSection {
    pub days_after_upload: u32,
}

impl Default for RetentionSection {
    fn default() -> Self {
        RetentionSection {
            days_after_upload: 30,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriageRules {
    pub green: Window,
    pub orange: Window,
    pub red: FollowUp,
}

impl Default for TriageRules {
    /// The article's rule: green a week, orange a month, red followed up periodically.
    fn default() -> Self {
        TriageRules {
            green: Window { days: 7 },
            orange: Window { days: 30 },
            red: FollowUp {
                follow_up_every_days: 14,
            },
        }
    }
}

impl TriageRules {
    /// The days a colour stands for: the answer window (green, orange) or the follow-up
    /// interval (red).
    pub fn days(&self, colour: Colour) -> u32 {
        match colour {
            Colour::Green => self.green.days,
            Colour::Orange => self.orange.days,
            Colour::Red => self.red.follow_up_every_days,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    pub days: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowUp {
    pub follow_up_every_days: u32,
}

/// A public place offered on the Where screen.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Place {
    pub label: Bilingual,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    pub code: String,
    pub list: ListKind,
    pub triage: Colour,
    pub label: Bilingual,
    pub icon: String,
    pub phrases: Vec<Bilingual>,
    #[serde(default)]
    pub emergency_notice: Option<Bilingual>,
}

fn default_ticket_prefix() -> String {
    "A".into()
}
fn default_languages() -> Vec<Lang> {
    vec![Lang::ZhCn, Lang::En]
}
fn default_data_dir() -> PathBuf {
    PathBuf::from("/var/lib/concern-kiosk")
}
/// Nearly every thermal printer ships at 9600 8N1.
fn default_baud() -> u32 {
    9600
}
/// Without flow control a printer that pauses (paper out, hot head) drops bytes.
fn default_flow_control() -> FlowControl {
    FlowControl::Xonxoff
}
/// Raster works on every printer; text mode needs a Chinese-capable one.
fn default_mode() -> PrintMode {
    PrintMode::Raster
}
/// 58 mm paper, the most common kiosk printer.
fn default_width_dots() -> u32 {
    384
}
fn default_band_rows() -> u32 {
    crate::receipt::DEFAULT_BAND_ROWS
}
/// A printer answers DLE EOT within milliseconds, but one that has paused the line (XOFF) to
/// print takes the question only when it resumes, a second or so later.
fn default_status_timeout_ms() -> u32 {
    2000
}
/// A printer pauses the line for a second or two while it prints a band; one that holds it for
/// 20 s has stopped (paper ran out mid-receipt, cover opened) and the job is tried again later.
fn default_stall_timeout_seconds() -> u32 {
    20
}
fn default_status() -> StatusQuery {
    StatusQuery::DleEot
}
fn default_every_minutes() -> u32 {
    30
}
fn default_active_hours() -> ActiveHours {
    ActiveHours {
        start: NaiveTime::from_hms_opt(7, 0, 0).unwrap_or(NaiveTime::MIN),
        end: NaiveTime::from_hms_opt(21, 0, 0).unwrap_or(NaiveTime::MIN),
    }
}
fn default_max_batch() -> u32 {
    100
}
/// A batch of 100 concerns is ~50 KB gzip'd: a minute covers a very slow link; longer means the
/// office is stuck, and the batch is safely sent again later.
fn default_request_timeout_seconds() -> u32 {
    60
}
/// The community centre closes its counter at half past five.
fn default_print_at() -> NaiveTime {
    NaiveTime::from_hms_opt(17, 30, 0).unwrap_or(NaiveTime::MIN)
}

fn clock_time<'de, D: Deserializer<'de>>(deserializer: D) -> Result<NaiveTime, D::Error> {
    let raw = String::deserialize(deserializer)?;
    NaiveTime::parse_from_str(raw.trim(), "%H:%M")
        .map_err(|_| serde::de::Error::custom(format!("`{raw}` is not a time like \"17:30\"")))
}

/// Where the config came from; logged at start and shown by `doctor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    /// `--config FILE`
    Flag(PathBuf),
    /// `CONCERN_KIOSK_CONFIG`
    Env(PathBuf),
    /// `/etc/concern-kiosk/kiosk.toml`
    System(PathBuf),
    Demo,
}

impl ConfigSource {
    /// The lookup order: `--config`, then the environment, then the appliance's file, then
    /// the built-in demo.
    pub fn find(flag: Option<PathBuf>, env: Option<PathBuf>, system: &Path) -> ConfigSource {
        if let Some(path) = flag {
            ConfigSource::Flag(path)
        } else if let Some(path) = env.filter(|p| !p.as_os_str().is_empty()) {
            ConfigSource::Env(path)
        } else if system.exists() {
            ConfigSource::System(system.to_path_buf())
        } else {
            ConfigSource::Demo
        }
    }

    pub fn load(&self) -> Result<Config, ConfigError> {
        match self {
            ConfigSource::Flag(path) | ConfigSource::Env(path) | ConfigSource::System(path) => {
                Config::load_file(path)
            }
            ConfigSource::Demo => Config::demo(),
        }
    }
}

impl fmt::Display for ConfigSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigSource::Flag(p) => write!(f, "{} (from --config)", p.display()),
            ConfigSource::Env(p) => write!(f, "{} (from {CONFIG_ENV})", p.display()),
            ConfigSource::System(p) => write!(f, "{}", p.display()),
            ConfigSource::Demo => f.write_str("the built-in demo config"),
        }
    }
}

/// A config that cannot be used. Displayed as `file:line: key: problem`.
#[derive(Debug, Error, PartialEq, Eq)]
pub struct ConfigError {
    pub file: String,
    /// 1-based; absent when the file could not be read at all.
    pub line: Option<usize>,
    /// The dotted key, e.g. `printer.baud` or `category[3].code`.
    pub key: Option<String>,
    pub problem: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(key) = &self.key {
            write!(f, ": key `{key}`")?;
        }
        write!(f, ": {}", self.problem)
    }
}

impl Config {
    pub fn load_file(path: &Path) -> Result<Config, ConfigError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: file.clone(),
            line: None,
            key: None,
            problem: format!("cannot read the config file: {e}"),
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
        config.upload.token_file = PathBuf::from("kiosk-data/office-token");
        Ok(config)
    }

    /// Parses and validates config text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Config, ConfigError> {
        let locate = SourceMap { text, file };
        let config: Config = toml::from_str(text).map_err(|e| locate.serde_error(&e))?;
        let spans: SpanView =
            toml::from_str(text).map_err(|e: toml::de::Error| locate.serde_error(&e))?;
        config.check(&spans, &locate)?;
        Ok(config)
    }

    pub fn category(&self, code: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.code == code)
    }

    /// The language the screen starts in.
    pub fn default_lang(&self) -> Lang {
        self.kiosk.languages.first().copied().unwrap_or(Lang::ZhCn)
    }

    /// Checks what the types alone cannot.
    fn check(&self, spans: &SpanView, locate: &SourceMap) -> Result<(), ConfigError> {
        let kiosk = &self.kiosk;
        let prefix_ok = (1..=3).contains(&kiosk.ticket_prefix.len())
            && kiosk.ticket_prefix.bytes().all(|b| b.is_ascii_uppercase());
        let triage = &self.triage;
        let checks: [(bool, &str, &str); 17] = [
            (
                !kiosk.id.is_empty()
                    && kiosk
                        .id
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "kiosk.id",
                "must be lowercase letters, digits and hyphens, e.g. \"wanjia-01\": every upload names its kiosk",
            ),
            (
                STANDARD_BAUDS.contains(&self.printer.baud),
                "printer.baud",
                "must be one of 9600, 19200, 38400, 57600, 115200 (see the printer's self-test page)",
            ),
            (
                (50..=60_000).contains(&self.printer.status_timeout_ms),
                "printer.status_timeout_ms",
                "must be 50 to 60000 milliseconds",
            ),
            (
                (1..=3600).contains(&self.printer.stall_timeout_seconds),
                "printer.stall_timeout_seconds",
                "must be 1 to 3600 seconds",
            ),
            (
                (1..=255).contains(&self.printer.band_rows),
                "printer.band_rows",
                "must be 1 to 255 rows of dots",
            ),
            (
                triage.green.days >= 1,
                "triage.green.days",
                "must be 1 or more",
            ),
            (
                triage.orange.days > triage.green.days,
                "triage.orange.days",
                "must be more days than green: orange concerns are the harder ones",
            ),
            (
                triage.red.follow_up_every_days >= 1,
                "triage.red.follow_up_every_days",
                "must be 1 or more",
            ),
            (
                prefix_ok,
                "kiosk.ticket_prefix",
                "must be 1 to 3 capital letters A-Z",
            ),
            (
                !kiosk.languages.is_empty(),
                "kiosk.languages",
                "must name at least one language: \"zh-CN\" or \"en\"",
            ),
            (
                self.printer.kind != PrinterKind::Serial || self.printer.port.is_some(),
                "printer.port",
                "a serial printer needs its port, e.g. \"/dev/receipt-printer\"",
            ),
            (
                matches!(self.printer.width_dots, 384 | 576),
                "printer.width_dots",
                "must be 384 (58 mm paper) or 576 (80 mm paper)",
            ),
            (
                self.upload.every_minutes >= 1,
                "upload.every_minutes",
                "must be 1 or more",
            ),
            (
                self.upload.max_batch >= 1,
                "upload.max_batch",
                "must be 1 or more",
            ),
            (
                self.upload.request_timeout_seconds >= 1,
                "upload.request_timeout_seconds",
                "must be 1 or more",
            ),
            (
                self.upload.active_hours.start < self.upload.active_hours.end,
                "upload.active_hours",
                "the start must come before the end, e.g. \"07:00-21:00\"",
            ),
            (
                !self.categories.is_empty() && self.categories.len() <= MAX_CATEGORIES,
                "category",
                "there must be between 1 and 10 categories (the screen shows them all at once)",
            ),
        ];
        for (ok, key, problem) in checks {
            if !ok {
                return Err(locate.key_error(key, problem));
            }
        }
        for (index, (category, span)) in self.categories.iter().zip(&spans.category).enumerate() {
            let at = |key: &str, span: std::ops::Range<usize>, problem: String| ConfigError {
                file: locate.file.to_string(),
                line: Some(locate.line_of(span.start)),
                key: Some(format!("category[{}].{key}", index + 1)),
                problem,
            };
            if let Some(first) = self.categories[..index]
                .iter()
                .position(|c| c.code == category.code)
            {
                return Err(at(
                    "code",
                    span.code.span(),
                    format!(
                        "`{}` is already the code of category {}; codes must be unique",
                        category.code,
                        first + 1
                    ),
                ));
            }
            let code_ok = !category.code.is_empty()
                && category
                    .code
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !code_ok {
                return Err(at(
                    "code",
                    span.code.span(),
                    "must be lowercase letters, digits and hyphens".into(),
                ));
            }
            if category.phrases.is_empty() || category.phrases.len() > MAX_PHRASES_PER_CATEGORY {
                return Err(at(
                    "phrases",
                    span.phrases.span(),
                    format!(
                        "has {} phrases; give 1 to {MAX_PHRASES_PER_CATEGORY} (residents pick from them instead of typing)",
                        category.phrases.len()
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// The parts of the file whose position validation needs, read with their spans.
#[derive(Deserialize)]
struct SpanView {
    #[serde(default)]
    category: Vec<CategorySpans>,
}

#[derive(Deserialize)]
struct CategorySpans {
    code: toml::Spanned<String>,
    phrases: toml::Spanned<toml::Value>,
}

/// Turns byte offsets in the config text into lines and dotted keys.
struct SourceMap<'a> {
    text: &'a str,
    file: &'a str,
}

impl SourceMap<'_> {
    fn line_of(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    fn serde_error(&self, error: &toml::de::Error) -> ConfigError {
        let (line, key) = match error.span() {
            Some(span) => (Some(self.line_of(span.start)), self.key_at(span.start)),
            None => (None, None),
        };
        ConfigError {
            file: self.file.to_string(),
            line,
            key,
            problem: error.message().trim().to_string(),
        }
    }

    /// An error about a key found by its dotted name (`table.key` or `table.key.inner`): the
    /// line where `key` is set in `[table]`, else the table's header.
    fn key_error(&self, key: &str, problem: &str) -> ConfigError {
        let mut parts = key.split('.');
        let table = parts.next().unwrap_or_default();
        let leaf = parts.next();
        let mut current_table = String::new();
        let mut offset = 0;
        let mut found = None;
        for line in self.text.split_inclusive('\n') {
            let trimmed = line.trim();
            if let Some(header) = table_header(trimmed) {
                current_table = header;
                if current_table == table && found.is_none() {
                    found = Some(offset);
                }
            } else if current_table == table
                && leaf.is_some_and(|leaf| {
                    trimmed
                        .split_once('=')
                        .is_some_and(|(k, _)| k.trim() == leaf)
                })
            {
                found = Some(offset);
                break;
            }
            offset += line.len();
        }
        ConfigError {
            file: self.file.to_string(),
            line: Some(found.map_or(1, |o| self.line_of(o))),
            key: Some(key.to_string()),
            problem: problem.to_string(),
        }
    }

    /// The dotted key whose line holds `offset`: the table header above it and the nearest
    /// `key =` before the offset on that line (inline tables hold several).
    fn key_at(&self, offset: usize) -> Option<String> {
        let offset = offset.min(self.text.len());
        let line_start = self.text[..offset].rfind('\n').map_or(0, |i| i + 1);
        let line_end = self.text[offset..]
            .find('\n')
            .map_or(self.text.len(), |i| offset + i);
        let line = &self.text[line_start..line_end];
        let column = offset - line_start;
        let table = self.text[..line_start]
            .lines()
            .rev()
            .find_map(|l| table_header(l.trim()));
        if let Some(header) = table_header(line.trim()) {
            return Some(header);
        }
        let mut leaf = key_path_at(&line[..column]);
        // An unknown key's span starts at the key itself.
        let rest = &line[column..];
        let word_end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(rest.len());
        if word_end > 0 && rest[word_end..].trim_start().starts_with('=') {
            let word = &rest[..word_end];
            leaf = Some(leaf.map_or_else(|| word.to_string(), |p| format!("{p}.{word}")));
        }
        match (table, leaf) {
            (Some(t), Some(k)) => Some(format!("{t}.{k}")),
            (Some(t), None) => Some(t),
            (None, k) => k,
        }
    }
}

/// The key being written at the end of `prefix` (one line of TOML): `green = { days = 7` →
/// `green.days`. Quoted strings are skipped so that `=` or `{` inside them do not count.
fn key_path_at(prefix: &str) -> Option<String> {
    let mut path: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut pending: Option<String> = None;
    let mut quote: Option<char> = None;
    let mut word_ended = false;
    for c in prefix.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '=') => pending = Some(std::mem::take(&mut word)),
            (None, '{') => path.extend(pending.take()),
            (None, '}') => {
                path.pop();
            }
            (None, ',') => pending = None,
            (None, c) if c.is_ascii_alphanumeric() || c == '_' || c == '-' => {
                if word_ended {
                    word.clear();
                    word_ended = false;
                }
                word.push(c);
            }
            (None, c) if c.is_whitespace() => word_ended = true,
            (None, _) => word.clear(),
        }
    }
    path.extend(pending);
    (!path.is_empty()).then(|| path.join("."))
}

/// `[printer]` → `printer`, `[[category]]` → `category`.
fn table_header(line: &str) -> Option<String> {
    let inner = line
        .strip_prefix("[[")
        .and_then(|l| l.split_once("]]"))
        .or_else(|| line.strip_prefix('[').and_then(|l| l.split_once(']')))?
        .0;
    Some(inner.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_config_loads_with_the_article_categories() {
        let config = Config::parse(REFERENCE_CONFIG, "firmware-config/kiosk.toml").unwrap();
        let codes: Vec<&str> = config.categories.iter().map(|c| c.code.as_str()).collect();
        assert_eq!(
            codes,
            [
                "sanitation",
                "shopfront",
                "repairs",
                "parking",
                "noise",
                "neighbours",
                "property",
                "safety",
                "suggestion",
                "other"
            ]
        );
        for category in &config.categories {
            assert!(
                (4..=8).contains(&category.phrases.len()),
                "{} has {} phrases",
                category.code,
                category.phrases.len()
            );
        }
        assert!(
            config
                .category("safety")
                .unwrap()
                .emergency_notice
                .is_some()
        );
        assert_eq!(config.printer.kind, PrinterKind::Serial);
        assert_eq!(config.triage.red.follow_up_every_days, 14);
        // The paths the unit and the udev rule in firmware-config/ give the kiosk.
        assert_eq!(
            config.kiosk.data_dir,
            PathBuf::from("/var/lib/concern-kiosk"),
            "the unit's StateDirectory"
        );
        assert_eq!(
            config.printer.port.as_deref(),
            Some(std::path::Path::new("/dev/receipt-printer")),
            "the udev rule's SYMLINK"
        );
        assert_eq!(
            config.upload.token_file,
            PathBuf::from("/etc/concern-kiosk/office-token"),
            "the unit's ConfigurationDirectory"
        );
    }

    #[test]
    fn the_demo_config_is_the_reference_with_laptop_paths() {
        let demo = Config::demo().unwrap();
        assert_eq!(demo.kiosk.data_dir, PathBuf::from("kiosk-data"));
        assert_eq!(demo.printer.kind, PrinterKind::Spool);
        assert!(demo.upload.endpoint.starts_with("http://127.0.0.1:"));
        assert_eq!(demo.categories.len(), 10);
    }

    #[test]
    fn lookup_order_is_flag_then_environment_then_system_then_demo() {
        let existing = Path::new("/");
        let missing = Path::new("/nonexistent/kiosk.toml");
        let flag = Some(PathBuf::from("a.toml"));
        let env = Some(PathBuf::from("b.toml"));
        assert_eq!(
            ConfigSource::find(flag.clone(), env.clone(), existing),
            ConfigSource::Flag("a.toml".into())
        );
        assert_eq!(
            ConfigSource::find(None, env, existing),
            ConfigSource::Env("b.toml".into())
        );
        assert_eq!(
            ConfigSource::find(None, None, existing),
            ConfigSource::System("/".into())
        );
        assert_eq!(ConfigSource::find(None, None, missing), ConfigSource::Demo);
    }

    /// The reference config with the first line that starts with `key` replaced.
    fn error_with_line(key: &str, replacement: &str) -> (ConfigError, usize) {
        let line = REFERENCE_CONFIG
            .lines()
            .position(|l| l.trim_start().starts_with(key))
            .unwrap();
        let text: Vec<&str> = REFERENCE_CONFIG
            .lines()
            .enumerate()
            .map(|(i, l)| if i == line { replacement } else { l })
            .collect();
        let error = Config::parse(&text.join("\n"), "kiosk.toml").unwrap_err();
        (error, line + 1)
    }

    #[test]
    fn a_wrong_type_names_its_line_and_key() {
        let (e, line) = error_with_line("baud", "baud = \"fast\"");
        assert_eq!(e.line, Some(line));
        assert_eq!(e.key.as_deref(), Some("printer.baud"), "{e}");
    }

    #[test]
    fn a_key_inside_an_inline_table_is_named() {
        let (e, line) = error_with_line("green", "green = { days = \"7\" }");
        assert_eq!(e.line, Some(line));
        assert_eq!(e.key.as_deref(), Some("triage.green.days"), "{e}");
    }

    #[test]
    fn a_value_outside_its_set_is_named() {
        let (e, line) = error_with_line("baud", "baud = 9601");
        assert_eq!(
            (e.line, e.key.as_deref()),
            (Some(line), Some("printer.baud")),
            "{e}"
        );
        let (e, line) = error_with_line("orange", "orange = { days = 5 }");
        assert_eq!(
            (e.line, e.key.as_deref()),
            (Some(line), Some("triage.orange.days")),
            "{e}"
        );
        let (e, line) = error_with_line("id ", "id = \"Wanjia 01\"");
        assert_eq!(
            (e.line, e.key.as_deref()),
            (Some(line), Some("kiosk.id")),
            "{e}"
        );
    }
}
