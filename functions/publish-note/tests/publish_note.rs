//! `POST /notes`, as the contract's table says.

use std::sync::Arc;

use notes_core::adapters::fakes::{
    ApiRequest, HttpWorld, InMemoryTable, RecordingPublisher, jwt_keys, read_response, send,
};
use notes_core::domain::events::{EventBody, EventType, NoteEvent};
use notes_core::domain::{Note, Timestamp};
use notes_core::edge::function::HttpFunction;
use notes_core::ports::SaveOutcome;
use publish_note::PublishNote;
use serde_json::{Value, json};

type World = HttpWorld<PublishNote>;

fn world() -> World {
    HttpWorld::new(|table, bus| PublishNote::new(jwt_keys(), bus, table.clone(), table))
}

fn post() -> ApiRequest {
    ApiRequest::new("POST /notes", "/notes")
}

/// The note `save-note` would store for this `note-created`.
fn stored_copy(created: &NoteEvent) -> Note {
    created.note_to_store(Timestamp::now()).expect("a note-created")
}

#[tokio::test]
async fn a_valid_note_is_accepted_with_202_and_a_pending_note_id() {
    let w = world();
    let (status, body) = send(&w, post().bearer("alice").json(json!({"content": "hello", "isPublic": true}))).await;
    assert_eq!(status, 202);
    assert_eq!(body["message"], "Note submitted for processing");
    assert_eq!(body["status"], "pending");
    let events = w.bus.of_type(EventType::NoteCreated);
    assert_eq!(events.len(), 1);
    assert_eq!(body["noteId"], events[0].note_id().to_string());
    assert_eq!(events[0].username().as_str(), "alice");
    assert!(
        matches!(&events[0].body, EventBody::NoteCreated { is_public: true, content } if content.as_str() == "hello")
    );
}

#[tokio::test]
async fn the_event_carries_the_api_request_id_as_correlation_id() {
    let w = world();
    let req = post().bearer("alice").json(json!({"content": "hello"}));
    let request_id = req.request_id();
    send(&w, req).await;
    let event = &w.bus.events()[0];
    assert_eq!(event.correlation_id(), request_id);
    assert_eq!(event.envelope.causation_id, None);
}

#[tokio::test]
async fn is_public_defaults_to_false() {
    let w = world();
    send(&w, post().bearer("alice").json(json!({"content": "hello"}))).await;
    assert!(matches!(w.bus.events()[0].body, EventBody::NoteCreated { is_public: false, .. }));
}

#[tokio::test]
async fn without_a_token_the_answer_is_401_and_nothing_is_published() {
    let w = world();
    let (status, body) = send(&w, post().json(json!({"content": "hello"}))).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("unauthorized")));
    assert!(w.bus.events().is_empty());
}

#[tokio::test]
async fn a_forged_token_is_401() {
    let w = world();
    let other = notes_core::edge::auth::JwtKeys::new(b"some-other-secret-some-other-secret", 60).unwrap();
    let token = other.issue(&notes_core::domain::Username::parse("alice").unwrap(), Timestamp::now()).token;
    let req = post().header("authorization", &format!("Bearer {token}")).json(json!({"content": "hello"}));
    assert_eq!(send(&w, req).await.0, 401);
    assert!(w.bus.events().is_empty());
}

#[tokio::test]
async fn bad_bodies_are_400_naming_the_field() {
    let cases = [
        (json!({}), "content is required"),
        (json!({"content": 42}), "content must be a string"),
        (json!({"content": "   "}), "content must not be empty"),
        (json!({"content": "x".repeat(10_001)}), "content must be at most 10000"),
        (json!({"content": "ok", "isPublic": "yes"}), "isPublic must be true or false"),
        (json!(["content"]), "must be a JSON object"),
    ];
    for (body, message) in cases {
        let w = world();
        let (status, answer) = send(&w, post().bearer("alice").json(body.clone())).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(answer["error"], "invalid_request");
        assert!(answer["message"].as_str().unwrap().contains(message), "{body}: {answer}");
        assert!(w.bus.events().is_empty());
    }
}

#[tokio::test]
async fn a_null_field_is_400_naming_it_not_an_absent_field() {
    // `null` is a wrong type, as the spec says: not "private", not "no content".
    let cases = [
        (json!({"content": "x", "isPublic": null}), "isPublic must be true or false, not null"),
        (json!({"content": null, "isPublic": true}), "content must be a string, not null"),
        (json!({"content": null}), "content must be a string, not null"),
    ];
    for (body, message) in cases {
        let w = world();
        let (status, answer) = send(&w, post().bearer("alice").json(body.clone())).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["error"], "invalid_request");
        assert!(answer["message"].as_str().unwrap().contains(message), "{body}: {answer}");
        assert!(w.bus.events().is_empty());
    }
}

#[tokio::test]
async fn json_that_does_not_parse_is_400() {
    let w = world();
    let (status, body) = send(&w, post().bearer("alice").body("{\"content\": ")).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")));
}

#[tokio::test]
async fn a_body_over_64_kib_is_413() {
    let w = world();
    let big = json!({"content": "x".repeat(70 * 1024)}).to_string();
    let (status, body) = send(&w, post().bearer("alice").body(&big)).await;
    assert_eq!((status, body["error"].as_str()), (413, Some("payload_too_large")));
}

#[tokio::test]
async fn the_same_idempotency_key_gets_the_same_note_id_and_one_note() {
    let w = world();
    let req = || post().bearer("alice").header("Idempotency-Key", "k-1").json(json!({"content": "hello"}));
    let (_, first) = send(&w, req()).await;
    let (status, second) = send(&w, req()).await;
    assert_eq!(status, 202);
    assert_eq!(first["noteId"], second["noteId"]);
    // The retry re-publishes the first request's event unchanged (same eventId), which
    // save-note stores once; a lost first publish is delivered by the retry.
    let events = w.bus.of_type(EventType::NoteCreated);
    assert_eq!(events.len(), 2);
    assert_eq!(events[0], events[1]);
}

#[tokio::test]
async fn the_same_key_with_another_body_is_422_and_publishes_nothing() {
    let w = world();
    let keyed = || post().bearer("alice").header("Idempotency-Key", "k-1");
    send(&w, keyed().json(json!({"content": "hello"}))).await;
    for other in [json!({"content": "goodbye"}), json!({"content": "hello", "isPublic": true})] {
        let (status, body) = send(&w, keyed().json(other)).await;
        assert_eq!((status, body["error"].as_str()), (422, Some("idempotency_key_reused")), "{body}");
        assert!(body["message"].as_str().unwrap().contains("Idempotency-Key"));
    }
    assert_eq!(w.bus.of_type(EventType::NoteCreated).len(), 1);
}

#[tokio::test]
async fn an_absent_is_public_and_an_explicit_false_are_the_same_body() {
    let w = world();
    let keyed = || post().bearer("alice").header("Idempotency-Key", "k-1");
    let (_, first) = send(&w, keyed().json(json!({"content": "hello"}))).await;
    let (status, again) = send(&w, keyed().json(json!({"isPublic": false, "content": "hello"}))).await;
    assert_eq!(status, 202);
    assert_eq!(first["noteId"], again["noteId"]);
}

#[tokio::test]
async fn a_retry_after_the_note_was_saved_is_200_saved_and_publishes_nothing() {
    let w = world();
    let req = || post().bearer("alice").header("Idempotency-Key", "k-1").json(json!({"content": "hello"}));
    let (_, first) = send(&w, req()).await;
    let created = w.bus.of_type(EventType::NoteCreated).remove(0);
    w.table.insert_user(created.username());
    let note = stored_copy(&created);
    assert_eq!(
        notes_core::ports::NoteStore::save_new(w.table.as_ref(), &note, &created.as_cause()).await,
        Ok(SaveOutcome::Saved)
    );

    let (status, again) = send(&w, req()).await;
    assert_eq!(status, 200);
    assert_eq!((again["noteId"].clone(), again["status"].as_str()), (first["noteId"].clone(), Some("saved")));
    assert_eq!(w.bus.events().len(), 1, "no second note-created, so no note-saved is promised twice");
}

#[tokio::test]
async fn a_retry_after_the_note_was_deleted_is_410_and_publishes_nothing() {
    let w = world();
    let req = || post().bearer("alice").header("Idempotency-Key", "k-1").json(json!({"content": "hello"}));
    send(&w, req()).await;
    let created = w.bus.of_type(EventType::NoteCreated).remove(0);
    w.table.insert_user(created.username());
    let note = stored_copy(&created);
    let store: &dyn notes_core::ports::NoteStore = w.table.as_ref();
    store.save_new(&note, &created.as_cause()).await.unwrap();
    let tombstone = notes_core::domain::lifecycle::Tombstone {
        note_id: note.note_id,
        username: note.username.clone(),
        deleted_at: Timestamp::now(),
        version: 2,
        expires_at: Timestamp::now().plus_seconds(3600),
    };
    store.delete(&note, &tombstone, &notes_core::domain::lifecycle::Provenance::request("r")).await.unwrap();

    let (status, body) = send(&w, req()).await;
    assert_eq!((status, body["error"].as_str()), (410, Some("note_deleted")), "{body}");
    assert_eq!(w.bus.events().len(), 1);
}

#[tokio::test]
async fn the_same_key_from_another_user_is_another_note() {
    let w = world();
    let (_, a) = send(&w, post().bearer("alice").header("Idempotency-Key", "k-1").json(json!({"content": "x"}))).await;
    let (_, b) = send(&w, post().bearer("bob").header("Idempotency-Key", "k-1").json(json!({"content": "x"}))).await;
    assert_ne!(a["noteId"], b["noteId"]);
}

#[tokio::test]
async fn a_malformed_idempotency_key_is_400() {
    let w = world();
    let req = post().bearer("alice").header("Idempotency-Key", "has spaces").json(json!({"content": "x"}));
    let (status, body) = send(&w, req).await;
    assert_eq!(status, 400);
    assert!(body["message"].as_str().unwrap().contains("Idempotency-Key"));
}

#[tokio::test]
async fn when_the_bus_is_down_the_answer_is_503_and_a_retry_with_the_key_delivers() {
    let w = world();
    w.bus.set_failing(true);
    let req = || post().bearer("alice").header("Idempotency-Key", "k-2").json(json!({"content": "x"}));
    let (status, body) = send(&w, req()).await;
    assert_eq!((status, body["error"].as_str()), (503, Some("service_unavailable")));
    w.bus.set_failing(false);
    let (status, _) = send(&w, req()).await;
    assert_eq!(status, 202);
    assert_eq!(w.bus.of_type(EventType::NoteCreated).len(), 1);
}

#[tokio::test]
async fn when_the_table_is_down_a_keyed_request_is_503_not_a_lost_note() {
    let w = world();
    w.table.set_unavailable(true);
    let req = post().bearer("alice").header("Idempotency-Key", "k-3").json(json!({"content": "x"}));
    assert_eq!(send(&w, req).await.0, 503);
    assert!(w.bus.events().is_empty());
}

#[tokio::test]
async fn the_sample_event_is_accepted() {
    // events/http-post-note.json is what `sam local invoke` sends; its token is signed with the
    // local development secret in events/env.json.
    let raw =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../events/http-post-note.json")).unwrap();
    let env: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../events/env.json")).unwrap(),
    )
    .unwrap();
    let secret = env["Parameters"]["JWT_SECRET"].as_str().unwrap();
    let bus = Arc::new(RecordingPublisher::new());
    let table = Arc::new(InMemoryTable::new());
    let app = PublishNote::new(
        notes_core::edge::auth::JwtKeys::new(secret.as_bytes(), 3600).unwrap(),
        bus.clone(),
        table.clone(),
        table,
    );
    let (status, _) = read_response(app.handle(lambda_http::request::from_str(&raw).unwrap()).await);
    assert_eq!(status, 202);
    assert_eq!(bus.events()[0].correlation_id(), "JkH1ZgKJoAMEVxw=");
}
