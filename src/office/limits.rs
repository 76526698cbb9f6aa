//! The limits that keep one client from taking the office down: how long a connection may take
//! to send its request head or sit idle, how many connections and batch decodings run at once,
//! and how long a stop waits for the requests in flight. Each is a flag of
//! `concern-office serve`, bounded here, with a default that is safe out of the box.

use std::time::Duration;

use thiserror::Error;

/// Default for `--header-read-timeout`: a kiosk sends its request head (under 1 KiB) at once,
/// which takes a second or two over a weak mobile link; a connection that has not finished its
/// head by then is holding a slot ("slow loris"), and is closed.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Default for `--idle-timeout`: a kiosk's upload round sends its batches back to back and is
/// silent for the next `upload.every_minutes`; a connection with no request for 5 s is done.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(5);
/// Default for `--max-connections`: hundreds of kiosks upload a few seconds every half hour,
/// so 256 at once is far above an honest peak, and 256 descriptors plus the office's own fit
/// in the usual limit of 1024 open files.
pub const DEFAULT_MAX_CONNECTIONS: usize = 256;
/// Default for `--max-decompressions`: one decoding may hold 16 MiB of inflated JSON, its
/// doubling buffer and the parsed batch (about 64 MiB at worst), so 4 bound the intake to
/// roughly 256 MiB; an honest batch decodes in milliseconds, so 4 serve hundreds of kiosks.
pub const DEFAULT_MAX_DECOMPRESSIONS: usize = 4;
/// Default for `--shutdown-deadline`: a batch commits in milliseconds, so 10 s finishes every
/// request that is really in flight and keeps a restart quick; what is cut off is retried by
/// its kiosk.
pub const DEFAULT_SHUTDOWN_DEADLINE: Duration = Duration::from_secs(10);

/// The longest header-read (and so idle) timeout accepted: beyond five minutes a timeout only
/// keeps an attacker's connections open.
pub const MAX_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(300);
/// The most connections accepted: Linux's default `fs.nr_open`, the most file descriptors a
/// process can have at all.
pub const MAX_CONNECTIONS_LIMIT: usize = 1_048_576;
/// The most decodings at once accepted: 64 × 64 MiB is 4 GiB, more than an office machine
/// should give to refusing bad uploads.
pub const MAX_DECOMPRESSIONS_LIMIT: usize = 64;
/// The longest shutdown deadline accepted: systemd kills a service 90 s after SIGTERM by
/// default (`DefaultTimeoutStopSec`), so waiting longer would be cut off anyway.
pub const MAX_SHUTDOWN_DEADLINE: Duration = Duration::from_secs(85);

/// The limits of one running office.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    /// A connection that has not sent a whole request head this long after it opened (or
    /// after its last answer) is closed.
    pub header_read_timeout: Duration,
    /// A connection with no request in flight for this long is closed. At most
    /// `header_read_timeout`, which already bounds the wait for a next request.
    pub idle_timeout: Duration,
    /// Connections open at once. Over it, the longest-idle connection (one with no request
    /// in flight) makes room, or the new one is answered 503 and closed.
    pub max_connections: usize,
    /// Batch bodies decoded (inflated and parsed) at once; over it, 503 with `Retry-After`.
    pub max_decompressions: usize,
    /// How long a stop waits for open connections before it closes them.
    pub shutdown_deadline: Duration,
}

impl Default for ServerLimits {
    fn default() -> ServerLimits {
        ServerLimits {
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_decompressions: DEFAULT_MAX_DECOMPRESSIONS,
            shutdown_deadline: DEFAULT_SHUTDOWN_DEADLINE,
        }
    }
}

/// A limit out of its range; the message names the flag and the range.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("--{flag} {given}: {problem}")]
pub struct LimitError {
    pub flag: &'static str,
    pub given: u64,
    pub problem: String,
}

/// The limits as given on the command line of `concern-office serve`: whole seconds and
/// counts, checked by [`LimitFlags::limits`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::Args)]
pub struct LimitFlags {
    /// Close a connection that has not sent a whole request head within this many seconds
    /// (1-300).
    #[arg(long = "header-read-timeout", value_name = "SECONDS", default_value_t = DEFAULT_HEADER_READ_TIMEOUT.as_secs())]
    pub header_read_timeout_secs: u64,
    /// Close a connection with no request for this many seconds (1 to the header-read
    /// timeout).
    #[arg(long = "idle-timeout", value_name = "SECONDS", default_value_t = DEFAULT_IDLE_TIMEOUT.as_secs())]
    pub idle_timeout_secs: u64,
    /// Connections open at once; over it the longest-idle one is closed, or the new one is
    /// answered 503.
    #[arg(long, value_name = "N", default_value_t = count_u64(DEFAULT_MAX_CONNECTIONS))]
    pub max_connections: u64,
    /// Uploads inflated and parsed at once (1-64); over it the answer is 503 with
    /// Retry-After.
    #[arg(long, value_name = "N", default_value_t = count_u64(DEFAULT_MAX_DECOMPRESSIONS))]
    pub max_decompressions: u64,
    /// At SIGTERM, close connections still open after this many seconds (0-85).
    #[arg(long = "shutdown-deadline", value_name = "SECONDS", default_value_t = DEFAULT_SHUTDOWN_DEADLINE.as_secs())]
    pub shutdown_deadline_secs: u64,
}

impl Default for LimitFlags {
    fn default() -> LimitFlags {
        LimitFlags {
            header_read_timeout_secs: DEFAULT_HEADER_READ_TIMEOUT.as_secs(),
            idle_timeout_secs: DEFAULT_IDLE_TIMEOUT.as_secs(),
            max_connections: count_u64(DEFAULT_MAX_CONNECTIONS),
            max_decompressions: count_u64(DEFAULT_MAX_DECOMPRESSIONS),
            shutdown_deadline_secs: DEFAULT_SHUTDOWN_DEADLINE.as_secs(),
        }
    }
}

/// A count as the command line gives it; every count here fits.
const fn count_u64(n: usize) -> u64 {
    n as u64
}

/// `given` when it lies in `min..=max`, else the error naming `flag`.
fn within(
    flag: &'static str,
    given: u64,
    min: u64,
    max: u64,
    why: &str,
) -> Result<u64, LimitError> {
    if (min..=max).contains(&given) {
        Ok(given)
    } else {
        Err(LimitError {
            flag,
            given,
            problem: format!("must be {min} to {max} ({why})"),
        })
    }
}

impl LimitFlags {
    /// Checks every flag against its range and the idle timeout against the header-read
    /// timeout.
    pub fn limits(&self) -> Result<ServerLimits, LimitError> {
        let max_timeout = MAX_HEADER_READ_TIMEOUT.as_secs();
        let header = within(
            "header-read-timeout",
            self.header_read_timeout_secs,
            1,
            max_timeout,
            "seconds; longer only keeps a slow client's connection open",
        )?;
        let idle = within(
            "idle-timeout",
            self.idle_timeout_secs,
            1,
            header,
            "seconds, at most --header-read-timeout, which already ends any wait for a next request",
        )?;
        let connections = within(
            "max-connections",
            self.max_connections,
            1,
            count_u64(MAX_CONNECTIONS_LIMIT),
            "connections open at once",
        )?;
        let decompressions = within(
            "max-decompressions",
            self.max_decompressions,
            1,
            count_u64(MAX_DECOMPRESSIONS_LIMIT),
            "uploads decoded at once; each may take about 64 MiB",
        )?;
        let deadline = within(
            "shutdown-deadline",
            self.shutdown_deadline_secs,
            0,
            MAX_SHUTDOWN_DEADLINE.as_secs(),
            "seconds; systemd kills a service 90 s after SIGTERM",
        )?;
        Ok(ServerLimits {
            header_read_timeout: Duration::from_secs(header),
            idle_timeout: Duration::from_secs(idle),
            max_connections: usize::try_from(connections).unwrap_or(MAX_CONNECTIONS_LIMIT),
            max_decompressions: usize::try_from(decompressions).unwrap_or(MAX_DECOMPRESSIONS_LIMIT),
            shutdown_deadline: Duration::from_secs(deadline),
        })
    }
}

/// File descriptors the office needs besides its connections: stdio, the listener, the
/// runtime's epoll and wakers, the database with its WAL and shared memory, and a connection
/// being refused. Generous, because running out breaks accepting altogether.
pub const RESERVED_FILE_DESCRIPTORS: usize = 32;

/// `max_connections`, lowered so that connections and [`RESERVED_FILE_DESCRIPTORS`] fit in
/// the process's soft limit of open files (`None`: the limit is unknown, keep it).
pub fn connections_within_open_files(max_connections: usize, open_files: Option<u64>) -> usize {
    let Some(open_files) = open_files else {
        return max_connections;
    };
    let room = usize::try_from(open_files)
        .unwrap_or(usize::MAX)
        .saturating_sub(RESERVED_FILE_DESCRIPTORS)
        .max(1);
    max_connections.min(room)
}

/// The soft limit of open files of this process (`ulimit -n`), from `/proc/self/limits`;
/// `None` where that cannot be read or says "unlimited".
pub fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.trim_start_matches("Max open files")
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_within_their_own_ranges() {
        assert_eq!(LimitFlags::default().limits(), Ok(ServerLimits::default()));
    }

    #[test]
    fn each_flag_out_of_range_is_named() {
        let flags = LimitFlags::default();
        let cases = [
            (
                LimitFlags {
                    header_read_timeout_secs: 301,
                    ..flags
                },
                "--header-read-timeout 301: must be 1 to 300",
            ),
            (
                LimitFlags {
                    idle_timeout_secs: 11,
                    ..flags
                },
                "--idle-timeout 11: must be 1 to 10",
            ),
            (
                LimitFlags {
                    max_connections: 0,
                    ..flags
                },
                "--max-connections 0: must be 1 to 1048576",
            ),
            (
                LimitFlags {
                    max_decompressions: 65,
                    ..flags
                },
                "--max-decompressions 65: must be 1 to 64",
            ),
            (
                LimitFlags {
                    shutdown_deadline_secs: u64::MAX,
                    ..flags
                },
                "--shutdown-deadline 18446744073709551615: must be 0 to 85",
            ),
        ];
        for (given, expected) in cases {
            let message = given.limits().unwrap_err().to_string();
            assert!(message.starts_with(expected), "{message}");
        }
    }

    #[test]
    fn connections_leave_room_for_the_offices_own_files() {
        assert_eq!(connections_within_open_files(256, Some(1024)), 256);
        assert_eq!(connections_within_open_files(256, Some(64)), 32);
        assert_eq!(connections_within_open_files(256, Some(8)), 1);
        assert_eq!(connections_within_open_files(256, None), 256);
        assert!(open_files_limit().is_some_and(|n| n > 0));
    }
}
