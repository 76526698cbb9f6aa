//! What each resident screen says when it appears, in words made for the ear: the screen's
//! title and what to do, the ticket number digit by digit and the promise's date in words on
//! Done, the countdown on the idle warning, the state and the office's reply on a result.
//! Categories, phrases and places come from the config as text, so a new config needs no
//! recording.

use chrono::NaiveDate;

use super::spoken_text::{config_text, date, one_by_one};
use crate::concern::{Colour, Lang};

/// Why Check my concern could not go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckTrouble {
    UnreadableScan,
    WrongCode,
    TooManyTries,
    Unavailable,
}

/// A screen as it is spoken, with what the screen shows that changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prompt {
    Home,
    Category,
    Emergency,
    Details {
        category: String,
    },
    Place,
    /// Where, with the keypad for the building and unit open.
    Address,
    Contact,
    /// Contact, with the keypad for the phone number open.
    Phone,
    Confirm {
        category: String,
        what: String,
        /// The resident's own words, written or typed.
        words: Option<String>,
        place: Option<String>,
    },
    /// Write it yourself, on the handwriting pad or on the keyboard.
    Writing {
        keyboard: bool,
    },
    Done {
        ticket: String,
        colour: Colour,
        days: u32,
        due: NaiveDate,
        printed: bool,
    },
    IdleWarning {
        seconds_left: u32,
    },
    Check,
    CheckCode,
    /// Check my concern could not go on: said instead of the screen's prompt.
    CheckTrouble(CheckTrouble),
    Result {
        ticket: String,
        state: String,
        /// The office's reply, once the receipt is proved (its check code or QR code).
        reply: Option<String>,
        unlocked: bool,
    },
    /// No case has this number.
    NotFound {
        ticket: String,
        hotline: String,
    },
    Rate,
    /// The Result screen just after the rating.
    Thanked,
    /// The staff menu's volume, said at that volume so staff hear what the resident will.
    Volume {
        percent: u8,
    },
    /// What a resident tapped: its label, from the screen or the config.
    Tapped {
        label: String,
    },
    /// A phrase tapped on Details, and whether it is now chosen.
    Toggled {
        label: String,
        chosen: bool,
    },
}

impl Prompt {
    /// The prompts that are the same for every resident, which the kiosk renders ahead.
    pub fn same_for_everyone() -> Vec<Prompt> {
        let mut prompts = vec![
            Prompt::Home,
            Prompt::Category,
            Prompt::Emergency,
            Prompt::Place,
            Prompt::Address,
            Prompt::Contact,
            Prompt::Phone,
            Prompt::Check,
            Prompt::CheckCode,
            Prompt::Rate,
            Prompt::Thanked,
            Prompt::Writing { keyboard: false },
            Prompt::Writing { keyboard: true },
        ];
        prompts.extend(
            [
                CheckTrouble::UnreadableScan,
                CheckTrouble::WrongCode,
                CheckTrouble::TooManyTries,
                CheckTrouble::Unavailable,
            ]
            .map(Prompt::CheckTrouble),
        );
        prompts
    }

    /// The words to speak, in `lang`.
    pub fn text(&self, lang: Lang) -> String {
        let zh = lang == Lang::ZhCn;
        let pick = |zh_text: &str, en_text: &str| if zh { zh_text } else { en_text }.to_string();
        match self {
            Prompt::Home => pick(
                "您好。要反映问题，请点“我要反映问题”；查进度，请点“查询办理进度”。",
                "Hello. To report a concern, tap Report a concern. To check one, tap Check my concern.",
            ),
            Prompt::Category => pick(
                "请选择问题类别，点一下就可以。",
                "Please pick a topic. One tap is enough.",
            ),
            Prompt::Emergency => pick(
                "如果有人受伤或有危险，请马上拨打电话一一零或一二零。不紧急的话，请点“继续反映”。",
                "If someone is hurt or in danger, call one one zero or one two zero now. If not, tap Continue.",
            ),
            Prompt::Details { category } => {
                let category = config_text(category, lang);
                if zh {
                    format!("您选的是{category}。请点一下是什么事，可以选几项，然后点下一步。")
                } else {
                    format!(
                        "You chose {category}. Tap what it is about, one or more, then tap Next."
                    )
                }
            }
            Prompt::Place => pick(
                "在哪里？请点一个地方，或者输入楼号。不想说可以跳过。",
                "Where is it? Tap a place or type your building. You can skip this.",
            ),
            Prompt::Address => pick(
                "请用数字键输入楼号；要输单元，先点“单元”。输好了请点确定。",
                "Type the building number on the keys. For the unit, tap Unit first. Then tap OK.",
            ),
            Prompt::Phone => pick(
                "请输入您的电话号码，输好了请点确定。",
                "Type your phone number, then tap OK.",
            ),
            Prompt::Contact => pick(
                "要社区给您回电话吗？可以留电话，也可以不留。",
                "Shall the office call you back? You can leave your number, or stay anonymous.",
            ),
            Prompt::Confirm {
                category,
                what,
                words,
                place,
            } => confirm(category, what, words.as_deref(), place.as_deref(), lang),
            Prompt::Writing { keyboard: false } => pick(
                "请用手指在方框里写一个字，写完点上面对的字。写好了请点“写好了”。",
                "Write one character in the box with your finger, then tap it in the row above. Tap Done when you have finished.",
            ),
            Prompt::Writing { keyboard: true } => pick(
                "请在键盘上打拼音，再点上面对的词。写好了请点“写好了”。",
                "Type your words on the keys. Tap Done when you have finished.",
            ),
            Prompt::Done {
                ticket,
                colour,
                days,
                due,
                printed,
            } => done(ticket, *colour, *days, *due, *printed, lang),
            Prompt::IdleWarning { seconds_left } => {
                if zh {
                    format!("您还在吗？{seconds_left}秒后会清除。要继续，请点“我还需要时间”。")
                } else {
                    format!(
                        "Are you still there? This clears in {seconds_left} seconds. Tap I need more time to go on."
                    )
                }
            }
            Prompt::Check => pick(
                "请输入回执上的编号，再点“查询”；也可以把回执上的二维码对准扫码口。",
                "Type the number on your receipt, then tap Look up. Or hold its QR code to the scanner.",
            ),
            Prompt::CheckCode => pick(
                "请输入回执上编号旁边的四位查询码，再点“看答复”。",
                "Type the four-digit check code next to your receipt's number, then tap Show the answer.",
            ),
            Prompt::CheckTrouble(trouble) => check_trouble(*trouble, lang).to_string(),
            Prompt::Result {
                ticket,
                state,
                reply,
                unlocked,
            } => result(ticket, state, reply.as_deref(), *unlocked, lang),
            Prompt::NotFound { ticket, hotline } => {
                let (ticket, hotline) = (one_by_one(ticket, lang), one_by_one(hotline, lang));
                if zh {
                    format!("没有找到编号{ticket}。请打电话{hotline}问一问。")
                } else {
                    format!("We could not find number {ticket}. Please call {hotline}.")
                }
            }
            Prompt::Rate => pick(
                "您对答复满意吗？请点一个表情。",
                "Are you happy with the answer? Tap a face.",
            ),
            Prompt::Thanked => pick("谢谢您的评价。", "Thank you for your rating."),
            Prompt::Volume { percent } => {
                if zh {
                    format!("音量百分之{percent}")
                } else {
                    format!("Volume {percent} percent")
                }
            }
            Prompt::Tapped { label } => config_text(label, lang),
            Prompt::Toggled { label, chosen } => {
                let label = config_text(label, lang);
                match (zh, chosen) {
                    (true, true) => format!("{label}，选上了"),
                    (true, false) => format!("{label}，取消了"),
                    (false, true) => format!("{label}: chosen"),
                    (false, false) => format!("{label}: not chosen"),
                }
            }
        }
    }
}

/// Confirm's read-back: the category, the phrases chosen, the resident's own words and the
/// place, each only if there is one.
fn confirm(
    category: &str,
    what: &str,
    words: Option<&str>,
    place: Option<&str>,
    lang: Lang,
) -> String {
    let zh = lang == Lang::ZhCn;
    let mut parts = vec![if zh {
        format!("类别，{}", config_text(category, lang))
    } else {
        config_text(category, lang)
    }];
    if !what.is_empty() {
        let what = config_text(what, lang);
        parts.push(if zh { format!("事项，{what}") } else { what });
    }
    if let Some(words) = words {
        let words = config_text(words, lang);
        parts.push(if zh {
            format!("您写的，{words}")
        } else {
            format!("in your words, {words}")
        });
    }
    if let Some(place) = place {
        let place = config_text(place, lang);
        parts.push(if zh {
            format!("地点，{place}")
        } else {
            format!("at {place}")
        });
    }
    if zh {
        format!("请核对：{}。对的话请点提交。", parts.join("；"))
    } else {
        format!(
            "Please check: {}. If this is right, tap Submit.",
            parts.join("; ")
        )
    }
}

fn check_trouble(trouble: CheckTrouble, lang: Lang) -> &'static str {
    let zh = lang == Lang::ZhCn;
    match (trouble, zh) {
        (CheckTrouble::UnreadableScan, true) => "这不是回执上的二维码。请输入回执上的编号。",
        (CheckTrouble::UnreadableScan, false) => {
            "That is not a receipt's code. Please type the number."
        }
        (CheckTrouble::WrongCode, true) => "查询码不对，请再输一次。",
        (CheckTrouble::WrongCode, false) => "That check code is not right. Please try again.",
        (CheckTrouble::TooManyTries, true) => "查询码输错太多次了，请找工作人员帮忙。",
        (CheckTrouble::TooManyTries, false) => "Too many wrong codes. Please ask staff.",
        (CheckTrouble::Unavailable, true) => "对不起，现在查不了，请找工作人员帮忙。",
        (CheckTrouble::Unavailable, false) => {
            "Sorry, that is not possible just now. Please ask staff."
        }
    }
}

/// A case's state, and the office's reply when the receipt is proved (else how to see it).
fn result(ticket: &str, state: &str, reply: Option<&str>, unlocked: bool, lang: Lang) -> String {
    let ticket = one_by_one(ticket, lang);
    let reply = reply.map(|r| config_text(r, lang));
    match (lang, unlocked, reply) {
        (Lang::ZhCn, false, _) => {
            format!("编号{ticket}。{state}。要听社区的答复，请点“输入查询码”。")
        }
        (Lang::ZhCn, true, Some(reply)) => format!("编号{ticket}。{state}。社区的答复：{reply}"),
        (Lang::ZhCn, true, None) => {
            format!("编号{ticket}。{state}。还没有答复，有了会在这里告诉您。")
        }
        (Lang::En, false, _) => {
            format!("Number {ticket}. {state}. To hear the office's answer, tap Enter code.")
        }
        (Lang::En, true, Some(reply)) => {
            format!("Number {ticket}. {state}. The office says: {reply}")
        }
        (Lang::En, true, None) => format!(
            "Number {ticket}. {state}. No answer yet. We will tell you here as soon as there is one."
        ),
    }
}

/// Done: thanks, the number digit by digit, the colour's promise with its date in words, and
/// where the receipt is. "Read it to me" says it again.
fn done(
    ticket: &str,
    colour: Colour,
    days: u32,
    due: NaiveDate,
    printed: bool,
    lang: Lang,
) -> String {
    let number = one_by_one(ticket, lang);
    let due = date(due, false, lang);
    match lang {
        Lang::ZhCn => {
            let promise = match colour {
                Colour::Green => format!("绿色，{days}天内答复，{due}前"),
                Colour::Orange => format!("橙色，{days}天内答复，{due}前"),
                Colour::Red => format!("红色，每{days}天跟进一次，{due}第一次"),
            };
            let receipt = if printed {
                "请取走下面的回执。"
            } else {
                "打印机需要处理，请记下您的编号，工作人员会帮您打印。"
            };
            format!("谢谢。您的编号是{number}。{promise}。{receipt}")
        }
        Lang::En => {
            let promise = match colour {
                Colour::Green => format!("Green: an answer within {days} days, by {due}"),
                Colour::Orange => format!("Orange: an answer within {days} days, by {due}"),
                Colour::Red => format!("Red: followed up every {days} days, first on {due}"),
            };
            let receipt = if printed {
                "Please take your receipt from the printer below."
            } else {
                "The printer needs attention. Please note your number; staff will print it."
            };
            format!("Thank you. Your number is {number}. {promise}. {receipt}")
        }
    }
}

/// Every resident screen's prompt with sample contents, for `speech-samples` and the tests:
/// (a file-name-safe name, the prompt).
pub fn every_screen(
    category: &str,
    phrase: &str,
    place: &str,
    lang: Lang,
) -> Vec<(&'static str, Prompt)> {
    let reply = match lang {
        Lang::ZhCn => "电梯已经修好了，谢谢您的反映。",
        Lang::En => "The lift was repaired today. Thank you for telling us.",
    };
    let state = match lang {
        Lang::ZhCn => "已答复",
        Lang::En => "Answered",
    };
    let due = NaiveDate::from_ymd_opt(2026, 12, 26).unwrap_or_default();
    vec![
        ("home", Prompt::Home),
        ("category", Prompt::Category),
        ("emergency", Prompt::Emergency),
        (
            "details",
            Prompt::Details {
                category: category.to_string(),
            },
        ),
        ("place", Prompt::Place),
        ("address", Prompt::Address),
        ("contact", Prompt::Contact),
        ("phone", Prompt::Phone),
        (
            "confirm",
            Prompt::Confirm {
                category: category.to_string(),
                what: phrase.to_string(),
                words: Some("楼道灯坏了".to_string()),
                place: Some(place.to_string()),
            },
        ),
        ("writing", Prompt::Writing { keyboard: false }),
        ("keyboard", Prompt::Writing { keyboard: true }),
        (
            "done",
            Prompt::Done {
                ticket: "A1126-001".to_string(),
                colour: Colour::Orange,
                days: 30,
                due,
                printed: true,
            },
        ),
        ("idle-warning", Prompt::IdleWarning { seconds_left: 30 }),
        ("check", Prompt::Check),
        ("check-code", Prompt::CheckCode),
        (
            "result",
            Prompt::Result {
                ticket: "A1126-001".to_string(),
                state: state.to_string(),
                reply: Some(reply.to_string()),
                unlocked: true,
            },
        ),
        (
            "result-locked",
            Prompt::Result {
                ticket: "A1126-001".to_string(),
                state: state.to_string(),
                reply: None,
                unlocked: false,
            },
        ),
        (
            "not-found",
            Prompt::NotFound {
                ticket: "A1126-009".to_string(),
                hotline: "0571-8888".to_string(),
            },
        ),
        ("wrong-code", Prompt::CheckTrouble(CheckTrouble::WrongCode)),
        ("rate", Prompt::Rate),
        ("volume", Prompt::Volume { percent: 80 }),
        (
            "tapped",
            Prompt::Toggled {
                label: phrase.to_string(),
                chosen: true,
            },
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn done_says_the_ticket_one_digit_at_a_time_and_the_date_in_words() {
        let due = NaiveDate::from_ymd_opt(2026, 12, 8).unwrap();
        let done = |lang| {
            Prompt::Done {
                ticket: "A1126-001".into(),
                colour: Colour::Orange,
                days: 30,
                due,
                printed: true,
            }
            .text(lang)
        };
        let zh = done(Lang::ZhCn);
        assert!(zh.contains("A 一一二六 杠 零零一"), "{zh}");
        assert!(zh.contains("十二月八日前"), "{zh}");
        assert!(zh.ends_with("请取走下面的回执。"), "{zh}");
        assert!(!zh.contains("1126"), "{zh}");
        let en = done(Lang::En);
        assert!(en.contains("A one one two six dash zero zero one"), "{en}");
        assert!(en.contains("by 8 December"), "{en}");
    }
}
