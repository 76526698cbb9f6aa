//! The office's CSV export (`GET /v1/export.csv`): every field of every stored concern, one row
//! each, in UTF-8 with a byte-order mark so that Excel and WPS show the Chinese text.

use super::storage::StoredConcern;
use crate::protocol::spreadsheet::{CONCERN_COLUMNS, concern_cells, write_csv};

/// Where and when the office first received a concern: the columns after the concern's own.
pub const OFFICE_COLUMNS: [&str; 2] = ["kiosk_id", "received_at"];

/// The whole export as bytes, BOM first: every field of every concern, then
/// [`OFFICE_COLUMNS`].
pub fn export_csv(concerns: &[StoredConcern]) -> Result<Vec<u8>, csv::Error> {
    let header: Vec<&str> = CONCERN_COLUMNS
        .iter()
        .chain(&OFFICE_COLUMNS)
        .copied()
        .collect();
    let rows = concerns.iter().map(|stored| {
        let mut row = concern_cells(&stored.concern);
        row.extend([stored.kiosk_id.clone(), stored.received_at.to_rfc3339()]);
        row
    });
    let mut out = Vec::new();
    write_csv(&mut out, &header, rows)?;
    Ok(out)
}
