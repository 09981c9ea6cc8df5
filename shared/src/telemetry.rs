//! Telemetry: JSON logs through `tracing`, and metrics as CloudWatch Embedded Metric Format
//! (EMF) lines, which CloudWatch turns into metrics with no API call from the function.
//!
//! Handlers open a span carrying `correlationId` and `noteId`; the Lambda runtime's own span
//! carries `requestId`. Every log line is one JSON object with those span fields in it.

use std::sync::OnceLock;

use serde_json::{Map, Value, json};

pub const NAMESPACE: &str = "NotesSuite";

/// The metric names an operator watches.
pub mod metric {
    /// `POST /notes` answered 202.
    pub const NOTES_ACCEPTED: &str = "NotesAccepted";
    /// A note stored by `save-note`.
    pub const NOTES_SAVED: &str = "NotesSaved";
    /// A note's failure recorded by `save-note` (its `note-failed` follows from the stream).
    pub const NOTES_FAILED: &str = "NotesFailed";
    /// A `note-created` older than a tombstone covers, refused by `save-note` (stored nothing,
    /// recorded nothing): a replay or a redrive past the archive's retention.
    pub const NOTE_CREATED_TOO_OLD: &str = "NoteCreatedTooOld";
    /// An event published by `publish-changes` from a committed transition of a note.
    pub const CHANGES_PUBLISHED: &str = "ChangesPublished";
    /// Milliseconds from a change's commit (its stream record's time) to its event's publish.
    pub const CHANGE_PUBLISH_LAG: &str = "ChangePublishLag";
    /// Milliseconds from the `note-created` event's time to the note being stored.
    pub const PROCESSING_LATENCY: &str = "NoteProcessingLatency";
    /// A record of a queue handed back to SQS for a retry (a transient failure); by `service`.
    pub const RECORDS_RETRIED: &str = "NoteRecordsRetried";
    /// A record of a queue failed on its last allowed receive: SQS moves it to the dead-letter
    /// queue next; by `service`.
    pub const RECORDS_DEAD_LETTERED: &str = "NoteRecordsDeadLettered";
    /// A message pushed to a WebSocket connection.
    pub const PUSHES_SENT: &str = "PushesSent";
    /// A connection found gone (410) and removed.
    pub const CONNECTIONS_GONE: &str = "ConnectionsGone";
}

#[derive(Debug, Clone, Copy)]
pub enum Unit {
    Count,
    Milliseconds,
}

impl Unit {
    fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
        }
    }
}

static SERVICE: OnceLock<String> = OnceLock::new();

/// Sets up JSON logging for a function; `RUST_LOG` filters (default `info`).
pub fn init(service: &str) {
    let _ = SERVICE.set(service.to_owned());
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .with_timer(Rfc3339Millis)
        .try_init();
}

/// Each line's `timestamp`, in RFC 3339 UTC with milliseconds: Lambda's JSON log format reads a
/// line's `level` only when its `timestamp` is valid RFC 3339, and filters by that level.
struct Rfc3339Millis;

impl tracing_subscriber::fmt::time::FormatTime for Rfc3339Millis {
    fn format_time(&self, w: &mut tracing_subscriber::fmt::format::Writer<'_>) -> std::fmt::Result {
        write!(w, "{}", chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
    }
}

fn service() -> &'static str {
    SERVICE.get().map(String::as_str).unwrap_or("notes")
}

/// One EMF document: the metric values plus searchable properties (ids) that are not dimensions.
pub fn emf_line(service: &str, metrics: &[(&str, f64, Unit)], properties: &[(&str, &str)], now_millis: i64) -> String {
    let metrics: Vec<(&str, Value, Unit)> = metrics.iter().map(|(name, v, unit)| (*name, json!(v), *unit)).collect();
    let properties: Vec<(&str, Value)> = properties.iter().map(|(k, v)| (*k, json!(v))).collect();
    emf_document(service, &metrics, &properties, now_millis)
}

/// One EMF document whose metrics and properties may be lists: EMF takes up to 100 values of a
/// metric in one line, so a batch is one line, not one per item.
fn emf_document(
    service: &str,
    metrics: &[(&str, Value, Unit)],
    properties: &[(&str, Value)],
    now_millis: i64,
) -> String {
    let definitions: Vec<Value> =
        metrics.iter().map(|(name, _, unit)| json!({"Name": name, "Unit": unit.as_str()})).collect();
    let mut doc = Map::new();
    doc.insert(
        "_aws".into(),
        json!({
            "Timestamp": now_millis,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["service"]],
                "Metrics": definitions,
            }]
        }),
    );
    doc.insert("service".into(), json!(service));
    for (name, value, _) in metrics {
        doc.insert((*name).into(), value.clone());
    }
    for (key, value) in properties {
        doc.insert((*key).into(), value.clone());
    }
    Value::Object(doc).to_string()
}

/// Most values EMF takes for one metric in one line.
pub const EMF_MAX_VALUES: usize = 100;

/// Writes one EMF line for a batch: each metric with its values (at most [`EMF_MAX_VALUES`]),
/// properties as lists (every `noteId` of the batch).
pub fn emit_batch(metrics: &[(&str, &[f64], Unit)], properties: &[(&str, &[String])]) {
    if crate::domain::simulation::active() {
        return;
    }
    let metrics: Vec<(&str, Value, Unit)> = metrics
        .iter()
        .map(|(name, values, unit)| (*name, json!(&values[..values.len().min(EMF_MAX_VALUES)]), *unit))
        .collect();
    let properties: Vec<(&str, Value)> = properties.iter().map(|(k, v)| (*k, json!(v))).collect();
    println!("{}", emf_document(service(), &metrics, &properties, chrono::Utc::now().timestamp_millis()));
}

/// One invocation's values of one metric, one per note, written as one EMF line with every
/// `noteId` and `correlationId` (CloudWatch Logs bills each byte: a batch of ten is one line).
/// Filled concurrently by the records of a batch.
pub struct PerNote {
    name: &'static str,
    unit: Unit,
    /// Also written: this metric, counting the notes.
    count_as: Option<&'static str>,
    values: std::sync::Mutex<Values>,
}

/// What a [`PerNote`] gathered: one value, note id and correlation id per note, in step.
#[derive(Default)]
struct Values {
    values: Vec<f64>,
    note_ids: Vec<String>,
    correlation_ids: Vec<String>,
}

impl PerNote {
    pub fn new(name: &'static str, unit: Unit, count_as: Option<&'static str>) -> Self {
        PerNote { name, unit, count_as, values: std::sync::Mutex::default() }
    }

    pub fn add(&self, value: f64, note_id: &str, correlation_id: &str) {
        let mut values = self.values.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        values.values.push(value);
        values.note_ids.push(note_id.to_owned());
        values.correlation_ids.push(correlation_id.to_owned());
    }

    /// Writes the line, unless nothing was added.
    pub fn emit(&self) {
        let values = self.values.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let Values { values, note_ids, correlation_ids } = &*values;
        if values.is_empty() {
            return;
        }
        let count = [values.len() as f64];
        let mut metrics: Vec<(&str, &[f64], Unit)> = Vec::new();
        if let Some(count_as) = self.count_as {
            metrics.push((count_as, &count, Unit::Count));
        }
        metrics.push((self.name, values, self.unit));
        emit_batch(&metrics, &[("noteId", note_ids), ("correlationId", correlation_ids)]);
    }
}

/// Writes metrics as one EMF line on stdout, where Lambda sends it to CloudWatch Logs.
pub fn emit(metrics: &[(&str, f64, Unit)], properties: &[(&str, &str)]) {
    if crate::domain::simulation::active() {
        return;
    }
    println!("{}", emf_line(service(), metrics, properties, chrono::Utc::now().timestamp_millis()));
}

/// Counts one occurrence of `name`.
pub fn count(name: &str, properties: &[(&str, &str)]) {
    emit(&[(name, 1.0, Unit::Count)], properties);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emf_line_declares_each_metric_and_carries_its_value_and_ids() {
        let line = emf_line(
            "save-note",
            &[(metric::NOTES_SAVED, 1.0, Unit::Count), (metric::PROCESSING_LATENCY, 42.0, Unit::Milliseconds)],
            &[("correlationId", "req-1"), ("noteId", "n-1")],
            1_700_000_000_000,
        );
        let doc: Value = serde_json::from_str(&line).unwrap();
        let directive = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], NAMESPACE);
        assert_eq!(directive["Dimensions"], json!([["service"]]));
        assert_eq!(directive["Metrics"][1], json!({"Name": "NoteProcessingLatency", "Unit": "Milliseconds"}));
        assert_eq!(doc["_aws"]["Timestamp"], 1_700_000_000_000i64);
        assert_eq!(doc["service"], "save-note");
        assert_eq!(doc["NotesSaved"], 1.0);
        assert_eq!(doc["NoteProcessingLatency"], 42.0);
        assert_eq!(doc["correlationId"], "req-1");
        assert_eq!(doc["noteId"], "n-1");
    }

    #[test]
    fn a_batch_is_one_emf_line_with_every_value_and_id() {
        let line = emf_document(
            "save-note",
            &[
                (metric::NOTES_SAVED, json!(3.0), Unit::Count),
                (metric::PROCESSING_LATENCY, json!([5.0, 7.0, 9.0]), Unit::Milliseconds),
            ],
            &[("noteId", json!(["n-1", "n-2", "n-3"]))],
            1_700_000_000_000,
        );
        let doc: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(doc["NotesSaved"], 3.0);
        assert_eq!(doc["NoteProcessingLatency"], json!([5.0, 7.0, 9.0]));
        assert_eq!(doc["noteId"], json!(["n-1", "n-2", "n-3"]));
        assert_eq!(doc["_aws"]["CloudWatchMetrics"][0]["Metrics"][1]["Name"], "NoteProcessingLatency");
    }

    #[test]
    fn log_timestamps_are_rfc_3339_utc_with_milliseconds() {
        use tracing_subscriber::fmt::time::FormatTime as _;
        let mut text = String::new();
        Rfc3339Millis.format_time(&mut tracing_subscriber::fmt::format::Writer::new(&mut text)).unwrap();
        let parsed = chrono::DateTime::parse_from_rfc3339(&text).expect("RFC 3339");
        assert_eq!(parsed.offset().local_minus_utc(), 0);
        assert_eq!(text.len(), "2026-11-26T12:00:00.123Z".len(), "{text}");
    }
}
