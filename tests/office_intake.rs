//! What the office refuses to believe in a batch, through the real server and a real SQLite
//! file: fields beyond the kiosk's own limits or with invisible characters (422 naming the
//! field), a concern id already held from another kiosk (409), a batch id reused for other
//! contents (422), and values echoed back in errors, cut short.

mod office_support;

use concern_kiosk::concern::{Bilingual, MAX_LOCATION_CHARS, MAX_PHRASES, MAX_TEXT_CHARS};
use concern_kiosk::protocol::wire::WireConcern;
use office_support::*;
use reqwest::StatusCode;

/// Each way a concern can break the kiosk's own rules, and the 422 message that names it.
fn broken_concerns() -> Vec<(WireConcern, &'static str)> {
    let good = || noise_concern(1);
    let with = |change: &dyn Fn(&mut WireConcern)| {
        let mut concern = good();
        change(&mut concern);
        concern
    };
    let phrase = Bilingual {
        zh: "夜间装修".into(),
        en: "Building work at night".into(),
    };
    vec![
        (
            with(&|c| c.text = Some("吵".repeat(612))),
            "concerns[1].text: 612 characters, at most 500",
        ),
        (
            with(&|c| c.location = Some("3".repeat(MAX_LOCATION_CHARS + 1))),
            "concerns[1].location: 61 characters, at most 60",
        ),
        (
            with(&|c| c.phrases = vec![phrase.clone(); MAX_PHRASES + 1]),
            "concerns[1].phrases: 6 phrases, at most 5",
        ),
        (
            with(&|c| c.phrases[0].zh = "装".repeat(101)),
            "concerns[1].phrases[0].zh: 101 characters, at most 100",
        ),
        (
            with(&|c| c.category_label.en = "N".repeat(101)),
            "concerns[1].category_label.en: 101 characters, at most 100",
        ),
        (
            with(&|c| c.phone = Some("138 1234 5678".into())),
            "concerns[1].phone: `138 1234 5678` is not a phone number as the kiosk writes it",
        ),
        (
            with(&|c| c.phone = Some("12345".into())),
            "concerns[1].phone: `12345` is not a phone number as the kiosk writes it",
        ),
        (
            with(&|c| c.ticket = "=HYPERLINK(\"x\")".into()),
            "concerns[1].ticket: `=HYPERLINK(\"x\")` is not a ticket number",
        ),
        (
            with(&|c| c.ticket = "ABCD1126-002".into()),
            "concerns[1].ticket: `ABCD1126-002` is not a ticket number",
        ),
        (
            with(&|c| c.ticket = "A1126-02".into()),
            "concerns[1].ticket: `A1126-02` is not a ticket number",
        ),
        (
            with(&|c| c.ticket = "A1126-0002".into()),
            "concerns[1].ticket: `A1126-0002` is not a ticket number",
        ),
        (
            with(&|c| c.ticket = "A1127-002".into()),
            "concerns[1].ticket: `A1127-002` is dated 11-27, but the concern was filed on 2026-11-26",
        ),
        (
            with(&|c| c.category = "Noise!".into()),
            "concerns[1].category: `Noise!` is not a category code",
        ),
        (
            with(&|c| c.category = "n".repeat(33)),
            "concerns[1].category: 33 characters, at most 32",
        ),
        (
            with(&|c| c.due_date = chrono::NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()),
            "concerns[1].due_date: 2026-11-25 is before the filing date 2026-11-26",
        ),
        (
            with(&|c| {
                c.phrases.clear();
                c.text = None;
            }),
            "concerns[1]: neither phrases nor text",
        ),
        // Invisible characters: a kiosk strips them before upload, so a batch with them did
        // not come from an honest kiosk.
        (
            with(&|c| c.text = Some("楼上\u{202E}吵闹".into())),
            "concerns[1].text: contains U+202E (an invisible control or format character) at character 3",
        ),
        (
            with(&|c| c.location = Some("3幢\u{2028}2单元".into())),
            "concerns[1].location: contains U+2028",
        ),
        (
            with(&|c| c.category_label.zh = "噪音\u{200B}扰民".into()),
            "concerns[1].category_label.zh: contains U+200B",
        ),
        (
            with(&|c| c.phrases[1].en = "loud\u{7}".into()),
            "concerns[1].phrases[1].en: contains U+0007",
        ),
        (
            with(&|c| c.ticket = "A1126-002\u{FEFF}".into()),
            "concerns[1].ticket: contains U+FEFF",
        ),
        (
            with(&|c| c.text = Some("楼上\r\n吵闹".into())),
            "concerns[1].text: contains U+000D",
        ),
    ]
}

#[tokio::test]
async fn a_field_beyond_the_kiosks_rules_is_422_naming_it_and_nothing_is_stored() {
    let office = TestOffice::start().await;
    for (broken, expected) in broken_concerns() {
        let sent = batch(KIOSK_A, vec![noise_concern(0), broken]);
        let response = office.post_batch(TOKEN_A, &sent).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{expected}"
        );
        let message = error_text(response).await;
        assert!(
            message.starts_with(expected),
            "{message}\nexpected: {expected}"
        );
    }
    assert_eq!(office.count("SELECT count(*) FROM concerns"), 0);
    assert_eq!(office.count("SELECT count(*) FROM batches"), 0);

    // At the limits themselves, everything is stored.
    let mut full = noise_concern(1);
    full.text = Some("吵".repeat(MAX_TEXT_CHARS));
    full.location = Some("3".repeat(MAX_LOCATION_CHARS));
    full.phone = Some("0571-88886666".into());
    let reply = office.upload(TOKEN_A, &batch(KIOSK_A, vec![full])).await;
    assert_eq!(reply.accepted.len(), 1);
}

#[tokio::test]
async fn a_15_mib_text_from_15_kib_of_gzip_is_refused_without_echoing_it() {
    let office = TestOffice::start().await;
    let mut concern = noise_concern(0);
    concern.text = Some("x".repeat(15 * 1024 * 1024));
    let body = gzip(&serde_json::to_vec(&batch(KIOSK_A, vec![concern])).unwrap());
    assert!(body.len() < 32 * 1024, "{} bytes", body.len());

    let response = office
        .post_raw(Some(TOKEN_A), None, Some("gzip"), body)
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        error_text(response).await,
        "concerns[0].text: 15728640 characters, at most 500"
    );
    assert_eq!(office.count("SELECT count(*) FROM concerns"), 0);
}

/// The longest a value may be when an error quotes it, plus the `…` that says it was cut.
const ECHO_CHARS: usize = 64;

/// The part of `message` between the first `open` and the next `close`.
fn quoted<'m>(message: &'m str, open: &str, close: &str) -> &'m str {
    let start = message.find(open).expect("the value is quoted") + open.len();
    let rest = &message[start..];
    &rest[..rest.find(close).expect("the quote ends")]
}

#[tokio::test]
async fn values_quoted_in_errors_are_cut_to_64_characters_without_control_characters() {
    let office = TestOffice::start().await;
    let huge = format!("\u{1b}[2J\u{202E}{}", "S".repeat(15 * 1024 * 1024));
    let cut = format!("[2J{}…", "S".repeat(ECHO_CHARS - 3));

    let mut sent = batch(KIOSK_A, vec![noise_concern(0)]);
    sent.schema = huge.clone();
    let response = office.post_batch(TOKEN_A, &sent).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let message = error_text(response).await;
    assert_eq!(quoted(&message, "schema \"", "\"; "), cut, "{message}");

    let mut sent = batch(KIOSK_A, vec![noise_concern(0)]);
    sent.kiosk_id = huge.clone();
    let response = office.post_batch(TOKEN_A, &sent).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let message = error_text(response).await;
    assert_eq!(quoted(&message, "from kiosk `", "`: "), cut, "{message}");

    // serde quotes an unknown value in its message: cut there too.
    let json = serde_json::to_string(&batch(KIOSK_A, vec![noise_concern(0)]))
        .unwrap()
        .replace(
            "\"colour\":\"green\"",
            &format!("\"colour\":\"{}\"", "p".repeat(1 << 20)),
        );
    let response = office
        .post_raw(Some(TOKEN_A), None, Some("gzip"), gzip(json.as_bytes()))
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let message = error_text(response).await;
    assert_eq!(
        quoted(&message, "unknown variant `", "`"),
        format!("{}…", "p".repeat(ECHO_CHARS))
    );
    assert!(message.contains("expected one of `green`"), "{message}");

    let long_key = "k".repeat(8 * 1024);
    let plain = serde_json::to_vec(&batch(KIOSK_A, vec![noise_concern(0)])).unwrap();
    let response = office
        .post_raw(Some(TOKEN_A), Some(&long_key), None, plain)
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let message = error_text(response).await;
    assert_eq!(
        quoted(&message, "Idempotency-Key header `", "`"),
        format!("{}…", "k".repeat(ECHO_CHARS))
    );

    let response = office
        .post_raw(Some(TOKEN_A), None, Some(&long_key), b"{}".to_vec())
        .await;
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let message = error_text(response).await;
    assert_eq!(
        quoted(&message, "Content-Encoding `", "`"),
        format!("{}…", "k".repeat(ECHO_CHARS))
    );

    let mut concern = noise_concern(0);
    concern.phone = Some(format!("\u{7}{}", "1".repeat(1 << 20)));
    let response = office
        .post_batch(TOKEN_A, &batch(KIOSK_A, vec![concern]))
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let message = error_text(response).await;
    assert!(message.len() < 300, "{} bytes", message.len());
    assert_eq!(office.count("SELECT count(*) FROM concerns"), 0);
}

#[tokio::test]
async fn a_concern_id_held_from_another_kiosk_is_409_and_the_whole_batch_is_refused() {
    let office = TestOffice::start().await;
    let first = noise_concern(0);
    office
        .upload(TOKEN_A, &batch(KIOSK_A, vec![first.clone()]))
        .await;

    // Kiosk B sends a concern with the same id and other contents, beside a fresh one.
    let mut clash = first.clone();
    clash.text = Some("overwritten?".into());
    let fresh = neighbour_concern(3);
    let response = office
        .post_batch(TOKEN_B, &batch(KIOSK_B, vec![fresh.clone(), clash]))
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let message = error_text(response).await;
    assert!(
        message.starts_with(&format!(
            "concern {} is already stored from kiosk `{KIOSK_A}`; kiosk `{KIOSK_B}` cannot send it too",
            first.id
        )),
        "{message}"
    );

    let stored = office.db.query(
        "SELECT kiosk_id, text FROM concerns WHERE id = $1",
        &[&first.id.to_string()],
    );
    assert_eq!(stored, [[Some(KIOSK_A.to_string()), first.text.clone()]]);
    assert_eq!(
        office.count("SELECT count(*) FROM concerns"),
        1,
        "fresh not stored"
    );
    assert_eq!(
        office.count("SELECT count(*) FROM batches WHERE kiosk_id = 'wanjia-02'"),
        0
    );

    // The same concern from its own kiosk is still a plain duplicate.
    let reply = office
        .upload(TOKEN_A, &batch(KIOSK_A, vec![first.clone()]))
        .await;
    assert_eq!(reply.duplicates, vec![first.id]);
}

#[tokio::test]
async fn a_batch_id_sent_again_with_other_contents_is_422_and_the_same_bytes_are_duplicates() {
    let office = TestOffice::start().await;
    let sent = batch(KIOSK_A, vec![noise_concern(0)]);
    office.upload(TOKEN_A, &sent).await;

    let mut changed = sent.clone();
    changed.concerns.push(noise_concern(1));
    let response = office.post_batch(TOKEN_A, &changed).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let message = error_text(response).await;
    assert!(
        message.starts_with(&format!(
            "batch {} was already received with other contents",
            sent.batch_id
        )),
        "{message}"
    );
    assert_eq!(office.count("SELECT count(*) FROM concerns"), 1);
    assert_eq!(office.count("SELECT count(*) FROM batches"), 1);

    let again = office.upload(TOKEN_A, &sent).await;
    assert_eq!(again.duplicates, ids(&sent.concerns));
    assert_eq!(office.count("SELECT count(*) FROM batches"), 2);
}

#[tokio::test]
async fn a_huge_value_is_not_written_to_the_log() {
    let office = RunningOffice::start(&[]);
    let url = format!("http://{}/v1/batches", office.addr);
    for field in ["schema", "kiosk_id"] {
        let mut sent = serde_json::to_value(batch(KIOSK_A, vec![noise_concern(0)])).unwrap();
        sent[field] = serde_json::Value::String(format!("\u{1b}[2J{}", "S".repeat(15 << 20)));
        let response = client()
            .post(&url)
            .bearer_auth(TOKEN_A)
            .header("Content-Encoding", "gzip")
            .body(gzip(sent.to_string().as_bytes()))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_client_error(), "{}", response.status());
    }
    assert!(office.logs("refused a batch from kiosk `wanjia-01`: 403"));
    let log = office.log();
    assert!(log.len() < 4096, "{} bytes of log", log.len());
    assert!(!log.contains('\u{1b}'), "{log}");
}

#[tokio::test]
async fn a_long_path_or_list_is_cut_in_the_answer() {
    let office = TestOffice::start().await;
    let long = "z".repeat(4096);
    let response = office
        .export(Some(STAFF_TOKEN), &format!("?list={long}"))
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let message = error_text(response).await;
    assert_eq!(
        quoted(&message, "there is no list `", "`"),
        format!("{}…", "z".repeat(ECHO_CHARS))
    );
    let response = office
        .http
        .get(office.url(&format!("/{long}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let message = error_text(response).await;
    assert!(message.len() < 300, "{} bytes", message.len());
}
