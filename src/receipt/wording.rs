//! What a receipt says, in each kiosk language: short, everyday words for a reader of eighty.

use chrono::NaiveDate;

use crate::concern::{Colour, Lang};

/// The fixed texts of a receipt in one language.
pub struct Wording {
    pub lang: Lang,
    pub title: &'static str,
    pub your_number: &'static str,
    /// Before the 4-digit check code that opens the office's answer.
    pub check_code: &'static str,
    pub quote_number: &'static str,
    pub filed: &'static str,
    pub category: &'static str,
    pub what: &'static str,
    pub details: &'static str,
    pub place: &'static str,
    pub phone: &'static str,
    pub no_phone: &'static str,
    pub scan: &'static str,
    /// Between two preset phrases on one line.
    pub phrase_separator: &'static str,
}

const ZH: Wording = Wording {
    lang: Lang::ZhCn,
    title: "意见反映回执",
    your_number: "您的编号",
    check_code: "查询码 ",
    quote_number: "请保留回执，询问时报编号",
    filed: "时间：",
    category: "类别：",
    what: "事项：",
    details: "说明：",
    place: "地点：",
    phone: "电话：",
    no_phone: "未留（匿名）",
    scan: "用手机扫码查看办理进度",
    phrase_separator: "；",
};

const EN: Wording = Wording {
    lang: Lang::En,
    title: "Concern receipt",
    your_number: "Your number",
    check_code: "Check code ",
    quote_number: "Give this number when you ask.",
    filed: "Filed: ",
    category: "Type: ",
    what: "What: ",
    details: "Details: ",
    place: "Where: ",
    phone: "Phone: ",
    no_phone: "not given (anonymous)",
    scan: "Scan to follow your concern",
    phrase_separator: "; ",
};

impl Wording {
    pub fn of(lang: Lang) -> &'static Wording {
        match lang {
            Lang::ZhCn => &ZH,
            Lang::En => &EN,
        }
    }

    /// The council's promise for the colour: an answer by a date (green, orange) or regular
    /// follow-ups from a date (red). `days` is the colour's number of days from the config.
    pub fn promise(&self, colour: Colour, days: u32, due: NaiveDate) -> String {
        let date = due.format("%Y-%m-%d");
        match (self.lang, colour) {
            (Lang::ZhCn, Colour::Green) => format!("绿色：{days}天内答复（{date}前）"),
            (Lang::ZhCn, Colour::Orange) => format!("橙色：{days}天内答复（{date}前）"),
            (Lang::ZhCn, Colour::Red) => format!("红色：每{days}天跟进一次（首次{date}）"),
            (Lang::En, Colour::Green) => {
                format!("Green: answer within {} — by {date}", en_days(days))
            }
            (Lang::En, Colour::Orange) => {
                format!("Orange: answer within {} — by {date}", en_days(days))
            }
            (Lang::En, Colour::Red) if days == 1 => {
                format!("Red: followed up every day — first on {date}")
            }
            (Lang::En, Colour::Red) => {
                format!("Red: followed up every {days} days — first on {date}")
            }
        }
    }

    pub fn hotline(&self, number: &str) -> String {
        match self.lang {
            Lang::ZhCn => format!("咨询电话：{number}"),
            Lang::En => format!("Questions? Call {number}"),
        }
    }

    /// What is kept, why, and for how long: `days` after the office has the concern, the
    /// phone number and the free text are erased from the kiosk.
    pub fn privacy(&self, days: u32) -> String {
        match self.lang {
            Lang::ZhCn => format!(
                "隐私：我们只保存您反映的事情和您留的电话（如有），用于社区办公室答复您。\
                 办公室收到后满{days}天，本机会删除您的电话和说明。"
            ),
            Lang::En => format!(
                "Privacy: we keep what you said and your phone number (if given) only so the \
                 office can answer you. This kiosk erases your phone number and details {} \
                 after the office has them.",
                en_days(days)
            ),
        }
    }
}

fn en_days(days: u32) -> String {
    if days == 1 {
        "1 day".into()
    } else {
        format!("{days} days")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn each_colour_promises_in_words_with_its_date() {
        let zh = Wording::of(Lang::ZhCn);
        let en = Wording::of(Lang::En);
        assert_eq!(
            zh.promise(Colour::Green, 7, day("2026-12-03")),
            "绿色：7天内答复（2026-12-03前）"
        );
        assert_eq!(
            zh.promise(Colour::Orange, 30, day("2026-12-26")),
            "橙色：30天内答复（2026-12-26前）"
        );
        assert_eq!(
            zh.promise(Colour::Red, 14, day("2026-12-10")),
            "红色：每14天跟进一次（首次2026-12-10）"
        );
        assert_eq!(
            en.promise(Colour::Green, 7, day("2026-12-03")),
            "Green: answer within 7 days — by 2026-12-03"
        );
        assert_eq!(
            en.promise(Colour::Orange, 30, day("2026-12-26")),
            "Orange: answer within 30 days — by 2026-12-26"
        );
        assert_eq!(
            en.promise(Colour::Red, 14, day("2026-12-10")),
            "Red: followed up every 14 days — first on 2026-12-10"
        );
        assert_eq!(
            en.promise(Colour::Green, 1, day("2026-11-27")),
            "Green: answer within 1 day — by 2026-11-27"
        );
    }

    #[test]
    fn the_privacy_notice_says_what_why_and_how_long() {
        let zh = Wording::of(Lang::ZhCn).privacy(30);
        assert!(
            zh.contains("电话") && zh.contains("答复") && zh.contains("满30天"),
            "{zh}"
        );
        let en = Wording::of(Lang::En).privacy(30);
        assert!(
            en.contains("phone number") && en.contains("answer you") && en.contains("30 days"),
            "{en}"
        );
    }
}
