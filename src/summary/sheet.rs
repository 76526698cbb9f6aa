//! The printed daily summary, on the receipt document model: totals first, then the council's
//! two lists, what is due, receipts that did not print, what the office did (answered, overdue,
//! unhappy ratings), and where uploading stands. It is a list to act on and fits a short strip:
//! one line a concern (ticket, colour, category, place), the resident's own words only where
//! they add to that, each colour's deadline said once. Columns line up for Chinese text, which
//! takes two printer columns a character.

use chrono::{DateTime, FixedOffset};

use super::DailySummary;
use crate::concern::{Colour, Lang, ListKind};
use crate::config::Config;
use crate::paper::{Document, Style, TextSize, text_columns};
use crate::store::ConcernRecord;

/// How much of a resident's own words an entry shows, on the line under it: enough to tell two
/// concerns of one category apart; the board has the rest.
const ENTRY_WORDS_COLUMNS: usize = 30;
/// The fewest columns worth printing of a place or a phrase cut to fit an entry's line: less
/// than two Chinese characters and the ellipsis says nothing.
const MIN_CLIPPED_COLUMNS: usize = 6;
/// Columns between the two counts of a line that holds two categories.
const PAIR_GAP_COLUMNS: usize = 2;

struct Words {
    title: &'static str,
    kiosk: &'static str,
    date: &'static str,
    printed: &'static str,
    total: &'static str,
    none_today: &'static str,
    by_category: &'static str,
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
    colours: [&'static str; 3],
    /// The colour as it marks an entry: one character.
    colour_marks: [&'static str; 3],
}

const ZH: Words = Words {
    title: "每日汇总",
    kiosk: "终端",
    date: "日期",
    printed: "打印时间",
    total: "今日反映",
    none_today: "今日没有新的反映。",
    by_category: "按类别",
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
    colours: ["绿", "橙", "红"],
    colour_marks: ["绿", "橙", "红"],
};

const EN: Words = Words {
    title: "Daily summary",
    kiosk: "Kiosk",
    date: "Date",
    printed: "Printed",
    total: "Concerns today",
    none_today: "No concerns today.",
    by_category: "By category",
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
    colours: ["green", "orange", "red"],
    colour_marks: ["G", "O", "R"],
};

impl Words {
    fn of(lang: Lang) -> &'static Words {
        match lang {
            Lang::ZhCn => &ZH,
            Lang::En => &EN,
        }
    }

    fn colour(&self, colour: Colour) -> &'static str {
        self.colours[colour_index(colour)]
    }

    fn colour_mark(&self, colour: Colour) -> &'static str {
        self.colour_marks[colour_index(colour)]
    }
}

fn colour_index(colour: Colour) -> usize {
    match colour {
        Colour::Green => 0,
        Colour::Orange => 1,
        Colour::Red => 2,
    }
}

/// `left` and `right` on one line of `width` columns, `right` flush right.
fn spread(left: &str, right: &str, width: usize) -> String {
    let gap = width
        .saturating_sub(text_columns(left) + text_columns(right))
        .max(1);
    format!("{left}{}{right}", " ".repeat(gap))
}

/// The first `width` columns of `text`, with `…` when cut.
fn clip(text: &str, width: usize) -> String {
    if text_columns(text) <= width {
        return text.to_string();
    }
    let room = width.saturating_sub(text_columns(ELLIPSIS));
    let mut clipped = String::new();
    for c in text.chars() {
        if text_columns(&clipped) + text_columns(&c.to_string()) > room {
            break;
        }
        clipped.push(c);
    }
    clipped.push_str(ELLIPSIS);
    clipped
}

/// What marks a cut text; the printer's Chinese font prints it in two columns.
const ELLIPSIS: &str = "…";

/// The summary sheet in the configured summary language.
pub fn summary_sheet(summary: &DailySummary, config: &Config) -> Document {
    let lang = config.summary.language;
    let words = Words::of(lang);
    let mut doc = Document::new(config.printer.width_dots);
    let width = doc.columns(TextSize::Normal);

    doc.text(
        config.kiosk.community.get(lang),
        Style::sized(TextSize::DoubleHeight).bold().centred(),
    )
    .text(words.title, Style::sized(TextSize::DoubleHeight).centred())
    .text(
        &format!(
            "{} {}  {} {}",
            words.kiosk, config.kiosk.id, words.date, summary.date
        ),
        Style::NORMAL,
    )
    .text(
        &format!(
            "{} {}",
            words.printed,
            local(summary.made_at, summary.made_at)
        ),
        Style::NORMAL,
    )
    .separator();

    let deadlines = colour_deadlines(summary);
    totals(&mut doc, summary, config, words, &deadlines);

    let sheet = Sheet {
        words,
        lang,
        width,
        deadlines: &deadlines,
    };
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
            sheet.entry(&mut doc, record, None);
        }
    }

    doc.separator().text(
        &format!("{} ({})", words.due, summary.due.len()),
        Style::NORMAL.bold(),
    );
    for (record, due_on) in &summary.due {
        sheet.entry(&mut doc, record, Some(*due_on));
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
        doc.text(&ticket_ranges(&tickets).join(" "), Style::NORMAL);
    }

    office_section(&mut doc, summary, words, lang);

    let upload = &summary.upload;
    let last = upload
        .last_success_at
        .as_deref()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map_or_else(|| words.never.to_string(), |t| local(t, summary.made_at));
    doc.separator().text(words.upload, Style::NORMAL.bold());
    let counts = [
        (words.uploaded_today, summary.uploaded_on_date.to_string()),
        (words.pending, upload.pending_concerns.to_string()),
        (words.rejected, upload.rejected.len().to_string()),
    ];
    for line in in_pairs(&counts, width) {
        doc.text(&line, Style::NORMAL);
    }
    for rejected in &upload.rejected {
        doc.text(&rejected.error, Style::NORMAL);
    }
    doc.text(&spread(words.last_success, &last, width), Style::NORMAL)
        .cut();
    doc
}

/// The day's count with its colours, each colour's deadline for the day's concerns (said once
/// here rather than on every entry), and the categories that had concerns, two to a line.
fn totals(
    doc: &mut Document,
    summary: &DailySummary,
    config: &Config,
    words: &Words,
    deadlines: &[(Colour, chrono::NaiveDate)],
) {
    let lang = config.summary.language;
    let width = doc.columns(TextSize::Normal);
    let total = summary.today.len();
    if total == 0 {
        doc.text(&spread(words.total, "0", width), Style::NORMAL.bold())
            .text(words.none_today, Style::NORMAL);
        return;
    }
    let by_colour: Vec<String> = Colour::ALL
        .iter()
        .map(|&colour| {
            let count = summary
                .today
                .iter()
                .filter(|r| r.concern.details.colour == colour)
                .count();
            format!("{} {count}", words.colour(colour))
        })
        .collect();
    doc.text(
        &format!("{} {total}  {}", words.total, by_colour.join("  ")),
        Style::NORMAL.bold(),
    );
    if !deadlines.is_empty() {
        let dates: Vec<String> = deadlines
            .iter()
            .map(|(colour, due)| format!("{}{}", words.colour_mark(*colour), due.format("%m-%d")))
            .collect();
        doc.text(
            &format!("{} {}", words.due_marker.trim_end(), dates.join(" ")),
            Style::NORMAL,
        );
    }
    doc.text(words.by_category, Style::NORMAL.bold());
    let counts: Vec<(&str, String)> = config
        .categories
        .iter()
        .filter_map(|category| {
            let count = summary
                .today
                .iter()
                .filter(|r| r.concern.details.category == category.code)
                .count();
            (count > 0).then(|| (category.label.get(lang), count.to_string()))
        })
        .collect();
    for line in in_pairs(&counts, width) {
        doc.text(&line, Style::NORMAL);
    }
}

/// `label count` pairs two to a line where both fit in half the width each, else one a line.
fn in_pairs(counts: &[(&str, String)], width: usize) -> Vec<String> {
    let half = width.saturating_sub(PAIR_GAP_COLUMNS) / 2;
    let fits = counts
        .iter()
        .all(|(label, count)| text_columns(label) + 1 + text_columns(count) <= half);
    if !fits {
        return counts
            .iter()
            .map(|(label, count)| spread(label, count, width))
            .collect();
    }
    counts
        .chunks(2)
        .map(|pair| {
            let cells: Vec<String> = pair
                .iter()
                .map(|(label, count)| spread(label, count, half))
                .collect();
            cells.join(&" ".repeat(PAIR_GAP_COLUMNS))
        })
        .collect()
}

/// The deadline most of the day's concerns of each colour share (they are filed on one day
/// under one rule), for the colours the day had.
fn colour_deadlines(summary: &DailySummary) -> Vec<(Colour, chrono::NaiveDate)> {
    Colour::ALL
        .iter()
        .filter_map(|&colour| {
            let mut dates: Vec<chrono::NaiveDate> = summary
                .today
                .iter()
                .filter(|r| r.concern.details.colour == colour)
                .map(|r| r.concern.details.due_date)
                .collect();
            dates.sort();
            let mut best: Option<(chrono::NaiveDate, usize)> = None;
            for run in dates.chunk_by(|a, b| a == b) {
                if best.is_none_or(|(_, n)| run.len() > n) {
                    best = Some((run[0], run.len()));
                }
            }
            best.map(|(date, _)| (colour, date))
        })
        .collect()
}

/// Tickets with consecutive numbers of one day as a range: `A1126-001~005 A1126-009`.
fn ticket_ranges(tickets: &[&str]) -> Vec<String> {
    let parsed = |ticket: &str| {
        let (day, number) = ticket.rsplit_once('-')?;
        Some((day.to_string(), number.len(), number.parse::<u32>().ok()?))
    };
    let mut ranges: Vec<(String, usize, u32, u32)> = Vec::new();
    let mut out = Vec::new();
    for ticket in tickets {
        match parsed(ticket) {
            Some((day, digits, number)) => match ranges.last_mut() {
                Some((last_day, last_digits, _, end))
                    if *last_day == day
                        && *last_digits == digits
                        && Some(number) == end.checked_add(1) =>
                {
                    *end = number;
                }
                _ => ranges.push((day, digits, number, number)),
            },
            None => {
                out.extend(ranges.drain(..).map(range_text));
                out.push((*ticket).to_string());
            }
        }
    }
    out.extend(ranges.into_iter().map(range_text));
    out
}

fn range_text((day, digits, first, last): (String, usize, u32, u32)) -> String {
    if first == last {
        format!("{day}-{first:0digits$}")
    } else {
        format!("{day}-{first:0digits$}~{last:0digits$}")
    }
}

/// What every entry of the sheet shares.
struct Sheet<'a> {
    words: &'a Words,
    lang: Lang,
    width: usize,
    deadlines: &'a [(Colour, chrono::NaiveDate)],
}

impl Sheet<'_> {
    /// One concern on one line — `A1126-042 橙 报修 3幢2单元 09:30 电梯坏了` — with its
    /// deadline only where it is not its colour's for the day (always for an earlier day's
    /// concern), then the place, the time and the chosen phrase as far as they fit, and the
    /// resident's own words on a line under it.
    fn entry(&self, doc: &mut Document, record: &ConcernRecord, due_on: Option<chrono::NaiveDate>) {
        let details = &record.concern.details;
        let mut line = format!(
            "{} {} {}",
            record.concern.ticket,
            self.words.colour_mark(details.colour),
            short_label(details.category_label.get(self.lang))
        );
        let due = due_on.unwrap_or(details.due_date);
        let usual = self
            .deadlines
            .iter()
            .any(|(colour, date)| *colour == details.colour && *date == due);
        if due_on.is_some() || !usual {
            line.push_str(&format!(
                " {}{}",
                self.words.due_marker,
                due.format("%m-%d")
            ));
        }
        // What it is about: the first phrase, or the resident's own words when none was chosen.
        let phrase = details
            .phrases
            .first()
            .map(|p| p.get(self.lang))
            .or(details.text.as_deref());
        // The hour a resident came tells staff who it was; for an earlier day's concern the
        // ticket already carries the date.
        let filed = details.created_at.format("%H:%M").to_string();
        let time = due_on.is_none().then_some(filed.as_str());
        let mut left_over = Vec::new();
        for extra in [details.location.as_deref(), time, phrase]
            .into_iter()
            .flatten()
        {
            let room = self.width.saturating_sub(text_columns(&line) + 1);
            if room >= MIN_CLIPPED_COLUMNS.min(text_columns(extra)) {
                line.push(' ');
                line.push_str(&clip(extra, room));
            } else {
                left_over.push(extra);
            }
        }
        doc.text(&line, Style::NORMAL);
        // An earlier day's concern is one staff must chase: where it is gets a line of its
        // own when it did not fit. They are few; the day's own concerns keep to one line.
        let own_words = details.text.as_deref().filter(|t| !t.trim().is_empty());
        let under: Vec<&str> = if due_on.is_some() {
            left_over.into_iter().chain(own_words).collect()
        } else {
            own_words.into_iter().collect()
        };
        if !under.is_empty() {
            let words = clip(
                &under.join(" "),
                ENTRY_WORDS_COLUMNS.min(self.width.saturating_sub(2)),
            );
            doc.text(&format!("  {words}"), Style::NORMAL);
        }
    }
}

/// A category's name as an entry shows it: two Chinese characters (报修设施 → 报修), or an
/// English label's first word.
fn short_label(label: &str) -> String {
    if label.is_ascii() {
        return label.split_whitespace().next().unwrap_or(label).to_string();
    }
    label.chars().take(2).collect()
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

/// A time as the kiosk's clock shows it.
fn local(at: DateTime<FixedOffset>, like: DateTime<FixedOffset>) -> String {
    at.with_timezone(like.offset())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clipped_text_with_its_ellipsis_fits_the_columns_it_was_given() {
        for width in 3..12 {
            let clipped = clip("电梯坏了好几天了", width);
            assert!(text_columns(&clipped) <= width, "{clipped:?} in {width}");
        }
        assert_eq!(clip("电梯坏了", 6), "电梯…");
        assert_eq!(clip("电梯坏了", 8), "电梯坏了");
    }

    #[test]
    fn consecutive_tickets_of_a_day_print_as_a_range() {
        let tickets = [
            "A1126-001",
            "A1126-002",
            "A1126-003",
            "A1126-005",
            "B1126-006",
            "B1126-007",
            "odd",
            "A1127-008",
        ];
        assert_eq!(
            ticket_ranges(&tickets),
            [
                "A1126-001~003",
                "A1126-005",
                "B1126-006~007",
                "odd",
                "A1127-008"
            ]
        );
    }

    #[test]
    fn a_category_is_named_short_in_both_languages() {
        assert_eq!(short_label("报修设施"), "报修");
        assert_eq!(short_label("其他"), "其他");
        assert_eq!(short_label("Safety hazard"), "Safety");
    }
}
