//! The office's files on disk: the database (it holds residents' phone numbers) and its WAL and
//! shared-memory files are readable by the office's user alone, whatever the umask; a tokens
//! file that others may read stops the office at start; a tokens line it cannot read is named
//! by file and line, never quoted.

mod office_support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use concern_kiosk::office::{Office, TokenTable};
use office_support::*;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

fn with_suffix(db: &Path, suffix: &str) -> std::path::PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(suffix);
    name.into()
}

#[tokio::test]
async fn the_database_its_wal_and_shm_are_private_whatever_the_umask() {
    // The most permissive umask there is: every mode the office gets, it set itself. This is
    // the only test in this file that creates a database, so the process-wide umask cannot
    // surprise another.
    nix::sys::stat::umask(nix::sys::stat::Mode::empty());
    let office = TestOffice::start().await;
    office
        .upload(TOKEN_A, &batch(KIOSK_A, vec![noise_concern(0)]))
        .await;
    let db = office.db_file().to_path_buf();
    for path in [
        db.clone(),
        with_suffix(&db, "-wal"),
        with_suffix(&db, "-shm"),
    ] {
        assert_eq!(mode(&path), 0o600, "{}", path.display());
    }

    // A database with its WAL and shared memory left readable by everyone, as an older office
    // that lost its power would have left them: copied while a writer still held them.
    let crashed = tempfile::tempdir().unwrap();
    let old = crashed.path().join("office.db");
    let writer = rusqlite::Connection::open(&db).unwrap();
    writer
        .execute_batch("PRAGMA wal_autocheckpoint = 0; UPDATE batches SET kiosk_id = kiosk_id;")
        .unwrap();
    for suffix in ["", "-wal", "-shm"] {
        let copy = with_suffix(&old, suffix);
        std::fs::copy(with_suffix(&db, suffix), &copy).unwrap();
        std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    assert!(std::fs::metadata(with_suffix(&old, "-wal")).unwrap().len() > 0);
    let tokens = TokenTable::parse(TOKENS_FILE, "tokens").unwrap();
    let reopened = Office::open(&old, tokens).unwrap();
    reopened.db().concerns(None).await.unwrap();
    for path in [
        old.clone(),
        with_suffix(&old, "-wal"),
        with_suffix(&old, "-shm"),
    ] {
        assert_eq!(mode(&path), 0o600, "{}", path.display());
    }
}

fn serve_with_tokens(dir: &Path, tokens: &Path) -> (Option<i32>, String) {
    serve_and_wait(dir.join("office.db").as_os_str(), tokens, &[])
}

#[test]
fn a_tokens_file_others_may_read_stops_the_office_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("office-tokens");
    std::fs::write(&tokens, TOKENS_FILE).unwrap();
    for readable in [0o644, 0o640, 0o604] {
        std::fs::set_permissions(&tokens, std::fs::Permissions::from_mode(readable)).unwrap();
        let (code, stderr) = serve_with_tokens(dir.path(), &tokens);
        assert_eq!(code, Some(2), "mode {readable:o}: {stderr}");
        assert!(
            stderr.contains(&format!("{}: ", tokens.display())) && stderr.contains("chmod 600"),
            "{stderr}"
        );
        assert!(!stderr.contains(TOKEN_A), "{stderr}");
        assert!(!dir.path().join("office.db").exists(), "nothing created");
    }
}

#[test]
fn a_malformed_tokens_line_is_named_but_its_token_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("office-tokens");
    let secret = "a-secret-token-value-0123456789";
    let cases = [
        // Fields swapped: the token stands where the kiosk id should.
        format!("{secret} wanjia-01\n"),
        format!("wanjia-01 {secret} extra\n"),
        format!("{secret}\n"),
        format!("Wanjia-01 {secret}\n"),
        format!("wanjia-01 {secret}\nwanjia-02 {secret}\n"),
        format!("wanjia-01 {secret}\u{7}\n"),
    ];
    for text in cases {
        std::fs::write(&tokens, &text).unwrap();
        std::fs::set_permissions(&tokens, std::fs::Permissions::from_mode(0o600)).unwrap();
        let message = TokenTable::load(&tokens).unwrap_err().to_string();
        assert!(
            message.starts_with(&format!("{}:", tokens.display())),
            "{message}"
        );
        assert!(!message.contains(secret), "{message}");
        let (code, stderr) = serve_with_tokens(dir.path(), &tokens);
        assert_eq!(code, Some(2), "{stderr}");
        assert!(!stderr.contains(secret), "{stderr}");
    }
}
