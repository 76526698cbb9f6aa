//! The kiosk's background work while the window runs: the print queue on its own thread
//! (holding the printer lock), the uploader on a tokio runtime thread, and the nightly check and
//! backup. The print task tells whoever started it every printer status it sees; the first two
//! report in to the watchdog's health board; `stop` ends all three at a safe point.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, SyncSender};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::oneshot;
use tracing::{error, info, warn};

use crate::clock::Clock;
use crate::config::Config;
use crate::health::{self, HealthBoard, Task};
use crate::maintenance;
use crate::printer::print_queue::{self, PrintQueue};
use crate::printer::printer_lock::PrinterLock;
use crate::printer::{
    PrinterError, PrinterPort, PrinterStatus, RenderedJob, SendControl, open_printer,
    slow_receipt_warning,
};
use crate::store::Store;
use crate::upload::office_client::OfficeClient;
use crate::upload::schedule::{self, Schedule, UploadHandle};
use crate::upload::uploader::Uploader;
use crate::upload::{self, uploader_from_config};

/// Who hears of every printer status the print task sees (the screen, for the kiosk window).
pub type PrinterStatusObserver = Arc<dyn Fn(PrinterStatus) + Send + Sync>;

/// Wake-ups waiting for the print task: one is enough to make it look at the queue, a few more
/// cover taps that come faster than it wakes.
const WAKE_QUEUE: usize = 8;

/// The running background tasks; `stop` ends them.
pub struct BackgroundTasks {
    print_wake: Option<SyncSender<()>>,
    print_stop: Arc<AtomicBool>,
    print_thread: Option<JoinHandle<()>>,
    /// Kept for the staff menu's "upload now".
    upload: Option<UploadHandle>,
    /// Sending (or dropping) it ends the uploader, even in the middle of a request: a batch
    /// cut off goes again later under the same idempotency key.
    upload_stop: Option<oneshot::Sender<()>>,
    upload_thread: Option<JoinHandle<()>>,
    /// The nightly check and backup; it ends with `print_stop` too.
    maintenance_thread: Option<JoinHandle<()>>,
}

impl BackgroundTasks {
    pub fn print_wake(&self) -> Option<SyncSender<()>> {
        self.print_wake.clone()
    }

    pub fn upload_handle(&self) -> Option<UploadHandle> {
        self.upload.clone()
    }

    /// Ends the tasks and waits for them: the print task after the band it is sending (its job
    /// prints again at the next start), the uploader at once, the maintenance thread after the
    /// backup it may be making. No database transaction is cut: each is synchronous and done
    /// before its task looks at the stop request.
    pub fn stop(mut self) {
        self.print_stop.store(true, Ordering::Relaxed);
        // After the flag, so whoever reads it in the log knows the print task will stop at
        // its next band.
        info!("{TASKS_ASKED_TO_STOP}");
        // Dropping the sender wakes the print task from its wait (Disconnected).
        self.print_wake = None;
        self.upload = None;
        self.upload_stop = None;
        for thread in [
            self.print_thread.take(),
            self.upload_thread.take(),
            self.maintenance_thread.take(),
        ]
        .into_iter()
        .flatten()
        {
            if thread.join().is_err() {
                error!("a background task panicked");
            }
        }
    }
}

/// Logged once the background tasks have been told to stop: the print task finishes the band
/// it is sending, the uploader its request, then they end.
pub const TASKS_ASKED_TO_STOP: &str = "the background tasks are asked to stop: the print task finishes its band, the uploader its request";

/// Starts the print task and the uploader. Neither failing stops the kiosk: a concern is stored
/// before anything is printed or uploaded, and both catch up when they can.
pub fn start(
    config: &Config,
    clock: Arc<dyn Clock>,
    printer_status: PrinterStatusObserver,
    health: &HealthBoard,
) -> BackgroundTasks {
    let print_stop = Arc::new(AtomicBool::new(false));
    let started = start_printing(
        config,
        Arc::clone(&clock),
        Arc::clone(&print_stop),
        printer_status,
        health,
    );
    let (print_wake, print_thread) = match started {
        Some((wake, thread)) => (Some(wake), Some(thread)),
        None => (None, None),
    };
    let maintenance_thread = start_maintenance(config, Arc::clone(&clock), Arc::clone(&print_stop));
    let (upload, upload_stop, upload_thread) = match start_uploading(config, clock, health) {
        Some((handle, stop, thread)) => (Some(handle), Some(stop), Some(thread)),
        None => (None, None, None),
    };
    BackgroundTasks {
        print_wake,
        print_stop,
        print_thread,
        upload,
        upload_stop,
        upload_thread,
        maintenance_thread,
    }
}

/// How often the maintenance thread looks at the clock: the backup hour is met within a minute,
/// and a stop request within a second.
const MAINTENANCE_CHECKS: Duration = Duration::from_secs(60);
const STOP_CHECKS: Duration = Duration::from_secs(1);
/// The first look waits this long after start: a kiosk back from a power cut makes the day's
/// backup at once, and its reads and fsyncs on the SD card would otherwise compete with the
/// first frame the resident is waiting for.
const MAINTENANCE_FIRST_CHECK: Duration = Duration::from_secs(30);

/// The nightly integrity check and backup, on a thread of its own with its own connection so
/// that a backup never holds up filing or printing.
fn start_maintenance(
    config: &Config,
    clock: Arc<dyn Clock>,
    stop: Arc<AtomicBool>,
) -> Option<JoinHandle<()>> {
    let config = config.clone();
    let thread = std::thread::Builder::new()
        .name("maintenance".into())
        .spawn(move || {
            health::sleep_unless_stopped(&stop, MAINTENANCE_FIRST_CHECK, STOP_CHECKS);
            if stop.load(Ordering::Relaxed) {
                return;
            }
            let store = match Store::open(&config.kiosk.data_dir, clock.now()) {
                Ok((store, _)) => store,
                Err(e) => {
                    error!(error = %e, "the maintenance task cannot open the store: no backups");
                    return;
                }
            };
            while !stop.load(Ordering::Relaxed) {
                match maintenance::nightly_tick(&store, &config, clock.now()) {
                    Ok(Some(report)) => info!(
                        backup = %report.path.display(),
                        concerns = report.concerns,
                        removed = report.removed,
                        "nightly backup made and checked"
                    ),
                    Ok(None) => {}
                    Err(e) => error!(error = %e, "the nightly check or backup failed"),
                }
                health::sleep_unless_stopped(&stop, MAINTENANCE_CHECKS, STOP_CHECKS);
            }
        });
    match thread {
        Ok(thread) => Some(thread),
        Err(e) => {
            error!(error = %e, "cannot start the maintenance task: no backups");
            None
        }
    }
}

fn start_printing(
    config: &Config,
    clock: Arc<dyn Clock>,
    stop: Arc<AtomicBool>,
    printer_status: PrinterStatusObserver,
    health: &HealthBoard,
) -> Option<(SyncSender<()>, JoinHandle<()>)> {
    let data_dir = &config.kiosk.data_dir;
    let lock = match PrinterLock::try_acquire(data_dir) {
        Ok(Some(lock)) => lock,
        Ok(None) => {
            warn!(
                "another process holds the printer lock: the kiosk runs without printing; receipts stay queued"
            );
            return None;
        }
        Err(e) => {
            error!(error = %e, "cannot take the printer lock: the kiosk runs without printing");
            return None;
        }
    };
    let store = match Store::open(data_dir, clock.now()) {
        Ok((store, _)) => store,
        Err(e) => {
            error!(error = %e, "the print task cannot open the store: no printing");
            return None;
        }
    };
    if let Some(warning) = slow_receipt_warning(config) {
        warn!("{warning}");
    }
    let printer = Box::new(ReportingPrinter {
        inner: open_printer(config),
        report: printer_status,
    });
    let mut queue = match PrintQueue::new(store, printer, config.clone(), lock, clock) {
        Ok(queue) => queue,
        Err(e) => {
            error!(error = %e, "the print queue cannot start: no printing");
            return None;
        }
    };
    // From here on the watchdog waits for the print task: if it ends on an error, its silence
    // gets the kiosk restarted, which is how a broken print task is retried.
    let heartbeat = health.register(Task::PrintTask, print_queue::silence_limit(&config.printer));
    queue = queue.with_control(SendControl::new(stop, Some(heartbeat)));
    let (wake, wakes) = mpsc::sync_channel(WAKE_QUEUE);
    let thread = std::thread::Builder::new()
        .name("print-queue".into())
        .spawn(move || {
            if let Err(e) = queue.run(&wakes) {
                error!(error = %e, "the print task stopped");
            }
        });
    match thread {
        Ok(thread) => Some((wake, thread)),
        Err(e) => {
            error!(error = %e, "cannot start the print task");
            None
        }
    }
}

fn start_uploading(
    config: &Config,
    clock: Arc<dyn Clock>,
    health: &HealthBoard,
) -> Option<(UploadHandle, oneshot::Sender<()>, JoinHandle<()>)> {
    let store = match Store::open(&config.kiosk.data_dir, clock.now()) {
        Ok((store, _)) => store,
        Err(e) => {
            error!(error = %e, "the uploader cannot open the store: no uploads");
            return None;
        }
    };
    let uploader = match uploader_from_config(config, store, Arc::clone(&clock)) {
        Ok(uploader) => uploader,
        Err(e) => {
            warn!(error = %e, "uploads are off until this is fixed; concerns wait in the outbox");
            return None;
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            error!(error = %e, "cannot start the upload runtime: no uploads");
            return None;
        }
    };
    let limit = upload::silence_limit(&config.upload);
    let uploader = uploader.with_heartbeat(health.register(Task::Uploader, limit));
    let schedule = Schedule::from_config(config);
    let (handle_sender, handle_receiver) = mpsc::sync_channel(1);
    let (stop, stop_requested) = oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("uploader".into())
        .spawn(move || {
            runtime.block_on(async move {
                let started = move |handle| {
                    let _ = handle_sender.send(handle);
                };
                // A value or a dropped sender: either way the kiosk is stopping.
                if let Err(e) =
                    upload_until(uploader, schedule, clock, started, stop_requested).await
                {
                    error!(error = %e, "the uploader stopped");
                }
            });
            info!("uploader stopped");
        });
    let thread = match thread {
        Ok(thread) => thread,
        Err(e) => {
            error!(error = %e, "cannot start the uploader");
            return None;
        }
    };
    match handle_receiver.recv() {
        Ok(handle) => Some((handle, stop, thread)),
        Err(_) => {
            error!("the uploader did not start");
            None
        }
    }
}

/// Runs `uploader` on its schedule until `stop` resolves (then at once, even in the middle of a
/// request: a batch cut off goes again later under the same idempotency key), or until the
/// schedule's task ends on its own. `started` receives the handle that asks for a round now;
/// the schedule runs as long as that handle, or this call, lives.
pub async fn upload_until<C: OfficeClient + 'static>(
    uploader: Uploader<C>,
    schedule: Schedule,
    clock: Arc<dyn Clock>,
    started: impl FnOnce(UploadHandle),
    stop: impl Future,
) -> Result<(), tokio::task::JoinError> {
    let (handle, task) = schedule::spawn(uploader, schedule, clock);
    let _kept = handle.clone();
    started(handle);
    let abort = task.abort_handle();
    tokio::select! {
        joined = task => joined,
        _ = stop => {
            abort.abort();
            Ok(())
        }
    }
}

/// The configured printer, telling its observer every status the print task sees, so Done can
/// say "the printer needs attention" and staff see it too.
struct ReportingPrinter {
    inner: Box<dyn PrinterPort>,
    report: PrinterStatusObserver,
}

impl PrinterPort for ReportingPrinter {
    fn status(&mut self) -> PrinterStatus {
        let status = self.inner.status();
        (self.report)(status);
        status
    }

    fn send(&mut self, job: &RenderedJob, control: &SendControl) -> Result<usize, PrinterError> {
        let sent = self.inner.send(job, control);
        if let Err(PrinterError::NotReady(status)) = &sent {
            (self.report)(*status);
        }
        sent
    }

    fn describe(&self) -> String {
        self.inner.describe()
    }
}
