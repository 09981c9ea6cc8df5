//! `broadcast`: one message of the broadcast queue reaches the other users' connections of its
//! shard, once each, as `notify` wrote it; a failed shard is retried alone.

use std::sync::Arc;

use broadcast::Broadcast;
use notes_core::adapters::fakes::{InMemoryTable, RecordingPusher, sqs_batch as batch, sqs_record as record};
use notes_core::adapters::keys::connection_shard;
use notes_core::domain::broadcast::BroadcastMessage;
use notes_core::domain::lifecycle::Provenance;
use notes_core::domain::{Note, NoteChange, NoteContent, NoteId, Timestamp, Username};
use notes_core::ports::NoteStore;
use notes_core::ports::{Connection, ConnectionStore};
use serde_json::{Value, json};

struct World {
    table: Arc<InMemoryTable>,
    pusher: Arc<RecordingPusher>,
    app: Broadcast,
}

/// Connection ids, found by trying, whose shard is `shard`.
fn ids_in_shard(shard: u32, prefix: &str, count: usize) -> Vec<String> {
    (0..).map(|i| format!("{prefix}{i}")).filter(|id| connection_shard(id) == shard).take(count).collect()
}

/// In shard 0: alice's a0…, bob's b0…, carol's c0…; in shard 1: bob's and carol's.
async fn world() -> World {
    let table = Arc::new(InMemoryTable::new());
    for shard in [0, 1] {
        for (user, prefix) in [("alice", "a"), ("bob", "b"), ("carol", "c")] {
            if shard == 1 && user == "alice" {
                continue;
            }
            for id in ids_in_shard(shard, prefix, 2) {
                // Open for a minute: past the handshake, when a 410 means gone.
                let connected_at = Timestamp::now().plus_seconds(-60);
                let connection = Connection {
                    connection_id: id,
                    username: Username::parse(user).unwrap(),
                    connected_at,
                    expires_at: connected_at.plus_seconds(7200),
                };
                table.add(&connection).await.unwrap();
            }
        }
    }
    table.put_note(&shown_note());
    let pusher = Arc::new(RecordingPusher::new());
    let app = Broadcast::new(table.clone(), table.clone(), pusher.clone());
    World { table, pusher, app }
}

/// The public note of alice's that [`detail`] shows, stored at the version it shows.
fn shown_note() -> Note {
    let mut note = notes_core::adapters::fakes::note("alice", "A public note", true);
    note.note_id = NoteId::parse(NOTE_ID).unwrap();
    note
}

const NOTE_ID: &str = "0195f1c2-6a4b-7c3d-8e9f-0a1b2c3d4e5f";

/// A public note of alice's, as other users may see it.
fn detail() -> Value {
    json!({
        "eventType": "note-saved", "eventVersion": 1, "eventId": "4c8e1f0a-2b3d-5e6f-8a9b-0c1d2e3f4a5b",
        "timestamp": "2026-11-23T10:15:30.456Z", "correlationId": "c-1",
        "noteId": "0195f1c2-6a4b-7c3d-8e9f-0a1b2c3d4e5f", "username": "alice",
        "content": "A public note", "isPublic": true, "savedAt": "2026-11-23T10:15:30.456Z", "version": 1
    })
}

fn shard(n: u32) -> String {
    BroadcastMessage { shard: n, detail: detail() }.to_body()
}

fn failed(response: &aws_lambda_events::event::sqs::SqsBatchResponse) -> Vec<String> {
    response.batch_item_failures.iter().map(|f| f.item_identifier.clone()).collect()
}

fn in_shard(w: &World, n: u32) -> Vec<String> {
    w.pusher.recipients().into_iter().filter(|id| connection_shard(id) == n).collect()
}

#[tokio::test]
async fn a_message_reaches_every_other_users_connection_of_its_shard_once() {
    let w = world().await;
    let response = notes_core::adapters::fakes::deliver(&w.app, batch(vec![record("m-0", shard(0))])).await;
    assert!(failed(&response).is_empty());
    let mut expected = [ids_in_shard(0, "b", 2), ids_in_shard(0, "c", 2)].concat();
    expected.sort();
    assert_eq!(w.pusher.recipients(), expected);
}

#[tokio::test]
async fn the_owners_connections_are_skipped_as_notify_reaches_them() {
    let w = world().await;
    notes_core::adapters::fakes::deliver(&w.app, batch(vec![record("m-0", shard(0))])).await;
    assert!(w.pusher.recipients().iter().all(|id| !id.starts_with('a')), "{:?}", w.pusher.recipients());
}

#[tokio::test]
async fn the_detail_is_pushed_as_notify_wrote_it() {
    let w = world().await;
    let mut without_content = detail();
    without_content.as_object_mut().unwrap().remove("content");
    let body = BroadcastMessage { shard: 0, detail: without_content.clone() }.to_body();
    notes_core::adapters::fakes::deliver(&w.app, batch(vec![record("m-0", body)])).await;
    for (_, message) in w.pusher.sent() {
        assert_eq!(message, without_content, "nothing added, nothing taken away");
    }
}

#[tokio::test]
async fn a_message_reaches_no_connection_of_another_shard() {
    let w = world().await;
    notes_core::adapters::fakes::deliver(&w.app, batch(vec![record("m-1", shard(1))])).await;
    assert!(!w.pusher.recipients().is_empty());
    assert!(w.pusher.recipients().iter().all(|id| connection_shard(id) == 1));
}

#[tokio::test]
async fn a_shard_whose_push_failed_is_retried_alone() {
    let w = world().await;
    let flaky = ids_in_shard(1, "b", 1).remove(0);
    w.pusher.mark_unavailable(&flaky);
    let response =
        notes_core::adapters::fakes::deliver(&w.app, batch(vec![record("m-0", shard(0)), record("m-1", shard(1))]))
            .await;
    assert_eq!(failed(&response), vec!["m-1"]);
    assert_eq!(in_shard(&w, 0).len(), 4, "shard 0 is done");
    assert_eq!(w.table.connection_ids().len(), 10, "a transient failure removes nothing");

    // The retry reaches the connection that missed it; its shard-mates see the same eventId again.
    w.pusher.heal(&flaky);
    let response = notes_core::adapters::fakes::deliver(&w.app, batch(vec![record("m-1", shard(1))])).await;
    assert!(failed(&response).is_empty());
    assert_eq!(in_shard(&w, 0).len(), 4, "shard 0 is not pushed again");
    assert_eq!(in_shard(&w, 1).iter().filter(|id| **id == flaky).count(), 1);
    assert_eq!(in_shard(&w, 1).len(), 3 + 4, "three before, four on the retry");
}

#[tokio::test]
async fn a_gone_connection_is_removed_and_the_shard_is_done() {
    let w = world().await;
    let gone = ids_in_shard(0, "c", 1).remove(0);
    w.pusher.mark_gone(&gone);
    let response = notes_core::adapters::fakes::deliver(&w.app, batch(vec![record("m-0", shard(0))])).await;
    assert!(failed(&response).is_empty());
    assert!(!w.table.connection_ids().contains(&gone));
    assert!(w.table.of_user(&Username::parse("alice").unwrap()).await.unwrap().len() == 2, "alice's are kept");
}

#[tokio::test]
async fn an_unreadable_shard_is_retried() {
    let w = world().await;
    w.table.set_unavailable(true);
    let response = notes_core::adapters::fakes::deliver(&w.app, batch(vec![record("m-0", shard(0))])).await;
    assert_eq!(failed(&response), vec!["m-0"]);
    assert!(w.pusher.sent().is_empty());
}

#[tokio::test]
async fn a_body_that_is_not_a_broadcast_message_goes_towards_the_dlq_without_holding_back_the_others() {
    let w = world().await;
    let poison = record("poison", r#"{"detail": "alice"}"#.into());
    let response = notes_core::adapters::fakes::deliver(&w.app, batch(vec![poison, record("m-0", shard(0))])).await;
    assert_eq!(failed(&response), vec!["poison"]);
    assert_eq!(in_shard(&w, 0).len(), 4);
}

#[tokio::test]
async fn the_sample_broadcast_batch_is_pushed() {
    let raw =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../events/sqs-broadcast-batch.json")).unwrap();
    let w = world().await;
    let response = notes_core::adapters::fakes::deliver(&w.app, serde_json::from_str(&raw).unwrap()).await;
    assert!(failed(&response).is_empty());
    assert_eq!(w.pusher.recipients().len(), 8, "bob's and carol's in shards 0 and 1; alice's skipped");
}

#[tokio::test(start_paused = true)]
async fn a_batch_running_out_of_time_reports_the_shards_it_could_not_start_and_pushes_no_shard_twice() {
    let w = world().await;
    // Every push takes 12 s: four shards at a time end at 12 s and 24 s; the last two could not
    // end before broadcast's 30 s timeout, when Lambda would fail the whole batch and every shard
    // of it would be pushed again.
    w.pusher.slow(std::time::Duration::from_secs(12));
    let records = (0..10).map(|i| record(&format!("m-{i}"), shard(i % 2))).collect();
    let started = tokio::time::Instant::now();
    let response = notes_core::adapters::fakes::deliver(&w.app, batch(records)).await;

    assert!(started.elapsed() <= std::time::Duration::from_secs(30), "answered after {:?}", started.elapsed());
    let mut reported = failed(&response);
    reported.sort();
    assert_eq!(reported.len(), 2, "{reported:?}");
    // Each shard message not reported was pushed once to every other user's connection in it.
    let pushed_messages = 10 - reported.len();
    let per_shard = |n: u32| ids_in_shard(n, "b", 2).len() + ids_in_shard(n, "c", 2).len();
    let expected: usize = (0..10u32).filter(|i| !reported.contains(&format!("m-{i}"))).map(|i| per_shard(i % 2)).sum();
    assert_eq!(w.pusher.sent().len(), expected, "{pushed_messages} shard messages pushed");
}

#[tokio::test]
async fn a_shards_message_showing_a_version_the_note_has_left_is_pushed_to_no_one() {
    // Between notify's check and this shard's turn, alice made the note private.
    let w = world().await;
    let note = shown_note();
    let change = NoteChange { content: Some(NoteContent::parse("now mine only").unwrap()), is_public: Some(false) };
    let hidden = note.changed(&change, Timestamp::now());
    w.table.replace(&note, &hidden, &Provenance::request("r")).await.unwrap();
    let response = notes_core::adapters::fakes::deliver(&w.app, batch(vec![record("m-0", shard(0))])).await;
    assert!(failed(&response).is_empty(), "acknowledged: the newer event carries the truth");
    assert!(w.pusher.recipients().is_empty());
}

#[tokio::test]
async fn a_shards_message_for_a_deleted_note_is_pushed_to_no_one() {
    let w = world().await;
    let note = shown_note();
    let tombstone =
        notes_core::domain::lifecycle::Tombstone::replacing(&note, Timestamp::now(), Timestamp::now().plus_seconds(60));
    w.table.delete(&note, &tombstone, &Provenance::request("r")).await.unwrap();
    let response = notes_core::adapters::fakes::deliver(&w.app, batch(vec![record("m-0", shard(0))])).await;
    assert!(failed(&response).is_empty());
    assert!(w.pusher.recipients().is_empty());
}
