//! [`PrinterEmulator`]: the live printer on the master side of a pty, its thread, its options
//! and what it records.
//!
//! What a Linux pty does and does not emulate (checked on kernel 6.18):
//!
//! * XON/XOFF works: with `IXON` set on the host's side (serialport's `FlowControl::Software`),
//!   an XOFF (0x13) written by the emulator stops the host's output — `write()` blocks, so
//!   serialport's `write` times out — and XON (0x11) restarts it; the host's reader never sees
//!   the two bytes. Without `IXON` they arrive in the host's input like any other byte.
//! * The emulator learns whether the host really stopped from the pty's packet mode
//!   (`TIOCPKT`): the kernel reports `TIOCPKT_STOP`/`TIOCPKT_START` to the master when the
//!   host's output is stopped/restarted. A pty has no wire, so bytes the host handed to the
//!   kernel before the XOFF sit in the pty buffer (up to 16 KiB) exactly like bytes in a real
//!   UART's transmit queue; the emulator leaves them there while the host is stopped, as a real
//!   host would not transmit them. A host that ignores XOFF is never reported stopped, so its
//!   bytes keep arriving and overflow the receive buffer as they would on a real line.
//! * Unplugging works by closing the master: the host's reads and writes then fail (`poll`
//!   reports `POLLHUP`; serialport maps it to `BrokenPipe`) and the `/dev/pts/N` node vanishes,
//!   so it can never be opened again. A replugged adapter therefore gets a new pty, and
//!   [`PrinterEmulator::plug_in_at`] keeps a stable path in front of it (a symlink, like the
//!   udev rule's `/dev/receipt-printer`) that disappears while unplugged.
//! * Baud rates, parity and RTS/CTS are not emulated: a pty moves bytes as fast as both ends
//!   read and write ([`EmulatorOptions::line_rate_baud`] can slow the receiving side down).

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, RawFd};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serialport::{SerialPort, TTYPort};

use super::decoder::Decoder;
use super::events::{DecodeError, Event};
use super::fault::Fault;
use super::printout::Printout;
use super::{XOFF, XON};

/// How much a typical cheap thermal printer buffers (Epson's TM-T20 offers 4 KiB or 45 bytes).
pub const DEFAULT_RECEIVE_BUFFER_BYTES: usize = 4096;
/// At most this many bytes are taken from the pty at a time, so that the bytes "in flight"
/// when the printer turns busy are about a UART FIFO's worth, not a whole job.
const READ_CHUNK_BYTES: usize = 32;
/// How long the worker sleeps or polls before it looks at its commands again.
const IDLE_POLL: Duration = Duration::from_millis(5);
/// How long after an XOFF/XON the emulator waits for the host to stop/restart before it
/// decides the host ignores flow control.
const HOST_REACTION_WINDOW: Duration = Duration::from_millis(200);
/// How long a request to the worker thread may take before the test is told it died.
const WORKER_REPLY_TIMEOUT: Duration = Duration::from_secs(10);

// Packet-mode status bits (linux/include/uapi/asm-generic/ioctls.h); libc does not define
// them for Linux.
const TIOCPKT_DATA: u8 = 0x00;
const TIOCPKT_STOP: u8 = 0x04;
const TIOCPKT_START: u8 = 0x08;

/// What a printer does with data that arrives while it is offline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FaultPolicy {
    /// Keep it in the receive buffer and print it when the fault clears, sending XOFF when
    /// the buffer fills — what Epson-style printers do (DIP switch "busy: receive buffer
    /// full"); once that XOFF holds a host back, not even its `DLE EOT` gets through, as on a
    /// real line. A kiosk that sends a job into a fault and resends it later prints it twice.
    #[default]
    Hold,
    /// Throw it away, counted in [`LostBytes::discarded_while_faulted`] — what some cheap
    /// printers do. A kiosk that sends into a fault and forgets the job loses a receipt.
    Discard,
}

/// Automatic busy periods: after every `every_bytes` bytes received, the printer stops
/// taking bytes from its receive buffer for `pause`, with XOFF at the start and XON at the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BusyPattern {
    pub every_bytes: usize,
    pub pause: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmulatorOptions {
    /// Bytes the printer holds while busy or faulted; more are dropped (counted).
    pub receive_buffer_bytes: usize,
    pub busy: Option<BusyPattern>,
    /// Receive no faster than this line rate (10 bits a byte); `None`: as fast as the pty.
    pub line_rate_baud: Option<u32>,
    pub fault_policy: FaultPolicy,
}

impl Default for EmulatorOptions {
    fn default() -> Self {
        EmulatorOptions {
            receive_buffer_bytes: DEFAULT_RECEIVE_BUFFER_BYTES,
            busy: None,
            line_rate_baud: None,
            fault_policy: FaultPolicy::Hold,
        }
    }
}

/// Whether the host's output is stopped, as the pty reports it to the emulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HostOutput {
    /// The host's line discipline honoured XOFF: it sends nothing until XON.
    Stopped,
    #[default]
    Running,
}

/// Bytes that reached the printer but will never be printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LostBytes {
    /// Arrived while the receive buffer was full (the host ignored XOFF).
    pub overflowed: usize,
    /// Arrived during a fault under [`FaultPolicy::Discard`].
    pub discarded_while_faulted: usize,
}

impl LostBytes {
    pub fn total(&self) -> usize {
        self.overflowed + self.discarded_while_faulted
    }
}

/// One `DLE EOT n` the emulator answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusAnswer {
    pub request: u8,
    pub answer: u8,
}

/// A wait that ran out, with what the emulator had seen, for the failure message.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "waited {waited:?} for {expected}; got {cut_printouts} cut printouts, {raw_bytes} raw \
     bytes, lost {lost:?}, decode errors {decode_errors:?}"
)]
pub struct WaitTimedOut {
    pub waited: Duration,
    pub expected: String,
    pub cut_printouts: usize,
    pub raw_bytes: usize,
    pub lost: LostBytes,
    pub decode_errors: Vec<DecodeError>,
}

/// What the worker thread records and the test reads.
#[derive(Debug, Default)]
struct Recording {
    fault: Fault,
    /// The print engine: decodes what it takes from the receive buffer.
    engine: Decoder,
    events: Vec<Event>,
    decode_errors: Vec<DecodeError>,
    raw_bytes: Vec<u8>,
    status_answers: Vec<StatusAnswer>,
    lost: LostBytes,
    host_output: HostOutput,
    connected: bool,
}

impl Recording {
    fn printouts(&self) -> Vec<Printout> {
        let mut events = self.events.clone();
        events.extend(self.engine.pending_image().map(Event::Image));
        Printout::split(&events)
    }

    fn timed_out(&self, waited: Duration, expected: String) -> WaitTimedOut {
        WaitTimedOut {
            waited,
            expected,
            cut_printouts: self.printouts().iter().filter(|p| p.cut).count(),
            raw_bytes: self.raw_bytes.len(),
            lost: self.lost,
            decode_errors: self.decode_errors.clone(),
        }
    }
}

struct Shared {
    recording: Mutex<Recording>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Recording> {
        // A panic elsewhere must not hide what was recorded from the failing test.
        self.recording
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// The printer's end of the cable: the pty master, in packet mode.
struct PtyLink {
    master: File,
    /// The host end from `TTYPort::pair()`, held open by [`PrinterEmulator::plug_in_at`] so
    /// that a host closing and reopening the device path does not hang up the master.
    host_end_keeper: Option<TTYPort>,
}

impl PtyLink {
    fn new(far_end: TTYPort, host_end_keeper: Option<TTYPort>) -> io::Result<PtyLink> {
        // SAFETY: `into_raw_fd` hands over the only owner of the open descriptor.
        let master = unsafe { File::from_raw_fd(far_end.into_raw_fd()) };
        let enable: nix::libc::c_int = 1;
        // SAFETY: TIOCPKT reads one c_int through the pointer, which outlives the call.
        let result = unsafe {
            nix::libc::ioctl(
                master.as_raw_fd(),
                nix::libc::TIOCPKT,
                &enable as *const nix::libc::c_int,
            )
        };
        if result != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(PtyLink {
            master,
            host_end_keeper,
        })
    }

    /// A new pty pair whose host end `device_path` (a symlink) points to.
    fn create_at(device_path: &Path) -> io::Result<PtyLink> {
        let (far_end, host_end) = TTYPort::pair()?;
        let host_path = host_end
            .name()
            .ok_or_else(|| io::Error::other("the pty's host end has no name"))?;
        replace_symlink(Path::new(&host_path), device_path)?;
        PtyLink::new(far_end, Some(host_end))
    }
}

/// Points `link` at `target`, atomically, as udev does when a device appears.
fn replace_symlink(target: &Path, link: &Path) -> io::Result<()> {
    let mut staging_name = link.file_name().unwrap_or_default().to_os_string();
    staging_name.push(".plugging-in");
    let staging = link.with_file_name(staging_name);
    match std::fs::remove_file(&staging) {
        Err(error) if error.kind() != io::ErrorKind::NotFound => return Err(error),
        _ => {}
    }
    std::os::unix::fs::symlink(target, &staging)?;
    std::fs::rename(&staging, link)
}

enum Command {
    SetBusy {
        busy: bool,
        reply: Sender<HostOutput>,
    },
    Attach {
        link: PtyLink,
        reply: Sender<()>,
    },
    Detach {
        reply: Sender<()>,
    },
    PowerCycle {
        reply: Sender<()>,
    },
    Shutdown,
}

/// A receipt printer on the far end of a pseudo-terminal, run by its own thread.
///
/// Bytes go through three stages, as in a real printer: on arrival a framer answers
/// `DLE EOT n` at once (real-time commands skip the queue); the bytes go into the receive
/// buffer (dropped when it is full); the print engine takes them out and decodes them, unless
/// the printer is busy or, under [`FaultPolicy::Hold`], faulted.
pub struct PrinterEmulator {
    shared: Arc<Shared>,
    commands: Sender<Command>,
    worker: Option<JoinHandle<()>>,
    device_path: Option<PathBuf>,
}

impl PrinterEmulator {
    /// Runs a printer on `far_end`, the first (master) port of `TTYPort::pair()`; the host
    /// uses the second one, or opens it again by its name. Keep that second port open for
    /// the emulator's life: when no host descriptor is open the pty hangs up.
    ///
    /// Panics when `far_end` is not a pty master (packet mode is what shows whether the host
    /// honours XOFF).
    pub fn start(far_end: TTYPort) -> PrinterEmulator {
        PrinterEmulator::start_with(far_end, EmulatorOptions::default())
    }

    pub fn start_with(far_end: TTYPort, options: EmulatorOptions) -> PrinterEmulator {
        let link = PtyLink::new(far_end, None)
            .expect("the printer emulator needs the master (first) port of TTYPort::pair()");
        PrinterEmulator::spawn(link, options, None)
    }

    /// Plugs a printer in at `device_path`: a new pty pair, with `device_path` a symlink to
    /// its host end, which the host opens like `/dev/receipt-printer`. This form can be
    /// unplugged with [`disconnect`](Self::disconnect) and plugged in again with
    /// [`reconnect`](Self::reconnect).
    pub fn plug_in_at(device_path: &Path, options: EmulatorOptions) -> io::Result<Self> {
        let link = PtyLink::create_at(device_path)?;
        Ok(PrinterEmulator::spawn(
            link,
            options,
            Some(device_path.to_path_buf()),
        ))
    }

    fn spawn(link: PtyLink, options: EmulatorOptions, device_path: Option<PathBuf>) -> Self {
        let shared = Arc::new(Shared {
            recording: Mutex::new(Recording {
                connected: true,
                ..Recording::default()
            }),
            changed: Condvar::new(),
        });
        let (commands, command_inbox) = mpsc::channel();
        let worker = Worker::new(Arc::clone(&shared), command_inbox, options, link);
        let worker = thread::Builder::new()
            .name("printer-emulator".to_string())
            .spawn(move || worker.run())
            .expect("start the printer emulator thread");
        PrinterEmulator {
            shared,
            commands,
            worker: Some(worker),
            device_path,
        }
    }

    /// The symlink the host opens, for an emulator made by [`plug_in_at`](Self::plug_in_at).
    pub fn device_path(&self) -> Option<&Path> {
        self.device_path.as_deref()
    }

    /// Sets the condition `DLE EOT` reports and whether the printer prints.
    pub fn set_fault(&self, fault: Fault) {
        self.shared.lock().fault = fault;
    }

    pub fn fault(&self) -> Fault {
        self.shared.lock().fault
    }

    /// Acts busy: sends XOFF and stops printing until [`send_xon`](Self::send_xon). Returns
    /// once the host has stopped, or after 200 ms when it ignores XOFF.
    pub fn send_xoff(&self) -> HostOutput {
        self.request(|reply| Command::SetBusy { busy: true, reply })
    }

    /// Ends [`send_xoff`](Self::send_xoff)'s busy period: sends XON (unless an automatic busy
    /// period or a full buffer still holds it back) and returns once the host runs again.
    pub fn send_xon(&self) -> HostOutput {
        self.request(|reply| Command::SetBusy { busy: false, reply })
    }

    /// Pulls the cable: closes the pty master, so the host's reads and writes fail, and
    /// removes the device symlink of a [`plug_in_at`](Self::plug_in_at) emulator. The
    /// printer keeps its state, including a command cut off halfway, as a real one would.
    pub fn disconnect(&self) {
        self.request(|reply| Command::Detach { reply });
        if let Some(path) = &self.device_path {
            // Already gone is what we want.
            let _ = std::fs::remove_file(path);
        }
    }

    /// Plugs the cable in again: a new pty behind the same device path. Only for an emulator
    /// made by [`plug_in_at`](Self::plug_in_at): a closed pty can never be reopened.
    pub fn reconnect(&self) -> io::Result<()> {
        let Some(path) = &self.device_path else {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "an emulator started on a bare pty cannot be replugged; use plug_in_at",
            ));
        };
        let link = PtyLink::create_at(path)?;
        self.request(|reply| Command::Attach { link, reply });
        Ok(())
    }

    /// Switches the printer off and on: the receive buffer, a half-received command and all
    /// settings are gone; what was printed and the fault stay.
    pub fn power_cycle(&self) {
        self.request(|reply| Command::PowerCycle { reply });
    }

    pub fn is_connected(&self) -> bool {
        self.shared.lock().connected
    }

    /// The receipts printed so far; the last one is uncut while paper is still coming out.
    pub fn printouts(&self) -> Vec<Printout> {
        self.shared.lock().printouts()
    }

    /// Everything the print engine decoded, in order.
    pub fn events(&self) -> Vec<Event> {
        self.shared.lock().events.clone()
    }

    /// Every byte that arrived over the pty, including lost ones.
    pub fn raw_bytes(&self) -> Vec<u8> {
        self.shared.lock().raw_bytes.clone()
    }

    pub fn decode_errors(&self) -> Vec<DecodeError> {
        self.shared.lock().decode_errors.clone()
    }

    pub fn status_answers(&self) -> Vec<StatusAnswer> {
        self.shared.lock().status_answers.clone()
    }

    pub fn lost_bytes(&self) -> LostBytes {
        self.shared.lock().lost
    }

    /// Whether the pty last reported the host's output stopped by XOFF.
    pub fn host_output(&self) -> HostOutput {
        self.shared.lock().host_output
    }

    /// Waits until at least `count` receipts have been cut; returns all cut receipts.
    pub fn wait_for_printouts(
        &self,
        count: usize,
        timeout: Duration,
    ) -> Result<Vec<Printout>, WaitTimedOut> {
        let recording = self.wait_until(timeout, |recording| {
            recording.printouts().iter().filter(|p| p.cut).count() >= count
        });
        match recording {
            Ok(recording) => Ok(recording
                .printouts()
                .into_iter()
                .filter(|printout| printout.cut)
                .collect()),
            Err(recording) => Err(recording.timed_out(timeout, format!("{count} cut printouts"))),
        }
    }

    /// Waits until at least `count` bytes have arrived over the pty.
    pub fn wait_for_raw_bytes(&self, count: usize, timeout: Duration) -> Result<(), WaitTimedOut> {
        match self.wait_until(timeout, |recording| recording.raw_bytes.len() >= count) {
            Ok(_) => Ok(()),
            Err(recording) => Err(recording.timed_out(timeout, format!("{count} raw bytes"))),
        }
    }

    fn wait_until(
        &self,
        timeout: Duration,
        done: impl Fn(&Recording) -> bool,
    ) -> Result<MutexGuard<'_, Recording>, MutexGuard<'_, Recording>> {
        let deadline = Instant::now() + timeout;
        let mut recording = self.shared.lock();
        loop {
            if done(&recording) {
                return Ok(recording);
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(recording);
            }
            recording = self
                .shared
                .changed
                .wait_timeout(recording, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    fn request<T>(&self, command: impl FnOnce(Sender<T>) -> Command) -> T {
        let (reply, answer) = mpsc::channel();
        self.commands
            .send(command(reply))
            .expect("the printer emulator thread has stopped");
        answer
            .recv_timeout(WORKER_REPLY_TIMEOUT)
            .expect("the printer emulator thread did not answer")
    }
}

impl Drop for PrinterEmulator {
    fn drop(&mut self) {
        // The worker may already be gone after a panic; there is nothing left to stop then.
        let _ = self.commands.send(Command::Shutdown);
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
        if let Some(path) = &self.device_path {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// The emulator's thread: owns the pty master and everything between it and the print engine.
struct Worker {
    shared: Arc<Shared>,
    commands: Receiver<Command>,
    options: EmulatorOptions,
    link: Option<PtyLink>,
    /// Sees every byte on arrival, only to find `DLE EOT n` at a command boundary.
    framer: Decoder,
    receive_buffer: VecDeque<u8>,
    busy_by_request: bool,
    busy_until: Option<Instant>,
    received_since_busy: usize,
    buffer_nearly_full: bool,
    xoff_sent: bool,
    host_stopped: bool,
    /// Set after sending XOFF/XON, until the host reacts or the window closes.
    reaction_deadline: Option<Instant>,
    reaction_waiters: Vec<Sender<HostOutput>>,
    next_read_at: Instant,
}

impl Worker {
    fn new(
        shared: Arc<Shared>,
        commands: Receiver<Command>,
        options: EmulatorOptions,
        link: PtyLink,
    ) -> Worker {
        Worker {
            shared,
            commands,
            options,
            link: Some(link),
            framer: Decoder::new(),
            receive_buffer: VecDeque::new(),
            busy_by_request: false,
            busy_until: None,
            received_since_busy: 0,
            buffer_nearly_full: false,
            xoff_sent: false,
            host_stopped: false,
            reaction_deadline: None,
            reaction_waiters: Vec::new(),
            next_read_at: Instant::now(),
        }
    }

    fn run(mut self) {
        loop {
            if !self.handle_commands() {
                return;
            }
            let now = Instant::now();
            if self.busy_until.is_some_and(|until| now >= until) {
                self.busy_until = None;
            }
            self.run_print_engine();
            self.update_flow_control(now);
            self.expire_reaction_window(now);
            self.pump_link();
        }
    }

    /// Returns false when the emulator is being dropped.
    fn handle_commands(&mut self) -> bool {
        loop {
            let command = match self.commands.try_recv() {
                Ok(command) => command,
                Err(mpsc::TryRecvError::Empty) => return true,
                Err(mpsc::TryRecvError::Disconnected) => return false,
            };
            match command {
                Command::SetBusy { busy, reply } => {
                    self.busy_by_request = busy;
                    self.update_flow_control(Instant::now());
                    if self.reaction_deadline.is_some() {
                        self.reaction_waiters.push(reply);
                    } else {
                        let _ = reply.send(self.host_output());
                    }
                }
                Command::Attach { link, reply } => {
                    self.link = Some(link);
                    self.set_connected(true);
                    let _ = reply.send(());
                }
                Command::Detach { reply } => {
                    self.link = None;
                    // The host's next port starts with its output running.
                    self.xoff_sent = false;
                    self.set_host_stopped(false);
                    self.resolve_reaction();
                    self.set_connected(false);
                    let _ = reply.send(());
                }
                Command::PowerCycle { reply } => {
                    self.framer = Decoder::new();
                    self.receive_buffer.clear();
                    self.busy_by_request = false;
                    self.busy_until = None;
                    self.received_since_busy = 0;
                    self.buffer_nearly_full = false;
                    self.shared.lock().engine = Decoder::new();
                    let _ = reply.send(());
                }
                Command::Shutdown => return false,
            }
        }
    }

    fn host_output(&self) -> HostOutput {
        if self.host_stopped {
            HostOutput::Stopped
        } else {
            HostOutput::Running
        }
    }

    fn set_connected(&self, connected: bool) {
        self.shared.lock().connected = connected;
        self.shared.changed.notify_all();
    }

    fn set_host_stopped(&mut self, stopped: bool) {
        self.host_stopped = stopped;
        self.shared.lock().host_output = self.host_output();
    }

    /// Moves bytes from the receive buffer into the print engine, unless the printer is busy.
    fn run_print_engine(&mut self) {
        if self.receive_buffer.is_empty() {
            return;
        }
        let mut recording = self.shared.lock();
        let faulted = recording.fault.stops_printing();
        let holding = faulted && self.options.fault_policy == FaultPolicy::Hold;
        if self.busy_by_request || self.busy_until.is_some() || holding {
            return;
        }
        let bytes: Vec<u8> = self.receive_buffer.drain(..).collect();
        if faulted {
            recording.lost.discarded_while_faulted += bytes.len();
        } else {
            for result in recording.engine.push(&bytes) {
                match result {
                    Ok(event) => recording.events.push(event),
                    Err(error) => recording.decode_errors.push(error),
                }
            }
        }
        drop(recording);
        self.shared.changed.notify_all();
    }

    /// Sends XOFF when the printer turns busy or its buffer nearly fills, XON when it is ready.
    fn update_flow_control(&mut self, now: Instant) {
        let capacity = self.options.receive_buffer_bytes;
        let filled = self.receive_buffer.len();
        // Hysteresis, so that a buffer hovering at the mark does not send a storm of XON/XOFF.
        let margin = (capacity / 2).min(256);
        if self.buffer_nearly_full {
            self.buffer_nearly_full = filled > capacity / 2;
        } else {
            self.buffer_nearly_full = capacity.saturating_sub(filled) < margin;
        }
        let want_xoff =
            self.busy_by_request || self.busy_until.is_some() || self.buffer_nearly_full;
        if want_xoff == self.xoff_sent || self.link.is_none() {
            return;
        }
        if self
            .write_to_host(&[if want_xoff { XOFF } else { XON }])
            .is_ok()
        {
            self.xoff_sent = want_xoff;
            self.reaction_deadline = Some(now + HOST_REACTION_WINDOW);
        }
    }

    fn expire_reaction_window(&mut self, now: Instant) {
        if self
            .reaction_deadline
            .is_some_and(|deadline| now >= deadline)
        {
            if !self.xoff_sent {
                // XON always restarts a host that honours XOFF; silence means it never stopped.
                self.set_host_stopped(false);
            }
            self.resolve_reaction();
        }
    }

    fn resolve_reaction(&mut self) {
        self.reaction_deadline = None;
        let output = self.host_output();
        for waiter in self.reaction_waiters.drain(..) {
            let _ = waiter.send(output);
        }
    }

    /// Waits briefly for the pty, then reads one packet: data or a flow-control report.
    fn pump_link(&mut self) {
        let Some(link) = &self.link else {
            thread::sleep(IDLE_POLL);
            return;
        };
        let fd = link.master.as_raw_fd();
        // A stopped host sends nothing; while waiting for it to stop after XOFF, bytes it wrote
        // before the XOFF stay queued on its side, as in a real UART's transmit buffer.
        let awaiting_stop = self.xoff_sent && self.reaction_deadline.is_some();
        let take_data = !self.host_stopped && !awaiting_stop;
        if take_data && self.options.line_rate_baud.is_some() {
            let now = Instant::now();
            if now < self.next_read_at {
                thread::sleep((self.next_read_at - now).min(IDLE_POLL));
                return;
            }
        }
        let interest = if take_data {
            nix::libc::POLLIN | nix::libc::POLLPRI
        } else {
            nix::libc::POLLPRI
        };
        let ready = match poll_fd(fd, interest, IDLE_POLL) {
            Ok(ready) => ready,
            Err(_) => {
                thread::sleep(IDLE_POLL);
                return;
            }
        };
        if ready & (nix::libc::POLLIN | nix::libc::POLLPRI) != 0 {
            self.read_packet();
        } else if ready & (nix::libc::POLLHUP | nix::libc::POLLERR) != 0 {
            // No host has the port open; the master reports a hangup until one does.
            thread::sleep(IDLE_POLL);
        }
    }

    fn read_packet(&mut self) {
        let Some(link) = &mut self.link else {
            return;
        };
        let mut packet = [0u8; 1 + READ_CHUNK_BYTES];
        let length = match link.master.read(&mut packet) {
            Ok(length) => length,
            Err(_) => {
                // EIO: the host closed its last descriptor between poll and read.
                thread::sleep(IDLE_POLL);
                return;
            }
        };
        let Some((&header, data)) = packet[..length].split_first() else {
            return;
        };
        if header == TIOCPKT_DATA {
            self.receive(data);
            return;
        }
        if header & TIOCPKT_STOP != 0 {
            self.set_host_stopped(true);
            if self.xoff_sent {
                self.resolve_reaction();
            }
        }
        if header & TIOCPKT_START != 0 {
            self.set_host_stopped(false);
            if !self.xoff_sent {
                self.resolve_reaction();
            }
        }
    }

    /// What the printer's receive interrupt does with bytes from the line.
    fn receive(&mut self, data: &[u8]) {
        let now = Instant::now();
        if let Some(baud) = self.options.line_rate_baud {
            let line_time = Duration::from_secs_f64(data.len() as f64 * 10.0 / f64::from(baud));
            self.next_read_at = self.next_read_at.max(now) + line_time;
        }
        let capacity = self.options.receive_buffer_bytes;
        let mut overflowed = 0;
        for &byte in data {
            if self.receive_buffer.len() >= capacity {
                overflowed += 1;
                continue;
            }
            self.receive_buffer.push_back(byte);
            self.received_since_busy += 1;
            let busy_period_due = self.options.busy.filter(|busy| {
                self.busy_until.is_none() && self.received_since_busy >= busy.every_bytes
            });
            if let Some(busy) = busy_period_due {
                self.busy_until = Some(now + busy.pause);
                self.received_since_busy = 0;
            }
        }
        {
            // One lock for both, so a test that sees the bytes also sees what was lost of them.
            let mut recording = self.shared.lock();
            recording.raw_bytes.extend_from_slice(data);
            recording.lost.overflowed += overflowed;
        }
        self.shared.changed.notify_all();
        for result in self.framer.push(data) {
            if let Ok(Event::StatusRequest(request)) = result {
                self.answer_status(request);
            }
        }
    }

    fn answer_status(&mut self, request: u8) {
        let Some(link) = &mut self.link else {
            return;
        };
        let mut recording = self.shared.lock();
        let Some(answer) = recording.fault.status_byte(request) else {
            return;
        };
        // Written under the lock, so a test that has read the answer also finds it recorded.
        if link.master.write_all(&[answer]).is_ok() {
            recording
                .status_answers
                .push(StatusAnswer { request, answer });
        }
    }

    fn write_to_host(&mut self, bytes: &[u8]) -> io::Result<()> {
        match &mut self.link {
            Some(link) => link.master.write_all(bytes),
            None => Err(io::Error::from(io::ErrorKind::NotConnected)),
        }
    }
}

/// `poll(2)` on one descriptor; returns the events that are ready (0 on timeout).
fn poll_fd(fd: RawFd, interest: nix::libc::c_short, timeout: Duration) -> io::Result<i16> {
    let mut entry = nix::libc::pollfd {
        fd,
        events: interest,
        revents: 0,
    };
    let timeout_ms =
        nix::libc::c_int::try_from(timeout.as_millis()).unwrap_or(nix::libc::c_int::MAX);
    // SAFETY: `entry` is one valid pollfd that outlives the call, and the count says one.
    let result = unsafe { nix::libc::poll(&mut entry, 1, timeout_ms) };
    if result < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(entry.revents)
}
