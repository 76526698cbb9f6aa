//! How long a receipt takes on the printer's serial line: the reference receipt's bytes at the
//! configured baud rate, and the warning staff get when a resident would stand waiting.

use std::time::Duration;

use crate::concern::Lang;
use crate::config::{Config, PrinterKind};
use crate::paper::{PrintMode, PrintReady};
use crate::receipt::{receipt, reference_concern};

/// Longer than this at the printer and a resident starts to think the kiosk has failed and
/// walks off without the receipt: about what a shop till takes.
pub const SLOW_RECEIPT: Duration = Duration::from_secs(5);
/// Bits a byte takes on the line: 8N1 is a start bit, eight data bits and a stop bit.
const BITS_PER_BYTE: f64 = 10.0;

/// The reference receipt on this kiosk's printer: its size and its time on the line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReceiptLineTime {
    pub bytes: usize,
    pub seconds: f64,
}

/// The longer of the Chinese and English reference receipts as this config prints them, at
/// the serial line's baud rate; `None` for a spool folder, which has no line.
pub fn receipt_line_time(config: &Config) -> Option<ReceiptLineTime> {
    if config.printer.kind != PrinterKind::Serial || config.printer.baud == 0 {
        return None;
    }
    let bytes = [Lang::ZhCn, Lang::En]
        .into_iter()
        .filter_map(|lang| {
            let concern = reference_concern(config, lang).ok()?;
            let doc = receipt(&concern, config);
            let job = PrintReady::new(&doc, config.printer.mode, config.printer.band_rows).ok()?;
            Some(job.chunks().map(|chunk| chunk.len()).sum::<usize>())
        })
        .max()?;
    Some(ReceiptLineTime {
        bytes,
        seconds: line_seconds(bytes, config.printer.baud),
    })
}

/// Seconds `bytes` take at `baud` (8N1).
pub fn line_seconds(bytes: usize, baud: u32) -> f64 {
    bytes as f64 * BITS_PER_BYTE / f64::from(baud.max(1))
}

/// What staff are told when raster mode makes a resident wait longer than [`SLOW_RECEIPT`]
/// for a receipt: the expected time and what to change.
pub fn slow_receipt_warning(config: &Config) -> Option<String> {
    if config.printer.mode != PrintMode::Raster {
        return None;
    }
    let time = receipt_line_time(config)?;
    (time.seconds > SLOW_RECEIPT.as_secs_f64()).then(|| {
        format!(
            "raster mode at {} baud: a receipt takes about {:.0} s on the line ({} bytes); set the \
             printer and `printer.baud` to 115200, or use `mode = \"text\"` if the printer has a \
             Chinese font",
            config.printer.baud, time.seconds, time.bytes
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serial(mode: PrintMode, baud: u32) -> Config {
        let mut config = Config::demo().unwrap();
        config.printer.kind = PrinterKind::Serial;
        config.printer.port = Some("/dev/ttyUSB0".into());
        config.printer.mode = mode;
        config.printer.baud = baud;
        config
    }

    #[test]
    fn raster_mode_at_9600_baud_is_said_to_make_residents_wait() {
        let warning = slow_receipt_warning(&serial(PrintMode::Raster, 9600)).unwrap();
        let time = receipt_line_time(&serial(PrintMode::Raster, 9600)).unwrap();
        assert!(time.seconds > 10.0, "{time:?}");
        assert!(
            warning.starts_with(&format!(
                "raster mode at 9600 baud: a receipt takes about {:.0} s",
                time.seconds
            )),
            "{warning}"
        );
    }

    #[test]
    fn text_mode_or_a_fast_line_or_a_spool_folder_is_not_warned_about() {
        assert_eq!(slow_receipt_warning(&serial(PrintMode::Text, 9600)), None);
        assert_eq!(
            slow_receipt_warning(&serial(PrintMode::Raster, 115_200)),
            None
        );
        assert_eq!(slow_receipt_warning(&Config::demo().unwrap()), None);
        assert!(
            receipt_line_time(&serial(PrintMode::Text, 9600))
                .unwrap()
                .seconds
                < 1.5
        );
    }
}
