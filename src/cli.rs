//! The maintenance commands behind `concern-kiosk submit | list | export | reprint |
//! printer-test | upload | summary`: each takes the
//! loaded settings and writes its answer to stdout (what scripts read) and its messages to
//! stderr.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use chrono::NaiveDate;

use crate::app::{CommandError, Settings};
use crate::clock::{Clock, SystemClock, local_now};
use crate::concern::{Draft, Lang};
use crate::export::{ExportFormat, write_export};
use crate::paper;
use crate::printer::print_queue::{PRINT_WAIT_LIMIT, PrintWait, print_and_wait};
use crate::printer::printer_lock::PrinterLock;
use crate::printer::{open_printer, receipt_line_time, slow_receipt_warning};
use crate::speech::{ESPEAK_PROGRAM, Espeak, every_screen};
use crate::store::{ConcernRecord, JobKind, JobState};
use crate::summary::{DailySummary, summary_sheet};
use crate::supervisor::upload_until;
use crate::upload::schedule::Schedule;
use crate::upload::uploader::RoundMode;
use crate::upload::uploader_from_config;

/// Files a concern exactly as the touchscreen would, for staff entering one taken by phone or
/// on paper. Prints the ticket number on stdout once the concern is committed.
pub fn submit(settings: &Settings, draft: Draft) -> Result<(), CommandError> {
    let config = &settings.config;
    let concern = draft
        .validate(config, local_now())
        .map_err(|e| CommandError::Usage(e.to_string()))?;
    let (mut store, _) = settings.open_store()?;
    let concern = store.file_concern(concern, &config.kiosk.ticket_prefix)?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", concern.ticket)
        .and_then(|()| stdout.flush())
        .context("cannot write the ticket number to stdout")?;
    let details = &concern.details;
    eprintln!(
        "filed {} ({}, {}, due {})",
        concern.ticket,
        details.category,
        details.colour.code(),
        details.due_date
    );
    // The concern is filed whatever the printer does next: a fault only delays the receipt.
    let job = store.receipt_job_for(&details.id.to_string())?;
    drop(store);
    if let Some(job) = job {
        match print_and_wait(config, job, PRINT_WAIT_LIMIT, Arc::new(SystemClock)) {
            Ok(wait) => report_print(&format!("receipt {}", concern.ticket), &wait),
            Err(e) => eprintln!("the receipt of {} stays queued: {e}", concern.ticket),
        }
    }
    Ok(())
}

/// Prints a receipt again (a resident lost theirs). Exit 1 when it did not come out in time:
/// it stays queued and prints when the printer is ready.
pub fn reprint(settings: &Settings, ticket: &str) -> Result<(), CommandError> {
    let (store, _) = settings.open_store()?;
    let (job, ticket) = store
        .queue_reprint(ticket, "cli", local_now())?
        .ok_or_else(|| {
            CommandError::Usage(format!("no concern has the ticket number `{ticket}`"))
        })?;
    drop(store);
    let wait = print_and_wait(
        &settings.config,
        job,
        PRINT_WAIT_LIMIT,
        Arc::new(SystemClock),
    )?;
    report_print(&format!("receipt {ticket}"), &wait);
    printed_or_failure(wait)
}

/// Prints the test page and reports the printer's status.
pub fn printer_test(settings: &Settings) -> Result<(), CommandError> {
    let config = &settings.config;
    let (store, _) = settings.open_store()?;
    let job = store.enqueue_print(&JobKind::TestPage, local_now())?;
    drop(store);
    let started = Instant::now();
    let wait = print_and_wait(config, job, PRINT_WAIT_LIMIT, Arc::new(SystemClock))?;
    let took = started.elapsed();
    let mut printer = open_printer(config);
    let lock = PrinterLock::try_acquire(&config.kiosk.data_dir).context("the printer lock")?;
    let status = match lock {
        Some(_) => printer.status().describe().to_string(),
        None => "owned by the running kiosk (see its staff screen)".into(),
    };
    println!("printer: {}", printer.describe());
    println!(
        "mode: {:?}, {} dots wide",
        config.printer.mode, config.printer.width_dots
    );
    println!("status: {status}");
    if wait == PrintWait::Printed {
        println!("test page: printed in {:.1} s", took.as_secs_f64());
    }
    if let Some(time) = receipt_line_time(config) {
        println!(
            "a receipt: {} bytes, {:.1} s on the line at {} baud",
            time.bytes, time.seconds, config.printer.baud
        );
    }
    if let Some(warning) = slow_receipt_warning(config) {
        println!("warning: {warning}");
    }
    report_print("test page", &wait);
    printed_or_failure(wait)
}

/// `speech-samples --out DIR`: every resident screen's prompt in both languages, spoken by
/// espeak-ng into `DIR/{screen}-{lang}.wav`, with its words in a `.txt` beside it; the
/// categories, phrases and places are the config's first ones.
pub fn speech_samples(settings: &Settings, out: &std::path::Path) -> Result<(), CommandError> {
    let config = &settings.config;
    let engine = Espeak::new(std::path::Path::new(ESPEAK_PROGRAM), config.speech.rate_wpm);
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut stdout = std::io::stdout().lock();
    for lang in [Lang::ZhCn, Lang::En] {
        let category = config.categories.first();
        let phrase = category.and_then(|c| c.phrases.first());
        let place = config.places.first();
        let screens = every_screen(
            category.map_or("", |c| c.label.get(lang)),
            phrase.map_or("", |p| p.get(lang)),
            place.map_or("", |p| p.label.get(lang)),
            lang,
        );
        for (name, prompt) in screens {
            let words = prompt.text(lang);
            let clip = engine
                .render(&words, lang)
                .map_err(|e| CommandError::Runtime(e.into()))?;
            let stem = out.join(format!("{name}-{}", lang.tag()));
            let wav = stem.with_extension("wav");
            std::fs::write(&wav, clip.to_wav())
                .with_context(|| format!("cannot write {}", wav.display()))?;
            std::fs::write(stem.with_extension("txt"), format!("{words}\n"))
                .with_context(|| format!("cannot write {}", stem.display()))?;
            writeln!(stdout, "{} {:.1} s", wav.display(), clip.seconds())
                .context("cannot write to stdout")?;
        }
    }
    Ok(())
}

/// `upload --once`: one round now, a line per batch; exit 0 only when nothing is left pending.
/// `upload`: the schedule in the foreground until Ctrl-C (a kiosk without its screen).
pub fn upload(settings: &Settings, once: bool) -> Result<(), CommandError> {
    let config = &settings.config;
    let (store, _) = settings.open_store()?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let mut uploader = uploader_from_config(config, store, Arc::clone(&clock))
        .map_err(|e| CommandError::Runtime(e.into()))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    if !once {
        eprintln!(
            "uploading to {} every {} minutes ({}-{}); Ctrl-C stops",
            config.upload.endpoint,
            config.upload.every_minutes,
            config.upload.active_hours.start.format("%H:%M"),
            config.upload.active_hours.end.format("%H:%M")
        );
        let schedule = Schedule::from_config(config);
        let ctrl_c = tokio::signal::ctrl_c();
        return runtime
            .block_on(upload_until(uploader, schedule, clock, |_| {}, ctrl_c))
            .map_err(|e| CommandError::Runtime(e.into()));
    }
    let report = runtime
        .block_on(uploader.round(RoundMode::Now))
        .map_err(anyhow::Error::from)?;
    let mut stdout = std::io::stdout().lock();
    for batch in &report.batches {
        writeln!(stdout, "{}", batch.describe()).context("cannot write to stdout")?;
    }
    writeln!(stdout, "{}", report.updates.describe()).context("cannot write to stdout")?;
    let status = &report.status;
    writeln!(
        stdout,
        "{} concern(s) still pending, {} rating(s) waiting, {} rejected batch(es)",
        status.pending_concerns,
        status.waiting_ratings,
        status.rejected.len()
    )
    .context("cannot write to stdout")?;
    if status.pending_concerns == 0 && status.waiting_ratings == 0 {
        Ok(())
    } else {
        Err(CommandError::Runtime(anyhow::anyhow!(
            "{} concern(s) and {} rating(s) have not reached the office yet; they stay queued",
            status.pending_concerns,
            status.waiting_ratings
        )))
    }
}

/// Where `summary` sends the day's summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SummaryOutput {
    /// Its lines on stdout.
    Text,
    /// A PNG of the printed sheet.
    Png(PathBuf),
    /// On the receipt printer.
    Print,
}

/// The staff daily summary of `date` (today when absent), as text, a PNG or on paper.
pub fn summary(
    settings: &Settings,
    date: Option<NaiveDate>,
    output: SummaryOutput,
) -> Result<(), CommandError> {
    let config = &settings.config;
    let now = local_now();
    let date = date.unwrap_or_else(|| now.date_naive());
    let (store, _) = settings.open_store()?;
    match output {
        SummaryOutput::Print => {
            let job = crate::summary::queue_on_demand(&store, date, "cli", now)?;
            drop(store);
            let wait = print_and_wait(config, job, PRINT_WAIT_LIMIT, Arc::new(SystemClock))?;
            report_print(&format!("the summary of {date}"), &wait);
            printed_or_failure(wait)
        }
        SummaryOutput::Text | SummaryOutput::Png(_) => {
            let data = DailySummary::gather(&store, config, date, now)?;
            let sheet = summary_sheet(&data, config);
            if let SummaryOutput::Png(path) = output {
                let image = paper::render_raster(&sheet).context("cannot draw the summary")?;
                paper::write_png(&image, &path).context("cannot write the summary PNG")?;
                eprintln!("wrote {} ({} dots tall)", path.display(), image.height());
                return Ok(());
            }
            let mut stdout = std::io::stdout().lock();
            for line in sheet.terminal_lines() {
                writeln!(stdout, "{line}").context("cannot write to stdout")?;
            }
            Ok(())
        }
    }
}

fn report_print(what: &str, wait: &PrintWait) {
    match wait {
        PrintWait::Printed => eprintln!("{what} printed"),
        PrintWait::Queued(why) => {
            eprintln!("{what} is queued and will print when the printer is ready: {why}")
        }
        PrintWait::Failed(why) => eprintln!("{what} cannot be printed: {why}"),
    }
}

fn printed_or_failure(wait: PrintWait) -> Result<(), CommandError> {
    match wait {
        PrintWait::Printed => Ok(()),
        PrintWait::Queued(why) | PrintWait::Failed(why) => {
            Err(CommandError::Runtime(anyhow::anyhow!("not printed: {why}")))
        }
    }
}

/// The language a command-line resident draft is in: `zh-CN` or `en`.
pub fn parse_lang(tag: &str) -> Result<Lang, String> {
    Lang::from_tag(tag).ok_or_else(|| format!("`{tag}` is not a kiosk language: use zh-CN or en"))
}

/// The concerns of one day (today when no date is given), a line each.
pub fn list(settings: &Settings, date: Option<NaiveDate>) -> Result<(), CommandError> {
    let date = date.unwrap_or_else(|| local_now().date_naive());
    let (store, _) = settings.open_store()?;
    let records = store.concerns_between(Some(date), Some(date))?;
    let mut stdout = std::io::stdout().lock();
    for record in &records {
        writeln!(stdout, "{}", list_line(record)).context("cannot write to stdout")?;
    }
    eprintln!("{} concern(s) on {date}", records.len());
    Ok(())
}

fn list_line(record: &ConcernRecord) -> String {
    let concern = &record.concern;
    let details = &concern.details;
    let lang = details.lang;
    let mut what: Vec<&str> = details.phrases.iter().map(|p| p.get(lang)).collect();
    what.extend(details.text.as_deref());
    let mut line = format!(
        "{}  {}  {:<10}  {:<6}  due {}  receipt {:<8}  upload {:<8}  {}",
        concern.ticket,
        details.created_at.format("%H:%M"),
        details.category,
        details.colour.code(),
        details.due_date,
        record.receipt.map_or("-", JobState::code),
        record.upload,
        what.join("; "),
    );
    if let Some(location) = &details.location {
        line.push_str(" @ ");
        line.push_str(location);
    }
    line
}

/// Every field of the concerns filed between two dates (inclusive), as CSV or JSON on stdout.
pub fn export(
    settings: &Settings,
    format: ExportFormat,
    since: Option<NaiveDate>,
    until: Option<NaiveDate>,
) -> Result<(), CommandError> {
    if let (Some(since), Some(until)) = (since, until)
        && since > until
    {
        return Err(CommandError::Usage(format!(
            "--since {since} is after --until {until}"
        )));
    }
    let (store, _) = settings.open_store()?;
    let records = store.concerns_between(since, until)?;
    let mut stdout = std::io::stdout().lock();
    write_export(&mut stdout, format, &records).context("cannot write the export")?;
    stdout.flush().context("cannot write the export")?;
    eprintln!("exported {} concern(s)", records.len());
    Ok(())
}
