//! `concern-office`: parses the command line and hands off to `concern_kiosk::office`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use concern_kiosk::office::{LimitFlags, ServeOptions, run_serve, run_user_add};

/// The community office's reference receiver for concern-kiosk uploads.
#[derive(Parser)]
#[command(name = "concern-office", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Receive batches from the kiosks and serve the CSV export until SIGTERM or Ctrl-C.
    Serve {
        /// The address to listen on, e.g. 127.0.0.1:8787 or 0.0.0.0:8787.
        #[arg(long, value_name = "ADDR")]
        listen: SocketAddr,
        /// The SQLite database file; created when missing.
        #[arg(long, value_name = "FILE")]
        db: PathBuf,
        /// The tokens file: one `KIOSK_ID TOKEN` a line (`*` for office staff); must be
        /// private (`chmod 600`).
        #[arg(long, value_name = "FILE")]
        tokens: PathBuf,
        /// The server's limits; docs/upload-api.md says why each default is what it is.
        #[command(flatten)]
        limits: LimitFlags,
    },
    /// Board accounts.
    User {
        #[command(subcommand)]
        action: UserAction,
    },
}

#[derive(Subcommand)]
enum UserAction {
    /// Adds an account; the password is asked twice (two lines on standard input when it is
    /// not a terminal).
    Add {
        /// The name the person signs in with.
        name: String,
        /// council (accept, re-colour, move, assign, tick off), grid (assign, supervise),
        /// handler (answer what is assigned to them) or viewer (read, without phone numbers).
        #[arg(long)]
        role: String,
        /// The office's SQLite database file; created when missing.
        #[arg(long, value_name = "FILE")]
        db: PathBuf,
    },
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Serve {
            listen,
            db,
            tokens,
            limits,
        } => run_serve(ServeOptions {
            listen,
            db,
            tokens,
            limits,
        }),
        Command::User {
            action: UserAction::Add { name, role, db },
        } => run_user_add(&name, &role, &db),
    }
}
