//! The table stream's event source mapping, as Lambda runs it, on DynamoDB Local's Streams API.
//!
//! Each shard is read in order, about `pollsPerSecond` times a second. Records that pass the
//! mapping's filter go to the function in batches of up to `batchSize`. The function answers the
//! first record to retry from: the next invocation starts there (the records after it included),
//! so the shard never moves past a failure. A function error or timeout halves the batch
//! (`bisectBatchOnFunctionError`). After `maximumRetryAttempts` retries of one batch, or once its
//! first record is older than `maximumRecordAgeSeconds`, the batch's description goes to the
//! on-failure queue and the shard moves on, as Lambda's on-failure destination does.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_lambda_events::dynamodb::{Event as StreamEvent, EventRecord, StreamRecord};
use aws_sdk_dynamodbstreams::types::{Record, ShardIteratorType};
use notes_core::edge::function::{StreamHandler, timeout_of};
use notes_core::topology::{StreamMapping, topology};
use serde_json::{Value, json};

/// Where the mapping reads and where it sends what it gives up on.
#[derive(Debug, Clone)]
pub struct Source {
    pub table_name: String,
    pub on_failure_url: String,
}

/// How often the stream's shards are listed again, for the ones that opened since.
const DESCRIBE_EVERY: Duration = Duration::from_secs(5);

/// One shard's reading: where the next read starts, and the records read but not yet handled.
struct Shard {
    iterator: Option<String>,
    /// The sequence number of the last record read, to start again after it if the iterator
    /// expires or DynamoDB trims what it pointed at.
    last_read: Option<String>,
    pending: Vec<Record>,
    /// How many times the pending batch has been retried.
    attempts: u32,
    /// How much of the pending records the next invocation gets (halved on a function error).
    window: usize,
    /// The shard is closed and every record of it is handled.
    done: bool,
}

/// Runs the mapping for `name` until the stack stops.
pub async fn run(sdk: SdkConfig, name: &'static str, source: Source, function: Arc<dyn StreamHandler>) {
    let (_, mapping) = topology()
        .stream_of(name)
        .unwrap_or_else(|| panic!("{name} is declared with a stream trigger and its mapping"));
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    let streams = aws_sdk_dynamodbstreams::Client::new(&sdk);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let stream_arn = loop {
        match dynamodb.describe_table().table_name(&source.table_name).send().await {
            Ok(out) => match out.table().and_then(|t| t.latest_stream_arn()) {
                Some(arn) => break arn.to_owned(),
                None => {
                    tracing::error!(table = source.table_name, "the table has no stream; nothing to read");
                    return;
                }
            },
            Err(err) => {
                tracing::warn!(error = %aws_sdk_dynamodb::error::DisplayErrorContext(err), "the table could not be described; trying again");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    };
    let mapper = Mapper { name, mapping, function, timeout: timeout_of(name), stream_arn, sqs, source };
    let period = Duration::from_millis(1000 / u64::from(mapping.polls_per_second.max(1)));
    let mut shards: BTreeMap<String, Shard> = BTreeMap::new();
    let mut described = tokio::time::Instant::now() - DESCRIBE_EVERY;
    loop {
        let started = tokio::time::Instant::now();
        if started.duration_since(described) >= DESCRIBE_EVERY {
            mapper.discover(&streams, &mut shards).await;
            described = started;
        }
        for (shard_id, shard) in shards.iter_mut().filter(|(_, s)| !s.done) {
            mapper.step(&streams, shard_id, shard).await;
        }
        tokio::time::sleep_until(started + period).await;
    }
}

struct Mapper {
    name: &'static str,
    mapping: &'static StreamMapping,
    function: Arc<dyn StreamHandler>,
    timeout: Duration,
    stream_arn: String,
    sqs: aws_sdk_sqs::Client,
    source: Source,
}

impl Mapper {
    /// Adds the shards not read yet, each from its oldest record (`startingPosition`).
    async fn discover(&self, streams: &aws_sdk_dynamodbstreams::Client, shards: &mut BTreeMap<String, Shard>) {
        let described = match streams.describe_stream().stream_arn(&self.stream_arn).send().await {
            Ok(out) => out,
            Err(err) => {
                tracing::warn!(error = %aws_sdk_dynamodbstreams::error::DisplayErrorContext(err), "the stream could not be described");
                return;
            }
        };
        let listed = described.stream_description().map(|d| d.shards()).unwrap_or_default();
        for shard in listed {
            let Some(id) = shard.shard_id() else { continue };
            if shards.contains_key(id) {
                continue;
            }
            let position = ShardIteratorType::from(self.mapping.starting_position.as_str());
            let iterator = streams
                .get_shard_iterator()
                .stream_arn(&self.stream_arn)
                .shard_id(id)
                .shard_iterator_type(position)
                .send()
                .await;
            match iterator {
                Ok(out) => {
                    let window = self.mapping.batch_size as usize;
                    let iterator = out.shard_iterator;
                    let shard =
                        Shard { iterator, last_read: None, pending: Vec::new(), attempts: 0, window, done: false };
                    shards.insert(id.to_owned(), shard);
                }
                Err(err) => tracing::warn!(
                    shard = id,
                    error = %aws_sdk_dynamodbstreams::error::DisplayErrorContext(err),
                    "no iterator for the shard yet"
                ),
            }
        }
    }

    /// One poll of one shard: read what is new (unless a batch is still pending), then hand the
    /// pending batch to the function.
    async fn step(&self, streams: &aws_sdk_dynamodbstreams::Client, shard_id: &str, shard: &mut Shard) {
        if shard.pending.is_empty() {
            let Some(iterator) = shard.iterator.take() else {
                shard.done = true;
                return;
            };
            let limit = i32::try_from(self.mapping.batch_size).unwrap_or(100).clamp(1, 1000);
            match streams.get_records().shard_iterator(&iterator).limit(limit).send().await {
                Ok(out) => {
                    shard.iterator = out.next_shard_iterator;
                    let records = out.records.unwrap_or_default();
                    if let Some(last) = records.last().and_then(sequence_of) {
                        shard.last_read = Some(last.to_owned());
                    }
                    shard.pending = records.into_iter().filter(|r| self.passes_filter(r)).collect();
                    shard.window = self.mapping.batch_size as usize;
                    shard.attempts = 0;
                }
                Err(err) => {
                    let stale = err
                        .as_service_error()
                        .is_some_and(|e| e.is_expired_iterator_exception() || e.is_trimmed_data_access_exception());
                    if stale {
                        // Read again from after the last record read (or from the oldest one).
                        tracing::info!(shard = shard_id, "the shard iterator is stale; getting a new one");
                        let fresh = self.iterator_after(streams, shard_id, shard.last_read.as_deref()).await;
                        shard.iterator = fresh.or(Some(iterator));
                    } else {
                        tracing::warn!(shard = shard_id, error = %aws_sdk_dynamodbstreams::error::DisplayErrorContext(err), "the shard could not be read");
                        shard.iterator = Some(iterator);
                    }
                    return;
                }
            }
        }
        if shard.pending.is_empty() {
            return;
        }
        let batch = &shard.pending[..shard.window.clamp(1, shard.pending.len())];
        let event = stream_event(batch, &self.stream_arn);
        let answered = tokio::time::timeout(self.timeout, self.function.call(event)).await;
        let retry_from = match answered {
            Ok(response) => match response.batch_item_failures.first() {
                None => {
                    let handled = batch.len();
                    shard.pending.drain(..handled);
                    shard.window = self.mapping.batch_size as usize;
                    shard.attempts = 0;
                    return;
                }
                Some(failure) => {
                    let named = failure.item_identifier.as_deref();
                    // An identifier that names no record of the batch fails the whole batch, as in Lambda.
                    batch.iter().position(|r| sequence_of(r) == named).unwrap_or(0)
                }
            },
            Err(_) => {
                tracing::error!(function = self.name, "the invocation timed out; the batch is retried");
                if self.mapping.bisect_batch_on_function_error {
                    shard.window = (batch.len() / 2).max(1);
                }
                0
            }
        };
        shard.pending.drain(..retry_from);
        shard.attempts += 1;
        if shard.attempts > self.mapping.maximum_retry_attempts || self.too_old(&shard.pending) {
            let end = shard.window.clamp(1, shard.pending.len());
            let given_up: Vec<Record> = shard.pending.drain(..end).collect();
            self.send_to_on_failure(shard_id, &given_up, shard.attempts).await;
            shard.attempts = 0;
            shard.window = self.mapping.batch_size as usize;
        }
    }

    /// A new iterator of the shard: after `last_read`, or from its oldest record.
    async fn iterator_after(
        &self,
        streams: &aws_sdk_dynamodbstreams::Client,
        shard_id: &str,
        last_read: Option<&str>,
    ) -> Option<String> {
        let request = streams.get_shard_iterator().stream_arn(&self.stream_arn).shard_id(shard_id);
        let request = match last_read {
            Some(sequence) => {
                request.shard_iterator_type(ShardIteratorType::AfterSequenceNumber).sequence_number(sequence)
            }
            None => request.shard_iterator_type(ShardIteratorType::TrimHorizon),
        };
        match request.send().await {
            Ok(out) => out.shard_iterator,
            Err(err) => {
                tracing::warn!(shard = shard_id, error = %aws_sdk_dynamodbstreams::error::DisplayErrorContext(err), "no new iterator for the shard");
                None
            }
        }
    }

    /// Whether the record passes the mapping's filter pattern (Lambda's filter criteria).
    fn passes_filter(&self, record: &Record) -> bool {
        let keys = record.dynamodb().and_then(|d| d.keys()).cloned().unwrap_or_default();
        let keys: serde_dynamo::Item = keys.into();
        let document = json!({ "eventName": record.event_name().map(|n| n.as_str()), "dynamodb": { "Keys": keys } });
        matches_pattern(&self.mapping.filter_pattern, &document)
    }

    fn too_old(&self, pending: &[Record]) -> bool {
        let Some(first) = pending.first() else { return false };
        let Some(created) = first.dynamodb().and_then(|d| d.approximate_creation_date_time()) else { return false };
        let age = chrono::Utc::now().timestamp() - created.secs();
        age > i64::from(self.mapping.maximum_record_age_seconds)
    }

    /// What Lambda sends its on-failure destination: the batch's description, not its records.
    async fn send_to_on_failure(&self, shard_id: &str, records: &[Record], attempts: u32) {
        let body = json!({
            "requestContext": {
                "functionArn": format!("arn:aws:lambda:us-east-1:123456789012:function:{}", self.name),
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": attempts,
            },
            "DDBStreamBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": records.first().and_then(sequence_of),
                "endSequenceNumber": records.last().and_then(sequence_of),
                "batchSize": records.len(),
                "streamArn": self.stream_arn,
            },
        });
        tracing::error!(
            function = self.name,
            shard = shard_id,
            records = records.len(),
            "stream records given up: sent to the on-failure queue"
        );
        let sent =
            self.sqs.send_message().queue_url(&self.source.on_failure_url).message_body(body.to_string()).send().await;
        if let Err(err) = sent {
            tracing::error!(error = %aws_sdk_sqs::error::DisplayErrorContext(err), "the on-failure queue refused the batch's description");
        }
    }
}

fn sequence_of(record: &Record) -> Option<&str> {
    record.dynamodb().and_then(|d| d.sequence_number())
}

/// The records as Lambda hands them to the function.
pub fn stream_event(records: &[Record], stream_arn: &str) -> StreamEvent {
    let mut event = StreamEvent::default();
    event.records = records.iter().map(|r| event_record(r, stream_arn)).collect();
    event
}

fn event_record(record: &Record, stream_arn: &str) -> EventRecord {
    let image = |image: Option<&std::collections::HashMap<String, aws_sdk_dynamodbstreams::types::AttributeValue>>| {
        serde_dynamo::Item::from(image.cloned().unwrap_or_default())
    };
    let change = record.dynamodb();
    let mut stream_record = StreamRecord::default();
    stream_record.keys = image(change.and_then(|c| c.keys.as_ref()));
    stream_record.old_image = image(change.and_then(|c| c.old_image.as_ref()));
    stream_record.new_image = image(change.and_then(|c| c.new_image.as_ref()));
    stream_record.sequence_number = change.and_then(|c| c.sequence_number.clone());
    stream_record.size_bytes = change.and_then(|c| c.size_bytes).unwrap_or_default();
    if let Some(created) = change.and_then(|c| c.approximate_creation_date_time())
        && let Some(at) = chrono::DateTime::from_timestamp(created.secs(), created.subsec_nanos())
    {
        stream_record.approximate_creation_date_time = at;
    }
    let mut event_record = EventRecord::default();
    event_record.event_id = record.event_id().unwrap_or_default().to_owned();
    event_record.event_name = record.event_name().map(|n| n.as_str().to_owned()).unwrap_or_default();
    event_record.event_source = Some("aws:dynamodb".into());
    event_record.event_version = record.event_version().map(str::to_owned);
    event_record.event_source_arn = Some(stream_arn.to_owned());
    event_record.aws_region = "us-east-1".into();
    event_record.change = stream_record;
    event_record
}

/// Whether `document` matches `pattern`, in the subset of Lambda's filter syntax the topology
/// uses: objects nest, and a leaf is a list of values, exact or `{"prefix": …}`, any of which matches.
pub fn matches_pattern(pattern: &Value, document: &Value) -> bool {
    match pattern {
        Value::Object(fields) => fields.iter().all(|(name, inner)| match document.get(name) {
            Some(value) => matches_pattern(inner, value),
            None => false,
        }),
        Value::Array(options) => options.iter().any(|option| match option {
            Value::Object(rule) => match rule.get("prefix").and_then(Value::as_str) {
                Some(prefix) => document.as_str().is_some_and(|s| s.starts_with(prefix)),
                None => false,
            },
            exact => exact == document,
        }),
        exact => exact == document,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_declared_filter_lets_note_keys_through_and_nothing_else() {
        let pattern = &topology().streams["noteChanges"].filter_pattern;
        let keys = |sk: &str| json!({ "dynamodb": { "Keys": { "pk": { "S": "USER#alice" }, "sk": { "S": sk } } } });
        assert!(matches_pattern(pattern, &keys("NOTE#0193")));
        for other in ["PROFILE", "CONNECTION#abc", "IDEMPOTENCY#k"] {
            assert!(!matches_pattern(pattern, &keys(other)), "{other}");
        }
    }
}
