//! What a note's key in the table can hold, and what each committed transition of it means.
//!
//! A note's key (`USER#{owner}` / `NOTE#{id}`) holds, over its life, nothing, then one of:
//!
//! | state | written by | leaves by |
//! | --- | --- | --- |
//! | [`NoteState::Stored`] | `save-note` (version 1, or one past a failure's), `update-note` (one version on) | an edit, a delete |
//! | [`NoteState::Failed`] | `save-note`, when the note cannot be stored (invalid, refused, dead-lettered, too old) | a redrive that stores it, a dismiss, its expiry |
//! | [`NoteState::Deleted`] (a tombstone) | `delete-note` (a delete, or a dismiss of a note never stored) | its expiry |
//!
//! The table's stream carries every transition, in order per key, and the stream's consumer
//! publishes the one event each means ([`crate::domain::events::NoteEvent::of_transition`]):
//! the table is the one source of truth, its stream the outbox. Each state keeps the
//! [`Provenance`] of the change that made it, so the event it causes keeps the flow's
//! `correlationId` and `causationId`.

use serde::{Serialize, Serializer};
use uuid::Uuid;

use crate::domain::{Note, NoteId, NoteStatus, Timestamp, Username};

/// Which request or event made a state: carried into the event the state causes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    /// The HTTP request that started the flow.
    pub correlation_id: String,
    /// The event that caused the change (the `note-created` a save stored), if one did.
    pub causation_id: Option<Uuid>,
}

impl Provenance {
    /// A change made by the HTTP request `correlation_id`.
    pub fn request(correlation_id: impl Into<String>) -> Self {
        Self { correlation_id: correlation_id.into(), causation_id: None }
    }
}

/// A note that could not be stored, kept in its place (in its owner's partition) for as long as a
/// redrive could still store it, so its owner can read its fate after the fact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedNote {
    pub note_id: NoteId,
    pub username: Username,
    /// A sentence its owner may read.
    pub error: String,
    pub created_at: Timestamp,
    pub failed_at: Timestamp,
    pub version: u64,
    /// When the table may sweep it: once no redrive can store the note any more.
    pub expires_at: Timestamp,
}

impl FailedNote {
    /// The first failure of the note `created` (a `note-created`'s envelope) asked to store.
    pub fn of_created(
        created: &crate::domain::events::Envelope,
        error: impl Into<String>,
        failed_at: Timestamp,
        expires_at: Timestamp,
    ) -> FailedNote {
        FailedNote {
            note_id: created.note_id,
            username: created.username.clone(),
            error: error.into(),
            created_at: created.timestamp,
            failed_at,
            version: 1,
            expires_at,
        }
    }
}

/// A deleted (or dismissed) note's tombstone, in the note's place until it expires, so no late
/// delivery, redrive or replay of its `note-created` can store it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tombstone {
    pub note_id: NoteId,
    pub username: Username,
    pub deleted_at: Timestamp,
    pub version: u64,
    pub expires_at: Timestamp,
}

impl Tombstone {
    /// The tombstone that replaces `note`, deleted at `deleted_at`: one version past it.
    pub fn replacing(note: &Note, deleted_at: Timestamp, expires_at: Timestamp) -> Tombstone {
        Tombstone {
            note_id: note.note_id,
            username: note.username.clone(),
            deleted_at,
            version: note.version + 1,
            expires_at,
        }
    }
}

/// What a note's key holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoteState {
    Stored(Note),
    Failed(FailedNote),
    Deleted(Tombstone),
}

impl NoteState {
    pub fn note_id(&self) -> NoteId {
        match self {
            NoteState::Stored(note) => note.note_id,
            NoteState::Failed(failed) => failed.note_id,
            NoteState::Deleted(tombstone) => tombstone.note_id,
        }
    }

    /// The note's owner, whose partition holds the key.
    pub fn username(&self) -> &Username {
        match self {
            NoteState::Stored(note) => &note.username,
            NoteState::Failed(failed) => &failed.username,
            NoteState::Deleted(tombstone) => &tombstone.username,
        }
    }

    pub fn version(&self) -> u64 {
        match self {
            NoteState::Stored(note) => note.version,
            NoteState::Failed(failed) => failed.version,
            NoteState::Deleted(tombstone) => tombstone.version,
        }
    }

    /// Whether the state is a public note: what other users may have been shown.
    pub fn is_public(&self) -> bool {
        matches!(self, NoteState::Stored(note) if note.is_public)
    }
}

/// One committed transition of a note's key, as the table's stream carries it, with the
/// provenance of the change that made the new state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub before: Option<NoteState>,
    pub after: Option<NoteState>,
    pub made_by: Provenance,
}

/// One of its owner's notes as the API shows it: stored, or failed with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum OwnNote {
    Stored(Note),
    Failed(FailedNote),
}

impl OwnNote {
    pub fn note_id(&self) -> NoteId {
        match self {
            OwnNote::Stored(note) => note.note_id,
            OwnNote::Failed(failed) => failed.note_id,
        }
    }
}

/// `{noteId, username, status: "failed", error, createdAt, failedAt, version}`.
impl Serialize for FailedNote {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Shown<'a> {
            note_id: NoteId,
            username: &'a Username,
            status: NoteStatus,
            error: &'a str,
            created_at: Timestamp,
            failed_at: Timestamp,
            version: u64,
        }
        Shown {
            note_id: self.note_id,
            username: &self.username,
            status: NoteStatus::Failed,
            error: &self.error,
            created_at: self.created_at,
            failed_at: self.failed_at,
            version: self.version,
        }
        .serialize(serializer)
    }
}
