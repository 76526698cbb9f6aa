//! Unit tests of the loader as a whole: the reference and demo configs load, and each way of
//! getting a value wrong is refused at its line and key.

use std::path::PathBuf;

use super::*;
use crate::concern::{FilingRules, Lang};

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

/// The reference config with the value of its first `key = …` line replaced by `value`, and
/// that line's number.
fn with_value(key: &str, value: &str) -> (String, usize) {
    let is_key = |l: &str| l.split_once('=').is_some_and(|(k, _)| k.trim() == key);
    let line = REFERENCE_CONFIG.lines().position(is_key).unwrap();
    let text: Vec<String> = REFERENCE_CONFIG
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == line {
                format!("{key} = {value}")
            } else {
                l.to_string()
            }
        })
        .collect();
    (text.join("\n"), line + 1)
}

fn parse_with(key: &str, value: &str) -> Result<Config, ConfigError> {
    Config::parse(&with_value(key, value).0, "kiosk.toml")
}

/// Each bound the loader keeps, just outside on either side: the key, its value, and the
/// dotted key the error must name.
const OUT_OF_BOUNDS: [(&str, &str, &str); 34] = [
    ("days_after_upload", "0", "retention.days_after_upload"),
    ("days_after_upload", "3651", "retention.days_after_upload"),
    (
        "days_after_upload",
        "99999999999999",
        "retention.days_after_upload",
    ),
    ("green", "{ days = 0 }", "triage.green.days"),
    ("green", "{ days = 366 }", "triage.green.days"),
    ("orange", "{ days = 366 }", "triage.orange.days"),
    (
        "red",
        "{ follow_up_every_days = 0 }",
        "triage.red.follow_up_every_days",
    ),
    (
        "red",
        "{ follow_up_every_days = 366 }",
        "triage.red.follow_up_every_days",
    ),
    ("every_minutes", "0", "upload.every_minutes"),
    ("every_minutes", "1441", "upload.every_minutes"),
    ("max_batch", "0", "upload.max_batch"),
    ("max_batch", "501", "upload.max_batch"),
    (
        "request_timeout_seconds",
        "0",
        "upload.request_timeout_seconds",
    ),
    (
        "request_timeout_seconds",
        "601",
        "upload.request_timeout_seconds",
    ),
    ("status_timeout_ms", "49", "printer.status_timeout_ms"),
    ("status_timeout_ms", "60001", "printer.status_timeout_ms"),
    (
        "stall_timeout_seconds",
        "0",
        "printer.stall_timeout_seconds",
    ),
    (
        "stall_timeout_seconds",
        "3601",
        "printer.stall_timeout_seconds",
    ),
    ("band_rows", "0", "printer.band_rows"),
    ("band_rows", "256", "printer.band_rows"),
    ("baud", "4294967296", "printer.baud"),
    ("width_dots", "383", "printer.width_dots"),
    ("keep", "0", "backup.keep"),
    ("keep", "91", "backup.keep"),
    ("ticket_prefix", "\"ABCD\"", "kiosk.ticket_prefix"),
    (
        "id",
        "\"wanjia-01-a-kiosk-with-a-very-long-name\"",
        "kiosk.id",
    ),
    ("icon", "\"Broom Icon\"", "category[1].icon"),
    ("volume_percent", "9", "speech.volume_percent"),
    ("volume_percent", "101", "speech.volume_percent"),
    ("rate_wpm", "79", "speech.rate_wpm"),
    ("rate_wpm", "261", "speech.rate_wpm"),
    ("device", "\"plughw:CARD=USB Audio\"", "speech.device"),
    ("library", "\"\"", "handwriting.library"),
    ("model", "\"models/handwriting.model\"", "handwriting.model"),
];

#[test]
fn every_bound_is_kept_on_both_sides_and_named() {
    for (key, value, dotted) in OUT_OF_BOUNDS {
        let (text, line) = with_value(key, value);
        let e = Config::parse(&text, "kiosk.toml").unwrap_err();
        assert_eq!(
            (e.line, e.key.as_deref()),
            (Some(line), Some(dotted)),
            "{key} = {value}: {e}"
        );
    }
}

#[test]
fn the_largest_and_smallest_accepted_values_load() {
    for (key, value) in [
        ("days_after_upload", "3650"),
        ("days_after_upload", "1"),
        ("green", "{ days = 1 }"),
        ("orange", "{ days = 365 }"),
        ("red", "{ follow_up_every_days = 365 }"),
        ("every_minutes", "1440"),
        ("max_batch", "500"),
        ("request_timeout_seconds", "600"),
        ("keep", "90"),
        ("keep", "1"),
        ("band_rows", "255"),
        ("volume_percent", "10"),
        ("volume_percent", "100"),
        ("rate_wpm", "80"),
        ("rate_wpm", "260"),
    ] {
        let config = parse_with(key, value);
        assert!(config.is_ok(), "{key} = {value}: {}", config.unwrap_err());
    }
}

#[test]
fn invisible_characters_in_any_text_the_kiosk_shows_are_refused() {
    for (starts, replacement, key) in [
        (
            "community",
            r#"community = { zh = "万家星城社区", en = "Wanjia\u202E Xingcheng" }"#,
            "kiosk.community.en",
        ),
        ("hotline", r#"hotline = "0571-0000\t0000""#, "kiosk.hotline"),
        (
            "label   = { zh = \"环境卫生\"",
            r#"label   = { zh = "环境\u200B卫生", en = "Cleanliness" }"#,
            "category[1].label.zh",
        ),
        (
            "{ zh = \"垃圾桶满出来了\"",
            r#"{ zh = "垃圾桶满出来了", en = "Bins are\u2028overflowing" },"#,
            "category[1].phrases[2].en",
        ),
        (
            "label = { zh = \"地下车库\"",
            r#"label = { zh = "地下车库\u0085", en = "Underground car park" }"#,
            "place[3].label.zh",
        ),
        (
            "emergency_notice.en",
            r#"emergency_notice.en = "Call 119\u0007""#,
            "category[8].emergency_notice.en",
        ),
        (
            "tracking_url",
            r#"tracking_url = "https://office.example.org/t/\u200B{ticket}""#,
            "kiosk.tracking_url",
        ),
    ] {
        let (e, line) = error_with_line(starts, replacement);
        assert_eq!(
            (e.line, e.key.as_deref()),
            (Some(line), Some(key)),
            "{replacement}: {e}"
        );
    }
}

#[test]
fn an_error_inside_an_array_names_the_entry() {
    let (e, line) = error_with_line(
        "{ zh = \"店门口不打扫\"",
        "{ zh = \"店门口不打扫\", en = 7 },",
    );
    assert_eq!(
        (e.line, e.key.as_deref()),
        (Some(line), Some("category[2].phrases[2].en")),
        "{e}"
    );
    let (e, line) = error_with_line(
        "label = { zh = \"小区大门\"",
        "label = { zh = \"小区大门\" }",
    );
    assert_eq!(
        (e.line, e.key.as_deref()),
        (Some(line), Some("place[2].label")),
        "{e}"
    );
}

/// The tracking URL whose address is exactly as long as the receipt's QR code holds once
/// `{ticket}` is the longest ticket `prefix` can produce (or `{code}` a tracking code), plus
/// `extra` bytes.
fn tracking_url_at_the_limit(prefix: &str, placeholder: &str, extra: usize) -> String {
    let filled = if placeholder == crate::config::CODE_PLACEHOLDER {
        crate::concern::TRACKING_CODE_CHARS
    } else {
        crate::concern::format_ticket(prefix, chrono::NaiveDate::MIN, u32::MAX).len()
    };
    let head = "https://office.example.org/status/";
    let padding = crate::paper::MAX_QR_BYTES + extra - head.len() - 1 - filled;
    format!("{head}{}/{placeholder}", "x".repeat(padding))
}

#[test]
fn a_tracking_url_loads_only_when_the_longest_address_still_prints() {
    for (prefix, placeholder) in [
        ("A", "{ticket}"),
        ("ABC", "{ticket}"),
        ("A", "{code}"),
        ("ABC", "{code}"),
    ] {
        let fits = tracking_url_at_the_limit(prefix, placeholder, 0);
        let text = REFERENCE_CONFIG
            .replacen(
                "ticket_prefix = \"A\"",
                &format!("ticket_prefix = {prefix:?}"),
                1,
            )
            .replacen(
                "\"https://office.example.org/status/{code}\"",
                &format!("{fits:?}"),
                1,
            );
        let config = Config::parse(&text, "kiosk.toml").unwrap();
        // The receipt with the widest ticket number prints in both modes, its QR code full.
        let mut concern = crate::receipt::reference_concern(&config, Lang::ZhCn).unwrap();
        concern.ticket = crate::concern::format_ticket(prefix, chrono::NaiveDate::MIN, u32::MAX);
        let doc = crate::receipt::receipt(&concern, &config);
        let qr_bytes = doc.blocks.iter().find_map(|b| match b {
            crate::paper::Block::Qr(data) => Some(data.as_str().len()),
            _ => None,
        });
        assert_eq!(qr_bytes, Some(crate::paper::MAX_QR_BYTES), "{placeholder}");
        crate::paper::render_raster(&doc).unwrap();
        crate::paper::encode_text(&doc).unwrap();

        let too_long = tracking_url_at_the_limit(prefix, placeholder, 1);
        let text = text.replacen(&format!("{fits:?}"), &format!("{too_long:?}"), 1);
        let e = Config::parse(&text, "kiosk.toml").unwrap_err();
        assert_eq!(e.key.as_deref(), Some("kiosk.tracking_url"), "{e}");
    }
}

#[test]
fn a_tracking_url_with_the_ticket_number_still_loads_with_a_warning_for_doctor() {
    let config = Config::demo().unwrap();
    let url = config.kiosk.tracking_url.unwrap();
    assert_eq!(url, "http://127.0.0.1:8787/status/{code}");
    assert_eq!(crate::config::tracking_url_warning(&url), None);
    let old = "https://office.example.org/t/{ticket}";
    let text = REFERENCE_CONFIG.replacen("https://office.example.org/status/{code}", old, 1);
    let config = Config::parse(&text, "kiosk.toml").unwrap();
    assert_eq!(config.kiosk.tracking_url.as_deref(), Some(old));
    let warning = crate::config::tracking_url_warning(old).unwrap();
    assert!(warning.contains("{code}"), "{warning}");
}

#[test]
fn an_office_on_this_machine_may_use_plain_http() {
    for endpoint in [
        "http://127.0.0.1:8787",
        "http://127.200.0.1:8787/concerns/",
        "http://localhost:8787",
        "http://[::1]:8787",
        "https://office.example.org/concerns/",
    ] {
        let config = parse_with("endpoint", &format!("{endpoint:?}"));
        assert!(config.is_ok(), "{endpoint}: {}", config.unwrap_err());
    }
}

#[test]
fn a_pin_hash_must_be_one_the_staff_menu_can_check() {
    let staff = |hash: &str| {
        let text =
            REFERENCE_CONFIG.replacen("[staff]\n", &format!("[staff]\npin_hash = {hash:?}\n"), 1);
        Config::parse(&text, "kiosk.toml")
    };
    assert!(staff(DEMO_PIN_HASH).is_ok());
    // Four GiB of memory per PIN check would stall or kill the kiosk.
    let greedy = DEMO_PIN_HASH.replace("m=19456", "m=4194304");
    let e = staff(&greedy).unwrap_err();
    assert_eq!(e.key.as_deref(), Some("staff.pin_hash"), "{e}");
}

#[test]
fn a_syntax_error_at_a_key_with_no_name_still_names_it() {
    let e = Config::parse("=[\n", "kiosk.toml").unwrap_err();
    assert_eq!((e.line, e.key.as_deref()), (Some(1), Some("\"\"")), "{e}");
}

/// The 1-based number of the reference config's first line that reads `text`.
fn line_that_reads(text: &str) -> usize {
    REFERENCE_CONFIG
        .lines()
        .position(|l| l == text)
        .unwrap_or_else(|| panic!("no line `{text}` in the reference config"))
        + 1
}

/// The reference config with `added` written in front of its 1-based line `line`.
fn inserted_at(line: usize, added: &str) -> String {
    let mut lines: Vec<&str> = REFERENCE_CONFIG.lines().collect();
    lines.insert(line - 1, added);
    lines.join("\n")
}

/// The reference config with `count` more places after its seventh, and the line of the
/// first one added.
fn with_more_places(count: usize) -> (String, usize) {
    let after = line_that_reads("label = { zh = \"花园小路\", en = \"Garden path\" }") + 1;
    let place = "\n[[place]]\nlabel = { zh = \"篮球场\", en = \"Basketball court\" }";
    (inserted_at(after, &place.repeat(count)), after + 1)
}

#[test]
fn the_reference_config_fills_the_where_screen() {
    let config = Config::parse(REFERENCE_CONFIG, "kiosk.toml").unwrap();
    assert_eq!(config.places.len(), MAX_PLACES);
}

#[test]
fn a_place_beyond_what_the_where_screen_shows_is_refused_at_its_entry() {
    let (text, line) = with_more_places(1);
    let e = Config::parse(&text, "kiosk.toml").unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "kiosk.toml:{line}: key `place[8]`: there are 8 places; the Where screen shows at most 7"
        )
    );
    // However many there are, the first one without a tile is named.
    let (text, line) = with_more_places(3);
    let e = Config::parse(&text, "kiosk.toml").unwrap_err();
    assert_eq!(
        (e.line, e.key.as_deref()),
        (Some(line), Some("place[8]")),
        "{e}"
    );
    assert!(e.problem.starts_with("there are 10 places"), "{e}");
}

#[test]
fn a_category_beyond_what_the_category_screen_shows_is_refused() {
    let first = line_that_reads("[[category]]");
    let eleventh = "[[category]]\ncode    = \"extra\"\nlist    = \"demands\"\n\
                    triage  = \"green\"\nicon    = \"dots\"\n\
                    label   = { zh = \"其他二\", en = \"More\" }\n\
                    phrases = [ { zh = \"别的事\", en = \"Something else\" } ]\n";
    let e = Config::parse(&inserted_at(first, eleventh), "kiosk.toml").unwrap_err();
    assert_eq!(
        (e.line, e.key.as_deref()),
        (Some(first), Some("category")),
        "{e}"
    );
    assert!(
        e.problem
            .contains(&format!("between 1 and {MAX_CATEGORIES} categories")),
        "{e}"
    );
}

#[test]
fn quiet_hours_may_run_past_midnight_but_not_be_empty() {
    use chrono::NaiveTime;
    let at = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
    let text = REFERENCE_CONFIG.replace(
        "# quiet_hours = \"21:00-07:00\"",
        "quiet_hours = \"21:00-07:00\"",
    );
    let quiet = Config::parse(&text, "kiosk.toml")
        .unwrap()
        .speech
        .quiet_hours
        .unwrap();
    assert!(quiet.contains(at(23, 0)) && quiet.contains(at(6, 59)));
    assert!(!quiet.contains(at(7, 0)) && !quiet.contains(at(12, 0)));
    let text = REFERENCE_CONFIG.replace(
        "# quiet_hours = \"21:00-07:00\"",
        "quiet_hours = \"08:00-08:00\"",
    );
    let e = Config::parse(&text, "kiosk.toml").unwrap_err();
    assert_eq!(e.key.as_deref(), Some("speech.quiet_hours"), "{e}");
    assert!(e.to_string().contains("enabled = false"), "{e}");
    // Speech is on by default, at the configured level.
    let speech = Config::parse(REFERENCE_CONFIG, "kiosk.toml")
        .unwrap()
        .speech;
    assert!(speech.enabled && speech.quiet_hours.is_none());
    assert_eq!((speech.volume_percent, speech.rate_wpm), (80, 150));
}
