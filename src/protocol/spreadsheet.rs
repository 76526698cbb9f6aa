//! Concerns as spreadsheet rows, shared by the kiosk's export and the office's: the concern
//! columns, their cells, and CSV that Excel and WPS open correctly (UTF-8 with a byte-order
//! mark, Chinese phrases joined the Chinese way, no cell that a spreadsheet takes for a formula).

use std::io::Write;

use super::wire::WireConcern;
use crate::concern::Bilingual;

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

/// Spreadsheets need the BOM to read the file as UTF-8 rather than the local code page.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";
/// Joins Chinese phrases: the full-width semicolon is what a Chinese reader expects.
const PHRASE_SEPARATOR_ZH: &str = "；";
const PHRASE_SEPARATOR_EN: &str = "; ";

/// Writes a CSV for spreadsheets: the BOM, the header, the rows. Every cell goes through
/// [`spreadsheet_text`], whatever column it is in: a column that holds only dates today may
/// hold outside text tomorrow, and a cell that is already safe passes unchanged.
pub fn write_csv(
    out: &mut impl Write,
    header: &[&str],
    rows: impl Iterator<Item = Vec<String>>,
) -> csv::Result<()> {
    out.write_all(UTF8_BOM)?;
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(header)?;
    for row in rows {
        writer.write_record(row.iter().map(|cell| spreadsheet_text(cell)))?;
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
    let or_empty = |v: &Option<String>| v.clone().unwrap_or_default();
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
        or_empty(&c.text),
        or_empty(&c.location),
        or_empty(&c.phone),
    ]
}

/// What makes Excel, WPS or LibreOffice read a cell as a formula (`=`, `+`, `-`, `@`) or as the
/// start of one (TAB and CR, which some versions drop before looking at the next character).
const FORMULA_TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A cell made safe for a spreadsheet: one that starts with a formula trigger — also behind
/// leading spaces, tabs, line breaks or invisible characters, which spreadsheets may skip
/// before deciding — gets a leading apostrophe, which they show as plain text and drop when
/// the cell is edited. Any other cell is returned unchanged.
pub fn spreadsheet_text(cell: &str) -> String {
    let first_visible = cell
        .chars()
        .find(|&c| !(c.is_whitespace() || crate::concern::is_hidden_char(c)));
    let formula = cell.starts_with(FORMULA_TRIGGERS)
        || first_visible.is_some_and(|c| FORMULA_TRIGGERS.contains(&c));
    if formula {
        format!("'{cell}")
    } else {
        cell.to_string()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use proptest::test_runner::TestCaseError;

    use super::*;

    #[test]
    fn typed_text_never_becomes_a_formula() {
        assert_eq!(spreadsheet_text("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(spreadsheet_text("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(spreadsheet_text("楼上=吵"), "楼上=吵");
        for hidden in [
            "\t=1",
            "\r=1",
            "\n=1",
            "  =1",
            "\u{3000}+1",
            "\u{200b}@A1",
            "\t",
        ] {
            assert_eq!(spreadsheet_text(hidden), format!("'{hidden}"), "{hidden:?}");
        }
        for plain in [
            "",
            "0571-88886666",
            "A1126-007",
            "2026-11-26T09:41:17-05:00",
            " 3幢",
        ] {
            assert_eq!(spreadsheet_text(plain), plain);
        }
    }

    /// Cells a spreadsheet could take for formulas, mixed with ordinary ones.
    fn cell_strategy() -> impl Strategy<Value = String> {
        let opening = prop_oneof![
            Just(String::new()),
            "[=+@\\-]",
            "[ \t\r\n\u{3000}\u{00a0}\u{200b}\u{feff}]{1,3}[=+@\\-]",
        ];
        (opening, any::<String>()).prop_map(|(start, rest)| start + &rest)
    }

    fn rows_strategy() -> impl Strategy<Value = Vec<Vec<String>>> {
        prop::collection::vec(prop::collection::vec(cell_strategy(), 1..6), 0..6)
    }

    /// Writes `rows` as the exports do, reads the file back as a spreadsheet would, and checks
    /// that no cell opens with a trigger and that nothing but the apostrophe was added.
    fn check_no_cell_starts_a_formula(rows: Vec<Vec<String>>) -> Result<(), TestCaseError> {
        let width = rows.iter().map(Vec::len).max().unwrap_or(1);
        let rows: Vec<Vec<String>> = rows
            .into_iter()
            .map(|mut row| {
                row.resize(width, String::new());
                row
            })
            .collect();
        let header = vec!["column"; width];
        let mut out = Vec::new();
        write_csv(&mut out, &header, rows.clone().into_iter())
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let text = std::str::from_utf8(&out[UTF8_BOM.len()..])
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let read: Vec<csv::StringRecord> = reader
            .records()
            .collect::<Result<_, _>>()
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(read.len(), rows.len());
        for (record, row) in read.iter().zip(&rows) {
            for (cell, original) in record.iter().zip(row) {
                prop_assert!(!cell.starts_with(FORMULA_TRIGGERS), "{:?}", cell);
                prop_assert!(
                    cell == original || cell.strip_prefix('\'') == Some(original.as_str()),
                    "{:?} became {:?}",
                    original,
                    cell
                );
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(crate::property_runs::short())]
        #[test]
        fn no_csv_cell_starts_a_formula(rows in rows_strategy()) {
            check_no_cell_starts_a_formula(rows)?;
        }
    }

    #[test]
    #[ignore = "long property run: cargo test -- --ignored"]
    fn no_csv_cell_starts_a_formula_long() {
        crate::property_runs::long(
            "no_csv_cell_starts_a_formula",
            rows_strategy(),
            check_no_cell_starts_a_formula,
        );
    }
}
