//! The appliance booted for real: the `.deb` installed by apt on Debian 12 in QEMU, started by
//! systemd as its own user, drawing full screen through linuxkms, touched through a USB tablet,
//! printing on a USB-serial line to the printer emulator, uploading to an office on the host —
//! and losing power at random moments.
//!
//! Ignored by a plain `cargo test`: it needs the image `.ci/vm-image` builds (`.ci/vm` builds
//! it and runs this): `CONCERN_KIOSK_VM_IMAGE=DIR cargo test --test appliance_vm -- --ignored`.
//! `CONCERN_KIOSK_VM_CUTS` sets the number of power cuts (10 by default). Everything a person
//! needs to see why a run failed (the guest's journal, console, screendumps, the printer's
//! bytes) is kept in `CONCERN_KIOSK_VM_RUN` (default: a folder under the target directory).
//!
//! A concern counts as acknowledged when the kiosk's journal line "concern filed from the
//! touchscreen" names its ticket: the kiosk writes it after the commit and before it shows Done,
//! and the test reads it from the running guest (journalctl over the guest agent) before it
//! cuts the power, so the journal's own loss in the cut cannot hide an acknowledgement.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use concern_kiosk::config::Config;
use concern_kiosk::ui::screenshots::HeadlessKiosk;
use i_slint_backend_testing::{AccessibleRole, ElementHandle};
use slint::platform::{PointerEventButton, WindowEvent};
use slint::{ComponentHandle, LogicalPosition};
use support::Lcg;
use support::office::TestOffice;
use support::printer_emulator::Printout;
use support::printer_emulator::{EmulatorOptions, PrinterEmulator};
use support::tls_front::{Identity, tls_front};
use support::vm::{Agent, Machine, MachineSpec, Picture};

/// The reference panel, which the guest's bochs display also offers first.
const SCREEN: (u32, u32) = (1280, 800);
/// QEMU start → the kiosk's Home on screen. Seen: about 45 s under TCG on 2 cores; a loaded CI
/// machine may take much longer, and a passing run never waits for the limit.
const BOOT_LIMIT: Duration = Duration::from_secs(300);
/// A tap → the next screen or the journal line; seen well under 2 s under TCG.
const STEP_LIMIT: Duration = Duration::from_secs(30);
/// The share of pixels that may differ between the guest's Home and the headless rendering of
/// the same config: the clock in the corner and the date differ, nothing else should.
const HOME_TOLERANCE: f64 = 0.02;
/// The USB-serial adapter's serial number, matched by the image's udev rule.
const PRINTER_SERIAL: &str = "KIOSKVM1";
/// The reference config's kiosk, which the image keeps.
const DATA_DIR: &str = "/var/lib/concern-kiosk";
/// The kiosk's command as a maintainer runs it in the guest: as the kiosk's user, on its config.
const KIOSK: &str =
    "runuser -u concern-kiosk -- concern-kiosk --config /etc/concern-kiosk/kiosk.toml";
/// The four taps of the shortest filing: a concern about noise, one phrase, submitted at once.
const FILING: [&str; 4] = ["我要反映问题", "噪音扰民", "晚上装修太吵", "马上提交"];
/// Done's button back to Home.
const FINISH: &str = "完成";

fn image_dir() -> PathBuf {
    let Some(dir) = std::env::var_os("CONCERN_KIOSK_VM_IMAGE") else {
        panic!("CONCERN_KIOSK_VM_IMAGE is not set: run .ci/vm, which builds the image");
    };
    PathBuf::from(dir)
}

fn run_dir() -> PathBuf {
    std::env::var_os("CONCERN_KIOSK_VM_RUN").map_or_else(
        || PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("appliance-vm"),
        PathBuf::from,
    )
}

/// What the headless kiosk knows of the screens: where each button is, and what Home looks like.
struct ScreenMap {
    home: Picture,
    taps: BTreeMap<&'static str, (u32, u32)>,
}

impl ScreenMap {
    /// Renders the guest's own kiosk.toml headless at the panel's size and walks the filing
    /// there, noting the centre of each button on the way.
    fn of(config: &Config) -> ScreenMap {
        let kiosk = HeadlessKiosk::new(config, SCREEN).expect("the headless kiosk");
        let home = picture_of(&kiosk);
        let mut taps = BTreeMap::new();
        for label in FILING.iter().chain([&FINISH]) {
            let button = ElementHandle::find_by_accessible_label(&kiosk.window, label)
                .find(|e| {
                    e.is_valid()
                        && e.computed_opacity() > 0.0
                        && matches!(
                            e.accessible_role(),
                            Some(AccessibleRole::Button | AccessibleRole::Checkbox)
                        )
                })
                .unwrap_or_else(|| panic!("no button `{label}` on the headless screen"));
            let (at, size) = (button.absolute_position(), button.size());
            let centre = LogicalPosition::new(at.x + size.width / 2.0, at.y + size.height / 2.0);
            taps.insert(*label, (centre.x as u32, centre.y as u32));
            // A tap as the touchscreen gives it (the testing backend's own click would move a
            // clock this headless platform keeps itself).
            let window = kiosk.window.window();
            for event in [
                WindowEvent::PointerPressed {
                    position: centre,
                    button: PointerEventButton::Left,
                },
                WindowEvent::PointerReleased {
                    position: centre,
                    button: PointerEventButton::Left,
                },
            ] {
                window.dispatch_event(event);
                kiosk.advance(Duration::from_millis(100));
            }
            kiosk.advance(Duration::from_millis(500));
        }
        ScreenMap { home, taps }
    }
}

fn picture_of(kiosk: &HeadlessKiosk) -> Picture {
    let rgb = kiosk
        .render()
        .iter()
        .flat_map(|p| [p.r, p.g, p.b])
        .collect();
    Picture::from_rgb(SCREEN.0, SCREEN.1, rgb)
}

/// The office on the host: plain HTTP on loopback behind TLS with the image's certificate, as
/// the kiosk in the guest reaches it at office.test:8443.
struct HostOffice {
    office: TestOffice,
    front: Option<tokio::runtime::Runtime>,
    port: u16,
    image: PathBuf,
}

impl HostOffice {
    fn start(image: &Path) -> HostOffice {
        let token = read(&image.join("office-token"));
        let office = TestOffice::start_for(token.trim());
        let mut host = HostOffice {
            office,
            front: None,
            port: 0,
            image: image.to_path_buf(),
        };
        host.revive();
        host
    }

    fn identity(&self) -> Identity {
        Identity::from_pem(
            &read(&self.image.join("office-cert.pem")),
            &read(&self.image.join("office-key.pem")),
        )
    }

    /// The office's front door closes: the kiosk's connections are refused.
    fn kill(&mut self) {
        self.front = None;
    }

    /// Opens it (again): on the port QEMU forwards to, once it has one.
    fn revive(&mut self) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("the TLS front's runtime");
        self.port = tls_front(&runtime, self.office.addr, self.identity(), self.port);
        self.front = Some(runtime);
    }

    /// The tickets the office holds, each with how many rows have it.
    fn tickets(&self) -> BTreeMap<String, u32> {
        let db = rusqlite::Connection::open(&self.office.db).expect("open the office database");
        let mut statement = db
            .prepare("SELECT ticket, count(*) FROM concerns GROUP BY ticket")
            .expect("query");
        statement
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("read the tickets")
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {path:?}: {e}"))
}

/// The guest's kiosk.toml as the host can load it: the token file is the image's copy.
fn guest_config(image: &Path) -> Config {
    let text = read(&image.join("kiosk.toml"));
    let mut config = Config::parse(&text, "kiosk.toml (guest)").expect("the guest's kiosk.toml");
    config.upload.token_file = image.join("office-token");
    config
}

/// The appliance under test: the machine and the things on the host wired to it.
struct Appliance {
    spec: MachineSpec,
    printer: PrinterEmulator,
    machine: Option<Machine>,
    /// The guest agent's one connection (QEMU serves one client at a time).
    agent: Option<Agent>,
    boots: u32,
}

impl Appliance {
    fn new(image: &Path, office: &HostOffice) -> Appliance {
        let run = run_dir();
        let _ = std::fs::remove_dir_all(&run);
        std::fs::create_dir_all(&run).expect("the run folder");
        let printer_port = run.join("printer-port");
        let printer = PrinterEmulator::plug_in_at(&printer_port, EmulatorOptions::default())
            .expect("the printer emulator");
        Appliance {
            spec: MachineSpec {
                image_dir: image.to_path_buf(),
                run_dir: run,
                printer_port,
                printer_serial: PRINTER_SERIAL.to_string(),
                office_port: office.port,
            },
            printer,
            machine: None,
            agent: None,
            boots: 0,
        }
    }

    fn machine(&mut self) -> &mut Machine {
        self.machine.as_mut().expect("the machine is running")
    }

    /// Powers on and waits for Home; returns the time from QEMU's start to Home on screen.
    fn power_on(&mut self, map: &ScreenMap) -> Duration {
        self.boots += 1;
        self.agent = None;
        let boot = self.boots;
        self.machine = Some(Machine::boot(&self.spec));
        let machine = self.machine();
        let deadline = Instant::now() + BOOT_LIMIT;
        loop {
            let screen = machine.screen();
            if screen.difference(&map.home) <= HOME_TOLERANCE {
                return machine.started.elapsed();
            }
            if Instant::now() > deadline {
                let name = format!("boot-{boot}-no-home");
                machine.keep_screen(&name);
                panic!(
                    "boot {boot}: Home not on the screen after {BOOT_LIMIT:?} ({:.1} % of pixels \
                     differ); see {name}.png",
                    screen.difference(&map.home) * 100.0
                );
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    fn agent(&mut self) -> &mut Agent {
        if self.agent.is_none() {
            let agent = self
                .machine()
                .agent(BOOT_LIMIT)
                .expect("the guest agent answers");
            self.agent = Some(agent);
        }
        self.agent.as_mut().expect("connected just now")
    }

    /// Pulls the plug.
    fn cut_power(&mut self) {
        self.agent = None;
        if let Some(machine) = self.machine.take() {
            machine.cut_power();
        }
    }

    /// The tickets the kiosk has announced as filed in this boot's journal.
    fn announced(&mut self) -> Vec<String> {
        let journal = self.agent().ok(
            "journalctl -b -u concern-kiosk -o cat --no-pager | grep 'concern filed from the touchscreen' || true",
        );
        journal.lines().filter_map(ticket_in).collect()
    }

    fn tap(&mut self, map: &ScreenMap, label: &str) {
        let at = map.taps[label];
        self.machine().tap(at, SCREEN);
    }

    /// Four taps and Done, its screen kept as `done_screen`, then Finish and Home again:
    /// returns the ticket the kiosk announced.
    fn file_concern(&mut self, map: &ScreenMap, done_screen: &str) -> String {
        let before = self.announced().len();
        for label in FILING {
            self.tap(map, label);
            std::thread::sleep(Duration::from_millis(700));
        }
        let ticket = wait_for(STEP_LIMIT, || {
            let announced = self.announced();
            announced.get(before).cloned()
        });
        let Some(ticket) = ticket else {
            self.machine().keep_screen("filing-no-done");
            panic!("four taps filed nothing in {STEP_LIMIT:?}: see filing-no-done.png");
        };
        // Done is drawn right after the announcement.
        std::thread::sleep(Duration::from_millis(500));
        self.machine().keep_screen(done_screen);
        self.tap(map, FINISH);
        self.wait_for_home(map, STEP_LIMIT, &format!("{done_screen}-no-home"));
        ticket
    }

    /// Waits until the screen shows Home; keeps the screen as `name` and fails after `limit`.
    fn wait_for_home(&mut self, map: &ScreenMap, limit: Duration, name: &str) {
        let home = wait_for(limit, || {
            (self.machine().screen().difference(&map.home) <= HOME_TOLERANCE).then_some(())
        });
        if home.is_none() {
            self.machine().keep_screen(name);
            panic!("Home is not on the screen after {limit:?}: see {name}.png");
        }
    }
}

impl Drop for Appliance {
    /// What the printer got, for a person when the test failed (and when it passed).
    fn drop(&mut self) {
        let _ = std::fs::write(
            self.spec.run_dir.join("printer.bin"),
            self.printer.raw_bytes(),
        );
    }
}

fn ticket_in(line: &str) -> Option<String> {
    line.split_whitespace()
        .find_map(|field| field.strip_prefix("ticket="))
        .map(|ticket| ticket.trim_matches('"').to_string())
}

/// What `sqlite3` in the guest, as the kiosk's user, answers on the kiosk's database.
fn kiosk_sql(agent: &mut Agent, sql: &str) -> String {
    agent.ok(&format!(
        "runuser -u concern-kiosk -- sqlite3 {DATA_DIR}/concerns.db '{sql}'"
    ))
}

fn stored_tickets(agent: &mut Agent) -> Vec<String> {
    kiosk_sql(agent, "SELECT ticket FROM concerns ORDER BY ticket")
        .lines()
        .map(str::to_string)
        .collect()
}

fn integrity(agent: &mut Agent) -> String {
    kiosk_sql(agent, "PRAGMA integrity_check")
        .trim()
        .to_string()
}

/// The kiosk's main process id, as systemd knows it ("0" while it is not running).
fn kiosk_pid(agent: &mut Agent) -> String {
    agent
        .ok("systemctl show -p MainPID --value concern-kiosk")
        .trim()
        .to_string()
}

/// Waits for systemd to report the kiosk active (READY sent); fails saying `what`.
fn wait_until_active(appliance: &mut Appliance, what: &str) {
    let active = wait_for(Duration::from_secs(120), || {
        let state = appliance
            .agent()
            .ok("systemctl is-active concern-kiosk || true");
        (state.trim() == "active").then_some(())
    });
    assert!(active.is_some(), "{what}");
}

/// Sets `[printer] kind` in the guest's kiosk.toml, as a maintainer would, and restarts the
/// kiosk on it.
fn switch_printer_kind(appliance: &mut Appliance, kind: &str) {
    appliance.agent().ok(&format!(
        "sed -i 's/^kind *= *\"[a-z]*\"/kind         = \"{kind}\"/' /etc/concern-kiosk/kiosk.toml \
         && grep -q '^kind *= *\"{kind}\"' /etc/concern-kiosk/kiosk.toml \
         && systemctl restart concern-kiosk"
    ));
    wait_until_active(
        appliance,
        &format!("the kiosk restarted on the {kind} printer"),
    );
}

#[test]
#[ignore = "boots the appliance in QEMU: needs the image .ci/vm builds"]
fn the_appliance_in_a_virtual_machine() {
    let image = image_dir();
    println!(
        "the run's screens, console and journal: {}",
        run_dir().display()
    );
    let config = guest_config(&image);
    let map = ScreenMap::of(&config);
    let mut office = HostOffice::start(&image);
    let mut appliance = Appliance::new(&image, &office);
    map.home
        .save_png(&appliance.spec.run_dir.join("home-headless.png"));

    let boot = a_resident_files_a_concern(&mut appliance, &map, &office);
    a_maintainer_looks_after_it(&mut appliance, &map, &mut office);
    spooled_receipts_survive_a_power_cut(&mut appliance, &map);
    power_cuts(&mut appliance, &map, &office, boot);
}

/// Home after boot, four taps, the receipt on the serial line, the concern at the office.
fn a_resident_files_a_concern(
    appliance: &mut Appliance,
    map: &ScreenMap,
    office: &HostOffice,
) -> Duration {
    let boot = appliance.power_on(map);
    appliance.machine().keep_screen("resident-home");
    let ticket = appliance.file_concern(map, "resident-done");
    let receipt = wait_for(STEP_LIMIT * 2, || receipt_of(&appliance.printer, &ticket));
    let Some(receipt) = receipt else {
        panic!(
            "no receipt with {ticket} came off the serial line; the printer got {} bytes",
            appliance.printer.raw_bytes().len()
        );
    };
    assert!(
        receipt.lines().iter().any(|line| line.contains("噪音扰民")),
        "the receipt names the category: {:?}",
        receipt.lines()
    );
    assert_eq!(receipt.qrs().len(), 1, "the receipt's tracking QR code");
    appliance.agent().ok(&format!("{KIOSK} upload --once"));
    assert_eq!(
        office.tickets().get(&ticket),
        Some(&1),
        "{ticket} at the office"
    );
    let started = kiosk_start_to_ready(appliance.agent());
    println!(
        "boot: QEMU start → Home on screen {:.1} s; kiosk process start → first frame (READY) {:.2} s",
        boot.as_secs_f64(),
        started.as_secs_f64()
    );
    boot
}

/// The cut receipt that carries `ticket`, as the printer decoded it.
fn receipt_of(printer: &PrinterEmulator, ticket: &str) -> Option<Printout> {
    printer
        .printouts()
        .into_iter()
        .find(|receipt| receipt.cut && receipt.lines().iter().any(|line| line.contains(ticket)))
}

/// systemd's "Starting" and "Started" lines for the kiosk: READY follows its first frame.
fn kiosk_start_to_ready(agent: &mut Agent) -> Duration {
    let lines = agent.ok(
        "journalctl -b -u concern-kiosk -o short-unix --no-pager | grep -E 'Starting|Started' | head -n 2",
    );
    let times: Vec<f64> = lines
        .lines()
        .filter_map(|line| line.split_whitespace().next()?.parse().ok())
        .collect();
    assert_eq!(
        times.len(),
        2,
        "systemd's start lines for the kiosk: {lines}"
    );
    Duration::from_secs_f64((times[1] - times[0]).max(0.0))
}

fn wait_for<T>(limit: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(found) = check() {
            return Some(found);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The unit's user and hardening, the printer's udev link, the watchdog, an unplugged printer
/// and a dead office, an upgrade with apt, `doctor`.
fn a_maintainer_looks_after_it(
    appliance: &mut Appliance,
    map: &ScreenMap,
    office: &mut HostOffice,
) {
    let pid = kiosk_pid(appliance.agent());
    let status = appliance.agent().ok(&format!("cat /proc/{pid}/status"));
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .map(str::trim)
            .unwrap_or_default()
            .to_string()
    };
    let kiosk_uid = appliance
        .agent()
        .ok("id -u concern-kiosk")
        .trim()
        .to_string();
    assert!(
        field("Uid:").split_whitespace().all(|uid| uid == kiosk_uid),
        "the kiosk runs as concern-kiosk ({kiosk_uid}): {}",
        field("Uid:")
    );
    assert_eq!(field("NoNewPrivs:"), "1", "NoNewPrivileges=yes");
    assert_eq!(field("CapEff:"), "0000000000000000", "no capabilities");
    let written = appliance.agent().sh(
        &format!("nsenter -t {pid} -m touch /usr/concern-kiosk-was-here"),
        Duration::from_secs(30),
    );
    assert_ne!(
        written.exit_code, 0,
        "ProtectSystem=strict: /usr is read-only to the kiosk"
    );
    let link = appliance.agent().ok("readlink -f /dev/receipt-printer");
    assert!(
        link.trim().starts_with("/dev/ttyUSB"),
        "/dev/receipt-printer → {link}"
    );
    let doctor = appliance
        .agent()
        .sh(&format!("{KIOSK} doctor"), Duration::from_secs(60));
    assert_eq!(doctor.exit_code, 0, "doctor in the guest: {doctor:?}");

    // The printer's cable pulled and the office gone: the kiosk still files.
    appliance.machine().unplug_printer();
    office.kill();
    let unplugged = appliance.file_concern(map, "unplugged-done");
    let port = appliance.spec.printer_port.clone();
    appliance.machine().plug_in_printer(&port, PRINTER_SERIAL);
    office.revive();
    let printed = wait_for(Duration::from_secs(90), || {
        receipt_of(&appliance.printer, &unplugged)
    });
    assert!(
        printed.is_some(),
        "the receipt of {unplugged} printed once the printer came back"
    );

    // A hung kiosk: the watchdog ends it and systemd starts it again.
    let before = kiosk_pid(appliance.agent());
    appliance.agent().ok(&format!("kill -STOP {before}"));
    let restarted = wait_for(Duration::from_secs(120), || {
        let now = kiosk_pid(appliance.agent());
        (now != before && now != "0").then_some(())
    });
    assert!(
        restarted.is_some(),
        "a stopped kiosk was not restarted by the watchdog"
    );
    let journal = appliance
        .agent()
        .ok("journalctl -b -u concern-kiosk --no-pager");
    assert!(
        journal.contains("Watchdog timeout"),
        "the journal says the watchdog ended it: {journal}"
    );

    // An upgrade keeps the maintainer's edited kiosk.toml and the concerns.
    let config_before = appliance
        .agent()
        .ok("sha256sum /etc/concern-kiosk/kiosk.toml");
    let stored_before = stored_tickets(appliance.agent());
    appliance
        .agent()
        .ok("DEBIAN_FRONTEND=noninteractive apt-get install -y /root/concern-kiosk-upgrade.deb");
    assert_eq!(
        appliance
            .agent()
            .ok("sha256sum /etc/concern-kiosk/kiosk.toml"),
        config_before
    );
    let version = appliance.agent().ok("dpkg-query -W concern-kiosk");
    assert!(
        version.contains("vmupgrade1"),
        "the upgrade is installed: {version}"
    );
    wait_until_active(appliance, "the upgraded kiosk is running");
    assert_eq!(
        stored_tickets(appliance.agent()),
        stored_before,
        "the concerns after the upgrade"
    );
}

/// A kiosk without a printer (`kind = "spool"`, receipts as files) loses power a moment after
/// its receipt was written: the receipt's files must still hold the receipt.
fn spooled_receipts_survive_a_power_cut(appliance: &mut Appliance, map: &ScreenMap) {
    switch_printer_kind(appliance, "spool");
    let ticket = appliance.file_concern(map, "spool-done");
    let spooled = wait_for(STEP_LIMIT, || {
        let files = appliance.agent().ok(&format!(
            "ls {DATA_DIR}/spool 2>/dev/null | grep -c 'bin$' || true"
        ));
        (files.trim() != "0").then_some(())
    });
    assert!(spooled.is_some(), "the receipt of {ticket} was spooled");
    std::thread::sleep(Duration::from_millis(500));
    appliance.cut_power();

    appliance.power_on(map);
    let sizes = appliance.agent().ok(&format!(
        "find {DATA_DIR}/spool -type f \\( -name '*.bin' -o -name '*.png' \\) -printf '%s %f\\n'"
    ));
    println!("spool after the cut: {}", sizes.trim());
    for line in sizes.lines() {
        assert!(
            !line.starts_with("0 "),
            "a spooled receipt file is empty after the power cut: {line}"
        );
    }
    switch_printer_kind(appliance, "serial");
    appliance.wait_for_home(map, BOOT_LIMIT, "serial-again-no-home");
}

/// Power cuts at random moments while concerns are filed and printed.
fn power_cuts(
    appliance: &mut Appliance,
    map: &ScreenMap,
    office: &HostOffice,
    first_boot: Duration,
) {
    let cuts: u32 = std::env::var("CONCERN_KIOSK_VM_CUTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10);
    let seed = std::env::var("CONCERN_KIOSK_VM_SEED")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(rand::random::<u64>);
    println!("power cuts: {cuts}, seed {seed}");
    let mut random = Lcg(seed);
    let mut acknowledged: BTreeSet<String> = BTreeSet::new();
    // Every ticket shown as Done, boot after boot: a number given out again after a cut (the
    // counter's state lost with it) would appear here twice.
    let mut shown: Vec<String> = Vec::new();
    let mut boots = vec![first_boot];
    let mut starts = Vec::new();
    for cut in 1..=cuts {
        // Cut this many steps into the filing (a step is a tap or a wait), then wait a random
        // part of a second and a half: during a commit, a print, an upload, a screen change.
        let steps = random.below(12);
        let pause = Duration::from_millis(random.below(1500));
        let mut step = 0;
        'filing: loop {
            for label in FILING.iter().chain([&FINISH]) {
                if step == steps {
                    break 'filing;
                }
                appliance.tap(map, label);
                std::thread::sleep(Duration::from_millis(700));
                step += 1;
            }
        }
        std::thread::sleep(pause);
        let announced = appliance.announced();
        appliance.cut_power();
        shown.extend(announced.iter().cloned());
        acknowledged.extend(announced);
        let distinct: BTreeSet<&String> = shown.iter().collect();
        assert_eq!(
            distinct.len(),
            shown.len(),
            "a ticket number issued twice: {shown:?}"
        );

        boots.push(appliance.power_on(map));
        starts.push(kiosk_start_to_ready(appliance.agent()));
        assert_eq!(integrity(appliance.agent()), "ok", "after cut {cut}");
        let stored = stored_tickets(appliance.agent());
        let distinct: BTreeSet<&String> = stored.iter().collect();
        assert_eq!(
            distinct.len(),
            stored.len(),
            "a ticket stored twice after cut {cut}"
        );
        for ticket in &acknowledged {
            assert!(
                stored.contains(ticket),
                "{ticket} was shown as Done but is gone after cut {cut}"
            );
        }
        println!(
            "cut {cut}: {} steps + {} ms; boot to Home {:.1} s (kiosk start to READY {:.2} s); \
             {} acknowledged, {} stored",
            steps,
            pause.as_millis(),
            boots.last().map_or(0.0, Duration::as_secs_f64),
            starts.last().map_or(0.0, Duration::as_secs_f64),
            acknowledged.len(),
            stored.len()
        );
    }
    let stored = stored_tickets(appliance.agent());
    appliance.agent().ok(&format!("{KIOSK} upload --once"));
    let at_office = office.tickets();
    for ticket in &stored {
        assert_eq!(
            at_office.get(ticket),
            Some(&1),
            "{ticket} at the office exactly once"
        );
    }
    println!(
        "power cuts: {cuts}; concerns acknowledged {}, lost 0, duplicated 0, integrity failures \
         0, boots that did not reach Home by themselves 0; QEMU start to Home {}; kiosk start \
         to READY (first frame) {}",
        acknowledged.len(),
        spread(&boots),
        spread(&starts)
    );
}

/// Median and slowest of some durations, for the boot-time figures.
fn spread(durations: &[Duration]) -> String {
    let mut sorted = durations.to_vec();
    sorted.sort();
    match (sorted.get(sorted.len() / 2), sorted.last()) {
        (Some(median), Some(slowest)) => format!(
            "median {:.2} s, slowest {:.2} s over {} boots",
            median.as_secs_f64(),
            slowest.as_secs_f64(),
            sorted.len()
        ),
        _ => "no boots".to_string(),
    }
}
