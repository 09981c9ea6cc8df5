//! `notify`: the owner's connections get every result, pushed from here; other users' come
//! through the broadcast queue, one message per shard, carrying only what they may read.

use std::sync::Arc;

use aws_lambda_events::eventbridge::EventBridgeEvent;
use notes_core::adapters::fakes::{InMemoryTable, RecordingPusher, RecordingQueue};
use notes_core::domain::broadcast::BroadcastMessage;
use notes_core::domain::events::{EventBody, NoteEvent};
use notes_core::domain::lifecycle::{FailedNote, Provenance, Tombstone};
use notes_core::domain::{Note, NoteContent, NoteId, NoteStatus, Timestamp, Username};
use notes_core::ports::{Connection, ConnectionStore, NoteStore};
use notes_core::topology::topology;
use notify::{Notify, NotifyError};
use serde_json::Value;

struct World {
    table: Arc<InMemoryTable>,
    pusher: Arc<RecordingPusher>,
    queue: Arc<RecordingQueue>,
    app: Notify,
}

impl World {
    /// Commits what `event` says was committed, then hands the event to notify, as the bus does
    /// once the change is in the table.
    async fn committed_then_notified(&self, event: &NoteEvent) -> Result<notify::Delivery, NotifyError> {
        if let Some(note) = shown(event) {
            self.table.put_note(&note);
        }
        self.app.handle(on_the_bus(event)).await
    }

    /// The details queued for other users, one per shard (all the same).
    fn broadcast_detail(&self) -> Value {
        let messages = self.queue.messages();
        assert_eq!(messages.len(), topology().table.connection_shards as usize, "one message per shard");
        messages[0].detail.clone()
    }
}

/// A connection of `user`'s that connected `seconds_ago`.
fn connection(id: &str, user: &str, seconds_ago: i64) -> Connection {
    let connected_at = Timestamp::now().plus_seconds(-seconds_ago);
    Connection {
        connection_id: id.into(),
        username: Username::parse(user).unwrap(),
        connected_at,
        expires_at: connected_at.plus_seconds(7200),
    }
}

/// alice has two open connections (a-1, a-2), bob one (b-1), each open for a minute.
async fn world() -> World {
    let table = Arc::new(InMemoryTable::new());
    for (id, user) in [("a-1", "alice"), ("a-2", "alice"), ("b-1", "bob")] {
        table.add(&connection(id, user, 60)).await.unwrap();
    }
    let pusher = Arc::new(RecordingPusher::new());
    let queue = Arc::new(RecordingQueue::new());
    let app = Notify::new(table.clone(), table.clone(), pusher.clone(), queue.clone());
    World { table, pusher, queue, app }
}

/// The note as a `note-saved` or `note-updated` shows it.
fn shown(event: &NoteEvent) -> Option<Note> {
    let (content, is_public, saved_at, updated_at, version) = match &event.body {
        EventBody::NoteSaved { content, is_public, saved_at, version } => {
            (content, *is_public, *saved_at, None, *version)
        }
        EventBody::NoteUpdated { content, is_public, updated_at, version, .. } => {
            (content, *is_public, *updated_at, Some(*updated_at), *version)
        }
        _ => return None,
    };
    Some(Note {
        note_id: event.note_id(),
        username: event.username().clone(),
        content: content.clone(),
        is_public,
        status: NoteStatus::Saved,
        created_at: saved_at,
        saved_at,
        updated_at,
        version,
    })
}

fn by() -> Provenance {
    Provenance::request("r")
}

fn tombstone_of(note: &Note) -> Tombstone {
    Tombstone::replacing(note, Timestamp::now(), Timestamp::now().plus_seconds(60))
}

fn note(is_public: bool) -> Note {
    Note {
        note_id: NoteId::new(),
        username: Username::parse("alice").unwrap(),
        content: NoteContent::parse("hello").unwrap(),
        is_public,
        status: NoteStatus::Saved,
        created_at: Timestamp::now(),
        saved_at: Timestamp::now(),
        updated_at: None,
        version: 1,
    }
}

fn saved(is_public: bool) -> NoteEvent {
    let note = note(is_public);
    let created = NoteEvent::note_created(
        note.note_id,
        note.username.clone(),
        note.content.clone(),
        is_public,
        "r".into(),
        note.created_at,
    );
    NoteEvent::note_saved(&note, &created.as_cause())
}

fn on_the_bus(event: &NoteEvent) -> EventBridgeEvent<Value> {
    let mut bus_event = EventBridgeEvent::default();
    bus_event.detail_type = event.event_type().as_str().into();
    bus_event.source = "notes.service".into();
    bus_event.detail = event.to_detail();
    bus_event
}

#[tokio::test]
async fn a_private_note_saved_reaches_only_its_owners_connections() {
    let w = world().await;
    w.committed_then_notified(&saved(false)).await.unwrap();
    assert_eq!(w.pusher.recipients(), vec!["a-1", "a-2"]);
    assert!(w.queue.messages().is_empty(), "nothing for other users");
}

#[tokio::test]
async fn a_public_note_saved_reaches_its_owner_and_is_queued_once_for_each_shard() {
    let w = world().await;
    let event = saved(true);
    let delivery = w.committed_then_notified(&event).await.unwrap();
    assert_eq!(w.pusher.recipients(), vec!["a-1", "a-2"], "bob's connection is broadcast's to reach");
    let shards: Vec<u32> = w.queue.messages().iter().map(|m| m.shard).collect();
    assert_eq!(shards, (0..topology().table.connection_shards).collect::<Vec<_>>());
    assert_eq!(w.broadcast_detail(), event.to_detail(), "a public note's event is the same for everyone");
    assert_eq!((delivery.sent, delivery.broadcast), (2, shards.len()));
}

#[tokio::test]
async fn the_message_is_the_event_detail() {
    let w = world().await;
    let event = saved(false);
    w.committed_then_notified(&event).await.unwrap();
    let (_, message) = &w.pusher.sent()[0];
    assert_eq!(message, &event.to_detail());
    for field in ["eventType", "eventId", "noteId", "username", "timestamp"] {
        assert!(message.get(field).is_some(), "{field}");
    }
}

#[tokio::test]
async fn note_failed_goes_only_to_the_owner() {
    let w = world().await;
    let created = NoteEvent::note_created(
        NoteId::new(),
        Username::parse("alice").unwrap(),
        NoteContent::parse("x").unwrap(),
        true,
        "r".into(),
        Timestamp::now(),
    );
    let failure = failure_of(&created);
    w.table.record_failure(&failure, &created.as_cause()).await.unwrap();
    w.committed_then_notified(&NoteEvent::note_failed(&failure, &created.as_cause())).await.unwrap();
    assert_eq!(w.pusher.recipients(), vec!["a-1", "a-2"]);
    assert!(w.queue.messages().is_empty());
}

fn failure_of(created: &NoteEvent) -> FailedNote {
    FailedNote::of_created(&created.envelope, "nope", Timestamp::now(), Timestamp::now().plus_seconds(3600))
}

#[tokio::test]
async fn a_note_failed_for_a_note_a_redrive_has_stored_since_reaches_no_one() {
    let w = world().await;
    let stored = note(false);
    let created = NoteEvent::note_created(
        stored.note_id,
        stored.username.clone(),
        stored.content.clone(),
        false,
        "r".into(),
        stored.created_at,
    );
    let failure = failure_of(&created);
    w.table.record_failure(&failure, &created.as_cause()).await.unwrap();
    w.table.save_new(&stored, &created.as_cause()).await.unwrap();
    w.app.handle(on_the_bus(&NoteEvent::note_failed(&failure, &created.as_cause()))).await.unwrap();
    assert!(w.pusher.sent().is_empty(), "a stored note told failed");
}

#[tokio::test]
async fn a_note_made_private_is_still_announced_to_the_public_feed_so_it_can_drop_it() {
    let w = world().await;
    let before = note(true);
    let after =
        before.changed(&notes_core::domain::NoteChange { content: None, is_public: Some(false) }, Timestamp::now());
    w.committed_then_notified(&NoteEvent::note_updated(&before, &after, &by())).await.unwrap();
    assert_eq!(w.broadcast_detail()["eventType"], "note-updated");
}

/// The dashboard's edit form sends new text and `isPublic: false` in one save.
fn made_private_with_new_text() -> (NoteEvent, &'static str) {
    let before = note(true);
    let change = notes_core::domain::NoteChange {
        content: Some(NoteContent::parse("my new private text").unwrap()),
        is_public: Some(false),
    };
    let after = before.changed(&change, Timestamp::now());
    (NoteEvent::note_updated(&before, &after, &by()), "my new private text")
}

#[tokio::test]
async fn a_note_leaving_the_public_feed_is_queued_for_other_users_without_its_new_content() {
    let w = world().await;
    let (event, secret) = made_private_with_new_text();
    w.committed_then_notified(&event).await.unwrap();
    for message in w.queue.messages() {
        assert!(!message.to_body().contains(secret), "shard {}", message.shard);
    }
    let to_others = w.broadcast_detail();
    assert!(to_others.get("content").is_none(), "{to_others}");
    assert_eq!((to_others["isPublic"].as_bool(), to_others["wasPublic"].as_bool()), (Some(false), Some(true)));
    assert_eq!(to_others["noteId"], event.to_detail()["noteId"]);
    assert_eq!(to_others["username"], "alice", "broadcast skips the owner's connections by it");
}

#[tokio::test]
async fn a_note_leaving_the_public_feed_reaches_its_owner_whole() {
    let w = world().await;
    let (event, secret) = made_private_with_new_text();
    w.committed_then_notified(&event).await.unwrap();
    assert_eq!(w.pusher.recipients(), vec!["a-1", "a-2"]);
    for (id, message) in w.pusher.sent() {
        assert_eq!(message["content"], secret, "{id}");
    }
}

#[tokio::test]
async fn an_edit_of_a_private_note_reaches_no_one_but_its_owner() {
    let w = world().await;
    let before = note(false);
    let change =
        notes_core::domain::NoteChange { content: Some(NoteContent::parse("still mine").unwrap()), is_public: None };
    let after = before.changed(&change, Timestamp::now());
    w.committed_then_notified(&NoteEvent::note_updated(&before, &after, &by())).await.unwrap();
    assert_eq!(w.pusher.recipients(), vec!["a-1", "a-2"]);
    assert!(w.queue.messages().is_empty());
}

#[tokio::test]
async fn deleting_a_public_note_is_queued_for_everyone_and_a_private_one_is_not() {
    let w = world().await;
    let public = note(true);
    w.committed_then_notified(&NoteEvent::note_deleted(&tombstone_of(&public), true, &by())).await.unwrap();
    assert_eq!(w.broadcast_detail()["eventType"], "note-deleted");
    let w = world().await;
    let private = note(false);
    w.committed_then_notified(&NoteEvent::note_deleted(&tombstone_of(&private), false, &by())).await.unwrap();
    assert_eq!(w.pusher.recipients(), vec!["a-1", "a-2"]);
    assert!(w.queue.messages().is_empty());
}

#[tokio::test]
async fn a_gone_connection_of_the_owner_is_removed() {
    let w = world().await;
    w.pusher.mark_gone("a-2");
    let delivery = w.committed_then_notified(&saved(false)).await.unwrap();
    assert_eq!((delivery.sent, delivery.gone), (1, 1));
    assert_eq!(w.table.connection_ids(), vec!["a-1", "b-1"]);
}

#[tokio::test]
async fn a_push_racing_a_handshake_keeps_the_new_connection_which_receives_the_next_push() {
    // a-3's $connect has begun and written its items, but API Gateway answers 410 to pushes
    // until $connect has answered.
    let w = world().await;
    w.table.add(&connection("a-3", "alice", 1)).await.unwrap();
    w.pusher.mark_gone("a-3");
    let delivery = w.committed_then_notified(&saved(false)).await.unwrap();
    assert_eq!((delivery.sent, delivery.gone), (2, 0));
    assert!(w.table.connection_ids().contains(&"a-3".to_owned()), "the opening connection was removed");

    w.pusher.open("a-3");
    let next = saved(false);
    w.committed_then_notified(&next).await.unwrap();
    let to_a3: Vec<Value> = w.pusher.sent().into_iter().filter(|(id, _)| id == "a-3").map(|(_, m)| m).collect();
    assert_eq!(to_a3.len(), 1);
    assert_eq!(to_a3[0]["noteId"], next.note_id().to_string());
}

#[tokio::test]
async fn a_transient_push_failure_fails_the_invocation_before_anything_is_queued() {
    let w = world().await;
    w.pusher.mark_unavailable("a-2");
    let saved = saved(true);
    w.table.put_note(&shown(&saved).unwrap());
    let event = on_the_bus(&saved);
    let err = w.app.handle(event.clone()).await.unwrap_err();
    assert!(matches!(err, NotifyError::Pushes { failed: 1, total: 2 }), "{err}");
    assert_eq!(w.pusher.recipients(), vec!["a-1"]);
    assert!(w.queue.messages().is_empty(), "the retry queues the broadcast, once");
    assert_eq!(w.table.connection_ids().len(), 3, "a transient failure removes nothing");

    // The retry reaches the connection that missed it; a-1 sees the same eventId again.
    w.pusher.heal("a-2");
    w.app.handle(event).await.unwrap();
    assert_eq!(w.pusher.recipients(), vec!["a-1", "a-1", "a-2"]);
    assert_eq!(w.queue.messages().len(), topology().table.connection_shards as usize);
}

#[tokio::test]
async fn a_broadcast_that_cannot_be_queued_fails_the_invocation_so_it_is_retried() {
    let w = world().await;
    w.queue.set_failing(true);
    let err = w.committed_then_notified(&saved(true)).await.unwrap_err();
    assert!(matches!(err, NotifyError::Broadcast(_)), "{err}");
}

#[tokio::test]
async fn an_invalid_event_fails_so_it_reaches_the_dead_letter_queue() {
    let w = world().await;
    let mut event = on_the_bus(&saved(false));
    event.detail["noteId"] = Value::String("not-an-id".into());
    assert!(matches!(w.app.handle(event).await, Err(NotifyError::Invalid(_))));
    assert!(w.pusher.sent().is_empty());
}

#[tokio::test]
async fn the_sample_note_saved_event_is_pushed_and_broadcast() {
    let raw = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../events/eventbridge-note-saved.json"))
        .unwrap();
    let w = world().await;
    let sample: EventBridgeEvent<Value> = serde_json::from_str(&raw).unwrap();
    let event = NoteEvent::from_detail(&sample.detail).unwrap();
    w.table.put_note(&shown(&event).unwrap());
    let delivery = w.app.handle(sample).await.unwrap();
    assert_eq!(delivery.sent, 2, "the sample is a public note of alice");
    assert!(BroadcastMessage::parse(&w.queue.messages()[0].to_body()).is_ok());
}

#[tokio::test]
async fn a_late_edit_of_a_public_note_deleted_since_reaches_no_one() {
    let w = world().await;
    let before = note(true);
    let mut after = before.clone();
    after.content = NoteContent::parse("public text, deleted since").unwrap();
    after.updated_at = Some(Timestamp::now());
    after.version = 2;
    let edit = NoteEvent::note_updated(&before, &after, &by());
    // The note is deleted: its key holds a tombstone, no note. Then the edit's event arrives.
    w.table.put_note(&after);
    w.table.delete(&after, &tombstone_of(&after), &by()).await.unwrap();
    w.app.handle(on_the_bus(&edit)).await.unwrap();
    assert!(w.pusher.sent().is_empty(), "deleted text pushed: {:?}", w.pusher.sent());
    assert!(w.queue.messages().is_empty(), "deleted text queued for other users");
}

#[tokio::test]
async fn a_late_edit_of_a_note_made_private_since_reaches_no_one() {
    let w = world().await;
    let before = note(true);
    let mut public_edit = before.clone();
    public_edit.content = NoteContent::parse("still public, for a moment").unwrap();
    public_edit.updated_at = Some(Timestamp::now().plus_seconds(-5));
    public_edit.version = 2;
    let late = NoteEvent::note_updated(&before, &public_edit, &by());
    let mut private = public_edit.clone();
    private.is_public = false;
    private.updated_at = Some(Timestamp::now());
    private.version = 3;
    w.table.put_note(&private);
    w.app.handle(on_the_bus(&late)).await.unwrap();
    assert!(w.pusher.sent().is_empty());
    assert!(w.queue.messages().is_empty(), "text made private queued for other users");
}

#[tokio::test]
async fn an_older_version_after_a_newer_one_reaches_no_one() {
    let w = world().await;
    let first = saved(true);
    let mut edited = shown(&first).unwrap();
    edited.content = NoteContent::parse("newer").unwrap();
    edited.updated_at = Some(Timestamp::now().plus_seconds(1));
    edited.version = 2;
    w.table.put_note(&edited);
    // The note-saved comes after the edit (asynchronous delivery keeps no order).
    w.app.handle(on_the_bus(&first)).await.unwrap();
    assert!(w.pusher.sent().is_empty());
    assert!(w.queue.messages().is_empty());
}

#[tokio::test]
async fn a_note_made_private_then_deleted_still_tells_other_users_it_left_the_feed() {
    // Found by the simulation (seed 17): public v1, made private (v2), deleted (v3); the bus
    // delivers the note-updated after the delete. Its text is stale, but the note-deleted says
    // wasPublic false (it was private when deleted), so only this tells feeds to drop the note.
    let w = world().await;
    let public = note(true);
    let hidden =
        public.changed(&notes_core::domain::NoteChange { content: None, is_public: Some(false) }, Timestamp::now());
    let leaving = NoteEvent::note_updated(&public, &hidden, &by());
    w.table.put_note(&hidden);
    w.table.delete(&hidden, &tombstone_of(&hidden), &by()).await.unwrap();
    let delivery = w.app.handle(on_the_bus(&leaving)).await.unwrap();
    assert!(w.pusher.sent().is_empty(), "no text to anyone");
    assert_eq!(delivery.broadcast, topology().table.connection_shards as usize);
    let to_others = w.broadcast_detail();
    assert!(to_others.get("content").is_none(), "{to_others}");
    assert_eq!((to_others["isPublic"].as_bool(), to_others["wasPublic"].as_bool()), (Some(false), Some(true)));
}

#[tokio::test]
async fn a_stale_public_edit_is_queued_for_no_one() {
    let w = world().await;
    let before = note(true);
    let mut edit = before.clone();
    edit.content = NoteContent::parse("a public text, edited since").unwrap();
    edit.version = 2;
    let stale = NoteEvent::note_updated(&before, &edit, &by());
    let mut newer = edit.clone();
    newer.version = 3;
    w.table.put_note(&newer);
    w.app.handle(on_the_bus(&stale)).await.unwrap();
    assert!(w.queue.messages().is_empty());
}
