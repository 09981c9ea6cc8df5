//! Redrive: what `aws sqs start-message-move-task` does in AWS, done against the emulator. Every
//! message of a dead-letter queue is sent back to its source queue, then deleted from the DLQ,
//! so it is received anew (its receive count starts again) and processed as if just published.

use std::time::Duration;

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;

/// Moves every dead-lettered `note-created` of the stack named `prefix` back to its queue.
pub async fn note_dlq_of(sqs: &aws_sdk_sqs::Client, prefix: &str) -> Result<usize, String> {
    let url = |name: String| async move {
        sqs.get_queue_url()
            .queue_name(&name)
            .send()
            .await
            .map_err(|e| format!("no queue {name} ({}); is a stack running with this prefix?", e.into_service_error()))?
            .queue_url
            .ok_or_else(|| format!("no URL for {name}"))
    };
    let (dlq, queue) = crate::provision::note_queue_names(prefix);
    redrive(sqs, &url(dlq).await?, &url(queue).await?).await
}

/// Moves every message of `dlq_url` to `queue_url`; how many were moved.
pub async fn redrive(sqs: &aws_sdk_sqs::Client, dlq_url: &str, queue_url: &str) -> Result<usize, String> {
    let failed = |what: &str, err: &dyn std::fmt::Display| format!("{what}: {err}");
    let mut moved = 0;
    loop {
        let out = sqs
            .receive_message()
            .queue_url(dlq_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            // Long enough to send and delete them; a crash leaves them in the DLQ, not lost.
            .visibility_timeout(i32::try_from(Duration::from_secs(30).as_secs()).unwrap_or(30))
            .send()
            .await
            .map_err(|e| failed("receive from the DLQ", &aws_sdk_sqs::error::DisplayErrorContext(e)))?;
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() {
            return Ok(moved);
        }
        let entries: Vec<SendMessageBatchRequestEntry> = messages
            .iter()
            .enumerate()
            .map(|(i, m)| {
                SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(m.body.clone().unwrap_or_default())
                    .build()
                    .expect("id and body are set")
            })
            .collect();
        let sent = sqs
            .send_message_batch()
            .queue_url(queue_url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| failed("send to the queue", &aws_sdk_sqs::error::DisplayErrorContext(e)))?;
        if !sent.failed.is_empty() {
            return Err(format!("{} messages could not be sent back; they stay in the DLQ", sent.failed.len()));
        }
        for message in &messages {
            sqs.delete_message()
                .queue_url(dlq_url)
                .receipt_handle(message.receipt_handle.clone().unwrap_or_default())
                .send()
                .await
                .map_err(|e| failed("delete from the DLQ", &aws_sdk_sqs::error::DisplayErrorContext(e)))?;
        }
        moved += messages.len();
    }
}
