//! Pages of large notes: DynamoDB stops a Query at 1 MB, before `limit`. A page may then be
//! short, but `nextCursor` is there whenever more notes exist, and following it reaches every
//! note exactly once, newest first (DynamoDB Local applies the same 1 MB limit as DynamoDB).

use std::collections::HashSet;

use notes_e2e::{PATIENCE, Stack};
use reqwest::Method;

/// 50 notes of 10,000 four-byte characters: 40 KB each, 2 MB in all. Pseudo-random over every
/// plane above the first, so that storing them deflated (shared/src/adapters/aws/table/notes.rs)
/// still leaves well over 1 MB (about 28 KB a note).
const NOTES: usize = 50;

/// Follows `nextCursor` from the first page of `path`; returns the ids in order and the page sizes.
async fn walk(stack: &Stack, path: &str, token: Option<&str>) -> (Vec<String>, Vec<usize>) {
    let (mut ids, mut sizes) = (Vec::new(), Vec::new());
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}?limit=100&cursor={c}"),
            None => format!("{path}?limit=100"),
        };
        let (status, page) = stack.call(Method::GET, &url, token, None).await;
        assert_eq!(status, 200, "{page}");
        let notes = page["notes"].as_array().expect("a notes array");
        sizes.push(notes.len());
        ids.extend(notes.iter().map(|n| n["noteId"].as_str().expect("a noteId").to_owned()));
        match page["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return (ids, sizes),
        }
        assert!(sizes.len() <= NOTES, "the cursors never end: {sizes:?}");
    }
}

#[tokio::test]
async fn pages_cut_short_at_one_megabyte_still_reach_every_note_once_newest_first() {
    let stack = Stack::start().await;
    let (token, mut ws) = stack.connected_user("big").await;
    let mut x: u32 = 11;
    let content: String = (0..10_000)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            char::from_u32(0x10000 + (x >> 4) % 0x100000).expect("a code point above the first plane")
        })
        .collect();
    let mut posted = Vec::new();
    for _ in 0..NOTES {
        posted.push(stack.post_note(&token, &content, true).await);
    }
    // Saved in any order: wait until every one has been announced.
    let mut waiting: HashSet<&String> = posted.iter().collect();
    while !waiting.is_empty() {
        let message = ws.next_within(PATIENCE).await.unwrap_or_else(|| panic!("{} notes never saved", waiting.len()));
        if message["eventType"] == "note-saved" {
            waiting.remove(&message["noteId"].as_str().unwrap_or_default().to_owned());
        }
    }
    posted.reverse();

    let (mine, sizes) = walk(&stack, "/notes", Some(&token)).await;
    assert!(sizes[0] < NOTES, "the first page should stop at 1 MB: {sizes:?}");
    assert_eq!(mine, posted, "pages of /notes: {sizes:?}");

    let (public, sizes) = walk(&stack, "/notes/public", None).await;
    assert!(sizes[0] < NOTES, "the first page should stop at 1 MB: {sizes:?}");
    assert_eq!(public, posted, "pages of /notes/public: {sizes:?}");
}

#[tokio::test]
async fn pages_of_notes_that_escape_to_more_than_lambdas_6_mb_are_cut_and_still_reach_every_note_once() {
    // 100 public notes of 10,000 control characters, stored before such notes were refused: each
    // deflates to a few dozen bytes, so one Query reads all 100, but each is 70 KB of `\u0001`
    // escapes once Lambda writes the body into its envelope: 7 MB for a page of 100.
    let stack = Stack::start().await;
    let token = stack.user("escapes").await;
    let sdk = stack.running.sdk_config();
    let table = notes_core::adapters::aws::DynamoTable::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        &stack.running.resources.table_name,
    );
    let now = notes_core::domain::Timestamp::now();
    let mut stored = Vec::new();
    for _ in 0..100 {
        let note: notes_core::domain::Note = serde_json::from_value(serde_json::json!({
            "noteId": notes_core::domain::NoteId::new().to_string(), "username": "escapes",
            "content": "\u{1}".repeat(10_000), "isPublic": true, "status": "saved",
            "createdAt": now.to_string(), "savedAt": now.to_string(),
        }))
        .expect("a stored note reads with its control characters");
        notes_core::ports::NoteStore::save_new(
            &table,
            &note,
            &notes_core::domain::lifecycle::Provenance::request("a test"),
        )
        .await
        .expect("stored");
        stored.push(note.note_id.to_string());
    }
    stored.reverse();

    let (mine, sizes) = walk(&stack, "/notes", Some(&token)).await;
    assert!(sizes[0] < 100, "the first page should stop before 6 MB: {sizes:?}");
    assert_eq!(mine, stored, "pages of /notes: {sizes:?}");
    let (public, sizes) = walk(&stack, "/notes/public", None).await;
    assert!(sizes[0] < 100, "the first page should stop before 6 MB: {sizes:?}");
    assert_eq!(public, stored, "pages of /notes/public: {sizes:?}");
}

#[tokio::test]
async fn a_new_note_with_control_characters_is_refused_naming_the_field() {
    let stack = Stack::start().await;
    let token = stack.user("controls").await;
    let body = serde_json::json!({"content": "bell \u{7} here", "isPublic": false});
    let (status, answer) = stack.call(Method::POST, "/notes", Some(&token), Some(body)).await;
    assert_eq!((status, answer["error"].as_str()), (400, Some("invalid_request")), "{answer}");
    assert!(answer["message"].as_str().unwrap_or_default().contains("content"), "{answer}");
}
