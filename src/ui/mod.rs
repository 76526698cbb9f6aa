//! The touch UI: the Slint view (`ui/*.slint`, compiled by build.rs), the controller that owns
//! the resident's draft and the current screen, the background tasks (print queue, uploader)
//! that report back to it, the kiosk's life cycle under systemd, and the headless screenshot
//! renderer.

mod background;
mod controller;
pub mod screenshots;
mod shutdown;
pub mod staff;
mod wording;

slint::include_modules!();

pub use controller::Controller;

use std::sync::Arc;
use std::time::Duration;

use slint::ComponentHandle;

use crate::app::{CommandError, Settings};
use crate::clock::{Clock, SystemClock};
use crate::health::{self, HealthBoard, Heartbeat, Task, Watchdog};
use shutdown::ShutdownSignals;

/// `concern-kiosk run`: opens the kiosk window (a desktop window with winit; full screen on the
/// Pi with the `kiosk-linuxkms` feature) and runs until it is closed or told to stop (SIGTERM,
/// SIGINT), then stops the background tasks at a safe point and returns.
pub fn run(settings: &Settings) -> Result<(), CommandError> {
    let config = settings.config.clone();
    let (store, _) = settings.open_store()?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    // Slint's error says why (no display, no DRM device…); keep it in the one line staff see.
    let window =
        AppWindow::new().map_err(|e| anyhow::anyhow!("cannot open the kiosk window: {e}"))?;
    // Only now: the signal thread reaches the event loop through the backend the window has
    // just created; before it, a signal would make Slint start a backend on the wrong thread.
    // (A SIGTERM before this point ends the process the default way; nothing is under way.)
    let signals =
        ShutdownSignals::listen().map_err(|e| anyhow::anyhow!("cannot listen for SIGTERM: {e}"))?;
    let health = HealthBoard::new();
    let tasks = background::start(&config, Arc::clone(&clock), window.as_weak(), &health);
    let controller = Controller::new(&window, config.clone(), store, clock, tasks.print_wake());
    controller.set_upload(tasks.upload_handle());
    controller.attach();
    let _ui_liveness = report_ui_liveness(&window, health.register(Task::UiLoop));
    let watchdog = Watchdog::start(Arc::clone(&health), health::silence_limit(&config));
    let ran = window.run();
    drop(controller);
    tasks.stop();
    if let Some(watchdog) = watchdog {
        watchdog.stop();
    }
    signals.close();
    ran.map_err(|e| anyhow::anyhow!("the kiosk window failed: {e}"))?;
    Ok(())
}

/// How often the UI loop reports in: a timer only fires while the event loop turns, so a UI
/// thread stuck in a call stops it.
const UI_REPORT_EVERY: Duration = Duration::from_secs(1);

/// Reports the UI loop in every second, and tells systemd READY at the first report that finds
/// the window shown: the loop has then turned at least once with the window up, which is when
/// its first frame is drawn (the software renderer offers no frame callback to wait for).
fn report_ui_liveness(window: &AppWindow, heartbeat: Heartbeat) -> slint::Timer {
    let timer = slint::Timer::default();
    let window = window.as_weak();
    let mut ready_sent = false;
    timer.start(slint::TimerMode::Repeated, UI_REPORT_EVERY, move || {
        heartbeat.beat();
        if !ready_sent && window.upgrade().is_some_and(|w| w.window().is_visible()) {
            ready_sent = true;
            health::notify_ready();
        }
    });
    timer
}
