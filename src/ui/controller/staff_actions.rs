//! The staff desk behind the PIN: checking the PIN (every attempt audited), test print, the
//! day's summary, reprint by ticket number and "upload now", each answered with a message in
//! the screen's language, the upload status the menu shows, and the speech volume.

use slint::{ComponentHandle, SharedString};
use tracing::{error, info};

use super::Controller;
use super::journey::Keypad;
use crate::store::JobKind;
use crate::summary;
use crate::ui::staff::PinOutcome;
use crate::ui::wording;
use crate::ui::{Screen, StaffWords};
use crate::upload::uploader::RoundReport;

/// Who staff actions are by, in the audit log.
const STAFF_ACTOR: &str = "staff";

impl Controller {
    /// Checks the PIN (every attempt goes into the audit log, never the PIN itself).
    pub(super) fn enter_pin(&self) {
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
            self.refresh_upload_status();
            self.go(Screen::StaffMenu);
        }
        self.staff_says(message);
    }

    pub(super) fn test_print(&self) {
        let inner = &self.inner;
        let now = inner.clock.now();
        let store = inner.store.borrow();
        let queued = store
            .enqueue_print(&JobKind::TestPage, now)
            .and_then(|_| store.audit(now, STAFF_ACTOR, "test-print", ""));
        drop(store);
        self.print_queued(queued, |w| w.invoke_test_page_queued());
    }

    pub(super) fn print_summary(&self) {
        let inner = &self.inner;
        let now = inner.clock.now();
        let queued =
            summary::queue_on_demand(&inner.store.borrow(), now.date_naive(), STAFF_ACTOR, now);
        self.print_queued(queued.map(|_| ()), |w| w.invoke_summary_queued());
    }

    /// Tells staff how queueing a print went: the printer woken and `done` said, or why not.
    fn print_queued(
        &self,
        queued: Result<(), impl ToString>,
        done: impl FnOnce(&StaffWords<'_>) -> SharedString,
    ) {
        let message = match queued {
            Ok(()) => {
                self.wake_printer();
                self.word(done)
            }
            Err(e) => e.to_string(),
        };
        self.staff_says(message);
    }

    pub(super) fn reprint(&self) {
        let inner = &self.inner;
        let ticket = inner
            .journey
            .borrow()
            .reprint_ticket(&inner.config.kiosk.ticket_prefix);
        let now = inner.clock.now();
        let queued = inner
            .store
            .borrow()
            .queue_reprint(&ticket, STAFF_ACTOR, now)
            .map(|job| job.is_some());
        let message = match queued {
            Ok(true) => {
                self.wake_printer();
                self.edit(|j| j.keypad = None);
                self.word(|w| w.invoke_receipt_queued(ticket.as_str().into()))
            }
            Ok(false) => self.word(|w| w.invoke_no_such_ticket(ticket.as_str().into())),
            Err(e) => e.to_string(),
        };
        self.staff_says(message);
    }

    /// Opens the keypad for the ticket number of a receipt to print again.
    pub(super) fn open_reprint(&self) {
        self.edit(|j| {
            j.reprint.clear();
            j.keypad = Some(Keypad::Reprint);
        });
    }

    /// Asks the uploader for a round now; the answer comes back on the UI thread.
    pub(super) fn upload_now(&self) {
        let Some(handle) = self.inner.upload.borrow().clone() else {
            return self.staff_says(self.word(|w| w.invoke_uploader_not_running()));
        };
        self.staff_says(self.word(|w| w.invoke_uploading()));
        let spawned = slint::spawn_local(async move {
            let report = handle.upload_now().await;
            Controller::with_current(|c| c.upload_finished(report));
        });
        if let Err(e) = spawned {
            self.staff_says(e.to_string());
        }
    }

    fn upload_finished(&self, report: Result<RoundReport, String>) {
        // The round changed what is waiting, whatever it came to.
        self.refresh_upload_status();
        let message = match report {
            Ok(report) if report.batches.is_empty() => self.word(|w| w.invoke_nothing_to_upload()),
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

    /// Reads the upload status the staff menu shows from the store. Only when it may have
    /// changed (the menu opens, an upload round ends, a minute passes with the menu open), not
    /// on every tap: the menu must not wait on SQLite while staff type.
    pub(super) fn refresh_upload_status(&self) {
        let status = self
            .inner
            .store
            .borrow()
            .upload_status()
            .map_err(|e| e.to_string());
        *self.inner.upload_status.borrow_mut() = Some(status);
    }

    /// One of the catalogue's messages for staff, in the language the screen shows now (the
    /// translation Slint has selected); nothing once the window is gone.
    fn word(&self, word: impl FnOnce(&StaffWords<'_>) -> SharedString) -> String {
        let Some(window) = self.inner.window.upgrade() else {
            return String::new();
        };
        word(&window.global::<StaffWords>()).into()
    }

    /// The voice's level for the resident at the kiosk now, a step up or down, said at the new
    /// level so staff hear what the resident will.
    pub(super) fn change_volume(&self, steps: i8) {
        let Some(percent) = self.inner.voice.borrow().change_volume(steps, self.lang()) else {
            return;
        };
        info!(percent, "staff set the speech volume for this resident");
        self.show_volume();
    }

    fn staff_says(&self, message: String) {
        self.edit(|j| j.staff_message = message);
    }
}
