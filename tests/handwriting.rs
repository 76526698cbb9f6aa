//! Handwriting through the real zinnia library and Debian's simplified-Chinese model: twenty
//! characters common in residents' concerns, written by hand as strokes (see
//! support/handwriting_samples.rs), each among the first five candidates, on a pad the size of
//! the reference panel's and of a 7" panel's. Without the library or the model these tests
//! fail: a kiosk that cannot read handwriting must not pass.

mod support;

use std::sync::mpsc::channel;
use std::time::Duration;

use concern_kiosk::config::Config;
use concern_kiosk::input_method::zinnia::Recognizer;
use concern_kiosk::input_method::{HandwritingOff, HandwritingSetup, Recognized, start_reader};
use support::REFERENCE_CONFIG;
use support::handwriting_samples::{SAMPLES, ink_for};

/// The first candidates the writing screen shows at once without looking far.
const WITHIN: usize = 5;

fn recognizer(config: &Config) -> Recognizer {
    let setup = HandwritingSetup::check(config).unwrap_or_else(|off| panic!("{off}"));
    setup.load().unwrap_or_else(|off| panic!("{off}")).0
}

fn reference_config() -> Config {
    Config::parse(REFERENCE_CONFIG, "kiosk.toml").expect("the reference config loads")
}

/// Each sample's rank among the candidates on a pad of `pad` pixels, as "门:1".
fn ranks(recognizer: &Recognizer, pad: u32) -> (Vec<String>, bool) {
    let mut all_within = true;
    let ranks = SAMPLES
        .iter()
        .map(|(expected, strokes)| {
            let candidates = recognizer.classify(&ink_for(strokes, pad), 20);
            let rank = candidates
                .iter()
                .position(|c| c.character == expected.to_string())
                .map(|i| i + 1);
            all_within &= rank.is_some_and(|r| r <= WITHIN);
            match rank {
                Some(rank) => format!("{expected}:{rank}"),
                None => format!("{expected}:>20"),
            }
        })
        .collect();
    (ranks, all_within)
}

#[test]
fn twenty_common_characters_are_among_the_first_five_on_both_panels() {
    let recognizer = recognizer(&reference_config());
    assert!(
        recognizer.characters() > 3000,
        "{}",
        recognizer.characters()
    );
    // The reference panel's pad is about 430 px, a 7" panel's about 270 px.
    for pad in [430, 270] {
        let (ranks, all_within) = ranks(&recognizer, pad);
        assert_eq!(ranks.len(), 20);
        assert!(all_within, "pad {pad} px: {}", ranks.join(" "));
    }
}

#[test]
fn water_written_in_the_order_schools_teach_is_offered_too() {
    let (tell, heard) = channel();
    let reader = start_reader(
        &reference_config(),
        Box::new(move |recognized| {
            let _ = tell.send(recognized);
        }),
    )
    .unwrap_or_else(|off| panic!("{off}"));
    let answer = || match heard.recv_timeout(Duration::from_secs(30)) {
        Ok(Recognized::Candidates(recognition)) => recognition,
        other => panic!("{other:?}"),
    };
    assert!(matches!(
        heard.recv_timeout(Duration::from_secs(30)),
        Ok(Recognized::Ready)
    ));
    // The model learned 水 with 横撇 first; schools teach 亅 first.
    let (_, water) = SAMPLES.iter().find(|(c, _)| *c == '水').expect("水");
    let mut taught: Vec<&[(i32, i32)]> = water.to_vec();
    taught.swap(0, 1);
    reader.recognize(1, ink_for(&taught, 430));
    let offered = answer();
    assert_eq!(offered.request, 1);
    assert!(offered.candidates.len() == 8, "{:?}", offered.candidates);
    assert!(
        offered.candidates.contains(&"水".to_string()),
        "{:?}",
        offered.candidates
    );
    // And what the model reads as written keeps its place among the first five.
    for (number, (expected, strokes)) in (2..).zip(SAMPLES) {
        reader.recognize(number, ink_for(strokes, 430));
        let offered = answer();
        let rank = offered
            .candidates
            .iter()
            .position(|c| *c == expected.to_string());
        assert!(
            rank.is_some_and(|r| r < WITHIN),
            "{expected}: {:?}",
            offered.candidates
        );
    }
}

#[test]
fn a_missing_library_or_model_is_named_with_its_package() {
    let mut config = reference_config();
    config.handwriting.library = "libzinnia-not-here.so.0".into();
    let off = HandwritingSetup::check(&config)
        .err()
        .expect("no such library");
    assert!(
        matches!(off, HandwritingOff::LibraryMissing { .. }),
        "{off}"
    );
    assert!(off.to_string().contains("libzinnia0"), "{off}");

    let mut config = reference_config();
    config.handwriting.model = "/usr/share/tegaki/models/zinnia/none-here.model".into();
    let off = HandwritingSetup::check(&config)
        .err()
        .expect("no such model");
    assert!(
        off.to_string().contains("tegaki-zinnia-simplified-chinese"),
        "{off}"
    );

    config.handwriting.enabled = false;
    let off = HandwritingSetup::check(&config)
        .err()
        .expect("switched off");
    assert!(matches!(off, HandwritingOff::Disabled), "{off}");
}
