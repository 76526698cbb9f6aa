//! Prints what the case board costs the office: the server time of the board's first page
//! (median of repeated requests over loopback, signed in as a council member) with 10,000 and
//! with 100,000 cases, and the time to make the `.xlsx` of a list of 10,000 cases.
//! Run with `cargo bench --bench board`.

#[path = "support/timing.rs"]
mod timing;

use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use concern_kiosk::concern::{Bilingual, CheckCode, Colour, Lang, ListKind, TrackingCode};
use concern_kiosk::office::board::{ZH, list_workbook};
use concern_kiosk::office::cases::{Action, Case, Filing};
use concern_kiosk::office::{
    CaseRecord, MAX_CONCERNS_PER_BATCH, Office, Role, StoredConcern, TokenTable, serve,
};
use concern_kiosk::protocol::wire::{Batch, SCHEMA, WireConcern};
use timing::median;
use uuid::Uuid;

const TOKEN: &str = "bench-kiosk-token-0123456789";
const PASSWORD: &str = "a long enough password";
/// Requests timed per board size: enough for a steady median on a noisy shared machine.
const REQUESTS: usize = 15;

fn concern(n: usize) -> WireConcern {
    let created_at = DateTime::parse_from_rfc3339("2026-01-01T09:00:00+08:00").unwrap()
        + TimeDelta::minutes(i64::try_from(n).unwrap_or(0) * 7);
    let (list, colour) = match n % 4 {
        0 => (ListKind::Conflicts, Colour::Orange),
        1 => (ListKind::Demands, Colour::Red),
        _ => (ListKind::Demands, Colour::Green),
    };
    WireConcern {
        id: Uuid::now_v7(),
        // Day numbers start at 1, as the kiosk issues them.
        ticket: format!("A{}-{:03}", created_at.format("%m%d"), n % 999 + 1),
        created_at,
        category: "repairs".into(),
        category_label: Bilingual {
            zh: "公共设施报修".into(),
            en: "Repairs".into(),
        },
        list,
        colour,
        due_date: created_at.date_naive() + TimeDelta::days(7),
        lang: Lang::ZhCn,
        phrases: vec![Bilingual {
            zh: "路灯不亮".into(),
            en: "Street light out".into(),
        }],
        text: (n % 3 == 0).then(|| "已经好几天了，老人晚上出门不方便".into()),
        location: Some(format!("{}幢", n % 30 + 1)),
        phone: (n % 2 == 0).then(|| "13812345678".into()),
        tracking_code: Some(TrackingCode::random()),
        check_code: Some(CheckCode::random()),
    }
}

/// The `name=value` of the cookie a response sets.
fn cookie_of(response: &reqwest::Response) -> anyhow::Result<String> {
    let set = response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| anyhow::anyhow!("no cookie set"))?;
    Ok(set.split(';').next().unwrap_or_default().to_string())
}

async fn board_first_page(cases: usize) -> anyhow::Result<Duration> {
    let dir = tempfile::tempdir()?;
    let tokens = TokenTable::parse(&format!("bench-01 {TOKEN}"), "tokens")?;
    let office = Office::open(dir.path().join("office.db"), tokens)?;
    office.add_account("li", Role::Council, PASSWORD).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(serve(listener, office));
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let mut n = 0;
    while n < cases {
        let size = MAX_CONCERNS_PER_BATCH.min(cases - n);
        let batch = Batch {
            schema: SCHEMA.into(),
            kiosk_id: "bench-01".into(),
            batch_id: Uuid::now_v7(),
            sent_at: DateTime::parse_from_rfc3339("2026-12-01T17:30:00+08:00")?,
            concerns: (n..n + size).map(concern).collect(),
            ratings: Vec::new(),
        };
        let sent = http
            .post(format!("{base}/v1/batches"))
            .bearer_auth(TOKEN)
            .json(&batch)
            .send()
            .await?;
        anyhow::ensure!(sent.status().is_success(), "upload: {}", sent.status());
        n += size;
    }
    let login_page = http.get(format!("{base}/board/login")).send().await?;
    let login_cookie = cookie_of(&login_page)?;
    let login = login_page.text().await?;
    let csrf = login
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .ok_or_else(|| anyhow::anyhow!("no sign-in token on the page"))?
        .to_string();
    let signed_in = http
        .post(format!("{base}/board/login"))
        .header("cookie", login_cookie)
        .form(&[("name", "li"), ("password", PASSWORD), ("csrf", &csrf)])
        .send()
        .await?;
    anyhow::ensure!(
        signed_in.status().is_redirection(),
        "sign-in: {}",
        signed_in.status()
    );
    let session = cookie_of(&signed_in)?;
    let mut times = Vec::with_capacity(REQUESTS);
    for _ in 0..REQUESTS {
        let began = Instant::now();
        let page = http
            .get(format!("{base}/board/"))
            .header("cookie", &session)
            .send()
            .await?;
        anyhow::ensure!(page.status().is_success(), "board: {}", page.status());
        let body = page.text().await?;
        times.push(began.elapsed());
        anyhow::ensure!(body.contains("id=\"cases\""), "the board lists no cases");
    }
    Ok(median(times))
}

/// Ten thousand accepted cases on the demands list, made in memory.
fn accepted_cases(count: usize) -> Vec<CaseRecord> {
    let received = Utc::now();
    (0..count)
        .map(|n| {
            let mut concern = concern(n);
            concern.list = ListKind::Demands;
            let mut case = Case::new(Filing {
                colour: concern.colour,
                list: concern.list,
                due_date: concern.due_date,
                received_at: received,
            });
            let accepted = case
                .decide(Action::Accept, "li", "", received)
                .expect("a new case can be accepted");
            case.record(accepted);
            CaseRecord {
                concern: StoredConcern {
                    concern,
                    kiosk_id: "bench-01".into(),
                    batch_id: Uuid::now_v7(),
                    received_at: received.fixed_offset(),
                },
                case,
            }
        })
        .collect()
}

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    println!("the board's first page (server time over loopback, median of {REQUESTS}):");
    for cases in [10_000, 100_000] {
        let time = runtime.block_on(board_first_page(cases))?;
        println!("  {cases:>7} cases: {:.1} ms", time.as_secs_f64() * 1e3);
    }
    let cases = accepted_cases(10_000);
    let today = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap_or_default();
    let mut times = Vec::new();
    let mut size = 0;
    for _ in 0..5 {
        let began = Instant::now();
        let bytes = list_workbook(&cases, ListKind::Demands, &ZH, "万家星城社区", today, 14)?;
        times.push(began.elapsed());
        size = bytes.len();
    }
    println!(
        "the demands list as .xlsx, 10,000 rows: {:.0} ms (median of 5), {:.1} MB",
        median(times).as_secs_f64() * 1e3,
        size as f64 / 1e6
    );
    Ok(())
}
