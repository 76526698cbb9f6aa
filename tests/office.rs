//! The reference office (`concern-office`) as a kiosk and a staff member meet it: a real server
//! on 127.0.0.1, real HTTP, a real SQLite file. Assertions are on what a person would see —
//! the stored rows, the CSV cells, the error text.

mod office_support;

use chrono::DateTime;
use concern_kiosk::office::TokenTable;
use concern_kiosk::protocol::wire::{BatchReply, WireConcern};
use office_support::*;
use reqwest::StatusCode;
use uuid::Uuid;

#[tokio::test]
async fn a_batch_is_stored_with_every_field_and_answered_accepted() {
    let office = TestOffice::start().await;
    let concerns = vec![noise_concern(0), neighbour_concern(5)];
    let sent = batch(KIOSK_A, concerns.clone());

    let reply = office.upload(TOKEN_A, &sent).await;

    assert_eq!(reply.accepted, ids(&concerns));
    assert!(reply.duplicates.is_empty());
    let row = office.db.query(
        "SELECT ticket, kiosk_id, batch_id, category_zh, text, phone, created_at, due_date
         FROM concerns WHERE id = $1",
        &[&concerns[0].id.to_string()],
    );
    let text = |s: &str| Some(s.to_string());
    assert_eq!(
        row,
        [[
            text("A1126-001"),
            text(KIOSK_A),
            text(&sent.batch_id.to_string()),
            text("噪音扰民"),
            text("楼上每天晚上十点以后还在电钻, \"老人睡不着\""),
            text("13812345678"),
            text("2026-11-26T09:00:00+08:00"),
            text("2026-12-03"),
        ]]
    );
    let anonymous_phone = office.db.query(
        "SELECT phone FROM concerns WHERE id = $1",
        &[&concerns[1].id.to_string()],
    );
    assert_eq!(anonymous_phone, [[None]]);
    // And read back through the library, every field is what the kiosk sent.
    let stored = office_on(&office.db)
        .await
        .db()
        .concerns(None)
        .await
        .unwrap();
    let stored: Vec<WireConcern> = stored.into_iter().map(|s| s.concern).collect();
    assert_eq!(stored, concerns);
}

#[tokio::test]
async fn the_same_batch_again_is_all_duplicates_and_nothing_is_stored_twice() {
    let office = TestOffice::start().await;
    let concerns = vec![noise_concern(0), noise_concern(1), neighbour_concern(2)];
    let sent = batch(KIOSK_A, concerns.clone());

    office.upload(TOKEN_A, &sent).await;
    let again = office.upload(TOKEN_A, &sent).await;

    assert!(again.accepted.is_empty(), "{again:?}");
    assert_eq!(again.duplicates, ids(&concerns));
    assert_eq!(office.count("SELECT count(*) FROM concerns"), 3);
    // Both arrivals are in the batch log: that is how the office sees a kiosk that retried.
    assert_eq!(
        office.count("SELECT count(*) FROM batches WHERE accepted = 3 AND duplicates = 0"),
        1
    );
    assert_eq!(
        office.count("SELECT count(*) FROM batches WHERE accepted = 0 AND duplicates = 3"),
        1
    );
}

#[tokio::test]
async fn a_concern_already_held_is_a_duplicate_in_a_new_batch() {
    let office = TestOffice::start().await;
    let first = noise_concern(0);
    office
        .upload(TOKEN_A, &batch(KIOSK_A, vec![first.clone()]))
        .await;

    let fresh = noise_concern(1);
    let reply = office
        .upload(TOKEN_A, &batch(KIOSK_A, vec![first.clone(), fresh.clone()]))
        .await;
    assert_eq!(reply.accepted, vec![fresh.id]);
    assert_eq!(reply.duplicates, vec![first.id]);
    assert_eq!(office.count("SELECT count(*) FROM concerns"), 2);
}

#[tokio::test]
async fn stored_concerns_are_remembered_after_the_office_restarts() {
    let office = TestOffice::start().await;
    let sent = batch(KIOSK_A, vec![noise_concern(0)]);
    office.upload(TOKEN_A, &sent).await;

    let restarted = start_office_on(&office.db).await;
    let response = client()
        .post(format!("http://{restarted}/v1/batches"))
        .bearer_auth(TOKEN_A)
        .header("Content-Encoding", "gzip")
        .body(gzip(&serde_json::to_vec(&sent).unwrap()))
        .send()
        .await
        .unwrap();
    let reply: BatchReply = response.json().await.unwrap();
    assert_eq!(reply.duplicates, ids(&sent.concerns));
    assert!(reply.accepted.is_empty());
}

#[tokio::test]
async fn an_empty_batch_and_an_uncompressed_batch_are_accepted() {
    let office = TestOffice::start().await;
    let empty = office.upload(TOKEN_A, &batch(KIOSK_A, vec![])).await;
    assert_eq!(empty, BatchReply::default());

    let sent = batch(KIOSK_A, vec![noise_concern(0)]);
    let response = office
        .post_raw(
            Some(TOKEN_A),
            None,
            Some("identity"),
            serde_json::to_vec(&sent).unwrap(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let reply: BatchReply = response.json().await.unwrap();
    assert_eq!(reply.accepted, ids(&sent.concerns));
}

#[tokio::test]
async fn several_kiosks_at_once_each_concern_stored_once() {
    let office = TestOffice::start().await;
    let shared: Vec<WireConcern> = (0..20).map(noise_concern).collect();
    let mut uploads = Vec::new();
    // Eight simultaneous batches from two kiosks, all carrying the same 20 concerns: one
    // kiosk's batch commits first, the other kiosk's are refused as id clashes (409).
    for round in 0..8 {
        let (kiosk, token) = if round % 2 == 0 {
            (KIOSK_A, TOKEN_A)
        } else {
            (KIOSK_B, TOKEN_B)
        };
        let sent = batch(kiosk, shared.clone());
        let office_url = office.url("/v1/batches");
        let http = office.http.clone();
        uploads.push(tokio::spawn(async move {
            let body = gzip(&serde_json::to_vec(&sent).unwrap());
            // A busy office (503) is asked again, as the kiosk does.
            let response = loop {
                let response = http
                    .post(&office_url)
                    .bearer_auth(token)
                    .header("Content-Encoding", "gzip")
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap();
                if response.status() != StatusCode::SERVICE_UNAVAILABLE {
                    break response;
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            };
            let status = response.status();
            let reply = (status == StatusCode::OK).then_some(response.json::<BatchReply>());
            let reply = match reply {
                Some(json) => Some(json.await.unwrap()),
                None => None,
            };
            (kiosk, status, reply)
        }));
    }
    let mut accepted_total = 0;
    let mut stored_from = Vec::new();
    for upload in uploads {
        let (kiosk, status, reply) = upload.await.unwrap();
        match reply {
            Some(reply) => {
                assert_eq!(reply.accepted.len() + reply.duplicates.len(), 20);
                accepted_total += reply.accepted.len();
                stored_from.push(kiosk);
            }
            None => assert_eq!(status, StatusCode::CONFLICT),
        }
    }
    stored_from.dedup();
    assert_eq!(stored_from.len(), 1, "only one kiosk's batches are stored");
    assert_eq!(accepted_total, 20, "each concern is accepted exactly once");
    assert_eq!(office.count("SELECT count(*) FROM concerns"), 20);
    assert_eq!(
        office.count("SELECT count(DISTINCT kiosk_id) FROM concerns"),
        1
    );
    assert_eq!(office.count("SELECT count(*) FROM batches"), 4);
}

#[tokio::test]
async fn a_token_uploads_only_for_its_own_kiosk() {
    let office = TestOffice::start().await;
    let response = office
        .post_batch(TOKEN_A, &batch(KIOSK_B, vec![noise_concern(0)]))
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        error_text(response).await,
        "this token belongs to kiosk `wanjia-01` but the batch comes from kiosk `wanjia-02`: each kiosk must use its own token"
    );

    let response = office
        .post_batch(STAFF_TOKEN, &batch(KIOSK_A, vec![noise_concern(0)]))
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(
        error_text(response)
            .await
            .contains("may read exports but not upload")
    );
    assert_eq!(office.count("SELECT count(*) FROM concerns"), 0);
}

#[tokio::test]
async fn a_missing_or_unknown_token_is_401() {
    let office = TestOffice::start().await;
    let body = gzip(&serde_json::to_vec(&batch(KIOSK_A, vec![noise_concern(0)])).unwrap());

    let response = office
        .post_raw(None, None, Some("gzip"), body.clone())
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    assert!(error_text(response).await.starts_with("no token"));

    let response = office
        .post_raw(Some("token-of-wanjia-01-5f2c9b"), None, Some("gzip"), body)
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(
        error_text(response)
            .await
            .starts_with("this token is not known to the office")
    );
    assert_eq!(office.count("SELECT count(*) FROM concerns"), 0);
}

#[tokio::test]
async fn malformed_json_is_400_with_the_parse_error() {
    let office = TestOffice::start().await;
    let json = serde_json::to_string_pretty(&batch(KIOSK_A, vec![noise_concern(0)])).unwrap();
    // Cut off the closing braces, as a half-written file would be.
    let truncated = &json[..json.len() - 10];
    let response = office
        .post_raw(
            Some(TOKEN_A),
            None,
            Some("gzip"),
            gzip(truncated.as_bytes()),
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let message = error_text(response).await;
    assert!(
        message.starts_with("the upload is not valid JSON: EOF while parsing"),
        "{message}"
    );
    assert!(
        message.contains(" line ") && message.contains(" column "),
        "{message}"
    );

    // Valid JSON, but a field of the wrong type.
    let wrong_type = serde_json::to_string(&batch(KIOSK_A, vec![noise_concern(0)]))
        .unwrap()
        .replace("\"colour\":\"green\"", "\"colour\":\"purple\"");
    let response = office
        .post_raw(Some(TOKEN_A), None, None, wrong_type.into_bytes())
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let message = error_text(response).await;
    assert!(
        message.starts_with(
            "the upload does not match schema \"concern-kiosk.batch/1\": unknown variant `purple`, expected one of `green`, `orange`, `red` at line 1 column"
        ),
        "{message}"
    );

    let response = office
        .post_raw(
            Some(TOKEN_A),
            None,
            Some("gzip"),
            b"{\"schema\": 1".to_vec(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(
        error_text(response)
            .await
            .starts_with("the upload is not valid gzip")
    );
}

#[tokio::test]
async fn a_wrong_schema_is_refused_naming_the_supported_one() {
    let office = TestOffice::start().await;
    let mut sent = batch(KIOSK_A, vec![noise_concern(0)]);
    sent.schema = "concern-kiosk.batch/2".into();
    let response = office.post_batch(TOKEN_A, &sent).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        error_text(response).await,
        "the upload uses schema \"concern-kiosk.batch/2\"; this office accepts only schema \"concern-kiosk.batch/1\" — update the kiosk or the office so that they match"
    );
    assert_eq!(office.count("SELECT count(*) FROM concerns"), 0);
}

#[tokio::test]
async fn an_idempotency_key_that_is_not_the_batch_id_is_400() {
    let office = TestOffice::start().await;
    let sent = batch(KIOSK_A, vec![noise_concern(0)]);
    let other = Uuid::now_v7().to_string();
    let response = office
        .post_raw(
            Some(TOKEN_A),
            Some(&other),
            Some("gzip"),
            gzip(&serde_json::to_vec(&sent).unwrap()),
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(
        error_text(response)
            .await
            .contains(&format!("is not the batch's batch_id {}", sent.batch_id))
    );
    assert_eq!(office.count("SELECT count(*) FROM concerns"), 0);
}

#[tokio::test]
async fn a_body_over_4_mib_is_413() {
    let office = TestOffice::start().await;
    let five_mib = vec![b'x'; 5 * 1024 * 1024];
    let response = office
        .post_raw(Some(TOKEN_A), None, Some("gzip"), five_mib)
        .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        error_text(response)
            .await
            .starts_with("the upload is larger than 4 MiB")
    );
}

#[tokio::test]
async fn a_gzip_bomb_is_413() {
    let office = TestOffice::start().await;
    // A real batch whose text field is 17 MiB of spaces: about 17 KiB gzip'd.
    let mut concern = noise_concern(0);
    concern.text = Some(" ".repeat(17 * 1024 * 1024));
    let bomb = gzip(&serde_json::to_vec(&batch(KIOSK_A, vec![concern])).unwrap());
    assert!(bomb.len() < 100 * 1024, "{} bytes", bomb.len());
    let response = office
        .post_raw(Some(TOKEN_A), None, Some("gzip"), bomb)
        .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        error_text(response)
            .await
            .starts_with("the upload inflates to more than 16 MiB of JSON")
    );
    assert_eq!(office.count("SELECT count(*) FROM concerns"), 0);
}

#[tokio::test]
async fn an_unknown_content_encoding_is_415() {
    let office = TestOffice::start().await;
    let response = office
        .post_raw(Some(TOKEN_A), None, Some("br"), b"{}".to_vec())
        .await;
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(error_text(response).await.contains("Content-Encoding `br`"));
}

#[tokio::test]
async fn the_export_is_csv_with_bom_chinese_intact_and_lists_apart() {
    let office = TestOffice::start().await;
    // Filed out of order and on two kiosks: the export is ordered by filing time.
    office
        .upload(
            TOKEN_B,
            &batch(KIOSK_B, vec![neighbour_concern(30), noise_concern(20)]),
        )
        .await;
    office
        .upload(TOKEN_A, &batch(KIOSK_A, vec![noise_concern(10)]))
        .await;

    let response = office.export(Some(STAFF_TOKEN), "").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    let body = response.bytes().await.unwrap();
    assert!(body.starts_with(b"\xEF\xBB\xBF"));
    let header_line = std::str::from_utf8(&body[3..])
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(
        header_line,
        "id,ticket,created_at,category,category_zh,category_en,list,colour,due_date,lang,\
         phrases_zh,phrases_en,text,location,phone,kiosk_id,received_at"
    );
    let rows = csv_rows(&body);
    let tickets: Vec<&str> = rows.iter().map(|r| r[1].as_str()).collect();
    assert_eq!(tickets, ["A1126-011", "A1126-021", "A1126-031"]);
    let noise = &rows[0];
    assert_eq!(noise[2], "2026-11-26T09:10:00+08:00");
    assert_eq!(noise[4], "噪音扰民");
    assert_eq!(noise[6], "demands");
    assert_eq!(noise[7], "green");
    assert_eq!(noise[9], "zh-CN");
    assert_eq!(noise[10], "夜间装修；广场舞音乐太响");
    assert_eq!(
        noise[11],
        "Building work at night; Square-dance music too loud"
    );
    assert_eq!(noise[12], "楼上每天晚上十点以后还在电钻, \"老人睡不着\"");
    assert_eq!(noise[13], "3幢2单元");
    assert_eq!(noise[14], "13812345678");
    assert_eq!(noise[15], KIOSK_A);
    assert!(
        DateTime::parse_from_rfc3339(&noise[16]).is_ok(),
        "{}",
        noise[16]
    );
    assert_eq!(rows[2][14], "", "no phone: an empty cell");

    let conflicts = csv_rows(
        &office
            .export(Some(STAFF_TOKEN), "?list=conflicts")
            .await
            .bytes()
            .await
            .unwrap(),
    );
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0][1], "A1126-031");
    assert_eq!(conflicts[0][4], "邻里纠纷");
    assert_eq!(conflicts[0][6], "conflicts");
    let demands = csv_rows(
        &office
            .export(Some(STAFF_TOKEN), "?list=demands")
            .await
            .bytes()
            .await
            .unwrap(),
    );
    assert!(demands.iter().all(|r| r[6] == "demands"));
    assert_eq!(demands.len(), 2);
}

#[tokio::test]
async fn the_export_is_for_office_staff_only() {
    let office = TestOffice::start().await;
    let response = office.export(None, "").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let response = office.export(Some(TOKEN_A), "").await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(
        error_text(response)
            .await
            .starts_with("this token belongs to kiosk `wanjia-01`: only office-staff tokens")
    );
    let response = office.export(Some(STAFF_TOKEN), "?list=everything").await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(
        error_text(response)
            .await
            .contains("there is no list `everything`")
    );
}

#[tokio::test]
async fn health_answers_without_a_token_and_unknown_paths_are_json_404() {
    let office = TestOffice::start().await;
    let response = office
        .http
        .get(office.url("/v1/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body, serde_json::json!({"status": "ok"}));

    let response = office
        .http
        .get(office.url("/v2/batches"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(error_text(response).await.contains("POST /v1/batches"));
    let response = office
        .http
        .get(office.url("/v1/batches"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(error_text(response).await.starts_with("GET is not allowed"));
}

#[test]
fn a_bad_tokens_file_is_named_by_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("office-tokens");
    std::fs::write(
        &tokens,
        "# kiosks\nwanjia-01 token-of-wanjia-01-5f2c9a\nwanjia-02\n",
    )
    .unwrap();
    std::fs::set_permissions(&tokens, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let message = TokenTable::load(&tokens).unwrap_err().to_string();
    assert_eq!(
        message,
        format!(
            "{}:3: expected `KIOSK_ID TOKEN` (two fields separated by spaces), found 1 field(s)",
            tokens.display()
        )
    );

    // The binary refuses to start with exit code 2 and the same message.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_concern-office"))
        .args(["serve", "--listen", "127.0.0.1:0", "--db"])
        .arg(dir.path().join("office.db"))
        .arg("--tokens")
        .arg(&tokens)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("{}:3: expected", tokens.display())),
        "{stderr}"
    );
    assert!(!dir.path().join("office.db").exists(), "nothing created");
}
