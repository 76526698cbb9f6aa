//! The view's callbacks wired to the controller. Every callback is a tap, so each first tells
//! the idle timer the resident is still there (and stops what was being said); the keypads'
//! digits and deletes are plain edits of the journey, the rest are the controller's actions.

use slint::{ComponentHandle, SharedString};

use super::Controller;
use super::journey::{
    Journey, Keypad, MAX_ADDRESS_DIGITS, MAX_CHECK_TICKET_DIGITS, MAX_PHONE_DIGITS, MAX_PIN_DIGITS,
    TICKET_DIGITS, push_digit,
};
use crate::concern::CHECK_CODE_DIGITS;
use crate::speech::Prompt;
use crate::ui::{AppWindow, Kiosk, Screen};

impl Controller {
    /// Before a tap's own action: what was being said stops, and the resident is still there.
    fn tap_begins(&self) {
        self.inner.voice.borrow().stop();
        self.touched();
    }

    pub(super) fn connect(&self, window: &AppWindow) {
        let kiosk = window.global::<Kiosk>();
        let on = |action: fn(&Controller)| {
            let weak = self.downgrade();
            move || {
                weak.with(|c| {
                    c.tap_begins();
                    action(c);
                });
            }
        };
        let on_index = |action: fn(&Controller, usize)| {
            let weak = self.downgrade();
            move |index: i32| {
                if let Ok(index) = usize::try_from(index) {
                    weak.with(|c| {
                        c.tap_begins();
                        action(c, index);
                    });
                }
            }
        };
        let on_edit = |change: fn(&mut Journey)| {
            let weak = self.downgrade();
            move || {
                weak.with(|c| {
                    c.tap_begins();
                    c.edit(change);
                });
            }
        };
        // A resident's keypad says each digit as it is typed (never the staff's: a PIN said
        // aloud is no PIN).
        let on_keypad = |type_digit: fn(&mut Journey, &str), aloud: bool| {
            let weak = self.downgrade();
            move |digit: SharedString| {
                weak.with(|c| {
                    c.tap_begins();
                    c.edit(|j| type_digit(j, digit.as_str()));
                    if aloud {
                        c.say_tapped(Prompt::Tapped {
                            label: digit.to_string(),
                        });
                    }
                });
            }
        };
        let on_digit = |type_digit| on_keypad(type_digit, false);
        let on_spoken_digit = |type_digit| on_keypad(type_digit, true);

        // A tap anywhere on Done means "I have my number": back to Home at once.
        kiosk.on_touched(on(|c| {
            if c.screen() == Screen::Done {
                c.reset_to_home();
            }
        }));
        kiosk.on_toggle_language(on(Controller::toggle_language));
        kiosk.on_back(on(Controller::back));
        kiosk.on_more_time(on(|_| {}));
        kiosk.on_read_aloud(on(Controller::read_aloud));

        kiosk.on_start_report(on(|c| c.go(Screen::Category)));
        kiosk.on_choose_category(on_index(Controller::choose_category));
        kiosk.on_emergency_continue(on(|c| c.go(Screen::Details)));
        kiosk.on_toggle_phrase(on_index(Controller::toggle_phrase));
        kiosk.on_details_next(on(|c| c.go(Screen::Place)));
        kiosk.on_submit_now(on(Controller::submit_now));

        kiosk.on_open_writing(on(Controller::open_writing));
        let weak = self.downgrade();
        kiosk.on_pad_down(move |x, y, side| {
            weak.with(|c| {
                c.tap_begins();
                c.pad_down(x, y, side);
            });
        });
        // Not a tap: a finger moving on the pad only draws.
        let weak = self.downgrade();
        kiosk.on_pad_move(move |x, y| weak.with(|c| c.pad_move(x, y)));
        kiosk.on_pad_up(on(Controller::pad_up));
        kiosk.on_choose_candidate(on_index(Controller::choose_candidate));
        let on_text = |action: fn(&Controller, &str)| {
            let weak = self.downgrade();
            move |text: SharedString| {
                weak.with(|c| {
                    c.tap_begins();
                    action(c, text.as_str());
                });
            }
        };
        kiosk.on_writing_punctuation(on_text(Controller::add_mark));
        kiosk.on_writing_key(on_text(Controller::writing_key));
        kiosk.on_writing_delete(on(Controller::writing_delete));
        kiosk.on_writing_clear_pad(on_edit(|j| j.writing.clear_pad()));
        let weak = self.downgrade();
        kiosk.on_writing_tab(move |keyboard| {
            weak.with(|c| {
                c.tap_begins();
                c.writing_tab(keyboard);
            });
        });
        kiosk.on_writing_done(on(|c| c.go(Screen::Details)));

        kiosk.on_open_address_keypad(on_edit(|j| j.keypad = Some(Keypad::Address)));
        kiosk.on_place_digit(on_spoken_digit(|j, d| {
            push_digit(j.address_field(), d, MAX_ADDRESS_DIGITS);
        }));
        kiosk.on_place_delete(on_edit(|j| {
            j.address_field().pop();
        }));
        kiosk.on_edit_building(on_edit(|j| j.typing_unit = false));
        kiosk.on_edit_unit(on_edit(|j| j.typing_unit = true));
        kiosk.on_choose_place(on_index(Controller::choose_place));
        kiosk.on_place_done(on(Controller::address_done));
        kiosk.on_place_skip(on(|c| {
            c.edit(|j| j.location = None);
            c.go(Screen::Contact);
        }));

        kiosk.on_open_phone_keypad(on_edit(|j| j.keypad = Some(Keypad::Phone)));
        kiosk.on_phone_digit(on_spoken_digit(|j, d| {
            push_digit(&mut j.phone, d, MAX_PHONE_DIGITS)
        }));
        kiosk.on_phone_delete(on_edit(|j| {
            j.phone.pop();
        }));
        kiosk.on_stay_anonymous(on(|c| {
            c.edit(|j| {
                j.phone.clear();
                j.phone_given = false;
            });
            c.go(Screen::Confirm);
        }));
        kiosk.on_phone_done(on(|c| {
            c.edit(|j| j.phone_given = true);
            c.go(Screen::Confirm);
        }));

        kiosk.on_submit(on(Controller::submit));
        kiosk.on_change(on(|c| c.go(Screen::Details)));
        kiosk.on_finish(on(Controller::reset_to_home));

        kiosk.on_open_staff(on(|c| {
            c.edit(|j| {
                j.pin.clear();
                j.staff_message.clear();
            });
            c.go(Screen::StaffPin);
        }));
        kiosk.on_pin_digit(on_digit(|j, d| push_digit(&mut j.pin, d, MAX_PIN_DIGITS)));
        kiosk.on_pin_delete(on_edit(|j| {
            j.pin.pop();
        }));
        kiosk.on_pin_enter(on(Controller::enter_pin));
        kiosk.on_staff_test_print(on(Controller::test_print));
        kiosk.on_staff_print_summary(on(Controller::print_summary));
        kiosk.on_staff_open_reprint(on(Controller::open_reprint));
        kiosk.on_reprint_digit(on_digit(|j, d| {
            push_digit(&mut j.reprint, d, TICKET_DIGITS)
        }));
        kiosk.on_reprint_delete(on_edit(|j| {
            j.reprint.pop();
        }));
        kiosk.on_staff_reprint(on(Controller::reprint));
        kiosk.on_staff_upload_now(on(Controller::upload_now));
        kiosk.on_staff_volume_down(on(|c| c.change_volume(-1)));
        kiosk.on_staff_volume_up(on(|c| c.change_volume(1)));

        kiosk.on_open_check(on(Controller::open_check));
        kiosk.on_check_digit(on_spoken_digit(|j, d| {
            push_digit(&mut j.check_ticket, d, MAX_CHECK_TICKET_DIGITS)
        }));
        kiosk.on_check_delete(on_edit(|j| {
            j.check_ticket.pop();
        }));
        kiosk.on_look_up(on(Controller::look_up));
        kiosk.on_open_check_code(on(Controller::open_check_code));
        kiosk.on_code_digit(on_spoken_digit(|j, d| {
            push_digit(&mut j.check_code, d, CHECK_CODE_DIGITS)
        }));
        kiosk.on_code_delete(on_edit(|j| {
            j.check_code.pop();
        }));
        kiosk.on_code_enter(on(Controller::enter_code));
        kiosk.on_open_rating(on(Controller::open_rating));
        kiosk.on_rate(on_index(Controller::rate));
        kiosk.on_print_status(on(Controller::print_status));
        // Not a tap: the controller says whether it took the key, and a whole scan counts as
        // the resident being there.
        let weak = self.downgrade();
        kiosk.on_scanner_key(move |text| {
            let mut taken = false;
            weak.with(|c| taken = c.scanner_key(text.as_str()));
            taken
        });
    }
}
