//! One client cannot take the office down: the real `concern-office` binary on 127.0.0.1
//! against half-sent requests, more connections than it has file descriptors for, a crowd of
//! gzip bombs and a SIGTERM with clients still connected. The timeouts are set short here so
//! the tests stay quick; nothing asserts how long anything took.

mod office_support;

use std::net::TcpStream;

use concern_kiosk::office::{ServerLimits, serve_until};
use office_support::*;
use reqwest::StatusCode;

#[test]
fn half_sent_requests_are_closed_after_the_header_read_timeout() {
    let office = RunningOffice::start(&["--header-read-timeout", "1", "--idle-timeout", "1"]);
    let mut loris: Vec<TcpStream> = (0..60).map(|_| half_sent_request(office.addr)).collect();

    for (index, stream) in loris.iter_mut().enumerate() {
        assert!(closed_by_office(stream), "connection {index} is still open");
    }
    let health = health_over_raw_http(office.addr).expect("the office answers");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
}

#[test]
fn a_keep_alive_connection_with_no_new_request_is_closed_after_the_idle_timeout() {
    use std::io::{Read, Write};
    let office = RunningOffice::start(&["--header-read-timeout", "300", "--idle-timeout", "1"]);
    let mut kept = TcpStream::connect(office.addr).unwrap();
    kept.write_all(b"GET /v1/health HTTP/1.1\r\nHost: office\r\n\r\n")
        .unwrap();
    kept.set_read_timeout(Some(EXIT_PATIENCE)).unwrap();
    let mut answer = Vec::new();
    let closed = kept.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert!(closed.is_ok(), "still open after the answer: {closed:?}");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        !answer.contains("connection: close"),
        "kept alive at first: {answer}"
    );
}

#[test]
fn health_answers_while_more_connections_are_open_than_the_office_has_file_descriptors() {
    // 64 descriptors: 70 connections would exhaust them. The timeouts are long, so nothing
    // but the office's connection limit keeps it answering.
    let office = RunningOffice::start_with_open_files(
        64,
        &["--header-read-timeout", "300", "--idle-timeout", "300"],
    );
    let loris: Vec<TcpStream> = (0..70).map(|_| half_sent_request(office.addr)).collect();

    for _ in 0..3 {
        let health = health_over_raw_http(office.addr).expect("the office answers");
        assert!(health.starts_with("HTTP/1.1 200"), "{health}");
        assert!(health.ends_with("{\"status\":\"ok\"}"), "{health}");
    }
    assert!(
        office.logs("at most 32 connections at once (of 256 asked)"),
        "{}",
        office.log()
    );
    assert!(!office.log().contains("Too many open files"));
    drop(loris);
}

/// A real batch whose text is `text_mib` MiB of one letter: about a thousandth of that as
/// gzip. Over 16 MiB it is a gzip bomb (413); under, a batch with a text far beyond the limit.
fn huge_batch(text_mib: usize) -> Vec<u8> {
    let mut concern = noise_concern(0);
    concern.text = Some("x".repeat(text_mib * 1024 * 1024));
    gzip(&serde_json::to_vec(&batch(KIOSK_A, vec![concern])).unwrap())
}

/// What the office answered one upload: the status, its `Retry-After`, the error text.
type Answer = (StatusCode, Option<reqwest::header::HeaderValue>, String);

/// Sends `count` huge uploads to `url` at once: half inflate past the ceiling, half inflate to
/// 15 MiB of JSON that the office decodes in full before it can refuse it.
fn huge_uploads_at_once(url: &str, count: usize) -> Vec<tokio::task::JoinHandle<Answer>> {
    let bodies = [huge_batch(17), huge_batch(15)];
    let http = client();
    (0..count)
        .map(|index| {
            let request = http
                .post(url)
                .bearer_auth(TOKEN_A)
                .header("Content-Encoding", "gzip")
                .body(bodies[index % 2].clone());
            tokio::spawn(async move {
                let response = request.send().await.expect("the office answers");
                let status = response.status();
                let retry_after = response.headers().get("retry-after").cloned();
                (status, retry_after, error_text(response).await)
            })
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crowd_of_gzip_bombs_is_refused_in_bounded_memory() {
    const UPLOADS: usize = 256;
    let office = RunningOffice::start(&["--max-decompressions", "2"]);
    let url = format!("http://{}/v1/batches", office.addr);
    let before = office.memory_kib("VmHWM");

    let uploads = huge_uploads_at_once(&url, UPLOADS);
    let mut answers = std::collections::BTreeMap::new();
    for upload in uploads {
        let (status, retry_after, message) = upload.await.unwrap();
        *answers.entry(status.as_u16()).or_insert(0) += 1;
        match status {
            StatusCode::PAYLOAD_TOO_LARGE | StatusCode::UNPROCESSABLE_ENTITY => {}
            StatusCode::SERVICE_UNAVAILABLE => {
                assert!(retry_after.is_some(), "a 503 says when to come back");
                assert!(message.contains("try again"), "{message}");
            }
            other => panic!("{other}: {message}"),
        }
    }
    let after = office.memory_kib("VmHWM");
    eprintln!(
        "{UPLOADS} huge uploads, at most 2 decompressions at once: answers {answers:?}; peak memory {} MiB before, {} MiB after",
        before / 1024,
        after / 1024
    );
    // Two decompressions hold at most about 2 × 64 MiB (the inflate buffer doubles past 16 MiB,
    // then the parsed text). Unbounded, 64 of the 15 MiB batches alone lifted the office to
    // 1.3 GiB.
    assert!(after < 256 * 1024, "peak memory {} MiB", after / 1024);
    let health = health_over_raw_http(office.addr).expect("the office answers");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_more_uploads_are_decoded_at_once_than_the_limit_and_the_rest_are_told_to_retry() {
    let dir = tempfile::tempdir().unwrap();
    let office = office_on(&TestDb::new(dir.path())).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1/batches", listener.local_addr().unwrap());
    let limits = ServerLimits {
        max_decompressions: 2,
        ..ServerLimits::default()
    };
    tokio::spawn(serve_until(
        listener,
        office.clone(),
        limits,
        std::future::pending(),
    ));

    for upload in huge_uploads_at_once(&url, 64) {
        let (status, _, _) = upload.await.unwrap();
        assert!([413, 422, 503].contains(&status.as_u16()), "{status}");
    }
    let peak = office.decompression_peak();
    assert!((1..=2).contains(&peak), "{peak} decoded at once");
}

/// How many times the office is stopped the moment it says it listens: the signal used to be
/// taken over only once the server's loop first waited, and a SIGTERM before that killed it.
const PROMPT_STOPS: usize = 10;

#[test]
fn sigterm_the_moment_the_office_listens_stops_it_cleanly() {
    for round in 0..PROMPT_STOPS {
        let mut office = RunningOffice::start(&[]);
        // Connections already waiting keep the server's loop busy accepting them.
        let _clients: Vec<TcpStream> = (0..4)
            .map(|_| TcpStream::connect(office.addr).unwrap())
            .collect();
        let status = office.terminate();
        assert_eq!(
            status.and_then(|s| s.code()),
            Some(0),
            "round {round}: the office did not stop cleanly: {status:?} {}",
            office.log()
        );
    }
}

#[test]
fn sigterm_with_clients_still_connected_stops_at_the_shutdown_deadline() {
    let mut office = RunningOffice::start(&[
        "--header-read-timeout",
        "300",
        "--idle-timeout",
        "300",
        "--shutdown-deadline",
        "1",
    ]);
    let idle = TcpStream::connect(office.addr).unwrap();
    let half = half_sent_request(office.addr);
    let health = health_over_raw_http(office.addr).expect("the office answers");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");

    let status = office.terminate();
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(0),
        "the office did not stop: {}",
        office.log()
    );
    assert!(
        office.logs("1 connection(s) still open at the shutdown deadline (1 s); closing them"),
        "{}",
        office.log()
    );
    drop((idle, half));
}

#[test]
fn a_limit_out_of_range_is_refused_with_exit_2_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens");
    std::fs::write(&tokens, TOKENS_FILE).unwrap();
    std::fs::set_permissions(&tokens, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let db = dir.path().join("office.db");
    let cases: [(&[&str], &str); 5] = [
        (&["--max-connections", "0"], "--max-connections 0: "),
        (
            &["--max-decompressions", "1000"],
            "--max-decompressions 1000: ",
        ),
        (&["--header-read-timeout", "0"], "--header-read-timeout 0: "),
        (&["--shutdown-deadline", "600"], "--shutdown-deadline 600: "),
        (
            &["--header-read-timeout", "10", "--idle-timeout", "20"],
            "--idle-timeout 20: ",
        ),
    ];
    for (args, expected) in cases {
        let (code, stderr) = serve_and_wait(db.as_os_str(), &tokens, args);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    assert!(!db.exists(), "nothing created");
}
