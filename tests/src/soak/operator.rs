//! What the soak reads as an operator would: queue depths, the DLQ, the notes through the API.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::Stack;

/// Messages waiting or in flight in a queue (an operator's view).
pub(super) async fn queue_depth(sqs: &aws_sdk_sqs::Client, url: &str) -> Option<u64> {
    use aws_sdk_sqs::types::QueueAttributeName as A;
    let out = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(A::ApproximateNumberOfMessages)
        .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
        .attribute_names(A::ApproximateNumberOfMessagesDelayed)
        .send()
        .await
        .ok()?;
    let attributes = out.attributes?;
    Some(
        [
            A::ApproximateNumberOfMessages,
            A::ApproximateNumberOfMessagesNotVisible,
            A::ApproximateNumberOfMessagesDelayed,
        ]
        .iter()
        .map(|a| attributes.get(a).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0))
        .sum(),
    )
}

/// Messages waiting or in flight in all of `queues` together.
pub(super) async fn queued(sqs: &aws_sdk_sqs::Client, queues: &[&str]) -> u64 {
    let mut total = 0;
    for url in queues {
        total += queue_depth(sqs, url).await.unwrap_or(0);
    }
    total
}

/// Waits until both queues stay empty for 3 checks in a row; `false` if `limit` passes first.
pub(super) async fn drain(sqs: &aws_sdk_sqs::Client, queues: &[&str], limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    let mut empty_in_a_row = 0;
    while Instant::now() < deadline {
        let mut total = 0;
        for url in queues {
            total += queue_depth(sqs, url).await.unwrap_or(1);
        }
        empty_in_a_row = if total == 0 { empty_in_a_row + 1 } else { 0 };
        if empty_in_a_row >= 3 {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    false
}

/// The note ids in the DLQ, read without removing them (each is hidden for a while, then back).
pub(super) async fn dead_lettered(sqs: &aws_sdk_sqs::Client, dlq_url: &str) -> HashSet<String> {
    let mut ids = HashSet::new();
    for _ in 0..10_000 {
        let Ok(out) = sqs
            .receive_message()
            .queue_url(dlq_url)
            .max_number_of_messages(10)
            .visibility_timeout(300)
            .wait_time_seconds(1)
            .send()
            .await
        else {
            break;
        };
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() {
            break;
        }
        for m in messages {
            if let Some(id) = m
                .body
                .as_deref()
                .and_then(|b| serde_json::from_str::<Value>(b).ok())
                .and_then(|b| b["detail"]["noteId"].as_str().map(str::to_owned))
            {
                ids.insert(id);
            }
        }
    }
    ids
}

/// Every note of a listing, following cursors (at most 1,000 pages): its id and its `status`
/// (`saved`, or `failed` for a note its owner's list shows could not be stored).
pub(super) async fn list_all(stack: &Stack, path: &str, token: Option<&str>) -> Result<Vec<(String, String)>, String> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..1_000 {
        let url = match &cursor {
            Some(c) => format!("{path}?limit=100&cursor={c}"),
            None => format!("{path}?limit=100"),
        };
        let (status, page) = stack.call(reqwest::Method::GET, &url, token, None).await;
        if status != 200 {
            return Err(format!("GET {url}: {status} {page}"));
        }
        ids.extend(page["notes"].as_array().into_iter().flatten().filter_map(|n| {
            let id = n["noteId"].as_str()?.to_owned();
            Some((id, n["status"].as_str().unwrap_or_default().to_owned()))
        }));
        match page["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return Ok(ids),
        }
    }
    Err(format!("{path}: more than 1,000 pages"))
}
