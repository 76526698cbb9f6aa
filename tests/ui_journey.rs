//! The resident's journey through the real touch UI, headless: Slint's testing backend with mock
//! time, a real SQLite file in a temporary folder, the reference config. Elements are found by
//! their accessible label and role, the way a screen reader would, and tapped.

mod support;

use std::time::Duration;

use concern_kiosk::printer::PrinterStatus;
use support::kiosk_screen::{KioskScreen, open_screen, start};

fn open() -> KioskScreen {
    open_screen(|_| {})
}

/// The ticket number Done shows (its label is "编号", "ticket number" in Chinese).
fn ticket_label(s: &KioskScreen) -> String {
    s.find("编号")
        .first()
        .and_then(|e| e.accessible_value())
        .map(|v| v.to_string())
        .unwrap_or_default()
}

/// A filed concern as the test checks it: ticket, category, location, phone.
type Row = (String, String, Option<String>, Option<String>);

/// The day's concerns in the kiosk's database, read back through the store.
fn concerns_in_db(s: &KioskScreen) -> Vec<Row> {
    let day = start().date_naive();
    s.store()
        .concerns_between(Some(day), Some(day))
        .unwrap()
        .into_iter()
        .map(|r| {
            let d = r.concern.details;
            (r.concern.ticket, d.category, d.location, d.phone)
        })
        .collect()
}

#[test]
fn the_full_journey_files_the_concern_and_queues_its_receipt() {
    let s = open();
    // Chinese first.
    assert!(s.shows("我要反映问题"));
    s.tap("我要反映问题");
    s.tap("环境卫生");
    s.tap("垃圾没有及时清运");
    s.tap("有人乱扔垃圾");
    s.tap("下一步：在哪里");
    s.tap("我家楼栋");
    s.tap("1");
    s.tap("2");
    s.tap("单元");
    s.tap("3");
    s.tap("确定");
    s.tap("留电话");
    for digit in "13812345678".chars() {
        s.tap(&digit.to_string());
    }
    s.tap("确定");
    // Confirm reads it all back.
    assert!(s.shows("请核对"));
    s.tap("提交");

    assert_eq!(ticket_label(&s), "A1126-001");
    assert!(s.shows("请取走下方打印的回执。"));
    let rows = concerns_in_db(&s);
    assert_eq!(
        rows,
        [(
            "A1126-001".to_string(),
            "sanitation".to_string(),
            Some("12幢3单元".to_string()),
            Some("13812345678".to_string())
        )]
    );
    let filed = s.controller.filed().unwrap();
    let store = s.store();
    assert!(
        store
            .receipt_job_for(&filed.details.id.to_string())
            .unwrap()
            .is_some(),
        "the receipt is queued for the printer"
    );
    assert_eq!(filed.details.phrases.len(), 2);
}

#[test]
fn four_taps_from_home_file_a_preset_concern() {
    let s = open();
    s.tap("我要反映问题");
    s.tap("噪音扰民");
    s.tap("晚上装修太吵");
    s.tap("马上提交");
    assert_eq!(ticket_label(&s), "A1126-001");
    let rows = concerns_in_db(&s);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].1, "noise");
    assert_eq!(rows[0].2, None, "Where was skipped");
    assert_eq!(rows[0].3, None, "anonymous by default");
}

#[test]
fn the_idle_warning_comes_after_a_minute_and_more_time_keeps_the_draft() {
    let s = open();
    s.tap("我要反映问题");
    s.tap("环境卫生");
    s.tap("垃圾桶满出来了");
    i_slint_backend_testing::mock_elapsed_time(Duration::from_secs(59));
    assert!(!s.shows("我还需要时间"));
    i_slint_backend_testing::mock_elapsed_time(Duration::from_secs(2));
    assert!(s.shows("我还需要时间"), "the warning shows after 60 s");
    assert!(s.shows("30 秒后将清除您填写的内容。"));
    for _ in 0..10 {
        i_slint_backend_testing::mock_elapsed_time(Duration::from_secs(1));
    }
    assert!(
        s.shows("20 秒后将清除您填写的内容。"),
        "the countdown is visible"
    );
    s.tap("我还需要时间");
    assert!(!s.shows("我还需要时间"));
    // The chosen phrase is still chosen.
    assert_eq!(s.button("垃圾桶满出来了").accessible_checked(), Some(true));
}

#[test]
fn without_an_answer_the_draft_is_discarded_and_home_comes_back() {
    let s = open();
    s.tap("我要反映问题");
    s.tap("环境卫生");
    s.tap("垃圾桶满出来了");
    i_slint_backend_testing::mock_elapsed_time(Duration::from_secs(61));
    assert!(s.shows("我还需要时间"));
    for _ in 0..30 {
        i_slint_backend_testing::mock_elapsed_time(Duration::from_secs(1));
    }
    assert!(s.shows("我要反映问题"), "Home is back");
    assert!(!s.shows("我还需要时间"));
    // The next person starts from nothing.
    s.tap("我要反映问题");
    s.tap("环境卫生");
    assert_eq!(s.button("垃圾桶满出来了").accessible_checked(), Some(false));
    assert!(concerns_in_db(&s).is_empty());
}

#[test]
fn the_language_toggle_switches_every_visible_label() {
    let s = open();
    assert!(s.shows("我要反映问题"));
    assert!(s.shows("万家星城社区"));
    s.tap("English");
    assert!(s.shows("Report a concern"));
    assert!(s.shows("Wanjia Xingcheng Community"));
    assert!(!s.shows("我要反映问题"));
    assert!(!s.shows("万家星城社区"));
    s.tap("Report a concern");
    assert!(s.shows("Cleanliness"));
    assert!(!s.shows("环境卫生"));
    assert!(s.shows("‹ Back"));
    s.tap("中文");
    assert!(s.shows("环境卫生"));
    assert!(s.shows("‹ 返回"));
    assert!(!s.shows("Cleanliness"));
}

#[test]
fn when_the_printer_has_a_fault_done_asks_to_note_the_ticket_number() {
    let s = open();
    // What the print task reports when the paper runs out.
    s.controller.printer_status_changed(PrinterStatus::PaperOut);
    s.tap("我要反映问题");
    s.tap("噪音扰民");
    s.tap("晚上装修太吵");
    s.tap("马上提交");
    assert_eq!(ticket_label(&s), "A1126-001");
    assert!(s.shows("打印机需要处理。请记下您的编号：A1126-001，工作人员会为您补打回执。"));
    assert!(!s.shows("请取走下方打印的回执。"));
    assert_eq!(concerns_in_db(&s).len(), 1, "the concern is stored anyway");
}
