//! The event catalog holds: every event the code can emit matches its committed JSON Schema,
//! and each schema refuses what the contract forbids.
#![cfg(feature = "fakes")]

use notes_core::adapters::fakes::assert_matches_schema;
use notes_core::domain::events::{EventType, NoteEvent, schema_source};
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
    Note { note_id: created.note_id(), updated_at: Some(Timestamp::now()), ..note }
}

#[test]
fn every_event_type_the_code_emits_matches_its_schema() {
    let created = created(true);
    let note = note_of(&created);
    let events = [
        created.clone(),
        NoteEvent::note_saved(&created, &note),
        NoteEvent::note_failed(&created.envelope, "Your account no longer exists.", Timestamp::now()),
        NoteEvent::note_updated(&note, &note, "req-2".into()),
        NoteEvent::note_deleted(&note, "req-3".into(), Timestamp::now()),
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
    let mut detail = NoteEvent::note_saved(&created, &note_of(&created)).to_detail();
    detail.as_object_mut().unwrap().remove("causationId");
    notes_core::adapters::fakes::assert_detail_matches_schema(EventType::NoteSaved, &detail);
}
