//! The resident's status page, where the receipt's QR code points: served by the real office on
//! 127.0.0.1 without sign-in, it tells the resident how their concern stands and shows nothing
//! personal — no phone number, no free text, no address — and a code nobody holds reads the
//! same as a code that is no code at all. In Debian's Chromium at a phone's size it is looked at;
//! `UPDATE_DOCS=1` writes `docs/office/status-page.png`.

#[path = "support/browser.rs"]
mod browser;
mod office_support;

use std::net::SocketAddr;
use std::path::PathBuf;

use browser::Browser;
use concern_kiosk::concern::TrackingCode;
use concern_kiosk::office::serve;
use office_support::{
    KIOSK_A, TOKEN_A, TestDb, answer_case, batch, client, noise_concern, office_on,
};

const REPLY: &str = "物业已经和装修队说好，晚上八点以后不再施工。";

/// An office holding one noise complaint (with a phone number, a free text and a place) that
/// has been answered; returns its address and the concern's tracking code.
async fn answered_office(dir: &std::path::Path) -> (SocketAddr, TrackingCode) {
    let office = office_on(&TestDb::new(dir)).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(serve(listener, office.clone()));
    let concern = noise_concern(0);
    let code = concern.tracking_code.clone().unwrap();
    let id = concern.id.to_string();
    let sent = client()
        .post(format!("http://{addr}/v1/batches"))
        .bearer_auth(TOKEN_A)
        .json(&batch(KIOSK_A, vec![concern]))
        .send()
        .await
        .unwrap();
    assert!(sent.status().is_success(), "{}", sent.status());
    answer_case(&office, &id, REPLY).await;
    (addr, code)
}

async fn page(addr: SocketAddr, path: &str) -> (u16, String, Vec<(String, String)>) {
    let response = client()
        .get(format!("http://{addr}{path}"))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_string()))
        .collect();
    (status, response.text().await.unwrap(), headers)
}

#[tokio::test]
async fn the_page_tells_how_it_stands_and_nothing_personal() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, code) = answered_office(dir.path()).await;
    let (status, html, headers) = page(addr, &format!("/status/{code}")).await;
    assert_eq!(status, 200);
    for shown in ["A1126-001", "已经办好了", REPLY, "噪音扰民", "12345"] {
        assert!(html.contains(shown), "`{shown}` missing:\n{html}");
    }
    let fixture = noise_concern(0);
    let personal = [
        fixture.phone.unwrap(),
        fixture.text.unwrap(),
        fixture.location.unwrap(),
        "1381234".to_string(),
        "老人睡不着".to_string(),
        "wuye".to_string(),
    ];
    for hidden in &personal {
        assert!(!html.contains(hidden.as_str()), "`{hidden}` is on the page");
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(header("cache-control").as_deref(), Some("no-store"));
    assert_eq!(header("referrer-policy").as_deref(), Some("no-referrer"));
}

#[tokio::test]
async fn a_code_nobody_holds_and_a_code_that_is_no_code_get_the_same_404() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, _code) = answered_office(dir.path()).await;
    let unknown = page(addr, &format!("/status/{}", TrackingCode::random())).await;
    assert_eq!(unknown.0, 404);
    assert!(unknown.1.contains("没有找到这张回执"), "{}", unknown.1);
    for malformed in [
        "A1126-001",
        "not-a-code",
        "0123456789ABCDEI",
        "%F0%9F%98%80",
    ] {
        let refused = page(addr, &format!("/status/{malformed}")).await;
        assert_eq!(
            (refused.0, &refused.1),
            (unknown.0, &unknown.1),
            "`{malformed}` reads differently from an unknown code"
        );
    }
}

#[tokio::test]
async fn on_a_phone_the_page_reads_in_large_print() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, code) = answered_office(dir.path()).await;
    let browser = Browser::start().await;
    // An ordinary phone's viewport in CSS pixels.
    browser.set_viewport((390, 844)).await;
    browser.goto(&format!("http://{addr}/status/{code}")).await;
    assert_eq!(browser.text_of("#ticket").await, "A1126-001");
    assert!(browser.text_of("#progress").await.contains("已经办好了"));
    let body_px = browser
        .client()
        .execute(
            "return parseFloat(getComputedStyle(document.body).fontSize);",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        body_px.as_f64().is_some_and(|px| px >= 24.0),
        "body text is {body_px} px"
    );
    let overflow = browser
        .client()
        .execute(
            "return document.documentElement.scrollWidth > window.innerWidth;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        overflow,
        serde_json::Value::Bool(false),
        "the page is wider than the phone"
    );
    let path = if std::env::var_os("UPDATE_DOCS").is_some() {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/office/status-page.png")
    } else {
        dir.path().join("status-page.png")
    };
    let png = browser.screenshot_png(&path).await;
    assert!(png.starts_with(b"\x89PNG"));
}
