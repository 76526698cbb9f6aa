//! `concern-kiosk screenshots` renders every screen to PNG without a display.

mod support;

use support::TestKiosk;

#[test]
fn screenshots_writes_every_screen_in_both_languages() {
    let kiosk = TestKiosk::new();
    let out = kiosk.dir.path().join("screens");
    let output = kiosk
        .command(&[
            "screenshots",
            "--out",
            out.to_str().unwrap(),
            "--size",
            "800x480",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for expected in [
        "zh-CN-01-home.png",
        "en-01-home.png",
        "zh-CN-10-idle-warning.png",
        "en-12-done-printer-fault.png",
        "zh-CN-14-staff-menu.png",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} in {names:?}"
        );
    }
    assert_eq!(names.len(), 30);
    // A real 800x480 PNG, not an empty file.
    let png = std::fs::read(out.join("zh-CN-01-home.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    assert_eq!(u32::from_be_bytes(png[16..20].try_into().unwrap()), 800);
    assert_eq!(u32::from_be_bytes(png[20..24].try_into().unwrap()), 480);
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
