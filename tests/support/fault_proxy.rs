//! A fault-injecting HTTP/1.1 proxy for the upload tests, standing on 127.0.0.1 between the
//! kiosk and the office (`concern-office`, or any HTTP/1.1 server).
//!
//! This file owns [`FaultProxy`]: it forwards each request to the office unchanged and does to
//! the answer what the test last asked for with [`FaultProxy::set_mode`] or
//! [`FaultProxy::queue_once`] (see [`Mode`]), recording every request and what it did with it
//! ([`Recorded`], [`Outcome`]); those three types are in `fault_proxy/modes.rs`.
//!
//! How it works, and why:
//!
//! * It runs on its own thread with its own current-thread tokio runtime, not on the test's,
//!   so it keeps working and keeps real time whatever the test does with its runtime: a
//!   current-thread `#[tokio::test]` that blocks for a moment, or a paused tokio clock, which
//!   would make the proxy's delays and time limits jump ahead. Plain `#[test]`s that run the
//!   kiosk as a child process can use it too. Every method can be called from any thread,
//!   inside or outside a runtime; the few that wait do so on the proxy's thread.
//! * It understands just enough HTTP/1.1 (`fault_proxy/http.rs`) to find where messages end: the
//!   request line, headers and a `Content-Length` or chunked body; responses framed by
//!   `Content-Length`, `chunked` or the end of the connection, none for `HEAD`, 204 and 304;
//!   interim 1xx responses are passed on. Bytes are forwarded exactly as received, never
//!   re-encoded. Not supported: pipelining (reqwest never pipelines), `Expect: 100-continue`
//!   (reqwest never sends it) and upgrades.
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
//! * The kernel sends those refusals, so the proxy never sees them and cannot count them.
//!   [`Mode::HangUp`] is the office down behind something that still accepts connections: the
//!   proxy accepts each one, counts it ([`FaultProxy::hung_up`]) and resets it unread, so a
//!   test can tell how often a kiosk tried while the office was away.
//! * Bounded: reads have size limits and time limits (an idle client connection is closed
//!   after [`CLIENT_IDLE`]), every wait has a timeout, and dropping the [`FaultProxy`] stops
//!   its thread, closing the port and every connection.

// Each test binary that includes `tests/support` uses a different part of this module.
#![allow(dead_code)]

mod http;
mod modes;

use std::collections::VecDeque;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::pin::pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, mpsc as std_mpsc};
use std::thread;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::runtime::Handle;
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep, timeout, timeout_at};

use self::http::{has_token, read_request, read_response, response_bytes};
pub use self::modes::{Mode, Outcome, Recorded};

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
                hung_up: 0,
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
    /// queued with [`queue_once`](Self::queue_once). Switching to [`Mode::Refuse`] or
    /// [`Mode::HangUp`] returns once new connections are refused or hung up on and every open
    /// connection is closed; switching away from them returns once the port accepts again.
    pub fn set_mode(&self, mode: Mode) {
        let port = match mode {
            Mode::Refuse => Port::Refusing,
            Mode::HangUp => Port::HangingUp,
            _ => Port::Serving,
        };
        {
            let mut state = self.shared.lock();
            state.standing = mode;
            state.once.clear();
        }
        self.command_door(port);
    }

    /// Queues `mode` for exactly one request: the next request not claimed by an earlier
    /// queued mode gets it; once the queue is empty the standing mode applies again. So
    /// `queue_once(Mode::respond(503, …))` means "the next request gets 503, then as before".
    ///
    /// Panics for [`Mode::Refuse`] and [`Mode::HangUp`] (see there).
    pub fn queue_once(&self, mode: Mode) {
        assert!(
            !matches!(mode, Mode::Refuse | Mode::HangUp),
            "Mode::{mode:?} cannot be queued for one request: the office is down until told \
             otherwise, so use set_mode(Mode::{mode:?}) and later set_mode(...) again"
        );
        self.shared.lock().once.push_back(mode);
    }

    /// Every request handled so far, in the order their outcomes were settled. A request
    /// appears before its answer is passed on, so a client that has its answer finds it here;
    /// a delayed one appears after the delay, or when the client has gone.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.lock().records.clone()
    }

    /// How many connections [`Mode::HangUp`] has accepted and reset so far. Each is counted
    /// before it is reset, so a client that has seen the reset finds it counted.
    pub fn hung_up(&self) -> usize {
        self.shared.lock().hung_up
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

    /// Sets what the port does with new connections on the proxy's thread, which owns the
    /// listener, and waits until that is done so the test can rely on it right away.
    fn command_door(&self, port: Port) {
        let (done_tx, done_rx) = std_mpsc::channel();
        let sent = self.commands.as_ref().is_some_and(|commands| {
            commands
                .send(DoorCommand {
                    port,
                    done: done_tx,
                })
                .is_ok()
        });
        assert!(sent, "the fault proxy's thread has stopped");
        let action = if port == Port::Refusing {
            "close"
        } else {
            "open"
        };
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
    /// Connections accepted and reset under [`Mode::HangUp`].
    hung_up: usize,
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

/// What the port does with a new connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Port {
    /// Serves it: the office is up.
    Serving,
    /// Never sees it: the kernel refuses it ([`Mode::Refuse`]).
    Refusing,
    /// Accepts it, counts it and resets it ([`Mode::HangUp`]).
    HangingUp,
}

struct DoorCommand {
    port: Port,
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
    let mut port = Port::Serving;
    loop {
        tokio::select! {
            command = commands.recv() => {
                // `None`: the `FaultProxy` was dropped.
                let Some(DoorCommand { port: wanted, done }) = command else { return };
                let result = if wanted == Port::Refusing {
                    door.close()
                } else {
                    door.open()
                };
                if wanted != Port::Serving {
                    // An office that goes down takes its open connections with it. Aborted
                    // tasks finish at once, so this drain is short.
                    connections.abort_all();
                    while connections.join_next().await.is_some() {}
                }
                port = wanted;
                let _ = done.send(result);
            }
            accepted = door.accept() => match accepted {
                Ok(stream) if port == Port::HangingUp => hang_up(&shared, stream),
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

/// Resets a connection unread, counting it first (see [`FaultProxy::hung_up`]).
fn hang_up(shared: &Shared, stream: TcpStream) {
    shared.lock().hung_up += 1;
    // Without a zero linger, closing a connection whose request has not arrived yet would end
    // it with FIN, an orderly close; the reset is the same answer whatever the timing.
    if let Err(error) = stream.set_zero_linger() {
        eprintln!("fault proxy: hanging up: {error}");
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
        let keep_open = handle(&mode, &request, &mut client, &mut office, upstream, pending).await;
        if !keep_open {
            return;
        }
    }
}

/// Does what `mode` says with one request and records it with its outcome through `pending`.
/// Returns whether the client connection stays open for another request.
async fn handle(
    mode: &Mode,
    request: &Request,
    client: &mut BufReader<TcpStream>,
    office: &mut Option<BufReader<TcpStream>>,
    upstream: SocketAddr,
    pending: Pending<'_>,
) -> bool {
    let failed = |pending: Pending<'_>, error| {
        pending.finish(Outcome::UpstreamFailed { error });
        false
    };
    match mode {
        Mode::Refuse | Mode::HangUp => {
            pending.finish(Outcome::Refused);
            false
        }
        Mode::Respond {
            status,
            headers,
            body,
        } => {
            let bytes = response_bytes(*status, headers, body, request.record.method == "HEAD");
            // Recorded before the answer goes out: a client that has its answer, and the test
            // that drives it, must find the request recorded.
            pending.finish(Outcome::Responded { status: *status });
            let written = client.write_all(&bytes).await.is_ok();
            written && request.keep_alive && !has_token(headers, "connection", "close")
        }
        Mode::PassThrough => match exchange(office, upstream, request).await {
            Ok(response) => {
                // Before the answer goes out, as for `Respond`.
                pending.finish(Outcome::Forwarded {
                    status: response.status,
                });
                let written = client.write_all(&response.raw).await.is_ok();
                written && request.keep_alive && response.keep_alive
            }
            Err(error) => failed(pending, error),
        },
        Mode::DropAfterUpstreamReplied => match exchange(office, upstream, request).await {
            // Returning "do not keep open" closes the client connection with nothing written.
            Ok(response) => {
                let status = response.status;
                pending.finish(Outcome::DroppedAfterUpstreamReplied { status });
                false
            }
            Err(error) => failed(pending, error),
        },
        Mode::CutAfterUpstreamReplied { keep } => match exchange(office, upstream, request).await {
            Ok(response) => {
                let sent = (*keep).min(response.raw.len());
                pending.finish(Outcome::CutAfterUpstreamReplied {
                    status: response.status,
                    sent,
                    whole: response.raw.len(),
                });
                let _ = client.write_all(&response.raw[..sent]).await;
                let _ = client.flush().await;
                false
            }
            Err(error) => failed(pending, error),
        },
        Mode::DelayResponse(delay) => match exchange(office, upstream, request).await {
            Ok(response) => {
                let delivered = !client_left_during(client, *delay).await
                    && client.write_all(&response.raw).await.is_ok();
                // Only after the write, which decides `delivered`.
                pending.finish(Outcome::Delayed {
                    status: response.status,
                    delay: *delay,
                    delivered,
                });
                delivered && request.keep_alive && response.keep_alive
            }
            Err(error) => failed(pending, error),
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
