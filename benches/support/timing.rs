//! The benchmarks' one way to sum up repeated timings.

use std::time::Duration;

/// The middle of `times` (the upper one of an even count): steadier than a mean on a shared,
/// noisy machine, where one slow run says more about the machine than about the code.
pub fn median(mut times: Vec<Duration>) -> Duration {
    times.sort_unstable();
    times[times.len() / 2]
}
