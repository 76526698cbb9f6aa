//! The loop the receipt promises, end to end: a resident files a concern on the real touch UI
//! (Slint's testing backend), the kiosk uploads it to the real `concern-office` on 127.0.0.1,
//! the office answers it, the answer comes back at the next round (once, although the first
//! answer is lost on the way), the resident reads it at "Check my concern" — the reply only with
//! the receipt's check code — rates it unhappy, prints a status slip on a serial printer (the
//! emulator on a pseudo-terminal), and the rating's batch sends the case back for supervision.

mod support;

use futures::executor::block_on;
use std::sync::Arc;
use std::time::Duration;

use chrono::TimeDelta;
use concern_kiosk::clock::{Clock, ManualClock};
use concern_kiosk::concern::{CaseState, Rating};
use concern_kiosk::office::cases::Action;
use concern_kiosk::office::{Office, TokenTable, serve};
use concern_kiosk::printer::open_printer;
use concern_kiosk::printer::print_queue::{DrainOutcome, PrintQueue};
use concern_kiosk::printer::printer_lock::PrinterLock;
use concern_kiosk::store::Store;
use concern_kiosk::upload::updates::PullOutcome;
use concern_kiosk::upload::uploader::{BatchOutcome, RoundMode, RoundReport};
use concern_kiosk::upload::uploader_from_config;
use support::fault_proxy::{FaultProxy, Mode};
use support::kiosk_screen::{KioskScreen, open_screen, start};
use support::office::{KIOSK_ID, KIOSK_TOKEN};
use support::printer_emulator::{EmulatorOptions, PrinterEmulator};

const REPLY: &str = "已经和装修队说好，晚上八点以后不再施工。";

/// The real office on a free loopback port, on a runtime of its own; the test keeps a handle
/// to act on its cases as the board's buttons do.
fn start_office(dir: &std::path::Path) -> (Office, std::net::SocketAddr, tokio::runtime::Runtime) {
    let tokens = TokenTable::parse(&format!("{KIOSK_ID} {KIOSK_TOKEN}\n"), "tokens").unwrap();
    let office = Office::open(dir.join("office.db"), tokens).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    runtime.spawn(serve(listener, office.clone()));
    (office, addr, runtime)
}

fn type_digits(s: &KioskScreen, digits: &str) {
    for digit in digits.chars().filter(char::is_ascii_digit) {
        s.tap(&digit.to_string());
    }
}

fn pulled(report: &RoundReport) -> usize {
    match &report.updates {
        PullOutcome::Pulled { changed, .. } => *changed,
        other => panic!("expected status to arrive, got {other:?}"),
    }
}

#[test]
fn an_answer_read_with_the_check_code_and_rated_unhappy_reopens_the_case() {
    let office_dir = tempfile::tempdir().unwrap();
    let (office, office_addr, _office_runtime) = start_office(office_dir.path());
    let proxy = FaultProxy::start(office_addr).unwrap();

    // The resident files a noise complaint on the touchscreen.
    let s = open_screen(|_| {});
    s.kiosk.upload_to(&proxy.url(), KIOSK_TOKEN);
    let port = s.kiosk.print_on_serial_port("text");
    s.tap("我要反映问题");
    s.tap("噪音扰民");
    s.tap("晚上装修太吵");
    s.tap("马上提交");
    s.tap("完成");
    let filed = s.store().concern_by_ticket("A1126-001").unwrap().unwrap();
    let check_code = filed.concern.details.codes.clone().unwrap().check;
    let id = filed.concern.details.id.to_string();

    // The next round takes it to the office.
    let config = s.kiosk.load_config();
    let clock = Arc::new(ManualClock::new(start()));
    let (store, _) = Store::open(&config.kiosk.data_dir, clock.now()).unwrap();
    let mut uploader = uploader_from_config(&config, store, clock.clone()).unwrap();
    let kiosk_runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut round = |mode| kiosk_runtime.block_on(uploader.round(mode)).unwrap();
    let first = round(RoundMode::Scheduled);
    assert!(
        matches!(
            first.batches[..],
            [BatchOutcome::Delivered {
                acknowledged: 1,
                ..
            }]
        ),
        "{first:?}"
    );
    assert_eq!(
        block_on(office.db().case(&id)).unwrap().unwrap().case.state,
        CaseState::New
    );

    // The council takes it on, hands it to the property company, which answers.
    let now = office.now();
    block_on(office.db().act(&id, Action::Accept, "council-li", "", now)).unwrap();
    let assign = Action::Assign {
        handler: "wuye".into(),
    };
    block_on(office.db().act(&id, assign, "council-li", "", now)).unwrap();
    let answer = Action::Answer {
        reply: REPLY.into(),
    };
    block_on(office.db().act(&id, answer, "wuye", "", now)).unwrap();

    // The office's answer to the kiosk's question is lost on the way: nothing changes, and the
    // next round asks the same again and applies it once.
    proxy.queue_once(Mode::DropAfterUpstreamReplied);
    clock.advance(TimeDelta::minutes(30));
    let lost = round(RoundMode::Scheduled);
    assert!(
        matches!(lost.updates, PullOutcome::Failed { .. }),
        "{lost:?}"
    );
    assert_eq!(
        s.store().case_status("A1126-001").unwrap().unwrap().state,
        CaseState::New,
        "nothing of a lost answer is kept"
    );
    clock.advance(TimeDelta::hours(1));
    assert_eq!(pulled(&round(RoundMode::Scheduled)), 1);
    assert_eq!(pulled(&round(RoundMode::Now)), 0, "applied once");
    let asked: Vec<String> = proxy
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/v1/updates"))
        .map(|r| r.path)
        .collect();
    let cursor_before_answer = &asked[asked.len() - 3];
    assert_eq!(&asked[asked.len() - 2], cursor_before_answer, "{asked:?}");

    // At "Check my concern", the ticket alone tells how it stands, not what was answered.
    s.tap("查询办理进度");
    type_digits(&s, "1126001");
    s.tap("查询");
    assert!(s.shows("已经办好了"));
    assert!(!s.shows(REPLY), "a ticket alone never shows the reply");
    s.tap("输入查询码");
    type_digits(&s, check_code.as_str());
    s.tap("看答复");
    assert!(s.shows(REPLY));

    // The resident is not happy with it.
    s.tap("评价");
    s.tap("不满意");
    assert!(s.shows("谢谢您的评价：不满意"));

    // The status slip, on paper, says what the screen said.
    let printer = PrinterEmulator::plug_in_at(&port, EmulatorOptions::default()).unwrap();
    s.tap("打印");
    let lock = PrinterLock::try_acquire(&config.kiosk.data_dir)
        .unwrap()
        .unwrap();
    let config = s.kiosk.load_config();
    let (store, _) = Store::open(&config.kiosk.data_dir, clock.now()).unwrap();
    let mut queue =
        PrintQueue::new(store, open_printer(&config), config, lock, clock.clone()).unwrap();
    assert_eq!(queue.drain().unwrap(), DrainOutcome::Empty);
    // The concern's receipt (queued at filing) and then the slip.
    let printouts = printer
        .wait_for_printouts(2, Duration::from_secs(20))
        .unwrap();
    assert_eq!(printer.decode_errors(), []);
    let slip = printouts[1].lines().join("\n");
    for shown in ["A1126-001", "已经办好了", "装修队"] {
        assert!(slip.contains(shown), "`{shown}` not on the slip:\n{slip}");
    }

    // The next batch carries the rating; the office sends the case back for supervision, and
    // the kiosk hears of it.
    clock.advance(TimeDelta::minutes(30));
    let rated = round(RoundMode::Scheduled);
    assert!(
        matches!(rated.batches[..], [BatchOutcome::Delivered { .. }]),
        "{rated:?}"
    );
    let case = block_on(office.db().case(&id)).unwrap().unwrap().case;
    assert_eq!(case.state, CaseState::Supervised);
    assert_eq!(case.rating, Some(Rating::Unsatisfied));
    let status = s.store().case_status("A1126-001").unwrap().unwrap();
    assert_eq!(status.state, CaseState::Supervised);
    assert_eq!(status.rating, Some(Rating::Unsatisfied));
}
