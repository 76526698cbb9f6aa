//! An ESC/POS printer on a serial port (a USB-serial adapter or the Pi's UART): opening and
//! re-opening the port, real-time status with DLE EOT, and sending a job so that a printer
//! pausing the line (XON/XOFF or RTS/CTS) loses nothing.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serialport::{ClearBuffer, SerialPort, TTYPort};
use tracing::{info, warn};

use super::{PrinterError, PrinterPort, PrinterStatus, RenderedJob, SendControl};
use crate::config::{FlowControl, PrinterSection, StatusQuery};

/// `DLE EOT n`: transmit real-time status. Exactly three bytes (some libraries add a fourth,
/// which a printer then prints or takes as the start of a command).
fn dle_eot(n: u8) -> [u8; 3] {
    [0x10, 0x04, n]
}

/// A status byte always reads 0xx1xx10.
/// A status byte always reads 0xx1xx10.
fn is_status_byte(byte: u8) -> bool {
    byte & 0b1001_0011 == 0b0001_0010
}

/// How often the kernel's output queue is looked at while a job drains.
const DRAIN_CHECK_INTERVAL: Duration = Duration::from_millis(20);

/// Waits until every byte has left the kernel's buffer for the wire. Unlike `tcdrain`, gives up
/// when the printer holds the line paused for `stall` without taking a byte, so a printer that
/// stopped mid-job cannot hang the print task.
fn drain_output(port: &mut TTYPort, stall: Duration) -> std::io::Result<()> {
    let mut last_progress = std::time::Instant::now();
    let mut waiting = port.bytes_to_write()?;
    while waiting > 0 {
        std::thread::sleep(DRAIN_CHECK_INTERVAL);
        let now_waiting = port.bytes_to_write()?;
        if now_waiting < waiting {
            last_progress = std::time::Instant::now();
        } else if last_progress.elapsed() >= stall {
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("the printer took no data for {} s", stall.as_secs()),
            ));
        }
        waiting = now_waiting;
    }
    Ok(())
}

/// Why a status question got no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StatusFailure {
    /// Nothing came back: the printer is off, unplugged, or the port is gone.
    NoAnswer,
    /// The question is still waiting to go out: the printer keeps the line paused.
    LineHeld,
}

/// XON and XOFF arrive as data where the driver does not take them (RTS/CTS or no flow
/// control, and some USB-serial adapters).
const XON: u8 = 0x11;
const XOFF: u8 = 0x13;

/// Reads the answer to a DLE EOT, passing over XON/XOFF bytes the printer sent meanwhile.
fn read_status_byte(port: &mut TTYPort, timeouts: Timeouts) -> std::io::Result<u8> {
    port.set_timeout(timeouts.status)?;
    let answer = read_status_byte_now(port);
    port.set_timeout(timeouts.stall)?;
    answer
}

fn read_status_byte_now(port: &mut TTYPort) -> std::io::Result<u8> {
    let mut byte = [0u8; 1];
    loop {
        port.read_exact(&mut byte)?;
        match byte[0] {
            XON | XOFF => continue,
            answer if is_status_byte(answer) => return Ok(answer),
            other => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("not a status byte: {other:#04x}"),
                ));
            }
        }
    }
}

/// The most bytes handed to the kernel in one write. A tty reports itself writable once 256
/// bytes are free, so a write no larger than that never blocks past the stall timeout when the
/// printer pauses the line in the middle of it.
const WRITE_PIECE: usize = 256;

/// The waits of a serial printer, from `[printer]` in the config.
#[derive(Debug, Clone, Copy)]
struct Timeouts {
    /// How long the printer has to answer a DLE EOT.
    status: Duration,
    /// How long the printer may hold the line paused before a job counts as interrupted.
    stall: Duration,
}

pub struct SerialPrinter {
    path: PathBuf,
    baud: u32,
    flow_control: FlowControl,
    status_query: StatusQuery,
    timeouts: Timeouts,
    port: Option<TTYPort>,
    open_failures: OpenFailures,
}

/// A port that stays unopenable is mentioned again after this many more failed attempts: an
/// hour at the print queue's 2 s retry. Warning on every attempt filled the journal's cap over
/// a weekend with the printer unplugged, pushing out what a maintainer needs to read.
const OPEN_FAILURE_REMINDER: u32 = 1800;

/// The failed attempts to open the port since it last opened, so that an unplugged printer is
/// logged when it goes, when the reason changes, now and then while it stays gone, and when it
/// comes back, instead of every two seconds.
#[derive(Debug, Default)]
struct OpenFailures {
    attempts: u32,
    last_error: String,
}

impl OpenFailures {
    /// Counts a failure; whether it deserves a warning.
    fn failed(&mut self, error: &str) -> bool {
        self.attempts = self.attempts.saturating_add(1);
        let changed = self.last_error != error;
        if changed {
            self.last_error = error.to_string();
        }
        changed || self.attempts % OPEN_FAILURE_REMINDER == 0
    }

    /// The port opened: how many attempts had failed before.
    fn opened(&mut self) -> u32 {
        self.last_error.clear();
        std::mem::take(&mut self.attempts)
    }
}

impl SerialPrinter {
    pub fn new(path: &Path, settings: &PrinterSection) -> SerialPrinter {
        SerialPrinter {
            path: path.to_path_buf(),
            baud: settings.baud,
            flow_control: settings.flow_control,
            status_query: settings.status,
            timeouts: Timeouts {
                status: Duration::from_millis(u64::from(settings.status_timeout_ms)),
                stall: Duration::from_secs(u64::from(settings.stall_timeout_seconds)),
            },
            port: None,
            open_failures: OpenFailures::default(),
        }
    }

    fn flow(&self) -> serialport::FlowControl {
        match self.flow_control {
            FlowControl::None => serialport::FlowControl::None,
            FlowControl::Xonxoff => serialport::FlowControl::Software,
            FlowControl::Rtscts => serialport::FlowControl::Hardware,
        }
    }

    /// The open port, opening it when it is not (first use, or the adapter came back).
    fn port(&mut self) -> Option<&mut TTYPort> {
        if self.port.is_none() {
            let path = self.path.to_string_lossy().into_owned();
            match serialport::new(path, self.baud)
                .data_bits(serialport::DataBits::Eight)
                .parity(serialport::Parity::None)
                .stop_bits(serialport::StopBits::One)
                .flow_control(self.flow())
                .timeout(self.timeouts.stall)
                .open_native()
            {
                Ok(port) => {
                    let failed_attempts = self.open_failures.opened();
                    info!(
                        port = %self.path.display(),
                        baud = self.baud,
                        failed_attempts,
                        "printer port open"
                    );
                    self.port = Some(port);
                }
                Err(e) => {
                    let error = e.to_string();
                    if self.open_failures.failed(&error) {
                        warn!(
                            port = %self.path.display(),
                            error,
                            attempts = self.open_failures.attempts,
                            "cannot open the printer port (trying again every few seconds)"
                        );
                    }
                    return None;
                }
            }
        }
        self.port.as_mut()
    }

    /// Asks one DLE EOT question. Flow control stays on: lifting it would make the kernel forget
    /// an XOFF the printer sent, and the next job would overrun a printer that is still busy. A
    /// printer pausing the line answers when it resumes; one that holds it (paper ran out in
    /// the middle of a job) never takes the question, which [`StatusFailure::LineHeld`] says.
    fn ask(&mut self, n: u8) -> Result<u8, StatusFailure> {
        let timeouts = self.timeouts;
        let port = self.port().ok_or(StatusFailure::NoAnswer)?;
        let answer = port
            .clear(ClearBuffer::Input)
            .map_err(std::io::Error::from)
            .and_then(|()| port.write_all(&dle_eot(n)))
            .and_then(|()| read_status_byte(port, timeouts));
        match answer {
            Ok(byte) => Ok(byte),
            Err(_) if port.bytes_to_write().unwrap_or(0) > 0 => {
                // The question never left: drop it so it does not go out late.
                let _ = port.clear(ClearBuffer::Output);
                Err(StatusFailure::LineHeld)
            }
            Err(_) => Err(StatusFailure::NoAnswer),
        }
    }

    fn query_status(&mut self) -> Result<PrinterStatus, StatusFailure> {
        let printer = self.ask(1)?;
        if printer & 0b0000_1000 != 0 {
            // Off-line: the offline-cause byte says why.
            let cause = self.ask(2)?;
            return Ok(if cause & 0b0000_0100 != 0 {
                PrinterStatus::CoverOpen
            } else if cause & 0b0010_0000 != 0 {
                PrinterStatus::PaperOut
            } else {
                PrinterStatus::Offline
            });
        }
        let paper = self.ask(4)?;
        Ok(if paper & 0b0110_0000 != 0 {
            PrinterStatus::PaperOut
        } else if paper & 0b0000_1100 != 0 {
            PrinterStatus::PaperNearEnd
        } else {
            PrinterStatus::Ready
        })
    }
}

impl PrinterPort for SerialPrinter {
    fn status(&mut self) -> PrinterStatus {
        if self.port().is_none() {
            return PrinterStatus::Disconnected;
        }
        if self.status_query == StatusQuery::None {
            // A printer that cannot answer is taken at its word: faults show only as stalls.
            return PrinterStatus::Ready;
        }
        match self.query_status() {
            Ok(status) => status,
            Err(StatusFailure::LineHeld) => {
                warn!("the printer holds the line paused and cannot be asked why");
                PrinterStatus::Offline
            }
            Err(StatusFailure::NoAnswer) => {
                warn!("the printer did not answer its status request");
                // Drop the port so that an adapter that was unplugged is opened afresh.
                self.port = None;
                PrinterStatus::Disconnected
            }
        }
    }

    fn send(&mut self, job: &RenderedJob, control: &SendControl) -> Result<usize, PrinterError> {
        let stall = self.timeouts.stall;
        let port = self
            .port()
            .ok_or(PrinterError::NotReady(PrinterStatus::Disconnected))?;
        let mut sent = Ok(());
        let mut bytes = 0;
        for chunk in job.chunks() {
            control.before_chunk()?;
            bytes += chunk.len();
            sent = chunk
                .chunks(WRITE_PIECE)
                .try_for_each(|piece| {
                    control.progress();
                    port.write_all(piece)
                })
                .and_then(|()| drain_output(port, stall));
            if sent.is_err() {
                break;
            }
        }
        sent.map(|()| bytes).map_err(|e| {
            self.port = None;
            PrinterError::Interrupted(e.to_string())
        })
    }

    fn describe(&self) -> String {
        let flow = match self.flow_control {
            FlowControl::None => "no flow control",
            FlowControl::Xonxoff => "XON/XOFF",
            FlowControl::Rtscts => "RTS/CTS",
        };
        format!("{} at {} baud, 8N1, {flow}", self.path.display(), self.baud)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts the warnings logged while it is the default subscriber.
    #[derive(Clone, Default)]
    struct WarningCounter(std::sync::Arc<std::sync::atomic::AtomicUsize>);

    impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for WarningCounter {
        fn on_event(
            &self,
            event: &tracing::Event<'_>,
            _: tracing_subscriber::layer::Context<'_, S>,
        ) {
            if *event.metadata().level() == tracing::Level::WARN {
                self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
    }

    #[test]
    fn an_unplugged_printer_is_logged_once_not_at_every_retry() {
        use tracing_subscriber::layer::SubscriberExt;
        let counter = WarningCounter::default();
        let subscriber = tracing_subscriber::registry().with(counter.clone());
        let dir = tempfile::tempdir().expect("a folder");
        let config = crate::config::Config::demo().expect("the demo config");
        let mut printer = SerialPrinter::new(&dir.path().join("no-printer"), &config.printer);
        tracing::subscriber::with_default(subscriber, || {
            // Ten minutes of the print queue's retries with the cable out.
            for _ in 0..300 {
                assert!(printer.port().is_none());
            }
        });
        let warnings = counter.0.load(std::sync::atomic::Ordering::Relaxed);
        assert_eq!(warnings, 1, "warnings for 300 failed attempts");
    }

    #[test]
    fn a_printer_gone_for_long_is_mentioned_again_now_and_then() {
        let mut failures = OpenFailures::default();
        // A weekend at one attempt every 2 s.
        let warnings = (0..86_400)
            .filter(|_| failures.failed("No such file or directory"))
            .count();
        // The first, then once an hour for 48 hours.
        assert_eq!(warnings, 1 + 48);
        assert!(
            failures.failed("Permission denied"),
            "a new reason is always told"
        );
        assert_eq!(failures.opened(), 86_401);
        assert!(
            failures.failed("No such file or directory"),
            "and a new outage"
        );
    }

    #[test]
    fn status_requests_are_exactly_three_bytes() {
        assert_eq!(dle_eot(1), [0x10, 0x04, 0x01]);
        assert_eq!(dle_eot(4).len(), 3);
    }

    #[test]
    fn only_bytes_of_the_status_pattern_count_as_answers() {
        assert!(is_status_byte(0x12));
        assert!(is_status_byte(0x16 | 0x08));
        assert!(is_status_byte(0x72));
        for not_status in [0x00, 0x11, 0x13, 0x41, 0xff] {
            assert!(!is_status_byte(not_status), "{not_status:#x}");
        }
    }
}
