//! `publish-changes`: each committed transition of a note's key, as the table's stream carries it,
//! becomes the one event it means; a batch that cannot be published whole is retried from the
//! first record not published, never past it.

use std::sync::Arc;

use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use notes_core::adapters::fakes::{InMemoryTable, RecordingPublisher, note, saved_by};
use notes_core::domain::events::{EventBody, EventType, NoteEvent};
use notes_core::domain::lifecycle::{FailedNote, Provenance, Tombstone};
use notes_core::domain::{Note, NoteChange, NoteContent, Timestamp};
use notes_core::edge::function::StreamFunction;
use notes_core::ports::NoteStore;
use publish_changes::PublishChanges;

struct World {
    table: Arc<InMemoryTable>,
    bus: Arc<RecordingPublisher>,
    app: PublishChanges,
}

fn world() -> World {
    let table = Arc::new(InMemoryTable::new());
    let bus = Arc::new(RecordingPublisher::new());
    let app = PublishChanges::new(bus.clone());
    World { table, bus, app }
}

impl World {
    /// Hands the stream's new records to the function, as the event source mapping does.
    async fn drain(&self) -> (Event, DynamoDbEventResponse) {
        let batch = self.table.stream_event();
        let response = self.app.handle_records(batch.clone()).await;
        (batch, response)
    }

    async fn store(&self, is_public: bool) -> Note {
        let note = note("alice", "hello", is_public);
        self.table.save_new(&note, &saved_by()).await.unwrap();
        note
    }

    async fn edit(&self, before: &Note, content: &str, is_public: bool) -> Note {
        let change = NoteChange { content: Some(NoteContent::parse(content).unwrap()), is_public: Some(is_public) };
        let after = before.changed(&change, Timestamp::now());
        self.table.replace(before, &after, &Provenance::request("edit-request")).await.unwrap();
        after
    }

    async fn delete(&self, note: &Note) {
        let tombstone = Tombstone::replacing(note, Timestamp::now(), Timestamp::now().plus_seconds(60));
        self.table.delete(note, &tombstone, &Provenance::request("delete-request")).await.unwrap();
    }
}

fn retry_from(response: &DynamoDbEventResponse) -> Option<String> {
    response.batch_item_failures.first().and_then(|f| f.item_identifier.clone())
}

#[tokio::test]
async fn a_stored_note_is_announced_saved_with_the_flow_of_its_note_created() {
    let w = world();
    let note = note("alice", "hello", true);
    let made_by = saved_by();
    w.table.save_new(&note, &made_by).await.unwrap();
    let (_, response) = w.drain().await;
    assert_eq!(retry_from(&response), None);
    let events = w.bus.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type(), EventType::NoteSaved);
    assert_eq!(events[0].correlation_id(), made_by.correlation_id);
    assert_eq!(events[0].envelope.causation_id, made_by.causation_id);
    assert!(
        matches!(&events[0].body, EventBody::NoteSaved { content, is_public: true, version: 1, .. } if content.as_str() == "hello")
    );
}

#[tokio::test]
async fn an_edit_is_announced_with_was_public_read_from_the_old_image() {
    let w = world();
    let note = w.store(true).await;
    w.edit(&note, "now private", false).await;
    w.drain().await;
    let updated = w.bus.of_type(EventType::NoteUpdated);
    assert_eq!(updated.len(), 1);
    assert!(matches!(updated[0].body, EventBody::NoteUpdated { was_public: true, is_public: false, version: 2, .. }));
    assert_eq!(updated[0].correlation_id(), "edit-request");
    assert!(updated[0].for_other_users().is_some_and(|seen| seen.get("content").is_none()));
}

#[tokio::test]
async fn a_delete_is_announced_with_was_public_read_from_the_old_image() {
    let w = world();
    let note = w.store(true).await;
    w.delete(&note).await;
    w.drain().await;
    let deleted = w.bus.of_type(EventType::NoteDeleted);
    assert_eq!(deleted.len(), 1);
    assert!(matches!(deleted[0].body, EventBody::NoteDeleted { was_public: true, version: 2, .. }));
}

#[tokio::test]
async fn a_recorded_failure_is_announced_as_note_failed_with_its_reason() {
    let w = world();
    let now = Timestamp::now();
    let failed = FailedNote {
        note_id: notes_core::domain::NoteId::new(),
        username: notes_core::domain::Username::parse("alice").unwrap(),
        error: "Your note was not saved because it could not be stored.".into(),
        created_at: now,
        failed_at: now,
        version: 1,
        expires_at: now.plus_seconds(60),
    };
    w.table.record_failure(&failed, &saved_by()).await.unwrap();
    w.drain().await;
    let told = w.bus.of_type(EventType::NoteFailed);
    assert_eq!(told.len(), 1);
    assert!(matches!(&told[0].body, EventBody::NoteFailed { error, version: 1 } if *error == failed.error));
}

#[tokio::test]
async fn a_tombstone_expiring_announces_nothing() {
    let w = world();
    let note = w.store(false).await;
    w.delete(&note).await;
    w.drain().await;
    let before = w.bus.events().len();
    w.table.sweep_tombstones(Timestamp::now().plus_seconds(3600));
    let (batch, _) = w.drain().await;
    assert_eq!(batch.records.len(), 1, "the sweep is a REMOVE on the stream");
    assert_eq!(batch.records[0].event_name, "REMOVE");
    assert_eq!(w.bus.events().len(), before);
}

#[tokio::test]
async fn a_retried_batch_publishes_the_very_same_events() {
    let w = world();
    let note = w.store(true).await;
    w.edit(&note, "second", true).await;
    let (batch, _) = w.drain().await;
    let first: Vec<NoteEvent> = w.bus.events();
    w.app.handle_records(batch).await;
    let all = w.bus.events();
    assert_eq!(all.len(), 2 * first.len());
    assert_eq!(all[..first.len()], all[first.len()..], "same eventIds: consumers drop the copies");
}

#[tokio::test]
async fn a_failed_publish_is_retried_from_its_record_and_nothing_after_it_is_skipped() {
    let w = world();
    let first = w.store(false).await;
    let second = w.store(false).await;
    let third = w.store(false).await;
    // Each record's events go out in one call per ten: refuse the call that carries the second.
    w.bus.refuse_note(second.note_id);
    let (batch, response) = w.drain().await;
    // One PutEvents carries all three: none published, retried from the first record.
    assert_eq!(retry_from(&response), batch.records[0].change.sequence_number.clone());
    assert!(w.bus.events().is_empty());

    w.bus.accept_note(second.note_id);
    let retried = w.app.handle_records(batch).await;
    assert_eq!(retry_from(&retried), None);
    let ids: Vec<_> = w.bus.events().iter().map(NoteEvent::note_id).collect();
    assert_eq!(ids, vec![first.note_id, second.note_id, third.note_id]);
}

#[tokio::test]
async fn past_ten_events_a_refused_chunk_is_retried_from_its_first_record_and_earlier_ones_are_published() {
    let w = world();
    let mut notes = Vec::new();
    for _ in 0..12 {
        notes.push(w.store(false).await);
    }
    w.bus.refuse_note(notes[11].note_id);
    let (batch, response) = w.drain().await;
    assert_eq!(w.bus.events().len(), 10, "the first ten went out in one call");
    assert_eq!(retry_from(&response), batch.records[10].change.sequence_number.clone());
}

#[tokio::test]
async fn a_record_whose_image_cannot_be_read_is_retried_and_the_records_before_it_are_published() {
    let w = world();
    let good = w.store(false).await;
    w.store(false).await;
    let (mut batch, _) = w.drain().await;
    // The second record's new image has a version that is not a number: it cannot be read.
    batch.records[1].change.new_image.insert("version".into(), serde_dynamo::AttributeValue::S("two".into()));
    let bus = Arc::new(RecordingPublisher::new());
    let app = PublishChanges::new(bus.clone());
    let response = app.handle_records(batch.clone()).await;
    assert_eq!(retry_from(&response), batch.records[1].change.sequence_number.clone());
    let ids: Vec<_> = bus.events().iter().map(NoteEvent::note_id).collect();
    assert_eq!(ids, vec![good.note_id]);
}

#[tokio::test]
async fn records_of_items_that_are_not_notes_are_passed_over() {
    let w = world();
    let (mut batch, _) = w.drain().await;
    let note = w.store(false).await;
    let (mut with_note, _) = w.drain().await;
    let mut connection = with_note.records[0].clone();
    connection.change.keys.insert("sk".into(), serde_dynamo::AttributeValue::S("CONNECTION#abc".into()));
    batch.records.push(connection);
    batch.records.append(&mut with_note.records);
    let bus = Arc::new(RecordingPublisher::new());
    let response = PublishChanges::new(bus.clone()).handle_records(batch).await;
    assert_eq!(retry_from(&response), None);
    assert_eq!(bus.events().iter().map(NoteEvent::note_id).collect::<Vec<_>>(), vec![note.note_id]);
}

#[tokio::test]
async fn the_sample_stream_event_is_published() {
    let raw = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../events/dynamodb-note-changes.json"))
        .unwrap();
    let batch: Event = serde_json::from_str(&raw).unwrap();
    let w = world();
    let response = w.app.handle_records(batch).await;
    assert_eq!(retry_from(&response), None);
    let kinds: Vec<EventType> = w.bus.events().iter().map(NoteEvent::event_type).collect();
    assert_eq!(kinds, vec![EventType::NoteSaved, EventType::NoteUpdated, EventType::NoteDeleted]);
}
