//! An X server without a screen (Xvfb) for tests that run the real kiosk window: the desktop
//! build draws through winit, exactly as `cargo run` does on a laptop.

use std::io::{BufRead, BufReader};
use std::os::fd::AsRawFd;
use std::process::{Child, Command, Stdio};

/// The kiosk's reference panel, so the window opens at the size it is drawn for.
const SCREEN: &str = "1280x800x24";

/// A running Xvfb; stopped when dropped.
pub struct VirtualDisplay {
    server: Child,
    /// What `DISPLAY` must say, e.g. `:3`.
    pub display: String,
}

impl VirtualDisplay {
    /// Starts Xvfb on a free display number, which Xvfb itself picks and writes to a pipe
    /// (`-displayfd`), so tests running side by side never collide.
    pub fn start() -> VirtualDisplay {
        let (read_end, write_end) = nix::unistd::pipe().expect("a pipe for Xvfb's display number");
        let server = Command::new("Xvfb")
            .args(["-displayfd", &write_end.as_raw_fd().to_string()])
            .args(["-screen", "0", SCREEN, "-nolisten", "tcp"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start Xvfb: install the Debian package xvfb (.ci/run does)");
        drop(write_end);
        let mut number = String::new();
        BufReader::new(std::fs::File::from(read_end))
            .read_line(&mut number)
            .expect("read Xvfb's display number");
        let number = number.trim();
        assert!(
            !number.is_empty() && number.chars().all(|c| c.is_ascii_digit()),
            "Xvfb did not start (it said {number:?})"
        );
        VirtualDisplay {
            server,
            display: format!(":{number}"),
        }
    }
}

impl Drop for VirtualDisplay {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}
