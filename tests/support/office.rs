//! A real `concern-office` for the upload tests: on 127.0.0.1, a free port, its own SQLite
//! file, on a runtime of its own so that tests of any kind can use it.

use std::net::SocketAddr;
use std::path::PathBuf;

use concern_kiosk::office::{Office, TokenTable, serve};

/// The kiosk id and token the reference config uploads with.
pub const KIOSK_ID: &str = "wanjia-01";
pub const KIOSK_TOKEN: &str = "wanjia-01-test-token-0123456789";

pub struct TestOffice {
    pub addr: SocketAddr,
    pub db: PathBuf,
    /// The office the server runs, for what the board's staff do (accounts, actions).
    pub office: Office,
    _dir: tempfile::TempDir,
    _runtime: tokio::runtime::Runtime,
}

impl TestOffice {
    pub fn start() -> TestOffice {
        TestOffice::start_for(KIOSK_TOKEN)
    }

    /// An office that knows the reference kiosk by `token`.
    pub fn start_for(token: &str) -> TestOffice {
        let dir = tempfile::tempdir().expect("temporary folder");
        let db = dir.path().join("office.db");
        let tokens = TokenTable::parse(&format!("{KIOSK_ID} {token}\n"), "tokens")
            .expect("the test tokens parse");
        let office = Office::open(&db, tokens).expect("open the office database");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("the office's runtime");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind the office");
        let addr = listener.local_addr().expect("the office's address");
        runtime.spawn(serve(listener, office.clone()));
        TestOffice {
            addr,
            db,
            office,
            _dir: dir,
            _runtime: runtime,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// (rows, distinct concern ids) in the office's database.
    pub fn concern_counts(&self) -> (i64, i64) {
        let db = rusqlite::Connection::open(&self.db).expect("open the office database");
        db.query_row(
            "SELECT count(*), count(DISTINCT id) FROM concerns",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("count the office's concerns")
    }

    /// Every concern id the office holds.
    pub fn concern_ids(&self) -> Vec<String> {
        let db = rusqlite::Connection::open(&self.db).expect("open the office database");
        let mut statement = db
            .prepare("SELECT id FROM concerns ORDER BY id")
            .expect("query");
        statement
            .query_map([], |r| r.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("read the ids")
    }
}
