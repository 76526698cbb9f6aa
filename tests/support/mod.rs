//! What the end-to-end tests share: a kiosk config in a temporary data folder and a way to run
//! the real `concern-kiosk` binary against it.

#![allow(dead_code)] // each test file uses its own part of this module

pub mod board_http;
pub mod display;
pub mod fault_proxy;
pub mod freeze;
pub mod handwriting_samples;
pub mod kiosk_screen;
pub mod office;
pub mod printer_emulator;
pub mod recording_sink;
pub mod systemd_notify;
pub mod tls_front;
pub mod vm;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The reference appliance config, as the kiosk ships it.
pub const REFERENCE_CONFIG: &str = include_str!("../../firmware-config/kiosk.toml");

/// A kiosk with its own data folder and config file, run through the real binary.
pub struct TestKiosk {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
}

impl TestKiosk {
    /// The reference config with its data in a temporary folder and receipts spooled to files.
    pub fn new() -> TestKiosk {
        let dir = tempfile::tempdir().expect("temporary folder");
        let data_dir = dir.path().join("data");
        let text = with_key(
            REFERENCE_CONFIG,
            "data_dir",
            &format!("{:?}", data_dir.display().to_string()),
        );
        let text = with_key(&text, "kind", "\"spool\"");
        let config = dir.path().join("kiosk.toml");
        std::fs::write(&config, text).expect("write the config");
        TestKiosk { dir, config }
    }

    /// The reference config with a serial printer at `port` printing in `mode` (text | raster).
    pub fn with_serial_printer(port: &Path, mode: &str) -> TestKiosk {
        let kiosk = TestKiosk::new();
        let text = std::fs::read_to_string(&kiosk.config).expect("read the config");
        let text = with_key(&text, "kind", "\"serial\"");
        let text = with_key(&text, "port", &format!("{:?}", port.display().to_string()));
        let text = with_key(&text, "mode", &format!("{mode:?}"));
        std::fs::write(&kiosk.config, text).expect("write the config");
        kiosk
    }

    /// Makes the kiosk print in `mode` (text | raster) on a serial printer at a port in its own
    /// folder, where the test plugs the emulator in; returns the port's path.
    pub fn print_on_serial_port(&self, mode: &str) -> PathBuf {
        let port = self.dir.path().join("receipt-printer");
        self.set_key("kind", "\"serial\"");
        self.set_key("port", &format!("{:?}", port.display().to_string()));
        self.set_key("mode", &format!("{mode:?}"));
        port
    }

    /// Points the kiosk's uploads at `endpoint` with a private token file holding `token`.
    pub fn upload_to(&self, endpoint: &str, token: &str) {
        use std::os::unix::fs::PermissionsExt;
        let token_file = self.dir.path().join("office-token");
        std::fs::write(&token_file, format!("{token}\n")).expect("write the token");
        std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o600))
            .expect("make the token private");
        self.set_key("endpoint", &format!("{endpoint:?}"));
        self.set_key(
            "token_file",
            &format!("{:?}", token_file.display().to_string()),
        );
    }

    /// Sets one key of the kiosk's config file (its first occurrence).
    pub fn set_key(&self, key: &str, value: &str) {
        let text = std::fs::read_to_string(&self.config).expect("read the config");
        std::fs::write(&self.config, with_key(&text, key, value)).expect("write the config");
    }

    /// The config as the kiosk loads it, for tests that drive the library directly.
    pub fn load_config(&self) -> concern_kiosk::config::Config {
        concern_kiosk::config::Config::load_file(&self.config).expect("the test config loads")
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn db_path(&self) -> PathBuf {
        self.data_dir().join("concerns.db")
    }

    /// `concern-kiosk --config <this kiosk's file> ARGS…`, not yet started.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_concern-kiosk"));
        command
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .env_remove("CONCERN_KIOSK_CONFIG")
            .env("RUST_LOG", "warn");
        command
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run concern-kiosk")
    }
}

/// A small deterministic pseudo-random sequence for kill timings: a test must be repeatable,
/// not clever.
pub struct Lcg(pub u64);

impl Lcg {
    /// The next number below `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n.max(1)
    }
}

/// SIGKILLs a child if it is still running (a power cut, as far as the child can tell);
/// returns whether it was killed rather than already finished.
pub fn kill_if_running(child: &mut std::process::Child) -> bool {
    if child.try_wait().expect("look at the child").is_some() {
        return false;
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .expect("kill the child");
    true
}

/// Replaces the value of the first `key = …` line (at any indentation) in a TOML text.
pub fn with_key(text: &str, key: &str, value: &str) -> String {
    let mut done = false;
    text.lines()
        .map(|line| {
            let is_key = line
                .trim_start()
                .split_once('=')
                .is_some_and(|(k, _)| k.trim() == key);
            if is_key && !done {
                done = true;
                format!("{key} = {value}")
            } else {
                line.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The 1-based line of the first `key = …` line in a TOML text.
pub fn line_of_key(text: &str, key: &str) -> usize {
    text.lines()
        .position(|line| {
            line.trim_start()
                .split_once('=')
                .is_some_and(|(k, _)| k.trim() == key)
        })
        .expect("key present")
        + 1
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Opens the kiosk's database read-only, as an auditor would.
pub fn open_db(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("open the kiosk database")
}
