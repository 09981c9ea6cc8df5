//! The event catalog: the five note events, their envelope, and how they travel on EventBridge.
//!
//! On the bus an event is `source = "notes.service"`, `detail-type = eventType`, and `detail`
//! = the JSON of [`NoteEvent`]: the envelope fields and the body fields side by side. Each
//! type has a JSON Schema in `shared/schemas/`; tests hold every event the code emits to it.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::{Note, NoteContent, NoteId, Timestamp, Username};

pub const EVENT_SOURCE: &str = "notes.service";
pub const EVENT_VERSION: u32 = 1;

/// Namespace for ids of events derived from another event (see [`NoteEvent::derived_id`]).
const DERIVED_EVENT_NAMESPACE: Uuid = Uuid::from_u128(0x6e6f7465_735f_4576_8e74_5f6e616d6573);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventType {
    NoteCreated,
    NoteSaved,
    NoteFailed,
    NoteUpdated,
    NoteDeleted,
}

impl EventType {
    pub const ALL: [EventType; 5] = [
        EventType::NoteCreated,
        EventType::NoteSaved,
        EventType::NoteFailed,
        EventType::NoteUpdated,
        EventType::NoteDeleted,
    ];

    /// The `detail-type` on the bus and the `eventType` in the detail.
    pub fn as_str(&self) -> &'static str {
        match self {
            EventType::NoteCreated => "note-created",
            EventType::NoteSaved => "note-saved",
            EventType::NoteFailed => "note-failed",
            EventType::NoteUpdated => "note-updated",
            EventType::NoteDeleted => "note-deleted",
        }
    }
}

/// The fields every event carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    pub event_version: u32,
    pub event_id: Uuid,
    pub timestamp: Timestamp,
    /// Id of the HTTP request that started the flow, carried through every later event.
    pub correlation_id: String,
    /// `eventId` of the event that caused this one; absent on the first event of a flow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub causation_id: Option<Uuid>,
    pub note_id: NoteId,
    pub username: Username,
}

impl Envelope {
    /// The envelope of the first event of a flow, started by the HTTP request `correlation_id`.
    pub fn first(note_id: NoteId, username: Username, correlation_id: String, at: Timestamp) -> Self {
        Envelope {
            event_version: EVENT_VERSION,
            event_id: Uuid::new_v4(),
            timestamp: at,
            correlation_id,
            causation_id: None,
            note_id,
            username,
        }
    }

    /// The envelope of an edit or delete event kept as `record`.
    fn recorded(note_id: NoteId, username: Username, record: &ChangeRecord) -> Self {
        Envelope {
            event_version: EVENT_VERSION,
            event_id: record.event_id,
            timestamp: record.at,
            correlation_id: record.correlation_id.clone(),
            causation_id: None,
            note_id,
            username,
        }
    }

    /// The envelope of a `kind` event caused by the event `cause`. Its id is derived from the
    /// cause's, so re-publishing after a redelivery yields the very same event.
    pub fn caused_by(cause: &Envelope, kind: EventType, at: Timestamp) -> Self {
        Envelope {
            event_version: EVENT_VERSION,
            event_id: NoteEvent::derived_id(cause.event_id, kind),
            timestamp: at,
            correlation_id: cause.correlation_id.clone(),
            causation_id: Some(cause.event_id),
            note_id: cause.note_id,
            username: cause.username.clone(),
        }
    }
}

/// What differs between the five event types. The tag is the `eventType` field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "eventType", rename_all = "kebab-case")]
pub enum EventBody {
    #[serde(rename_all = "camelCase")]
    NoteCreated { content: NoteContent, is_public: bool },
    #[serde(rename_all = "camelCase")]
    NoteSaved { content: NoteContent, is_public: bool, saved_at: Timestamp },
    #[serde(rename_all = "camelCase")]
    NoteFailed { error: String },
    #[serde(rename_all = "camelCase")]
    NoteUpdated { content: NoteContent, is_public: bool, updated_at: Timestamp, was_public: bool },
    #[serde(rename_all = "camelCase")]
    NoteDeleted { deleted_at: Timestamp, was_public: bool },
}

/// One note event: what goes in EventBridge's `detail`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteEvent {
    #[serde(flatten)]
    pub envelope: Envelope,
    #[serde(flatten)]
    pub body: EventBody,
}

/// What a committed edit or delete published, kept beside the change in the same write (on the
/// owner's copy, or on the tombstone), so that a retried request can publish the very same event
/// again from what was committed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeRecord {
    pub event_id: Uuid,
    pub correlation_id: String,
    /// `updatedAt` or `deletedAt`.
    pub at: Timestamp,
    pub was_public: bool,
}

/// SHA-256 (hex) of what a `note-created` says beside its envelope: `isPublic` and `content`.
/// Two requests carry the same note exactly when their digests are equal.
pub fn created_body_digest(content: &NoteContent, is_public: bool) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update([u8::from(is_public)]);
    hasher.update(content.as_str().as_bytes());
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Why a `detail` could not be read as a note event.
#[derive(Debug, thiserror::Error)]
pub enum EventParseError {
    #[error("the event detail is not a valid note event: {0}")]
    Invalid(#[from] serde_json::Error),
    #[error("unsupported eventVersion {0}")]
    UnsupportedVersion(u32),
}

impl NoteEvent {
    pub fn event_type(&self) -> EventType {
        match self.body {
            EventBody::NoteCreated { .. } => EventType::NoteCreated,
            EventBody::NoteSaved { .. } => EventType::NoteSaved,
            EventBody::NoteFailed { .. } => EventType::NoteFailed,
            EventBody::NoteUpdated { .. } => EventType::NoteUpdated,
            EventBody::NoteDeleted { .. } => EventType::NoteDeleted,
        }
    }

    pub fn note_id(&self) -> NoteId {
        self.envelope.note_id
    }

    pub fn username(&self) -> &Username {
        &self.envelope.username
    }

    pub fn correlation_id(&self) -> &str {
        &self.envelope.correlation_id
    }

    /// Reads a `detail` object, checking every field's type and the domain rules.
    pub fn from_detail(detail: &serde_json::Value) -> Result<Self, EventParseError> {
        let event = NoteEvent::deserialize(detail)?;
        if event.envelope.event_version != EVENT_VERSION {
            return Err(EventParseError::UnsupportedVersion(event.envelope.event_version));
        }
        Ok(event)
    }

    pub fn to_detail(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("a note event always serializes")
    }

    /// What a user other than the note's owner may receive about this event, if anything.
    ///
    /// `content` reaches only users who may read the note after the change: a note that is
    /// public now goes out whole; a note that just left the public feed goes out without its
    /// `content` (ids, timestamps, `isPublic: false`, `wasPublic: true`), so feeds drop it and
    /// learn nothing of its new text; a note that is and was private, and every `note-failed`
    /// or `note-created`, reaches no one but its owner.
    /// The version of its note this event shows, for the events that show one (`note-saved`,
    /// `note-updated`): the note's [`Note::version`] when the change was committed.
    pub fn shown_version(&self) -> Option<Timestamp> {
        match &self.body {
            EventBody::NoteSaved { saved_at, .. } => Some(*saved_at),
            EventBody::NoteUpdated { updated_at, .. } => Some(*updated_at),
            _ => None,
        }
    }

    /// The note as this event says it was committed (`note-saved`, `note-updated`).
    pub fn committed_note(&self) -> Option<Note> {
        let (content, is_public, saved_at, updated_at) = match &self.body {
            EventBody::NoteSaved { content, is_public, saved_at } => (content, *is_public, *saved_at, None),
            EventBody::NoteUpdated { content, is_public, updated_at, .. } => {
                (content, *is_public, *updated_at, Some(*updated_at))
            }
            _ => return None,
        };
        Some(Note {
            note_id: self.envelope.note_id,
            username: self.envelope.username.clone(),
            content: content.clone(),
            is_public,
            status: crate::domain::NoteStatus::Saved,
            created_at: saved_at,
            saved_at,
            updated_at,
        })
    }

    pub fn for_other_users(&self) -> Option<serde_json::Value> {
        let visible = match &self.body {
            EventBody::NoteSaved { is_public, .. } => *is_public,
            EventBody::NoteUpdated { is_public: true, .. } => true,
            EventBody::NoteUpdated { is_public: false, was_public, .. } => {
                return was_public.then(|| {
                    let mut detail = self.to_detail();
                    if let Some(fields) = detail.as_object_mut() {
                        fields.remove("content");
                    }
                    detail
                });
            }
            EventBody::NoteDeleted { was_public, .. } => *was_public,
            EventBody::NoteCreated { .. } | EventBody::NoteFailed { .. } => false,
        };
        visible.then(|| self.to_detail())
    }

    /// The first event of a flow: a note was accepted at `POST /notes`.
    pub fn note_created(
        note_id: NoteId,
        username: Username,
        content: NoteContent,
        is_public: bool,
        correlation_id: String,
        at: Timestamp,
    ) -> Self {
        NoteEvent {
            envelope: Envelope::first(note_id, username, correlation_id, at),
            body: EventBody::NoteCreated { content, is_public },
        }
    }

    /// `note-saved`, caused by `created`. Its id is derived from the cause, so re-publishing
    /// after a redelivery yields the very same event and consumers can drop the copy by id.
    pub fn note_saved(created: &NoteEvent, note: &Note) -> Self {
        NoteEvent {
            envelope: Envelope::caused_by(&created.envelope, EventType::NoteSaved, note.saved_at),
            body: EventBody::NoteSaved {
                content: note.content.clone(),
                is_public: note.is_public,
                saved_at: note.saved_at,
            },
        }
    }

    /// `note-failed`, caused by `created`, with a sentence a user may read.
    pub fn note_failed(created_envelope: &Envelope, error: impl Into<String>, at: Timestamp) -> Self {
        NoteEvent {
            envelope: Envelope::caused_by(created_envelope, EventType::NoteFailed, at),
            body: EventBody::NoteFailed { error: error.into() },
        }
    }

    /// `note-updated`: first event of an edit flow started by the HTTP request `correlation_id`.
    pub fn note_updated(before: &Note, after: &Note, correlation_id: String) -> Self {
        let updated_at = after.updated_at.unwrap_or_else(Timestamp::now);
        NoteEvent {
            envelope: Envelope::first(after.note_id, after.username.clone(), correlation_id, updated_at),
            body: EventBody::NoteUpdated {
                content: after.content.clone(),
                is_public: after.is_public,
                updated_at,
                was_public: before.is_public,
            },
        }
    }

    /// `note-deleted`: first event of a delete flow.
    pub fn note_deleted(note: &Note, correlation_id: String, deleted_at: Timestamp) -> Self {
        NoteEvent {
            envelope: Envelope::first(note.note_id, note.username.clone(), correlation_id, deleted_at),
            body: EventBody::NoteDeleted { deleted_at, was_public: note.is_public },
        }
    }

    /// The note a `note-created` asks to store, as stored at `saved_at`.
    pub fn note_to_store(&self, saved_at: Timestamp) -> Option<Note> {
        let EventBody::NoteCreated { content, is_public } = &self.body else { return None };
        Some(Note {
            note_id: self.note_id(),
            username: self.username().clone(),
            content: content.clone(),
            is_public: *is_public,
            status: crate::domain::NoteStatus::Saved,
            created_at: self.envelope.timestamp,
            saved_at,
            updated_at: None,
        })
    }

    /// The record to keep with the change this `note-updated` or `note-deleted` announces.
    pub fn change_record(&self) -> Option<ChangeRecord> {
        let (at, was_public) = match &self.body {
            EventBody::NoteUpdated { updated_at, was_public, .. } => (*updated_at, *was_public),
            EventBody::NoteDeleted { deleted_at, was_public } => (*deleted_at, *was_public),
            _ => return None,
        };
        Some(ChangeRecord {
            event_id: self.envelope.event_id,
            correlation_id: self.envelope.correlation_id.clone(),
            at,
            was_public,
        })
    }

    /// The `note-updated` that the change `record` of `note` (as it is now) published.
    pub fn updated_again(note: &Note, record: &ChangeRecord) -> Self {
        NoteEvent {
            envelope: Envelope::recorded(note.note_id, note.username.clone(), record),
            body: EventBody::NoteUpdated {
                content: note.content.clone(),
                is_public: note.is_public,
                updated_at: record.at,
                was_public: record.was_public,
            },
        }
    }

    /// The `note-deleted` that the delete `record` of the note published.
    pub fn deleted_again(note_id: NoteId, owner: Username, record: &ChangeRecord) -> Self {
        NoteEvent {
            envelope: Envelope::recorded(note_id, owner, record),
            body: EventBody::NoteDeleted { deleted_at: record.at, was_public: record.was_public },
        }
    }

    /// A UUID v5 of the cause's id and the derived type: stable across retries.
    pub fn derived_id(cause: Uuid, kind: EventType) -> Uuid {
        let mut name = cause.as_bytes().to_vec();
        name.extend_from_slice(kind.as_str().as_bytes());
        Uuid::new_v5(&DERIVED_EVENT_NAMESPACE, &name)
    }
}

/// The JSON Schema of each event type, as committed in `shared/schemas/`.
pub fn schema_source(kind: EventType) -> &'static str {
    match kind {
        EventType::NoteCreated => include_str!("../../schemas/note-created.schema.json"),
        EventType::NoteSaved => include_str!("../../schemas/note-saved.schema.json"),
        EventType::NoteFailed => include_str!("../../schemas/note-failed.schema.json"),
        EventType::NoteUpdated => include_str!("../../schemas/note-updated.schema.json"),
        EventType::NoteDeleted => include_str!("../../schemas/note-deleted.schema.json"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::NoteStatus;

    fn created() -> NoteEvent {
        NoteEvent::note_created(
            NoteId::new(),
            Username::parse("alice").unwrap(),
            NoteContent::parse("hello").unwrap(),
            true,
            "req-1".into(),
            Timestamp::now(),
        )
    }

    fn saved_note(event: &NoteEvent) -> Note {
        Note {
            note_id: event.note_id(),
            username: event.username().clone(),
            content: NoteContent::parse("hello").unwrap(),
            is_public: true,
            status: NoteStatus::Saved,
            created_at: event.envelope.timestamp,
            saved_at: Timestamp::now(),
            updated_at: None,
        }
    }

    #[test]
    fn detail_carries_envelope_and_body_side_by_side() {
        let event = created();
        let detail = event.to_detail();
        assert_eq!(detail["eventType"], "note-created");
        assert_eq!(detail["eventVersion"], 1);
        assert_eq!(detail["correlationId"], "req-1");
        assert_eq!(detail["isPublic"], true);
        assert!(detail.get("causationId").is_none());
        assert_eq!(NoteEvent::from_detail(&detail).unwrap(), event);
    }

    #[test]
    fn saved_event_is_caused_by_created_and_keeps_the_correlation() {
        let created = created();
        let saved = NoteEvent::note_saved(&created, &saved_note(&created));
        assert_eq!(saved.envelope.causation_id, Some(created.envelope.event_id));
        assert_eq!(saved.envelope.correlation_id, "req-1");
        assert_eq!(saved.event_type(), EventType::NoteSaved);
    }

    #[test]
    fn derived_events_have_stable_ids_across_retries() {
        let created = created();
        let note = saved_note(&created);
        assert_eq!(NoteEvent::note_saved(&created, &note), NoteEvent::note_saved(&created, &note));
        let failed = NoteEvent::note_failed(&created.envelope, "x", Timestamp::now());
        assert_ne!(failed.envelope.event_id, NoteEvent::note_saved(&created, &note).envelope.event_id);
    }

    #[test]
    fn detail_with_invalid_content_is_refused() {
        let mut detail = created().to_detail();
        detail["content"] = serde_json::json!("   ");
        assert!(NoteEvent::from_detail(&detail).is_err());
    }

    #[test]
    fn detail_with_another_version_is_refused() {
        let mut detail = created().to_detail();
        detail["eventVersion"] = serde_json::json!(2);
        assert!(matches!(NoteEvent::from_detail(&detail), Err(EventParseError::UnsupportedVersion(2))));
    }

    #[test]
    fn other_users_hear_of_notes_that_are_or_were_public() {
        let created = created();
        let mut note = saved_note(&created);
        assert!(NoteEvent::note_saved(&created, &note).for_other_users().is_some());
        let before = note.clone();
        note.is_public = false;
        assert!(NoteEvent::note_updated(&before, &note, "r".into()).for_other_users().is_some());
        assert!(NoteEvent::note_updated(&note, &note, "r".into()).for_other_users().is_none());
        assert!(NoteEvent::note_deleted(&note, "r".into(), Timestamp::now()).for_other_users().is_none());
        assert!(NoteEvent::note_deleted(&before, "r".into(), Timestamp::now()).for_other_users().is_some());
        assert!(NoteEvent::note_failed(&created.envelope, "x", Timestamp::now()).for_other_users().is_none());
        assert!(created.for_other_users().is_none());
    }

    #[test]
    fn a_note_leaving_the_public_feed_reaches_other_users_without_its_content() {
        let created = created();
        let before = saved_note(&created);
        let mut after = before.clone();
        after.is_public = false;
        after.content = NoteContent::parse("now private").unwrap();
        after.updated_at = Some(Timestamp::now());
        let event = NoteEvent::note_updated(&before, &after, "r".into());
        let seen = event.for_other_users().unwrap();
        assert!(seen.get("content").is_none(), "{seen}");
        assert!(!seen.to_string().contains("now private"));
        assert_eq!(seen["isPublic"], false);
        assert_eq!(seen["wasPublic"], true);
        assert_eq!(seen["eventId"], event.to_detail()["eventId"]);
        assert_eq!(seen["updatedAt"], event.to_detail()["updatedAt"]);
    }

    #[test]
    fn an_edit_or_delete_rebuilt_from_its_record_is_the_event_first_published() {
        let created = created();
        let before = saved_note(&created);
        let mut after = before.clone();
        after.is_public = false;
        after.updated_at = Some(Timestamp::now());
        let updated = NoteEvent::note_updated(&before, &after, "r".into());
        assert_eq!(NoteEvent::updated_again(&after, &updated.change_record().unwrap()), updated);
        let deleted = NoteEvent::note_deleted(&after, "r2".into(), Timestamp::now());
        let again = NoteEvent::deleted_again(after.note_id, after.username.clone(), &deleted.change_record().unwrap());
        assert_eq!(again, deleted);
        assert_eq!(created.change_record(), None);
    }

    #[test]
    fn a_public_edit_reaches_other_users_whole() {
        let created = created();
        let before = saved_note(&created);
        let mut after = before.clone();
        after.content = NoteContent::parse("still public").unwrap();
        let event = NoteEvent::note_updated(&before, &after, "r".into());
        assert_eq!(event.for_other_users(), Some(event.to_detail()));
    }

    #[test]
    fn the_body_digest_tells_notes_apart_by_content_and_visibility_only() {
        let digest = |content: &str, public: bool| created_body_digest(&NoteContent::parse(content).unwrap(), public);
        let first = digest("hello", false);
        assert_eq!(digest("hello", false), first);
        assert_ne!(digest("hello", true), first);
        assert_ne!(digest("hello!", false), first);
        assert_eq!(first.len(), 64);
    }
}
