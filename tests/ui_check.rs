//! "Check my concern" through the real touch UI, headless: the ticket on the keypad, the check
//! code that unlocks the reply, the rating, a USB barcode scanner's key presses, and the kind
//! words for an unknown number or a scan that is no receipt. Slint's testing backend with mock
//! time, a real SQLite file, the office's answers applied to it as `GET /v1/updates` brings them.

mod support;

use std::time::Duration;

use concern_kiosk::concern::{Lang, Rating};
use concern_kiosk::receipt::promise_line;
use concern_kiosk::ui::screenshots::{
    SAMPLE_CHECK_CODE, SAMPLE_REPLY, SAMPLE_TICKETS, SAMPLE_TRACKING_CODES, sample_answered_cases,
};
use support::kiosk_screen::{KioskScreen, open_screen, start};

/// The kiosk with the office's answers to the sample cases already arrived.
fn open_with_answers() -> KioskScreen {
    let s = open_screen(|_| {});
    s.store()
        .apply_updates(&sample_answered_cases(), start())
        .unwrap();
    s
}

/// Home → Check my concern → the ticket's digits → Look up.
fn look_up(s: &KioskScreen, ticket: &str) {
    s.tap("查询办理进度");
    s.type_digits(ticket);
    s.tap("查询");
}

/// The ticket number the Check screen shows (its label is "编号").
fn typed_ticket(s: &KioskScreen) -> String {
    s.find("编号")
        .first()
        .and_then(|e| e.accessible_value())
        .map(|v| v.to_string())
        .unwrap_or_default()
}

#[test]
fn a_concern_filed_here_is_received_with_its_promise_and_no_reply() {
    let s = open_screen(|_| {});
    s.tap("我要反映问题");
    s.tap("噪音扰民");
    s.tap("晚上装修太吵");
    s.tap("马上提交");
    s.tap("完成");

    s.tap("查询办理进度");
    assert_eq!(typed_ticket(&s), "A", "the kiosk's prefix is there already");
    s.type_digits("1126");
    assert_eq!(typed_ticket(&s), "A1126");
    s.type_digits("001");
    assert_eq!(typed_ticket(&s), "A1126-001");
    s.tap("查询");
    assert!(s.shows("收到了"));
    assert!(
        s.shows("信息更新于 10:30"),
        "no news yet: when it was filed"
    );
    let filed = s.store().concern_by_ticket("A1126-001").unwrap().unwrap();
    let d = filed.concern.details;
    let promise = promise_line(d.colour, d.due_date, &s.kiosk.load_config(), Lang::ZhCn);
    assert!(s.shows(&format!("噪音扰民。{promise}")), "{promise}");
    assert!(s.shows("有查询码？输入查询码看答复"));
    assert!(!s.shows("评价"), "nothing to rate without an answer");
}

#[test]
fn the_reply_shows_only_with_the_check_code_and_one_tap_rates_it() {
    let s = open_with_answers();
    look_up(&s, SAMPLE_TICKETS[0]);
    assert!(s.shows("已经办好了"));
    assert!(s.shows("信息更新于 11月25日 16:20"));
    assert!(
        !s.shows(SAMPLE_REPLY),
        "a ticket alone never shows the reply"
    );
    assert!(!s.shows("评价"));

    s.tap("输入查询码");
    s.type_digits("0000");
    s.tap("看答复");
    assert!(s.shows("查询码不对，请再看一下回执。"));
    assert!(!s.shows(SAMPLE_REPLY));
    s.type_digits(SAMPLE_CHECK_CODE);
    s.tap("看答复");
    assert!(s.shows(SAMPLE_REPLY));

    s.tap("评价");
    for rating in Rating::ALL {
        assert!(s.shows(&rating.label().zh), "{rating:?}");
    }
    s.tap("不满意");
    assert!(s.shows("谢谢您的评价：不满意"));
    assert!(!s.shows("评价"), "one rating per case");
    let status = s.store().case_status(SAMPLE_TICKETS[0]).unwrap().unwrap();
    assert_eq!(status.rating, Some(Rating::Unsatisfied));

    // Looked up again later, the rating given is shown, and not asked for again.
    s.tap("完成");
    look_up(&s, SAMPLE_TICKETS[0]);
    s.tap("输入查询码");
    s.type_digits(SAMPLE_CHECK_CODE);
    s.tap("看答复");
    assert!(s.shows("您的评价：不满意"));
    assert!(!s.shows("评价"));
}

#[test]
fn five_wrong_check_codes_lock_the_ticket_even_against_the_right_one() {
    let s = open_with_answers();
    look_up(&s, SAMPLE_TICKETS[0]);
    s.tap("输入查询码");
    for _ in 0..4 {
        s.type_digits("1111");
        s.tap("看答复");
        assert!(s.shows("查询码不对，请再看一下回执。"));
    }
    s.type_digits("1111");
    s.tap("看答复");
    assert!(s.shows("输错太多次了，请找工作人员帮忙。"));
    s.type_digits(SAMPLE_CHECK_CODE);
    s.tap("看答复");
    assert!(s.shows("输错太多次了，请找工作人员帮忙。"));
    assert!(!s.shows(SAMPLE_REPLY));
}

#[test]
fn a_scanned_receipt_opens_its_case_with_the_reply_from_home() {
    let s = open_with_answers();
    assert!(s.shows("查询办理进度"), "Home");
    s.scan(&format!(
        "http://127.0.0.1:8470/status/{}",
        SAMPLE_TRACKING_CODES[1]
    ));
    assert!(s.shows(SAMPLE_TICKETS[1]), "the header names the ticket");
    assert!(s.shows(SAMPLE_REPLY), "the scan proves the receipt");
    assert!(s.shows("评价"));
}

#[test]
fn a_scan_that_is_no_receipt_gets_a_kind_word_and_the_next_good_scan_works() {
    let s = open_with_answers();
    s.scan("6901234567892");
    assert!(s.shows("这不是回执的二维码，请输入编号。"));
    assert!(s.shows("我要反映问题"), "still Home");
    // A stuck key: far more than any receipt's code, thrown away as a whole.
    s.scan(&"7".repeat(5000));
    assert!(s.shows("这不是回执的二维码，请输入编号。"));
    assert!(s.shows("我要反映问题"));

    s.tap("查询办理进度");
    s.scan("hello");
    assert!(
        s.shows("这不是回执的二维码，请输入编号。"),
        "on the Check screen too"
    );
    s.scan(SAMPLE_TRACKING_CODES[0]);
    assert!(s.shows(SAMPLE_REPLY));
}

#[test]
fn an_unknown_number_is_answered_kindly_with_the_hotline() {
    let s = open_with_answers();
    s.tap("查询办理进度");
    s.type_digits("11201001");
    assert_eq!(typed_ticket(&s), "A1120-1001", "a fourth sequence digit");
    s.tap("查询");
    assert!(s.shows("没有找到这个号码，请拨打 0571-0000 0000。"));
    s.tap("重新输入");
    assert_eq!(
        typed_ticket(&s),
        "A1120-1001",
        "the number is there to correct"
    );
}

#[test]
fn the_answer_goes_back_home_by_itself() {
    let s = open_with_answers();
    s.scan(SAMPLE_TRACKING_CODES[0]);
    assert!(s.shows(SAMPLE_REPLY));
    i_slint_backend_testing::mock_elapsed_time(Duration::from_secs(61));
    assert!(s.shows("我还需要时间"));
    for _ in 0..30 {
        i_slint_backend_testing::mock_elapsed_time(Duration::from_secs(1));
    }
    assert!(s.shows("我要反映问题"), "Home is back");
    assert!(
        !s.shows(SAMPLE_REPLY),
        "the next person does not see the reply"
    );
}
