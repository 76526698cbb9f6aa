//! `concern-kiosk screenshots` renders every screen to PNG without a display.

mod support;

use std::path::{Path, PathBuf};

use support::TestKiosk;

/// A channel that moved by more than this (of 255) makes its pixel count as changed. A glyph or
/// a colour that changed moves the pixels it covers by a hundred levels or more (dark text on a
/// light ground), while rounding in the anti-aliasing of an edge moves them by a level or two.
const CHANNEL_TOLERANCE: u8 = 32;
/// At most this share of a screen's pixels may have changed against its reference. The software
/// renderer rasterises the bundled fonts deterministically, and today every screen matches its
/// reference to the pixel; this leaves room for a few stray edge pixels but not for one digit
/// changed on a screen, which covers about 200 pixels (0.05% at 800x480, 0.025% at 1280x800).
const MAX_CHANGED_SHARE: f64 = 0.000_1;
/// Any two screens must differ in at least this share of their pixels. The closest pair that is
/// meant to differ, one keypad screen in the two languages, differs in 1.6% or more; the staff
/// menu drawn twice in one language differs only in a count, under 0.06%.
const MIN_DISTINCT_SHARE: f64 = 0.005;

/// Runs `concern-kiosk screenshots` into a fresh folder, at `size` (or the default size).
fn render(kiosk: &TestKiosk, size: Option<&str>) -> PathBuf {
    let out = kiosk.dir.path().join("screens");
    let mut args = vec!["screenshots", "--out", out.to_str().unwrap()];
    args.extend(size.iter().flat_map(|size| ["--size", size]));
    let output = kiosk.command(&args).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    out
}

/// A decoded screenshot.
struct Screen {
    name: String,
    width: u32,
    height: u32,
    /// Row by row, three bytes a pixel.
    rgb: Vec<u8>,
}

/// Every PNG in `dir`, decoded, sorted by name.
fn read_screens(dir: &Path) -> Vec<Screen> {
    let mut screens: Vec<Screen> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "png"))
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let file = std::fs::File::open(&path).unwrap();
            let mut reader = png::Decoder::new(std::io::BufReader::new(file))
                .read_info()
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let mut rgb = vec![0; reader.output_buffer_size().unwrap()];
            let frame = reader
                .next_frame(&mut rgb)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(
                (frame.color_type, frame.bit_depth),
                (png::ColorType::Rgb, png::BitDepth::Eight),
                "{name}"
            );
            rgb.truncate(frame.buffer_size());
            Screen {
                name,
                width: frame.width,
                height: frame.height,
                rgb,
            }
        })
        .collect();
    screens.sort_by(|a, b| a.name.cmp(&b.name));
    screens
}

/// The share of pixels in which the two screens differ by more than [`CHANNEL_TOLERANCE`],
/// counted only up to `enough`: past it the exact figure decides nothing.
fn changed_share(a: &Screen, b: &Screen, enough: f64) -> f64 {
    assert_eq!(
        (a.width, a.height),
        (b.width, b.height),
        "{} and {} differ in size",
        a.name,
        b.name
    );
    let pixels = f64::from(a.width * a.height);
    let row_bytes = a.width as usize * 3;
    let mut changed = 0;
    for (p, q) in a
        .rgb
        .chunks_exact(row_bytes)
        .zip(b.rgb.chunks_exact(row_bytes))
    {
        // Most rows of two screens are alike to the byte; one slice comparison passes them,
        // where a debug build would take most of this test going through them pixel by pixel.
        if p == q {
            continue;
        }
        changed += p
            .chunks_exact(3)
            .zip(q.chunks_exact(3))
            .filter(|(p, q)| (0..3).any(|c| p[c].abs_diff(q[c]) > CHANNEL_TOLERANCE))
            .count();
        if changed as f64 / pixels >= enough {
            break;
        }
    }
    changed as f64 / pixels
}

/// No screen is a copy, or a near copy, of another: each is its own screen in its own language.
fn assert_every_screen_differs(screens: &[Screen]) {
    let mut alike = Vec::new();
    for (i, a) in screens.iter().enumerate() {
        for b in &screens[i + 1..] {
            let share = changed_share(a, b, MIN_DISTINCT_SHARE);
            if share < MIN_DISTINCT_SHARE {
                alike.push(format!(
                    "{} ~ {}: {:.4}% differ",
                    a.name,
                    b.name,
                    share * 100.0
                ));
            }
        }
    }
    assert!(alike.is_empty(), "screens alike: {alike:#?}");
}

/// Each screen looks like its committed reference in `docs/screens/{size}/`, the pictures the
/// README shows, so a screen that changes without anyone looking at it fails here.
fn assert_matches_references(screens: &[Screen], size: &str) {
    let references = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs/screens")
        .join(size);
    let reference_screens = read_screens(&references);
    let names = |screens: &[Screen]| screens.iter().map(|s| s.name.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(screens),
        names(&reference_screens),
        "{}",
        references.display()
    );
    let changed: Vec<String> = screens
        .iter()
        .zip(&reference_screens)
        .map(|(screen, reference)| (&screen.name, changed_share(screen, reference, 1.0)))
        .filter(|&(_, share)| share > MAX_CHANGED_SHARE)
        .map(|(name, share)| format!("{name}: {:.4}% changed", share * 100.0))
        .collect();
    assert!(
        changed.is_empty(),
        "unlike the references in {}: {changed:#?}\nlook at them; if the change is meant, \
         regenerate them with `cargo run -- screenshots --out docs/screens/{size} --size {size}`",
        references.display()
    );
}

#[test]
fn screenshots_writes_every_screen_in_both_languages() {
    let kiosk = TestKiosk::new();
    let out = render(&kiosk, Some("800x480"));
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for expected in [
        "zh-CN-01-home.png",
        "en-01-home.png",
        "zh-CN-06-writing.png",
        "en-05-writing-keyboard.png",
        "zh-CN-12-idle-warning.png",
        "en-14-done-printer-fault.png",
        "zh-CN-16-staff-menu.png",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} in {names:?}"
        );
    }
    assert_eq!(names.len(), 50);
    // A real 800x480 PNG, not an empty file.
    let png = std::fs::read(out.join("zh-CN-01-home.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    assert_eq!(u32::from_be_bytes(png[16..20].try_into().unwrap()), 800);
    assert_eq!(u32::from_be_bytes(png[20..24].try_into().unwrap()), 480);

    let screens = read_screens(&out);
    assert_every_screen_differs(&screens);
    assert_matches_references(&screens, "800x480");
}

#[test]
fn the_default_size_is_the_10_inch_panel_and_matches_its_references() {
    let kiosk = TestKiosk::new();
    let screens = read_screens(&render(&kiosk, None));
    assert!(
        screens.iter().all(|s| (s.width, s.height) == (1280, 800)),
        "every screen at 1280x800"
    );
    assert_every_screen_differs(&screens);
    assert_matches_references(&screens, "1280x800");
}

#[test]
fn a_bad_size_is_refused_with_exit_code_2() {
    let kiosk = TestKiosk::new();
    let output = kiosk
        .command(&["screenshots", "--out", "x", "--size", "big"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("WIDTHxHEIGHT"));
}
