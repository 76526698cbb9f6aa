//! A fault-injecting HTTP/1.1 proxy for the upload tests, standing on 127.0.0.1 between the
//! kiosk and the office (`concern-office`, or any HTTP/1.1 server).
//!
//! This file owns [`FaultProxy`]: it forwards each request to the office unchanged and does to
//! the answer what the test last asked for with [`FaultProxy::set_mode`] or
//! [`FaultProxy::queue_once`] (see [`Mode`]), recording every request and what it did with it
//! ([`Recorded`], [`Outcome`]).
//!
//! How it works, and why:
//!
//! * It runs on its own thread with its own current-thread tokio runtime, not on the test's,
//!   so it keeps working and keeps real time whatever the test does with its runtime: a
//!   current-thread `#[tokio::test]` that blocks for a moment, or a paused tokio clock, which
//!   would make the proxy's delays and time limits jump ahead. Plain `#[test]`s that run the
//!   kiosk as a child process can use it too. Every method can be called from any thread,
//!   inside or outside a runtime; the few that wait do so on the proxy's thread.
//! * It understands just enough HTTP/1.1 to find where messages end: the request line, headers
//!   and a `Content-Length` or chunked body; responses framed by `Content-Length`, `chunked` or
//!   the end of the connection, none for `HEAD`, 204 and 304; interim 1xx responses are passed
//!   on. Bytes are forwarded exactly as received, never re-encoded. Not supported: pipelining
//!   (reqwest never pipelines), `Expect: 100-continue` (reqwest never sends it) and upgrades.
//! * Keep-alive: each client connection gets its own connection to the office, opened at its
//!   first forwarded request and reused for the next ones, so the office sees the same pattern
//!   of connections the kiosk makes. Either side asking for `Connection: close` (or a response
//!   that ends with the connection) closes both after that exchange, as the office would
//!   have. An office connection that closed while idle is noticed before reuse and replaced.
//! * [`Mode::Refuse`] makes the port refuse connections for real (`ECONNREFUSED`, what a kiosk
//!   sees when the office is down) and keeps the same port for when the office comes back.
//!   Closing the listener and binding the port again later is not reliable: the old
//!   connections the proxy closed sit in `TIME_WAIT` on that port, so binding it again fails
//!   with `EADDRINUSE` unless `SO_REUSEADDR` is set; and while the port is free, another
//!   test's listener on port 0 may be given it. So the proxy never lets go of it: its sockets
//!   set `SO_REUSEPORT`, which lets a second, non-listening socket be bound to the port while
//!   the listener still holds it. Then the listener is closed, and connection attempts are
//!   answered with a reset, as a bound socket that does not listen accepts nothing. To come
//!   back, that socket starts listening. Meanwhile Linux gives the port to no bind to port 0
//!   and to no `connect()` as a source port, and an explicit bind of it fails with
//!   `EADDRINUSE` (also with `SO_REUSEADDR`) unless it comes from the same user and sets
//!   `SO_REUSEPORT`. Checked on Linux 6.18; the self-test toggles it 50 times. Going down also
//!   closes every open connection, like the office's process dying.
//! * Bounded: reads have size limits and time limits (an idle client connection is closed
//!   after [`CLIENT_IDLE`]), every wait has a timeout, and dropping the [`FaultProxy`] stops
//!   its thread, closing the port and every connection.

// Each test binary that includes `tests/support` uses a different part of this module.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::pin::pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, mpsc as std_mpsc};
use std::thread;
use std::time::Duration;

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::runtime::Handle;
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep, timeout, timeout_at};

/// Longest message head (start line and header fields, or a chunked body's trailer).
const HEAD_LIMIT: usize = 64 * 1024;
/// Largest body the proxy reads. Far above the office's 4 MiB limit, so an oversized upload
/// still reaches the office and is refused there, as it would be without the proxy.
const BODY_LIMIT: u64 = 64 * 1024 * 1024;
/// Longest chunk-size line of a chunked body (hex size plus extensions).
const CHUNK_LINE_LIMIT: usize = 4096;
/// How long a client connection may take to deliver its next request. Longer than reqwest's
/// 90 s pool idle timeout, so the kiosk, not the proxy, closes idle keep-alive connections, as
/// with the office (hyper's server does not close them either).
pub const CLIENT_IDLE: Duration = Duration::from_secs(120);
const UPSTREAM_CONNECT: Duration = Duration::from_secs(10);
/// How long the office may take to answer. Slowness is the proxy's job
/// ([`Mode::DelayResponse`]); this only ends a hung exchange.
const UPSTREAM_RESPONSE: Duration = Duration::from_secs(120);
/// How long a caller waits for the proxy's thread to start or to open or close the port.
const CONTROL_WAIT: Duration = Duration::from_secs(10);
const BACKLOG: u32 = 1024;
/// Interim (1xx) responses passed on before the final one, at most.
const MAX_INTERIM: usize = 8;

/// What the proxy does with a request. A mode is taken when a request has been read
/// completely, so changing it never affects a request already being handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Forward the request and pass the office's response back unchanged.
    PassThrough,
    /// Forward the request and read the office's whole response (so the office has acted on
    /// it), then close the client connection without sending a byte of it.
    DropAfterUpstreamReplied,
    /// Forward the request, read the response, and hold it this long before passing it on. A
    /// client that closes the connection meanwhile (a kiosk that timed out) gets nothing.
    DelayResponse(Duration),
    /// Answer without contacting the office. `Content-Length` is added unless `headers` has
    /// it (or `Transfer-Encoding`); `Connection: close` in `headers` closes the connection
    /// after the answer.
    Respond {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// The office is down: connection attempts are refused and open connections are closed.
    /// Only as a standing mode ([`FaultProxy::set_mode`]), as it is a state of the office, not
    /// an answer to one request.
    Refuse,
}

impl Mode {
    /// `Mode::Respond` from borrowed parts, e.g.
    /// `Mode::respond(503, &[("Retry-After", "120")], "")`.
    pub fn respond(status: u16, headers: &[(&str, &str)], body: impl Into<Vec<u8>>) -> Mode {
        Mode::Respond {
            status,
            headers: headers
                .iter()
                .map(|(name, value)| (name.to_string(), value.to_string()))
                .collect(),
            body: body.into(),
        }
    }
}

/// What the proxy did with one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Forwarded; the office's response (with this status) was passed back.
    Forwarded { status: u16 },
    /// Forwarded; the office answered `status`, and the client connection was closed without
    /// a byte of the answer.
    DroppedAfterUpstreamReplied { status: u16 },
    /// Forwarded; the office's answer was held for `delay`. `delivered` is false when the
    /// client had closed the connection by then (or writing to it failed).
    Delayed {
        status: u16,
        delay: Duration,
        delivered: bool,
    },
    /// Answered by the proxy itself ([`Mode::Respond`]); the office never saw it.
    Responded { status: u16 },
    /// Arrived on a connection that was still open when the office went down
    /// ([`Mode::Refuse`]); the connection was closed without an answer.
    Refused,
    /// The office went down ([`Mode::Refuse`]) while the proxy was handling this request; the
    /// connection was closed. Whether the office saw it depends on how far it had got.
    Cut,
    /// The office could not be reached or sent no valid response; the client connection was
    /// closed without an answer, as if the client had talked to the office directly.
    UpstreamFailed { error: String },
}

/// One request as the proxy received it, and what it did with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// Which client connection it came on: 1 for the first one accepted, and so on. Requests
    /// sharing a number came on one keep-alive connection.
    pub connection: u64,
    pub method: String,
    /// The request target as sent, normally the path and query.
    pub path: String,
    /// Header fields in the order received, names as spelled by the client.
    pub headers: Vec<(String, String)>,
    /// The body as sent (still gzip'd if the client gzip'd it; de-chunked if it was chunked).
    pub body: Vec<u8>,
    pub outcome: Outcome,
}

impl Recorded {
    /// The first header field with this name, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    pub fn body_len(&self) -> usize {
        self.body.len()
    }
}

/// [`FaultProxy::wait_for_requests`] ran out of time.
#[derive(Debug, thiserror::Error)]
#[error(
    "expected {wanted} requests through the fault proxy within {timeout:?}, saw {}: {seen:#?}",
    .seen.len()
)]
pub struct WaitTimedOut {
    pub wanted: usize,
    pub timeout: Duration,
    /// Every request recorded when time ran out.
    pub seen: Vec<Recorded>,
}

/// The proxy, running on its own thread until dropped. See the module documentation.
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    runtime: Handle,
    /// Closed on drop, which ends the proxy's thread.
    commands: Option<mpsc::UnboundedSender<DoorCommand>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl FaultProxy {
    /// Starts a proxy on 127.0.0.1 (a free port) forwarding to `upstream`, in
    /// [`Mode::PassThrough`].
    pub fn start(upstream: SocketAddr) -> io::Result<FaultProxy> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                standing: Mode::PassThrough,
                once: VecDeque::new(),
                records: Vec::new(),
            }),
            recorded: Notify::new(),
        });
        let (commands, command_rx) = mpsc::unbounded_channel();
        let (ready_tx, ready_rx) = std_mpsc::channel();
        let thread_shared = Arc::clone(&shared);
        let thread = thread::Builder::new()
            .name("fault-proxy".to_string())
            .spawn(move || run(upstream, thread_shared, command_rx, ready_tx))?;
        match ready_rx.recv_timeout(CONTROL_WAIT) {
            Ok(Ok((addr, runtime))) => Ok(FaultProxy {
                addr,
                shared,
                runtime,
                commands: Some(commands),
                thread: Some(thread),
            }),
            Ok(Err(error)) => {
                let _ = thread.join();
                Err(error)
            }
            // Dropping `commands` on return ends the thread should it ever get going.
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the fault proxy's thread did not start",
            )),
        }
    }

    /// Where the kiosk should connect: 127.0.0.1 and the proxy's port, the same for the
    /// proxy's whole life (also across [`Mode::Refuse`]).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, for an endpoint in a kiosk config.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Makes `mode` the standing mode for every request read from now on, and discards modes
    /// queued with [`queue_once`](Self::queue_once). Switching to [`Mode::Refuse`] returns
    /// once the port refuses connections and every open connection is closed; switching
    /// away from it returns once the port accepts again.
    pub fn set_mode(&self, mode: Mode) {
        let open = mode != Mode::Refuse;
        {
            let mut state = self.shared.lock();
            state.standing = mode;
            state.once.clear();
        }
        self.command_door(open);
    }

    /// Queues `mode` for exactly one request: the next request not claimed by an earlier
    /// queued mode gets it; once the queue is empty the standing mode applies again. So
    /// `queue_once(Mode::respond(503, …))` means "the next request gets 503, then as before".
    ///
    /// Panics for [`Mode::Refuse`] (see there).
    pub fn queue_once(&self, mode: Mode) {
        assert!(
            mode != Mode::Refuse,
            "Mode::Refuse cannot be queued for one request: the office is down until told \
             otherwise, so use set_mode(Mode::Refuse) and later set_mode(...) again"
        );
        self.shared.lock().once.push_back(mode);
    }

    /// Every request handled so far, in the order the proxy finished with them. A request
    /// appears once the proxy is done with it (for a delayed one: after the delay, or when the
    /// client has gone).
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.lock().records.clone()
    }

    /// Waits until at least `n` requests have been handled, and returns them all (see
    /// [`requests`](Self::requests)). Waits in real time on the proxy's thread, so a paused
    /// tokio clock in the caller's runtime does not cut it short.
    pub async fn wait_for_requests(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<Recorded>, WaitTimedOut> {
        let waiting = self
            .runtime
            .spawn(wait_for_records(Arc::clone(&self.shared), n, timeout));
        match waiting.await {
            Ok(result) => result,
            // Only when the proxy's thread is gone; nothing more will be recorded.
            Err(_) => Err(WaitTimedOut {
                wanted: n,
                timeout,
                seen: self.requests(),
            }),
        }
    }

    /// [`wait_for_requests`](Self::wait_for_requests) for code outside any async runtime,
    /// such as a plain `#[test]` running the kiosk as a child process. Blocks the thread.
    pub fn wait_for_requests_blocking(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<Recorded>, WaitTimedOut> {
        let (done_tx, done_rx) = std_mpsc::channel();
        let shared = Arc::clone(&self.shared);
        self.runtime.spawn(async move {
            let _ = done_tx.send(wait_for_records(shared, n, timeout).await);
        });
        // The spawned wait ends by itself at `timeout`; the margin only covers a proxy thread
        // that died meanwhile.
        done_rx
            .recv_timeout(timeout + CONTROL_WAIT)
            .unwrap_or_else(|_| {
                Err(WaitTimedOut {
                    wanted: n,
                    timeout,
                    seen: self.requests(),
                })
            })
    }

    /// Opens or closes the port on the proxy's thread, which owns the listener, and waits
    /// until that is done so the test can rely on it right away.
    fn command_door(&self, open: bool) {
        let (done_tx, done_rx) = std_mpsc::channel();
        let sent = self.commands.as_ref().is_some_and(|commands| {
            commands
                .send(DoorCommand {
                    open,
                    done: done_tx,
                })
                .is_ok()
        });
        assert!(sent, "the fault proxy's thread has stopped");
        let action = if open { "open" } else { "close" };
        match done_rx.recv_timeout(CONTROL_WAIT) {
            Ok(Ok(())) => {}
            Ok(Err(error)) => panic!("the fault proxy could not {action} {}: {error}", self.addr),
            Err(_) => panic!("the fault proxy did not {action} {} in time", self.addr),
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        // Closing the command channel ends the accept loop; the thread then drops its runtime,
        // which closes the port and every connection and cancels pending waits.
        self.commands.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// State shared between the test's side and the proxy's thread
// ---------------------------------------------------------------------------------------------

struct Shared {
    state: Mutex<State>,
    /// Woken whenever a request is recorded.
    recorded: Notify,
}

struct State {
    standing: Mode,
    once: VecDeque<Mode>,
    records: Vec<Recorded>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking test thread must not take the proxy down with it.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn next_mode(&self) -> Mode {
        let mut state = self.lock();
        match state.once.pop_front() {
            Some(mode) => mode,
            None => state.standing.clone(),
        }
    }

    fn record(&self, record: Recorded) {
        self.lock().records.push(record);
        self.recorded.notify_waiters();
    }
}

async fn wait_for_records(
    shared: Arc<Shared>,
    n: usize,
    timeout: Duration,
) -> Result<Vec<Recorded>, WaitTimedOut> {
    let deadline = Instant::now() + timeout;
    loop {
        // Registered before looking, so a request recorded in between still wakes us.
        let mut notified = pin!(shared.recorded.notified());
        notified.as_mut().enable();
        let records = shared.lock().records.clone();
        if records.len() >= n {
            return Ok(records);
        }
        if timeout_at(deadline, notified).await.is_err() {
            return Err(WaitTimedOut {
                wanted: n,
                timeout,
                seen: shared.lock().records.clone(),
            });
        }
    }
}

struct DoorCommand {
    open: bool,
    done: std_mpsc::Sender<io::Result<()>>,
}

// ---------------------------------------------------------------------------------------------
// The proxy's thread: the port and the accept loop
// ---------------------------------------------------------------------------------------------

type Ready = io::Result<(SocketAddr, Handle)>;

fn run(
    upstream: SocketAddr,
    shared: Arc<Shared>,
    commands: mpsc::UnboundedReceiver<DoorCommand>,
    ready: std_mpsc::Sender<Ready>,
) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            let _ = ready.send(Err(error));
            return;
        }
    };
    runtime.block_on(async move {
        let door = match Door::open_on_free_port() {
            Ok(door) => door,
            Err(error) => {
                let _ = ready.send(Err(error));
                return;
            }
        };
        if ready.send(Ok((door.addr, Handle::current()))).is_ok() {
            accept_loop(door, upstream, shared, commands).await;
        }
    });
    // Dropping the runtime here cancels every connection task and pending wait.
}

/// The proxy's port: listening, or held by a bound socket that does not listen (refusing).
struct Door {
    addr: SocketAddr,
    listener: Option<TcpListener>,
    reserved: Option<TcpSocket>,
}

impl Door {
    fn open_on_free_port() -> io::Result<Door> {
        let socket = port_socket()?;
        socket.bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))?;
        let addr = socket.local_addr()?;
        Ok(Door {
            addr,
            listener: Some(socket.listen(BACKLOG)?),
            reserved: None,
        })
    }

    /// Refuses connections from now on, keeping the port (see the module documentation).
    fn close(&mut self) -> io::Result<()> {
        if self.listener.is_none() {
            return Ok(());
        }
        // Bound while the listener still holds the port, so the port is never free.
        let socket = port_socket()?;
        socket.bind(self.addr)?;
        self.reserved = Some(socket);
        // Also resets connections still waiting in the listener's backlog.
        self.listener = None;
        Ok(())
    }

    fn open(&mut self) -> io::Result<()> {
        if let Some(socket) = self.reserved.take() {
            self.listener = Some(socket.listen(BACKLOG)?);
        }
        Ok(())
    }

    async fn accept(&self) -> io::Result<TcpStream> {
        match &self.listener {
            Some(listener) => Ok(listener.accept().await?.0),
            None => std::future::pending().await,
        }
    }
}

/// A socket for the proxy's port. `SO_REUSEPORT` lets it share the port with the proxy's other
/// socket for it, and with the proxy's old connections lingering in `TIME_WAIT` (they inherit
/// it). `SO_REUSEADDR` is deliberately not set: with it, any socket that sets it too (as
/// `std::net::TcpListener::bind` does) could bind the port while the proxy refuses.
fn port_socket() -> io::Result<TcpSocket> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseport(true)?;
    Ok(socket)
}

async fn accept_loop(
    mut door: Door,
    upstream: SocketAddr,
    shared: Arc<Shared>,
    mut commands: mpsc::UnboundedReceiver<DoorCommand>,
) {
    let mut connections = JoinSet::new();
    let mut next_id = 0;
    loop {
        tokio::select! {
            command = commands.recv() => {
                // `None`: the `FaultProxy` was dropped.
                let Some(DoorCommand { open, done }) = command else { return };
                let result = if open {
                    door.open()
                } else {
                    let result = door.close();
                    // An office that goes down takes its open connections with it. Aborted
                    // tasks finish at once, so this drain is short.
                    connections.abort_all();
                    while connections.join_next().await.is_some() {}
                    result
                };
                let _ = done.send(result);
            }
            accepted = door.accept() => match accepted {
                Ok(stream) => {
                    next_id += 1;
                    connections.spawn(serve_connection(
                        Arc::clone(&shared),
                        next_id,
                        stream,
                        upstream,
                    ));
                }
                // A connection that failed before it was accepted, or no descriptors left:
                // neither ends the proxy, and the pause keeps the latter from spinning.
                Err(error) => {
                    eprintln!("fault proxy: accepting a connection: {error}");
                    sleep(Duration::from_millis(10)).await;
                }
            },
            // Reaps finished connections so the set does not grow over a long test.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

// ---------------------------------------------------------------------------------------------
// One client connection
// ---------------------------------------------------------------------------------------------

struct Request {
    /// The whole request as received, forwarded as is.
    raw: Vec<u8>,
    keep_alive: bool,
    /// What gets recorded, with the outcome still to be filled in.
    record: Recorded,
}

struct Response {
    raw: Vec<u8>,
    status: u16,
    keep_alive: bool,
}

/// Records its request when dropped: with the outcome given to `finish`, or as
/// [`Outcome::Cut`] when the connection task was aborted because the office went down.
struct Pending<'a> {
    shared: &'a Shared,
    record: Option<Recorded>,
}

impl Pending<'_> {
    fn finish(mut self, outcome: Outcome) {
        if let Some(record) = &mut self.record {
            record.outcome = outcome;
        }
    }
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        if let Some(record) = self.record.take() {
            self.shared.record(record);
        }
    }
}

async fn serve_connection(shared: Arc<Shared>, id: u64, stream: TcpStream, upstream: SocketAddr) {
    // Every message is written whole; Nagle's algorithm would only add delay.
    let _ = stream.set_nodelay(true);
    let mut client = BufReader::new(stream);
    let mut office = None;
    loop {
        let request = match timeout(CLIENT_IDLE, read_request(&mut client, id)).await {
            Ok(Ok(Some(request))) => request,
            // Closed between requests, or idle for too long.
            Ok(Ok(None)) | Err(_) => return,
            Ok(Err(error)) => {
                eprintln!("fault proxy: connection {id}: unusable request: {error}");
                return;
            }
        };
        let mode = shared.next_mode();
        let pending = Pending {
            shared: &shared,
            record: Some(request.record.clone()),
        };
        let (outcome, keep_open) =
            handle(&mode, &request, &mut client, &mut office, upstream).await;
        pending.finish(outcome);
        if !keep_open {
            return;
        }
    }
}

/// Does what `mode` says with one request. Returns the outcome and whether the client
/// connection stays open for another request.
async fn handle(
    mode: &Mode,
    request: &Request,
    client: &mut BufReader<TcpStream>,
    office: &mut Option<BufReader<TcpStream>>,
    upstream: SocketAddr,
) -> (Outcome, bool) {
    let failed = |error| (Outcome::UpstreamFailed { error }, false);
    match mode {
        Mode::Refuse => (Outcome::Refused, false),
        Mode::Respond {
            status,
            headers,
            body,
        } => {
            let bytes = response_bytes(*status, headers, body, request.record.method == "HEAD");
            let written = client.write_all(&bytes).await.is_ok();
            let keep_open =
                written && request.keep_alive && !has_token(headers, "connection", "close");
            (Outcome::Responded { status: *status }, keep_open)
        }
        Mode::PassThrough => match exchange(office, upstream, request).await {
            Ok(response) => {
                let written = client.write_all(&response.raw).await.is_ok();
                let keep_open = written && request.keep_alive && response.keep_alive;
                let status = response.status;
                (Outcome::Forwarded { status }, keep_open)
            }
            Err(error) => failed(error),
        },
        Mode::DropAfterUpstreamReplied => match exchange(office, upstream, request).await {
            // Returning "do not keep open" closes the client connection with nothing written.
            Ok(response) => {
                let status = response.status;
                (Outcome::DroppedAfterUpstreamReplied { status }, false)
            }
            Err(error) => failed(error),
        },
        Mode::DelayResponse(delay) => match exchange(office, upstream, request).await {
            Ok(response) => {
                let delivered = !client_left_during(client, *delay).await
                    && client.write_all(&response.raw).await.is_ok();
                let keep_open = delivered && request.keep_alive && response.keep_alive;
                let outcome = Outcome::Delayed {
                    status: response.status,
                    delay: *delay,
                    delivered,
                };
                (outcome, keep_open)
            }
            Err(error) => failed(error),
        },
    }
}

/// Sends `request` to the office over this client connection's office connection (opening
/// one if needed) and reads the whole response.
async fn exchange(
    office: &mut Option<BufReader<TcpStream>>,
    upstream: SocketAddr,
    request: &Request,
) -> Result<Response, String> {
    let mut connection = match office.take().filter(still_open) {
        Some(connection) => connection,
        None => {
            let stream = match timeout(UPSTREAM_CONNECT, TcpStream::connect(upstream)).await {
                Ok(Ok(stream)) => stream,
                Ok(Err(error)) => {
                    return Err(format!("connecting to the office {upstream}: {error}"));
                }
                Err(_) => return Err(format!("connecting to the office {upstream} timed out")),
            };
            let _ = stream.set_nodelay(true);
            BufReader::new(stream)
        }
    };
    // An office that answers early and closes (say, 413 before the whole body) can fail the
    // write yet have sent a complete response, which is then passed on like any other.
    let sent = connection.write_all(&request.raw).await;
    let method = &request.record.method;
    match timeout(UPSTREAM_RESPONSE, read_response(&mut connection, method)).await {
        Ok(Ok(response)) => {
            if response.keep_alive {
                *office = Some(connection);
            }
            Ok(response)
        }
        Ok(Err(error)) => Err(match sent {
            Err(send_error) => format!("sending the request to the office: {send_error}"),
            Ok(()) => format!("reading the office's response: {error}"),
        }),
        Err(_) => Err(format!(
            "the office sent no complete response within {UPSTREAM_RESPONSE:?}"
        )),
    }
}

/// Whether an idle office connection can carry another exchange: nothing unasked-for buffered
/// and no end-of-stream or error pending (reading would block).
fn still_open(connection: &BufReader<TcpStream>) -> bool {
    connection.buffer().is_empty()
        && matches!(
            connection.get_ref().try_read(&mut [0; 1]),
            Err(error) if error.kind() == io::ErrorKind::WouldBlock
        )
}

/// Waits `delay`, watching the client: true if it closed the connection meanwhile. The client
/// sends nothing while it waits for an answer, so the connection turning readable means it
/// closed; should a pipelined request arrive instead, it stays buffered and the wait goes on.
async fn client_left_during(client: &mut BufReader<TcpStream>, delay: Duration) -> bool {
    let mut held = pin!(sleep(delay));
    tokio::select! {
        _ = &mut held => false,
        read = client.fill_buf() => match read {
            Ok([]) | Err(_) => true,
            Ok(_) => {
                held.await;
                false
            }
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Just enough HTTP/1.1
// ---------------------------------------------------------------------------------------------

/// How a message's body is delimited (RFC 9112, section 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    Empty,
    Length(u64),
    Chunked,
    UntilClose,
}

struct Head {
    raw: Vec<u8>,
    start_line: String,
    headers: Vec<(String, String)>,
}

/// Reads the next request; `None` if the connection closed before its first byte.
async fn read_request<R>(reader: &mut R, connection: u64) -> io::Result<Option<Request>>
where
    R: AsyncBufRead + Unpin,
{
    let Some(head) = read_head(reader).await? else {
        return Ok(None);
    };
    let parts: Vec<&str> = head.start_line.split(' ').collect();
    let [method, target, version] = parts[..] else {
        return Err(invalid(format!("bad request line {:?}", head.start_line)));
    };
    let keep_alive = keeps_alive(version, &head.headers)
        .ok_or_else(|| invalid(format!("not HTTP/1.x: {:?}", head.start_line)))?;
    let framing = if head
        .headers
        .iter()
        .any(|(name, _)| is(name, "transfer-encoding"))
    {
        if !last_coding_is_chunked(&head.headers) {
            return Err(invalid("a request's transfer coding must end with chunked"));
        }
        Framing::Chunked
    } else {
        content_length(&head.headers)?.map_or(Framing::Empty, Framing::Length)
    };
    let mut raw = head.raw;
    let body = read_body(reader, framing, &mut raw).await?;
    let record = Recorded {
        connection,
        method: method.to_string(),
        path: target.to_string(),
        headers: head.headers,
        body,
        outcome: Outcome::Cut,
    };
    Ok(Some(Request {
        raw,
        keep_alive,
        record,
    }))
}

/// Reads a final response to a `method` request, with any interim (1xx) responses before it.
async fn read_response<R>(reader: &mut R, method: &str) -> io::Result<Response>
where
    R: AsyncBufRead + Unpin,
{
    let mut raw = Vec::new();
    for _ in 0..=MAX_INTERIM {
        let head = read_head(reader).await?.ok_or_else(|| {
            io::Error::new(io::ErrorKind::UnexpectedEof, "closed without answering")
        })?;
        let mut parts = head.start_line.splitn(3, ' ');
        let version = parts.next().unwrap_or_default();
        let status = parts
            .next()
            .filter(|code| code.len() == 3)
            .and_then(|code| code.parse::<u16>().ok())
            .ok_or_else(|| invalid(format!("bad status line {:?}", head.start_line)))?;
        let keep_alive = keeps_alive(version, &head.headers)
            .ok_or_else(|| invalid(format!("not HTTP/1.x: {:?}", head.start_line)))?;
        raw.extend_from_slice(&head.raw);
        if status == 101 {
            return Err(invalid("protocol upgrades are not supported"));
        }
        if (100..200).contains(&status) {
            // Interim (100 Continue, 103 Early Hints): passed on; the final response follows.
            continue;
        }
        let framing = if method == "HEAD" || status == 204 || status == 304 {
            Framing::Empty
        } else if head
            .headers
            .iter()
            .any(|(name, _)| is(name, "transfer-encoding"))
        {
            if last_coding_is_chunked(&head.headers) {
                Framing::Chunked
            } else {
                Framing::UntilClose
            }
        } else {
            content_length(&head.headers)?.map_or(Framing::UntilClose, Framing::Length)
        };
        read_body(reader, framing, &mut raw).await?;
        return Ok(Response {
            raw,
            status,
            // A body that ends with the connection leaves nothing to keep alive.
            keep_alive: keep_alive && framing != Framing::UntilClose,
        });
    }
    Err(invalid(format!(
        "more than {MAX_INTERIM} interim responses"
    )))
}

/// Reads a start line and header fields up to the empty line; `None` if the stream ended
/// before the first byte.
async fn read_head<R>(reader: &mut R) -> io::Result<Option<Head>>
where
    R: AsyncBufRead + Unpin,
{
    let mut raw = Vec::new();
    let mut start_line = None;
    let mut headers = Vec::new();
    loop {
        let line = read_line(reader, HEAD_LIMIT - raw.len()).await?;
        if line.is_empty() {
            return if raw.is_empty() {
                Ok(None)
            } else {
                Err(closed_mid("a message head"))
            };
        }
        raw.extend_from_slice(&line);
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        let Some(start) = &start_line else {
            if text.is_empty() {
                return Err(invalid("empty start line"));
            }
            start_line = Some(text.to_string());
            continue;
        };
        if text.is_empty() {
            let start_line = start.clone();
            return Ok(Some(Head {
                raw,
                start_line,
                headers,
            }));
        }
        if text.starts_with([' ', '\t']) {
            return Err(invalid("obsolete header line folding"));
        }
        let Some((name, value)) = text.split_once(':') else {
            return Err(invalid(format!("header line without a colon: {text:?}")));
        };
        headers.push((
            name.to_string(),
            value.trim_matches([' ', '\t']).to_string(),
        ));
    }
}

/// Reads the body framed by `framing`, appending the bytes as received to `raw`; returns the
/// body itself (de-chunked).
async fn read_body<R>(reader: &mut R, framing: Framing, raw: &mut Vec<u8>) -> io::Result<Vec<u8>>
where
    R: AsyncBufRead + Unpin,
{
    let body = match framing {
        Framing::Empty => Vec::new(),
        Framing::Length(length) => {
            if length > BODY_LIMIT {
                return Err(invalid(format!("a {length}-byte body is over the limit")));
            }
            read_exactly(reader, length).await?
        }
        Framing::UntilClose => {
            let mut body = Vec::new();
            (&mut *reader)
                .take(BODY_LIMIT + 1)
                .read_to_end(&mut body)
                .await?;
            if body.len() as u64 > BODY_LIMIT {
                return Err(invalid("a body is over the limit"));
            }
            body
        }
        Framing::Chunked => return read_chunked(reader, raw).await,
    };
    raw.extend_from_slice(&body);
    Ok(body)
}

async fn read_chunked<R>(reader: &mut R, raw: &mut Vec<u8>) -> io::Result<Vec<u8>>
where
    R: AsyncBufRead + Unpin,
{
    let mut body = Vec::new();
    loop {
        let line = read_line(reader, CHUNK_LINE_LIMIT).await?;
        if line.is_empty() {
            return Err(closed_mid("a chunked body"));
        }
        raw.extend_from_slice(&line);
        let text = String::from_utf8_lossy(&line);
        // Chunk extensions (";name=value") are allowed and mean nothing here.
        let size_text = text
            .split([';', '\r', '\n'])
            .next()
            .unwrap_or_default()
            .trim();
        let size = u64::from_str_radix(size_text, 16)
            .map_err(|_| invalid(format!("bad chunk size line {text:?}")))?;
        if size == 0 {
            break;
        }
        if body.len() as u64 + size > BODY_LIMIT {
            return Err(invalid("a chunked body is over the limit"));
        }
        let chunk = read_exactly(reader, size).await?;
        raw.extend_from_slice(&chunk);
        body.extend_from_slice(&chunk);
        let end = read_line(reader, 2).await?;
        if end != b"\r\n" && end != b"\n" {
            return Err(invalid("a chunk does not end with CRLF"));
        }
        raw.extend_from_slice(&end);
    }
    // The trailer: header fields (ignored) up to the empty line that ends the message.
    let mut trailer_len = 0;
    loop {
        let line = read_line(reader, HEAD_LIMIT - trailer_len).await?;
        if line.is_empty() {
            return Err(closed_mid("a chunked body's trailer"));
        }
        trailer_len += line.len();
        raw.extend_from_slice(&line);
        if line == b"\r\n" || line == b"\n" {
            return Ok(body);
        }
    }
}

/// Reads one line including its `\n`, of at most `limit` bytes; empty if the stream ended
/// before its first byte.
async fn read_line<R>(reader: &mut R, limit: usize) -> io::Result<Vec<u8>>
where
    R: AsyncBufRead + Unpin,
{
    if limit == 0 {
        return Err(invalid("a message head or trailer over the size limit"));
    }
    let mut line = Vec::new();
    (&mut *reader)
        .take(limit as u64)
        .read_until(b'\n', &mut line)
        .await?;
    if line.is_empty() || line.ends_with(b"\n") {
        Ok(line)
    } else if line.len() >= limit {
        Err(invalid(format!("a line longer than {limit} bytes")))
    } else {
        Err(closed_mid("a line"))
    }
}

async fn read_exactly<R>(reader: &mut R, length: u64) -> io::Result<Vec<u8>>
where
    R: AsyncBufRead + Unpin,
{
    let mut bytes = Vec::new();
    (&mut *reader).take(length).read_to_end(&mut bytes).await?;
    if (bytes.len() as u64) < length {
        return Err(closed_mid("a body"));
    }
    Ok(bytes)
}

/// Whether a message keeps its connection open by the rules of its HTTP version; `None` for a
/// version other than HTTP/1.0 and HTTP/1.1.
fn keeps_alive(version: &str, headers: &[(String, String)]) -> Option<bool> {
    match version {
        "HTTP/1.1" => Some(!has_token(headers, "connection", "close")),
        "HTTP/1.0" => Some(has_token(headers, "connection", "keep-alive")),
        _ => None,
    }
}

/// The `Content-Length`, if any. Repeated values (several fields, or a list) must agree.
fn content_length(headers: &[(String, String)]) -> io::Result<Option<u64>> {
    let mut length = None;
    for value in header_values(headers, "content-length") {
        for item in value.split(',') {
            let parsed: u64 = item
                .trim()
                .parse()
                .map_err(|_| invalid(format!("bad Content-Length {value:?}")))?;
            if length.is_some_and(|known| known != parsed) {
                return Err(invalid("conflicting Content-Length values"));
            }
            length = Some(parsed);
        }
    }
    Ok(length)
}

fn last_coding_is_chunked(headers: &[(String, String)]) -> bool {
    header_values(headers, "transfer-encoding")
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .filter(|coding| !coding.is_empty())
        .last()
        .is_some_and(|coding| coding.eq_ignore_ascii_case("chunked"))
}

fn has_token(headers: &[(String, String)], name: &str, token: &str) -> bool {
    header_values(headers, name)
        .flat_map(|value| value.split(','))
        .any(|item| item.trim().eq_ignore_ascii_case(token))
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(field, _)| is(field, name))
        .map(|(_, value)| value.as_str())
}

fn header_values<'a>(
    headers: &'a [(String, String)],
    name: &'a str,
) -> impl Iterator<Item = &'a str> {
    headers
        .iter()
        .filter(move |(field, _)| is(field, name))
        .map(|(_, value)| value.as_str())
}

fn is(field: &str, name: &str) -> bool {
    field.trim().eq_ignore_ascii_case(name)
}

/// The bytes of a [`Mode::Respond`] answer.
fn response_bytes(status: u16, headers: &[(String, String)], body: &[u8], head: bool) -> Vec<u8> {
    let mut bytes = format!("HTTP/1.1 {status} {}\r\n", reason(status)).into_bytes();
    for (name, value) in headers {
        bytes.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    let framed = header(headers, "content-length").is_some()
        || header(headers, "transfer-encoding").is_some();
    // 204 and 304 never have a body, so they get no length either.
    if !framed && status != 204 && status != 304 {
        bytes.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    }
    bytes.extend_from_slice(b"\r\n");
    if !head {
        bytes.extend_from_slice(body);
    }
    bytes
}

/// Reason phrases for the statuses the tests use; clients ignore them, people reading a
/// capture do not.
fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        409 => "Conflict",
        413 => "Content Too Large",
        422 => "Unprocessable Content",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}

fn invalid(message: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.into())
}

fn closed_mid(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        format!("the connection closed in the middle of {what}"),
    )
}
