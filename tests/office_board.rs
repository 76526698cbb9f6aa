//! The case board in a real browser (Debian's Chromium over WebDriver), against a real office on
//! 127.0.0.1 with its own SQLite file and a clock the test sets: kiosk batches arrive as 待受理,
//! a council member accepts, re-colours and assigns, the handler sees only their case and
//! answers, the council ticks it off; a viewer sees no phone number, a form without its CSRF
//! token is refused, and each list's print view holds exactly its tickets.
//! `UPDATE_DOCS=1` also writes the screenshots the README shows into `docs/office/`.

#[path = "support/browser.rs"]
mod browser;
mod office_support;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use browser::Browser;
use chrono::DateTime;
use concern_kiosk::clock::ManualClock;
use concern_kiosk::office::{Role, serve};
use office_support::{
    KIOSK_A, TOKEN_A, TestDb, batch, neighbour_concern, noise_concern, office_on,
};

const PASSWORD: &str = "a long enough password";

struct Board {
    _dir: tempfile::TempDir,
    addr: SocketAddr,
    clock: Arc<ManualClock>,
}

impl Board {
    /// An office on a clock set to the morning of 2026-12-01 in the community, with one
    /// account of each role.
    async fn start() -> Board {
        let dir = tempfile::tempdir().expect("temporary folder");
        let clock = Arc::new(ManualClock::new(at("2026-12-01T10:00:00+08:00")));
        let office = office_on(&TestDb::new(dir.path()))
            .await
            .with_clock(clock.clone());
        for (name, role) in [
            ("li", Role::Council),
            ("wang", Role::Grid),
            ("wuye", Role::Handler),
            ("zhao", Role::Viewer),
        ] {
            office
                .add_account(name, role, PASSWORD)
                .await
                .expect("an account");
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let addr = listener.local_addr().expect("its address");
        tokio::spawn(serve(listener, office));
        Board {
            _dir: dir,
            addr,
            clock,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    async fn sign_in(&self, name: &str) -> Browser {
        let browser = Browser::start().await;
        browser.goto(&self.url("/board/")).await;
        assert_eq!(browser.current_path().await, "/board/login");
        browser.fill("input[name=name]", name).await;
        browser.fill("input[name=password]", PASSWORD).await;
        submit_and_wait(&browser, "form[action='/board/login']").await;
        assert_eq!(browser.current_path().await, "/board/", "{name} signs in");
        browser
    }
}

fn at(text: &str) -> DateTime<chrono::FixedOffset> {
    DateTime::parse_from_rfc3339(text).expect("a test time")
}

/// The tickets of the board's rows (or a list's), in order, and their states.
async fn rows(browser: &Browser, table: &str) -> Vec<(String, String)> {
    let script = format!(
        "return Array.from(document.querySelectorAll('{table} tbody tr')).map(r => [r.dataset.ticket, r.dataset.state || '']);"
    );
    let value = browser
        .client()
        .execute(&script, vec![])
        .await
        .expect("the rows can be read");
    serde_json::from_value(value).expect("rows as pairs")
}

async fn open_case(browser: &Browser, ticket: &str) {
    browser.goto(&browser.current_url().await).await;
    browser
        .click(&format!("tr[data-ticket='{ticket}'] a"))
        .await;
    assert!(browser.text_of("#case-title").await.contains(ticket));
}

async fn act(browser: &Browser, action: &str, fields: &[(&str, &str)]) {
    let form = format!("form#action-{action}");
    for (name, value) in fields {
        let field = format!("{form} [name={name}]");
        let element = browser.find(&field).await;
        if element.tag_name().await.expect("a tag") == "select" {
            element
                .select_by_value(value)
                .await
                .expect("the option exists");
        } else {
            browser.fill(&field, value).await;
        }
    }
    submit_and_wait(browser, &form).await;
}

/// Submits a form and waits until the browser shows the page that answers it, so the next step
/// never races the request.
async fn submit_and_wait(browser: &Browser, form: &str) {
    browser
        .client()
        .execute("window.__before_submit = true;", vec![])
        .await
        .expect("the page can be marked");
    browser.submit(form).await;
    wait_for_new_page(browser, form).await;
}

/// Waits until the page marked with `window.__before_submit` has been replaced by the next.
async fn wait_for_new_page(browser: &Browser, what: &str) {
    let waited = std::time::Instant::now();
    loop {
        let fresh = browser
            .client()
            .execute("return window.__before_submit === undefined && document.readyState === 'complete';", vec![])
            .await
            .map(|v| v.as_bool() == Some(true))
            .unwrap_or(false);
        if fresh {
            return;
        }
        assert!(
            waited.elapsed() < browser::PAGE_PATIENCE,
            "no new page for {what} within {:?}",
            browser::PAGE_PATIENCE
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

fn docs_shot(name: &str) -> PathBuf {
    if std::env::var_os("UPDATE_DOCS").is_some() {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("docs/office")
            .join(name)
    } else {
        PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join("office_board")
            .join(name)
    }
}

#[tokio::test]
async fn a_concern_goes_from_new_to_ticked_off_on_the_board() {
    let board = Board::start().await;
    let noise = noise_concern(0); // green, demands list, due 2026-12-03, with a phone
    let neighbours = neighbour_concern(1); // orange, conflicts list, due 2026-12-26
    let http = office_support::client();
    let sent = http
        .post(board.url("/v1/batches"))
        .bearer_auth(TOKEN_A)
        .json(&batch(KIOSK_A, vec![noise.clone(), neighbours.clone()]))
        .send()
        .await
        .expect("the batch is sent");
    assert!(sent.status().is_success(), "{}", sent.status());
    let (a, b) = (noise.ticket.clone(), neighbours.ticket.clone());

    let council = board.sign_in("li").await;
    assert_eq!(
        rows(&council, "#cases").await,
        [(a.clone(), "new".into()), (b.clone(), "new".into())]
    );
    assert_eq!(council.text_of("#count-new b").await, "2");
    // A new case is on no list yet: the council has not taken it on.
    council.goto(&board.url("/board/list/demands")).await;
    assert_eq!(rows(&council, "#list").await, []);

    council.goto(&board.url("/board/")).await;
    open_case(&council, &a).await;
    assert_eq!(council.text_of("#case-state").await, "待受理");
    assert_eq!(council.text_of("#case-phone").await, "13812345678");
    act(&council, "accept", &[]).await;
    assert_eq!(council.text_of("#case-state").await, "已受理");
    act(
        &council,
        "recolour",
        &[("colour", "orange"), ("note", "需要物业报价")],
    )
    .await;
    assert!(council.text_of("#history").await.contains("需要物业报价"));
    // A change of list without its reason is refused in the board's language, and not made.
    act(&council, "move_list", &[]).await;
    assert_eq!(
        council.text_of("p.error").await,
        "请写明原因：这一改动会连同原因记入办理记录。"
    );
    assert!(council.text_of("#case-list").await.contains("居民诉求清单"));
    act(&council, "assign", &[("handler", "wuye")]).await;
    assert_eq!(council.text_of("#case-state").await, "已交办");
    assert_eq!(council.text_of("#case-handler").await, "wuye");
    council.screenshot_png(&docs_shot("case.png")).await;

    // The other case goes on the conflicts list.
    council.goto(&board.url("/board/")).await;
    open_case(&council, &b).await;
    act(&council, "accept", &[]).await;

    // Three days on, past the receipt's date, the unanswered case is overdue and listed
    // first. The sign-in of the first day has lapsed: the council member signs in again.
    board.clock.set(at("2026-12-04T09:00:00+08:00"));
    council.goto(&board.url("/board/")).await;
    assert_eq!(council.current_path().await, "/board/login");
    let council = board.sign_in("li").await;
    assert_eq!(council.text_of("#count-overdue b").await, "1");
    let overdue_row = council.find(&format!("tr[data-ticket='{a}']")).await;
    assert_eq!(
        overdue_row.attr("class").await.expect("a class").as_deref(),
        Some("overdue")
    );
    council.screenshot_png(&docs_shot("board.png")).await;

    // Each list's print view holds exactly its tickets.
    council.goto(&board.url("/board/list/demands")).await;
    assert!(
        council
            .text_of("#list-title")
            .await
            .contains("居民诉求清单")
    );
    assert_eq!(rows(&council, "#list").await, [(a.clone(), String::new())]);
    council.screenshot_png(&docs_shot("list-demands.png")).await;
    council.goto(&board.url("/board/list/conflicts")).await;
    assert!(
        council
            .text_of("#list-title")
            .await
            .contains("矛盾问题清单")
    );
    assert_eq!(rows(&council, "#list").await, [(b.clone(), String::new())]);
    council
        .screenshot_png(&docs_shot("list-conflicts.png"))
        .await;

    // The handler sees only the case assigned to them, and answers it.
    let handler = board.sign_in("wuye").await;
    assert_eq!(
        rows(&handler, "#cases").await,
        [(a.clone(), "assigned".into())]
    );
    open_case(&handler, &a).await;
    assert!(!handler.exists("form#action-tick_off").await);
    act(&handler, "answer", &[("reply", "已请电工今天修好路灯。")]).await;
    assert_eq!(handler.text_of("#case-state").await, "已答复");
    assert_eq!(
        handler.text_of("#case-answer").await,
        "已请电工今天修好路灯。"
    );

    // A viewer reads the case without the resident's phone number, and may do nothing.
    let viewer = board.sign_in("zhao").await;
    open_case(&viewer, &a).await;
    assert_eq!(viewer.text_of("#case-phone").await, "（不显示）");
    assert!(!viewer.exists(".actions form").await);

    // A form whose CSRF token has been taken out is refused, and nothing changes.
    council.goto(&board.url("/board/")).await;
    open_case(&council, &a).await;
    council
        .client()
        .execute(
            "document.querySelector('form#action-tick_off input[name=csrf]').remove();",
            vec![],
        )
        .await
        .expect("the token can be removed");
    submit_and_wait(&council, "form#action-tick_off").await;
    assert!(council.exists("#csrf-refused").await);
    council.goto(&board.url("/board/")).await;
    open_case(&council, &a).await;
    assert_eq!(council.text_of("#case-state").await, "已答复");

    // With its token, the council ticks it off; the board counts it as settled this week and
    // the demands list no longer holds it.
    act(&council, "tick_off", &[]).await;
    assert_eq!(council.text_of("#case-state").await, "已销号");
    council.goto(&board.url("/board/")).await;
    assert_eq!(council.text_of("#count-settled b").await, "1");
    assert_eq!(council.text_of("#count-overdue b").await, "0");
    council.goto(&board.url("/board/list/demands")).await;
    assert_eq!(rows(&council, "#list").await, []);
}

#[tokio::test]
async fn a_wrong_password_is_refused_and_the_board_wants_a_sign_in() {
    let board = Board::start().await;
    let browser = Browser::start().await;
    browser.goto(&board.url("/board/case/anything")).await;
    assert_eq!(browser.current_path().await, "/board/login");
    browser.fill("input[name=name]", "li").await;
    browser
        .fill("input[name=password]", "not the password")
        .await;
    submit_and_wait(&browser, "form[action='/board/login']").await;
    assert_eq!(browser.text_of("p.error").await, "用户名或密码不对。");
    // English is one click away and stays chosen.
    browser
        .client()
        .execute("window.__before_submit = true;", vec![])
        .await
        .expect("the page can be marked");
    browser.click("header a").await;
    wait_for_new_page(&browser, "the English page").await;
    assert_eq!(browser.text_of("h2").await, "Sign in");
}

#[tokio::test]
async fn board_cookies_are_http_only_strict_and_secure_behind_tls() {
    let board = Board::start().await;
    let http = office_support::client();
    let cookie_of = |response: &reqwest::Response| {
        response
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let direct = http
        .get(board.url("/board/login"))
        .send()
        .await
        .expect("the sign-in page");
    let direct = cookie_of(&direct);
    assert!(
        direct.contains("HttpOnly") && direct.contains("SameSite=Strict"),
        "{direct}"
    );
    assert!(!direct.contains("Secure"), "{direct}");
    let proxied = http
        .get(board.url("/board/login"))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .expect("the sign-in page");
    let proxied = cookie_of(&proxied);
    assert!(proxied.contains("; Secure"), "{proxied}");
}
