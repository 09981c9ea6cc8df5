//! What Lambda does between a queue and a function, done locally with the real handlers.
//!
//! [`run_save_note`] is the SQS event source mapping: long polling, batches of up to 10, the
//! batch handed to `save-note` as the `SqsEvent` Lambda delivers, then only the messages not
//! listed in `batchItemFailures` are deleted. The rest become visible again after the visibility
//! timeout, and the queue's redrive policy moves them to the DLQ after `maxReceiveCount`
//! receives: the same retries and dead letters as in AWS, done by SQS itself.
//!
//! [`run_notify`] stands in for EventBridge invoking `notify` (see [`crate::provision`]).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_lambda_events::event::sqs::SqsEvent;
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, Message, MessageSystemAttributeName};
use futures::StreamExt as _;
use notes_core::aws::{DynamoTable, EventBridgeBus, ManagementApi};
use notes_core::ports::NoteStore;
use notify::Notify;
use save_note::SaveNote;
use serde_json::{Value, json};

use crate::Resources;
use crate::faults::FaultyNoteStore;

/// Lambda's SQS event source mapping reads at most 10 messages per batch.
const BATCH_SIZE: i32 = 10;
const LONG_POLL_SECONDS: i32 = 20;

async fn receive(sqs: &aws_sdk_sqs::Client, queue_url: &str) -> Vec<Message> {
    let result = sqs
        .receive_message()
        .queue_url(queue_url)
        .max_number_of_messages(BATCH_SIZE)
        .wait_time_seconds(LONG_POLL_SECONDS)
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

pub async fn run_save_note(sdk: SdkConfig, resources: Resources, fault_injection: bool) {
    let table: Arc<dyn NoteStore> =
        Arc::new(DynamoTable::new(aws_sdk_dynamodb::Client::new(&sdk), &resources.table_name));
    let notes: Arc<dyn NoteStore> = if fault_injection { Arc::new(FaultyNoteStore::new(table)) } else { table };
    let bus = Arc::new(EventBridgeBus::new(aws_sdk_eventbridge::Client::new(&sdk), &resources.bus_name));
    let save_note = SaveNote::new(notes, bus);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    loop {
        let messages = receive(&sqs, &resources.note_queue_url).await;
        if messages.is_empty() {
            continue;
        }
        let response = save_note.handle(sqs_event(&messages, &resources.note_queue_arn)).await;
        let failed: HashSet<String> = response.batch_item_failures.into_iter().map(|f| f.item_identifier).collect();
        let succeeded: Vec<&Message> =
            messages.iter().filter(|m| !failed.contains(m.message_id.as_deref().unwrap_or_default())).collect();
        delete(&sqs, &resources.note_queue_url, &succeeded).await;
    }
}

pub async fn run_notify(sdk: SdkConfig, resources: Resources, management_endpoint: String) {
    let table = Arc::new(DynamoTable::new(aws_sdk_dynamodb::Client::new(&sdk), &resources.table_name));
    let notify = Notify::new(table, Arc::new(ManagementApi::new(&sdk, &management_endpoint)));
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    loop {
        let messages = receive(&sqs, &resources.notify_queue_url).await;
        let notify_ref = &notify;
        // Like EventBridge, one invocation per event; events are independent of each other.
        let done: Vec<Option<Message>> = futures::stream::iter(messages)
            .map(|message| async move {
                let body = message.body.as_deref().unwrap_or_default();
                let event: EventBridgeEvent<Value> = match serde_json::from_str(body) {
                    Ok(event) => event,
                    Err(err) => {
                        tracing::error!(error = %err, "not an EventBridge event; leaving it for the DLQ");
                        return None;
                    }
                };
                match notify_ref.handle(event).await {
                    Ok(_) => Some(message),
                    Err(err) => {
                        tracing::warn!(error = %err, "notify failed; the event will be retried");
                        None
                    }
                }
            })
            .buffer_unordered(BATCH_SIZE as usize)
            .collect()
            .await;
        let delivered: Vec<&Message> = done.iter().flatten().collect();
        delete(&sqs, &resources.notify_queue_url, &delivered).await;
    }
}
