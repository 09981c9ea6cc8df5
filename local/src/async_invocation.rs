//! Lambda's asynchronous invocation of a function by an EventBridge rule, done locally with the
//! real handler.
//!
//! moto cannot invoke a function, so the rule targets a stand-in queue (see
//! [`crate::provision`]) which [`run`] polls: an attempt keeps its message invisible for as long
//! as the function may run, so no retry starts while it is still running; a failed attempt is
//! retried after the retry delay, and the queue's redrive policy moves the event to the rule's
//! function's DLQ after [`crate::provision::ASYNC_ATTEMPTS`] attempts.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_sdk_sqs::types::Message;
use futures::StreamExt as _;
use notes_core::edge::function::{RuleHandler, timeout_of};
use serde_json::Value;

use crate::event_source_mapping::{delete, receive};

/// SQS hands out at most 10 messages per receive.
const BATCH_SIZE: usize = 10;

/// How Lambda runs an asynchronously invoked function: each attempt may run for `timeout`, and
/// a failed one is tried again `retry_delay` after it ended. `pollers` loops receive events at
/// once, each handing up to 10 to the function concurrently: Lambda runs as many asynchronous
/// invocations at once as the account's concurrency allows, so one slow event (a large fan-out)
/// must not hold the others back, and the stand-in queue must not grow behind it.
#[derive(Debug, Clone, Copy)]
pub struct AsyncInvocation {
    pub timeout: Duration,
    pub retry_delay: Duration,
    pub pollers: usize,
}

/// How many receive loops stand in for a function's asynchronous invocations.
pub const POLLERS: usize = 8;

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
            .buffer_unordered(BATCH_SIZE)
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

/// The asynchronous invocations of the function `name` by its rule, whose events reach the
/// stand-in queue at `queue_url`.
pub async fn run(
    sdk: SdkConfig,
    name: &'static str,
    queue_url: String,
    function: Arc<dyn RuleHandler>,
    retry_delay: Duration,
) {
    let settings = AsyncInvocation { timeout: timeout_of(name), retry_delay, pollers: POLLERS };
    let function = &*function;
    run_async_target(aws_sdk_sqs::Client::new(&sdk), queue_url, settings, |event| function.call(event)).await;
}
