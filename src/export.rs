//! Export of concerns for the office or a spreadsheet: CSV (UTF-8 with a byte-order mark, so
//! that Excel and WPS open Chinese text correctly) or JSON, with every field.

use std::io::Write;

use crate::store::ConcernRecord;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    Csv,
    Json,
}

/// The CSV columns, in order: every field of a concern and its delivery state.
pub const CSV_COLUMNS: [&str; 19] = [
    "id",
    "ticket",
    "created_at",
    "category",
    "category_zh",
    "category_en",
    "list",
    "colour",
    "due_date",
    "lang",
    "phrases_zh",
    "phrases_en",
    "text",
    "location",
    "phone",
    "receipt",
    "upload",
    "uploaded_at",
    "personal_erased_at",
];

/// Spreadsheets need the BOM to read the file as UTF-8 rather than the local code page.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

pub fn write_export(
    out: &mut impl Write,
    format: ExportFormat,
    records: &[ConcernRecord],
) -> anyhow::Result<()> {
    match format {
        ExportFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, records)?;
            writeln!(out)?;
        }
        ExportFormat::Csv => {
            out.write_all(UTF8_BOM)?;
            let mut writer = csv::Writer::from_writer(out);
            writer.write_record(CSV_COLUMNS)?;
            for record in records {
                writer.write_record(csv_row(record))?;
            }
            writer.flush()?;
        }
    }
    Ok(())
}

fn csv_row(record: &ConcernRecord) -> [String; 19] {
    let concern = &record.concern;
    let d = &concern.details;
    let joined = |pick: fn(&crate::concern::Bilingual) -> &str, separator: &str| {
        d.phrases
            .iter()
            .map(pick)
            .collect::<Vec<_>>()
            .join(separator)
    };
    let or_empty = |v: &Option<String>| v.clone().unwrap_or_default();
    [
        d.id.to_string(),
        concern.ticket.clone(),
        d.created_at.to_rfc3339(),
        d.category.clone(),
        d.category_label.zh.clone(),
        d.category_label.en.clone(),
        d.list.code().into(),
        d.colour.code().into(),
        d.due_date.to_string(),
        d.lang.tag().into(),
        joined(|p| &p.zh, "；"),
        joined(|p| &p.en, "; "),
        or_empty(&d.text),
        or_empty(&d.location),
        or_empty(&d.phone),
        or_empty(&record.receipt),
        record.upload.clone(),
        or_empty(&record.uploaded_at),
        or_empty(&record.personal_erased_at),
    ]
}
