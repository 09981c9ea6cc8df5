//! The broadcast queue, in memory.

use std::sync::Mutex;

use async_trait::async_trait;

use crate::domain::broadcast::BroadcastMessage;
use crate::ports::{BroadcastQueue, QueueError};

/// A broadcast queue that records what it is given.
#[derive(Default)]
pub struct RecordingQueue {
    messages: Mutex<Vec<BroadcastMessage>>,
    failing: Mutex<bool>,
}

impl RecordingQueue {
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes every send fail as if SQS were unreachable.
    pub fn set_failing(&self, failing: bool) {
        *self.failing.lock().unwrap() = failing;
    }

    pub fn messages(&self) -> Vec<BroadcastMessage> {
        self.messages.lock().unwrap().clone()
    }

    /// Takes what was sent so far, as a consumer receiving it would.
    pub fn drain(&self) -> Vec<BroadcastMessage> {
        std::mem::take(&mut *self.messages.lock().unwrap())
    }
}

#[async_trait]
impl BroadcastQueue for RecordingQueue {
    async fn send(&self, messages: &[BroadcastMessage]) -> Result<(), QueueError> {
        if *self.failing.lock().unwrap() {
            return Err(QueueError::Unavailable("connection refused (injected)".into()));
        }
        self.messages.lock().unwrap().extend_from_slice(messages);
        Ok(())
    }
}
