//! The controller: owns the resident's draft and the current screen, turns the view's callbacks
//! into changes of that state, files the concern through the store, and hands the state to the
//! view. The .slint files only show what the view sets. Its parts: `journey` (the state and
//! where Back leads), `view` (drawing it), `callbacks` (the view's taps), `idle` (the timers),
//! `staff_actions` (the staff menu), `lookup` (Check my concern: the lookup, the scanner, the
//! check code, the rating and the status slip), `voice` (what is said aloud, and when),
//! `writing` (Write it yourself: the pad, the recognizer's answers, the keyboard).

mod callbacks;
mod idle;
mod journey;
mod lookup;
mod staff_actions;
mod view;
mod voice;
mod writing;

use std::cell::RefCell;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::sync::mpsc::SyncSender;

use slint::ComponentHandle;
use tracing::{error, info, warn};

pub use idle::IDLE_WARNING_AFTER;
use idle::Timers;
use journey::{Back, Journey};
use view::{Scene, View};
use voice::Voice;

use super::staff::PinGuard;
use super::{AppWindow, Kiosk, Screen, wording};
use crate::clock::Clock;
use crate::concern::{Concern, Lang};
use crate::config::Config;
use crate::input_method::HandwritingReader;
use crate::printer::PrinterStatus;
use crate::speech::{Prompt, Speaker};
use crate::store::{Store, UploadStatus};
use crate::upload::schedule::UploadHandle;

struct Inner {
    window: slint::Weak<AppWindow>,
    config: Config,
    store: RefCell<Store>,
    clock: Arc<dyn Clock>,
    print_wake: Option<SyncSender<()>>,
    lang: RefCell<Lang>,
    journey: RefCell<Journey>,
    printer: RefCell<Option<PrinterStatus>>,
    /// What the staff menu shows of the uploads, as last read from the store.
    upload_status: RefCell<Option<Result<UploadStatus, String>>>,
    pin_guard: RefCell<PinGuard>,
    /// The barcode scanner's keys and the check codes tried.
    desk: RefCell<lookup::Desk>,
    upload: RefCell<Option<UploadHandle>>,
    view: RefCell<View>,
    voice: RefCell<Voice>,
    handwriting: RefCell<Option<HandwritingReader>>,
    timers: Timers,
}

/// The UI's brain; cheap to clone (all clones are the same controller).
#[derive(Clone)]
pub struct Controller {
    inner: Rc<Inner>,
}

/// The controller, held without keeping it alive: by timers, the view's callbacks and the
/// results of background tasks, none of which may outlive the window.
#[derive(Clone)]
struct WeakController(Weak<Inner>);

impl WeakController {
    /// Runs `action` on the controller unless it is gone.
    fn with(&self, action: impl FnOnce(&Controller)) {
        if let Some(inner) = self.0.upgrade() {
            action(&Controller { inner });
        }
    }
}

thread_local! {
    /// The controller of the window on this (the UI) thread, for results that background
    /// tasks send back with `slint::invoke_from_event_loop`.
    static CURRENT: RefCell<Option<WeakController>> = const { RefCell::new(None) };
}

impl Controller {
    /// Wires `window`'s callbacks to a new controller and shows Home in the kiosk's first
    /// language. `print_wake` tells the print task a receipt was queued (None: no printing).
    pub fn new(
        window: &AppWindow,
        config: Config,
        store: Store,
        clock: Arc<dyn Clock>,
        print_wake: Option<SyncSender<()>>,
    ) -> Controller {
        let lang = config.default_lang();
        let view = View::new(window, &config);
        let inner = Rc::new(Inner {
            window: window.as_weak(),
            config,
            store: RefCell::new(store),
            clock,
            print_wake,
            lang: RefCell::new(lang),
            journey: RefCell::new(Journey::default()),
            printer: RefCell::new(None),
            upload_status: RefCell::new(None),
            pin_guard: RefCell::new(PinGuard::default()),
            desk: RefCell::new(lookup::Desk::default()),
            upload: RefCell::new(None),
            view: RefCell::new(view),
            voice: RefCell::new(Voice::default()),
            handwriting: RefCell::new(None),
            timers: Timers::default(),
        });
        let controller = Controller { inner };
        controller.connect(window);
        controller.select_language(lang);
        controller.start_clock();
        controller.show();
        controller
    }

    /// The running uploader, for the staff menu's "upload now".
    pub fn set_upload(&self, handle: Option<UploadHandle>) {
        *self.inner.upload.borrow_mut() = handle;
    }

    /// The kiosk's voice (None: it cannot speak, and "Read it to me" does not show). What the
    /// screen shows now is not said: it is what was there before anyone came.
    pub fn set_speaker(&self, speaker: Option<Speaker>) {
        let quiet_hours = self.inner.config.speech.quiet_hours;
        let mut voice = Voice::new(speaker, quiet_hours);
        if let Some(prompt) = self.with_scene(voice::prompt) {
            voice.pass_over(self.lang(), prompt);
        }
        let can_speak = voice.can_speak();
        *self.inner.voice.borrow_mut() = voice;
        if let Some(window) = self.inner.window.upgrade() {
            window.global::<Kiosk>().set_can_speak(can_speak);
        }
        self.show_volume();
    }

    /// The speech volume on the staff menu, as the speaker has it now.
    fn show_volume(&self) {
        let volume = self.inner.voice.borrow().volume();
        if let (Some(volume), Some(window)) = (volume, self.inner.window.upgrade()) {
            window
                .global::<Kiosk>()
                .set_speech_volume(i32::from(volume));
        }
    }

    /// Makes this the controller that background tasks report to.
    pub fn attach(&self) {
        let weak = self.downgrade();
        CURRENT.with(|current| *current.borrow_mut() = Some(weak));
    }

    /// Runs `action` on the attached controller; called on the UI thread from
    /// `invoke_from_event_loop`.
    pub fn with_current(action: impl FnOnce(&Controller)) {
        let weak = CURRENT.with(|current| current.borrow().clone());
        if let Some(weak) = weak {
            weak.with(action);
        }
    }

    /// The print task's latest word on the printer. A fault while Done shows changes it to the
    /// "note your number" variant.
    pub fn printer_status_changed(&self, status: PrinterStatus) {
        let changed = *self.inner.printer.borrow() != Some(status);
        if changed {
            *self.inner.printer.borrow_mut() = Some(status);
            self.show();
        }
    }

    /// The concern shown on Done, if any.
    pub fn filed(&self) -> Option<Concern> {
        self.inner.journey.borrow().filed.clone()
    }

    /// Shows Done for a filed concern and starts the timer back to Home.
    pub fn show_done(&self, concern: Concern) {
        self.edit(|j| {
            j.filed = Some(concern);
            j.screen = Screen::Done;
            j.idle_warning = false;
        });
        self.start_done_timer();
    }

    fn downgrade(&self) -> WeakController {
        WeakController(Rc::downgrade(&self.inner))
    }

    fn edit(&self, change: impl FnOnce(&mut Journey)) {
        change(&mut self.inner.journey.borrow_mut());
        self.show();
    }

    fn screen(&self) -> Screen {
        self.inner.journey.borrow().screen
    }

    fn lang(&self) -> Lang {
        *self.inner.lang.borrow()
    }

    /// Runs `look` on the state as it is now.
    fn with_scene<R>(&self, look: impl FnOnce(&Scene) -> R) -> R {
        let inner = &self.inner;
        let journey = inner.journey.borrow();
        let upload = inner.upload_status.borrow();
        let scene = Scene {
            config: &inner.config,
            lang: self.lang(),
            now: inner.clock.now(),
            journey: &journey,
            printer: *inner.printer.borrow(),
            upload: upload.as_ref(),
        };
        look(&scene)
    }

    /// Runs `paint` on the view with the state as it is now; nothing once the window is gone.
    fn paint<R: Default>(&self, paint: impl FnOnce(&mut View, &Kiosk, &Scene) -> R) -> R {
        let Some(window) = self.inner.window.upgrade() else {
            return R::default();
        };
        self.with_scene(|scene| {
            paint(
                &mut self.inner.view.borrow_mut(),
                &window.global::<Kiosk>(),
                scene,
            )
        })
    }

    /// Brings the view up to the state (only the parts that changed are set), and says the
    /// screen's prompt if it is a new one.
    fn show(&self) {
        self.paint(|view, kiosk, scene| view.draw(kiosk, scene));
        let (prompt, time) = self.with_scene(|scene| (voice::prompt(scene), scene.now.time()));
        self.inner
            .voice
            .borrow_mut()
            .shown(self.lang(), prompt, time);
    }

    /// "Read it to me".
    fn read_aloud(&self) {
        let prompt = self.with_scene(voice::prompt);
        self.inner.voice.borrow().repeat(self.lang(), prompt);
    }

    /// Says what was just tapped on a resident's screen.
    fn say_tapped(&self, prompt: Prompt) {
        let time = self.inner.clock.now().time();
        self.inner.voice.borrow().tapped(prompt, self.lang(), time);
    }

    /// The clock's tick: a new minute on the date line, and with the staff menu open, the
    /// upload status read again (the uploader's own rounds change it).
    fn show_clock(&self) {
        let new_minute = self.paint(|view, kiosk, scene| view.draw_clock(kiosk, scene));
        if new_minute && self.screen() == Screen::StaffMenu {
            self.refresh_upload_status();
            self.show();
        }
    }

    /// Forgets everything the resident chose and shows Home in the kiosk's first language,
    /// unsaid. Leaving the staff's screens keeps the volume they set for the resident they
    /// are helping; any other return starts the next resident at the configured one.
    fn reset_to_home(&self) {
        self.stop_resident_timers();
        let from_staff = matches!(self.screen(), Screen::StaffPin | Screen::StaffMenu);
        *self.inner.journey.borrow_mut() = Journey::default();
        let lang = self.inner.config.default_lang();
        self.select_language(lang);
        {
            let mut voice = self.inner.voice.borrow_mut();
            if !from_staff {
                voice.new_resident();
            }
            voice.stop();
            voice.pass_over(lang, Prompt::Home);
        }
        self.show_volume();
        self.show();
    }

    fn go(&self, screen: Screen) {
        self.edit(|j| j.go(screen));
        self.touched();
    }

    fn back(&self) {
        let back = self.inner.journey.borrow().back();
        match back {
            Back::CloseKeypad => self.edit(|j| j.keypad = None),
            Back::Home => self.reset_to_home(),
            Back::To(screen) => self.go(screen),
        }
    }

    fn toggle_language(&self) {
        self.select_language(wording::toggled(self.lang()));
        // Pinyin half typed means nothing to the English keyboard.
        self.edit(|j| j.writing.clear_typed());
    }

    fn select_language(&self, lang: Lang) {
        *self.inner.lang.borrow_mut() = lang;
        if let Err(e) = slint::select_bundled_translation(wording::translation(lang)) {
            warn!(error = %e, "cannot switch the screen's language");
        }
    }

    fn choose_category(&self, index: usize) {
        let Some(category) = self.inner.config.categories.get(index) else {
            return;
        };
        let phrases = category.phrases.len();
        let has_notice = category.emergency_notice.is_some();
        self.edit(|j| {
            if j.category != Some(index) {
                j.chosen = vec![false; phrases];
                j.location = None;
            }
            j.category = Some(index);
        });
        self.go(if has_notice {
            Screen::Emergency
        } else {
            Screen::Details
        });
    }

    fn toggle_phrase(&self, index: usize) {
        let mut now_chosen = None;
        self.edit(|j| {
            if let Some(chosen) = j.chosen.get_mut(index) {
                *chosen = !*chosen;
                now_chosen = Some(*chosen);
            }
        });
        let lang = self.lang();
        let category = self.inner.journey.borrow().category;
        let phrase = category
            .and_then(|c| self.inner.config.categories.get(c))
            .and_then(|c| c.phrases.get(index));
        if let (Some(phrase), Some(chosen)) = (phrase, now_chosen) {
            self.say_tapped(Prompt::Toggled {
                label: phrase.get(lang).to_string(),
                chosen,
            });
        }
    }

    fn choose_place(&self, index: usize) {
        let Some(place) = self.inner.config.places.get(index) else {
            return;
        };
        let label = place.label.get(self.lang()).to_string();
        self.edit(|j| j.location = Some(label));
        self.go(Screen::Contact);
    }

    fn address_done(&self) {
        let lang = self.lang();
        self.edit(|j| {
            if !j.building.is_empty() {
                j.location = Some(wording::address(&j.building, &j.unit, lang));
            }
        });
        self.go(Screen::Contact);
    }

    /// "Submit now" on Details: filed at once, unless the printer cannot print some of the
    /// resident's words; then Confirm shows which first.
    fn submit_now(&self) {
        if self.with_scene(view::unprintable).is_empty() {
            self.submit();
        } else {
            self.go(Screen::Confirm);
        }
    }

    /// Validates and files the draft (one transaction: concern, ticket, receipt job, outbox),
    /// wakes the print task and shows Done. On failure nothing is lost: the resident stays on
    /// Confirm with the reason.
    fn submit(&self) {
        let inner = &self.inner;
        let lang = self.lang();
        let Some(draft) = inner.journey.borrow().draft(&inner.config, lang) else {
            return;
        };
        let filed = draft
            .validate(&inner.config, inner.clock.now())
            .map_err(|e| e.to_string())
            .and_then(|new| {
                inner
                    .store
                    .borrow_mut()
                    .file_concern(new, &inner.config.kiosk.ticket_prefix)
                    .map_err(|e| e.to_string())
            });
        match filed {
            Ok(concern) => {
                info!(ticket = %concern.ticket, "concern filed from the touchscreen");
                self.wake_printer();
                self.show_done(concern);
            }
            Err(reason) => {
                error!(%reason, "the touchscreen's concern was not filed");
                self.edit(|j| {
                    j.screen = Screen::Confirm;
                    j.problem = Some(wording::not_saved(lang).to_string());
                });
            }
        }
    }

    fn wake_printer(&self) {
        if let Some(wake) = &self.inner.print_wake {
            // A full channel means the print task is already awake: nothing lost.
            let _ = wake.try_send(());
        }
    }
}
