//! Property tests of the loader: whatever the file holds — arbitrary text, or the reference
//! config with values replaced, keys deleted and tables duplicated — `Config::parse` never
//! panics, every refusal is a `ConfigError` (exit 2) whose message starts `file:line:` when it
//! knows the line, and every config it accepts prints the receipt with the longest ticket.

use std::sync::LazyLock;

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use super::{Config, REFERENCE_CONFIG};
use crate::app::CommandError;
use crate::concern::{Draft, format_ticket};

/// What the file is called in the messages under test.
const FILE: &str = "kiosk.toml";

/// The byte ranges of every value in the reference config that is not a table or an array:
/// the places a structured mutation writes a new value.
static LEAVES: LazyLock<Vec<std::ops::Range<usize>>> = LazyLock::new(|| {
    fn collect(
        value: &toml::Spanned<toml::de::DeValue<'_>>,
        out: &mut Vec<std::ops::Range<usize>>,
    ) {
        match value.get_ref() {
            toml::de::DeValue::Table(table) => {
                for (_, v) in table.iter() {
                    collect(v, out);
                }
            }
            toml::de::DeValue::Array(array) => {
                for v in array.iter() {
                    collect(v, out);
                }
            }
            _ => out.push(value.span()),
        }
    }
    let mut leaves = Vec::new();
    if let Ok(document) = toml::de::DeTable::parse(REFERENCE_CONFIG) {
        for (_, value) in document.get_ref().iter() {
            collect(value, &mut leaves);
        }
    }
    leaves.sort_by_key(|r| r.start);
    leaves
});

/// The byte ranges of the tables of `text`: from each line that starts with `[` to the next.
fn table_blocks(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .filter(|&i| text[i..].starts_with('['))
        .collect();
    starts.push(text.len());
    starts.windows(2).map(|pair| pair[0]..pair[1]).collect()
}

/// A value as it could appear after `key = `: valid TOML of every type, numbers past every
/// bound, and plain garbage.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>().prop_map(|s| toml::Value::String(s).to_string()),
        "\\PC{0,12}".prop_map(|s| toml::Value::String(s).to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        (0u32..5000).prop_map(|n| n.to_string()),
        "[0-9]{10,40}",
        any::<f64>().prop_map(|f| f.to_string()),
        prop::sample::select(vec![
            "true",
            "[]",
            "{}",
            "[\"zh-CN\", \"zh-CN\"]",
            "\"\"",
            "\"zh-CN\"",
            "\"en\"",
            "\"green\"",
            "\"http://office.example.org\"",
            "\"http://127.0.0.1:1\"",
            "\"https://x/{ticket}{ticket}{ticket}\"",
            "\"$argon2id$v=19$m=1,t=1,p=1$$\"",
            "\"00:00-00:00\"",
            "\"24:00\"",
            "\"serial\"",
            "\"raster\"",
            "576",
            "0",
            "-1",
            "1e400",
            "nan",
            "inf",
            "{ zh = \"\", en = \"\" }",
            "{ days = 0 }",
        ])
        .prop_map(str::to_string),
        "\\PC{0,20}",
    ]
}

/// One change to the reference config.
#[derive(Debug, Clone)]
enum Mutation {
    /// Write `value` in place of the `leaf`-th value (modulo their number).
    Replace { leaf: usize, value: String },
    /// Delete the `line`-th line (modulo their number).
    DeleteLine { line: usize },
    /// Repeat the `table`-th table (modulo their number) right after itself: a `[[category]]`
    /// more, or a `[kiosk]` twice.
    DuplicateTable { table: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), value()).prop_map(|(leaf, value)| Mutation::Replace { leaf, value }),
        1 => any::<usize>().prop_map(|line| Mutation::DeleteLine { line }),
        1 => any::<usize>().prop_map(|table| Mutation::DuplicateTable { table }),
    ]
}

/// The reference config with `mutations` applied: the replacements first (from the end, so
/// that earlier spans stay valid), then the line and table changes.
fn mutated(mutations: &[Mutation]) -> String {
    let mut replacements: Vec<(std::ops::Range<usize>, &str)> = mutations
        .iter()
        .filter_map(|m| match m {
            Mutation::Replace { leaf, value } if !LEAVES.is_empty() => {
                Some((LEAVES[leaf % LEAVES.len()].clone(), value.as_str()))
            }
            _ => None,
        })
        .collect();
    replacements.sort_by_key(|(span, _)| std::cmp::Reverse(span.start));
    replacements.dedup_by_key(|(span, _)| span.start);
    let mut text = REFERENCE_CONFIG.to_string();
    for (span, value) in replacements {
        text.replace_range(span, value);
    }
    for m in mutations {
        match m {
            Mutation::Replace { .. } => {}
            Mutation::DeleteLine { line } => {
                let mut lines: Vec<&str> = text.lines().collect();
                if !lines.is_empty() {
                    let index = line % lines.len();
                    lines.remove(index);
                }
                text = lines.join("\n");
            }
            Mutation::DuplicateTable { table } => {
                let tables = table_blocks(&text);
                if !tables.is_empty() {
                    let block = tables[table % tables.len()].clone();
                    let copy = text[block.clone()].to_string();
                    text.insert_str(block.end, &copy);
                }
            }
        }
    }
    text
}

/// The loader on `text`: no panic; a refusal names this file and, when it has a line, a line
/// of the text; an accepted config prints the receipt with the widest ticket number.
fn check_parse(text: &str) -> Result<(), TestCaseError> {
    match Config::parse(text, FILE) {
        Err(error) => {
            let message = error.to_string();
            prop_assert_eq!(&error.file, FILE);
            prop_assert!(!error.problem.trim().is_empty(), "{}", message);
            match error.line {
                Some(line) => {
                    let lines = text.lines().count().max(1) + 1;
                    prop_assert!(
                        (1..=lines).contains(&line),
                        "line {} of {}: {}",
                        line,
                        lines,
                        message
                    );
                    let prefix = format!("{FILE}:{line}: ");
                    prop_assert!(message.starts_with(&prefix), "{}", message);
                }
                None => {
                    let prefix = format!("{FILE}: ");
                    prop_assert!(message.starts_with(&prefix), "{}", message);
                }
            }
            if let Some(key) = &error.key {
                prop_assert!(!key.is_empty() && !key.contains('\n'), "{}", message);
            }
            // What the command line makes of it: exit code 2, bad configuration.
            let exit = CommandError::from(error).exit_code();
            prop_assert_eq!(exit, std::process::ExitCode::from(2), "{}", message);
        }
        Ok(config) => check_works(&config)?,
    }
    Ok(())
}

/// What a loaded config must be able to do: file a preset concern and print its receipt with
/// the widest ticket number the store can issue.
fn check_works(config: &Config) -> Result<(), TestCaseError> {
    let now = chrono::DateTime::parse_from_rfc3339(crate::receipt::REFERENCE_FILED_AT)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    for category in &config.categories {
        let draft = Draft::preset(&category.code, "1", config.default_lang());
        let details = draft
            .validate(config, now)
            .map_err(|e| TestCaseError::fail(format!("{}: {e}", category.code)))?;
        let concern = crate::concern::Concern {
            ticket: format_ticket(&config.kiosk.ticket_prefix, now.date_naive(), u32::MAX),
            details,
        };
        let doc = crate::receipt::receipt(&concern, config);
        crate::paper::render_raster(&doc).map_err(|e| TestCaseError::fail(e.to_string()))?;
        crate::paper::encode_text(&doc).map_err(|e| TestCaseError::fail(e.to_string()))?;
    }
    Ok(())
}

fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    prop::collection::vec(mutation(), 1..5)
}

fn check_mutated(mutations: Vec<Mutation>) -> Result<(), TestCaseError> {
    check_parse(&mutated(&mutations))
}

fn check_text(text: String) -> Result<(), TestCaseError> {
    check_parse(&text)
}

/// Arbitrary text, and text made of TOML's own punctuation so that it often parses.
fn toml_like_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "([\\[\\]{}=,.\"' \n#a-z0-9_-]|kiosk|printer|upload|category|\\[\\[category\\]\\]){0,200}",
    ]
}

proptest! {
    #![proptest_config(crate::property_runs::short())]

    #[test]
    fn the_loader_never_panics_on_a_mutated_reference_config(m in mutations()) {
        check_mutated(m)?;
    }

    #[test]
    fn the_loader_never_panics_on_arbitrary_text(text in toml_like_text()) {
        check_text(text)?;
    }
}

#[test]
#[ignore = "long property run: cargo test -- --ignored"]
fn the_loader_never_panics_on_a_mutated_reference_config_long() {
    crate::property_runs::long("config: mutated reference", mutations(), check_mutated);
}

#[test]
#[ignore = "long property run: cargo test -- --ignored"]
fn the_loader_never_panics_on_arbitrary_text_long() {
    crate::property_runs::long("config: arbitrary text", toml_like_text(), check_text);
}
