//! In-memory implementations of every port, for handler unit tests (feature `fakes`): the table
//! ([`InMemoryTable`], one module per kind of item, as the AWS adapter), the bus, the broadcast
//! queue, the Management API, and builders of the requests Lambda delivers.
//!
//! They keep the adapters' semantics (conditional writes, transactions all-or-nothing,
//! tombstones, optimistic concurrency) so handler tests exercise the same outcomes the table
//! gives, and they can be told to fail the way AWS fails. The publisher holds every event it is
//! given to the catalog's JSON Schema, so every handler test also checks what it emits.

mod broadcast;
mod bus;
mod connections;
mod idempotency;
mod notes;
mod pusher;
mod requests;
mod users;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;

use crate::domain::events::ChangeRecord;
use crate::domain::{Note, NoteId, Timestamp, Username};
use crate::ports::{Connection, StoreError, UserRecord};

pub use broadcast::RecordingQueue;
pub use bus::{RecordingPublisher, assert_detail_matches_schema, assert_matches_schema};
pub use notes::note;
pub use pusher::RecordingPusher;
pub use requests::{
    ApiRequest, HttpWorld, TEST_SECRET, jwt_keys, read_response, send, sqs_batch, sqs_record, token_for,
};

#[derive(Default)]
struct Tables {
    users: HashMap<Username, UserRecord>,
    /// Owner's copies, by (owner, id); ids are time-ordered.
    notes: BTreeMap<(Username, NoteId), Note>,
    public: BTreeMap<NoteId, Note>,
    /// Tombstones, with the record of the `note-deleted` each delete published.
    tombstones: HashMap<(Username, NoteId), Option<ChangeRecord>>,
    /// When each tombstone expires: DynamoDB's TTL sweep may remove it any time after.
    tombstone_ttls: HashMap<(Username, NoteId), Timestamp>,
    /// The record of each note's last edit.
    last_edits: HashMap<(Username, NoteId), ChangeRecord>,
    idempotency: HashMap<(Username, String), crate::ports::FirstRequest>,
    connections: HashMap<String, Connection>,
    /// Successful writes, to show that a retry wrote nothing.
    writes: usize,
}

/// The single table, in memory.
#[derive(Default)]
pub struct InMemoryTable {
    tables: Mutex<Tables>,
    /// Note ids whose `save_new` fails as if DynamoDB throttled.
    throttled_notes: Mutex<HashSet<NoteId>>,
    /// Note ids whose `save_new` DynamoDB refuses for good (a validation error, say).
    refused_notes: Mutex<HashSet<NoteId>>,
    unavailable: Mutex<bool>,
    /// Reads still to be followed by a competing change (see `race_next_reads`).
    races: Mutex<usize>,
    tombstone_expiries: Mutex<Vec<Timestamp>>,
    /// How long each `save_new` takes (on tokio's clock, which a test may pause).
    write_delay: Mutex<std::time::Duration>,
}

impl InMemoryTable {
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes every `save_new` take `delay`, as a throttled or slow table would.
    pub fn slow_writes(&self, delay: std::time::Duration) {
        *self.write_delay.lock().unwrap() = delay;
    }

    pub(crate) async fn write_latency(&self) {
        let delay = *self.write_delay.lock().unwrap();
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
    }

    /// Makes `save_new` of this note fail with a transient error until `recover_note`.
    pub fn throttle_note(&self, note_id: NoteId) {
        self.throttled_notes.lock().unwrap().insert(note_id);
    }

    /// Makes `save_new` of this note fail as DynamoDB fails a request it will never accept.
    pub fn refuse_note(&self, note_id: NoteId) {
        self.refused_notes.lock().unwrap().insert(note_id);
    }

    pub fn recover_note(&self, note_id: NoteId) {
        self.throttled_notes.lock().unwrap().remove(&note_id);
    }

    /// Makes each of the next `count` reads of an existing note be followed, before it returns, by
    /// a competing change of that note (made public, `updatedAt` one second later), as another
    /// request between this one's read and its write would: a change based on the read conflicts.
    pub fn race_next_reads(&self, count: usize) {
        *self.races.lock().unwrap() = count;
    }

    /// The `tombstone_until` of every delete, in order.
    pub fn tombstone_expiries(&self) -> Vec<Timestamp> {
        self.tombstone_expiries.lock().unwrap().clone()
    }

    /// Puts `note` in its place as it is, in or out of the public feed: the state a test starts from.
    pub fn put_note(&self, note: &Note) {
        let mut t = self.tables.lock().unwrap();
        t.notes.insert((note.username.clone(), note.note_id), note.clone());
        if note.is_public {
            t.public.insert(note.note_id, note.clone());
        } else {
            t.public.remove(&note.note_id);
        }
    }

    /// Does what DynamoDB's TTL sweep does by `at`: removes every tombstone expired by then.
    pub fn sweep_tombstones(&self, at: Timestamp) {
        let mut t = self.tables.lock().unwrap();
        let expired: Vec<(Username, NoteId)> =
            t.tombstone_ttls.iter().filter(|(_, until)| **until <= at).map(|(key, _)| key.clone()).collect();
        for key in expired {
            t.tombstones.remove(&key);
            t.tombstone_ttls.remove(&key);
        }
    }

    /// Makes every call fail with a transient error.
    pub fn set_unavailable(&self, unavailable: bool) {
        *self.unavailable.lock().unwrap() = unavailable;
    }

    pub fn owner_copies(&self, owner: &Username) -> Vec<Note> {
        self.tables.lock().unwrap().notes.iter().filter(|((o, _), _)| o == owner).map(|(_, n)| n.clone()).collect()
    }

    pub fn public_copies(&self) -> Vec<Note> {
        self.tables.lock().unwrap().public.values().cloned().collect()
    }

    pub fn writes(&self) -> usize {
        self.tables.lock().unwrap().writes
    }

    pub fn has_tombstone(&self, owner: &Username, note_id: NoteId) -> bool {
        self.tables.lock().unwrap().tombstones.contains_key(&(owner.clone(), note_id))
    }

    pub fn connection_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.tables.lock().unwrap().connections.keys().cloned().collect();
        ids.sort();
        ids
    }

    /// Adds a user directly, for tests that need an owner to exist.
    pub fn insert_user(&self, username: &Username) {
        let record = UserRecord {
            username: username.clone(),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$unused$unused".into(),
            created_at: Timestamp::now(),
        };
        self.tables.lock().unwrap().users.insert(username.clone(), record);
    }

    fn check_available(&self) -> Result<(), StoreError> {
        if *self.unavailable.lock().unwrap() {
            Err(StoreError::Unavailable("ThrottlingException (injected)".into()))
        } else {
            Ok(())
        }
    }
}

/// Hands `batch` to a queue function as its event source mapping does, with the whole of its
/// declared timeout ahead.
pub async fn deliver<F: crate::edge::function::QueueFunction>(
    function: &F,
    batch: aws_lambda_events::event::sqs::SqsEvent,
) -> aws_lambda_events::event::sqs::SqsBatchResponse {
    let deadline = tokio::time::Instant::now() + crate::edge::function::timeout_of(F::NAME);
    crate::edge::function::handle_batch(function, batch, deadline).await
}
