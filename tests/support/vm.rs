//! A virtual appliance for the end-to-end tests: QEMU booting the image `.ci/vm-image` built,
//! with its screen and touch driven over QMP (`screendump`, `input-send-event`) and commands run
//! inside the guest by the QEMU guest agent (`guest-exec`), as a maintainer at the console would.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

/// The tablet's absolute axes run 0..=0x7fff whatever the screen's size (QEMU's input layer).
const TABLET_AXIS_MAX: u64 = 0x7fff;
/// The wait for one QMP answer: QMP answers at once, a screendump of 1280×800 takes well under
/// a second even under TCG.
const QMP_ANSWER: Duration = Duration::from_secs(30);
/// QEMU's names for the printer's line (the host end) and its USB-serial adapter.
const PRINTER_LINE: &str = "printer";
const PRINTER_DEVICE: &str = "printer-usb";
/// Between the guest agent's polls of a running command.
const EXEC_POLL: Duration = Duration::from_millis(200);

/// What the machine is given; the disk, kernel and initrd come from `.ci/vm-image`'s folder.
pub struct MachineSpec {
    pub image_dir: PathBuf,
    /// Where the console log, sockets and screendumps go (kept for a person when a test fails).
    pub run_dir: PathBuf,
    /// The host path of the receipt printer's serial line (a pty the emulator holds).
    pub printer_port: PathBuf,
    /// The USB-serial adapter's serial number, which the image's udev rule matches.
    pub printer_serial: String,
    /// The host port the guest's one reachable address (office.test:8443) is forwarded to.
    pub office_port: u16,
}

/// A running QEMU.
pub struct Machine {
    child: Child,
    qmp: Qmp,
    agent_socket: PathBuf,
    pub started: Instant,
    pub run_dir: PathBuf,
}

impl Machine {
    /// Starts QEMU on the image, under TCG (a guest kernel hangs under this machine's KVM).
    pub fn boot(spec: &MachineSpec) -> Machine {
        std::fs::create_dir_all(&spec.run_dir).expect("the machine's run folder");
        let qmp_socket = spec.run_dir.join("qmp.sock");
        let agent_socket = spec.run_dir.join("agent.sock");
        for socket in [&qmp_socket, &agent_socket] {
            // A socket left from an earlier boot would make QEMU refuse to start.
            let _ = std::fs::remove_file(socket);
        }
        let image = |name: &str| spec.image_dir.join(name).display().to_string();
        let run = |name: &str| spec.run_dir.join(name).display().to_string();
        let forward = format!(
            "user,id=net0,restrict=on,\
             guestfwd=tcp:10.0.2.100:8443-cmd:socat STDIO TCP:127.0.0.1:{}",
            spec.office_port
        );
        let mut command = Command::new("qemu-system-x86_64");
        command
            .args([
                "-machine", "q35", "-accel", "tcg", "-smp", "2", "-m", "1024",
            ])
            .args([
                "-kernel",
                &image("vmlinuz"),
                "-initrd",
                &image("initrd.img"),
            ])
            .args(["-append", "root=/dev/vda rw console=ttyS0 quiet"])
            // writeback: what the guest has written but not flushed is lost with QEMU, as a
            // power cut loses an SD card's unflushed writes.
            .arg("-drive")
            .arg(format!(
                "file={},format=raw,if=virtio,cache=writeback",
                image("disk.img")
            ))
            // No VGA: the guest's only DRM device is the display the kiosk must use, and the one
            // screendump reads.
            .args([
                "-vga",
                "none",
                "-device",
                "bochs-display",
                "-display",
                "none",
            ])
            .args(["-device", "virtio-tablet-pci"])
            .args(["-device", "qemu-xhci,id=usb"])
            .arg("-chardev")
            .arg(format!(
                "serial,id={PRINTER_LINE},path={}",
                spec.printer_port.display()
            ))
            .arg("-device")
            .arg(format!(
                "usb-serial,id={PRINTER_DEVICE},chardev={PRINTER_LINE},serial={}",
                spec.printer_serial
            ))
            .args(["-netdev", &forward, "-device", "virtio-net-pci,netdev=net0"])
            .arg("-chardev")
            .arg(format!(
                "socket,id=agent,path={},server=on,wait=off",
                run("agent.sock")
            ))
            .args(["-device", "virtio-serial-pci"])
            .args([
                "-device",
                "virtserialport,chardev=agent,name=org.qemu.guest_agent.0",
            ])
            .arg("-qmp")
            .arg(format!("unix:{},server=on,wait=off", run("qmp.sock")))
            .arg("-serial")
            .arg(format!("file:{}", run("console.log")))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(
                std::fs::File::create(spec.run_dir.join("qemu.stderr"))
                    .expect("QEMU's stderr file"),
            );
        let started = Instant::now();
        let mut child = command.spawn().expect("start qemu-system-x86_64");
        let qmp = Qmp::connect(&qmp_socket, &mut child);
        Machine {
            child,
            qmp,
            agent_socket,
            started,
            run_dir: spec.run_dir.clone(),
        }
    }

    /// A QMP command's `return` value.
    pub fn qmp(&mut self, command: &str, arguments: Value) -> Value {
        self.qmp.execute(command, arguments)
    }

    /// The screen as QEMU shows it.
    pub fn screen(&mut self) -> Picture {
        let path = self.run_dir.join("screen.ppm");
        self.qmp(
            "screendump",
            json!({ "filename": path.display().to_string() }),
        );
        Picture::read_ppm(&path)
    }

    /// Saves the screen for a person to look at, as `NAME.png` in the run folder.
    pub fn keep_screen(&mut self, name: &str) -> Picture {
        let picture = self.screen();
        picture.save_png(&self.run_dir.join(format!("{name}.png")));
        picture
    }

    /// A finger's tap at a pixel of a `width`×`height` screen, through the USB tablet.
    pub fn tap(&mut self, (x, y): (u32, u32), (width, height): (u32, u32)) {
        let axis = |value: u32, size: u32| {
            (u64::from(value) * TABLET_AXIS_MAX / u64::from(size.saturating_sub(1).max(1)))
                .min(TABLET_AXIS_MAX)
        };
        let position = json!([
            { "type": "abs", "data": { "axis": "x", "value": axis(x, width) } },
            { "type": "abs", "data": { "axis": "y", "value": axis(y, height) } },
        ]);
        self.qmp("input-send-event", json!({ "events": position }));
        for down in [true, false] {
            self.qmp(
                "input-send-event",
                json!({ "events": [{ "type": "btn", "data": { "down": down, "button": "left" } }] }),
            );
            // A finger rests on the glass for a moment; libinput sees press and release apart.
            std::thread::sleep(Duration::from_millis(60));
        }
    }

    /// Pulls the printer's USB cable: the adapter leaves the guest's USB bus (and with it
    /// /dev/ttyUSB0 and /dev/receipt-printer).
    pub fn unplug_printer(&mut self) {
        self.qmp("device_del", json!({ "id": PRINTER_DEVICE }));
        // device_del only asks: the line is free once the guest has let go of the adapter.
        let deadline = Instant::now() + QMP_ANSWER;
        loop {
            let answer = self
                .qmp
                .try_execute("chardev-remove", json!({ "id": PRINTER_LINE }))
                .expect("QMP chardev-remove");
            if answer.get("return").is_some() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the printer's USB adapter did not leave: {answer}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Plugs the printer's USB cable in again, its line to `port` on the host.
    pub fn plug_in_printer(&mut self, port: &Path, serial: &str) {
        self.qmp(
            "chardev-add",
            json!({
                "id": PRINTER_LINE,
                "backend": { "type": "serial", "data": { "device": port.display().to_string() } }
            }),
        );
        self.qmp(
            "device_add",
            json!({
                "driver": "usb-serial",
                "id": PRINTER_DEVICE,
                "chardev": PRINTER_LINE,
                "serial": serial
            }),
        );
    }

    /// The guest agent, once it answers (it starts late in the boot); `None` after `limit`.
    pub fn agent(&self, limit: Duration) -> Option<Agent> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(agent) = Agent::connect(&self.agent_socket) {
                return Some(agent);
            }
            std::thread::sleep(Duration::from_secs(1));
        }
        None
    }

    /// Pulls the plug: QEMU is killed, so whatever the guest had not written out is gone.
    pub fn cut_power(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Machine {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One JSON object per line in each direction, as QMP and the guest agent both speak.
struct JsonLines {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

impl JsonLines {
    fn new(stream: UnixStream, answer_within: Duration) -> std::io::Result<JsonLines> {
        stream.set_read_timeout(Some(answer_within))?;
        Ok(JsonLines {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
        })
    }

    fn send(&mut self, message: &Value) -> std::io::Result<()> {
        let mut line = message.to_string();
        line.push('\n');
        self.writer.write_all(line.as_bytes())
    }

    fn receive(&mut self) -> std::io::Result<Value> {
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        serde_json::from_str(&line)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
    }

    /// The next line that answers a command (`return` or `error`), skipping QMP's events.
    fn answer(&mut self) -> std::io::Result<Value> {
        loop {
            let message = self.receive()?;
            if message.get("return").is_some() || message.get("error").is_some() {
                return Ok(message);
            }
        }
    }
}

/// QEMU's machine protocol.
struct Qmp {
    lines: JsonLines,
}

impl Qmp {
    fn connect(socket: &Path, qemu: &mut Child) -> Qmp {
        let deadline = Instant::now() + QMP_ANSWER;
        let stream = loop {
            match UnixStream::connect(socket) {
                Ok(stream) => break stream,
                Err(e) => {
                    if let Ok(Some(status)) = qemu.try_wait() {
                        panic!("QEMU exited ({status}) before QMP answered: see qemu.stderr");
                    }
                    assert!(
                        Instant::now() < deadline,
                        "QMP did not open {socket:?}: {e}"
                    );
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        };
        let mut lines = JsonLines::new(stream, QMP_ANSWER).expect("QMP socket");
        let greeting = lines.receive().expect("QMP's greeting");
        assert!(greeting.get("QMP").is_some(), "not QMP: {greeting}");
        let mut qmp = Qmp { lines };
        qmp.execute("qmp_capabilities", json!({}));
        qmp
    }

    fn try_execute(&mut self, command: &str, arguments: Value) -> std::io::Result<Value> {
        self.lines
            .send(&json!({ "execute": command, "arguments": arguments }))?;
        self.lines.answer()
    }

    fn execute(&mut self, command: &str, arguments: Value) -> Value {
        let answer = self
            .try_execute(command, arguments)
            .unwrap_or_else(|e| panic!("QMP {command}: {e}"));
        match answer.get("return") {
            Some(value) => value.clone(),
            None => panic!("QMP {command} failed: {answer}"),
        }
    }
}

/// What a command run in the guest printed and how it ended.
#[derive(Debug)]
pub struct GuestOutput {
    pub exit_code: i64,
    pub stdout: String,
    pub stderr: String,
}

/// The QEMU guest agent inside the guest: runs commands as root.
pub struct Agent {
    lines: JsonLines,
}

impl Agent {
    /// Connects and synchronises (`guest-sync` with a random id), so an answer left from a
    /// guest that lost power is never taken for this one's.
    fn connect(socket: &Path) -> std::io::Result<Agent> {
        let stream = UnixStream::connect(socket)?;
        let mut lines = JsonLines::new(stream, Duration::from_secs(3))?;
        let id: u32 = rand::random::<u32>() & 0x7fff_ffff;
        lines.send(&json!({ "execute": "guest-sync", "arguments": { "id": id } }))?;
        loop {
            let answer = lines.receive()?;
            if answer.get("return").and_then(Value::as_u64) == Some(u64::from(id)) {
                break;
            }
        }
        lines.writer.set_read_timeout(Some(QMP_ANSWER))?;
        Ok(Agent { lines })
    }

    fn execute(&mut self, command: &str, arguments: Value) -> Value {
        self.lines
            .send(&json!({ "execute": command, "arguments": arguments }))
            .unwrap_or_else(|e| panic!("guest agent {command}: {e}"));
        let answer = self
            .lines
            .answer()
            .unwrap_or_else(|e| panic!("guest agent {command}: {e}"));
        match answer.get("return") {
            Some(value) => value.clone(),
            None => panic!("guest agent {command} failed: {answer}"),
        }
    }

    /// Runs `script` with /bin/sh in the guest, as root, and waits up to `limit` for it.
    pub fn sh(&mut self, script: &str, limit: Duration) -> GuestOutput {
        let started = self.execute(
            "guest-exec",
            json!({ "path": "/bin/sh", "arg": ["-c", script], "capture-output": true }),
        );
        let pid = started["pid"].clone();
        let deadline = Instant::now() + limit;
        loop {
            let status = self.execute("guest-exec-status", json!({ "pid": pid }));
            if status["exited"].as_bool() == Some(true) {
                let text = |key: &str| {
                    let data = status[key].as_str().unwrap_or("");
                    let bytes = base64::engine::general_purpose::STANDARD
                        .decode(data)
                        .unwrap_or_else(|e| panic!("guest agent's {key} is not base64: {e}"));
                    String::from_utf8_lossy(&bytes).into_owned()
                };
                return GuestOutput {
                    exit_code: status["exitcode"].as_i64().unwrap_or(-1),
                    stdout: text("out-data"),
                    stderr: text("err-data"),
                };
            }
            assert!(
                Instant::now() < deadline,
                "`{script}` still running in the guest after {limit:?}"
            );
            std::thread::sleep(EXEC_POLL);
        }
    }

    /// Runs `script` and returns its stdout, panicking with its output when it fails.
    pub fn ok(&mut self, script: &str) -> String {
        let output = self.sh(script, Duration::from_secs(120));
        assert_eq!(
            output.exit_code, 0,
            "`{script}` failed in the guest: {output:?}"
        );
        output.stdout
    }
}

/// An RGB picture of the screen.
#[derive(Clone)]
pub struct Picture {
    pub width: u32,
    pub height: u32,
    pub rgb: Vec<u8>,
}

impl Picture {
    /// Reads QEMU's screendump (binary PPM, `P6`, maxval 255).
    pub fn read_ppm(path: &Path) -> Picture {
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("read {path:?}: {e}"));
        let mut fields = Vec::new();
        let mut at = 0;
        while fields.len() < 4 {
            while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
                at += 1;
            }
            let start = at;
            while bytes.get(at).is_some_and(|b| !b.is_ascii_whitespace()) {
                at += 1;
            }
            fields.push(String::from_utf8_lossy(&bytes[start..at]).into_owned());
        }
        assert_eq!(fields[0], "P6", "{path:?} is not a binary PPM");
        let number = |text: &str| -> u32 { text.parse().expect("a PPM header number") };
        let (width, height) = (number(&fields[1]), number(&fields[2]));
        let rgb = bytes[at + 1..].to_vec();
        assert_eq!(
            rgb.len(),
            (width * height * 3) as usize,
            "{path:?} is cut short"
        );
        Picture { width, height, rgb }
    }

    pub fn from_rgb(width: u32, height: u32, rgb: Vec<u8>) -> Picture {
        Picture { width, height, rgb }
    }

    /// The share of pixels that differ from `other` by more than a little in any channel
    /// (1.0 when the sizes differ).
    pub fn difference(&self, other: &Picture) -> f64 {
        if (self.width, self.height) != (other.width, other.height) {
            return 1.0;
        }
        let differing = self
            .rgb
            .chunks_exact(3)
            .zip(other.rgb.chunks_exact(3))
            .filter(|(a, b)| a.iter().zip(b.iter()).any(|(x, y)| x.abs_diff(*y) > 24))
            .count();
        differing as f64 / f64::from(self.width * self.height)
    }

    pub fn save_png(&self, path: &Path) {
        let file = std::fs::File::create(path).unwrap_or_else(|e| panic!("create {path:?}: {e}"));
        let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), self.width, self.height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().expect("PNG header");
        writer.write_image_data(&self.rgb).expect("PNG data");
    }
}
