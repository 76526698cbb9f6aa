//! `concern-kiosk screenshots`: renders every screen, in both languages, to PNG with Slint's
//! software renderer and no display. Time is simulated, so the idle warning is real: the same
//! timers as on the kiosk fire, just without waiting a minute. Check my concern shows sample
//! cases the office has answered (also what the screen tests look up).

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, anyhow};
use chrono::{DateTime, Utc};
use slint::platform::software_renderer::{MinimalSoftwareWindow, RepaintBufferType};
use slint::platform::{Platform, WindowAdapter};
use slint::{ComponentHandle, PhysicalSize, Rgb8Pixel};
use uuid::Uuid;

use super::{AppWindow, Controller, Kiosk};
use crate::app::CommandError;
use crate::clock::ManualClock;
use crate::concern::{Bilingual, CaseState, CheckCode, Colour, Lang, TrackingCode};
use crate::config::Config;
use crate::input_method::start_reader;
use crate::printer::PrinterStatus;
use crate::protocol::wire::{StatusUpdate, UpdatesPage};
use crate::store::Store;

/// The reference panel (10.1") and the small one (7").
pub const DEFAULT_SIZE: (u32, u32) = (1280, 800);

/// The sample answered cases: their tickets (one per screenshot language, as each is rated
/// once), check code and tracking code.
pub const SAMPLE_TICKETS: [&str; 2] = ["A1120-003", "A1120-004"];
pub const SAMPLE_CHECK_CODE: &str = "4821";
pub const SAMPLE_TRACKING_CODES: [&str; 2] = ["0123456789ABCDEF", "0123456789ABCDEG"];
/// What the office answered them.
pub const SAMPLE_REPLY: &str =
    "物业已经换好了3幢2单元的楼道灯。如果还有问题，请拨打物业电话 0571-8888 0000。";

/// Two repairs the office answered the day before the screenshots' morning, as
/// `GET /v1/updates` brings them.
pub fn sample_answered_cases() -> UpdatesPage {
    let changed_at = DateTime::parse_from_rfc3339("2026-11-25T16:20:00+08:00")
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default();
    let promised_by = chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap_or_default();
    let updates = SAMPLE_TICKETS
        .iter()
        .zip(SAMPLE_TRACKING_CODES)
        .zip(1u64..)
        .map(|((ticket, code), cursor)| StatusUpdate {
            cursor,
            concern_id: Uuid::from_u128(
                0x019a_bf2c_4d00_7000_8000_0000_0000_1000 + u128::from(cursor),
            ),
            ticket: (*ticket).into(),
            category_label: Bilingual {
                zh: "报修设施".into(),
                en: "Repairs".into(),
            },
            state: CaseState::Answered,
            colour: Colour::Green,
            promised_by,
            due_date: None,
            reply: Some(SAMPLE_REPLY.into()),
            rating: None,
            answered_at: Some(changed_at),
            changed_at,
            check_code: CheckCode::parse(SAMPLE_CHECK_CODE),
            tracking_digest: TrackingCode::parse(code).map(|c| c.digest()),
        })
        .collect();
    UpdatesPage {
        updates,
        next_after: SAMPLE_TICKETS.len() as u64,
        more: false,
    }
}

/// 灯 (lamp) as a resident writes it: each stroke's key points on a pad of 100 by 100, in
/// stroke order. Drawn on the writing screen's pad, and read by the real recognizer.
const LAMP: [&[(i32, i32)]; 6] = [
    &[(12, 42), (18, 52)],
    &[(40, 30), (35, 50)],
    &[(25, 10), (18, 58), (10, 93)],
    &[(26, 68), (38, 80)],
    &[(50, 22), (92, 18)],
    &[(72, 20), (71, 90), (60, 84)],
];
/// The side of the pad LAMP is written on.
const LAMP_PAD: f32 = 100.0;

/// A platform with one software-rendered window and a clock that moves only when told.
struct HeadlessPlatform {
    window: Rc<MinimalSoftwareWindow>,
    elapsed: Rc<Cell<Duration>>,
}

impl Platform for HeadlessPlatform {
    fn create_window_adapter(&self) -> Result<Rc<dyn WindowAdapter>, slint::PlatformError> {
        Ok(self.window.clone())
    }

    fn duration_since_start(&self) -> Duration {
        self.elapsed.get()
    }
}

/// A window rendered on demand into pixels.
pub struct HeadlessKiosk {
    pub window: AppWindow,
    pub controller: Controller,
    software: Rc<MinimalSoftwareWindow>,
    elapsed: Rc<Cell<Duration>>,
    size: (u32, u32),
    _store_dir: TempFolder,
}

/// A folder removed when dropped: the screenshots' concerns are samples, not real ones.
struct TempFolder(PathBuf);

impl Drop for TempFolder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl HeadlessKiosk {
    /// Installs the headless platform (once per process) and opens the kiosk window on it with
    /// a sample store in a temporary folder and a clock fixed at a weekday morning.
    pub fn new(config: &Config, size: (u32, u32)) -> anyhow::Result<HeadlessKiosk> {
        let software = MinimalSoftwareWindow::new(RepaintBufferType::NewBuffer);
        let elapsed = Rc::new(Cell::new(Duration::ZERO));
        slint::platform::set_platform(Box::new(HeadlessPlatform {
            window: software.clone(),
            elapsed: elapsed.clone(),
        }))
        .map_err(|e| anyhow!("cannot install the headless renderer: {e}"))?;
        let store_dir = TempFolder(
            std::env::temp_dir().join(format!("concern-kiosk-screens-{}", std::process::id())),
        );
        let morning =
            DateTime::parse_from_rfc3339("2026-11-26T10:30:00+08:00").context("the sample time")?;
        let (mut store, _) = Store::open(&store_dir.0, morning).context("the sample store")?;
        store
            .apply_updates(&sample_answered_cases(), morning)
            .context("the sample cases")?;
        let window = AppWindow::new().context("cannot create the kiosk window")?;
        software.set_size(PhysicalSize::new(size.0, size.1));
        let controller = Controller::new(
            &window,
            config.clone(),
            store,
            Arc::new(ManualClock::new(morning)),
            None,
        );
        // Drawn as a kiosk that speaks shows itself, "Read it to me" and the staff's volume
        // included; the screenshots themselves are silent.
        let kiosk = window.global::<Kiosk>();
        kiosk.set_can_speak(true);
        kiosk.set_speech_volume(i32::from(config.speech.start_volume()));
        window.show().context("cannot show the kiosk window")?;
        Ok(HeadlessKiosk {
            window,
            controller,
            software,
            elapsed,
            size,
            _store_dir: store_dir,
        })
    }

    /// Moves the simulated time on and fires the timers that are due.
    pub fn advance(&self, by: Duration) {
        // In one-second steps so a repeated timer fires once per second, as on the kiosk.
        let mut left = by;
        while !left.is_zero() {
            let step = left.min(Duration::from_secs(1));
            self.elapsed.set(self.elapsed.get() + step);
            slint::platform::update_timers_and_animations();
            left -= step;
        }
    }

    /// The window as RGB pixels, row by row.
    pub fn render(&self) -> Vec<Rgb8Pixel> {
        slint::platform::update_timers_and_animations();
        let (width, height) = self.size;
        let mut pixels = vec![Rgb8Pixel::default(); width as usize * height as usize];
        self.software.request_redraw();
        self.software.draw_if_needed(|renderer| {
            renderer.render(&mut pixels, width as usize);
        });
        pixels
    }

    pub fn save_png(&self, path: &Path) -> anyhow::Result<()> {
        let pixels = self.render();
        let (width, height) = self.size;
        let file = std::fs::File::create(path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().context("PNG header")?;
        let bytes: Vec<u8> = pixels.iter().flat_map(|p| [p.r, p.g, p.b]).collect();
        writer.write_image_data(&bytes).context("PNG data")?;
        writer.finish().context("PNG end")?;
        Ok(())
    }

    pub fn kiosk(&self) -> Kiosk<'_> {
        self.window.global::<Kiosk>()
    }
}

/// Parses `WxH`, e.g. `800x480`.
pub fn parse_size(text: &str) -> Result<(u32, u32), String> {
    let (w, h) = text
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("`{text}` is not a size: write it as WIDTHxHEIGHT, e.g. 800x480"))?;
    let number = |n: &str| {
        n.parse::<u32>()
            .ok()
            .filter(|n| (320..=7680).contains(n))
            .ok_or_else(|| format!("`{text}`: each side must be 320 to 7680 pixels"))
    };
    Ok((number(w)?, number(h)?))
}

/// Renders every screen in both languages into `out` as `{lang}-{nn}-{screen}.png`.
pub fn screenshots(config: &Config, out: &Path, size: (u32, u32)) -> Result<(), CommandError> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    // The staff menu is shown behind the demo PIN whatever the config's own hash is.
    let mut config = config.clone();
    config.staff.pin_hash = Some(crate::config::DEMO_PIN_HASH.into());
    let config = &config;
    let kiosk = HeadlessKiosk::new(config, size)?;
    // A category with an emergency notice, to show it; the first one without, for the journey.
    let with_notice = config
        .categories
        .iter()
        .position(|c| c.emergency_notice.is_some());
    let plain = config
        .categories
        .iter()
        .position(|c| c.emergency_notice.is_none())
        .unwrap_or(0);
    let index = |i: usize| i32::try_from(i).unwrap_or(0);
    // The writing screen shows what the real recognizer makes of LAMP.
    let (tell, heard) = std::sync::mpsc::channel();
    let reader = start_reader(
        config,
        Box::new(move |recognized| {
            let _ = tell.send(recognized);
        }),
    )
    .map_err(|off| anyhow!("the writing screen's screenshots need handwriting: {off}"))?;
    kiosk.controller.set_handwriting(Some(reader));
    let deliver = || -> anyhow::Result<()> {
        let recognized = heard
            .recv_timeout(Duration::from_secs(30))
            .context("the handwriting recognizer did not answer")?;
        kiosk.controller.handwriting_recognized(recognized);
        Ok(())
    };
    deliver()?;
    let write_lamp = || -> anyhow::Result<()> {
        let k = kiosk.kiosk();
        for stroke in LAMP {
            for (i, (x, y)) in stroke.iter().enumerate() {
                let (x, y) = (*x as f32, *y as f32);
                if i == 0 {
                    k.invoke_pad_down(x, y, LAMP_PAD);
                } else {
                    k.invoke_pad_move(x, y);
                }
            }
            k.invoke_pad_up();
            deliver()?;
        }
        Ok(())
    };
    let mut written = 0;
    for lang in [Lang::ZhCn, Lang::En] {
        let mut number = 0;
        let k = kiosk.kiosk();
        // Finishing goes back to Home in the kiosk's first language, so each return there
        // switches to the language being shot again.
        let home = || {
            k.invoke_finish();
            if lang != config.default_lang() {
                k.invoke_toggle_language();
            }
        };
        home();
        let mut shot = |name: &str| -> anyhow::Result<()> {
            written += 1;
            number += 1;
            let file = out.join(format!("{}-{number:02}-{name}.png", lang.tag()));
            kiosk.save_png(&file)
        };
        shot("home")?;
        k.invoke_start_report();
        shot("category")?;
        if let Some(i) = with_notice {
            k.invoke_choose_category(index(i));
            shot("emergency")?;
            k.invoke_back();
        }
        k.invoke_choose_category(index(plain));
        k.invoke_toggle_phrase(0);
        k.invoke_toggle_phrase(2);
        shot("details")?;
        // The resident's own words: the start typed on the keyboard, then 灯 written by hand.
        k.invoke_open_writing();
        k.invoke_writing_tab(true);
        let typed = match lang {
            Lang::ZhCn => "loudao",
            Lang::En => "stair light",
        };
        for key in typed.chars() {
            match key {
                ' ' => k.invoke_writing_punctuation(" ".into()),
                letter => k.invoke_writing_key(letter.to_string().into()),
            }
        }
        shot("writing-keyboard")?;
        k.invoke_choose_candidate(0);
        k.invoke_writing_tab(false);
        write_lamp()?;
        shot("writing")?;
        match lang {
            Lang::ZhCn => {
                use slint::Model;
                let lamp = k.get_candidates().iter().position(|c| c == "灯");
                k.invoke_choose_candidate(index(lamp.unwrap_or(0)));
            }
            Lang::En => k.invoke_writing_clear_pad(),
        }
        k.invoke_writing_done();
        k.invoke_details_next();
        shot("where")?;
        k.invoke_open_address_keypad();
        for digit in ["1", "2"] {
            k.invoke_place_digit(digit.into());
        }
        k.invoke_edit_unit();
        k.invoke_place_digit("3".into());
        shot("where-keypad")?;
        k.invoke_place_done();
        shot("contact")?;
        k.invoke_open_phone_keypad();
        for digit in "1381234567".chars() {
            k.invoke_phone_digit(digit.to_string().into());
        }
        shot("contact-keypad")?;
        k.invoke_phone_digit("8".into());
        k.invoke_phone_done();
        shot("confirm")?;
        kiosk.advance(super::controller::IDLE_WARNING_AFTER + Duration::from_secs(4));
        shot("idle-warning")?;
        k.invoke_more_time();
        k.invoke_submit();
        kiosk
            .controller
            .printer_status_changed(PrinterStatus::Ready);
        shot("done")?;
        kiosk
            .controller
            .printer_status_changed(PrinterStatus::PaperOut);
        shot("done-printer-fault")?;
        kiosk
            .controller
            .printer_status_changed(PrinterStatus::Ready);
        home();
        k.invoke_open_staff();
        for digit in super::staff::DEMO_PIN.chars() {
            k.invoke_pin_digit(digit.to_string().into());
        }
        shot("staff-pin")?;
        k.invoke_pin_enter();
        k.invoke_staff_print_summary();
        shot("staff-menu")?;
        k.invoke_staff_open_reprint();
        for digit in "1126001".chars() {
            k.invoke_reprint_digit(digit.to_string().into());
        }
        shot("staff-reprint")?;
        k.invoke_back();
        k.invoke_back();
        home();
        let sample = match lang {
            Lang::ZhCn => SAMPLE_TICKETS[0],
            Lang::En => SAMPLE_TICKETS[1],
        };
        let type_digits = |digits: &str, key: &dyn Fn(slint::SharedString)| {
            for digit in digits.chars().filter(char::is_ascii_digit) {
                key(digit.to_string().into());
            }
        };
        k.invoke_open_check();
        type_digits(sample, &|d| k.invoke_check_digit(d));
        shot("check")?;
        k.invoke_look_up();
        shot("result")?;
        k.invoke_open_check_code();
        type_digits("0000", &|d| k.invoke_code_digit(d));
        k.invoke_code_enter();
        shot("check-code-wrong")?;
        type_digits(SAMPLE_CHECK_CODE, &|d| k.invoke_code_digit(d));
        shot("check-code")?;
        k.invoke_code_enter();
        shot("result-reply")?;
        k.invoke_open_rating();
        shot("rating")?;
        k.invoke_rate(1);
        shot("rated")?;
        k.invoke_finish();
        home();
        k.invoke_open_check();
        type_digits("1120099", &|d| k.invoke_check_digit(d));
        k.invoke_look_up();
        shot("unknown-ticket")?;
        k.invoke_finish();
    }
    println!(
        "{written} screens at {}x{} in {}",
        size.0,
        size.1,
        out.display()
    );
    Ok(())
}
