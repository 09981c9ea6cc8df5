//! `save-note`: consumes batches of `note-created` events from SQS, stores each note once and
//! publishes `note-saved` or `note-failed`.
//!
//! Each record stands alone: records of a batch are processed concurrently (with a bound), and
//! the answer lists in `batchItemFailures` only the records worth retrying, so one bad message
//! never fails its batch-mates.
//!
//! | what happened | answer |
//! | --- | --- |
//! | stored now, or stored by an earlier delivery | publish `note-saved` (same `eventId` both times), acknowledge |
//! | event fails validation, owner gone, the table refuses the write for good | publish `note-failed`, acknowledge |
//! | note deleted since an earlier delivery stored it | acknowledge, store nothing |
//! | throttling, network, bus down (transient) | report the item: SQS redelivers it, the DLQ takes it after 3 receives |
//! | a transient failure on the last receive | as above, and publish `note-failed` first, so the owner is not left waiting |
//! | body with no note identity at all | report the item, so it reaches the DLQ for an operator |
//!
//! A dead-lettered note is announced from here, on its last receive, rather than by a consumer
//! of the DLQ: this function already holds the note's identity and the reason, no other function
//! or permission is needed, and the message stays in the DLQ untouched for an operator to redrive
//! (a redriven note that then saves publishes `note-saved`, which replaces the failure).

use std::sync::Arc;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use futures::StreamExt as _;
use notes_core::config::ConfigError;
use notes_core::domain::{Timestamp, Username};
use notes_core::events::{EVENT_SOURCE, Envelope, EventType, NoteEvent};
use notes_core::function::{Function, Settings};
use notes_core::ports::{EventPublisher, NoteStore, SaveOutcome};
use notes_core::telemetry::{self, PerNote, Unit, metric};
use notes_core::{domain::NoteId, topology::topology};
use serde_json::Value;
use tracing::Instrument as _;
use uuid::Uuid;

/// Records of one batch handled at once; the rest wait for a free slot.
pub const MAX_CONCURRENT_RECORDS: usize = 8;

pub const INVALID_NOTE_MESSAGE: &str = "Your note was not saved because it is not a valid note.";
pub const REFUSED_MESSAGE: &str = "Your note was not saved because it could not be stored.";
pub const DEAD_LETTER_MESSAGE: &str =
    "Your note could not be saved because the service kept failing. Please try again in a moment.";

pub struct SaveNote {
    notes: Arc<dyn NoteStore>,
    bus: Arc<dyn EventPublisher>,
}

/// What became of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Disposition {
    /// Done with: delete it from the queue.
    Acknowledge,
    /// Worth another try: report it in `batchItemFailures`. `owner` is the note's envelope when
    /// the record names one, to tell the owner if this was the last try.
    Retry { reason: String, owner: Option<Box<Envelope>> },
}

impl Disposition {
    fn retry(reason: impl ToString, envelope: &Envelope) -> Self {
        Disposition::Retry { reason: reason.to_string(), owner: Some(Box::new(envelope.clone())) }
    }
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

impl SaveNote {
    pub fn new(notes: Arc<dyn NoteStore>, bus: Arc<dyn EventPublisher>) -> Self {
        Self { notes, bus }
    }

    pub async fn handle(&self, batch: SqsEvent) -> SqsBatchResponse {
        // One metric line per invocation: `NotesSaved` and each stored note's latency.
        let saved = PerNote::new(metric::PROCESSING_LATENCY, Unit::Milliseconds, Some(metric::NOTES_SAVED));
        let saved = &saved;
        let failures: Vec<BatchItemFailure> = futures::stream::iter(batch.records)
            .map(|record| async move {
                let id = record.message_id.clone().unwrap_or_default();
                let span = tracing::info_span!("record", messageId = %id, noteId = tracing::field::Empty, correlationId = tracing::field::Empty);
                let disposition = self.process(&record, saved).instrument(span).await;
                (id, record, disposition)
            })
            .buffer_unordered(MAX_CONCURRENT_RECORDS)
            .filter_map(|(id, record, disposition)| async move {
                match disposition {
                    Disposition::Acknowledge => None,
                    Disposition::Retry { reason, owner } => {
                        if report_retry(&record, &reason)
                            && let Some(envelope) = owner
                        {
                            self.announce_dead_letter(&envelope).await;
                        }
                        let mut failure = BatchItemFailure::default();
                        failure.item_identifier = id;
                        Some(failure)
                    }
                }
            })
            .collect()
            .await;
        saved.emit();
        let mut response = SqsBatchResponse::default();
        response.batch_item_failures = failures;
        response
    }

    async fn process(&self, record: &SqsMessage, saved: &PerNote) -> Disposition {
        let body = record.body.as_deref().unwrap_or_default();
        match parse_record(body) {
            Parsed::Created(created) => {
                let span = tracing::Span::current();
                span.record("noteId", tracing::field::display(created.note_id()));
                span.record("correlationId", created.correlation_id());
                self.save(&created, saved).await
            }
            Parsed::NotOurs(what) => {
                tracing::warn!(what, "acknowledged a record that is not a note-created");
                Disposition::Acknowledge
            }
            Parsed::Invalid { envelope, reason } => {
                tracing::warn!(noteId = %envelope.note_id, reason, "note-created failed validation");
                self.fail(&envelope, INVALID_NOTE_MESSAGE).await
            }
            Parsed::Unidentifiable(reason) => {
                tracing::error!(reason, "record names no note; leaving it for the dead-letter queue");
                Disposition::Retry { reason, owner: None }
            }
        }
    }

    async fn save(&self, created: &NoteEvent, saved: &PerNote) -> Disposition {
        let saved_at = Timestamp::now();
        let Some(note) = created.note_to_store(saved_at) else {
            return Disposition::Acknowledge;
        };
        let stored = match self.notes.save_new(&note).await {
            Ok(SaveOutcome::Saved) => {
                let latency = (saved_at.epoch_millis() - created.envelope.timestamp.epoch_millis()).max(0);
                saved.add(latency as f64, &note.note_id.to_string(), created.correlation_id());
                // The batch's metric line carries the ids: no line per note at the default level.
                tracing::debug!(latencyMs = latency, "note saved");
                note
            }
            Ok(SaveOutcome::AlreadySaved(existing)) => {
                // A redelivery. The note-saved is published again, identical to the first
                // (derived eventId, stored savedAt): the first publish may not have happened.
                tracing::info!("duplicate delivery: the note was stored already");
                existing
            }
            Ok(SaveOutcome::Deleted) => {
                tracing::info!("the note was deleted after it was stored; nothing to do");
                return Disposition::Acknowledge;
            }
            Err(err) if err.is_transient() => return Disposition::retry(err, &created.envelope),
            Err(err) => {
                tracing::error!(error = %err, "the table refuses this note for good");
                return self.fail(&created.envelope, REFUSED_MESSAGE).await;
            }
        };
        match self.bus.publish(&[NoteEvent::note_saved(created, &stored)]).await {
            Ok(()) => Disposition::Acknowledge,
            Err(err) => Disposition::retry(err, &created.envelope),
        }
    }

    /// The record failed its last receive and goes to the DLQ: its owner hears of it now. If
    /// even this publish fails, the DLQ alarm and the `NoteRecordsDeadLettered` metric remain.
    async fn announce_dead_letter(&self, envelope: &Envelope) {
        let failed = NoteEvent::note_failed(envelope, DEAD_LETTER_MESSAGE, Timestamp::now());
        match self.bus.publish(&[failed]).await {
            Ok(()) => telemetry::count(
                metric::NOTES_FAILED,
                &[("noteId", &envelope.note_id.to_string()), ("correlationId", &envelope.correlation_id)],
            ),
            Err(err) => tracing::error!(error = %err, "the dead-lettered note's note-failed could not be published"),
        }
    }

    /// A permanent failure: tell the owner through `note-failed`, then let the record go.
    async fn fail(&self, envelope: &Envelope, message: &str) -> Disposition {
        let failed = NoteEvent::note_failed(envelope, message, Timestamp::now());
        match self.bus.publish(&[failed]).await {
            Ok(()) => {
                telemetry::count(
                    metric::NOTES_FAILED,
                    &[("noteId", &envelope.note_id.to_string()), ("correlationId", &envelope.correlation_id)],
                );
                Disposition::Acknowledge
            }
            Err(err) => Disposition::retry(err, envelope),
        }
    }
}

impl Function for SaveNote {
    const NAME: &'static str = env!("CARGO_PKG_NAME");

    async fn build(settings: &Settings) -> Result<Self, ConfigError> {
        Ok(Self::new(settings.table()?, settings.bus()?))
    }
}

/// Logs and counts a record that will be delivered again, or dead-lettered; `true` when this was
/// its last receive.
fn report_retry(record: &SqsMessage, reason: &str) -> bool {
    let receives: u32 = record.attributes.get("ApproximateReceiveCount").and_then(|v| v.parse().ok()).unwrap_or(1);
    let last_chance = receives >= topology().queues.note_created.max_receive_count;
    let id = record.message_id.as_deref().unwrap_or_default();
    if last_chance {
        tracing::error!(
            messageId = id,
            receives,
            reason,
            "record failed its last receive; it goes to the dead-letter queue"
        );
        telemetry::count(metric::RECORDS_DEAD_LETTERED, &[("messageId", id)]);
    } else {
        tracing::warn!(messageId = id, receives, reason, "record failed; SQS will deliver it again");
        telemetry::count(metric::RECORDS_RETRIED, &[("messageId", id)]);
    }
    last_chance
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
        event_version: notes_core::events::EVENT_VERSION,
        event_id,
        timestamp: Timestamp::now(),
        correlation_id,
        causation_id: None,
        note_id,
        username,
    })
}
