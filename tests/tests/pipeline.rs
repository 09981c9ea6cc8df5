//! The note pipeline end to end: POST /notes → EventBridge → SQS → save-note → DynamoDB →
//! note-saved → notify → the owner's WebSocket. Driven from outside, over HTTP and WebSocket.

use std::time::Duration;

use notes_e2e::{PATIENCE, Stack, TRANSIENT_FAULT_MARKER, unique};

/// How long nothing must arrive for a test to say nothing was announced.
const QUIET: Duration = Duration::from_millis(2000);

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
async fn a_dead_lettered_note_reaches_its_owner_as_note_failed_and_a_redrive_saves_it() {
    let stack = Stack::start_with(|c| {
        c.fault_injection = true;
        c.visibility_timeout_seconds = Some(1);
    })
    .await;
    let (token, mut socket) = stack.connected_user("fay").await;
    let doomed = stack.post_note(&token, &format!("saved at last {TRANSIENT_FAULT_MARKER}"), false).await;
    let fine = stack.post_note(&token, "saved at once", false).await;

    socket.expect_event("note-saved", &fine).await;
    let failed = socket.expect_event("note-failed", &doomed).await;
    assert!(failed["error"].as_str().is_some_and(|e| e.contains("try again")), "{failed}");

    // The operator fixes the cause and redrives the DLQ: the note is stored and announced.
    stack.running.faults.as_ref().expect("started with fault injection").set(false);
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let mut moved = 0;
    while moved == 0 {
        moved = stack.running.redrive_note_dlq().await.expect("the redrive runs");
        assert!(tokio::time::Instant::now() < deadline, "the note never reached the DLQ");
    }
    assert_eq!(moved, 1);
    let saved = socket.expect_event("note-saved", &doomed).await;
    assert!(saved["content"].as_str().unwrap().starts_with("saved at last"));
    let (status, note) = stack.call(reqwest::Method::GET, &format!("/notes/{doomed}"), Some(&token), None).await;
    assert_eq!((status, note["status"].as_str()), (200, Some("saved")));
}

/// Redrives the note-created DLQ once at least one message is there, then waits for the queue to drain.
async fn redrive_when_dead_lettered(stack: &Stack) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while stack.running.redrive_note_dlq().await.expect("the redrive runs") == 0 {
        assert!(tokio::time::Instant::now() < deadline, "the note never reached the DLQ");
    }
    drained(stack, &stack.running.sdk_config()).await;
}

#[tokio::test]
async fn a_dismissed_note_is_not_stored_by_a_later_redrive() {
    let stack = Stack::start_with(|c| {
        c.fault_injection = true;
        c.visibility_timeout_seconds = Some(1);
    })
    .await;
    let (token, mut socket) = stack.connected_user("hal").await;
    let doomed = stack.post_note(&token, &format!("given up {TRANSIENT_FAULT_MARKER}"), true).await;
    socket.expect_event("note-failed", &doomed).await;

    // The owner dismisses it; later the operator fixes the cause and redrives the DLQ.
    let (status, _) = stack.call(reqwest::Method::DELETE, &format!("/notes/{doomed}"), Some(&token), None).await;
    assert_eq!(status, 204);
    stack.running.faults.as_ref().expect("started with fault injection").set(false);
    redrive_when_dead_lettered(&stack).await;

    let (status, _) = stack.call(reqwest::Method::GET, &format!("/notes/{doomed}"), Some(&token), None).await;
    assert_eq!(status, 404, "the redrive stored a note its owner dismissed");
    let (_, feed) = stack.call(reqwest::Method::GET, "/notes/public", None, None).await;
    assert!(feed["notes"].as_array().unwrap().iter().all(|n| n["noteId"] != doomed), "{feed}");
}

#[tokio::test]
async fn trying_again_under_the_original_key_stores_the_note_once_even_after_a_redrive() {
    let stack = Stack::start_with(|c| {
        c.fault_injection = true;
        c.visibility_timeout_seconds = Some(1);
    })
    .await;
    let (token, mut socket) = stack.connected_user("ivy").await;
    let body = serde_json::json!({"content": format!("once only {TRANSIENT_FAULT_MARKER}"), "isPublic": false});
    let post = || async {
        let response = reqwest::Client::new()
            .post(stack.url("/notes"))
            .bearer_auth(&token)
            .header("Idempotency-Key", "try-again-key-1")
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json::<serde_json::Value>().await.unwrap())
    };
    let (status, first) = post().await;
    assert_eq!(status, 202);
    let note_id = first["noteId"].as_str().unwrap().to_owned();
    socket.expect_event("note-failed", &note_id).await;

    // The cause is fixed; the owner presses "Try again", which sends the note under its key.
    stack.running.faults.as_ref().expect("started with fault injection").set(false);
    let (status, again) = post().await;
    assert_eq!((status, again["noteId"].as_str()), (202, Some(note_id.as_str())));
    socket.expect_event("note-saved", &note_id).await;
    // Later the operator redrives the DLQ, which still holds the first try.
    redrive_when_dead_lettered(&stack).await;

    let (_, mine) = stack.call(reqwest::Method::GET, "/notes", Some(&token), None).await;
    let notes = mine["notes"].as_array().unwrap();
    assert_eq!(notes.len(), 1, "{mine}");
    assert_eq!(notes[0]["noteId"], note_id);
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

    // An operator's view: the message is in the DLQ after its last receive (maxReceiveCount).
    let sdk = stack.running.sdk_config();
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
    socket.expect_event("note-failed", &doomed).await;
}

#[tokio::test]
async fn a_duplicate_sqs_delivery_stores_one_note() {
    let stack = Stack::start().await;
    let (token, mut socket) = stack.connected_user("erin").await;
    let note_id = stack.post_note(&token, "only once", true).await;
    let first = socket.expect_event("note-saved", &note_id).await;

    // Deliver the very same note-created again, as SQS may (at-least-once).
    let sdk = stack.running.sdk_config();
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

    // It stores nothing and changes nothing, so the table's stream has nothing to announce.
    socket.expect_nothing_about(&note_id, QUIET).await;
    drained(&stack, &sdk).await;

    let (status, page) = stack.call(reqwest::Method::GET, "/notes/public?limit=100", None, None).await;
    assert_eq!(status, 200);
    assert_eq!(page["notes"].as_array().unwrap().iter().filter(|n| n["noteId"] == note_id).count(), 1);
    let (status, mine) = stack.call(reqwest::Method::GET, "/notes?limit=100", Some(&token), None).await;
    assert_eq!(status, 200);
    assert_eq!(mine["notes"].as_array().unwrap().iter().filter(|n| n["noteId"] == note_id).count(), 1);
}

#[tokio::test]
async fn replaying_the_archive_stores_nothing_twice_and_announces_nothing_again() {
    let stack = Stack::start().await;
    let (token, mut socket) = stack.connected_user("finn").await;
    let started = std::time::SystemTime::now() - Duration::from_secs(60);
    let note_id = stack.post_note(&token, "archived", false).await;
    socket.expect_event("note-saved", &note_id).await;

    // An operator replays every archived event of the last minutes into the bus: only
    // note-created is archived, and its save is idempotent.
    replay_since(&stack, started).await;
    drained(&stack, &stack.running.sdk_config()).await;
    socket.expect_nothing_about(&note_id, QUIET).await;
    let (status, mine) = stack.call(reqwest::Method::GET, "/notes", Some(&token), None).await;
    assert_eq!(status, 200);
    assert_eq!(mine["notes"].as_array().unwrap().len(), 1, "the replayed note-created stored nothing new");
}

#[tokio::test]
async fn replaying_a_deleted_notes_events_late_in_the_archives_retention_does_not_bring_it_back() {
    let stack = Stack::start().await;
    let (token, mut socket) = stack.connected_user("gus").await;
    let username = socket_owner(&stack, &token).await;
    let started = std::time::SystemTime::now() - Duration::from_secs(60);
    let note_id = stack.post_note(&token, "deleted for good", true).await;
    socket.expect_event("note-saved", &note_id).await;
    let (status, _) = stack.call(reqwest::Method::DELETE, &format!("/notes/{note_id}"), Some(&token), None).await;
    assert_eq!(status, 204);
    socket.expect_event("note-deleted", &note_id).await;

    // Time passes up to the last moment the archive still holds the note's note-created. By
    // then DynamoDB's TTL sweep has removed every item whose ttl is past.
    let sdk = stack.running.sdk_config();
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    let retention_days = notes_core::topology::topology().archive.retention_days;
    let late = notes_core::domain::Timestamp::now().plus_seconds(i64::from(retention_days) * 24 * 3600 - 60);
    let key = notes_core::adapters::keys::tombstone(
        &notes_core::domain::Username::parse(&username).unwrap(),
        notes_core::domain::NoteId::parse(&note_id).unwrap(),
    );
    let key = std::collections::HashMap::from([
        ("pk".to_owned(), aws_sdk_dynamodb::types::AttributeValue::S(key.pk)),
        ("sk".to_owned(), aws_sdk_dynamodb::types::AttributeValue::S(key.sk)),
    ]);
    let table = &stack.running.resources.table_name;
    let tombstone = dynamodb.get_item().table_name(table).set_key(Some(key)).send().await.unwrap();
    let ttl: i64 = tombstone.item.expect("a tombstone")["ttl"].as_n().unwrap().parse().unwrap();
    // The sweep keeps the tombstone only if it outlives the archive's retention; what a
    // note-created arriving after the tombstone is gone meets is save-note's own test (it is
    // then too old to store).
    assert!(ttl >= late.epoch_seconds(), "the tombstone expires before the archive stops replaying the note");

    // An operator replays the window holding the note's note-created.
    replay_since(&stack, started).await;
    drained(&stack, &sdk).await;
    socket.expect_nothing_about(&note_id, QUIET).await;

    let (status, _) = stack.call(reqwest::Method::GET, &format!("/notes/{note_id}"), Some(&token), None).await;
    assert_eq!(status, 404, "the replayed note-created stored the deleted note again");
    let (_, mine) = stack.call(reqwest::Method::GET, "/notes", Some(&token), None).await;
    assert!(mine["notes"].as_array().unwrap().is_empty(), "{mine}");
    let (_, feed) = stack.call(reqwest::Method::GET, "/notes/public", None, None).await;
    assert!(feed["notes"].as_array().unwrap().is_empty(), "{feed}");
}

#[tokio::test]
async fn a_replayed_edit_of_a_public_note_deleted_since_pushes_its_text_to_no_one() {
    let stack = Stack::start().await;
    let (token, mut owner) = stack.connected_user("jay").await;
    let (_, mut other) = stack.connected_user("kim").await;
    let started = std::time::SystemTime::now() - Duration::from_secs(60);
    let note_id = stack.post_note(&token, "public at first", true).await;
    owner.expect_event("note-saved", &note_id).await;
    let edit = serde_json::json!({"content": "edited, then deleted"});
    let (status, _) = stack.call(reqwest::Method::PUT, &format!("/notes/{note_id}"), Some(&token), Some(edit)).await;
    assert_eq!(status, 200);
    owner.expect_event("note-updated", &note_id).await;
    let (status, _) = stack.call(reqwest::Method::DELETE, &format!("/notes/{note_id}"), Some(&token), None).await;
    assert_eq!(status, 204);
    owner.expect_event("note-deleted", &note_id).await;
    other.expect_event("note-deleted", &note_id).await;

    // An operator replays the window holding the note's events; kim is still connected.
    replay_since(&stack, started).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(8);
    while let Some(message) = other.next_within(deadline - tokio::time::Instant::now()).await {
        if message["noteId"] == note_id.as_str() {
            assert!(message.get("content").is_none(), "the replay pushed the deleted note's text: {message}");
        }
        if tokio::time::Instant::now() >= deadline {
            break;
        }
    }
    while let Some(message) = owner.next_within(Duration::from_millis(200)).await {
        if message["noteId"] == note_id.as_str() {
            assert!(message.get("content").is_none(), "the replay pushed the deleted text to its owner: {message}");
        }
    }
}

/// Replays every event the stack's archive holds since `started` into its bus, through
/// EventBridge's `StartReplay`, as an operator would.
async fn replay_since(stack: &Stack, started: std::time::SystemTime) {
    let events = aws_sdk_eventbridge::Client::new(&stack.running.sdk_config());
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
}

/// The username behind a token, as the API knows it.
async fn socket_owner(stack: &Stack, token: &str) -> String {
    let (_, me) = stack.call(reqwest::Method::GET, "/auth/user", Some(token), None).await;
    me["username"].as_str().unwrap().to_owned()
}

/// Waits until the note-created queue holds no message, visible or in flight, for a second.
async fn drained(stack: &Stack, sdk: &aws_config::SdkConfig) {
    use aws_sdk_sqs::types::QueueAttributeName::{ApproximateNumberOfMessages, ApproximateNumberOfMessagesNotVisible};
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let mut quiet = 0;
    while quiet < 5 {
        let out = sqs
            .get_queue_attributes()
            .queue_url(&stack.running.resources.note_queue_url)
            .attribute_names(ApproximateNumberOfMessages)
            .attribute_names(ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .unwrap();
        let attributes = out.attributes.unwrap_or_default();
        let count = |name| attributes.get(&name).map_or(0, |v: &String| v.parse::<u32>().unwrap_or(0));
        quiet = if count(ApproximateNumberOfMessages) + count(ApproximateNumberOfMessagesNotVisible) == 0 {
            quiet + 1
        } else {
            0
        };
        assert!(tokio::time::Instant::now() < deadline, "the note-created queue never drained");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_note_that_failed_while_its_owner_had_no_connection_reads_as_failed_with_its_reason_after_they_reconnect() {
    // The owner posts and closes the app: no socket is open when the note-failed is pushed, so
    // the push reaches no one. Its fate is recorded in the table all the same: once they are
    // back, the note reads as failed with the reason, in GET /notes/{noteId} and in their list.
    let stack = Stack::start_with(|c| {
        c.fault_injection = true;
        c.visibility_timeout_seconds = Some(1);
    })
    .await;
    let token = stack.user(&unique("ivy")).await;
    let doomed = stack.post_note(&token, &format!("never saved {TRANSIENT_FAULT_MARKER}"), false).await;
    let path = format!("/notes/{doomed}");
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let failed = loop {
        let (status, note) = stack.call(reqwest::Method::GET, &path, Some(&token), None).await;
        if status == 200 {
            break note;
        }
        assert_eq!(status, 404, "still on its way: {note}");
        assert!(tokio::time::Instant::now() < deadline, "the note's fate was never recorded");
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(failed["status"], "failed", "{failed}");
    assert!(failed["error"].as_str().is_some_and(|e| e.contains("try again")), "{failed}");
    assert!(failed.get("content").is_none(), "{failed}");

    // They reconnect; the app refetches and settles what it holds as pending.
    let mut socket = stack.websocket(&token).await.expect("the handshake is accepted");
    socket.ping().await;
    let (status, mine) = stack.call(reqwest::Method::GET, "/notes", Some(&token), None).await;
    assert_eq!(status, 200);
    let listed: Vec<&serde_json::Value> =
        mine["notes"].as_array().unwrap().iter().filter(|n| n["noteId"] == doomed).collect();
    assert_eq!(listed.len(), 1, "{mine}");
    assert_eq!((listed[0]["status"].as_str(), &listed[0]["error"]), (Some("failed"), &failed["error"]));
}
