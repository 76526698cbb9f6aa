//! The office's HTTP endpoints — `POST /v1/batches`, `GET /v1/updates`, `GET /v1/export.csv`,
//! `GET /v1/health` — the router that joins them (with the board's and the status page's), bearer-token checks, and the one error shape every refusal uses
//! (`ErrorReply`).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::extract::rejection::{BytesRejection, FailedToBufferBody, QueryRejection};
use axum::extract::{FromRequest, Query, RawQuery, Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_DISPOSITION, CONTENT_ENCODING, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tracing::{error, info, warn};

use super::EXPORT_PATH;
use super::board::BOARD_PATH;
use super::intake::{
    BodyEncoding, IntakeError, MAX_COMPRESSED_BODY_BYTES, Refusal, Upload, receive_upload,
};
use super::state::Office;
use super::status_feed::parse_after;
use super::storage::{StorageError, StoreBatchError};
use super::tokens::{Caller, STAFF_KIOSK_ID};
use super::validation::{echo, echo_quoted};
use crate::concern::ListKind;
use crate::protocol::wire::{
    BATCHES_PATH, BatchReply, ErrorReply, HEALTH_PATH, STATUS_PAGE_PATH, UPDATES_PATH, UpdatesPage,
};

/// How long the office waits for a whole request body. The kiosk gives up on a request after
/// 60 s and sends it again, so a body still arriving after that belongs to an abandoned
/// attempt; waiting longer would only let a slow client tie up the office.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(60);

/// The office's routes, ready to serve.
pub fn router(office: Office) -> Router {
    Router::new()
        .route(BATCHES_PATH, post(receive_batch))
        .route(EXPORT_PATH, get(export))
        .route(HEALTH_PATH, get(health))
        .route(UPDATES_PATH, get(updates))
        .merge(super::board::routes())
        .merge(super::status_page::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_COMPRESSED_BODY_BYTES))
        .with_state(office)
}

/// The header that carries the batch id, so a retry can be recognised before parsing.
const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// What a 503 asks a kiosk to wait before it sends again: an upload decodes in milliseconds,
/// so a slot is free again long before this, and a kiosk is not held back for long.
pub const BUSY_RETRY_AFTER: Duration = Duration::from_secs(5);

/// A refusal: an HTTP status and a sentence for a tired staff member, sent as `ErrorReply`.
#[derive(Debug)]
pub(super) struct ApiError {
    status: StatusCode,
    message: String,
    retry_after: Option<Duration>,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            retry_after: None,
        }
    }

    /// 503: the office is busy decoding other uploads.
    fn busy() -> ApiError {
        ApiError {
            retry_after: Some(BUSY_RETRY_AFTER),
            ..ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "the office is decoding as many uploads as it may at once; try again in {} seconds (the kiosk does so by itself)",
                    BUSY_RETRY_AFTER.as_secs()
                ),
            )
        }
    }

    fn internal(what: &str, problem: impl std::fmt::Display) -> ApiError {
        error!("{what}: {problem}");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the office could not {what} ({problem}); try again later"),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            Json(ErrorReply {
                error: self.message,
            }),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            // RFC 6750: a 401 names the scheme the client should use.
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(wait) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(wait.as_secs()));
        }
        response
    }
}

impl From<IntakeError> for ApiError {
    fn from(e: IntakeError) -> ApiError {
        let status = match &e {
            IntakeError::UnsupportedEncoding(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            IntakeError::InflatesTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            IntakeError::WrongSchema { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            IntakeError::BadGzip(_)
            | IntakeError::BadJson(_)
            | IntakeError::MissingSchema
            | IntakeError::BadBatch(_) => StatusCode::BAD_REQUEST,
        };
        ApiError::new(status, e.to_string())
    }
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> ApiError {
        ApiError::internal("store the batch", e)
    }
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> ApiError {
        let status = match refusal {
            Refusal::Intake(e) => return e.into(),
            Refusal::Store(StoreBatchError::Storage(e)) => return e.into(),
            Refusal::WrongKiosk { .. } => StatusCode::FORBIDDEN,
            Refusal::KeyMismatch { .. } => StatusCode::BAD_REQUEST,
            Refusal::Invalid(_) | Refusal::Store(StoreBatchError::ChangedBatch { .. }) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Refusal::Store(StoreBatchError::HeldByAnotherKiosk { .. }) => StatusCode::CONFLICT,
        };
        ApiError::new(status, refusal.to_string())
    }
}

/// Who sent the request, from `Authorization: Bearer <token>`.
fn authenticate(office: &Office, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let unauthorized = |message: &str| ApiError::new(StatusCode::UNAUTHORIZED, message);
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Err(unauthorized(
            "no token: send `Authorization: Bearer <token>` with the token the office gave this kiosk",
        ));
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| {
            let (scheme, token) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
        .ok_or_else(|| unauthorized("the Authorization header must read `Bearer <token>`"))?;
    office.tokens().identify(token).ok_or_else(|| {
        unauthorized(
            "this token is not known to the office: check that the kiosk's token file holds the token listed for it in the office's tokens file",
        )
    })
}

/// A header's value as text; `None` when absent.
fn header_text<'h>(headers: &'h HeaderMap, name: &str) -> Result<Option<&'h str>, ApiError> {
    headers
        .get(name)
        .map(|value| {
            value.to_str().map_err(|_| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    format!("the {name} header is not plain ASCII text"),
                )
            })
        })
        .transpose()
}

/// `POST /v1/batches`: stores a kiosk's batch and answers which concerns were new.
pub async fn receive_batch(
    State(office): State<Office>,
    request: Request,
) -> Result<Json<BatchReply>, ApiError> {
    let caller = authenticate(&office, request.headers())
        .inspect_err(|e| refused("an unidentified caller", e))?;
    let who = caller.to_string();
    receive_from(office, caller, request)
        .await
        .inspect_err(|e| refused(&who, e))
        .map(Json)
}

fn refused(who: &str, e: &ApiError) {
    warn!("refused a batch from {who}: {} {}", e.status, e.message);
}

async fn receive_from(
    office: Office,
    caller: Caller,
    request: Request,
) -> Result<BatchReply, ApiError> {
    let Caller::Kiosk(token_kiosk) = caller else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "this is an office-staff token (`{STAFF_KIOSK_ID}` in the tokens file): it may read exports but not upload; give each kiosk its own token"
            ),
        ));
    };
    let headers = request.headers();
    let encoding = BodyEncoding::from_header(header_text(headers, CONTENT_ENCODING.as_str())?)?;
    let idempotency_key = header_text(headers, IDEMPOTENCY_KEY)?.map(str::to_owned);

    let body = read_body(request).await?;
    let permit = office.try_begin_decode().ok_or_else(ApiError::busy)?;
    let received_at = office.local_now();
    let decoded = tokio::task::spawn_blocking(move || {
        let _decoding = permit;
        receive_upload(Upload {
            token_kiosk: &token_kiosk,
            encoding,
            idempotency_key: idempotency_key.as_deref(),
            body: &body,
        })
    })
    .await
    .map_err(|e| ApiError::internal("decode the batch", e))??;
    let batch = Arc::new(decoded.batch);
    let reply = office
        .db()
        .store_batch(batch.clone(), decoded.json_sha256.into(), received_at)
        .await
        .map_err(Refusal::from)?;
    info!(
        kiosk = %batch.kiosk_id,
        batch = %batch.batch_id,
        accepted = reply.accepted.len(),
        duplicates = reply.duplicates.len(),
        "batch stored"
    );
    Ok(reply)
}

/// Reads the whole body, at most [`MAX_COMPRESSED_BODY_BYTES`] (the router's body limit) and
/// within [`BODY_READ_TIMEOUT`].
async fn read_body(request: Request) -> Result<Bytes, ApiError> {
    match tokio::time::timeout(BODY_READ_TIMEOUT, Bytes::from_request(request, &())).await {
        Err(_elapsed) => Err(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the upload did not arrive within {} seconds; the kiosk will try again",
                BODY_READ_TIMEOUT.as_secs()
            ),
        )),
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(BytesRejection::FailedToBufferBody(FailedToBufferBody::LengthLimitError(_)))) => {
            Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the upload is larger than {} MiB; the office refuses it (a kiosk batch is at most 256 KiB before gzip)",
                    MAX_COMPRESSED_BODY_BYTES / (1024 * 1024)
                ),
            ))
        }
        Ok(Err(other)) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("the upload could not be read: {}", other.body_text()),
        )),
    }
}

/// `GET /v1/updates?after=CURSOR`: what became of the community's cases since the cursor, for
/// any of its kiosks.
pub async fn updates(
    State(office): State<Office>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Json<UpdatesPage>, ApiError> {
    match authenticate(&office, &headers)? {
        Caller::Kiosk(_) => {}
        Caller::Staff => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!(
                    "this is an office-staff token (`{STAFF_KIOSK_ID}` in the tokens file): it may read exports but not the kiosks' updates; each kiosk pulls them with its own token"
                ),
            ));
        }
    }
    let after = parse_after(query.as_deref())
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.to_string()))?;
    let page = office
        .updates_after(after)
        .await
        .map_err(|e| ApiError::internal("read the updates", e))?;
    Ok(Json(page))
}

/// The query of `GET /v1/export.csv`.
#[derive(Debug, Deserialize)]
pub struct ExportQuery {
    /// `demands` or `conflicts`; every concern when absent.
    list: Option<String>,
}

/// `GET /v1/export.csv`: every stored concern as CSV, for office staff only.
pub async fn export(
    State(office): State<Office>,
    headers: HeaderMap,
    query: Result<Query<ExportQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    match authenticate(&office, &headers)? {
        Caller::Staff => {}
        Caller::Kiosk(id) => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!(
                    "this token belongs to kiosk `{id}`: only office-staff tokens (`{STAFF_KIOSK_ID}` in the tokens file) may read the export"
                ),
            ));
        }
    }
    let Query(query) =
        query.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, echo_quoted(&e.body_text())))?;
    let list = match query.list.as_deref() {
        None => None,
        Some(code) => Some(ListKind::from_code(code).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("there is no list `{}`: ask for `?list=demands` or `?list=conflicts`, or leave it out for every concern", echo(code)),
            )
        })?),
    };
    let concerns = office
        .db()
        .concerns(list)
        .await
        .map_err(|e| ApiError::internal("read the concerns", e))?;
    let csv = tokio::task::spawn_blocking(move || super::export_csv::export_csv(&concerns))
        .await
        .map_err(|e| ApiError::internal("write the export", e))?
        .map_err(|e| ApiError::internal("write the export", e))?;
    let file_name = match list {
        None => "concerns.csv".to_owned(),
        Some(list) => format!("concerns-{}.csv", list.code()),
    };
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\""))
        .map_err(|e| ApiError::internal("name the export file", e))?;
    Ok((
        [
            (
                CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (CONTENT_DISPOSITION, disposition),
        ],
        csv,
    )
        .into_response())
}

/// The body of `GET /v1/health`.
#[derive(Debug, Serialize)]
pub struct Health {
    status: &'static str,
}

/// `GET /v1/health`: answers while the server runs; no token needed (the kiosk's `doctor`
/// calls it to tell "office down" from "token wrong").
pub async fn health() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// What a wrong path or method is told the office serves.
fn served() -> String {
    format!(
        "this office serves POST {BATCHES_PATH}, GET {UPDATES_PATH}?after=CURSOR, GET {EXPORT_PATH}, GET {HEALTH_PATH}, GET {STATUS_PAGE_PATH}/{{code}} and the case board at {BOARD_PATH}"
    )
}

/// Any other path.
pub async fn not_found(uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!("there is nothing at {}; {}", echo(uri.path()), served()),
    )
}

/// A known path with the wrong method.
pub async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!(
            "{method} is not allowed on {}; {}",
            echo(uri.path()),
            served()
        ),
    )
}
