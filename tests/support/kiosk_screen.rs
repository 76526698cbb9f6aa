//! The kiosk's touch screen for headless tests: the real window on Slint's testing backend with
//! mock time, a real store in a temporary folder, taps on elements found by their accessible
//! label and role, as a screen reader would find them, and a USB barcode scanner's keys.

use std::sync::Arc;
use std::sync::mpsc::Receiver;

use chrono::{DateTime, FixedOffset};
use concern_kiosk::clock::ManualClock;
use concern_kiosk::config::Config;
use concern_kiosk::speech::Spoken;
use concern_kiosk::store::Store;
use concern_kiosk::ui::{AppWindow, Controller};
use i_slint_backend_testing::{AccessibleRole, ElementHandle};
use slint::platform::{Key, PointerEventButton, WindowEvent};
use slint::{ComponentHandle, PhysicalSize, SharedString};

use super::TestKiosk;
use super::recording_sink::{RecordingSink, recording_speaker};

/// The moment every screen test starts at: a Thursday morning at the community centre.
pub const SCREEN_TEST_START: &str = "2026-11-26T10:30:00+08:00";

pub struct KioskScreen {
    pub window: AppWindow,
    pub controller: Controller,
    pub kiosk: TestKiosk,
}

/// The kiosk window at the reference panel's size (1280×800), showing Home; `edit` may change
/// the reference config first.
pub fn open_screen(edit: impl FnOnce(&mut Config)) -> KioskScreen {
    i_slint_backend_testing::init_no_event_loop();
    let kiosk = TestKiosk::new();
    let mut config = kiosk.load_config();
    edit(&mut config);
    let now = start();
    let (store, _) = Store::open(&kiosk.data_dir(), now).expect("open the store");
    let window = AppWindow::new().expect("make the window");
    window.window().set_size(PhysicalSize::new(1280, 800));
    let controller = Controller::new(
        &window,
        config,
        store,
        Arc::new(ManualClock::new(now)),
        None,
    );
    window.show().expect("show the window");
    KioskScreen {
        window,
        controller,
        kiosk,
    }
}

/// The kiosk window as `open_screen` makes it, with a voice: the real speaker and espeak-ng
/// on a sound card that records, and what each prompt came to.
pub fn open_speaking_screen(
    sink: RecordingSink,
    edit: impl FnOnce(&mut Config),
) -> (KioskScreen, Receiver<Spoken>) {
    let mut volume = 0;
    let screen = open_screen(|config| {
        edit(config);
        volume = config.speech.start_volume();
    });
    let (speaker, heard) = recording_speaker(&screen.kiosk.data_dir(), sink, volume);
    screen.controller.set_speaker(Some(speaker));
    (screen, heard)
}

pub fn start() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(SCREEN_TEST_START).expect("the start time parses")
}

impl KioskScreen {
    /// The visible elements with this label (a button's text is its label).
    pub fn find(&self, label: &str) -> Vec<ElementHandle> {
        ElementHandle::find_by_accessible_label(&self.window, label)
            .filter(|e| e.is_valid() && e.computed_opacity() > 0.0)
            .collect()
    }

    pub fn button(&self, label: &str) -> ElementHandle {
        self.find(label)
            .into_iter()
            .find(|e| {
                matches!(
                    e.accessible_role(),
                    Some(AccessibleRole::Button | AccessibleRole::Checkbox)
                )
            })
            .unwrap_or_else(|| panic!("no button `{label}` on screen"))
    }

    pub fn tap(&self, label: &str) {
        self.button(label)
            .mock_single_click(PointerEventButton::Left);
    }

    /// Taps each digit of `text` on the keypad shown (other characters are skipped).
    pub fn type_digits(&self, text: &str) {
        for digit in text.chars().filter(char::is_ascii_digit) {
            self.tap(&digit.to_string());
        }
    }

    /// What a USB barcode scanner sends: a key press and release per character, then Return.
    pub fn scan(&self, text: &str) {
        let window = self.window.window();
        let keys = text
            .chars()
            .map(SharedString::from)
            .chain([SharedString::from(Key::Return)]);
        for key in keys {
            window.dispatch_event(WindowEvent::KeyPressed { text: key.clone() });
            window.dispatch_event(WindowEvent::KeyReleased { text: key });
        }
    }

    pub fn shows(&self, label: &str) -> bool {
        !self.find(label).is_empty()
    }

    /// The kiosk's store, opened afresh (as an auditor would).
    pub fn store(&self) -> Store {
        Store::open(&self.kiosk.data_dir(), start())
            .expect("open the store")
            .0
    }
}
