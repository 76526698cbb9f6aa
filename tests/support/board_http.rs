//! Signing in to the office's case board over plain HTTP, as a browser does: the sign-in page's
//! cookie and CSRF token, then the form; for tests that read the board's pages without Chromium.

/// The `name=value` of the cookie a response sets.
pub fn cookie_of(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|set| set.split(';').next())
        .expect("the office sets a cookie")
        .to_string()
}

/// Signs in at `{base}/board/login`; returns the session cookie to send with every request.
pub async fn sign_in(http: &reqwest::Client, base: &str, name: &str, password: &str) -> String {
    let login_page = http
        .get(format!("{base}/board/login"))
        .send()
        .await
        .expect("the sign-in page");
    let login_cookie = cookie_of(&login_page);
    let login = login_page.text().await.expect("the sign-in page's text");
    let csrf = login
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a sign-in token on the page")
        .to_string();
    let signed_in = http
        .post(format!("{base}/board/login"))
        .header("cookie", login_cookie)
        .form(&[("name", name), ("password", password), ("csrf", &csrf)])
        .send()
        .await
        .expect("the sign-in answer");
    assert!(
        signed_in.status().is_redirection(),
        "signing in as {name}: {}",
        signed_in.status()
    );
    cookie_of(&signed_in)
}

/// A client that shows redirects instead of following them, as the sign-in needs.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client")
}
