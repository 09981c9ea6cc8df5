//! Creates the stack's resources in the emulators, from `shared/topology.json` (the file the CDK
//! app builds from): the table with TTL, the bus, the note-created and broadcast queues and their
//! DLQs (redrive after `maxReceiveCount`), the rules, and the archive.
//!
//! The table goes to DynamoDB's endpoint (DynamoDB Local), the rest to moto; a table that exists
//! already (DynamoDB Local keeping its data in a folder across restarts) is kept with its items.
//!
//! One difference from AWS, forced by the emulator: moto cannot invoke a Lambda function, so
//! the rule that targets `notify` in AWS targets a local queue here, which the stack polls and
//! hands to the same `notify` handler ([`crate::async_invocation`]). That queue stands in for
//! Lambda's asynchronous invocation: a failed event is tried again after a short delay, and
//! after 3 attempts (Lambda's default: 1 try + 2 retries) it goes to the notify DLQ.

use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, StreamSpecification, StreamViewType, TimeToLiveSpecification, TimeToLiveStatus,
};
use aws_sdk_sqs::types::QueueAttributeName;
use notes_core::adapters::keys;
use notes_core::topology::{WorkQueue, topology};

use crate::config::{StackConfig, StackError};

/// Attempts of an event at a rule's local stand-in target before it goes to the DLQ: Lambda's
/// default for an asynchronous invocation (1 try + 2 retries).
pub const ASYNC_ATTEMPTS: u32 = 3;

/// Where a queue is.
#[derive(Debug, Clone)]
pub struct QueueAddress {
    pub url: String,
    pub arn: String,
}

/// Names and addresses of what was provisioned.
#[derive(Debug, Clone)]
pub struct Resources {
    pub table_name: String,
    pub bus_name: String,
    pub note_queue_url: String,
    pub note_queue_arn: String,
    pub note_dlq_url: String,
    pub notify_queue_url: String,
    pub notify_dlq_url: String,
    pub broadcast_queue_url: String,
    pub broadcast_queue_arn: String,
    pub broadcast_dlq_url: String,
    /// The stream mapping's on-failure destination.
    pub change_failures_url: String,
    pub archive_name: String,
}

impl Resources {
    /// The work queue declared as `name` in `queues` (a function's queue trigger).
    pub fn work_queue(&self, name: &str) -> Option<QueueAddress> {
        let (url, arn) = match name {
            "noteCreated" => (&self.note_queue_url, &self.note_queue_arn),
            "broadcastShards" => (&self.broadcast_queue_url, &self.broadcast_queue_arn),
            _ => return None,
        };
        Some(QueueAddress { url: url.clone(), arn: arn.clone() })
    }

    /// The stand-in queue of the rule declared as `name` in `rules`, when it invokes a function.
    pub fn rule_target(&self, name: &str) -> Option<String> {
        (name == "noteResultsToNotify").then(|| self.notify_queue_url.clone())
    }
}

fn failed(what: &str, err: impl std::error::Error) -> StackError {
    StackError::Provision(format!("{what}: {}", aws_sdk_dynamodb::error::DisplayErrorContext(err)))
}

/// The names of the note-created DLQ and queue of the stack named `prefix`.
pub fn note_queue_names(prefix: &str) -> (String, String) {
    (format!("{prefix}-note-created-dlq"), format!("{prefix}-note-created"))
}

pub async fn provision(sdk: &SdkConfig, config: &StackConfig) -> Result<Resources, StackError> {
    let prefix = &config.prefix;
    let t = topology();
    let table_name = prefix.clone();
    create_table(sdk, &table_name).await?;

    let sqs = aws_sdk_sqs::Client::new(sdk);
    let note_queue = &t.queues.note_created;
    let (note_main, note_dlq) = create_work_queue(
        &sqs,
        &note_queue_names(prefix).1,
        note_queue,
        t.queues.note_created_dlq.retention_seconds,
        config.visibility_timeout_seconds.unwrap_or(note_queue.visibility_timeout_seconds),
    )
    .await?;
    let broadcast_queue = &t.queues.broadcast_shards;
    let broadcast_timeout = t
        .consumer_of("broadcastShards")
        .map_or(broadcast_queue.visibility_timeout_seconds, |f| t.functions[f].timeout_seconds);
    let (broadcast_main, broadcast_dlq) = create_work_queue(
        &sqs,
        &format!("{prefix}-broadcast-shards"),
        broadcast_queue,
        t.queues.broadcast_shards_dlq.retention_seconds,
        // The override shortens retries here too, but never below `broadcast`'s own timeout: a
        // shard must not come back while an invocation may still be pushing it.
        config
            .visibility_timeout_seconds
            .map_or(broadcast_queue.visibility_timeout_seconds, |seconds| seconds.max(broadcast_timeout)),
    )
    .await?;
    let notify_dlq =
        create_queue(&sqs, &format!("{prefix}-notify-dlq"), t.queues.notify_dlq.retention_seconds, None, None).await?;
    let notify_queue = create_queue(
        &sqs,
        &format!("{prefix}-notify-target"),
        t.queues.notify_dlq.retention_seconds,
        Some(QueueSettings { visibility_timeout_seconds: config.notify_retry_seconds, receive_wait_time_seconds: 20 }),
        Some((&notify_dlq.arn, ASYNC_ATTEMPTS)),
    )
    .await?;

    let change_failures = create_queue(
        &sqs,
        &format!("{prefix}-note-changes-failed"),
        t.queues.note_changes_failed.retention_seconds,
        None,
        None,
    )
    .await?;

    let events = aws_sdk_eventbridge::Client::new(sdk);
    let bus_name = format!("{prefix}-bus");
    let bus = events.create_event_bus().name(&bus_name).send().await.map_err(|e| failed("event bus", e))?;
    let bus_arn = bus.event_bus_arn.unwrap_or_default();
    put_rule(
        &events,
        &bus_name,
        &format!("{prefix}-note-created-to-queue"),
        &t.rules.note_created_to_queue.event_pattern,
        &note_main.arn,
    )
    .await?;
    put_rule(
        &events,
        &bus_name,
        &format!("{prefix}-note-results-to-notify"),
        &t.rules.note_results_to_notify.event_pattern,
        &notify_queue.arn,
    )
    .await?;
    let archive_name = format!("{prefix}-archive");
    events
        .create_archive()
        .archive_name(&archive_name)
        .event_source_arn(&bus_arn)
        .event_pattern(t.archive.event_pattern.to_string())
        .retention_days(i32::try_from(t.archive.retention_days).unwrap_or(30))
        .send()
        .await
        .map_err(|e| failed("archive", e))?;

    Ok(Resources {
        table_name,
        bus_name,
        note_queue_url: note_main.url,
        note_queue_arn: note_main.arn,
        note_dlq_url: note_dlq.url,
        notify_queue_url: notify_queue.url,
        notify_dlq_url: notify_dlq.url,
        broadcast_queue_url: broadcast_main.url,
        broadcast_queue_arn: broadcast_main.arn,
        broadcast_dlq_url: broadcast_dlq.url,
        change_failures_url: change_failures.url,
        archive_name,
    })
}

/// The stream view the topology declares (`NEW_AND_OLD_IMAGES`).
fn stream_view_type() -> StreamViewType {
    StreamViewType::from(topology().table.stream.as_str())
}

fn stream_specification() -> StreamSpecification {
    StreamSpecification::builder().stream_enabled(true).stream_view_type(stream_view_type()).build().expect("complete")
}

/// The table as the CDK app makes it (keys `pk`/`sk`, on demand, TTL on `ttl`, the sparse public
/// feed index, the stream with old and new images), or the one of that name that exists already
/// (its stream turned on if it has none).
pub async fn create_table(sdk: &SdkConfig, name: &str) -> Result<(), StackError> {
    let dynamodb = aws_sdk_dynamodb::Client::new(sdk);
    let feed = &topology().table.public_feed;
    let attribute = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .expect("complete")
    };
    let key = |name: &str, kind: KeyType| {
        KeySchemaElement::builder().attribute_name(name).key_type(kind).build().expect("complete")
    };
    let created = dynamodb
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute(keys::PK))
        .attribute_definitions(attribute(keys::SK))
        .key_schema(key(keys::PK, KeyType::Hash))
        .key_schema(key(keys::SK, KeyType::Range))
        .attribute_definitions(attribute(&feed.partition_key))
        .attribute_definitions(attribute(&feed.sort_key))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(&feed.index_name)
                .key_schema(key(&feed.partition_key, KeyType::Hash))
                .key_schema(key(&feed.sort_key, KeyType::Range))
                .projection(Projection::builder().projection_type(ProjectionType::All).build())
                .build()
                .expect("complete"),
        )
        .stream_specification(stream_specification())
        .send()
        .await;
    match created {
        Ok(_) => {}
        // Kept from an earlier run by a DynamoDB Local with a data folder: used as it is.
        Err(err) if err.as_service_error().is_some_and(|e| e.is_resource_in_use_exception()) => {
            tracing::info!(table = name, "the table exists already; keeping its items");
            let described = dynamodb.describe_table().table_name(name).send().await.map_err(|e| failed("table", e))?;
            let streaming = described
                .table()
                .and_then(|t| t.stream_specification())
                .is_some_and(|s| s.stream_enabled() && s.stream_view_type() == Some(&stream_view_type()));
            if !streaming {
                dynamodb
                    .update_table()
                    .table_name(name)
                    .stream_specification(stream_specification())
                    .send()
                    .await
                    .map_err(|e| failed("table stream", e))?;
            }
        }
        Err(err) => return Err(failed("table", err)),
    }
    let ttl = dynamodb.describe_time_to_live().table_name(name).send().await.map_err(|e| failed("table TTL", e))?;
    let ttl = ttl.time_to_live_description();
    if ttl.and_then(|d| d.attribute_name()) == Some(keys::TTL)
        && ttl.and_then(|d| d.time_to_live_status()) == Some(&TimeToLiveStatus::Enabled)
    {
        return Ok(());
    }
    dynamodb
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(
            TimeToLiveSpecification::builder().enabled(true).attribute_name(keys::TTL).build().expect("complete"),
        )
        .send()
        .await
        .map_err(|e| failed("table TTL", e))?;
    Ok(())
}

/// A work queue named `name` and its DLQ (`{name}-dlq`), which takes a message after the
/// queue's `maxReceiveCount` receives; messages stay invisible for `visibility_seconds`.
async fn create_work_queue(
    sqs: &aws_sdk_sqs::Client,
    name: &str,
    queue: &WorkQueue,
    dlq_retention_seconds: u32,
    visibility_seconds: u32,
) -> Result<(QueueAddress, QueueAddress), StackError> {
    let dlq = create_queue(sqs, &format!("{name}-dlq"), dlq_retention_seconds, None, None).await?;
    let settings = QueueSettings {
        visibility_timeout_seconds: visibility_seconds,
        receive_wait_time_seconds: queue.receive_wait_time_seconds,
    };
    let main =
        create_queue(sqs, name, queue.retention_seconds, Some(settings), Some((&dlq.arn, queue.max_receive_count)))
            .await?;
    Ok((main, dlq))
}

struct QueueSettings {
    visibility_timeout_seconds: u32,
    receive_wait_time_seconds: u32,
}

async fn create_queue(
    sqs: &aws_sdk_sqs::Client,
    name: &str,
    retention_seconds: u32,
    settings: Option<QueueSettings>,
    dead_letters: Option<(&str, u32)>,
) -> Result<QueueAddress, StackError> {
    let mut request = sqs
        .create_queue()
        .queue_name(name)
        .attributes(QueueAttributeName::MessageRetentionPeriod, retention_seconds.to_string());
    if let Some(settings) = settings {
        request = request
            .attributes(QueueAttributeName::VisibilityTimeout, settings.visibility_timeout_seconds.to_string())
            .attributes(
                QueueAttributeName::ReceiveMessageWaitTimeSeconds,
                settings.receive_wait_time_seconds.to_string(),
            );
    }
    if let Some((dlq_arn, max_receive_count)) = dead_letters {
        let policy = serde_json::json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive_count});
        request = request.attributes(QueueAttributeName::RedrivePolicy, policy.to_string());
    }
    let url = request.send().await.map_err(|e| failed(name, e))?.queue_url.unwrap_or_default();
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| failed(name, e))?;
    let arn = attributes.attributes.and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned()).unwrap_or_default();
    Ok(QueueAddress { url, arn })
}

async fn put_rule(
    events: &aws_sdk_eventbridge::Client,
    bus: &str,
    name: &str,
    pattern: &serde_json::Value,
    queue_arn: &str,
) -> Result<(), StackError> {
    events
        .put_rule()
        .name(name)
        .event_bus_name(bus)
        .event_pattern(pattern.to_string())
        .send()
        .await
        .map_err(|e| failed(name, e))?;
    let target = aws_sdk_eventbridge::types::Target::builder().id("queue").arn(queue_arn).build().expect("complete");
    events.put_targets().rule(name).event_bus_name(bus).targets(target).send().await.map_err(|e| failed(name, e))?;
    Ok(())
}
