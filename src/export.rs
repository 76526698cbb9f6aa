//! Export of concerns for the office or a spreadsheet: CSV (UTF-8 with a byte-order mark, so
//! that Excel and WPS open Chinese text correctly) or JSON, with every field. The concern
//! columns are shared with the office's own export.

use std::io::Write;

use crate::concern::Bilingual;
use crate::store::ConcernRecord;
use crate::upload::wire::WireConcern;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    Csv,
    Json,
}

/// Every field of a concern as CSV columns, in order (labels and phrases split by language).
pub const CONCERN_COLUMNS: [&str; 15] = [
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
];

/// What the kiosk adds after the concern columns: where the concern's delivery stands.
pub const KIOSK_STATE_COLUMNS: [&str; 4] =
    ["receipt", "upload", "uploaded_at", "personal_erased_at"];

/// Spreadsheets need the BOM to read the file as UTF-8 rather than the local code page.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";
/// Joins Chinese phrases: the full-width semicolon is what a Chinese reader expects.
const PHRASE_SEPARATOR_ZH: &str = "；";
const PHRASE_SEPARATOR_EN: &str = "; ";

/// The header of the kiosk's CSV export.
pub fn csv_columns() -> Vec<&'static str> {
    CONCERN_COLUMNS
        .iter()
        .chain(&KIOSK_STATE_COLUMNS)
        .copied()
        .collect()
}

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
            let rows = records.iter().map(|record| {
                let or_empty = |v: &Option<String>| v.clone().unwrap_or_default();
                let mut row = concern_cells(&WireConcern::from(&record.concern));
                row.extend([
                    record
                        .receipt
                        .map(|r| r.code().to_string())
                        .unwrap_or_default(),
                    record.upload.code().to_string(),
                    or_empty(&record.uploaded_at),
                    or_empty(&record.personal_erased_at),
                ]);
                row
            });
            write_csv(out, &csv_columns(), rows)?;
        }
    }
    Ok(())
}

/// Writes a CSV for spreadsheets: the BOM, the header, the rows.
pub fn write_csv(
    out: &mut impl Write,
    header: &[&str],
    rows: impl Iterator<Item = Vec<String>>,
) -> csv::Result<()> {
    out.write_all(UTF8_BOM)?;
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(header)?;
    for row in rows {
        writer.write_record(row)?;
    }
    writer.flush()?;
    Ok(())
}

/// The cells of [`CONCERN_COLUMNS`] for one concern.
pub fn concern_cells(c: &WireConcern) -> Vec<String> {
    let joined = |pick: fn(&Bilingual) -> &str, separator: &str| {
        c.phrases
            .iter()
            .map(pick)
            .collect::<Vec<_>>()
            .join(separator)
    };
    let typed = |v: &Option<String>| spreadsheet_text(v.as_deref().unwrap_or_default());
    vec![
        c.id.to_string(),
        c.ticket.clone(),
        c.created_at.to_rfc3339(),
        c.category.clone(),
        c.category_label.zh.clone(),
        c.category_label.en.clone(),
        c.list.code().into(),
        c.colour.code().into(),
        c.due_date.to_string(),
        c.lang.tag().into(),
        joined(|p| &p.zh, PHRASE_SEPARATOR_ZH),
        joined(|p| &p.en, PHRASE_SEPARATOR_EN),
        typed(&c.text),
        typed(&c.location),
        c.phone.clone().unwrap_or_default(),
    ]
}

/// Text a person typed, made safe for a spreadsheet: a cell starting with `=`, `+`, `-` or `@`
/// would run as a formula when staff open the file, so it gets a leading apostrophe, which
/// spreadsheets show as plain text.
pub fn spreadsheet_text(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_text_never_becomes_a_formula() {
        assert_eq!(spreadsheet_text("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(spreadsheet_text("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(spreadsheet_text("楼上=吵"), "楼上=吵");
    }
}
