//! The staff PIN: checks a PIN against the config's argon2id hash, locks the PIN pad after too
//! many wrong PINs, and says what happened so every attempt can go into the audit log.

use argon2::password_hash::PasswordHash;
use argon2::{Argon2, PasswordVerifier};
use chrono::{DateTime, FixedOffset, TimeDelta};

/// Wrong PINs in a row before the pad locks: enough for a slip of the finger, too few to guess a
/// four-digit PIN (5 in 10 000).
pub const WRONG_PINS_BEFORE_LOCK: u32 = 5;
/// How long the pad stays locked: long enough to make guessing hopeless, short enough that a
/// member of staff who mistyped is back in after a coffee.
pub const LOCK_MINUTES: i64 = 5;
/// The PIN of the built-in demo configuration (README); never used on a real kiosk, whose
/// config names its own hash.
pub const DEMO_PIN: &str = "2468";

/// What one PIN attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinOutcome {
    Accepted,
    Wrong {
        left: u32,
    },
    /// Locked (by this attempt or before it) until then.
    Locked {
        until: DateTime<FixedOffset>,
    },
    /// The config has no usable hash: the staff menu stays shut.
    NoPinConfigured,
}

impl PinOutcome {
    /// The audit log's action for this attempt.
    pub fn audit_action(&self) -> &'static str {
        match self {
            PinOutcome::Accepted => "staff-pin-accepted",
            PinOutcome::Wrong { .. } => "staff-pin-wrong",
            PinOutcome::Locked { .. } => "staff-pin-locked",
            PinOutcome::NoPinConfigured => "staff-pin-not-configured",
        }
    }
}

/// The PIN pad's memory of wrong attempts.
#[derive(Debug, Default)]
pub struct PinGuard {
    wrong_in_a_row: u32,
    locked_until: Option<DateTime<FixedOffset>>,
}

impl PinGuard {
    pub fn locked_until(&self, now: DateTime<FixedOffset>) -> Option<DateTime<FixedOffset>> {
        self.locked_until.filter(|until| *until > now)
    }

    /// Checks `pin` against `hash` (a PHC string), unless the pad is locked.
    pub fn attempt(
        &mut self,
        hash: Option<&str>,
        pin: &str,
        now: DateTime<FixedOffset>,
    ) -> PinOutcome {
        if let Some(until) = self.locked_until(now) {
            return PinOutcome::Locked { until };
        }
        let Some(parsed) = hash.and_then(|h| PasswordHash::new(h).ok()) else {
            return PinOutcome::NoPinConfigured;
        };
        if Argon2::default()
            .verify_password(pin.as_bytes(), &parsed)
            .is_ok()
        {
            *self = PinGuard::default();
            return PinOutcome::Accepted;
        }
        self.wrong_in_a_row += 1;
        if self.wrong_in_a_row >= WRONG_PINS_BEFORE_LOCK {
            self.wrong_in_a_row = 0;
            let until = now + TimeDelta::minutes(LOCK_MINUTES);
            self.locked_until = Some(until);
            return PinOutcome::Locked { until };
        }
        PinOutcome::Wrong {
            left: WRONG_PINS_BEFORE_LOCK - self.wrong_in_a_row,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DEMO_PIN_HASH;

    fn at(text: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(text).unwrap()
    }

    #[test]
    fn the_demo_pin_opens_the_demo_hash() {
        let mut guard = PinGuard::default();
        let now = at("2026-11-26T10:00:00+08:00");
        assert_eq!(
            guard.attempt(Some(DEMO_PIN_HASH), DEMO_PIN, now),
            PinOutcome::Accepted
        );
    }

    #[test]
    fn five_wrong_pins_lock_the_pad_for_five_minutes() {
        let mut guard = PinGuard::default();
        let now = at("2026-11-26T10:00:00+08:00");
        for left in (1..WRONG_PINS_BEFORE_LOCK).rev() {
            assert_eq!(
                guard.attempt(Some(DEMO_PIN_HASH), "0000", now),
                PinOutcome::Wrong { left }
            );
        }
        let until = at("2026-11-26T10:05:00+08:00");
        assert_eq!(
            guard.attempt(Some(DEMO_PIN_HASH), "0000", now),
            PinOutcome::Locked { until }
        );
        // Even the right PIN waits.
        assert_eq!(
            guard.attempt(Some(DEMO_PIN_HASH), DEMO_PIN, now + TimeDelta::minutes(4)),
            PinOutcome::Locked { until }
        );
        assert_eq!(
            guard.attempt(Some(DEMO_PIN_HASH), DEMO_PIN, until),
            PinOutcome::Accepted
        );
    }

    #[test]
    fn without_a_hash_nobody_gets_in() {
        let mut guard = PinGuard::default();
        let now = at("2026-11-26T10:00:00+08:00");
        assert_eq!(
            guard.attempt(None, DEMO_PIN, now),
            PinOutcome::NoPinConfigured
        );
    }
}
