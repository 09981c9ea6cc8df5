//! `broadcast`: pushes the public feed's events to every other user's WebSocket connections, one
//! shard of the connection list per message of the broadcast queue.
//!
//! `notify` sends one message per shard for each event other users may hear of
//! ([`BroadcastMessage`]); this function queries that shard (`CONNECTIONS#{n}`, a Query, never a
//! Scan) and pushes the message's detail, as it is, to each connection not owned by the note's
//! owner (`notify` sends the owner the full event).
//!
//! | what happened to a message | answer |
//! | --- | --- |
//! | every push sent, or the connection gone (410: its items are removed) | acknowledge |
//! | some pushes failed transiently, or the shard could not be read | report it: SQS delivers the shard again, the DLQ takes it after 3 receives |
//! | the body is not a broadcast message | report it, so it reaches the DLQ for an operator |
//!
//! Duplicates are bounded by one shard: a retried message pushes again to the connections of
//! its shard that already got it, at most `maxReceiveCount − 1` times, never to other shards.
//! They carry the same `eventId`, which clients use to drop what they have seen. Recording each
//! delivered connection to skip it on a retry would cost a conditional write per connection per
//! event, more than the push it saves, to prevent something clients already tolerate.

use std::sync::Arc;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use futures::StreamExt as _;
use notes_core::broadcast::BroadcastMessage;
use notes_core::config::ConfigError;
use notes_core::function::{Function, Settings};
use notes_core::ports::{ConnectionPusher, ConnectionStore};
use notes_core::push::push_all;
use notes_core::telemetry::{self, PerNote, Unit, metric};
use notes_core::topology::topology;
use tracing::Instrument as _;

/// Shards of one batch pushed at once, each with up to `MAX_CONCURRENT_PUSHES` pushes in flight.
pub const MAX_CONCURRENT_SHARDS: usize = 4;

pub struct Broadcast {
    connections: Arc<dyn ConnectionStore>,
    pusher: Arc<dyn ConnectionPusher>,
}

/// What became of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Done,
    Retry(String),
}

impl Broadcast {
    pub fn new(connections: Arc<dyn ConnectionStore>, pusher: Arc<dyn ConnectionPusher>) -> Self {
        Self { connections, pusher }
    }

    pub async fn handle(&self, batch: SqsEvent) -> SqsBatchResponse {
        // One metric line per invocation: the pushes sent for each message.
        let sent = &PerNote::new(metric::PUSHES_SENT, Unit::Count, None);
        let failures: Vec<BatchItemFailure> = futures::stream::iter(batch.records)
            .map(|record| async move {
                let id = record.message_id.clone().unwrap_or_default();
                let span = tracing::info_span!(
                    "shard",
                    messageId = %id,
                    shard = tracing::field::Empty,
                    noteId = tracing::field::Empty,
                    correlationId = tracing::field::Empty,
                );
                let outcome = self.process(&record, sent).instrument(span.clone()).await;
                match outcome {
                    Outcome::Done => None,
                    Outcome::Retry(reason) => {
                        span.in_scope(|| report_retry(&record, &reason));
                        let mut failure = BatchItemFailure::default();
                        failure.item_identifier = id;
                        Some(failure)
                    }
                }
            })
            .buffer_unordered(MAX_CONCURRENT_SHARDS)
            .filter_map(|failure| async move { failure })
            .collect()
            .await;
        sent.emit();
        let mut response = SqsBatchResponse::default();
        response.batch_item_failures = failures;
        response
    }

    async fn process(&self, record: &SqsMessage, sent: &PerNote) -> Outcome {
        let message = match BroadcastMessage::parse(record.body.as_deref().unwrap_or_default()) {
            Ok(message) => message,
            Err(err) => return Outcome::Retry(err.to_string()),
        };
        let span = tracing::Span::current();
        span.record("shard", message.shard);
        span.record("noteId", message.field("noteId"));
        span.record("correlationId", message.field("correlationId"));
        let connections = match self.connections.in_shard(message.shard).await {
            Ok(connections) => connections,
            Err(err) => return Outcome::Retry(format!("the shard could not be read: {err}")),
        };
        let others: Vec<_> = connections.into_iter().filter(|c| c.username.as_str() != message.owner()).collect();
        let payload = message.detail.to_string();
        let pushes = push_all(&*self.pusher, &*self.connections, &others, payload.as_bytes()).await;
        if pushes.sent > 0 {
            sent.add(pushes.sent as f64, message.field("noteId"), message.field("correlationId"));
        }
        tracing::debug!(sent = pushes.sent, gone = pushes.gone, failed = pushes.failed, "shard pushed");
        if pushes.failed > 0 {
            return Outcome::Retry(format!("{} of {} pushes failed transiently", pushes.failed, others.len()));
        }
        Outcome::Done
    }
}

/// Logs and counts a message handed back to SQS; on its last receive, says it goes to the DLQ.
fn report_retry(record: &SqsMessage, reason: &str) {
    let receives: u32 = record.attributes.get("ApproximateReceiveCount").and_then(|v| v.parse().ok()).unwrap_or(1);
    let id = record.message_id.as_deref().unwrap_or_default();
    telemetry::count(metric::BROADCASTS_RETRIED, &[("messageId", id)]);
    if receives >= topology().queues.broadcast_shards.max_receive_count {
        tracing::error!(
            messageId = id,
            receives,
            reason,
            "shard failed its last receive; it goes to the dead-letter queue"
        );
    } else {
        tracing::warn!(messageId = id, receives, reason, "shard failed; SQS will deliver it again");
    }
}

impl Function for Broadcast {
    const NAME: &'static str = env!("CARGO_PKG_NAME");

    async fn build(settings: &Settings) -> Result<Self, ConfigError> {
        Ok(Self::new(settings.table()?, settings.management_api()?))
    }
}
