//! [`Printout`]: the printer's events grouped into receipts, one per cut.

use super::events::{Event, Feed, Image, Qr, TextLine};

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

    /// The paper of a raster printout as it comes out, `width` dots across: every image at its
    /// left margin, one under the other, moved down by each dot feed (`ESC J`), up to the
    /// feed of whole lines (`ESC d`) before the cut. What a resident holds, dot for dot.
    pub fn raster_paper(&self, width: usize) -> Result<Image, String> {
        let mut placed = Vec::new();
        let mut top = 0;
        for event in &self.events {
            match event {
                Event::Image(image) => {
                    if image.left + image.width > width {
                        return Err(format!(
                            "an image from dot {} to {} is past the paper's {width} dots",
                            image.left,
                            image.left + image.width
                        ));
                    }
                    placed.push((top, image));
                    top += image.height;
                }
                Event::Feed(Feed::Dots(dots)) => top += usize::from(*dots),
                Event::Feed(Feed::Lines(_)) | Event::Cut(_) => break,
                Event::Init | Event::StatusRequest(_) => {}
                Event::TextLine(_) | Event::Qr(_) => {
                    return Err(format!("{event:?} in a raster printout"));
                }
            }
        }
        let mut pixels = vec![false; width * top];
        for (image_top, image) in placed {
            for y in 0..image.height {
                let start = (image_top + y) * width + image.left;
                pixels[start..start + image.width].copy_from_slice(image.row(y));
            }
        }
        Ok(Image {
            left: 0,
            width,
            height: top,
            pixels,
        })
    }
}
