//! The touch UI: the Slint view (`ui/*.slint`, compiled by build.rs), the controller that owns
//! the resident's draft and the current screen, the background tasks (print queue, uploader)
//! that report back to it, and the headless screenshot renderer.

mod background;
mod controller;
pub mod screenshots;
pub mod staff;
mod wording;

slint::include_modules!();

pub use controller::Controller;

use std::sync::Arc;

use slint::ComponentHandle;

use crate::app::{CommandError, Settings};
use crate::clock::{Clock, SystemClock};

/// `concern-kiosk run`: opens the kiosk window (a desktop window with winit; full screen on the
/// Pi with the `kiosk-linuxkms` feature) and runs until it is closed.
pub fn run(settings: &Settings) -> Result<(), CommandError> {
    let config = settings.config.clone();
    let (store, _) = settings.open_store()?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    // Slint's error says why (no display, no DRM device…); keep it in the one line staff see.
    let window =
        AppWindow::new().map_err(|e| anyhow::anyhow!("cannot open the kiosk window: {e}"))?;
    let tasks = background::start(&config, Arc::clone(&clock), window.as_weak());
    let controller = Controller::new(&window, config, store, clock, tasks.print_wake());
    controller.set_upload(tasks.upload_handle());
    controller.attach();
    window
        .run()
        .map_err(|e| anyhow::anyhow!("the kiosk window failed: {e}"))?;
    drop(controller);
    tasks.stop();
    Ok(())
}
