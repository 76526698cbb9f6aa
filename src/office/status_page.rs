//! The resident's status page, `GET /status/{tracking code}`, where the receipt's QR code
//! points: no sign-in, made for an old person's phone (very large text, Chinese first), and
//! nothing personal on it — no phone number, no free text, no place, no names of staff, no
//! notes. An unknown code and a malformed one get the same "not found" page, so the page
//! tells a guesser nothing.

use askama::Template;
use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use tracing::error;

use super::board::wording::{EN, ZH};
use super::case_store::CaseRecord;
use super::cases::{COMMUNITY_OFFSET, community_date};
use super::state::Office;
use crate::concern::{Colour, ResidentProgress, TrackingCode};
use crate::protocol::wire::STATUS_PAGE_PATH;

/// The status page's route, to be merged into the office's router.
pub fn routes() -> Router<Office> {
    Router::new().route(&format!("{STATUS_PAGE_PATH}/{{code}}"), get(status_page))
}

/// What the page shows: a case, or one of the two pages without one.
enum Shown {
    Case(Box<ResidentView>),
    NotFound,
    Trouble,
}

/// A case as its resident may read it: only what the receipt already says and what the
/// office did.
struct ResidentView {
    ticket: String,
    category_zh: String,
    category_en: String,
    colour_code: &'static str,
    colour_zh: &'static str,
    colour_en: &'static str,
    promise_zh: &'static str,
    promise_en: &'static str,
    promise_date: String,
    progress_code: &'static str,
    progress_zh: String,
    progress_en: String,
    /// The office's answer, once the case is done.
    reply: Option<String>,
    updated: String,
}

#[derive(Template)]
#[template(path = "status.html")]
struct StatusPage {
    community: String,
    hotline: String,
    /// The hotline as a `tel:` link dials it: digits and `+` only.
    hotline_dial: String,
    shown: Shown,
}

async fn status_page(
    State(office): State<Office>,
    code: Result<Path<String>, PathRejection>,
) -> Response {
    // A code that cannot even be read is answered like an unknown one.
    let code = code.ok().and_then(|Path(text)| TrackingCode::parse(&text));
    let now = office.now();
    let found = match code {
        None => Ok(None),
        Some(code) => office
            .db()
            .case_by_tracking_code(&code)
            .await
            .map_err(|e| e.to_string()),
    };
    let settings = office.board_settings();
    let (status, shown) = match found {
        Ok(Some(record)) => (
            StatusCode::OK,
            Shown::Case(Box::new(resident_view(
                &record,
                now,
                settings.follow_up_days,
            ))),
        ),
        Ok(None) => (StatusCode::NOT_FOUND, Shown::NotFound),
        Err(e) => {
            error!(error = %e, "the status page could not read the case");
            (StatusCode::INTERNAL_SERVER_ERROR, Shown::Trouble)
        }
    };
    let page = StatusPage {
        community: settings.community.clone(),
        hotline: settings.hotline.clone(),
        hotline_dial: settings
            .hotline
            .chars()
            .filter(|c| c.is_ascii_digit() || *c == '+')
            .collect(),
        shown,
    };
    let mut response = match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            error!(error = %e, "the status page could not be made");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    };
    let headers = response.headers_mut();
    for (name, value) in [
        // A shared phone or a proxy must not keep a resident's answer.
        (header::CACHE_CONTROL, "no-store"),
        // The address holds the code: it must not travel to the sites a link leads to.
        (header::REFERRER_POLICY, "no-referrer"),
        // Nothing from elsewhere: the page is all there is.
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::HeaderName::from_static("x-robots-tag"), "noindex"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

fn resident_view(record: &CaseRecord, now: DateTime<Utc>, follow_up_days: u32) -> ResidentView {
    let concern = &record.concern.concern;
    let case = &record.case;
    let deadline = case.deadline(follow_up_days).date();
    let overdue = deadline.is_some_and(|date| community_date(now) > date);
    let progress = ResidentProgress::of(case.state, overdue);
    let words = progress.words();
    let red = case.colour == Colour::Red;
    let (promise_zh, promise_en) = if red {
        ("下次跟进", "Next follow-up")
    } else {
        ("答复日期", "Answer by")
    };
    let promise_date = match (red, deadline) {
        (true, Some(next)) => next,
        _ => concern.due_date,
    };
    let last_change = case
        .events
        .last()
        .map_or(case.filing.received_at, |event| event.at);
    ResidentView {
        ticket: concern.ticket.clone(),
        category_zh: concern.category_label.zh.clone(),
        category_en: concern.category_label.en.clone(),
        colour_code: case.colour.code(),
        colour_zh: ZH.colour(case.colour),
        colour_en: EN.colour(case.colour),
        promise_zh,
        promise_en,
        promise_date: promise_date.to_string(),
        progress_code: match progress {
            ResidentProgress::Received => "received",
            ResidentProgress::WithHandler => "with-handler",
            ResidentProgress::Done => "done",
            ResidentProgress::Overdue => "overdue",
        },
        progress_zh: words.zh,
        progress_en: words.en,
        reply: (progress == ResidentProgress::Done)
            .then(|| case.answer.clone())
            .flatten(),
        updated: last_change
            .with_timezone(&COMMUNITY_OFFSET)
            .format("%Y-%m-%d %H:%M")
            .to_string(),
    }
}
