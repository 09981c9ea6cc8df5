//! Ports: the small traits through which handlers reach the outside world. Each has an AWS
//! adapter (`crate::adapters::aws`) and an in-memory fake (`crate::adapters::fakes`, feature `fakes`). A handler
//! sees only these types, never an SDK type. Adapters decide no business rules.

pub mod push;

use crate::domain::broadcast::BroadcastMessage;
use crate::domain::events::{Envelope, NoteEvent};
use crate::domain::lifecycle::{FailedNote, NoteState, OwnNote, Provenance, Tombstone};
use crate::domain::{IdempotencyKey, Note, NoteId, Timestamp, Username};
use async_trait::async_trait;

/// A table call that did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// Throttling, a network error, a 5xx: worth retrying.
    #[error("the table is unavailable: {0}")]
    Unavailable(String),
    /// An item that does not read as its kind: retrying will not help.
    #[error("an item in the table could not be read: {0}")]
    Corrupt(String),
    /// A request the table refuses and always will (validation, an item too large, access
    /// denied, no such table): retrying will not help.
    #[error("the table refused the request: {0}")]
    Rejected(String),
}

impl StoreError {
    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }
}

/// A publish to the bus that did not succeed; always worth retrying.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublishError {
    #[error("the event bus is unavailable: {0}")]
    Unavailable(String),
    #[error("the event bus refused {failed} of the events: {reason}")]
    Rejected { failed: usize, reason: String },
}

/// A push to one WebSocket connection that did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PushError {
    /// 410: the connection is closed; its items should go.
    #[error("the connection is gone")]
    Gone,
    #[error("the management API is unavailable: {0}")]
    Unavailable(String),
}

/// A send to a queue that did not succeed; always worth retrying.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueueError {
    #[error("the queue is unavailable: {0}")]
    Unavailable(String),
    #[error("the queue refused {failed} of the messages: {reason}")]
    Rejected { failed: usize, reason: String },
}

/// What storing a new note came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaveOutcome {
    /// Stored now (in place of its failure, if one was recorded).
    Saved,
    /// Stored by an earlier delivery of the same event: here is what was stored.
    AlreadySaved(Note),
    /// The note was deleted or dismissed; nothing is written.
    Deleted,
}

/// What recording a note's failure came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureOutcome {
    /// Recorded now, or by an earlier delivery.
    Recorded,
    /// The note is stored, deleted or dismissed: no failure is recorded, so a stored note is
    /// never announced as failed.
    Settled,
}

/// What a conditional change of an existing note came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeOutcome {
    Applied,
    /// The note changed or went away since it was read.
    Conflict,
}

/// A page request: at most `limit` items after the one with id `after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: usize,
    pub after: Option<NoteId>,
}

/// One page, newest first; `next` is set when more items follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<NoteId>,
}

/// Notes, each in one item (its key's [`NoteState`]); public ones also listed in the public
/// feed. Every write is one conditional write of one item, and the table's stream carries it to
/// the consumer that publishes its event: no writer publishes.
#[async_trait]
pub trait NoteStore: Send + Sync {
    /// Stores a new note, once: not if it exists already, and not if it was deleted or
    /// dismissed. In place of a recorded failure it is stored one version past it (a redrive
    /// that saves the note). Whether its owner exists is not checked: only `publish-note` puts
    /// `note-created` on the bus, for the account its verified token names, and no account is
    /// ever removed.
    async fn save_new(&self, note: &Note, made_by: &Provenance) -> Result<SaveOutcome, StoreError>;
    /// Records that the note could not be stored, only where its key holds nothing.
    async fn record_failure(&self, failed: &FailedNote, made_by: &Provenance) -> Result<FailureOutcome, StoreError>;
    /// The stored note, if the key holds one.
    async fn get(&self, owner: &Username, note_id: NoteId) -> Result<Option<Note>, StoreError>;
    /// Whatever the note's key holds (a consistent read).
    async fn state(&self, owner: &Username, note_id: NoteId) -> Result<Option<NoteState>, StoreError>;
    /// The owner's stored notes and recorded failures, newest first.
    async fn list_by_owner(&self, owner: &Username, page: PageRequest) -> Result<Page<OwnNote>, StoreError>;
    async fn list_public(&self, page: PageRequest) -> Result<Page<Note>, StoreError>;
    /// Replaces `before` by `after` (same id and owner, one version on), in or out of the public
    /// feed to match, only if the note is still `before`.
    async fn replace(&self, before: &Note, after: &Note, made_by: &Provenance) -> Result<ChangeOutcome, StoreError>;
    /// Puts `tombstone` in the place of `note` if it is still `note`, so a late redelivery or a
    /// replay of its `note-created` cannot bring it back.
    async fn delete(
        &self,
        note: &Note,
        tombstone: &Tombstone,
        made_by: &Provenance,
    ) -> Result<ChangeOutcome, StoreError>;
    /// Gives up a note its owner never saw stored (pending, or failed): a tombstone in its place
    /// until `tombstone_until`, written only if the key holds nothing or a failure, so a redrive
    /// or a replay of its `note-created` stores nothing. `Stored` when the note is stored after all.
    async fn dismiss(
        &self,
        owner: &Username,
        note_id: NoteId,
        tombstone_until: Timestamp,
        made_by: &Provenance,
    ) -> Result<DismissOutcome, StoreError>;
    /// Whether the note was deleted and its tombstone has not expired yet.
    async fn was_deleted(&self, owner: &Username, note_id: NoteId) -> Result<bool, StoreError>;
}

/// What became of a dismissed note.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DismissOutcome {
    /// Its tombstone is there: written now, or by an earlier delete or dismiss.
    Dismissed,
    /// The note is stored: it is deleted as any stored note is.
    Stored,
}

/// A stored account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub username: Username,
    /// argon2id, PHC string format.
    pub password_hash: String,
    pub created_at: Timestamp,
}

#[async_trait]
pub trait UserStore: Send + Sync {
    /// Creates the account unless the name is taken; `Ok(false)` when it is.
    async fn create(&self, user: &UserRecord) -> Result<bool, StoreError>;
    async fn get(&self, username: &Username) -> Result<Option<UserRecord>, StoreError>;
}

/// What is recorded of the first request under an `Idempotency-Key`: the envelope of the
/// `note-created` it published and a digest of its body ([`crate::domain::events::created_body_digest`]). Not the
/// body itself: an exact retry brings the body again, so the record stays under 1 KB (one write
/// unit) whatever the note's size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstRequest {
    pub envelope: Envelope,
    pub body_digest: String,
}

/// What claiming an `Idempotency-Key` came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is new: the caller's request is now recorded under it.
    New,
    /// The key was used before: this is the request recorded then.
    Existing(FirstRequest),
}

#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Records `first` under (`owner`, `key`) unless something is recorded there already.
    async fn claim(
        &self,
        owner: &Username,
        key: &IdempotencyKey,
        first: &FirstRequest,
        expires_at: Timestamp,
    ) -> Result<Claim, StoreError>;
}

/// An open WebSocket connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub connection_id: String,
    pub username: Username,
    pub connected_at: Timestamp,
    /// When its items expire (TTL): API Gateway closes connections after 2 hours.
    pub expires_at: Timestamp,
}

#[async_trait]
pub trait ConnectionStore: Send + Sync {
    async fn add(&self, connection: &Connection) -> Result<(), StoreError>;
    /// Removes every item of the connection, found through its own `META` item, and returns
    /// what was removed; `None` when it was not there.
    async fn remove(&self, connection_id: &str) -> Result<Option<Connection>, StoreError>;
    /// The user's open (unexpired) connections.
    async fn of_user(&self, username: &Username) -> Result<Vec<Connection>, StoreError>;
    /// The open (unexpired) connections of one shard of the connection list
    /// ([`crate::adapters::keys::connection_shard`]), for the public feed.
    async fn in_shard(&self, shard: u32) -> Result<Vec<Connection>, StoreError>;
}

#[async_trait]
pub trait EventPublisher: Send + Sync {
    /// Puts the events on the bus; fails unless every one was accepted.
    async fn publish(&self, events: &[NoteEvent]) -> Result<(), PublishError>;
}

/// The broadcast queue: where `notify` leaves one message per connection shard.
#[async_trait]
pub trait BroadcastQueue: Send + Sync {
    /// Queues the messages; fails unless every one was accepted.
    async fn send(&self, messages: &[BroadcastMessage]) -> Result<(), QueueError>;
}

#[async_trait]
pub trait ConnectionPusher: Send + Sync {
    /// Sends one message to one connection (the Management API's `PostToConnection`).
    async fn push(&self, connection_id: &str, payload: &[u8]) -> Result<(), PushError>;
    /// Whether the connection is still open (the Management API's `GetConnection`): `false` once
    /// API Gateway answers 410 for it.
    async fn is_open(&self, connection_id: &str) -> Result<bool, PushError>;
}
