//! The case board under `/board/`: sign-in, the board with its counts and filters, a case's
//! page with the actions the signed-in role may take, and the two lists for the property
//! company (print view and `.xlsx`). Plain HTML forms that work without JavaScript; every form
//! carries its session's CSRF token; Chinese first, English one click away.

mod lists;
mod pages;
mod view;
pub mod wording;

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use tracing::error;

use super::accounts::{Account, SignIn};
use super::cases::{Action, Case, community_date};
use super::sessions::{Session, random_token, same_token};
use super::state::Office;
use crate::concern::{Colour, Lang, ListKind, Rating};
use pages::{
    ActionForm, BoardPage, CasePage, CaseRow, HistoryLine, LoginPage, choices, colour_choices,
    list_choices, state_choices,
};
use view::{Filters, PAGE_SIZE, counts, ordered, visible_to};

pub use lists::list_workbook;
pub use wording::{EN, Words, ZH};

/// Where the board lives on the office's server.
pub const BOARD_PATH: &str = "/board/";

const SESSION_COOKIE: &str = "office_session";
const LOGIN_COOKIE: &str = "office_login";
const LANG_COOKIE: &str = "office_lang";

/// The board's routes, to be merged into the office's router.
pub fn routes() -> Router<Office> {
    Router::new()
        .route("/board", get(|| async { Redirect::to(BOARD_PATH) }))
        .route("/board/", get(board))
        .route("/board/login", get(login_page).post(login))
        .route("/board/logout", post(logout))
        .route("/board/lang", get(set_lang))
        .route("/board/case/{id}", get(case_page).post(act))
        .route("/board/list/{list}", get(lists::list_page))
}

/// A page could not be made: the person sees a short sentence, the log the reason.
pub(crate) struct PageError(StatusCode, String);

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        (self.0, Html(format!("<!DOCTYPE html><meta charset=utf-8><p>{}</p><p><a href=\"/board/\">/board/</a></p>", askama::filters::escape(&self.1, askama::filters::Html).map(|e| e.to_string()).unwrap_or_default()))).into_response()
    }
}

fn internal(e: impl std::fmt::Display) -> PageError {
    error!(error = %e, "the board could not make a page");
    PageError(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong on the office server; the log says what. 办公服务器出错。".into(),
    )
}

fn render(page: impl Template) -> Result<Response, PageError> {
    Ok(Html(page.render().map_err(internal)?).into_response())
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

fn lang_of(headers: &HeaderMap) -> &'static Words {
    Words::of(match cookie(headers, LANG_COOKIE) {
        Some("en") => Lang::En,
        _ => Lang::ZhCn,
    })
}

/// `Set-Cookie` for the board: HttpOnly and SameSite=Strict always, Secure when the request
/// came over TLS (the reverse proxy says so with `X-Forwarded-Proto`).
fn set_cookie(headers: &HeaderMap, name: &str, value: &str, max_age_s: i64) -> HeaderValue {
    let secure = headers
        .get("x-forwarded-proto")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"));
    let text = format!(
        "{name}={value}; Path=/board; HttpOnly; SameSite=Strict; Max-Age={max_age_s}{}",
        if secure { "; Secure" } else { "" }
    );
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("invalid=1"))
}

/// The signed-in session of the request, or the answer that sends the browser to sign in.
async fn signed_in(office: &Office, headers: &HeaderMap) -> Result<Session, Response> {
    let Some(token) = cookie(headers, SESSION_COOKIE).map(str::to_string) else {
        return Err(Redirect::to("/board/login").into_response());
    };
    let now = office.now();
    match office.db().session(&token, now).await {
        Ok(Some(session)) => Ok(session),
        Ok(None) => Err(Redirect::to("/board/login").into_response()),
        Err(e) => Err(internal(e).into_response()),
    }
}

/// A form without its session's CSRF token is refused: another site cannot act for a signed-in
/// council member.
fn csrf_refused(session: &Session, given: &str) -> Option<Response> {
    (!same_token(&session.csrf_token, given)).then(|| {
        (
            StatusCode::FORBIDDEN,
            Html("<!DOCTYPE html><meta charset=utf-8><p id=\"csrf-refused\">This form has expired; open the page again. 表单已过期，请重新打开页面。</p>"),
        )
            .into_response()
    })
}

/// How long a sign-in page's form stays usable: an hour is plenty to type a password.
const LOGIN_FORM_SECONDS: i64 = 3600;

async fn login_page(headers: HeaderMap) -> Result<Response, PageError> {
    login_form(&headers, None, StatusCode::OK)
}

/// The sign-in page with a fresh token in its form and in a cookie, which a sign-in must match.
fn login_form(
    headers: &HeaderMap,
    message: Option<&'static str>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let csrf = random_token();
    let mut response = render(LoginPage {
        t: lang_of(headers),
        csrf: csrf.clone(),
        message,
    })?;
    *response.status_mut() = status;
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(headers, LOGIN_COOKIE, &csrf, LOGIN_FORM_SECONDS),
    );
    Ok(response)
}

#[derive(Deserialize)]
struct LoginForm {
    name: String,
    password: String,
    csrf: String,
}

async fn login(
    State(office): State<Office>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, PageError> {
    let t = lang_of(&headers);
    // The sign-in form carries the token its page set as a cookie: a page of another site
    // cannot sign a browser into someone else's account.
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !same_token(expected, &form.csrf) {
        return Ok(Redirect::to("/board/login").into_response());
    }
    let now = office.now();
    let db = office.db();
    let outcome = match db
        .sign_in(&form.name, &form.password, now)
        .await
        .map_err(internal)?
    {
        SignIn::Accepted(account) => Ok(db.open_session(&account, now).await.map_err(internal)?),
        other => Err(other),
    };
    match outcome {
        Ok(token) => {
            let mut response = Redirect::to(BOARD_PATH).into_response();
            let max_age = super::sessions::SESSION_LENGTH.num_seconds();
            response.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(&headers, SESSION_COOKIE, &token, max_age),
            );
            Ok(response)
        }
        Err(refusal) => {
            let message = match refusal {
                SignIn::Locked { .. } => t.locked,
                _ => t.refused,
            };
            login_form(&headers, Some(message), StatusCode::UNAUTHORIZED)
        }
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn logout(
    State(office): State<Office>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let session = match signed_in(&office, &headers).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    if let Some(refused) = csrf_refused(&session, &form.csrf) {
        return refused;
    }
    if let Some(token) = cookie(&headers, SESSION_COOKIE).map(str::to_string) {
        let name = session.account.name.clone();
        let now = office.now();
        let db = office.db();
        let closed = match db.close_session(&token).await {
            Ok(()) => db.audit(now, &name, "signed-out", "").await,
            Err(e) => Err(e),
        };
        if let Err(e) = closed {
            return internal(e).into_response();
        }
    }
    let mut response = Redirect::to("/board/login").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&headers, SESSION_COOKIE, "", 0),
    );
    response
}

#[derive(Deserialize)]
struct LangQuery {
    to: String,
}

async fn set_lang(headers: HeaderMap, Query(query): Query<LangQuery>) -> Response {
    let lang = if query.to == "en" { "en" } else { "zh" };
    let back = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.find("/board/").map(|i| r[i..].to_string()))
        .unwrap_or_else(|| BOARD_PATH.to_string());
    let mut response = Redirect::to(&back).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&headers, LANG_COOKIE, lang, 365 * 24 * 3600),
    );
    response
}

/// The accounts a case can be assigned to, as (name, "name · role") choices.
fn handler_choices(t: &Words, accounts: &[Account]) -> Vec<(String, String)> {
    accounts
        .iter()
        .filter(|a| a.role.takes_assignments())
        .map(|a| {
            let role = if t.is_zh() {
                a.role.label_zh()
            } else {
                a.role.label_en()
            };
            (a.name.clone(), format!("{} · {role}", a.name))
        })
        .collect()
}

async fn board(
    State(office): State<Office>,
    headers: HeaderMap,
    Query(filters): Query<Filters>,
) -> Response {
    let session = match signed_in(&office, &headers).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    board_page(office, headers, filters, session)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

async fn board_page(
    office: Office,
    headers: HeaderMap,
    filters: Filters,
    session: Session,
) -> Result<Response, PageError> {
    let t = lang_of(&headers);
    let now = office.now();
    let cases = office.db().cases().await.map_err(internal)?;
    let accounts = office.db().accounts().await.map_err(internal)?;
    let today = community_date(now);
    let follow_up_days = office.board_settings().follow_up_days;
    let role = session.account.role;
    let visible = visible_to(&session.account, &cases);
    let shown = ordered(&visible, &filters, today, follow_up_days);
    let page = filters.page.unwrap_or(1).max(1);
    let skip = usize::try_from(page - 1)
        .unwrap_or(usize::MAX)
        .saturating_mul(PAGE_SIZE);
    let rows = shown
        .iter()
        .skip(skip)
        .take(PAGE_SIZE)
        .map(|r| CaseRow::new(r, t, role, today, follow_up_days))
        .collect();
    let link_to = |page: u32| {
        let mut query = filters.clone();
        query.page = Some(page);
        serde_urlencoded::to_string(FiltersQuery(&query))
            .map(|q| format!("{BOARD_PATH}?{q}"))
            .ok()
    };
    let previous_link = (page > 1).then(|| link_to(page - 1)).flatten();
    let next_link = (skip.saturating_add(PAGE_SIZE) < shown.len())
        .then(|| link_to(page.saturating_add(1)))
        .flatten();
    let mut categories: Vec<(String, String)> = visible
        .iter()
        .map(|r| {
            let c = &r.concern.concern;
            let label = if t.is_zh() {
                &c.category_label.zh
            } else {
                &c.category_label.en
            };
            (c.category.clone(), label.clone())
        })
        .collect();
    categories.sort();
    categories.dedup();
    let mut kiosks: Vec<(String, String)> = visible
        .iter()
        .map(|r| (r.concern.kiosk_id.clone(), r.concern.kiosk_id.clone()))
        .collect();
    kiosks.sort();
    kiosks.dedup();
    render(BoardPage {
        t,
        account_name: session.account.name.clone(),
        csrf: session.csrf_token.clone(),
        counts: counts(&visible, today, follow_up_days),
        colour_options: choices(t, colour_choices(t)),
        list_options: choices(t, list_choices(t)),
        state_options: choices(t, state_choices(t)),
        handler_options: choices(t, handler_choices(t, &accounts)),
        category_options: choices(t, categories),
        kiosk_options: choices(t, kiosks),
        filters,
        rows,
        previous_link,
        next_link,
    })
}

/// The filters as a query string, leaving out the empty ones.
struct FiltersQuery<'a>(&'a Filters);

impl serde::Serialize for FiltersQuery<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let f = self.0;
        let mut map = serializer.serialize_map(None)?;
        for (key, value) in [
            ("colour", &f.colour),
            ("list", &f.list),
            ("state", &f.state),
            ("handler", &f.handler),
            ("category", &f.category),
            ("kiosk", &f.kiosk),
            ("from", &f.from),
            ("until", &f.until),
            ("ticket", &f.ticket),
        ] {
            if !value.is_empty() {
                map.serialize_entry(key, value)?;
            }
        }
        if let Some(page) = f.page {
            map.serialize_entry("page", &page)?;
        }
        map.end()
    }
}

async fn case_page(
    State(office): State<Office>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let session = match signed_in(&office, &headers).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    show_case(&office, &headers, &session, &id, None, StatusCode::OK)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

async fn show_case(
    office: &Office,
    headers: &HeaderMap,
    session: &Session,
    id: &str,
    message: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let t = lang_of(headers);
    let key = id.to_string();
    let record = office.db().case(&key).await.map_err(internal)?;
    let accounts = office.db().accounts().await.map_err(internal)?;
    let account = &session.account;
    let Some(record) = record.filter(|r| {
        !account.role.sees_only_own_cases() || r.case.handler.as_deref() == Some(&account.name)
    }) else {
        return Err(PageError(
            StatusCode::NOT_FOUND,
            "No such case. 没有这个案件。".into(),
        ));
    };
    let now = office.now();
    let today = community_date(now);
    let follow_up_days = office.board_settings().follow_up_days;
    let actions = record
        .case
        .possible_actions()
        .into_iter()
        .filter(|code| probe(code).is_some_and(|action| account.role.may(&action)))
        .map(|code| ActionForm {
            code,
            label: t.action(code),
            needs_note: matches!(
                code,
                "recolour" | "move_list" | "supervise" | "follow_up" | "reopen"
            ),
        })
        .collect();
    let colour_choices = colour_choices(t)
        .into_iter()
        .filter(|(code, _)| code != record.case.colour.code())
        .collect();
    let mut response = render(CasePage {
        t,
        account_name: account.name.clone(),
        csrf: session.csrf_token.clone(),
        row: CaseRow::new(&record, t, account.role, today, follow_up_days),
        answer: record.case.answer.clone(),
        rating: rating_line(t, &record.case),
        unhappy: record.case.rating.is_some_and(Rating::is_unhappy),
        message,
        actions,
        colour_choices,
        handler_choices: handler_choices(t, &accounts),
        history: record
            .case
            .events
            .iter()
            .map(|e| HistoryLine::new(e, t))
            .collect(),
    })?;
    *response.status_mut() = status;
    Ok(response)
}

/// The resident's rating with when it arrived, from the case's rating event.
fn rating_line(t: &Words, case: &Case) -> Option<String> {
    let rating = case.rating?;
    let when = case
        .events
        .iter()
        .rev()
        .find(|e| matches!(e.action, Action::Rate { .. }))
        .map(|e| pages::board_time(e.at))
        .unwrap_or_default();
    Some(format!("{} · {when}", t.rating_word(rating)))
}

/// An action of the given code with placeholder details, to ask a role whether it may.
fn probe(code: &str) -> Option<Action> {
    Some(match code {
        "accept" => Action::Accept,
        "recolour" => Action::Recolour { to: Colour::Red },
        "move_list" => Action::MoveList {
            to: ListKind::Demands,
        },
        "assign" => Action::Assign {
            handler: String::new(),
        },
        "answer" => Action::Answer {
            reply: String::new(),
        },
        "supervise" => Action::Supervise,
        "follow_up" => Action::FollowUp,
        "tick_off" => Action::TickOff,
        "reopen" => Action::Reopen,
        _ => return None,
    })
}

/// The fields of an action form; which are used depends on the action.
#[derive(Deserialize)]
struct ActionFormData {
    #[serde(default)]
    csrf: String,
    action: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    colour: String,
    #[serde(default)]
    handler: String,
    #[serde(default)]
    reply: String,
}

/// The most text a note or an answer may hold: a few paragraphs, which a resident reads at
/// the kiosk in large print.
const MAX_FORM_TEXT_CHARS: usize = 1000;

async fn act(
    State(office): State<Office>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<ActionFormData>,
) -> Response {
    let session = match signed_in(&office, &headers).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    if let Some(refused) = csrf_refused(&session, &form.csrf) {
        return refused;
    }
    let clean = |text: &str| {
        crate::concern::clean_user_text(text)
            .chars()
            .take(MAX_FORM_TEXT_CHARS)
            .collect::<String>()
    };
    let action = match form.action.as_str() {
        "recolour" => Colour::from_code(&form.colour).map(|to| Action::Recolour { to }),
        "move_list" => {
            // The other list: the form offers only the move.
            match office.db().case(&id).await {
                Ok(Some(record)) => Some(Action::MoveList {
                    to: match record.case.list {
                        ListKind::Demands => ListKind::Conflicts,
                        ListKind::Conflicts => ListKind::Demands,
                    },
                }),
                _ => None,
            }
        }
        "assign" => Some(Action::Assign {
            handler: clean(&form.handler),
        }),
        "answer" => Some(Action::Answer {
            reply: clean(&form.reply),
        }),
        other => probe(other),
    };
    let account = session.account.clone();
    let Some(action) = action.filter(|a| account.role.may(a)) else {
        return PageError(
            StatusCode::FORBIDDEN,
            "This action is not yours to take. 您没有这个权限。".into(),
        )
        .into_response();
    };
    if account.role.sees_only_own_cases() {
        let own = office.db().case(&id).await;
        let mine =
            matches!(&own, Ok(Some(r)) if r.case.handler.as_deref() == Some(account.name.as_str()));
        if !mine {
            return PageError(StatusCode::NOT_FOUND, "No such case. 没有这个案件。".into())
                .into_response();
        }
    }
    let note = clean(&form.note);
    let now = office.now();
    let name = account.name.clone();
    let done = office.db().act(&id, action, &name, &note, now).await;
    if let Ok(record) = &done
        && let Some(event) = record.case.events.last()
    {
        let detail = format!(
            "{} {}: {} -> {}",
            record.concern.concern.ticket,
            event.action.code(),
            event.from.code(),
            event.to.code()
        );
        if let Err(e) = office.db().audit(now, &name, "case-action", &detail).await {
            error!(error = %e, "cannot write the audit trail");
        }
    }
    match done {
        Ok(_) => Redirect::to(&format!("/board/case/{id}")).into_response(),
        Err(super::ActError::NotAllowed(reason)) => show_case(
            &office,
            &headers,
            &session,
            &id,
            Some(lang_of(&headers).refusal(&reason)),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await
        .unwrap_or_else(IntoResponse::into_response),
        Err(super::ActError::NoSuchCase(_)) => {
            PageError(StatusCode::NOT_FOUND, "No such case. 没有这个案件。".into()).into_response()
        }
        Err(e) => internal(e).into_response(),
    }
}
