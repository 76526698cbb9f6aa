//! Every way a config file can be wrong ends the same way for the maintainer: exit code 2 and
//! one message naming the file, the line and the key, never a panic.

mod support;

use support::{REFERENCE_CONFIG, TestKiosk, line_of_key, stderr, with_key};

/// Runs `doctor` on the given config text and returns (exit code, stderr, config path).
fn doctor_with(text: &str) -> (Option<i32>, String, String) {
    let kiosk = TestKiosk::new();
    std::fs::write(&kiosk.config, text).unwrap();
    let output = kiosk.run(&["doctor"]);
    (
        output.status.code(),
        stderr(&output),
        kiosk.config.display().to_string(),
    )
}

/// Runs `doctor` on `text`, checks that it exits 2 naming `key` at `line` without a panic, and
/// returns its stderr.
fn assert_names(text: &str, line: usize, key: &str) -> String {
    let (code, message, file) = doctor_with(text);
    assert_eq!(code, Some(2), "{message}");
    let expected = format!("{file}:{line}: key `{key}`");
    assert!(
        message.contains(&expected),
        "wanted `{expected}` in: {message}"
    );
    assert!(!message.contains("panicked"), "{message}");
    message
}

#[test]
fn unknown_key() {
    let text = REFERENCE_CONFIG.replacen("baud ", "baud_rate ", 1);
    assert_names(
        &text,
        line_of_key(REFERENCE_CONFIG, "baud"),
        "printer.baud_rate",
    );
}

#[test]
fn wrong_type() {
    let text = with_key(REFERENCE_CONFIG, "max_batch", "\"a hundred\"");
    assert_names(
        &text,
        line_of_key(REFERENCE_CONFIG, "max_batch"),
        "upload.max_batch",
    );
}

#[test]
fn duplicate_category_code() {
    let text = REFERENCE_CONFIG.replacen("code    = \"noise\"", "code    = \"parking\"", 1);
    assert_ne!(
        text, REFERENCE_CONFIG,
        "the reference config changed its layout"
    );
    let line = REFERENCE_CONFIG
        .lines()
        .position(|l| l.contains("\"noise\""))
        .unwrap()
        + 1;
    assert_names(&text, line, "category[5].code");
}

#[test]
fn empty_phrase_list() {
    let start = REFERENCE_CONFIG.find("phrases = [").unwrap();
    let end = start + REFERENCE_CONFIG[start..].find("\n]").unwrap() + 2;
    let text = format!(
        "{}phrases = []{}",
        &REFERENCE_CONFIG[..start],
        &REFERENCE_CONFIG[end..]
    );
    let line = REFERENCE_CONFIG[..start].lines().count() + 1;
    assert_names(&text, line, "category[1].phrases");
}

#[test]
fn category_colour_that_does_not_exist() {
    let text = REFERENCE_CONFIG.replacen("triage  = \"green\"", "triage  = \"purple\"", 1);
    assert_ne!(
        text, REFERENCE_CONFIG,
        "the reference config changed its layout"
    );
    let line = REFERENCE_CONFIG
        .lines()
        .position(|l| l.starts_with("triage  = \"green\""))
        .unwrap()
        + 1;
    let (code, message, _) = doctor_with(&text);
    assert_eq!(code, Some(2));
    assert!(message.contains("purple"), "{message}");
    // Named like every other array entry, so the maintainer knows which of ten categories.
    assert_names(&text, line, "category[1].triage");
}

#[test]
fn broken_toml_syntax() {
    let text = with_key(REFERENCE_CONFIG, "every_minutes", "30 minutes");
    assert_names(
        &text,
        line_of_key(REFERENCE_CONFIG, "every_minutes"),
        "upload.every_minutes",
    );
}

#[test]
fn a_named_file_that_does_not_exist() {
    let kiosk = TestKiosk::new();
    let missing = kiosk.dir.path().join("nowhere.toml");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_concern-kiosk"))
        .arg("--config")
        .arg(&missing)
        .arg("doctor")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains(&missing.display().to_string()),
        "{message}"
    );
    assert!(message.contains("No such file"), "{message}");
}

#[test]
fn the_environment_variable_names_the_file_too() {
    let kiosk = TestKiosk::new();
    let missing = kiosk.dir.path().join("from-env.toml");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_concern-kiosk"))
        .arg("doctor")
        .env("CONCERN_KIOSK_CONFIG", &missing)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("from-env.toml"));
}

#[test]
fn an_unreadable_file() {
    // Root reads any file whatever its mode, so "unreadable" is made of bytes that are not text
    // and of a folder where the file should be.
    let kiosk = TestKiosk::new();
    std::fs::write(&kiosk.config, b"[kiosk]\nid = \"\xff\xfe\"\n").unwrap();
    let output = kiosk.run(&["doctor"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("cannot read the config file"),
        "{}",
        stderr(&output)
    );

    std::fs::remove_file(&kiosk.config).unwrap();
    std::fs::create_dir(&kiosk.config).unwrap();
    let output = kiosk.run(&["doctor"]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains(&kiosk.config.display().to_string()),
        "{message}"
    );
}

#[test]
fn a_tracking_url_with_the_ticket_number_loads_and_doctor_warns() {
    let kiosk = TestKiosk::new();
    kiosk.set_key("tracking_url", "\"https://office.example.org/t/{ticket}\"");
    let output = kiosk.run(&["doctor"]);
    assert_ne!(output.status.code(), Some(2), "{}", stderr(&output));
    let report = support::stdout(&output);
    let line = report
        .lines()
        .find(|l| l.contains("tracking url"))
        .unwrap_or_else(|| panic!("no tracking url line in {report}"));
    assert!(
        line.starts_with("WARN") && line.contains("{code}") && line.contains("{ticket}"),
        "{line}"
    );
    // The reference file's {code} passes without a word.
    let kiosk = TestKiosk::new();
    let report = support::stdout(&kiosk.run(&["doctor"]));
    assert!(!report.contains("tracking url"), "{report}");
}

/// The longest ticket number the reference prefix `A` can produce: the widest sequence a ticket
/// can carry is a `u32`.
const LONGEST_TICKET_WITH_PREFIX_A: &str = "A1231-4294967295";

#[test]
fn a_tracking_url_too_long_for_the_receipts_qr_code() {
    // Fits with today's three-digit tickets, but not once the day's number grows: the receipt
    // would fail on the day it does.
    let holds = concern_kiosk::paper::MAX_QR_BYTES;
    let head = "https://office.example.org/t/";
    let padding = "x".repeat(holds + 1 - head.len() - LONGEST_TICKET_WITH_PREFIX_A.len() - 1);
    let url = format!("{head}{padding}/{{ticket}}");
    assert!(url.replace("{ticket}", "A1126-001").len() <= holds);
    let text = with_key(REFERENCE_CONFIG, "tracking_url", &format!("{url:?}"));
    let message = assert_names(
        &text,
        line_of_key(REFERENCE_CONFIG, "tracking_url"),
        "kiosk.tracking_url",
    );
    assert!(message.contains(LONGEST_TICKET_WITH_PREFIX_A), "{message}");
    assert!(message.contains(&format!("{holds}")), "{message}");
}

/// The reference config with `key` set to each of `values` (as TOML): each must be refused at
/// the key's line, naming it `dotted`. Returns the messages.
fn refusals_of<const N: usize>(key: &str, values: [&str; N], dotted: &str) -> Vec<String> {
    let line = line_of_key(REFERENCE_CONFIG, key);
    values
        .iter()
        .map(|value| assert_names(&with_key(REFERENCE_CONFIG, key, value), line, dotted))
        .collect()
}

#[test]
fn an_upload_endpoint_that_is_not_an_http_address() {
    refusals_of(
        "endpoint",
        [
            r#""office.example.org/concerns""#,
            r#""ftp://office.example.org/concerns""#,
            r#""https://""#,
            r#""file:///etc/passwd""#,
            r#""https://office.example.org/concerns?kiosk=1""#,
            r#""""#,
        ],
        "upload.endpoint",
    );
}

#[test]
fn plain_http_to_an_office_that_is_not_on_this_machine() {
    let messages = refusals_of(
        "endpoint",
        [
            r#""http://office.example.org/concerns""#,
            r#""http://192.168.1.20:8787""#,
            r#""http://[2001:db8::1]:8787""#,
            r#""http://localhost.example.org""#,
        ],
        "upload.endpoint",
    );
    for message in messages {
        assert!(message.contains("use https://"), "{message}");
    }
}

#[test]
fn a_staff_pin_hash_that_is_not_an_argon2_hash() {
    let line = REFERENCE_CONFIG
        .lines()
        .position(|l| l == "[staff]")
        .unwrap()
        + 2;
    for hash in [
        "2468",
        "$argon2id$v=19$m=19456,t=2,p=1$",
        "$argon2id$v=19$m=19456,t=2,p=1$ZGVtby1raW9zay1zYWx0",
        "$pbkdf2-sha256$i=1000$ZGVtby1raW9zay1zYWx0$NQe5E9FDswuMZoFZKiFiB6lnO92jPYcu4BdHo37XTNU",
    ] {
        let text =
            REFERENCE_CONFIG.replacen("[staff]\n", &format!("[staff]\npin_hash = {hash:?}\n"), 1);
        assert_names(&text, line, "staff.pin_hash");
    }
}

#[test]
fn retention_of_no_days_or_of_centuries() {
    refusals_of(
        "days_after_upload",
        ["0", "3651", "4294967295"],
        "retention.days_after_upload",
    );
}

#[test]
fn a_hotline_with_invisible_characters() {
    // A bell, a right-to-left override that shows the number backwards, a zero-width space.
    refusals_of(
        "hotline",
        [
            r#""0571\u0007""#,
            r#""0571-\u202E0000""#,
            r#""0571\u200B-0000""#,
        ],
        "kiosk.hotline",
    );
}

#[test]
fn a_language_listed_twice() {
    let messages = refusals_of(
        "languages",
        [r#"["zh-CN", "en", "zh-CN"]"#],
        "kiosk.languages",
    );
    assert!(messages[0].contains("`zh-CN` twice"), "{messages:?}");
}

#[test]
fn a_file_far_larger_than_any_config() {
    // A log or an image named by mistake: read whole, it would take the board's memory. Here it
    // is the reference config followed by two megabytes of comments, which would otherwise load.
    let padding = "# padding\n".repeat(200 * 1024);
    let (code, message, file) = doctor_with(&format!("{REFERENCE_CONFIG}\n{padding}"));
    assert_eq!(code, Some(2), "{message}");
    assert!(message.contains(&file), "{message}");
    assert!(message.contains("at most 1 MiB"), "{message}");
}
