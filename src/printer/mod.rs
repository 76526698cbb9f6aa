//! The receipt printer: its real-time status, the transports that reach it (a serial ESC/POS
//! printer, or a spool folder for demos), the print task that drains the persistent queue, and
//! a case as the status slip (and the screen) tell it.

mod case_report;
mod line_time;
pub mod print_queue;
pub mod printer_lock;
mod serial;
mod spool;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use thiserror::Error;

pub use case_report::case_report;
pub use line_time::{
    ReceiptLineTime, SLOW_RECEIPT, line_seconds, receipt_line_time, slow_receipt_warning,
};
pub use serial::SerialPrinter;
pub use spool::SpoolPrinter;

use crate::config::{Config, PrinterKind};
use crate::health::Heartbeat;

/// The folder the spool printer writes into, inside the data folder.
pub const SPOOL_DIR: &str = "spool";

/// The printer the config names.
pub fn open_printer(config: &Config) -> Box<dyn PrinterPort> {
    match config.printer.kind {
        // Validation guarantees the port; an empty path would only show as "not answering".
        PrinterKind::Serial => Box::new(SerialPrinter::new(
            config
                .printer
                .port
                .as_deref()
                .unwrap_or(std::path::Path::new("")),
            &config.printer,
        )),
        PrinterKind::Spool => Box::new(SpoolPrinter::new(&config.kiosk.data_dir.join(SPOOL_DIR))),
    }
}

/// What the printer says about itself, as staff and residents are told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrinterStatus {
    Ready,
    /// Prints, but the roll is nearly used up: staff should refill soon.
    PaperNearEnd,
    PaperOut,
    CoverOpen,
    /// Answers but will not print (an error, a hot head, or switched off-line).
    Offline,
    /// No answer: unplugged, switched off, or the port is missing.
    Disconnected,
}

impl PrinterStatus {
    /// Whether a job may be sent now.
    pub fn can_print(self) -> bool {
        matches!(self, PrinterStatus::Ready | PrinterStatus::PaperNearEnd)
    }

    /// What staff are told to do.
    pub fn describe(self) -> &'static str {
        match self {
            PrinterStatus::Ready => "ready",
            PrinterStatus::PaperNearEnd => "ready, paper nearly used up: put in a new roll soon",
            PrinterStatus::PaperOut => "paper out: put in a new roll",
            PrinterStatus::CoverOpen => "cover open: close the printer cover",
            PrinterStatus::Offline => {
                "off-line: check the printer's light and switch it off and on"
            }
            PrinterStatus::Disconnected => "not answering: check the printer's power and cable",
        }
    }
}

/// Why a job did not reach the paper.
#[derive(Debug, Error)]
pub enum PrinterError {
    /// The printer reported a fault before the job was sent: nothing was printed.
    #[error("the printer is {}", .0.describe())]
    NotReady(PrinterStatus),
    /// The port went away or stopped taking bytes mid-job: part of it may have printed.
    #[error("the printer stopped taking data: {0}")]
    Interrupted(String),
    /// The kiosk is shutting down: the piece in progress was finished, the rest was not sent.
    #[error("the kiosk is shutting down; the job prints again from the start at the next start")]
    Stopped,
    /// The preview of a spooled job could not be made.
    #[error("cannot make the preview: {0}")]
    Preview(#[from] crate::paper::PaperError),
    /// The spool folder (demo printer) cannot be written.
    #[error("cannot write the spool file {path}: {source}")]
    Spool {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

/// One job made ready for the wire: its document laid out for the configured mode, its bytes
/// made piece by piece as they go out (raster bands), and its PNG preview on demand.
pub struct RenderedJob {
    /// A file-name-safe name, e.g. `receipt-A1126-042`.
    pub name: String,
    pub paper: crate::paper::PrintReady,
}

impl RenderedJob {
    /// The pieces that may go out between checks: whole printer commands each.
    pub fn chunks(&self) -> impl Iterator<Item = Vec<u8>> + '_ {
        self.paper.chunks()
    }
}

/// What the print task tells a port while it sends a job: that it is still alive (for the
/// watchdog, while a long raster job takes minutes at 9600 baud) and whether to stop at the next
/// chunk boundary (on SIGTERM). Commands that print once use the default: never stop, nobody
/// listening.
#[derive(Clone, Default)]
pub struct SendControl {
    stop: Option<Arc<AtomicBool>>,
    heartbeat: Option<Heartbeat>,
}

impl SendControl {
    pub fn new(stop: Arc<AtomicBool>, heartbeat: Option<Heartbeat>) -> SendControl {
        SendControl {
            stop: Some(stop),
            heartbeat,
        }
    }

    /// Called as bytes go out.
    pub fn progress(&self) {
        if let Some(heartbeat) = &self.heartbeat {
            heartbeat.beat();
        }
    }

    pub fn stop_requested(&self) -> bool {
        self.stop
            .as_ref()
            .is_some_and(|stop| stop.load(Ordering::Relaxed))
    }

    /// Between two chunks (raster bands): a chunk is a whole printer command, so stopping here
    /// never leaves the printer half way through one.
    pub fn before_chunk(&self) -> Result<(), PrinterError> {
        self.progress();
        if self.stop_requested() {
            return Err(PrinterError::Stopped);
        }
        Ok(())
    }
}

/// A way to reach paper. Tests inject faults through it; the kiosk uses [`SerialPrinter`] or
/// [`SpoolPrinter`].
pub trait PrinterPort: Send {
    /// The printer's real-time status (re-opening a port that went away).
    fn status(&mut self) -> PrinterStatus;
    /// Sends every chunk and returns the bytes sent once the printer has taken them all, or
    /// [`PrinterError::Stopped`] at a chunk boundary when `control` asks to stop.
    fn send(&mut self, job: &RenderedJob, control: &SendControl) -> Result<usize, PrinterError>;
    /// What the test page and `doctor` say about this printer, e.g. `/dev/ttyUSB0 at 9600 baud`.
    fn describe(&self) -> String;
}
