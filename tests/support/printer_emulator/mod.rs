//! A serial ESC/POS receipt printer for tests, living on the far end of a pseudo-terminal pair.
//!
//! This folder owns the printer the tests print to instead of a real thermal printer:
//!
//! * `events.rs`: the [`Event`]s a printer makes of the bytes it is sent, and the
//!   [`DecodeError`] that names the byte offset of anything else: an unexpected byte on the
//!   wire is a bug.
//! * `decoder.rs`: [`decode`] and [`Decoder`] turn the bytes a kiosk sends into events. They
//!   understand exactly the commands a kiosk receipt is made of and reject everything else.
//! * `printout.rs`: [`Printout`] groups events into receipts, one per cut.
//! * `fault.rs`: the printer's condition ([`Fault`]) and its answers to `DLE EOT n`.
//! * `emulator.rs`: [`PrinterEmulator`] runs on its own thread on the master side of
//!   `TTYPort::pair()`, where a real printer would sit at the other end of the cable: it
//!   answers `DLE EOT n` from a settable [`Fault`], sends XOFF/XON when busy, has a small
//!   receive buffer that overflows when the host ignores XOFF, and can be unplugged and
//!   plugged in again.
//!
//! This file holds the control bytes and glyph sizes they share.

// Each test binary that includes `tests/support` uses a different part of this module.
#![allow(dead_code)]

mod decoder;
mod emulator;
mod events;
mod fault;
mod printout;

// The users' paths stay `printer_emulator::X`; like the items, most binaries use few of them.
#[allow(unused_imports)]
pub use self::{
    decoder::{Decoder, decode},
    emulator::{
        BusyPattern, DEFAULT_RECEIVE_BUFFER_BYTES, EmulatorOptions, FaultPolicy, HostOutput,
        LostBytes, PrinterEmulator, StatusAnswer, WaitTimedOut,
    },
    events::{
        Align, Cut, DecodeError, Event, Feed, Image, LineSpacing, Qr, QrErrorCorrection, TextLine,
        TextSpan,
    },
    fault::Fault,
    printout::Printout,
};

const LF: u8 = 0x0A;
const ESC: u8 = 0x1B;
const GS: u8 = 0x1D;
const FS: u8 = 0x1C;
const DLE: u8 = 0x10;
const EOT: u8 = 0x04;
/// DC1: "resume sending", sent by the printer.
pub const XON: u8 = 0x11;
/// DC3: "stop sending", sent by the printer.
pub const XOFF: u8 = 0x13;

/// Printer dots a Font A character (12 × 24) takes across at normal width.
pub const SINGLE_BYTE_GLYPH_DOTS: usize = 12;
/// Printer dots a Chinese-mode double-byte character (24 × 24) takes across at normal width.
pub const DOUBLE_BYTE_GLYPH_DOTS: usize = 24;
/// The widest paper a kiosk prints on: 80 mm, 576 dots.
pub const MAX_PAPER_DOTS: usize = 576;
/// Printer dots a text line is tall at height multiplier 1.
pub const GLYPH_HEIGHT_DOTS: usize = 24;
