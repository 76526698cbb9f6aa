//! How long the property tests run: a short run in every `cargo test`, and a long run
//! (`cargo test -- --ignored`) that reports how many cases it tried.

use proptest::strategy::Strategy;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

/// Cases in the default run: enough to catch a regression in seconds on a 2-core machine.
const SHORT_CASES: u32 = 256;
/// Cases in the long run unless `PROPERTY_CASES` says otherwise: a million per property is the
/// figure the release checks are measured against.
const LONG_CASES: u32 = 1_000_000;

/// The configuration of the short run.
pub fn short() -> Config {
    Config {
        cases: SHORT_CASES,
        ..Config::default()
    }
}

/// Runs `test` on `PROPERTY_CASES` (default [`LONG_CASES`]) values from `strategy`, panics with
/// the shrunk counterexample on a failure, and prints the number of cases tried.
pub fn long<S>(name: &str, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S: Strategy,
    S::Value: std::fmt::Debug,
{
    let cases = std::env::var("PROPERTY_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(LONG_CASES);
    let started = std::time::Instant::now();
    let mut runner = TestRunner::new(Config {
        cases,
        // A long run is about breadth: give up on a case's shrinking rather than stall on it.
        max_shrink_iters: 10_000,
        ..Config::default()
    });
    if let Err(failure) = runner.run(&strategy, test) {
        panic!("{name}: {failure}");
    }
    println!(
        "{name}: {cases} cases passed in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
