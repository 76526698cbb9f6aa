//! The kiosk.toml schema: every section and key with its type and its default. What the types
//! cannot say (ranges, formats, keys that depend on each other) is checked in `validate`.

use std::path::PathBuf;

use chrono::NaiveTime;
use serde::{Deserialize, Deserializer};

use crate::concern::{Bilingual, Category, FilingRules, Lang, Place, TriageRules};
use crate::paper::PrintMode;

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
    #[serde(default)]
    pub speech: SpeechSection,
    #[serde(default)]
    pub handwriting: HandwritingSection,
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
    pub active_hours: DailyWindow,
    #[serde(default = "default_max_batch")]
    pub max_batch: u32,
    /// An extra CA certificate (PEM) for an office with its own certificate authority.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    #[serde(default = "default_request_timeout_seconds")]
    pub request_timeout_seconds: u32,
}

/// A window of the day, "HH:MM-HH:MM": the uploader's active hours, the speech's quiet hours.
/// One whose end comes before its start runs past midnight ("21:00-07:00").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DailyWindow {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl DailyWindow {
    /// Whether `time` is inside: from the start, up to but not including the end.
    pub fn contains(&self, time: NaiveTime) -> bool {
        if self.start <= self.end {
            (self.start..self.end).contains(&time)
        } else {
            time >= self.start || time < self.end
        }
    }
}

impl<'de> Deserialize<'de> for DailyWindow {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        let bad =
            || serde::de::Error::custom(format!("`{raw}` is not a window like \"07:00-21:00\""));
        let (start, end) = raw.split_once('-').ok_or_else(bad)?;
        let parse = |t: &str| NaiveTime::parse_from_str(t.trim(), "%H:%M").map_err(|_| bad());
        Ok(DailyWindow {
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

/// Staff and the council read Chinese.
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

/// Spoken guidance: the kiosk reads its screens aloud.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpeechSection {
    #[serde(default = "default_speech_enabled")]
    pub enabled: bool,
    /// The level each resident starts at, in percent of the clip's full scale.
    #[serde(default = "default_volume_percent")]
    pub volume_percent: u32,
    #[serde(default = "default_rate_wpm")]
    pub rate_wpm: u32,
    /// Hours in which screens are not read out by themselves; "Read it to me" still speaks.
    #[serde(default)]
    pub quiet_hours: Option<DailyWindow>,
    /// The ALSA playback device, as `aplay -D` takes it.
    #[serde(default = "default_alsa_device")]
    pub device: String,
}

impl SpeechSection {
    /// The volume every resident starts at, in percent (validated to at most 100).
    pub fn start_volume(&self) -> u8 {
        u8::try_from(self.volume_percent.min(100)).unwrap_or(100)
    }
}

impl Default for SpeechSection {
    fn default() -> Self {
        SpeechSection {
            enabled: default_speech_enabled(),
            volume_percent: default_volume_percent(),
            rate_wpm: default_rate_wpm(),
            quiet_hours: None,
            device: default_alsa_device(),
        }
    }
}

/// Many residents see poorly: a kiosk speaks unless it is told not to.
fn default_speech_enabled() -> bool {
    true
}
/// Loud enough across a community-centre hall on a small powered speaker, with headroom for
/// staff to turn it up for a resident who hears poorly.
fn default_volume_percent() -> u32 {
    80
}
/// Words a minute: espeak-ng's own 175 is brisk for an 80-year-old listener; 150 is the pace
/// of a clerk reading a form aloud (about 3.5 Chinese syllables a second).
pub const DEFAULT_SPEECH_RATE_WPM: u32 = 150;
/// The card's default device, as `aplay` plays on it.
pub const DEFAULT_ALSA_DEVICE: &str = "default";

fn default_rate_wpm() -> u32 {
    DEFAULT_SPEECH_RATE_WPM
}
fn default_alsa_device() -> String {
    DEFAULT_ALSA_DEVICE.to_string()
}

/// Handwriting on the touchscreen: the recognizer's library and its model.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandwritingSection {
    #[serde(default = "default_handwriting_enabled")]
    pub enabled: bool,
    /// The zinnia library, as the dynamic loader finds it (a file name or a path).
    #[serde(default = "default_handwriting_library")]
    pub library: String,
    /// The zinnia model of the characters it knows.
    #[serde(default = "default_handwriting_model")]
    pub model: PathBuf,
}

impl Default for HandwritingSection {
    fn default() -> Self {
        HandwritingSection {
            enabled: default_handwriting_enabled(),
            library: default_handwriting_library(),
            model: default_handwriting_model(),
        }
    }
}

/// Writing by hand is how many elderly residents enter Chinese at all: on unless told not to.
fn default_handwriting_enabled() -> bool {
    true
}
/// Debian's libzinnia0 (Raspberry Pi OS has the same package), by its soname so the loader
/// finds it wherever the architecture keeps its libraries.
pub const DEFAULT_HANDWRITING_LIBRARY: &str = "libzinnia.so.0";
/// Debian's tegaki-zinnia-simplified-chinese: the simplified characters, trained on real
/// handwriting.
pub const DEFAULT_HANDWRITING_MODEL: &str =
    "/usr/share/tegaki/models/zinnia/handwriting-zh_CN.model";

fn default_handwriting_library() -> String {
    DEFAULT_HANDWRITING_LIBRARY.to_string()
}
fn default_handwriting_model() -> PathBuf {
    PathBuf::from(DEFAULT_HANDWRITING_MODEL)
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionSection {
    pub days_after_upload: u32,
}

impl Default for RetentionSection {
    /// A month after the office has it: long enough for staff to call a resident back about an
    /// unclear concern, short enough that phone numbers do not pile up on the kiosk.
    fn default() -> Self {
        RetentionSection {
            days_after_upload: 30,
        }
    }
}

/// One kiosk in the community: the first letter will do.
fn default_ticket_prefix() -> String {
    "A".into()
}
/// Chinese first (most residents read only Chinese), English one tap away.
fn default_languages() -> Vec<Lang> {
    vec![Lang::ZhCn, Lang::En]
}
/// The systemd unit's StateDirectory.
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
    crate::paper::DEFAULT_BAND_ROWS
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
/// Asking the printer is how paper out and an unplugged printer are noticed at all.
fn default_status() -> StatusQuery {
    StatusQuery::DleEot
}
/// Twice an hour: the office sees a concern the same morning, and the kiosk's link is idle
/// most of the time.
fn default_every_minutes() -> u32 {
    30
}
/// The centre's opening hours with a margin: nobody files at night.
fn default_active_hours() -> DailyWindow {
    DailyWindow {
        start: NaiveTime::from_hms_opt(7, 0, 0).unwrap_or(NaiveTime::MIN),
        end: NaiveTime::from_hms_opt(21, 0, 0).unwrap_or(NaiveTime::MIN),
    }
}
/// A busy day's concerns in one batch, about 50 KB gzip'd.
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

impl Config {
    /// The language the screen starts in.
    pub fn default_lang(&self) -> Lang {
        self.kiosk.languages.first().copied().unwrap_or(Lang::ZhCn)
    }
}

/// The config is where a kiosk's filing rules are written down.
impl FilingRules for Config {
    fn categories(&self) -> &[Category] {
        &self.categories
    }

    fn triage(&self) -> &TriageRules {
        &self.triage
    }
}
