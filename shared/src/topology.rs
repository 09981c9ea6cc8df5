//! The topology in `shared/topology.json`: queues, rules, the event source mapping and the one
//! declaration of each function (trigger, limits, configuration, permissions). The local stack
//! provisions and routes from it and the CDK app builds from it, so the two cannot drift; code
//! that needs one of its facts reads it here.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

pub const SOURCE: &str = include_str!("../topology.json");

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Topology {
    pub event_source: String,
    pub table: Table,
    pub archive: Archive,
    pub queues: Queues,
    pub rules: Rules,
    /// How Lambda hands each queue's messages to the function it triggers, by queue name.
    pub event_source_mappings: BTreeMap<String, EventSourceMapping>,
    /// How Lambda hands the table stream's records to the function it triggers, by name.
    pub streams: BTreeMap<String, StreamMapping>,
    /// Every function, by name: the name of its crate, its binary and its Lambda function.
    pub functions: BTreeMap<String, FunctionDecl>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Table {
    pub partition_key: String,
    pub sort_key: String,
    pub ttl_attribute: String,
    pub public_feed: PublicFeed,
    /// How many partitions list the open connections for a broadcast (`CONNECTIONS#{n}`), so no
    /// single partition is read for every public note, or written for every connection.
    pub connection_shards: u32,
    /// The table's stream view: old and new images, so each record tells a transition whole.
    pub stream: String,
}

/// The sparse global secondary index of public notes: only a public note carries its keys, and
/// its partition key is one of `shards` (`PUBLIC#NOTES#{n}`), so no single partition takes
/// every public note's write.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicFeed {
    pub index_name: String,
    pub partition_key: String,
    pub sort_key: String,
    pub shards: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Archive {
    pub retention_days: u32,
    pub event_pattern: serde_json::Value,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Queues {
    pub note_created: WorkQueue,
    pub note_created_dlq: DeadLetterQueue,
    pub notify_dlq: DeadLetterQueue,
    /// One message per connection shard for each public event: `notify` sends, `broadcast` pushes.
    pub broadcast_shards: WorkQueue,
    pub broadcast_shards_dlq: DeadLetterQueue,
    /// Where the stream's event source mapping sends what it gives up on (the on-failure destination).
    pub note_changes_failed: DeadLetterQueue,
}

impl Queues {
    /// The work queue named `name` (a function's `queue` trigger).
    pub fn work_queue(&self, name: &str) -> Option<&WorkQueue> {
        match name {
            "noteCreated" => Some(&self.note_created),
            "broadcastShards" => Some(&self.broadcast_shards),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkQueue {
    pub visibility_timeout_seconds: u32,
    pub receive_wait_time_seconds: u32,
    pub retention_seconds: u32,
    pub max_receive_count: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetterQueue {
    pub retention_seconds: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rules {
    pub note_created_to_queue: Rule,
    pub note_results_to_notify: Rule,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    pub event_pattern: serde_json::Value,
    /// The queue it delivers to; a rule that invokes a function is named by that function's trigger.
    #[serde(default)]
    pub target: Option<String>,
    #[serde(default)]
    pub retry_policy: Option<RetryPolicy>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetryPolicy {
    pub maximum_retry_attempts: u32,
    pub maximum_event_age_seconds: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventSourceMapping {
    pub batch_size: u32,
    pub maximum_batching_window_seconds: u32,
    pub report_batch_item_failures: bool,
    /// How many batches Lambda hands to the function at once, at most.
    pub maximum_concurrency: u32,
}

/// What invokes a function.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Trigger {
    /// A route of the HTTP API.
    Http(HttpRoute),
    /// A route key of the WebSocket API (`$connect`, `$disconnect`, `$default`).
    WebSocket(String),
    /// The mapping of `streams` that hands it batches of the table stream's records.
    Stream(String),
    /// The queue of `queues` whose event source mapping hands it batches.
    Queue(String),
    /// The rule of `rules` that invokes it asynchronously.
    Rule(String),
}

/// A DynamoDB stream event source mapping: Lambda reads each shard in order, hands the function
/// batches of records that pass `filter_pattern`, retries from the first record it reports
/// failed (halving the batch on a function error), and after `maximum_retry_attempts` (or once
/// a record is `maximum_record_age_seconds` old) sends the batch's description to `on_failure`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamMapping {
    pub starting_position: String,
    pub batch_size: u32,
    pub maximum_batching_window_seconds: u32,
    /// How often Lambda polls each shard: about four times a second.
    pub polls_per_second: u32,
    pub report_batch_item_failures: bool,
    pub bisect_batch_on_function_error: bool,
    pub maximum_retry_attempts: u32,
    pub maximum_record_age_seconds: u32,
    /// Lambda's filter criteria pattern: only records that match reach the function.
    pub filter_pattern: serde_json::Value,
    /// The queue of `queues` that takes what the mapping gives up on.
    pub on_failure: String,
}

/// A route of the HTTP API, in API Gateway's syntax (`GET /notes/{noteId}`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct HttpRoute {
    pub method: String,
    pub path: String,
}

impl HttpRoute {
    /// API Gateway's route key, e.g. `GET /notes/{noteId}`.
    pub fn key(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// The one declaration of a function.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FunctionDecl {
    pub trigger: Trigger,
    pub timeout_seconds: u32,
    pub memory_mb: u32,
    /// The configuration variables it reads (docs/configuration.md).
    pub environment: Vec<String>,
    /// The DynamoDB actions its adapters call, and nothing else.
    pub table_actions: Vec<String>,
    /// The index (of `table`) its `tableActions` also reach, if any.
    #[serde(default)]
    pub queries_index: Option<String>,
    #[serde(default)]
    pub put_events: bool,
    #[serde(default)]
    pub read_secret: bool,
    /// Posts to WebSocket connections through the Management API.
    #[serde(default)]
    pub manage_connections: bool,
    /// Hashes passwords (argon2id): its route gets a tighter throttle, its function more memory.
    #[serde(default)]
    pub hashes_passwords: bool,
    /// The work queue (of `queues`) it sends messages to, if any.
    #[serde(default)]
    pub sends_to: Option<String>,
}

impl Topology {
    /// The HTTP API's routes: (function name, route), in declaration order of names.
    pub fn http_routes(&self) -> impl Iterator<Item = (&str, &HttpRoute)> {
        self.functions.iter().filter_map(|(name, f)| match &f.trigger {
            Trigger::Http(route) => Some((name.as_str(), route)),
            _ => None,
        })
    }

    /// The event source mapping of the queue that triggers `function`, if a queue does.
    pub fn event_source_of(&self, function: &str) -> Option<(&str, &EventSourceMapping)> {
        match &self.functions.get(function)?.trigger {
            Trigger::Queue(queue) => self.event_source_mappings.get_key_value(queue).map(|(q, m)| (q.as_str(), m)),
            _ => None,
        }
    }

    /// The longest a `note-created` can come back after it was made, in seconds: kept on its
    /// queue, in its DLQ for a redrive, or in the archive for a replay, whichever is longest.
    /// `save-note` stores no `note-created` older than this (by the event's own time, which a
    /// redrive and a replay keep), and a tombstone outlives it by a day, so a deleted note's
    /// `note-created` meets its tombstone or is refused as too old, however the ways chain.
    pub fn note_created_lifetime_seconds(&self) -> i64 {
        let queue = self.queues.note_created.retention_seconds.max(self.queues.note_created_dlq.retention_seconds);
        i64::from(queue.max(self.archive.retention_days * 24 * 3600))
    }

    /// How long a deleted note's tombstone is kept: a day longer than
    /// [`Topology::note_created_lifetime_seconds`].
    pub fn tombstone_seconds(&self) -> i64 {
        self.note_created_lifetime_seconds() + 24 * 3600
    }

    /// The work queue that triggers `function`, if a queue does: its name and its settings.
    pub fn queue_of(&self, function: &str) -> Option<(&str, &WorkQueue)> {
        match &self.functions.get(function)?.trigger {
            Trigger::Queue(queue) => self.queues.work_queue(queue).map(|q| (queue.as_str(), q)),
            _ => None,
        }
    }

    /// The stream mapping that triggers `function`, if one does: its name and its settings.
    pub fn stream_of(&self, function: &str) -> Option<(&str, &StreamMapping)> {
        match &self.functions.get(function)?.trigger {
            Trigger::Stream(stream) => self.streams.get_key_value(stream).map(|(n, m)| (n.as_str(), m)),
            _ => None,
        }
    }

    /// The function a queue, a rule or a stream mapping triggers, if one does: the inverse of a
    /// function's trigger.
    pub fn consumer_of(&self, queue_or_rule: &str) -> Option<&str> {
        self.functions.iter().find_map(|(name, f)| match &f.trigger {
            Trigger::Queue(q) | Trigger::Rule(q) | Trigger::Stream(q) if q == queue_or_rule => Some(name.as_str()),
            _ => None,
        })
    }

    /// The function behind a WebSocket route key.
    pub fn websocket_function(&self, route_key: &str) -> Option<&str> {
        self.functions.iter().find_map(|(name, f)| match &f.trigger {
            Trigger::WebSocket(key) if key == route_key => Some(name.as_str()),
            _ => None,
        })
    }
}

/// The topology, parsed once.
pub fn topology() -> &'static Topology {
    static TOPOLOGY: OnceLock<Topology> = OnceLock::new();
    TOPOLOGY.get_or_init(|| serde_json::from_str(SOURCE).expect("shared/topology.json is valid"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topology_parses_and_matches_the_contract() {
        let t = topology();
        assert_eq!(t.event_source, crate::domain::events::EVENT_SOURCE);
        assert_eq!(t.queues.note_created.max_receive_count, 3);
        assert_eq!(t.queues.note_created_dlq.retention_seconds, 14 * 24 * 3600);
        assert_eq!(t.archive.retention_days, 30);
        let (queue, save_note) = t.event_source_of("save-note").unwrap();
        assert_eq!(queue, "noteCreated");
        assert_eq!(save_note.batch_size, 10);
        assert!(save_note.report_batch_item_failures);
        assert!(t.table.public_feed.shards >= 1);
        assert!(t.table.connection_shards >= 1);
        for f in t.functions.values() {
            if let Some(index) = &f.queries_index {
                assert_eq!(index, &t.table.public_feed.index_name);
            }
        }
    }

    #[test]
    fn every_queue_outlasts_six_timeouts_of_the_function_it_triggers() {
        let t = topology();
        for (name, f) in &t.functions {
            if let Trigger::Queue(queue) = &f.trigger {
                let queue = t.queues.work_queue(queue).unwrap();
                assert!(queue.visibility_timeout_seconds >= 6 * f.timeout_seconds, "{name}");
            }
        }
    }

    #[test]
    fn every_queue_trigger_has_its_queue_and_a_mapping_reporting_partial_failures() {
        let t = topology();
        let triggered: Vec<&String> = t
            .functions
            .values()
            .filter_map(|f| match &f.trigger {
                Trigger::Queue(q) => Some(q),
                _ => None,
            })
            .collect();
        assert_eq!(triggered.len(), t.event_source_mappings.len(), "a mapping without its function, or the reverse");
        for queue in triggered {
            assert!(t.queues.work_queue(queue).is_some(), "{queue}");
            let mapping = &t.event_source_mappings[queue];
            assert!(mapping.report_batch_item_failures, "{queue}");
            assert!((1..=10).contains(&mapping.batch_size), "{queue}");
        }
    }

    #[test]
    fn a_function_sends_only_to_a_work_queue_and_is_told_its_address() {
        for (name, f) in &topology().functions {
            if let Some(queue) = &f.sends_to {
                assert!(topology().queues.work_queue(queue).is_some(), "{name} sends to {queue}");
                assert!(f.environment.iter().any(|v| v == crate::edge::config::BROADCAST_QUEUE_URL), "{name}");
            }
        }
    }

    #[test]
    fn every_function_has_one_trigger_and_no_two_share_a_route() {
        let t = topology();
        let mut routes: Vec<String> = t.http_routes().map(|(_, r)| r.key()).collect();
        let count = routes.len();
        routes.sort();
        routes.dedup();
        assert_eq!(routes.len(), count, "two functions declare the same HTTP route");
        for key in ["$connect", "$disconnect", "$default"] {
            assert!(t.websocket_function(key).is_some(), "{key}");
        }
        for f in t.functions.values() {
            match &f.trigger {
                Trigger::Queue(q) => assert!(t.queues.work_queue(q).is_some(), "{q}"),
                Trigger::Rule(r) => assert_eq!(r, "noteResultsToNotify"),
                Trigger::Http(r) => assert!(r.path.starts_with('/'), "{r:?}"),
                Trigger::WebSocket(k) => assert!(k.starts_with('$'), "{k}"),
                Trigger::Stream(s) => {
                    let mapping = &t.streams[s];
                    assert_eq!(mapping.on_failure, "noteChangesFailed");
                    assert!(mapping.report_batch_item_failures && mapping.bisect_batch_on_function_error);
                }
            }
        }
    }

    #[test]
    fn rules_route_every_event_type_exactly_once() {
        let t = topology();
        let mut routed: Vec<String> = [&t.rules.note_created_to_queue, &t.rules.note_results_to_notify]
            .iter()
            .flat_map(|r| {
                r.event_pattern["detail-type"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned())
            })
            .collect();
        routed.sort();
        let mut all: Vec<String> =
            crate::domain::events::EventType::ALL.iter().map(|k| k.as_str().to_owned()).collect();
        all.sort();
        assert_eq!(routed, all);
    }
}
