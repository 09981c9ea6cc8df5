//! Pushing one message to many WebSocket connections, as `notify` does for a note's owner and
//! `broadcast` for one shard of the connection list.

use futures::StreamExt as _;

use crate::domain::Timestamp;
use crate::ports::{Connection, ConnectionPusher, ConnectionStore, PushError};
use crate::telemetry::{self, metric};

/// Pushes in flight at once for one message.
pub const MAX_CONCURRENT_PUSHES: usize = 32;

/// How long after its `$connect` began a connection may still be in its handshake: API Gateway
/// answers 410 to a push until `$connect`'s integration has answered, and it waits for that at
/// most its integration timeout, 29 s. A 410 from a connection younger than this says "not open
/// yet", not "gone", so its items stay; one older is gone for good.
pub const HANDSHAKE_WINDOW_SECONDS: i64 = 30;

/// What pushing one message to a set of connections came to.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pushes {
    pub sent: usize,
    pub gone: usize,
    /// Answered 410 within [`HANDSHAKE_WINDOW_SECONDS`] of connecting: not open yet, kept.
    pub opening: usize,
    /// Failed transiently: worth another try.
    pub failed: usize,
}

enum PushResult {
    Sent,
    Gone,
    Opening,
    Failed,
}

/// Pushes `payload` to each connection, [`MAX_CONCURRENT_PUSHES`] at a time. A connection that is
/// gone (410, and past its handshake) has its items removed, found through its own item, so the
/// connection's owner is cleaned up whoever the message is about. One still in its handshake
/// misses this message and keeps its items; the app reads what it missed when its socket opens.
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
            PushResult::Opening => pushes.opening += 1,
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
        Err(PushError::Gone)
            if Timestamp::now().epoch_seconds() - connection.connected_at.epoch_seconds()
                < HANDSHAKE_WINDOW_SECONDS =>
        {
            tracing::info!(connectionId = %connection.connection_id, "410 from a connection still in its handshake; kept");
            PushResult::Opening
        }
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
