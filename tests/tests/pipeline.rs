//! The note pipeline end to end: POST /notes → EventBridge → SQS → save-note → DynamoDB →
//! note-saved → notify → the owner's WebSocket. Driven from outside, over HTTP and WebSocket.

use std::time::Duration;

use notes_e2e::{PATIENCE, Stack, TRANSIENT_FAULT_MARKER, unique};

#[tokio::test]
async fn a_posted_note_is_accepted_and_reaches_the_owners_websocket_as_note_saved() {
    let stack = Stack::start().await;
    let (token, mut socket) = stack.connected_user("alice").await;

    let note_id = stack.post_note(&token, "hello from the pipeline", false).await;
    let saved = socket.expect_event("note-saved", &note_id).await;

    assert_eq!(saved["content"], "hello from the pipeline");
    assert_eq!(saved["isPublic"], false);
    assert!(saved["savedAt"].is_string());
    assert!(saved["causationId"].is_string());
}

#[tokio::test]
async fn a_record_that_fails_three_times_ends_in_the_dead_letter_queue() {
    let stack = Stack::start_with(|c| {
        c.fault_injection = true;
        c.visibility_timeout_seconds = Some(1);
    })
    .await;
    let (token, mut socket) = stack.connected_user("dana").await;
    let doomed = stack.post_note(&token, &format!("this one fails {TRANSIENT_FAULT_MARKER}"), false).await;
    let fine = stack.post_note(&token, "this one is fine", false).await;

    // The good note is not held up by the failing one.
    socket.expect_event("note-saved", &fine).await;

    // An operator's view: the message is in the DLQ after its third receive.
    let sdk = stack.running.sdk_config().await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let deadline = tokio::time::Instant::now() + PATIENCE * 3;
    let dead = loop {
        let out = sqs
            .receive_message()
            .queue_url(&stack.running.resources.note_dlq_url)
            .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        if let Some(message) = out.messages.unwrap_or_default().into_iter().next() {
            break message;
        }
        assert!(tokio::time::Instant::now() < deadline, "nothing reached the DLQ");
    };
    let body: serde_json::Value = serde_json::from_str(dead.body().unwrap()).unwrap();
    assert_eq!(body["detail"]["noteId"], doomed);
    let receives: u32 = dead.attributes().unwrap()
        [&aws_sdk_sqs::types::MessageSystemAttributeName::ApproximateReceiveCount]
        .parse()
        .unwrap();
    assert!(receives >= 3, "moved after {receives} receives");
    socket.expect_nothing_about(&doomed, Duration::from_millis(500)).await;
}

#[tokio::test]
async fn a_duplicate_sqs_delivery_stores_one_note() {
    let stack = Stack::start().await;
    let (token, mut socket) = stack.connected_user("erin").await;
    let note_id = stack.post_note(&token, "only once", true).await;
    let first = socket.expect_event("note-saved", &note_id).await;

    // Deliver the very same note-created again, as SQS may (at-least-once).
    let sdk = stack.running.sdk_config().await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let created = serde_json::json!({
        "eventType": "note-created", "eventVersion": 1, "eventId": first["causationId"],
        "timestamp": first["savedAt"], "correlationId": first["correlationId"], "noteId": note_id,
        "username": first["username"], "content": "only once", "isPublic": true
    });
    let message = serde_json::json!({"version": "0", "id": unique("dup"), "detail-type": "note-created", "source": "notes.service",
        "account": "000000000000", "time": "2026-11-23T10:00:00Z", "region": "us-east-1", "resources": [], "detail": created});
    sqs.send_message()
        .queue_url(&stack.running.resources.note_queue_url)
        .message_body(message.to_string())
        .send()
        .await
        .unwrap();

    let again = socket.expect_event("note-saved", &note_id).await;
    assert_eq!(again["eventId"], first["eventId"], "the repeat is the same event, which clients drop");

    let (status, page) = stack.call(reqwest::Method::GET, "/notes/public?limit=100", None, None).await;
    assert_eq!(status, 200);
    assert_eq!(page["notes"].as_array().unwrap().iter().filter(|n| n["noteId"] == note_id).count(), 1);
    let (status, mine) = stack.call(reqwest::Method::GET, "/notes?limit=100", Some(&token), None).await;
    assert_eq!(status, 200);
    assert_eq!(mine["notes"].as_array().unwrap().iter().filter(|n| n["noteId"] == note_id).count(), 1);
}

#[tokio::test]
async fn replaying_the_archive_stores_nothing_twice_and_repeats_the_same_events() {
    let stack = Stack::start().await;
    let (token, mut socket) = stack.connected_user("finn").await;
    let started = std::time::SystemTime::now() - Duration::from_secs(60);
    let note_id = stack.post_note(&token, "archived", false).await;
    let first = socket.expect_event("note-saved", &note_id).await;

    // An operator replays every archived event of the last minutes into the bus.
    let sdk = stack.running.sdk_config().await;
    let events = aws_sdk_eventbridge::Client::new(&sdk);
    let archive = events.describe_archive().archive_name(&stack.running.resources.archive_name).send().await.unwrap();
    let bus = events.describe_event_bus().name(&stack.running.resources.bus_name).send().await.unwrap();
    let destination = aws_sdk_eventbridge::types::ReplayDestination::builder().arn(bus.arn.unwrap()).build().unwrap();
    events
        .start_replay()
        .replay_name(unique("replay"))
        .event_source_arn(archive.archive_arn.unwrap())
        .event_start_time(started.into())
        .event_end_time(std::time::SystemTime::now().into())
        .destination(destination)
        .send()
        .await
        .unwrap();

    let again = socket.expect_event("note-saved", &note_id).await;
    assert_eq!(again["eventId"], first["eventId"], "a replayed note-saved is the same event");
    let (status, mine) = stack.call(reqwest::Method::GET, "/notes", Some(&token), None).await;
    assert_eq!(status, 200);
    assert_eq!(mine["notes"].as_array().unwrap().len(), 1, "the replayed note-created stored nothing new");
}
