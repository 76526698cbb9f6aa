//! The HTTP client that posts a batch to the office and pulls what the office did with the
//! community's cases, and what each answer means: delivered, worth retrying, or refused.

use std::future::Future;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, RETRY_AFTER};
use serde::de::DeserializeOwned;
use thiserror::Error;
use uuid::Uuid;

use super::backoff::MAX_RETRY_AFTER;
use crate::protocol::wire::{
    BATCHES_PATH, BatchReply, ErrorReply, HEALTH_PATH, MAX_UPDATES_PAGE_BYTES, UPDATES_PATH,
    UpdatesPage,
};

/// A slow mobile link still connects within 10 s; longer means the office is not there.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How much of an office's error text is kept for staff to read.
const ERROR_TEXT_LIMIT: usize = 300;
/// The most of an office's answer the kiosk reads. A reply lists at most `max_batch` ids
/// (a few KiB); an error is a sentence. 64 KiB is plenty for both, and a broken or hostile
/// office cannot make a 1 GiB kiosk hold its answer in memory.
pub const MAX_REPLY_BYTES: usize = 64 * 1024;

/// How one attempt ended, when it did not deliver the batch.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum UploadError {
    /// Timeouts, dropped connections, 408, 429 and 5xx: the same batch goes again later.
    #[error("{reason}")]
    Retryable {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// Any other answer: the office will not take this request as it is; staff must act.
    #[error("the office refused it (HTTP {status}): {message}")]
    Rejected { status: u16, message: String },
}

/// Why the uploader cannot even start: the config points at something unusable.
#[derive(Debug, Error)]
pub enum SetupError {
    #[error("the office token file {path}: {problem}")]
    Token { path: PathBuf, problem: String },
    #[error("the office CA certificate {path}: {problem}")]
    CaFile { path: PathBuf, problem: String },
    #[error("cannot build the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

/// Where batches go and updates come from. The kiosk uses [`HttpOffice`]; the trait lets
/// tests stand in for the network where a real office is not the point.
pub trait OfficeClient: Send + Sync {
    fn post_batch(
        &self,
        batch_id: Uuid,
        gzip_body: Vec<u8>,
    ) -> impl Future<Output = Result<BatchReply, UploadError>> + Send;

    /// One page of the community's case changes after the cursor `after`.
    fn get_updates(
        &self,
        after: u64,
    ) -> impl Future<Output = Result<UpdatesPage, UploadError>> + Send;
}

/// The office over HTTPS (rustls), or plain HTTP on a test bench.
pub struct HttpOffice {
    client: reqwest::Client,
    /// The configured endpoint without its trailing slash; the paths are appended to it.
    endpoint: String,
    token: String,
}

impl HttpOffice {
    pub fn new(
        endpoint: &str,
        token_file: &Path,
        ca_file: Option<&Path>,
        request_timeout: Duration,
    ) -> Result<HttpOffice, SetupError> {
        let token = read_token(token_file)?;
        let mut builder = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(request_timeout)
            .user_agent(concat!("concern-kiosk/", env!("CARGO_PKG_VERSION")));
        if let Some(ca_file) = ca_file {
            let ca_error = |problem: String| SetupError::CaFile {
                path: ca_file.to_path_buf(),
                problem,
            };
            let pem = std::fs::read(ca_file).map_err(|e| ca_error(e.to_string()))?;
            let certificate =
                reqwest::Certificate::from_pem(&pem).map_err(|e| ca_error(e.to_string()))?;
            builder = builder.add_root_certificate(certificate);
        }
        Ok(HttpOffice {
            client: builder.build()?,
            endpoint: endpoint.trim_end_matches('/').to_string(),
            token,
        })
    }
}

impl HttpOffice {
    /// `GET {endpoint}/v1/health`: whether the office answers at all.
    pub async fn health(&self) -> Result<(), String> {
        let url = format!("{}{HEALTH_PATH}", self.endpoint);
        let response = self
            .client
            .get(&url)
            .send()
            .await
            .map_err(|e| describe_transport_error(&e))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(format!("{url} answered HTTP {}", response.status()))
        }
    }
}

/// The bearer token, refused when anyone on the machine could read it.
fn read_token(path: &Path) -> Result<String, SetupError> {
    let problem = |problem: String| SetupError::Token {
        path: path.to_path_buf(),
        problem,
    };
    let metadata = std::fs::metadata(path).map_err(|e| problem(e.to_string()))?;
    if metadata.permissions().mode() & 0o004 != 0 {
        return Err(problem(
            "is readable by every user; make it private: chmod 600".into(),
        ));
    }
    let text = std::fs::read_to_string(path).map_err(|e| problem(e.to_string()))?;
    let token = text.trim();
    if token.is_empty() || token.contains(char::is_whitespace) {
        return Err(problem("must hold the token alone on one line".into()));
    }
    Ok(token.to_string())
}

impl OfficeClient for HttpOffice {
    async fn post_batch(
        &self,
        batch_id: Uuid,
        gzip_body: Vec<u8>,
    ) -> Result<BatchReply, UploadError> {
        let request = self
            .client
            .post(format!("{}{BATCHES_PATH}", self.endpoint))
            .header(AUTHORIZATION, format!("Bearer {}", self.token))
            .header("Idempotency-Key", batch_id.to_string())
            .header(CONTENT_TYPE, "application/json")
            .header(CONTENT_ENCODING, "gzip")
            .body(gzip_body);
        // Sending the batch again is safe: the office recognises every concern id.
        exchange(request, MAX_REPLY_BYTES).await
    }

    async fn get_updates(&self, after: u64) -> Result<UpdatesPage, UploadError> {
        let request = self
            .client
            .get(format!("{}{UPDATES_PATH}", self.endpoint))
            .query(&[("after", after)])
            .header(AUTHORIZATION, format!("Bearer {}", self.token));
        // Asking again is safe: the cursor moves only once a page is stored.
        exchange(request, MAX_UPDATES_PAGE_BYTES).await
    }
}

/// Sends `request` and reads the office's answer, at most `limit` bytes of it, as a `T` (any
/// 2xx) or as what the failure means.
async fn exchange<T: DeserializeOwned>(
    request: reqwest::RequestBuilder,
    limit: usize,
) -> Result<T, UploadError> {
    let response = request.send().await.map_err(|e| UploadError::Retryable {
        reason: describe_transport_error(&e),
        retry_after: None,
    })?;
    let status = response.status();
    let retry_after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_retry_after);
    let body = read_bounded(response, limit)
        .await
        .map_err(|e| UploadError::Retryable {
            reason: format!("the answer was cut off: {}", describe_transport_error(&e)),
            retry_after: None,
        })?;
    match body {
        BoundedBody::Whole(body) => interpret(status, retry_after, &body),
        // Only an error's first words matter to staff; a success must be read whole, and
        // asking again is safe.
        BoundedBody::Cut(start) if !status.is_success() => interpret(status, retry_after, &start),
        BoundedBody::Cut(_) => Err(UploadError::Retryable {
            reason: format!(
                "the office's answer (HTTP {status}) is larger than {} KiB: not read",
                limit / 1024
            ),
            retry_after,
        }),
    }
}

/// An answer read up to a limit.
enum BoundedBody {
    Whole(Vec<u8>),
    /// The first bytes up to the limit; the rest was never read (the connection is dropped).
    Cut(Vec<u8>),
}

async fn read_bounded(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<BoundedBody, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = limit.saturating_sub(body.len());
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            return Ok(BoundedBody::Cut(body));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(BoundedBody::Whole(body))
}

/// What the office said, fit to show staff and keep in the database: no control or format
/// characters (a terminal escape in an error body would act on the staff's terminal), at most
/// [`ERROR_TEXT_LIMIT`] characters.
fn office_words(said: &str) -> String {
    crate::concern::clean_user_text(said)
        .chars()
        .take(ERROR_TEXT_LIMIT)
        .collect()
}

/// What an HTTP answer means to the kiosk (see `docs/upload-api.md`).
fn interpret<T: DeserializeOwned>(
    status: StatusCode,
    retry_after: Option<Duration>,
    body: &[u8],
) -> Result<T, UploadError> {
    if status.is_success() {
        // The office acted but said so unreadably: asking again is safe (the office
        // recognises every concern id; the cursor has not moved) and gets a readable answer.
        return serde_json::from_slice(body).map_err(|e| UploadError::Retryable {
            reason: format!(
                "the office's answer (HTTP {status}) is not readable: {}",
                office_words(&e.to_string())
            ),
            retry_after,
        });
    }
    let message = serde_json::from_slice::<ErrorReply>(body)
        .map(|reply| reply.error)
        .unwrap_or_else(|_| String::from_utf8_lossy(body).into_owned());
    let message = office_words(&message);
    let retryable = status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
        || status.is_server_error();
    if retryable {
        Err(UploadError::Retryable {
            reason: format!("the office answered HTTP {status}: {message}"),
            retry_after,
        })
    } else {
        Err(UploadError::Rejected {
            status: status.as_u16(),
            message,
        })
    }
}

fn describe_transport_error(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "the office did not answer in time".into()
    } else if error.is_connect() {
        "cannot reach the office (network down or office off)".into()
    } else {
        format!("the connection failed: {error}")
    }
}

/// `Retry-After` as seconds or as an HTTP date, at most [`MAX_RETRY_AFTER`].
fn parse_retry_after(value: &str) -> Option<Duration> {
    parse_retry_after_at(value, chrono::Utc::now())
}

fn parse_retry_after_at(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Digits beyond u64 are still "very long": the bound, not a refusal.
        let seconds = value.parse::<u64>().unwrap_or(u64::MAX);
        return Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = at.with_timezone(&chrono::Utc).signed_duration_since(now);
    Some(wait.to_std().unwrap_or(Duration::ZERO).min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_each_status_means_to_the_kiosk() {
        let ok = br#"{"accepted":[],"duplicates":[]}"#;
        assert_eq!(
            interpret::<BatchReply>(StatusCode::OK, None, ok),
            Ok(BatchReply::default())
        );
        for retry in [408, 429, 500, 502, 503, 504] {
            let status = StatusCode::from_u16(retry).unwrap();
            assert!(
                matches!(
                    interpret::<BatchReply>(status, None, b""),
                    Err(UploadError::Retryable { .. })
                ),
                "{retry}"
            );
        }
        for refuse in [400, 401, 403, 404, 413, 422] {
            let status = StatusCode::from_u16(refuse).unwrap();
            assert!(
                matches!(
                    interpret::<BatchReply>(status, None, b""),
                    Err(UploadError::Rejected { .. })
                ),
                "{refuse}"
            );
        }
        assert_eq!(
            interpret::<BatchReply>(
                StatusCode::UNAUTHORIZED,
                None,
                br#"{"error":"unknown token"}"#
            ),
            Err(UploadError::Rejected {
                status: 401,
                message: "unknown token".into()
            })
        );
        assert!(matches!(
            interpret::<BatchReply>(StatusCode::OK, None, b"<html>"),
            Err(UploadError::Retryable { .. })
        ));
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        assert_eq!(parse_retry_after("120"), Some(Duration::from_secs(120)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
        assert_eq!(parse_retry_after("-5"), None);
    }

    #[test]
    fn a_retry_after_of_centuries_waits_at_most_the_bound() {
        for huge in [
            "99999999999999",
            "184467440737095516150000",
            "Fri, 31 Dec 9999 23:59:59 GMT",
        ] {
            assert_eq!(parse_retry_after(huge), Some(MAX_RETRY_AFTER), "{huge}");
        }
    }

    #[test]
    fn what_the_office_says_reaches_staff_without_terminal_escapes() {
        let said = br#"{"error":"\u001b]0;owned\u0007\u001b[2Jdisk \u202efull"}"#;
        let Err(UploadError::Rejected { message, .. }) =
            interpret::<BatchReply>(StatusCode::BAD_REQUEST, None, said)
        else {
            panic!("a 400 is a rejection");
        };
        assert_eq!(message, "]0;owned[2Jdisk full");
        let html = "\u{1b}[31m".repeat(1000);
        let Err(UploadError::Retryable { reason, .. }) =
            interpret::<BatchReply>(StatusCode::BAD_GATEWAY, None, html.as_bytes())
        else {
            panic!("a 502 is retried");
        };
        assert!(!reason.contains('\u{1b}'), "{reason}");
        assert!(reason.chars().count() < ERROR_TEXT_LIMIT + 50, "{reason}");
    }

    /// Whatever an office or a proxy answers, the kiosk neither panics nor waits past the
    /// bound, and what it keeps of the office's words has no control or format character.
    fn check_any_answer(
        (status, retry_after, body): (u16, String, Vec<u8>),
    ) -> Result<(), proptest::test_runner::TestCaseError> {
        use proptest::prelude::*;
        let now = chrono::DateTime::UNIX_EPOCH;
        let wait = parse_retry_after_at(&retry_after, now);
        prop_assert!(wait.is_none_or(|w| w <= MAX_RETRY_AFTER));
        let Ok(status) = StatusCode::from_u16(status) else {
            return Ok(());
        };
        let said = match interpret::<BatchReply>(status, wait, &body) {
            Ok(_) => return Ok(()),
            Err(UploadError::Retryable { reason, .. }) => reason,
            Err(UploadError::Rejected { message, .. }) => message,
        };
        prop_assert!(
            !said.chars().any(crate::concern::is_hidden_char),
            "{said:?}"
        );
        prop_assert!(said.chars().count() <= ERROR_TEXT_LIMIT + 100, "{said:?}");
        Ok(())
    }

    fn any_answer() -> impl proptest::strategy::Strategy<Value = (u16, String, Vec<u8>)> {
        use proptest::prelude::*;
        let retry_after = prop_oneof![
            any::<String>(),
            "[0-9]{0,40}",
            any::<u64>().prop_map(|n| n.to_string()),
            // Years 1970 to 9999: what RFC 2822 can write.
            (0i64..253_402_300_799).prop_map(|secs| chrono::DateTime::from_timestamp(secs, 0)
                .map(|t| t.to_rfc2822())
                .unwrap_or_default()),
        ];
        let body = prop_oneof![
            prop::collection::vec(any::<u8>(), 0..2048),
            any::<String>().prop_map(|error| serde_json::json!({ "error": error })
                .to_string()
                .into_bytes()),
            Just(br#"{"accepted":[],"duplicates":[]}"#.to_vec()),
        ];
        (0u16..1000, retry_after, body)
    }

    proptest::proptest! {
        #![proptest_config(crate::property_runs::short())]
        #[test]
        fn any_answer_is_read_without_panic_or_escapes(answer in any_answer()) {
            check_any_answer(answer)?;
        }
    }

    #[test]
    #[ignore = "long property run: cargo test --release -- --ignored"]
    fn any_answer_is_read_without_panic_or_escapes_long() {
        crate::property_runs::long("office answer", any_answer(), check_any_answer);
    }

    /// An office on 127.0.0.1 that answers `status` with a body of `size` bytes and counts how
    /// many of them the kiosk took before it hung up.
    async fn office_answering(
        status: u16,
        size: usize,
    ) -> (String, tokio::task::JoinHandle<usize>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let served = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = vec![0u8; 64 * 1024];
            let _ = socket.read(&mut request).await;
            let head = format!(
                "HTTP/1.1 {status} Whatever\r\ncontent-type: application/json\r\ncontent-length: {size}\r\n\r\n"
            );
            socket.write_all(head.as_bytes()).await.unwrap();
            let chunk = vec![b' '; 64 * 1024];
            let mut sent = 0;
            while sent < size {
                match socket.write(&chunk[..chunk.len().min(size - sent)]).await {
                    Ok(n) if n > 0 => sent += n,
                    _ => break,
                }
            }
            sent
        });
        (endpoint, served)
    }

    #[tokio::test]
    async fn an_answer_of_a_gigabyte_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let token = dir.path().join("office-token");
        std::fs::write(&token, "s3cret-token-0123456789\n").unwrap();
        std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o600)).unwrap();
        const GIGABYTE: usize = 1 << 30;
        for status in [200, 500] {
            let (endpoint, served) = office_answering(status, GIGABYTE).await;
            let office = HttpOffice::new(&endpoint, &token, None, Duration::from_secs(30)).unwrap();
            let outcome = office.post_batch(Uuid::nil(), Vec::new()).await;
            assert!(
                matches!(outcome, Err(UploadError::Retryable { .. })),
                "{status}: {outcome:?}"
            );
            drop(office);
            let sent = served.await.unwrap();
            // What the kernel's socket buffers hold on the way is all the kiosk may have taken.
            assert!(sent < GIGABYTE / 8, "{status}: the kiosk took {sent} bytes");
        }
    }

    #[test]
    fn a_token_anyone_can_read_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("office-token");
        std::fs::write(&path, "s3cret\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(read_token(&path), Err(SetupError::Token { .. })));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read_token(&path).unwrap(), "s3cret");
    }
}
