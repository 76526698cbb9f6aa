//! Write it yourself, on the real touch UI (Slint's testing backend): a resident writes with a
//! finger on the pad (pointer events along hand-written strokes), the real zinnia reads each
//! stroke on its own thread, the resident taps the right character among those offered, and
//! the words are filed: read back, printed on a serial printer (the emulator on a
//! pseudo-terminal, decoded) and uploaded to the real office. Pinyin on the keyboard tab, the
//! English keyboard, and a kiosk without the model round it off.

mod support;

use std::sync::Arc;
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use concern_kiosk::clock::{Clock, ManualClock};
use concern_kiosk::input_method::{Recognized, start_reader};
use concern_kiosk::office::Role;
use concern_kiosk::printer::open_printer;
use concern_kiosk::printer::print_queue::{DrainOutcome, PrintQueue};
use concern_kiosk::printer::printer_lock::PrinterLock;
use concern_kiosk::store::Store;
use concern_kiosk::ui::Kiosk;
use concern_kiosk::upload::uploader::{BatchOutcome, RoundMode};
use concern_kiosk::upload::uploader_from_config;
use slint::platform::{PointerEventButton, WindowEvent};
use slint::{ComponentHandle, LogicalPosition, Model};
use support::board_http;
use support::handwriting_samples::{SAMPLES, ink_for};
use support::kiosk_screen::{KioskScreen, open_screen, start};
use support::office::{KIOSK_TOKEN, TestOffice};
use support::printer_emulator::{EmulatorOptions, PrinterEmulator};

/// The recognizer answers in milliseconds; a loaded test machine may take far longer.
const ANSWER_WITHIN: Duration = Duration::from_secs(30);
/// A council member's password on the test office's board.
const BOARD_PASSWORD: &str = "correct horse battery";
/// "The streetlight downstairs is broken": six of the sample characters.
const WORDS: &str = "楼下路灯坏了";

/// Starts the real recognizer for the screen; its reports come back on the channel, which
/// the test hands to the controller as the UI loop would. Returns once the model is loaded.
fn start_handwriting(s: &KioskScreen) -> Receiver<Recognized> {
    let (tell, heard) = channel();
    let report = Box::new(move |recognized| {
        let _ = tell.send(recognized);
    });
    let reader = start_reader(&s.kiosk.load_config(), report).unwrap_or_else(|off| panic!("{off}"));
    s.controller.set_handwriting(Some(reader));
    deliver(s, &heard);
    heard
}

/// Hands the recognizer's next report to the controller.
fn deliver(s: &KioskScreen, heard: &Receiver<Recognized>) {
    let recognized = heard
        .recv_timeout(ANSWER_WITHIN)
        .expect("the recognizer answers");
    assert!(
        !matches!(recognized, Recognized::Failed(_)),
        "{recognized:?}"
    );
    s.controller.handwriting_recognized(recognized);
}

/// Writes `character` on the pad with pointer events along its sample strokes, each stroke
/// answered before the next begins, as a resident's pause between strokes allows.
fn write(s: &KioskScreen, character: char, heard: &Receiver<Recognized>) {
    let strokes = SAMPLES
        .iter()
        .find(|(c, _)| *c == character)
        .map(|(_, strokes)| *strokes)
        .unwrap_or_else(|| panic!("no sample of {character}"));
    let pad = s
        .find("写字板")
        .into_iter()
        .next()
        .expect("the writing pad shows");
    let origin = pad.absolute_position();
    let side = pad.size().width;
    let window = s.window.window();
    let at = |(x, y): (i32, i32)| LogicalPosition::new(origin.x + x as f32, origin.y + y as f32);
    for stroke in ink_for(strokes, side as u32).strokes() {
        let (first, rest) = stroke.split_first().expect("a stroke has points");
        window.dispatch_event(WindowEvent::PointerPressed {
            position: at(*first),
            button: PointerEventButton::Left,
        });
        for point in rest {
            window.dispatch_event(WindowEvent::PointerMoved {
                position: at(*point),
            });
        }
        window.dispatch_event(WindowEvent::PointerReleased {
            position: at(*stroke.last().unwrap_or(first)),
            button: PointerEventButton::Left,
        });
        deliver(s, heard);
    }
}

/// From Home to the writing screen's pinyin tab, by way of a repair.
fn open_pinyin(s: &KioskScreen) {
    s.tap("我要反映问题");
    s.tap("报修设施");
    s.tap("✍ 写几个字");
    s.tap("拼音");
}

/// Taps each letter on the keyboard.
fn type_letters(s: &KioskScreen, letters: &str) {
    for letter in letters.chars() {
        s.tap(&letter.to_string());
    }
}

/// The characters or words offered to choose from, in order.
fn candidates(s: &KioskScreen) -> Vec<String> {
    let kiosk = s.window.global::<Kiosk>();
    kiosk
        .get_candidates()
        .iter()
        .map(|c| c.to_string())
        .collect()
}

/// The words shown on the writing screen's text row, in either language.
fn written(s: &KioskScreen) -> String {
    ["你写的字", "Your words"]
        .into_iter()
        .flat_map(|label| s.find(label))
        .next()
        .and_then(|e| e.accessible_value())
        .map(|v| v.to_string())
        .unwrap_or_default()
}

#[test]
fn words_written_by_hand_are_read_back_printed_and_reach_the_office() {
    let office = TestOffice::start();
    let s = open_screen(|_| {});
    s.kiosk.upload_to(&office.url(), KIOSK_TOKEN);
    let port = s.kiosk.print_on_serial_port("text");
    s.tap("我要反映问题");
    s.tap("报修设施");
    assert!(!s.shows("✍ 写几个字"), "not before the model is loaded");
    let heard = start_handwriting(&s);
    s.tap("✍ 写几个字");
    assert!(s.shows("写几个字"), "the writing screen's title");
    for character in WORDS.chars() {
        write(&s, character, &heard);
        let offered = candidates(&s);
        assert!(
            offered.len() >= 8 && offered.contains(&character.to_string()),
            "{character} among {offered:?}"
        );
        s.tap(&character.to_string());
        assert!(candidates(&s).is_empty(), "the pad is clear again");
    }
    assert_eq!(written(&s), WORDS);
    s.tap("，");
    s.tap("删除");
    assert_eq!(written(&s), WORDS);

    // Done: back on Details with the words on their button, then read back on Confirm.
    s.tap("写好了");
    assert!(s.shows(&format!("✍ {WORDS}")));
    s.tap("下一步：在哪里");
    s.tap("跳过，不说地点");
    s.tap("不留电话（匿名）");
    assert!(s.shows(WORDS), "Confirm reads the words back");
    s.tap("提交");
    s.tap("完成");
    let filed = s.store().concern_by_ticket("A1126-001").unwrap().unwrap();
    assert_eq!(filed.concern.details.text.as_deref(), Some(WORDS));
    assert!(filed.concern.details.phrases.is_empty());

    // On paper, decoded from the bytes the printer received.
    let config = s.kiosk.load_config();
    let clock = Arc::new(ManualClock::new(start()));
    let printer = PrinterEmulator::plug_in_at(&port, EmulatorOptions::default()).unwrap();
    let lock = PrinterLock::try_acquire(&config.kiosk.data_dir)
        .unwrap()
        .unwrap();
    let (store, _) = Store::open(&config.kiosk.data_dir, clock.now()).unwrap();
    let mut queue = PrintQueue::new(
        store,
        open_printer(&config),
        config.clone(),
        lock,
        clock.clone(),
    )
    .unwrap();
    assert_eq!(queue.drain().unwrap(), DrainOutcome::Empty);
    let printouts = printer
        .wait_for_printouts(1, Duration::from_secs(20))
        .unwrap();
    assert_eq!(printer.decode_errors(), []);
    let receipt = printouts[0].lines().join("\n");
    assert!(receipt.contains(WORDS), "not on the receipt:\n{receipt}");

    // At the office, as written.
    let (store, _) = Store::open(&config.kiosk.data_dir, clock.now()).unwrap();
    let mut uploader = uploader_from_config(&config, store, clock).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let round = runtime
        .block_on(uploader.round(RoundMode::Scheduled))
        .unwrap();
    assert!(
        matches!(round.batches[..], [BatchOutcome::Delivered { .. }]),
        "{round:?}"
    );
    let db = rusqlite::Connection::open(&office.db).unwrap();
    let text: String = db
        .query_row("SELECT text FROM concerns", [], |r| r.get(0))
        .unwrap();
    assert_eq!(text, WORDS);

    // And on the case board, as the council reads it.
    let added = office
        .office
        .add_account("li", Role::Council, BOARD_PASSWORD);
    futures::executor::block_on(added).unwrap();
    let board = runtime.block_on(async {
        let http = board_http::client();
        let session = board_http::sign_in(&http, &office.url(), "li", BOARD_PASSWORD).await;
        let page = http
            .get(format!("{}/board/", office.url()))
            .header("cookie", session)
            .send()
            .await
            .unwrap();
        page.text().await.unwrap()
    });
    assert!(board.contains(&format!("报修设施：{WORDS}")), "{board}");
}

#[test]
fn pinyin_offers_whole_words_and_english_types_its_letters() {
    let s = open_screen(|_| {});
    let _heard = start_handwriting(&s);
    open_pinyin(&s);
    type_letters(&s, "loudao");
    let offered = candidates(&s);
    assert!(
        offered.iter().take(3).any(|word| word == "楼道"),
        "楼道 among the first of {offered:?}"
    );
    s.tap("楼道");
    assert_eq!(written(&s), "楼道");
    assert!(candidates(&s).is_empty());
    // Delete takes back a letter typed too many before it takes a character.
    s.tap("d");
    s.tap("删除");
    assert_eq!(written(&s), "楼道");
    assert!(candidates(&s).is_empty());

    // In English, the same keys type the letters themselves.
    s.tap("English");
    type_letters(&s, "gate");
    s.tap("Space");
    assert_eq!(written(&s), "楼道gate ");
    s.tap("Done");
    s.tap("Next: where is it?");
    assert!(s.shows("Where is it?"));
}

#[test]
fn without_the_model_there_is_no_writing_button_and_doctor_says_why() {
    let missing = "/usr/share/tegaki/models/zinnia/not-installed.model";
    let s = open_screen(|_| {});
    s.kiosk.set_key("model", &format!("{missing:?}"));
    let off = start_reader(&s.kiosk.load_config(), Box::new(|_| {}))
        .err()
        .expect("no model, no reader");
    assert!(off.to_string().contains(missing), "{off}");
    s.controller.set_handwriting(None);
    s.tap("我要反映问题");
    s.tap("报修设施");
    assert!(!s.shows("✍ 写几个字"), "no handwriting, no button");
    assert!(s.shows("马上提交"), "the phrases still work");

    let output = s.kiosk.command(&["doctor"]).output().unwrap();
    let report = String::from_utf8_lossy(&output.stdout).to_string();
    let line = report
        .lines()
        .find(|l| l.contains("handwriting"))
        .unwrap_or_else(|| panic!("no handwriting line in {report}"));
    assert!(
        line.starts_with("WARN")
            && line.contains(missing)
            && line.contains("tegaki-zinnia-simplified-chinese"),
        "{line}"
    );
}

#[test]
fn a_character_the_printer_cannot_print_is_named_before_filing() {
    // Raster mode draws with GB2312 bitmaps, which lack 裞 (a rare reading of shui).
    let s = open_screen(|config| config.printer.mode = concern_kiosk::paper::PrintMode::Raster);
    let _heard = start_handwriting(&s);
    open_pinyin(&s);
    type_letters(&s, "shui");
    s.tap("水");
    type_letters(&s, "shui");
    s.tap("裞");
    s.tap("写好了");
    // "Submit now" stops at Confirm to say so, rather than print □ unannounced.
    s.tap("马上提交");
    assert!(s.shows("水裞"), "Confirm reads the words back");
    assert!(
        s.shows("打印机印不出“裞”：回执上会印成□，社区收到的是您写的原字。"),
        "the notice names the character"
    );
    s.tap("提交");
    let filed = s.store().concern_by_ticket("A1126-001").unwrap().unwrap();
    assert_eq!(filed.concern.details.text.as_deref(), Some("水裞"));
}
