//! The kiosk's wall clock behind a small trait, so the uploader's backoff, the schedule and the
//! daily summary can be tested with a clock the test moves by hand.

use std::sync::Mutex;

use chrono::{DateTime, FixedOffset, Local, TimeDelta};

pub trait Clock: Send + Sync {
    /// The kiosk's local time with its UTC offset.
    fn now(&self) -> DateTime<FixedOffset>;
}

/// The system clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<FixedOffset> {
        Local::now().fixed_offset()
    }
}

/// The kiosk's local time now, for the edges (the command line, start-up) where no clock is
/// injected.
pub fn local_now() -> DateTime<FixedOffset> {
    SystemClock.now()
}

/// A clock that stands still until it is moved: for tests and simulations.
pub struct ManualClock {
    now: Mutex<DateTime<FixedOffset>>,
}

impl ManualClock {
    pub fn new(start: DateTime<FixedOffset>) -> ManualClock {
        ManualClock {
            now: Mutex::new(start),
        }
    }

    pub fn advance(&self, by: TimeDelta) {
        let mut now = self
            .now
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *now += by;
    }

    pub fn set(&self, to: DateTime<FixedOffset>) {
        *self
            .now
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = to;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<FixedOffset> {
        *self
            .now
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
