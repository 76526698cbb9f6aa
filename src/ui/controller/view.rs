//! The projection of the controller's state onto the Slint view. The screen is drawn in parts,
//! each from a few inputs, and each part remembers the inputs it last showed: a tap sets only
//! the properties of the parts it changed, and the tiles' models change row by row rather than
//! being replaced (a new model makes Slint rebuild every tile).

use std::rc::Rc;

use chrono::{DateTime, FixedOffset};
use slint::{ComponentHandle, Model, ModelRc, SharedString, VecModel};

use super::journey::{
    Journey, Keypad, Lookup, MIN_CHECK_TICKET_DIGITS, MIN_PIN_DIGITS, TICKET_DIGITS, typed_ticket,
};
use crate::concern::{CHECK_CODE_DIGITS, Concern, Lang, Rating, normalise_phone};
use crate::config::Config;
use crate::input_method::Ink;
use crate::paper;
use crate::printer::{PrinterStatus, case_report};
use crate::receipt::{promise_line, updated_line};
use crate::store::UploadStatus;
use crate::ui::{AppWindow, Choice, Kiosk, Screen, Tile, wording};

/// What the view is drawn from.
pub(super) struct Scene<'a> {
    pub(super) config: &'a Config,
    pub(super) lang: Lang,
    pub(super) now: DateTime<FixedOffset>,
    pub(super) journey: &'a Journey,
    pub(super) printer: Option<PrinterStatus>,
    /// The upload status as last read for the staff menu; None until the menu first opens.
    pub(super) upload: Option<&'a Result<UploadStatus, String>>,
}

/// What Confirm's read-back is drawn from: the language, the place, whether a phone number
/// was given and which, and why filing failed.
type ReadBack = (Lang, Option<String>, bool, String, Option<String>);

/// What Check my concern is drawn from: the language, the day (the state's words depend on
/// it), the ticket and the check code typed, the notice, and what the lookup found.
type CheckInputs = (
    Lang,
    chrono::NaiveDate,
    String,
    String,
    crate::ui::CheckNotice,
    Option<Lookup>,
);

/// The view's models (kept, so their rows can change in place) and the inputs each part of
/// the screen was last drawn from.
pub(super) struct View {
    categories: Rc<VecModel<Tile>>,
    phrases: Rc<VecModel<Choice>>,
    places: Rc<VecModel<SharedString>>,
    faces: Rc<VecModel<SharedString>>,
    candidates: Rc<VecModel<SharedString>>,
    punctuation: Rc<VecModel<SharedString>>,
    screen: Drawn<Screen>,
    language: Drawn<Lang>,
    clock: Drawn<String>,
    category: Drawn<(Lang, Option<usize>, Vec<bool>)>,
    address: Drawn<(bool, String, String, bool)>,
    phone: Drawn<(bool, String)>,
    read_back: Drawn<ReadBack>,
    done: Drawn<(Lang, Option<Concern>)>,
    printer: Drawn<(Lang, Option<PrinterStatus>)>,
    pin: Drawn<String>,
    staff_message: Drawn<String>,
    upload: Drawn<(Lang, Result<UploadStatus, String>)>,
    reprint: Drawn<(bool, String)>,
    check: Drawn<CheckInputs>,
    idle: Drawn<(bool, u32)>,
    words: Drawn<(Lang, Option<usize>, Vec<bool>, String)>,
    writing: Drawn<WritingInputs>,
    ink: Drawn<u64>,
}

/// What the writing screen is drawn from, but the ink: the language, the tab, the pinyin
/// typed, and the characters or words to choose from.
type WritingInputs = (Lang, bool, String, Vec<String>);

impl View {
    /// Gives `window` the models once and shows what never changes while the kiosk runs.
    pub(super) fn new(window: &AppWindow, config: &Config) -> View {
        let kiosk = window.global::<Kiosk>();
        let view = View {
            categories: Rc::new(VecModel::default()),
            phrases: Rc::new(VecModel::default()),
            places: Rc::new(VecModel::default()),
            faces: Rc::new(VecModel::default()),
            candidates: Rc::new(VecModel::default()),
            punctuation: Rc::new(VecModel::default()),
            screen: Drawn::default(),
            language: Drawn::default(),
            clock: Drawn::default(),
            category: Drawn::default(),
            address: Drawn::default(),
            phone: Drawn::default(),
            read_back: Drawn::default(),
            done: Drawn::default(),
            printer: Drawn::default(),
            pin: Drawn::default(),
            staff_message: Drawn::default(),
            upload: Drawn::default(),
            reprint: Drawn::default(),
            check: Drawn::default(),
            idle: Drawn::default(),
            words: Drawn::default(),
            writing: Drawn::default(),
            ink: Drawn::default(),
        };
        kiosk.set_categories(ModelRc::from(Rc::clone(&view.categories)));
        kiosk.set_phrases(ModelRc::from(Rc::clone(&view.phrases)));
        kiosk.set_places(ModelRc::from(Rc::clone(&view.places)));
        kiosk.set_rating_faces(ModelRc::from(Rc::clone(&view.faces)));
        kiosk.set_candidates(ModelRc::from(Rc::clone(&view.candidates)));
        kiosk.set_punctuation(ModelRc::from(Rc::clone(&view.punctuation)));
        kiosk.set_hotline(config.kiosk.hotline.as_str().into());
        kiosk.set_retention_days(
            i32::try_from(config.retention.days_after_upload).unwrap_or(i32::MAX),
        );
        view
    }

    /// Brings every part of the screen up to `scene`, setting only what changed.
    pub(super) fn draw(&mut self, kiosk: &Kiosk, scene: &Scene) {
        let Scene {
            config,
            lang,
            journey,
            printer,
            ..
        } = *scene;
        self.screen
            .update(journey.screen, || kiosk.set_screen(journey.screen));
        self.language.update(lang, || {
            kiosk.set_other_language(wording::other_language(lang).into());
            kiosk.set_community(config.kiosk.community.get(lang).into());
            sync(
                &self.categories,
                config.categories.iter().map(|c| Tile {
                    label: c.label.get(lang).into(),
                    icon: c.icon.as_str().into(),
                }),
            );
            sync(
                &self.places,
                config.places.iter().map(|p| p.label.get(lang).into()),
            );
            sync(
                &self.faces,
                Rating::ALL
                    .into_iter()
                    .map(|r| r.label().get(lang).to_string().into()),
            );
        });
        self.draw_clock(kiosk, scene);
        self.draw_category(kiosk, scene);
        self.draw_journey(kiosk, scene);
        self.printer.update((lang, printer), || {
            kiosk.set_printer_fault(printer.is_some_and(|status| !status.can_print()));
            kiosk.set_printer_status(wording::printer_line(printer, lang).into());
        });
        self.draw_staff(kiosk, scene);
        self.draw_check(kiosk, scene);
        self.draw_writing(kiosk, scene);
        self.idle
            .update((journey.idle_warning, journey.idle_seconds_left), || {
                kiosk.set_idle_warning(journey.idle_warning);
                kiosk.set_idle_seconds_left(i32::try_from(journey.idle_seconds_left).unwrap_or(0));
            });
    }

    /// The date and time on Home; true when the text changed (a new minute, or a language).
    pub(super) fn draw_clock(&mut self, kiosk: &Kiosk, scene: &Scene) -> bool {
        let text = wording::date_time(scene.now, scene.lang);
        let mut changed = false;
        self.clock.update(text.clone(), || {
            kiosk.set_date_time(text.into());
            changed = true;
        });
        changed
    }

    /// The chosen category: its name, its emergency notice, its phrases and what they say.
    fn draw_category(&mut self, kiosk: &Kiosk, scene: &Scene) {
        let Scene {
            config,
            lang,
            journey,
            ..
        } = *scene;
        let inputs = (lang, journey.category, journey.chosen.clone());
        self.category.update(inputs, || {
            let category = journey.category.and_then(|i| config.categories.get(i));
            kiosk.set_category_label(category.map(|c| c.label.get(lang)).unwrap_or("").into());
            kiosk.set_emergency_notice(
                category
                    .and_then(|c| c.emergency_notice.as_ref())
                    .map(|n| n.get(lang))
                    .unwrap_or("")
                    .into(),
            );
            let phrases = category.map(|c| c.phrases.as_slice()).unwrap_or_default();
            sync(
                &self.phrases,
                phrases
                    .iter()
                    .zip(&journey.chosen)
                    .map(|(phrase, chosen)| Choice {
                        label: phrase.get(lang).into(),
                        checked: *chosen,
                    }),
            );
            kiosk.set_any_phrase(journey.chosen.iter().any(|c| *c));
        });
    }

    /// Where, Contact and Confirm's read-back.
    fn draw_journey(&mut self, kiosk: &Kiosk, scene: &Scene) {
        let Scene { lang, journey, .. } = *scene;
        let j = journey;
        let address_keypad = j.keypad == Some(Keypad::Address);
        let inputs = (
            address_keypad,
            j.building.clone(),
            j.unit.clone(),
            j.typing_unit,
        );
        self.address.update(inputs, || {
            kiosk.set_address_keypad(address_keypad);
            kiosk.set_building(j.building.as_str().into());
            kiosk.set_unit(j.unit.as_str().into());
            kiosk.set_typing_unit(j.typing_unit);
        });
        let phone_keypad = j.keypad == Some(Keypad::Phone);
        self.phone.update((phone_keypad, j.phone.clone()), || {
            kiosk.set_phone_keypad(phone_keypad);
            kiosk.set_phone(j.phone.as_str().into());
            kiosk.set_phone_complete(normalise_phone(&j.phone).is_some());
        });
        let inputs = (
            lang,
            j.location.clone(),
            j.phone_given,
            j.phone.clone(),
            j.problem.clone(),
        );
        self.read_back.update(inputs, || {
            let place = j.location.as_deref().unwrap_or(wording::not_said(lang));
            kiosk.set_where(place.into());
            kiosk.set_contact(if j.phone_given {
                j.phone.as_str().into()
            } else {
                wording::anonymous(lang).into()
            });
            kiosk.set_problem(j.problem.as_deref().unwrap_or("").into());
        });
        self.done.update((lang, j.filed.clone()), || {
            let filed = j.filed.as_ref();
            kiosk.set_ticket(filed.map(|c| c.ticket.as_str()).unwrap_or("").into());
            let promise = filed
                .map(|c| promise_line(c.details.colour, c.details.due_date, scene.config, lang));
            kiosk.set_promise(promise.unwrap_or_default().into());
        });
    }

    /// The PIN pad and the staff menu.
    fn draw_staff(&mut self, kiosk: &Kiosk, scene: &Scene) {
        let Scene {
            config,
            lang,
            journey: j,
            ..
        } = *scene;
        self.pin.update(j.pin.clone(), || {
            kiosk.set_pin_dots("●".repeat(j.pin.chars().count()).into());
            kiosk.set_pin_complete(j.pin.len() >= MIN_PIN_DIGITS);
        });
        self.staff_message.update(j.staff_message.clone(), || {
            kiosk.set_staff_message(j.staff_message.as_str().into());
        });
        if let Some(status) = scene.upload {
            self.upload.update((lang, status.clone()), || {
                let line = match status {
                    Ok(status) => wording::upload_line(status, lang),
                    Err(e) => e.clone(),
                };
                kiosk.set_upload_status(line.into());
            });
        }
        let reprint_keypad = j.keypad == Some(Keypad::Reprint);
        self.reprint
            .update((reprint_keypad, j.reprint.clone()), || {
                kiosk.set_reprint_keypad(reprint_keypad);
                kiosk.set_reprint_ticket(j.reprint_ticket(&config.kiosk.ticket_prefix).into());
                kiosk.set_reprint_complete(j.reprint.len() == TICKET_DIGITS);
            });
    }
}

impl View {
    /// The resident's own words (Details, the writing screen, Confirm) and the writing
    /// screen's tab, candidates and ink.
    fn draw_writing(&mut self, kiosk: &Kiosk, scene: &Scene) {
        let Scene {
            config,
            lang,
            journey: j,
            ..
        } = *scene;
        let w = &j.writing;
        let inputs = (lang, j.category, j.chosen.clone(), j.text.clone());
        self.words.update(inputs, || {
            kiosk.set_free_text(j.text.as_str().into());
            kiosk.set_free_text_shown(wording::written_tail(&j.text).into());
            kiosk.set_unprintable(wording::character_list(&unprintable(scene), lang).into());
            kiosk.set_says_something(j.says_something());
            let what = j.what(config, lang);
            kiosk.set_what(wording::what_and_words(&what, &j.text, lang).into());
        });
        let shown: Vec<String> = if w.keyboard {
            w.words.iter().map(|word| word.text.clone()).collect()
        } else {
            w.candidates.clone()
        };
        let inputs = (
            lang,
            w.keyboard,
            w.pinyin.typed().to_string(),
            shown.clone(),
        );
        self.writing.update(inputs, || {
            kiosk.set_writing_keyboard(w.keyboard);
            kiosk.set_keyboard_composes(lang == Lang::ZhCn);
            kiosk.set_keyboard_name(wording::keyboard_name(lang).into());
            kiosk.set_pinyin_typed(w.pinyin.typed().into());
            sync(&self.candidates, shown.into_iter().map(SharedString::from));
            sync(
                &self.punctuation,
                wording::punctuation(lang)
                    .into_iter()
                    .map(SharedString::from),
            );
        });
        self.draw_ink(kiosk, scene);
    }

    /// The ink on the pad: the finished strokes, and the one the finger is drawing.
    pub(super) fn draw_ink(&mut self, kiosk: &Kiosk, scene: &Scene) {
        let w = &scene.journey.writing;
        self.ink.update(w.ink_changes, || {
            let strokes = w.ink.as_ref().map(|ink| ink.strokes()).unwrap_or_default();
            let drawing = w.ink.as_ref().is_some_and(Ink::is_drawing);
            let (done, now) = match (drawing, strokes.split_last()) {
                (true, Some((now, done))) => (done, std::slice::from_ref(now)),
                _ => (strokes, &[][..]),
            };
            if let Some(ink) = &w.ink {
                kiosk.set_ink_side(ink.width() as f32);
            }
            kiosk.set_ink_done(svg_path(done).into());
            kiosk.set_ink_now(svg_path(now).into());
        });
    }

    /// Check my concern: the number and code typed, and what the office said of the case.
    fn draw_check(&mut self, kiosk: &Kiosk, scene: &Scene) {
        let Scene {
            config,
            lang,
            now,
            journey: j,
            ..
        } = *scene;
        let inputs = (
            lang,
            now.date_naive(),
            j.check_ticket.clone(),
            j.check_code.clone(),
            j.check_notice,
            j.lookup.clone(),
        );
        self.check.update(inputs, || {
            kiosk.set_check_ticket(
                typed_ticket(&config.kiosk.ticket_prefix, &j.check_ticket).into(),
            );
            kiosk.set_check_ticket_complete(j.check_ticket.len() >= MIN_CHECK_TICKET_DIGITS);
            kiosk.set_check_code(j.check_code.as_str().into());
            kiosk.set_check_code_complete(j.check_code.len() == CHECK_CODE_DIGITS);
            kiosk.set_check_notice(j.check_notice);
            let (ticket, found) = match &j.lookup {
                Some(Lookup::Found {
                    status,
                    news_at,
                    unlocked,
                    thanked,
                    printed,
                }) => {
                    let report = case_report(status, *news_at, *unlocked, now);
                    let promise = promise_line(report.colour, report.promised_by, config, lang);
                    kiosk.set_result_state(report.progress.words().get(lang).into());
                    kiosk.set_result_about(
                        wording::about_case(report.category.get(lang), &promise, lang).into(),
                    );
                    kiosk.set_result_updated(
                        report
                            .updated_at
                            .map(|at| updated_line(at, now.date_naive(), lang))
                            .unwrap_or_default()
                            .into(),
                    );
                    kiosk.set_result_reply(report.reply.unwrap_or_default().into());
                    kiosk.set_result_unlocked(*unlocked);
                    kiosk.set_result_may_rate(*unlocked && status.may_be_rated());
                    let rating = status
                        .rating
                        .filter(|_| *unlocked)
                        .map(|r| wording::rating_line(r, *thanked, lang));
                    kiosk.set_result_rating(rating.unwrap_or_default().into());
                    kiosk.set_result_printed(*printed);
                    (status.ticket.as_str(), true)
                }
                Some(Lookup::Unknown { ticket }) => (ticket.as_str(), false),
                None => ("", false),
            };
            kiosk.set_result_ticket(ticket.into());
            kiosk.set_result_found(found);
        });
    }
}

/// The characters of the resident's words that the kiosk's printer cannot print.
pub(super) fn unprintable(scene: &Scene) -> Vec<char> {
    paper::unprintable(&scene.journey.text, scene.config.printer.mode)
}

/// Strokes as SVG path commands: each a move to its first point and lines through the rest.
fn svg_path(strokes: &[Vec<(i32, i32)>]) -> String {
    let mut path = String::new();
    for stroke in strokes {
        for (index, (x, y)) in stroke.iter().enumerate() {
            let command = if index == 0 { 'M' } else { 'L' };
            path.push_str(&format!("{command}{x} {y} "));
        }
    }
    path.trim_end().to_string()
}

/// The inputs one part of the screen was last drawn from.
struct Drawn<K>(Option<K>);

impl<K> Default for Drawn<K> {
    fn default() -> Self {
        Drawn(None)
    }
}

impl<K: PartialEq> Drawn<K> {
    /// Draws the part with `draw` unless it already shows `inputs`.
    fn update(&mut self, inputs: K, draw: impl FnOnce()) {
        if self.0.as_ref() != Some(&inputs) {
            draw();
            self.0 = Some(inputs);
        }
    }
}

/// Makes `model` hold `rows`, setting only the rows that differ.
fn sync<T: Clone + PartialEq + 'static>(model: &VecModel<T>, rows: impl Iterator<Item = T>) {
    let rows: Vec<T> = rows.collect();
    if rows.len() != model.row_count() {
        model.set_vec(rows);
        return;
    }
    for (index, row) in rows.into_iter().enumerate() {
        if model.row_data(index).as_ref() != Some(&row) {
            model.set_row_data(index, row);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_is_drawn_again_only_when_its_inputs_change() {
        let mut part = Drawn::default();
        let mut draws = 0;
        for inputs in ["a", "a", "b", "b", "a"] {
            part.update(inputs, || draws += 1);
        }
        assert_eq!(draws, 3);
    }

    #[test]
    fn strokes_become_one_path_of_moves_and_lines() {
        assert_eq!(svg_path(&[]), "");
        let strokes = vec![vec![(1, 2), (3, 4)], vec![(5, 6)]];
        assert_eq!(svg_path(&strokes), "M1 2 L3 4 M5 6");
    }

    #[test]
    fn a_model_is_brought_to_its_rows_in_place() {
        let model = VecModel::from(vec![1, 2, 3]);
        sync(&model, [1, 5, 3].into_iter());
        assert_eq!(model.iter().collect::<Vec<_>>(), [1, 5, 3]);
        sync(&model, [4].into_iter());
        assert_eq!(model.iter().collect::<Vec<_>>(), [4]);
    }
}
