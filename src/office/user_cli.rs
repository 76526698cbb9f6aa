//! `concern-office user add NAME --role ROLE --db FILE|URL`: adds a board account. The password is
//! asked twice on a terminal without being shown; from a pipe it is read as two lines, so a
//! maintainer's script can add accounts too.

use std::io::{BufRead, IsTerminal, Read};
use std::process::ExitCode;

use chrono::Utc;
use thiserror::Error;

use super::accounts::{AccountError, Role};
use super::database::{Database, DbLocation};
use super::storage::StorageError;

/// The longest password line read from a pipe: far beyond any passphrase, and a bound on what
/// a wrong file piped in by mistake can make the office read.
const MAX_PASSWORD_BYTES: u64 = 1024;

/// Why an account was not added.
#[derive(Debug, Error)]
pub enum UserCommandError {
    /// Exit 2.
    #[error("unknown role `{0}`: council, grid, handler or viewer")]
    UnknownRole(String),
    /// Exit 2.
    #[error("the two passwords differ; nothing was changed")]
    Mismatch,
    /// Exit 2.
    #[error("no password given: on a pipe, write the password on two lines")]
    NoPassword,
    /// Exit 2 for a bad name or password, 1 for the database.
    #[error("{0}")]
    Account(#[from] AccountError),
    /// Exit 1.
    #[error("{0}")]
    Storage(#[from] StorageError),
    /// Exit 1.
    #[error("cannot read the password: {0}")]
    Read(std::io::Error),
}

impl UserCommandError {
    pub fn exit_code(&self) -> ExitCode {
        match self {
            UserCommandError::Account(AccountError::Storage(_))
            | UserCommandError::Account(AccountError::Hash(_))
            | UserCommandError::Storage(_)
            | UserCommandError::Read(_) => ExitCode::from(1),
            _ => ExitCode::from(2),
        }
    }
}

/// The whole of `concern-office user add`, for the binary.
pub fn run_user_add(name: &str, role: &str, db: &DbLocation) -> ExitCode {
    match add_user(name, role, db) {
        Ok(role) => {
            println!("added {name} ({role})");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("concern-office: {e}");
            e.exit_code()
        }
    }
}

fn add_user(name: &str, role: &str, db: &DbLocation) -> Result<&'static str, UserCommandError> {
    let role = Role::from_code(role).ok_or_else(|| UserCommandError::UnknownRole(role.into()))?;
    let password = read_password_twice(name)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| StorageError::Task(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        let office = Database::open(db).await?;
        office
            .add_account(name, role, &password, Utc::now())
            .await?;
        Ok(role.code())
    })
}

fn read_password_twice(name: &str) -> Result<String, UserCommandError> {
    let (first, second) = if std::io::stdin().is_terminal() {
        let ask = |prompt: &str| rpassword::prompt_password(prompt).map_err(UserCommandError::Read);
        (
            ask(&format!("password for {name}: "))?,
            ask("the same password again: ")?,
        )
    } else {
        let stdin = std::io::stdin();
        let mut lines = stdin.lock();
        (read_line(&mut lines)?, read_line(&mut lines)?)
    };
    if first.is_empty() {
        return Err(UserCommandError::NoPassword);
    }
    if first != second {
        return Err(UserCommandError::Mismatch);
    }
    Ok(first)
}

fn read_line(input: &mut impl BufRead) -> Result<String, UserCommandError> {
    let mut line = String::new();
    input
        .by_ref()
        .take(MAX_PASSWORD_BYTES)
        .read_line(&mut line)
        .map_err(UserCommandError::Read)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}
