//! `concern-office`: parses the command line and hands off to `concern_kiosk::office`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use concern_kiosk::office::cases::DEFAULT_FOLLOW_UP_DAYS;
use concern_kiosk::office::{
    BoardSettings, DEFAULT_COMMUNITY, DEFAULT_HOTLINE, DEFAULT_POOL_SIZE, DEFAULT_RETENTION_DAYS,
    DbLocation, LimitFlags, MAX_POOL_SIZE, ServeOptions, parse_hotline, run_migrate, run_serve,
    run_user_add,
};

/// The community office's reference receiver for concern-kiosk uploads.
#[derive(Parser)]
#[command(name = "concern-office", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Receive batches from the kiosks, serve the case board, the CSV export, the kiosks'
    /// updates and the residents' status pages until SIGTERM or Ctrl-C.
    Serve {
        /// The address to listen on, e.g. 127.0.0.1:8787 or 0.0.0.0:8787.
        #[arg(long, value_name = "ADDR")]
        listen: SocketAddr,
        /// The database: an SQLite file (created when missing), or a PostgreSQL server as
        /// `postgres://USER:PASSWORD@HOST:PORT/DBNAME` (docs/office.md, "A street
        /// office or a district: PostgreSQL").
        #[arg(long, value_name = "FILE|URL", value_parser = parse_db)]
        db: DbLocation,
        /// Connections this office keeps to PostgreSQL at most (1 to 256); ignored for SQLite.
        #[arg(long, default_value_t = DEFAULT_POOL_SIZE, value_parser = parse_pool_size)]
        pool_size: usize,
        /// The tokens file: one `KIOSK_ID TOKEN` a line (`*` for office staff); must be
        /// private (`chmod 600`).
        #[arg(long, value_name = "FILE")]
        tokens: PathBuf,
        /// The server's limits; docs/upload-api.md says why each default is what it is.
        #[command(flatten)]
        limits: LimitFlags,
        /// The community's name, printed at the top of the two lists.
        #[arg(long, default_value = DEFAULT_COMMUNITY)]
        community: String,
        /// Days between two follow-ups of a red case (1 to 365).
        #[arg(long, default_value_t = DEFAULT_FOLLOW_UP_DAYS, value_parser = clap::value_parser!(u32).range(1..=365))]
        follow_up_days: u32,
        /// Days after a case is ticked off before its phone number and free text are erased
        /// (1 to 3650).
        #[arg(long, default_value_t = DEFAULT_RETENTION_DAYS, value_parser = clap::value_parser!(u32).range(1..=3650))]
        retention_days: u32,
        /// The phone number the resident's status page (and its "not found" page) gives for
        /// questions: digits, spaces, hyphens and +.
        #[arg(long, default_value = DEFAULT_HOTLINE, value_parser = parse_hotline)]
        hotline: String,
    },
    /// Moves an office's whole SQLite database into an empty PostgreSQL database (or another
    /// empty one), checking each table's rows and SHA-256 before it commits.
    Migrate {
        /// The office's SQLite file (`/var/lib/concern-office/office.db`); stop the office
        /// first.
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
        /// The empty database to move it into: a `postgres://` URL (or a new SQLite file).
        #[arg(long, value_name = "URL|FILE", value_parser = parse_db)]
        to: DbLocation,
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
        /// The office's database: an SQLite file (created when missing) or a `postgres://` URL.
        #[arg(long, value_name = "FILE|URL", value_parser = parse_db)]
        db: DbLocation,
    },
}

fn parse_db(text: &str) -> Result<DbLocation, String> {
    if text.trim().is_empty() {
        return Err("give a file or a postgres:// URL".into());
    }
    Ok(DbLocation::parse(text))
}

fn parse_pool_size(text: &str) -> Result<usize, String> {
    text.parse::<usize>()
        .ok()
        .filter(|n| (1..=MAX_POOL_SIZE).contains(n))
        .ok_or_else(|| format!("a pool size is a whole number from 1 to {MAX_POOL_SIZE}"))
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Serve {
            listen,
            db,
            pool_size,
            tokens,
            limits,
            community,
            follow_up_days,
            retention_days,
            hotline,
        } => run_serve(ServeOptions {
            listen,
            db: db.with_pool_size(pool_size),
            tokens,
            limits,
            board: BoardSettings {
                community,
                follow_up_days,
                retention_days,
                hotline,
            },
        }),
        Command::Migrate { from, to } => run_migrate(&from, &to),
        Command::User {
            action: UserAction::Add { name, role, db },
        } => run_user_add(&name, &role, &db),
    }
}
