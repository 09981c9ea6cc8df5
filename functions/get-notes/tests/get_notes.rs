//! `GET /notes`, as the contract's table says.

use get_notes::GetNotes;
use notes_core::adapters::fakes::{ApiRequest, HttpWorld, jwt_keys, send};
use notes_core::domain::lifecycle::FailedNote;
use notes_core::domain::{Note, NoteContent, NoteId, NoteStatus, Timestamp, Username};
use notes_core::edge::auth::JwtKeys;
use notes_core::edge::pagination::encode_cursor;
use notes_core::ports::{NoteStore, SaveOutcome};
use serde_json::{Value, json};

type World = HttpWorld<GetNotes>;

fn world() -> World {
    HttpWorld::new(|table, _| GetNotes::new(jwt_keys(), table))
}

fn user(name: &str) -> Username {
    Username::parse(name).unwrap()
}

/// Stores `count` notes of `owner`, every third one public; returns their ids oldest first.
async fn store_notes(w: &World, owner: &str, count: usize) -> Vec<String> {
    w.table.insert_user(&user(owner));
    let mut ids = Vec::new();
    for i in 0..count {
        let now = Timestamp::now();
        let note = Note {
            note_id: NoteId::new(),
            username: user(owner),
            content: NoteContent::parse(format!("{owner}'s note {i}")).unwrap(),
            is_public: i % 3 == 0,
            status: NoteStatus::Saved,
            created_at: now,
            saved_at: now,
            updated_at: None,
            version: 1,
        };
        let saved_by = notes_core::adapters::fakes::saved_by();
        assert_eq!(w.table.save_new(&note, &saved_by).await.unwrap(), SaveOutcome::Saved);
        ids.push(note.note_id.to_string());
    }
    ids
}

fn list() -> ApiRequest {
    ApiRequest::new("GET /notes", "/notes")
}

fn ids_of(body: &Value) -> Vec<String> {
    body["notes"].as_array().unwrap().iter().map(|n| n["noteId"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn the_caller_gets_their_own_notes_private_and_public_newest_first() {
    let w = world();
    let mut alices = store_notes(&w, "alice", 4).await;
    store_notes(&w, "bob", 3).await;
    let (status, body) = send(&w, list().bearer("alice")).await;
    assert_eq!(status, 200);
    alices.reverse();
    assert_eq!(ids_of(&body), alices);
    assert!(body["notes"].as_array().unwrap().iter().all(|n| n["username"] == "alice"));
    let public: Vec<bool> =
        body["notes"].as_array().unwrap().iter().map(|n| n["isPublic"].as_bool().unwrap()).collect();
    assert!(public.contains(&true) && public.contains(&false));
}

#[tokio::test]
async fn each_note_has_the_contract_shape() {
    let w = world();
    store_notes(&w, "alice", 1).await;
    let (_, body) = send(&w, list().bearer("alice")).await;
    let note = &body["notes"][0];
    let stored = &w.table.owner_copies(&user("alice"))[0];
    assert_eq!(
        note,
        &json!({
            "noteId": stored.note_id.to_string(),
            "username": "alice",
            "content": "alice's note 0",
            "isPublic": true,
            "status": "saved",
            "createdAt": stored.created_at.to_string(),
            "savedAt": stored.saved_at.to_string(),
            "version": 1,
        })
    );
}

/// Records that a note of `owner` could not be stored.
async fn record_failure(w: &World, owner: &str, error: &str) -> NoteId {
    let now = Timestamp::now();
    let failed = FailedNote {
        note_id: NoteId::new(),
        username: user(owner),
        error: error.into(),
        created_at: now,
        failed_at: now,
        version: 1,
        expires_at: now.plus_seconds(3600),
    };
    w.table.record_failure(&failed, &notes_core::adapters::fakes::saved_by()).await.unwrap();
    failed.note_id
}

#[tokio::test]
async fn a_note_that_could_not_be_stored_is_listed_as_failed_with_its_reason_among_the_stored_ones() {
    let w = world();
    let stored = store_notes(&w, "alice", 1).await;
    let failed = record_failure(&w, "alice", "Your note was not saved because it could not be stored.").await;
    let (status, body) = send(&w, list().bearer("alice")).await;
    assert_eq!(status, 200);
    assert_eq!(ids_of(&body), vec![failed.to_string(), stored[0].clone()]);
    let shown = &body["notes"][0];
    assert_eq!(shown["status"], "failed");
    assert_eq!(shown["error"], "Your note was not saved because it could not be stored.");
    assert!(shown.get("content").is_none());
}

#[tokio::test]
async fn another_users_failed_note_is_not_listed() {
    let w = world();
    record_failure(&w, "bob", "no").await;
    let (_, body) = send(&w, list().bearer("alice")).await;
    assert!(ids_of(&body).is_empty());
}

#[tokio::test]
async fn the_default_page_is_20_notes_and_the_last_page_has_no_next_cursor() {
    let w = world();
    store_notes(&w, "alice", 25).await;
    let (_, first) = send(&w, list().bearer("alice")).await;
    assert_eq!(ids_of(&first).len(), 20);
    let cursor = first["nextCursor"].as_str().unwrap();
    let (status, second) = send(&w, list().bearer("alice").query("cursor", cursor)).await;
    assert_eq!(status, 200);
    assert_eq!(ids_of(&second).len(), 5);
    assert!(second.get("nextCursor").is_none(), "{second}");
}

#[tokio::test]
async fn paging_through_every_page_yields_each_note_once_newest_first() {
    let w = world();
    let mut expected = store_notes(&w, "alice", 25).await;
    expected.reverse();
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut req = list().bearer("alice").query("limit", "7");
        if let Some(c) = &cursor {
            req = req.query("cursor", c);
        }
        let (status, body) = send(&w, req).await;
        assert_eq!(status, 200, "{body}");
        assert!(ids_of(&body).len() <= 7);
        seen.extend(ids_of(&body));
        pages += 1;
        match body.get("nextCursor") {
            Some(next) => cursor = Some(next.as_str().unwrap().to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 4);
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn a_user_with_no_notes_gets_an_empty_list_without_a_cursor() {
    let w = world();
    let (status, body) = send(&w, list().bearer("alice")).await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({"notes": []}));
}

#[tokio::test]
async fn a_cursor_never_reaches_another_users_notes() {
    let w = world();
    store_notes(&w, "alice", 2).await;
    let bobs = store_notes(&w, "bob", 3).await;
    // A cursor pointing just past bob's newest note, used by alice.
    let bobs_newest = NoteId::parse(bobs.last().unwrap()).unwrap();
    let cursor = encode_cursor(bobs_newest);
    let (status, body) = send(&w, list().bearer("alice").query("cursor", &cursor)).await;
    assert_eq!(status, 200);
    assert!(body["notes"].as_array().unwrap().iter().all(|n| n["username"] == "alice"), "{body}");
}

#[tokio::test]
async fn a_limit_outside_1_to_100_is_400() {
    let w = world();
    for bad in ["0", "101", "ten", "-5", "2.5"] {
        let (status, body) = send(&w, list().bearer("alice").query("limit", bad)).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")), "{bad}");
        assert!(body["message"].as_str().unwrap().contains("limit"), "{body}");
    }
}

#[tokio::test]
async fn a_tampered_cursor_is_400_not_500() {
    let w = world();
    store_notes(&w, "alice", 3).await;
    for bad in ["not-a-cursor", "VVNFUiNib2I", "%%%"] {
        let (status, body) = send(&w, list().bearer("alice").query("cursor", bad)).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")), "{bad}");
        assert!(body["message"].as_str().unwrap().contains("cursor"), "{body}");
    }
}

#[tokio::test]
async fn without_a_token_the_answer_is_401() {
    let w = world();
    store_notes(&w, "alice", 1).await;
    let (status, body) = send(&w, list()).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("unauthorized")));
}

#[tokio::test]
async fn a_token_signed_with_another_key_is_401() {
    let w = world();
    let other = JwtKeys::new(b"some-other-secret-some-other-secret", 60).unwrap();
    let token = other.issue(&user("alice"), Timestamp::now()).token;
    let (status, _) = send(&w, list().header("authorization", &format!("Bearer {token}"))).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn when_the_table_is_down_the_answer_is_503() {
    let w = world();
    w.table.set_unavailable(true);
    let (status, body) = send(&w, list().bearer("alice")).await;
    assert_eq!((status, body["error"].as_str()), (503, Some("service_unavailable")));
}
