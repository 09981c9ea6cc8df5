//! The local stand-ins for Lambda's event sources, against moto's SQS: the asynchronous
//! invocation of `notify` never starts a retry while the earlier attempt is still running, and
//! retries a failed attempt after the retry delay, until the redrive policy dead-letters it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_sqs::types::QueueAttributeName;
use notes_e2e::unique;
use notes_local::async_invocation::{AsyncInvocation, run_async_target};
use tokio::time::Instant;

/// One queue with a DLQ after `max_receives` receives, as the local notify target is provisioned.
async fn queue_with_dead_letters(sqs: &aws_sdk_sqs::Client, max_receives: u32) -> (String, String) {
    let name = unique("async-target");
    let dlq = sqs.create_queue().queue_name(format!("{name}-dlq")).send().await.unwrap().queue_url.unwrap();
    let dlq_arn = sqs
        .get_queue_attributes()
        .queue_url(&dlq)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap()[&QueueAttributeName::QueueArn]
        .clone();
    let policy = serde_json::json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receives}).to_string();
    let url = sqs
        .create_queue()
        .queue_name(&name)
        .attributes(QueueAttributeName::RedrivePolicy, policy)
        .attributes(QueueAttributeName::VisibilityTimeout, "1")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    (url, dlq)
}

#[tokio::test]
async fn a_slow_failing_attempt_is_never_retried_while_it_runs() {
    let sdk = notes_e2e::shared_emulators().await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let (url, dlq) = queue_with_dead_letters(&sqs, 3).await;
    let event = serde_json::json!({"version": "0", "id": "e-1", "detail-type": "note-saved", "source": "notes.service",
        "account": "000000000000", "time": "2026-01-01T00:00:00Z", "region": "us-east-1", "resources": [], "detail": {}});
    sqs.send_message().queue_url(&url).message_body(event.to_string()).send().await.unwrap();

    // Each attempt runs 3 s, longer than the queue's own 1 s visibility timeout and the retry
    // delay, and fails until the third.
    let attempts: Arc<Mutex<Vec<(Instant, Instant)>>> = Arc::default();
    let settings =
        AsyncInvocation { timeout: Duration::from_secs(10), retry_delay: Duration::from_secs(1), pollers: 3 };
    let recorded = attempts.clone();
    let poller = tokio::spawn(run_async_target(sqs.clone(), url.clone(), settings, move |_event| {
        let recorded = recorded.clone();
        async move {
            let started = Instant::now();
            tokio::time::sleep(Duration::from_secs(3)).await;
            let mut attempts = recorded.lock().unwrap();
            attempts.push((started, Instant::now()));
            if attempts.len() < 3 { Err("push failed") } else { Ok(()) }
        }
    }));

    let deadline = Instant::now() + Duration::from_secs(40);
    while attempts.lock().unwrap().len() < 3 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    poller.abort();

    let attempts = attempts.lock().unwrap().clone();
    assert_eq!(attempts.len(), 3, "one attempt at a time, three in all: {attempts:?}");
    for pair in attempts.windows(2) {
        let (earlier_end, later_start) = (pair[0].1, pair[1].0);
        assert!(later_start >= earlier_end, "a retry started while the earlier attempt was running: {attempts:?}");
    }
    let left = sqs.receive_message().queue_url(&url).wait_time_seconds(1).send().await.unwrap();
    assert!(left.messages.unwrap_or_default().is_empty(), "the delivered event is deleted");
    let dead = sqs.receive_message().queue_url(&dlq).wait_time_seconds(1).send().await.unwrap();
    assert!(
        dead.messages.unwrap_or_default().is_empty(),
        "an event delivered on its third attempt is not dead-lettered"
    );
}
