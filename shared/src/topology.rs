//! The event topology in `shared/topology.json`: queues, rules, the event source mapping and
//! per-function limits. The local stack provisions from it and the CDK app builds from it, so
//! the two cannot drift; code that needs one of its numbers reads it here.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

pub const SOURCE: &str = include_str!("../topology.json");

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Topology {
    pub event_source: String,
    pub archive: Archive,
    pub queues: Queues,
    pub rules: Rules,
    pub save_note_event_source: EventSourceMapping,
    pub functions: BTreeMap<String, FunctionLimits>,
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
    pub target: String,
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
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionLimits {
    pub timeout_seconds: u32,
    pub memory_mb: u32,
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
        assert_eq!(t.event_source, crate::events::EVENT_SOURCE);
        assert_eq!(t.queues.note_created.max_receive_count, 3);
        assert_eq!(t.queues.note_created_dlq.retention_seconds, 14 * 24 * 3600);
        assert_eq!(t.archive.retention_days, 30);
        assert_eq!(t.save_note_event_source.batch_size, 10);
        assert!(t.save_note_event_source.report_batch_item_failures);
    }

    #[test]
    fn the_queue_outlasts_six_save_note_timeouts() {
        let t = topology();
        let save_timeout = t.functions["save-note"].timeout_seconds;
        assert!(t.queues.note_created.visibility_timeout_seconds >= 6 * save_timeout);
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
        let mut all: Vec<String> = crate::events::EventType::ALL.iter().map(|k| k.as_str().to_owned()).collect();
        all.sort();
        assert_eq!(routed, all);
    }
}
