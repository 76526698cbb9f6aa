//! Spoken guidance through the real espeak-ng: every resident screen's prompt is real speech
//! of a plausible length in both languages, Chinese gets Mandarin tones rather than English
//! letter names, clips are cached, and `speech-samples` writes what a reviewer listens to.

mod support;

use std::path::Path;

use concern_kiosk::concern::Lang;
use concern_kiosk::config::Config;
use concern_kiosk::speech::{
    ClipCache, DEFAULT_RATE_WPM, ESPEAK_PROGRAM, Espeak, Prompt, Source, every_screen,
};
use support::{TestKiosk, stderr, stdout};

/// What a screen's prompt may last: long enough to be words, short enough that a resident
/// is not kept listening.
const SHORTEST_SECONDS: f64 = 0.3;
const LONGEST_SECONDS: f64 = 15.0;

fn engine() -> Espeak {
    Espeak::new(Path::new(ESPEAK_PROGRAM), DEFAULT_RATE_WPM)
}

fn demo_screens(lang: Lang) -> Vec<(&'static str, Prompt)> {
    let config = Config::demo().unwrap();
    let category = &config.categories[2];
    every_screen(
        category.label.get(lang),
        category.phrases[0].get(lang),
        config.places[0].label.get(lang),
        lang,
    )
}

#[test]
fn every_resident_screen_is_spoken_in_both_languages_at_a_plausible_length() {
    let engine = engine();
    for lang in [Lang::ZhCn, Lang::En] {
        for (name, prompt) in demo_screens(lang) {
            let words = prompt.text(lang);
            let clip = engine
                .render(&words, lang)
                .unwrap_or_else(|e| panic!("{name} ({lang:?}): {e}"));
            assert!(!clip.is_silent(), "{name} ({lang:?}) is silent");
            assert!(
                (SHORTEST_SECONDS..=LONGEST_SECONDS).contains(&clip.seconds()),
                "{name} ({lang:?}) lasts {:.1} s: {words}",
                clip.seconds()
            );
        }
    }
}

#[test]
fn chinese_prompts_are_spoken_with_mandarin_tones_not_english_rules() {
    let engine = engine();
    for (name, prompt) in demo_screens(Lang::ZhCn) {
        let phonemes = engine
            .phonemes(&prompt.text(Lang::ZhCn), Lang::ZhCn)
            .unwrap();
        // espeak-ng marks a switch to English rules with "(en)"; a Mandarin syllable carries
        // its tone's pitch contour (55, 35, 21 or 214, 51; 11 or 33 for the neutral tone).
        assert!(!phonemes.contains("(en)"), "{name}: {phonemes}");
        let syllables: Vec<&str> = phonemes
            .split(['|', ' ', '\n'])
            .filter(|s| s.chars().any(char::is_alphabetic))
            .collect();
        let toned = syllables
            .iter()
            .filter(|s| ["55", "35", "21", "51"].iter().any(|tone| s.contains(tone)))
            .count();
        assert!(
            toned >= 3 && toned * 2 >= syllables.len(),
            "{name}: {toned} of {} syllables toned: {phonemes}",
            syllables.len()
        );
    }
    // The ticket's digits are read one by one, not as a number in the thousands (千).
    let done = demo_screens(Lang::ZhCn)
        .into_iter()
        .find(|(name, _)| *name == "done")
        .unwrap()
        .1;
    let phonemes = engine.phonemes(&done.text(Lang::ZhCn), Lang::ZhCn).unwrap();
    assert!(!phonemes.contains("tS;h'iE55n"), "千 in {phonemes}");
}

#[test]
fn a_prompt_is_rendered_once_then_comes_from_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let cache = ClipCache::new(dir.path(), engine());
    let words = Prompt::Category.text(Lang::ZhCn);
    let (first, from) = cache.clip(&words, Lang::ZhCn).unwrap();
    assert_eq!(from, Source::Engine);
    let (again, from) = cache.clip(&words, Lang::ZhCn).unwrap();
    assert_eq!(from, Source::Cache);
    assert_eq!(again, first);
    // Another voice or text is another clip.
    let (_, from) = cache
        .clip(&Prompt::Category.text(Lang::En), Lang::En)
        .unwrap();
    assert_eq!(from, Source::Engine);
}

#[test]
fn speech_samples_writes_every_screens_words_and_wav_in_both_languages() {
    let kiosk = TestKiosk::new();
    let out = kiosk.dir.path().join("samples");
    let output = kiosk.run(&["speech-samples", "--out", out.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    for lang in ["zh-CN", "en"] {
        for name in ["home", "category", "done", "idle-warning", "result"] {
            let wav = out.join(format!("{name}-{lang}.wav"));
            let clip = concern_kiosk::speech::Clip::from_wav(&std::fs::read(&wav).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", wav.display()));
            assert!(!clip.is_silent(), "{}", wav.display());
            assert!(out.join(format!("{name}-{lang}.txt")).exists());
        }
    }
    let done = std::fs::read_to_string(out.join("done-zh-CN.txt")).unwrap();
    assert!(done.contains("请取走下面的回执"), "{done}");
    assert!(
        stdout(&output).contains("done-zh-CN.wav"),
        "{}",
        stdout(&output)
    );
}
