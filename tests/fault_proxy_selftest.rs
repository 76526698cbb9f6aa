//! Tests of the fault-injecting proxy in `tests/support/fault_proxy.rs` itself: reqwest (as the
//! kiosk uses it) through the proxy to a tiny office that counts what reaches it, in every
//! mode; the HTTP framing it must understand, against a hand-written upstream; and its plain
//! blocking use outside any runtime.

mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use support::fault_proxy::{FaultProxy, Mode, Outcome, Recorded};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// Generous, because CI machines are slow; waits end as soon as the condition holds.
const WAIT: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------------------------
// A tiny office that counts batches
// ---------------------------------------------------------------------------------------------

/// What the office saw of one batch.
#[derive(Debug, Clone)]
struct Arrival {
    peer: SocketAddr,
    idempotency_key: Option<String>,
}

struct Office {
    addr: SocketAddr,
    arrivals: Arc<Mutex<Vec<Arrival>>>,
}

impl Office {
    /// Serves `POST /v1/batches` on the test's runtime until the test ends.
    async fn start() -> Office {
        let arrivals = Arc::new(Mutex::new(Vec::new()));
        let app = Router::new()
            .route("/v1/batches", post(store_batch))
            .with_state(Arc::clone(&arrivals));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let app = app.into_make_service_with_connect_info::<SocketAddr>();
            axum::serve(listener, app).await.unwrap();
        });
        Office { addr, arrivals }
    }

    fn count(&self) -> usize {
        self.arrivals.lock().unwrap().len()
    }

    fn arrivals(&self) -> Vec<Arrival> {
        self.arrivals.lock().unwrap().clone()
    }
}

async fn store_batch(
    State(arrivals): State<Arc<Mutex<Vec<Arrival>>>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, [(&'static str, &'static str); 1], String) {
    let idempotency_key = headers
        .get("idempotency-key")
        .map(|key| key.to_str().unwrap().to_string());
    arrivals.lock().unwrap().push(Arrival {
        peer,
        idempotency_key,
    });
    let answer = format!(
        r#"{{"accepted":[],"duplicates":[],"bytes":{}}}"#,
        body.len()
    );
    (
        StatusCode::OK,
        [("content-type", "application/json")],
        answer,
    )
}

fn batch_body(key: &str) -> Vec<u8> {
    format!("batch {key};").repeat(50).into_bytes()
}

/// A batch upload as the kiosk sends it (headers that matter here; the body is opaque).
async fn upload(
    client: &reqwest::Client,
    proxy: &FaultProxy,
    key: &str,
) -> reqwest::Result<reqwest::Response> {
    client
        .post(format!("{}/v1/batches", proxy.url()))
        .header("Authorization", "Bearer kiosk-7-token")
        .header("Idempotency-Key", key)
        .header("Content-Type", "application/json")
        .body(batch_body(key))
        .send()
        .await
}

fn outcomes(seen: &[Recorded]) -> Vec<Outcome> {
    seen.iter().map(|request| request.outcome.clone()).collect()
}

fn connections(seen: &[Recorded]) -> Vec<u64> {
    seen.iter().map(|request| request.connection).collect()
}

/// An office, a proxy in front of it, and a client whose kept-alive connection through the
/// proxy has delivered `batch-1`, for the office to go down on.
async fn one_batch_through() -> (Office, FaultProxy, reqwest::Client) {
    let office = Office::start().await;
    let proxy = FaultProxy::start(office.addr).unwrap();
    let client = reqwest::Client::new();
    assert_eq!(
        upload(&client, &proxy, "batch-1").await.unwrap().status(),
        200
    );
    (office, proxy, client)
}

/// After [`one_batch_through`] and the office going down: `batch-2` fails on the client's
/// kept-alive connection, which went down with the office, then goes through once the office
/// is back on the same port. Returns what the proxy recorded: the two batches, and nothing of
/// the attempts while the office was down.
async fn back_up_for_batch_2(
    office: &Office,
    proxy: &FaultProxy,
    client: &reqwest::Client,
    addr: SocketAddr,
) -> Vec<Recorded> {
    upload(client, proxy, "batch-2").await.unwrap_err();
    assert_eq!(office.count(), 1);

    proxy.set_mode(Mode::PassThrough);
    assert_eq!(proxy.addr(), addr);
    let response = upload(client, proxy, "batch-2").await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(office.count(), 2);

    let seen = proxy.wait_for_requests(2, WAIT).await.unwrap();
    assert_eq!(
        outcomes(&seen),
        [
            Outcome::Forwarded { status: 200 },
            Outcome::Forwarded { status: 200 }
        ]
    );
    seen
}

// ---------------------------------------------------------------------------------------------
// The modes, through reqwest
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn pass_through_keeps_one_connection_alive_for_several_requests() {
    let office = Office::start().await;
    let proxy = FaultProxy::start(office.addr).unwrap();
    let client = reqwest::Client::new();

    for key in ["batch-1", "batch-2"] {
        let response = upload(&client, &proxy, key).await.unwrap();
        assert_eq!(response.status(), 200);
        let expected = format!(
            r#"{{"accepted":[],"duplicates":[],"bytes":{}}}"#,
            batch_body(key).len()
        );
        assert_eq!(response.text().await.unwrap(), expected);
    }

    let seen = proxy.wait_for_requests(2, WAIT).await.unwrap();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        connections(&seen),
        [1, 1],
        "both requests on one kiosk connection"
    );
    for (request, key) in seen.iter().zip(["batch-1", "batch-2"]) {
        assert_eq!(request.method, "POST");
        assert_eq!(request.path, "/v1/batches");
        assert_eq!(request.header("Idempotency-Key"), Some(key));
        assert_eq!(
            request.header("authorization"),
            Some("Bearer kiosk-7-token")
        );
        assert_eq!(request.body_len(), batch_body(key).len());
        assert_eq!(request.body, batch_body(key));
        assert_eq!(request.outcome, Outcome::Forwarded { status: 200 });
    }
    let arrivals = office.arrivals();
    assert_eq!(arrivals.len(), 2);
    assert_eq!(
        arrivals[0].peer, arrivals[1].peer,
        "the proxy kept its office connection alive too"
    );
}

#[tokio::test]
async fn drop_after_upstream_replied_loses_the_answer_but_not_the_batch() {
    let office = Office::start().await;
    let proxy = FaultProxy::start(office.addr).unwrap();
    let client = reqwest::Client::new();

    proxy.queue_once(Mode::DropAfterUpstreamReplied);
    let error = upload(&client, &proxy, "batch-1").await.unwrap_err();
    assert!(!error.is_timeout() && !error.is_status(), "{error:?}");
    assert_eq!(
        office.count(),
        1,
        "the office stored the batch before the drop"
    );

    // Queued for one request only: the kiosk's retry goes through.
    let retried = upload(&client, &proxy, "batch-1").await.unwrap();
    assert_eq!(retried.status(), 200);
    assert_eq!(office.count(), 2);

    let seen = proxy.wait_for_requests(2, WAIT).await.unwrap();
    assert_eq!(
        outcomes(&seen),
        [
            Outcome::DroppedAfterUpstreamReplied { status: 200 },
            Outcome::Forwarded { status: 200 },
        ]
    );
    assert_eq!(
        connections(&seen),
        [1, 2],
        "the dropped connection was not reused"
    );
    let keys: Vec<_> = office
        .arrivals()
        .into_iter()
        .map(|a| a.idempotency_key)
        .collect();
    assert_eq!(
        keys,
        [Some("batch-1".to_string()), Some("batch-1".to_string())]
    );
}

#[tokio::test]
async fn delay_response_beyond_the_client_timeout() {
    let office = Office::start().await;
    let proxy = FaultProxy::start(office.addr).unwrap();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();

    let held = Duration::from_secs(3);
    proxy.set_mode(Mode::DelayResponse(held));
    let started = Instant::now();
    let error = upload(&client, &proxy, "batch-1").await.unwrap_err();
    assert!(error.is_timeout(), "{error:?}");
    assert_eq!(
        office.count(),
        1,
        "the office stored the batch it answered too slowly"
    );

    // The client closing its connection ends the hold: the answer is dropped, not sent late.
    let seen = proxy.wait_for_requests(1, WAIT).await.unwrap();
    assert!(started.elapsed() < held, "took {:?}", started.elapsed());
    let dropped = Outcome::Delayed {
        status: 200,
        delay: held,
        delivered: false,
    };
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].outcome, dropped);

    // A delay inside the timeout only slows the answer down.
    let short = Duration::from_millis(100);
    proxy.set_mode(Mode::DelayResponse(short));
    let started = Instant::now();
    let response = upload(&client, &proxy, "batch-2").await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(started.elapsed() >= short);
    let seen = proxy.wait_for_requests(2, WAIT).await.unwrap();
    let delivered = Outcome::Delayed {
        status: 200,
        delay: short,
        delivered: true,
    };
    assert_eq!(outcomes(&seen), [dropped, delivered]);
    assert_eq!(office.count(), 2);
}

#[tokio::test]
async fn respond_answers_without_the_office() {
    let office = Office::start().await;
    let proxy = FaultProxy::start(office.addr).unwrap();
    let client = reqwest::Client::new();

    // A queue: two busy answers, then the office again.
    let busy = Mode::respond(503, &[("Retry-After", "120")], "");
    proxy.queue_once(busy.clone());
    proxy.queue_once(busy);
    for _ in 0..2 {
        let response = upload(&client, &proxy, "batch-1").await.unwrap();
        assert_eq!(response.status(), 503);
        assert_eq!(response.headers()["retry-after"], "120");
        assert_eq!(response.text().await.unwrap(), "");
    }
    assert_eq!(office.count(), 0, "the office saw nothing");
    let response = upload(&client, &proxy, "batch-1").await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(office.count(), 1);

    let refusal = r#"{"error": "unknown token"}"#;
    proxy.set_mode(Mode::respond(
        401,
        &[("Content-Type", "application/json")],
        refusal,
    ));
    let response = upload(&client, &proxy, "batch-2").await.unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.text().await.unwrap(), refusal);
    assert_eq!(office.count(), 1);

    let seen = proxy.wait_for_requests(4, WAIT).await.unwrap();
    assert_eq!(
        outcomes(&seen),
        [
            Outcome::Responded { status: 503 },
            Outcome::Responded { status: 503 },
            Outcome::Forwarded { status: 200 },
            Outcome::Responded { status: 401 },
        ]
    );
    assert_eq!(
        connections(&seen),
        [1, 1, 1, 1],
        "answers keep the connection alive"
    );
    let keys: Vec<_> = seen.iter().map(|r| r.header("idempotency-key")).collect();
    let keys = keys.into_iter().map(Option::unwrap).collect::<Vec<_>>();
    assert_eq!(keys, ["batch-1", "batch-1", "batch-1", "batch-2"]);
}

#[tokio::test]
async fn refuse_refuses_connections_and_the_same_port_comes_back() {
    let (office, proxy, client) = one_batch_through().await;
    let addr = proxy.addr();

    proxy.set_mode(Mode::Refuse);
    let error = TcpStream::connect(addr).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::ConnectionRefused);
    // Nothing else can take the port meanwhile.
    let error = std::net::TcpListener::bind(addr).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::AddrInUse);

    let started = Instant::now();
    let error = upload(&reqwest::Client::new(), &proxy, "batch-2")
        .await
        .unwrap_err();
    assert!(error.is_connect(), "{error:?}");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "took {:?}",
        started.elapsed()
    );

    let seen = back_up_for_batch_2(&office, &proxy, &client, addr).await;
    assert_eq!(seen[1].header("Idempotency-Key"), Some("batch-2"));
}

#[tokio::test]
async fn refuse_and_back_many_times_keeps_the_port() {
    let office = Office::start().await;
    let proxy = FaultProxy::start(office.addr).unwrap();
    let addr = proxy.addr();
    let client = reqwest::Client::new();
    for round in 0..50 {
        proxy.set_mode(Mode::Refuse);
        let error = TcpStream::connect(addr).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::ConnectionRefused, "round {round}");
        proxy.set_mode(Mode::PassThrough);
        let key = format!("batch-{round}");
        let response = upload(&client, &proxy, &key).await.unwrap();
        assert_eq!(response.status(), 200, "round {round}");
    }
    assert_eq!(office.count(), 50);
}

#[tokio::test]
async fn refuse_cuts_a_request_in_flight() {
    let office = Office::start().await;
    let proxy = FaultProxy::start(office.addr).unwrap();
    proxy.set_mode(Mode::DelayResponse(Duration::from_secs(5)));
    let uploading = tokio::spawn({
        let url = proxy.url();
        async move {
            reqwest::Client::new()
                .post(format!("{url}/v1/batches"))
                .body("x")
                .send()
                .await
        }
    });
    while office.count() == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    proxy.set_mode(Mode::Refuse);
    uploading.await.unwrap().unwrap_err();
    let seen = proxy.wait_for_requests(1, WAIT).await.unwrap();
    assert_eq!(outcomes(&seen), [Outcome::Cut]);
}

#[tokio::test]
async fn hang_up_accepts_counts_and_resets_every_connection_until_the_office_is_back() {
    let (office, proxy, client) = one_batch_through().await;
    let addr = proxy.addr();

    proxy.set_mode(Mode::HangUp);
    // Unlike Refuse, the connection is made, then reset without a byte; so soon that the reset
    // may be what connecting reports already.
    let reset = match TcpStream::connect(addr).await {
        Ok(mut stream) => stream.read(&mut [0; 1]).await.map(drop),
        Err(error) => Err(error),
    };
    assert!(
        matches!(&reset, Err(error) if error.kind() == ErrorKind::ConnectionReset),
        "{reset:?}"
    );
    assert_eq!(proxy.hung_up(), 1);
    // A client with no connection yet: one attempt, one count.
    upload(&reqwest::Client::new(), &proxy, "batch-2")
        .await
        .unwrap_err();
    assert_eq!(proxy.hung_up(), 2);

    back_up_for_batch_2(&office, &proxy, &client, addr).await;
    let hung_up = proxy.hung_up();
    let fresh = reqwest::Client::new();
    assert_eq!(
        upload(&fresh, &proxy, "batch-3").await.unwrap().status(),
        200
    );
    assert_eq!(
        proxy.hung_up(),
        hung_up,
        "a served connection is not counted"
    );
}

#[tokio::test]
async fn wait_for_requests_gives_up_and_dropping_the_proxy_stops_it() {
    let office = Office::start().await;
    let proxy = FaultProxy::start(office.addr).unwrap();
    let addr = proxy.addr();

    let started = Instant::now();
    let timed_out = proxy
        .wait_for_requests(1, Duration::from_millis(200))
        .await
        .unwrap_err();
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(timed_out.wanted, 1);
    assert!(timed_out.seen.is_empty());

    drop(proxy);
    let error = TcpStream::connect(addr).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::ConnectionRefused);
}

#[test]
#[should_panic(expected = "cannot be queued")]
fn refuse_cannot_be_queued_for_one_request() {
    let proxy = FaultProxy::start("127.0.0.1:1".parse().unwrap()).unwrap();
    proxy.queue_once(Mode::Refuse);
}

#[test]
#[should_panic(expected = "cannot be queued")]
fn hang_up_cannot_be_queued_for_one_request() {
    let proxy = FaultProxy::start("127.0.0.1:1".parse().unwrap()).unwrap();
    proxy.queue_once(Mode::HangUp);
}

// ---------------------------------------------------------------------------------------------
// Framing, against a hand-written upstream
// ---------------------------------------------------------------------------------------------

/// An upstream that answers each request (read up to its empty line; no bodies) with the next
/// of `answers`, closing the connection after an answer marked so.
async fn scripted_upstream(answers: Vec<(&'static str, bool)>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut answers = answers.into_iter();
        while let Ok((stream, _)) = listener.accept().await {
            let mut stream = BufReader::new(stream);
            loop {
                let mut line = String::new();
                loop {
                    line.clear();
                    if stream.read_line(&mut line).await.unwrap() == 0 || line == "\r\n" {
                        break;
                    }
                }
                if line != "\r\n" {
                    break; // the proxy closed the connection
                }
                let Some((answer, close)) = answers.next() else {
                    return;
                };
                stream.write_all(answer.as_bytes()).await.unwrap();
                if close {
                    break;
                }
            }
        }
    });
    addr
}

#[tokio::test]
async fn responses_framed_every_way_pass_through_intact() {
    let upstream = scripted_upstream(vec![
        (
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
             5;note=first\r\nhello\r\n7\r\n, world\r\n0\r\nX-Checksum: none\r\n\r\n",
            false,
        ),
        (
            "HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n\
             HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext",
            false,
        ),
        ("HTTP/1.1 204 No Content\r\n\r\n", false),
        ("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", false),
        ("HTTP/1.1 200 OK\r\n\r\nuntil the end", true),
        ("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false),
    ])
    .await;
    let proxy = FaultProxy::start(upstream).unwrap();
    let client = reqwest::Client::new();
    let url = proxy.url();

    let response = client.get(&url).send().await.unwrap();
    assert_eq!(response.text().await.unwrap(), "hello, world");
    let response = client.get(&url).send().await.unwrap();
    assert_eq!(response.text().await.unwrap(), "next");
    let response = client.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 204);
    let response = client.head(&url).send().await.unwrap();
    assert_eq!(response.headers()["content-length"], "10");
    assert_eq!(response.text().await.unwrap(), "");
    let response = client.get(&url).send().await.unwrap();
    assert_eq!(response.text().await.unwrap(), "until the end");
    let response = client.get(&url).send().await.unwrap();
    assert_eq!(response.text().await.unwrap(), "ok");

    let seen = proxy.wait_for_requests(6, WAIT).await.unwrap();
    let statuses: Vec<_> = seen
        .iter()
        .map(|request| match request.outcome {
            Outcome::Forwarded { status } => status,
            ref other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(statuses, [200, 200, 204, 200, 200, 200]);
    // The answer that ended with its connection ended the kiosk's connection too.
    assert_eq!(connections(&seen), [1, 1, 1, 1, 1, 2]);
    assert_eq!(seen[3].method, "HEAD");
}

// ---------------------------------------------------------------------------------------------
// Outside any runtime, with a raw client
// ---------------------------------------------------------------------------------------------

#[test]
fn works_from_plain_threads_with_raw_http() {
    // Nothing listens on port 1, so forwarding fails there.
    let proxy = FaultProxy::start("127.0.0.1:1".parse().unwrap()).unwrap();
    proxy.set_mode(Mode::respond(200, &[("Content-Type", "text/plain")], "hi"));
    let answer = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi";

    let mut stream = std::net::TcpStream::connect(proxy.addr()).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream
        .write_all(
            b"POST /v1/batches HTTP/1.1\r\nHost: office\r\nIdempotency-Key: k-1\r\n\
              Content-Length: 5\r\n\r\nhello",
        )
        .unwrap();
    let mut first = vec![0; answer.len()];
    stream.read_exact(&mut first).unwrap();
    assert_eq!(String::from_utf8(first).unwrap(), answer);

    // A chunked request on the same connection, asking to close it afterwards.
    stream
        .write_all(
            b"POST /v1/batches HTTP/1.1\r\nHost: office\r\nIdempotency-Key: k-2\r\n\
              Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
              3\r\nhel\r\n2;x=y\r\nlo\r\n0\r\n\r\n",
        )
        .unwrap();
    let mut rest = String::new();
    stream.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, answer, "answered, then closed");

    proxy.set_mode(Mode::PassThrough);
    let mut stream = std::net::TcpStream::connect(proxy.addr()).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream
        .write_all(b"GET /v1/export.csv HTTP/1.1\r\nHost: office\r\n\r\n")
        .unwrap();
    let mut nothing = Vec::new();
    stream.read_to_end(&mut nothing).unwrap();
    assert!(nothing.is_empty(), "closed without an answer");

    let seen = proxy.wait_for_requests_blocking(3, WAIT).unwrap();
    assert_eq!(connections(&seen), [1, 1, 2]);
    assert_eq!(seen[0].body, b"hello");
    assert_eq!(seen[1].body, b"hello", "de-chunked");
    assert_eq!(seen[1].header("idempotency-key"), Some("k-2"));
    assert_eq!(seen[2].path, "/v1/export.csv");
    assert!(
        matches!(&seen[2].outcome, Outcome::UpstreamFailed { error } if error.contains("refused")),
        "{:?}",
        seen[2].outcome
    );
}
