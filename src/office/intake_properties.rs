//! Property tests of the office's intake: arbitrary bodies and headers — raw bytes, and JSON
//! shaped like a batch whose strings carry control and format characters and run far past
//! the limits — go through the real decode, checks and store on a database in memory. The
//! intake must never panic, never answer with an unbounded message, and never store a concern
//! that breaks the kiosk's own rules.

use std::io::Write;

use chrono::DateTime;
use flate2::Compression;
use flate2::write::GzEncoder;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::{Value, json};

use super::database::Database;
use super::fixtures::{store, wait};
use super::intake::{BodyEncoding, Refusal, Upload, receive_upload};
use super::validation::{MAX_CATEGORY_CODE_CHARS, MAX_LABEL_CHARS, MAX_TICKET_PREFIX_LETTERS};
use crate::concern::{
    MAX_LOCATION_CHARS, MAX_PHRASES, MAX_TEXT_CHARS, is_hidden_char, normalise_phone,
};

/// The longest refusal any input may produce: every quoted value is cut to 64 characters, so
/// a message is a sentence or two whatever the body held.
const MAX_REFUSAL_CHARS: usize = 1000;
/// A few ids and batch ids, so that uploads of one case collide (same concern from two kiosks,
/// same batch id with other contents).
const IDS: [&str; 3] = [
    "0193a4f0-12ab-7d45-8c21-93e0b7f4a201",
    "0193a4f0-12ab-7d45-8c21-93e0b7f4a202",
    "0193a5c4-7e21-7c3a-9f10-4b2d8e6a0c11",
];

/// Text as an attacker would send it: plain, arbitrary Unicode (controls and format characters
/// included), with one invisible character planted, or one character repeated past every limit.
fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9 楼吵-]{0,12}",
        any::<String>(),
        ("[a-z]{0,5}", "[\\u{0}-\\u{1f}\\u{7f}-\\u{9f}\\u{200b}-\\u{200f}\\u{202a}-\\u{202e}\\u{2028}\\u{2029}\\u{feff}]", "[a-z]{0,5}")
            .prop_map(|(a, hidden, b)| format!("{a}{hidden}{b}")),
        (any::<char>(), 0..1200usize).prop_map(|(c, n)| c.to_string().repeat(n)),
    ]
}

/// A JSON value that is sometimes `good`, sometimes hostile text, sometimes the wrong type.
fn field(good: impl Strategy<Value = String> + 'static) -> BoxedStrategy<Value> {
    prop_oneof![
        6 => good.prop_map(Value::String),
        3 => hostile_text().prop_map(Value::String),
        1 => prop_oneof![Just(Value::Null), any::<i64>().prop_map(Value::from)],
    ]
    .boxed()
}

/// A field that decoding checks by its type (ids, times, dates, codes of enums): mostly good,
/// so that most batches get past decoding to the field checks and the store.
fn typed(good: impl Strategy<Value = String> + 'static) -> BoxedStrategy<Value> {
    prop_oneof![
        40 => good.prop_map(Value::String),
        1 => hostile_text().prop_map(Value::String),
        1 => prop_oneof![Just(Value::Null), any::<i64>().prop_map(Value::from)],
    ]
    .boxed()
}

fn bilingual() -> impl Strategy<Value = Value> {
    (field("[噪音扰民]{1,4}"), field("[A-Za-z ]{1,20}"))
        .prop_map(|(zh, en)| json!({"zh": zh, "en": en}))
}

/// An optional field: absent, or present with a value from `value`.
fn optional(value: BoxedStrategy<Value>) -> impl Strategy<Value = Option<Value>> {
    prop::option::weighted(0.6, value)
}

fn concern() -> impl Strategy<Value = Value> {
    let id = typed(prop::sample::select(IDS.to_vec()).prop_map(str::to_owned));
    let ticket = field(prop_oneof![
        "A1126-00[1-9]",
        "[A-Z]{0,4}[0-9]{3,5}-[0-9]{1,5}",
    ]);
    let created_at = typed(prop_oneof![
        Just("2026-11-26T09:41:17+08:00".to_owned()),
        Just("2026-11-27T00:10:00+08:00".to_owned()),
    ]);
    let category = field("[a-z-]{1,40}");
    let list = typed("demands|conflicts");
    let colour = typed("green|orange|red");
    let due_date = typed("2026-1[12]-0[1-9]");
    let lang = typed("zh-CN|en");
    let phrases = prop::collection::vec(bilingual(), 0..MAX_PHRASES + 3);
    let text = optional(field("[楼上吵闹a-z ]{1,30}"));
    let location = optional(field("[0-9幢单元]{1,8}"));
    let phone = optional(field(prop_oneof![
        "1[3-9][0-9]{9}",
        "0571-[0-9]{7,8}",
        "[0-9 -]{5,14}",
    ]));
    (
        (id, ticket, created_at, category, bilingual(), list, colour),
        (due_date, lang, phrases, text, location, phone),
    )
        .prop_map(
            |(
                (id, ticket, created_at, category, label, list, colour),
                (due_date, lang, phrases, text, location, phone),
            )| {
                let mut concern = json!({
                    "id": id, "ticket": ticket, "created_at": created_at, "category": category,
                    "category_label": label, "list": list, "colour": colour,
                    "due_date": due_date, "lang": lang, "phrases": phrases,
                });
                for (name, value) in [("text", text), ("location", location), ("phone", phone)] {
                    if let Some(value) = value {
                        concern[name] = value;
                    }
                }
                concern
            },
        )
}

fn batch_json() -> impl Strategy<Value = Value> {
    (
        typed(Just(crate::protocol::wire::SCHEMA.to_owned())),
        typed("wanjia-0[12]"),
        typed(prop::sample::select(IDS.to_vec()).prop_map(str::to_owned)),
        typed(Just("2026-11-26T17:30:02+08:00".to_owned())),
        prop::collection::vec(concern(), 0..4),
    )
        .prop_map(|(schema, kiosk_id, batch_id, sent_at, concerns)| {
            json!({
                "schema": schema, "kiosk_id": kiosk_id, "batch_id": batch_id,
                "sent_at": sent_at, "concerns": concerns,
            })
        })
}

/// One upload as it reaches the intake.
#[derive(Debug, Clone)]
struct Arrival {
    token_kiosk: &'static str,
    content_encoding: Option<String>,
    idempotency_key: Option<String>,
    body: Body,
}

#[derive(Debug, Clone)]
enum Body {
    Bytes(Vec<u8>),
    Json { batch: Value, gzip: bool },
}

fn arrival() -> impl Strategy<Value = Arrival> {
    let body = prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..256).prop_map(Body::Bytes),
        6 => (batch_json(), any::<bool>()).prop_map(|(batch, gzip)| Body::Json { batch, gzip }),
    ];
    let encoding = prop::option::weighted(
        0.2,
        prop_oneof![
            Just("gzip".to_owned()),
            Just("identity".to_owned()),
            any::<String>(),
        ],
    );
    let key = prop::option::of(prop_oneof![
        4 => prop::sample::select(IDS.to_vec()).prop_map(str::to_owned),
        1 => any::<String>(),
    ]);
    (
        prop::sample::select(vec!["wanjia-01", "wanjia-02"]),
        encoding,
        key,
        body,
    )
        .prop_map(
            |(token_kiosk, content_encoding, idempotency_key, body)| Arrival {
                token_kiosk,
                content_encoding,
                idempotency_key,
                body,
            },
        )
}

fn arrivals() -> impl Strategy<Value = Vec<Arrival>> {
    prop::collection::vec(arrival(), 1..4)
}

fn gzip(bytes: &[u8]) -> Result<Vec<u8>, TestCaseError> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder
        .write_all(bytes)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    encoder
        .finish()
        .map_err(|e| TestCaseError::fail(e.to_string()))
}

/// The bytes and the `Content-Encoding` the arrival carries. A JSON body is gzip'd when it
/// says so and then announced as gzip unless the arrival names another encoding.
fn wire(arrival: &Arrival) -> Result<(Vec<u8>, Option<String>), TestCaseError> {
    Ok(match &arrival.body {
        Body::Bytes(bytes) => (bytes.clone(), arrival.content_encoding.clone()),
        Body::Json { batch, gzip: false } => (
            batch.to_string().into_bytes(),
            arrival.content_encoding.clone(),
        ),
        Body::Json { batch, gzip: true } => (
            gzip(batch.to_string().as_bytes())?,
            arrival
                .content_encoding
                .clone()
                .or_else(|| Some("gzip".to_owned())),
        ),
    })
}

fn has_hidden(text: &str) -> bool {
    text.chars().any(is_hidden_char)
}

fn ticket_shape_ok(ticket: &str) -> bool {
    let letters = ticket.bytes().take_while(u8::is_ascii_uppercase).count();
    let rest = &ticket[letters..];
    (1..=MAX_TICKET_PREFIX_LETTERS).contains(&letters)
        && rest.len() >= 8
        && rest.as_bytes()[4] == b'-'
        && rest.bytes().enumerate().all(|(i, b)| {
            if i == 4 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        })
}

/// Sends every arrival of a case through the intake into one fresh database, then checks what
/// was stored.
fn check_intake(case: Vec<Arrival>) -> Result<(), TestCaseError> {
    let db = Database::in_memory();
    let received_at = DateTime::parse_from_rfc3339("2026-11-26T17:31:00+08:00")
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    for arrival in &case {
        let (body, content_encoding) = wire(arrival)?;
        let Ok(encoding) = BodyEncoding::from_header(content_encoding.as_deref()) else {
            continue;
        };
        let upload = Upload {
            token_kiosk: arrival.token_kiosk,
            encoding,
            idempotency_key: arrival.idempotency_key.as_deref(),
            body: &body,
        };
        let stored = receive_upload(upload).and_then(|decoded| {
            store(&db, &decoded.batch, &decoded.json_sha256, received_at)
                .map(|reply| (decoded.batch, reply))
                .map_err(Refusal::from)
        });
        match stored {
            Ok((batch, reply)) => {
                prop_assert_eq!(batch.kiosk_id.as_str(), arrival.token_kiosk);
                prop_assert!(reply.accepted.len() + reply.duplicates.len() <= batch.concerns.len());
            }
            Err(refusal) => {
                let message = refusal.to_string();
                prop_assert!(
                    message.chars().count() <= MAX_REFUSAL_CHARS,
                    "{} characters",
                    message.chars().count()
                );
                prop_assert!(!has_hidden(&message), "{:?}", message);
            }
        }
    }
    let stored = wait(db.concerns(None)).map_err(|e| TestCaseError::fail(e.to_string()))?;
    for stored in stored {
        let c = &stored.concern;
        prop_assert!(ticket_shape_ok(&c.ticket), "ticket {:?}", c.ticket);
        prop_assert!(
            c.category.chars().count() <= MAX_CATEGORY_CODE_CHARS
                && !c.category.is_empty()
                && c.category
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
            "category {:?}",
            c.category
        );
        prop_assert!(c.phrases.len() <= MAX_PHRASES);
        let labels = c.phrases.iter().chain([&c.category_label]);
        for label in labels {
            for text in [&label.zh, &label.en] {
                prop_assert!(text.chars().count() <= MAX_LABEL_CHARS && !has_hidden(text));
            }
        }
        if let Some(text) = &c.text {
            prop_assert!(text.chars().count() <= MAX_TEXT_CHARS && !has_hidden(text));
        }
        if let Some(location) = &c.location {
            prop_assert!(location.chars().count() <= MAX_LOCATION_CHARS && !has_hidden(location));
        }
        if let Some(phone) = &c.phone {
            let normal = normalise_phone(phone);
            prop_assert_eq!(normal.as_deref(), Some(phone.as_str()));
        }
        prop_assert!(case.iter().any(|a| a.token_kiosk == stored.kiosk_id));
    }
    Ok(())
}

proptest! {
    #![proptest_config(crate::property_runs::short())]
    #[test]
    fn the_intake_never_panics_and_never_stores_what_breaks_the_rules(case in arrivals()) {
        check_intake(case)?;
    }
}

#[test]
#[ignore = "long property run: cargo test -- --ignored"]
fn the_intake_never_panics_and_never_stores_what_breaks_the_rules_long() {
    crate::property_runs::long(
        "the_intake_never_panics_and_never_stores_what_breaks_the_rules",
        arrivals(),
        check_intake,
    );
}

/// The strategy reaches the store: a case of well-formed uploads is stored, so the property
/// above is not passing only because everything is refused.
#[test]
fn a_well_formed_arrival_is_stored() {
    let batch = json!({
        "schema": crate::protocol::wire::SCHEMA, "kiosk_id": "wanjia-01", "batch_id": IDS[2],
        "sent_at": "2026-11-26T17:30:02+08:00",
        "concerns": [{
            "id": IDS[0], "ticket": "A1126-001", "created_at": "2026-11-26T09:41:17+08:00",
            "category": "noise", "category_label": {"zh": "噪音", "en": "Noise"},
            "list": "demands", "colour": "green", "due_date": "2026-12-03", "lang": "zh-CN",
            "phrases": [{"zh": "夜间装修", "en": "Building work at night"}],
            "phone": "13812345678",
        }],
    });
    let arrival = Arrival {
        token_kiosk: "wanjia-01",
        content_encoding: None,
        idempotency_key: Some(IDS[2].to_owned()),
        body: Body::Json { batch, gzip: true },
    };
    let db = Database::in_memory();
    let (body, encoding) = wire(&arrival).unwrap();
    let upload = Upload {
        token_kiosk: arrival.token_kiosk,
        encoding: BodyEncoding::from_header(encoding.as_deref()).unwrap(),
        idempotency_key: arrival.idempotency_key.as_deref(),
        body: &body,
    };
    let received_at = DateTime::parse_from_rfc3339("2026-11-26T17:31:00+08:00").unwrap();
    let decoded = receive_upload(upload).unwrap();
    let reply = store(&db, &decoded.batch, &decoded.json_sha256, received_at).unwrap();
    assert_eq!(reply.accepted.len(), 1);
    check_intake(vec![arrival]).unwrap();
}
