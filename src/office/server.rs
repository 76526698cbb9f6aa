//! Serving the office's router on a listener until told to stop, so that no client can take it
//! down: HTTP/1.1 connections on hyper with a header-read timeout, an idle timeout, a ceiling on
//! connections open at once (the longest-idle one makes room for a new one, or the new one is
//! answered 503), and a deadline after which a stop closes what is still open.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;
use tower::ServiceExt;
use tracing::{debug, info, warn};

use super::limits::{ServerLimits, connections_within_open_files, open_files_limit};
use super::routes::{BUSY_RETRY_AFTER, router};
use super::state::Office;

/// How long the accept loop pauses after `accept` fails (out of file descriptors, mostly):
/// that clears only when a connection closes, and retrying at once would spin a core and
/// flood the log.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(250);
/// The most a connection may buffer of a request (hyper's read buffer; over it the answer is
/// 431). A kiosk's request head is under 1 KiB; 16 KiB leaves room for a proxy's headers, and
/// the default connection limit then holds at most 4 MiB of them.
const MAX_CONNECTION_BUFFER_BYTES: usize = 16 * 1024;
/// How long a new connection waits for an evicted one to close. Closing takes microseconds;
/// a longer wait means the runtime is overloaded, and the new connection is answered 503.
const EVICTION_WAIT: Duration = Duration::from_secs(1);

/// Serves the office on `listener` with the default [`ServerLimits`] until the process ends.
/// Tests bind `127.0.0.1:0`, read the address, and `tokio::spawn(serve(listener, office))`.
pub async fn serve(listener: TcpListener, office: Office) -> std::io::Result<()> {
    serve_until(
        listener,
        office,
        ServerLimits::default(),
        std::future::pending(),
    )
    .await
}

/// Serves the office until `shutdown` completes, then stops accepting, lets the requests in
/// flight finish (a batch being stored is committed and answered) and closes idle
/// connections; whatever is still open after `limits.shutdown_deadline` is closed.
pub async fn serve_until<F>(
    listener: TcpListener,
    office: Office,
    limits: ServerLimits,
    shutdown: F,
) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    info!(
        "limits: request head within {} s, idle connections closed after {} s, at most {} connections and {} decompressions at once, {} s to finish at a stop",
        limits.header_read_timeout.as_secs(),
        limits.idle_timeout.as_secs(),
        limits.max_connections,
        limits.max_decompressions,
        limits.shutdown_deadline.as_secs()
    );
    office.set_max_decompressions(limits.max_decompressions);
    let max_connections = connections_within_open_files(limits.max_connections, open_files_limit());
    if max_connections < limits.max_connections {
        warn!(
            "at most {max_connections} connections at once (of {} asked): this process may open only {} files (`ulimit -n`, systemd's LimitNOFILE=)",
            limits.max_connections,
            open_files_limit().unwrap_or_default()
        );
    }
    let connections = Connections::new(max_connections);
    let busy_answer = busy_answer();
    let router = router(office);
    let (stop, stopped) = watch::channel(false);
    let mut tasks = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            () = &mut shutdown => break,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(e) => {
                    warn!("cannot accept a connection: {e}");
                    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                    continue;
                }
            },
        };
        let Some(slot) = connections.admit().await else {
            debug!("at the connection limit with every connection busy: answered 503");
            // Never blocks: what does not fit in the socket's buffer is not sent.
            stream.try_write(&busy_answer).ok();
            continue;
        };
        let router = router.clone();
        let stopped = stopped.clone();
        tasks.spawn(serve_connection(stream, router, limits, slot, stopped));
    }
    drop(listener);
    stop.send_replace(true);
    let drained = tokio::time::timeout(limits.shutdown_deadline, async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        warn!(
            "{} connection(s) still open at the shutdown deadline ({} s); closing them",
            tasks.len(),
            limits.shutdown_deadline.as_secs()
        );
        tasks.shutdown().await;
    }
    Ok(())
}

/// The raw answer to a connection over the limit when none can make room.
fn busy_answer() -> Vec<u8> {
    let body = serde_json::json!({
        "error": format!(
            "the office has as many connections open as it may; try again in {} seconds (the kiosk does so by itself)",
            BUSY_RETRY_AFTER.as_secs()
        )
    })
    .to_string();
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: {}\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        BUSY_RETRY_AFTER.as_secs(),
        body.len()
    )
    .into_bytes()
}

/// One connection, from its first byte to its close.
async fn serve_connection(
    stream: TcpStream,
    router: axum::Router,
    limits: ServerLimits,
    slot: Slot,
    mut stopped: watch::Receiver<bool>,
) {
    let activity = slot.activity.clone();
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let request_done = activity.begin_request();
        let answer = router.clone().oneshot(request.map(axum::body::Body::new));
        async move {
            let response = answer.await;
            drop(request_done);
            response
        }
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(MAX_CONNECTION_BUFFER_BYTES);
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    let mut closing = false;
    loop {
        let idle_check =
            tokio::time::Instant::from_std(slot.activity.idle_deadline(limits.idle_timeout));
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(e) = result {
                    debug!("connection closed: {e}");
                }
                break;
            }
            () = slot.evicted.notified() => {
                debug!("closed an idle connection to make room for a new one");
                break;
            }
            _ = stopped.changed(), if !closing => {
                closing = true;
                connection.as_mut().graceful_shutdown();
            }
            () = tokio::time::sleep_until(idle_check), if !closing => {
                if slot.activity.idle_for() >= limits.idle_timeout {
                    closing = true;
                    connection.as_mut().graceful_shutdown();
                }
            }
        }
    }
    slot.release();
}

/// The connections open at once: a semaphore of [`ServerLimits::max_connections`] permits,
/// and for each open connection its permit, its activity and the signal that closes it.
#[derive(Clone)]
struct Connections {
    permits: Arc<Semaphore>,
    open: Arc<Mutex<BTreeMap<u64, OpenConnection>>>,
    next_id: Arc<AtomicU64>,
}

struct OpenConnection {
    activity: Arc<Activity>,
    evict: Arc<Notify>,
}

/// A connection's place among the open ones; [`Slot::release`] gives it back. It holds the
/// permit until the connection's socket is closed, so that descriptors never outnumber the
/// permits.
struct Slot {
    id: u64,
    activity: Arc<Activity>,
    evicted: Arc<Notify>,
    connections: Connections,
    _permit: OwnedSemaphorePermit,
}

impl Connections {
    fn new(max: usize) -> Connections {
        Connections {
            permits: Arc::new(Semaphore::new(max.max(1))),
            open: Arc::default(),
            next_id: Arc::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, OpenConnection>> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A slot for a new connection: a free one, or the one of the open connection that has
    /// been idle longest (no request in flight: it is waiting for a request head, which an
    /// honest client sends at once), once that is closed. `None` when every connection is
    /// busy.
    async fn admit(&self) -> Option<Slot> {
        let permit = match self.permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                self.evict_longest_idle()?;
                let freed = self.permits.clone().acquire_owned();
                tokio::time::timeout(EVICTION_WAIT, freed)
                    .await
                    .ok()?
                    .ok()?
            }
        };
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let activity = Arc::new(Activity::new());
        let evict = Arc::new(Notify::new());
        self.lock().insert(
            id,
            OpenConnection {
                activity: activity.clone(),
                evict: evict.clone(),
            },
        );
        Some(Slot {
            id,
            activity,
            evicted: evict,
            connections: self.clone(),
            _permit: permit,
        })
    }

    /// Tells the connection idle longest to close (its permit comes back when it has);
    /// `None` if every open connection has a request in flight.
    fn evict_longest_idle(&self) -> Option<()> {
        let mut open = self.lock();
        let (&id, _) = open
            .iter()
            .filter(|(_, c)| c.activity.in_flight() == 0)
            .max_by_key(|(_, c)| c.activity.idle_for())?;
        let evicted = open.remove(&id)?;
        evicted.evict.notify_one();
        Some(())
    }
}

impl Slot {
    fn release(self) {
        self.connections.lock().remove(&self.id);
    }
}

/// What a connection is doing: how many requests it is answering, and since when it has been
/// idle.
struct Activity {
    in_flight: AtomicUsize,
    idle_since: Mutex<Instant>,
}

/// Marks a request answered when dropped.
struct RequestDone(Arc<Activity>);

impl Drop for RequestDone {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
        *self.0.lock_idle_since() = Instant::now();
    }
}

impl Activity {
    fn new() -> Activity {
        Activity {
            in_flight: AtomicUsize::new(0),
            idle_since: Mutex::new(Instant::now()),
        }
    }

    fn lock_idle_since(&self) -> std::sync::MutexGuard<'_, Instant> {
        self.idle_since
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn begin_request(self: &Arc<Self>) -> RequestDone {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        RequestDone(self.clone())
    }

    fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    /// How long no request has been in flight (zero while one is).
    fn idle_for(&self) -> Duration {
        if self.in_flight() > 0 {
            return Duration::ZERO;
        }
        self.lock_idle_since().elapsed()
    }

    /// When the connection will have been idle for `timeout`, if nothing happens before.
    fn idle_deadline(&self, timeout: Duration) -> Instant {
        let now = Instant::now();
        let remaining = timeout.saturating_sub(self.idle_for());
        // While a request is in flight `remaining` is the whole timeout: look again then.
        now.checked_add(remaining.max(Duration::from_millis(1)))
            .unwrap_or(now)
    }
}
