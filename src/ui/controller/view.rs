//! The projection of the controller's state onto the Slint view: every property of the
//! `Kiosk` global set from the journey, the config and the language.

use chrono::{DateTime, FixedOffset};
use slint::{ModelRc, SharedString, VecModel};

use super::journey::{Journey, Keypad, MIN_PIN_DIGITS, TICKET_DIGITS};
use crate::concern::{Lang, normalise_phone};
use crate::config::Config;
use crate::printer::PrinterStatus;
use crate::receipt::promise_line;
use crate::ui::{Choice, Kiosk, Tile, wording};

/// What the view is drawn from.
pub(super) struct Scene<'a> {
    pub(super) config: &'a Config,
    pub(super) lang: Lang,
    pub(super) now: DateTime<FixedOffset>,
    pub(super) journey: &'a Journey,
    pub(super) printer: Option<PrinterStatus>,
}

/// Hands the whole state to the view.
pub(super) fn show(kiosk: &Kiosk, scene: &Scene) {
    let Scene {
        config,
        lang,
        journey,
        printer,
        ..
    } = *scene;
    let category = journey.category.and_then(|i| config.categories.get(i));

    kiosk.set_screen(journey.screen);
    kiosk.set_other_language(wording::other_language(lang).into());
    kiosk.set_community(config.kiosk.community.get(lang).into());
    kiosk.set_hotline(config.kiosk.hotline.as_str().into());
    kiosk.set_date_time(wording::date_time(scene.now, lang).into());
    kiosk.set_retention_days(i32::try_from(config.retention.days_after_upload).unwrap_or(i32::MAX));

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

    kiosk.set_address_keypad(journey.keypad == Some(Keypad::Address));
    kiosk.set_building(journey.building.as_str().into());
    kiosk.set_unit(journey.unit.as_str().into());
    kiosk.set_typing_unit(journey.typing_unit);
    let places: Vec<SharedString> = config
        .places
        .iter()
        .map(|p| p.label.get(lang).into())
        .collect();
    kiosk.set_places(ModelRc::new(VecModel::from(places)));

    kiosk.set_phone_keypad(journey.keypad == Some(Keypad::Phone));
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
    kiosk.set_printer_fault(printer.is_some_and(|status| !status.can_print()));

    kiosk.set_pin_dots("●".repeat(journey.pin.chars().count()).into());
    kiosk.set_pin_complete(journey.pin.len() >= MIN_PIN_DIGITS);
    kiosk.set_staff_message(journey.staff_message.as_str().into());
    kiosk.set_printer_status(wording::printer_line(printer, lang).into());
    kiosk.set_reprint_keypad(journey.keypad == Some(Keypad::Reprint));
    kiosk.set_reprint_ticket(journey.reprint_ticket(&config.kiosk.ticket_prefix).into());
    kiosk.set_reprint_complete(journey.reprint.len() == TICKET_DIGITS);

    kiosk.set_idle_warning(journey.idle_warning);
    kiosk.set_idle_seconds_left(i32::try_from(journey.idle_seconds_left).unwrap_or(0));
}

/// The date and time on Home, refreshed by the clock between taps.
pub(super) fn show_clock(kiosk: &Kiosk, scene: &Scene) {
    kiosk.set_date_time(wording::date_time(scene.now, scene.lang).into());
}
