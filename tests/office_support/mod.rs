//! What the office's integration tests share: a real office on 127.0.0.1 with its own SQLite
//! file and tokens, the kiosks' concerns and batches as the kiosk would send them, and readers
//! for what comes back (error text, CSV cells).

#![allow(dead_code)] // each test file uses its own part of this module

use std::ffi::OsStr;
use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;

use chrono::{DateTime, Duration, NaiveDate};
use concern_kiosk::concern::{Bilingual, CheckCode, Colour, Lang, ListKind, TrackingCode};
use concern_kiosk::office::cases::Action;
use concern_kiosk::office::{Office, TokenTable, serve};
use concern_kiosk::protocol::wire::{Batch, BatchReply, ErrorReply, SCHEMA, WireConcern};
use flate2::Compression;
use flate2::write::GzEncoder;
use reqwest::StatusCode;
use uuid::Uuid;

mod test_db;
pub use test_db::TestDb;

pub const KIOSK_A: &str = "wanjia-01";
pub const KIOSK_B: &str = "wanjia-02";
pub const TOKEN_A: &str = "token-of-wanjia-01-5f2c9a";
pub const TOKEN_B: &str = "token-of-wanjia-02-81d07e";
pub const STAFF_TOKEN: &str = "office-staff-token-3b6e11";
pub const TOKENS_FILE: &str = "\
# the kiosks of Wanjia Xingcheng
wanjia-01  token-of-wanjia-01-5f2c9a
wanjia-02  token-of-wanjia-02-81d07e

# office staff: exports only
*          office-staff-token-3b6e11
";

/// A running office in its own temporary folder, on its own database (see [`TestDb`]).
pub struct TestOffice {
    pub dir: tempfile::TempDir,
    pub db: TestDb,
    pub addr: SocketAddr,
    pub http: reqwest::Client,
}

impl TestOffice {
    pub async fn start() -> TestOffice {
        let dir = tempfile::tempdir().expect("temporary folder");
        let db = TestDb::new(dir.path());
        let addr = start_office_on(&db).await;
        TestOffice {
            dir,
            db,
            addr,
            http: client(),
        }
    }

    /// The SQLite file, for the tests of the file itself (`office_files.rs`).
    pub fn db_file(&self) -> &Path {
        match &self.db {
            TestDb::Sqlite(path) => path,
            TestDb::Postgres(_) => panic!("this test is about the SQLite file"),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Posts `body` as the kiosk does (gzip, Idempotency-Key), with `token` when given.
    pub async fn post_raw(
        &self,
        token: Option<&str>,
        key: Option<&str>,
        encoding: Option<&str>,
        body: Vec<u8>,
    ) -> reqwest::Response {
        let mut request = self
            .http
            .post(self.url("/v1/batches"))
            .header("Content-Type", "application/json")
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        if let Some(encoding) = encoding {
            request = request.header("Content-Encoding", encoding);
        }
        request.send().await.expect("the office answers")
    }

    pub async fn post_batch(&self, token: &str, batch: &Batch) -> reqwest::Response {
        let json = serde_json::to_vec(batch).unwrap();
        self.post_raw(
            Some(token),
            Some(&batch.batch_id.to_string()),
            Some("gzip"),
            gzip(&json),
        )
        .await
    }

    pub async fn upload(&self, token: &str, batch: &Batch) -> BatchReply {
        let response = self.post_batch(token, batch).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.expect("a BatchReply")
    }

    pub async fn export(&self, token: Option<&str>, query: &str) -> reqwest::Response {
        let mut request = self.http.get(self.url(&format!("/v1/export.csv{query}")));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("the office answers")
    }

    pub fn count(&self, sql: &str) -> i64 {
        self.db.count(sql)
    }
}

/// The office on `db` with the test tokens, not yet serving.
pub async fn office_on(db: &TestDb) -> Office {
    let tokens = TokenTable::parse(TOKENS_FILE, "tokens").expect("the test tokens parse");
    Office::connect(&db.location(), tokens)
        .await
        .expect("the office database opens")
}

pub async fn start_office_on(db: &TestDb) -> SocketAddr {
    let office = office_on(db).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(serve(listener, office));
    addr
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// A noise complaint (demands list) with a phone number, in Chinese.
pub fn noise_concern(minute: i64) -> WireConcern {
    let created_at = DateTime::parse_from_rfc3339("2026-11-26T09:00:00+08:00").unwrap()
        + Duration::minutes(minute);
    WireConcern {
        id: Uuid::now_v7(),
        ticket: format!("A1126-{:03}", minute + 1),
        created_at,
        category: "noise".into(),
        category_label: Bilingual {
            zh: "噪音扰民".into(),
            en: "Noise".into(),
        },
        list: ListKind::Demands,
        colour: Colour::Green,
        due_date: NaiveDate::from_ymd_opt(2026, 12, 3).unwrap(),
        lang: Lang::ZhCn,
        phrases: vec![
            Bilingual {
                zh: "夜间装修".into(),
                en: "Building work at night".into(),
            },
            Bilingual {
                zh: "广场舞音乐太响".into(),
                en: "Square-dance music too loud".into(),
            },
        ],
        text: Some("楼上每天晚上十点以后还在电钻, \"老人睡不着\"".into()),
        location: Some("3幢2单元".into()),
        phone: Some("13812345678".into()),
        tracking_code: Some(TrackingCode::random()),
        check_code: Some(CheckCode::random()),
    }
}

/// A dispute between neighbours (conflicts list), anonymous, in English.
pub fn neighbour_concern(minute: i64) -> WireConcern {
    WireConcern {
        category: "neighbours".into(),
        category_label: Bilingual {
            zh: "邻里纠纷".into(),
            en: "Neighbours".into(),
        },
        list: ListKind::Conflicts,
        colour: Colour::Orange,
        due_date: NaiveDate::from_ymd_opt(2026, 12, 26).unwrap(),
        lang: Lang::En,
        phrases: vec![Bilingual {
            zh: "楼道堆放杂物".into(),
            en: "Things piled in the stairwell".into(),
        }],
        text: None,
        location: None,
        phone: None,
        ..noise_concern(minute)
    }
}

pub fn batch(kiosk_id: &str, concerns: Vec<WireConcern>) -> Batch {
    Batch {
        schema: SCHEMA.into(),
        kiosk_id: kiosk_id.into(),
        batch_id: Uuid::now_v7(),
        sent_at: DateTime::parse_from_rfc3339("2026-11-26T17:30:00+08:00").unwrap(),
        concerns,
        ratings: Vec::new(),
    }
}

/// The council accepts the case and assigns it to the property company, which answers `reply`.
pub async fn answer_case(office: &Office, id: &str, reply: &str) {
    let now = office.now();
    let assign = Action::Assign {
        handler: "wuye".into(),
    };
    let answer = Action::Answer {
        reply: reply.into(),
    };
    for (action, actor) in [(Action::Accept, "li"), (assign, "li"), (answer, "wuye")] {
        office.db().act(id, action, actor, "", now).await.unwrap();
    }
}

pub fn ids(concerns: &[WireConcern]) -> Vec<Uuid> {
    concerns.iter().map(|c| c.id).collect()
}

pub async fn error_text(response: reqwest::Response) -> String {
    response
        .json::<ErrorReply>()
        .await
        .expect("every refusal is an ErrorReply")
        .error
}

/// The CSV as rows of cells, after checking and removing the BOM.
pub fn csv_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    let text = std::str::from_utf8(bytes).expect("the export is UTF-8");
    let text = text
        .strip_prefix('\u{feff}')
        .expect("the export starts with a BOM");
    csv::Reader::from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

/// How long a test waits for `concern-office` to exit on its own before it calls the wait a
/// failure. Far beyond any deadline the tests configure, so it only ends a hung office.
pub const EXIT_PATIENCE: std::time::Duration = std::time::Duration::from_secs(60);

/// Waits for `child` to exit, at most [`EXIT_PATIENCE`]; kills it if it has not, and then
/// answers `None`.
pub fn wait_or_kill(child: &mut std::process::Child) -> Option<std::process::ExitStatus> {
    let started = std::time::Instant::now();
    while started.elapsed() < EXIT_PATIENCE {
        if let Some(status) = child.try_wait().expect("poll the office process") {
            return Some(status);
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.kill().ok();
    child.wait().ok();
    None
}

/// Runs `concern-office serve` on a free port with `db` and `tokens` and the extra `args`,
/// waits for it to exit (see [`wait_or_kill`]) and gives its exit code and stderr; `None` as
/// the code means it was still serving.
pub fn serve_and_wait(db: &OsStr, tokens: &Path, args: &[&str]) -> (Option<i32>, String) {
    use std::io::Read;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_concern-office"))
        .args(["serve", "--listen", "127.0.0.1:0", "--db"])
        .arg(db)
        .arg("--tokens")
        .arg(tokens)
        .args(args)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start concern-office");
    let status = wait_or_kill(&mut child);
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        pipe.read_to_string(&mut stderr).ok();
    }
    (status.and_then(|s| s.code()), stderr)
}

/// A real `concern-office serve` process on a free port of 127.0.0.1, with its own database
/// and a private tokens file ([`TOKENS_FILE`]) in a temporary folder. Killed when dropped.
pub struct RunningOffice {
    pub child: std::process::Child,
    pub addr: SocketAddr,
    log: std::sync::Arc<std::sync::Mutex<String>>,
    _dir: tempfile::TempDir,
}

impl RunningOffice {
    /// Starts the office with `args` after `serve --listen --db --tokens`.
    pub fn start(args: &[&str]) -> RunningOffice {
        RunningOffice::start_in(None, args)
    }

    /// Starts the office allowed at most `open_files` file descriptors (`ulimit -n`).
    pub fn start_with_open_files(open_files: u32, args: &[&str]) -> RunningOffice {
        RunningOffice::start_in(Some(open_files), args)
    }

    /// Starts the office on `db`, which another office may share.
    pub fn start_on(db: &TestDb, args: &[&str]) -> RunningOffice {
        RunningOffice::start_with_tokens(db, TOKENS_FILE, args)
    }

    /// Starts the office on `db` with the tokens file `tokens`.
    pub fn start_with_tokens(db: &TestDb, tokens: &str, args: &[&str]) -> RunningOffice {
        let dir = tempfile::tempdir().expect("temporary folder");
        RunningOffice::start_in_dir(dir, db, tokens, None, args)
    }

    fn start_in(open_files: Option<u32>, args: &[&str]) -> RunningOffice {
        let dir = tempfile::tempdir().expect("temporary folder");
        let db = TestDb::new(dir.path());
        RunningOffice::start_in_dir(dir, &db, TOKENS_FILE, open_files, args)
    }

    fn start_in_dir(
        dir: tempfile::TempDir,
        db: &TestDb,
        tokens_file: &str,
        open_files: Option<u32>,
        args: &[&str],
    ) -> RunningOffice {
        use std::io::BufRead;
        use std::os::unix::fs::PermissionsExt;
        let tokens = dir.path().join("tokens");
        std::fs::write(&tokens, tokens_file).expect("write the tokens");
        std::fs::set_permissions(&tokens, std::fs::Permissions::from_mode(0o600))
            .expect("make the tokens private");
        let office = env!("CARGO_BIN_EXE_concern-office");
        let mut command = match open_files {
            None => std::process::Command::new(office),
            Some(limit) => {
                let mut shell = std::process::Command::new("sh");
                shell
                    .arg("-c")
                    .arg(format!("ulimit -n {limit} && exec \"$0\" \"$@\""))
                    .arg(office);
                shell
            }
        };
        let mut child = command
            .args(["serve", "--listen", "127.0.0.1:0", "--db"])
            .arg(db.arg())
            .arg("--tokens")
            .arg(&tokens)
            .args(args)
            .env("RUST_LOG", "info")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start concern-office");
        let stderr = child.stderr.take().expect("the office's stderr");
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    let addr = rest.split(',').next().unwrap_or_default().to_owned();
                    addr_tx.send(addr).ok();
                }
                let mut log = sink
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                log.push_str(&line);
                log.push('\n');
            }
        });
        let addr = match addr_rx.recv_timeout(EXIT_PATIENCE) {
            Ok(addr) => addr.parse().expect("the office's address"),
            Err(_) => {
                child.kill().ok();
                panic!(
                    "concern-office did not start: {}",
                    log.lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                );
            }
        };
        RunningOffice {
            child,
            addr,
            log,
            _dir: dir,
        }
    }

    /// Everything the office wrote to stderr so far.
    pub fn log(&self) -> String {
        self.log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Whether the office writes `needle` to stderr, waiting at most [`EXIT_PATIENCE`] for the
    /// line to be read from its pipe.
    pub fn logs(&self, needle: &str) -> bool {
        let started = std::time::Instant::now();
        while started.elapsed() < EXIT_PATIENCE {
            if self.log().contains(needle) {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        false
    }

    /// Sends SIGTERM, as systemd does to stop the service, and waits (see [`wait_or_kill`]).
    pub fn terminate(&mut self) -> Option<std::process::ExitStatus> {
        let pid = nix::unistd::Pid::from_raw(
            i32::try_from(self.child.id()).expect("a process id fits in i32"),
        );
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("send SIGTERM");
        wait_or_kill(&mut self.child)
    }

    /// A line of the office's `/proc/PID/status` in KiB, e.g. `VmHWM` (the peak resident
    /// memory) or `VmRSS`.
    pub fn memory_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("read the office's /proc status");
        status
            .lines()
            .find_map(|line| line.strip_prefix(&format!("{field}:")))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no {field} in /proc status"))
    }
}

impl Drop for RunningOffice {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// Opens a connection to `addr` and sends the start of a request that never ends, as a
/// "slow loris" does.
pub fn half_sent_request(addr: SocketAddr) -> std::net::TcpStream {
    let mut stream = std::net::TcpStream::connect(addr).expect("connect to the office");
    stream
        .write_all(b"POST /v1/batches HTTP/1.1\r\nHost: office\r\nContent-Type: appl")
        .expect("send half a request");
    stream
}

/// Whether the office has closed `stream`: reads until the end, waiting at most
/// [`EXIT_PATIENCE`] for it.
pub fn closed_by_office(stream: &mut std::net::TcpStream) -> bool {
    use std::io::Read;
    stream
        .set_read_timeout(Some(EXIT_PATIENCE))
        .expect("set a read timeout");
    let mut buffer = [0u8; 1024];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
}

/// `GET /v1/health` on a connection of its own, as raw HTTP/1.1: the whole answer, or the
/// reason there was none within [`EXIT_PATIENCE`].
pub fn health_over_raw_http(addr: SocketAddr) -> Result<String, String> {
    use std::io::Read;
    let mut stream = std::net::TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
    stream
        .set_read_timeout(Some(EXIT_PATIENCE))
        .map_err(|e| e.to_string())?;
    stream
        .write_all(b"GET /v1/health HTTP/1.1\r\nHost: office\r\nConnection: close\r\n\r\n")
        .map_err(|e| format!("send: {e}"))?;
    let mut answer = Vec::new();
    stream
        .read_to_end(&mut answer)
        .map_err(|e| format!("read: {e}"))?;
    Ok(String::from_utf8_lossy(&answer).into_owned())
}
