//! The browser harness against real servers: Debian's Chromium opens the office's health page,
//! and fills in and sends a plain HTML form, as a member of staff will do with the office's
//! pages. Needs `chromium` and `chromium-driver` (which `.ci/run` installs).

#[path = "support/browser.rs"]
mod browser;
mod office_support;

use std::path::PathBuf;

use axum::Form;
use axum::http::HeaderMap;
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use browser::{Browser, WINDOW};
use office_support::TestOffice;

#[tokio::test]
async fn chromium_shows_what_the_office_answers_at_its_health_page() {
    let office = TestOffice::start().await;
    let browser = Browser::start().await;

    browser.goto(&office.url("/v1/health")).await;

    assert_eq!(browser.text_of("body").await, r#"{"status":"ok"}"#);
    assert_eq!(browser.current_path().await, "/v1/health");
}

#[tokio::test]
async fn a_form_is_filled_in_sent_and_answered_with_a_cookie_and_a_screenshot_is_window_sized() {
    let site = format!("http://{}", serve_greeting_form().await);
    let browser = Browser::start().await;

    browser.goto(&format!("{site}/")).await;
    assert_eq!(browser.text_of("h1").await, "Who are you?");
    browser.fill("#name", "王芳").await;
    browser.submit("form#greet").await;

    assert_eq!(browser.current_path().await, "/greet");
    assert_eq!(browser.text_of("h1").await, "Hello, 王芳 (sent with Send)");
    let path = screenshot_dir().join("greeting-answer.png");
    let png = browser.screenshot_png(&path).await;
    let reader = png::Decoder::new(std::io::Cursor::new(&png))
        .read_info()
        .expect("the screenshot is a PNG");
    let info = reader.info();
    assert_eq!((info.width, info.height), WINDOW);
    assert_eq!(std::fs::read(&path).expect("the screenshot's file"), png);

    assert_eq!(browser.cookie("greeted").await.as_deref(), Some("yes"));
    // The cookie goes back with the next request of this browser session.
    browser.click("a#again").await;
    assert_eq!(browser.current_path().await, "/");
    assert_eq!(browser.text_of("h1").await, "Welcome back");
}

/// Screenshots stay under the build folder, where a person can look at them after the run.
fn screenshot_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("office_browser")
}

#[derive(serde::Deserialize)]
struct Greeting {
    name: String,
    button: String,
}

/// A page with one plain form, and its answer that sets a cookie; on 127.0.0.1 and a free port.
async fn serve_greeting_form() -> std::net::SocketAddr {
    let app = axum::Router::new()
        .route("/", get(greeting_form))
        .route("/greet", axum::routing::post(greet));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the form's server");
    let addr = listener.local_addr().expect("the form's address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

async fn greeting_form(headers: HeaderMap) -> Html<&'static str> {
    let greeted = headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .any(|cookie| cookie.trim() == "greeted=yes");
    if greeted {
        return Html("<!doctype html><title>Again</title><h1>Welcome back</h1>");
    }
    Html(
        "<!doctype html><meta charset=utf-8><title>Greeting</title>\
         <h1>Who are you?</h1>\
         <form id=greet method=post action=/greet>\
         <label>Name <input id=name name=name required></label>\
         <button name=button value=Send>Send</button>\
         </form>",
    )
}

async fn greet(Form(greeting): Form<Greeting>) -> impl IntoResponse {
    let page = format!(
        "<!doctype html><meta charset=utf-8><title>Hello</title>\
         <h1>Hello, {} (sent with {})</h1><a id=again href=/>again</a>",
        escape(&greeting.name),
        escape(&greeting.button)
    );
    ([(SET_COOKIE, "greeted=yes; Path=/; HttpOnly")], Html(page))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
