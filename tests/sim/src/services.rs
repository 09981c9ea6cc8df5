//! The services around the functions, as the simulation plays them: ports the functions call,
//! each failing as the fault plan draws from the simulation's seeded generator.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use notes_core::adapters::fakes::InMemoryTable;
use notes_core::domain::broadcast::BroadcastMessage;
use notes_core::domain::events::NoteEvent;
use notes_core::domain::lifecycle::{FailedNote, NoteState, OwnNote, Provenance, Tombstone};
use notes_core::domain::{Note, NoteId, Timestamp, Username, simulation};
use notes_core::ports::{
    BroadcastQueue, ChangeOutcome, ConnectionPusher, DismissOutcome, EventPublisher, FailureOutcome, NoteStore, Page,
    PageRequest, PublishError, PushError, QueueError, SaveOutcome, StoreError,
};
use serde_json::Value;

fn chance(percent: u64) -> bool {
    simulation::next_u64().unwrap_or(0) % 100 < percent
}

/// A found violation, before the simulation stamps its step.
pub type Found = (&'static str, String);

/// EventBridge: accepts events (or fails as `PutEvents` fails), holds them until the simulation
/// routes them, in any order. Every event is held to its schema.
pub struct SimBus {
    pending: Mutex<Vec<NoteEvent>>,
    faults: Mutex<bool>,
    violations: Mutex<Vec<Found>>,
}

impl SimBus {
    pub fn new(faults: bool) -> Self {
        SimBus { pending: Mutex::default(), faults: Mutex::new(faults), violations: Mutex::default() }
    }

    pub fn set_faults(&self, on: bool) {
        *self.faults.lock().unwrap() = on;
    }

    pub fn is_empty(&self) -> bool {
        self.pending.lock().unwrap().is_empty()
    }

    pub fn len(&self) -> usize {
        self.pending.lock().unwrap().len()
    }

    pub fn take(&self, index: usize) -> Option<NoteEvent> {
        let mut pending = self.pending.lock().unwrap();
        (index < pending.len()).then(|| pending.remove(index))
    }

    pub fn put_back(&self, event: NoteEvent) {
        self.pending.lock().unwrap().push(event);
    }

    pub fn take_violations(&self) -> Vec<Found> {
        std::mem::take(&mut self.violations.lock().unwrap())
    }
}

#[async_trait]
impl EventPublisher for SimBus {
    async fn publish(&self, events: &[NoteEvent]) -> Result<(), PublishError> {
        if *self.faults.lock().unwrap() && chance(8) {
            return Err(PublishError::Unavailable("InternalException (simulated)".into()));
        }
        for event in events {
            let kind = event.event_type();
            let detail = event.to_detail();
            let valid = std::panic::catch_unwind(|| {
                notes_core::adapters::fakes::assert_detail_matches_schema(kind, &detail);
            });
            if valid.is_err() {
                self.violations
                    .lock()
                    .unwrap()
                    .push(("every event conforms to its schema", event.to_detail().to_string()));
            }
        }
        self.pending.lock().unwrap().extend_from_slice(events);
        Ok(())
    }
}

/// A socket as API Gateway sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Socket {
    /// `$connect` has not answered: 410 to every push.
    Opening,
    Open,
    /// Closed, with or without `$disconnect`: 410.
    Closed,
}

/// The Management API: pushes reach open sockets; 410 while a handshake is open and after close.
/// At each push it checks that no one receives text they may not read at that moment.
pub struct SimPusher {
    table: Arc<InMemoryTable>,
    sockets: Mutex<HashMap<String, Socket>>,
    owners: Mutex<HashMap<String, String>>,
    delivered: Mutex<Vec<(String, Value)>>,
    faults: Mutex<bool>,
    violations: Mutex<Vec<Found>>,
}

impl SimPusher {
    pub fn new(table: Arc<InMemoryTable>, faults: bool) -> Self {
        SimPusher {
            table,
            sockets: Mutex::default(),
            owners: Mutex::default(),
            delivered: Mutex::default(),
            faults: Mutex::new(faults),
            violations: Mutex::default(),
        }
    }

    pub fn set_faults(&self, on: bool) {
        *self.faults.lock().unwrap() = on;
    }

    pub fn opening(&self, connection_id: &str) {
        self.sockets.lock().unwrap().insert(connection_id.to_owned(), Socket::Opening);
    }

    pub fn open(&self, connection_id: &str) {
        self.sockets.lock().unwrap().insert(connection_id.to_owned(), Socket::Open);
    }

    pub fn close(&self, connection_id: &str) {
        self.sockets.lock().unwrap().insert(connection_id.to_owned(), Socket::Closed);
    }

    /// Whether the socket is gone (closed, or never opened).
    pub fn is_gone(&self, connection_id: &str) -> bool {
        !matches!(self.sockets.lock().unwrap().get(connection_id), Some(Socket::Open | Socket::Opening))
    }

    pub fn take_deliveries(&self) -> Vec<(String, Value)> {
        std::mem::take(&mut self.delivered.lock().unwrap())
    }

    pub fn take_violations(&self) -> Vec<Found> {
        std::mem::take(&mut self.violations.lock().unwrap())
    }

    /// The socket's user, from the connection items (recorded once seen).
    fn owner_of(&self, connection_id: &str) -> Option<String> {
        if let Some(owner) = self.owners.lock().unwrap().get(connection_id) {
            return Some(owner.clone());
        }
        None
    }

    pub fn remember_owner(&self, connection_id: &str, user: &str) {
        self.owners.lock().unwrap().insert(connection_id.to_owned(), user.to_owned());
    }

    /// What a reader may see of a note at this moment, checked against the message pushed.
    fn check_readable(&self, connection_id: &str, message: &Value) {
        let Some(reader) = self.owner_of(connection_id) else { return };
        let owner = message["username"].as_str().unwrap_or_default();
        if owner == reader {
            return;
        }
        if message["eventType"] == "note-failed" {
            self.violations.lock().unwrap().push((
                "no user receives what they may not read",
                format!("{reader} received another user's note-failed: {message}"),
            ));
            return;
        }
        if message.get("content").is_none() {
            return;
        }
        let (Ok(user), Some(Ok(note_id))) = (Username::parse(owner), message["noteId"].as_str().map(NoteId::parse))
        else {
            return;
        };
        let now = self.table.owner_copies(&user).into_iter().find(|n| n.note_id == note_id);
        let readable =
            matches!(&now, Some(note) if note.is_public && Some(note.version) == message["version"].as_u64());
        if !readable {
            self.violations.lock().unwrap().push((
                "no user receives what they may not read",
                format!("{reader} received the text of {note_id}, which is now {now:?}: {message}"),
            ));
        }
    }
}

#[async_trait]
impl ConnectionPusher for SimPusher {
    async fn push(&self, connection_id: &str, payload: &[u8]) -> Result<(), PushError> {
        if *self.faults.lock().unwrap() && chance(8) {
            return Err(PushError::Unavailable("500 (simulated)".into()));
        }
        let socket = self.sockets.lock().unwrap().get(connection_id).copied();
        match socket {
            Some(Socket::Open) => {
                let message: Value = serde_json::from_slice(payload).unwrap_or(Value::Null);
                self.check_readable(connection_id, &message);
                self.delivered.lock().unwrap().push((connection_id.to_owned(), message));
                Ok(())
            }
            _ => Err(PushError::Gone),
        }
    }

    async fn is_open(&self, connection_id: &str) -> Result<bool, PushError> {
        Ok(matches!(self.sockets.lock().unwrap().get(connection_id), Some(Socket::Open)))
    }
}

/// The broadcast queue: notify's messages, held until the simulation hands them to broadcast.
/// With the planted defect, a note leaving the feed goes out with its new text.
pub struct SimQueue {
    table: Arc<InMemoryTable>,
    messages: Mutex<Vec<BroadcastMessage>>,
    unredacted: bool,
}

impl SimQueue {
    pub fn new(table: Arc<InMemoryTable>, unredacted: bool) -> Self {
        SimQueue { table, messages: Mutex::default(), unredacted }
    }

    pub fn drain(&self) -> Vec<BroadcastMessage> {
        std::mem::take(&mut self.messages.lock().unwrap())
    }
}

#[async_trait]
impl BroadcastQueue for SimQueue {
    async fn send(&self, messages: &[BroadcastMessage]) -> Result<(), QueueError> {
        let mut messages = messages.to_vec();
        if self.unredacted {
            for message in &mut messages {
                let detail = &mut message.detail;
                // As if notify sent the event whole: the text of the version the event shows.
                if detail.get("content").is_none() && detail["eventType"] == "note-updated" {
                    let owner = Username::parse(detail["username"].as_str().unwrap_or_default()).ok();
                    let id = detail["noteId"].as_str().and_then(|id| NoteId::parse(id).ok());
                    if let (Some(owner), Some(id)) = (owner, id)
                        && let Some(note) = self.table.owner_copies(&owner).into_iter().find(|n| n.note_id == id)
                        && Some(note.version) == detail["version"].as_u64()
                    {
                        detail["content"] = Value::String(note.content.as_str().to_owned());
                    }
                }
            }
        }
        self.messages.lock().unwrap().extend(messages);
        Ok(())
    }
}

/// save-note's table: throttled as the fault plan draws.
pub struct FlakyNotes {
    inner: Arc<InMemoryTable>,
    faults: Mutex<bool>,
    /// Writes still to throttle, whatever the plan (a scenario's).
    throttle: Mutex<usize>,
}

impl FlakyNotes {
    pub fn new(inner: Arc<InMemoryTable>, faults: bool) -> Self {
        FlakyNotes { inner, faults: Mutex::new(faults), throttle: Mutex::new(0) }
    }

    pub fn set_faults(&self, on: bool) {
        *self.faults.lock().unwrap() = on;
    }

    /// Throttles the next `writes` writes.
    pub fn throttle_next(&self, writes: usize) {
        *self.throttle.lock().unwrap() = writes;
    }

    fn throttled(&self) -> Result<(), StoreError> {
        let mut left = self.throttle.lock().unwrap();
        if *left > 0 {
            *left -= 1;
            return Err(StoreError::Unavailable("ProvisionedThroughputExceededException (scripted)".into()));
        }
        if *self.faults.lock().unwrap() && chance(15) {
            return Err(StoreError::Unavailable("ProvisionedThroughputExceededException (simulated)".into()));
        }
        Ok(())
    }
}

#[async_trait]
impl NoteStore for FlakyNotes {
    async fn save_new(&self, note: &Note, made_by: &Provenance) -> Result<SaveOutcome, StoreError> {
        self.throttled()?;
        self.inner.save_new(note, made_by).await
    }
    async fn record_failure(&self, failed: &FailedNote, made_by: &Provenance) -> Result<FailureOutcome, StoreError> {
        self.throttled()?;
        self.inner.record_failure(failed, made_by).await
    }
    async fn get(&self, owner: &Username, note_id: NoteId) -> Result<Option<Note>, StoreError> {
        self.inner.get(owner, note_id).await
    }
    async fn state(&self, owner: &Username, note_id: NoteId) -> Result<Option<NoteState>, StoreError> {
        self.inner.state(owner, note_id).await
    }
    async fn list_by_owner(&self, owner: &Username, page: PageRequest) -> Result<Page<OwnNote>, StoreError> {
        self.inner.list_by_owner(owner, page).await
    }
    async fn list_public(&self, page: PageRequest) -> Result<Page<Note>, StoreError> {
        self.inner.list_public(page).await
    }
    async fn replace(&self, before: &Note, after: &Note, made_by: &Provenance) -> Result<ChangeOutcome, StoreError> {
        self.inner.replace(before, after, made_by).await
    }
    async fn delete(
        &self,
        note: &Note,
        tombstone: &Tombstone,
        made_by: &Provenance,
    ) -> Result<ChangeOutcome, StoreError> {
        self.inner.delete(note, tombstone, made_by).await
    }
    async fn dismiss(
        &self,
        owner: &Username,
        note_id: NoteId,
        tombstone_until: Timestamp,
        made_by: &Provenance,
    ) -> Result<DismissOutcome, StoreError> {
        self.inner.dismiss(owner, note_id, tombstone_until, made_by).await
    }
    async fn was_deleted(&self, owner: &Username, note_id: NoteId) -> Result<bool, StoreError> {
        self.inner.was_deleted(owner, note_id).await
    }
}
