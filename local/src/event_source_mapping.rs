//! Lambda's SQS event source mapping, done locally with the real handlers.
//!
//! [`run`] is the mapping of one queue function, as `eventSourceMappings` in the topology
//! declares it for the function's queue: long polling, batches of up to `batchSize` gathered for
//! at most `maximumBatchingWindowSeconds`, up to `maximumConcurrency` batches at once, each handed
//! to the function as the `SqsEvent` Lambda delivers, with the invocation's deadline (its declared
//! timeout); then only the messages not listed in `batchItemFailures` are deleted
//! ([`acknowledged`]). The rest become visible again after the visibility timeout, and the
//! queue's redrive policy moves them to the DLQ after `maxReceiveCount` receives: the same
//! retries and dead letters as in AWS, done by SQS itself. As in Lambda, a `batchItemFailures`
//! entry whose `itemIdentifier` is empty or names no message of the batch fails the whole batch.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, Message, MessageSystemAttributeName};
use notes_core::edge::function::{QueueHandler, timeout_of};
use notes_core::topology::{EventSourceMapping, topology};
use serde_json::{Value, json};

use crate::faults::Faults;
use crate::provision::QueueAddress;

/// Pollers Lambda's SQS event source mapping starts with.
const INITIAL_POLLERS: u32 = 5;

/// SQS hands out at most 10 messages per receive.
const BATCH_SIZE: i32 = 10;
const LONG_POLL_SECONDS: i32 = 20;

/// Receives a batch; `visibility` overrides the queue's visibility timeout for these messages.
pub(crate) async fn receive(sqs: &aws_sdk_sqs::Client, queue_url: &str, visibility: Option<Duration>) -> Vec<Message> {
    receive_up_to(sqs, queue_url, visibility, BATCH_SIZE, LONG_POLL_SECONDS).await
}

/// Receives up to `max` messages, waiting up to `wait_seconds` for the first.
async fn receive_up_to(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    visibility: Option<Duration>,
    max: i32,
    wait_seconds: i32,
) -> Vec<Message> {
    let result = sqs
        .receive_message()
        .queue_url(queue_url)
        .max_number_of_messages(max)
        .wait_time_seconds(wait_seconds)
        .set_visibility_timeout(visibility.map(|v| i32::try_from(v.as_secs()).unwrap_or(i32::MAX)))
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .send()
        .await;
    match result {
        Ok(out) => out.messages.unwrap_or_default(),
        Err(err) => {
            tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(err), "receive failed; retrying");
            tokio::time::sleep(Duration::from_secs(1)).await;
            Vec::new()
        }
    }
}

pub(crate) async fn delete(sqs: &aws_sdk_sqs::Client, queue_url: &str, messages: &[&Message]) {
    if messages.is_empty() {
        return;
    }
    let entries: Vec<DeleteMessageBatchRequestEntry> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| {
            DeleteMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .receipt_handle(m.receipt_handle.clone().unwrap_or_default())
                .build()
                .expect("id and receipt handle are set")
        })
        .collect();
    if let Err(err) = sqs.delete_message_batch().queue_url(queue_url).set_entries(Some(entries)).send().await {
        tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(err), "delete failed; the messages will come back");
    }
}

/// The `SqsEvent` Lambda would deliver for these messages.
pub fn sqs_event(messages: &[Message], queue_arn: &str) -> SqsEvent {
    let records: Vec<Value> = messages
        .iter()
        .map(|m| {
            let attributes: serde_json::Map<String, Value> =
                m.attributes.iter().flatten().map(|(k, v)| (k.as_str().to_owned(), Value::String(v.clone()))).collect();
            json!({
                "messageId": m.message_id,
                "receiptHandle": m.receipt_handle,
                "body": m.body,
                "attributes": attributes,
                "messageAttributes": {},
                "md5OfBody": m.md5_of_body,
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "us-east-1",
            })
        })
        .collect();
    serde_json::from_value(json!({ "Records": records })).expect("the SQS event shape")
}

/// The messages Lambda's event source mapping deletes after the function answered `response`:
/// all but those reported failed. A report naming no message of the batch (an empty or unknown
/// `itemIdentifier`) makes Lambda treat the whole batch as failed, so then none is deleted.
pub fn acknowledged<'a>(messages: &'a [Message], response: &SqsBatchResponse) -> Vec<&'a Message> {
    let ids: HashSet<&str> = messages.iter().filter_map(|m| m.message_id.as_deref()).collect();
    let failed: HashSet<&str> = response.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
    if failed.iter().any(|id| !ids.contains(id)) {
        tracing::warn!("batchItemFailures names no message of the batch; the whole batch will be retried");
        return Vec::new();
    }
    messages.iter().filter(|m| !failed.contains(m.message_id.as_deref().unwrap_or_default())).collect()
}

/// The SQS event source mapping of `function`, as the topology declares it for its queue. With a
/// fault plan, a message may be delivered a second time (in an invocation of its own, after its
/// batch, as SQS's at-least-once delivery may), and an invocation may die after handling part of
/// its batch: then nothing of the batch is deleted, and SQS delivers all of it again after the
/// visibility timeout.
pub async fn run(
    sdk: SdkConfig,
    name: &'static str,
    source: QueueAddress,
    function: Arc<dyn QueueHandler>,
    plan: Option<Arc<Faults>>,
) {
    let (_, mapping) = topology()
        .event_source_of(name)
        .unwrap_or_else(|| panic!("{name} is declared with a queue trigger and its mapping"));
    // As Lambda's event source mapping, which starts with 5 pollers and adds more only under a
    // sustained backlog, up to 5 batches (fewer if `maximumConcurrency` says so) are in the function
    // at once, each polled, handled and acknowledged on its own. More would only split the
    // emulator's messages into smaller receives, each as costly to it as a full one.
    let pollers = mapping.maximum_concurrency.clamp(1, INITIAL_POLLERS);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let function = Invoke { name, function: &*function, timeout: timeout_of(name) };
    let loops = (0..pollers).map(|_| poll(&sqs, &source, mapping, &function, plan.as_ref()));
    futures::future::join_all(loops).await;
}

/// A queue function, invoked with its declared timeout ahead.
struct Invoke<'a> {
    name: &'static str,
    function: &'a dyn QueueHandler,
    timeout: Duration,
}

impl Invoke<'_> {
    /// As Lambda does: the invocation gets its declared timeout as its deadline, and one still
    /// running then is stopped; its batch then has no answer, so nothing of it is deleted and SQS
    /// delivers all of it again.
    async fn handle(&self, event: SqsEvent) -> Option<SqsBatchResponse> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        match tokio::time::timeout_at(deadline, self.function.call(event, deadline)).await {
            Ok(response) => Some(response),
            Err(_) => {
                tracing::error!(function = self.name, timeout = ?self.timeout, "the invocation timed out; its batch comes back");
                None
            }
        }
    }
}

/// One of the event source mapping's pollers: receive a batch, hand it to the function, delete
/// what it did not report failed; again.
async fn poll(
    sqs: &aws_sdk_sqs::Client,
    source: &QueueAddress,
    mapping: &EventSourceMapping,
    function: &Invoke<'_>,
    plan: Option<&Arc<Faults>>,
) {
    let window = Duration::from_secs(u64::from(mapping.maximum_batching_window_seconds));
    let batch_size = i32::try_from(mapping.batch_size).unwrap_or(BATCH_SIZE).clamp(1, BATCH_SIZE);
    let (queue_url, queue_arn) = (source.url.as_str(), source.arn.as_str());
    loop {
        let mut messages = receive_up_to(sqs, queue_url, None, batch_size, LONG_POLL_SECONDS).await;
        if messages.is_empty() {
            continue;
        }
        // Lambda's batching window: a batch is handed over when it is full or the window has
        // passed since its first message, whichever comes first.
        let deadline = std::time::Instant::now() + window;
        while messages.len() < batch_size as usize && std::time::Instant::now() < deadline {
            let room = batch_size - i32::try_from(messages.len()).unwrap_or(batch_size);
            messages.extend(receive_up_to(sqs, queue_url, None, room, 1).await);
        }
        if let Some(faults) = plan
            && faults.happens(faults.plan().die_mid_batch)
        {
            let handled = faults.below(messages.len());
            faults.record(format!("{} died mid-batch", function.name));
            tracing::warn!(
                function = function.name,
                handled,
                of = messages.len(),
                "fault plan: the function dies mid-batch; the batch comes back"
            );
            function.handle(sqs_event(&messages[..handled], queue_arn)).await;
            continue;
        }
        if let Some(response) = function.handle(sqs_event(&messages, queue_arn)).await {
            delete(sqs, queue_url, &acknowledged(&messages, &response)).await;
        }
        if let Some(faults) = plan {
            let again: Vec<Message> =
                messages.iter().filter(|_| faults.happens(faults.plan().duplicate_delivery)).cloned().collect();
            if !again.is_empty() {
                for _ in &again {
                    faults.record("SQS duplicate delivery");
                }
                // The copy is the same message (id, body, attributes): what the function must
                // tolerate. Its own deletion is the original's, done above or still to come.
                function.handle(sqs_event(&again, queue_arn)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use aws_lambda_events::event::sqs::BatchItemFailure;

    use super::*;

    fn batch() -> Vec<Message> {
        ["m-1", "m-2", "m-3"].iter().map(|id| Message::builder().message_id(*id).receipt_handle(*id).build()).collect()
    }

    fn failures(ids: &[&str]) -> SqsBatchResponse {
        let mut response = SqsBatchResponse::default();
        for id in ids {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = (*id).to_owned();
            response.batch_item_failures.push(failure);
        }
        response
    }

    fn ids(messages: Vec<&Message>) -> Vec<&str> {
        messages.into_iter().filter_map(|m| m.message_id.as_deref()).collect()
    }

    #[test]
    fn every_message_not_reported_failed_is_deleted() {
        let messages = batch();
        assert_eq!(ids(acknowledged(&messages, &failures(&[]))), vec!["m-1", "m-2", "m-3"]);
        assert_eq!(ids(acknowledged(&messages, &failures(&["m-2"]))), vec!["m-1", "m-3"]);
    }

    #[test]
    fn an_empty_item_identifier_fails_the_whole_batch() {
        let messages = batch();
        assert!(acknowledged(&messages, &failures(&["m-2", ""])).is_empty());
    }

    #[test]
    fn an_unknown_item_identifier_fails_the_whole_batch() {
        let messages = batch();
        assert!(acknowledged(&messages, &failures(&["not-in-this-batch"])).is_empty());
    }
}
