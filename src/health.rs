//! The kiosk's health towards systemd: the long-running tasks (UI loop, print task, uploader)
//! report in on a shared board, READY goes out once the kiosk is on screen, and the watchdog is
//! pinged only while every task has reported in recently, so one stuck task gets the whole
//! kiosk restarted.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use sd_notify::NotifyState;
use tracing::{error, info, warn};

/// A task the watchdog waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    UiLoop,
    PrintTask,
    Uploader,
}

impl Task {
    pub fn name(self) -> &'static str {
        match self {
            Task::UiLoop => "UI loop",
            Task::PrintTask => "print task",
            Task::Uploader => "uploader",
        }
    }
}

/// One task's line on the board: when it last reported in, and how long it may stay silent.
struct Slot {
    task: Task,
    silence_limit: Duration,
    /// Milliseconds after the board's start; a monotonic clock, so a wall-clock change on the
    /// kiosk never looks like silence.
    last_beat_ms: AtomicU64,
}

/// Where the tasks report in.
pub struct HealthBoard {
    started: Instant,
    slots: Mutex<Vec<Arc<Slot>>>,
}

/// A task's way to say "still working"; cheap to clone and to call often.
#[derive(Clone)]
pub struct Heartbeat {
    started: Instant,
    slot: Arc<Slot>,
}

impl Heartbeat {
    pub fn beat(&self) {
        self.slot.last_beat_ms.store(
            millis_since(self.started, Instant::now()),
            Ordering::Relaxed,
        );
    }
}

fn millis_since(start: Instant, now: Instant) -> u64 {
    u64::try_from(now.saturating_duration_since(start).as_millis()).unwrap_or(u64::MAX)
}

impl HealthBoard {
    pub fn new() -> Arc<HealthBoard> {
        Arc::new(HealthBoard {
            started: Instant::now(),
            slots: Mutex::new(Vec::new()),
        })
    }

    /// Puts `task` on the board (reported in as of now), to count as stuck once it has been
    /// silent for longer than `silence_limit`: each task knows its own longest wait. Only tasks
    /// that run are registered: a kiosk whose uploads are switched off is not restarted for a
    /// silent uploader.
    pub fn register(&self, task: Task, silence_limit: Duration) -> Heartbeat {
        let slot = Arc::new(Slot {
            task,
            silence_limit,
            last_beat_ms: AtomicU64::new(0),
        });
        self.slots
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(Arc::clone(&slot));
        let heartbeat = Heartbeat {
            started: self.started,
            slot,
        };
        heartbeat.beat();
        heartbeat
    }

    /// The tasks that have not reported in for longer than their silence limit, with how long.
    pub fn silent_tasks(&self, now: Instant) -> Vec<(Task, Duration)> {
        let now_ms = millis_since(self.started, now);
        self.slots
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .iter()
            .filter_map(|slot| {
                let silent = Duration::from_millis(
                    now_ms.saturating_sub(slot.last_beat_ms.load(Ordering::Relaxed)),
                );
                (silent > slot.silence_limit).then_some((slot.task, silent))
            })
            .collect()
    }
}

/// Time each task adds on top of the longest single wait its config allows, for the work
/// between two reports (drawing a long summary on a slow Pi, SQLite waiting up to 5 s for
/// another writer), so a slow but working kiosk is never restarted.
pub const SILENCE_MARGIN: Duration = Duration::from_secs(15);

/// Tells systemd the kiosk is up (`Type=notify`). Without `NOTIFY_SOCKET` (a laptop, a test)
/// this does nothing.
pub fn notify_ready() {
    match sd_notify::notify(&[NotifyState::Ready]) {
        Ok(()) => info!("ready: the store is open and the kiosk screen is up"),
        Err(e) => error!(error = %e, "cannot tell systemd the kiosk is ready"),
    }
}

/// Tells systemd the kiosk is shutting down on purpose, so the wait is not taken for a hang.
pub fn notify_stopping() {
    if let Err(e) = sd_notify::notify(&[NotifyState::Stopping]) {
        warn!(error = %e, "cannot tell systemd the kiosk is stopping");
    }
}

/// How often the watchdog thread notices a stop request while it waits between pings.
const STOP_CHECKS: Duration = Duration::from_millis(200);

/// Sleeps for `duration`, looking at `stop` every `check_every`, and wakes early once it is
/// set: how the kiosk's background threads wait, so a shutdown never waits out a long sleep.
pub fn sleep_unless_stopped(stop: &AtomicBool, duration: Duration, check_every: Duration) {
    let until = Instant::now() + duration;
    while !stop.load(Ordering::Relaxed) {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        std::thread::sleep(check_every.min(left));
    }
}

/// The watchdog pinger: runs while systemd asks for pings (`WATCHDOG_USEC`).
pub struct Watchdog {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Watchdog {
    /// Starts pinging at half the interval systemd asks for (its own advice), skipping every
    /// ping while a task on `board` has been silent for longer than its limit. Returns `None`
    /// when systemd does not watch this process.
    pub fn start(board: Arc<HealthBoard>) -> Option<Watchdog> {
        let interval = sd_notify::watchdog_enabled()? / 2;
        info!(ping_every_ms = interval.as_millis(), "systemd watchdog on");
        let stop = Arc::new(AtomicBool::new(false));
        let thread = std::thread::Builder::new().name("watchdog".into()).spawn({
            let stop = Arc::clone(&stop);
            move || ping_while_healthy(&board, interval, &stop)
        });
        match thread {
            Ok(thread) => Some(Watchdog {
                stop,
                thread: Some(thread),
            }),
            Err(e) => {
                // Without pings systemd restarts the kiosk: better than a kiosk nobody watches.
                error!(error = %e, "cannot start the watchdog thread");
                None
            }
        }
    }

    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            error!("the watchdog thread panicked");
        }
    }
}

fn ping_while_healthy(board: &HealthBoard, interval: Duration, stop: &AtomicBool) {
    let mut was_healthy = true;
    while !stop.load(Ordering::Relaxed) {
        let silent = board.silent_tasks(Instant::now());
        if silent.is_empty() {
            if !was_healthy {
                info!("every task reports in again: watchdog pings resume");
            }
            if let Err(e) = sd_notify::notify(&[NotifyState::Watchdog]) {
                warn!(error = %e, "cannot ping the systemd watchdog");
            }
        } else if was_healthy {
            for (task, silent_for) in &silent {
                error!(
                    task = task.name(),
                    silent_s = silent_for.as_secs(),
                    "a task has stopped reporting in: no more watchdog pings, systemd will restart the kiosk"
                );
            }
        }
        was_healthy = silent.is_empty();
        sleep_unless_stopped(stop, interval, STOP_CHECKS);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_that_stops_beating_is_named_once_it_passes_the_limit() {
        let board = HealthBoard::new();
        let limit = Duration::from_secs(30);
        let ui = board.register(Task::UiLoop, limit);
        let printer = board.register(Task::PrintTask, limit);
        let at = |seconds: u64| board.started + Duration::from_secs(seconds);
        // The print task last reported at 0 s, the UI at 10 s.
        printer.slot.last_beat_ms.store(0, Ordering::Relaxed);
        ui.slot.last_beat_ms.store(10_000, Ordering::Relaxed);
        let silent_at = |seconds| -> Vec<Task> {
            board
                .silent_tasks(at(seconds))
                .into_iter()
                .map(|(task, _)| task)
                .collect()
        };
        assert_eq!(silent_at(30), []);
        assert_eq!(silent_at(35), [Task::PrintTask]);
        assert_eq!(silent_at(41), [Task::UiLoop, Task::PrintTask]);
        printer.beat();
        ui.beat();
        assert_eq!(silent_at(0), []);
    }

    #[test]
    fn a_stop_request_ends_the_sleep_early() {
        let stop = AtomicBool::new(true);
        let started = Instant::now();
        sleep_unless_stopped(&stop, Duration::from_secs(3600), Duration::from_millis(10));
        assert!(started.elapsed() < Duration::from_secs(3600));
        let stop = AtomicBool::new(false);
        let started = Instant::now();
        sleep_unless_stopped(&stop, Duration::from_millis(30), Duration::from_millis(10));
        assert!(started.elapsed() >= Duration::from_millis(30));
    }

    #[test]
    fn each_task_is_held_to_its_own_limit() {
        let board = HealthBoard::new();
        let _quick = board.register(Task::UiLoop, Duration::from_secs(10));
        let patient = board.register(Task::Uploader, Duration::from_secs(60));
        patient.slot.last_beat_ms.store(0, Ordering::Relaxed);
        let at = board.started + Duration::from_secs(30);
        let silent: Vec<Task> = board.silent_tasks(at).into_iter().map(|(t, _)| t).collect();
        assert_eq!(silent, [Task::UiLoop]);
    }
}
