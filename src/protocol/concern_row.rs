//! A concern's columns as SQLite holds them (text), shared by the kiosk's store and the office's:
//! both keep the same fields under the same names, read in this order.

use chrono::DateTime;
use rusqlite::Row;

use super::wire::WireConcern;
use crate::concern::{Bilingual, CheckCode, Colour, Lang, ListKind, TrackingCode};

/// The columns [`ConcernRow::read`] expects, in order, for a `SELECT`.
pub const CONCERN_ROW_COLUMNS: &str = "id, ticket, created_at, category, category_zh, \
     category_en, list, colour, due_date, lang, phrases, text, location, phone, tracking_code, \
     check_code";
/// How many columns that is: what a query reads after them starts at this index.
pub const CONCERN_ROW_WIDTH: usize = 16;

/// A row whose columns can be read as text: SQLite's, or the office's rows of either engine.
pub trait TextColumns {
    type Error;
    fn text(&self, index: usize) -> Result<String, Self::Error>;
    fn opt_text(&self, index: usize) -> Result<Option<String>, Self::Error>;
}

impl TextColumns for Row<'_> {
    type Error = rusqlite::Error;

    fn text(&self, index: usize) -> rusqlite::Result<String> {
        self.get(index)
    }

    fn opt_text(&self, index: usize) -> rusqlite::Result<Option<String>> {
        self.get(index)
    }
}

pub struct ConcernRow {
    id: String,
    ticket: String,
    created_at: String,
    category: String,
    category_zh: String,
    category_en: String,
    list: String,
    colour: String,
    due_date: String,
    lang: String,
    phrases: String,
    text: Option<String>,
    location: Option<String>,
    phone: Option<String>,
    tracking_code: Option<String>,
    check_code: Option<String>,
}

impl ConcernRow {
    /// Reads [`CONCERN_ROW_COLUMNS`] starting at column `first`.
    pub fn read<R: TextColumns + ?Sized>(row: &R, first: usize) -> Result<ConcernRow, R::Error> {
        Ok(ConcernRow {
            id: row.text(first)?,
            ticket: row.text(first + 1)?,
            created_at: row.text(first + 2)?,
            category: row.text(first + 3)?,
            category_zh: row.text(first + 4)?,
            category_en: row.text(first + 5)?,
            list: row.text(first + 6)?,
            colour: row.text(first + 7)?,
            due_date: row.text(first + 8)?,
            lang: row.text(first + 9)?,
            phrases: row.text(first + 10)?,
            text: row.opt_text(first + 11)?,
            location: row.opt_text(first + 12)?,
            phone: row.opt_text(first + 13)?,
            tracking_code: row.opt_text(first + 14)?,
            check_code: row.opt_text(first + 15)?,
        })
    }

    /// The concern's id as stored, for messages about a row that cannot be decoded.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The concern, or what is wrong with the stored text (`concern A1126-001: colour `pink``).
    pub fn decode(self) -> Result<WireConcern, String> {
        let damaged =
            |what: &str, value: &str| format!("concern {}: {what} `{value}`", self.ticket);
        Ok(WireConcern {
            id: self.id.parse().map_err(|_| damaged("id", &self.id))?,
            created_at: DateTime::parse_from_rfc3339(&self.created_at)
                .map_err(|_| damaged("created_at", &self.created_at))?,
            category: self.category.clone(),
            category_label: Bilingual {
                zh: self.category_zh.clone(),
                en: self.category_en.clone(),
            },
            list: ListKind::from_code(&self.list).ok_or_else(|| damaged("list", &self.list))?,
            colour: Colour::from_code(&self.colour)
                .ok_or_else(|| damaged("colour", &self.colour))?,
            due_date: self
                .due_date
                .parse()
                .map_err(|_| damaged("due_date", &self.due_date))?,
            lang: Lang::from_tag(&self.lang).ok_or_else(|| damaged("lang", &self.lang))?,
            phrases: serde_json::from_str(&self.phrases)
                .map_err(|_| damaged("phrases", &self.phrases))?,
            text: self.text.clone(),
            location: self.location.clone(),
            phone: self.phone.clone(),
            tracking_code: self
                .tracking_code
                .as_deref()
                .map(|t| TrackingCode::parse(t).ok_or_else(|| damaged("tracking_code", t)))
                .transpose()?,
            check_code: self
                .check_code
                .as_deref()
                .map(|c| CheckCode::parse(c).ok_or_else(|| damaged("check_code", c)))
                .transpose()?,
            ticket: self.ticket,
        })
    }
}
