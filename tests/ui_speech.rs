//! What the kiosk says aloud, through the real touch UI: the window on Slint's testing backend
//! with mock time, the real speaker and espeak-ng, and a sound card that records instead of
//! playing. Each resident screen is said as it appears, a tap cuts speech short, "Read it to
//! me" says it again, staff's volume lasts until the next resident, a PIN is never said, quiet
//! hours keep the kiosk quiet unless asked, and a kiosk that cannot speak shows no button.

mod support;

use std::sync::mpsc::Receiver;
use std::time::Duration;

use chrono::NaiveTime;
use concern_kiosk::concern::Lang;
use concern_kiosk::config::{DEMO_PIN_HASH, DailyWindow};
use concern_kiosk::speech::{CheckTrouble, Prompt, Spoken};
use concern_kiosk::ui::screenshots::{SAMPLE_CHECK_CODE, SAMPLE_TICKETS, sample_answered_cases};
use concern_kiosk::ui::staff::DEMO_PIN;
use support::kiosk_screen::{KioskScreen, open_speaking_screen, start};
use support::recording_sink::{HEARD_WITHIN, RecordingSink};

/// Long enough for a prompt that was asked for to have been reported: rendering takes tens of
/// milliseconds and the fast sink plays a prompt in a few more.
const NOTHING_SAID_FOR: Duration = Duration::from_millis(800);

/// How the next prompt ended.
fn next(heard: &Receiver<Spoken>) -> Spoken {
    heard
        .recv_timeout(HEARD_WITHIN)
        .expect("the kiosk said nothing")
}

/// The words of the next prompt, spoken whole.
fn said(heard: &Receiver<Spoken>) -> String {
    match next(heard) {
        Spoken::Whole { text, .. } => text,
        other => panic!("not spoken whole: {other:?}"),
    }
}

fn assert_silent(heard: &Receiver<Spoken>) {
    if let Ok(spoken) = heard.recv_timeout(NOTHING_SAID_FOR) {
        panic!("the kiosk said {spoken:?}");
    }
}

/// Taps each digit of `digits` on the keypad shown, hearing each said before the next.
fn type_heard(s: &KioskScreen, heard: &Receiver<Spoken>, digits: &str) {
    for digit in digits.chars().filter(char::is_ascii_digit) {
        let label = digit.to_string();
        s.tap(&label);
        assert_eq!(said(heard), zh(Prompt::Tapped { label }));
    }
}

fn zh(prompt: Prompt) -> String {
    prompt.text(Lang::ZhCn)
}

#[test]
fn each_screen_of_a_report_is_said_as_it_appears_and_done_says_the_ticket_digit_by_digit() {
    let (s, heard) = open_speaking_screen(RecordingSink::fast(), |_| {});
    // Home is what an empty hall sees: said only when asked.
    assert_silent(&heard);
    s.tap("读给我听");
    assert_eq!(said(&heard), zh(Prompt::Home));
    s.tap("我要反映问题");
    assert_eq!(said(&heard), zh(Prompt::Category));
    s.tap("环境卫生");
    let details = said(&heard);
    assert_eq!(
        details,
        zh(Prompt::Details {
            category: "环境卫生".into()
        })
    );
    assert!(details.contains("您选的是环境卫生"), "{details}");
    s.tap("垃圾没有及时清运");
    assert_eq!(said(&heard), "垃圾没有及时清运，选上了");
    s.tap("下一步：在哪里");
    assert_eq!(said(&heard), zh(Prompt::Place));
    s.tap("我家楼栋");
    assert_eq!(said(&heard), zh(Prompt::Address));
    type_heard(&s, &heard, "1");
    s.tap("确定");
    assert_eq!(said(&heard), zh(Prompt::Contact));
    s.tap("留电话");
    assert_eq!(said(&heard), zh(Prompt::Phone));
    type_heard(&s, &heard, "13812345678");
    s.tap("确定");
    let confirm = said(&heard);
    assert!(
        confirm.starts_with("请核对：类别，环境卫生；事项，垃圾没有及时清运；地点，1幢"),
        "{confirm}"
    );
    s.tap("提交");
    let done = said(&heard);
    let filed = s.controller.filed().expect("the concern is filed");
    let config = s.kiosk.load_config();
    assert_eq!(
        done,
        zh(Prompt::Done {
            ticket: filed.ticket.clone(),
            colour: filed.details.colour,
            days: config.triage.days(filed.details.colour),
            due: filed.details.due_date,
            printed: true,
        })
    );
    assert_eq!(filed.ticket, "A1126-001");
    assert!(done.contains("您的编号是A 一一二六 杠 零零一"), "{done}");
    assert!(done.contains("十二月三日前"), "due 7 days on: {done}");
    assert!(done.ends_with("请取走下面的回执。"), "{done}");
    assert!(
        !done.contains("1126"),
        "the ticket is never read as a number: {done}"
    );
    // "Read it to me" says the number again.
    s.tap("读给我听");
    assert_eq!(said(&heard), done);
    // Back Home for the next resident, unsaid.
    s.tap("完成");
    assert_silent(&heard);
}

#[test]
fn the_idle_warning_says_its_question_and_countdown_once() {
    let (s, heard) = open_speaking_screen(RecordingSink::fast(), |_| {});
    s.tap("我要反映问题");
    assert_eq!(said(&heard), zh(Prompt::Category));
    i_slint_backend_testing::mock_elapsed_time(Duration::from_secs(61));
    let warning = said(&heard);
    assert_eq!(warning, zh(Prompt::IdleWarning { seconds_left: 30 }));
    assert!(warning.contains("30秒后会清除"), "{warning}");
    // The countdown ticks on the screen without being said again.
    for _ in 0..3 {
        i_slint_backend_testing::mock_elapsed_time(Duration::from_secs(1));
    }
    assert_silent(&heard);
    s.tap("我还需要时间");
    assert_eq!(said(&heard), zh(Prompt::Category));
}

#[test]
fn check_my_concern_says_the_state_and_the_reply_once_the_code_is_in() {
    let (s, heard) = open_speaking_screen(RecordingSink::fast(), |_| {});
    s.store()
        .apply_updates(&sample_answered_cases(), start())
        .unwrap();
    s.tap("查询办理进度");
    assert_eq!(said(&heard), zh(Prompt::Check));
    type_heard(&s, &heard, SAMPLE_TICKETS[0]);
    s.tap("查询");
    let locked = said(&heard);
    assert!(
        locked.starts_with("编号A 一一二零 杠 零零三。已经办好了"),
        "{locked}"
    );
    assert!(locked.contains("请点“输入查询码”"), "{locked}");
    s.tap("输入查询码");
    assert_eq!(said(&heard), zh(Prompt::CheckCode));
    // A wrong code is said as such.
    type_heard(&s, &heard, "0000");
    s.tap("看答复");
    assert_eq!(
        said(&heard),
        zh(Prompt::CheckTrouble(CheckTrouble::WrongCode))
    );
    for _ in 0..4 {
        s.tap("删除");
    }
    type_heard(&s, &heard, SAMPLE_CHECK_CODE);
    s.tap("看答复");
    let answered = said(&heard);
    assert!(
        answered.contains("社区的答复：物业已经换好了3幢2单元的楼道灯"),
        "{answered}"
    );
    // The phone number in the reply is read digit by digit.
    assert!(answered.contains("零五七一 杠 八八八八"), "{answered}");
    s.tap("评价");
    assert_eq!(said(&heard), zh(Prompt::Rate));
}

#[test]
fn an_unknown_number_is_said_with_the_hotline() {
    let (s, heard) = open_speaking_screen(RecordingSink::fast(), |_| {});
    s.tap("查询办理进度");
    assert_eq!(said(&heard), zh(Prompt::Check));
    type_heard(&s, &heard, "1126009");
    s.tap("查询");
    let not_found = said(&heard);
    assert!(
        not_found.starts_with("没有找到编号A 一一二六 杠 零零九。请打电话"),
        "{not_found}"
    );
}

#[test]
fn english_mode_speaks_english_from_the_language_tap_on() {
    let (s, heard) = open_speaking_screen(RecordingSink::fast(), |_| {});
    s.tap("English");
    assert_eq!(said(&heard), Prompt::Home.text(Lang::En));
    s.tap("Report a concern");
    assert_eq!(said(&heard), Prompt::Category.text(Lang::En));
    s.tap("Read it to me");
    assert_eq!(said(&heard), Prompt::Category.text(Lang::En));
}

#[test]
fn a_tap_while_the_kiosk_speaks_stops_it() {
    // Played at its real pace, so each tap lands while a prompt plays.
    let sink = RecordingSink::real_time();
    let (s, heard) = open_speaking_screen(sink.clone(), |_| {});
    let cut_short = |prompt: Prompt| match next(&heard) {
        Spoken::CutShort {
            text,
            after_samples,
        } => {
            assert_eq!(text, zh(prompt));
            assert!(after_samples > 0);
        }
        other => panic!("not cut short: {other:?}"),
    };
    s.tap("我要反映问题");
    sink.wait_until_playing();
    s.tap("环境卫生");
    cut_short(Prompt::Category);
    sink.wait_until_playing();
    s.tap("垃圾没有及时清运");
    cut_short(Prompt::Details {
        category: "环境卫生".into(),
    });
    sink.wait_until_playing();
    s.tap("下一步：在哪里");
    cut_short(Prompt::Toggled {
        label: "垃圾没有及时清运".into(),
        chosen: true,
    });
    sink.wait_until_playing();
    s.tap("我家楼栋");
    cut_short(Prompt::Place);
    sink.wait_until_playing();
    // "Delete" says nothing of its own: it only stops the address prompt.
    s.tap("删除");
    cut_short(Prompt::Address);
    assert!(!sink.playing.load(std::sync::atomic::Ordering::SeqCst));
}

#[test]
fn the_volume_staff_set_lasts_until_the_next_resident_and_a_pin_is_never_said() {
    let (s, heard) = open_speaking_screen(RecordingSink::fast(), |config| {
        config.staff.pin_hash = Some(DEMO_PIN_HASH.into());
    });
    s.tap("工作人员");
    assert_silent(&heard);
    s.type_digits(DEMO_PIN);
    s.tap("确定");
    assert_silent(&heard);
    assert!(s.shows("朗读音量：80%"));
    s.tap("大声一点");
    assert_eq!(
        next(&heard),
        Spoken::Whole {
            text: zh(Prompt::Volume { percent: 90 }),
            volume: 90
        }
    );
    assert!(s.shows("朗读音量：90%"));
    // Staff hand the kiosk to the resident they are helping: still at 90.
    s.tap("‹ 返回");
    s.tap("我要反映问题");
    assert_eq!(
        next(&heard),
        Spoken::Whole {
            text: zh(Prompt::Category),
            volume: 90
        }
    );
    // That resident leaves; the next one starts at the configured level.
    s.tap("‹ 返回");
    s.tap("我要反映问题");
    assert_eq!(
        next(&heard),
        Spoken::Whole {
            text: zh(Prompt::Category),
            volume: 80
        }
    );
}

#[test]
fn in_quiet_hours_screens_are_not_read_out_unless_asked() {
    let (s, heard) = open_speaking_screen(RecordingSink::fast(), |config| {
        // The screen tests' morning is 10:30.
        config.speech.quiet_hours = Some(DailyWindow {
            start: NaiveTime::from_hms_opt(10, 0, 0).unwrap(),
            end: NaiveTime::from_hms_opt(11, 0, 0).unwrap(),
        });
    });
    s.tap("我要反映问题");
    s.tap("环境卫生");
    s.tap("垃圾没有及时清运");
    assert_silent(&heard);
    s.tap("读给我听");
    assert_eq!(
        said(&heard),
        zh(Prompt::Details {
            category: "环境卫生".into()
        })
    );
}

#[test]
fn a_kiosk_that_cannot_speak_shows_no_read_aloud_button_and_works_as_before() {
    let (s, _) = open_speaking_screen(RecordingSink::fast(), |_| {});
    assert!(s.shows("读给我听"));
    s.controller.set_speaker(None);
    assert!(!s.shows("读给我听"));
    s.tap("我要反映问题");
    assert!(!s.shows("读给我听"));
    s.tap("环境卫生");
    s.tap("垃圾没有及时清运");
    s.tap("马上提交");
    assert!(s.shows("请取走下方打印的回执。"));
}
