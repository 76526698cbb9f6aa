//! The contract between kiosk and office, used by both alike: the batch format and the
//! office's reply with their URL paths (`wire`), a concern's columns as SQLite holds them
//! (`concern_row`), and the concern columns of a spreadsheet export (`spreadsheet`).
//! It sits just above the domain and knows nothing of either side's internals.

pub mod concern_row;
pub mod spreadsheet;
pub mod wire;
