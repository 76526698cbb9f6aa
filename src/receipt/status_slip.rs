//! The status slip a resident prints at "Check my concern": where their case stands, in the
//! same words and with the same promise line as the screen, the office's reply only when the
//! screen showed it, when it was printed and the hotline. Also the "updated at" line the
//! screen and the slip share.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate};

use super::concern_receipt::{promise_line, ticket_heading};
use super::wording::Wording;
use crate::concern::{Bilingual, Colour, Lang, ResidentProgress};
use crate::config::Config;
use crate::paper::{Document, Style, TextSize};

/// What the screen and the slip say of one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseReport {
    pub ticket: String,
    pub category: Bilingual,
    pub progress: ResidentProgress,
    pub colour: Colour,
    /// The date the receipt promised.
    pub promised_by: NaiveDate,
    /// When the case last had news, in the kiosk's local time.
    pub updated_at: Option<DateTime<FixedOffset>>,
    /// The office's reply, only when the resident proved the receipt (check code or scan).
    pub reply: Option<String>,
}

/// The slip's own fixed texts in one language; the rest is the receipt's wording.
struct SlipWording {
    title: &'static str,
    progress: &'static str,
    reply: &'static str,
    /// Without the receipt's check code or QR code, the reply is not printed: say how to get it.
    reply_hint: &'static str,
    printed: &'static str,
}

const ZH: SlipWording = SlipWording {
    title: "办理进度",
    progress: "进度：",
    reply: "答复：",
    reply_hint: "凭回执上的查询码或二维码可以查看答复。",
    printed: "打印时间：",
};

const EN: SlipWording = SlipWording {
    title: "How your concern is going",
    progress: "Progress: ",
    reply: "Answer: ",
    reply_hint: "The check code or QR code on your receipt shows the answer.",
    printed: "Printed: ",
};

impl SlipWording {
    fn of(lang: Lang) -> &'static SlipWording {
        match lang {
            Lang::ZhCn => &ZH,
            Lang::En => &EN,
        }
    }
}

/// "信息更新于 10:05" for news of `today`, with the date for older news.
pub fn updated_line(at: DateTime<FixedOffset>, today: NaiveDate, lang: Lang) -> String {
    let time = at.format("%H:%M");
    let same_day = at.date_naive() == today;
    match (lang, same_day) {
        (Lang::ZhCn, true) => format!("信息更新于 {time}"),
        (Lang::ZhCn, false) => format!("信息更新于 {}月{}日 {time}", at.month(), at.day()),
        (Lang::En, true) => format!("Updated {time}"),
        (Lang::En, false) => format!("Updated {} {time}", at.format("%-d %b")),
    }
}

/// The slip for `report` in `lang`, printed at `now`.
pub fn status_slip(
    report: &CaseReport,
    lang: Lang,
    config: &Config,
    now: DateTime<FixedOffset>,
) -> Document {
    let receipt_words = Wording::of(lang);
    let words = SlipWording::of(lang);
    let centred = Style::NORMAL.centred();
    let mut doc = ticket_heading(config, lang, words.title, &report.ticket);
    doc.separator()
        .text(
            &format!("{}{}", receipt_words.category, report.category.get(lang)),
            Style::NORMAL,
        )
        .text(
            &format!("{}{}", words.progress, report.progress.words().get(lang)),
            Style::sized(TextSize::DoubleHeight).bold(),
        )
        .text(
            &promise_line(report.colour, report.promised_by, config, lang),
            Style::NORMAL,
        );
    if let Some(at) = report.updated_at {
        doc.text(&updated_line(at, now.date_naive(), lang), Style::NORMAL);
    }
    doc.separator();
    match &report.reply {
        Some(reply) => doc.text(&format!("{}{reply}", words.reply), Style::NORMAL),
        None => doc.text(words.reply_hint, Style::NORMAL),
    };
    doc.separator()
        .text(
            &format!("{}{}", words.printed, now.format("%Y-%m-%d %H:%M")),
            Style::NORMAL,
        )
        .text(&receipt_words.hotline(&config.kiosk.hotline), centred)
        .cut();
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(text).unwrap()
    }

    fn answered(reply: Option<&str>) -> CaseReport {
        CaseReport {
            ticket: "A1201-003".into(),
            category: Bilingual {
                zh: "报修设施".into(),
                en: "Repairs".into(),
            },
            progress: ResidentProgress::Done,
            colour: Colour::Green,
            promised_by: "2026-12-08".parse().unwrap(),
            updated_at: Some(at("2026-12-02T10:00:00+08:00")),
            reply: reply.map(str::to_string),
        }
    }

    #[test]
    fn the_slip_says_where_the_case_stands_with_the_reply_it_was_given() {
        let config = Config::demo().unwrap();
        let now = at("2026-12-02T10:05:00+08:00");
        let lines =
            status_slip(&answered(Some("电梯已修好")), Lang::ZhCn, &config, now).plain_lines();
        assert_eq!(
            lines,
            [
                "万家星城社区",
                "办理进度",
                "您的编号",
                "A1201-003",
                "类别：报修设施",
                "进度：已经办好了",
                "绿色：7天内答复（2026-12-08前）",
                "信息更新于 10:00",
                "答复：电梯已修好",
                "打印时间：2026-12-02 10:05",
                "咨询电话：0571-0000 0000",
            ]
        );
        let without = status_slip(&answered(None), Lang::En, &config, now)
            .plain_lines()
            .join("\n");
        assert!(!without.contains("电梯已修好"), "{without}");
        assert!(
            without.contains("The check code or QR code on"),
            "{without}"
        );
    }

    #[test]
    fn older_news_carries_its_date() {
        let news = at("2026-12-02T10:00:00+08:00");
        let later: NaiveDate = "2026-12-05".parse().unwrap();
        assert_eq!(
            updated_line(news, later, Lang::ZhCn),
            "信息更新于 12月2日 10:00"
        );
        assert_eq!(updated_line(news, later, Lang::En), "Updated 2 Dec 10:00");
        assert_eq!(
            updated_line(news, news.date_naive(), Lang::En),
            "Updated 10:00"
        );
    }
}
