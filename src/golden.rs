//! Golden files for tests: what the kiosk prints (bytes, previews) pinned in `tests/golden/`, so
//! that a change to a receipt or a summary is seen and reviewed. `UPDATE_GOLDEN=1` rewrites them.

use std::path::{Path, PathBuf};

fn golden_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

/// Compares `actual` with the golden file, or rewrites it under `UPDATE_GOLDEN=1`.
pub fn check_golden(name: &str, actual: &[u8]) {
    let path = golden_path(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().expect("tests/golden has a parent"))
            .expect("create tests/golden");
        std::fs::write(&path, actual).expect("write the golden file");
        return;
    }
    let expected = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run `UPDATE_GOLDEN=1 cargo test --lib` to create it",
            path.display()
        )
    });
    if expected != actual {
        let first = expected
            .iter()
            .zip(actual)
            .position(|(a, b)| a != b)
            .unwrap_or(expected.len().min(actual.len()));
        panic!(
            "{name} differs from its golden file at byte {first} ({} bytes expected, {} made); \
             if the change is intended, rerun with UPDATE_GOLDEN=1 and review the PNG previews",
            expected.len(),
            actual.len()
        );
    }
}
