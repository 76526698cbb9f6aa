//! The staff daily summary as staff hold it: printed through the real serial code to the
//! printer emulator and read back — counts, the two lists, what is due, what the office did,
//! upload status — and the closing-time schedule on a clock the test moves.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, TimeDelta};
use concern_kiosk::concern::{CaseState, Draft, FilingRules, Lang, ListKind, Rating};
use concern_kiosk::config::Config;
use concern_kiosk::printer::print_queue::{DrainOutcome, PrintQueue};
use concern_kiosk::printer::printer_lock::PrinterLock;
use concern_kiosk::printer::{PrinterStatus, open_printer};
use concern_kiosk::protocol::wire::{BatchReply, StatusUpdate, UpdatesPage};
use concern_kiosk::store::Store;
use concern_kiosk::summary::{DailySummary, schedule_tick, summary_sheet};
use support::printer_emulator::{BusyPattern, EmulatorOptions, Fault, PrinterEmulator, Printout};
use support::{TestKiosk, stderr};

/// Generous: a raster summary of a long day is about a megabyte through the emulator.
const WAIT: Duration = Duration::from_secs(180);

fn kiosk_with_printer(mode: &str, options: EmulatorOptions) -> (TestKiosk, PrinterEmulator) {
    let kiosk = TestKiosk::new();
    let port_in_kiosk = kiosk.print_on_serial_port(mode);
    let printer = PrinterEmulator::plug_in_at(&port_in_kiosk, options).unwrap();
    (kiosk, printer)
}

fn file(
    store: &mut Store,
    config: &Config,
    category: &str,
    phrase: &str,
    at: DateTime<FixedOffset>,
) -> String {
    let draft = Draft {
        category: category.into(),
        phrases: vec![phrase.into()],
        text: None,
        location: Some("3幢2单元".into()),
        phone: None,
        lang: Lang::ZhCn,
    };
    store
        .file_concern(draft.validate(config, at).unwrap(), "A")
        .unwrap()
        .ticket
}

/// The printed lines between a heading that starts with `title` and the next separator.
fn section<'a>(lines: &'a [String], title: &str) -> Vec<&'a String> {
    let start = lines
        .iter()
        .position(|l| l.starts_with(title))
        .unwrap_or_else(|| panic!("no `{title}` in {lines:#?}"));
    lines[start + 1..]
        .iter()
        .take_while(|l| !l.starts_with("----"))
        .collect()
}

fn tickets_in(lines: &[&String]) -> BTreeSet<String> {
    lines
        .iter()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|w| w.starts_with('A') && w.contains('-'))
        .map(str::to_string)
        .collect()
}

/// The count printed right after `label` (a line may hold two label–count pairs); `None`
/// when no line shows it (a category with no concerns is left out).
fn count_of(lines: &[String], label: &str) -> Option<u32> {
    lines.iter().find_map(|line| {
        let words: Vec<&str> = line.split_whitespace().collect();
        words
            .windows(2)
            .find(|pair| pair[0] == label)
            .and_then(|pair| pair[1].parse().ok())
    })
}

/// Unprinted tickets as the sheet lists them, with `A1126-001~003` standing for three.
fn expand_tickets(lines: &[&String]) -> Vec<String> {
    let mut tickets = Vec::new();
    for word in lines.iter().flat_map(|l| l.split_whitespace()) {
        match word.split_once('~') {
            Some((first, last)) => {
                let (day, start) = first.rsplit_once('-').unwrap();
                let (start, end): (u32, u32) = (start.parse().unwrap(), last.parse().unwrap());
                tickets.extend((start..=end).map(|n| format!("{day}-{n:03}")));
            }
            None => tickets.push(word.to_string()),
        }
    }
    tickets
}

#[test]
fn the_printed_summary_counts_lists_and_reports_what_the_store_holds() {
    let (kiosk, printer) = kiosk_with_printer("text", EmulatorOptions::default());
    let config = kiosk.load_config();
    let now = concern_kiosk::clock::local_now();
    let (mut store, _) = Store::open(&config.kiosk.data_dir, now).unwrap();
    // Earlier days: an orange concern 29 days old (due tomorrow), a green one 10 days old
    // (overdue), and a green one from yesterday (due in 6 days: not listed).
    let due_soon = file(
        &mut store,
        &config,
        "repairs",
        "1",
        now - TimeDelta::days(29),
    );
    let overdue = file(
        &mut store,
        &config,
        "sanitation",
        "2",
        now - TimeDelta::days(10),
    );
    let not_due = file(
        &mut store,
        &config,
        "sanitation",
        "3",
        now - TimeDelta::days(1),
    );
    // Today: across categories, colours and both lists.
    let seeds = [
        ("sanitation", "1"),
        ("sanitation", "2"),
        ("repairs", "3"),
        ("noise", "1"),
        ("noise", "2"),
        ("neighbours", "1"),
        ("safety", "1"),
        ("parking", "4"),
        ("suggestion", "2"),
        ("property", "5"),
    ];
    let mut today = Vec::new();
    for (i, (category, phrase)) in seeds.iter().enumerate() {
        let at = now.with_time(chrono::NaiveTime::MIN).unwrap() + TimeDelta::minutes(i as i64);
        today.push((file(&mut store, &config, category, phrase, at), *category));
    }
    // The office acknowledged one batch of three today.
    let batch = concern_kiosk::upload::batch::assemble(&mut store, "wanjia-01", 3, 1 << 20, now)
        .unwrap()
        .unwrap();
    let ids: Vec<_> = store
        .concerns_between(None, None)
        .unwrap()
        .iter()
        .take(3)
        .map(|r| r.concern.details.id)
        .collect();
    store
        .batch_delivered(
            batch.batch_id,
            &BatchReply {
                accepted: ids,
                duplicates: vec![],
            },
            now,
        )
        .unwrap();
    // What the office did, as the day's pull brought it: the concern filed 29 days ago was
    // answered today and its resident was unhappy with the answer; the 10-day-old one is with
    // a handler past its date.
    let office_says = |cursor, ticket: &str, state, answered: bool| {
        let record = store.concern_by_ticket(ticket).unwrap().unwrap();
        let details = record.concern.details;
        StatusUpdate {
            cursor,
            concern_id: details.id,
            ticket: ticket.into(),
            category_label: details.category_label,
            state,
            colour: details.colour,
            promised_by: details.due_date,
            due_date: Some(details.due_date),
            reply: answered.then(|| "已经修好了".into()),
            rating: None,
            answered_at: answered.then(|| now.with_timezone(&chrono::Utc)),
            changed_at: now.with_timezone(&chrono::Utc),
            check_code: details.codes.map(|c| c.check),
            tracking_digest: None,
        }
    };
    let page = UpdatesPage {
        updates: vec![
            office_says(1, &due_soon, CaseState::Answered, true),
            office_says(2, &overdue, CaseState::Assigned, false),
        ],
        next_after: 2,
        more: false,
    };
    store.apply_updates(&page, now).unwrap();
    let answered = store.case_status(&due_soon).unwrap().unwrap();
    store.rate(&answered, Rating::Unsatisfied, now).unwrap();
    let overdue_due = store.case_status(&overdue).unwrap().unwrap().due_date;
    drop(store);

    // Filed through the library, the receipts have not printed yet: the summary says so.
    let before = kiosk.run(&["summary", "--text"]);
    let before: Vec<String> = support::stdout(&before)
        .lines()
        .map(str::to_string)
        .collect();
    let unprinted = expand_tickets(&section(&before, "未打印的回执"));
    let filed_today: BTreeSet<String> = today.iter().map(|(ticket, _)| ticket.clone()).collect();
    assert_eq!(unprinted.len(), 10, "{unprinted:?}");
    assert_eq!(unprinted.into_iter().collect::<BTreeSet<_>>(), filed_today);

    // Printing drains the queue in order: the 13 receipts, then the summary.
    let output = kiosk.run(&["summary", "--print"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let printouts = printer.wait_for_printouts(14, WAIT).unwrap();
    assert_eq!(printer.decode_errors(), []);
    let lines = printouts.last().unwrap().lines();
    assert_eq!(section(&lines, "未打印的回执 (0)").len(), 0);

    assert!(lines.iter().any(|l| l == "每日汇总"), "{lines:#?}");
    // Totals first, on one line with the colours; then the categories that had concerns.
    let totals = lines
        .iter()
        .find(|l| l.starts_with("今日反映"))
        .unwrap_or_else(|| panic!("no totals in {lines:#?}"));
    let totals = std::slice::from_ref(totals);
    assert_eq!(count_of(totals, "今日反映"), Some(10));
    // sanitation, suggestion: green; repairs, noise, neighbours, parking, property: orange; safety: red.
    assert_eq!(
        (
            count_of(totals, "绿"),
            count_of(totals, "橙"),
            count_of(totals, "红")
        ),
        (Some(3), Some(6), Some(1))
    );
    let categories = section(&lines, "按类别");
    let categories: Vec<String> = categories.into_iter().cloned().collect();
    assert_eq!(count_of(&categories, "环境卫生"), Some(2));
    assert_eq!(count_of(&categories, "噪音扰民"), Some(2));
    assert_eq!(
        count_of(&categories, "门前三包"),
        None,
        "no concerns: not listed"
    );

    let lists = |list: ListKind| -> BTreeSet<String> {
        today
            .iter()
            .filter(|(_, category)| config.category(category).unwrap().list == list)
            .map(|(ticket, _)| ticket.clone())
            .collect()
    };
    assert_eq!(
        tickets_in(&section(&lines, "居民诉求清单")),
        lists(ListKind::Demands)
    );
    assert_eq!(
        tickets_in(&section(&lines, "矛盾问题清单")),
        lists(ListKind::Conflicts)
    );

    let due = tickets_in(&section(&lines, "到期或将到期"));
    assert!(due.contains(&due_soon) && due.contains(&overdue), "{due:?}");
    assert!(!due.contains(&not_due));

    let after = |title: &str| -> &String {
        let at = lines.iter().position(|l| l == title);
        &lines[at.unwrap_or_else(|| panic!("no `{title}` in {lines:#?}")) + 1]
    };
    assert_eq!(after("今日已答复 (1)"), &due_soon);
    let due_text = overdue_due.unwrap().format("%m-%d");
    assert_eq!(
        after("办公室超期未答复 (1)"),
        &format!("{overdue}({due_text})")
    );
    assert_eq!(after("不满意评价 (1)"), &format!("{due_soon} 不满意"));

    let (store, _) = Store::open(&config.kiosk.data_dir, now).unwrap();
    let status = store.upload_status().unwrap();
    assert_eq!(count_of(&lines, "今日已上传"), Some(3));
    assert_eq!(count_of(&lines, "待上传"), Some(status.pending_concerns));
    assert_eq!(status.pending_concerns, 13 - 3);
    assert_eq!(count_of(&lines, "被拒批次"), Some(0));
}

#[test]
fn the_scheduled_summary_prints_once_at_closing_time_and_waits_out_paper_out() {
    let (kiosk, printer) = kiosk_with_printer("text", EmulatorOptions::default());
    let config = kiosk.load_config();
    let day = concern_kiosk::clock::local_now().date_naive();
    let at = |h, m| {
        day.and_hms_opt(h, m, 0)
            .unwrap()
            .and_local_timezone(*concern_kiosk::clock::local_now().offset())
            .unwrap()
    };
    let (mut store, _) = Store::open(&config.kiosk.data_dir, at(9, 0)).unwrap();
    file(&mut store, &config, "noise", "1", at(9, 0));

    assert_eq!(
        schedule_tick(&mut store, &config, at(17, 29)).unwrap(),
        None
    );
    assert!(
        schedule_tick(&mut store, &config, at(17, 30))
            .unwrap()
            .is_some()
    );
    assert_eq!(
        schedule_tick(&mut store, &config, at(17, 30)).unwrap(),
        None
    );
    // The kiosk restarts at 17:31: the day's summary is not queued again.
    drop(store);
    let (mut store, _) = Store::open(&config.kiosk.data_dir, at(17, 31)).unwrap();
    assert_eq!(
        schedule_tick(&mut store, &config, at(17, 31)).unwrap(),
        None
    );
    assert_eq!(
        schedule_tick(&mut store, &config, at(23, 59)).unwrap(),
        None
    );

    // The printer is out of paper at closing time; the summary waits in the queue.
    printer.set_fault(Fault::PaperOut);
    let lock = PrinterLock::try_acquire(&config.kiosk.data_dir)
        .unwrap()
        .unwrap();
    let mut queue = PrintQueue::new(
        store,
        open_printer(&config),
        config.clone(),
        lock,
        std::sync::Arc::new(concern_kiosk::clock::SystemClock),
    )
    .unwrap();
    assert_eq!(
        queue.drain().unwrap(),
        DrainOutcome::Blocked(PrinterStatus::PaperOut)
    );
    std::thread::sleep(Duration::from_millis(200));
    assert!(printer.printouts().is_empty());
    printer.set_fault(Fault::None);
    // The receipt of the morning's concern and the summary come out, in that order.
    assert_eq!(queue.drain().unwrap(), DrainOutcome::Empty);
    let printouts = printer.wait_for_printouts(2, WAIT).unwrap();
    let summaries = printouts
        .iter()
        .filter(|p| p.lines().iter().any(|l| l == "每日汇总"))
        .count();
    assert_eq!(summaries, 1, "the day's summary prints exactly once");

    // The next day it is due again.
    let (mut store, _) = Store::open(&config.kiosk.data_dir, at(17, 31)).unwrap();
    let tomorrow = at(17, 30) + TimeDelta::days(1);
    assert!(
        schedule_tick(&mut store, &config, tomorrow)
            .unwrap()
            .is_some()
    );
}

/// A printer that pauses the line with XOFF now and then, with a small buffer.
fn busy_printer() -> EmulatorOptions {
    EmulatorOptions {
        receive_buffer_bytes: 4096,
        busy: Some(BusyPattern {
            every_bytes: 65_536,
            pause: Duration::from_millis(100),
        }),
        ..EmulatorOptions::default()
    }
}

fn long_day(kiosk: &TestKiosk) -> usize {
    let config = kiosk.load_config();
    let now = concern_kiosk::clock::local_now();
    let (mut store, _) = Store::open(&config.kiosk.data_dir, now).unwrap();
    let start = now.with_time(chrono::NaiveTime::MIN).unwrap();
    for i in 0..200 {
        let category = &config.categories[i % config.categories.len()];
        file(
            &mut store,
            &config,
            &category.code,
            "1",
            start + TimeDelta::minutes(i as i64 * 7 % 1400),
        );
    }
    // Their receipts printed during the day: only the summary is waiting.
    while let Some(job) = store.next_print_job().unwrap() {
        store.start_print_job(job.id, now).unwrap();
        store.finish_print_job(job.id, now).unwrap();
    }
    200
}

fn assert_long_summary(printout: &Printout, expected: usize) {
    let tickets: BTreeSet<String> = printout
        .lines()
        .iter()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .filter(|w| w.starts_with('A') && w.len() == 9)
        .collect();
    assert_eq!(tickets.len(), expected);
}

#[test]
fn a_200_concern_day_prints_whole_in_text_mode_through_xoff_pauses() {
    let (kiosk, printer) = kiosk_with_printer("text", busy_printer());
    let filed = long_day(&kiosk);
    let output = kiosk.run(&["summary", "--print"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let printouts = printer.wait_for_printouts(1, WAIT).unwrap();
    assert_eq!(printer.lost_bytes().total(), 0);
    assert_eq!(printer.decode_errors(), []);
    assert_long_summary(printouts.last().unwrap(), filed);
}

#[test]
fn a_200_concern_day_prints_whole_in_raster_mode_through_xoff_pauses() {
    let (kiosk, printer) = kiosk_with_printer("raster", busy_printer());
    long_day(&kiosk);
    let config = kiosk.load_config();
    let now = concern_kiosk::clock::local_now();
    let output = kiosk.run(&["summary", "--print"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let printouts = printer.wait_for_printouts(1, WAIT).unwrap();
    assert_eq!(printer.lost_bytes().total(), 0);
    assert_eq!(printer.decode_errors(), []);
    let paper = printouts.last().unwrap().raster_paper(384).unwrap();
    // What came out is the sheet the kiosk drew, as tall (the same data; only the minute in
    // "printed at" may differ).
    let (store, _) = Store::open(&config.kiosk.data_dir, now).unwrap();
    let summary = DailySummary::gather(&store, &config, now.date_naive(), now).unwrap();
    let expected = concern_kiosk::paper::render_raster(&summary_sheet(&summary, &config)).unwrap();
    assert_eq!(
        (paper.width, paper.height),
        (384, expected.height() as usize)
    );
}

#[test]
fn a_concern_in_the_residents_own_words_shows_them_on_the_summary() {
    let kiosk = TestKiosk::new();
    let filed = kiosk.run(&["submit", "--category", "repairs", "--text", "楼下路灯坏了"]);
    assert!(filed.status.success(), "{}", stderr(&filed));
    let output = kiosk.run(&["summary", "--text"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let sheet = String::from_utf8_lossy(&output.stdout);
    let line = sheet
        .lines()
        .find(|l| l.starts_with("A"))
        .unwrap_or_else(|| panic!("no concern line in {sheet}"));
    // One line per concern on 58 mm paper: the words as far as they fit.
    assert!(line.contains(" 楼下路"), "{line}");
}
