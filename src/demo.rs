//! The newcomer's whole loop in one command: with the built-in demo config, `concern-kiosk run`
//! also serves the reference office on the demo endpoint (its own data folder, a demo token and
//! a demo board account, printed on the console), so a concern filed on the screen reaches the
//! board in the browser and the answer typed there comes back to the kiosk at the next round.

use std::io::Write;
use std::net::SocketAddr;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

use rand::RngExt;
use thiserror::Error;
use tokio::sync::oneshot;
use tracing::{error, info, warn};

use crate::app::{CommandError, Settings};
use crate::config::{Config, ConfigSource};
use crate::office::{AccountError, Office, Role, ServerLimits, TokenTable, serve_until};

/// The demo office's folder inside the kiosk's data folder: deleting `kiosk-data` starts both
/// afresh.
pub const DEMO_OFFICE_DIR: &str = "office";
/// The board account the console names. A fixed password is fine here: the demo office listens
/// on loopback only, and a newcomer must be able to sign in on the second run too.
pub const DEMO_BOARD_ACCOUNT: &str = "demo";
pub const DEMO_BOARD_PASSWORD: &str = "demo-board-password";
/// A token as long as the office asks of real kiosks' tokens, from letters and digits.
const DEMO_TOKEN_CHARS: usize = 32;
const TOKEN_ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";

/// Why the demo office did not start; the kiosk still runs, uploads wait for an office.
#[derive(Debug, Error)]
pub enum DemoOfficeError {
    #[error("the demo endpoint `{0}` is not an http://127.0.0.1:PORT address")]
    Endpoint(String),
    #[error("cannot prepare {path}: {source}")]
    Files {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open the demo office: {0}")]
    Office(String),
    #[error(
        "{addr} is taken (a `concern-office serve` already running?): the kiosk uploads to whatever listens there"
    )]
    Taken {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// The running demo office; dropping it stops the server.
pub struct DemoOffice {
    /// The office's base address, e.g. `http://127.0.0.1:8787`.
    pub url: String,
    /// The kiosk's token, also in the kiosk's token file.
    pub token: String,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl DemoOffice {
    /// What the newcomer reads on the console.
    pub fn greeting(&self) -> String {
        format!(
            "The demo office is running: open {url}/board/ and sign in as `{DEMO_BOARD_ACCOUNT}` \
             with the password `{DEMO_BOARD_PASSWORD}`.\n\
             The kiosk uploads to it every minute with the demo token `{token}`; an answer \
             written on the board reaches the kiosk's \"Check my concern\" at the next round.",
            url = self.url,
            token = self.token,
        )
    }
}

impl Drop for DemoOffice {
    fn drop(&mut self) {
        // The server finishes the request in flight, then the thread ends.
        drop(self.stop.take());
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            error!("the demo office's thread panicked");
        }
    }
}

/// `concern-kiosk run`: on the built-in demo config, with the demo office beside it.
pub fn run(settings: &Settings) -> Result<(), CommandError> {
    let _office = if settings.source == ConfigSource::Demo {
        match start_demo_office(&settings.config) {
            Ok(office) => {
                println!("{}", office.greeting());
                Some(office)
            }
            Err(e) => {
                warn!("{e}");
                None
            }
        }
    } else {
        None
    };
    crate::ui::run(settings)
}

/// Prepares the demo office's folder (database, tokens file, board account) and the kiosk's
/// token file, and serves the office on the config's endpoint on a thread of its own.
pub fn start_demo_office(config: &Config) -> Result<DemoOffice, DemoOfficeError> {
    let addr = loopback_address(&config.upload.endpoint)?;
    let data_dir = &config.kiosk.data_dir;
    let office_dir = data_dir.join(DEMO_OFFICE_DIR);
    std::fs::create_dir_all(&office_dir).map_err(|source| DemoOfficeError::Files {
        path: office_dir.clone(),
        source,
    })?;
    let token = kiosk_token(&config.upload.token_file)?;
    let tokens_file = office_dir.join("tokens");
    write_private(&tokens_file, &format!("{} {token}\n", config.kiosk.id))?;
    let tokens =
        TokenTable::load(&tokens_file).map_err(|e| DemoOfficeError::Office(e.to_string()))?;
    let office = Office::open(office_dir.join("office.db"), tokens)
        .map_err(|e| DemoOfficeError::Office(e.to_string()))?;
    let added = futures::executor::block_on(office.add_account(
        DEMO_BOARD_ACCOUNT,
        Role::Council,
        DEMO_BOARD_PASSWORD,
    ));
    match added {
        Ok(_) | Err(AccountError::Exists(_)) => {}
        Err(e) => return Err(DemoOfficeError::Office(e.to_string())),
    }
    let listener = std::net::TcpListener::bind(addr)
        .and_then(|listener| listener.set_nonblocking(true).map(|()| listener))
        .map_err(|source| DemoOfficeError::Taken { addr, source })?;
    // Port 0 (tests) is the port the system chose.
    let addr = listener
        .local_addr()
        .map_err(|source| DemoOfficeError::Taken { addr, source })?;
    let (stop, stopped) = oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("demo-office".into())
        .spawn(move || serve_on_own_runtime(listener, office, stopped))
        .map_err(|source| DemoOfficeError::Files {
            path: office_dir,
            source,
        })?;
    info!("demo office on http://{addr}");
    Ok(DemoOffice {
        url: format!("http://{addr}"),
        token,
        stop: Some(stop),
        thread: Some(thread),
    })
}

fn serve_on_own_runtime(
    listener: std::net::TcpListener,
    office: Office,
    stopped: oneshot::Receiver<()>,
) {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            error!(error = %e, "the demo office cannot start its runtime");
            return;
        }
    };
    let served = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let stop = async move {
            // Sent or dropped: either way the kiosk is closing.
            let _ = stopped.await;
        };
        serve_until(listener, office, ServerLimits::default(), stop).await
    });
    if let Err(e) = served {
        error!(error = %e, "the demo office stopped");
    }
}

/// The socket address of an `http://127.0.0.1:PORT` endpoint: the demo office listens on
/// loopback only, so its fixed board password never leaves the machine.
fn loopback_address(endpoint: &str) -> Result<SocketAddr, DemoOfficeError> {
    endpoint
        .strip_prefix("http://")
        .map(|rest| rest.trim_end_matches('/'))
        .and_then(|host_port| host_port.parse::<SocketAddr>().ok())
        .filter(|addr| addr.ip().is_loopback())
        .ok_or_else(|| DemoOfficeError::Endpoint(endpoint.to_string()))
}

/// The kiosk's token: the one in its token file, or a new random one written there.
fn kiosk_token(token_file: &Path) -> Result<String, DemoOfficeError> {
    let files_error = |source| DemoOfficeError::Files {
        path: token_file.to_path_buf(),
        source,
    };
    match std::fs::read_to_string(token_file) {
        Ok(text) if !text.trim().is_empty() => return Ok(text.trim().to_string()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(files_error(e)),
    }
    if let Some(folder) = token_file.parent() {
        std::fs::create_dir_all(folder).map_err(files_error)?;
    }
    let mut rng = rand::rng();
    let token: String = (0..DEMO_TOKEN_CHARS)
        .map(|_| char::from(TOKEN_ALPHABET[rng.random_range(0..TOKEN_ALPHABET.len())]))
        .collect();
    write_private(token_file, &format!("{token}\n"))?;
    Ok(token)
}

/// Writes a file only its owner may read (mode 0600), as both sides demand of token files.
fn write_private(path: &Path, text: &str) -> Result<(), DemoOfficeError> {
    let files_error = |source| DemoOfficeError::Files {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(files_error)?;
    file.write_all(text.as_bytes()).map_err(files_error)?;
    file.sync_all().map_err(files_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_office_listens_on_loopback_only() {
        assert_eq!(
            loopback_address("http://127.0.0.1:8787/").unwrap(),
            "127.0.0.1:8787".parse().unwrap()
        );
        for refused in [
            "https://127.0.0.1:8787",
            "http://0.0.0.0:8787",
            "http://office.example.org:8787",
            "http://127.0.0.1",
        ] {
            assert!(loopback_address(refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn the_kiosk_token_is_made_once_and_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("kiosk-data/office-token");
        let first = kiosk_token(&file).unwrap();
        assert_eq!(first.len(), DEMO_TOKEN_CHARS);
        assert_eq!(kiosk_token(&file).unwrap(), first);
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
