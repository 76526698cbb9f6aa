//! Just enough HTTP/1.1 for the fault proxy (see its module documentation): reading requests
//! and responses as far as finding where each one ends, and writing the proxy's own answers.

use std::io;

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt};

use super::{Outcome, Recorded, Request, Response};

/// Longest message head (start line and header fields, or a chunked body's trailer).
const HEAD_LIMIT: usize = 64 * 1024;
/// Largest body the proxy reads. Far above the office's 4 MiB limit, so an oversized upload
/// still reaches the office and is refused there, as it would be without the proxy.
const BODY_LIMIT: u64 = 64 * 1024 * 1024;
/// Longest chunk-size line of a chunked body (hex size plus extensions).
const CHUNK_LINE_LIMIT: usize = 4096;
/// Interim (1xx) responses passed on before the final one, at most.
const MAX_INTERIM: usize = 8;

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
pub(super) async fn read_request<R>(reader: &mut R, connection: u64) -> io::Result<Option<Request>>
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
pub(super) async fn read_response<R>(reader: &mut R, method: &str) -> io::Result<Response>
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

pub(super) fn has_token(headers: &[(String, String)], name: &str, token: &str) -> bool {
    header_values(headers, name)
        .flat_map(|value| value.split(','))
        .any(|item| item.trim().eq_ignore_ascii_case(token))
}

pub(super) fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
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
pub(super) fn response_bytes(
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
    head: bool,
) -> Vec<u8> {
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
