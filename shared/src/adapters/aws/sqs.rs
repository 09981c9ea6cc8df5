//! The broadcast queue, through `aws-sdk-sqs` (`SendMessageBatch`).

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;

use crate::domain::broadcast::BroadcastMessage;
use crate::ports::{BroadcastQueue, QueueError};

/// SendMessageBatch takes at most 10 entries per call,
const MAX_ENTRIES_PER_CALL: usize = 10;
/// and at most 256 KiB of bodies in all (the limit before SQS raised it to 1 MiB; kept, so any
/// queue accepts a batch).
const MAX_BYTES_PER_CALL: usize = 256 * 1024;
/// Sends of the entries a batch call refused, before the send fails. The SDK already retries a
/// call that fails as a whole; a call that succeeds lists the entries it refused, which only the
/// caller can send again. Sending them here, rather than failing `notify` and having its retry
/// send every shard again, keeps the shards that were accepted from getting the event twice.
const ENTRY_ATTEMPTS: usize = 3;

#[derive(Clone, Debug)]
pub struct SqsBroadcastQueue {
    client: Client,
    queue_url: String,
}

impl SqsBroadcastQueue {
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        Self { client, queue_url: queue_url.into() }
    }

    /// Sends one call's worth; returns the bodies it refused (with SQS's reason) to try again.
    async fn send_batch(&self, bodies: &[String]) -> Result<Vec<(String, String)>, QueueError> {
        let entries = bodies
            .iter()
            .enumerate()
            .map(|(i, body)| {
                SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(body)
                    .build()
                    .map_err(|e| QueueError::Unavailable(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let out = self
            .client
            .send_message_batch()
            .queue_url(&self.queue_url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| QueueError::Unavailable(DisplayErrorContext(e).to_string()))?;
        Ok(out
            .failed
            .iter()
            .filter_map(|f| {
                let body = f.id.parse::<usize>().ok().and_then(|i| bodies.get(i))?;
                Some((body.clone(), f.message.clone().unwrap_or_else(|| f.code.clone())))
            })
            .collect())
    }
}

/// Consecutive runs of `bodies` within both limits of one call.
fn calls(bodies: Vec<String>) -> Vec<Vec<String>> {
    let mut calls: Vec<Vec<String>> = Vec::new();
    let mut bytes = 0;
    for body in bodies {
        let full =
            calls.last().is_none_or(|c| c.len() == MAX_ENTRIES_PER_CALL || bytes + body.len() > MAX_BYTES_PER_CALL);
        if full {
            calls.push(Vec::new());
            bytes = 0;
        }
        bytes += body.len();
        calls.last_mut().expect("a call was just started").push(body);
    }
    calls
}

#[async_trait]
impl BroadcastQueue for SqsBroadcastQueue {
    async fn send(&self, messages: &[BroadcastMessage]) -> Result<(), QueueError> {
        let mut pending: Vec<String> = messages.iter().map(BroadcastMessage::to_body).collect();
        let mut refusal = String::new();
        for attempt in 0..ENTRY_ATTEMPTS {
            if pending.is_empty() {
                return Ok(());
            }
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
            }
            let mut refused = Vec::new();
            for call in calls(std::mem::take(&mut pending)) {
                refused.extend(self.send_batch(&call).await?);
            }
            if let Some((_, reason)) = refused.first() {
                tracing::warn!(
                    refused = refused.len(),
                    attempt,
                    reason,
                    "the queue refused messages; sending them again"
                );
                refusal = reason.clone();
            }
            pending = refused.into_iter().map(|(body, _)| body).collect();
        }
        if pending.is_empty() { Ok(()) } else { Err(QueueError::Rejected { failed: pending.len(), reason: refusal }) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_holds_at_most_ten_messages() {
        let sizes: Vec<usize> = calls(vec!["x".to_owned(); 25]).iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![10, 10, 5]);
    }

    #[test]
    fn a_call_holds_at_most_256_kib_of_bodies() {
        let body = "x".repeat(100 * 1024);
        let sizes: Vec<usize> = calls(vec![body; 5]).iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![2, 2, 1]);
    }
}
