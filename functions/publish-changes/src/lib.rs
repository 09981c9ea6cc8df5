//! `publish-changes`: the table's stream is the outbox. For each committed transition of a note's
//! key it publishes the one event that transition means, and nothing else does.
//!
//! | transition | event |
//! | --- | --- |
//! | nothing (or a failure) → a note | `note-saved` |
//! | a note → a note of a newer version | `note-updated`, `wasPublic` from the old image |
//! | anything → a tombstone | `note-deleted`, `wasPublic` from the old image (a dismiss: `false`) |
//! | a note → nothing (removed by hand) | `note-deleted` |
//! | nothing → a failure; a failure recorded anew (it failed again) | `note-failed` |
//! | a tombstone or a failure expiring (TTL); a state rewritten as it was | nothing |
//!
//! ([`NoteEvent::of_transition`] decides; the images are read by the table adapter's own code.)
//! Each event's `eventId` comes from the note id and the new state's version, so a retried batch
//! publishes the same ids and consumers drop the copies; every event carries that version, so a
//! consumer that holds a newer one drops an older event whatever order the bus delivers them in.
//!
//! A batch is one shard's records in order. They are decoded in order and published in chunks of
//! ten (one `PutEvents` each). The answer names the first record whose event was not published
//! (or whose image could not be read): Lambda retries from it, the records after it included, so
//! nothing is skipped past a failure. A record that keeps failing goes, after the mapping's
//! retries, to its on-failure queue, which an alarm watches.

use std::sync::Arc;

use async_trait::async_trait;
use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use notes_core::adapters::aws::stream::transition_of;
use notes_core::domain::Timestamp;
use notes_core::domain::events::NoteEvent;
use notes_core::edge::config::ConfigError;
use notes_core::edge::function::{Function, Settings, Stream, StreamFunction};
use notes_core::ports::EventPublisher;
use notes_core::telemetry::{PerNote, Unit, metric};

/// The most entries one `PutEvents` takes.
const PUT_EVENTS_MAX: usize = 10;

pub struct PublishChanges {
    bus: Arc<dyn EventPublisher>,
}

impl PublishChanges {
    pub fn new(bus: Arc<dyn EventPublisher>) -> Self {
        Self { bus }
    }

    /// Publishes the batch's events; the index of the first record to retry from, if any.
    async fn publish(&self, batch: &Event) -> Option<usize> {
        let mut events: Vec<(usize, NoteEvent)> = Vec::new();
        let mut unreadable = None;
        for (index, record) in batch.records.iter().enumerate() {
            match transition_of(record) {
                Ok(Some(transition)) => {
                    if let Some(event) = NoteEvent::of_transition(&transition) {
                        events.push((index, event));
                    }
                }
                Ok(None) => {}
                Err(err) => {
                    tracing::error!(
                        error = %err,
                        sequenceNumber = record.change.sequence_number.as_deref().unwrap_or_default(),
                        "a stream record could not be read; it is retried, then sent to the on-failure queue"
                    );
                    unreadable = Some(index);
                    break;
                }
            }
        }
        let chunks: Vec<&[(usize, NoteEvent)]> = events.chunks(PUT_EVENTS_MAX).collect();
        let sent = futures::future::join_all(chunks.iter().map(|chunk| async move {
            let events: Vec<NoteEvent> = chunk.iter().map(|(_, event)| event.clone()).collect();
            self.bus.publish(&events).await
        }))
        .await;
        let mut first_failed = unreadable;
        // One metric line per invocation, with every published event's note and correlation.
        let lag = PerNote::new(metric::CHANGE_PUBLISH_LAG, Unit::Milliseconds, Some(metric::CHANGES_PUBLISHED));
        let now = Timestamp::now().epoch_millis();
        for (chunk, result) in chunks.iter().zip(sent) {
            match result {
                Ok(()) => {
                    for (index, event) in chunk.iter() {
                        let committed = batch.records[*index].change.approximate_creation_date_time.timestamp_millis();
                        lag.add((now - committed).max(0) as f64, &event.note_id().to_string(), event.correlation_id());
                        tracing::debug!(
                            eventType = event.event_type().as_str(),
                            eventId = %event.envelope.event_id,
                            noteId = %event.note_id(),
                            correlationId = event.correlation_id(),
                            version = event.version(),
                            "published"
                        );
                    }
                }
                Err(err) => {
                    let from = chunk[0].0;
                    tracing::warn!(error = %err, noteId = %chunk[0].1.note_id(), "events not published; retried from their record");
                    first_failed = Some(first_failed.map_or(from, |f| f.min(from)));
                }
            }
        }
        lag.emit();
        first_failed
    }
}

impl Function for PublishChanges {
    const NAME: &'static str = env!("CARGO_PKG_NAME");
    type Trigger = Stream;

    async fn build(settings: &Settings) -> Result<Self, ConfigError> {
        Ok(Self::new(settings.events()?))
    }
}

#[async_trait]
impl StreamFunction for PublishChanges {
    async fn handle_records(&self, batch: Event) -> DynamoDbEventResponse {
        let mut response = DynamoDbEventResponse::default();
        if let Some(index) = self.publish(&batch).await {
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = batch.records[index].change.sequence_number.clone();
            response.batch_item_failures.push(failure);
        }
        response
    }
}
