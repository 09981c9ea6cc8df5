//! The soak: many users post notes at once through a stack under a fault plan, each with a
//! WebSocket listener; the pipeline drains, the DLQ is redriven once with the plan's faults off,
//! and the outcome is reconciled note by note from outside (the REST API, what each listener
//! received, and an operator's look at the DLQ).
//!
//! `make soak` runs it in a release build (`tests/benches/soak.rs`, sizes from `SOAK_NOTES` and
//! `SOAK_USERS`); `make test` runs 300 notes (`tests/tests/soak.rs`). Both hold the run to the
//! same targets ([`SoakReport::failures`]).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{SinkExt as _, StreamExt as _};
use notes_local::faults::{FaultPlan, TRANSIENT_FAULT_MARKER};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::{Stack, unique};

/// What a soak does.
#[derive(Debug, Clone)]
pub struct SoakConfig {
    pub notes: usize,
    pub users: usize,
    /// `None`: no faults (except the poison notes, which always fail).
    pub plan: Option<FaultPlan>,
    /// `POST /notes` in flight at once.
    pub concurrency: usize,
    /// One note in `poison_every` carries the transient-fault marker and can never be saved.
    pub poison_every: usize,
    /// One note in `public_every` is public.
    pub public_every: usize,
    /// The note-created queue's visibility timeout: how soon a failed or dropped message is back.
    pub visibility_timeout_seconds: u32,
    /// How long each drain may take before the soak gives up waiting.
    pub drain_limit: Duration,
}

impl SoakConfig {
    /// `SOAK_NOTES` (10,000), `SOAK_USERS` (50), `SOAK_FAULT_PLAN` (a preset, a file, or `none`;
    /// `soak` by default), `SOAK_CONCURRENCY` (32).
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
        Ok(SoakConfig::sized(number("SOAK_NOTES", notes)?, number("SOAK_USERS", 50)?, plan)
            .with_concurrency(number("SOAK_CONCURRENCY", 32)?))
    }

    pub fn sized(notes: usize, users: usize, plan: Option<FaultPlan>) -> SoakConfig {
        SoakConfig {
            notes,
            users,
            plan,
            concurrency: 32,
            poison_every: 100,
            public_every: 10,
            visibility_timeout_seconds: 3,
            // Generous: a 2-core machine, emulators included, at a few notes per second at worst.
            drain_limit: Duration::from_secs(120 + notes as u64 / 4),
        }
    }

    pub fn with_concurrency(mut self, concurrency: usize) -> SoakConfig {
        self.concurrency = concurrency;
        self
    }
}

/// One message a listener received.
struct Received {
    at: Instant,
    message: Value,
}

/// A user's WebSocket listener: it reconnects when the connection drops (as the app does).
struct Listener {
    received: Arc<Mutex<Vec<Received>>>,
    reconnects: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

const MAX_RECONNECTS: usize = 10_000;

async fn listen(ws_url: String, token: String, stop: Arc<AtomicBool>) -> Result<Listener, String> {
    let url = format!("{ws_url}/?token={token}");
    let (mut stream, _) = tokio_tungstenite::connect_async(&url).await.map_err(|e| format!("WebSocket: {e}"))?;
    // A ping round trip: the connection is registered before anything is posted.
    stream.send(Message::Text(json!({"action": "ping"}).to_string().into())).await.map_err(|e| e.to_string())?;
    match tokio::time::timeout(Duration::from_secs(20), stream.next()).await {
        Ok(Some(Ok(Message::Text(_)))) => {}
        other => return Err(format!("no pong: {other:?}")),
    }
    let received = Arc::new(Mutex::new(Vec::new()));
    let reconnects = Arc::new(AtomicUsize::new(0));
    let (r, n) = (received.clone(), reconnects.clone());
    let task = tokio::spawn(async move {
        let mut stream = stream;
        loop {
            while let Some(Ok(message)) = stream.next().await {
                if let Message::Text(text) = message
                    && let Ok(message) = serde_json::from_str::<Value>(&text)
                {
                    r.lock().unwrap().push(Received { at: Instant::now(), message });
                }
            }
            // Dropped (a 410 of the fault plan closes it): connect again, a bounded number of times.
            loop {
                if stop.load(Ordering::SeqCst) || n.fetch_add(1, Ordering::SeqCst) >= MAX_RECONNECTS {
                    return;
                }
                match tokio_tungstenite::connect_async(&url).await {
                    Ok((s, _)) => {
                        stream = s;
                        break;
                    }
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
        }
    });
    Ok(Listener { received, reconnects, task })
}

/// A posted note, as the soak knows it.
struct Posted {
    note_id: String,
    owner: usize,
    public: bool,
    poison: bool,
    sent: Instant,
}

/// The reconciliation.
#[derive(Debug, Default, Clone)]
pub struct SoakReport {
    pub notes: usize,
    pub users: usize,
    pub plan: Option<String>,
    pub accepted: usize,
    pub refused: usize,
    pub poison: usize,
    pub stored_once: usize,
    pub stored_twice: usize,
    pub lost: usize,
    pub dead_lettered_with_note_failed: usize,
    pub poison_dead_lettered_with_note_failed: usize,
    pub poison_stored: usize,
    pub other_stored_once: usize,
    pub owners_notified: usize,
    pub duplicate_notifications: usize,
    pub duplicates_with_new_event_id: usize,
    pub misdelivered: usize,
    pub reconnects: usize,
    pub redriven: usize,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    /// From the first `POST` until the pipeline had drained, before the redrive.
    pub seconds_to_drain: f64,
    pub seconds_total: f64,
    pub drained: bool,
    pub api_calls: BTreeMap<String, u64>,
    pub injected: BTreeMap<String, u64>,
}

impl SoakReport {
    pub fn notes_per_second(&self) -> f64 {
        self.accepted as f64 / self.seconds_to_drain.max(1e-9)
    }

    /// Every target the run missed; empty when it met them all.
    pub fn failures(&self) -> Vec<String> {
        let mut failures = Vec::new();
        let mut check = |ok: bool, what: String| {
            if !ok {
                failures.push(what);
            }
        };
        check(self.lost == 0, format!("{} notes lost", self.lost));
        check(self.stored_twice == 0, format!("{} notes stored twice", self.stored_twice));
        check(self.misdelivered == 0, format!("{} messages misdelivered", self.misdelivered));
        check(self.refused == 0, format!("{} POSTs not accepted", self.refused));
        check(
            self.poison_dead_lettered_with_note_failed == self.poison,
            format!(
                "{} of {} poison notes dead-lettered with note-failed",
                self.poison_dead_lettered_with_note_failed, self.poison
            ),
        );
        check(self.poison_stored == 0, format!("{} poison notes stored", self.poison_stored));
        check(
            self.other_stored_once == self.accepted - self.poison.min(self.accepted),
            format!(
                "{} of {} other notes stored once",
                self.other_stored_once,
                self.accepted - self.poison.min(self.accepted)
            ),
        );
        check(
            self.duplicates_with_new_event_id == 0,
            format!("{} repeated notifications with a new eventId", self.duplicates_with_new_event_id),
        );
        check(self.drained, "the pipeline did not drain in time".into());
        failures
    }

    pub fn last_line(&self) -> String {
        format!(
            "soak: {} accepted, {} stored once, {} lost, {} duplicated, {} dead-lettered with note-failed, {} misdelivered",
            self.accepted,
            self.stored_once,
            self.lost,
            self.stored_twice,
            self.dead_lettered_with_note_failed,
            self.misdelivered
        )
    }

    pub fn print(&self) {
        let per_note = |n: u64| n as f64 / self.accepted.max(1) as f64;
        println!(
            "soak: {} notes from {} users, fault plan {}",
            self.notes,
            self.users,
            self.plan.as_deref().unwrap_or("none")
        );
        println!("  accepted (202)                         {}", self.accepted);
        println!("  refused                                {}", self.refused);
        println!("  stored exactly once                    {}", self.stored_once);
        println!("  stored twice                           {}", self.stored_twice);
        println!("  lost                                   {}", self.lost);
        println!(
            "  dead-lettered with note-failed         {} (poison: {} of {})",
            self.dead_lettered_with_note_failed, self.poison_dead_lettered_with_note_failed, self.poison
        );
        println!("  other notes stored once                {}", self.other_stored_once);
        println!("  owners notified                        {} of {}", self.owners_notified, self.accepted);
        println!(
            "  repeated notifications                 {} ({} with a new eventId)",
            self.duplicate_notifications, self.duplicates_with_new_event_id
        );
        println!("  misdelivered                           {}", self.misdelivered);
        println!("  listener reconnects                    {}", self.reconnects);
        println!("  redriven from the DLQ                  {}", self.redriven);
        let ms = |v: Option<f64>| v.map(|v| format!("{v:.1} ms")).unwrap_or_else(|| "-".into());
        println!("  POST -> owner's note-saved             p50 {}, p99 {}", ms(self.p50_ms), ms(self.p99_ms));
        println!(
            "  drained in                             {:.1} s ({:.1} notes/s end to end); {:.1} s in all",
            self.seconds_to_drain,
            self.notes_per_second(),
            self.seconds_total
        );
        println!(
            "  AWS calls per accepted note, by API (every call the stack made from the first POST to the end of the redrive):"
        );
        for (api, n) in &self.api_calls {
            println!("    {api:<40} {:>9.3}  ({n})", per_note(*n));
        }
        println!("    {:<40} {:>9.3}", "all", per_note(self.api_calls.values().sum()));
        if !self.injected.is_empty() {
            println!("  faults injected (these calls never reached the emulators):");
            for (what, n) in &self.injected {
                println!("    {what:<50} {n}");
            }
        }
        for failure in self.failures() {
            println!("  MISSED: {failure}");
        }
        println!("{}", self.last_line());
    }
}

fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// Messages waiting or in flight in a queue (an operator's view).
async fn queue_depth(sqs: &aws_sdk_sqs::Client, url: &str) -> Option<u64> {
    use aws_sdk_sqs::types::QueueAttributeName as A;
    let out = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(A::ApproximateNumberOfMessages)
        .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
        .attribute_names(A::ApproximateNumberOfMessagesDelayed)
        .send()
        .await
        .ok()?;
    let attributes = out.attributes?;
    Some(
        [
            A::ApproximateNumberOfMessages,
            A::ApproximateNumberOfMessagesNotVisible,
            A::ApproximateNumberOfMessagesDelayed,
        ]
        .iter()
        .map(|a| attributes.get(a).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0))
        .sum(),
    )
}

/// Waits until both queues stay empty for 3 checks in a row; `false` if `limit` passes first.
async fn drain(sqs: &aws_sdk_sqs::Client, queues: &[&str], limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    let mut empty_in_a_row = 0;
    while Instant::now() < deadline {
        let mut total = 0;
        for url in queues {
            total += queue_depth(sqs, url).await.unwrap_or(1);
        }
        empty_in_a_row = if total == 0 { empty_in_a_row + 1 } else { 0 };
        if empty_in_a_row >= 3 {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    false
}

/// The note ids in the DLQ, read without removing them (each is hidden for a while, then back).
async fn dead_lettered(sqs: &aws_sdk_sqs::Client, dlq_url: &str) -> HashSet<String> {
    let mut ids = HashSet::new();
    for _ in 0..10_000 {
        let Ok(out) = sqs
            .receive_message()
            .queue_url(dlq_url)
            .max_number_of_messages(10)
            .visibility_timeout(300)
            .wait_time_seconds(1)
            .send()
            .await
        else {
            break;
        };
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() {
            break;
        }
        for m in messages {
            if let Some(id) = m
                .body
                .as_deref()
                .and_then(|b| serde_json::from_str::<Value>(b).ok())
                .and_then(|b| b["detail"]["noteId"].as_str().map(str::to_owned))
            {
                ids.insert(id);
            }
        }
    }
    ids
}

/// Every note of a listing, following cursors (at most 1,000 pages).
async fn list_all(stack: &Stack, path: &str, token: Option<&str>) -> Result<Vec<String>, String> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..1_000 {
        let url = match &cursor {
            Some(c) => format!("{path}?limit=100&cursor={c}"),
            None => format!("{path}?limit=100"),
        };
        let (status, page) = stack.call(reqwest::Method::GET, &url, token, None).await;
        if status != 200 {
            return Err(format!("GET {url}: {status} {page}"));
        }
        ids.extend(
            page["notes"].as_array().into_iter().flatten().filter_map(|n| n["noteId"].as_str().map(str::to_owned)),
        );
        match page["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return Ok(ids),
        }
    }
    Err(format!("{path}: more than 1,000 pages"))
}

/// Runs a soak and reconciles it.
pub async fn run(config: SoakConfig) -> Result<SoakReport, String> {
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
    let tokens: Vec<String> = futures::stream::iter(0..config.users)
        .map(|i| {
            let stack = &stack;
            let run_id = &run_id;
            async move { stack.user(&format!("{run_id}-u{i}")).await }
        })
        .buffered(8)
        .collect()
        .await;
    let stop = Arc::new(AtomicBool::new(false));
    let mut listeners = Vec::new();
    for token in &tokens {
        listeners.push(listen(stack.running.ws_url(), token.clone(), stop.clone()).await?);
    }

    // Notes from every user at once, `concurrency` POSTs in flight. Calls are counted from here:
    // provisioning, signups and connections are not the notes' calls.
    let calls_before = stack.running.api_calls.snapshot();
    let started = Instant::now();
    let refused = AtomicUsize::new(0);
    let posted: Vec<Posted> = futures::stream::iter(0..config.notes)
        .map(|i| {
            let (stack, tokens, refused) = (&stack, &tokens, &refused);
            let owner = i % config.users;
            let poison = i % config.poison_every == config.poison_every / 2;
            let public = i % config.public_every == 3 % config.public_every;
            async move {
                let content =
                    if poison { format!("soak note {i} {TRANSIENT_FAULT_MARKER}") } else { format!("soak note {i}") };
                let sent = Instant::now();
                let (status, body) = stack
                    .call(
                        reqwest::Method::POST,
                        "/notes",
                        Some(&tokens[owner]),
                        Some(json!({"content": content, "isPublic": public})),
                    )
                    .await;
                match (status, body["noteId"].as_str()) {
                    (202, Some(id)) => Some(Posted { note_id: id.to_owned(), owner, public, poison, sent }),
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

    // Drain, then the operator's fix (the plan's faults off; poison stays poison) and one redrive.
    let queues = [resources.note_queue_url.as_str(), resources.notify_queue_url.as_str()];
    let drained_first = drain(&sqs, &queues, config.drain_limit).await;
    let seconds_to_drain = started.elapsed().as_secs_f64();
    if let Some(faults) = &stack.running.fault_plan {
        faults.set(false);
    }
    let redriven = stack.running.redrive_note_dlq().await?;
    // A redriven poison note needs its three receives again before it is back in the DLQ.
    tokio::time::sleep(Duration::from_secs(u64::from(config.visibility_timeout_seconds))).await;
    let drained_again = drain(&sqs, &queues, config.drain_limit).await;
    let seconds_total = started.elapsed().as_secs_f64();
    let mut api_calls = stack.running.api_calls.snapshot();
    for (api, n) in &calls_before {
        if let Some(count) = api_calls.get_mut(api) {
            *count -= (*n).min(*count);
        }
    }
    api_calls.retain(|_, n| *n > 0);
    let injected = stack.running.fault_plan.as_ref().map(|f| f.injected()).unwrap_or_default();
    // The last pushes reach the sockets.
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::SeqCst);

    // Reconcile: the table through the API, the DLQ, what each listener heard.
    let mut stored: HashMap<String, usize> = HashMap::new();
    for token in &tokens {
        for id in list_all(&stack, "/notes", Some(token)).await? {
            *stored.entry(id).or_default() += 1;
        }
    }
    let mut in_feed: HashMap<String, usize> = HashMap::new();
    for id in list_all(&stack, "/notes/public", None).await? {
        *in_feed.entry(id).or_default() += 1;
    }
    let in_dlq = dead_lettered(&sqs, &resources.note_dlq_url).await;

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
        injected,
        ..SoakReport::default()
    };
    // (listener, note, event type) -> event ids heard; owners' first note-saved time.
    let mut heard: HashMap<(usize, String, String), Vec<String>> = HashMap::new();
    let mut first_saved: HashMap<String, Instant> = HashMap::new();
    let mut owner_failed: HashSet<String> = HashSet::new();
    for (user, listener) in listeners.iter().enumerate() {
        listener.task.abort();
        report.reconnects += listener.reconnects.load(Ordering::SeqCst).min(MAX_RECONNECTS);
        for Received { at, message } in listener.received.lock().unwrap().iter() {
            let (Some(note_id), Some(event_type)) = (message["noteId"].as_str(), message["eventType"].as_str()) else {
                continue;
            };
            let Some(note) = by_id.get(note_id) else { continue };
            heard
                .entry((user, note_id.to_owned(), event_type.to_owned()))
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
        let dead_with_failed = copies == 0 && in_dlq.contains(&note.note_id) && owner_failed.contains(&note.note_id);
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
        }
        if copies > 0 && note.poison {
            report.poison_stored += 1;
        }
        if first_saved.contains_key(&note.note_id) || (copies == 0 && owner_failed.contains(&note.note_id)) {
            report.owners_notified += 1;
        }
        if let Some(at) = first_saved.get(&note.note_id) {
            latencies.push(at.duration_since(note.sent).as_secs_f64() * 1e3);
        }
    }
    latencies.sort_by(f64::total_cmp);
    report.p50_ms = percentile(&latencies, 50.0);
    report.p99_ms = percentile(&latencies, 99.0);
    Ok(report)
}
