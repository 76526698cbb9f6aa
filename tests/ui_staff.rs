//! Staff mode through the real touch UI, headless: the PIN pad behind Home's staff key, the
//! lock after five wrong PINs, the audit log, and the menu's reprint by ticket number.

mod support;

use concern_kiosk::config::DEMO_PIN_HASH;
use concern_kiosk::ui::staff::DEMO_PIN;
use support::kiosk_screen::{KioskScreen, open_screen};

fn open() -> KioskScreen {
    open_screen(|config| config.staff.pin_hash = Some(DEMO_PIN_HASH.into()))
}

fn type_pin(s: &KioskScreen, pin: &str) {
    for digit in pin.chars() {
        s.tap(&digit.to_string());
    }
    s.tap("确定");
}

/// The staff-PIN entries of the audit log, oldest first.
fn audit_actions(s: &KioskScreen) -> Vec<String> {
    let mut actions: Vec<String> = s
        .store()
        .audit_log(100)
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .filter(|a| a.starts_with("staff-pin"))
        .collect();
    actions.reverse();
    actions
}

#[test]
fn five_wrong_pins_lock_the_staff_menu() {
    let s = open();
    s.tap("工作人员");
    assert!(s.shows("工作人员密码"));
    for left in (1..=4).rev() {
        type_pin(&s, "1111");
        assert!(s.shows(&format!("密码不对。还可以试 {left} 次。")));
    }
    type_pin(&s, "1111");
    assert!(s.shows("输错太多次，10:35 前不能再试。"));
    // The right PIN does not open it while locked.
    type_pin(&s, DEMO_PIN);
    assert!(!s.shows("工作人员菜单"));
    assert!(s.shows("输错太多次，10:35 前不能再试。"));
    let mut expected = vec!["staff-pin-wrong".to_string(); 4];
    expected.extend([
        "staff-pin-locked".to_string(),
        "staff-pin-locked".to_string(),
    ]);
    assert_eq!(
        audit_actions(&s),
        expected,
        "every attempt is in the audit log"
    );
}

#[test]
fn the_right_pin_opens_the_menu_and_a_receipt_can_be_reprinted() {
    let s = open();
    // A concern to reprint, filed by the touchscreen.
    s.tap("我要反映问题");
    s.tap("噪音扰民");
    s.tap("晚上装修太吵");
    s.tap("马上提交");
    s.tap("完成");

    s.tap("工作人员");
    type_pin(&s, DEMO_PIN);
    assert!(s.shows("工作人员菜单"));
    assert_eq!(audit_actions(&s), ["staff-pin-accepted"]);
    s.tap("补打回执");
    for digit in "1126001".chars() {
        s.tap(&digit.to_string());
    }
    s.tap("补打");
    assert!(s.shows("A1126-001 的回执已排队补打。"));
    let store = s.store();
    let reprints = store
        .audit_log(100)
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "reprint" && e.detail == "A1126-001")
        .count();
    assert_eq!(reprints, 1);
}

#[test]
fn the_staff_menu_leaves_itself_after_two_minutes_untouched() {
    let s = open();
    s.tap("工作人员");
    type_pin(&s, DEMO_PIN);
    assert!(s.shows("工作人员菜单"));
    i_slint_backend_testing::mock_elapsed_time(std::time::Duration::from_secs(119));
    assert!(s.shows("工作人员菜单"));
    i_slint_backend_testing::mock_elapsed_time(std::time::Duration::from_secs(2));
    assert!(!s.shows("工作人员菜单"));
    assert!(s.shows("我要反映问题"), "Home is back");
}
