//! The AWS adapters of `notes-core`, through the real SDK against the emulators `make test`
//! starts: the table on DynamoDB Local (conditional and transactional writes, queries, TTL
//! filtering), and on moto a real EventBridge rule delivering what `publish-note` emits to SQS in
//! the shape `save-note` parses, and the broadcast queue delivering what `notify` sends.

use std::sync::Arc;

use aws_config::SdkConfig;
use notes_core::adapters::aws::{DynamoTable, EventBridgeBus, SqsBroadcastQueue};
use notes_core::adapters::keys::connection_shard;
use notes_core::domain::broadcast::BroadcastMessage;
use notes_core::domain::events::{EventType, NoteEvent, created_body_digest};
use notes_core::domain::lifecycle::{FailedNote, NoteState, OwnNote, Provenance, Tombstone};
use notes_core::domain::{IdempotencyKey, Note, NoteChange, NoteContent, NoteId, NoteStatus, Timestamp, Username};
use notes_core::edge::pagination::Listed;
use notes_core::ports::{
    BroadcastQueue, ChangeOutcome, Claim, Connection, ConnectionStore, DismissOutcome, EventPublisher, FailureOutcome,
    FirstRequest, IdempotencyStore, NoteStore, PageRequest, QueueError, SaveOutcome, StoreError, UserRecord, UserStore,
};
use notes_e2e::{env_endpoint, unique};
use notes_local::{Resources, StackConfig};

struct Aws {
    sdk: SdkConfig,
    resources: Resources,
    table: DynamoTable,
}

async fn aws() -> Aws {
    let sdk = notes_e2e::shared_emulators().await;
    let config = StackConfig { prefix: unique("adapters"), ..StackConfig::default() };
    let resources = notes_local::provision::provision(&sdk, &config).await.expect("provisioned");
    let table = DynamoTable::new(aws_sdk_dynamodb::Client::new(&sdk), &resources.table_name);
    Aws { sdk, resources, table }
}

fn user(name: &str) -> Username {
    Username::parse(name).unwrap()
}

async fn with_user(table: &DynamoTable, name: &str) -> Username {
    let record =
        UserRecord { username: user(name), password_hash: "$argon2id$v=19$x".into(), created_at: Timestamp::now() };
    assert!(table.create(&record).await.unwrap());
    user(name)
}

fn note(owner: &Username, content: &str, is_public: bool) -> Note {
    Note {
        note_id: NoteId::new(),
        username: owner.clone(),
        content: NoteContent::parse(content).unwrap(),
        is_public,
        status: NoteStatus::Saved,
        created_at: Timestamp::now(),
        saved_at: Timestamp::now(),
        updated_at: None,
        version: 1,
    }
}

fn by() -> Provenance {
    Provenance { correlation_id: "req-1".into(), causation_id: Some(uuid::Uuid::new_v4()) }
}

fn tombstone_of(n: &Note) -> Tombstone {
    Tombstone::replacing(n, Timestamp::now(), Timestamp::now().plus_seconds(3600))
}

fn failure_of(n: &Note) -> FailedNote {
    FailedNote {
        note_id: n.note_id,
        username: n.username.clone(),
        error: "Your note was not saved because it could not be stored.".into(),
        created_at: n.created_at,
        failed_at: Timestamp::now(),
        version: 1,
        expires_at: Timestamp::now().plus_seconds(3600),
    }
}

#[tokio::test]
async fn the_table_lives_on_dynamodb_local_not_on_moto() {
    let aws = aws().await;
    let table_at = |endpoint: String| {
        let config = aws_sdk_dynamodb::config::Builder::from(&aws.sdk).endpoint_url(endpoint).build();
        aws_sdk_dynamodb::Client::from_conf(config).describe_table().table_name(&aws.resources.table_name).send()
    };
    let dynamodb_local = env_endpoint("AWS_ENDPOINT_URL_DYNAMODB").unwrap();
    let described = table_at(dynamodb_local).await.expect("the table is on DynamoDB Local");
    assert_eq!(described.table().and_then(|t| t.table_name()), Some(aws.resources.table_name.as_str()));
    let moto = env_endpoint("AWS_ENDPOINT_URL").unwrap();
    let err = table_at(moto).await.expect_err("no table of that name on moto");
    assert!(err.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()), "{err:?}");
}

#[tokio::test]
async fn a_user_name_can_be_taken_once() {
    let aws = aws().await;
    let alice = with_user(&aws.table, "alice").await;
    let again = UserRecord { username: alice.clone(), password_hash: "other".into(), created_at: Timestamp::now() };
    assert!(!aws.table.create(&again).await.unwrap());
    assert_eq!(UserStore::get(&aws.table, &alice).await.unwrap().unwrap().password_hash, "$argon2id$v=19$x");
}

#[tokio::test]
async fn a_note_is_saved_once_and_a_second_save_returns_what_was_stored() {
    let aws = aws().await;
    let alice = with_user(&aws.table, "alice").await;
    let first = note(&alice, "once", true);
    assert_eq!(aws.table.save_new(&first, &by()).await.unwrap(), SaveOutcome::Saved);

    let mut retry = first.clone();
    retry.saved_at = Timestamp::now().plus_seconds(5);
    assert_eq!(aws.table.save_new(&retry, &by()).await.unwrap(), SaveOutcome::AlreadySaved(first.clone()));
    let public = aws.table.list_public(PageRequest { limit: 10, after: None }).await.unwrap();
    assert_eq!(public.items, vec![first]);
}

#[tokio::test]
async fn a_deleted_note_leaves_a_tombstone_that_refuses_a_late_save() {
    let aws = aws().await;
    let alice = with_user(&aws.table, "alice").await;
    let n = note(&alice, "short-lived", true);
    aws.table.save_new(&n, &by()).await.unwrap();
    assert_eq!(aws.table.delete(&n, &tombstone_of(&n), &by()).await.unwrap(), ChangeOutcome::Applied);
    assert_eq!(NoteStore::get(&aws.table, &alice, n.note_id).await.unwrap(), None);
    assert!(aws.table.list_public(PageRequest { limit: 10, after: None }).await.unwrap().items.is_empty());
    assert_eq!(aws.table.save_new(&n, &by()).await.unwrap(), SaveOutcome::Deleted);
    assert!(matches!(aws.table.state(&alice, n.note_id).await.unwrap(), Some(NoteState::Deleted(t)) if t.version == 2));
}

#[tokio::test]
async fn a_dismissed_note_leaves_a_tombstone_that_refuses_its_save_and_a_stored_one_is_left_for_a_delete() {
    let aws = aws().await;
    let alice = with_user(&aws.table, "alice").await;
    let given_up = note(&alice, "never stored", true);
    let until = Timestamp::now().plus_seconds(60);
    assert_eq!(aws.table.dismiss(&alice, given_up.note_id, until, &by()).await.unwrap(), DismissOutcome::Dismissed);
    assert_eq!(aws.table.dismiss(&alice, given_up.note_id, until, &by()).await.unwrap(), DismissOutcome::Dismissed);
    assert_eq!(aws.table.save_new(&given_up, &by()).await.unwrap(), SaveOutcome::Deleted);
    assert!(aws.table.was_deleted(&alice, given_up.note_id).await.unwrap());

    let stored = note(&alice, "stored after all", false);
    aws.table.save_new(&stored, &by()).await.unwrap();
    assert_eq!(aws.table.dismiss(&alice, stored.note_id, until, &by()).await.unwrap(), DismissOutcome::Stored);
    assert_eq!(NoteStore::get(&aws.table, &alice, stored.note_id).await.unwrap(), Some(stored));
}

#[tokio::test]
async fn replace_moves_the_public_copy_with_is_public_and_refuses_a_stale_before() {
    let aws = aws().await;
    let alice = with_user(&aws.table, "alice").await;
    let original = note(&alice, "draft", false);
    aws.table.save_new(&original, &by()).await.unwrap();
    let public_page = || aws.table.list_public(PageRequest { limit: 10, after: None });

    let published = original.changed(&NoteChange { content: None, is_public: Some(true) }, Timestamp::now());
    assert_eq!(aws.table.replace(&original, &published, &by()).await.unwrap(), ChangeOutcome::Applied);
    assert_eq!(public_page().await.unwrap().items, vec![published.clone()]);

    // `original` is no longer what is stored: a change computed from it is refused.
    let stale = original
        .changed(&NoteChange { content: Some(NoteContent::parse("x").unwrap()), is_public: None }, Timestamp::now());
    assert_eq!(aws.table.replace(&original, &stale, &by()).await.unwrap(), ChangeOutcome::Conflict);

    let hidden =
        published.changed(&NoteChange { content: None, is_public: Some(false) }, Timestamp::now().plus_seconds(1));
    assert_eq!(aws.table.replace(&published, &hidden, &by()).await.unwrap(), ChangeOutcome::Applied);
    assert!(public_page().await.unwrap().items.is_empty());
    assert_eq!(NoteStore::get(&aws.table, &alice, original.note_id).await.unwrap(), Some(hidden.clone()));
    assert_eq!(hidden.version, 3);
}

#[tokio::test]
async fn the_owners_notes_list_newest_first_across_pages_without_gaps() {
    let aws = aws().await;
    let alice = with_user(&aws.table, "alice").await;
    let mut ids = Vec::new();
    for i in 0..7 {
        let n = note(&alice, &format!("note {i}"), i % 2 == 0);
        aws.table.save_new(&n, &by()).await.unwrap();
        ids.push(n.note_id);
    }
    ids.reverse();
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = aws.table.list_by_owner(&alice, PageRequest { limit: 3, after }).await.unwrap();
        seen.extend(page.items.iter().map(OwnNote::note_id));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, ids);
}

#[tokio::test]
async fn an_idempotency_key_records_the_first_event_only() {
    let aws = aws().await;
    let alice = user("alice");
    let key = IdempotencyKey::parse("k-1").unwrap();
    let request = |content: &str| {
        let content = NoteContent::parse(content).unwrap();
        let digest = created_body_digest(&content, false);
        let event = NoteEvent::note_created(NoteId::new(), alice.clone(), content, false, "r".into(), Timestamp::now());
        FirstRequest { envelope: event.envelope, body_digest: digest }
    };
    let first = request(&"a large note ".repeat(700));
    let expires = Timestamp::now().plus_seconds(60);
    assert_eq!(aws.table.claim(&alice, &key, &first, expires).await.unwrap(), Claim::New);
    assert_eq!(aws.table.claim(&alice, &key, &request("second"), expires).await.unwrap(), Claim::Existing(first));
    // The record holds no note: one write unit (1 KB), whatever the note's size.
    let item = aws_sdk_dynamodb::Client::new(&aws.sdk)
        .get_item()
        .table_name(&aws.resources.table_name)
        .key("pk", aws_sdk_dynamodb::types::AttributeValue::S(notes_core::adapters::keys::idempotency(&alice, &key).pk))
        .key("sk", aws_sdk_dynamodb::types::AttributeValue::S(notes_core::adapters::keys::idempotency(&alice, &key).sk))
        .send()
        .await
        .unwrap();
    let bytes: usize = item.item.unwrap().iter().map(|(k, v)| k.len() + v.as_s().map_or(8, String::len)).sum();
    assert!(bytes < 1024, "{bytes} bytes");
}

#[tokio::test]
async fn connections_are_found_by_owner_and_for_the_broadcast_and_removed_by_id() {
    let aws = aws().await;
    let now = Timestamp::now();
    let connection = |id: &str, who: &str, expires_at: Timestamp| Connection {
        connection_id: id.into(),
        username: user(who),
        connected_at: now,
        expires_at,
    };
    aws.table.add(&connection("a-1", "alice", now.plus_seconds(7200))).await.unwrap();
    aws.table.add(&connection("b-1", "bob", now.plus_seconds(7200))).await.unwrap();
    aws.table.add(&connection("old", "bob", now.plus_seconds(-10))).await.unwrap();

    let ids = |cs: Vec<Connection>| {
        let mut ids: Vec<String> = cs.into_iter().map(|c| c.connection_id).collect();
        ids.sort();
        ids
    };
    let every_shard = || async {
        let mut all = Vec::new();
        for shard in 0..notes_core::topology::topology().table.connection_shards {
            let found = aws.table.in_shard(shard).await.unwrap();
            assert!(found.iter().all(|c| connection_shard(&c.connection_id) == shard), "shard {shard}");
            all.extend(found);
        }
        ids(all)
    };
    assert_eq!(ids(aws.table.of_user(&user("bob")).await.unwrap()), vec!["b-1"], "expired items are skipped");
    assert_eq!(every_shard().await, vec!["a-1", "b-1"]);

    let removed = aws.table.remove("b-1").await.unwrap().unwrap();
    assert_eq!(removed.username, user("bob"));
    assert!(aws.table.of_user(&user("bob")).await.unwrap().is_empty());
    assert_eq!(every_shard().await, vec!["a-1"]);
    assert_eq!(aws.table.remove("b-1").await.unwrap(), None);
}

#[tokio::test]
async fn a_published_note_created_reaches_the_queue_through_the_rule_and_save_note_stores_it() {
    let aws = aws().await;
    let alice = with_user(&aws.table, "alice").await;
    let bus = EventBridgeBus::new(aws_sdk_eventbridge::Client::new(&aws.sdk), &aws.resources.bus_name);
    let created = NoteEvent::note_created(
        NoteId::new(),
        alice.clone(),
        NoteContent::parse("via the rule").unwrap(),
        true,
        "r-1".into(),
        Timestamp::now(),
    );
    bus.publish(std::slice::from_ref(&created)).await.unwrap();

    let sqs = aws_sdk_sqs::Client::new(&aws.sdk);
    let out = sqs
        .receive_message()
        .queue_url(&aws.resources.note_queue_url)
        .max_number_of_messages(10)
        .wait_time_seconds(5)
        .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
        .send()
        .await
        .unwrap();
    let messages = out.messages.unwrap_or_default();
    assert_eq!(messages.len(), 1, "the rule delivered exactly the note-created");

    let save_note = save_note::SaveNote::new(Arc::new(DynamoTable::new(
        aws_sdk_dynamodb::Client::new(&aws.sdk),
        &aws.resources.table_name,
    )));
    let batch = notes_local::event_source_mapping::sqs_event(&messages, &aws.resources.note_queue_arn);
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    let response = notes_core::edge::function::handle_batch(&save_note, batch, deadline).await;
    assert!(response.batch_item_failures.is_empty());
    let stored = NoteStore::get(&aws.table, &alice, created.note_id()).await.unwrap().expect("stored");
    assert_eq!(stored.content.as_str(), "via the rule");
}

#[tokio::test]
async fn the_jwt_secret_is_read_from_secrets_manager() {
    let aws = aws().await;
    let value = "a-generated-secret-of-sixty-four-characters-0123456789abcdefghij";
    let secret = aws_sdk_secretsmanager::Client::new(&aws.sdk)
        .create_secret()
        .name(unique("jwt"))
        .secret_string(value)
        .send()
        .await
        .unwrap();
    let source = notes_core::edge::config::SecretSource::SecretsManager { arn: secret.arn.unwrap() };
    assert_eq!(notes_core::adapters::aws::read_secret(&aws.sdk, source).await.unwrap(), value);

    let missing = notes_core::edge::config::SecretSource::SecretsManager {
        arn: "arn:aws:secretsmanager:us-east-1:000000000000:secret:nope".into(),
    };
    let err = notes_core::adapters::aws::read_secret(&aws.sdk, missing).await.unwrap_err();
    assert!(matches!(err, notes_core::edge::config::ConfigError::Secret(_)));
}

#[tokio::test]
async fn a_write_the_table_can_never_accept_is_rejected_not_unavailable() {
    let aws = aws().await;
    let missing = DynamoTable::new(aws_sdk_dynamodb::Client::new(&aws.sdk), unique("no-such-table"));
    let alice = user("alice");
    let outcome = missing.save_new(&note(&alice, "nowhere to go", false), &by()).await;
    assert!(matches!(outcome, Err(StoreError::Rejected(_))), "{outcome:?}");
}

#[tokio::test]
async fn put_events_that_refuses_an_entry_is_a_failed_publish() {
    let aws = aws().await;
    let nowhere = EventBridgeBus::new(aws_sdk_eventbridge::Client::new(&aws.sdk), unique("no-such-bus"));
    let event = NoteEvent::note_created(
        NoteId::new(),
        user("alice"),
        NoteContent::parse("x").unwrap(),
        false,
        "r".into(),
        Timestamp::now(),
    );
    let outcome = nowhere.publish(&[event]).await;
    assert!(outcome.is_err(), "{outcome:?}");
}

#[tokio::test]
async fn the_broadcast_queue_receives_one_message_per_shard_as_sent() {
    let aws = aws().await;
    let queue = SqsBroadcastQueue::new(aws_sdk_sqs::Client::new(&aws.sdk), &aws.resources.broadcast_queue_url);
    // Long enough that two shards' bodies do not fit in one 256 KiB call.
    let note_id = notes_core::domain::NoteId::new();
    let detail = serde_json::json!({"username": "alice", "noteId": note_id.to_string(), "content": "x".repeat(40_000)});
    let sent = BroadcastMessage::for_every_shard(&detail);
    queue.send(&sent).await.unwrap();

    let sqs = aws_sdk_sqs::Client::new(&aws.sdk);
    let mut received = Vec::new();
    for _ in 0..20 {
        let out = sqs
            .receive_message()
            .queue_url(&aws.resources.broadcast_queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        let bodies = out.messages.unwrap_or_default().into_iter().filter_map(|m| m.body);
        received.extend(
            bodies
                .map(|body| BroadcastMessage::parse(&body).unwrap())
                .map(|m| BroadcastMessage { shard: m.shard, detail: m.detail }),
        );
        if received.len() >= sent.len() {
            break;
        }
    }
    received.sort_by_key(|m| m.shard);
    assert_eq!(received, sent);
}

#[tokio::test]
async fn a_send_to_a_queue_that_does_not_exist_fails() {
    let aws = aws().await;
    let nowhere = format!("{}-{}", aws.resources.broadcast_queue_url, unique("missing"));
    let queue = SqsBroadcastQueue::new(aws_sdk_sqs::Client::new(&aws.sdk), nowhere);
    let outcome = queue.send(&BroadcastMessage::for_every_shard(&serde_json::json!({"username": "alice"}))).await;
    assert!(matches!(outcome, Err(QueueError::Unavailable(_))), "{outcome:?}");
}

/// Follows `next` from the first page; the ids in order.
async fn walk<T: Listed, F, Fut>(limit: usize, list: F) -> Vec<NoteId>
where
    F: Fn(PageRequest) -> Fut,
    Fut: std::future::Future<Output = Result<notes_core::ports::Page<T>, StoreError>>,
{
    let (mut ids, mut after) = (Vec::new(), None);
    for _ in 0..100 {
        let page = list(PageRequest { limit, after }).await.unwrap();
        ids.extend(page.items.iter().map(Listed::listed_id));
        match page.next {
            Some(next) => after = Some(next),
            None => return ids,
        }
    }
    panic!("the cursors never end");
}

#[tokio::test]
async fn the_public_feed_merges_its_shards_newest_first_and_pages_reach_each_public_note_once() {
    let aws = aws().await;
    let alice = with_user(&aws.table, "alice").await;
    let mut public = Vec::new();
    for i in 0..23 {
        let n = note(&alice, &format!("note {i}"), i % 3 != 0);
        aws.table.save_new(&n, &by()).await.unwrap();
        if n.is_public {
            public.push(n.note_id);
        }
    }
    public.reverse();
    assert_eq!(walk(4, |page| aws.table.list_public(page)).await, public);
    assert_eq!(walk(100, |page| aws.table.list_public(page)).await, public);
}

#[tokio::test]
async fn a_page_of_a_users_notes_reads_past_the_tombstones_of_deleted_ones() {
    let aws = aws().await;
    let alice = with_user(&aws.table, "alice").await;
    let mut notes = Vec::new();
    for i in 0..30 {
        let n = note(&alice, &format!("note {i}"), false);
        aws.table.save_new(&n, &by()).await.unwrap();
        notes.push(n);
    }
    // The 24 newest are deleted: their tombstones come first in a newest-first Query.
    for n in &notes[6..] {
        assert_eq!(aws.table.delete(n, &tombstone_of(n), &by()).await.unwrap(), ChangeOutcome::Applied);
    }
    let kept: Vec<NoteId> = notes[..6].iter().rev().map(|n| n.note_id).collect();
    assert_eq!(walk(3, |page| aws.table.list_by_owner(&alice, page)).await, kept);
    let first = aws.table.list_by_owner(&alice, PageRequest { limit: 20, after: None }).await.unwrap();
    assert_eq!(first.items.iter().map(OwnNote::note_id).collect::<Vec<_>>(), kept);
    assert_eq!(first.next, None);
}

#[tokio::test]
async fn a_tombstone_is_not_a_note_an_edit_can_replace() {
    let aws = aws().await;
    let alice = with_user(&aws.table, "alice").await;
    let n = note(&alice, "gone soon", true);
    aws.table.save_new(&n, &by()).await.unwrap();
    aws.table.delete(&n, &tombstone_of(&n), &by()).await.unwrap();
    // An edit computed from the note as it was before the delete.
    let edited = n.changed(&NoteChange { content: None, is_public: Some(false) }, Timestamp::now());
    assert_eq!(aws.table.replace(&n, &edited, &by()).await.unwrap(), ChangeOutcome::Conflict);
    assert!(aws.table.was_deleted(&alice, n.note_id).await.unwrap());
    assert_eq!(NoteStore::get(&aws.table, &alice, n.note_id).await.unwrap(), None);
}

#[tokio::test]
async fn a_failure_is_recorded_where_nothing_is_again_one_version_on_and_a_redrive_stores_the_note_past_it() {
    let aws = aws().await;
    let alice = with_user(&aws.table, "alice").await;
    let n = note(&alice, "failed, then redriven", true);
    assert_eq!(aws.table.record_failure(&failure_of(&n), &by()).await.unwrap(), FailureOutcome::Recorded);
    // It failed again (a try again under the same key): recorded anew, so its owner hears again.
    assert_eq!(aws.table.record_failure(&failure_of(&n), &by()).await.unwrap(), FailureOutcome::Recorded);
    assert!(matches!(aws.table.state(&alice, n.note_id).await.unwrap(), Some(NoteState::Failed(f)) if f.version == 2));
    let listed = aws.table.list_by_owner(&alice, PageRequest { limit: 10, after: None }).await.unwrap();
    assert!(
        matches!(&listed.items[..], [OwnNote::Failed(f)] if f.note_id == n.note_id && f.error == failure_of(&n).error)
    );
    assert_eq!(NoteStore::get(&aws.table, &alice, n.note_id).await.unwrap(), None);

    assert_eq!(aws.table.save_new(&n, &by()).await.unwrap(), SaveOutcome::Saved);
    let stored = NoteStore::get(&aws.table, &alice, n.note_id).await.unwrap().expect("stored over its failure");
    assert_eq!(stored.version, 3);
    assert_eq!(aws.table.list_public(PageRequest { limit: 10, after: None }).await.unwrap().items, vec![stored]);
    assert_eq!(aws.table.record_failure(&failure_of(&n), &by()).await.unwrap(), FailureOutcome::Settled);
}

#[tokio::test]
async fn a_dismiss_replaces_a_failure_with_a_tombstone_that_refuses_a_redrive() {
    let aws = aws().await;
    let alice = with_user(&aws.table, "alice").await;
    let n = note(&alice, "failed, then dismissed", false);
    aws.table.record_failure(&failure_of(&n), &by()).await.unwrap();
    let until = Timestamp::now().plus_seconds(60);
    assert_eq!(aws.table.dismiss(&alice, n.note_id, until, &by()).await.unwrap(), DismissOutcome::Dismissed);
    assert!(matches!(aws.table.state(&alice, n.note_id).await.unwrap(), Some(NoteState::Deleted(t)) if t.version == 2));
    assert_eq!(aws.table.save_new(&n, &by()).await.unwrap(), SaveOutcome::Deleted);
    assert!(aws.table.list_by_owner(&alice, PageRequest { limit: 10, after: None }).await.unwrap().items.is_empty());
}

/// Every record of the table's stream from its start, as `publish-changes` would be handed them.
async fn stream_records(aws: &Aws) -> Vec<aws_lambda_events::dynamodb::EventRecord> {
    let dynamodb = aws_sdk_dynamodb::Client::new(&aws.sdk);
    let described = dynamodb.describe_table().table_name(&aws.resources.table_name).send().await.unwrap();
    let arn = described.table().and_then(|t| t.latest_stream_arn()).expect("the table has a stream").to_owned();
    let streams = aws_sdk_dynamodbstreams::Client::new(&aws.sdk);
    let shards = streams.describe_stream().stream_arn(&arn).send().await.unwrap();
    let mut records = Vec::new();
    for shard in shards.stream_description().map(|d| d.shards()).unwrap_or_default() {
        let mut iterator = streams
            .get_shard_iterator()
            .stream_arn(&arn)
            .shard_id(shard.shard_id().unwrap())
            .shard_iterator_type(aws_sdk_dynamodbstreams::types::ShardIteratorType::TrimHorizon)
            .send()
            .await
            .unwrap()
            .shard_iterator;
        while let Some(it) = iterator {
            let out = streams.get_records().shard_iterator(it).send().await.unwrap();
            let got = out.records.unwrap_or_default();
            if got.is_empty() {
                break;
            }
            records.extend(notes_local::stream_source::stream_event(&got, &arn).records);
            iterator = out.next_shard_iterator;
        }
    }
    records
}

#[tokio::test]
async fn the_tables_stream_carries_each_committed_transition_of_a_note_in_order_as_the_adapter_wrote_it() {
    let aws = aws().await;
    let alice = with_user(&aws.table, "alice").await;
    let n = note(&alice, "a life on the stream", true);
    let saved_by = by();
    aws.table.save_new(&n, &saved_by).await.unwrap();
    let hidden = n.changed(&NoteChange { content: None, is_public: Some(false) }, Timestamp::now());
    aws.table.replace(&n, &hidden, &Provenance::request("edit")).await.unwrap();
    aws.table.delete(&hidden, &tombstone_of(&hidden), &Provenance::request("delete")).await.unwrap();

    let events: Vec<NoteEvent> = stream_records(&aws)
        .await
        .iter()
        .filter_map(|r| notes_core::adapters::aws::stream::transition_of(r).unwrap())
        .filter(|t| t.after.as_ref().or(t.before.as_ref()).map(NoteState::note_id) == Some(n.note_id))
        .filter_map(|t| NoteEvent::of_transition(&t))
        .collect();
    let kinds: Vec<(EventType, Option<u64>)> = events.iter().map(|e| (e.event_type(), e.version())).collect();
    assert_eq!(
        kinds,
        vec![(EventType::NoteSaved, Some(1)), (EventType::NoteUpdated, Some(2)), (EventType::NoteDeleted, Some(3))]
    );
    assert_eq!(events[0].envelope.causation_id, saved_by.causation_id);
    assert_eq!(events[1].to_detail()["wasPublic"], true);
    assert_eq!(events[2].correlation_id(), "delete");
}
