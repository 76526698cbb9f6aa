//! The domain: languages, triage colours and their deadlines, resident drafts and the rules
//! that turn a draft into a concern, and the ticket number people read aloud.
//! Nothing here does I/O: the store gives a concern its ticket number.

use chrono::{DateTime, Datelike, Days, FixedOffset, NaiveDate, Timelike};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use uuid::Uuid;

mod catalogue;
mod progress;
mod tracking;

pub use catalogue::{Category, FilingRules, FollowUp, Place, TriageRules, Window};
pub use progress::{CaseState, Rating, ResidentProgress};
pub use tracking::{CHECK_CODE_DIGITS, CheckCode, TRACKING_CODE_CHARS, TrackingCode};

/// The most free text a resident (or staff, for them) may enter. About a receipt's worth of
/// reading at 24-dot text, and a full paragraph of spoken Chinese.
pub const MAX_TEXT_CHARS: usize = 500;
/// The most preset phrases one concern carries: more than five stops being one concern.
pub const MAX_PHRASES: usize = 5;
/// A location is a building/unit or a place name; 60 characters fit two receipt lines.
pub const MAX_LOCATION_CHARS: usize = 60;

/// The languages the kiosk speaks. Chinese first: most residents read only Chinese.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Lang {
    #[serde(rename = "zh-CN")]
    ZhCn,
    #[serde(rename = "en")]
    En,
}

impl Lang {
    /// The BCP 47 tag used in the config, the database and the upload format.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::En => "en",
        }
    }

    pub fn from_tag(tag: &str) -> Option<Lang> {
        match tag {
            "zh-CN" | "zh" => Some(Lang::ZhCn),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
}

/// A text in both kiosk languages, as the config and the database hold it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bilingual {
    pub zh: String,
    pub en: String,
}

impl Bilingual {
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::ZhCn => &self.zh,
            Lang::En => &self.en,
        }
    }
}

/// The council's triage: green settled within a week, orange within a month, red followed up
/// periodically until settled ("绿色一周、橙色一月、红色定期跟进").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Colour {
    Green,
    Orange,
    Red,
}

impl Colour {
    pub const ALL: [Colour; 3] = [Colour::Green, Colour::Orange, Colour::Red];

    pub fn code(self) -> &'static str {
        match self {
            Colour::Green => "green",
            Colour::Orange => "orange",
            Colour::Red => "red",
        }
    }

    pub fn from_code(code: &str) -> Option<Colour> {
        Colour::ALL.into_iter().find(|c| c.code() == code)
    }

    /// The date the concern is due: the answer date for green and orange, the first
    /// follow-up date for red (it has no fixed end).
    pub fn due_date(self, filed_on: NaiveDate, rules: &TriageRules) -> NaiveDate {
        filed_on
            .checked_add_days(Days::new(u64::from(rules.days(self))))
            .unwrap_or(NaiveDate::MAX)
    }
}

/// Which of the council's two lists for the property company a concern goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ListKind {
    /// 居民诉求清单: things residents want done.
    Demands,
    /// 矛盾问题清单: disputes between people.
    Conflicts,
}

impl ListKind {
    pub fn code(self) -> &'static str {
        match self {
            ListKind::Demands => "demands",
            ListKind::Conflicts => "conflicts",
        }
    }

    pub fn from_code(code: &str) -> Option<ListKind> {
        match code {
            "demands" => Some(ListKind::Demands),
            "conflicts" => Some(ListKind::Conflicts),
            _ => None,
        }
    }
}

/// What a resident has chosen so far, exactly as the touchscreen (or `submit`) hands it over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub category: String,
    /// Preset phrases, in either language's wording or as their 1-based number.
    pub phrases: Vec<String>,
    pub text: Option<String>,
    pub location: Option<String>,
    pub phone: Option<String>,
    pub lang: Lang,
}

/// Why a draft cannot be filed. Each message says what to do about it.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum DraftError {
    #[error("unknown category `{given}`; the categories are: {known}")]
    UnknownCategory { given: String, known: String },
    #[error("`{given}` is not a phrase of category `{category}`; its phrases are: {known}")]
    UnknownPhrase {
        given: String,
        category: String,
        known: String,
    },
    #[error("{given} phrases chosen; at most {MAX_PHRASES} fit one concern")]
    TooManyPhrases { given: usize },
    #[error("the text has {chars} characters; at most {MAX_TEXT_CHARS} are kept")]
    TextTooLong { chars: usize },
    #[error("the location has {chars} characters; at most {MAX_LOCATION_CHARS} are kept")]
    LocationTooLong { chars: usize },
    #[error(
        "`{given}` is not a phone number: give an 11-digit mobile (13812345678) or a landline with its area code (0571-88886666)"
    )]
    BadPhone { given: String },
    #[error("the concern says nothing: choose at least one phrase or write a text")]
    Empty,
}

/// A validated concern that has not been given its ticket number yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewConcern {
    pub id: Uuid,
    pub created_at: DateTime<FixedOffset>,
    pub category: String,
    pub category_label: Bilingual,
    pub list: ListKind,
    pub colour: Colour,
    /// Green/orange: the promised answer date. Red: the next follow-up date.
    pub due_date: NaiveDate,
    pub lang: Lang,
    pub phrases: Vec<Bilingual>,
    pub text: Option<String>,
    pub location: Option<String>,
    pub phone: Option<String>,
    /// What lets the resident read the office's answer; `None` for concerns filed before
    /// kiosks gave them out.
    pub codes: Option<ResidentCodes>,
}

/// A concern's two secrets, given at filing: the QR code's tracking code and the check code
/// printed beside the ticket number. Never derived from the ticket, which is sequential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResidentCodes {
    pub tracking: TrackingCode,
    pub check: CheckCode,
}

impl ResidentCodes {
    pub fn random() -> ResidentCodes {
        ResidentCodes {
            tracking: TrackingCode::random(),
            check: CheckCode::random(),
        }
    }
}

/// A filed concern: committed to the store with its ticket number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Concern {
    pub ticket: String,
    #[serde(flatten)]
    pub details: NewConcern,
}

impl Draft {
    /// A draft of one preset phrase and nothing else: the touchscreen's quickest path
    /// (category, phrase, submit), anonymous and with no place.
    pub fn preset(category: &str, phrase: &str, lang: Lang) -> Draft {
        Draft {
            category: category.to_string(),
            phrases: vec![phrase.to_string()],
            text: None,
            location: None,
            phone: None,
            lang,
        }
    }

    /// Checks the draft against the filing rules (the config) and the limits, cleans every user text, and gives
    /// it an id, the filing time and its triage. `now` is the kiosk's local time.
    pub fn validate(
        &self,
        rules: &impl FilingRules,
        now: DateTime<FixedOffset>,
    ) -> Result<NewConcern, DraftError> {
        let category =
            rules
                .category(&self.category)
                .ok_or_else(|| DraftError::UnknownCategory {
                    given: self.category.clone(),
                    known: rules
                        .categories()
                        .iter()
                        .map(|c| c.code.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                })?;
        if self.phrases.len() > MAX_PHRASES {
            return Err(DraftError::TooManyPhrases {
                given: self.phrases.len(),
            });
        }
        let mut phrases: Vec<Bilingual> = Vec::new();
        for given in &self.phrases {
            let phrase = find_phrase(category, given)?;
            if !phrases.contains(phrase) {
                phrases.push(phrase.clone());
            }
        }
        let text = non_empty(clean_user_text(self.text.as_deref().unwrap_or("")));
        if let Some(text) = &text {
            let chars = text.chars().count();
            if chars > MAX_TEXT_CHARS {
                return Err(DraftError::TextTooLong { chars });
            }
        }
        let location = non_empty(clean_user_text(self.location.as_deref().unwrap_or("")));
        if let Some(location) = &location {
            let chars = location.chars().count();
            if chars > MAX_LOCATION_CHARS {
                return Err(DraftError::LocationTooLong { chars });
            }
        }
        let phone = match self.phone.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(given) => Some(normalise_phone(given).ok_or_else(|| DraftError::BadPhone {
                given: clean_user_text(given),
            })?),
        };
        if phrases.is_empty() && text.is_none() {
            return Err(DraftError::Empty);
        }
        Ok(NewConcern {
            id: Uuid::now_v7(),
            // Whole seconds: what a person reads; sub-second order comes from the UUIDv7 id.
            created_at: now.with_nanosecond(0).unwrap_or(now),
            category: category.code.clone(),
            category_label: category.label.clone(),
            list: category.list,
            colour: category.triage,
            due_date: category.triage.due_date(now.date_naive(), rules.triage()),
            lang: self.lang,
            phrases,
            text,
            location,
            phone,
            codes: Some(ResidentCodes::random()),
        })
    }
}

fn find_phrase<'c>(category: &'c Category, given: &str) -> Result<&'c Bilingual, DraftError> {
    let wanted = clean_user_text(given);
    let by_number = wanted
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_sub(1))
        .and_then(|i| category.phrases.get(i));
    by_number
        .or_else(|| {
            category
                .phrases
                .iter()
                .find(|p| p.zh == wanted || p.en.eq_ignore_ascii_case(&wanted))
        })
        .ok_or_else(|| DraftError::UnknownPhrase {
            given: wanted,
            category: category.code.clone(),
            known: category
                .phrases
                .iter()
                .enumerate()
                .map(|(i, p)| format!("{} {} / {}", i + 1, p.zh, p.en))
                .collect::<Vec<_>>()
                .join("; "),
        })
}

fn non_empty(text: String) -> Option<String> {
    (!text.is_empty()).then_some(text)
}

/// Whether a character must never be kept in what a person entered: control characters (Cc:
/// C0, DEL, C1) could act as printer or terminal commands, and format characters (Cf: bidi
/// overrides such as U+202E, zero-width spaces and joiners, the BOM) reorder or hide text so
/// that what staff read is not what was written. Line and paragraph separators (U+2028, U+2029)
/// break lines like a newline; [`clean_user_text`] turns them into spaces.
pub fn is_hidden_char(c: char) -> bool {
    use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
    matches!(
        c.general_category(),
        GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
    )
}

/// Removes every control and format character ([`is_hidden_char`]) so that no user byte can
/// ever act as a printer or terminal command and no text reads differently from how it was
/// entered; line breaks and tabs become spaces, runs of spaces collapse, and the ends are
/// trimmed. Limits are checked on the result, so hidden characters cannot pad a text past them.
pub fn clean_user_text(raw: &str) -> String {
    let mut cleaned = String::with_capacity(raw.len());
    for c in raw.chars() {
        let c = match c {
            '\n' | '\r' | '\t' | '\u{2028}' | '\u{2029}' => ' ',
            c if is_hidden_char(c) => continue,
            c => c,
        };
        if c == ' ' && (cleaned.is_empty() || cleaned.ends_with(' ')) {
            continue;
        }
        cleaned.push(c);
    }
    cleaned.truncate(cleaned.trim_end().len());
    cleaned
}

/// Accepts an 11-digit mainland mobile number (1[3-9]xxxxxxxxx) or a landline with its area
/// code (0 + 2–3 digits, then 7–8 digits), with spaces or hyphens anywhere. Returns the mobile
/// as 11 digits and the landline as `area-number`.
pub fn normalise_phone(given: &str) -> Option<String> {
    if !given
        .chars()
        .all(|c| c.is_ascii_digit() || c == ' ' || c == '-')
    {
        return None;
    }
    let digits: String = given.chars().filter(char::is_ascii_digit).collect();
    let bytes = digits.as_bytes();
    if bytes.len() == 11 && bytes[0] == b'1' && (b'3'..=b'9').contains(&bytes[1]) {
        return Some(digits);
    }
    if bytes.first() != Some(&b'0') {
        return None;
    }
    // Area codes are 010 and 02x (3 digits) or 0xxx (4 digits); local numbers 7 or 8 digits.
    let area_len = if bytes.get(1) == Some(&b'1') || bytes.get(1) == Some(&b'2') {
        3
    } else {
        4
    };
    let local_len = bytes.len().checked_sub(area_len)?;
    if !(7..=8).contains(&local_len) || bytes.get(1) == Some(&b'0') {
        return None;
    }
    Some(format!("{}-{}", &digits[..area_len], &digits[area_len..]))
}

/// The ticket number people read aloud: `{prefix}{MMDD}-{NNN}`, e.g. `A1126-042`.
pub fn format_ticket(prefix: &str, filed_on: NaiveDate, sequence: u32) -> String {
    format!("{prefix}{}-{sequence:03}", ticket_day(filed_on))
}

/// The `MMDD` part of a ticket number: the key of the daily ticket sequence.
pub fn ticket_day(filed_on: NaiveDate) -> String {
    format!("{:02}{:02}", filed_on.month(), filed_on.day())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn now() -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339("2026-11-26T09:30:00+08:00").unwrap()
    }

    fn draft(category: &str) -> Draft {
        Draft {
            category: category.into(),
            phrases: vec!["1".into()],
            text: None,
            location: None,
            phone: None,
            lang: Lang::ZhCn,
        }
    }

    #[test]
    fn green_is_due_in_a_week_orange_in_a_month_red_at_the_first_follow_up() {
        let config = Config::demo().unwrap();
        let created = now().date_naive();
        let due = |colour: Colour| colour.due_date(created, &config.triage).to_string();
        assert_eq!(due(Colour::Green), "2026-12-03");
        assert_eq!(due(Colour::Orange), "2026-12-26");
        assert_eq!(due(Colour::Red), "2026-12-10");
    }

    #[test]
    fn a_preset_phrase_by_number_or_wording_files_with_its_category_triage() {
        let config = Config::demo().unwrap();
        let sanitation = config.category("sanitation").unwrap();
        let mut d = draft("sanitation");
        d.phrases = vec![
            "1".into(),
            sanitation.phrases[1].en.to_uppercase(),
            "1".into(),
        ];
        let concern = d.validate(&config, now()).unwrap();
        assert_eq!(concern.phrases, sanitation.phrases[..2].to_vec());
        assert_eq!(concern.colour, sanitation.triage);
        assert_eq!(concern.list, sanitation.list);
        assert_eq!(concern.created_at, now());
        assert_eq!(concern.id.get_version_num(), 7);
    }

    #[test]
    fn every_draft_limit_has_its_own_error() {
        let config = Config::demo().unwrap();
        let check = |edit: &dyn Fn(&mut Draft)| {
            let mut d = draft("repairs");
            edit(&mut d);
            d.validate(&config, now())
        };
        assert!(matches!(
            check(&|d| d.category = "weather".into()),
            Err(DraftError::UnknownCategory { .. })
        ));
        assert!(matches!(
            check(&|d| d.phrases = vec!["the moon is too bright".into()]),
            Err(DraftError::UnknownPhrase { .. })
        ));
        assert_eq!(
            check(&|d| d.phrases = (1..=6).map(|n| n.to_string()).collect()),
            Err(DraftError::TooManyPhrases { given: 6 })
        );
        assert_eq!(
            check(&|d| d.text = Some("水".repeat(501))),
            Err(DraftError::TextTooLong { chars: 501 })
        );
        assert!(check(&|d| d.text = Some("水".repeat(500))).is_ok());
        assert_eq!(
            check(&|d| d.location = Some("楼".repeat(61))),
            Err(DraftError::LocationTooLong { chars: 61 })
        );
        assert!(check(&|d| d.location = Some("楼".repeat(60))).is_ok());
        assert!(matches!(
            check(&|d| d.phone = Some("12345".into())),
            Err(DraftError::BadPhone { .. })
        ));
        assert_eq!(
            check(&|d| {
                d.phrases.clear();
                d.text = Some(" \u{1b}\u{7} ".into());
            }),
            Err(DraftError::Empty)
        );
    }

    #[test]
    fn control_characters_never_survive_into_a_concern() {
        let config = Config::demo().unwrap();
        let mut d = draft("noise");
        d.text = Some("楼上\u{1b}@\u{1d}V\u{0}半夜\n\n装修\u{7f}\u{9b}".into());
        d.location = Some("\u{1c}&3幢\t2单元".into());
        let concern = d.validate(&config, now()).unwrap();
        assert_eq!(concern.text.as_deref(), Some("楼上@V半夜 装修"));
        assert_eq!(concern.location.as_deref(), Some("&3幢 2单元"));
    }

    #[test]
    fn bidi_overrides_zero_width_and_separators_never_survive_into_a_concern() {
        let config = Config::demo().unwrap();
        let mut d = draft("noise");
        // U+202E would show "3幢" reversed; U+200B/U+2060/U+FEFF hide inside a word; U+2028 and
        // U+2029 break lines in whatever shows the text.
        d.text =
            Some("\u{202e}楼上\u{200b}装修\u{2028}半夜\u{2029}\u{2066}吵\u{2069}\u{feff}".into());
        d.location = Some("3\u{2060}幢\u{200d}\u{061c}2单元\u{e0041}".into());
        let concern = d.validate(&config, now()).unwrap();
        assert_eq!(concern.text.as_deref(), Some("楼上装修 半夜 吵"));
        assert_eq!(concern.location.as_deref(), Some("3幢2单元"));
    }

    #[test]
    fn hidden_characters_cannot_pad_a_text_past_its_limit() {
        let config = Config::demo().unwrap();
        let mut d = draft("noise");
        d.location = Some(format!(
            "{}{}",
            "幢".repeat(MAX_LOCATION_CHARS),
            "\u{200b}".repeat(40)
        ));
        let concern = d.validate(&config, now()).unwrap();
        assert_eq!(
            concern.location.map(|l| l.chars().count()),
            Some(MAX_LOCATION_CHARS)
        );
    }

    #[test]
    fn phone_numbers_are_mobiles_or_landlines_with_area_code() {
        assert_eq!(
            normalise_phone("138 1234 5678").as_deref(),
            Some("13812345678")
        );
        assert_eq!(
            normalise_phone("0571-88886666").as_deref(),
            Some("0571-88886666")
        );
        assert_eq!(
            normalise_phone("010 6666 8888").as_deref(),
            Some("010-66668888")
        );
        assert_eq!(
            normalise_phone("021-1234567").as_deref(),
            Some("021-1234567")
        );
        for bad in [
            "12812345678",
            "1381234567",
            "138123456789",
            "88886666",
            "0571-123456",
            "0571-123456789",
            "00571-8888666",
            "+8613812345678",
            "138-1234-567a",
        ] {
            assert_eq!(normalise_phone(bad), None, "{bad}");
        }
    }

    #[test]
    fn tickets_read_aloud_as_prefix_month_day_and_number() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        assert_eq!(format_ticket("A", day, 42), "A1126-042");
        assert_eq!(format_ticket("B", day, 1234), "B1126-1234");
    }
}
