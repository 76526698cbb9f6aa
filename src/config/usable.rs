//! The config values that only prove wrong when used: the office's address (a web address the
//! bearer token may travel to), the tracking address every receipt prints as a QR code (and
//! what it says for one concern), and the staff PIN hash the PIN pad checks. Each is tried here the way it will be used, so a config
//! that loads also works.

use std::net::IpAddr;

use argon2::password_hash::PasswordHash;
use chrono::NaiveDate;
use reqwest::Url;

use super::error::visible;
use super::source_map::SourceMap;
use super::{Config, ConfigError};
use crate::concern::{TRACKING_CODE_CHARS, TrackingCode, format_ticket};
use crate::paper::{Document, encode_text, render_raster};

/// What `kiosk.tracking_url` writes the concern's tracking code in place of.
pub const CODE_PLACEHOLDER: &str = "{code}";
/// What older `kiosk.tracking_url`s write the ticket number in place of: still printed, but a
/// sequential number lets anyone read other residents' pages, so `doctor` warns.
pub const TICKET_PLACEHOLDER: &str = "{ticket}";
/// Memory one PIN check may take, in KiB (argon2's `m`): 256 MiB. The board has 1 to 4 GB and
/// the touch screen, the printer and the uploader must keep running while staff wait for it.
pub const MAX_PIN_HASH_MEMORY_KIB: u32 = 256 * 1024;
/// Passes over that memory (argon2's `t`): past 16 a PIN check on the board takes longer than
/// staff will wait at the PIN pad.
pub const MAX_PIN_HASH_PASSES: u32 = 16;

pub(super) fn check(config: &Config, map: &SourceMap) -> Result<(), ConfigError> {
    office_endpoint_problem(&config.upload.endpoint)
        .map_or(Ok(()), |p| Err(map.key_error("upload.endpoint", p)))?;
    if let Some(url) = &config.kiosk.tracking_url {
        tracking_url_problem(url, &config.kiosk.ticket_prefix, config.printer.width_dots)
            .map_or(Ok(()), |p| Err(map.key_error("kiosk.tracking_url", p)))?;
    }
    if let Some(hash) = &config.staff.pin_hash {
        pin_hash_problem(hash).map_or(Ok(()), |p| Err(map.key_error("staff.pin_hash", p)))?;
    }
    Ok(())
}

/// Why the kiosk could not post batches to `endpoint`, if it could not: not a web address, not
/// http(s), no host, a query or fragment that `/v1/batches` would be appended to, or plain
/// http to another machine, which would carry the bearer token in clear.
fn office_endpoint_problem(endpoint: &str) -> Option<String> {
    let shown = visible(endpoint);
    let url = match Url::parse(endpoint) {
        Ok(url) => url,
        Err(e) => {
            return Some(format!(
                "`{shown}` is not a web address ({e}); write it like \"https://office.example.org/concerns\""
            ));
        }
    };
    if !matches!(url.scheme(), "http" | "https") {
        return Some(format!(
            "`{shown}` uses {}://; the office is reached over https://",
            url.scheme()
        ));
    }
    let Some(host) = url.host_str().filter(|h| !h.is_empty()) else {
        return Some(format!("`{shown}` names no host"));
    };
    if url.query().is_some() || url.fragment().is_some() {
        return Some(format!(
            "`{shown}` has a query (?…) or fragment (#…); batches go to {{endpoint}}/v1/batches, so give only the address"
        ));
    }
    if url.scheme() == "http" && !is_this_machine(host) {
        return Some(format!(
            "plain http:// would send the office's token in clear text to {host}: use https:// (http:// is only for an office on this machine: 127.0.0.1, ::1 or localhost)"
        ));
    }
    None
}

/// Loopback: `localhost`, 127.0.0.0/8 and ::1 (the URL writes IPv6 in brackets).
fn is_this_machine(host: &str) -> bool {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The longest ticket number `prefix` can produce: `{prefix}{MMDD}-{sequence}` with the widest
/// sequence a ticket can carry (a `u32`; the store issues no larger one).
pub fn longest_ticket(prefix: &str) -> String {
    // Any date: `MMDD` is always four digits.
    format_ticket(prefix, NaiveDate::MAX, u32::MAX)
}

/// The address a concern's QR code carries: `url` with the concern's tracking code for
/// `{code}` and its ticket number for `{ticket}`. `None` when `url` asks for a code and the
/// concern has none (filed before kiosks gave codes out): a ticket in its place would open
/// nobody's page.
pub fn tracking_address(url: &str, ticket: &str, code: Option<&TrackingCode>) -> Option<String> {
    let with_ticket = url.replace(TICKET_PLACEHOLDER, ticket);
    if !url.contains(CODE_PLACEHOLDER) {
        return Some(with_ticket);
    }
    code.map(|code| with_ticket.replace(CODE_PLACEHOLDER, code.as_str()))
}

/// What `doctor` warns about `kiosk.tracking_url`: a `{ticket}` in it.
pub fn tracking_url_warning(url: &str) -> Option<String> {
    url.contains(TICKET_PLACEHOLDER).then(|| {
        format!(
            "kiosk.tracking_url `{}` puts the ticket number in the QR code: ticket numbers count up, so anyone could open other residents' pages; write {CODE_PLACEHOLDER} instead of {TICKET_PLACEHOLDER} (the random tracking code)",
            visible(url)
        )
    })
}

/// Why a receipt could not print `url` as its QR code for some concern, if it could not. The
/// receipt itself is asked, with the longest ticket the prefix can produce and a tracking code
/// (every code has the same length): its QR code holds a bounded number of bytes and must fit
/// the paper.
fn tracking_url_problem(url: &str, prefix: &str, width_dots: u32) -> Option<String> {
    let ticket = longest_ticket(prefix);
    let code = TrackingCode::parse(&"0".repeat(TRACKING_CODE_CHARS));
    let address = tracking_address(url, &ticket, code.as_ref()).unwrap_or_default();
    let web_address = Url::parse(&address)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some());
    if web_address.is_none() {
        return Some(format!(
            "`{}` is not a web address a phone can open; write it like \"https://office.example.org/status/{{code}}\"",
            visible(url)
        ));
    }
    let mut doc = Document::new(width_dots);
    doc.qr(&address);
    let printed = render_raster(&doc).and_then(|_| encode_text(&doc));
    printed.err().map(|e| {
        format!(
            "with a tracking code and the longest ticket number this prefix can reach, `{ticket}`, the address is {} bytes and the receipt cannot print it: {e}; shorten the address",
            address.len()
        )
    })
}

/// Why the PIN pad could not check a PIN against `hash`, if it could not: everything the
/// argon2 verifier needs, read without running it, and a cost the board can afford.
fn pin_hash_problem(hash: &str) -> Option<String> {
    let unusable = |why: String| {
        Some(format!(
            "is not a usable argon2 hash ({why}), so the staff menu could never open; make one with the `argon2` command described above this key"
        ))
    };
    let parsed = match PasswordHash::new(hash) {
        Ok(parsed) => parsed,
        Err(e) => return unusable(format!("not a PHC string: {e}")),
    };
    if let Err(e) = argon2::Algorithm::try_from(parsed.algorithm) {
        return unusable(format!("`{}`: {e}", visible(parsed.algorithm.as_str())));
    }
    if let Some(Err(e)) = parsed.version.map(argon2::Version::try_from) {
        return unusable(format!("version: {e}"));
    }
    let params = match argon2::Params::try_from(&parsed) {
        Ok(params) => params,
        Err(e) => return unusable(format!("parameters: {e}")),
    };
    let mut salt = [0u8; argon2::password_hash::Salt::MAX_LENGTH];
    let salt_ok = parsed
        .salt
        .and_then(|s| s.decode_b64(&mut salt).ok())
        .is_some_and(|s| s.len() >= argon2::MIN_SALT_LEN);
    if !salt_ok {
        return unusable(format!(
            "it needs a salt of at least {} bytes",
            argon2::MIN_SALT_LEN
        ));
    }
    if parsed.hash.is_none() {
        return unusable("it ends before the hash".into());
    }
    if params.m_cost() > MAX_PIN_HASH_MEMORY_KIB || params.t_cost() > MAX_PIN_HASH_PASSES {
        return Some(format!(
            "asks for m={} KiB and t={} passes per PIN check; the kiosk allows at most m={MAX_PIN_HASH_MEMORY_KIB} and t={MAX_PIN_HASH_PASSES}, or the screen would freeze while staff wait",
            params.m_cost(),
            params.t_cost()
        ));
    }
    None
}
