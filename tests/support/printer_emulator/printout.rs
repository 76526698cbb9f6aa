//! [`Printout`]: the printer's events grouped into receipts, one per cut.

use super::events::{Event, Image, Qr, TextLine};

/// What came out of the printer between two cuts: one receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Printout {
    /// The events of this receipt, its `Cut` last when it was cut.
    pub events: Vec<Event>,
    /// False for paper that was printed but not (yet) cut off.
    pub cut: bool,
}

impl Printout {
    /// Splits events at each cut. Events after the last cut make a last, uncut printout when
    /// they put anything on paper.
    pub fn split(events: &[Event]) -> Vec<Printout> {
        let mut printouts = Vec::new();
        let mut current = Vec::new();
        for event in events {
            current.push(event.clone());
            if matches!(event, Event::Cut(_)) {
                printouts.push(Printout {
                    events: std::mem::take(&mut current),
                    cut: true,
                });
            }
        }
        if current.iter().any(Event::marks_paper) {
            printouts.push(Printout {
                events: current,
                cut: false,
            });
        }
        printouts
    }

    /// The text of every line, blank ones included, trimmed.
    pub fn lines(&self) -> Vec<String> {
        self.text_lines()
            .into_iter()
            .map(|line| line.text.trim().to_string())
            .collect()
    }

    pub fn text_lines(&self) -> Vec<&TextLine> {
        self.events
            .iter()
            .filter_map(|event| match event {
                Event::TextLine(line) => Some(line),
                _ => None,
            })
            .collect()
    }

    pub fn images(&self) -> Vec<&Image> {
        self.events
            .iter()
            .filter_map(|event| match event {
                Event::Image(image) => Some(image),
                _ => None,
            })
            .collect()
    }

    pub fn qrs(&self) -> Vec<&Qr> {
        self.events
            .iter()
            .filter_map(|event| match event {
                Event::Qr(qr) => Some(qr),
                _ => None,
            })
            .collect()
    }
}
