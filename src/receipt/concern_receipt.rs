//! The resident's receipt for a filed concern, in the language they used, and the printer
//! test page.

use crate::concern::{Colour, Concern, FilingRules, Lang};
use crate::config::{Config, FlowControl, tracking_address};
use crate::paper::PrintMode;

use super::mask::mask_phone;
use super::wording::Wording;
use crate::paper::{Document, Style, TextSize};

/// The top of everything a resident takes away: the community's name, what the paper is, and
/// the ticket number as large as the paper allows.
pub(super) fn ticket_heading(config: &Config, lang: Lang, title: &str, ticket: &str) -> Document {
    let words = Wording::of(lang);
    let centred = Style::NORMAL.centred();
    let mut doc = Document::new(config.printer.width_dots);
    let community = config.kiosk.community.get(lang);
    // Double size when the name fits one line (a Chinese name does); a long English name stays
    // on one line at double height rather than take two.
    let community_size = if doc.fits_on_one_line(community, TextSize::Double) {
        TextSize::Double
    } else {
        TextSize::DoubleHeight
    };
    doc.text(community, Style::sized(community_size).bold().centred())
        .text(title, centred)
        .separator();
    let ticket_size = if doc.fits_on_one_line(ticket, TextSize::Ticket) {
        TextSize::Ticket
    } else {
        TextSize::TicketNarrow
    };
    doc.text(words.your_number, centred)
        .text(ticket, Style::sized(ticket_size).bold().centred());
    doc
}

/// The receipt a resident takes away: who it is from, their ticket number (large) with its
/// check code, what they said and where, the council's promise with its date, a QR code to
/// follow it (when the config has a tracking URL), the hotline and what happens to their data.
/// A concern filed before kiosks gave out codes prints without a check code, and without a QR
/// code when the tracking URL needs the tracking code.
pub fn receipt(concern: &Concern, config: &Config) -> Document {
    let details = &concern.details;
    let lang = details.lang;
    let words = Wording::of(lang);
    let centred = Style::NORMAL.centred();
    let mut doc = ticket_heading(config, lang, words.title, &concern.ticket);
    if let Some(codes) = &details.codes {
        // Large enough to read and type on the kiosk's keypad without glasses: it is what
        // opens the office's answer for a resident without a phone.
        let line = format!("{}{}", words.check_code, codes.check);
        let size = if doc.fits_on_one_line(&line, TextSize::Double) {
            TextSize::Double
        } else {
            TextSize::DoubleHeight
        };
        doc.text(&line, Style::sized(size).bold().centred());
    }
    doc.text(words.quote_number, centred).separator();

    let filed = details.created_at.format("%Y-%m-%d %H:%M").to_string();
    doc.text(&format!("{}{filed}", words.filed), Style::NORMAL)
        .text(
            &format!("{}{}", words.category, details.category_label.get(lang)),
            Style::NORMAL,
        );
    if !details.phrases.is_empty() {
        let phrases: Vec<&str> = details.phrases.iter().map(|p| p.get(lang)).collect();
        let what = phrases.join(words.phrase_separator);
        doc.text(&format!("{}{what}", words.what), Style::NORMAL);
    }
    if let Some(text) = &details.text {
        doc.text(&format!("{}{text}", words.details), Style::NORMAL);
    }
    if let Some(location) = &details.location {
        doc.text(&format!("{}{location}", words.place), Style::NORMAL);
    }
    let phone = details
        .phone
        .as_deref()
        .map_or_else(|| words.no_phone.to_string(), mask_phone);
    doc.text(&format!("{}{phone}", words.phone), Style::NORMAL)
        .separator();

    doc.text(
        &promise_line(details.colour, details.due_date, config, words.lang),
        Style::sized(TextSize::DoubleHeight).bold(),
    );
    let emergency = config
        .category(&details.category)
        .and_then(|c| c.emergency_notice.as_ref());
    if let Some(notice) = emergency {
        doc.text(notice.get(lang), Style::NORMAL.bold());
    }
    doc.separator();

    let tracking = config.kiosk.tracking_url.as_deref().and_then(|url| {
        tracking_address(
            url,
            &concern.ticket,
            details.codes.as_ref().map(|c| &c.tracking),
        )
    });
    if let Some(address) = tracking {
        doc.text(words.scan, centred).qr(&address);
    }
    doc.text(&words.hotline(&config.kiosk.hotline), centred)
        .separator()
        .text(
            &words.privacy(config.retention.days_after_upload),
            Style::NORMAL,
        )
        .cut();
    doc
}

/// The page `printer-test` prints: which printer (`printer`, e.g. its port and line settings),
/// how the kiosk drives it (mode, paper width, line speed), its status as `status` says, a
/// ruler one line wide, one line of every text size and a QR code, so staff can see at a
/// glance what works.
pub fn test_page(config: &Config, printer_description: &str, status: &str) -> Document {
    let printer = &config.printer;
    let mut doc = Document::new(printer.width_dots);
    let mode = match printer.mode {
        PrintMode::Text => "text (GBK)",
        PrintMode::Raster => "raster",
    };
    let paper = match printer.width_dots {
        384 => " = 58 mm",
        576 => " = 80 mm",
        _ => "",
    };
    let flow = match printer.flow_control {
        FlowControl::None => "none",
        FlowControl::Xonxoff => "xonxoff",
        FlowControl::Rtscts => "rtscts",
    };
    let columns = doc.columns(TextSize::Normal);
    doc.text(
        "打印机测试 Printer test",
        Style::sized(TextSize::DoubleHeight).bold().centred(),
    )
    .text(&config.kiosk.community.zh, Style::NORMAL.centred())
    .separator()
    .text(
        &format!("打印机 Printer: {printer_description}"),
        Style::NORMAL,
    )
    .text(&format!("模式 Mode: {mode}"), Style::NORMAL)
    .text(
        &format!("纸宽 Paper: {} dots{paper}", printer.width_dots),
        Style::NORMAL,
    )
    .text(&format!("每行 Line: {columns} columns"), Style::NORMAL)
    .text(&format!("速率 Baud: {}", printer.baud), Style::NORMAL)
    .text(&format!("流控 Flow control: {flow}"), Style::NORMAL)
    .text(&format!("状态 Status: {status}"), Style::NORMAL)
    .text("标尺 Ruler (one line):", Style::NORMAL)
    .text(&ruler(columns), Style::NORMAL)
    .separator();
    for size in TextSize::ALL {
        doc.text(size_sample(size), Style::sized(size));
    }
    doc.separator()
        .text("二维码 QR code", Style::NORMAL.centred())
        .qr("concern-kiosk printer test")
        .cut();
    doc
}

/// `|----…----|` exactly `columns` wide: on paper it must fill one line, edge to edge.
fn ruler(columns: usize) -> String {
    format!("|{}|", "-".repeat(columns.saturating_sub(2)))
}

/// A line that fits one line at `size` on 58 mm paper.
fn size_sample(size: TextSize) -> &'static str {
    match size {
        TextSize::Normal => "正常 Normal 0123456789",
        TextSize::DoubleHeight => "倍高 Double height",
        TextSize::Double => "倍大 Double",
        TextSize::Ticket => "A1126 编号",
        TextSize::TicketNarrow => "A1126-1234 编号",
    }
}

/// The council's promise for a concern, as the receipt and the touchscreen's Done screen say it:
/// an answer by a date (green, orange) or follow-ups from a date (red).
pub fn promise_line(colour: Colour, due: chrono::NaiveDate, config: &Config, lang: Lang) -> String {
    Wording::of(lang).promise(colour, config.triage.days(colour), due)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::concern::Lang;
    use crate::paper::Block;
    use crate::receipt::sample::reference_concern;

    /// The demo config with the reference file's tracking URL, as the README's receipt shows.
    fn demo() -> Config {
        let mut config = Config::demo().unwrap();
        config.kiosk.tracking_url = Some("https://office.example.org/status/{code}".into());
        config
    }

    fn qr_codes(doc: &Document) -> Vec<String> {
        doc.blocks
            .iter()
            .filter_map(|b| match b {
                Block::Qr(data) => Some(data.as_str().to_string()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn the_chinese_receipt_says_everything_a_resident_needs() {
        let config = demo();
        let concern = reference_concern(&config, Lang::ZhCn).unwrap();
        let lines = receipt(&concern, &config).plain_lines();
        assert_eq!(
            lines,
            [
                "万家星城社区",
                "意见反映回执",
                "您的编号",
                "A1126-001",
                "查询码 4821",
                "请保留回执，询问时报编号",
                "时间：2026-11-26 09:30",
                "类别：报修设施",
                "事项：电梯坏了",
                "说明：电梯门关不上，已经三天了，",
                "老人上下楼很不方便。",
                "地点：3幢2单元",
                "电话：138****5678",
                "橙色：30天内答复（2026-12-26前）",
                "用手机扫码查看办理进度",
                "咨询电话：0571-0000 0000",
                "隐私：我们只保存您反映的事情和您",
                "留的电话（如有），用于社区办公室",
                "答复您。办公室收到后满30天，本机",
                "会删除您的电话和说明。",
            ]
        );
    }

    #[test]
    fn the_english_receipt_says_the_same_in_english() {
        let config = demo();
        let concern = reference_concern(&config, Lang::En).unwrap();
        let lines = receipt(&concern, &config).plain_lines();
        assert_eq!(lines[0], "Wanjia Xingcheng Community");
        assert_eq!(lines[3], "A1126-001");
        assert_eq!(lines[4], "Check code 4821");
        assert!(lines.contains(&"Type: Repairs".to_string()), "{lines:#?}");
        assert!(
            lines.contains(&"Phone: 138****5678".to_string()),
            "{lines:#?}"
        );
        let text = lines.join(" ");
        assert!(
            text.contains("Orange: answer within 30 days — by 2026-12-26"),
            "{text}"
        );
    }

    #[test]
    fn the_tracking_qr_code_carries_the_code_and_is_left_out_without_a_url() {
        let mut config = demo();
        let concern = reference_concern(&config, Lang::ZhCn).unwrap();
        assert_eq!(
            qr_codes(&receipt(&concern, &config)),
            ["https://office.example.org/status/7K3M9QXR2VWD4HJP"]
        );
        config.kiosk.tracking_url = None;
        let doc = receipt(&concern, &config);
        assert!(qr_codes(&doc).is_empty());
        assert!(!doc.plain_lines().iter().any(|l| l.contains("扫码")));
    }

    #[test]
    fn an_old_config_with_the_ticket_keeps_printing_it_in_the_qr_code() {
        let mut config = demo();
        config.kiosk.tracking_url = Some("https://office.example.org/t/{ticket}".into());
        let concern = reference_concern(&config, Lang::ZhCn).unwrap();
        let doc = receipt(&concern, &config);
        assert_eq!(qr_codes(&doc), ["https://office.example.org/t/A1126-001"]);
        assert!(doc.plain_lines().contains(&"查询码 4821".to_string()));
    }

    #[test]
    fn a_concern_filed_before_codes_prints_no_check_code_and_no_code_address() {
        let mut config = demo();
        let mut concern = reference_concern(&config, Lang::ZhCn).unwrap();
        concern.details.codes = None;
        let doc = receipt(&concern, &config);
        let lines = doc.plain_lines();
        assert!(!lines.iter().any(|l| l.contains("查询码")), "{lines:#?}");
        assert!(qr_codes(&doc).is_empty(), "no code: no page to open");
        config.kiosk.tracking_url = Some("https://office.example.org/t/{ticket}".into());
        assert_eq!(
            qr_codes(&receipt(&concern, &config)),
            ["https://office.example.org/t/A1126-001"],
            "as before codes existed"
        );
    }

    #[test]
    fn an_anonymous_red_safety_concern_promises_follow_ups_and_shows_the_emergency_notice() {
        let config = demo();
        let mut concern = reference_concern(&config, Lang::ZhCn).unwrap();
        let safety = config.category("safety").unwrap();
        concern.details.category = safety.code.clone();
        concern.details.category_label = safety.label.clone();
        concern.details.colour = Colour::Red;
        concern.details.due_date =
            Colour::Red.due_date(concern.details.created_at.date_naive(), &config.triage);
        concern.details.phone = None;
        let text = receipt(&concern, &config).plain_lines().concat();
        assert!(
            text.contains("红色：每14天跟进一次（首次2026-12-10）"),
            "{text}"
        );
        assert!(text.contains("电话：未留（匿名）"), "{text}");
        assert!(text.contains("119"), "{text}");
    }

    #[test]
    fn a_long_ticket_number_stays_on_one_line() {
        let config = demo();
        let mut concern = reference_concern(&config, Lang::ZhCn).unwrap();
        concern.ticket = "ABC1126-1234".into();
        let lines = receipt(&concern, &config).plain_lines();
        assert!(lines.contains(&"ABC1126-1234".to_string()), "{lines:#?}");
    }

    #[test]
    fn the_test_page_shows_the_settings_the_status_and_every_size() {
        let config = demo();
        let doc = test_page(&config, "spool folder kiosk-data/spool", "Ready");
        let lines = doc.plain_lines();
        assert!(
            lines.contains(&"状态 Status: Ready".to_string()),
            "{lines:#?}"
        );
        assert!(
            lines.contains(&"纸宽 Paper: 384 dots = 58 mm".to_string()),
            "{lines:#?}"
        );
        assert!(
            lines.contains(&"每行 Line: 32 columns".to_string()),
            "{lines:#?}"
        );
        assert!(lines.iter().any(|l| l.contains("Baud: 9600")));
        assert!(lines.contains(&format!("|{}|", "-".repeat(30))));
        let sizes: Vec<TextSize> = doc
            .blocks
            .iter()
            .filter_map(|b| match b {
                Block::Text(p) => Some(p.style.size),
                _ => None,
            })
            .collect();
        for size in TextSize::ALL {
            assert!(sizes.contains(&size), "{size:?} missing");
            assert!(doc.fits_on_one_line(size_sample(size), size), "{size:?}");
        }
    }
}
