//! The touch UI: the Slint view (`ui/*.slint`, compiled by build.rs), the controller that owns
//! the resident's draft and the current screen and what is said aloud, the window's life under
//! the supervisor (the background tasks report printer status back to the controller), and
//! the headless screenshot renderer.

mod controller;
pub mod screenshots;
pub mod staff;
mod wording;

slint::include_modules!();

pub use controller::Controller;

use std::sync::Arc;
use std::time::Duration;

use slint::ComponentHandle;

use crate::app::{CommandError, Settings};
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::display;
use crate::health::{self, Heartbeat, Task};
use crate::input_method::{HandwritingReader, Recognized, start_reader};
use crate::printer::PrinterStatus;
use crate::speech::{Speaker, Spoken, start_speaker};
use crate::supervisor::{ShutdownSignals, Supervisor};

/// How long the UI loop may go without reporting in before the kiosk counts as stuck. One tap's
/// work is bounded by SQLite's 5 s wait for another writer; a screen frozen for half a minute
/// is broken for the resident in front of it, so systemd restarts it then.
pub const UI_SILENCE_LIMIT: Duration = Duration::from_secs(30);

/// `concern-kiosk run`: opens the kiosk window (a desktop window with winit; full screen on the
/// Pi with the `kiosk-linuxkms` feature) and runs until it is closed or told to stop (SIGTERM,
/// SIGINT), then stops the background tasks at a safe point and returns.
pub fn run(settings: &Settings) -> Result<(), CommandError> {
    let config = settings.config.clone();
    let (store, _) = settings.open_store()?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    log_display();
    // Slint's error says why (no display, no DRM device…); keep it in the one line staff see.
    let window =
        AppWindow::new().map_err(|e| anyhow::anyhow!("cannot open the kiosk window: {e}"))?;
    // Only now: the signal thread reaches the event loop through the backend the window has
    // just created; before it, a signal would make Slint start a backend on the wrong thread.
    // (A SIGTERM before this point ends the process the default way; nothing is under way.)
    let signals = ShutdownSignals::listen(quit_event_loop)
        .map_err(|e| anyhow::anyhow!("cannot listen for SIGTERM: {e}"))?;
    let supervisor = Supervisor::start(&config, Arc::clone(&clock), Arc::new(show_printer_status));
    let controller = Controller::new(
        &window,
        config.clone(),
        store,
        clock,
        supervisor.print_wake(),
    );
    controller.set_upload(supervisor.upload_handle());
    controller.set_speaker(start_speaking(&config));
    controller.set_handwriting(start_handwriting(&config));
    controller.attach();
    let _ui_liveness = report_ui_liveness(supervisor.register(Task::UiLoop, UI_SILENCE_LIMIT));
    notify_ready_after_first_frame(&window);
    let ran = window.run();
    drop(controller);
    supervisor.stop();
    signals.close();
    ran.map_err(|e| anyhow::anyhow!("the kiosk window failed: {e}"))?;
    Ok(())
}

/// The kiosk's voice, or none (and why, in the log): the kiosk works silent all the same.
fn start_speaking(config: &Config) -> Option<Speaker> {
    let report = Box::new(|spoken: Spoken| match spoken {
        Spoken::Failed { error, .. } => tracing::warn!(%error, "a prompt was not spoken"),
        Spoken::Whole { .. } | Spoken::CutShort { .. } => {}
    });
    match start_speaker(config, &config.kiosk.data_dir, report) {
        Ok(speaker) => {
            tracing::info!("speech on");
            Some(speaker)
        }
        Err(off) => {
            tracing::warn!(reason = %off, "speech off");
            None
        }
    }
}

/// The handwriting recognizer, loading its model in the background, or none (and why, in the
/// log): the kiosk works without "Write it yourself" all the same.
fn start_handwriting(config: &Config) -> Option<HandwritingReader> {
    let report = Box::new(|recognized: Recognized| {
        // The window may be gone while the thread ends; nobody to tell then.
        let _ = slint::invoke_from_event_loop(move || {
            Controller::with_current(|c| c.handwriting_recognized(recognized));
        });
    });
    start_reader(config, report)
        .inspect_err(|off| tracing::warn!(reason = %off, "handwriting off"))
        .ok()
}

/// Which screen the full-screen backend will draw on, so a black screen can be explained from
/// the journal (a desktop window needs no such line).
fn log_display() {
    if !std::env::var("SLINT_BACKEND").is_ok_and(|backend| backend.starts_with("linuxkms")) {
        return;
    }
    match display::describe_this_machine() {
        Ok(line) => tracing::info!(display = %line, "full-screen display"),
        Err(problem) => tracing::warn!(%problem, "full-screen display"),
    }
}

/// Ends the event loop from the signal thread (a request that arrives before it runs waits in
/// its queue).
fn quit_event_loop() {
    let quit = slint::invoke_from_event_loop(|| {
        if let Err(e) = slint::quit_event_loop() {
            tracing::error!(error = %e, "cannot leave the event loop");
        }
    });
    if let Err(e) = quit {
        tracing::error!(error = %e, "cannot reach the event loop to stop it");
    }
}

/// Shows a status the print task saw on the screen (Done, the staff menu).
fn show_printer_status(status: PrinterStatus) {
    // The window may be gone while the task stops; nobody to tell then.
    let _ = slint::invoke_from_event_loop(move || {
        Controller::with_current(|c| c.printer_status_changed(status));
    });
}

/// How often the UI loop reports in: a timer only fires while the event loop turns, so a UI
/// thread stuck in a call stops it.
const UI_REPORT_EVERY: Duration = Duration::from_secs(1);

/// Reports the UI loop in every second.
fn report_ui_liveness(heartbeat: Heartbeat) -> slint::Timer {
    let timer = slint::Timer::default();
    timer.start(slint::TimerMode::Repeated, UI_REPORT_EVERY, move || {
        heartbeat.beat();
    });
    timer
}

/// Tells systemd READY once the first frame is drawn. Each turn of the event loop fires the
/// due timers and then draws what changed (the software renderer offers no frame callback), so
/// a zero-delay timer fires in the first turn, before its frame, and one started from it fires
/// in the second turn, after it. Waiting for the first heartbeat instead held READY back a
/// whole second, every boot.
fn notify_ready_after_first_frame(window: &AppWindow) {
    let window = window.as_weak();
    slint::Timer::single_shot(Duration::ZERO, move || {
        slint::Timer::single_shot(Duration::ZERO, move || {
            if window.upgrade().is_some_and(|w| w.window().is_visible()) {
                health::notify_ready();
            }
        });
    });
}
