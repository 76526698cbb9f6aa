//! Spoken guidance through the real espeak-ng: every resident screen's prompt is real speech
//! of a plausible length in both languages, Chinese gets Mandarin tones rather than English
//! letter names, clips are cached, and `speech-samples` writes what a reviewer listens to. The
//! speaker, on a sink that records instead of playing: a new prompt cuts the last one short, a
//! prompt said again is heard again, and the volume goes back to the configured level for the
//! next resident.

mod support;

use concern_kiosk::concern::Lang;
use concern_kiosk::config::Config;
use concern_kiosk::speech::{ClipCache, Prompt, Source, Spoken, every_screen};
use support::recording_sink::{HEARD_WITHIN, RecordingSink, engine, recording_speaker};
use support::{TestKiosk, stderr, stdout};

/// What a screen's prompt may last: long enough to be words, short enough that a resident
/// is not kept listening.
const SHORTEST_SECONDS: f64 = 0.3;
const LONGEST_SECONDS: f64 = 15.0;

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

#[test]
fn a_new_prompt_cuts_the_one_being_spoken_short() {
    let dir = tempfile::tempdir().unwrap();
    let sink = RecordingSink::fast();
    let (speaker, heard) = recording_speaker(dir.path(), sink.clone(), 80);
    let home = Prompt::Home.text(Lang::ZhCn);
    speaker.say(home.clone(), Lang::ZhCn);
    sink.wait_until_playing();
    // The resident taps a button: its label is said instead.
    let tapped = Prompt::Tapped {
        label: "报修设施".into(),
    }
    .text(Lang::ZhCn);
    speaker.say(tapped.clone(), Lang::ZhCn);
    match heard.recv_timeout(HEARD_WITHIN).unwrap() {
        Spoken::CutShort {
            text,
            after_samples,
        } => {
            assert_eq!(text, home);
            assert!(after_samples > 0);
        }
        other => panic!("the first prompt was not cut short: {other:?}"),
    }
    assert_eq!(
        heard.recv_timeout(HEARD_WITHIN).unwrap(),
        Spoken::Whole {
            text: tapped,
            volume: 80
        }
    );
}

#[test]
fn the_volume_staff_set_lasts_until_the_next_resident() {
    let dir = tempfile::tempdir().unwrap();
    let (speaker, heard) = recording_speaker(dir.path(), RecordingSink::fast(), 80);
    let words = Prompt::Rate.text(Lang::En);
    speaker.set_volume(40);
    speaker.say(words.clone(), Lang::En);
    assert_eq!(
        heard.recv_timeout(HEARD_WITHIN).unwrap(),
        Spoken::Whole {
            text: words.clone(),
            volume: 40
        }
    );
    speaker.new_resident();
    assert_eq!(speaker.volume(), 80);
    speaker.say(words.clone(), Lang::En);
    assert_eq!(
        heard.recv_timeout(HEARD_WITHIN).unwrap(),
        Spoken::Whole {
            text: words,
            volume: 80
        }
    );
}

#[test]
fn the_same_prompt_said_again_is_heard_again() {
    let dir = tempfile::tempdir().unwrap();
    let (speaker, heard) = recording_speaker(dir.path(), RecordingSink::fast(), 70);
    let words = Prompt::Category.text(Lang::ZhCn);
    for _ in 0..2 {
        speaker.say(words.clone(), Lang::ZhCn);
        assert_eq!(
            heard.recv_timeout(HEARD_WITHIN).unwrap(),
            Spoken::Whole {
                text: words.clone(),
                volume: 70
            }
        );
    }
}

#[test]
fn without_a_sound_device_or_espeak_ng_doctor_says_speech_is_off_and_why() {
    let kiosk = TestKiosk::new();
    let speech_line = |output: &std::process::Output| -> String {
        stdout(output)
            .lines()
            .find(|l| l.contains("speech"))
            .unwrap_or_else(|| panic!("no speech line in {}", stdout(output)))
            .to_string()
    };
    // ALSA without its configuration finds no device.
    let output = kiosk
        .command(&["doctor"])
        .env("ALSA_CONFIG_PATH", kiosk.dir.path().join("no-alsa.conf"))
        .output()
        .unwrap();
    let line = speech_line(&output);
    assert!(
        line.starts_with("WARN") && line.contains("off: no sound device"),
        "{line}"
    );
    // No espeak-ng on the PATH: said, with the package to install.
    let output = kiosk
        .command(&["doctor"])
        .env("PATH", kiosk.dir.path())
        .output()
        .unwrap();
    let line = speech_line(&output);
    assert!(
        line.starts_with("WARN") && line.contains("install the espeak-ng package"),
        "{line}"
    );
}
