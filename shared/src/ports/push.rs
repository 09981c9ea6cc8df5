//! Pushing one message to many WebSocket connections, as `notify` does for a note's owner and
//! `broadcast` for one shard of the connection list.

use futures::StreamExt as _;

use crate::ports::{Connection, ConnectionPusher, ConnectionStore, PushError};
use crate::telemetry::{self, metric};

/// Pushes in flight at once for one message.
pub const MAX_CONCURRENT_PUSHES: usize = 32;

/// What pushing one message to a set of connections came to.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pushes {
    pub sent: usize,
    pub gone: usize,
    /// Failed transiently: worth another try.
    pub failed: usize,
}

enum PushResult {
    Sent,
    Gone,
    Failed,
}

/// Pushes `payload` to each connection, [`MAX_CONCURRENT_PUSHES`] at a time. A connection that is
/// gone (410) has its items removed, found through its own item, so the connection's owner is
/// cleaned up whoever the message is about.
pub async fn push_all(
    pusher: &dyn ConnectionPusher,
    connections: &dyn ConnectionStore,
    to: &[Connection],
    payload: &[u8],
) -> Pushes {
    // The futures are made first, so they borrow `to` for one lifetime (a closure mapping the
    // stream would have to be generic over it, which a spawned task cannot prove).
    let pushes: Vec<_> = to.iter().map(|connection| push_one(pusher, connections, connection, payload)).collect();
    let results: Vec<PushResult> =
        futures::stream::iter(pushes).buffer_unordered(MAX_CONCURRENT_PUSHES).collect().await;
    let mut pushes = Pushes::default();
    for result in results {
        match result {
            PushResult::Sent => pushes.sent += 1,
            PushResult::Gone => pushes.gone += 1,
            PushResult::Failed => pushes.failed += 1,
        }
    }
    pushes
}

async fn push_one(
    pusher: &dyn ConnectionPusher,
    connections: &dyn ConnectionStore,
    connection: &Connection,
    payload: &[u8],
) -> PushResult {
    match pusher.push(&connection.connection_id, payload).await {
        Ok(()) => PushResult::Sent,
        Err(PushError::Gone) => {
            telemetry::count(metric::CONNECTIONS_GONE, &[("connectionId", &connection.connection_id)]);
            match connections.remove(&connection.connection_id).await {
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
