//! The council's two lists for the property company (居民诉求清单 and 矛盾问题清单): an A4 print
//! view and an `.xlsx` file with the same columns, every cell formula-safe like the CSV.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use rust_xlsxwriter::{Format, Workbook, XlsxError};

use super::pages::{CaseRow, ListPage};
use super::view::list_cases;
use super::wording::Words;
use super::{PageError, internal, lang_of, render, signed_in};
use crate::concern::ListKind;
use crate::office::accounts::Role;
use crate::office::case_store::CaseRecord;
use crate::office::cases::community_date;
use crate::office::state::Office;
use crate::protocol::spreadsheet::spreadsheet_text;

fn list_of(code: &str) -> Option<ListKind> {
    ListKind::from_code(code)
}

/// `GET /board/list/demands`, `/board/list/conflicts`, and the same with `.xlsx`.
pub(super) async fn list_page(
    State(office): State<Office>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Response {
    let session = match signed_in(&office, &headers).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let (code, xlsx) = match name.strip_suffix(".xlsx") {
        Some(code) => (code, true),
        None => (name.as_str(), false),
    };
    let Some(list) = list_of(code) else {
        return PageError(StatusCode::NOT_FOUND, "No such list. 没有这张清单。".into())
            .into_response();
    };
    let t = lang_of(&headers);
    let cases = match office.db().cases().await {
        Ok(cases) => cases,
        Err(e) => return internal(e).into_response(),
    };
    let today = community_date(office.now());
    let settings = office.board_settings();
    let role = session.account.role;
    let visible: Vec<CaseRecord> = cases
        .into_iter()
        .filter(|r| {
            !role.sees_only_own_cases()
                || r.case.handler.as_deref() == Some(session.account.name.as_str())
        })
        .collect();
    if xlsx {
        let workbook = list_workbook(
            &visible,
            list,
            t,
            &settings.community,
            today,
            settings.follow_up_days,
        );
        return match workbook {
            Ok(bytes) => {
                let file = format!("{}-{today}.xlsx", list.code());
                let disposition =
                    HeaderValue::from_str(&format!("attachment; filename=\"{file}\""))
                        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
                (
                    [
                        (
                            header::CONTENT_TYPE,
                            HeaderValue::from_static(
                                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                            ),
                        ),
                        (header::CONTENT_DISPOSITION, disposition),
                    ],
                    bytes,
                )
                    .into_response()
            }
            Err(e) => internal(e).into_response(),
        };
    }
    let rows = list_rows(&visible, list, t, role, today, settings.follow_up_days);
    let other_lists = [ListKind::Demands, ListKind::Conflicts]
        .into_iter()
        .map(|l| {
            (
                format!("/board/list/{}", l.code()),
                t.list_name(l).to_string(),
            )
        })
        .collect();
    render(ListPage {
        t,
        account_name: session.account.name.clone(),
        csrf: session.csrf_token.clone(),
        community: settings.community.clone(),
        list_name: t.list_name(list),
        today: today.to_string(),
        rows,
        other_lists,
        xlsx_link: format!("/board/list/{}.xlsx", list.code()),
    })
    .unwrap_or_else(IntoResponse::into_response)
}

fn list_rows(
    cases: &[CaseRecord],
    list: ListKind,
    t: &Words,
    role: Role,
    today: NaiveDate,
    follow_up_days: u32,
) -> Vec<CaseRow> {
    list_cases(cases, list)
        .into_iter()
        .map(|r| CaseRow::new(r, t, role, today, follow_up_days))
        .collect()
}

/// One of the two lists of `cases` as an `.xlsx` workbook, in the language of `t`.
pub fn list_workbook(
    cases: &[CaseRecord],
    list: ListKind,
    t: &Words,
    community: &str,
    today: NaiveDate,
    follow_up_days: u32,
) -> Result<Vec<u8>, XlsxError> {
    // The lists have no phone column, so the role only decides what rows hold, not which.
    let rows = list_rows(cases, list, t, Role::Viewer, today, follow_up_days);
    list_xlsx(t, community, list, &today.to_string(), &rows)
}

/// The list as an `.xlsx` workbook: a title row with the community and the date, the column
/// headers, one row per case. Every cell is written as text through the same formula guard as
/// the CSV exports.
fn list_xlsx(
    t: &Words,
    community: &str,
    list: ListKind,
    today: &str,
    rows: &[CaseRow],
) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name(list.code())?;
    let bold = Format::new().set_bold();
    let title = format!(
        "{community} · {} · {} {today}",
        t.list_name(list),
        t.printed_on
    );
    sheet.write_string_with_format(0, 0, spreadsheet_text(&title), &bold)?;
    let headers = [
        t.ticket, t.filed, t.category, t.place, t.what, t.colour, t.due, t.handler, t.state,
    ];
    for (column, text) in (0u16..).zip(headers) {
        sheet.write_string_with_format(2, column, text, &bold)?;
    }
    for (row_index, row) in (3u32..).zip(rows) {
        let cells = [
            row.ticket.as_str(),
            &row.filed,
            &row.category,
            &row.place,
            &row.what,
            row.colour_label,
            &row.due,
            &row.handler,
            row.state_label,
        ];
        for (column, cell) in (0u16..).zip(cells) {
            sheet.write_string(row_index, column, spreadsheet_text(cell))?;
        }
    }
    // Widths in characters: tickets and dates are short, what the resident said is long.
    for (column, width) in (0u16..).zip([12.0, 17.0, 12.0, 16.0, 48.0, 14.0, 14.0, 12.0, 10.0]) {
        sheet.set_column_width(column, width)?;
    }
    workbook.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;
    use crate::office::board::wording::ZH;

    fn row(ticket: &str, what: &str) -> CaseRow {
        CaseRow {
            id: "id".into(),
            ticket: ticket.into(),
            filed: "2026-12-01 09:30".into(),
            received: String::new(),
            category: "公共设施报修".into(),
            what: what.into(),
            place: "3幢".into(),
            phone: String::new(),
            kiosk: "wanjia-01".into(),
            colour_code: "green",
            colour_label: "绿色（一周）",
            list_label: "居民诉求清单",
            state_code: "accepted",
            state_label: "已受理",
            handler: "wuye".into(),
            due: "2026-12-08".into(),
            urgency_code: "later",
            urgency_label: "",
        }
    }

    /// The text of every cell, as the workbook's shared strings hold them.
    fn cell_texts(bytes: Vec<u8>) -> String {
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut strings = String::new();
        archive
            .by_name("xl/sharedStrings.xml")
            .unwrap()
            .read_to_string(&mut strings)
            .unwrap();
        strings
    }

    #[test]
    fn the_xlsx_holds_the_title_the_columns_and_each_case_with_no_formula() {
        let rows = [
            row("A1201-001", "路灯不亮"),
            row("A1201-002", "=HYPERLINK(\"x\")"),
        ];
        let bytes = list_xlsx(&ZH, "万家星城社区", ListKind::Demands, "2026-12-04", &rows).unwrap();
        let texts = cell_texts(bytes);
        for expected in [
            "万家星城社区 · 居民诉求清单 · 打印日期 2026-12-04",
            "编号",
            "A1201-001",
            "A1201-002",
            "路灯不亮",
            "wuye",
        ] {
            assert!(texts.contains(expected), "{expected} missing from {texts}");
        }
        // A resident's text that looks like a formula stays text.
        assert!(
            texts.contains("&apos;=HYPERLINK") || texts.contains("'=HYPERLINK"),
            "{texts}"
        );
    }
}
