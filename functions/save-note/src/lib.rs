//! `save-note`: consumes batches of `note-created` events from SQS and stores each note once,
//! or records why it could not be stored. It publishes nothing: the table's stream is the
//! outbox, and `publish-changes` announces what was committed (`note-saved` for a stored note,
//! `note-failed` for a recorded failure).
//!
//! Each record stands alone (the queue trigger, `notes_core::edge::function::QueueFunction`,
//! handles a batch's records concurrently and reports only those worth retrying), so one bad
//! message never fails its batch-mates.
//!
//! | what happened | answer |
//! | --- | --- |
//! | stored now (over its recorded failure, if a redrive), or stored by an earlier delivery | acknowledge |
//! | note deleted or dismissed since | acknowledge, store nothing |
//! | event fails validation, the table refuses the write for good | record the failure, acknowledge |
//! | `note-created` older than a tombstone covers (`Topology::note_created_lifetime_seconds`) | store nothing, record nothing, acknowledge (counted as `NoteCreatedTooOld`) |
//! | throttling, network (transient) | report the item: SQS redelivers it, the DLQ takes it after the queue's `maxReceiveCount` receives |
//! | a transient failure on the last receive | as above, and record the failure first, so the owner is not left waiting |
//! | body with no note identity at all | report the item, so it reaches the DLQ for an operator |
//!
//! A failure is recorded only where the note's key holds nothing (one conditional write), so a
//! note that is stored is never announced as failed, whichever delivery stored it. The record
//! stays in the owner's partition for as long as a redrive could still store the note: a redrive
//! that stores it replaces the failure (and the stream announces `note-saved`), a dismiss
//! replaces it with a tombstone.

use std::sync::Arc;

use async_trait::async_trait;
use aws_lambda_events::event::sqs::SqsMessage;
use notes_core::domain::events::{EVENT_SOURCE, Envelope, EventType, NoteEvent};
use notes_core::domain::lifecycle::{FailedNote, Provenance};
use notes_core::domain::{NoteId, Timestamp, Username};
use notes_core::edge::config::ConfigError;
use notes_core::edge::function::{Disposition, Function, Queue, QueueFunction, Settings};
use notes_core::ports::{FailureOutcome, NoteStore, SaveOutcome, StoreError};
use notes_core::telemetry::{self, PerNote, Unit, metric};
use notes_core::topology::topology;
use serde_json::Value;
use uuid::Uuid;

pub const INVALID_NOTE_MESSAGE: &str = "Your note was not saved because it is not a valid note.";
pub const REFUSED_MESSAGE: &str = "Your note was not saved because it could not be stored.";
pub const DEAD_LETTER_MESSAGE: &str =
    "Your note could not be saved because the service kept failing. Please try again in a moment.";

pub struct SaveNote {
    notes: Arc<dyn NoteStore>,
}

/// A record's body, read as far as it could be.
enum Parsed {
    Created(NoteEvent),
    /// Not a note-created this function handles, yet harmless: acknowledged.
    NotOurs(String),
    /// Invalid, but it names a note and an owner, who can be told.
    Invalid {
        envelope: Envelope,
        reason: String,
    },
    /// Nothing in it says whose note it was.
    Unidentifiable(String),
}

impl Parsed {
    /// Whose note it was, if the record says.
    fn owner(&self) -> Option<&Envelope> {
        match self {
            Parsed::Created(created) => Some(&created.envelope),
            Parsed::Invalid { envelope, .. } => Some(envelope),
            Parsed::NotOurs(_) | Parsed::Unidentifiable(_) => None,
        }
    }
}

impl SaveNote {
    pub fn new(notes: Arc<dyn NoteStore>) -> Self {
        Self { notes }
    }

    async fn process(&self, record: &SqsMessage, saved: &PerNote) -> Disposition {
        match parse_record(record.body.as_deref().unwrap_or_default()) {
            Parsed::Created(created) => {
                let span = tracing::Span::current();
                span.record("noteId", tracing::field::display(created.note_id()));
                span.record("correlationId", created.correlation_id());
                self.save(&created, saved).await
            }
            Parsed::NotOurs(what) => {
                tracing::warn!(what, "acknowledged a record that is not a note-created");
                Disposition::Done
            }
            Parsed::Invalid { envelope, reason } => {
                tracing::warn!(noteId = %envelope.note_id, reason, "note-created failed validation");
                self.fail(&envelope, INVALID_NOTE_MESSAGE).await
            }
            Parsed::Unidentifiable(reason) => {
                tracing::error!(reason, "record names no note; leaving it for the dead-letter queue");
                Disposition::Retry(reason)
            }
        }
    }

    async fn save(&self, created: &NoteEvent, saved: &PerNote) -> Disposition {
        let saved_at = Timestamp::now();
        // Older than any tombstone covers (a replay, then a redrive, say): the note may have been
        // deleted and its tombstone swept, so storing it could bring back what its owner deleted.
        if too_old(&created.envelope, saved_at) {
            // Nothing is recorded either: whatever became of the note was settled long ago (stored,
            // deleted, or failed and told), and a failure recorded now, in the place of a
            // tombstone the sweep removed, would show its owner a note they deleted.
            tracing::warn!(createdAt = %created.envelope.timestamp, "note-created older than a tombstone covers; not stored");
            telemetry::count(
                metric::NOTE_CREATED_TOO_OLD,
                &[("noteId", &created.note_id().to_string()), ("correlationId", created.correlation_id())],
            );
            return Disposition::Done;
        }
        let Some(note) = created.note_to_store(saved_at) else {
            return Disposition::Done;
        };
        match self.notes.save_new(&note, &created.as_cause()).await {
            Ok(SaveOutcome::Saved) => {
                let latency = (saved_at.epoch_millis() - created.envelope.timestamp.epoch_millis()).max(0);
                saved.add(latency as f64, &note.note_id.to_string(), created.correlation_id());
                // The batch's metric line carries the ids: no line per note at the default level.
                tracing::debug!(latencyMs = latency, "note saved");
                Disposition::Done
            }
            Ok(SaveOutcome::AlreadySaved(_)) => {
                // A redelivery: the stream announced the save when it was committed.
                tracing::info!("duplicate delivery: the note was stored already");
                Disposition::Done
            }
            Ok(SaveOutcome::Deleted) => {
                tracing::info!("the note was deleted or dismissed; nothing to do");
                Disposition::Done
            }
            Err(err) if err.is_transient() => Disposition::Retry(err.to_string()),
            Err(err) => {
                tracing::error!(error = %err, "the table refuses this note for good");
                self.fail(&created.envelope, REFUSED_MESSAGE).await
            }
        }
    }

    /// Records in the note's place that it could not be stored, unless something is there
    /// already (the note itself, stored by another delivery, or its tombstone).
    async fn record_failure(&self, envelope: &Envelope, message: &str) -> Result<FailureOutcome, StoreError> {
        let now = Timestamp::now();
        let lifetime = topology().note_created_lifetime_seconds();
        // As long as a redrive can still store the note (then it would be refused as too old);
        // a day at least, so its owner has a day to read why.
        let expires_at = envelope.timestamp.plus_seconds(lifetime).max(now.plus_seconds(24 * 3600));
        let failed = FailedNote::of_created(envelope, message, now, expires_at);
        let made_by =
            Provenance { correlation_id: envelope.correlation_id.clone(), causation_id: Some(envelope.event_id) };
        let outcome = self.notes.record_failure(&failed, &made_by).await?;
        let note_id = envelope.note_id.to_string();
        match outcome {
            FailureOutcome::Recorded => telemetry::count(
                metric::NOTES_FAILED,
                &[("noteId", &note_id), ("correlationId", &envelope.correlation_id)],
            ),
            FailureOutcome::Settled => {
                tracing::info!(noteId = %note_id, "the note is stored or deleted already; no failure recorded")
            }
        }
        Ok(outcome)
    }

    /// The record failed its last receive and goes to the DLQ: its failure is recorded now, so
    /// its owner hears of it. A throttled table gets two more tries; after that the DLQ alarm and
    /// the `NoteRecordsDeadLettered` metric remain.
    async fn announce_dead_letter(&self, envelope: &Envelope) {
        if too_old(envelope, Timestamp::now()) {
            return;
        }
        for attempt in 1..=3 {
            match self.record_failure(envelope, DEAD_LETTER_MESSAGE).await {
                Ok(_) => return,
                Err(err) if err.is_transient() && attempt < 3 => {
                    tokio::time::sleep(std::time::Duration::from_millis(100 * attempt)).await;
                }
                Err(err) => {
                    tracing::error!(error = %err, "the dead-lettered note's failure could not be recorded");
                    return;
                }
            }
        }
    }

    /// A permanent failure: record it, then let the record go. If it cannot be recorded the
    /// record is retried, so it ends in the DLQ for an operator rather than nowhere.
    async fn fail(&self, envelope: &Envelope, message: &str) -> Disposition {
        match self.record_failure(envelope, message).await {
            Ok(_) => Disposition::Done,
            Err(err) => Disposition::Retry(err.to_string()),
        }
    }
}

impl Function for SaveNote {
    const NAME: &'static str = env!("CARGO_PKG_NAME");
    type Trigger = Queue;

    async fn build(settings: &Settings) -> Result<Self, ConfigError> {
        Ok(Self::new(settings.notes()?))
    }
}

#[async_trait]
impl QueueFunction for SaveNote {
    const MAX_CONCURRENT_RECORDS: usize = 8;

    /// `NotesSaved` and each stored note's latency.
    fn batch_metric() -> PerNote {
        PerNote::new(metric::PROCESSING_LATENCY, Unit::Milliseconds, Some(metric::NOTES_SAVED))
    }

    async fn handle(&self, record: &SqsMessage, saved: &PerNote) -> Disposition {
        self.process(record, saved).await
    }

    /// The owner hears of it now, if the record names one.
    async fn dead_lettered(&self, record: &SqsMessage, _reason: &str) {
        if let Some(envelope) = parse_record(record.body.as_deref().unwrap_or_default()).owner() {
            self.announce_dead_letter(envelope).await;
        }
    }
}

/// Whether the `note-created` is older than a tombstone covers at `now`
/// (`Topology::note_created_lifetime_seconds`).
fn too_old(envelope: &Envelope, now: Timestamp) -> bool {
    now.epoch_seconds() - envelope.timestamp.epoch_seconds() > topology().note_created_lifetime_seconds()
}

/// Reads an SQS body: the EventBridge event the rule put there, whose `detail` is the note event.
fn parse_record(body: &str) -> Parsed {
    let envelope: Value = match serde_json::from_str(body) {
        Ok(v) => v,
        Err(e) => return Parsed::Unidentifiable(format!("the body is not JSON: {e}")),
    };
    let Some(detail) = envelope.get("detail").filter(|d| d.is_object()) else {
        return Parsed::Unidentifiable("the body is not an EventBridge event with a detail".into());
    };
    let source = envelope.get("source").and_then(Value::as_str).unwrap_or_default();
    let event_type = detail.get("eventType").and_then(Value::as_str).unwrap_or_default();
    if source != EVENT_SOURCE || (event_type != EventType::NoteCreated.as_str() && is_catalog_type(event_type)) {
        return Parsed::NotOurs(format!("{source}/{event_type}"));
    }
    match NoteEvent::from_detail(detail) {
        Ok(event) if event.event_type() == EventType::NoteCreated => Parsed::Created(event),
        Ok(event) => Parsed::NotOurs(event.event_type().as_str().into()),
        Err(err) => match identity_of(detail) {
            Some(envelope) => Parsed::Invalid { envelope, reason: err.to_string() },
            None => Parsed::Unidentifiable(err.to_string()),
        },
    }
}

fn is_catalog_type(name: &str) -> bool {
    EventType::ALL.iter().any(|k| k.as_str() == name)
}

/// As much of the envelope as an invalid event still gives: enough to tell its owner.
fn identity_of(detail: &Value) -> Option<Envelope> {
    let field = |name: &str| detail.get(name).and_then(Value::as_str);
    let note_id = NoteId::parse(field("noteId")?).ok()?;
    let username = Username::parse(field("username")?).ok()?;
    // Without a usable eventId, one is derived from the note id so a retry yields the same one.
    let event_id = field("eventId")
        .and_then(|id| Uuid::try_parse(id).ok())
        .unwrap_or_else(|| Uuid::new_v5(&Uuid::NAMESPACE_OID, note_id.to_string().as_bytes()));
    let correlation_id = field("correlationId").filter(|c| !c.is_empty()).unwrap_or("unknown").to_owned();
    Some(Envelope {
        event_version: notes_core::domain::events::EVENT_VERSION,
        event_id,
        timestamp: Timestamp::now(),
        correlation_id,
        causation_id: None,
        note_id,
        username,
    })
}
