//! `concern-office serve`: loads the tokens, opens the database, binds the address, serves
//! until SIGTERM or Ctrl-C, and maps what went wrong to the command line's exit codes.

use std::net::SocketAddr;
use std::path::PathBuf;

use super::database::DbLocation;
use std::process::ExitCode;

use thiserror::Error;
use tokio::net::TcpListener;
use tracing::info;

use super::limits::{LimitError, LimitFlags};
use super::server::serve_until;
use super::state::{BoardSettings, Office};
use super::storage::StorageError;
use super::tokens::{TokenFileError, TokenTable};

/// What `concern-office serve` was asked to do.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub listen: SocketAddr,
    /// An SQLite file or a PostgreSQL server.
    pub db: DbLocation,
    pub tokens: PathBuf,
    /// The server's limits, as given on the command line.
    pub limits: LimitFlags,
    /// The community, the red cases' follow-up and the retention, for the case board.
    pub board: BoardSettings,
}

/// Why `concern-office` stopped.
#[derive(Debug, Error)]
pub enum OfficeCommandError {
    /// Exit 2: a limit is out of its range; the message names the flag.
    #[error("{0}")]
    Limits(#[from] LimitError),
    /// Exit 2: the tokens file is wrong; the message names the file and line.
    #[error("{0}")]
    Tokens(#[from] TokenFileError),
    /// Exit 1.
    #[error("{0}")]
    Storage(#[from] StorageError),
    /// Exit 1.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    /// Exit 1.
    #[error("the server failed: {0}")]
    Serve(std::io::Error),
}

impl OfficeCommandError {
    pub fn exit_code(&self) -> ExitCode {
        match self {
            OfficeCommandError::Limits(_) | OfficeCommandError::Tokens(_) => ExitCode::from(2),
            OfficeCommandError::Storage(_)
            | OfficeCommandError::Bind { .. }
            | OfficeCommandError::Serve(_) => ExitCode::from(1),
        }
    }
}

/// The whole of `concern-office serve`, for the binary: logging, a runtime, the server, and
/// the message and exit code when it fails.
pub fn run_serve(options: ServeOptions) -> ExitCode {
    match on_runtime(serve_command(options)) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            eprintln!("concern-office: {e}");
            e.exit_code()
        }
        Err(code) => code,
    }
}

/// Runs a command of the binary to its end on a runtime of its own, with logging; exit 1 when
/// there cannot be one.
pub(super) fn on_runtime<F: std::future::Future>(command: F) -> Result<F::Output, ExitCode> {
    crate::logging::init_logging();
    match tokio::runtime::Runtime::new() {
        Ok(runtime) => Ok(runtime.block_on(command)),
        Err(e) => {
            eprintln!("concern-office: cannot start the async runtime: {e}");
            Err(ExitCode::from(1))
        }
    }
}

/// Serves until SIGTERM or Ctrl-C; requests in flight are finished first, within the
/// shutdown deadline.
pub async fn serve_command(options: ServeOptions) -> Result<(), OfficeCommandError> {
    let limits = options.limits.limits()?;
    let tokens = TokenTable::load(&options.tokens)?;
    info!(
        "{}: tokens for {} kiosk(s) ({}) and {} office-staff token(s)",
        options.tokens.display(),
        tokens.kiosk_ids().len(),
        tokens.kiosk_ids().join(", "),
        tokens.staff_token_count()
    );
    let office = Office::connect(&options.db, tokens)
        .await?
        .with_board_settings(options.board.clone());
    tokio::spawn(erase_personal_data_daily(office.clone()));
    let listener =
        TcpListener::bind(options.listen)
            .await
            .map_err(|source| OfficeCommandError::Bind {
                addr: options.listen,
                source,
            })?;
    let addr = listener
        .local_addr()
        .map_err(|source| OfficeCommandError::Bind {
            addr: options.listen,
            source,
        })?;
    let stop = stop_signal();
    info!(
        "concern-office listening on http://{addr}, storing into {}",
        options.db
    );
    serve_until(listener, office, limits, stop)
        .await
        .map_err(OfficeCommandError::Serve)?;
    info!("concern-office stopped");
    Ok(())
}

/// How often the office looks for personal data past its retention: daily is exact enough for a
/// rule counted in days, and the first look is at the start.
const RETENTION_SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

async fn erase_personal_data_daily(office: Office) {
    loop {
        match office.erase_personal_data().await {
            Ok(0) => {}
            Ok(erased) => info!(
                erased,
                "phone numbers and free text erased past the retention"
            ),
            Err(e) => {
                tracing::error!(error = %e, "cannot erase personal data past the retention")
            }
        }
        tokio::time::sleep(RETENTION_SWEEP_EVERY).await;
    }
}

/// Completes on Ctrl-C or (on Unix) SIGTERM, which is how systemd stops a service. The signals
/// are taken over here, before the office says it listens: a future that registered them only
/// when first polled left a moment, while the server's loop had not yet waited on it, in which
/// a SIGTERM still killed the process outright instead of stopping it (seen once in CI).
fn stop_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let taken = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let wait = |stream: std::io::Result<tokio::signal::unix::Signal>,
                        name: &'static str| async move {
                match stream {
                    Ok(mut stream) => {
                        stream.recv().await;
                    }
                    Err(e) => {
                        tracing::warn!("cannot listen for {name}: {e}");
                        std::future::pending::<()>().await;
                    }
                }
            };
            let (interrupt, terminate) = taken;
            tokio::select! {
                () = wait(interrupt, "Ctrl-C") => info!("Ctrl-C: finishing the requests in flight"),
                () = wait(terminate, "SIGTERM") => info!("SIGTERM: finishing the requests in flight"),
            }
        }
        #[cfg(not(unix))]
        {
            if let Err(e) = tokio::signal::ctrl_c().await {
                tracing::warn!("cannot listen for Ctrl-C: {e}");
                std::future::pending::<()>().await;
            }
            info!("Ctrl-C: finishing the requests in flight");
        }
    }
}
