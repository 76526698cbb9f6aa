//! What the kiosk says, and when: each resident screen's prompt as it appears, the label of
//! what was tapped, the screen again on "Read it to me", and nothing by itself in the quiet
//! hours. Home is said only when asked (it is what an empty hall sees), and a returning Home
//! starts the next resident at the configured volume. The speaking itself is `speech`'s.

use chrono::NaiveTime;

use super::journey::{Keypad, Lookup};
use super::view::Scene;
use crate::concern::Lang;
use crate::config::{DailyWindow, SPEECH_VOLUME_PERCENT};
use crate::printer::case_report;
use crate::speech::{CheckTrouble, Prompt, Speaker};
use crate::ui::{CheckNotice, Screen};

/// Steps of the staff menu's volume buttons: five steps from the default to full or half.
const VOLUME_STEP: u8 = 10;

/// The speaker, if the kiosk can speak, and what it last said for the screen.
#[derive(Default)]
pub(super) struct Voice {
    speaker: Option<Speaker>,
    quiet_hours: Option<DailyWindow>,
    /// The prompt of the screen as last shown (said, or passed over in the quiet hours), in
    /// its language: a redraw that changes neither says nothing.
    heard: Option<(Lang, Prompt)>,
}

impl Voice {
    pub(super) fn new(speaker: Option<Speaker>, quiet_hours: Option<DailyWindow>) -> Voice {
        Voice {
            speaker,
            quiet_hours,
            heard: None,
        }
    }

    pub(super) fn can_speak(&self) -> bool {
        self.speaker.is_some()
    }

    fn quiet_at(&self, time: NaiveTime) -> bool {
        self.quiet_hours.is_some_and(|quiet| quiet.contains(time))
    }

    /// The screen is drawn with `prompt` (None: a screen that says nothing, the staff's):
    /// said if it is new, unless it is quiet time.
    pub(super) fn shown(&mut self, lang: Lang, prompt: Option<Prompt>, time: NaiveTime) {
        let Some(speaker) = &self.speaker else {
            return;
        };
        let same = match (&self.heard, &prompt) {
            (Some((heard_lang, heard)), Some(prompt)) => {
                *heard_lang == lang && same_screen(heard, prompt)
            }
            (None, None) => true,
            _ => false,
        };
        if same {
            return;
        }
        match &prompt {
            Some(prompt) if !self.quiet_at(time) => speaker.say(prompt.text(lang), lang),
            _ => speaker.stop(),
        }
        self.heard = prompt.map(|prompt| (lang, prompt));
    }

    /// The screen shows `prompt`, which is not to be said (Home, after a resident).
    pub(super) fn pass_over(&mut self, lang: Lang, prompt: Prompt) {
        self.heard = Some((lang, prompt));
    }

    /// "Read it to me": the screen's prompt again, in quiet hours too (it was asked for).
    pub(super) fn repeat(&self, lang: Lang, prompt: Option<Prompt>) {
        if let (Some(speaker), Some(prompt)) = (&self.speaker, prompt) {
            speaker.say(prompt.text(lang), lang);
        }
    }

    /// A resident tapped something that stays on the screen: what it was is said.
    pub(super) fn tapped(&self, prompt: Prompt, lang: Lang, time: NaiveTime) {
        if let Some(speaker) = self.speaker.as_ref().filter(|_| !self.quiet_at(time)) {
            speaker.say(prompt.text(lang), lang);
        }
    }

    /// A tap: whatever was being said stops.
    pub(super) fn stop(&self) {
        if let Some(speaker) = &self.speaker {
            speaker.stop();
        }
    }

    /// The next resident: nothing of the last one is said, at the configured volume.
    pub(super) fn new_resident(&self) {
        if let Some(speaker) = &self.speaker {
            speaker.new_resident();
        }
    }

    /// The staff menu's volume, `steps` of [`VOLUME_STEP`] up or down, said at the new level.
    pub(super) fn change_volume(&self, steps: i8, lang: Lang) -> Option<u8> {
        let speaker = self.speaker.as_ref()?;
        // The staff menu stays inside what the config may set: below its floor nobody hears
        // the kiosk across a hall.
        let (quietest, loudest) = (*SPEECH_VOLUME_PERCENT.start(), *SPEECH_VOLUME_PERCENT.end());
        let change = i64::from(steps) * i64::from(VOLUME_STEP);
        let wanted =
            (i64::from(speaker.volume()) + change).clamp(i64::from(quietest), i64::from(loudest));
        let percent = u8::try_from(wanted).unwrap_or(100);
        speaker.set_volume(percent);
        speaker.say(Prompt::Volume { percent }.text(lang), lang);
        Some(percent)
    }

    pub(super) fn volume(&self) -> Option<u8> {
        self.speaker.as_ref().map(Speaker::volume)
    }
}

/// Whether two prompts are the same screen as it stands: the idle warning's countdown ticks
/// without being said again.
fn same_screen(a: &Prompt, b: &Prompt) -> bool {
    matches!(
        (a, b),
        (Prompt::IdleWarning { .. }, Prompt::IdleWarning { .. })
    ) || a == b
}

/// What the screen of `scene` says: the idle warning over any screen, a Check screen's trouble
/// in place of its prompt, nothing on the staff's screens.
pub(super) fn prompt(scene: &Scene) -> Option<Prompt> {
    let Scene {
        config,
        lang,
        now,
        journey: j,
        printer,
        ..
    } = *scene;
    if j.idle_warning {
        return Some(Prompt::IdleWarning {
            seconds_left: j.idle_seconds_left,
        });
    }
    let category = || {
        j.category
            .and_then(|i| config.categories.get(i))
            .map(|c| c.label.get(lang).to_string())
            .unwrap_or_default()
    };
    let trouble = trouble(j.check_notice);
    Some(match j.screen {
        Screen::Home | Screen::Check | Screen::CheckCode if trouble.is_some() => {
            Prompt::CheckTrouble(trouble?)
        }
        Screen::Home => Prompt::Home,
        Screen::Category => Prompt::Category,
        Screen::Emergency => Prompt::Emergency,
        Screen::Details => Prompt::Details {
            category: category(),
        },
        Screen::Place if j.keypad == Some(Keypad::Address) => Prompt::Address,
        Screen::Place => Prompt::Place,
        Screen::Contact if j.keypad == Some(Keypad::Phone) => Prompt::Phone,
        Screen::Contact => Prompt::Contact,
        Screen::Confirm => Prompt::Confirm {
            category: category(),
            what: j.what(config, lang),
            words: (!j.text.is_empty()).then(|| j.text.clone()),
            place: j.location.clone(),
        },
        Screen::Done => {
            let filed = j.filed.as_ref()?;
            Prompt::Done {
                ticket: filed.ticket.clone(),
                colour: filed.details.colour,
                days: config.triage.days(filed.details.colour),
                due: filed.details.due_date,
                printed: printer.is_none_or(|status| status.can_print()),
            }
        }
        Screen::Check => Prompt::Check,
        Screen::CheckCode => Prompt::CheckCode,
        Screen::Result => match j.lookup.as_ref()? {
            Lookup::Found { thanked: true, .. } => Prompt::Thanked,
            Lookup::Found {
                status,
                news_at,
                unlocked,
                ..
            } => {
                let report = case_report(status, *news_at, *unlocked, now);
                Prompt::Result {
                    ticket: status.ticket.clone(),
                    state: report.progress.words().get(lang).to_string(),
                    reply: report.reply,
                    unlocked: *unlocked,
                }
            }
            Lookup::Unknown { ticket } => Prompt::NotFound {
                ticket: ticket.clone(),
                hotline: config.kiosk.hotline.clone(),
            },
        },
        Screen::Rate => Prompt::Rate,
        Screen::Writing => Prompt::Writing {
            keyboard: j.writing.keyboard,
        },
        Screen::StaffPin | Screen::StaffMenu => return None,
    })
}

fn trouble(notice: CheckNotice) -> Option<CheckTrouble> {
    match notice {
        CheckNotice::None => None,
        CheckNotice::UnreadableScan => Some(CheckTrouble::UnreadableScan),
        CheckNotice::WrongCode => Some(CheckTrouble::WrongCode),
        CheckNotice::TooManyTries => Some(CheckTrouble::TooManyTries),
        CheckNotice::Unavailable => Some(CheckTrouble::Unavailable),
    }
}
