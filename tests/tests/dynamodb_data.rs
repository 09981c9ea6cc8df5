//! `--dynamodb-data DIR` (`StackConfig::dynamodb_data`): the DynamoDB Local the stack starts
//! keeps the table in DIR, so users and notes outlive a restart of the stack; without it the
//! table is in memory and goes with the stack.
//!
//! These stacks start their own DynamoDB Local and their own moto (a restarted stack makes its
//! bus and queues again, which a shared moto would refuse under the same prefix).

use notes_e2e::{Stack, unique};
use notes_local::StackConfig;
use reqwest::Method;
use serde_json::json;

/// Starts a stack of its own emulators, keeping the table in `data` (or in memory).
async fn own_stack(prefix: &str, data: Option<&std::path::Path>) -> Stack {
    Stack::start_with(|c: &mut StackConfig| {
        c.aws_endpoint = None;
        c.dynamodb_endpoint = None;
        c.dynamodb_data = data.map(std::path::Path::to_path_buf);
        c.prefix = prefix.to_owned();
    })
    .await
}

async fn login(stack: &Stack, username: &str) -> (u16, Option<String>) {
    let credentials = json!({"username": username, "password": "correct horse battery"});
    let (status, body) = stack.call(Method::POST, "/auth/login", None, Some(credentials)).await;
    (status, body["token"].as_str().map(str::to_owned))
}

/// Signs a user up, waits until their note is saved; returns the note's id.
async fn user_with_a_note(stack: &Stack, username: &str) -> String {
    let token = stack.user(username).await;
    let mut socket = stack.websocket(&token).await.expect("the handshake is accepted");
    socket.ping().await;
    let note_id = stack.post_note(&token, "kept across restarts", false).await;
    socket.expect_event("note-saved", &note_id).await;
    note_id
}

#[tokio::test]
async fn a_stack_restarted_on_its_data_folder_keeps_its_users_and_notes() {
    let data = std::env::temp_dir().join(unique("notes-dynamodb-data"));
    let prefix = unique("kept");
    let username = unique("keeper");

    let first = own_stack(&prefix, Some(&data)).await;
    let note_id = user_with_a_note(&first, &username).await;
    drop(first);

    let second = own_stack(&prefix, Some(&data)).await;
    let (status, token) = login(&second, &username).await;
    assert_eq!(status, 200, "the user signed up before the restart logs in");
    let (status, note) =
        second.call(Method::GET, &format!("/notes/{note_id}"), Some(&token.expect("a token")), None).await;
    assert_eq!(status, 200, "{note}");
    assert_eq!(note["content"], "kept across restarts");
    drop(second);
    std::fs::remove_dir_all(&data).expect("the data folder is there");
}

#[tokio::test]
async fn without_a_data_folder_the_table_goes_with_the_stack() {
    let prefix = unique("gone");
    let username = unique("passer");

    let first = own_stack(&prefix, None).await;
    user_with_a_note(&first, &username).await;
    drop(first);

    let second = own_stack(&prefix, None).await;
    assert_eq!(login(&second, &username).await.0, 401, "a fresh in-memory table knows no one");
}
