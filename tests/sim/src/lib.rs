//! Deterministic simulation of the whole note lifecycle.
//!
//! The real function libraries (`publish-note`, `save-note`, `publish-changes`, `notify`,
//! `broadcast`, `connect`, `disconnect`, `update-note`, `delete-note`, `get-notes`, `get-note`)
//! run in one process, on one thread, through the in-memory fakes, in simulated time
//! (`notes_core::domain::simulation`: the clock moves only when the scheduler says, and every id
//! comes from the seed). Around them the simulation plays the services, as faithfully as the
//! guarantees they give and no more: SQS (at-least-once, redelivery, a DLQ after the queue's
//! `maxReceiveCount`, redrive), EventBridge (at-least-once, in no order, `PutEvents` failures, the
//! archive and replay), the table's stream (in order per key, retried from the reported record),
//! Lambda (a batch that dies mid-way, asynchronous retries and a DLQ), the WebSocket API (410
//! until `$connect` has answered and after close, sockets that vanish without `$disconnect`), and
//! the clients (posts with an `Idempotency-Key`, edits from two tabs, deletes and dismisses,
//! "try again", reconnects with a refetch, the app's rule of keeping the highest version).
//!
//! A seeded scheduler picks, at every step, one of the actions enabled then ([`Sim::step`]).
//! Invariants are checked at every step and at quiescence ([`invariants`]); a failing seed
//! replays exactly, with its trace.

mod client;
pub mod invariants;
pub mod scenarios;
mod services;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use aws_lambda_events::event::dynamodb::EventRecord;
use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use notes_core::adapters::fakes::{ApiRequest, InMemoryTable, jwt_keys, read_response, sqs_batch, sqs_record};
use notes_core::domain::broadcast::BroadcastMessage;
use notes_core::domain::events::{EventType, NoteEvent};
use notes_core::domain::lifecycle::NoteState;
use notes_core::domain::{NoteId, Username, simulation};
use notes_core::edge::function::{HttpFunction, StreamFunction, WebSocketFunction};
use notes_core::ports::{ConnectionStore, NoteStore};
use notes_core::topology::topology;
use serde_json::{Value, json};

pub use client::{Client, Socket, View};
pub use invariants::Violation;
use services::{FlakyNotes, SimBus, SimPusher, SimQueue};

/// A rule broken on purpose, to show the simulation finds it ([`scenarios`] and the tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Defect {
    /// The broadcast carries a note's new text to other users when it leaves the public feed.
    UnredactedFanOut,
    /// DynamoDB's TTL sweep removes tombstones long before they expire.
    EarlyTombstoneSweep,
    /// The stream's event source moves past a batch the function reported failed.
    StreamSkipsFailures,
}

/// What one run does.
#[derive(Debug, Clone)]
pub struct Config {
    pub seed: u64,
    /// Scheduler steps before the run drains to quiescence.
    pub steps: usize,
    pub users: usize,
    /// Whether the services fail as the plan draws (throttling, 5xx, lost acknowledgements,
    /// duplicates, batches dying mid-way).
    pub faults: bool,
    pub defect: Option<Defect>,
}

impl Config {
    pub fn seeded(seed: u64) -> Config {
        Config { seed, steps: 300, users: 3, faults: true, defect: None }
    }
}

/// What a run came to.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub seed: u64,
    pub steps: usize,
    pub violations: Vec<Violation>,
    /// One line per step: what the scheduler chose.
    pub trace: Vec<String>,
}

/// Runs one seed to quiescence, checking the invariants as it goes.
pub fn run(config: &Config) -> Outcome {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap();
    simulation::enter(START_MS, config.seed);
    let outcome = runtime.block_on(async {
        let mut sim = Sim::new(config.clone());
        sim.setup().await;
        for _ in 0..config.steps {
            sim.step().await;
        }
        sim.quiesce().await;
        sim.outcome()
    });
    simulation::leave();
    outcome
}

/// 2026-12-01T00:00:00Z: where simulated time starts.
pub const START_MS: i64 = 1_795_996_800_000;

/// A note the simulation posted and the API accepted.
#[derive(Debug, Clone)]
pub struct Posted {
    pub note_id: String,
    pub owner: usize,
    pub key: String,
    pub content: String,
    pub public: bool,
}

/// A message of an SQS queue, as the simulation holds it.
#[derive(Debug, Clone)]
struct Message {
    id: String,
    body: String,
    receives: u32,
    /// When it was first sent: SQS's retention counts from there, in a DLQ too.
    sent_ms: i64,
}

/// The simulated world.
pub struct Sim {
    config: Config,
    pub table: Arc<InMemoryTable>,
    bus: Arc<SimBus>,
    pusher: Arc<SimPusher>,
    broadcast_queue: Arc<SimQueue>,
    publish_note: publish_note::PublishNote,
    save_note: save_note::SaveNote,
    publish_changes: publish_changes::PublishChanges,
    notify: notify::Notify,
    broadcast: broadcast::Broadcast,
    update_note: update_note::UpdateNote,
    delete_note: delete_note::DeleteNote,
    get_notes: get_notes::GetNotes,
    get_note: get_note::GetNote,
    connect: connect::Connect,
    disconnect: disconnect::Disconnect,
    flaky: Arc<FlakyNotes>,
    users: Vec<String>,
    pub posted: Vec<Posted>,
    note_queue: Vec<Message>,
    note_dlq: Vec<Message>,
    /// The archive: each note-created with when it was archived.
    archive: Vec<(NoteEvent, i64)>,
    notify_pending: Vec<(NoteEvent, u32)>,
    notify_dlq: Vec<NoteEvent>,
    broadcast_pending: Vec<Message>,
    broadcast_dlq: Vec<Message>,
    stream_pending: Vec<EventRecord>,
    pub clients: Vec<Client>,
    /// Notes their owner deleted or dismissed (answered 204).
    pub deleted: HashSet<String>,
    /// The step of each note's last committed transition.
    pub last_change: HashMap<String, usize>,
    /// The connection items the table listed after the last step.
    pub known_connections: HashSet<String>,
    transitions_seen: usize,
    next_message: u64,
    pub step: usize,
    pub trace: Vec<String>,
    pub violations: Vec<Violation>,
}

impl Sim {
    pub fn new(config: Config) -> Sim {
        let table = Arc::new(InMemoryTable::new());
        let bus = Arc::new(SimBus::new(config.faults));
        let pusher = Arc::new(SimPusher::new(table.clone(), config.faults));
        let broadcast_queue = Arc::new(SimQueue::new(table.clone(), config.defect == Some(Defect::UnredactedFanOut)));
        let flaky = Arc::new(FlakyNotes::new(table.clone(), config.faults));
        let users: Vec<String> = (0..config.users.max(2)).map(|i| format!("user{i}")).collect();
        for user in &users {
            table.insert_user(&Username::parse(user.as_str()).unwrap());
        }
        Sim {
            publish_note: publish_note::PublishNote::new(jwt_keys(), bus.clone(), table.clone(), table.clone()),
            save_note: save_note::SaveNote::new(flaky.clone()),
            publish_changes: publish_changes::PublishChanges::new(bus.clone()),
            notify: notify::Notify::new(table.clone(), table.clone(), pusher.clone(), broadcast_queue.clone()),
            broadcast: broadcast::Broadcast::new(table.clone(), table.clone(), pusher.clone()),
            update_note: update_note::UpdateNote::new(jwt_keys(), table.clone()),
            delete_note: delete_note::DeleteNote::new(jwt_keys(), table.clone()),
            get_notes: get_notes::GetNotes::new(jwt_keys(), table.clone()),
            get_note: get_note::GetNote::new(jwt_keys(), table.clone()),
            connect: connect::Connect::new(jwt_keys(), table.clone(), pusher.clone()),
            disconnect: disconnect::Disconnect::new(table.clone()),
            config,
            table,
            bus,
            pusher,
            broadcast_queue,
            flaky,
            users,
            posted: Vec::new(),
            note_queue: Vec::new(),
            note_dlq: Vec::new(),
            archive: Vec::new(),
            notify_pending: Vec::new(),
            notify_dlq: Vec::new(),
            broadcast_pending: Vec::new(),
            broadcast_dlq: Vec::new(),
            stream_pending: Vec::new(),
            clients: Vec::new(),
            deleted: HashSet::new(),
            last_change: HashMap::new(),
            known_connections: HashSet::new(),
            transitions_seen: 0,
            next_message: 0,
            step: 0,
            trace: Vec::new(),
            violations: Vec::new(),
        }
    }

    /// Every user opens one socket and its handshake completes.
    pub async fn setup(&mut self) {
        for user in 0..self.users.len() {
            let client = self.open_socket(user).await;
            self.answer_handshake(client).await;
        }
    }

    fn random(&self, below: usize) -> usize {
        (simulation::next_u64().unwrap_or(0) % below.max(1) as u64) as usize
    }

    fn chance(&self, percent: u64) -> bool {
        simulation::next_u64().unwrap_or(0) % 100 < percent
    }

    fn log(&mut self, what: String) {
        self.trace.push(format!("{:>4} {what}", self.step));
    }

    /// One step: the scheduler picks one enabled action.
    pub async fn step(&mut self) {
        self.step += 1;
        let mut enabled: Vec<&'static str> = vec!["post", "advance"];
        if !self.note_queue.is_empty() {
            enabled.extend(["deliver-note", "deliver-note", "deliver-note"]);
        }
        if !self.bus.is_empty() {
            enabled.extend(["route-event", "route-event", "route-event"]);
        }
        if !self.notify_pending.is_empty() {
            enabled.extend(["notify", "notify"]);
        }
        if !self.broadcast_pending.is_empty() {
            enabled.extend(["broadcast", "broadcast"]);
        }
        if self.table.stream_unread() > 0 || !self.stream_pending.is_empty() {
            enabled.extend(["stream", "stream", "stream"]);
        }
        if !self.posted.is_empty() {
            enabled.extend(["edit", "delete", "try-again"]);
        }
        if !self.note_dlq.is_empty() || !self.notify_dlq.is_empty() || !self.broadcast_dlq.is_empty() {
            enabled.push("redrive");
        }
        if !self.archive.is_empty() {
            enabled.push("replay");
        }
        enabled.extend(["socket", "socket"]);
        let action = enabled[self.random(enabled.len())];
        match action {
            "post" => {
                let user = self.random(self.users.len());
                let public = self.chance(50);
                self.post(user, public).await;
            }
            "advance" => {
                // Mostly seconds. Hours or weeks pass only while nothing is in flight (the live
                // path works in seconds), so TTLs, retention periods and lifetimes pass while
                // what is left waits where it waits for weeks: the DLQs and the archive.
                let idle = self.in_flight() == 0;
                let ms = match self.random(10) {
                    0 if idle => 3_600_000 * (1 + self.random(48) as i64),
                    1 if idle => 86_400_000 * (1 + self.random(40) as i64),
                    _ => 1_000 * (1 + self.random(30) as i64),
                };
                self.advance(ms).await;
            }
            "deliver-note" => self.deliver_notes().await,
            "route-event" => self.route_event().await,
            "notify" => self.run_notify().await,
            "broadcast" => self.run_broadcast().await,
            "stream" => self.run_stream().await,
            "edit" => {
                let note = self.random(self.posted.len());
                let content = self.chance(60);
                let public = if content && self.chance(50) { None } else { Some(self.chance(50)) };
                self.edit(note, content, public).await;
            }
            "delete" => {
                let note = self.random(self.posted.len());
                self.delete(note).await;
            }
            "try-again" => {
                let note = self.random(self.posted.len());
                self.try_again(note).await;
            }
            "redrive" => self.redrive().await,
            "replay" => {
                let from = self.random(self.archive.len());
                self.replay(from).await;
            }
            _ => self.socket_action().await,
        }
        self.after_step().await;
    }

    /// Messages and events on their way: queues, the bus, notify's retries, the stream.
    pub fn in_flight(&self) -> usize {
        self.note_queue.len()
            + self.bus.len()
            + self.notify_pending.len()
            + self.broadcast_pending.len()
            + self.stream_pending.len()
            + self.table.stream_unread()
    }

    /// Whether the socket of this connection is gone (closed, or never opened).
    pub fn socket_gone(&self, connection_id: &str) -> bool {
        self.pusher.is_gone(connection_id)
    }

    /// Notes the transitions the last step committed and checks the invariants that hold at
    /// every step.
    pub async fn after_step(&mut self) {
        let transitions = self.table.transitions();
        for transition in &transitions[self.transitions_seen..] {
            if let Some(state) = transition.after.as_ref().or(transition.before.as_ref()) {
                self.last_change.insert(state.note_id().to_string(), self.step);
            }
        }
        self.transitions_seen = transitions.len();
        let found = invariants::every_step(self).await;
        self.violations.extend(found);
        for pushed in self.pusher.take_deliveries() {
            self.deliver_to_client(pushed);
        }
        let found: Vec<Violation> =
            self.pusher.take_violations().into_iter().map(|v| self.violation(v.0, v.1)).collect();
        self.violations.extend(found);
        let found: Vec<Violation> = self.bus.take_violations().into_iter().map(|v| self.violation(v.0, v.1)).collect();
        self.violations.extend(found);
    }

    pub fn violation(&self, invariant: &'static str, detail: String) -> Violation {
        Violation { invariant, step: self.step, detail }
    }

    fn token(&self, user: usize) -> String {
        self.users[user].clone()
    }

    async fn http<F: HttpFunction>(&self, app: &F, request: ApiRequest) -> (u16, Value) {
        read_response(app.handle(request.build()).await)
    }

    /// `POST /notes` with a new `Idempotency-Key`.
    pub async fn post(&mut self, user: usize, public: bool) -> Option<usize> {
        let key = format!("k-{}", simulation::uuid_v4());
        let content = format!("note {} of {}", self.posted.len(), self.users[user]);
        let (status, body) = self.post_with(user, &key, &content, public).await;
        self.log(format!("post {} public={public} -> {status}", self.users[user]));
        let note_id = body["noteId"].as_str()?.to_owned();
        if status != 202 {
            return None;
        }
        self.posted.push(Posted { note_id: note_id.clone(), owner: user, key, content, public });
        for client in self.clients.iter_mut().filter(|c| c.user == user) {
            client.pending(&note_id);
        }
        Some(self.posted.len() - 1)
    }

    async fn post_with(&self, user: usize, key: &str, content: &str, public: bool) -> (u16, Value) {
        let request = ApiRequest::new("POST /notes", "/notes")
            .bearer(&self.token(user))
            .header("Idempotency-Key", key)
            .json(json!({"content": content, "isPublic": public}));
        self.http(&self.publish_note, request).await
    }

    /// "Try again": the same note under the same key, as the app sends it after `note-failed`.
    pub async fn try_again(&mut self, index: usize) {
        let note = self.posted[index].clone();
        let (status, _) = self.post_with(note.owner, &note.key, &note.content, note.public).await;
        self.log(format!("try again {} -> {status}", note.note_id));
    }

    /// `PUT /notes/{id}` from one of the owner's tabs.
    pub async fn edit(&mut self, index: usize, new_text: bool, public: Option<bool>) {
        let note = self.posted[index].clone();
        let mut body = serde_json::Map::new();
        if new_text {
            body.insert("content".into(), json!(format!("edit {} of {}", self.step, note.note_id)));
        }
        if let Some(public) = public {
            body.insert("isPublic".into(), json!(public));
        }
        if body.is_empty() {
            body.insert("isPublic".into(), json!(true));
        }
        let request = ApiRequest::new("PUT /notes/{noteId}", &format!("/notes/{}", note.note_id))
            .path_param("noteId", &note.note_id)
            .bearer(&self.token(note.owner))
            .json(Value::Object(body.clone()));
        let (status, _) = self.http(&self.update_note, request).await;
        self.log(format!("edit {} {} -> {status}", note.note_id, Value::Object(body)));
    }

    /// `DELETE /notes/{id}`: a delete, or a dismiss of a note never stored.
    pub async fn delete(&mut self, index: usize) {
        let note = self.posted[index].clone();
        let request = ApiRequest::new("DELETE /notes/{noteId}", &format!("/notes/{}", note.note_id))
            .path_param("noteId", &note.note_id)
            .bearer(&self.token(note.owner));
        let (status, _) = self.http(&self.delete_note, request).await;
        self.log(format!("delete {} -> {status}", note.note_id));
        if status == 204 {
            self.deleted.insert(note.note_id.clone());
            for client in self.clients.iter_mut().filter(|c| c.user == note.owner) {
                client.deleted_here(&note.note_id);
            }
        }
    }

    /// Moves simulated time on; DynamoDB's TTL sweep removes what expired by then (with the
    /// planted defect, tombstones long before).
    pub async fn advance(&mut self, ms: i64) {
        // No handshake outlives $connect's integration timeout (29 s): the pending ones answer.
        let opening: Vec<usize> =
            self.clients.iter().enumerate().filter(|(_, c)| c.socket == Socket::Opening).map(|(i, _)| i).collect();
        for client in opening {
            self.answer_handshake(client).await;
        }
        simulation::advance(ms);
        let now = notes_core::domain::Timestamp::now();
        let swept_until = match self.config.defect {
            Some(Defect::EarlyTombstoneSweep) => now.plus_seconds(40 * 86_400),
            _ => now,
        };
        self.table.sweep_tombstones(swept_until);
        // Retention: the note queue's, its DLQ's (from the original send), the archive's.
        let queues = &topology().queues;
        let kept =
            |retention_seconds: u32, sent_ms: i64| now.epoch_millis() - sent_ms < i64::from(retention_seconds) * 1000;
        self.note_queue.retain(|m| kept(queues.note_created.retention_seconds, m.sent_ms));
        self.note_dlq.retain(|m| kept(queues.note_created_dlq.retention_seconds, m.sent_ms));
        let archive_days = topology().archive.retention_days;
        self.archive.retain(|(_, at)| kept(archive_days * 86_400, *at));
        // Connections expire after two hours: API Gateway closes them.
        for client in self.clients.iter_mut().filter(|c| c.socket == Socket::Open) {
            if now.epoch_millis() - client.opened_at_ms >= 2 * 3_600_000 {
                client.socket = Socket::Closed;
                self.pusher.close(&client.connection_id);
            }
        }
        self.log(format!("advance {ms} ms"));
    }

    /// SQS hands save-note a batch of up to 10 visible messages.
    pub async fn deliver_notes(&mut self) {
        let size = 1 + self.random(self.note_queue.len().min(10));
        self.deliver_note_batch(size, false).await;
    }

    /// SQS hands save-note the first `size` messages; with `lose_ack` its acknowledgements are
    /// lost (the invocation timed out after the work), so every message comes back.
    pub async fn deliver_note_batch(&mut self, size: usize, lose_ack: bool) {
        let size = size.min(self.note_queue.len());
        let batch: Vec<Message> = self.note_queue.drain(..size).collect();
        let dies_mid_batch = self.config.faults && self.chance(3);
        let handled = if dies_mid_batch { self.random(batch.len()) } else { batch.len() };
        let event = sqs_event(&batch[..handled]);
        let response = notes_core::adapters::fakes::deliver(&self.save_note, event).await;
        let failed: HashSet<String> = response.batch_item_failures.iter().map(|f| f.item_identifier.clone()).collect();
        let max_receives = topology().queues.note_created.max_receive_count;
        let mut kept = 0;
        for (i, mut message) in batch.into_iter().enumerate() {
            let acknowledged = !dies_mid_batch && i < handled && !failed.contains(&message.id);
            // An acknowledgement lost: SQS delivers the message again.
            let lost_ack = acknowledged && (lose_ack || (self.config.faults && self.chance(5)));
            if acknowledged && !lost_ack {
                continue;
            }
            message.receives += 1;
            if message.receives >= max_receives {
                self.note_dlq.push(message);
            } else {
                self.note_queue.push(message);
                kept += 1;
            }
        }
        self.log(format!("save-note batch of {size} (died: {dies_mid_batch}, failed: {}, back: {kept})", failed.len()));
    }

    /// EventBridge delivers one pending event (any of them: it keeps no order), at least once.
    pub async fn route_event(&mut self) {
        let Some(event) = self.bus.take(self.random(self.bus.len())) else { return };
        let again = self.config.faults && self.chance(5);
        if again {
            self.bus.put_back(event.clone());
        }
        self.log(format!("route {} {} v{:?}", event.event_type().as_str(), event.note_id(), event.version()));
        self.route(event);
    }

    /// Where the bus's rules send an event: `note-created` to the archive and the note queue,
    /// every other event to notify.
    fn route(&mut self, event: NoteEvent) {
        if event.event_type() == EventType::NoteCreated {
            self.archive.push((event.clone(), notes_core::domain::Timestamp::now().epoch_millis()));
            self.enqueue_note(&event);
        } else {
            self.notify_pending.push((event, 0));
        }
    }

    fn enqueue_note(&mut self, event: &NoteEvent) {
        self.next_message += 1;
        let body = json!({
            "version": "0", "id": format!("ev-{}", self.next_message), "detail-type": event.event_type().as_str(),
            "source": "notes.service", "account": "123456789012", "time": "2026-12-01T00:00:00Z",
            "region": "us-east-1", "resources": [], "detail": event.to_detail()
        });
        let sent_ms = notes_core::domain::Timestamp::now().epoch_millis();
        self.note_queue.push(Message {
            id: format!("m-{}", self.next_message),
            body: body.to_string(),
            receives: 0,
            sent_ms,
        });
    }

    /// Lambda invokes notify asynchronously with one pending event: two retries, then its DLQ.
    pub async fn run_notify(&mut self) {
        let index = self.random(self.notify_pending.len());
        self.run_notify_at(index).await;
    }

    async fn run_notify_at(&mut self, index: usize) {
        let (event, attempts) = self.notify_pending.remove(index);
        let mut bus_event = aws_lambda_events::event::eventbridge::EventBridgeEvent::default();
        bus_event.detail_type = event.event_type().as_str().into();
        bus_event.source = "notes.service".into();
        bus_event.detail = event.to_detail();
        let result = self.notify.handle(bus_event).await;
        self.log(format!(
            "notify {} {} -> {:?}",
            event.event_type().as_str(),
            event.note_id(),
            result.as_ref().map(|_| ())
        ));
        for message in self.broadcast_queue.drain() {
            self.next_message += 1;
            let id = format!("b-{}", self.next_message);
            let sent_ms = notes_core::domain::Timestamp::now().epoch_millis();
            self.broadcast_pending.push(Message { id, body: message.to_body(), receives: 0, sent_ms });
        }
        if result.is_err() {
            if attempts + 1 >= 3 {
                self.notify_dlq.push(event);
            } else {
                self.notify_pending.push((event, attempts + 1));
            }
        }
    }

    /// SQS hands broadcast one shard's message.
    pub async fn run_broadcast(&mut self) {
        let index = self.random(self.broadcast_pending.len());
        let mut message = self.broadcast_pending.remove(index);
        let event = sqs_event(std::slice::from_ref(&message));
        let response = notes_core::adapters::fakes::deliver(&self.broadcast, event).await;
        self.log(format!("broadcast {} -> {} failed", message.id, response.batch_item_failures.len()));
        if !response.batch_item_failures.is_empty() {
            message.receives += 1;
            if message.receives >= topology().queues.broadcast_shards.max_receive_count {
                self.broadcast_dlq.push(message);
            } else {
                self.broadcast_pending.push(message);
            }
        }
    }

    /// The stream's event source hands publish-changes the shard's next records, in order, and
    /// retries from the record it reports.
    pub async fn run_stream(&mut self) {
        self.stream_pending.extend(self.table.stream_event().records);
        if self.stream_pending.is_empty() {
            return;
        }
        let size = 1 + self.random(self.stream_pending.len().min(100));
        let mut batch = aws_lambda_events::event::dynamodb::Event::default();
        batch.records = self.stream_pending[..size].to_vec();
        let response = self.publish_changes.handle_records(batch).await;
        let retry_from = response.batch_item_failures.first().and_then(|f| f.item_identifier.clone());
        let handled = match &retry_from {
            Some(sequence) if self.config.defect != Some(Defect::StreamSkipsFailures) => self.stream_pending[..size]
                .iter()
                .position(|r| r.change.sequence_number.as_ref() == Some(sequence))
                .unwrap_or(0),
            _ => size,
        };
        self.stream_pending.drain(..handled);
        self.log(format!("stream batch of {size}, retry from {retry_from:?}"));
    }

    /// An operator redrives the DLQs.
    pub async fn redrive(&mut self) {
        let notes = std::mem::take(&mut self.note_dlq);
        let n = notes.len();
        self.note_queue.extend(notes.into_iter().map(|m| Message { receives: 0, ..m }));
        let events = std::mem::take(&mut self.notify_dlq);
        self.notify_pending.extend(events.into_iter().map(|e| (e, 0)));
        let shards = std::mem::take(&mut self.broadcast_dlq);
        self.broadcast_pending.extend(shards.into_iter().map(|m| Message { receives: 0, ..m }));
        self.log(format!("redrive {n} notes"));
    }

    /// An operator replays the archive from its `from`th event on (`replay-name` set).
    pub async fn replay(&mut self, from: usize) {
        let events: Vec<NoteEvent> = self.archive[from..].iter().map(|(e, _)| e.clone()).collect();
        self.log(format!("replay {} events", events.len()));
        for event in events {
            self.enqueue_note(&event);
        }
    }

    /// A socket action: open one, close one ($disconnect), lose one (no $disconnect), or answer
    /// a pending handshake.
    async fn socket_action(&mut self) {
        let opening: Vec<usize> =
            self.clients.iter().enumerate().filter(|(_, c)| c.socket == Socket::Opening).map(|(i, _)| i).collect();
        let open: Vec<usize> =
            self.clients.iter().enumerate().filter(|(_, c)| c.socket == Socket::Open).map(|(i, _)| i).collect();
        match self.random(4) {
            0 if !opening.is_empty() => {
                let client = opening[self.random(opening.len())];
                self.answer_handshake(client).await;
            }
            1 if !open.is_empty() => {
                let client = open[self.random(open.len())];
                self.close_socket(client, true).await;
            }
            2 if !open.is_empty() => {
                let client = open[self.random(open.len())];
                self.close_socket(client, false).await;
            }
            _ => {
                let user = self.random(self.users.len());
                self.open_socket(user).await;
            }
        }
    }

    /// A new socket: `$connect` runs (its items are written) and the handshake is still open.
    pub async fn open_socket(&mut self, user: usize) -> usize {
        let connection_id = format!("c{}", self.clients.len());
        self.pusher.opening(&connection_id);
        self.pusher.remember_owner(&connection_id, &self.users[user]);
        let request = connect_request(&self.token(user), &connection_id);
        let response = WebSocketFunction::handle(&self.connect, request).await;
        let accepted = response.status_code == 200;
        let mut client = Client::new(user, &connection_id, notes_core::domain::Timestamp::now().epoch_millis());
        client.socket = if accepted { Socket::Opening } else { Socket::Closed };
        if !accepted {
            self.pusher.close(&connection_id);
        }
        self.clients.push(client);
        self.log(format!("open socket {connection_id} of {} -> {}", self.users[user], response.status_code));
        self.clients.len() - 1
    }

    /// `$connect` has answered: the socket is open, and the app refetches what it shows.
    pub async fn answer_handshake(&mut self, index: usize) {
        if self.clients[index].socket != Socket::Opening {
            return;
        }
        let connection_id = self.clients[index].connection_id.clone();
        self.pusher.open(&connection_id);
        self.clients[index].socket = Socket::Open;
        self.clients[index].opened_step = self.step;
        self.refetch(index).await;
        self.log(format!("handshake answered {connection_id}"));
    }

    /// The app's refetch on (re)connect: its notes (settling those pending), and the feed.
    async fn refetch(&mut self, index: usize) {
        let user = self.clients[index].user;
        let token = self.token(user);
        let mut listed = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut request = ApiRequest::new("GET /notes", "/notes").bearer(&token).query("limit", "100");
            if let Some(c) = &cursor {
                request = request.query("cursor", c);
            }
            let (status, page) = self.http(&self.get_notes, request).await;
            if status != 200 {
                return;
            }
            listed.extend(page["notes"].as_array().cloned().unwrap_or_default());
            match page["nextCursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        let mut answers = Vec::new();
        for note_id in self.clients[index].pending_ids() {
            let request = ApiRequest::new("GET /notes/{noteId}", &format!("/notes/{note_id}"))
                .path_param("noteId", &note_id)
                .bearer(&token);
            answers.push((note_id, self.http(&self.get_note, request).await));
        }
        let (_, feed) = {
            let page = self.table.list_public(notes_core::ports::PageRequest { limit: 1000, after: None }).await;
            (0, page.map(|p| p.items).unwrap_or_default())
        };
        let client = &mut self.clients[index];
        client.settle_from_list(&listed);
        for (note_id, (status, body)) in answers {
            client.settle_from_get(&note_id, status, &body);
        }
        let me = &self.users[user];
        client.feed = feed
            .into_iter()
            .filter(|n| n.username.as_str() != me)
            .map(|n| (n.note_id.to_string(), n.version))
            .collect::<BTreeMap<_, _>>();
        client.feed_marks.clear();
    }

    /// The socket closes: with `$disconnect` (its items removed), or lost without it.
    pub async fn close_socket(&mut self, index: usize, with_disconnect: bool) {
        let connection_id = self.clients[index].connection_id.clone();
        self.clients[index].socket = Socket::Closed;
        self.pusher.close(&connection_id);
        if with_disconnect {
            let request = disconnect_request(&connection_id);
            WebSocketFunction::handle(&self.disconnect, request).await;
        }
        self.log(format!("close socket {connection_id} (disconnect: {with_disconnect})"));
    }

    fn deliver_to_client(&mut self, (connection_id, message): (String, Value)) {
        let Some(client) = self.clients.iter_mut().find(|c| c.connection_id == connection_id) else { return };
        let owner = message["username"].as_str().unwrap_or_default();
        let mine = self.users[client.user] == owner;
        client.receive(&message, mine);
    }

    /// Throttles save-note's next `writes` table writes (a scenario's fault).
    pub fn throttle_saves(&self, writes: usize) {
        self.flaky.throttle_next(writes);
    }

    /// Routes every event on the bus, newest first (EventBridge keeps no order), and runs what
    /// it triggers, until nothing is left in flight.
    pub async fn drain_newest_first(&mut self) {
        for _ in 0..100 {
            if self.in_flight() == 0 {
                return;
            }
            while let Some(event) = self.bus.take(self.bus.len().saturating_sub(1)) {
                self.route(event);
            }
            while !self.note_queue.is_empty() {
                self.deliver_note_batch(10, false).await;
            }
            while self.table.stream_unread() > 0 || !self.stream_pending.is_empty() {
                self.run_stream().await;
            }
            while !self.notify_pending.is_empty() {
                self.run_notify_at(self.notify_pending.len() - 1).await;
            }
            while !self.broadcast_pending.is_empty() {
                self.run_broadcast().await;
            }
            self.after_step().await;
        }
    }

    /// Routes every event on the bus (note-created to its queue, the rest to notify).
    pub async fn route_all(&mut self) {
        while !self.bus.is_empty() {
            self.route_event().await;
        }
    }

    /// Turns the faults off and drains every queue, as an operator's fix and redrive would.
    pub async fn quiesce(&mut self) {
        self.bus.set_faults(false);
        self.pusher.set_faults(false);
        self.flaky.set_faults(false);
        self.config.faults = false;
        for client in 0..self.clients.len() {
            self.answer_handshake(client).await;
        }
        for round in 0..50 {
            let mut idle = true;
            while !self.bus.is_empty() {
                self.route_event().await;
                idle = false;
            }
            while !self.note_queue.is_empty() {
                self.deliver_notes().await;
                idle = false;
            }
            while self.table.stream_unread() > 0 || !self.stream_pending.is_empty() {
                self.run_stream().await;
                self.after_step().await;
                idle = false;
            }
            while !self.notify_pending.is_empty() {
                self.run_notify().await;
                idle = false;
            }
            while !self.broadcast_pending.is_empty() {
                self.run_broadcast().await;
                idle = false;
            }
            self.after_step().await;
            if idle {
                if self.note_dlq.is_empty() && self.notify_dlq.is_empty() && self.broadcast_dlq.is_empty() {
                    break;
                }
                self.redrive().await;
            }
            if round == 49 {
                let v = self.violation("the pipeline drains", "still busy after 50 rounds".into());
                self.violations.push(v);
            }
        }
        let found = invariants::at_quiescence(self).await;
        self.violations.extend(found);
    }

    pub fn outcome(&self) -> Outcome {
        Outcome {
            seed: self.config.seed,
            steps: self.step,
            violations: self.violations.clone(),
            trace: self.trace.clone(),
        }
    }

    /// What the note's key holds now.
    pub async fn state_of(&self, note: &Posted) -> Option<NoteState> {
        let owner = Username::parse(self.users[note.owner].as_str()).ok()?;
        self.table.state(&owner, NoteId::parse(&note.note_id).ok()?).await.ok().flatten()
    }

    /// The note-failed messages a user's clients received for a note.
    pub fn failures_heard(&self, note_id: &str) -> usize {
        self.clients.iter().map(|c| c.failures_heard.get(note_id).copied().unwrap_or(0)).sum()
    }

    pub fn user_name(&self, user: usize) -> &str {
        &self.users[user]
    }

    /// The connection ids the table lists for every user.
    pub async fn connection_items(&self) -> HashSet<String> {
        let mut ids = HashSet::new();
        for user in &self.users {
            let name = Username::parse(user.as_str()).unwrap();
            for c in self.table.of_user(&name).await.unwrap_or_default() {
                ids.insert(c.connection_id);
            }
        }
        ids
    }
}

fn sqs_event(messages: &[Message]) -> SqsEvent {
    let records: Vec<SqsMessage> = messages
        .iter()
        .map(|m| {
            let mut record = sqs_record(&m.id, m.body.clone());
            record.attributes.insert("ApproximateReceiveCount".into(), (m.receives + 1).to_string());
            record
        })
        .collect();
    sqs_batch(records)
}

fn connect_request(token_user: &str, connection_id: &str) -> aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest {
    let token = notes_core::adapters::fakes::token_for(token_user);
    let protocols = notes_core::edge::http::websocket_protocols(&token);
    let now = notes_core::domain::Timestamp::now().epoch_millis();
    serde_json::from_value(json!({
        "requestContext": {"routeKey": "$connect", "eventType": "CONNECT", "connectionId": connection_id,
                           "connectedAt": now, "requestTimeEpoch": now, "requestId": "sim", "stage": "sim", "apiId": "ws"},
        "headers": {"Host": "ws.example", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Protocol": protocols},
        "multiValueHeaders": {"Sec-WebSocket-Protocol": [protocols]},
        "isBase64Encoded": false
    }))
    .unwrap()
}

fn disconnect_request(connection_id: &str) -> aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest {
    serde_json::from_value(json!({
        "requestContext": {"routeKey": "$disconnect", "eventType": "DISCONNECT", "connectionId": connection_id,
                           "connectedAt": 0, "requestTimeEpoch": 0},
        "isBase64Encoded": false
    }))
    .unwrap()
}

/// The broadcast message body of a shard (for the planted defect's rewrite).
pub fn body_of(message: &BroadcastMessage) -> String {
    message.to_body()
}
