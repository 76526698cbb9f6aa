//! When to try a failed batch, or a failed pull of updates, again: exponential backoff with
//! full jitter, honouring the office's `Retry-After`.

use std::time::Duration;

use chrono::{DateTime, FixedOffset, TimeDelta};

/// The first retry waits up to 30 s: long enough for a restarting office to come back.
pub const BASE: Duration = Duration::from_secs(30);
/// No wait is longer than 30 minutes, the default upload interval: a kiosk that was offline
/// for days catches up within half an hour of the network coming back.
pub const CAP: Duration = Duration::from_secs(30 * 60);
/// The longest `Retry-After` the kiosk honours. An office announcing maintenance asks for
/// minutes or hours; more than a working day is a misconfigured proxy, and believing it would
/// keep concerns from the office for days (staff can still send them with `upload --once`).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(12 * 60 * 60);

/// The wait before attempt `attempts + 1`, after `attempts` failed ones (≥ 1): a uniformly
/// random share (`jitter` in 0..1) of `min(CAP, BASE · 2^(attempts-1))`, so that many kiosks
/// coming back at once do not arrive together; never shorter than the office's `Retry-After`.
pub fn retry_delay(attempts: u32, retry_after: Option<Duration>, jitter: f64) -> Duration {
    let exponent = attempts.saturating_sub(1).min(16);
    let ceiling = BASE.saturating_mul(1 << exponent).min(CAP);
    let jittered = ceiling.mul_f64(jitter.clamp(0.0, 1.0));
    jittered.max(retry_after.unwrap_or(Duration::ZERO).min(MAX_RETRY_AFTER))
}

/// When attempt `attempts + 1` may go, after `attempts` failed ones ending at `now`, with a
/// fresh random jitter.
pub fn retry_at(
    now: DateTime<FixedOffset>,
    attempts: u32,
    retry_after: Option<Duration>,
) -> DateTime<FixedOffset> {
    let wait = retry_delay(attempts, retry_after, rand::random::<f64>());
    // `retry_delay` is bounded, so the sum fits; should it not, try at the next round rather
    // than never.
    TimeDelta::from_std(wait)
        .ok()
        .and_then(|wait| now.checked_add_signed(wait))
        .unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ceiling_doubles_from_30_seconds_up_to_30_minutes() {
        let ceiling = |attempts| retry_delay(attempts, None, 1.0).as_secs();
        assert_eq!(
            (1..=8).map(ceiling).collect::<Vec<_>>(),
            [30, 60, 120, 240, 480, 960, 1800, 1800]
        );
        assert_eq!(ceiling(1000), 1800);
    }

    #[test]
    fn full_jitter_spreads_the_wait_from_zero_to_the_ceiling() {
        assert_eq!(retry_delay(3, None, 0.0), Duration::ZERO);
        assert_eq!(retry_delay(3, None, 0.5), Duration::from_secs(60));
    }

    #[test]
    fn retry_after_is_honoured_even_when_the_jitter_is_shorter() {
        let office_says = Some(Duration::from_secs(120));
        assert_eq!(retry_delay(1, office_says, 0.3), Duration::from_secs(120));
        assert_eq!(retry_delay(9, office_says, 1.0), CAP);
    }

    #[test]
    fn no_retry_after_waits_past_the_bound() {
        let centuries = Some(Duration::from_secs(99_999_999_999_999));
        assert_eq!(retry_delay(1, centuries, 0.5), MAX_RETRY_AFTER);
    }
}
