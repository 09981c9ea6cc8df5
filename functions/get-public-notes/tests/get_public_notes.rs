//! `GET /notes/public`, as the contract's table says.

use get_public_notes::GetPublicNotes;
use notes_core::adapters::fakes::{ApiRequest, HttpWorld, send};
use serde_json::{Value, json};

type World = HttpWorld<GetPublicNotes>;

fn world() -> World {
    HttpWorld::new(|table, _| GetPublicNotes::new(table))
}

/// Stores a note of `owner`; returns its id.
async fn store_note(w: &World, owner: &str, is_public: bool) -> String {
    w.table.store_note(owner, "hello", is_public).await.note_id.to_string()
}

fn list() -> ApiRequest {
    ApiRequest::new("GET /notes/public", "/notes/public")
}

fn ids_of(body: &Value) -> Vec<String> {
    body["notes"].as_array().unwrap().iter().map(|n| n["noteId"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn everyones_public_notes_are_listed_newest_first_without_a_token() {
    let w = world();
    let a = store_note(&w, "alice", true).await;
    store_note(&w, "alice", false).await;
    let b = store_note(&w, "bob", true).await;
    store_note(&w, "bob", false).await;
    let c = store_note(&w, "carol", true).await;
    let (status, body) = send(&w, list()).await;
    assert_eq!(status, 200);
    assert_eq!(ids_of(&body), vec![c, b, a]);
    assert!(body["notes"].as_array().unwrap().iter().all(|n| n["isPublic"] == true && n["status"] == "saved"));
    assert!(body.get("nextCursor").is_none());
}

#[tokio::test]
async fn a_token_is_not_needed_but_does_no_harm() {
    let w = world();
    store_note(&w, "alice", true).await;
    let (status, body) = send(&w, list().bearer("bob")).await;
    assert_eq!(status, 200);
    assert_eq!(ids_of(&body).len(), 1);
}

#[tokio::test]
async fn paging_through_every_page_yields_each_public_note_once() {
    let w = world();
    let mut expected = Vec::new();
    for i in 0..25 {
        let owner = if i % 2 == 0 { "alice" } else { "bob" };
        expected.push(store_note(&w, owner, true).await);
        store_note(&w, owner, false).await;
    }
    expected.reverse();
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut req = list().query("limit", "10");
        if let Some(c) = &cursor {
            req = req.query("cursor", c);
        }
        let (status, body) = send(&w, req).await;
        assert_eq!(status, 200, "{body}");
        seen.extend(ids_of(&body));
        match body.get("nextCursor") {
            Some(next) => cursor = Some(next.as_str().unwrap().to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn an_empty_feed_is_an_empty_list() {
    let w = world();
    store_note(&w, "alice", false).await;
    let (status, body) = send(&w, list()).await;
    assert_eq!((status, body), (200, json!({"notes": []})));
}

#[tokio::test]
async fn a_limit_outside_1_to_100_is_400() {
    let w = world();
    for bad in ["0", "101", "many"] {
        let (status, body) = send(&w, list().query("limit", bad)).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")), "{bad}");
    }
}

#[tokio::test]
async fn a_tampered_cursor_is_400_not_500() {
    let w = world();
    for bad in ["djE6bm90LWEtdXVpZA", "UFVCTElDI05PVEVT", "***"] {
        let (status, body) = send(&w, list().query("cursor", bad)).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")), "{bad}");
    }
}

#[tokio::test]
async fn when_the_table_is_down_the_answer_is_503() {
    let w = world();
    w.table.set_unavailable(true);
    let (status, body) = send(&w, list()).await;
    assert_eq!((status, body["error"].as_str()), (503, Some("service_unavailable")));
}
