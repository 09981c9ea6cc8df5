//! `GET /notes/{noteId}`, as the contract's table says.

use get_note::GetNote;
use notes_core::adapters::fakes::{ApiRequest, HttpWorld, jwt_keys, send};
use notes_core::domain::lifecycle::{FailedNote, Provenance};
use notes_core::domain::{Note, NoteId, Timestamp, Username};
use notes_core::edge::auth::JwtKeys;
use notes_core::ports::NoteStore;

type World = HttpWorld<GetNote>;

fn world() -> World {
    HttpWorld::new(|table, _| GetNote::new(jwt_keys(), table))
}

async fn store_note(w: &World, owner: &str, is_public: bool) -> Note {
    w.table.store_note(owner, "hello", is_public).await
}

fn get(id: &str) -> ApiRequest {
    ApiRequest::new("GET /notes/{noteId}", &format!("/notes/{id}")).path_param("noteId", id)
}

#[tokio::test]
async fn the_owner_gets_the_note() {
    let w = world();
    let note = store_note(&w, "alice", false).await;
    let (status, body) = send(&w, get(&note.note_id.to_string()).bearer("alice")).await;
    assert_eq!(status, 200);
    assert_eq!(body, serde_json::to_value(&note).unwrap());
    assert_eq!(body["status"], "saved");
}

#[tokio::test]
async fn the_owner_gets_a_public_note_too() {
    let w = world();
    let note = store_note(&w, "alice", true).await;
    let (status, body) = send(&w, get(&note.note_id.to_string()).bearer("alice")).await;
    assert_eq!((status, body["isPublic"].as_bool()), (200, Some(true)));
}

async fn record_failure(w: &World, owner: &str) -> FailedNote {
    let now = Timestamp::now();
    let failed = FailedNote {
        note_id: NoteId::new(),
        username: Username::parse(owner).unwrap(),
        error: "Your note could not be saved because the service kept failing. Please try again in a moment.".into(),
        created_at: now,
        failed_at: now,
        version: 1,
        expires_at: now.plus_seconds(3600),
    };
    w.table.record_failure(&failed, &notes_core::adapters::fakes::saved_by()).await.unwrap();
    failed
}

#[tokio::test]
async fn a_note_that_could_not_be_stored_reads_as_failed_with_its_reason() {
    let w = world();
    let failed = record_failure(&w, "alice").await;
    let (status, body) = send(&w, get(&failed.note_id.to_string()).bearer("alice")).await;
    assert_eq!(status, 200);
    assert_eq!(body, serde_json::to_value(&failed).unwrap());
    assert_eq!((body["status"].as_str(), body["error"].as_str()), (Some("failed"), Some(failed.error.as_str())));
}

#[tokio::test]
async fn another_users_failed_note_is_404() {
    let w = world();
    let failed = record_failure(&w, "bob").await;
    let (status, _) = send(&w, get(&failed.note_id.to_string()).bearer("alice")).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_dismissed_failed_note_is_404() {
    let w = world();
    let failed = record_failure(&w, "alice").await;
    let until = Timestamp::now().plus_seconds(60);
    w.table.dismiss(&failed.username, failed.note_id, until, &Provenance::request("r")).await.unwrap();
    let (status, _) = send(&w, get(&failed.note_id.to_string()).bearer("alice")).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn an_unknown_note_is_404() {
    let w = world();
    store_note(&w, "alice", false).await;
    let (status, body) = send(&w, get(&NoteId::new().to_string()).bearer("alice")).await;
    assert_eq!((status, body["error"].as_str()), (404, Some("not_found")));
}

#[tokio::test]
async fn a_malformed_note_id_is_404() {
    let w = world();
    let note = store_note(&w, "alice", false).await;
    let upper = note.note_id.to_string().to_uppercase();
    for bad in ["not-a-note", "..%2Fetc", upper.as_str()] {
        let (status, body) = send(&w, get(bad).bearer("alice")).await;
        assert_eq!((status, body["error"].as_str()), (404, Some("not_found")), "{bad}");
    }
}

#[tokio::test]
async fn another_users_note_is_404_even_when_public() {
    let w = world();
    for is_public in [false, true] {
        let note = store_note(&w, "bob", is_public).await;
        let (status, body) = send(&w, get(&note.note_id.to_string()).bearer("alice")).await;
        assert_eq!((status, body["error"].as_str()), (404, Some("not_found")));
        assert!(!body.to_string().contains("hello"));
    }
}

#[tokio::test]
async fn without_a_token_the_answer_is_401() {
    let w = world();
    let note = store_note(&w, "alice", false).await;
    let (status, body) = send(&w, get(&note.note_id.to_string())).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("unauthorized")));
}

#[tokio::test]
async fn an_expired_token_is_401() {
    let w = world();
    let note = store_note(&w, "alice", false).await;
    let token = jwt_keys().issue(&note.username, Timestamp::now().plus_seconds(-2 * 3600)).token;
    let req = get(&note.note_id.to_string()).header("authorization", &format!("Bearer {token}"));
    assert_eq!(send(&w, req).await.0, 401);
}

#[tokio::test]
async fn a_token_signed_with_another_key_is_401() {
    let w = world();
    let note = store_note(&w, "alice", false).await;
    let other = JwtKeys::new(b"some-other-secret-some-other-secret", 60).unwrap();
    let token = other.issue(&note.username, Timestamp::now()).token;
    let req = get(&note.note_id.to_string()).header("authorization", &format!("Bearer {token}"));
    assert_eq!(send(&w, req).await.0, 401);
}

#[tokio::test]
async fn when_the_table_is_down_the_answer_is_503() {
    let w = world();
    let note = store_note(&w, "alice", false).await;
    w.table.set_unavailable(true);
    let (status, body) = send(&w, get(&note.note_id.to_string()).bearer("alice")).await;
    assert_eq!((status, body["error"].as_str()), (503, Some("service_unavailable")));
}
