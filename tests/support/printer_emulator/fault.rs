//! [`Fault`]: the printer's condition, and how it answers `DLE EOT n` in it.

/// The printer's condition, as the test sets it with [`PrinterEmulator::set_fault`].
///
/// [`PrinterEmulator::set_fault`]: super::PrinterEmulator::set_fault
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fault {
    #[default]
    None,
    /// The near-end sensor sees little paper left; the printer still prints.
    PaperNearEnd,
    /// The roll is empty: offline, printing stopped by paper end.
    PaperOut,
    /// The roll cover is open: offline.
    CoverOpen,
    /// Offline for another reason — the print head overheated, an auto-recoverable error.
    Offline,
}

impl Fault {
    pub const ALL: [Fault; 5] = [
        Fault::None,
        Fault::PaperNearEnd,
        Fault::PaperOut,
        Fault::CoverOpen,
        Fault::Offline,
    ];

    /// Whether the printer stops printing (goes offline) in this condition.
    pub fn stops_printing(self) -> bool {
        matches!(self, Fault::PaperOut | Fault::CoverOpen | Fault::Offline)
    }

    /// The answer to `DLE EOT n`, after Epson's ESC/POS reference for `DLE EOT` (the same
    /// table in the TM-T88III, TM-U220 and TM-L60II manuals). Every answer has the pattern
    /// `0xx1xx10` (bits 1 and 4 fixed on, 0 and 7 fixed off), so it can never be XON (0x11)
    /// or XOFF (0x13):
    ///
    /// | n | byte | bits set by faults |
    /// |---|------|--------------------|
    /// | 1 printer status | 0x12, 0x1A offline | bit 3 offline |
    /// | 2 offline cause | 0x12 | bit 2 cover open 0x16, bit 5 paper-end stop 0x32, bit 6 error 0x52 |
    /// | 3 error cause | 0x12 | bit 6 auto-recoverable error (head temperature) 0x52 |
    /// | 4 roll paper sensor | 0x12 | bits 2–3 near end 0x1E; bits 5–6 paper end, with near end, 0x7E |
    ///
    /// Bit 2 of n = 1 (drawer pin 3) reads low, and the feed button (bit 3 of n = 2, bit 6 of
    /// n = 1) is never pressed. Returns `None` for n outside 1–4.
    pub fn status_byte(self, n: u8) -> Option<u8> {
        const FIXED_BITS: u8 = 0b0001_0010;
        let fault_bits = match n {
            1 if self.stops_printing() => 0x08,
            2 => match self {
                Fault::CoverOpen => 0x04,
                Fault::PaperOut => 0x20,
                Fault::Offline => 0x40,
                _ => 0,
            },
            3 if self == Fault::Offline => 0x40,
            4 => match self {
                Fault::PaperNearEnd => 0x0C,
                // An empty roll also reads as near its end.
                Fault::PaperOut => 0x0C | 0x60,
                _ => 0,
            },
            1..=4 => 0,
            _ => return None,
        };
        Some(FIXED_BITS | fault_bits)
    }
}
