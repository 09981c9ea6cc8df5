//! An event bus that records what it is given and holds it to the event catalog.

use std::sync::Mutex;

use async_trait::async_trait;

use crate::domain::events::{EventType, NoteEvent, schema_source};
use crate::ports::{EventPublisher, PublishError};

/// Holds `event`'s detail to the catalog's JSON Schema for its type; panics with the reasons.
pub fn assert_matches_schema(event: &NoteEvent) {
    let detail = event.to_detail();
    assert_detail_matches_schema(event.event_type(), &detail);
}

pub fn assert_detail_matches_schema(kind: EventType, detail: &serde_json::Value) {
    let schema: serde_json::Value = serde_json::from_str(schema_source(kind)).expect("schemas are JSON");
    let validator = jsonschema::validator_for(&schema).expect("schemas are valid JSON Schema");
    let errors: Vec<String> = validator.iter_errors(detail).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{} does not match its schema: {errors:?}\n{detail}", kind.as_str());
}

/// An event bus that records what it is given, checking each event against its schema.
#[derive(Default)]
pub struct RecordingPublisher {
    events: Mutex<Vec<NoteEvent>>,
    failing: Mutex<bool>,
    /// Notes whose events the bus refuses, with every event of the same call.
    refused_notes: Mutex<Vec<crate::domain::NoteId>>,
}

impl RecordingPublisher {
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes every publish fail as if EventBridge were unreachable.
    pub fn set_failing(&self, failing: bool) {
        *self.failing.lock().unwrap() = failing;
    }

    /// Makes every publish that carries an event of `note_id` fail, until `accept_note`.
    pub fn refuse_note(&self, note_id: crate::domain::NoteId) {
        self.refused_notes.lock().unwrap().push(note_id);
    }

    pub fn accept_note(&self, note_id: crate::domain::NoteId) {
        self.refused_notes.lock().unwrap().retain(|n| *n != note_id);
    }

    pub fn events(&self) -> Vec<NoteEvent> {
        self.events.lock().unwrap().clone()
    }

    pub fn of_type(&self, kind: EventType) -> Vec<NoteEvent> {
        self.events().into_iter().filter(|e| e.event_type() == kind).collect()
    }
}

#[async_trait]
impl EventPublisher for RecordingPublisher {
    async fn publish(&self, events: &[NoteEvent]) -> Result<(), PublishError> {
        if *self.failing.lock().unwrap() {
            return Err(PublishError::Unavailable("connection refused (injected)".into()));
        }
        let refused = self.refused_notes.lock().unwrap().clone();
        if events.iter().any(|e| refused.contains(&e.note_id())) {
            return Err(PublishError::Rejected { failed: 1, reason: "InternalFailure (injected)".into() });
        }
        for event in events {
            assert_matches_schema(event);
        }
        self.events.lock().unwrap().extend_from_slice(events);
        Ok(())
    }
}
