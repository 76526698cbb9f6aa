//! The printed daily summary, on the receipt document model: counts, the council's two lists,
//! what is due, receipts that did not print, what the office did (answered, overdue, unhappy
//! ratings), and where uploading stands. Columns line up for Chinese text, which takes two
//! printer columns a character.

use chrono::{DateTime, FixedOffset};

use super::DailySummary;
use crate::concern::{Colour, Lang, ListKind};
use crate::config::Config;
use crate::paper::{Document, Style, TextSize, text_columns};
use crate::store::ConcernRecord;

/// How much of a concern's words an entry shows: the sheet is a list to act on, not a copy.
const ENTRY_WORDS_COLUMNS: usize = 24;
/// A building and unit fits; a long place name is cut rather than take another line.
const LOCATION_COLUMNS: usize = 16;

struct Words {
    title: &'static str,
    kiosk: &'static str,
    date: &'static str,
    printed: &'static str,
    total: &'static str,
    none_today: &'static str,
    by_category: &'static str,
    by_colour: &'static str,
    demands: &'static str,
    conflicts: &'static str,
    due: &'static str,
    unprinted: &'static str,
    office: &'static str,
    answered: &'static str,
    overdue_at_office: &'static str,
    unhappy: &'static str,
    upload: &'static str,
    uploaded_today: &'static str,
    pending: &'static str,
    rejected: &'static str,
    last_success: &'static str,
    never: &'static str,
    due_marker: &'static str,
    label_separator: &'static str,
    colours: [&'static str; 3],
}

const ZH: Words = Words {
    title: "每日汇总",
    kiosk: "终端",
    date: "日期",
    printed: "打印时间",
    total: "今日反映",
    none_today: "今日没有新的反映。",
    by_category: "按类别",
    by_colour: "按颜色",
    demands: "居民诉求清单",
    conflicts: "矛盾问题清单",
    due: "到期或将到期",
    unprinted: "未打印的回执",
    office: "办公室办理情况",
    answered: "今日已答复",
    overdue_at_office: "办公室超期未答复",
    unhappy: "不满意评价",
    upload: "上传情况",
    uploaded_today: "今日已上传",
    pending: "待上传",
    rejected: "被拒批次",
    last_success: "最近成功",
    never: "从未",
    due_marker: "期限",
    label_separator: "：",
    colours: ["绿", "橙", "红"],
};

const EN: Words = Words {
    title: "Daily summary",
    kiosk: "Kiosk",
    date: "Date",
    printed: "Printed",
    total: "Concerns today",
    none_today: "No concerns today.",
    by_category: "By category",
    by_colour: "By colour",
    demands: "Residents' demands list",
    conflicts: "Conflicts list",
    due: "Due now or within 2 days",
    unprinted: "Receipts not printed",
    office: "What the office did",
    answered: "Answered today",
    overdue_at_office: "Overdue at the office",
    unhappy: "Unhappy ratings",
    upload: "Upload",
    uploaded_today: "Uploaded today",
    pending: "Pending",
    rejected: "Rejected batches",
    last_success: "Last success",
    never: "never",
    due_marker: "due ",
    label_separator: ": ",
    colours: ["green", "orange", "red"],
};

impl Words {
    fn of(lang: Lang) -> &'static Words {
        match lang {
            Lang::ZhCn => &ZH,
            Lang::En => &EN,
        }
    }

    fn colour(&self, colour: Colour) -> &'static str {
        match colour {
            Colour::Green => self.colours[0],
            Colour::Orange => self.colours[1],
            Colour::Red => self.colours[2],
        }
    }
}

/// `left` and `right` on one line of `width` columns, `right` flush right.
fn spread(left: &str, right: &str, width: usize) -> String {
    let gap = width
        .saturating_sub(text_columns(left) + text_columns(right))
        .max(1);
    format!("{left}{}{right}", " ".repeat(gap))
}

/// `text` padded with spaces to `width` columns.
fn pad(text: &str, width: usize) -> String {
    format!(
        "{text}{}",
        " ".repeat(width.saturating_sub(text_columns(text)))
    )
}

/// The first `width` columns of `text`, with `…` when cut.
fn clip(text: &str, width: usize) -> String {
    if text_columns(text) <= width {
        return text.to_string();
    }
    let mut clipped = String::new();
    for c in text.chars() {
        if text_columns(&clipped) + text_columns(&c.to_string()) > width.saturating_sub(1) {
            break;
        }
        clipped.push(c);
    }
    clipped.push('…');
    clipped
}

/// The summary sheet in the configured summary language.
pub fn summary_sheet(summary: &DailySummary, config: &Config) -> Document {
    let lang = config.summary.language;
    let words = Words::of(lang);
    let mut doc = Document::new(config.printer.width_dots);
    let width = doc.columns(TextSize::Normal);
    let colour_width = words
        .colours
        .iter()
        .map(|c| text_columns(c))
        .max()
        .unwrap_or(2);

    doc.text(
        config.kiosk.community.get(lang),
        Style::sized(TextSize::DoubleHeight).bold().centred(),
    )
    .text(words.title, Style::sized(TextSize::DoubleHeight).centred())
    .text(
        &format!("{} {}", words.kiosk, config.kiosk.id),
        Style::NORMAL,
    )
    .text(&format!("{} {}", words.date, summary.date), Style::NORMAL)
    .text(
        &format!(
            "{} {}",
            words.printed,
            local(summary.made_at, summary.made_at)
        ),
        Style::NORMAL,
    )
    .separator();

    let total = summary.today.len();
    doc.text(
        &spread(words.total, &total.to_string(), width),
        Style::NORMAL,
    );
    if total == 0 {
        doc.text(words.none_today, Style::NORMAL);
    } else {
        doc.text(words.by_category, Style::NORMAL.bold());
        for category in &config.categories {
            let count = summary
                .today
                .iter()
                .filter(|r| r.concern.details.category == category.code)
                .count();
            doc.text(
                &spread(category.label.get(lang), &count.to_string(), width),
                Style::NORMAL,
            );
        }
        doc.text(words.by_colour, Style::NORMAL.bold());
        for colour in Colour::ALL {
            let count = summary
                .today
                .iter()
                .filter(|r| r.concern.details.colour == colour)
                .count();
            doc.text(
                &spread(words.colour(colour), &count.to_string(), width),
                Style::NORMAL,
            );
        }
    }

    for (list, title) in [
        (ListKind::Demands, words.demands),
        (ListKind::Conflicts, words.conflicts),
    ] {
        let entries: Vec<&ConcernRecord> = summary
            .today
            .iter()
            .filter(|r| r.concern.details.list == list)
            .collect();
        doc.separator().text(
            &format!("{title} ({})", entries.len()),
            Style::NORMAL.bold(),
        );
        for record in entries {
            entry(&mut doc, record, None, words, lang, colour_width);
        }
    }

    doc.separator().text(
        &format!("{} ({})", words.due, summary.due.len()),
        Style::NORMAL.bold(),
    );
    for (record, due_on) in &summary.due {
        entry(&mut doc, record, Some(*due_on), words, lang, colour_width);
    }

    let unprinted = summary.unprinted();
    doc.separator().text(
        &format!("{} ({})", words.unprinted, unprinted.len()),
        Style::NORMAL.bold(),
    );
    if !unprinted.is_empty() {
        let tickets: Vec<&str> = unprinted
            .iter()
            .map(|r| r.concern.ticket.as_str())
            .collect();
        doc.text(&tickets.join(" "), Style::NORMAL);
    }

    office_section(&mut doc, summary, words, lang);

    let upload = &summary.upload;
    let last = upload
        .last_success_at
        .as_deref()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map_or_else(|| words.never.to_string(), |t| local(t, summary.made_at));
    doc.separator()
        .text(words.upload, Style::NORMAL.bold())
        .text(
            &spread(
                words.uploaded_today,
                &summary.uploaded_on_date.to_string(),
                width,
            ),
            Style::NORMAL,
        )
        .text(
            &spread(words.pending, &upload.pending_concerns.to_string(), width),
            Style::NORMAL,
        )
        .text(
            &spread(words.rejected, &upload.rejected.len().to_string(), width),
            Style::NORMAL,
        );
    for rejected in &upload.rejected {
        doc.text(&rejected.error, Style::NORMAL);
    }
    doc.text(&spread(words.last_success, &last, width), Style::NORMAL)
        .cut();
    doc
}

/// What the office did, by ticket: answered today, overdue by its own deadline (with that
/// date), and the day's unhappy ratings. Tickets share lines, so a busy day stays short.
fn office_section(doc: &mut Document, summary: &DailySummary, words: &Words, lang: Lang) {
    doc.separator().text(words.office, Style::NORMAL.bold());
    let answered: Vec<String> = summary.answered.iter().map(|c| c.ticket.clone()).collect();
    let overdue: Vec<String> = summary
        .overdue_at_office
        .iter()
        .map(|c| {
            let due = c.due_date.map(|d| d.format("%m-%d").to_string());
            format!("{}({})", c.ticket, due.unwrap_or_default())
        })
        .collect();
    let unhappy: Vec<String> = summary
        .unhappy
        .iter()
        .map(|(ticket, rating)| format!("{ticket} {}", rating.label().get(lang)))
        .collect();
    for (title, entries) in [
        (words.answered, answered),
        (words.overdue_at_office, overdue),
        (words.unhappy, unhappy),
    ] {
        doc.text(&format!("{title} ({})", entries.len()), Style::NORMAL);
        if !entries.is_empty() {
            doc.text(&entries.join("  "), Style::NORMAL);
        }
    }
}

/// One concern in a list, on a line of fixed columns — `A1126-042 09:30 橙 期限12-26` — then
/// its category, what was said and where, wrapped.
fn entry(
    doc: &mut Document,
    record: &ConcernRecord,
    due_on: Option<chrono::NaiveDate>,
    words: &Words,
    lang: Lang,
    colour_width: usize,
) {
    let details = &record.concern.details;
    let when = match due_on {
        // An earlier day's concern: its filing date matters more than the hour.
        Some(_) => details.created_at.format("%m-%d").to_string(),
        None => details.created_at.format("%H:%M").to_string(),
    };
    let due = due_on.unwrap_or(details.due_date);
    doc.text(
        &format!(
            "{} {when} {} {}{}",
            record.concern.ticket,
            pad(words.colour(details.colour), colour_width),
            words.due_marker,
            due.format("%m-%d")
        ),
        Style::NORMAL,
    );
    let said = details
        .phrases
        .first()
        .map(|p| p.get(lang).to_string())
        .or_else(|| details.text.clone())
        .unwrap_or_default();
    let mut what = format!(
        "{}{}{}",
        details.category_label.get(lang),
        words.label_separator,
        clip(&said, ENTRY_WORDS_COLUMNS)
    );
    if let Some(location) = &details.location {
        what.push_str(&format!(" @{}", clip(location, LOCATION_COLUMNS)));
    }
    doc.text(&what, Style::NORMAL);
}

/// A time as the kiosk's clock shows it.
fn local(at: DateTime<FixedOffset>, like: DateTime<FixedOffset>) -> String {
    at.with_timezone(like.offset())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}
