//! Where the programs' logs go, for the kiosk and the office alike: stderr (journald on the
//! appliance), so that stdout stays for what scripts read.

use std::io::IsTerminal;

/// Logs go to stderr (journald on the appliance); stdout is kept for what scripts read.
/// `RUST_LOG` overrides the default level.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .without_time()
        .with_target(false)
        .init();
}
