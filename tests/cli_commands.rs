//! The public command line as a script or a staff member uses it: `submit`, `list`, `export`.

mod support;

use support::{TestKiosk, open_db, stderr, stdout};

fn concern_count(kiosk: &TestKiosk) -> i64 {
    if !kiosk.db_path().exists() {
        return 0;
    }
    open_db(&kiosk.db_path())
        .query_row("SELECT count(*) FROM concerns", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn submit_prints_only_the_ticket_number_on_stdout() {
    let kiosk = TestKiosk::new();
    let output = kiosk.run(&[
        "submit",
        "--category",
        "repairs",
        "--phrase",
        "电梯坏了",
        "--phrase",
        "2",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let out = stdout(&output);
    let ticket = out.trim();
    assert_eq!(out, format!("{ticket}\n"));
    let (prefix, number) = ticket.split_once('-').unwrap();
    assert!(prefix.starts_with('A') && prefix.len() == 5, "{ticket}");
    assert_eq!(number, "001");
    assert!(stderr(&output).contains(&format!("filed {ticket}")));
}

#[test]
fn bad_input_is_refused_with_exit_2_and_nothing_is_stored() {
    let kiosk = TestKiosk::new();
    let long_text = "字".repeat(501);
    let cases: [(&[&str], &str); 6] = [
        (
            &["submit", "--category", "weather", "--phrase", "1"],
            "unknown category",
        ),
        (
            &["submit", "--category", "noise", "--phrase", "too quiet"],
            "is not a phrase",
        ),
        (
            &[
                "submit",
                "--category",
                "noise",
                "--phrase",
                "1",
                "--phone",
                "110",
            ],
            "not a phone number",
        ),
        (
            &["submit", "--category", "noise", "--text", &long_text],
            "at most 500",
        ),
        (&["submit", "--category", "noise"], "says nothing"),
        (
            &[
                "submit",
                "--category",
                "noise",
                "--phrase",
                "1",
                "--lang",
                "fr",
            ],
            "zh-CN or en",
        ),
    ];
    for (args, message) in cases {
        let output = kiosk.run(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&output).contains(message),
            "{args:?}: {}",
            stderr(&output)
        );
        assert_eq!(stdout(&output), "", "{args:?}");
    }
    assert_eq!(concern_count(&kiosk), 0);
}

#[test]
fn list_shows_a_line_per_concern_of_the_day() {
    let kiosk = TestKiosk::new();
    for phrase in ["1", "2", "3"] {
        assert!(
            kiosk
                .run(&["submit", "--category", "sanitation", "--phrase", phrase])
                .status
                .success()
        );
    }
    let output = kiosk.run(&["list"]);
    assert!(output.status.success());
    let listing = stdout(&output);
    assert_eq!(listing.lines().count(), 3, "{listing}");
    assert!(
        listing
            .lines()
            .all(|l| l.contains("sanitation") && l.contains("green"))
    );
    let empty = kiosk.run(&["list", "--date", "2020-01-01"]);
    assert_eq!(stdout(&empty), "");
    let bad = kiosk.run(&["list", "--date", "26/11/2026"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn csv_export_has_a_bom_every_field_and_chinese_intact() {
    let kiosk = TestKiosk::new();
    let filed = kiosk.run(&[
        "submit",
        "--category",
        "noise",
        "--phrase",
        "1",
        "--text",
        "楼上半夜装修，吵得睡不着",
        "--location",
        "3幢2单元",
        "--phone",
        "138 1234 5678",
    ]);
    let ticket = stdout(&filed).trim().to_string();
    let output = kiosk.run(&["export", "--format", "csv"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let bytes = output.stdout;
    assert_eq!(
        &bytes[..3],
        b"\xEF\xBB\xBF",
        "spreadsheets need the UTF-8 byte-order mark"
    );
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    let headers: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    // Spelled out rather than read from the library, which would compare the code with itself:
    // whatever reads the export (a spreadsheet macro, an import at the office) relies on these
    // names in this order, so renaming, dropping or moving a column has to fail here.
    assert_eq!(
        headers,
        [
            "id",
            "ticket",
            "created_at",
            "category",
            "category_zh",
            "category_en",
            "list",
            "colour",
            "due_date",
            "lang",
            "phrases_zh",
            "phrases_en",
            "text",
            "location",
            "phone",
            "receipt",
            "upload",
            "uploaded_at",
            "personal_erased_at",
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>().unwrap();
    assert_eq!(rows.len(), 1);
    let field = |name: &str| rows[0][headers.iter().position(|h| h == name).unwrap()].to_string();
    assert_eq!(field("ticket"), ticket);
    assert_eq!(field("category"), "noise");
    assert_eq!(field("category_zh"), "噪音扰民");
    assert_eq!(field("list"), "conflicts");
    assert_eq!(field("colour"), "orange");
    assert_eq!(field("text"), "楼上半夜装修，吵得睡不着");
    assert_eq!(field("location"), "3幢2单元");
    assert_eq!(field("phone"), "13812345678");
    assert_eq!(field("lang"), "zh-CN");
    assert_eq!(field("receipt"), "done", "the spool printer printed it");
    assert_eq!(field("upload"), "pending");
    assert!(!field("phrases_zh").is_empty() && !field("phrases_en").is_empty());
    assert_eq!(field("id").len(), 36);
}

#[test]
fn json_export_holds_every_field_and_honours_the_date_range() {
    let kiosk = TestKiosk::new();
    kiosk.run(&["submit", "--category", "safety", "--phrase", "1"]);
    let output = kiosk.run(&["export", "--format", "json"]);
    let records: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let record = &records[0];
    for key in [
        "id",
        "ticket",
        "created_at",
        "category",
        "category_label",
        "list",
        "colour",
        "due_date",
        "lang",
        "phrases",
        "text",
        "location",
        "phone",
        "receipt",
        "upload",
    ] {
        assert!(record.get(key).is_some(), "missing {key} in {record}");
    }
    assert_eq!(record["colour"], "red");
    let none = kiosk.run(&["export", "--format", "json", "--until", "2020-01-01"]);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&none.stdout).unwrap(),
        serde_json::json!([])
    );
    let backwards = kiosk.run(&[
        "export",
        "--format",
        "csv",
        "--since",
        "2026-02-01",
        "--until",
        "2026-01-01",
    ]);
    assert_eq!(backwards.status.code(), Some(2));
}
