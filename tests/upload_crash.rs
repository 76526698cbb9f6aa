//! A kiosk killed again and again while it uploads its backlog: when it is finally left alone,
//! the office holds exactly the kiosk's concerns, each once, and the kiosk has nothing pending.

mod support;

use std::time::{Duration, Instant};

use concern_kiosk::concern::{Draft, Lang};
use concern_kiosk::store::Store;
use support::TestKiosk;
use support::office::{KIOSK_TOKEN, TestOffice};

/// The issue asks for at least ten kills mid-upload.
const KILLS_WANTED: usize = 12;
const BACKLOG: usize = 2000;

#[test]
fn a_kiosk_killed_mid_upload_still_delivers_everything_exactly_once() {
    let office = TestOffice::start();
    let kiosk = TestKiosk::new();
    kiosk.upload_to(&office.url(), KIOSK_TOKEN);
    // Small batches: many commits for the kills to land between.
    kiosk.set_key("max_batch", "4");
    let config = kiosk.load_config();
    let (mut store, _) =
        Store::open(&config.kiosk.data_dir, concern_kiosk::clock::local_now()).unwrap();
    for i in 0..BACKLOG {
        let draft = Draft {
            category: "repairs".into(),
            phrases: vec!["1".into()],
            text: Some(format!("积压 {i}")),
            location: None,
            phone: None,
            lang: Lang::ZhCn,
        };
        let concern = draft
            .validate(&config, concern_kiosk::clock::local_now())
            .unwrap();
        store.file_concern(concern, "A").unwrap();
    }
    drop(store);

    let mut random = support::Lcg(0x0ff1_ce5e_edba_7c4e);
    let (mut kills, mut runs) = (0, 0);
    while kills < KILLS_WANTED {
        runs += 1;
        assert!(
            runs < 200,
            "the upload finished before it could be killed {KILLS_WANTED} times"
        );
        let mut child = kiosk.command(&["upload", "--once"]).spawn().unwrap();
        let started = Instant::now();
        std::thread::sleep(Duration::from_millis(10 + random.below(50)));
        if support::kill_if_running(&mut child) {
            kills += 1;
        }
        child.wait().unwrap();
        assert!(started.elapsed() < Duration::from_secs(60));
    }
    let delivered_while_killing = office.concern_counts().0;

    let finish = kiosk.run(&["upload", "--once"]);
    assert!(
        finish.status.success(),
        "{}{}",
        support::stdout(&finish),
        support::stderr(&finish)
    );
    assert!(support::stdout(&finish).contains("0 concern(s) still pending"));

    let (rows, distinct) = office.concern_counts();
    assert_eq!(rows, distinct, "the office stored a concern twice");
    assert_eq!(rows, BACKLOG as i64);
    let (store, _) =
        Store::open(&config.kiosk.data_dir, concern_kiosk::clock::local_now()).unwrap();
    let mut kiosk_ids: Vec<String> = store
        .concerns_between(None, None)
        .unwrap()
        .iter()
        .map(|r| r.concern.details.id.to_string())
        .collect();
    kiosk_ids.sort();
    assert_eq!(office.concern_ids(), kiosk_ids);
    assert_eq!(store.upload_status().unwrap().pending_concerns, 0);
    let integrity: String = support::open_db(&kiosk.db_path())
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    eprintln!(
        "{kills} kills in {runs} runs; {delivered_while_killing} of {BACKLOG} delivered while being killed"
    );
}
