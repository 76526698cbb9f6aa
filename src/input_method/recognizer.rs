//! The handwriting recognizer on a thread of its own: the model is loaded there once, at
//! start, while nobody waits; then each ink is recognized as it arrives, the newest only (an
//! ink a later stroke has overtaken is never recognized), and the answer goes to `report`.
//! Started from the config by `start_reader`.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;

use super::handwriting::Ink;
use super::setup::{HandwritingOff, HandwritingSetup};
use super::zinnia::Recognizer;
use crate::config::Config;

/// Candidates the writing screen's row shows for each ink (and for pinyin), and so asks of
/// zinnia: eight big buttons fill a row of the reference panel.
pub const CANDIDATES_SHOWN: usize = 8;

/// The characters an ink may be, best first, for the request that asked.
#[derive(Debug, Clone, PartialEq)]
pub struct Recognition {
    pub request: u64,
    pub candidates: Vec<String>,
}

/// What the recognizer thread reports.
#[derive(Debug)]
pub enum Recognized {
    /// The model is loaded: handwriting works from now on.
    Ready,
    /// The model did not load: the kiosk goes on without handwriting.
    Failed(HandwritingOff),
    Candidates(Recognition),
}

/// The UI's end of the recognizer thread.
pub struct HandwritingReader {
    requests: Option<Sender<(u64, Ink)>>,
    thread: Option<JoinHandle<()>>,
}

impl HandwritingReader {
    /// Starts the thread, which loads the model first; `report` hears each answer.
    pub fn start(
        setup: HandwritingSetup,
        report: Box<dyn Fn(Recognized) + Send>,
    ) -> std::io::Result<HandwritingReader> {
        let (requests, waiting) = channel();
        let thread = std::thread::Builder::new()
            .name("handwriting".into())
            .spawn(move || recognize_until_closed(setup, &waiting, report.as_ref()))?;
        Ok(HandwritingReader {
            requests: Some(requests),
            thread: Some(thread),
        })
    }

    /// Asks for `ink`'s characters; the answer carries `request`.
    pub fn recognize(&self, request: u64, ink: Ink) {
        if let Some(requests) = &self.requests {
            // A closed channel means the thread gave up (the model did not load) and said so.
            let _ = requests.send((request, ink));
        }
    }
}

impl Drop for HandwritingReader {
    fn drop(&mut self) {
        self.requests = None;
        if let Some(thread) = self.thread.take() {
            // The thread ends with the channel; a panic there has already been reported.
            let _ = thread.join();
        }
    }
}

/// The first candidates kept in zinnia's own order for the ink as written; the last places go
/// to what the ink read with its first two strokes swapped adds. So a character written in an
/// order the model did not learn (水 as schools teach it is not among zinnia's first twenty)
/// still shows, and what was written as the model expects keeps its place.
const KEPT_AS_WRITTEN: usize = 6;

/// The characters `ink` may be, best first, at most CANDIDATES_SHOWN.
pub fn candidates_for(recognizer: &Recognizer, ink: &Ink) -> Vec<String> {
    let read = |ink: &Ink| {
        recognizer
            .classify(ink, CANDIDATES_SHOWN)
            .into_iter()
            .map(|candidate| candidate.character)
    };
    let as_written: Vec<String> = read(ink).collect();
    let Some(swapped) = ink.first_strokes_swapped() else {
        return as_written;
    };
    let mut candidates: Vec<String> = as_written.iter().take(KEPT_AS_WRITTEN).cloned().collect();
    let added: Vec<String> = read(&swapped)
        .filter(|c| !candidates.contains(c))
        .take(CANDIDATES_SHOWN - KEPT_AS_WRITTEN)
        .collect();
    candidates.extend(added);
    for character in as_written {
        if candidates.len() == CANDIDATES_SHOWN {
            break;
        }
        if !candidates.contains(&character) {
            candidates.push(character);
        }
    }
    candidates
}

/// 十, written on a pad of 100 pixels: any character touches the whole model.
fn warm_up_ink() -> Ink {
    let mut ink = Ink::new(100, 100);
    for ((x0, y0), (x1, y1)) in [((20, 50), (80, 50)), ((50, 15), (50, 90))] {
        ink.begin_stroke(x0, y0);
        ink.extend_stroke(x1, y1);
        ink.end_stroke();
    }
    ink
}

fn recognize_until_closed(
    setup: HandwritingSetup,
    waiting: &Receiver<(u64, Ink)>,
    report: &dyn Fn(Recognized),
) {
    let recognizer = match setup.load() {
        Ok((recognizer, took)) => {
            tracing::info!(ms = took.as_millis(), "handwriting model loaded");
            // zinnia maps the model: the first strokes would page it in while a resident
            // waits (about 100 ms over the first twenty characters). A cross read now does it.
            let _ = recognizer.classify(&warm_up_ink(), CANDIDATES_SHOWN);
            report(Recognized::Ready);
            recognizer
        }
        Err(off) => {
            report(Recognized::Failed(off));
            return;
        }
    };
    while let Ok(mut newest) = waiting.recv() {
        while let Ok(later) = waiting.try_recv() {
            newest = later;
        }
        let (request, ink) = newest;
        report(Recognized::Candidates(Recognition {
            request,
            candidates: candidates_for(&recognizer, &ink),
        }));
    }
}

/// The kiosk's handwriting reader on this machine, or why there is none; its thread loads the
/// model and then tells `report` (`Recognized::Ready`) before anything is recognized.
pub fn start_reader(
    config: &Config,
    report: Box<dyn Fn(Recognized) + Send>,
) -> Result<HandwritingReader, HandwritingOff> {
    let setup = HandwritingSetup::check(config)?;
    HandwritingReader::start(setup, report).map_err(HandwritingOff::Thread)
}
