//! `cargo run`'s demo office: with the built-in demo config the kiosk serves the reference
//! office beside itself, with a token both sides share and a board account the console names,
//! so what is filed on the kiosk is on the board after one upload round.

mod support;

use std::sync::Arc;

use concern_kiosk::clock::{Clock, SystemClock};
use concern_kiosk::concern::{Draft, Lang};
use concern_kiosk::config::Config;
use concern_kiosk::demo::{DEMO_BOARD_ACCOUNT, DEMO_BOARD_PASSWORD, start_demo_office};
use concern_kiosk::store::Store;
use concern_kiosk::upload::uploader::{BatchOutcome, RoundMode};
use concern_kiosk::upload::uploader_from_config;
use support::board_http;

/// The demo config with its data in `dir` and the office on a free loopback port.
fn demo_config(dir: &std::path::Path) -> Config {
    let mut config = Config::demo().expect("the demo config loads");
    config.kiosk.data_dir = dir.join("kiosk-data");
    config.upload.token_file = dir.join("kiosk-data/office-token");
    config.upload.endpoint = "http://127.0.0.1:0".into();
    config
}

#[test]
fn a_concern_filed_on_the_demo_kiosk_is_on_the_demo_board_after_one_round() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = demo_config(dir.path());
    let office = start_demo_office(&config).expect("the demo office starts");
    let greeting = office.greeting();
    for shown in [
        office.url.as_str(),
        DEMO_BOARD_ACCOUNT,
        DEMO_BOARD_PASSWORD,
        office.token.as_str(),
    ] {
        assert!(greeting.contains(shown), "{greeting}");
    }
    config.upload.endpoint = office.url.clone();

    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let (mut store, _) = Store::open(&config.kiosk.data_dir, clock.now()).unwrap();
    let filed = store
        .file_concern(
            Draft::preset("repairs", "1", Lang::ZhCn)
                .validate(&config, clock.now())
                .unwrap(),
            &config.kiosk.ticket_prefix,
        )
        .unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut uploader = uploader_from_config(&config, store, Arc::clone(&clock))
        .expect("the kiosk reads the token the demo wrote");
    let report = runtime
        .block_on(uploader.round(RoundMode::Scheduled))
        .unwrap();
    assert!(
        matches!(
            report.batches[..],
            [BatchOutcome::Delivered {
                acknowledged: 1,
                ..
            }]
        ),
        "{report:?}"
    );

    let board = runtime.block_on(async {
        let http = board_http::client();
        let session =
            board_http::sign_in(&http, &office.url, DEMO_BOARD_ACCOUNT, DEMO_BOARD_PASSWORD).await;
        http.get(format!("{}/board/", office.url))
            .header("cookie", session)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    });
    assert!(board.contains(&filed.ticket), "{board}");
    drop(office);

    // The second `cargo run` finds its token, its account and its cases where it left them.
    let again = start_demo_office(&config).expect("the demo office starts again");
    assert_eq!(
        again.token,
        std::fs::read_to_string(&config.upload.token_file)
            .unwrap()
            .trim()
    );
    let db = config.kiosk.data_dir.join("office/office.db");
    let held: i64 = rusqlite::Connection::open(db)
        .unwrap()
        .query_row("SELECT count(*) FROM concerns", [], |r| r.get(0))
        .unwrap();
    assert_eq!(held, 1);
}

#[test]
fn a_demo_endpoint_off_loopback_starts_no_office() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = demo_config(dir.path());
    config.upload.endpoint = "https://office.example.org".into();
    let refused = start_demo_office(&config).err().expect("refused");
    assert!(refused.to_string().contains("127.0.0.1"), "{refused}");
}
