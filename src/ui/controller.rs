//! The controller: owns the resident's draft and the current screen, turns the view's callbacks
//! into changes of that state, files the concern through the store, and runs the idle and Done
//! timers. The .slint files only show what `show()` hands them.

use std::cell::RefCell;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::sync::mpsc::SyncSender;
use std::time::Duration;

use slint::{ComponentHandle, ModelRc, SharedString, Timer, TimerMode, VecModel};
use tracing::{error, info, warn};

use super::staff::{PinGuard, PinOutcome};
use super::wording::{self, pick};
use super::{AppWindow, Choice, Kiosk, Screen, Tile};
use crate::clock::Clock;
use crate::concern::{Concern, Draft, Lang, normalise_phone};
use crate::config::Config;
use crate::printer::PrinterStatus;
use crate::receipt::promise_line;
use crate::store::{JobKind, Store};
use crate::summary;
use crate::upload::schedule::UploadHandle;
use crate::upload::uploader::RoundReport;

/// How long a screen other than Home may go untouched before the "are you still there?"
/// warning: long enough for a slow reader, short enough that a walked-away draft is not left
/// for the next person to read.
pub const IDLE_WARNING_AFTER: Duration = Duration::from_secs(60);
/// How long the warning gives to answer before the draft is discarded (the brief asks >= 20 s;
/// 30 s because an elderly resident may have stepped away to ask someone).
pub const IDLE_ANSWER_SECONDS: u32 = 30;
/// The Done screen goes back to Home by itself after this: time to read the number twice.
pub const DONE_RETURNS_AFTER: Duration = Duration::from_secs(30);
/// The date and time on Home are refreshed this often (the minute must not lag by much).
const CLOCK_REFRESH: Duration = Duration::from_secs(1);
/// Building and unit numbers: three digits cover every estate the kiosk is meant for.
const MAX_ADDRESS_DIGITS: usize = 4;
/// Phone numbers: 11-digit mobiles, or a landline with its area code (12 digits).
const MAX_PHONE_DIGITS: usize = 12;
/// The staff menu leaves itself after this long untouched, so a member of staff who walked
/// away does not leave it open to the next resident.
pub const STAFF_IDLE: Duration = Duration::from_secs(120);
/// Staff PINs: four to eight digits.
const MIN_PIN_DIGITS: usize = 4;
const MAX_PIN_DIGITS: usize = 8;
/// A ticket typed for a reprint: MMDD and the day's number, e.g. 1126042 for A1126-042.
const TICKET_DIGITS: usize = 7;
/// Who staff actions are by, in the audit log.
const STAFF_ACTOR: &str = "staff";

/// Everything the resident has chosen, and where they are.
#[derive(Default)]
struct Journey {
    screen: ScreenState,
    category: Option<usize>,
    chosen: Vec<bool>,
    address_keypad: bool,
    building: String,
    unit: String,
    typing_unit: bool,
    location: Option<String>,
    phone_keypad: bool,
    phone: String,
    phone_given: bool,
    /// Why the last Submit failed, in the resident's language.
    problem: Option<String>,
    filed: Option<Concern>,
    pin: String,
    reprint_keypad: bool,
    reprint: String,
    /// What the last staff action came to.
    staff_message: String,
    idle_warning: bool,
    idle_seconds_left: u32,
}

#[derive(Default, Clone, Copy, PartialEq, Eq, Debug)]
enum ScreenState {
    #[default]
    Home,
    Category,
    Emergency,
    Details,
    Place,
    Contact,
    Confirm,
    Done,
    StaffPin,
    StaffMenu,
}

struct Inner {
    window: slint::Weak<AppWindow>,
    config: Config,
    store: RefCell<Store>,
    clock: Arc<dyn Clock>,
    print_wake: Option<SyncSender<()>>,
    lang: RefCell<Lang>,
    journey: RefCell<Journey>,
    printer: RefCell<Option<PrinterStatus>>,
    pin_guard: RefCell<PinGuard>,
    upload: RefCell<Option<UploadHandle>>,
    idle_timer: Timer,
    countdown_timer: Timer,
    done_timer: Timer,
    clock_timer: Timer,
}

/// The UI's brain; cheap to clone (all clones are the same controller).
#[derive(Clone)]
pub struct Controller {
    inner: Rc<Inner>,
}

thread_local! {
    /// The controller of the window on this (the UI) thread, for results that background
    /// tasks send back with `slint::invoke_from_event_loop`.
    static CURRENT: RefCell<Option<Weak<Inner>>> = const { RefCell::new(None) };
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
        let inner = Rc::new(Inner {
            window: window.as_weak(),
            config,
            store: RefCell::new(store),
            clock,
            print_wake,
            lang: RefCell::new(lang),
            journey: RefCell::new(Journey::default()),
            printer: RefCell::new(None),
            pin_guard: RefCell::new(PinGuard::default()),
            upload: RefCell::new(None),
            idle_timer: Timer::default(),
            countdown_timer: Timer::default(),
            done_timer: Timer::default(),
            clock_timer: Timer::default(),
        });
        let controller = Controller { inner };
        controller.connect(window);
        controller.select_language(lang);
        let weak = Rc::downgrade(&controller.inner);
        controller
            .inner
            .clock_timer
            .start(TimerMode::Repeated, CLOCK_REFRESH, move || {
                if let Some(inner) = weak.upgrade() {
                    Controller { inner }.show_clock();
                }
            });
        controller.show();
        controller
    }

    /// The running uploader, for the staff menu's "upload now".
    pub fn set_upload(&self, handle: Option<UploadHandle>) {
        *self.inner.upload.borrow_mut() = handle;
    }

    /// Makes this the controller that background tasks report to.
    pub fn attach(&self) {
        let weak = Rc::downgrade(&self.inner);
        CURRENT.with(|current| *current.borrow_mut() = Some(weak));
    }

    /// Runs `action` on the attached controller; called on the UI thread from
    /// `invoke_from_event_loop`.
    pub fn with_current(action: impl FnOnce(&Controller)) {
        let inner = CURRENT.with(|current| current.borrow().as_ref().and_then(Weak::upgrade));
        if let Some(inner) = inner {
            action(&Controller { inner });
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

    fn connect(&self, window: &AppWindow) {
        let kiosk = window.global::<Kiosk>();
        let on = |action: fn(&Controller)| {
            let weak = Rc::downgrade(&self.inner);
            move || {
                if let Some(inner) = weak.upgrade() {
                    let controller = Controller { inner };
                    controller.touched();
                    action(&controller);
                }
            }
        };
        let on_index = |action: fn(&Controller, usize)| {
            let weak = Rc::downgrade(&self.inner);
            move |index: i32| {
                if let (Some(inner), Ok(index)) = (weak.upgrade(), usize::try_from(index)) {
                    let controller = Controller { inner };
                    controller.touched();
                    action(&controller, index);
                }
            }
        };
        let on_digit = |action: fn(&Controller, &str)| {
            let weak = Rc::downgrade(&self.inner);
            move |digit: SharedString| {
                if let Some(inner) = weak.upgrade() {
                    let controller = Controller { inner };
                    controller.touched();
                    action(&controller, digit.as_str());
                }
            }
        };
        // A tap anywhere on Done means "I have my number": back to Home at once.
        kiosk.on_touched(on(|c| {
            if c.screen() == ScreenState::Done {
                c.reset_to_home();
            }
        }));
        kiosk.on_toggle_language(on(Controller::toggle_language));
        kiosk.on_back(on(Controller::back));
        kiosk.on_start_report(on(|c| c.go(ScreenState::Category)));
        kiosk.on_choose_category(on_index(Controller::choose_category));
        kiosk.on_emergency_continue(on(|c| c.go(ScreenState::Details)));
        kiosk.on_toggle_phrase(on_index(Controller::toggle_phrase));
        kiosk.on_details_next(on(|c| c.go(ScreenState::Place)));
        kiosk.on_submit_now(on(Controller::submit));
        kiosk.on_open_address_keypad(on(|c| {
            c.edit(|j| j.address_keypad = true);
        }));
        kiosk.on_place_digit(on_digit(|c, d| {
            c.edit(|j| {
                let field = if j.typing_unit {
                    &mut j.unit
                } else {
                    &mut j.building
                };
                if field.len() < MAX_ADDRESS_DIGITS {
                    field.push_str(d);
                }
            });
        }));
        kiosk.on_place_delete(on(|c| {
            c.edit(|j| {
                if j.typing_unit {
                    j.unit.pop();
                } else {
                    j.building.pop();
                }
            });
        }));
        kiosk.on_edit_building(on(|c| c.edit(|j| j.typing_unit = false)));
        kiosk.on_edit_unit(on(|c| c.edit(|j| j.typing_unit = true)));
        kiosk.on_choose_place(on_index(Controller::choose_place));
        kiosk.on_place_done(on(Controller::address_done));
        kiosk.on_place_skip(on(|c| {
            c.edit(|j| j.location = None);
            c.go(ScreenState::Contact);
        }));
        kiosk.on_open_phone_keypad(on(|c| c.edit(|j| j.phone_keypad = true)));
        kiosk.on_phone_digit(on_digit(|c, d| {
            c.edit(|j| {
                if j.phone.len() < MAX_PHONE_DIGITS {
                    j.phone.push_str(d);
                }
            });
        }));
        kiosk.on_phone_delete(on(|c| {
            c.edit(|j| {
                j.phone.pop();
            });
        }));
        kiosk.on_stay_anonymous(on(|c| {
            c.edit(|j| {
                j.phone.clear();
                j.phone_given = false;
            });
            c.go(ScreenState::Confirm);
        }));
        kiosk.on_phone_done(on(|c| {
            c.edit(|j| j.phone_given = true);
            c.go(ScreenState::Confirm);
        }));
        kiosk.on_submit(on(Controller::submit));
        kiosk.on_change(on(|c| c.go(ScreenState::Details)));
        kiosk.on_finish(on(Controller::reset_to_home));
        kiosk.on_more_time(on(|_| {}));
        kiosk.on_open_staff(on(|c| {
            c.edit(|j| {
                j.pin.clear();
                j.staff_message.clear();
            });
            c.go(ScreenState::StaffPin);
        }));
        kiosk.on_pin_digit(on_digit(|c, d| {
            c.edit(|j| {
                if j.pin.len() < MAX_PIN_DIGITS {
                    j.pin.push_str(d);
                }
            });
        }));
        kiosk.on_pin_delete(on(|c| {
            c.edit(|j| {
                j.pin.pop();
            });
        }));
        kiosk.on_pin_enter(on(Controller::enter_pin));
        kiosk.on_staff_test_print(on(Controller::test_print));
        kiosk.on_staff_print_summary(on(Controller::print_summary));
        kiosk.on_staff_open_reprint(on(|c| {
            c.edit(|j| {
                j.reprint.clear();
                j.reprint_keypad = true;
            });
        }));
        kiosk.on_reprint_digit(on_digit(|c, d| {
            c.edit(|j| {
                if j.reprint.len() < TICKET_DIGITS {
                    j.reprint.push_str(d);
                }
            });
        }));
        kiosk.on_reprint_delete(on(|c| {
            c.edit(|j| {
                j.reprint.pop();
            });
        }));
        kiosk.on_staff_reprint(on(Controller::reprint));
        kiosk.on_staff_upload_now(on(Controller::upload_now));
    }

    fn edit(&self, change: impl FnOnce(&mut Journey)) {
        change(&mut self.inner.journey.borrow_mut());
        self.show();
    }

    fn screen(&self) -> ScreenState {
        self.inner.journey.borrow().screen
    }

    /// Any tap: the resident is still there. Restarts the idle timer (none on Home and Done,
    /// which have nothing private to discard or leave by themselves) and hides the warning.
    fn touched(&self) {
        let inner = &self.inner;
        inner.countdown_timer.stop();
        let warned = std::mem::take(&mut inner.journey.borrow_mut().idle_warning);
        if warned {
            self.show();
        }
        let screen = self.screen();
        if matches!(screen, ScreenState::Home | ScreenState::Done) {
            inner.idle_timer.stop();
            return;
        }
        let weak = Rc::downgrade(inner);
        if matches!(screen, ScreenState::StaffPin | ScreenState::StaffMenu) {
            inner
                .idle_timer
                .start(TimerMode::SingleShot, STAFF_IDLE, move || {
                    if let Some(inner) = weak.upgrade() {
                        info!("the staff menu was left idle: back to Home");
                        Controller { inner }.reset_to_home();
                    }
                });
            return;
        }
        inner
            .idle_timer
            .start(TimerMode::SingleShot, IDLE_WARNING_AFTER, move || {
                if let Some(inner) = weak.upgrade() {
                    Controller { inner }.warn_idle();
                }
            });
    }

    fn warn_idle(&self) {
        self.edit(|j| {
            j.idle_warning = true;
            j.idle_seconds_left = IDLE_ANSWER_SECONDS;
        });
        let weak = Rc::downgrade(&self.inner);
        self.inner
            .countdown_timer
            .start(TimerMode::Repeated, Duration::from_secs(1), move || {
                if let Some(inner) = weak.upgrade() {
                    Controller { inner }.count_down();
                }
            });
    }

    fn count_down(&self) {
        let left = {
            let mut journey = self.inner.journey.borrow_mut();
            journey.idle_seconds_left = journey.idle_seconds_left.saturating_sub(1);
            journey.idle_seconds_left
        };
        if left == 0 {
            info!("no answer to the idle warning: the draft is discarded");
            self.reset_to_home();
        } else {
            self.show();
        }
    }

    /// Forgets everything the resident chose and shows Home in the kiosk's first language.
    fn reset_to_home(&self) {
        let inner = &self.inner;
        inner.idle_timer.stop();
        inner.countdown_timer.stop();
        inner.done_timer.stop();
        *inner.journey.borrow_mut() = Journey::default();
        self.select_language(inner.config.default_lang());
        self.show();
    }

    fn go(&self, screen: ScreenState) {
        self.edit(|j| {
            j.screen = screen;
            j.problem = None;
            j.address_keypad = false;
            j.phone_keypad = false;
        });
        self.touched();
    }

    fn back(&self) {
        let journey = self.inner.journey.borrow();
        let (screen, address_keypad, phone_keypad) =
            (journey.screen, journey.address_keypad, journey.phone_keypad);
        drop(journey);
        let reprint_keypad = self.inner.journey.borrow().reprint_keypad;
        if address_keypad || phone_keypad || reprint_keypad {
            return self.edit(|j| {
                j.address_keypad = false;
                j.phone_keypad = false;
                j.reprint_keypad = false;
            });
        }
        match screen {
            ScreenState::Home
            | ScreenState::Category
            | ScreenState::Done
            | ScreenState::StaffPin
            | ScreenState::StaffMenu => self.reset_to_home(),
            ScreenState::Emergency | ScreenState::Details => self.go(ScreenState::Category),
            ScreenState::Place => self.go(ScreenState::Details),
            ScreenState::Contact => self.go(ScreenState::Place),
            ScreenState::Confirm => self.go(ScreenState::Contact),
        }
    }

    fn toggle_language(&self) {
        let lang = wording::toggled(*self.inner.lang.borrow());
        self.select_language(lang);
        self.show();
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
            ScreenState::Emergency
        } else {
            ScreenState::Details
        });
    }

    fn toggle_phrase(&self, index: usize) {
        self.edit(|j| {
            if let Some(chosen) = j.chosen.get_mut(index) {
                *chosen = !*chosen;
            }
        });
    }

    fn choose_place(&self, index: usize) {
        let lang = *self.inner.lang.borrow();
        let Some(place) = self.inner.config.places.get(index) else {
            return;
        };
        let label = place.label.get(lang).to_string();
        self.edit(|j| j.location = Some(label));
        self.go(ScreenState::Contact);
    }

    fn address_done(&self) {
        let lang = *self.inner.lang.borrow();
        self.edit(|j| {
            if !j.building.is_empty() {
                j.location = Some(wording::address(&j.building, &j.unit, lang));
            }
        });
        self.go(ScreenState::Contact);
    }

    /// The resident's choices as the core's draft.
    fn draft(&self) -> Option<Draft> {
        let journey = self.inner.journey.borrow();
        let category = self.inner.config.categories.get(journey.category?)?;
        // Phrases by their 1-based number: unambiguous whatever the language.
        let phrases = journey
            .chosen
            .iter()
            .enumerate()
            .filter(|(_, chosen)| **chosen)
            .map(|(index, _)| (index + 1).to_string())
            .collect();
        Some(Draft {
            category: category.code.clone(),
            phrases,
            text: None,
            location: journey.location.clone(),
            phone: journey.phone_given.then(|| journey.phone.clone()),
            lang: *self.inner.lang.borrow(),
        })
    }

    /// Validates and files the draft (one transaction: concern, ticket, receipt job, outbox),
    /// wakes the print task and shows Done. On failure nothing is lost: the resident stays on
    /// Confirm with the reason.
    fn submit(&self) {
        let lang = *self.inner.lang.borrow();
        let Some(draft) = self.draft() else { return };
        let inner = &self.inner;
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
                    j.screen = ScreenState::Confirm;
                    j.problem = Some(wording::not_saved(lang).to_string());
                });
            }
        }
    }

    /// Shows Done for a filed concern and starts the timer back to Home.
    pub fn show_done(&self, concern: Concern) {
        self.inner.idle_timer.stop();
        self.edit(|j| {
            j.filed = Some(concern);
            j.screen = ScreenState::Done;
            j.idle_warning = false;
        });
        let weak = Rc::downgrade(&self.inner);
        self.inner
            .done_timer
            .start(TimerMode::SingleShot, DONE_RETURNS_AFTER, move || {
                if let Some(inner) = weak.upgrade() {
                    Controller { inner }.reset_to_home();
                }
            });
    }

    fn lang(&self) -> Lang {
        *self.inner.lang.borrow()
    }

    fn staff_says(&self, message: String) {
        self.edit(|j| j.staff_message = message);
    }

    fn wake_printer(&self) {
        if let Some(wake) = &self.inner.print_wake {
            // A full channel means the print task is already awake: nothing lost.
            let _ = wake.try_send(());
        }
    }

    /// Checks the PIN (every attempt goes into the audit log, never the PIN itself).
    fn enter_pin(&self) {
        let inner = &self.inner;
        let pin = std::mem::take(&mut inner.journey.borrow_mut().pin);
        let now = inner.clock.now();
        let outcome =
            inner
                .pin_guard
                .borrow_mut()
                .attempt(inner.config.staff.pin_hash.as_deref(), &pin, now);
        let detail = match &outcome {
            PinOutcome::Wrong { left } => format!("{left} tries left"),
            PinOutcome::Locked { until } => format!("locked until {}", until.to_rfc3339()),
            PinOutcome::Accepted | PinOutcome::NoPinConfigured => String::new(),
        };
        if let Err(e) =
            inner
                .store
                .borrow()
                .audit(now, STAFF_ACTOR, outcome.audit_action(), &detail)
        {
            error!(error = %e, "cannot write the staff PIN attempt to the audit log");
        }
        let message = wording::pin_outcome(&outcome, self.lang());
        if outcome == PinOutcome::Accepted {
            info!("staff menu opened");
            self.go(ScreenState::StaffMenu);
        }
        self.staff_says(message);
    }

    fn test_print(&self) {
        let inner = &self.inner;
        let now = inner.clock.now();
        let store = inner.store.borrow();
        let queued = store
            .enqueue_print(&JobKind::TestPage, now)
            .and_then(|_| store.audit(now, STAFF_ACTOR, "test-print", ""));
        drop(store);
        let lang = self.lang();
        let message = match queued {
            Ok(()) => {
                self.wake_printer();
                pick(
                    lang,
                    "测试页已排队打印。".into(),
                    "Test page queued.".into(),
                )
            }
            Err(e) => e.to_string(),
        };
        self.staff_says(message);
    }

    fn print_summary(&self) {
        let inner = &self.inner;
        let now = inner.clock.now();
        let queued =
            summary::queue_on_demand(&inner.store.borrow(), now.date_naive(), STAFF_ACTOR, now);
        let lang = self.lang();
        let message = match queued {
            Ok(_) => {
                self.wake_printer();
                pick(
                    lang,
                    "今日汇总已排队打印。".into(),
                    "Today's summary queued.".into(),
                )
            }
            Err(e) => e.to_string(),
        };
        self.staff_says(message);
    }

    /// The typed digits as a ticket number: the kiosk's prefix, MMDD, a dash, the number.
    fn reprint_ticket(&self, digits: &str) -> String {
        let prefix = &self.inner.config.kiosk.ticket_prefix;
        match digits.len() {
            0 => String::new(),
            n if n <= 4 => format!("{prefix}{digits}"),
            _ => format!("{prefix}{}-{}", &digits[..4], &digits[4..]),
        }
    }

    fn reprint(&self) {
        let inner = &self.inner;
        let ticket = self.reprint_ticket(&inner.journey.borrow().reprint);
        let now = inner.clock.now();
        let lang = self.lang();
        let queued = inner
            .store
            .borrow()
            .queue_reprint(&ticket, STAFF_ACTOR, now)
            .map(|job| job.is_some());
        let message = match queued {
            Ok(true) => {
                self.wake_printer();
                self.edit(|j| j.reprint_keypad = false);
                pick(
                    lang,
                    format!("{ticket} 的回执已排队补打。"),
                    format!("Receipt {ticket} queued."),
                )
            }
            Ok(false) => pick(
                lang,
                format!("没有编号为 {ticket} 的反映。"),
                format!("No concern has the number {ticket}."),
            ),
            Err(e) => e.to_string(),
        };
        self.staff_says(message);
    }

    /// Asks the uploader for a round now; the answer comes back on the UI thread.
    fn upload_now(&self) {
        let lang = self.lang();
        let Some(handle) = self.inner.upload.borrow().clone() else {
            return self.staff_says(pick(
                lang,
                "上传没有运行（请看日志或运行 doctor）。".into(),
                "The uploader is not running (see the log or run doctor).".into(),
            ));
        };
        self.staff_says(pick(lang, "正在上传……".into(), "Uploading…".into()));
        let spawned = slint::spawn_local(async move {
            let report = handle.upload_now().await;
            Controller::with_current(|c| c.upload_finished(report));
        });
        if let Err(e) = spawned {
            self.staff_says(e.to_string());
        }
    }

    fn upload_finished(&self, report: Result<RoundReport, String>) {
        let lang = self.lang();
        let message = match report {
            Ok(report) if report.batches.is_empty() => {
                pick(lang, "没有要上传的。".into(), "Nothing to upload.".into())
            }
            Ok(report) => report
                .batches
                .iter()
                .map(|b| b.describe())
                .collect::<Vec<_>>()
                .join("\n"),
            Err(e) => e,
        };
        self.staff_says(message);
    }

    fn show_clock(&self) {
        let Some(window) = self.inner.window.upgrade() else {
            return;
        };
        let lang = *self.inner.lang.borrow();
        let text = wording::date_time(self.inner.clock.now(), lang);
        window.global::<Kiosk>().set_date_time(text.into());
    }

    /// Hands the whole state to the view.
    fn show(&self) {
        let Some(window) = self.inner.window.upgrade() else {
            return;
        };
        let inner = &self.inner;
        let config = &inner.config;
        let lang = *inner.lang.borrow();
        let journey = inner.journey.borrow();
        let kiosk = window.global::<Kiosk>();
        let category = journey.category.and_then(|i| config.categories.get(i));

        kiosk.set_screen(match journey.screen {
            ScreenState::Home => Screen::Home,
            ScreenState::Category => Screen::Category,
            ScreenState::Emergency => Screen::Emergency,
            ScreenState::Details => Screen::Details,
            ScreenState::Place => Screen::Place,
            ScreenState::Contact => Screen::Contact,
            ScreenState::Confirm => Screen::Confirm,
            ScreenState::Done => Screen::Done,
            ScreenState::StaffPin => Screen::StaffPin,
            ScreenState::StaffMenu => Screen::StaffMenu,
        });
        kiosk.set_other_language(wording::other_language(lang).into());
        kiosk.set_community(config.kiosk.community.get(lang).into());
        kiosk.set_hotline(config.kiosk.hotline.as_str().into());
        kiosk.set_date_time(wording::date_time(inner.clock.now(), lang).into());
        kiosk.set_retention_days(
            i32::try_from(config.retention.days_after_upload).unwrap_or(i32::MAX),
        );

        let tiles: Vec<Tile> = config
            .categories
            .iter()
            .map(|c| Tile {
                label: c.label.get(lang).into(),
                icon: c.icon.as_str().into(),
            })
            .collect();
        kiosk.set_categories(ModelRc::new(VecModel::from(tiles)));
        kiosk.set_category_label(category.map(|c| c.label.get(lang)).unwrap_or("").into());
        kiosk.set_emergency_notice(
            category
                .and_then(|c| c.emergency_notice.as_ref())
                .map(|n| n.get(lang))
                .unwrap_or("")
                .into(),
        );
        let phrases: Vec<Choice> = category
            .map(|c| {
                c.phrases
                    .iter()
                    .zip(journey.chosen.iter())
                    .map(|(phrase, chosen)| Choice {
                        label: phrase.get(lang).into(),
                        checked: *chosen,
                    })
                    .collect()
            })
            .unwrap_or_default();
        kiosk.set_phrases(ModelRc::new(VecModel::from(phrases)));
        kiosk.set_any_phrase(journey.chosen.iter().any(|c| *c));

        kiosk.set_address_keypad(journey.address_keypad);
        kiosk.set_building(journey.building.as_str().into());
        kiosk.set_unit(journey.unit.as_str().into());
        kiosk.set_typing_unit(journey.typing_unit);
        let places: Vec<SharedString> = config
            .places
            .iter()
            .map(|p| p.label.get(lang).into())
            .collect();
        kiosk.set_places(ModelRc::new(VecModel::from(places)));

        kiosk.set_phone_keypad(journey.phone_keypad);
        kiosk.set_phone(journey.phone.as_str().into());
        kiosk.set_phone_complete(normalise_phone(&journey.phone).is_some());

        let what: Vec<&str> = category
            .map(|c| {
                c.phrases
                    .iter()
                    .zip(journey.chosen.iter())
                    .filter(|(_, chosen)| **chosen)
                    .map(|(phrase, _)| phrase.get(lang))
                    .collect()
            })
            .unwrap_or_default();
        kiosk.set_what(what.join(wording::phrase_separator(lang)).into());
        kiosk.set_where(
            journey
                .location
                .as_deref()
                .unwrap_or(wording::not_said(lang))
                .into(),
        );
        kiosk.set_contact(if journey.phone_given {
            journey.phone.as_str().into()
        } else {
            wording::anonymous(lang).into()
        });
        kiosk.set_problem(journey.problem.as_deref().unwrap_or("").into());

        let filed = journey.filed.as_ref();
        kiosk.set_ticket(filed.map(|c| c.ticket.as_str()).unwrap_or("").into());
        kiosk.set_promise(
            filed
                .map(|c| promise_line(c.details.colour, c.details.due_date, config, lang))
                .unwrap_or_default()
                .into(),
        );
        let printer = *inner.printer.borrow();
        kiosk.set_printer_fault(printer.is_some_and(|status| !status.can_print()));

        kiosk.set_pin_dots("●".repeat(journey.pin.chars().count()).into());
        kiosk.set_pin_complete(journey.pin.len() >= MIN_PIN_DIGITS);
        kiosk.set_staff_message(journey.staff_message.as_str().into());
        kiosk.set_printer_status(wording::printer_line(printer, lang).into());
        if journey.screen == ScreenState::StaffMenu {
            let upload = match inner.store.borrow().upload_status() {
                Ok(status) => wording::upload_line(&status, lang),
                Err(e) => e.to_string(),
            };
            kiosk.set_upload_status(upload.into());
        }
        kiosk.set_reprint_keypad(journey.reprint_keypad);
        kiosk.set_reprint_ticket(self.reprint_ticket(&journey.reprint).into());
        kiosk.set_reprint_complete(journey.reprint.len() == TICKET_DIGITS);

        kiosk.set_idle_warning(journey.idle_warning);
        kiosk.set_idle_seconds_left(i32::try_from(journey.idle_seconds_left).unwrap_or(0));
    }
}
