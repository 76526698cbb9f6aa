//! Start-up shared by every kiosk command: finding and loading the config, opening the store,
//! and the exit codes of the public command line.

use std::path::PathBuf;
use std::process::ExitCode;

use thiserror::Error;
use tracing::info;

use crate::clock::local_now;
use crate::config::{CONFIG_ENV, Config, ConfigError, ConfigSource, SYSTEM_CONFIG_PATH};
use crate::store::{OpenOutcome, Store, StoreError};

/// Why a command failed; decides the exit code.
#[derive(Debug, Error)]
pub enum CommandError {
    /// Exit 2: the person asked for something that cannot be done as asked.
    #[error("{0}")]
    Usage(String),
    /// Exit 2: the config file is wrong.
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// Exit 1: something failed while doing it.
    #[error("{0}")]
    Runtime(#[from] anyhow::Error),
}

impl From<StoreError> for CommandError {
    fn from(e: StoreError) -> Self {
        CommandError::Runtime(e.into())
    }
}

impl CommandError {
    pub fn exit_code(&self) -> ExitCode {
        match self {
            CommandError::Usage(_) | CommandError::Config(_) => ExitCode::from(2),
            CommandError::Runtime(_) => ExitCode::from(1),
        }
    }
}

/// Reports a command's result the way the command line promises: the message on stderr and
/// exit 0 / 1 / 2.
pub fn finish(result: Result<(), CommandError>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("concern-kiosk: {e:#}");
            e.exit_code()
        }
    }
}

/// The loaded config and where it came from.
pub struct Settings {
    pub config: Config,
    pub source: ConfigSource,
}

impl Settings {
    /// Finds the config (`--config`, `CONCERN_KIOSK_CONFIG`, the appliance's file, the demo),
    /// loads it and logs which one is in use.
    pub fn load(flag: Option<PathBuf>) -> Result<Settings, ConfigError> {
        let env = std::env::var_os(CONFIG_ENV).map(PathBuf::from);
        let source = ConfigSource::find(flag, env, std::path::Path::new(SYSTEM_CONFIG_PATH));
        let config = source.load()?;
        info!("using {source}");
        Ok(Settings { config, source })
    }

    /// Opens the store in the config's data folder.
    pub fn open_store(&self) -> Result<(Store, OpenOutcome), StoreError> {
        Store::open(&self.config.kiosk.data_dir, local_now())
    }
}
