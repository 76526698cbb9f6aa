//! The print task: drains the persistent print queue in order, checks the printer before every
//! job, leaves a job queued on a fault and tries again when the printer is ready. Filing a
//! concern never waits for it: the store queues the job, this task prints it.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

use tracing::{info, warn};

use super::printer_lock::PrinterLock;
use super::{PrinterError, PrinterPort, PrinterStatus, RenderedJob, SendControl};
use crate::clock::Clock;
use crate::config::{Config, PrinterSection};
use crate::health::SILENCE_MARGIN;
use crate::paper;
use crate::receipt;
use crate::store::{JobKind, JobState, PrintJob, Store, StoreError};
use crate::summary::{self, DailySummary};

/// How often a printer with a fault is asked again: soon enough that a resident who waits while
/// staff change the roll gets the receipt at once, rare enough not to flood the serial log.
pub const FAULT_POLL_INTERVAL: Duration = Duration::from_secs(2);
/// How often an idle printer is asked how it is, so the staff screen shows paper-out before the
/// next resident comes.
pub const IDLE_POLL_INTERVAL: Duration = Duration::from_secs(15);
/// Status questions the print task may ask around one job (before it, and after a failed
/// send); each waits at most `printer.status_timeout_ms`.
const STATUS_QUESTIONS_PER_JOB: u32 = 8;

/// How long the print task may go without reporting in before the kiosk counts as stuck:
/// longer than its longest single wait (a printer write that stalls up to the stall timeout,
/// its status questions, and the idle task's sleep between checks).
pub fn silence_limit(printer: &PrinterSection) -> Duration {
    Duration::from_secs(u64::from(printer.stall_timeout_seconds))
        + Duration::from_millis(u64::from(printer.status_timeout_ms)) * STATUS_QUESTIONS_PER_JOB
        + IDLE_POLL_INTERVAL
        + SILENCE_MARGIN
}

/// What one pass over the queue ended with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DrainOutcome {
    /// Nothing left to print.
    Empty,
    /// The printer cannot print now; the jobs wait.
    Blocked(PrinterStatus),
    /// The kiosk is shutting down; the jobs left wait for the next start.
    Stopped,
}

pub struct PrintQueue {
    store: Store,
    printer: Box<dyn PrinterPort>,
    config: Config,
    last_status: Option<PrinterStatus>,
    /// The clock of every time the queue writes down and of the closing-time summary.
    clock: Arc<dyn Clock>,
    /// The stop request and heartbeat of the running kiosk; none for a one-off command.
    control: SendControl,
    /// Held for the queue's life: only the lock holder may talk to the printer.
    _owner: PrinterLock,
}

impl PrintQueue {
    /// Takes its own store connection and the printer lock (proof that no other process prints);
    /// jobs left `printing` by a crash go back to the queue.
    pub fn new(
        store: Store,
        printer: Box<dyn PrinterPort>,
        config: Config,
        owner: PrinterLock,
        clock: Arc<dyn Clock>,
    ) -> Result<PrintQueue, StoreError> {
        let requeued = store.requeue_interrupted_print_jobs(clock.now())?;
        if requeued > 0 {
            warn!(
                requeued,
                "print jobs interrupted by a restart are queued again"
            );
        }
        Ok(PrintQueue {
            store,
            printer,
            config,
            last_status: None,
            clock,
            control: SendControl::default(),
            _owner: owner,
        })
    }

    /// Stops at the next chunk boundary once `control` asks, and reports in through it.
    pub fn with_control(mut self, control: SendControl) -> PrintQueue {
        self.control = control;
        self
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The printer's status now, logged when it changes.
    pub fn check_printer(&mut self) -> PrinterStatus {
        let status = self.printer.status();
        if self.last_status != Some(status) {
            info!(status = status.describe(), "printer");
            self.last_status = Some(status);
        }
        status
    }

    /// Prints every pending job, oldest first, until the queue is empty or the printer has a
    /// fault.
    pub fn drain(&mut self) -> Result<DrainOutcome, StoreError> {
        while let Some(job) = self.store.next_print_job()? {
            self.control.progress();
            if self.control.stop_requested() {
                return Ok(DrainOutcome::Stopped);
            }
            let status = self.check_printer();
            if !status.can_print() {
                self.store
                    .defer_print_job(job.id, status.describe(), self.clock.now())?;
                return Ok(DrainOutcome::Blocked(status));
            }
            let rendered = match self.render(&job) {
                Ok(rendered) => rendered,
                Err(reason) => {
                    warn!(job = job.id, %reason, "print job cannot be made");
                    self.store
                        .fail_print_job(job.id, &reason, self.clock.now())?;
                    continue;
                }
            };
            self.store.start_print_job(job.id, self.clock.now())?;
            match self.printer.send(&rendered, &self.control) {
                Ok(bytes) => {
                    self.store.finish_print_job(job.id, self.clock.now())?;
                    info!(job = job.id, name = %rendered.name, bytes, "printed");
                }
                Err(PrinterError::Stopped) => {
                    info!(
                        job = job.id,
                        "shutting down between two bands: the job waits for the next start"
                    );
                    self.store.defer_print_job(
                        job.id,
                        &PrinterError::Stopped.to_string(),
                        self.clock.now(),
                    )?;
                    return Ok(DrainOutcome::Stopped);
                }
                Err(e) => {
                    warn!(job = job.id, error = %e, "print job interrupted; it stays queued");
                    self.store
                        .defer_print_job(job.id, &e.to_string(), self.clock.now())?;
                    let status = match e {
                        PrinterError::NotReady(status) => status,
                        _ => self.check_printer(),
                    };
                    return Ok(DrainOutcome::Blocked(status));
                }
            }
        }
        Ok(DrainOutcome::Empty)
    }

    /// Runs until its control asks it to stop or `wake` closes: queues the day's summary at
    /// closing time (once a day), drains the queue whenever `wake` says a job was queued, and
    /// polls the printer (often while it has a fault, now and then while idle). The print task
    /// owns the closing-time summary because it is the part of the kiosk that runs all day and
    /// prints.
    pub fn run(&mut self, wake: &Receiver<()>) -> Result<(), StoreError> {
        while !self.control.stop_requested() {
            self.control.progress();
            if let Some(job) =
                summary::schedule_tick(&mut self.store, &self.config, self.clock.now())?
            {
                info!(job, "closing time: the daily summary is queued");
            }
            let wait = match self.drain()? {
                DrainOutcome::Empty => {
                    self.check_printer();
                    IDLE_POLL_INTERVAL
                }
                DrainOutcome::Blocked(_) => FAULT_POLL_INTERVAL,
                DrainOutcome::Stopped => return Ok(()),
            };
            match wake.recv_timeout(wait) {
                Ok(()) | Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return Ok(()),
            }
        }
        Ok(())
    }

    fn render(&mut self, job: &PrintJob) -> Result<RenderedJob, String> {
        match &job.kind {
            JobKind::Receipt { concern_id } => {
                let record = self
                    .store
                    .concern_by_id(concern_id)
                    .map_err(|e| e.to_string())?
                    .ok_or_else(|| format!("concern {concern_id} is not in the store"))?;
                let document = receipt::receipt(&record.concern, &self.config);
                render_document(
                    &document,
                    &self.config,
                    format!("receipt-{}", record.concern.ticket),
                )
                .map_err(|e| e.to_string())
            }
            JobKind::Summary { date } => {
                let summary =
                    DailySummary::gather(&self.store, &self.config, *date, self.clock.now())
                        .map_err(|e| e.to_string())?;
                let document = summary::summary_sheet(&summary, &self.config);
                render_document(&document, &self.config, format!("summary-{date}"))
                    .map_err(|e| e.to_string())
            }
            JobKind::StatusSlip {
                ticket,
                lang,
                with_reply,
            } => {
                let now = self.clock.now();
                let status = self
                    .store
                    .case_status(ticket)
                    .map_err(|e| e.to_string())?
                    .ok_or_else(|| format!("no case {ticket} is in the store"))?;
                let news_at = self
                    .store
                    .last_news_at(&status)
                    .map_err(|e| e.to_string())?;
                let report = super::case_report(&status, news_at, *with_reply, now);
                let document = receipt::status_slip(&report, *lang, &self.config, now);
                render_document(&document, &self.config, format!("status-{ticket}"))
                    .map_err(|e| e.to_string())
            }
            JobKind::TestPage => {
                let status = self.check_printer();
                let document =
                    receipt::test_page(&self.config, &self.printer.describe(), status.describe());
                render_document(&document, &self.config, "test-page".into())
                    .map_err(|e| e.to_string())
            }
        }
    }
}

/// A document made ready for the configured printer: checked now, its bytes made as they go
/// out.
pub fn render_document(
    document: &paper::Document,
    config: &Config,
    name: String,
) -> Result<RenderedJob, paper::PaperError> {
    Ok(RenderedJob {
        name,
        paper: paper::PrintReady::new(document, config.printer.mode, config.printer.band_rows)?,
    })
}

/// How long a command that prints waits for its job before it leaves it queued: long enough for
/// a receipt at 9600 baud, short enough that staff at a terminal are not left wondering.
pub const PRINT_WAIT_LIMIT: Duration = Duration::from_secs(30);
/// How often a command checks a job that the running kiosk is printing for it.
const JOB_CHECK_INTERVAL: Duration = Duration::from_millis(200);

/// How a command's print job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrintWait {
    Printed,
    /// Still queued; it prints when the printer is ready. The text says why.
    Queued(String),
    /// It can never print; the text says why.
    Failed(String),
}

/// Who drives the printer while a command waits for its job.
enum Driver {
    /// No kiosk is running: this command holds the lock and drains the queue.
    Owner(Box<PrintQueue>),
    /// The running kiosk prints; this command only watches its job (a WAL reader sees each
    /// new commit).
    Observer(Store),
}

/// Prints a queued job for a command: drains the queue itself when no kiosk owns the printer,
/// otherwise waits for the kiosk to print it, at most `limit`.
pub fn print_and_wait(
    config: &Config,
    job_id: i64,
    limit: Duration,
    clock: Arc<dyn Clock>,
) -> Result<PrintWait, StoreError> {
    let deadline = std::time::Instant::now() + limit;
    let data_dir = &config.kiosk.data_dir;
    let lock = PrinterLock::try_acquire(data_dir).map_err(|source| StoreError::DataFolder {
        path: data_dir.clone(),
        source,
    })?;
    let (store, _) = Store::open(data_dir, clock.now())?;
    let mut driver = match lock {
        Some(lock) => Driver::Owner(Box::new(PrintQueue::new(
            store,
            super::open_printer(config),
            config.clone(),
            lock,
            clock,
        )?)),
        None => Driver::Observer(store),
    };
    let mut waiting_for = String::from("the running kiosk has not printed it yet");
    loop {
        let store = match &mut driver {
            Driver::Owner(queue) => {
                if let DrainOutcome::Blocked(status) = queue.drain()? {
                    waiting_for = format!("the printer is {}", status.describe());
                }
                queue.store()
            }
            Driver::Observer(store) => store,
        };
        let job = store
            .print_job(job_id)?
            .ok_or_else(|| StoreError::Damaged(format!("print job {job_id} vanished")))?;
        match job.state {
            JobState::Done => return Ok(PrintWait::Printed),
            JobState::Failed => return Ok(PrintWait::Failed(job.last_error.unwrap_or_default())),
            JobState::Pending | JobState::Printing => {}
        }
        let now = std::time::Instant::now();
        if now >= deadline {
            return Ok(PrintWait::Queued(waiting_for));
        }
        let pause = match driver {
            Driver::Owner(_) => FAULT_POLL_INTERVAL,
            Driver::Observer(_) => JOB_CHECK_INTERVAL,
        };
        std::thread::sleep(pause.min(deadline - now));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::clock::SystemClock;
    use crate::concern::{Draft, Lang};

    /// A printer whose faults the test sets, remembering every job it was sent.
    #[derive(Clone)]
    struct FaultyPrinter {
        status: Arc<Mutex<PrinterStatus>>,
        fail_next_send: Arc<Mutex<bool>>,
        printed: Arc<Mutex<Vec<String>>>,
    }

    impl FaultyPrinter {
        fn new() -> FaultyPrinter {
            FaultyPrinter {
                status: Arc::new(Mutex::new(PrinterStatus::Ready)),
                fail_next_send: Arc::new(Mutex::new(false)),
                printed: Arc::new(Mutex::new(Vec::new())),
            }
        }
        fn set(&self, status: PrinterStatus) {
            *self.status.lock().unwrap() = status;
        }
        fn printed(&self) -> Vec<String> {
            self.printed.lock().unwrap().clone()
        }
    }

    impl PrinterPort for FaultyPrinter {
        fn status(&mut self) -> PrinterStatus {
            *self.status.lock().unwrap()
        }
        fn send(&mut self, job: &RenderedJob, _: &SendControl) -> Result<usize, PrinterError> {
            if std::mem::take(&mut *self.fail_next_send.lock().unwrap()) {
                return Err(PrinterError::Interrupted("cable pulled".into()));
            }
            self.printed.lock().unwrap().push(job.name.clone());
            Ok(job.paper.bytes().len())
        }
        fn describe(&self) -> String {
            "test printer".into()
        }
    }

    fn queue_with_one_concern(printer: &FaultyPrinter) -> (tempfile::TempDir, PrintQueue, String) {
        queue_with_one_concern_by(printer, Arc::new(SystemClock))
    }

    fn queue_with_one_concern_by(
        printer: &FaultyPrinter,
        clock: Arc<dyn Clock>,
    ) -> (tempfile::TempDir, PrintQueue, String) {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::demo().unwrap();
        config.kiosk.data_dir = dir.path().to_path_buf();
        let (mut store, _) = Store::open(dir.path(), SystemClock.now()).unwrap();
        let draft = Draft::preset("repairs", "1", Lang::ZhCn);
        let concern = store
            .file_concern(draft.validate(&config, SystemClock.now()).unwrap(), "A")
            .unwrap();
        let lock = PrinterLock::try_acquire(dir.path()).unwrap().unwrap();
        let queue = PrintQueue::new(store, Box::new(printer.clone()), config, lock, clock).unwrap();
        (dir, queue, format!("receipt-{}", concern.ticket))
    }

    /// The print queue as the next start makes it: a new store connection and the lock.
    fn restarted_queue(
        dir: &std::path::Path,
        printer: &FaultyPrinter,
        config: Config,
    ) -> PrintQueue {
        let store = Store::open(dir, SystemClock.now()).unwrap().0;
        let lock = PrinterLock::try_acquire(dir).unwrap().unwrap();
        PrintQueue::new(
            store,
            Box::new(printer.clone()),
            config,
            lock,
            Arc::new(SystemClock),
        )
        .unwrap()
    }

    fn job_state(queue: &PrintQueue) -> (JobState, Option<String>) {
        let job = queue.store().print_job(1).unwrap().unwrap();
        (job.state, job.last_error)
    }

    #[test]
    fn paper_out_keeps_the_job_and_paper_back_prints_it_exactly_once() {
        let printer = FaultyPrinter::new();
        let (_dir, mut queue, receipt) = queue_with_one_concern(&printer);
        printer.set(PrinterStatus::PaperOut);
        assert_eq!(
            queue.drain().unwrap(),
            DrainOutcome::Blocked(PrinterStatus::PaperOut)
        );
        assert_eq!(
            queue.drain().unwrap(),
            DrainOutcome::Blocked(PrinterStatus::PaperOut)
        );
        let (state, reason) = job_state(&queue);
        assert_eq!(state, JobState::Pending);
        assert!(reason.unwrap().contains("paper out"));
        assert!(printer.printed().is_empty());

        printer.set(PrinterStatus::Ready);
        assert_eq!(queue.drain().unwrap(), DrainOutcome::Empty);
        assert_eq!(queue.drain().unwrap(), DrainOutcome::Empty);
        assert_eq!(printer.printed(), [receipt]);
        assert_eq!(job_state(&queue).0, JobState::Done);
    }

    #[test]
    fn a_job_interrupted_mid_send_is_sent_again_once_and_only_once() {
        let printer = FaultyPrinter::new();
        let (_dir, mut queue, receipt) = queue_with_one_concern(&printer);
        *printer.fail_next_send.lock().unwrap() = true;
        assert!(matches!(queue.drain().unwrap(), DrainOutcome::Blocked(_)));
        assert_eq!(job_state(&queue).0, JobState::Pending);
        assert_eq!(queue.drain().unwrap(), DrainOutcome::Empty);
        assert_eq!(queue.drain().unwrap(), DrainOutcome::Empty);
        assert_eq!(printer.printed(), [receipt]);
    }

    #[test]
    fn paper_near_end_still_prints() {
        let printer = FaultyPrinter::new();
        let (_dir, mut queue, receipt) = queue_with_one_concern(&printer);
        printer.set(PrinterStatus::PaperNearEnd);
        assert_eq!(queue.drain().unwrap(), DrainOutcome::Empty);
        assert_eq!(printer.printed(), [receipt]);
    }

    #[test]
    fn a_job_left_printing_by_a_power_cut_prints_again_after_restart() {
        let printer = FaultyPrinter::new();
        let (dir, queue, receipt) = queue_with_one_concern(&printer);
        queue.store().start_print_job(1, SystemClock.now()).unwrap();
        drop(queue);
        let mut config = Config::demo().unwrap();
        config.kiosk.data_dir = dir.path().to_path_buf();
        let mut queue = restarted_queue(dir.path(), &printer, config);
        assert_eq!(queue.drain().unwrap(), DrainOutcome::Empty);
        assert_eq!(printer.printed(), [receipt]);
    }

    #[test]
    fn the_running_print_task_prints_the_summary_at_closing_time() {
        let printer = FaultyPrinter::new();
        let today = SystemClock.now().date_naive();
        let closing = today
            .and_hms_opt(17, 30, 5)
            .unwrap()
            .and_local_timezone(*SystemClock.now().offset())
            .unwrap();
        let clock = Arc::new(crate::clock::ManualClock::new(closing));
        let (_dir, queue, receipt) = queue_with_one_concern_by(&printer, clock);
        let (wake, woken) = std::sync::mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let mut queue = queue.with_control(SendControl::new(Arc::clone(&stop), None));
        let task = std::thread::spawn(move || queue.run(&woken));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while printer.printed().len() < 2 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        stop.store(true, Ordering::Relaxed);
        wake.send(()).unwrap();
        task.join().unwrap().unwrap();
        assert_eq!(printer.printed(), [receipt, format!("summary-{today}")]);
    }

    /// A port that sends chunk by chunk like the serial one, and gets a stop request (SIGTERM)
    /// while the first chunk goes out.
    struct StoppedMidJob {
        stop: Arc<AtomicBool>,
        chunks_sent: Arc<Mutex<usize>>,
    }

    impl PrinterPort for StoppedMidJob {
        fn status(&mut self) -> PrinterStatus {
            PrinterStatus::Ready
        }
        fn send(
            &mut self,
            job: &RenderedJob,
            control: &SendControl,
        ) -> Result<usize, PrinterError> {
            let mut bytes = 0;
            for chunk in job.chunks() {
                control.before_chunk()?;
                bytes += chunk.len();
                *self.chunks_sent.lock().unwrap() += 1;
                self.stop.store(true, Ordering::Relaxed);
            }
            Ok(bytes)
        }
        fn describe(&self) -> String {
            "stopping printer".into()
        }
    }

    #[test]
    fn a_stop_mid_job_finishes_the_band_and_leaves_the_job_for_the_next_start() {
        let printer = FaultyPrinter::new();
        let (dir, queue, receipt) = queue_with_one_concern(&printer);
        let mut config = queue.config.clone();
        config.printer.mode = crate::paper::PrintMode::Raster;
        let store = Store::open(dir.path(), SystemClock.now()).unwrap().0;
        drop(queue);
        let stop = Arc::new(AtomicBool::new(false));
        let chunks_sent = Arc::new(Mutex::new(0));
        let port = StoppedMidJob {
            stop: Arc::clone(&stop),
            chunks_sent: Arc::clone(&chunks_sent),
        };
        let lock = PrinterLock::try_acquire(dir.path()).unwrap().unwrap();
        let mut queue = PrintQueue::new(
            store,
            Box::new(port),
            config.clone(),
            lock,
            Arc::new(SystemClock),
        )
        .unwrap()
        .with_control(SendControl::new(Arc::clone(&stop), None));
        assert_eq!(queue.drain().unwrap(), DrainOutcome::Stopped);
        assert_eq!(*chunks_sent.lock().unwrap(), 1, "one band, then stop");
        let (state, reason) = job_state(&queue);
        assert_eq!(state, JobState::Pending);
        assert!(reason.unwrap().contains("shutting down"));
        drop(queue);

        // The next start prints it, from the top.
        let mut queue = restarted_queue(dir.path(), &printer, config);
        assert_eq!(queue.drain().unwrap(), DrainOutcome::Empty);
        assert_eq!(printer.printed(), [receipt]);
    }

    #[test]
    fn the_silence_limit_covers_a_stalled_write_and_its_status_questions() {
        let mut config = Config::demo().unwrap();
        config.printer.stall_timeout_seconds = 90;
        config.printer.status_timeout_ms = 2000;
        // 90 s stall + 8 × 2 s status + 15 s idle poll + 15 s margin.
        assert_eq!(silence_limit(&config.printer), Duration::from_secs(136));
    }
}
