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

fn assert_names(text: &str, line: usize, key: &str) {
    let (code, message, file) = doctor_with(text);
    assert_eq!(code, Some(2), "{message}");
    let expected = format!("{file}:{line}: key `{key}`");
    assert!(
        message.contains(&expected),
        "wanted `{expected}` in: {message}"
    );
    assert!(!message.contains("panicked"), "{message}");
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
    assert_names(&text, line, "category.triage");
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
