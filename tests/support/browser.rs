//! A real browser for the tests of the office's HTML pages: Debian's `chromium`, headless, driven
//! over WebDriver by a `chromedriver` of its own. Each [`Browser`] has its own driver (on a port
//! the system picks), its own profile folder and so its own cookies, so tests run in parallel
//! threads without meeting; dropping it ends the session and every process it started.
//!
//! The helpers panic with what went wrong and where, because a test that cannot drive its page
//! has failed; [`Browser::client`] gives the full fantoccini client for anything else.
//!
//! Test files include this file with `#[path = "support/browser.rs"] mod browser;`, so only the
//! browser tests compile it.

#![allow(dead_code)] // each test file uses its own part of the helpers

use std::io::{BufRead, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::wd::TimeoutConfiguration;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;

/// Debian's packages `chromium-driver` and `chromium`, which `.ci/run` installs.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// The viewport, in CSS pixels: what a page lays out into and what a screenshot shows. Fixed, so
/// that both are the same on every machine.
pub const WINDOW: (u32, u32) = (1280, 900);

/// How long chromedriver may take to print its port and answer `/status`. It takes under 50 ms
/// here; the margin is for a CI machine busy compiling, and the wait only ends a driver that will
/// never come up.
const DRIVER_START_PATIENCE: Duration = Duration::from_secs(30);

/// How long opening a session may take: chromedriver starts Chromium, which opens its first tab.
/// 3 to 8 s here with two browsers starting at once on 2 cores that are also compiling; the
/// margin is for a slower machine, and the wait only ends a Chromium that will never answer.
const SESSION_PATIENCE: Duration = Duration::from_secs(60);

/// How long a page may take to load, and how long the helpers wait for an element to appear. The
/// pages are served from this machine, so this only ends a hung server or a selector that will
/// never match, with a message that says which.
pub const PAGE_PATIENCE: Duration = Duration::from_secs(30);

/// How long chromedriver may take to close its Chromium when the session ends, before the whole
/// process group is killed. Closing takes well under a second; a browser that does not close in
/// this time is hung and is killed all the same.
const QUIT_PATIENCE: Duration = Duration::from_secs(10);

/// How often the start-up wait asks chromedriver's `/status` again: short, because the driver
/// answers within milliseconds of printing its port.
const STATUS_POLL: Duration = Duration::from_millis(20);

/// A headless Chromium with a WebDriver session.
pub struct Browser {
    client: Client,
    session_id: Option<String>,
    // Dropped after the session ends, and before the profile folder is removed, so no Chromium
    // still writes into it.
    driver: Driver,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver and opens a session in a fresh headless Chromium.
    pub async fn start() -> Browser {
        let started = Instant::now();
        let driver = Driver::start();
        let driver_ready = started.elapsed();
        let profile = tempfile::tempdir().expect("a temporary folder for the Chromium profile");
        let mut builder = ClientBuilder::new(HttpConnector::new());
        builder.capabilities(capabilities(profile.path()));
        let url = driver.url();
        let client = match tokio::time::timeout(SESSION_PATIENCE, builder.connect(&url)).await {
            Ok(Ok(client)) => client,
            Ok(Err(e)) => panic!(
                "chromedriver could not start {CHROMIUM}: {e}\nchromedriver's output:\n{}",
                driver.log()
            ),
            Err(_) => panic!(
                "{CHROMIUM} did not open a session within {SESSION_PATIENCE:?}\n\
                 chromedriver's output:\n{}",
                driver.log()
            ),
        };
        let session_id = client.session_id().await.ok().flatten();
        let browser = Browser {
            client,
            session_id,
            driver,
            _profile: profile,
        };
        browser
            .client
            .update_timeouts(TimeoutConfiguration::new(
                None,
                Some(PAGE_PATIENCE),
                // Finding stays immediate, so a test can check that something is absent;
                // `find` waits by itself when a test needs something to appear.
                Some(Duration::ZERO),
            ))
            .await
            .unwrap_or_else(|e| panic!("set the page load timeout: {e}"));
        browser.set_viewport(WINDOW).await;
        eprintln!(
            "browser: chromedriver answered in {driver_ready:?}, Chromium was ready {:?} later",
            started.elapsed() - driver_ready
        );
        browser
    }

    /// Sizes the window so that the viewport is `wanted` (CSS pixels): even headless,
    /// Chromium's `--window-size` is the outer size, and its frame's height is the browser's to
    /// choose. Pages open in [`WINDOW`]; a phone-sized page asks for its own.
    pub async fn set_viewport(&self, wanted: (u32, u32)) {
        let viewport = self.viewport().await;
        let (outer_width, outer_height) = self
            .client
            .get_window_size()
            .await
            .unwrap_or_else(|e| panic!("read the window's size: {e}"));
        let grown = |outer: u64, inner: u32, wanted: u32| {
            u32::try_from(outer + u64::from(wanted)).expect("a window size fits in u32") - inner
        };
        self.client
            .set_window_size(
                grown(outer_width, viewport.0, wanted.0),
                grown(outer_height, viewport.1, wanted.1),
            )
            .await
            .unwrap_or_else(|e| panic!("resize the window: {e}"));
        let fitted = self.viewport().await;
        assert_eq!(
            fitted, wanted,
            "the viewport was {viewport:?} in a {outer_width}x{outer_height} window, and is \
             {fitted:?} after growing the window by the difference"
        );
    }

    /// The viewport's width and height in CSS pixels.
    pub async fn viewport(&self) -> (u32, u32) {
        let size = self
            .client
            .execute("return [window.innerWidth, window.innerHeight];", vec![])
            .await
            .unwrap_or_else(|e| panic!("read the viewport's size: {e}"));
        let side = |index: usize| {
            size.get(index)
                .and_then(serde_json::Value::as_u64)
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or_else(|| panic!("the viewport's size is two numbers, not {size}"))
        };
        (side(0), side(1))
    }

    /// The fantoccini client, for what the helpers do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Everything chromedriver (and the Chromium it started) printed so far.
    pub fn driver_log(&self) -> String {
        self.driver.log()
    }

    /// Opens `url` and waits until the page has loaded.
    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    /// The whole address of the page shown.
    pub async fn current_url(&self) -> String {
        self.client
            .current_url()
            .await
            .unwrap_or_else(|e| panic!("read the current address: {e}"))
            .to_string()
    }

    /// The path and query of the page shown (e.g. `/board?kiosk=wanjia-01`), without the test
    /// server's random port.
    pub async fn current_path(&self) -> String {
        let url = self
            .client
            .current_url()
            .await
            .unwrap_or_else(|e| panic!("read the current address: {e}"));
        match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// The first element that matches `css`, waiting at most [`PAGE_PATIENCE`] for it.
    pub async fn find(&self, css: &str) -> Element {
        match self
            .client
            .wait()
            .at_most(PAGE_PATIENCE)
            .for_element(Locator::Css(css))
            .await
        {
            Ok(element) => element,
            Err(e) => panic!(
                "nothing matches {css:?} on {} within {PAGE_PATIENCE:?}: {e}",
                self.current_url().await
            ),
        }
    }

    /// Whether anything matches `css` on the page now, without waiting.
    pub async fn exists(&self, css: &str) -> bool {
        match self.client.find(Locator::Css(css)).await {
            Ok(_) => true,
            Err(e) if e.is_no_such_element() => false,
            Err(e) => panic!("look for {css:?}: {e}"),
        }
    }

    /// The text of the first element that matches `css`, as a person sees it (rendered, so
    /// hidden parts are left out).
    pub async fn text_of(&self, css: &str) -> String {
        self.find(css)
            .await
            .text()
            .await
            .unwrap_or_else(|e| panic!("read the text of {css:?}: {e}"))
    }

    /// Replaces what the field matched by `css` holds with `value`, typed as keys.
    pub async fn fill(&self, css: &str, value: &str) {
        let field = self.find(css).await;
        field
            .clear()
            .await
            .unwrap_or_else(|e| panic!("clear {css:?}: {e}"));
        field
            .send_keys(value)
            .await
            .unwrap_or_else(|e| panic!("type into {css:?}: {e}"));
    }

    /// Clicks the first element that matches `css`; a click that follows a link or sends a form
    /// returns once the next page has loaded.
    pub async fn click(&self, css: &str) {
        self.find(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css:?}: {e}"));
    }

    /// Sends the form matched by `form_css` with its first submit button, as a person would: the
    /// button's own `name=value` goes with the fields, and the browser's checks of required
    /// fields run.
    pub async fn submit(&self, form_css: &str) {
        let form = self.find(form_css).await;
        let button = form
            .find(Locator::Css(
                "button[type=submit], button:not([type]), input[type=submit]",
            ))
            .await
            .unwrap_or_else(|e| panic!("a submit button in {form_css:?}: {e}"));
        button
            .click()
            .await
            .unwrap_or_else(|e| panic!("press the submit button of {form_css:?}: {e}"));
        // A click returns before the answer has replaced the page on a loaded machine: the
        // sent form's element goes stale once the next page is there.
        let deadline = Instant::now() + PAGE_PATIENCE;
        while form.tag_name().await.is_ok() {
            assert!(
                Instant::now() < deadline,
                "{form_css:?} is still on the page {PAGE_PATIENCE:?} after it was sent"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The value of this browser's cookie `name` for the page shown, if it has one.
    pub async fn cookie(&self, name: &str) -> Option<String> {
        match self.client.get_named_cookie(name).await {
            Ok(cookie) => Some(cookie.value().to_owned()),
            Err(e) if e.is_no_such_cookie() => None,
            Err(e) => panic!("read the cookie {name:?}: {e}"),
        }
    }

    /// A PNG of the viewport ([`WINDOW`] in size), written to `path` and returned.
    pub async fn screenshot_png(&self, path: &Path) -> Vec<u8> {
        let png = self
            .client
            .screenshot()
            .await
            .unwrap_or_else(|e| panic!("take a screenshot: {e}"));
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .unwrap_or_else(|e| panic!("create {}: {e}", parent.display()));
        }
        std::fs::write(path, &png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        png
    }
}

impl Drop for Browser {
    /// Ends the session over plain blocking HTTP, because a `Drop` cannot wait for the async
    /// client, and so that Chromium closes in order; the driver's own drop then makes sure.
    fn drop(&mut self) {
        if let Some(id) = &self.session_id {
            let _ = self
                .driver
                .request("DELETE", &format!("/session/{id}"), QUIT_PATIENCE);
        }
    }
}

/// The session's capabilities: Debian's Chromium, headless, with nothing that reaches out to the
/// network or depends on the machine's state.
fn capabilities(profile: &Path) -> fantoccini::wd::Capabilities {
    let args = [
        "--headless".to_owned(),
        // Root in a container has no user namespaces for Chromium's sandbox.
        "--no-sandbox".to_owned(),
        "--disable-gpu".to_owned(),
        // No background requests to Google's services: the tests' network is loopback only.
        "--disable-quic".to_owned(),
        "--no-first-run".to_owned(),
        "--disable-background-networking".to_owned(),
        "--disable-component-update".to_owned(),
        "--disable-sync".to_owned(),
        // A container's /dev/shm may be small; Chromium then crashes rather than saying so.
        "--disable-dev-shm-usage".to_owned(),
        format!("--user-data-dir={}", profile.display()),
        format!("--window-size={},{}", WINDOW.0, WINDOW.1),
    ];
    let mut capabilities = fantoccini::wd::Capabilities::new();
    capabilities.insert("browserName".into(), "chrome".into());
    capabilities.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({ "binary": CHROMIUM, "args": args }),
    );
    capabilities
}

/// A running chromedriver in a process group of its own, which also holds the Chromium it
/// starts, so that dropping it ends all of them.
struct Driver {
    child: Child,
    port: u16,
    log: Arc<Mutex<String>>,
}

impl Driver {
    fn start() -> Driver {
        let mut child = Command::new(CHROMEDRIVER)
            // Port 0: the system picks a free port and chromedriver prints it, so parallel
            // tests never race for one.
            .arg("--port=0")
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "start {CHROMEDRIVER} (Debian's chromium-driver, which .ci/run installs): {e}"
                )
            });
        let log = Arc::new(Mutex::new(String::new()));
        let (port_tx, port_rx) = mpsc::channel();
        collect(child.stdout.take(), &log, Some(port_tx));
        collect(child.stderr.take(), &log, None);
        let mut driver = Driver {
            child,
            port: 0,
            log,
        };
        driver.port = match port_rx.recv_timeout(DRIVER_START_PATIENCE) {
            Ok(port) => port,
            Err(_) => {
                let exit = driver.exit_note();
                panic!(
                    "{CHROMEDRIVER} did not say its port within {DRIVER_START_PATIENCE:?}{exit}\n\
                     its output:\n{}",
                    driver.log()
                )
            }
        };
        driver.wait_until_ready();
        driver
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn log(&self) -> String {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// ", and exited with …" when chromedriver is no longer running.
    fn exit_note(&mut self) -> String {
        match self.child.try_wait() {
            Ok(Some(status)) => format!(", and exited with {status}"),
            _ => String::new(),
        }
    }

    /// Waits until `/status` says the driver is ready for a session.
    fn wait_until_ready(&mut self) {
        let started = Instant::now();
        let mut last = String::new();
        while started.elapsed() < DRIVER_START_PATIENCE {
            match self.request("GET", "/status", DRIVER_START_PATIENCE) {
                Ok(answer) if answer.contains("\"ready\":true") => return,
                Ok(answer) => last = answer,
                Err(e) => last = e.to_string(),
            }
            std::thread::sleep(STATUS_POLL);
        }
        let exit = self.exit_note();
        panic!(
            "{CHROMEDRIVER} on port {} was not ready within {DRIVER_START_PATIENCE:?}{exit} \
             (last answer to /status: {last})\nits output:\n{}",
            self.port,
            self.log()
        );
    }

    /// One HTTP/1.1 request without a body: the answer's head and body, read as far as its
    /// `Content-Length`, because chromedriver keeps the connection open after answering even
    /// when asked to close it.
    fn request(&self, method: &str, path: &str, patience: Duration) -> std::io::Result<String> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let mut stream = TcpStream::connect_timeout(&addr, patience)?;
        stream.set_read_timeout(Some(patience))?;
        stream.set_write_timeout(Some(patience))?;
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\n\
             Connection: close\r\n\r\n",
            self.port
        )?;
        let mut answer = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let read = stream.read(&mut chunk)?;
            if read == 0 {
                break;
            }
            answer.extend_from_slice(&chunk[..read]);
            if answer_is_complete(&answer) {
                break;
            }
        }
        Ok(String::from_utf8_lossy(&answer).into_owned())
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let group = nix::unistd::Pid::from_raw(
            i32::try_from(self.child.id()).expect("a process id fits in i32"),
        );
        // SIGTERM first so chromedriver closes the browsers it still has; then anything left in
        // the group (a hung Chromium, its helpers) is killed.
        let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGTERM);
        let started = Instant::now();
        while started.elapsed() < QUIT_PATIENCE {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                break;
            }
            std::thread::sleep(STATUS_POLL);
        }
        let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
        let _ = self.child.wait();
    }
}

/// Whether `answer` holds a whole HTTP head and as much body as its `Content-Length` says.
fn answer_is_complete(answer: &[u8]) -> bool {
    let Some(end) = answer.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&answer[..end]);
    let length = head
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse::<usize>().ok())
        .unwrap_or(0);
    answer.len() >= end + 4 + length
}

/// Copies the lines of `pipe` into `log` on a thread of its own; sends the port when the line
/// that announces it passes.
fn collect(
    pipe: Option<impl Read + Send + 'static>,
    log: &Arc<Mutex<String>>,
    port: Option<mpsc::Sender<u16>>,
) {
    let Some(pipe) = pipe else { return };
    let log = log.clone();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if let (Some(sender), Some(rest)) =
                (&port, line.split("started successfully on port ").nth(1))
                && let Ok(number) = rest.trim_end_matches('.').trim().parse()
            {
                sender.send(number).ok();
            }
            let mut log = log.lock().unwrap_or_else(PoisonError::into_inner);
            log.push_str(&line);
            log.push('\n');
        }
    });
}
