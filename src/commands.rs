//! The maintenance commands behind `concern-kiosk submit | list | export`: each takes the
//! loaded settings and writes its answer to stdout (what scripts read) and its messages to
//! stderr.

use std::io::Write;

use anyhow::Context;
use chrono::NaiveDate;

use crate::app::{CommandError, Settings, local_now};
use crate::concern::{Draft, Lang};
use crate::export::{ExportFormat, write_export};
use crate::store::ConcernRecord;

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
    Ok(())
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
        record.receipt.as_deref().unwrap_or("-"),
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
