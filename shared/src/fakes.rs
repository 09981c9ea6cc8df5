//! In-memory implementations of every port, for handler unit tests (feature `fakes`).
//!
//! They keep the adapters' semantics (conditional writes, transactions all-or-nothing,
//! tombstones, optimistic concurrency) so handler tests exercise the same outcomes the table
//! gives, and they can be told to fail the way AWS fails. The publisher holds every event it is
//! given to the catalog's JSON Schema, so every handler test also checks what it emits.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;

use async_trait::async_trait;

use crate::domain::{IdempotencyKey, Note, NoteChange, NoteId, Timestamp, Username};
use crate::events::{EventType, NoteEvent, schema_source};
use crate::ports::{
    ChangeOutcome, Claim, Connection, ConnectionPusher, ConnectionStore, EventPublisher, IdempotencyStore, NoteStore,
    Page, PageRequest, PublishError, PushError, SaveOutcome, StoreError, UserRecord, UserStore,
};

#[derive(Default)]
struct Tables {
    users: HashMap<Username, UserRecord>,
    /// Owner's copies, by (owner, id); ids are time-ordered.
    notes: BTreeMap<(Username, NoteId), Note>,
    public: BTreeMap<NoteId, Note>,
    tombstones: HashSet<(Username, NoteId)>,
    idempotency: HashMap<(Username, String), NoteEvent>,
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
    unavailable: Mutex<bool>,
    /// Reads still to be followed by a competing change (see `race_next_reads`).
    races: Mutex<usize>,
    tombstone_expiries: Mutex<Vec<Timestamp>>,
}

impl InMemoryTable {
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes `save_new` of this note fail with a transient error until `recover_note`.
    pub fn throttle_note(&self, note_id: NoteId) {
        self.throttled_notes.lock().unwrap().insert(note_id);
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
        self.tables.lock().unwrap().tombstones.contains(&(owner.clone(), note_id))
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

fn page<'a>(notes: impl DoubleEndedIterator<Item = &'a Note>, request: PageRequest) -> Page<Note> {
    let mut items: Vec<Note> = notes
        .rev()
        .filter(|n| request.after.is_none_or(|after| n.note_id < after))
        .take(request.limit + 1)
        .cloned()
        .collect();
    let next = if items.len() > request.limit {
        items.truncate(request.limit);
        items.last().map(|n| n.note_id)
    } else {
        None
    };
    Page { items, next }
}

#[async_trait]
impl NoteStore for InMemoryTable {
    async fn save_new(&self, note: &Note) -> Result<SaveOutcome, StoreError> {
        self.check_available()?;
        if self.throttled_notes.lock().unwrap().contains(&note.note_id) {
            return Err(StoreError::Unavailable("ThrottlingException (injected)".into()));
        }
        let mut t = self.tables.lock().unwrap();
        let key = (note.username.clone(), note.note_id);
        if !t.users.contains_key(&note.username) {
            return Ok(SaveOutcome::OwnerMissing);
        }
        if t.tombstones.contains(&key) {
            return Ok(SaveOutcome::Deleted);
        }
        if let Some(existing) = t.notes.get(&key) {
            return Ok(SaveOutcome::AlreadySaved(existing.clone()));
        }
        t.notes.insert(key, note.clone());
        if note.is_public {
            t.public.insert(note.note_id, note.clone());
        }
        t.writes += 1;
        Ok(SaveOutcome::Saved)
    }

    async fn get(&self, owner: &Username, note_id: NoteId) -> Result<Option<Note>, StoreError> {
        self.check_available()?;
        let read = self.tables.lock().unwrap().notes.get(&(owner.clone(), note_id)).cloned();
        let race = read.is_some() && {
            let mut races = self.races.lock().unwrap();
            let race = *races > 0;
            *races = races.saturating_sub(1);
            race
        };
        if let (true, Some(note)) = (race, &read) {
            let last = note.updated_at.unwrap_or(note.saved_at);
            let theirs = note.changed(&NoteChange { content: None, is_public: Some(true) }, last.plus_seconds(1));
            assert_eq!(self.replace(note, &theirs).await, Ok(ChangeOutcome::Applied));
        }
        Ok(read)
    }

    async fn list_by_owner(&self, owner: &Username, request: PageRequest) -> Result<Page<Note>, StoreError> {
        self.check_available()?;
        let t = self.tables.lock().unwrap();
        Ok(page(t.notes.iter().filter(|((o, _), _)| o == owner).map(|(_, n)| n), request))
    }

    async fn list_public(&self, request: PageRequest) -> Result<Page<Note>, StoreError> {
        self.check_available()?;
        let t = self.tables.lock().unwrap();
        Ok(page(t.public.values(), request))
    }

    async fn replace(&self, before: &Note, after: &Note) -> Result<ChangeOutcome, StoreError> {
        self.check_available()?;
        let mut t = self.tables.lock().unwrap();
        let key = (before.username.clone(), before.note_id);
        if t.notes.get(&key).map(|n| n.updated_at) != Some(before.updated_at) {
            return Ok(ChangeOutcome::Conflict);
        }
        t.notes.insert(key, after.clone());
        if after.is_public {
            t.public.insert(after.note_id, after.clone());
        } else {
            t.public.remove(&after.note_id);
        }
        t.writes += 1;
        Ok(ChangeOutcome::Applied)
    }

    async fn delete(&self, note: &Note, tombstone_until: Timestamp) -> Result<ChangeOutcome, StoreError> {
        self.check_available()?;
        self.tombstone_expiries.lock().unwrap().push(tombstone_until);
        let mut t = self.tables.lock().unwrap();
        let key = (note.username.clone(), note.note_id);
        if t.notes.get(&key).map(|n| n.updated_at) != Some(note.updated_at) {
            return Ok(ChangeOutcome::Conflict);
        }
        t.notes.remove(&key);
        t.public.remove(&note.note_id);
        t.tombstones.insert(key);
        t.writes += 1;
        Ok(ChangeOutcome::Applied)
    }

    async fn was_deleted(&self, owner: &Username, note_id: NoteId) -> Result<bool, StoreError> {
        self.check_available()?;
        Ok(self.tables.lock().unwrap().tombstones.contains(&(owner.clone(), note_id)))
    }
}

#[async_trait]
impl UserStore for InMemoryTable {
    async fn create(&self, user: &UserRecord) -> Result<bool, StoreError> {
        self.check_available()?;
        let mut t = self.tables.lock().unwrap();
        if t.users.contains_key(&user.username) {
            return Ok(false);
        }
        t.users.insert(user.username.clone(), user.clone());
        t.writes += 1;
        Ok(true)
    }

    async fn get(&self, username: &Username) -> Result<Option<UserRecord>, StoreError> {
        self.check_available()?;
        Ok(self.tables.lock().unwrap().users.get(username).cloned())
    }
}

#[async_trait]
impl IdempotencyStore for InMemoryTable {
    async fn claim(
        &self,
        owner: &Username,
        key: &IdempotencyKey,
        event: &NoteEvent,
        _expires_at: Timestamp,
    ) -> Result<Claim, StoreError> {
        self.check_available()?;
        let mut t = self.tables.lock().unwrap();
        let slot = (owner.clone(), key.as_str().to_owned());
        if let Some(existing) = t.idempotency.get(&slot) {
            return Ok(Claim::Existing(existing.clone()));
        }
        t.idempotency.insert(slot, event.clone());
        t.writes += 1;
        Ok(Claim::New)
    }
}

#[async_trait]
impl ConnectionStore for InMemoryTable {
    async fn add(&self, connection: &Connection) -> Result<(), StoreError> {
        self.check_available()?;
        let mut t = self.tables.lock().unwrap();
        t.connections.insert(connection.connection_id.clone(), connection.clone());
        t.writes += 1;
        Ok(())
    }

    async fn remove(&self, connection_id: &str) -> Result<Option<Connection>, StoreError> {
        self.check_available()?;
        Ok(self.tables.lock().unwrap().connections.remove(connection_id))
    }

    async fn of_user(&self, username: &Username) -> Result<Vec<Connection>, StoreError> {
        self.check_available()?;
        let now = Timestamp::now();
        let t = self.tables.lock().unwrap();
        Ok(t.connections.values().filter(|c| &c.username == username && c.expires_at > now).cloned().collect())
    }

    async fn all(&self) -> Result<Vec<Connection>, StoreError> {
        self.check_available()?;
        let now = Timestamp::now();
        Ok(self.tables.lock().unwrap().connections.values().filter(|c| c.expires_at > now).cloned().collect())
    }
}

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
}

impl RecordingPublisher {
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes every publish fail as if EventBridge were unreachable.
    pub fn set_failing(&self, failing: bool) {
        *self.failing.lock().unwrap() = failing;
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
        for event in events {
            assert_matches_schema(event);
        }
        self.events.lock().unwrap().extend_from_slice(events);
        Ok(())
    }
}

/// The Management API, recording each message sent to each connection.
#[derive(Default)]
pub struct RecordingPusher {
    sent: Mutex<Vec<(String, serde_json::Value)>>,
    gone: Mutex<HashSet<String>>,
    unavailable: Mutex<HashSet<String>>,
}

impl RecordingPusher {
    pub fn new() -> Self {
        Self::default()
    }

    /// Pushes to this connection answer 410 Gone.
    pub fn mark_gone(&self, connection_id: &str) {
        self.gone.lock().unwrap().insert(connection_id.to_owned());
    }

    /// Pushes to this connection fail transiently.
    pub fn mark_unavailable(&self, connection_id: &str) {
        self.unavailable.lock().unwrap().insert(connection_id.to_owned());
    }

    pub fn heal(&self, connection_id: &str) {
        self.unavailable.lock().unwrap().remove(connection_id);
    }

    pub fn sent(&self) -> Vec<(String, serde_json::Value)> {
        self.sent.lock().unwrap().clone()
    }

    /// Connection ids that received a message, sorted, with repeats.
    pub fn recipients(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.sent().into_iter().map(|(id, _)| id).collect();
        ids.sort();
        ids
    }
}

#[async_trait]
impl ConnectionPusher for RecordingPusher {
    async fn push(&self, connection_id: &str, payload: &[u8]) -> Result<(), PushError> {
        if self.gone.lock().unwrap().contains(connection_id) {
            return Err(PushError::Gone);
        }
        if self.unavailable.lock().unwrap().contains(connection_id) {
            return Err(PushError::Unavailable("503 (injected)".into()));
        }
        let message = serde_json::from_slice(payload).expect("pushes are JSON");
        self.sent.lock().unwrap().push((connection_id.to_owned(), message));
        Ok(())
    }
}

/// The signing secret unit tests use.
pub const TEST_SECRET: &str = "unit-test-secret-unit-test-secret-0123";

pub fn jwt_keys() -> crate::auth::JwtKeys {
    crate::auth::JwtKeys::new(TEST_SECRET.as_bytes(), 3600).expect("the test secret is long enough")
}

pub fn token_for(username: &str) -> String {
    jwt_keys().issue(&Username::parse(username).expect("a valid test username"), Timestamp::now()).token
}

/// An HTTP API request as API Gateway v2 delivers it to Lambda, built into the JSON event
/// and parsed by `lambda_http`, so handlers see exactly what they see in Lambda.
pub struct ApiRequest {
    event: serde_json::Value,
}

impl ApiRequest {
    /// `route` is the API Gateway route key, e.g. `GET /notes/{noteId}`; `path` the real path.
    pub fn new(route: &str, path: &str) -> Self {
        let method = route.split(' ').next().unwrap_or("GET");
        let event = serde_json::json!({
            "version": "2.0",
            "routeKey": route,
            "rawPath": path,
            "rawQueryString": "",
            "headers": {"content-type": "application/json", "host": "api.test"},
            "requestContext": {
                "accountId": "123456789012",
                "apiId": "api",
                "domainName": "api.test",
                "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "test"},
                "requestId": format!("req-{}", uuid::Uuid::new_v4().simple()),
                "routeKey": route,
                "stage": "$default",
                "time": "23/Nov/2026:10:15:30 +0000",
                "timeEpoch": 1_795_428_930_123i64
            },
            "isBase64Encoded": false
        });
        Self { event }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.event["headers"][name.to_ascii_lowercase()] = value.into();
        self
    }

    pub fn bearer(self, username: &str) -> Self {
        let token = token_for(username);
        self.header("authorization", &format!("Bearer {token}"))
    }

    pub fn body(mut self, body: &str) -> Self {
        self.event["body"] = body.into();
        self
    }

    pub fn json(self, body: serde_json::Value) -> Self {
        self.body(&body.to_string())
    }

    pub fn path_param(mut self, name: &str, value: &str) -> Self {
        self.event["pathParameters"][name] = value.into();
        self
    }

    pub fn query(mut self, name: &str, value: &str) -> Self {
        self.event["queryStringParameters"][name] = value.into();
        let raw = self.event["queryStringParameters"]
            .as_object()
            .map(|q| {
                q.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default())).collect::<Vec<_>>().join("&")
            })
            .unwrap_or_default();
        self.event["rawQueryString"] = raw.into();
        self
    }

    pub fn request_id(&self) -> String {
        self.event["requestContext"]["requestId"].as_str().unwrap_or_default().to_owned()
    }

    pub fn build(self) -> lambda_http::Request {
        lambda_http::request::from_str(&self.event.to_string()).expect("a well-formed API Gateway v2 event")
    }
}

/// A response's status and JSON body (`Null` when empty).
pub fn read_response(response: lambda_http::Response<lambda_http::Body>) -> (u16, serde_json::Value) {
    let status = response.status().as_u16();
    let bytes: &[u8] = response.body().as_ref();
    let body =
        if bytes.is_empty() { serde_json::Value::Null } else { serde_json::from_slice(bytes).expect("JSON body") };
    (status, body)
}

/// A saved note of `owner`, as `save-note` would store it.
pub fn note(owner: &str, content: &str, is_public: bool) -> Note {
    let now = Timestamp::now();
    Note {
        note_id: NoteId::new(),
        username: Username::parse(owner).expect("a valid test username"),
        content: crate::domain::NoteContent::parse(content).expect("valid test content"),
        is_public,
        status: crate::domain::NoteStatus::Saved,
        created_at: now,
        saved_at: now,
        updated_at: None,
    }
}

impl InMemoryTable {
    /// Stores a saved note of `owner` (creating the owner), as `save-note` would.
    pub async fn store_note(&self, owner: &str, content: &str, is_public: bool) -> Note {
        let note = note(owner, content, is_public);
        self.insert_user(&note.username);
        assert_eq!(self.save_new(&note).await, Ok(SaveOutcome::Saved));
        note
    }
}
