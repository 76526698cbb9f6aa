//! What the types alone cannot say about a config: every number from the file inside a named
//! range (so no date or timer built from it can overflow), names in the form uploads and the
//! command line use, lists of the size the screens show, and no hidden character in any text
//! the kiosk shows or prints. The office address, the receipt's QR code and the staff PIN hash
//! are checked in `usable`.

use std::ops::RangeInclusive;

use super::error::visible;
use super::source_map::SourceMap;
use super::usable;
use super::{Config, ConfigError, PrinterKind};
use crate::concern::Bilingual;

/// The Category screen shows every category at once, without scrolling: ten tiles fit.
pub const MAX_CATEGORIES: usize = 10;
/// The Details screen shows every preset phrase as a large button: eight fit.
pub const MAX_PHRASES_PER_CATEGORY: usize = 8;
/// The Where screen's 4 x 2 grid holds the building keypad tile and seven places: an eighth
/// would have no tile, so it is refused here rather than left off the screen. (ui/place.slint
/// lays the grid out for this number.)
pub const MAX_PLACES: usize = 7;
/// Letters of the ticket prefix: a resident reads the ticket aloud on the phone, and three
/// letters tell every kiosk of a district apart.
pub const TICKET_PREFIX_LETTERS: RangeInclusive<usize> = 1..=3;
/// The kiosk id, category codes and icon names: short enough for a command line, an export
/// column and the office's messages (which quote at most 64 characters).
pub const MAX_NAME_CHARS: usize = 32;
/// Characters of one text the config puts on screen or paper (a name, a label, a phrase, the
/// emergency notice): the longest, the emergency notice, takes two lines at 58 mm; a text past
/// this is a paste gone wrong and would print metres of receipt.
pub const MAX_SHOWN_TEXT_CHARS: usize = 120;
/// The line speeds thermal printers offer (8N1).
pub const STANDARD_BAUDS: [u32; 5] = [9600, 19200, 38400, 57600, 115200];
/// Raster rows per image command: the kiosk waits for a band in flight before it stops or
/// pauses, and 255 rows (3 cm of paper) is already ten times the 24 that suits every printer
/// seen.
pub const BAND_ROWS: RangeInclusive<u32> = 1..=255;
/// A printer answers a status question within milliseconds, and one that has paused the line
/// answers when it resumes; below 50 ms a working printer looks dead, past a minute the kiosk
/// looks hung to the watchdog.
pub const STATUS_TIMEOUT_MS: RangeInclusive<u32> = 50..=60_000;
/// A printer pauses the line for seconds; an hour is past any pause, and a longer stall would
/// stretch the watchdog's patience (which grows with it) beyond use.
pub const STALL_TIMEOUT_SECONDS: RangeInclusive<u32> = 1..=3600;
/// Upload rounds: at least once a day, or concerns reach the office a day late.
pub const UPLOAD_EVERY_MINUTES: RangeInclusive<u32> = 1..=1440;
/// Concerns per batch: 500 at the longest each (~4.5 KB of JSON) stay under 2.5 MB, well
/// inside the 4 MiB the office accepts even when the text does not compress.
pub const BATCH_CONCERNS: RangeInclusive<u32> = 1..=500;
/// An office that has not answered in ten minutes is stuck; the batch is safely sent again.
/// The watchdog's patience grows with this, so it must stay modest.
pub const REQUEST_TIMEOUT_SECONDS: RangeInclusive<u32> = 1..=600;
/// Days after acknowledgement before the phone and text are erased: at least a day, so the
/// kiosk never erases what it has only just sent; at most ten years, past any reason to keep
/// a phone number, and far inside the calendar when subtracted from today.
pub const RETENTION_DAYS: RangeInclusive<u32> = 1..=3650;
/// A triage window or follow-up interval: a promise printed further than a year ahead is no
/// promise, and it keeps every due date far inside the calendar.
pub const TRIAGE_DAYS: RangeInclusive<u32> = 1..=365;
/// Nightly backups kept: each is a full copy of the database on the SD card; ninety nights is
/// more than anyone goes back.
pub const BACKUPS_KEPT: RangeInclusive<u32> = 1..=90;
/// The speech's starting volume in percent: below 10 nobody hears it across a community-centre
/// hall (a kiosk that should be silent says `enabled = false`).
pub const SPEECH_VOLUME_PERCENT: RangeInclusive<u32> = 10..=100;
/// Words a minute: below 80 a prompt drags past the screen it belongs to; above 260 an elderly
/// listener loses the words (espeak-ng itself takes 80 to 450).
pub const SPEECH_RATE_WPM: RangeInclusive<u32> = 80..=260;
/// An ALSA device name ("default", "plughw:CARD=Headphones,DEV=0", "hw:1,0"): longer is a
/// paste gone wrong.
pub const MAX_ALSA_DEVICE_CHARS: usize = 64;
/// A library name or path, or a model's path, for the handwriting: longer is a paste gone
/// wrong (Linux paths in practice stay far below its 4096-byte limit).
pub const MAX_HANDWRITING_PATH_CHARS: usize = 255;
/// Paper widths in dots at 203 dpi: 58 mm and 80 mm rolls.
pub const PAPER_WIDTHS_DOTS: [u32; 2] = [384, 576];

/// Checks `config` (read from the text `map` describes); the first problem found is returned.
pub(super) fn check(config: &Config, map: &SourceMap) -> Result<(), ConfigError> {
    check_kiosk(config, map)?;
    check_numbers(config, map)?;
    check_lists(config, map)?;
    check_texts(config, map)?;
    usable::check(config, map)
}

fn check_kiosk(config: &Config, map: &SourceMap) -> Result<(), ConfigError> {
    let kiosk = &config.kiosk;
    if !is_name(&kiosk.id) {
        return Err(map.key_error(
            "kiosk.id",
            format!(
                "must be 1 to {MAX_NAME_CHARS} lowercase letters, digits and hyphens, e.g. \"wanjia-01\": every upload names its kiosk"
            ),
        ));
    }
    let prefix = &kiosk.ticket_prefix;
    if !TICKET_PREFIX_LETTERS.contains(&prefix.len())
        || !prefix.bytes().all(|b| b.is_ascii_uppercase())
    {
        return Err(map.key_error(
            "kiosk.ticket_prefix",
            format!(
                "must be {} to {} capital letters A-Z",
                TICKET_PREFIX_LETTERS.start(),
                TICKET_PREFIX_LETTERS.end()
            ),
        ));
    }
    if kiosk.languages.is_empty() {
        return Err(map.key_error(
            "kiosk.languages",
            "must name at least one language: \"zh-CN\" or \"en\"",
        ));
    }
    for (index, lang) in kiosk.languages.iter().enumerate() {
        if kiosk.languages[..index].contains(lang) {
            return Err(map.key_error(
                "kiosk.languages",
                format!("lists `{}` twice; name each language once", lang.tag()),
            ));
        }
    }
    Ok(())
}

/// Every number in the file against its range.
fn check_numbers(config: &Config, map: &SourceMap) -> Result<(), ConfigError> {
    let printer = &config.printer;
    let upload = &config.upload;
    let triage = &config.triage;
    let ranges: [(&str, u32, RangeInclusive<u32>, &str); 13] = [
        (
            "printer.status_timeout_ms",
            printer.status_timeout_ms,
            STATUS_TIMEOUT_MS,
            "milliseconds",
        ),
        (
            "printer.stall_timeout_seconds",
            printer.stall_timeout_seconds,
            STALL_TIMEOUT_SECONDS,
            "seconds",
        ),
        (
            "printer.band_rows",
            printer.band_rows,
            BAND_ROWS,
            "rows of dots",
        ),
        (
            "upload.every_minutes",
            upload.every_minutes,
            UPLOAD_EVERY_MINUTES,
            "minutes",
        ),
        (
            "upload.max_batch",
            upload.max_batch,
            BATCH_CONCERNS,
            "concerns",
        ),
        (
            "upload.request_timeout_seconds",
            upload.request_timeout_seconds,
            REQUEST_TIMEOUT_SECONDS,
            "seconds",
        ),
        (
            "retention.days_after_upload",
            config.retention.days_after_upload,
            RETENTION_DAYS,
            "days",
        ),
        ("backup.keep", config.backup.keep, BACKUPS_KEPT, "backups"),
        (
            "speech.volume_percent",
            config.speech.volume_percent,
            SPEECH_VOLUME_PERCENT,
            "percent",
        ),
        (
            "speech.rate_wpm",
            config.speech.rate_wpm,
            SPEECH_RATE_WPM,
            "words a minute",
        ),
        ("triage.green.days", triage.green.days, TRIAGE_DAYS, "days"),
        (
            "triage.orange.days",
            triage.orange.days,
            TRIAGE_DAYS,
            "days",
        ),
        (
            "triage.red.follow_up_every_days",
            triage.red.follow_up_every_days,
            TRIAGE_DAYS,
            "days",
        ),
    ];
    for (key, value, range, unit) in ranges {
        if !range.contains(&value) {
            return Err(map.key_error(
                key,
                format!(
                    "is {value}; it must be {} to {} {unit}",
                    range.start(),
                    range.end()
                ),
            ));
        }
    }
    if triage.orange.days <= triage.green.days {
        return Err(map.key_error(
            "triage.orange.days",
            "must be more days than green: orange concerns are the harder ones",
        ));
    }
    if !STANDARD_BAUDS.contains(&printer.baud) {
        return Err(map.key_error(
            "printer.baud",
            format!(
                "must be one of {} (see the printer's self-test page)",
                STANDARD_BAUDS.map(|b| b.to_string()).join(", ")
            ),
        ));
    }
    if !PAPER_WIDTHS_DOTS.contains(&printer.width_dots) {
        return Err(map.key_error(
            "printer.width_dots",
            "must be 384 (58 mm paper) or 576 (80 mm paper)",
        ));
    }
    if printer.kind == PrinterKind::Serial && printer.port.is_none() {
        return Err(map.key_error(
            "printer.port",
            "a serial printer needs its port, e.g. \"/dev/receipt-printer\"",
        ));
    }
    if upload.active_hours.start >= upload.active_hours.end {
        return Err(map.key_error(
            "upload.active_hours",
            "the start must come before the end, e.g. \"07:00-21:00\"",
        ));
    }
    check_speech(config, map)?;
    check_handwriting(config, map)
}

fn check_handwriting(config: &Config, map: &SourceMap) -> Result<(), ConfigError> {
    let handwriting = &config.handwriting;
    let fits = |text: &str| {
        !text.is_empty()
            && text.chars().count() <= MAX_HANDWRITING_PATH_CHARS
            && !text.chars().any(char::is_control)
    };
    if !fits(&handwriting.library) {
        return Err(map.key_error(
            "handwriting.library",
            format!(
                "must be a library name or path of 1 to {MAX_HANDWRITING_PATH_CHARS} characters, e.g. \"libzinnia.so.0\""
            ),
        ));
    }
    let model = handwriting.model.to_string_lossy();
    if !fits(&model) || !handwriting.model.is_absolute() {
        return Err(map.key_error(
            "handwriting.model",
            format!(
                "must be an absolute path of 1 to {MAX_HANDWRITING_PATH_CHARS} characters, e.g. \"/usr/share/tegaki/models/zinnia/handwriting-zh_CN.model\""
            ),
        ));
    }
    Ok(())
}

fn check_speech(config: &Config, map: &SourceMap) -> Result<(), ConfigError> {
    let speech = &config.speech;
    if speech
        .quiet_hours
        .is_some_and(|quiet| quiet.start == quiet.end)
    {
        return Err(map.key_error(
            "speech.quiet_hours",
            "the start and the end are the same time; a window like \"21:00-07:00\" may run past midnight (to be silent all day, set enabled = false)",
        ));
    }
    let device = &speech.device;
    if device.is_empty()
        || device.chars().count() > MAX_ALSA_DEVICE_CHARS
        || !device.chars().all(|c| c.is_ascii_graphic())
    {
        return Err(map.key_error(
            "speech.device",
            format!(
                "must be an ALSA device name of 1 to {MAX_ALSA_DEVICE_CHARS} characters without spaces, as `aplay -L` lists them, e.g. \"default\""
            ),
        ));
    }
    Ok(())
}

/// The categories and places: as many as the screens show, codes and icons well formed and
/// codes unique.
fn check_lists(config: &Config, map: &SourceMap) -> Result<(), ConfigError> {
    if config.categories.is_empty() || config.categories.len() > MAX_CATEGORIES {
        return Err(map.key_error(
            "category",
            format!(
                "there must be between 1 and {MAX_CATEGORIES} categories (the screen shows them all at once)"
            ),
        ));
    }
    if config.places.len() > MAX_PLACES {
        return Err(map.key_error(
            &format!("place[{}]", MAX_PLACES + 1),
            format!(
                "there are {} places; the Where screen shows at most {MAX_PLACES}",
                config.places.len()
            ),
        ));
    }
    for (index, category) in config.categories.iter().enumerate() {
        let key = |leaf: &str| format!("category[{}].{leaf}", index + 1);
        if !is_name(&category.code) {
            return Err(map.key_error(
                &key("code"),
                format!("must be 1 to {MAX_NAME_CHARS} lowercase letters, digits and hyphens"),
            ));
        }
        if let Some(first) = config.categories[..index]
            .iter()
            .position(|c| c.code == category.code)
        {
            return Err(map.key_error(
                &key("code"),
                format!(
                    "`{}` is already the code of category {}; codes must be unique",
                    category.code,
                    first + 1
                ),
            ));
        }
        if !is_name(&category.icon) {
            return Err(map.key_error(
                &key("icon"),
                format!(
                    "must be an icon name: 1 to {MAX_NAME_CHARS} lowercase letters, digits and hyphens"
                ),
            ));
        }
        if category.phrases.is_empty() || category.phrases.len() > MAX_PHRASES_PER_CATEGORY {
            return Err(map.key_error(
                &key("phrases"),
                format!(
                    "has {} phrases; give 1 to {MAX_PHRASES_PER_CATEGORY} (residents pick from them instead of typing)",
                    category.phrases.len()
                ),
            ));
        }
    }
    Ok(())
}

/// Every text the config puts on the screen or the receipt: not blank, not overlong, and with
/// no control or format character (a bidi override shows a number backwards, a zero-width
/// space hides in a label, a control byte reaches the printer).
fn check_texts(config: &Config, map: &SourceMap) -> Result<(), ConfigError> {
    let mut texts: Vec<(String, &str)> = vec![("kiosk.hotline".into(), &config.kiosk.hotline)];
    push_bilingual(&mut texts, "kiosk.community", &config.kiosk.community);
    for (index, place) in config.places.iter().enumerate() {
        push_bilingual(
            &mut texts,
            &format!("place[{}].label", index + 1),
            &place.label,
        );
    }
    for (index, category) in config.categories.iter().enumerate() {
        let key = format!("category[{}]", index + 1);
        push_bilingual(&mut texts, &format!("{key}.label"), &category.label);
        for (phrase_index, phrase) in category.phrases.iter().enumerate() {
            let phrase_key = format!("{key}.phrases[{}]", phrase_index + 1);
            push_bilingual(&mut texts, &phrase_key, phrase);
        }
        if let Some(notice) = &category.emergency_notice {
            push_bilingual(&mut texts, &format!("{key}.emergency_notice"), notice);
        }
    }
    for (key, text) in texts {
        if let Some(problem) = shown_text_problem(text) {
            return Err(map.key_error(&key, problem));
        }
    }
    if let Some(url) = &config.kiosk.tracking_url {
        if let Some(c) = url.chars().find(|&c| crate::concern::is_hidden_char(c)) {
            return Err(map.key_error("kiosk.tracking_url", hidden_char_problem(c)));
        }
    }
    Ok(())
}

fn push_bilingual<'a>(texts: &mut Vec<(String, &'a str)>, key: &str, text: &'a Bilingual) {
    texts.push((format!("{key}.zh"), &text.zh));
    texts.push((format!("{key}.en"), &text.en));
}

/// Why `text` cannot be shown, if it cannot.
fn shown_text_problem(text: &str) -> Option<String> {
    if let Some(c) = text.chars().find(|&c| crate::concern::is_hidden_char(c)) {
        return Some(hidden_char_problem(c));
    }
    if text.trim().is_empty() {
        return Some("is empty; the kiosk would show a blank".into());
    }
    let chars = text.chars().count();
    (chars > MAX_SHOWN_TEXT_CHARS).then(|| {
        format!(
            "has {chars} characters; at most {MAX_SHOWN_TEXT_CHARS} fit the screen and the receipt"
        )
    })
}

fn hidden_char_problem(c: char) -> String {
    format!(
        "holds the invisible character {} (a control or format character, a line or paragraph separator): it would print as garbage or hide or reverse text; delete it",
        visible(&c.to_string())
    )
}

/// A name as uploads, exports and the command line use it: `wanjia-01`, `repairs`.
fn is_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_CHARS
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}
