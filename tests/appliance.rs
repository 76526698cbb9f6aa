//! The kiosk as systemd runs it: the real binary, its real window on a virtual display, a
//! notify socket standing in for systemd, and SIGTERM as `systemctl stop` sends it.

mod support;

use std::path::PathBuf;
use std::process::{Child, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use concern_kiosk::clock::local_now;
use concern_kiosk::concern::{Draft, Lang};
use concern_kiosk::config::Config;
use concern_kiosk::store::{JobKind, JobState, Store};
use concern_kiosk::supervisor::TASKS_ASKED_TO_STOP;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use support::display::VirtualDisplay;
use support::freeze::FrozenThread;
use support::printer_emulator::{EmulatorOptions, PrinterEmulator, decode};
use support::systemd_notify::NotifySocket;
use support::{TestKiosk, open_db};

/// Starting the window, opening the store and the first timer tick; generous for a loaded
/// CI machine, and a passing run never waits for it.
const STARTUP: Duration = Duration::from_secs(60);
/// What the test asks systemd's watchdog interval to be: the kiosk pings every half of it.
const WATCHDOG_USEC: u64 = 1_000_000;
/// Pings have stopped once none came for this long: six ping intervals.
const QUIET: Duration = Duration::from_secs(3);
/// systemd's TimeoutStopSec in the unit: the kiosk must be gone well within it.
const STOP_LIMIT: Duration = Duration::from_secs(30);

/// A kiosk whose timeouts are short, so the watchdog's silence limit (the longest wait the
/// config allows plus a margin) is short too, with uploads going to a port nobody listens on:
/// the uploader runs, fails, and waits, as in a centre whose internet is down.
fn short_timeouts(kiosk: &TestKiosk) {
    kiosk.set_key("status_timeout_ms", "300");
    kiosk.set_key("stall_timeout_seconds", "2");
    kiosk.set_key("request_timeout_seconds", "5");
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    kiosk.upload_to(&format!("http://127.0.0.1:{closed_port}"), "kiosk-token");
}

/// `concern-kiosk run` on `display`, with systemd's variables when `notify` is given; its log
/// goes to `log`.
fn start_kiosk(
    kiosk: &TestKiosk,
    display: &VirtualDisplay,
    notify: Option<&NotifySocket>,
    log: &PathBuf,
) -> Child {
    let mut command = kiosk.command(&["run"]);
    command
        .env("DISPLAY", &display.display)
        .env("RUST_LOG", "info")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("NOTIFY_SOCKET")
        .env_remove("WATCHDOG_USEC")
        .env_remove("WATCHDOG_PID")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).expect("the kiosk's log file"));
    if let Some(notify) = notify {
        command
            .env("NOTIFY_SOCKET", notify.path())
            .env("WATCHDOG_USEC", WATCHDOG_USEC.to_string());
    }
    command.spawn().expect("start the kiosk")
}

fn log_text(log: &PathBuf) -> String {
    std::fs::read_to_string(log).unwrap_or_default()
}

/// SIGTERM, as `systemctl stop` sends it, then waits for the exit.
fn stop(child: &mut Child, log: &PathBuf) -> ExitStatus {
    kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).expect("send SIGTERM");
    wait_for_exit(child, log)
}

/// The kiosk's exit status, once it has exited of its own accord within [`STOP_LIMIT`].
fn wait_for_exit(child: &mut Child, log: &PathBuf) -> ExitStatus {
    let deadline = Instant::now() + STOP_LIMIT;
    loop {
        if let Some(status) = child.try_wait().expect("look at the kiosk") {
            return status;
        }
        if Instant::now() >= deadline {
            support::kill_if_running(child);
            panic!(
                "the kiosk did not exit within {STOP_LIMIT:?} of SIGTERM; its log:\n{}",
                log_text(log)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The kiosk's log line when it stops pinging because a task went silent.
const STOPPED_PINGING: &str = "stopped reporting in";

/// Waits until no `WATCHDOG=1` has come for [`QUIET`] and the kiosk's log says it stopped
/// pinging on purpose (a gap on a loaded machine alone proves nothing); returns how many pings
/// came after `since` before they stopped, or `None` if they kept coming until `timeout`.
fn wait_for_pings_to_stop(
    notify: &NotifySocket,
    log: &PathBuf,
    since: Instant,
    timeout: Duration,
) -> Option<usize> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        let pings = notify.arrivals("WATCHDOG=1", since);
        let last = pings.last().copied().unwrap_or(since);
        if last.elapsed() >= QUIET && log_text(log).contains(STOPPED_PINGING) {
            return Some(pings.len());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    None
}

/// READY, then pings; the thread `thread` of the kiosk is held still (as a task stuck in a
/// driver or a library call would be) and the pings stop, with the log naming `task`; released,
/// the pings resume; SIGTERM ends the kiosk with exit code 0 and STOPPING=1.
fn pings_stop_while_one_task_hangs(
    thread: &str,
    task: &str,
    silence_limit: fn(&Config) -> Duration,
) {
    let display = VirtualDisplay::start();
    let kiosk = TestKiosk::new();
    short_timeouts(&kiosk);
    let config = kiosk.load_config();
    let silence_limit = silence_limit(&config);
    let notify = NotifySocket::bind(kiosk.dir.path());
    let log = kiosk.dir.path().join("kiosk.log");
    let started = Instant::now();
    let mut child = start_kiosk(&kiosk, &display, Some(&notify), &log);

    assert!(
        notify.wait_for("READY=1", 1, started, STARTUP),
        "no READY=1 from the kiosk; systemd heard {:?}; its log:\n{}",
        notify.transcript(),
        log_text(&log)
    );
    assert_eq!(notify.arrivals("READY=1", started).len(), 1);
    let ready_at = notify.arrivals("READY=1", started)[0];
    assert!(
        notify.wait_for("WATCHDOG=1", 3, ready_at, Duration::from_secs(10)),
        "no watchdog pings after READY; systemd heard {:?}",
        notify.transcript()
    );

    // One task hangs; the other two go on reporting in.
    let frozen = FrozenThread::freeze(child.id(), thread);
    let frozen_at = Instant::now();
    let pings_while_within_limit = wait_for_pings_to_stop(
        &notify,
        &log,
        frozen_at,
        silence_limit + Duration::from_secs(30),
    )
    .unwrap_or_else(|| {
        panic!(
            "watchdog pings went on with the {task} stopped for {:?}; log:\n{}",
            frozen_at.elapsed(),
            log_text(&log)
        )
    });
    // A task may be quiet for a while (a slow printer, a slow office): pings stop only once
    // it has been silent longer than the limit, not at once.
    assert!(
        pings_while_within_limit >= 5,
        "pings stopped after only {pings_while_within_limit}: the silence limit is not honoured"
    );
    assert!(
        child.try_wait().unwrap().is_none(),
        "the kiosk must stay up: restarting it is systemd's call"
    );
    let log_now = log_text(&log);
    let named: Vec<&str> = log_now
        .lines()
        .filter(|line| line.contains(STOPPED_PINGING))
        .collect();
    assert!(
        !named.is_empty()
            && named
                .iter()
                .all(|line| line.contains(&format!("task=\"{task}\""))),
        "the log must name the {task}, and only it: {named:?}"
    );

    // Released, the task reports in again and so do the pings.
    drop(frozen);
    let released_at = Instant::now();
    assert!(
        notify.wait_for("WATCHDOG=1", 2, released_at, silence_limit),
        "pings did not resume after the {task} came back; log:\n{}",
        log_text(&log)
    );

    let status = stop(&mut child, &log);
    assert_eq!(status.code(), Some(0), "log:\n{}", log_text(&log));
    assert!(
        notify.arrivals("STOPPING=1", started).len() == 1,
        "systemd was not told the kiosk is stopping: {:?}",
        notify.transcript()
    );
}

#[test]
fn systemd_hears_ready_then_pings_which_stop_while_the_print_task_hangs() {
    pings_stop_while_one_task_hangs("print-queue", "print task", |config| {
        concern_kiosk::printer::print_queue::silence_limit(&config.printer)
    });
}

#[test]
fn pings_stop_while_the_uploader_hangs() {
    pings_stop_while_one_task_hangs("uploader", "uploader", |config| {
        concern_kiosk::upload::silence_limit(&config.upload)
    });
}

/// The UI loop runs on the main thread, which carries the program's name.
#[test]
fn pings_stop_while_the_ui_loop_hangs() {
    pings_stop_while_one_task_hangs("concern-kiosk", "UI loop", |_| {
        concern_kiosk::ui::UI_SILENCE_LIMIT
    });
}

/// Files concerns through the library, as the touch screen would, so their receipts wait in
/// the queue before the kiosk starts.
/// Files `count` concerns with as many words as a resident may type, in English: a raster
/// receipt of about 29 KB, more than the serial line's buffers (about 17 KB in the pty and
/// 4 KB in the printer) hold, so the kiosk is still sending when the printer holds it back.
fn file_long_concerns(kiosk: &TestKiosk, count: usize) -> Vec<String> {
    let config = kiosk.load_config();
    let (mut store, _) = Store::open(&kiosk.data_dir(), local_now()).expect("open the store");
    let words = "The lift door will not close and the light in it flickers. "
        .repeat(10)
        .chars()
        .take(concern_kiosk::concern::MAX_TEXT_CHARS)
        .collect::<String>();
    (0..count)
        .map(|_| {
            let mut draft = Draft::preset("repairs", "1", Lang::En);
            draft.text = Some(words.trim().to_string());
            let draft = draft.validate(&config, local_now()).expect("a valid draft");
            store.file_concern(draft, "A").expect("file").ticket
        })
        .collect()
}

/// The receipt jobs in the queue, oldest first (after closing time the kiosk also queues the
/// day's summary at start-up; that one is not this test's business).
fn receipt_jobs(kiosk: &TestKiosk) -> Vec<(JobState, Option<String>)> {
    let (store, _) = Store::open(&kiosk.data_dir(), local_now()).expect("open the store");
    (1..)
        .map_while(|id| store.print_job(id).expect("read a job"))
        .filter(|job| matches!(job.kind, JobKind::Receipt { .. }))
        .map(|job| (job.state, job.last_error))
        .collect()
}

fn integrity(kiosk: &TestKiosk) -> String {
    open_db(&kiosk.db_path())
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .expect("integrity_check")
}

/// Waits until the printer has taken every byte the kiosk sent (none for half a second).
fn settled_bytes(printer: &PrinterEmulator) -> Vec<u8> {
    let mut last = printer.raw_bytes();
    loop {
        std::thread::sleep(Duration::from_millis(500));
        let now = printer.raw_bytes();
        if now.len() == last.len() {
            return now;
        }
        last = now;
    }
}

#[test]
fn sigterm_mid_receipt_finishes_the_band_exits_0_and_the_next_start_prints_it() {
    let display = VirtualDisplay::start();
    let holder = tempfile::tempdir().unwrap();
    let kiosk = TestKiosk::with_serial_printer(&holder.path().join("unused"), "raster");
    let port = kiosk.dir.path().join("receipt-printer");
    kiosk.set_key("port", &format!("{:?}", port.display().to_string()));
    let tickets = file_long_concerns(&kiosk, 2);
    let log = kiosk.dir.path().join("kiosk.log");

    // The printer goes busy (XOFF) once the first receipt is under way, so the kiosk is held
    // in the middle of it; SIGTERM comes then, and the printer takes bytes again only once
    // the kiosk has told its print task to stop. Whatever the machine's speed, the stop lands
    // mid-receipt: at most the pty's and the printer's buffers (about 21 KB) can have left.
    let printer = PrinterEmulator::plug_in_at(&port, EmulatorOptions::default())
        .expect("plug the printer in");
    let mut child = start_kiosk(&kiosk, &display, None, &log);
    printer
        .wait_for_raw_bytes(2_000, STARTUP)
        .expect("the first receipt starts printing");
    printer.send_xoff();
    kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).expect("send SIGTERM");
    let deadline = Instant::now() + STOP_LIMIT;
    while !log_text(&log).contains(TASKS_ASKED_TO_STOP) {
        assert!(
            Instant::now() < deadline,
            "the kiosk never told its tasks to stop; its log:\n{}",
            log_text(&log)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    printer.send_xon();
    let status = wait_for_exit(&mut child, &log);
    assert_eq!(status.code(), Some(0), "log:\n{}", log_text(&log));

    let printed = settled_bytes(&printer);
    assert!(
        printer.wait_for_printouts(1, Duration::ZERO).is_err(),
        "the test meant to stop mid-receipt, but a whole receipt was printed"
    );
    // The kiosk stopped between two bands: every command it sent is whole.
    decode(&printed).unwrap_or_else(|e| {
        panic!(
            "the kiosk stopped inside a printer command: {e} (of {} bytes)",
            printed.len()
        )
    });
    assert_eq!(integrity(&kiosk), "ok");
    let jobs = receipt_jobs(&kiosk);
    assert_eq!(jobs.len(), 2);
    assert_eq!(
        jobs[0].0,
        JobState::Pending,
        "the interrupted receipt waits"
    );
    assert!(
        jobs[0]
            .1
            .as_deref()
            .is_some_and(|why| why.contains("shutting down")),
        "the job says why it waits: {:?}",
        jobs[0].1
    );
    assert_eq!(jobs[1].0, JobState::Pending);
    drop(printer);

    // The next start prints both receipts, the interrupted one again from the top.
    let printer = PrinterEmulator::plug_in_at(&port, EmulatorOptions::default())
        .expect("plug the printer in again");
    let mut child = start_kiosk(&kiosk, &display, None, &log);
    let printouts = printer
        .wait_for_printouts(2, STARTUP)
        .expect("both receipts print after the restart");
    let scanned: Vec<Vec<String>> = printouts
        .iter()
        .map(|p| {
            p.raster_paper(384)
                .map(|paper| paper.qr_texts())
                .unwrap_or_default()
        })
        .collect();
    let (store, _) = Store::open(&kiosk.data_dir(), local_now()).expect("open the store");
    let expected: Vec<Vec<String>> = tickets
        .iter()
        .map(|t| {
            let filed = store.concern_by_ticket(t).expect("read").expect("filed");
            let codes = filed.concern.details.codes.expect("given at filing");
            vec![format!(
                "https://office.example.org/status/{}",
                codes.tracking
            )]
        })
        .collect();
    assert_eq!(
        scanned, expected,
        "each receipt's QR code carries its own concern's tracking code, in order"
    );
    let status = stop(&mut child, &log);
    assert_eq!(status.code(), Some(0), "log:\n{}", log_text(&log));
    assert_eq!(integrity(&kiosk), "ok");
    assert!(
        receipt_jobs(&kiosk)
            .iter()
            .all(|(state, _)| *state == JobState::Done)
    );
}
