//! The kiosk's export of its concerns, for the office or a spreadsheet: JSON, or CSV with the
//! shared concern columns (`protocol::spreadsheet`) followed by where each concern's receipt
//! and upload stand.

use std::io::Write;

use crate::protocol::spreadsheet::{CONCERN_COLUMNS, concern_cells, write_csv};
use crate::protocol::wire::WireConcern;
use crate::store::ConcernRecord;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    Csv,
    Json,
}

/// What the kiosk adds after the concern columns: where the concern's delivery stands.
pub const KIOSK_STATE_COLUMNS: [&str; 4] =
    ["receipt", "upload", "uploaded_at", "personal_erased_at"];

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
