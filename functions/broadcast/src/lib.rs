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
//! | some pushes failed transiently, or the shard could not be read | report it: SQS delivers the shard again, the DLQ takes it after the queue's `maxReceiveCount` receives |
//! | the body is not a broadcast message | report it, so it reaches the DLQ for an operator |
//!
//! A message whose detail shows a note's content is pushed only while the note is stored at the
//! version it shows (a consistent `GetItem`): by the time a shard's message is handled the note
//! may have been edited, made private or deleted, and then the newer event carries the truth.
//!
//! Duplicates are bounded by one shard: a retried message pushes again to the connections of
//! its shard that already got it, at most `maxReceiveCount − 1` times, never to other shards.
//! They carry the same `eventId`, which clients use to drop what they have seen. Recording each
//! delivered connection to skip it on a retry would cost a conditional write per connection per
//! event, more than the push it saves, to prevent something clients already tolerate.

use std::sync::Arc;

use async_trait::async_trait;
use aws_lambda_events::event::sqs::SqsMessage;
use notes_core::domain::broadcast::BroadcastMessage;
use notes_core::edge::config::ConfigError;
use notes_core::edge::function::{Disposition, Function, Queue, QueueFunction, Settings};
use notes_core::ports::push::push_all;
use notes_core::ports::{ConnectionPusher, ConnectionStore, NoteStore};
use notes_core::telemetry::{PerNote, Unit, metric};

pub struct Broadcast {
    notes: Arc<dyn NoteStore>,
    connections: Arc<dyn ConnectionStore>,
    pusher: Arc<dyn ConnectionPusher>,
}

impl Broadcast {
    pub fn new(
        notes: Arc<dyn NoteStore>,
        connections: Arc<dyn ConnectionStore>,
        pusher: Arc<dyn ConnectionPusher>,
    ) -> Self {
        Self { notes, connections, pusher }
    }

    async fn process(&self, record: &SqsMessage, sent: &PerNote) -> Disposition {
        let message = match BroadcastMessage::parse(record.body.as_deref().unwrap_or_default()) {
            Ok(message) => message,
            Err(err) => return Disposition::Retry(err.to_string()),
        };
        let span = tracing::Span::current();
        span.record("noteId", tracing::field::display(message.note_id));
        span.record("correlationId", message.correlation_id.as_str());
        if message.shows_content {
            match self.notes.get(&message.owner, message.note_id).await {
                Ok(Some(note)) if Some(note.version) == message.version => {}
                Ok(_) => {
                    tracing::info!("the note changed since or is gone; this shard's message is pushed to no one");
                    return Disposition::Done;
                }
                Err(err) => return Disposition::Retry(format!("the note could not be read: {err}")),
            }
        }
        let connections = match self.connections.in_shard(message.shard).await {
            Ok(connections) => connections,
            Err(err) => return Disposition::Retry(format!("the shard could not be read: {err}")),
        };
        let others: Vec<_> = connections.into_iter().filter(|c| c.username != message.owner).collect();
        let payload = message.detail.to_string();
        let pushes = push_all(&*self.pusher, &*self.connections, &others, payload.as_bytes()).await;
        if pushes.sent > 0 {
            sent.add(pushes.sent as f64, &message.note_id.to_string(), &message.correlation_id);
        }
        tracing::debug!(
            shard = message.shard,
            sent = pushes.sent,
            gone = pushes.gone,
            failed = pushes.failed,
            "shard pushed"
        );
        if pushes.failed > 0 {
            return Disposition::Retry(format!("{} of {} pushes failed transiently", pushes.failed, others.len()));
        }
        Disposition::Done
    }
}

impl Function for Broadcast {
    const NAME: &'static str = env!("CARGO_PKG_NAME");
    type Trigger = Queue;

    async fn build(settings: &Settings) -> Result<Self, ConfigError> {
        Ok(Self::new(settings.notes()?, settings.connections()?, settings.pusher()?))
    }
}

#[async_trait]
impl QueueFunction for Broadcast {
    /// Shards of one batch pushed at once, each with up to `push::MAX_CONCURRENT_PUSHES` in flight.
    const MAX_CONCURRENT_RECORDS: usize = 4;

    /// The pushes sent for each message.
    fn batch_metric() -> PerNote {
        PerNote::new(metric::PUSHES_SENT, Unit::Count, None)
    }

    async fn handle(&self, record: &SqsMessage, sent: &PerNote) -> Disposition {
        self.process(record, sent).await
    }
}
