//! concern-kiosk: a community-centre touchscreen kiosk where residents file a concern, take a
//! printed receipt, and the community office receives it. The binaries only parse arguments;
//! everything they do lives in these modules.
//!
//! The modules sit in layers and import only from layers below their own, lowest first:
//! `clock`, `logging`, `health` → `concern` (the domain) → `protocol` (the kiosk↔office
//! contract) → `paper` (the page engine) → `config` → `store`, `receipt`, `speech`,
//! `input_method` → `summary`,
//! `maintenance`, `export`, `upload` → `printer` → `supervisor`, `app` → `ui`, `cli`, `doctor`,
//! `office` → `demo` (the kiosk with the reference office beside it, for `cargo run`). The
//! office uses only `clock`, `logging`, `concern` and `protocol`.
//! `tests/architecture/` holds the same list and fails on an import that points up.

pub mod app;
pub mod cli;
pub mod clock;
pub mod concern;
pub mod config;
pub mod demo;
pub mod display;
pub mod doctor;
pub mod export;
#[cfg(test)]
mod golden;
pub mod health;
pub mod input_method;
pub mod logging;
pub mod maintenance;
pub mod office;
pub mod paper;
pub mod printer;
#[cfg(test)]
mod property_runs;
pub mod protocol;
pub mod receipt;
pub mod speech;
pub mod store;
pub mod summary;
pub mod supervisor;
pub mod ui;
pub mod upload;
