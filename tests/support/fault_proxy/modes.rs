//! What the fault proxy can be told to do with a request ([`Mode`]), and what it records of
//! each one ([`Recorded`], [`Outcome`]); the proxy itself is in `fault_proxy.rs`.

use std::time::Duration;

use super::http::header;

/// What the proxy does with a request. A mode is taken when a request has been read
/// completely, so changing it never affects a request already being handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Forward the request and pass the office's response back unchanged.
    PassThrough,
    /// Forward the request and read the office's whole response (so the office has acted on
    /// it), then close the client connection without sending a byte of it.
    DropAfterUpstreamReplied,
    /// Forward the request and read the office's whole response, then send the client only its
    /// first `keep` bytes (head and the start of the body) and close the connection: an answer
    /// cut on the way, after the office acted on the request.
    CutAfterUpstreamReplied { keep: usize },
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
    /// Only as a standing mode (`FaultProxy::set_mode`), as it is a state of the office, not
    /// an answer to one request.
    Refuse,
    /// The office is down behind a front end that still takes connections (a load balancer or
    /// reverse proxy with nothing behind it): each new connection is accepted, counted in
    /// `FaultProxy::hung_up` and closed at once with a reset, before a byte of it is read;
    /// open connections are closed. Standing mode only, like [`Mode::Refuse`].
    HangUp,
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
    /// Forwarded; the office answered `status` with `whole` bytes, and the client got the first
    /// `sent` of them before the connection was closed.
    CutAfterUpstreamReplied {
        status: u16,
        sent: usize,
        whole: usize,
    },
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
    /// ([`Mode::Refuse`], [`Mode::HangUp`]); the connection was closed without an answer.
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
