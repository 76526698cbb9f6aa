//! `GET /v1/updates` and ratings against the real office on 127.0.0.1: every case of the
//! community reaches every kiosk, in the order things happened, as it stands now; a page asked
//! again is the same page; a bad cursor or the wrong token gets a clear refusal; a resident's
//! unhappy rating sends the case back for supervision, once, and the board counts it.

#[path = "support/board_http.rs"]
mod board_http;
mod office_support;

use chrono::DateTime;
use concern_kiosk::concern::{CaseState, Rating};
use concern_kiosk::office::{Office, Role, serve};
use concern_kiosk::protocol::wire::{Batch, UpdatesPage, WireRating};
use office_support::{
    KIOSK_A, KIOSK_B, STAFF_TOKEN, TOKEN_A, TOKEN_B, TestDb, answer_case, batch, client,
    error_text, neighbour_concern, noise_concern, office_on,
};

const PASSWORD: &str = "a long enough password";
const REPLY: &str = "已经和装修队说好，晚上八点以后不再施工。";

struct Bench {
    office: Office,
    base: String,
    _dir: tempfile::TempDir,
}

impl Bench {
    async fn start() -> Bench {
        let dir = tempfile::tempdir().unwrap();
        let office = office_on(&TestDb::new(dir.path())).await;
        office
            .add_account("li", Role::Council, PASSWORD)
            .await
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(serve(listener, office.clone()));
        Bench {
            office,
            base,
            _dir: dir,
        }
    }

    async fn upload(&self, token: &str, b: Batch) {
        let sent = client()
            .post(format!("{}/v1/batches", self.base))
            .bearer_auth(token)
            .json(&b)
            .send()
            .await
            .unwrap();
        assert!(sent.status().is_success(), "{}", error_text(sent).await);
    }

    async fn updates(&self, token: Option<&str>, query: &str) -> reqwest::Response {
        let mut request = client().get(format!("{}/v1/updates{query}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap()
    }

    async fn page(&self, after: u64) -> UpdatesPage {
        let answer = self
            .updates(Some(TOKEN_A), &format!("?after={after}"))
            .await;
        assert_eq!(answer.status(), 200);
        answer.json().await.unwrap()
    }
}

#[tokio::test]
async fn every_kiosk_hears_of_every_case_in_order_and_a_page_asked_again_is_the_same() {
    let bench = Bench::start().await;
    let (noise, other_noise) = (noise_concern(0), noise_concern(1));
    let neighbours = neighbour_concern(2);
    bench
        .upload(TOKEN_A, batch(KIOSK_A, vec![noise.clone(), other_noise]))
        .await;
    bench
        .upload(TOKEN_B, batch(KIOSK_B, vec![neighbours.clone()]))
        .await;

    // Kiosk A hears of kiosk B's case too: a resident may ask at any kiosk.
    let first = bench.page(0).await;
    let tickets: Vec<&str> = first.updates.iter().map(|u| u.ticket.as_str()).collect();
    assert_eq!(tickets, ["A1126-001", "A1126-002", "A1126-003"]);
    assert!(first.updates.iter().all(|u| u.state == CaseState::New));
    assert!(first.updates.iter().all(|u| u.reply.is_none()));
    assert_eq!(first.updates[2].concern_id, neighbours.id);
    assert!(!first.more);
    assert_eq!(
        first.updates[0].check_code.as_ref(),
        noise.check_code.as_ref()
    );
    assert_eq!(
        first.updates[0].tracking_digest.as_deref(),
        noise.tracking_code.as_ref().map(|c| c.digest()).as_deref()
    );

    // The office answers the first complaint: only it comes after the cursor, as it stands now.
    let id = noise.id.to_string();
    answer_case(&bench.office, &id, REPLY).await;
    let second = bench.page(first.next_after).await;
    assert_eq!(second.updates.len(), 1, "{second:?}");
    let answered = &second.updates[0];
    assert_eq!(answered.ticket, "A1126-001");
    assert_eq!(answered.state, CaseState::Answered);
    assert_eq!(answered.reply.as_deref(), Some(REPLY));
    assert!(answered.cursor > first.next_after);
    assert_eq!(second.next_after, answered.cursor);
    // Asked again (an answer lost on the way), the page is the same.
    assert_eq!(bench.page(first.next_after).await, second);
    assert!(bench.page(second.next_after).await.updates.is_empty());
}

#[tokio::test]
async fn a_bad_cursor_or_the_wrong_token_is_refused_in_words() {
    let bench = Bench::start().await;
    for query in [
        "",
        "?after=",
        "?after=-1",
        "?after=abc",
        "?after=1&after=2",
        "?after=99999999999999999999",
    ] {
        let refused = bench.updates(Some(TOKEN_A), query).await;
        assert_eq!(refused.status(), 400, "{query}");
        let words = error_text(refused).await;
        assert!(
            words.contains("after") || words.contains("cursor"),
            "{query}: {words}"
        );
    }
    assert_eq!(bench.updates(None, "?after=0").await.status(), 401);
    let staff = bench.updates(Some(STAFF_TOKEN), "?after=0").await;
    assert_eq!(staff.status(), 403);
    assert!(error_text(staff).await.contains("own token"));
}

#[tokio::test]
async fn an_unhappy_rating_sends_the_case_back_once_and_the_board_counts_it() {
    let bench = Bench::start().await;
    let noise = noise_concern(0);
    let id = noise.id.to_string();
    bench
        .upload(TOKEN_A, batch(KIOSK_A, vec![noise.clone()]))
        .await;
    answer_case(&bench.office, &id, REPLY).await;

    // Rated at another kiosk: unhappy, then (a second resident's tap) happy.
    let rated_at = DateTime::parse_from_rfc3339("2026-11-30T10:00:00+08:00").unwrap();
    let rating = |rating| WireRating {
        concern_id: noise.id,
        ticket: noise.ticket.clone(),
        rating,
        rated_at,
    };
    let mut ratings = batch(KIOSK_B, Vec::new());
    ratings.ratings = vec![rating(Rating::Unsatisfied), rating(Rating::VerySatisfied)];
    bench.upload(TOKEN_B, ratings.clone()).await;
    // The same batch again (the kiosk never heard the answer) changes nothing.
    bench.upload(TOKEN_B, ratings).await;

    let case = bench.office.db().case(&id).await.unwrap().unwrap().case;
    assert_eq!(case.state, CaseState::Supervised);
    assert_eq!(case.rating, Some(Rating::Unsatisfied));
    let rate_events = case
        .events
        .iter()
        .filter(|e| e.action.code() == "rate")
        .count();
    assert_eq!(rate_events, 1, "one rating per case");

    let http = board_http::client();
    let session = board_http::sign_in(&http, &bench.base, "li", PASSWORD).await;
    let board = http
        .get(format!("{}/board/", bench.base))
        .header("cookie", session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let counter = board
        .split("id=\"count-satisfaction\"")
        .nth(1)
        .and_then(|rest| rest.split("</div>").next())
        .unwrap_or_default();
    assert!(counter.contains("0% (0/1)"), "{counter}");
}
