//! The few texts the controller composes itself (from config values and the resident's
//! answers), in each kiosk language. Fixed texts live in the .slint files with `@tr` and are
//! translated in ui/translations, the staff menu's fixed answers too (`StaffWords`).

use chrono::{DateTime, Datelike, FixedOffset};

use super::staff::PinOutcome;
use crate::concern::{Lang, Rating};
use crate::printer::PrinterStatus;
use crate::store::UploadStatus;

/// The toggle's label: the name of the other language, in that language, so a resident who
/// cannot read the current one still recognises their own.
pub fn other_language(lang: Lang) -> &'static str {
    match lang {
        Lang::ZhCn => "English",
        Lang::En => "中文",
    }
}

/// The other language of the two the kiosk speaks.
pub fn toggled(lang: Lang) -> Lang {
    match lang {
        Lang::ZhCn => Lang::En,
        Lang::En => Lang::ZhCn,
    }
}

/// The bundled translation that shows `lang` ("" is the English source text).
pub fn translation(lang: Lang) -> &'static str {
    match lang {
        Lang::ZhCn => "zh_CN",
        Lang::En => "",
    }
}

pub fn date_time(now: DateTime<FixedOffset>, lang: Lang) -> String {
    const ZH_WEEKDAYS: [&str; 7] = ["一", "二", "三", "四", "五", "六", "日"];
    let weekday = now.weekday().num_days_from_monday() as usize;
    match lang {
        Lang::ZhCn => format!(
            "{}年{}月{}日 星期{} {}",
            now.year(),
            now.month(),
            now.day(),
            ZH_WEEKDAYS[weekday],
            now.format("%H:%M")
        ),
        Lang::En => now.format("%A %-d %B %Y, %H:%M").to_string(),
    }
}

/// Building and unit as the receipt and the office read them.
pub fn address(building: &str, unit: &str, lang: Lang) -> String {
    match (lang, unit.is_empty()) {
        (Lang::ZhCn, true) => format!("{building}幢"),
        (Lang::ZhCn, false) => format!("{building}幢{unit}单元"),
        (Lang::En, true) => format!("Building {building}"),
        (Lang::En, false) => format!("Building {building}, unit {unit}"),
    }
}

pub fn not_said(lang: Lang) -> &'static str {
    match lang {
        Lang::ZhCn => "未说明",
        Lang::En => "not given",
    }
}

pub fn anonymous(lang: Lang) -> &'static str {
    match lang {
        Lang::ZhCn => "不留电话（匿名）",
        Lang::En => "none (anonymous)",
    }
}

/// Filing failed: nothing was saved, and the resident is told whom to ask.
pub fn not_saved(lang: Lang) -> &'static str {
    match lang {
        Lang::ZhCn => "抱歉，没有保存成功。请再按一次“提交”，或请工作人员帮忙。",
        Lang::En => "Sorry, this was not saved. Please press Submit again or ask staff.",
    }
}

/// Between phrases on the Confirm screen.
pub fn phrase_separator(lang: Lang) -> &'static str {
    match lang {
        Lang::ZhCn => "；",
        Lang::En => "; ",
    }
}

/// The punctuation beside the writing pad (the keyboard has room for the first two), the
/// marks a concern needs: pause, stop, question, exclamation, list.
pub fn punctuation(lang: Lang) -> [&'static str; 5] {
    match lang {
        Lang::ZhCn => ["，", "。", "？", "！", "、"],
        Lang::En => [",", ".", "?", "!", "'"],
    }
}

/// The keyboard tab's name: in Chinese it types pinyin, in English plain letters.
pub fn keyboard_name(lang: Lang) -> &'static str {
    match lang {
        Lang::ZhCn => "拼音",
        Lang::En => "Type",
    }
}

/// Room for the resident's words on one line of the writing screen, in half-width columns (a
/// Chinese character takes two): about what the text row holds at body size on a 7" panel.
const WRITTEN_COLUMNS: usize = 22;

/// The end of `text` as one line shows it: the newest characters, where the resident is
/// writing, behind "…" when the beginning had to go.
pub fn written_tail(text: &str) -> String {
    let columns = |c: char| if c.is_ascii() { 1 } else { 2 };
    let total: usize = text.chars().map(columns).sum();
    if total <= WRITTEN_COLUMNS {
        return text.to_string();
    }
    let mut kept = Vec::new();
    let mut used = columns('…');
    for c in text.chars().rev() {
        used += columns(c);
        if used > WRITTEN_COLUMNS {
            break;
        }
        kept.push(c);
    }
    std::iter::once('…').chain(kept.into_iter().rev()).collect()
}

/// The characters the printer cannot print, as Confirm lists them.
pub fn character_list(characters: &[char], lang: Lang) -> String {
    let separator = match lang {
        Lang::ZhCn => "、",
        Lang::En => ", ",
    };
    let quoted: Vec<String> = characters.iter().map(|c| format!("“{c}”")).collect();
    quoted.join(separator)
}

/// Confirm's "What": the phrases chosen, then the resident's own words.
pub fn what_and_words(what: &str, words: &str, lang: Lang) -> String {
    match (what.is_empty(), words.is_empty()) {
        (_, true) => what.to_string(),
        (true, false) => words.to_string(),
        (false, false) => format!("{what}{}{words}", phrase_separator(lang)),
    }
}

/// A case's category and the receipt's promise, on one line of the Result screen.
pub fn about_case(category: &str, promise: &str, lang: Lang) -> String {
    match lang {
        Lang::ZhCn => format!("{category}。{promise}"),
        Lang::En => format!("{category}. {promise}"),
    }
}

/// The resident's rating of the answer: thanks right after the tap, then what was given.
pub fn rating_line(rating: Rating, thanked: bool, lang: Lang) -> String {
    let label = rating.label();
    match (lang, thanked) {
        (Lang::ZhCn, true) => format!("谢谢您的评价：{}", label.zh),
        (Lang::ZhCn, false) => format!("您的评价：{}", label.zh),
        (Lang::En, true) => format!("Thank you: {}", label.en),
        (Lang::En, false) => format!("Your rating: {}", label.en),
    }
}

/// What staff are told; `zh` and `en` of one message.
fn pick(lang: Lang, zh: String, en: String) -> String {
    match lang {
        Lang::ZhCn => zh,
        Lang::En => en,
    }
}

pub fn printer_line(status: Option<PrinterStatus>, lang: Lang) -> String {
    let Some(status) = status else {
        return pick(
            lang,
            "打印机：还没有消息".into(),
            "Printer: no word from the print task yet".into(),
        );
    };
    let zh = match status {
        PrinterStatus::Ready => "正常",
        PrinterStatus::PaperNearEnd => "正常，纸快用完了：请尽快换纸",
        PrinterStatus::PaperOut => "缺纸：请换新纸卷",
        PrinterStatus::CoverOpen => "盖子开着：请盖好打印机",
        PrinterStatus::Offline => "离线：请看指示灯，关掉再打开",
        PrinterStatus::Disconnected => "没有响应：请检查电源和连线",
    };
    // The English wording is the printer module's own, shared with the command line.
    pick(
        lang,
        format!("打印机：{zh}"),
        format!("Printer: {}", status.describe()),
    )
}

pub fn upload_line(status: &UploadStatus, lang: Lang) -> String {
    let pending = status.pending_concerns;
    let rejected = status.rejected.len();
    let reason = status
        .rejected
        .first()
        .map(|r| format!(" ({})", r.error))
        .unwrap_or_default();
    pick(
        lang,
        format!("上传：{pending} 条待上传，{rejected} 批被拒{reason}"),
        format!("Upload: {pending} waiting, {rejected} rejected batch(es){reason}"),
    )
}

pub fn pin_outcome(outcome: &PinOutcome, lang: Lang) -> String {
    match outcome {
        PinOutcome::Accepted => String::new(),
        PinOutcome::Wrong { left } => pick(
            lang,
            format!("密码不对。还可以试 {left} 次。"),
            format!("Wrong PIN. {left} more tries."),
        ),
        PinOutcome::Locked { until } => {
            let until = until.format("%H:%M");
            pick(
                lang,
                format!("输错太多次，{until} 前不能再试。"),
                format!("Too many wrong PINs: locked until {until}."),
            )
        }
        PinOutcome::NoPinConfigured => pick(
            lang,
            "没有设置工作人员密码（kiosk.toml 的 staff.pin_hash）。".into(),
            "No staff PIN is set (staff.pin_hash in kiosk.toml).".into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_date_reads_naturally_in_both_languages() {
        let at = DateTime::parse_from_rfc3339("2026-11-26T09:05:00+08:00").unwrap();
        assert_eq!(date_time(at, Lang::ZhCn), "2026年11月26日 星期四 09:05");
        assert_eq!(date_time(at, Lang::En), "Thursday 26 November 2026, 09:05");
    }

    #[test]
    fn a_long_text_shows_its_end() {
        assert_eq!(written_tail("楼道灯坏了"), "楼道灯坏了");
        let long = "三号楼二单元楼道的灯坏了已经三天了晚上很黑";
        let tail = written_tail(long);
        assert!(tail.starts_with('…') && long.ends_with(tail.trim_start_matches('…')));
        assert_eq!(tail.chars().count(), 11);
        assert_eq!(
            written_tail(&"a".repeat(30)),
            format!("…{}", "a".repeat(20))
        );
    }

    #[test]
    fn an_address_without_a_unit_names_the_building_only() {
        assert_eq!(address("3", "", Lang::ZhCn), "3幢");
        assert_eq!(address("3", "2", Lang::En), "Building 3, unit 2");
    }
}
