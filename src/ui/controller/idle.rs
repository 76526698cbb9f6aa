//! The timers that keep an abandoned screen from waiting for ever: the "are you still there?"
//! warning and its countdown, the staff menu's own time-out, Done's return to Home, and the
//! clock on Home.

use std::time::Duration;

use slint::{Timer, TimerMode};
use tracing::info;

use super::Controller;
use crate::ui::Screen;

/// How long a screen other than Home may go untouched before the "are you still there?"
/// warning: long enough for a slow reader, short enough that a walked-away draft is not left
/// for the next person to read.
pub const IDLE_WARNING_AFTER: Duration = Duration::from_secs(60);
/// How long the warning gives to answer before the draft is discarded: WCAG 2.2.1 (Timing
/// Adjustable) asks for at least 20 s to extend a time limit with one simple action; 30 s
/// because an elderly resident may have stepped away to ask someone.
const IDLE_ANSWER_SECONDS: u32 = 30;
/// The countdown shows whole seconds, so it ticks once a second.
const COUNTDOWN_TICK: Duration = Duration::from_secs(1);
/// The Done screen goes back to Home by itself after this: time to read the number twice.
const DONE_RETURNS_AFTER: Duration = Duration::from_secs(30);
/// The date and time on Home are refreshed this often (the minute must not lag by much).
const CLOCK_REFRESH: Duration = Duration::from_secs(1);
/// The staff menu leaves itself after this long untouched, so a member of staff who walked
/// away does not leave it open to the next resident.
const STAFF_IDLE: Duration = Duration::from_secs(120);

/// The controller's timers; each runs only while its screen needs it.
#[derive(Default)]
pub(super) struct Timers {
    /// Until the idle warning (or, in staff mode, until the menu closes itself).
    idle: Timer,
    /// The warning's countdown to discarding the draft.
    countdown: Timer,
    /// Done back to Home.
    done: Timer,
    /// The date and time on Home.
    clock: Timer,
}

impl Controller {
    /// Starts the clock on Home, which runs as long as the controller.
    pub(super) fn start_clock(&self) {
        self.start_timer(
            |t| &t.clock,
            TimerMode::Repeated,
            CLOCK_REFRESH,
            Controller::show_clock,
        );
    }

    /// Any tap: the resident is still there. Restarts the idle timer (none on Home and Done,
    /// which have nothing private to discard or leave by themselves) and hides the warning.
    pub(super) fn touched(&self) {
        let timers = &self.inner.timers;
        timers.countdown.stop();
        let warned = std::mem::take(&mut self.inner.journey.borrow_mut().idle_warning);
        if warned {
            self.show();
        }
        match self.screen() {
            Screen::Home | Screen::Done => timers.idle.stop(),
            Screen::StaffPin | Screen::StaffMenu => {
                self.start_timer(
                    |t| &t.idle,
                    TimerMode::SingleShot,
                    STAFF_IDLE,
                    |c| {
                        info!("the staff menu was left idle: back to Home");
                        c.reset_to_home();
                    },
                );
            }
            _ => self.start_timer(
                |t| &t.idle,
                TimerMode::SingleShot,
                IDLE_WARNING_AFTER,
                Controller::warn_idle,
            ),
        }
    }

    fn warn_idle(&self) {
        self.edit(|j| {
            j.idle_warning = true;
            j.idle_seconds_left = IDLE_ANSWER_SECONDS;
        });
        self.start_timer(
            |t| &t.countdown,
            TimerMode::Repeated,
            COUNTDOWN_TICK,
            Controller::count_down,
        );
    }

    fn count_down(&self) {
        let left = {
            let mut journey = self.inner.journey.borrow_mut();
            journey.idle_seconds_left = journey.idle_seconds_left.saturating_sub(1);
            journey.idle_seconds_left
        };
        if left == 0 {
            info!("no answer to the idle warning: the draft is discarded");
            self.reset_to_home();
        } else {
            self.show();
        }
    }

    /// Done waits for no warning, and goes back to Home by itself after a while.
    pub(super) fn start_done_timer(&self) {
        self.inner.timers.idle.stop();
        self.start_timer(
            |t| &t.done,
            TimerMode::SingleShot,
            DONE_RETURNS_AFTER,
            Controller::reset_to_home,
        );
    }

    /// Starts one of the timers to run `action` on this controller (held weakly, so the timer
    /// of a dropped controller does nothing).
    fn start_timer(
        &self,
        timer: fn(&Timers) -> &Timer,
        mode: TimerMode,
        after: Duration,
        action: impl Fn(&Controller) + 'static,
    ) {
        let weak = self.downgrade();
        timer(&self.inner.timers).start(mode, after, move || weak.with(&action));
    }

    /// Stops every timer that belongs to a resident (the clock keeps running).
    pub(super) fn stop_resident_timers(&self) {
        let timers = &self.inner.timers;
        timers.idle.stop();
        timers.countdown.stop();
        timers.done.stop();
    }
}
