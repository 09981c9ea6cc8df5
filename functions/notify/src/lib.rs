//! `notify`: pushes note results to WebSocket clients through the API Gateway Management API.
//!
//! - `note-saved`, `note-failed`, `note-updated`, `note-deleted` go to every open connection of
//!   the note's owner;
//! - when the note is or was public, `note-saved`, `note-updated` and `note-deleted` also go to
//!   every other open connection (the live public feed), found by a Query of each
//!   `CONNECTIONS#{n}` shard, never a Scan;
//! - what other users receive is [`NoteEvent::for_other_users`]: `content` reaches only users who
//!   may read the note after the change, so a note leaving the feed reaches them without it.
//!   Whether a connection is the owner's comes from the connection's own item;
//! - each connection gets a given event once per invocation (recipients are deduplicated);
//! - a 410 Gone removes that connection's items, found through the connection's own item, so
//!   the connection's owner is cleaned up, not the note's;
//! - if any push fails transiently the invocation fails, and Lambda's asynchronous retries
//!   (then the DLQ) deliver the event again. Connections that already got it get it again:
//!   the message's `eventId` is the same, and clients drop what they have seen.

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_lambda_events::eventbridge::EventBridgeEvent;
use futures::StreamExt as _;
use notes_core::config::ConfigError;
use notes_core::events::{EventType, NoteEvent};
use notes_core::function::{Function, Settings};
use notes_core::ports::{Connection, ConnectionPusher, ConnectionStore, PushError, StoreError};
use notes_core::telemetry::{self, metric};
use serde_json::Value;
use tracing::Instrument as _;

/// Pushes in flight at once for one event.
pub const MAX_CONCURRENT_PUSHES: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("connections could not be looked up: {0}")]
    Store(#[from] StoreError),
    #[error("{failed} of {total} pushes failed transiently; the event will be retried")]
    Pushes { failed: usize, total: usize },
    #[error("the event is not a note event: {0}")]
    Invalid(String),
}

/// What one invocation did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub sent: usize,
    pub gone: usize,
}

pub struct Notify {
    connections: Arc<dyn ConnectionStore>,
    pusher: Arc<dyn ConnectionPusher>,
}

enum PushResult {
    Sent,
    Gone,
    Failed,
}

impl Notify {
    pub fn new(connections: Arc<dyn ConnectionStore>, pusher: Arc<dyn ConnectionPusher>) -> Self {
        Self { connections, pusher }
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

    async fn deliver(&self, event: &NoteEvent) -> Result<Delivery, NotifyError> {
        if event.event_type() == EventType::NoteCreated {
            tracing::warn!("note-created is not pushed to clients");
            return Ok(Delivery::default());
        }
        let owner_message: Arc<str> = event.to_detail().to_string().into();
        let others_message: Option<Arc<str>> = event.for_other_users().map(|detail| detail.to_string().into());
        let recipients = self.recipients(event, others_message.is_some()).await?;
        let pushes: Vec<(Connection, Arc<str>)> = recipients
            .into_values()
            .filter_map(|connection| {
                let message = if &connection.username == event.username() {
                    Some(&owner_message)
                } else {
                    others_message.as_ref()
                };
                message.map(|message| (connection, message.clone()))
            })
            .collect();
        let results: Vec<PushResult> = futures::stream::iter(pushes)
            .map(|(connection, message)| async move { self.push_one(&connection, message.as_bytes()).await })
            .buffer_unordered(MAX_CONCURRENT_PUSHES)
            .collect()
            .await;

        let mut delivery = Delivery::default();
        let mut failed = 0;
        for result in &results {
            match result {
                PushResult::Sent => delivery.sent += 1,
                PushResult::Gone => delivery.gone += 1,
                PushResult::Failed => failed += 1,
            }
        }
        let note_id = event.note_id().to_string();
        if delivery.sent > 0 {
            // The one line per event at the default level: the metric line carries the ids.
            telemetry::emit(
                &[(metric::PUSHES_SENT, delivery.sent as f64, telemetry::Unit::Count)],
                &[("noteId", &note_id), ("correlationId", event.correlation_id())],
            );
        }
        tracing::debug!(sent = delivery.sent, gone = delivery.gone, failed, "event pushed");
        if failed > 0 {
            return Err(NotifyError::Pushes { failed, total: results.len() });
        }
        Ok(delivery)
    }

    /// The owner's connections, plus everyone's when other users may hear of it; keyed by
    /// connection id, so a connection that is both gets the event once.
    async fn recipients(
        &self,
        event: &NoteEvent,
        other_users_too: bool,
    ) -> Result<BTreeMap<String, Connection>, StoreError> {
        let mut recipients: BTreeMap<String, Connection> = BTreeMap::new();
        for connection in self.connections.of_user(event.username()).await? {
            recipients.insert(connection.connection_id.clone(), connection);
        }
        if other_users_too {
            for connection in self.connections.all().await? {
                recipients.entry(connection.connection_id.clone()).or_insert(connection);
            }
        }
        Ok(recipients)
    }

    async fn push_one(&self, connection: &Connection, payload: &[u8]) -> PushResult {
        match self.pusher.push(&connection.connection_id, payload).await {
            Ok(()) => PushResult::Sent,
            Err(PushError::Gone) => {
                telemetry::count(metric::CONNECTIONS_GONE, &[("connectionId", &connection.connection_id)]);
                match self.connections.remove(&connection.connection_id).await {
                    Ok(_) => {
                        tracing::info!(connectionId = %connection.connection_id, "gone connection removed")
                    }
                    // Not worth a retry of the whole event: its items expire by TTL.
                    Err(err) => {
                        tracing::warn!(connectionId = %connection.connection_id, error = %err, "gone connection not removed")
                    }
                }
                PushResult::Gone
            }
            Err(PushError::Unavailable(reason)) => {
                tracing::warn!(connectionId = %connection.connection_id, reason, "push failed");
                PushResult::Failed
            }
        }
    }
}

impl Function for Notify {
    const NAME: &'static str = env!("CARGO_PKG_NAME");

    async fn build(settings: &Settings) -> Result<Self, ConfigError> {
        Ok(Self::new(settings.table()?, settings.management_api()?))
    }
}
