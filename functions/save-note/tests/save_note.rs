//! `save-note`: an SQS batch of note-created events in; stored notes, or recorded failures, out.
//! It publishes nothing: what its writes mean reaches the bus from the table's stream
//! (`InMemoryTable::announced` is what `publish-changes` publishes from it).

use std::sync::Arc;

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use notes_core::adapters::fakes::{InMemoryTable, sqs_batch as batch, sqs_record as record};
use notes_core::domain::events::{EventBody, EventType, NoteEvent};
use notes_core::domain::lifecycle::{Provenance, Tombstone};
use notes_core::domain::{Note, NoteContent, NoteId, Timestamp, Username};
use notes_core::ports::NoteStore;
use save_note::{DEAD_LETTER_MESSAGE, REFUSED_MESSAGE, SaveNote};
use serde_json::{Value, json};

struct World {
    table: Arc<InMemoryTable>,
    app: SaveNote,
}

fn world() -> World {
    let table = Arc::new(InMemoryTable::new());
    table.insert_user(&alice());
    let app = SaveNote::new(table.clone());
    World { table, app }
}

/// The events of `kind` the table's stream announced.
fn announced(w: &World, kind: EventType) -> Vec<NoteEvent> {
    w.table.announced().into_iter().filter(|e| e.event_type() == kind).collect()
}

fn tombstone_of(note: &Note, expires_at: Timestamp) -> Tombstone {
    Tombstone::replacing(note, Timestamp::now(), expires_at)
}

fn alice() -> Username {
    Username::parse("alice").unwrap()
}

fn created(content: &str, is_public: bool) -> NoteEvent {
    NoteEvent::note_created(
        NoteId::new(),
        alice(),
        NoteContent::parse(content).unwrap(),
        is_public,
        "req-1".into(),
        Timestamp::now(),
    )
}

/// The SQS body the EventBridge rule writes: the whole event, with the note event as `detail`.
fn on_the_bus(detail: Value) -> String {
    json!({
        "version": "0", "id": uuid::Uuid::new_v4().to_string(),
        "detail-type": detail["eventType"], "source": "notes.service",
        "account": "123456789012", "time": "2026-11-23T10:15:30Z", "region": "us-east-1", "resources": [],
        "detail": detail
    })
    .to_string()
}

async fn failed_ids(w: &World, records: Vec<SqsMessage>) -> Vec<String> {
    let mut ids: Vec<String> = notes_core::adapters::fakes::deliver(&w.app, batch(records))
        .await
        .batch_item_failures
        .into_iter()
        .map(|f| f.item_identifier)
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn a_public_note_is_stored_with_its_public_copy_and_note_saved_follows() {
    let w = world();
    let event = created("hello world", true);
    assert!(failed_ids(&w, vec![record("m1", on_the_bus(event.to_detail()))]).await.is_empty());

    let stored = w.table.get(&alice(), event.note_id()).await.unwrap().expect("stored");
    assert_eq!(stored.content.as_str(), "hello world");
    assert_eq!(stored.created_at, event.envelope.timestamp);
    assert_eq!(w.table.public_copies(), vec![stored.clone()]);

    let saved = announced(&w, EventType::NoteSaved);
    assert_eq!(saved.len(), 1);
    assert_eq!(saved[0].envelope.causation_id, Some(event.envelope.event_id));
    assert_eq!(saved[0].correlation_id(), "req-1");
    assert!(
        matches!(&saved[0].body, EventBody::NoteSaved { saved_at, is_public: true, .. } if *saved_at == stored.saved_at)
    );
}

#[tokio::test]
async fn a_private_note_has_no_public_copy() {
    let w = world();
    let event = created("secret", false);
    failed_ids(&w, vec![record("m1", on_the_bus(event.to_detail()))]).await;
    assert_eq!(w.table.owner_copies(&alice()).len(), 1);
    assert!(w.table.public_copies().is_empty());
}

#[tokio::test]
async fn duplicate_delivery_stores_one_note_and_it_is_announced_once() {
    let w = world();
    let body = on_the_bus(created("once", true).to_detail());
    failed_ids(&w, vec![record("m1", body.clone())]).await;
    let writes = w.table.writes();
    assert!(failed_ids(&w, vec![record("m2", body)]).await.is_empty());

    assert_eq!(w.table.writes(), writes, "the redelivery wrote nothing");
    assert_eq!(w.table.owner_copies(&alice()).len(), 1);
    assert_eq!(w.table.public_copies().len(), 1);
    assert_eq!(announced(&w, EventType::NoteSaved).len(), 1);
}

#[tokio::test]
async fn the_same_event_twice_in_one_batch_stores_one_note() {
    let w = world();
    let body = on_the_bus(created("twice", false).to_detail());
    assert!(failed_ids(&w, vec![record("m1", body.clone()), record("m2", body)]).await.is_empty());
    assert_eq!(w.table.owner_copies(&alice()).len(), 1);
}

#[tokio::test]
async fn a_poison_record_beside_good_ones_is_the_only_one_reported() {
    let w = world();
    let good = [created("one", false), created("two", true)];
    let records = vec![
        record("good-1", on_the_bus(good[0].to_detail())),
        record("poison", "{not json".into()),
        record("good-2", on_the_bus(good[1].to_detail())),
    ];
    assert_eq!(failed_ids(&w, records).await, vec!["poison"]);
    assert_eq!(w.table.owner_copies(&alice()).len(), 2);
    assert_eq!(announced(&w, EventType::NoteSaved).len(), 2);
}

#[tokio::test]
async fn an_event_that_fails_validation_publishes_note_failed_and_is_acknowledged() {
    let w = world();
    let event = created("fine", false);
    let mut detail = event.to_detail();
    detail["content"] = json!("   ");
    assert!(failed_ids(&w, vec![record("m1", on_the_bus(detail))]).await.is_empty());
    assert!(w.table.owner_copies(&alice()).is_empty());
    let failed = announced(&w, EventType::NoteFailed);
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].note_id(), event.note_id());
    assert_eq!(failed[0].envelope.causation_id, Some(event.envelope.event_id));
    assert!(matches!(&failed[0].body, EventBody::NoteFailed { error, .. } if !error.is_empty()));
}

#[tokio::test]
async fn a_transient_failure_of_one_item_reports_only_that_item_and_a_retry_saves_it() {
    let w = world();
    let [ok, flaky] = [created("ok", false), created("flaky", false)];
    w.table.throttle_note(flaky.note_id());
    let records = || vec![record("ok", on_the_bus(ok.to_detail())), record("flaky", on_the_bus(flaky.to_detail()))];
    assert_eq!(failed_ids(&w, records()).await, vec!["flaky"]);
    assert!(announced(&w, EventType::NoteFailed).is_empty(), "a transient failure is not the user's problem");

    w.table.recover_note(flaky.note_id());
    assert!(failed_ids(&w, records()).await.is_empty());
    assert_eq!(w.table.owner_copies(&alice()).len(), 2);
}

/// The record on its `n`th receive.
fn receive(id: &str, body: String, n: u32) -> SqsMessage {
    let mut message = record(id, body);
    message.attributes.insert("ApproximateReceiveCount".into(), n.to_string());
    message
}

#[tokio::test]
async fn a_transient_failure_on_the_last_receive_tells_the_owner_and_leaves_the_record_for_the_dlq() {
    let w = world();
    let event = created("unlucky", true);
    w.table.throttle_note(event.note_id());
    let failed = failed_ids(&w, vec![receive("m1", on_the_bus(event.to_detail()), 3)]).await;
    assert_eq!(failed, vec!["m1"], "reported, so SQS moves it to the DLQ for a redrive");
    let told = announced(&w, EventType::NoteFailed);
    assert_eq!(told.len(), 1);
    assert_eq!(told[0].note_id(), event.note_id());
    assert_eq!(told[0].envelope.causation_id, Some(event.envelope.event_id));
    assert!(matches!(&told[0].body, EventBody::NoteFailed { error, .. } if error == DEAD_LETTER_MESSAGE));
}

#[tokio::test]
async fn a_note_stored_by_an_earlier_receive_is_never_announced_failed_when_its_last_receive_fails() {
    // The issue's order: the first receive stores the note but its acknowledgement is lost (the
    // invocation timed out, say); the last receive then fails transiently and the record goes to
    // the DLQ. The note is in its owner's list: they must never be told it was not saved.
    let w = world();
    let event = created("stored, then unlucky", true);
    let body = on_the_bus(event.to_detail());
    assert!(failed_ids(&w, vec![receive("m1", body.clone(), 1)]).await.is_empty());
    w.table.throttle_note(event.note_id());
    assert_eq!(failed_ids(&w, vec![receive("m1", body, 3)]).await, vec!["m1"]);
    assert!(w.table.get(&alice(), event.note_id()).await.unwrap().is_some());
    assert!(announced(&w, EventType::NoteFailed).is_empty(), "a stored note told failed");
    assert_eq!(w.table.failure(&alice(), event.note_id()), None);
}

#[tokio::test]
async fn a_failure_is_kept_in_the_owners_partition_as_long_as_a_redrive_could_store_the_note() {
    let w = world();
    let event = created("unlucky", false);
    w.table.throttle_note(event.note_id());
    failed_ids(&w, vec![receive("m1", on_the_bus(event.to_detail()), 3)]).await;
    let failure = w.table.failure(&alice(), event.note_id()).expect("recorded");
    assert_eq!(failure.error, DEAD_LETTER_MESSAGE);
    let lifetime = notes_core::topology::topology().note_created_lifetime_seconds();
    assert_eq!(failure.expires_at, event.envelope.timestamp.plus_seconds(lifetime));
}

#[tokio::test]
async fn a_transient_failure_before_the_last_receive_tells_no_one() {
    let w = world();
    let event = created("unlucky", true);
    w.table.throttle_note(event.note_id());
    assert_eq!(failed_ids(&w, vec![receive("m1", on_the_bus(event.to_detail()), 2)]).await, vec!["m1"]);
    assert!(w.table.announced().is_empty());
}

#[tokio::test]
async fn a_redriven_note_that_now_saves_replaces_its_failure_and_is_announced_saved_at_a_newer_version() {
    let w = world();
    let event = created("unlucky, then lucky", false);
    w.table.throttle_note(event.note_id());
    failed_ids(&w, vec![receive("m1", on_the_bus(event.to_detail()), 3)]).await;
    w.table.recover_note(event.note_id());
    // A redrive sends the message back to the queue, where it is received anew.
    assert!(failed_ids(&w, vec![receive("m1", on_the_bus(event.to_detail()), 1)]).await.is_empty());
    let failed = announced(&w, EventType::NoteFailed);
    let saved = announced(&w, EventType::NoteSaved);
    assert_eq!((failed.len(), saved.len()), (1, 1));
    assert!(saved[0].version() > failed[0].version(), "clients holding the failure take the save");
    assert_eq!(w.table.owner_copies(&alice()).len(), 1);
    assert_eq!(w.table.failure(&alice(), event.note_id()), None);
}

#[tokio::test]
async fn a_write_the_table_refuses_for_good_publishes_note_failed_and_is_acknowledged() {
    let w = world();
    let event = created("refused", false);
    w.table.refuse_note(event.note_id());
    assert!(failed_ids(&w, vec![record("m1", on_the_bus(event.to_detail()))]).await.is_empty());
    let told = announced(&w, EventType::NoteFailed);
    assert_eq!(told.len(), 1);
    assert!(matches!(&told[0].body, EventBody::NoteFailed { error, .. } if error == REFUSED_MESSAGE));
}

#[tokio::test]
async fn a_redelivery_after_the_note_was_deleted_does_not_bring_it_back() {
    let w = world();
    let event = created("short-lived", true);
    let body = on_the_bus(event.to_detail());
    failed_ids(&w, vec![record("m1", body.clone())]).await;
    let note = w.table.get(&alice(), event.note_id()).await.unwrap().unwrap();
    let tombstone = tombstone_of(&note, Timestamp::now().plus_seconds(3600));
    w.table.delete(&note, &tombstone, &Provenance::request("r")).await.unwrap();

    assert!(failed_ids(&w, vec![record("m2", body)]).await.is_empty());
    assert!(w.table.owner_copies(&alice()).is_empty());
    assert!(w.table.public_copies().is_empty());
}

#[tokio::test]
async fn a_record_that_is_not_a_note_created_is_acknowledged_untouched() {
    let w = world();
    let created = created("x", false);
    let mut other = created.to_detail();
    other["eventType"] = json!("note-deleted");
    assert!(failed_ids(&w, vec![record("m1", on_the_bus(other))]).await.is_empty());
    assert_eq!(w.table.writes(), 0);
    assert!(w.table.announced().is_empty());
}

#[tokio::test]
async fn the_sample_batch_is_saved() {
    let raw = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../events/sqs-note-created-batch.json"))
        .unwrap();
    let event: SqsEvent = serde_json::from_str(&raw).unwrap();
    let w = world();
    assert!(notes_core::adapters::fakes::deliver(&w.app, event).await.batch_item_failures.is_empty());
    assert_eq!(w.table.owner_copies(&alice()).len(), 2);
    assert_eq!(w.table.public_copies().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_batch_running_out_of_time_reports_the_records_it_could_not_start_and_tells_their_owners_on_the_last_receive()
{
    let w = world();
    // Every write takes 4 s: eight records (the concurrency) end at 4 s, the next eight would
    // end at 8 s, the last two not before 12 s, past save-note's 10 s timeout.
    w.table.slow_writes(std::time::Duration::from_secs(4));
    let events: Vec<NoteEvent> = (0..18).map(|i| created(&format!("note {i}"), false)).collect();
    let records =
        events.iter().enumerate().map(|(i, e)| receive(&format!("m{i:02}"), on_the_bus(e.to_detail()), 3)).collect();
    let started = tokio::time::Instant::now();
    let failed = failed_ids(&w, records).await;

    assert!(started.elapsed() <= std::time::Duration::from_secs(10), "answered after {:?}", started.elapsed());
    assert_eq!(failed.len(), 2, "the records not started are reported: {failed:?}");
    let told: Vec<NoteId> = announced(&w, EventType::NoteFailed).iter().map(NoteEvent::note_id).collect();
    for (i, event) in events.iter().enumerate() {
        let stored = w.table.get(&alice(), event.note_id()).await.unwrap().is_some();
        let reported = failed.contains(&format!("m{i:02}"));
        assert!(stored != reported, "note {i}: stored {stored}, reported {reported}");
        assert_eq!(
            told.contains(&event.note_id()),
            reported,
            "note {i}: its owner is told exactly when it is reported"
        );
    }
}

/// `event` as it arrives `seconds` after it was made: what save-note sees then is its age.
fn aged(event: &NoteEvent, seconds: i64) -> NoteEvent {
    let mut event = event.clone();
    event.envelope.timestamp = Timestamp::now().plus_seconds(-seconds);
    event
}

#[tokio::test]
async fn a_note_created_older_than_a_tombstone_covers_is_not_stored_and_records_nothing() {
    // Its note was settled long ago (stored, deleted, or told failed); a failure recorded now, in
    // the place of a tombstone the sweep removed, would show its owner a note they deleted.
    let w = world();
    let lifetime = notes_core::topology::topology().note_created_lifetime_seconds();
    let event = aged(&created("from long ago", true), lifetime + 60);
    assert!(failed_ids(&w, vec![record("m1", on_the_bus(event.to_detail()))]).await.is_empty());
    assert_eq!(w.table.get(&alice(), event.note_id()).await.unwrap(), None);
    assert!(w.table.public_copies().is_empty());
    assert!(w.table.announced().is_empty());
    assert_eq!(w.table.failure(&alice(), event.note_id()), None);
}

#[tokio::test]
async fn a_deleted_notes_note_created_is_never_stored_whenever_it_arrives() {
    let topology = notes_core::topology::topology();
    let day = 24 * 3600;
    let lifetime = topology.note_created_lifetime_seconds();
    let tombstone = topology.tombstone_seconds();
    // A replay on day 29, three receives to the DLQ, a redrive on day 40; and the edges of the
    // tombstone's own life, before and after DynamoDB's TTL sweep may remove it.
    for after_delete in [0, 29 * day, lifetime, tombstone - 1, tombstone, tombstone + 1, 40 * day, 60 * day] {
        let w = world();
        let event = created("deleted for good", true);
        let note = event.note_to_store(Timestamp::now()).unwrap();
        assert_eq!(w.table.save_new(&note, &event.as_cause()).await.unwrap(), notes_core::ports::SaveOutcome::Saved);
        let deleted_at = Timestamp::now();
        let made = tombstone_of(&note, deleted_at.plus_seconds(tombstone));
        w.table.delete(&note, &made, &Provenance::request("req-2")).await.unwrap();
        // By the time the note-created arrives, the sweep has removed every tombstone expired by then.
        w.table.sweep_tombstones(deleted_at.plus_seconds(after_delete));

        failed_ids(&w, vec![record("m1", on_the_bus(aged(&event, after_delete).to_detail()))]).await;
        assert_eq!(w.table.get(&alice(), event.note_id()).await.unwrap(), None, "{after_delete} s after the delete");
        assert!(w.table.public_copies().is_empty(), "{after_delete} s after the delete");
    }
}
