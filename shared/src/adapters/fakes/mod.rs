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

use crate::domain::lifecycle::{FailedNote, NoteState, Provenance, Transition};
use crate::domain::{Note, NoteId, Timestamp, Username};
use crate::ports::{Connection, StoreError, UserRecord};

pub use broadcast::RecordingQueue;
pub use bus::{RecordingPublisher, assert_detail_matches_schema, assert_matches_schema};
pub use notes::{note, saved_by};
pub use pusher::RecordingPusher;
pub use requests::{
    ApiRequest, HttpWorld, TEST_SECRET, jwt_keys, read_response, send, sqs_batch, sqs_record, token_for,
};

#[derive(Default)]
struct Tables {
    users: HashMap<Username, UserRecord>,
    /// What each note key holds (a note, a failure, a tombstone), with the provenance of the
    /// change that made it; by (owner, id), and ids are time-ordered.
    notes: BTreeMap<(Username, NoteId), (NoteState, Provenance)>,
    /// Every transition of a note key, in order: the table's stream.
    stream: Vec<Transition>,
    /// How much of the stream `stream_event` has handed out.
    stream_read: usize,
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
        self.tables.lock().unwrap().set(NoteState::Stored(note.clone()), notes::saved_by());
    }

    /// Does what DynamoDB's TTL sweep does by `at`: removes every tombstone and failure expired
    /// by then (a transition on the stream, as in AWS).
    pub fn sweep_tombstones(&self, at: Timestamp) {
        let mut t = self.tables.lock().unwrap();
        let expired: Vec<(Username, NoteId)> = t
            .notes
            .iter()
            .filter(|(_, (state, _))| match state {
                NoteState::Deleted(tombstone) => tombstone.expires_at <= at,
                NoteState::Failed(failed) => failed.expires_at <= at,
                NoteState::Stored(_) => false,
            })
            .map(|(key, _)| key.clone())
            .collect();
        for key in expired {
            if let Some((before, made_by)) = t.notes.remove(&key) {
                t.stream.push(Transition { before: Some(before), after: None, made_by });
            }
        }
    }

    /// Makes every call fail with a transient error.
    pub fn set_unavailable(&self, unavailable: bool) {
        *self.unavailable.lock().unwrap() = unavailable;
    }

    pub fn owner_copies(&self, owner: &Username) -> Vec<Note> {
        let t = self.tables.lock().unwrap();
        t.notes
            .iter()
            .filter(|((o, _), _)| o == owner)
            .filter_map(|(_, (state, _))| match state {
                NoteState::Stored(note) => Some(note.clone()),
                _ => None,
            })
            .collect()
    }

    pub fn public_copies(&self) -> Vec<Note> {
        self.tables.lock().unwrap().public().cloned().collect()
    }

    pub fn writes(&self) -> usize {
        self.tables.lock().unwrap().writes
    }

    pub fn has_tombstone(&self, owner: &Username, note_id: NoteId) -> bool {
        matches!(self.tables.lock().unwrap().notes.get(&(owner.clone(), note_id)), Some((NoteState::Deleted(_), _)))
    }

    /// The failure recorded in the note's place, if one is.
    pub fn failure(&self, owner: &Username, note_id: NoteId) -> Option<FailedNote> {
        match self.tables.lock().unwrap().notes.get(&(owner.clone(), note_id)) {
            Some((NoteState::Failed(failed), _)) => Some(failed.clone()),
            _ => None,
        }
    }

    /// Every transition of a note key so far, in order: what the table's stream carried.
    pub fn transitions(&self) -> Vec<Transition> {
        self.tables.lock().unwrap().stream.clone()
    }

    /// What the table's stream announces of every transition so far, in order: the events
    /// `publish-changes` publishes from them ([`crate::domain::events::NoteEvent::of_transition`]),
    /// each held to its schema.
    pub fn announced(&self) -> Vec<crate::domain::events::NoteEvent> {
        let events: Vec<_> =
            self.transitions().iter().filter_map(crate::domain::events::NoteEvent::of_transition).collect();
        events.iter().for_each(bus::assert_matches_schema);
        events
    }

    /// How many stream records `stream_event` has not handed out yet.
    pub fn stream_unread(&self) -> usize {
        let t = self.tables.lock().unwrap();
        t.stream.len() - t.stream_read
    }

    /// The stream records not handed out yet, as Lambda's event source mapping delivers them to
    /// the stream's consumer (images written as the AWS adapter writes items).
    pub fn stream_event(&self) -> aws_lambda_events::event::dynamodb::Event {
        let mut t = self.tables.lock().unwrap();
        let from = t.stream_read;
        t.stream_read = t.stream.len();
        let mut event = aws_lambda_events::event::dynamodb::Event::default();
        event.records = t.stream[from..]
            .iter()
            .enumerate()
            .map(|(i, transition)| {
                crate::adapters::aws::stream::record_of(transition, (from + i + 1) as u64)
                    .expect("a state the fake holds encodes as an item")
            })
            .collect();
        event
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

impl Tables {
    /// Sets a note key's state, as a committed write does, and puts the transition on the stream.
    fn set(&mut self, state: NoteState, made_by: Provenance) {
        let key = (state.username().clone(), state.note_id());
        let before = self.notes.insert(key, (state.clone(), made_by.clone())).map(|(state, _)| state);
        self.stream.push(Transition { before, after: Some(state), made_by });
        self.writes += 1;
    }

    fn state(&self, owner: &Username, note_id: NoteId) -> Option<&NoteState> {
        self.notes.get(&(owner.clone(), note_id)).map(|(state, _)| state)
    }

    /// The public notes (the sparse feed index).
    fn public(&self) -> impl DoubleEndedIterator<Item = &Note> {
        self.notes.values().filter_map(|(state, _)| match state {
            NoteState::Stored(note) if note.is_public => Some(note),
            _ => None,
        })
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
