//! `notify`: pushes note results to WebSocket clients through the API Gateway Management API,
//! and hands the public feed's events to the broadcast queue.
//!
//! - `note-saved`, `note-failed`, `note-updated`, `note-deleted` go to every open connection of
//!   the note's owner, pushed from here;
//! - when the note is or was public, `note-saved`, `note-updated` and `note-deleted` also go to
//!   every other open connection (the live public feed): one message per shard of the connection
//!   list goes to the broadcast queue, and `broadcast` pushes each shard's connections, skipping
//!   the owner's. A shard whose pushes fail is retried alone, and one invocation's time no longer
//!   bounds how many connections a public note reaches;
//! - what other users receive is [`NoteEvent::for_other_users`], decided here: `content` reaches
//!   only users who may read the note after the change, so a note leaving the feed reaches them
//!   without it. `broadcast` sends it on as it is;
//! - a 410 Gone removes that connection's items, found through the connection's own item, so
//!   the connection's owner is cleaned up, not the note's;
//! - an event that shows a note's content (`note-saved`, `note-updated`) is pushed only while it
//!   shows the version stored now: the note is read from the table (a consistent `GetItem`) and
//!   the event goes to no one if the note has changed since or is gone. So a late or repeated
//!   delivery, or one the bus delivered out of order, never pushes deleted text, text made
//!   private since, or an older version after a newer one; the newer event (or the
//!   `note-deleted`) carries the truth. A `note-failed` is pushed only while the failure it
//!   announces is still recorded, so a note a redrive stored is never shown as failed;
//! - the owner's pushes come first and the broadcast last: if a push fails transiently the
//!   invocation fails before anything is queued, and Lambda's asynchronous retries (then the DLQ)
//!   deliver the event again. The owner's connections that already got it get it again, with the
//!   same `eventId`, and clients drop what they have seen. Once the broadcast is queued nothing
//!   is left to fail, so a retry does not queue it twice (unless queuing itself failed).

use std::sync::Arc;

use async_trait::async_trait;

use aws_lambda_events::eventbridge::EventBridgeEvent;
use notes_core::domain::broadcast::BroadcastMessage;
use notes_core::domain::events::{EventType, NoteEvent};
use notes_core::domain::lifecycle::NoteState;
use notes_core::edge::config::ConfigError;
use notes_core::edge::function::{Function, Rule, RuleFunction, Settings};
use notes_core::ports::push::push_all;
use notes_core::ports::{BroadcastQueue, ConnectionPusher, ConnectionStore, NoteStore, QueueError, StoreError};
use notes_core::telemetry::{self, metric};
use serde_json::Value;
use tracing::Instrument as _;

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("connections could not be looked up: {0}")]
    Store(#[from] StoreError),
    #[error("{failed} of {total} pushes failed transiently; the event will be retried")]
    Pushes { failed: usize, total: usize },
    #[error("the broadcast to other users could not be queued: {0}")]
    Broadcast(#[from] QueueError),
    #[error("the event is not a note event: {0}")]
    Invalid(String),
}

/// What one invocation did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Pushes to the owner's connections that succeeded.
    pub sent: usize,
    pub gone: usize,
    /// Messages queued for `broadcast`, one per shard of the connection list.
    pub broadcast: usize,
}

pub struct Notify {
    notes: Arc<dyn NoteStore>,
    connections: Arc<dyn ConnectionStore>,
    pusher: Arc<dyn ConnectionPusher>,
    broadcast: Arc<dyn BroadcastQueue>,
}

impl Notify {
    pub fn new(
        notes: Arc<dyn NoteStore>,
        connections: Arc<dyn ConnectionStore>,
        pusher: Arc<dyn ConnectionPusher>,
        broadcast: Arc<dyn BroadcastQueue>,
    ) -> Self {
        Self { notes, connections, pusher, broadcast }
    }

    pub async fn handle(&self, event: EventBridgeEvent<Value>) -> Result<Delivery, NotifyError> {
        // An invalid event fails the invocation, so after Lambda's retries it lands in the DLQ
        // for an operator instead of vanishing.
        let note_event = NoteEvent::from_detail(&event.detail).map_err(|e| NotifyError::Invalid(e.to_string()))?;
        let span = tracing::info_span!(
            "notify",
            eventType = note_event.event_type().as_str(),
            eventId = %note_event.envelope.event_id,
            noteId = %note_event.note_id(),
            correlationId = note_event.correlation_id(),
        );
        self.deliver(&note_event).instrument(span).await
    }

    /// Why `event` no longer tells the truth about its note, if it does not: an event that shows
    /// content must show the version stored now, and a `note-failed` must not reach anyone once
    /// the note is stored (a redrive saved it) or given up. A late delivery, a retry or an
    /// event the bus delivered out of order is so dropped here.
    async fn stale(&self, event: &NoteEvent) -> Result<Option<&'static str>, StoreError> {
        let Some(version) = event.version() else { return Ok(None) };
        if event.shows_content() {
            let now = self.notes.get(event.username(), event.note_id()).await?;
            return Ok(match now {
                None => Some("the note is gone"),
                Some(note) if note.version != version => Some("the note is at another version"),
                Some(_) => None,
            });
        }
        if event.event_type() == EventType::NoteFailed {
            return Ok(match self.notes.state(event.username(), event.note_id()).await? {
                Some(NoteState::Failed(failed)) if failed.version == version => None,
                _ => Some("the note is no longer failed"),
            });
        }
        Ok(None)
    }

    async fn deliver(&self, event: &NoteEvent) -> Result<Delivery, NotifyError> {
        if event.event_type() == EventType::NoteCreated {
            tracing::warn!("note-created is not pushed to clients");
            return Ok(Delivery::default());
        }
        if let Some(stale) = self.stale(event).await? {
            // Its text is out of date, so no one gets it. But a note that left the public feed
            // did leave it, and no later event may say so to other users (a delete of the note
            // made private is announced to its owner alone): the text-free form still goes out.
            let left_the_feed = event.for_other_users().filter(|detail| detail.get("content").is_none());
            let mut delivery = Delivery::default();
            if let Some(detail) = left_the_feed {
                let messages = BroadcastMessage::for_every_shard(&detail);
                self.broadcast.send(&messages).await?;
                delivery.broadcast = messages.len();
            }
            tracing::info!(
                stale,
                broadcast = delivery.broadcast,
                "the event no longer shows the note as it is; its text pushed to no one"
            );
            return Ok(delivery);
        }
        let message = event.to_detail().to_string();
        let owners = self.connections.of_user(event.username()).await?;
        let pushes = push_all(&*self.pusher, &*self.connections, &owners, message.as_bytes()).await;
        let mut delivery = Delivery { sent: pushes.sent, gone: pushes.gone, broadcast: 0 };
        if pushes.failed > 0 {
            return Err(NotifyError::Pushes { failed: pushes.failed, total: owners.len() });
        }
        if let Some(detail) = event.for_other_users() {
            let messages = BroadcastMessage::for_every_shard(&detail);
            self.broadcast.send(&messages).await?;
            delivery.broadcast = messages.len();
        }
        let note_id = event.note_id().to_string();
        if delivery.sent > 0 {
            // The one line per event at the default level: the metric line carries the ids.
            telemetry::emit(
                &[(metric::PUSHES_SENT, delivery.sent as f64, telemetry::Unit::Count)],
                &[("noteId", &note_id), ("correlationId", event.correlation_id())],
            );
        }
        tracing::debug!(sent = delivery.sent, gone = delivery.gone, broadcast = delivery.broadcast, "event delivered");
        Ok(delivery)
    }
}

impl Function for Notify {
    const NAME: &'static str = env!("CARGO_PKG_NAME");
    type Trigger = Rule;

    async fn build(settings: &Settings) -> Result<Self, ConfigError> {
        Ok(Self::new(settings.notes()?, settings.connections()?, settings.pusher()?, settings.broadcast_queue()?))
    }
}

#[async_trait]
impl RuleFunction for Notify {
    type Error = NotifyError;

    async fn handle_event(&self, event: EventBridgeEvent<Value>) -> Result<(), NotifyError> {
        self.handle(event).await.map(|_| ())
    }
}
