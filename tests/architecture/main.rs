//! The crate's architecture, as a test: its modules sit in layers and import only downwards
//! (the order is written once here and in the README's map), the office uses only what it
//! shares with the kiosk, and no two submodules of a module import each other in a circle.
//! The checker itself is tested on small made-up source trees, so a rule that could never fail
//! would show.

mod layers;

use std::path::Path;

use layers::{Rules, Violation, check};

/// The layers of `src/`, lowest first: the clock, logs and health board; the domain; the
/// kiosk↔office contract; the page engine; the config; then what keeps concerns, what a receipt
/// says and how a screen is spoken; what prints, exports and uploads them; the supervisor that
/// runs the background tasks; and on top the programs' faces (touch UI, command line, doctor,
/// office); above them only the demo, which runs the kiosk and the office in one process.
const LAYERS: &[&[&str]] = &[
    &["clock", "logging", "health", "display"],
    &["concern"],
    &["protocol"],
    &["paper"],
    &["config"],
    &["store", "receipt", "speech", "input_method"],
    &["summary", "maintenance", "export", "upload"],
    &["printer"],
    &["supervisor", "app"],
    &["ui", "cli", "doctor", "office"],
    &["demo"],
];

/// The office is a separate program that shares only the domain and the contract with the
/// kiosk (and the plumbing for time and logs): nothing of the kiosk's store, config or printer.
const ONLY: &[(&str, &[&str])] = &[("office", &["clock", "logging", "concern", "protocol"])];

const RULES: Rules = Rules {
    layers: LAYERS,
    only: ONLY,
};

#[test]
fn the_crate_imports_only_downwards() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs");
    let violations = check(&root, &RULES).expect("the crate's sources are readable");
    assert!(
        violations.is_empty(),
        "imports that break the layers:\n{}",
        lines(&violations)
    );
}

fn lines(violations: &[Violation]) -> String {
    violations
        .iter()
        .map(|v| format!("  {}", v.0))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A made-up crate: `files` as (path under src/, text).
fn made_up_crate(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().expect("a parent folder")).expect("its folder");
        std::fs::write(path, text).expect("the file");
    }
    dir
}

const SMALL_LAYERS: &[&[&str]] = &[&["domain"], &["store"], &["ui", "office"]];
const SMALL_RULES: Rules = Rules {
    layers: SMALL_LAYERS,
    only: &[("office", &["domain"])],
};

fn violations_of(files: &[(&str, &str)]) -> Vec<String> {
    let dir = made_up_crate(files);
    check(&dir.path().join("lib.rs"), &SMALL_RULES)
        .expect("the made-up crate is readable")
        .into_iter()
        .map(|v| v.0)
        .collect()
}

const LIB: &str = "mod domain; mod store; mod ui; mod office;";

#[test]
fn imports_that_point_down_pass() {
    let found = violations_of(&[
        ("lib.rs", LIB),
        ("domain.rs", "pub struct Ticket;"),
        ("store/mod.rs", "mod rows; use crate::domain::Ticket;"),
        ("store/rows.rs", "use super::super::domain::Ticket;"),
        (
            "ui.rs",
            "use crate::store; fn f() { crate::domain::Ticket; }",
        ),
        ("office.rs", "use crate::domain::{self, Ticket};"),
    ]);
    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn an_import_from_a_layer_above_fails() {
    // The domain reaching up into the store: in a `use` line, in a nested file, in code.
    for (file, text) in [
        ("domain.rs", "use crate::store::Row;"),
        ("domain.rs", "fn f() { let _ = crate::ui::show(); }"),
        ("store/mod.rs", "mod rows; use crate::ui;"),
    ] {
        let mut files = vec![
            ("lib.rs", LIB),
            ("domain.rs", ""),
            ("store/mod.rs", "mod rows;"),
            ("store/rows.rs", ""),
            ("ui.rs", ""),
            ("office.rs", ""),
        ];
        files.retain(|(path, _)| *path != file);
        files.push((file, text));
        let found = violations_of(&files);
        assert_eq!(found.len(), 1, "{file}: {text}: {found:?}");
        assert!(found[0].contains("a layer above"), "{found:?}");
    }
}

#[test]
fn modules_of_one_layer_do_not_import_each_other() {
    let found = violations_of(&[
        ("lib.rs", LIB),
        ("domain.rs", ""),
        ("store.rs", ""),
        ("ui.rs", "use crate::office::Board;"),
        ("office.rs", ""),
    ]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("`ui` imports `office` from its own layer"),
        "{found:?}"
    );
}

#[test]
fn the_office_may_use_only_its_allow_list() {
    let found = violations_of(&[
        ("lib.rs", LIB),
        ("domain.rs", ""),
        ("store.rs", ""),
        ("ui.rs", ""),
        ("office.rs", "use crate::store::Row;"),
    ]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("`office` may use only"), "{found:?}");
}

#[test]
fn test_only_code_and_unlisted_modules() {
    // Test code may reach anywhere; a module the layers do not name is reported.
    let found = violations_of(&[
        (
            "lib.rs",
            "mod domain; mod extra; #[cfg(test)] mod fixtures;",
        ),
        (
            "domain.rs",
            "#[cfg(test)] mod tests { use crate::store; }\n#[cfg(test)] fn t() { crate::ui::x(); }",
        ),
        ("fixtures.rs", "use crate::ui;"),
        ("extra.rs", ""),
    ]);
    assert_eq!(found, ["module `extra` has no place in the layers"]);
}

#[test]
fn submodules_that_import_each_other_in_a_circle_fail() {
    let found = violations_of(&[
        ("lib.rs", "mod domain; mod store; mod ui; mod office;"),
        ("domain.rs", ""),
        ("store.rs", ""),
        ("ui.rs", ""),
        (
            "office/mod.rs",
            "mod routes; mod server; mod state; use state::Office;",
        ),
        ("office/routes.rs", "use super::server::serve;"),
        (
            "office/server.rs",
            "use super::routes::router; use super::state::Office;",
        ),
        ("office/state.rs", ""),
    ]);
    assert_eq!(
        found,
        [
            "submodules import each other in a circle: office::routes -> office::server -> office::routes"
        ]
    );
}
