//! Leaving the kiosk on purpose: SIGTERM (systemd stopping or restarting the service) and
//! SIGINT (Ctrl-C on a laptop) end the event loop, after which `run` stops the background
//! tasks at a safe point and the process exits 0.

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
    /// From here on SIGTERM and SIGINT no longer kill the process at once: they end the event
    /// loop (a request that arrives before it runs waits in its queue).
    pub fn listen() -> std::io::Result<ShutdownSignals> {
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
                    let quit = slint::invoke_from_event_loop(|| {
                        if let Err(e) = slint::quit_event_loop() {
                            error!(error = %e, "cannot leave the event loop");
                        }
                    });
                    if let Err(e) = quit {
                        error!(error = %e, "cannot reach the event loop to stop it");
                    }
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
