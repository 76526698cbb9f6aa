//! The theme's promises, checked from the theme itself: every text colour on its background has
//! a contrast ratio of at least 7:1 (WCAG AAA), and Chinese text really reaches the screen (Slint's
//! own font has no CJK and would draw nothing at all).

mod support;

use std::sync::Arc;

use chrono::DateTime;
use concern_kiosk::clock::ManualClock;
use concern_kiosk::store::Store;
use concern_kiosk::ui::{AppWindow, Controller};
use i_slint_backend_testing::ElementHandle;
use slint::{ComponentHandle, PhysicalSize};
use support::TestKiosk;

/// WCAG AAA for body text.
const MIN_CONTRAST: f64 = 7.0;

/// `name -> (r, g, b)` for every `out property <color> name: #rrggbb;` of ui/theme.slint.
fn theme_colours() -> Vec<(String, [u8; 3])> {
    let theme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/ui/theme.slint"))
        .expect("ui/theme.slint");
    theme
        .lines()
        .filter_map(|line| {
            let rest = line.trim().strip_prefix("out property <color> ")?;
            let (name, value) = rest.split_once(':')?;
            let hex = value.trim().trim_end_matches(';').strip_prefix('#')?;
            let byte = |i: usize| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok();
            Some((name.trim().to_string(), [byte(0)?, byte(2)?, byte(4)?]))
        })
        .collect()
}

fn luminance([r, g, b]: [u8; 3]) -> f64 {
    let channel = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.03928 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
}

fn contrast(a: [u8; 3], b: [u8; 3]) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

#[test]
fn contrast_is_computed_as_wcag_says() {
    assert!((contrast([0, 0, 0], [255, 255, 255]) - 21.0).abs() < 1e-9);
    assert!((contrast([119, 119, 119], [255, 255, 255]) - 4.48).abs() < 0.01);
}

#[test]
fn every_text_colour_has_7_to_1_on_its_background() {
    let colours = theme_colours();
    let texts: Vec<_> = colours
        .iter()
        .filter_map(|(name, rgb)| Some((name.strip_suffix("-text")?, *rgb)))
        .collect();
    assert!(texts.len() >= 10, "the theme's text colours: {texts:?}");
    for (surface, text) in texts {
        let background = colours
            .iter()
            .find(|(name, _)| *name == format!("{surface}-bg"))
            .unwrap_or_else(|| panic!("`{surface}-text` has no `{surface}-bg` in the theme"))
            .1;
        let ratio = contrast(text, background);
        assert!(
            ratio >= MIN_CONTRAST,
            "{surface}: text {text:?} on {background:?} is {ratio:.2}:1, below {MIN_CONTRAST}:1"
        );
    }
}

#[test]
fn chinese_text_is_drawn_on_the_screen() {
    // The testing backend with the real software renderer (its default mock renderer draws no
    // glyphs), mock time and no event loop, as init_no_event_loop() but able to take snapshots.
    slint::platform::set_platform(Box::new(i_slint_backend_testing::TestingBackend::new(
        i_slint_backend_testing::TestingBackendOptions {
            mock_time: true,
            threading: false,
            renderer_name: Some("software".into()),
        },
    )))
    .expect("the testing backend");
    let kiosk = TestKiosk::new();
    let now = DateTime::parse_from_rfc3339("2026-11-26T10:30:00+08:00").unwrap();
    let (store, _) = Store::open(&kiosk.data_dir(), now).unwrap();
    let window = AppWindow::new().unwrap();
    window.window().set_size(PhysicalSize::new(1280, 800));
    let _controller = Controller::new(
        &window,
        kiosk.load_config(),
        store,
        Arc::new(ManualClock::new(now)),
        None,
    );
    window.show().unwrap();

    // The community's name in Chinese, top left of Home.
    let name = ElementHandle::find_by_accessible_label(&window, "万家星城社区")
        .next()
        .expect("the community name is on Home");
    let (position, size) = (name.absolute_position(), name.size());
    let snapshot = window.window().take_snapshot().expect("a snapshot");
    let width = snapshot.width() as usize;
    let pixels = snapshot.as_slice();
    let mut ink = 0;
    let mut total = 0;
    for y in position.y as usize..(position.y + size.height) as usize {
        for x in position.x as usize..(position.x + size.width) as usize {
            total += 1;
            let p = pixels[y * width + x];
            // The page is white; glyphs are near-black.
            if p.r < 128 && p.g < 128 && p.b < 128 {
                ink += 1;
            }
        }
    }
    assert!(total > 0, "the label has a size");
    let share = f64::from(ink) / f64::from(total);
    assert!(
        share > 0.05,
        "only {ink} of {total} pixels of 万家星城社区 are ink: Chinese glyphs are missing"
    );
}
