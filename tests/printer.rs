//! Receipts on a real serial line: the kiosk's own code prints to the printer emulator on the
//! far end of a pseudo-terminal, and the tests read back what a resident would hold in hand.

mod support;

use std::path::PathBuf;
use std::time::Duration;

use concern_kiosk::clock::local_now;
use concern_kiosk::concern::{Draft, Lang};
use concern_kiosk::printer::print_queue::{DrainOutcome, PrintQueue};
use concern_kiosk::printer::printer_lock::PrinterLock;
use concern_kiosk::printer::{PrinterStatus, open_printer};
use concern_kiosk::store::{JobState, Store};
use concern_kiosk::{paper, receipt};
use support::printer_emulator::{BusyPattern, EmulatorOptions, Fault, PrinterEmulator, Printout};
use support::{TestKiosk, stderr, stdout};

/// Waits end as soon as the condition holds; the bound only matters on a very slow machine.
const WAIT: Duration = Duration::from_secs(20);

/// A kiosk whose serial printer is an emulator plugged in at `<tmp>/receipt-printer`.
fn kiosk_and_printer(mode: &str, options: EmulatorOptions) -> (TestKiosk, PrinterEmulator) {
    let holder = tempfile::tempdir().unwrap();
    let port: PathBuf = holder.path().join("receipt-printer");
    let kiosk = TestKiosk::with_serial_printer(&port, mode);
    // The device link lives inside the kiosk's own temporary folder.
    let port = kiosk.dir.path().join("receipt-printer");
    let text = std::fs::read_to_string(&kiosk.config).unwrap();
    std::fs::write(
        &kiosk.config,
        support::with_key(&text, "port", &format!("{:?}", port.display().to_string())),
    )
    .unwrap();
    let printer = PrinterEmulator::plug_in_at(&port, options).unwrap();
    (kiosk, printer)
}

/// The tracking code and check code the kiosk gave the concern with this ticket.
fn codes_of(kiosk: &TestKiosk, ticket: &str) -> (String, String) {
    let config = kiosk.load_config();
    let (store, _) = Store::open(&config.kiosk.data_dir, local_now()).unwrap();
    let concern = store.concern_by_ticket(ticket).unwrap().unwrap().concern;
    let codes = concern.details.codes.expect("a new concern has its codes");
    (codes.tracking.to_string(), codes.check.to_string())
}

fn only_printout(printer: &PrinterEmulator) -> Printout {
    let printouts = printer.wait_for_printouts(1, WAIT).unwrap();
    assert_eq!(printouts.len(), 1, "expected exactly one receipt");
    assert_eq!(
        printer.decode_errors(),
        [],
        "the printer met bytes it does not understand"
    );
    printouts.into_iter().next().unwrap()
}

#[test]
fn a_chinese_receipt_in_text_mode_reads_back_as_the_resident_sees_it() {
    let (kiosk, printer) = kiosk_and_printer("text", EmulatorOptions::default());
    let output = kiosk.run(&[
        "submit",
        "--category",
        "repairs",
        "--phrase",
        "1",
        "--location",
        "3幢2单元",
        "--phone",
        "13812345678",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let ticket = stdout(&output).trim().to_string();
    assert!(stderr(&output).contains("printed"), "{}", stderr(&output));

    let printout = only_printout(&printer);
    let lines = printout.lines();
    let due = (local_now().date_naive() + chrono::Days::new(30)).to_string();
    let (tracking, check) = codes_of(&kiosk, &ticket);
    for expected in [
        ticket.as_str(),
        &format!("查询码 {check}"),
        "类别：报修设施",
        "事项：电梯坏了",
        "地点：3幢2单元",
        "电话：138****5678",
        &format!("橙色：30天内答复（{due}前）"),
    ] {
        assert!(
            lines.iter().any(|l| l == expected),
            "`{expected}` not in {lines:#?}"
        );
    }
    assert!(
        !lines.iter().any(|l| l.contains("13812345678")),
        "the full phone number was printed"
    );
    let ticket_line = printout
        .text_lines()
        .into_iter()
        .find(|l| l.text.trim() == ticket)
        .unwrap();
    assert!(
        ticket_line.height_dots() >= 64,
        "ticket only {} dots high",
        ticket_line.height_dots()
    );
    let qrs = printout.qrs();
    assert_eq!(qrs.len(), 1);
    assert!(qrs[0].model2, "QR Model 2 must be chosen explicitly");
    assert_eq!(
        qrs[0].data_text(),
        Some(format!("https://office.example.org/status/{tracking}").as_str())
    );
    // The check code is big enough to read at arm's length, like the ticket.
    let check_line = printout
        .text_lines()
        .into_iter()
        .find(|l| l.text.trim() == format!("查询码 {check}"))
        .unwrap();
    assert!(
        check_line.height_dots() >= 48,
        "check code only {} dots high",
        check_line.height_dots()
    );
    assert!(printout.cut);
}

#[test]
fn a_raster_receipt_arrives_as_its_preview_dot_for_dot_with_a_readable_qr() {
    let (kiosk, printer) = kiosk_and_printer("raster", EmulatorOptions::default());
    let output = kiosk.run(&[
        "submit",
        "--category",
        "noise",
        "--phrase",
        "2",
        "--lang",
        "en",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let ticket = stdout(&output).trim().to_string();

    let printout = only_printout(&printer);
    let printed = printout.raster_paper(384).expect("a raster printout");

    let config = kiosk.load_config();
    let (store, _) = Store::open(&config.kiosk.data_dir, local_now()).unwrap();
    let concern = store.concern_by_ticket(&ticket).unwrap().unwrap().concern;
    let preview = paper::render_raster(&receipt::receipt(&concern, &config)).unwrap();
    assert_eq!(
        (printed.width, printed.height),
        (preview.width() as usize, preview.height() as usize)
    );
    for y in 0..printed.height {
        for x in 0..printed.width {
            assert_eq!(
                printed.is_black(x, y),
                preview.is_black(x as u32, y as u32),
                "dot ({x}, {y})"
            );
        }
    }
    let (tracking, _) = codes_of(&kiosk, &ticket);
    assert_eq!(
        printed.qr_texts(),
        [format!("https://office.example.org/status/{tracking}")]
    );
}

/// Files one concern through the library and returns the store and a print queue that owns
/// the printer, as the running kiosk does.
fn filed_concern_and_queue(kiosk: &TestKiosk) -> (String, PrintQueue) {
    let config = kiosk.load_config();
    let (mut store, _) = Store::open(&config.kiosk.data_dir, local_now()).unwrap();
    let draft = Draft::preset("sanitation", "1", Lang::ZhCn);
    let concern = store
        .file_concern(draft.validate(&config, local_now()).unwrap(), "A")
        .unwrap();
    let lock = PrinterLock::try_acquire(&config.kiosk.data_dir)
        .unwrap()
        .unwrap();
    let queue = PrintQueue::new(
        store,
        open_printer(&config),
        config,
        lock,
        std::sync::Arc::new(concern_kiosk::clock::SystemClock),
    )
    .unwrap();
    (concern.ticket, queue)
}

fn receipt_state(queue: &PrintQueue, ticket: &str) -> JobState {
    let record = queue.store().concern_by_ticket(ticket).unwrap().unwrap();
    let job = queue
        .store()
        .receipt_job_for(&record.concern.details.id.to_string())
        .unwrap()
        .unwrap();
    queue.store().print_job(job).unwrap().unwrap().state
}

#[test]
fn paper_out_keeps_the_job_and_paper_back_prints_exactly_one_receipt() {
    let (kiosk, printer) = kiosk_and_printer("text", EmulatorOptions::default());
    printer.set_fault(Fault::PaperOut);
    let (ticket, mut queue) = filed_concern_and_queue(&kiosk);

    assert_eq!(
        queue.drain().unwrap(),
        DrainOutcome::Blocked(PrinterStatus::PaperOut)
    );
    assert_eq!(queue.check_printer(), PrinterStatus::PaperOut);
    assert_eq!(receipt_state(&queue, &ticket), JobState::Pending);
    assert!(
        queue.store().concern_by_ticket(&ticket).unwrap().is_some(),
        "the concern is stored"
    );
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        printer.printouts().is_empty(),
        "nothing may print while the paper is out"
    );
    assert!(
        printer
            .raw_bytes()
            .iter()
            .all(|&b| b == 0x10 || b == 0x04 || b <= 4),
        "only status requests were sent"
    );

    printer.set_fault(Fault::None);
    assert_eq!(queue.drain().unwrap(), DrainOutcome::Empty);
    assert_eq!(queue.drain().unwrap(), DrainOutcome::Empty);
    let printout = only_printout(&printer);
    assert!(printout.lines().contains(&ticket));
    assert_eq!(receipt_state(&queue, &ticket), JobState::Done);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        printer.printouts().len(),
        1,
        "paper back must bring exactly one receipt"
    );
}

#[test]
fn every_fault_reads_back_as_its_status() {
    let (kiosk, printer) = kiosk_and_printer("text", EmulatorOptions::default());
    let mut port = open_printer(&kiosk.load_config());
    for (fault, status) in [
        (Fault::None, PrinterStatus::Ready),
        (Fault::PaperNearEnd, PrinterStatus::PaperNearEnd),
        (Fault::PaperOut, PrinterStatus::PaperOut),
        (Fault::CoverOpen, PrinterStatus::CoverOpen),
        (Fault::Offline, PrinterStatus::Offline),
    ] {
        printer.set_fault(fault);
        assert_eq!(port.status(), status, "{fault:?}");
    }
    printer.disconnect();
    assert_eq!(port.status(), PrinterStatus::Disconnected);
}

#[test]
fn an_unplugged_printer_prints_the_waiting_receipt_once_plugged_back_in() {
    let (kiosk, printer) = kiosk_and_printer("text", EmulatorOptions::default());
    printer.disconnect();
    let (ticket, mut queue) = filed_concern_and_queue(&kiosk);
    assert_eq!(
        queue.drain().unwrap(),
        DrainOutcome::Blocked(PrinterStatus::Disconnected)
    );
    assert_eq!(receipt_state(&queue, &ticket), JobState::Pending);

    printer.reconnect().unwrap();
    assert_eq!(queue.drain().unwrap(), DrainOutcome::Empty);
    let printout = only_printout(&printer);
    assert!(printout.lines().contains(&ticket));
}

/// A printer with a small buffer that stops the line every 128 bytes while it prints, for
/// longer than the emulator waits for a host to obey XOFF.
fn busy_printer() -> EmulatorOptions {
    EmulatorOptions {
        receive_buffer_bytes: 160,
        busy: Some(BusyPattern {
            every_bytes: 128,
            pause: Duration::from_millis(300),
        }),
        ..EmulatorOptions::default()
    }
}

const LONG_CONCERN: [&str; 7] = [
    "submit",
    "--category",
    "safety",
    "--phrase",
    "1",
    "--phrase",
    "2",
];

#[test]
fn a_printer_that_pauses_the_line_with_xoff_loses_no_bytes() {
    let (kiosk, printer) = kiosk_and_printer("text", busy_printer());
    let output = kiosk.run(&LONG_CONCERN);
    assert!(output.status.success(), "{}", stderr(&output));
    let ticket = stdout(&output).trim().to_string();
    let printout = only_printout(&printer);
    assert_eq!(printer.lost_bytes().total(), 0, "bytes were dropped");
    assert!(printout.lines().contains(&ticket));
}

#[test]
fn without_flow_control_the_same_busy_printer_drops_bytes() {
    // The control for the test above: it shows the busy printer really overflows.
    let (kiosk, printer) = kiosk_and_printer("text", busy_printer());
    let text = std::fs::read_to_string(&kiosk.config).unwrap();
    std::fs::write(
        &kiosk.config,
        support::with_key(&text, "flow_control", "\"none\""),
    )
    .unwrap();
    let output = kiosk.run(&LONG_CONCERN);
    assert!(output.status.success(), "{}", stderr(&output));
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        printer.lost_bytes().total() > 0,
        "a busy printer without flow control lost nothing?"
    );
}

#[test]
fn printer_commands_typed_into_a_concern_print_as_plain_text() {
    let (kiosk, printer) = kiosk_and_printer("text", EmulatorOptions::default());
    // ESC @ (reset), GS V (cut), ESC d (feed), DLE EOT and FS . hidden in what was typed.
    let hostile = "灯坏了\u{1b}@\u{1d}V\u{1}A\u{1b}d\u{9}\u{10}\u{4}\u{1}\u{1c}.end";
    let output = kiosk.run(&["submit", "--category", "repairs", "--text", hostile]);
    assert!(output.status.success(), "{}", stderr(&output));
    let printout = only_printout(&printer);
    assert!(printout.cut);
    let lines = printout.lines();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("灯坏了@VA") && l.contains(".end")),
        "{lines:#?}"
    );
    assert_eq!(
        printer.printouts().len(),
        1,
        "a smuggled cut must not make two receipts"
    );
}

#[test]
fn printer_test_on_the_demo_config_writes_the_bytes_and_a_png() {
    let dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_concern-kiosk"))
        .arg("printer-test")
        .current_dir(dir.path())
        .env_remove("CONCERN_KIOSK_CONFIG")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("status: ready"),
        "{}",
        stdout(&output)
    );
    let spool = dir.path().join("kiosk-data/spool");
    let names: Vec<String> = std::fs::read_dir(&spool)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let bin = names
        .iter()
        .find(|n| n.ends_with("test-page.bin"))
        .expect("a .bin");
    let png = names
        .iter()
        .find(|n| n.ends_with("test-page.png"))
        .expect("a .png");
    let events =
        support::printer_emulator::decode(&std::fs::read(spool.join(bin)).unwrap()).unwrap();
    let printout = &Printout::split(&events)[0];
    assert!(
        printout.lines().iter().any(|l| l.contains("Baud: 9600")),
        "{:#?}",
        printout.lines()
    );
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(spool.join(png)).unwrap(),
    ));
    let info = decoder.read_info().unwrap().info().clone();
    assert_eq!(info.width, 384);
}

#[test]
fn raster_mode_at_9600_baud_is_said_before_it_keeps_a_resident_waiting() {
    let (kiosk, printer) = kiosk_and_printer("raster", EmulatorOptions::default());
    let output = kiosk.run(&["printer-test"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let said = stdout(&output);
    let printout = only_printout(&printer);
    assert!(printout.raster_paper(384).is_ok(), "a raster test page");
    assert!(
        said.lines()
            .any(|l| l.starts_with("test page: printed in ") && l.ends_with(" s")),
        "{said}"
    );
    let receipt = said
        .lines()
        .find(|l| l.starts_with("a receipt: "))
        .unwrap_or_else(|| panic!("no receipt time in {said}"));
    assert!(receipt.ends_with("on the line at 9600 baud"), "{receipt}");
    assert!(
        said.contains("warning: raster mode at 9600 baud: a receipt takes about "),
        "{said}"
    );

    let doctor = stdout(&kiosk.run(&["doctor"]));
    let speed = doctor
        .lines()
        .find(|l| l.contains("printer speed"))
        .unwrap_or_else(|| panic!("no printer speed line in {doctor}"));
    assert!(speed.starts_with("WARN"), "{speed}");
    assert!(
        speed.contains("set the printer and `printer.baud` to 115200"),
        "{speed}"
    );

    kiosk.set_key("baud", "115200");
    let doctor = stdout(&kiosk.run(&["doctor"]));
    assert!(!doctor.contains("printer speed"), "{doctor}");
}
