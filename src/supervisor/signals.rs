//! Leaving the kiosk on purpose: SIGTERM (systemd stopping or restarting the service) and
//! SIGINT (Ctrl-C on a laptop) tell systemd the kiosk is stopping and hand the request to the
//! program (the window ends its event loop), which then stops the background tasks at a safe
//! point and exits 0.

use std::thread::JoinHandle;

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::{Handle, Signals};
use tracing::{error, info};

use crate::health;

/// Listens for SIGTERM and SIGINT until `close`.
pub struct ShutdownSignals {
    handle: Handle,
    thread: Option<JoinHandle<()>>,
}

impl ShutdownSignals {
    /// From here on SIGTERM and SIGINT no longer kill the process at once: each calls
    /// `stop_requested` on the signal thread instead.
    pub fn listen(stop_requested: impl Fn() + Send + 'static) -> std::io::Result<ShutdownSignals> {
        let mut signals = Signals::new([SIGTERM, SIGINT])?;
        let handle = signals.handle();
        let thread = std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || {
                for signal in signals.forever() {
                    info!(
                        signal,
                        "asked to stop: finishing the current work, then exiting"
                    );
                    health::notify_stopping();
                    stop_requested();
                }
            })?;
        Ok(ShutdownSignals {
            handle,
            thread: Some(thread),
        })
    }

    pub fn close(mut self) {
        self.handle.close();
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            error!("the signal thread panicked");
        }
    }
}
