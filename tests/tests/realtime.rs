//! Real-time notifications end to end: two users, two real WebSocket clients, one local stack.

use std::time::Duration;

use notes_core::domain::{Timestamp, Username};
use notes_core::edge::auth::JwtKeys;
use notes_e2e::Stack;
use serde_json::json;

const QUIET: Duration = Duration::from_millis(1500);

#[tokio::test]
async fn a_private_note_reaches_only_its_owner() {
    let stack = Stack::start().await;
    let (alice, mut alice_ws) = stack.connected_user("alice").await;
    let (_bob, mut bob_ws) = stack.connected_user("bob").await;

    let note_id = stack.post_note(&alice, "for my eyes only", false).await;
    alice_ws.expect_event("note-saved", &note_id).await;
    bob_ws.expect_nothing_about(&note_id, QUIET).await;
}

#[tokio::test]
async fn a_public_note_reaches_both_users() {
    let stack = Stack::start().await;
    let (alice, mut alice_ws) = stack.connected_user("alice").await;
    let (_bob, mut bob_ws) = stack.connected_user("bob").await;

    let note_id = stack.post_note(&alice, "hello, world", true).await;
    let mine = alice_ws.expect_event("note-saved", &note_id).await;
    let theirs = bob_ws.expect_event("note-saved", &note_id).await;
    assert_eq!(mine, theirs);
    assert_eq!(theirs["content"], "hello, world");
    alice_ws.expect_nothing_about(&note_id, QUIET).await;
}

#[tokio::test]
async fn editing_and_deleting_a_public_note_reach_both_users() {
    let stack = Stack::start().await;
    let (alice, mut alice_ws) = stack.connected_user("alice").await;
    let (_bob, mut bob_ws) = stack.connected_user("bob").await;
    let note_id = stack.post_note(&alice, "first draft", true).await;
    alice_ws.expect_event("note-saved", &note_id).await;
    bob_ws.expect_event("note-saved", &note_id).await;

    let path = format!("/notes/{note_id}");
    let (status, body) =
        stack.call(reqwest::Method::PUT, &path, Some(&alice), Some(json!({"content": "second draft"}))).await;
    assert_eq!(status, 200, "{body}");
    for ws in [&mut alice_ws, &mut bob_ws] {
        let updated = ws.expect_event("note-updated", &note_id).await;
        assert_eq!(updated["content"], "second draft");
        assert_eq!(updated["wasPublic"], true);
    }

    let (status, _) = stack.call(reqwest::Method::DELETE, &path, Some(&alice), None).await;
    assert_eq!(status, 204);
    for ws in [&mut alice_ws, &mut bob_ws] {
        let deleted = ws.expect_event("note-deleted", &note_id).await;
        assert_eq!(deleted["wasPublic"], true);
    }
}

#[tokio::test]
async fn a_note_made_private_tells_the_feed_to_drop_it() {
    let stack = Stack::start().await;
    let (alice, mut alice_ws) = stack.connected_user("alice").await;
    let (_bob, mut bob_ws) = stack.connected_user("bob").await;
    let note_id = stack.post_note(&alice, "briefly public", true).await;
    bob_ws.expect_event("note-saved", &note_id).await;

    let path = format!("/notes/{note_id}");
    let (status, _) = stack.call(reqwest::Method::PUT, &path, Some(&alice), Some(json!({"isPublic": false}))).await;
    assert_eq!(status, 200);
    let update = bob_ws.expect_event("note-updated", &note_id).await;
    assert_eq!((update["isPublic"].as_bool(), update["wasPublic"].as_bool()), (Some(false), Some(true)));
    alice_ws.expect_event("note-updated", &note_id).await;
}

#[tokio::test]
async fn a_note_made_private_with_new_text_reaches_other_users_without_it() {
    let stack = Stack::start().await;
    let (alice, mut alice_ws) = stack.connected_user("alice").await;
    let (_bob, mut bob_ws) = stack.connected_user("bob").await;
    let note_id = stack.post_note(&alice, "briefly public", true).await;
    alice_ws.expect_event("note-saved", &note_id).await;
    bob_ws.expect_event("note-saved", &note_id).await;

    // What the dashboard's edit form sends when the text changes and Public is unticked at once.
    let secret = "the new text is for alice alone";
    let change = json!({"content": secret, "isPublic": false});
    let (status, _) = stack.call(reqwest::Method::PUT, &format!("/notes/{note_id}"), Some(&alice), Some(change)).await;
    assert_eq!(status, 200);

    let to_bob = bob_ws.expect_event("note-updated", &note_id).await;
    assert!(!to_bob.to_string().contains(secret), "bob received {to_bob}");
    assert!(to_bob.get("content").is_none(), "{to_bob}");
    assert_eq!((to_bob["isPublic"].as_bool(), to_bob["wasPublic"].as_bool()), (Some(false), Some(true)));
    let to_alice = alice_ws.expect_event("note-updated", &note_id).await;
    assert_eq!(to_alice["content"], secret);
}

#[tokio::test]
async fn editing_and_deleting_a_private_note_reach_only_its_owner() {
    let stack = Stack::start().await;
    let (alice, mut alice_ws) = stack.connected_user("alice").await;
    let (_bob, mut bob_ws) = stack.connected_user("bob").await;
    let note_id = stack.post_note(&alice, "private from the start", false).await;
    alice_ws.expect_event("note-saved", &note_id).await;

    let path = format!("/notes/{note_id}");
    let (status, _) = stack.call(reqwest::Method::PUT, &path, Some(&alice), Some(json!({"content": "edited"}))).await;
    assert_eq!(status, 200);
    alice_ws.expect_event("note-updated", &note_id).await;
    let (status, _) = stack.call(reqwest::Method::DELETE, &path, Some(&alice), None).await;
    assert_eq!(status, 204);
    alice_ws.expect_event("note-deleted", &note_id).await;
    bob_ws.expect_nothing_about(&note_id, QUIET).await;
}

#[tokio::test]
async fn a_forged_token_is_refused_at_the_handshake() {
    let stack = Stack::start().await;
    let forger = JwtKeys::new(b"a-guess-at-the-secret-a-guess-at-the", 3600).unwrap();
    let token = forger.issue(&Username::parse("alice").unwrap(), Timestamp::now()).token;
    assert_eq!(stack.websocket(&token).await.err(), Some(401));
}

#[tokio::test]
async fn an_expired_token_is_refused_at_the_handshake() {
    let stack = Stack::start().await;
    let keys = JwtKeys::new(notes_local::LOCAL_JWT_SECRET.as_bytes(), 60).unwrap();
    let token = keys.issue(&Username::parse("alice").unwrap(), Timestamp::now().plus_seconds(-3600)).token;
    assert_eq!(stack.websocket(&token).await.err(), Some(401));
}

#[tokio::test]
async fn a_missing_token_is_refused_at_the_handshake() {
    let stack = Stack::start().await;
    assert_eq!(stack.websocket("").await.err(), Some(401));
    assert_eq!(stack.websocket_offering("", None).await.err(), Some(401));
}

#[tokio::test]
async fn the_token_travels_in_sec_websocket_protocol_and_the_handshake_selects_notes_v1() {
    let stack = Stack::start().await;
    let token = stack.user("wendy").await;
    let mut socket = stack.websocket(&token).await.expect("the handshake is accepted");
    // tungstenite, like a browser, fails a handshake that selects none of the offered subprotocols.
    assert_eq!(socket.protocol.as_deref(), Some("notes.v1"));
    socket.ping().await;
}

#[tokio::test]
async fn a_valid_token_only_in_the_query_string_is_refused_at_the_handshake() {
    let stack = Stack::start().await;
    let token = stack.user("xavier").await;
    let query = format!("?token={token}");
    assert_eq!(stack.websocket_offering(&query, Some("notes.v1")).await.err(), Some(401));
    assert_eq!(stack.websocket_offering(&query, None).await.err(), Some(401));
}

#[tokio::test]
async fn an_unknown_message_gets_a_short_json_error() {
    let stack = Stack::start().await;
    let (_token, mut ws) = stack.connected_user("carol").await;
    ws.send(json!({"action": "shout"})).await;
    let reply = ws.next_within(Duration::from_secs(5)).await.expect("a reply");
    assert_eq!(reply["type"], "error");
    assert_eq!(reply["error"], "unknown_action");
}

#[tokio::test]
async fn an_eleventh_connection_of_one_user_is_refused_with_429_until_one_closes() {
    let stack = Stack::start().await;
    let token = stack.user("ursula").await;
    let mut open = Vec::new();
    for _ in 0..10 {
        let mut socket = stack.websocket(&token).await.expect("one of the first ten");
        socket.ping().await;
        open.push(socket);
    }
    assert_eq!(stack.websocket(&token).await.err(), Some(429));
    // Someone else still connects.
    let other = stack.user("victor").await;
    assert!(stack.websocket(&other).await.is_ok());
    // A closed one makes room.
    drop(open.pop());
    let mut room = None;
    for _ in 0..50 {
        if let Ok(socket) = stack.websocket(&token).await {
            room = Some(socket);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(room.is_some(), "a connection closed, yet a new one is still refused");
}
