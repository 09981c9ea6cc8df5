//! The event catalog holds: every event the code can emit matches its committed JSON Schema,
//! and each schema refuses what the contract forbids.
#![cfg(feature = "fakes")]

use notes_core::adapters::fakes::assert_matches_schema;
use notes_core::domain::events::{EventType, NoteEvent, schema_source};
use notes_core::domain::lifecycle::{FailedNote, Provenance, Tombstone};
use notes_core::domain::{Note, NoteContent, NoteId, Timestamp, Username};

fn created(is_public: bool) -> NoteEvent {
    NoteEvent::note_created(
        NoteId::new(),
        Username::parse("alice").unwrap(),
        NoteContent::parse("hello").unwrap(),
        is_public,
        "JkH1ZgKJoAMEVxw=".into(),
        Timestamp::now(),
    )
}

/// The note `created` became, saved and since edited.
fn note_of(created: &NoteEvent) -> Note {
    let note = notes_core::adapters::fakes::note(created.username().as_str(), "hello", true);
    Note { note_id: created.note_id(), updated_at: Some(Timestamp::now()), version: 2, ..note }
}

fn tombstone_of(note: &Note) -> Tombstone {
    Tombstone::replacing(note, Timestamp::now(), Timestamp::now().plus_seconds(60))
}

fn failure_of(created: &NoteEvent) -> FailedNote {
    let error = "Your note was not saved because it could not be stored.";
    FailedNote::of_created(&created.envelope, error, Timestamp::now(), Timestamp::now().plus_seconds(60))
}

#[test]
fn every_event_type_the_code_emits_matches_its_schema() {
    let created = created(true);
    let note = note_of(&created);
    let events = [
        created.clone(),
        NoteEvent::note_saved(&note, &created.as_cause()),
        NoteEvent::note_failed(&failure_of(&created), &created.as_cause()),
        NoteEvent::note_updated(&note, &note, &Provenance::request("req-2")),
        NoteEvent::note_deleted(&tombstone_of(&note), true, &Provenance::request("req-3")),
    ];
    let kinds: Vec<EventType> = events.iter().map(NoteEvent::event_type).collect();
    assert_eq!(kinds, EventType::ALL);
    for event in &events {
        assert_matches_schema(event);
    }
}

#[test]
fn each_schema_names_its_event_type() {
    for kind in EventType::ALL {
        let schema: serde_json::Value = serde_json::from_str(schema_source(kind)).unwrap();
        assert_eq!(schema["properties"]["eventType"]["enum"], serde_json::json!([kind.as_str()]));
        assert_eq!(schema["additionalProperties"], false);
    }
}

#[test]
#[should_panic(expected = "does not match its schema")]
fn a_schema_refuses_an_event_missing_its_correlation_id() {
    let mut detail = created(false).to_detail();
    detail.as_object_mut().unwrap().remove("correlationId");
    notes_core::adapters::fakes::assert_detail_matches_schema(EventType::NoteCreated, &detail);
}

#[test]
#[should_panic(expected = "does not match its schema")]
fn a_schema_refuses_a_derived_event_without_causation() {
    let created = created(false);
    let mut detail = NoteEvent::note_saved(&note_of(&created), &created.as_cause()).to_detail();
    detail.as_object_mut().unwrap().remove("causationId");
    notes_core::adapters::fakes::assert_detail_matches_schema(EventType::NoteSaved, &detail);
}

#[test]
#[should_panic(expected = "does not match its schema")]
fn a_schema_refuses_a_derived_event_without_its_version() {
    let created = created(false);
    let mut detail = NoteEvent::note_saved(&note_of(&created), &created.as_cause()).to_detail();
    detail.as_object_mut().unwrap().remove("version");
    notes_core::adapters::fakes::assert_detail_matches_schema(EventType::NoteSaved, &detail);
}
