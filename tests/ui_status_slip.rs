//! The status slip from "Check my concern" to paper: tapped on the real touch UI (Slint's
//! testing backend), queued in the real store, printed by the kiosk's print queue on a real
//! serial line to the printer emulator, and read back as the resident holds it. The reply is on
//! the slip only once the receipt is proved.

mod support;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use concern_kiosk::clock::ManualClock;
use concern_kiosk::config::{Config, PrinterKind};
use concern_kiosk::paper::PrintMode;
use concern_kiosk::printer::open_printer;
use concern_kiosk::printer::print_queue::{DrainOutcome, PrintQueue};
use concern_kiosk::printer::printer_lock::PrinterLock;
use concern_kiosk::ui::screenshots::{
    SAMPLE_CHECK_CODE, SAMPLE_TICKETS, SAMPLE_TRACKING_CODES, sample_answered_cases,
};
use support::kiosk_screen::{KioskScreen, open_screen, start};
use support::printer_emulator::{EmulatorOptions, PrinterEmulator, Printout};

/// Waits end as soon as the printout is there; the bound only matters on a very slow machine.
const WAIT: Duration = Duration::from_secs(20);

/// The start of the sample reply, in one line's width of the 58 mm paper.
const REPLY_START: &str = "物业已经换好了";

fn serial_printer_at(config: &mut Config, port: &Path) {
    config.printer.kind = PrinterKind::Serial;
    config.printer.port = Some(port.to_path_buf());
    config.printer.mode = PrintMode::Text;
}

/// A kiosk whose serial printer is an emulator plugged in at `<tmp>/receipt-printer`, with
/// the office's answers arrived: the touchscreen, the printer, and the config its print task
/// uses (the folder holding the printer's link goes with them).
struct SlipKiosk {
    screen: KioskScreen,
    printer: PrinterEmulator,
    config: Config,
    _port_folder: tempfile::TempDir,
}

fn kiosk_with_serial_printer() -> SlipKiosk {
    let port_folder = tempfile::tempdir().unwrap();
    let port = port_folder.path().join("receipt-printer");
    let printer = PrinterEmulator::plug_in_at(&port, EmulatorOptions::default()).unwrap();
    let screen = open_screen(|config| serial_printer_at(config, &port));
    let mut config = screen.kiosk.load_config();
    serial_printer_at(&mut config, &port);
    screen
        .store()
        .apply_updates(&sample_answered_cases(), start())
        .unwrap();
    SlipKiosk {
        screen,
        printer,
        config,
        _port_folder: port_folder,
    }
}

/// Prints what the touchscreen queued, as the kiosk's print task does, and returns the
/// printouts so far.
fn print_queued(k: &SlipKiosk, n: usize) -> Vec<Printout> {
    let (s, config, printer) = (&k.screen, &k.config, &k.printer);
    let lock = PrinterLock::try_acquire(&config.kiosk.data_dir)
        .unwrap()
        .unwrap();
    let mut queue = PrintQueue::new(
        s.store(),
        open_printer(config),
        config.clone(),
        lock,
        Arc::new(ManualClock::new(start())),
    )
    .unwrap();
    assert_eq!(queue.drain().unwrap(), DrainOutcome::Empty);
    let printouts = printer.wait_for_printouts(n, WAIT).unwrap();
    assert_eq!(
        printer.decode_errors(),
        [],
        "bytes the printer does not understand"
    );
    printouts
}

fn text_of(printout: &Printout) -> String {
    printout.lines().join("\n")
}

#[test]
fn the_slip_carries_the_reply_only_once_the_check_code_is_given() {
    let k = kiosk_with_serial_printer();
    let s = &k.screen;

    s.tap("查询办理进度");
    s.type_digits(SAMPLE_TICKETS[0]);
    s.tap("查询");
    s.tap("打印");
    assert!(s.shows("已打印，请在下方取走"));
    let printouts = print_queued(&k, 1);
    let ticket_only = text_of(&printouts[0]);
    for expected in [
        SAMPLE_TICKETS[0],
        "类别：报修设施",
        "进度：已经办好了",
        "绿色：7天内答复（2026-11-27前）",
        "信息更新于 11月25日 16:20",
        "打印时间：2026-11-26 10:30",
        "咨询电话：0571-0000 0000",
    ] {
        assert!(
            printouts[0].lines().iter().any(|l| l == expected),
            "`{expected}` not in\n{ticket_only}"
        );
    }
    assert!(!ticket_only.contains(REPLY_START), "{ticket_only}");
    assert!(printouts[0].cut);

    s.tap("输入查询码");
    s.type_digits(SAMPLE_CHECK_CODE);
    s.tap("看答复");
    s.tap("打印");
    let printouts = print_queued(&k, 2);
    let with_reply = text_of(&printouts[1]);
    assert!(
        with_reply.contains(&format!("答复：{REPLY_START}")),
        "{with_reply}"
    );
    assert!(with_reply.contains("进度：已经办好了"), "{with_reply}");
}

#[test]
fn a_scanned_receipt_prints_its_slip_with_the_reply_in_the_residents_language() {
    let k = kiosk_with_serial_printer();
    let s = &k.screen;
    s.tap("English");
    s.scan(SAMPLE_TRACKING_CODES[1]);
    s.tap("Print this");
    let printouts = print_queued(&k, 1);
    let text = text_of(&printouts[0]);
    assert!(text.contains("Progress: It has been dealt with"), "{text}");
    assert!(text.contains(&format!("Answer: {REPLY_START}")), "{text}");
}
