//! `DELETE /notes/{noteId}`, as the contract's table says. The delete writes; the table's stream
//! announces (`InMemoryTable::announced` is what `publish-changes` publishes from it).

use delete_note::{DeleteNote, tombstone_seconds};
use notes_core::adapters::fakes::{ApiRequest, HttpWorld, jwt_keys, send};
use notes_core::domain::events::{EventBody, EventType, NoteEvent};
use notes_core::domain::lifecycle::{FailedNote, Provenance};
use notes_core::domain::{Note, NoteId, Timestamp, Username};
use notes_core::edge::auth::JwtKeys;
use notes_core::edge::editing::MAX_CONFLICT_RETRIES;
use notes_core::ports::{NoteStore, SaveOutcome};
use notes_core::topology::topology;
use serde_json::Value;

type World = HttpWorld<DeleteNote>;

fn world() -> World {
    HttpWorld::new(|table, _bus| DeleteNote::new(jwt_keys(), table))
}

async fn store_note(w: &World, owner: &str, is_public: bool) -> Note {
    w.table.store_note(owner, "hello", is_public).await
}

fn delete(note_id: NoteId) -> ApiRequest {
    let id = note_id.to_string();
    ApiRequest::new("DELETE /notes/{noteId}", &format!("/notes/{id}")).path_param("noteId", &id)
}

async fn stored(w: &World, note: &Note) -> Option<Note> {
    w.table.get(&note.username, note.note_id).await.unwrap()
}

fn deletes(w: &World) -> Vec<NoteEvent> {
    w.table.announced().into_iter().filter(|e| e.event_type() == EventType::NoteDeleted).collect()
}

fn by() -> Provenance {
    notes_core::adapters::fakes::saved_by()
}

#[tokio::test]
async fn the_owner_deletes_a_note_with_204_and_no_body() {
    let w = world();
    let note = store_note(&w, "alice", false).await;
    let (status, body) = send(&w, delete(note.note_id).bearer("alice")).await;
    assert_eq!((status, body), (204, Value::Null));
    assert_eq!(stored(&w, &note).await, None);
    assert!(w.table.has_tombstone(&note.username, note.note_id));
}

#[tokio::test]
async fn a_delete_publishes_nothing_itself() {
    let w = world();
    let note = store_note(&w, "alice", true).await;
    w.bus.set_failing(true);
    assert_eq!(send(&w, delete(note.note_id).bearer("alice")).await.0, 204);
    assert!(w.bus.events().is_empty(), "the stream announces the delete, not the handler");
}

#[tokio::test]
async fn the_committed_delete_is_announced_as_note_deleted_with_the_request_id_as_correlation_id() {
    let w = world();
    let note = store_note(&w, "alice", false).await;
    let req = delete(note.note_id).bearer("alice");
    let request_id = req.request_id();
    let before = Timestamp::now();
    send(&w, req).await;
    let events = deletes(&w);
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!((event.note_id(), event.username().as_str()), (note.note_id, "alice"));
    assert_eq!(event.correlation_id(), request_id);
    assert_eq!(event.envelope.causation_id, None);
    let EventBody::NoteDeleted { deleted_at, was_public, version } = event.body else { panic!("{event:?}") };
    assert!(!was_public);
    assert_eq!(version, note.version + 1, "one version past the note");
    assert!(deleted_at >= before && deleted_at <= Timestamp::now());
}

#[tokio::test]
async fn deleting_a_public_note_removes_it_from_the_feed_and_is_announced_as_having_been_public() {
    let w = world();
    let note = store_note(&w, "alice", true).await;
    let other = store_note(&w, "bob", true).await;
    let (status, _) = send(&w, delete(note.note_id).bearer("alice")).await;
    assert_eq!(status, 204);
    assert_eq!(stored(&w, &note).await, None);
    assert_eq!(w.table.public_copies(), vec![other]);
    assert!(matches!(deletes(&w)[0].body, EventBody::NoteDeleted { was_public: true, .. }));
}

#[tokio::test]
async fn the_tombstone_is_kept_as_long_as_the_declared_tombstone_lifetime() {
    // Whether that lifetime is long enough is save-note's test of a deleted note's note-created
    // arriving at any time; here, that the delete writes it.
    let w = world();
    let note = store_note(&w, "alice", false).await;
    let before = Timestamp::now();
    send(&w, delete(note.note_id).bearer("alice")).await;
    let lifetime = topology().tombstone_seconds();
    assert_eq!(tombstone_seconds(), lifetime);
    let until = w.table.tombstone_expiries()[0];
    assert!(until >= before.plus_seconds(lifetime));
    assert!(until <= Timestamp::now().plus_seconds(lifetime));
}

#[tokio::test]
async fn a_late_note_created_cannot_bring_a_deleted_note_back() {
    let w = world();
    let note = store_note(&w, "alice", false).await;
    send(&w, delete(note.note_id).bearer("alice")).await;
    assert_eq!(w.table.save_new(&note, &by()).await.unwrap(), SaveOutcome::Deleted);
    assert_eq!(stored(&w, &note).await, None);
}

#[tokio::test]
async fn deleting_again_answers_204_and_writes_nothing() {
    let w = world();
    let note = store_note(&w, "alice", true).await;
    send(&w, delete(note.note_id).bearer("alice")).await;
    let writes = w.table.writes();
    let (status, _) = send(&w, delete(note.note_id).bearer("alice")).await;
    assert_eq!(status, 204);
    assert_eq!(w.table.writes(), writes);
    assert_eq!(deletes(&w).len(), 1, "one delete, one note-deleted");
}

#[tokio::test]
async fn another_users_deleted_note_is_answered_as_any_id_the_caller_never_stored() {
    let w = world();
    let note = store_note(&w, "alice", true).await;
    send(&w, delete(note.note_id).bearer("alice")).await;
    let (status, _) = send(&w, delete(note.note_id).bearer("bob")).await;
    assert_eq!(status, 204);
    let events = deletes(&w);
    assert!(events.iter().all(|e| e.username().as_str() == "bob" || e.note_id() == note.note_id));
    assert!(events.iter().filter(|e| e.username().as_str() == "bob").all(|e| e.for_other_users().is_none()));
}

#[tokio::test]
async fn a_note_never_stored_is_given_up_with_204_and_only_its_owner_hears_of_it() {
    let w = world();
    let note_id = NoteId::new();
    let (status, body) = send(&w, delete(note_id).bearer("alice")).await;
    assert_eq!((status, body), (204, Value::Null));
    assert!(w.table.has_tombstone(&Username::parse("alice").unwrap(), note_id));
    let events = deletes(&w);
    assert_eq!(events.len(), 1, "the owner's other tabs drop it");
    assert!(events[0].for_other_users().is_none());
}

#[tokio::test]
async fn a_dismissed_note_is_never_stored_afterwards() {
    // The owner dismissed a note-failed; an operator then redrives its note-created.
    let w = world();
    let note = notes_core::adapters::fakes::note("alice", "given up", true);
    assert_eq!(send(&w, delete(note.note_id).bearer("alice")).await.0, 204);
    assert_eq!(w.table.save_new(&note, &by()).await.unwrap(), SaveOutcome::Deleted);
    assert_eq!(stored(&w, &note).await, None);
    assert!(w.table.public_copies().is_empty());
}

#[tokio::test]
async fn dismissing_a_failed_note_replaces_its_failure_and_a_redrive_then_stores_nothing() {
    let w = world();
    let note = notes_core::adapters::fakes::note("alice", "failed once", false);
    let failed = FailedNote {
        note_id: note.note_id,
        username: note.username.clone(),
        error: "no".into(),
        created_at: note.created_at,
        failed_at: Timestamp::now(),
        version: 1,
        expires_at: Timestamp::now().plus_seconds(3600),
    };
    w.table.record_failure(&failed, &by()).await.unwrap();
    assert_eq!(send(&w, delete(note.note_id).bearer("alice")).await.0, 204);
    assert_eq!(w.table.failure(&note.username, note.note_id), None);
    assert_eq!(w.table.save_new(&note, &by()).await.unwrap(), SaveOutcome::Deleted);
    assert!(matches!(deletes(&w)[0].body, EventBody::NoteDeleted { was_public: false, version: 2, .. }));
}

#[tokio::test]
async fn dismissing_a_note_that_was_stored_meanwhile_deletes_it_as_a_stored_note() {
    let w = world();
    let note = store_note(&w, "alice", true).await;
    let (status, _) = send(&w, delete(note.note_id).bearer("alice")).await;
    assert_eq!(status, 204);
    assert_eq!(stored(&w, &note).await, None);
    assert!(matches!(deletes(&w)[0].body, EventBody::NoteDeleted { was_public: true, .. }));
}

#[tokio::test]
async fn a_malformed_note_id_is_404() {
    let w = world();
    let req = ApiRequest::new("DELETE /notes/{noteId}", "/notes/NOTE%23x").path_param("noteId", "NOTE#x");
    let (status, body) = send(&w, req.bearer("alice")).await;
    assert_eq!((status, body["error"].as_str()), (404, Some("not_found")));
}

#[tokio::test]
async fn another_users_note_stays_and_the_answer_tells_nothing_of_it() {
    // The id is looked up in the caller's own partition only: to alice it is an id she never
    // stored, answered 204 as any such id; bob's note is not touched.
    let w = world();
    let note = store_note(&w, "bob", true).await;
    let (status, _) = send(&w, delete(note.note_id).bearer("alice")).await;
    assert_eq!(status, 204);
    assert_eq!(stored(&w, &note).await.as_ref(), Some(&note));
    assert_eq!(w.table.public_copies(), vec![note.clone()]);
    assert!(!w.table.has_tombstone(&note.username, note.note_id));
    assert!(deletes(&w).iter().all(|e| e.username().as_str() == "alice"));
}

#[tokio::test]
async fn without_a_token_the_answer_is_401_and_the_note_stays() {
    let w = world();
    let note = store_note(&w, "alice", false).await;
    let (status, body) = send(&w, delete(note.note_id)).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("unauthorized")));
    assert!(stored(&w, &note).await.is_some());
    assert!(deletes(&w).is_empty());
}

#[tokio::test]
async fn a_token_signed_with_another_key_is_401() {
    let w = world();
    let note = store_note(&w, "alice", false).await;
    let other = JwtKeys::new(b"some-other-secret-some-other-secret", 60).unwrap();
    let token = other.issue(&note.username, Timestamp::now()).token;
    let (status, _) = send(&w, delete(note.note_id).header("authorization", &format!("Bearer {token}"))).await;
    assert_eq!(status, 401);
    assert!(stored(&w, &note).await.is_some());
}

#[tokio::test]
async fn an_expired_token_is_401() {
    let w = world();
    let note = store_note(&w, "alice", false).await;
    let token = jwt_keys().issue(&note.username, Timestamp::now().plus_seconds(-2 * 3600)).token;
    let (status, _) = send(&w, delete(note.note_id).header("authorization", &format!("Bearer {token}"))).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn a_note_changed_concurrently_is_read_again_and_announced_as_it_was_just_before_the_delete() {
    let w = world();
    let note = store_note(&w, "alice", false).await;
    // Another request makes the note public between this one's read and its delete.
    w.table.race_next_reads(1);
    let (status, _) = send(&w, delete(note.note_id).bearer("alice")).await;
    assert_eq!(status, 204);
    assert_eq!(stored(&w, &note).await, None);
    assert!(w.table.public_copies().is_empty());
    let events = deletes(&w);
    assert_eq!(events.len(), 1);
    assert!(matches!(events[0].body, EventBody::NoteDeleted { was_public: true, .. }));
}

#[tokio::test]
async fn a_delete_that_keeps_losing_the_race_is_503_and_deletes_nothing() {
    let w = world();
    let note = store_note(&w, "alice", false).await;
    w.table.race_next_reads(MAX_CONFLICT_RETRIES + 1);
    let (status, body) = send(&w, delete(note.note_id).bearer("alice")).await;
    assert_eq!((status, body["error"].as_str()), (503, Some("service_unavailable")));
    assert!(w.table.get(&note.username, note.note_id).await.unwrap().is_some());
    assert!(deletes(&w).is_empty());
}

#[tokio::test]
async fn when_the_table_is_down_the_answer_is_503() {
    let w = world();
    let note = store_note(&w, "alice", false).await;
    w.table.set_unavailable(true);
    let (status, body) = send(&w, delete(note.note_id).bearer("alice")).await;
    assert_eq!((status, body["error"].as_str()), (503, Some("service_unavailable")));
    w.table.set_unavailable(false);
    assert!(deletes(&w).is_empty());
}
