//! `concern-kiosk`: parses the command line and hands off to the library.

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::NaiveDate;
use clap::{Parser, Subcommand};
use concern_kiosk::app::{CommandError, Settings, finish};
use concern_kiosk::cli::{self, SummaryOutput, parse_lang};
use concern_kiosk::concern::{Draft, Lang};
use concern_kiosk::doctor::doctor;
use concern_kiosk::export::ExportFormat;
use concern_kiosk::logging::init_logging;

/// The community-centre concern kiosk.
#[derive(Parser)]
#[command(name = "concern-kiosk", version, about)]
struct Cli {
    /// The config file (else $CONCERN_KIOSK_CONFIG, else /etc/concern-kiosk/kiosk.toml, else
    /// the built-in demo config).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// What to do; `run` (the kiosk screen) when absent.
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// The kiosk's touch screen: a window on a desktop, full screen on the device. On the
    /// built-in demo config the reference office runs beside it (its address and board
    /// account are printed).
    Run,
    /// Render every screen, in both languages, to PNG files without a display.
    Screenshots {
        /// The folder the PNG files go to.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// The screen size in pixels.
        #[arg(long, value_name = "WxH", default_value = "1280x800", value_parser = concern_kiosk::ui::screenshots::parse_size)]
        size: (u32, u32),
    },
    /// File a concern as the touchscreen would; prints the ticket number.
    Submit {
        /// The category code, e.g. sanitation, repairs, noise.
        #[arg(long)]
        category: String,
        /// A preset phrase of the category (its wording in either language, or its number).
        #[arg(long = "phrase", value_name = "TEXT")]
        phrases: Vec<String>,
        /// Free text, at most 500 characters.
        #[arg(long)]
        text: Option<String>,
        /// Building and unit, or a place; at most 60 characters.
        #[arg(long)]
        location: Option<String>,
        /// A mobile (11 digits) or a landline with its area code; anonymous when absent.
        #[arg(long, value_name = "DIGITS")]
        phone: Option<String>,
        /// The resident's language: zh-CN or en (default: the kiosk's first language).
        #[arg(long, value_parser = parse_lang)]
        lang: Option<Lang>,
    },
    /// The concerns of a day, a line each.
    List {
        /// YYYY-MM-DD; today when absent.
        #[arg(long)]
        date: Option<NaiveDate>,
    },
    /// Every field of the concerns, for the office or a spreadsheet.
    Export {
        #[arg(long, value_enum)]
        format: ExportFormat,
        /// The first day, YYYY-MM-DD.
        #[arg(long)]
        since: Option<NaiveDate>,
        /// The last day, YYYY-MM-DD.
        #[arg(long)]
        until: Option<NaiveDate>,
    },
    /// Print a receipt again.
    Reprint {
        /// The ticket number, e.g. A1126-042.
        ticket: String,
    },
    /// Print a test page and report the printer's status.
    PrinterTest,
    /// Upload pending concerns to the office and report what happened.
    Upload {
        /// One round now, then exit: 0 only when nothing is left pending. Without it, upload
        /// on the schedule until Ctrl-C.
        #[arg(long)]
        once: bool,
    },
    /// The staff daily summary: counts, the two lists, what is due, upload status.
    Summary {
        /// YYYY-MM-DD; today when absent.
        #[arg(long)]
        date: Option<NaiveDate>,
        /// Print it on the receipt printer.
        #[arg(long, group = "output")]
        print: bool,
        /// Write the printed sheet as a PNG.
        #[arg(long, value_name = "FILE.png", group = "output")]
        out: Option<PathBuf>,
        /// Write its lines to stdout (the default).
        #[arg(long, group = "output")]
        text: bool,
    },
    /// Check the config, the database, the data folder and the clock; exit 0 only when all pass.
    Doctor,
    /// Speak every resident screen's prompt, in both languages, into WAV files (with the words
    /// beside each in a .txt), for people who review or tune what the kiosk says.
    SpeechSamples {
        /// The folder the WAV files go to.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    finish(dispatch(cli))
}

fn dispatch(cli: Cli) -> Result<(), CommandError> {
    let settings = Settings::load(cli.config)?;
    match cli.command.unwrap_or(Command::Run) {
        Command::Run => concern_kiosk::demo::run(&settings),
        Command::Screenshots { out, size } => {
            concern_kiosk::ui::screenshots::screenshots(&settings.config, &out, size)
        }
        Command::Submit {
            category,
            phrases,
            text,
            location,
            phone,
            lang,
        } => {
            let lang = lang.unwrap_or_else(|| settings.config.default_lang());
            let draft = Draft {
                category,
                phrases,
                text,
                location,
                phone,
                lang,
            };
            cli::submit(&settings, draft)
        }
        Command::List { date } => cli::list(&settings, date),
        Command::Export {
            format,
            since,
            until,
        } => cli::export(&settings, format, since, until),
        Command::Reprint { ticket } => cli::reprint(&settings, &ticket),
        Command::PrinterTest => cli::printer_test(&settings),
        Command::SpeechSamples { out } => cli::speech_samples(&settings, &out),
        Command::Upload { once } => cli::upload(&settings, once),
        Command::Summary {
            date,
            print,
            out,
            text: _,
        } => {
            let output = match (print, out) {
                (true, _) => SummaryOutput::Print,
                (false, Some(path)) => SummaryOutput::Png(path),
                (false, None) => SummaryOutput::Text,
            };
            cli::summary(&settings, date, output)
        }
        Command::Doctor => doctor(&settings),
    }
}
