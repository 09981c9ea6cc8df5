//! What Lambda does between a queue and a function, done locally with the real handlers.
//!
//! [`run_event_source`] is an SQS event source mapping, as `eventSourceMappings` in the topology
//! declares it for the function's queue (`save-note`'s, `broadcast`'s): long polling, batches of
//! up to `batchSize` gathered for at most `maximumBatchingWindowSeconds`, up to
//! `maximumConcurrency` batches at once, each handed to the function as the `SqsEvent` Lambda
//! delivers; then only the messages not listed in `batchItemFailures` are deleted ([`acknowledged`]). The rest become visible again
//! after the visibility timeout, and the queue's redrive policy moves them to the DLQ after
//! `maxReceiveCount` receives: the same retries and dead letters as in AWS, done by SQS itself.
//! As in Lambda, a `batchItemFailures` entry whose `itemIdentifier` is empty or names no message
//! of the batch fails the whole batch.
//!
//! [`run_notify`] stands in for EventBridge invoking `notify` asynchronously (see
//! [`crate::provision`]), through [`run_async_target`]: an attempt keeps its message invisible
//! for as long as the function may run, so no retry starts while it is still running; a failed
//! attempt is retried after the retry delay.

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, Message, MessageSystemAttributeName};
use broadcast::Broadcast;
use futures::StreamExt as _;
use notes_core::config::ConfigError;
use notes_core::function::{Function, Settings};
use notes_core::topology::{EventSourceMapping, topology};
use notify::Notify;
use save_note::SaveNote;
use serde_json::{Value, json};

use crate::Resources;
use crate::faults::{
    ConnectionDropper, FaultSwitch, Faults, FaultyNoteStore, PlannedConnectionStore, PlannedPublisher, PlannedPusher,
};
use crate::invocations::Invocations;

/// Pollers Lambda's SQS event source mapping starts with.
const INITIAL_POLLERS: u32 = 5;

/// SQS hands out at most 10 messages per receive.
const BATCH_SIZE: i32 = 10;
const LONG_POLL_SECONDS: i32 = 20;

/// Receives a batch; `visibility` overrides the queue's visibility timeout for these messages.
async fn receive(sqs: &aws_sdk_sqs::Client, queue_url: &str, visibility: Option<Duration>) -> Vec<Message> {
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

async fn delete(sqs: &aws_sdk_sqs::Client, queue_url: &str, messages: &[&Message]) {
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

/// The messages Lambda's event source mapping deletes after `save-note` answered `response`:
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

/// `save-note` as its Lambda builds it; with the poison marker or a fault plan, its table is
/// wrapped by [`FaultyNoteStore`], and with a plan its bus by [`PlannedPublisher`]. Both exist
/// only here.
pub async fn save_note(
    settings: &Settings,
    marker: Option<FaultSwitch>,
    plan: Option<Arc<Faults>>,
) -> Result<SaveNote, ConfigError> {
    if marker.is_none() && plan.is_none() {
        return SaveNote::build(settings).await;
    }
    let notes: Arc<dyn notes_core::ports::NoteStore> =
        Arc::new(FaultyNoteStore::new(settings.table()?, marker, plan.clone()));
    let mut bus: Arc<dyn notes_core::ports::EventPublisher> = settings.bus()?;
    if let Some(faults) = &plan {
        bus = Arc::new(PlannedPublisher::new(bus, faults.clone()));
    }
    Ok(SaveNote::new(notes, bus))
}

/// `notify` as its Lambda builds it; with a fault plan, its connection items and its Management
/// API are wrapped by the plan's decorators (only here).
pub async fn notify(
    settings: &Settings,
    plan: Option<(Arc<Faults>, Arc<dyn ConnectionDropper>)>,
) -> Result<Notify, ConfigError> {
    match plan {
        None => <Notify as Function>::build(settings).await,
        Some((faults, dropper)) => Ok(Notify::new(
            Arc::new(PlannedConnectionStore::new(settings.table()?, faults.clone())),
            Arc::new(PlannedPusher::new(settings.management_api()?, faults, dropper)),
            settings.broadcast_queue()?,
        )),
    }
}

/// `broadcast` as its Lambda builds it; with a fault plan, wrapped as `notify` is.
pub async fn broadcast(
    settings: &Settings,
    plan: Option<(Arc<Faults>, Arc<dyn ConnectionDropper>)>,
) -> Result<Broadcast, ConfigError> {
    match plan {
        None => <Broadcast as Function>::build(settings).await,
        Some((faults, dropper)) => Ok(Broadcast::new(
            Arc::new(PlannedConnectionStore::new(settings.table()?, faults.clone())),
            Arc::new(PlannedPusher::new(settings.management_api()?, faults, dropper)),
        )),
    }
}

/// A function an SQS event source mapping invokes: a batch in, the records to retry out.
pub trait QueueFunction: Function {
    fn handle_batch(&self, batch: SqsEvent) -> impl Future<Output = SqsBatchResponse> + Send;
}

impl QueueFunction for SaveNote {
    fn handle_batch(&self, batch: SqsEvent) -> impl Future<Output = SqsBatchResponse> + Send {
        self.handle(batch)
    }
}

impl QueueFunction for Broadcast {
    fn handle_batch(&self, batch: SqsEvent) -> impl Future<Output = SqsBatchResponse> + Send {
        self.handle(batch)
    }
}

/// The queue an event source mapping polls.
#[derive(Debug, Clone)]
pub struct EventSource {
    pub queue_url: String,
    pub queue_arn: String,
}

/// The SQS event source mapping of `function`, as the topology declares it for its queue. With a
/// fault plan, a message may be delivered a second time (in an invocation of its own, after its
/// batch, as SQS's at-least-once delivery may), and an invocation may die after handling part of
/// its batch: then nothing of the batch is deleted, and SQS delivers all of it again after the
/// visibility timeout.
pub async fn run_event_source<F: QueueFunction>(
    sdk: SdkConfig,
    source: EventSource,
    function: F,
    plan: Option<Arc<Faults>>,
    invocations: Invocations,
) {
    let (_, mapping) = topology()
        .event_source_of(F::NAME)
        .unwrap_or_else(|| panic!("{} is declared with a queue trigger and its mapping", F::NAME));
    // As Lambda's event source mapping, which starts with 5 pollers and adds more only under a
    // sustained backlog, up to 5 batches (fewer if `maximumConcurrency` says so) are in the function
    // at once, each polled, handled and acknowledged on its own. More would only split the
    // emulator's messages into smaller receives, each as costly to it as a full one.
    let pollers = mapping.maximum_concurrency.clamp(1, INITIAL_POLLERS);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let function = Counted { function: &function, invocations: &invocations };
    let loops = (0..pollers).map(|_| poll_event_source(&sqs, &source, mapping, &function, plan.as_ref()));
    futures::future::join_all(loops).await;
}

/// A queue function, each invocation counted and timed.
struct Counted<'a, F> {
    function: &'a F,
    invocations: &'a Invocations,
}

impl<F: QueueFunction> Counted<'_, F> {
    async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        self.invocations.time(F::NAME, self.function.handle_batch(event)).await
    }
}

/// One of the event source mapping's pollers: receive a batch, hand it to the function, delete
/// what it did not report failed; again.
async fn poll_event_source<F: QueueFunction>(
    sqs: &aws_sdk_sqs::Client,
    source: &EventSource,
    mapping: &EventSourceMapping,
    function: &Counted<'_, F>,
    plan: Option<&Arc<Faults>>,
) {
    let window = Duration::from_secs(u64::from(mapping.maximum_batching_window_seconds));
    let batch_size = i32::try_from(mapping.batch_size).unwrap_or(BATCH_SIZE).clamp(1, BATCH_SIZE);
    let (queue_url, queue_arn) = (source.queue_url.as_str(), source.queue_arn.as_str());
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
            faults.record(format!("{} died mid-batch", F::NAME));
            tracing::warn!(
                function = F::NAME,
                handled,
                of = messages.len(),
                "fault plan: the function dies mid-batch; the batch comes back"
            );
            function.handle(sqs_event(&messages[..handled], queue_arn)).await;
            continue;
        }
        let response = function.handle(sqs_event(&messages, queue_arn)).await;
        delete(sqs, queue_url, &acknowledged(&messages, &response)).await;
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

/// How Lambda runs an asynchronously invoked function: each attempt may run for `timeout`, and
/// a failed one is tried again `retry_delay` after it ended. `pollers` loops receive events at
/// once, each handing up to 10 to the function concurrently: Lambda runs as many asynchronous
/// invocations at once as the account's concurrency allows, so one slow event (a broadcast)
/// must not hold the others back, and the stand-in queue must not grow behind it.
#[derive(Debug, Clone, Copy)]
pub struct AsyncInvocation {
    pub timeout: Duration,
    pub retry_delay: Duration,
    pub pollers: usize,
}

/// How many receive loops stand in for `notify`'s asynchronous invocations.
pub const NOTIFY_POLLERS: usize = 8;

/// Extra invisibility beyond the function's timeout, so an attempt always ends (or is cut off)
/// before its message can be received again.
const ATTEMPT_MARGIN: Duration = Duration::from_secs(5);

/// Polls `queue_url` and hands each event to `invoke`, one attempt per event at a time, as
/// Lambda's asynchronous invocation does. The queue's redrive policy counts the attempts.
pub async fn run_async_target<F, Fut, E>(
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
    settings: AsyncInvocation,
    invoke: F,
) where
    F: Fn(EventBridgeEvent<Value>) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    let invoke = &invoke;
    let sqs = &sqs;
    let queue_url = queue_url.as_str();
    let loops = (0..settings.pollers.max(1)).map(|_| poll_async_target(sqs, queue_url, settings, invoke));
    futures::future::join_all(loops).await;
}

/// One receive loop of [`run_async_target`].
async fn poll_async_target<F, Fut, E>(sqs: &aws_sdk_sqs::Client, queue_url: &str, settings: AsyncInvocation, invoke: &F)
where
    F: Fn(EventBridgeEvent<Value>) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    loop {
        let messages = receive(sqs, queue_url, Some(settings.timeout + ATTEMPT_MARGIN)).await;
        // Like EventBridge, one invocation per event; events are independent of each other.
        let done: Vec<Option<Message>> = futures::stream::iter(messages)
            .map(|message| async move {
                let body = message.body.as_deref().unwrap_or_default();
                let event: EventBridgeEvent<Value> = match serde_json::from_str(body) {
                    Ok(event) => event,
                    Err(err) => {
                        tracing::error!(error = %err, "not an EventBridge event; leaving it for the DLQ");
                        retry_later(sqs, queue_url, &message, settings.retry_delay).await;
                        return None;
                    }
                };
                let outcome = match tokio::time::timeout(settings.timeout, invoke(event)).await {
                    Ok(Ok(())) => return Some(message),
                    Ok(Err(err)) => err.to_string(),
                    Err(_) => format!("timed out after {:?}", settings.timeout),
                };
                tracing::warn!(error = outcome, "the invocation failed; it will be retried");
                retry_later(sqs, queue_url, &message, settings.retry_delay).await;
                None
            })
            .buffer_unordered(BATCH_SIZE as usize)
            .collect()
            .await;
        let delivered: Vec<&Message> = done.iter().flatten().collect();
        delete(sqs, queue_url, &delivered).await;
    }
}

/// Makes a failed attempt's message visible again after `delay`: the next attempt.
async fn retry_later(sqs: &aws_sdk_sqs::Client, queue_url: &str, message: &Message, delay: Duration) {
    let result = sqs
        .change_message_visibility()
        .queue_url(queue_url)
        .receipt_handle(message.receipt_handle.clone().unwrap_or_default())
        .visibility_timeout(i32::try_from(delay.as_secs()).unwrap_or(i32::MAX))
        .send()
        .await;
    if let Err(err) = result {
        tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(err), "the retry comes after the attempt's own timeout instead");
    }
}

pub async fn run_notify(
    sdk: SdkConfig,
    resources: Resources,
    notify: Notify,
    retry_delay: Duration,
    invocations: Invocations,
) {
    let timeout = Duration::from_secs(u64::from(topology().functions[<Notify as Function>::NAME].timeout_seconds));
    let settings = AsyncInvocation { timeout, retry_delay, pollers: NOTIFY_POLLERS };
    let (notify, invocations) = (&notify, &invocations);
    run_async_target(
        aws_sdk_sqs::Client::new(&sdk),
        resources.notify_queue_url.clone(),
        settings,
        |event| async move { invocations.time(<Notify as Function>::NAME, notify.handle(event)).await.map(|_| ()) },
    )
    .await;
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
