//! What the office checks in a decoded batch before it stores anything: every field within the
//! kiosk's own limits and shapes, ratings included (so that what the council reads is what a kiosk could have
//! produced), no invisible characters anywhere, and the cut-down form in which a value from a
//! batch or a header may be quoted back in an error or a log line.

use std::fmt;

use thiserror::Error;

use crate::concern::{
    MAX_LOCATION_CHARS, MAX_PHRASES, MAX_TEXT_CHARS, format_ticket, is_hidden_char, normalise_phone,
};
use crate::protocol::wire::{Batch, WireConcern};

/// The most characters of an outside value that an error message or a log line quotes. Enough
/// to recognise the value; a 15 MiB field must not come back in the answer or fill the log.
pub const MAX_ECHO_CHARS: usize = 64;
/// The most concerns in one batch. The kiosk keeps a batch under 256 KiB of JSON, which holds
/// fewer than 900 of the smallest possible concerns; more is not a kiosk's batch.
pub const MAX_CONCERNS_PER_BATCH: usize = 1000;
/// The most ratings in one batch: a kiosk sends those given since its last batch, a handful a
/// day; as many as a batch's concerns is far beyond any honest kiosk.
pub const MAX_RATINGS_PER_BATCH: usize = MAX_CONCERNS_PER_BATCH;
/// The longest category label or preset phrase, in either language. They are button texts on
/// the kiosk's screen (the reference config's longest is 33 characters); 100 leaves a council
/// room for wordier ones.
pub const MAX_LABEL_CHARS: usize = 100;
/// The longest category code. Codes are short words like `sanitation`; 32 is generous.
pub const MAX_CATEGORY_CODE_CHARS: usize = 32;
/// The most letters in a ticket prefix: `kiosk.ticket_prefix` allows 1 to 3 capital letters.
pub const MAX_TICKET_PREFIX_LETTERS: usize = 3;

/// A field of a batch that no honest kiosk would have sent. Displays as `field: problem`, e.g.
/// `concerns[3].text: 612 characters, at most 500`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{field}: {problem}")]
pub struct InvalidField {
    /// Where in the batch, as a path: `concerns[3].phrases[0].zh` (indexes from 0, as in JSON).
    pub field: String,
    pub problem: String,
}

/// A value from outside as it may be quoted: invisible characters (which could move a
/// terminal's cursor or reverse the text around them) removed, and cut to
/// [`MAX_ECHO_CHARS`] characters with `…` when longer.
pub fn echo(value: &str) -> String {
    let mut visible = value.chars().filter(|&c| !is_hidden_char(c));
    let mut shown: String = visible.by_ref().take(MAX_ECHO_CHARS).collect();
    if visible.next().is_some() {
        shown.push('…');
    }
    shown
}

/// The longest message [`echo_quoted`] gives. The parser's own words are under 200
/// characters; quoted values that contain the quote marks themselves (a value of 500
/// backticks) cannot be told from the words, so the whole message is cut here as well.
pub const MAX_QUOTED_MESSAGE_CHARS: usize = 400;

/// A message that quotes outside values between backticks or double quotes (as serde's do:
/// ``unknown variant `…` ``, `invalid value: string "…"`), with every quoted value passed
/// through [`echo`], invisible characters removed from the rest, and the whole cut to
/// [`MAX_QUOTED_MESSAGE_CHARS`].
pub fn echo_quoted(message: &str) -> String {
    let quoted = cut_quoted_values(message);
    if quoted.chars().count() <= MAX_QUOTED_MESSAGE_CHARS {
        return quoted;
    }
    let mut cut: String = quoted.chars().take(MAX_QUOTED_MESSAGE_CHARS).collect();
    cut.push('…');
    cut
}

fn cut_quoted_values(message: &str) -> String {
    let mut out = String::new();
    let mut rest = message;
    while let Some(start) = rest.find(['`', '"']) {
        let quote = &rest[start..=start];
        out.extend(rest[..=start].chars().filter(|&c| !is_hidden_char(c)));
        let inside = &rest[start + 1..];
        let Some(end) = inside.find(quote) else {
            out.push_str(&echo(inside));
            return out;
        };
        out.push_str(&echo(&inside[..end]));
        out.push_str(quote);
        rest = &inside[end + 1..];
    }
    out.extend(rest.chars().filter(|&c| !is_hidden_char(c)));
    out
}

/// A field path built only when a check fails.
#[derive(Clone, Copy)]
struct Field<'a> {
    concern: Option<usize>,
    name: &'a str,
    index: Option<usize>,
    leaf: Option<&'a str>,
}

impl fmt::Display for Field<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(concern) = self.concern {
            write!(f, "concerns[{concern}]")?;
            if !self.name.is_empty() {
                f.write_str(".")?;
            }
        }
        f.write_str(self.name)?;
        if let Some(index) = self.index {
            write!(f, "[{index}]")?;
        }
        if let Some(leaf) = self.leaf {
            write!(f, ".{leaf}")?;
        }
        Ok(())
    }
}

impl<'a> Field<'a> {
    fn of(concern: usize, name: &'a str) -> Field<'a> {
        Field {
            concern: Some(concern),
            name,
            index: None,
            leaf: None,
        }
    }

    fn at(self, index: usize, leaf: &'a str) -> Field<'a> {
        Field {
            index: Some(index),
            leaf: Some(leaf),
            ..self
        }
    }

    fn leaf(self, leaf: &'a str) -> Field<'a> {
        Field {
            leaf: Some(leaf),
            ..self
        }
    }

    fn invalid(self, problem: impl Into<String>) -> InvalidField {
        InvalidField {
            field: self.to_string(),
            problem: problem.into(),
        }
    }

    /// No invisible characters, and at most `max` characters.
    fn text(self, value: &str, max: usize) -> Result<(), InvalidField> {
        if let Some((position, hidden)) =
            value.chars().enumerate().find(|(_, c)| is_hidden_char(*c))
        {
            return Err(self.invalid(format!(
                "contains U+{:04X} (an invisible control or format character) at character {}; a kiosk removes these before it uploads",
                u32::from(hidden),
                position + 1
            )));
        }
        let chars = value.chars().count();
        if chars > max {
            return Err(self.invalid(format!("{chars} characters, at most {max}")));
        }
        Ok(())
    }
}

/// Checks every field of `batch` against what a kiosk produces. The schema, the kiosk id
/// (which must be the token's) and the typed fields (ids, times, dates, colours, lists,
/// languages) are already checked by decoding.
pub fn validate_batch(batch: &Batch) -> Result<(), InvalidField> {
    let count = batch.concerns.len();
    if count > MAX_CONCERNS_PER_BATCH {
        return Err(InvalidField {
            field: "concerns".into(),
            problem: format!("{count} concerns, at most {MAX_CONCERNS_PER_BATCH}"),
        });
    }
    for (index, concern) in batch.concerns.iter().enumerate() {
        validate_concern(index, concern)?;
    }
    let ratings = batch.ratings.len();
    if ratings > MAX_RATINGS_PER_BATCH {
        return Err(InvalidField {
            field: "ratings".into(),
            problem: format!("{ratings} ratings, at most {MAX_RATINGS_PER_BATCH}"),
        });
    }
    for (index, rating) in batch.ratings.iter().enumerate() {
        let field = Field {
            concern: None,
            name: "ratings",
            index: Some(index),
            leaf: Some("ticket"),
        };
        let ticket = rating.ticket.as_str();
        field.text(ticket, MAX_ECHO_CHARS)?;
        // Rated at any kiosk, perhaps days after filing: the ticket's own date says nothing
        // here, its shape must be right.
        if ticket_parts(ticket).is_none() {
            return Err(not_a_ticket(field, ticket));
        }
    }
    Ok(())
}

fn validate_concern(index: usize, c: &WireConcern) -> Result<(), InvalidField> {
    let field = |name| Field::of(index, name);
    validate_ticket(field("ticket"), c)?;
    let category = field("category");
    category.text(&c.category, MAX_CATEGORY_CODE_CHARS)?;
    let code_ok = !c.category.is_empty()
        && c.category
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !code_ok {
        return Err(category.invalid(format!(
            "`{}` is not a category code (lowercase letters, digits and hyphens, as in the kiosk's config)",
            echo(&c.category)
        )));
    }
    let label = field("category_label");
    label
        .leaf("zh")
        .text(&c.category_label.zh, MAX_LABEL_CHARS)?;
    label
        .leaf("en")
        .text(&c.category_label.en, MAX_LABEL_CHARS)?;
    let filed_on = c.created_at.date_naive();
    if c.due_date < filed_on {
        return Err(field("due_date").invalid(format!(
            "{} is before the filing date {filed_on}",
            c.due_date
        )));
    }
    let phrases = field("phrases");
    if c.phrases.len() > MAX_PHRASES {
        return Err(phrases.invalid(format!(
            "{} phrases, at most {MAX_PHRASES}",
            c.phrases.len()
        )));
    }
    for (i, phrase) in c.phrases.iter().enumerate() {
        phrases.at(i, "zh").text(&phrase.zh, MAX_LABEL_CHARS)?;
        phrases.at(i, "en").text(&phrase.en, MAX_LABEL_CHARS)?;
    }
    if let Some(text) = &c.text {
        field("text").text(text, MAX_TEXT_CHARS)?;
    }
    if let Some(location) = &c.location {
        field("location").text(location, MAX_LOCATION_CHARS)?;
    }
    if let Some(phone) = &c.phone {
        let phone_field = field("phone");
        phone_field.text(phone, MAX_ECHO_CHARS)?;
        if normalise_phone(phone).as_deref() != Some(phone.as_str()) {
            return Err(phone_field.invalid(format!(
                "`{}` is not a phone number as the kiosk writes it (11 digits for a mobile, or the area code, a hyphen and the number for a landline)",
                echo(phone)
            )));
        }
    }
    if c.phrases.is_empty() && c.text.as_deref().is_none_or(str::is_empty) {
        return Err(field("").invalid(
            "neither phrases nor text: a kiosk files a concern only when the resident chose a phrase or wrote something",
        ));
    }
    Ok(())
}

/// `{prefix}{MMDD}-{NNN}` exactly as the kiosk writes it (`format_ticket`), dated the day the
/// concern was filed.
fn validate_ticket(field: Field<'_>, c: &WireConcern) -> Result<(), InvalidField> {
    let ticket = c.ticket.as_str();
    field.text(ticket, MAX_ECHO_CHARS)?;
    let Some((prefix, day, sequence)) = ticket_parts(ticket) else {
        return Err(not_a_ticket(field, ticket));
    };
    let filed_on = c.created_at.date_naive();
    let expected = format_ticket(prefix, filed_on, sequence);
    if ticket == expected {
        return Ok(());
    }
    if !expected.starts_with(&format!("{prefix}{day}-")) {
        return Err(field.invalid(format!(
            "`{}` is dated {}-{}, but the concern was filed on {filed_on}",
            echo(ticket),
            &day[..2],
            &day[2..]
        )));
    }
    Err(not_a_ticket(field, ticket))
}

fn not_a_ticket(field: Field<'_>, ticket: &str) -> InvalidField {
    field.invalid(format!(
        "`{}` is not a ticket number: 1 to {MAX_TICKET_PREFIX_LETTERS} capital letters, the filing month and day, a hyphen and the day's number with at least 3 digits, e.g. A1126-007",
        echo(ticket)
    ))
}

/// A ticket's prefix, its `MMDD` and its number of the day, when it has the shape of one.
fn ticket_parts(ticket: &str) -> Option<(&str, &str, u32)> {
    let letters = ticket.bytes().take_while(u8::is_ascii_uppercase).count();
    if !(1..=MAX_TICKET_PREFIX_LETTERS).contains(&letters) {
        return None;
    }
    let (prefix, rest) = ticket.split_at(letters);
    let (day, number) = rest.split_once('-')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if day.len() != 4 || !digits(day) || !digits(number) {
        return None;
    }
    let sequence = number.parse::<u32>().ok().filter(|&n| n >= 1)?;
    Some((prefix, day, sequence))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_echo_is_cut_and_loses_its_invisible_characters() {
        assert_eq!(echo("wanjia-01"), "wanjia-01");
        assert_eq!(echo("\u{1b}[31mred\u{202E}"), "[31mred");
        let long = "x".repeat(MAX_ECHO_CHARS + 1);
        assert_eq!(echo(&long), format!("{}…", "x".repeat(MAX_ECHO_CHARS)));
        assert_eq!(echo(&long[1..]), long[1..]);
    }

    #[test]
    fn quoted_values_in_a_message_are_cut_and_the_rest_kept() {
        let long = "p".repeat(1000);
        let message = format!(
            "unknown variant `{long}`, expected one of `green`, `red` at line 1 column 9\u{7}"
        );
        assert_eq!(
            echo_quoted(&message),
            format!(
                "unknown variant `{}…`, expected one of `green`, `red` at line 1 column 9",
                "p".repeat(MAX_ECHO_CHARS)
            )
        );
        assert_eq!(
            echo_quoted(&format!("invalid value: string \"{long}")),
            format!("invalid value: string \"{}…", "p".repeat(MAX_ECHO_CHARS))
        );
    }

    #[test]
    fn ratings_are_checked_by_their_tickets_shape_and_count() {
        use crate::concern::Rating;
        use crate::protocol::wire::{SCHEMA, WireRating};
        let rating = |ticket: &str| WireRating {
            concern_id: uuid::Uuid::now_v7(),
            ticket: ticket.into(),
            rating: Rating::Fair,
            rated_at: chrono::DateTime::parse_from_rfc3339("2026-12-05T10:00:00+08:00").unwrap(),
        };
        let mut batch = Batch {
            schema: SCHEMA.into(),
            kiosk_id: "wanjia-01".into(),
            batch_id: uuid::Uuid::now_v7(),
            sent_at: chrono::DateTime::parse_from_rfc3339("2026-12-05T17:30:00+08:00").unwrap(),
            concerns: Vec::new(),
            // Filed on another day than rated: only the shape counts.
            ratings: vec![rating("A1126-007")],
        };
        assert_eq!(validate_batch(&batch), Ok(()));
        batch.ratings.push(rating("A1126-7\u{202e}"));
        assert_eq!(
            validate_batch(&batch).unwrap_err().field,
            "ratings[1].ticket"
        );
        batch.ratings[1] = rating("1126-007");
        assert!(
            validate_batch(&batch)
                .unwrap_err()
                .to_string()
                .starts_with("ratings[1].ticket: `1126-007` is not a ticket number")
        );
        batch.ratings = vec![rating("A1126-007"); MAX_RATINGS_PER_BATCH + 1];
        assert_eq!(validate_batch(&batch).unwrap_err().field, "ratings");
    }

    /// Found by the long property run: a value made of the quote mark itself.
    #[test]
    fn a_value_of_quote_marks_cannot_lengthen_the_message() {
        let ticks = "`".repeat(1000);
        let message = echo_quoted(&format!("unknown variant `{ticks}`, expected `demands`"));
        assert_eq!(message.chars().count(), MAX_QUOTED_MESSAGE_CHARS + 1);
        assert!(message.ends_with('…'));
    }
}
