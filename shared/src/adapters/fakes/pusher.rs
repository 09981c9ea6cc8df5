//! The Management API, in memory.

use std::collections::HashSet;
use std::sync::Mutex;

use async_trait::async_trait;

use crate::ports::{ConnectionPusher, PushError};

/// The Management API, recording each message sent to each connection.
#[derive(Default)]
pub struct RecordingPusher {
    sent: Mutex<Vec<(String, serde_json::Value)>>,
    gone: Mutex<HashSet<String>>,
    unavailable: Mutex<HashSet<String>>,
    /// How long each push takes (on tokio's clock, which a test may pause).
    delay: Mutex<std::time::Duration>,
}

impl RecordingPusher {
    pub fn new() -> Self {
        Self::default()
    }

    /// Pushes to this connection answer 410 Gone.
    pub fn mark_gone(&self, connection_id: &str) {
        self.gone.lock().unwrap().insert(connection_id.to_owned());
    }

    /// Pushes to this connection fail transiently.
    pub fn mark_unavailable(&self, connection_id: &str) {
        self.unavailable.lock().unwrap().insert(connection_id.to_owned());
    }

    /// Makes every push take `delay`, as a slow Management API would.
    pub fn slow(&self, delay: std::time::Duration) {
        *self.delay.lock().unwrap() = delay;
    }

    /// The connection's handshake is done: pushes reach it.
    pub fn open(&self, connection_id: &str) {
        self.gone.lock().unwrap().remove(connection_id);
    }

    pub fn heal(&self, connection_id: &str) {
        self.unavailable.lock().unwrap().remove(connection_id);
    }

    pub fn sent(&self) -> Vec<(String, serde_json::Value)> {
        self.sent.lock().unwrap().clone()
    }

    /// Connection ids that received a message, sorted, with repeats.
    pub fn recipients(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.sent().into_iter().map(|(id, _)| id).collect();
        ids.sort();
        ids
    }
}

#[async_trait]
impl ConnectionPusher for RecordingPusher {
    async fn push(&self, connection_id: &str, payload: &[u8]) -> Result<(), PushError> {
        let delay = *self.delay.lock().unwrap();
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        if self.gone.lock().unwrap().contains(connection_id) {
            return Err(PushError::Gone);
        }
        if self.unavailable.lock().unwrap().contains(connection_id) {
            return Err(PushError::Unavailable("503 (injected)".into()));
        }
        let message = serde_json::from_slice(payload).expect("pushes are JSON");
        self.sent.lock().unwrap().push((connection_id.to_owned(), message));
        Ok(())
    }

    async fn is_open(&self, connection_id: &str) -> Result<bool, PushError> {
        if self.unavailable.lock().unwrap().contains(connection_id) {
            return Err(PushError::Unavailable("503 (injected)".into()));
        }
        Ok(!self.gone.lock().unwrap().contains(connection_id))
    }
}
