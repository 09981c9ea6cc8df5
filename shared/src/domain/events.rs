//! The event catalog: the five note events, their envelope, and how they travel on EventBridge.
//!
//! On the bus an event is `source = "notes.service"`, `detail-type = eventType`, and `detail`
//! = the JSON of [`NoteEvent`]: the envelope fields and the body fields side by side. Each
//! type has a JSON Schema in `shared/schemas/`; tests hold every event the code emits to it.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::lifecycle::{FailedNote, NoteState, Provenance, Tombstone, Transition};
use crate::domain::{Note, NoteContent, NoteId, Timestamp, Username};

pub const EVENT_SOURCE: &str = "notes.service";
pub const EVENT_VERSION: u32 = 1;

/// Namespace of the ids of events derived from a committed state (see [`NoteEvent::derived_id`]).
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
            event_id: crate::domain::simulation::uuid_v4(),
            timestamp: at,
            correlation_id,
            causation_id: None,
            note_id,
            username,
        }
    }

    /// The envelope of the event a committed state of a note causes: its id derived from the note
    /// and the state's version, so a retried stream batch publishes the very same event and
    /// consumers drop the copy by id.
    fn of_state(note_id: NoteId, username: Username, version: u64, at: Timestamp, made_by: &Provenance) -> Self {
        Envelope {
            event_version: EVENT_VERSION,
            event_id: NoteEvent::derived_id(note_id, version),
            timestamp: at,
            correlation_id: made_by.correlation_id.clone(),
            causation_id: made_by.causation_id,
            note_id,
            username,
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
    NoteSaved { content: NoteContent, is_public: bool, saved_at: Timestamp, version: u64 },
    #[serde(rename_all = "camelCase")]
    NoteFailed { error: String, version: u64 },
    #[serde(rename_all = "camelCase")]
    NoteUpdated { content: NoteContent, is_public: bool, updated_at: Timestamp, was_public: bool, version: u64 },
    #[serde(rename_all = "camelCase")]
    NoteDeleted { deleted_at: Timestamp, was_public: bool, version: u64 },
}

/// One note event: what goes in EventBridge's `detail`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteEvent {
    #[serde(flatten)]
    pub envelope: Envelope,
    #[serde(flatten)]
    pub body: EventBody,
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

    /// The version of its note this event shows: the version of the committed state that
    /// caused it (every event but `note-created`). Whoever holds a newer version of the note
    /// drops an older event.
    pub fn version(&self) -> Option<u64> {
        match &self.body {
            EventBody::NoteCreated { .. } => None,
            EventBody::NoteSaved { version, .. }
            | EventBody::NoteFailed { version, .. }
            | EventBody::NoteUpdated { version, .. }
            | EventBody::NoteDeleted { version, .. } => Some(*version),
        }
    }

    /// Whether this event shows a note's content (`note-saved`, `note-updated`).
    pub fn shows_content(&self) -> bool {
        matches!(self.body, EventBody::NoteSaved { .. } | EventBody::NoteUpdated { .. })
    }

    /// What a user other than the note's owner may receive about this event, if anything.
    ///
    /// `content` reaches only users who may read the note after the change: a note that is
    /// public now goes out whole; a note that just left the public feed goes out without its
    /// `content` (ids, timestamps, `isPublic: false`, `wasPublic: true`), so feeds drop it and
    /// learn nothing of its new text; a note that is and was private, and every `note-failed`
    /// or `note-created`, reaches no one but its owner.
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

    /// The event one committed transition of a note's key means, if any:
    ///
    /// | before → after | event |
    /// | --- | --- |
    /// | nothing or a failure → a stored note | `note-saved` |
    /// | a stored note → a stored note of another version | `note-updated`, `wasPublic` from before |
    /// | anything → a tombstone | `note-deleted`, `wasPublic` from before (a dismiss: `false`) |
    /// | a stored note → nothing (removed by hand) | `note-deleted` |
    /// | nothing → a failure; a failure → a failure recorded anew (it failed again) | `note-failed` |
    /// | a tombstone or a failure expiring; a state rewritten as it was | nothing |
    pub fn of_transition(transition: &Transition) -> Option<Self> {
        let made_by = &transition.made_by;
        match (&transition.before, &transition.after) {
            (Some(NoteState::Stored(before)), Some(NoteState::Stored(after))) => {
                (before.version != after.version).then(|| Self::note_updated(before, after, made_by))
            }
            (_, Some(NoteState::Stored(note))) => Some(Self::note_saved(note, made_by)),
            (before, Some(NoteState::Deleted(tombstone))) => {
                let was_public = before.as_ref().is_some_and(NoteState::is_public);
                let unchanged = before.as_ref().is_some_and(|b| b.version() == tombstone.version);
                (!unchanged).then(|| Self::note_deleted(tombstone, was_public, made_by))
            }
            (before, Some(NoteState::Failed(failed))) => {
                let unchanged = before.as_ref().is_some_and(|b| b.version() == failed.version);
                (!unchanged).then(|| Self::note_failed(failed, made_by))
            }
            (Some(NoteState::Stored(note)), None) => {
                let removed = Tombstone {
                    note_id: note.note_id,
                    username: note.username.clone(),
                    deleted_at: Timestamp::now(),
                    version: note.version + 1,
                    expires_at: Timestamp::now(),
                };
                Some(Self::note_deleted(&removed, note.is_public, made_by))
            }
            (_, None) => None,
        }
    }

    /// `note-saved`: `note` is stored.
    pub fn note_saved(note: &Note, made_by: &Provenance) -> Self {
        NoteEvent {
            envelope: Envelope::of_state(note.note_id, note.username.clone(), note.version, note.saved_at, made_by),
            body: EventBody::NoteSaved {
                content: note.content.clone(),
                is_public: note.is_public,
                saved_at: note.saved_at,
                version: note.version,
            },
        }
    }

    /// `note-failed`: the note could not be stored, for a reason its owner may read.
    pub fn note_failed(failed: &FailedNote, made_by: &Provenance) -> Self {
        NoteEvent {
            envelope: Envelope::of_state(
                failed.note_id,
                failed.username.clone(),
                failed.version,
                failed.failed_at,
                made_by,
            ),
            body: EventBody::NoteFailed { error: failed.error.clone(), version: failed.version },
        }
    }

    /// `note-updated`: `before` was edited into `after`.
    pub fn note_updated(before: &Note, after: &Note, made_by: &Provenance) -> Self {
        let updated_at = after.updated_at.unwrap_or(after.saved_at);
        NoteEvent {
            envelope: Envelope::of_state(after.note_id, after.username.clone(), after.version, updated_at, made_by),
            body: EventBody::NoteUpdated {
                content: after.content.clone(),
                is_public: after.is_public,
                updated_at,
                was_public: before.is_public,
                version: after.version,
            },
        }
    }

    /// `note-deleted`: the note (public before, or not) is now `tombstone`.
    pub fn note_deleted(tombstone: &Tombstone, was_public: bool, made_by: &Provenance) -> Self {
        NoteEvent {
            envelope: Envelope::of_state(
                tombstone.note_id,
                tombstone.username.clone(),
                tombstone.version,
                tombstone.deleted_at,
                made_by,
            ),
            body: EventBody::NoteDeleted { deleted_at: tombstone.deleted_at, was_public, version: tombstone.version },
        }
    }

    /// The note a `note-created` asks to store, as stored at `saved_at`: its first version.
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
            version: 1,
        })
    }

    /// The provenance a state made in answer to this event keeps: its flow's correlation, and
    /// this event as the cause.
    pub fn as_cause(&self) -> Provenance {
        Provenance { correlation_id: self.envelope.correlation_id.clone(), causation_id: Some(self.envelope.event_id) }
    }

    /// A UUID v5 of the note id and the version of the state that caused the event: the same
    /// for every retry of one transition, different for every transition of one note.
    pub fn derived_id(note_id: NoteId, version: u64) -> Uuid {
        let mut name = note_id.as_uuid().as_bytes().to_vec();
        name.extend_from_slice(&version.to_be_bytes());
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
            version: 1,
        }
    }

    fn edited(before: &Note, content: &str, is_public: bool) -> Note {
        let mut after = before.clone();
        after.content = NoteContent::parse(content).unwrap();
        after.is_public = is_public;
        after.updated_at = Some(Timestamp::now());
        after.version = before.version + 1;
        after
    }

    fn tombstone_of(note: &Note) -> Tombstone {
        Tombstone::replacing(note, Timestamp::now(), Timestamp::now().plus_seconds(60))
    }

    fn failure_of(created: &NoteEvent) -> FailedNote {
        FailedNote::of_created(&created.envelope, "no", Timestamp::now(), Timestamp::now().plus_seconds(60))
    }

    fn transition(before: Option<NoteState>, after: Option<NoteState>) -> Option<NoteEvent> {
        NoteEvent::of_transition(&Transition { before, after, made_by: Provenance::request("req-9") })
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
    fn a_stored_note_is_announced_saved_with_the_flow_of_the_note_created_it_stored() {
        let created = created();
        let note = saved_note(&created);
        let saved = transition(None, Some(NoteState::Stored(note.clone()))).unwrap();
        assert_eq!((saved.event_type(), saved.version()), (EventType::NoteSaved, Some(1)));
        assert_eq!(saved.correlation_id(), "req-9");
        let caused = NoteEvent::note_saved(&note, &created.as_cause());
        assert_eq!(caused.envelope.causation_id, Some(created.envelope.event_id));
        assert_eq!(caused.envelope.correlation_id, "req-1");
        assert_eq!(caused.version(), Some(1));
    }

    #[test]
    fn one_transition_always_yields_the_same_event_id_and_two_transitions_never_do() {
        let created = created();
        let note = saved_note(&created);
        let first = transition(None, Some(NoteState::Stored(note.clone()))).unwrap();
        assert_eq!(transition(None, Some(NoteState::Stored(note.clone()))).unwrap(), first);
        let after = edited(&note, "again", true);
        let edit = transition(Some(NoteState::Stored(note)), Some(NoteState::Stored(after))).unwrap();
        assert_ne!(edit.envelope.event_id, first.envelope.event_id);
    }

    #[test]
    fn an_edit_reads_was_public_from_the_state_before_it() {
        let note = saved_note(&created());
        let hidden = edited(&note, "now private", false);
        let event = transition(Some(NoteState::Stored(note)), Some(NoteState::Stored(hidden))).unwrap();
        assert!(matches!(event.body, EventBody::NoteUpdated { was_public: true, is_public: false, version: 2, .. }));
    }

    #[test]
    fn a_delete_reads_was_public_from_the_state_before_it_and_a_dismiss_was_never_public() {
        let note = saved_note(&created());
        let tombstone = tombstone_of(&note);
        let deleted =
            transition(Some(NoteState::Stored(note.clone())), Some(NoteState::Deleted(tombstone.clone()))).unwrap();
        assert!(matches!(deleted.body, EventBody::NoteDeleted { was_public: true, version: 2, .. }));
        let failure = failure_of(&created());
        let dismissed = transition(Some(NoteState::Failed(failure)), Some(NoteState::Deleted(tombstone))).unwrap();
        assert!(matches!(dismissed.body, EventBody::NoteDeleted { was_public: false, .. }));
        assert!(dismissed.for_other_users().is_none());
    }

    #[test]
    fn a_failure_is_announced_each_time_it_is_recorded_and_a_redrive_that_stores_the_note_is_a_save() {
        let created = created();
        let failure = failure_of(&created);
        let failed = transition(None, Some(NoteState::Failed(failure.clone()))).unwrap();
        assert_eq!(failed.event_type(), EventType::NoteFailed);
        assert_eq!(
            transition(Some(NoteState::Failed(failure.clone())), Some(NoteState::Failed(failure.clone()))),
            None
        );
        let again = FailedNote { version: 2, ..failure.clone() };
        let told_again = transition(Some(NoteState::Failed(failure.clone())), Some(NoteState::Failed(again))).unwrap();
        assert_eq!((told_again.event_type(), told_again.version()), (EventType::NoteFailed, Some(2)));
        let mut note = saved_note(&created);
        note.version = 2;
        let saved = transition(Some(NoteState::Failed(failure)), Some(NoteState::Stored(note))).unwrap();
        assert_eq!((saved.event_type(), saved.version()), (EventType::NoteSaved, Some(2)));
    }

    #[test]
    fn an_expiry_announces_nothing() {
        let created = created();
        let note = saved_note(&created);
        assert_eq!(transition(Some(NoteState::Deleted(tombstone_of(&note))), None), None);
        assert_eq!(transition(Some(NoteState::Failed(failure_of(&created))), None), None);
    }

    #[test]
    fn a_state_rewritten_as_it_was_announces_nothing() {
        let note = saved_note(&created());
        assert_eq!(transition(Some(NoteState::Stored(note.clone())), Some(NoteState::Stored(note))), None);
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
        let by = Provenance::request("r");
        let note = saved_note(&created);
        assert!(NoteEvent::note_saved(&note, &by).for_other_users().is_some());
        let private = edited(&note, "hello", false);
        assert!(NoteEvent::note_updated(&note, &private, &by).for_other_users().is_some());
        assert!(NoteEvent::note_updated(&private, &private, &by).for_other_users().is_none());
        assert!(NoteEvent::note_deleted(&tombstone_of(&private), false, &by).for_other_users().is_none());
        assert!(NoteEvent::note_deleted(&tombstone_of(&note), true, &by).for_other_users().is_some());
        assert!(NoteEvent::note_failed(&failure_of(&created), &by).for_other_users().is_none());
        assert!(created.for_other_users().is_none());
    }

    #[test]
    fn a_note_leaving_the_public_feed_reaches_other_users_without_its_content() {
        let before = saved_note(&created());
        let after = edited(&before, "now private", false);
        let event = NoteEvent::note_updated(&before, &after, &Provenance::request("r"));
        let seen = event.for_other_users().unwrap();
        assert!(seen.get("content").is_none(), "{seen}");
        assert!(!seen.to_string().contains("now private"));
        assert_eq!(seen["isPublic"], false);
        assert_eq!(seen["wasPublic"], true);
        assert_eq!(seen["eventId"], event.to_detail()["eventId"]);
        assert_eq!(seen["version"], 2);
    }

    #[test]
    fn a_public_edit_reaches_other_users_whole() {
        let before = saved_note(&created());
        let after = edited(&before, "still public", true);
        let event = NoteEvent::note_updated(&before, &after, &Provenance::request("r"));
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
