//! The kiosk's supervisor: starts the background tasks (print queue, uploader, nightly
//! maintenance), keeps the health board they report in to and the systemd watchdog that reads
//! it, and stops them all at a safe point. The window (`ui::run`) and the command line
//! (`concern-kiosk upload`) both run their background work through it.

mod signals;
mod tasks;

use std::sync::Arc;
use std::sync::mpsc::SyncSender;
use std::time::Duration;

use crate::clock::Clock;
use crate::config::Config;
use crate::health::{HealthBoard, Heartbeat, Task, Watchdog};
use crate::upload::schedule::UploadHandle;

pub use signals::ShutdownSignals;
pub use tasks::{PrinterStatusObserver, TASKS_ASKED_TO_STOP, upload_until};

/// The running background tasks with their health board and watchdog.
pub struct Supervisor {
    health: Arc<HealthBoard>,
    tasks: tasks::BackgroundTasks,
    watchdog: Option<Watchdog>,
}

impl Supervisor {
    /// Starts the print task, the uploader and the maintenance thread, and the watchdog
    /// (when systemd asks for one). None of them failing stops the kiosk: a concern is stored
    /// before anything is printed or uploaded, and both catch up when they can.
    pub fn start(
        config: &Config,
        clock: Arc<dyn Clock>,
        printer_status: PrinterStatusObserver,
    ) -> Supervisor {
        let health = HealthBoard::new();
        let tasks = tasks::start(config, clock, printer_status, &health);
        let watchdog = Watchdog::start(Arc::clone(&health));
        Supervisor {
            health,
            tasks,
            watchdog,
        }
    }

    /// Wakes the print task to look at its queue; `None` when the kiosk runs without printing.
    pub fn print_wake(&self) -> Option<SyncSender<()>> {
        self.tasks.print_wake()
    }

    /// Asks the uploader for a round now; `None` when uploads are off.
    pub fn upload_handle(&self) -> Option<UploadHandle> {
        self.tasks.upload_handle()
    }

    /// Puts a task started elsewhere (the UI loop) on the watchdog's board.
    pub fn register(&self, task: Task, silence_limit: Duration) -> Heartbeat {
        self.health.register(task, silence_limit)
    }

    /// Ends the background tasks at a safe point, then the watchdog.
    pub fn stop(self) {
        self.tasks.stop();
        if let Some(watchdog) = self.watchdog {
            watchdog.stop();
        }
    }
}
