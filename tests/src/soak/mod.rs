//! The soak: many users post notes at once through a stack under a fault plan, each with a
//! WebSocket listener; the pipeline drains, the DLQ is redriven once with the plan's faults off,
//! and the outcome is reconciled note by note from outside (the REST API, what each listener
//! received, and an operator's look at the DLQ).
//!
//! `make soak` runs it in a release build (`tests/benches/soak.rs`, sizes from `SOAK_NOTES` and
//! `SOAK_USERS`); `make test` runs 300 notes (`tests/tests/soak.rs`). Both hold the run to the
//! same targets ([`SoakReport::failures`]).
//!
//! While it runs it shows its progress on stderr ([`crate::progress`]): notes posted, stored,
//! dead-lettered, messages queued, the rate and the time left.

mod listener;
mod operator;
mod report;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use notes_local::faults::{FaultPlan, TRANSIENT_FAULT_MARKER};
use serde_json::json;

use crate::progress::{Progress, Reporter};
use crate::{Stack, unique};

use listener::{MAX_RECONNECTS, Received, listen};
use operator::{dead_lettered, drain, list_all, queue_depth, queued};
pub use report::SoakReport;
use report::percentile;

/// What a soak does.
#[derive(Debug, Clone)]
pub struct SoakConfig {
    pub notes: usize,
    pub users: usize,
    /// `None`: no faults (except the poison notes, which always fail).
    pub plan: Option<FaultPlan>,
    /// `POST /notes` in flight at once.
    pub concurrency: usize,
    /// One note in `poison_every` carries the transient-fault marker and can never be saved (0: none).
    pub poison_every: usize,
    /// One note in `public_every` is public (0: none, 1: all).
    pub public_every: usize,
    /// Each note's content is padded with prose to this many bytes (0: no padding, a few words).
    pub note_bytes: usize,
    /// The note-created queue's visibility timeout: how soon a failed or dropped message is back.
    pub visibility_timeout_seconds: u32,
    /// How long each drain may take before the soak gives up waiting.
    pub drain_limit: Duration,
    /// Posting waits while more messages than this are queued for the functions: the emulator's SQS
    /// slows as a queue deepens (one ReceiveMessage took over a minute with ~5,900 waiting), so
    /// an open-ended burst would measure the emulator, not the pipeline.
    pub max_queued: u64,
}

impl SoakConfig {
    /// `SOAK_NOTES` (10,000), `SOAK_USERS` (50), `SOAK_FAULT_PLAN` (a preset, a file, or `none`;
    /// `soak` by default), `SOAK_CONCURRENCY` (32), `SOAK_PUBLIC_EVERY` (10; 0 for none, 1 for all),
    /// `SOAK_POISON_EVERY` (100; 0 for none), `SOAK_NOTE_BYTES` (0: a few words; otherwise each
    /// content is padded with English prose to that many bytes, at most 10,000).
    pub fn from_env() -> Result<SoakConfig, String> {
        SoakConfig::from_env_or(10_000)
    }

    /// As [`SoakConfig::from_env`], with `notes` when `SOAK_NOTES` is not set.
    pub fn from_env_or(notes: usize) -> Result<SoakConfig, String> {
        let number = |name: &str, default: usize| -> Result<usize, String> {
            match std::env::var(name) {
                Ok(v) if !v.trim().is_empty() => v
                    .trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| format!("{name}={v} is not a positive number")),
                _ => Ok(default),
            }
        };
        let plan = match std::env::var("SOAK_FAULT_PLAN").ok().filter(|v| !v.is_empty()).as_deref() {
            Some("none") => None,
            Some(plan) => Some(FaultPlan::load(plan)?),
            None => FaultPlan::preset("soak"),
        };
        let share = |name: &str, default: usize| -> Result<usize, String> {
            match std::env::var(name) {
                Ok(v) if !v.trim().is_empty() => {
                    v.trim().parse::<usize>().map_err(|_| format!("{name}={v} is not a number (0 for none)"))
                }
                _ => Ok(default),
            }
        };
        let mut config = SoakConfig::sized(number("SOAK_NOTES", notes)?, number("SOAK_USERS", 50)?, plan)
            .with_concurrency(number("SOAK_CONCURRENCY", 32)?);
        config.public_every = share("SOAK_PUBLIC_EVERY", config.public_every)?;
        config.poison_every = share("SOAK_POISON_EVERY", config.poison_every)?;
        config.note_bytes = share("SOAK_NOTE_BYTES", config.note_bytes)?.min(10_000);
        Ok(config)
    }

    pub fn sized(notes: usize, users: usize, plan: Option<FaultPlan>) -> SoakConfig {
        SoakConfig {
            notes,
            users,
            plan,
            concurrency: 32,
            poison_every: 100,
            public_every: 10,
            note_bytes: 0,
            visibility_timeout_seconds: 3,
            // Generous: a 2-core machine, emulators included, at a few notes per second at worst.
            drain_limit: Duration::from_secs(120 + notes as u64 / 4),
            max_queued: 300,
        }
    }

    pub fn with_concurrency(mut self, concurrency: usize) -> SoakConfig {
        self.concurrency = concurrency;
        self
    }
}

/// Text to pad notes with: prose, which compresses as a note's text does (random letters would
/// compress less, one repeated word far more).
const PROSE: &str = include_str!("prose.txt");

/// `start` followed by a window of [`PROSE`] chosen by `i`, to `bytes` bytes in all.
fn padded(start: String, i: usize, bytes: usize) -> String {
    let prose = PROSE.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut content = start;
    let mut offset = (i * 7919) % prose.len();
    while content.len() < bytes {
        let room = bytes - content.len();
        let piece = &prose[offset..];
        content.push_str(&piece[..room.min(piece.len())]);
        offset = 0;
    }
    content
}

/// A posted note, as the soak knows it.
struct Posted {
    note_id: String,
    owner: usize,
    public: bool,
    poison: bool,
    sent: Instant,
}

/// `after` minus `before`, entry by entry (`minus`), keeping the entries `keep` accepts.
fn since<V>(
    mut after: BTreeMap<String, V>,
    before: &BTreeMap<String, V>,
    minus: impl Fn(&mut V, &V),
    keep: impl Fn(&V) -> bool,
) -> BTreeMap<String, V> {
    for (key, value) in after.iter_mut() {
        if let Some(earlier) = before.get(key) {
            minus(value, earlier);
        }
    }
    after.retain(|_, value| keep(value));
    after
}

/// What the progress line shows while notes are posted and the pipeline drains, read every second.
struct PipelineGauges {
    sqs: aws_sdk_sqs::Client,
    queues: Vec<String>,
    dlq: String,
    api_calls: notes_local::calls::ApiCalls,
    posted: Arc<AtomicU64>,
    notes: u64,
}

impl PipelineGauges {
    /// Until aborted: posted (accepted by `POST /notes`), stored (notes `publish-changes` sent a
    /// `note-saved` for, which it does once the table's stream carries the stored note: the
    /// stack's own count),
    /// dead-lettered (messages in the note DLQ, an operator's view: under faults some are redriven
    /// and stored later), queued (messages waiting or in flight in the three queues). Done: the
    /// notes stored, or failed for good (`note-failed` sent).
    async fn run(self, progress: Reporter) {
        let queues: Vec<&str> = self.queues.iter().map(String::as_str).collect();
        loop {
            let saved = self.api_calls.note_ids("note-saved");
            let failed = self.api_calls.note_ids("note-failed");
            let stored = saved.len() as u64;
            let settled = stored + failed.iter().filter(|id| !saved.contains(*id)).count() as u64;
            let dead = queue_depth(&self.sqs, &self.dlq).await.unwrap_or(0);
            let waiting = queued(&self.sqs, &queues).await;
            progress.set("posted", self.posted.load(Ordering::SeqCst));
            progress.set("stored", stored);
            progress.set("dead-lettered", dead);
            progress.set("queued", waiting);
            progress.set_done(settled.min(self.notes));
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

/// Runs a soak and reconciles it.
pub async fn run(config: SoakConfig) -> Result<SoakReport, String> {
    let progress = Progress::start("soak");
    progress.phase("starting the stack", 0, "");
    let plan = config.plan.clone();
    let stack = Stack::start_with(|c| {
        c.fault_injection = true;
        c.fault_plan = plan;
        c.visibility_timeout_seconds = Some(config.visibility_timeout_seconds);
    })
    .await;
    // An operator's client of its own, so its calls are not counted as the stack's.
    let operator =
        notes_local::emulator_sdk_config(&stack.running.aws_endpoint, &stack.running.dynamodb_endpoint).await;
    let sqs = aws_sdk_sqs::Client::new(&operator);
    let resources = stack.running.resources.clone();

    // Users, each with a listener.
    let run_id = unique("soak");
    progress.phase("signing up", config.users as u64, "users");
    let tokens: Vec<String> = futures::stream::iter(0..config.users)
        .map(|i| {
            let (stack, run_id, progress) = (&stack, &run_id, &progress);
            async move {
                let token = stack.user(&format!("{run_id}-u{i}")).await;
                progress.add_done(1);
                token
            }
        })
        .buffered(8)
        .collect()
        .await;
    let stop = Arc::new(AtomicBool::new(false));
    let mut listeners = Vec::new();
    progress.phase("connecting", config.users as u64, "listeners");
    for token in &tokens {
        listeners.push(listen(stack.running.ws_url(), token.clone(), stop.clone()).await?);
        progress.add_done(1);
    }

    // Notes from every user at once, `concurrency` POSTs in flight. Calls are counted from here:
    // provisioning, signups and connections are not the notes' calls.
    let calls_before = stack.running.api_calls.snapshot();
    let units_before = stack.running.api_calls.units();
    let capacity_before = stack.running.consumed_capacity.snapshot();
    let invocations_before = stack.running.invocations.snapshot();
    let started = Instant::now();
    let refused = AtomicUsize::new(0);
    let mut posted: Vec<Posted> = Vec::with_capacity(config.notes);
    let accepted = Arc::new(AtomicU64::new(0));
    progress.phase("posting", config.notes as u64, "notes");
    let gauges = tokio::spawn(
        PipelineGauges {
            sqs: sqs.clone(),
            queues: vec![
                resources.note_queue_url.clone(),
                resources.notify_queue_url.clone(),
                resources.broadcast_queue_url.clone(),
            ],
            dlq: resources.note_dlq_url.clone(),
            api_calls: stack.running.api_calls.clone(),
            posted: accepted.clone(),
            notes: config.notes as u64,
        }
        .run(progress.reporter()),
    );
    // One round of posts between two looks at the queues' depth: each public note is 16 broadcast
    // messages, and a burst the emulator cannot absorb deepens its queues, which slows every
    // receive, so the looks come often.
    let chunk_size = config.concurrency.max(1);
    for first in (0..config.notes).step_by(chunk_size) {
        // Back-pressure: wait while more than `max_queued` messages wait in save-note's queue,
        // notify's stand-in queue and the broadcast queue together (moto's SQS slows with every
        // message a queue holds; a public note is 16 broadcast messages).
        let deadline = Instant::now() + config.drain_limit;
        while queued(&sqs, &[&resources.note_queue_url, &resources.notify_queue_url, &resources.broadcast_queue_url])
            .await
            > config.max_queued
            && Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        let chunk: Vec<Posted> = futures::stream::iter(first..(first + chunk_size).min(config.notes))
            .map(|i| {
                let (stack, tokens, refused, accepted) = (&stack, &tokens, &refused, &accepted);
                let owner = i % config.users;
                let poison = config.poison_every > 0 && i % config.poison_every == config.poison_every / 2;
                let public = config.public_every > 0 && i % config.public_every == 3 % config.public_every;
                async move {
                    let content = if poison {
                        format!("soak note {i} {TRANSIENT_FAULT_MARKER}")
                    } else {
                        padded(format!("soak note {i} "), i, config.note_bytes)
                    };
                    let sent = Instant::now();
                    // With an Idempotency-Key, as the app sends every note.
                    let response = stack
                        .http
                        .post(stack.url("/notes"))
                        .bearer_auth(&tokens[owner])
                        .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
                        .json(&json!({"content": content, "isPublic": public}))
                        .send()
                        .await;
                    let (status, body) = match response {
                        Ok(r) => (r.status().as_u16(), r.json::<serde_json::Value>().await.unwrap_or_default()),
                        Err(_) => (0, serde_json::Value::Null),
                    };
                    match (status, body["noteId"].as_str()) {
                        (202, Some(id)) => {
                            accepted.fetch_add(1, Ordering::SeqCst);
                            Some(Posted { note_id: id.to_owned(), owner, public, poison, sent })
                        }
                        _ => {
                            refused.fetch_add(1, Ordering::SeqCst);
                            None
                        }
                    }
                }
            })
            .buffer_unordered(config.concurrency)
            .filter_map(|p| async move { p })
            .collect()
            .await;
        posted.extend(chunk);
    }

    // Drain, then the operator's fix (the plan's faults off; poison stays poison) and one redrive.
    let queues = [
        resources.note_queue_url.as_str(),
        resources.notify_queue_url.as_str(),
        resources.broadcast_queue_url.as_str(),
    ];
    progress.label("draining");
    let drained_first = drain(&sqs, &queues, config.drain_limit).await;
    let seconds_to_drain = started.elapsed().as_secs_f64();
    if let Some(faults) = &stack.running.fault_plan {
        faults.set(false);
    }
    progress.label("redriving");
    let redriven = stack.running.redrive_note_dlq().await?;
    // A redriven poison note needs its `maxReceiveCount` receives again before it is back in the DLQ.
    tokio::time::sleep(Duration::from_secs(u64::from(config.visibility_timeout_seconds))).await;
    progress.label("draining again");
    let drained_again = drain(&sqs, &queues, config.drain_limit).await;
    let seconds_total = started.elapsed().as_secs_f64();
    gauges.abort();
    // What happened from the first POST on: each count minus what it was then.
    let api_calls = since(stack.running.api_calls.snapshot(), &calls_before, |n, b| *n -= (*b).min(*n), |n| *n > 0);
    let api_units = since(stack.running.api_calls.units(), &units_before, |n, b| *n -= (*b).min(*n), |_| true);
    let consumed_capacity = since(
        stack.running.consumed_capacity.snapshot(),
        &capacity_before,
        |c, b| {
            c.calls -= b.calls;
            c.capacity_units -= b.capacity_units;
            c.refused -= b.refused;
        },
        |c| c.calls + c.refused > 0,
    );
    let invocations = since(
        stack.running.invocations.snapshot(),
        &invocations_before,
        |i, b| {
            i.count -= b.count;
            i.milliseconds -= b.milliseconds;
        },
        |i| i.count > 0,
    );
    let injected = stack.running.fault_plan.as_ref().map(|f| f.injected()).unwrap_or_default();
    // The last pushes reach the sockets.
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::SeqCst);

    // Reconcile: the table through the API, the DLQ, what each listener heard.
    progress.phase("reconciling", tokens.len() as u64, "users' notes read");
    progress.clear_counts();
    let mut stored: HashMap<String, usize> = HashMap::new();
    let mut listed_failed: HashSet<String> = HashSet::new();
    for token in &tokens {
        for (id, status) in list_all(&stack, "/notes", Some(token)).await? {
            if status == "failed" {
                listed_failed.insert(id);
            } else {
                *stored.entry(id).or_default() += 1;
            }
        }
        progress.add_done(1);
    }
    progress.label("reconciling the feed, the DLQ and what each listener heard");
    let mut in_feed: HashMap<String, usize> = HashMap::new();
    for (id, _) in list_all(&stack, "/notes/public", None).await? {
        *in_feed.entry(id).or_default() += 1;
    }
    // Every note its owner's list shows failed went to the DLQ on its last receive. A redriven
    // one is back in the DLQ only after its receives again: read the DLQ until every such note is
    // there, or the drain limit passes, so the reconciliation never reads it too early.
    let failed_not_stored: HashSet<String> =
        listed_failed.iter().filter(|id| !stored.contains_key(*id)).cloned().collect();
    let notify_dead_lettered = queue_depth(&sqs, &resources.notify_dlq_url).await.unwrap_or(0) as usize;
    let mut in_dlq = HashSet::new();
    let dlq_deadline = Instant::now() + config.drain_limit;
    loop {
        in_dlq.extend(dead_lettered(&sqs, &resources.note_dlq_url).await);
        if failed_not_stored.is_subset(&in_dlq) || Instant::now() > dlq_deadline {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }

    let by_id: HashMap<&str, &Posted> = posted.iter().map(|p| (p.note_id.as_str(), p)).collect();
    let mut report = SoakReport {
        notes: config.notes,
        users: config.users,
        plan: config.plan.as_ref().map(|p| serde_json::to_string(p).unwrap_or_default()),
        accepted: posted.len(),
        refused: refused.load(Ordering::SeqCst),
        poison: posted.iter().filter(|p| p.poison).count(),
        redriven,
        seconds_to_drain,
        seconds_total,
        drained: drained_first && drained_again,
        api_calls,
        api_units,
        consumed_capacity,
        invocations,
        public: posted.iter().filter(|p| p.public).count(),
        injected,
        notify_dead_lettered,
        ..SoakReport::default()
    };
    // (listener, note, event type, version) -> event ids heard; owners' first note-saved time. A
    // note failed again after a redrive is a new failure (one version on), not a repeat.
    let mut heard: HashMap<(usize, String, String, u64), Vec<String>> = HashMap::new();
    let mut first_saved: HashMap<String, Instant> = HashMap::new();
    let mut owner_failed: HashSet<String> = HashSet::new();
    let mut listener_reconnects: Vec<usize> = Vec::new();
    for (user, listener) in listeners.iter().enumerate() {
        listener.task.abort();
        let reconnects = listener.reconnects.load(Ordering::SeqCst).min(MAX_RECONNECTS);
        report.reconnects += reconnects;
        listener_reconnects.push(reconnects);
        for Received { at, message } in listener.received.lock().unwrap().iter() {
            let (Some(note_id), Some(event_type)) = (message["noteId"].as_str(), message["eventType"].as_str()) else {
                continue;
            };
            let Some(note) = by_id.get(note_id) else { continue };
            let version = message["version"].as_u64().unwrap_or(0);
            heard
                .entry((user, note_id.to_owned(), event_type.to_owned(), version))
                .or_default()
                .push(message["eventId"].as_str().unwrap_or_default().to_owned());
            if note.owner == user {
                match event_type {
                    "note-saved" => {
                        first_saved.entry(note_id.to_owned()).and_modify(|t| *t = (*t).min(*at)).or_insert(*at);
                    }
                    "note-failed" => {
                        owner_failed.insert(note_id.to_owned());
                    }
                    _ => {}
                }
            } else if !note.public || event_type == "note-failed" {
                // Another user heard of a private note, or of a failure only its owner may see.
                report.misdelivered += 1;
            }
        }
    }
    for ids in heard.values() {
        if ids.len() > 1 {
            report.duplicate_notifications += ids.len() - 1;
            report.duplicates_with_new_event_id += ids.iter().filter(|id| *id != &ids[0]).count();
        }
    }
    let mut latencies = Vec::new();
    for note in &posted {
        let copies = stored.get(&note.note_id).copied().unwrap_or(0);
        let feed_copies = in_feed.get(&note.note_id).copied().unwrap_or(0);
        if !note.public && feed_copies > 0 {
            // A private note in the public feed: every reader may see it.
            report.misdelivered += feed_copies;
        }
        let expected_feed = usize::from(note.public);
        // Dead-lettered, and its owner was told: by a push, or (if the listener was reconnecting
        // then) by the failure their list shows.
        let told_failed = owner_failed.contains(&note.note_id) || listed_failed.contains(&note.note_id);
        let dead_with_failed = copies == 0 && in_dlq.contains(&note.note_id) && told_failed;
        if copies > 1 || feed_copies > 1 {
            report.stored_twice += 1;
        } else if copies == 1 && feed_copies == expected_feed {
            report.stored_once += 1;
            if !note.poison {
                report.other_stored_once += 1;
            }
        } else if dead_with_failed {
            report.dead_lettered_with_note_failed += 1;
            if note.poison {
                report.poison_dead_lettered_with_note_failed += 1;
            }
        } else if copies == 0 {
            report.lost += 1;
            report.lost_notes.push(report::LostNote {
                note_id: note.note_id.clone(),
                poison: note.poison,
                in_dlq: in_dlq.contains(&note.note_id),
                listed_failed: listed_failed.contains(&note.note_id),
                heard_failed: owner_failed.contains(&note.note_id),
                owner_reconnects: listener_reconnects.get(note.owner).copied().unwrap_or(0),
            });
        }
        // Every committed change reaches its owner: a push to the listener, or the refetch a
        // listener makes when it reconnects. A stored note whose owner heard nothing although
        // the listener never dropped is a push lost.
        if copies > 0 && !first_saved.contains_key(&note.note_id) && listener_reconnects.get(note.owner) == Some(&0) {
            report.saves_unheard += 1;
        }
        if copies > 0 && note.poison {
            report.poison_stored += 1;
        }
        if first_saved.contains_key(&note.note_id) || (copies == 0 && owner_failed.contains(&note.note_id)) {
            report.owners_notified += 1;
        }
        if copies > 0 || listed_failed.contains(&note.note_id) {
            report.fate_readable += 1;
        }
        if let Some(at) = first_saved.get(&note.note_id) {
            latencies.push(at.duration_since(note.sent).as_secs_f64() * 1e3);
        }
    }
    latencies.sort_by(f64::total_cmp);
    report.p50_ms = percentile(&latencies, 50.0);
    report.p99_ms = percentile(&latencies, 99.0);
    progress.finish();
    Ok(report)
}
