//! Every AWS API call the local stack makes, counted by service and API name.
//!
//! The stack's `SdkConfig` gets an HTTP client that wraps the SDK's own and counts each request
//! it sends (each attempt, as AWS bills it) by what it calls: the `X-Amz-Target` header of the
//! JSON protocols (`DynamoDB_20120810.TransactWriteItems`, `AWSEvents.PutEvents`,
//! `AmazonSQS.ReceiveMessage`) or, for the API Gateway Management API, the method on
//! `/@connections/{id}` (`PostToConnection`, `GetConnection`, `DeleteConnection`). So the counts
//! are the calls the functions and the pollers really made, whatever a port method does inside
//! (a Query that pages, a save that reads after a refused transaction). Calls that a fault plan
//! fails before they reach the SDK are counted apart ([`crate::faults::Faults::injected`]).
//!
//! Two refinements serve the cost measurement (`make cost`): an SQS call on the queue that stands
//! in for EventBridge invoking `notify` is named with ` (notify stand-in)`, since in AWS that
//! queue does not exist; and each `PutEvents` also adds its entries and their bytes to
//! [`ApiCalls::units`] (EventBridge bills per event, the archive per byte). The note ids of the
//! events sent are kept by detail-type too ([`ApiCalls::note_ids`]), so a long run can tell how
//! many notes were stored so far (`note-saved` goes out once a note is in the table).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, Mutex};

use aws_config::SdkConfig;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;

/// An AWS API, as `Service:Operation` (`DynamoDB:TransactWriteItems`, `SQS:ReceiveMessage`).
pub type ApiName = String;

/// The calls counted so far, by API, and the units some of them carry.
#[derive(Clone, Debug, Default)]
pub struct ApiCalls(Arc<Mutex<Tally>>);

#[derive(Debug, Default)]
struct Tally {
    calls: BTreeMap<ApiName, u64>,
    units: BTreeMap<String, u64>,
    /// The distinct `noteId`s of the `PutEvents` entries sent, by detail-type.
    note_ids: HashMap<String, HashSet<String>>,
}

/// The suffix of the queue that stands in for EventBridge invoking `notify` ([`crate::provision`]).
const NOTIFY_STAND_IN_QUEUE: &str = "-notify-target";

impl ApiCalls {
    /// `sdk` with its HTTP client wrapped, so every call made through it is counted here.
    pub fn instrument(&self, sdk: SdkConfig) -> SdkConfig {
        // The SDK's own default client (chosen when a client is built, so not in `sdk` yet),
        // unless the configuration names one.
        let inner = sdk.http_client().unwrap_or_else(|| {
            use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
            aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::AwsLc)).build_https()
        });
        sdk.into_builder().http_client(SharedHttpClient::new(CountingClient { inner, calls: self.clone() })).build()
    }

    /// What has been counted so far.
    pub fn snapshot(&self) -> BTreeMap<ApiName, u64> {
        self.0.lock().expect("not poisoned").calls.clone()
    }

    /// Units counted so far: `EventBridge:PutEvents entries` and `EventBridge:PutEvents bytes`,
    /// each also by detail-type (`… entries note-created`).
    pub fn units(&self) -> BTreeMap<String, u64> {
        self.0.lock().expect("not poisoned").units.clone()
    }

    /// The distinct note ids of the `detail_type` events sent so far (each `PutEvents` request
    /// sent, as counted; a retry of one entry adds nothing).
    pub fn note_ids(&self, detail_type: &str) -> HashSet<String> {
        self.0.lock().expect("not poisoned").note_ids.get(detail_type).cloned().unwrap_or_default()
    }

    fn count(&self, request: &HttpRequest) {
        let name = api_name(request);
        let entries = (name == "EventBridge:PutEvents").then(|| put_events_entries(request)).flatten();
        let mut counted = self.0.lock().expect("not poisoned");
        *counted.calls.entry(name).or_default() += 1;
        if let Some(entries) = entries {
            for Entry { detail_type, bytes, note_id } in entries {
                if let Some(note_id) = note_id {
                    counted.note_ids.entry(detail_type.clone()).or_default().insert(note_id);
                }
                *counted.units.entry("EventBridge:PutEvents entries".into()).or_default() += 1;
                *counted.units.entry(format!("EventBridge:PutEvents entries {detail_type}")).or_default() += 1;
                *counted.units.entry("EventBridge:PutEvents bytes".into()).or_default() += bytes;
                *counted.units.entry(format!("EventBridge:PutEvents bytes {detail_type}")).or_default() += bytes;
            }
        }
    }
}

/// One entry of a `PutEvents` request.
struct Entry {
    detail_type: String,
    /// Source, detail-type, detail and the rest, in UTF-8 bytes.
    bytes: u64,
    /// The `noteId` of its detail, if it has one.
    note_id: Option<String>,
}

/// The entries of a `PutEvents` request.
fn put_events_entries(request: &HttpRequest) -> Option<Vec<Entry>> {
    let body: serde_json::Value = serde_json::from_slice(request.body().bytes()?).ok()?;
    let entries = body.get("Entries")?.as_array()?;
    Some(
        entries
            .iter()
            .map(|e| {
                let detail_type = e.get("DetailType").and_then(|t| t.as_str()).unwrap_or("unknown").to_owned();
                let note_id = e
                    .get("Detail")
                    .and_then(|d| d.as_str())
                    .and_then(|d| serde_json::from_str::<serde_json::Value>(d).ok())
                    .and_then(|d| d.get("noteId")?.as_str().map(str::to_owned));
                Entry { detail_type, bytes: e.to_string().len() as u64, note_id }
            })
            .collect(),
    )
}

/// The API a request calls.
pub fn api_name(request: &HttpRequest) -> ApiName {
    if let Some(target) = request.headers().get("x-amz-target") {
        let (prefix, operation) = target.split_once('.').unwrap_or(("", target));
        let service = match prefix {
            p if p.starts_with("DynamoDB") => "DynamoDB",
            "AWSEvents" => "EventBridge",
            "AmazonSQS" => "SQS",
            "secretsmanager" => "SecretsManager",
            other => other,
        };
        let stand_in = service == "SQS" && queue_url(request).is_some_and(|url| url.ends_with(NOTIFY_STAND_IN_QUEUE));
        if stand_in {
            return format!("{service}:{operation} (notify stand-in)");
        }
        return format!("{service}:{operation}");
    }
    let path = request.uri().split('?').next().unwrap_or_default();
    if path.contains("/@connections/") {
        let operation = match request.method() {
            "POST" => "PostToConnection",
            "GET" => "GetConnection",
            "DELETE" => "DeleteConnection",
            other => other,
        };
        return format!("ApiGatewayManagement:{operation}");
    }
    format!("unknown:{} {path}", request.method())
}

/// The `QueueUrl` of an SQS request (JSON protocol).
fn queue_url(request: &HttpRequest) -> Option<String> {
    let body: serde_json::Value = serde_json::from_slice(request.body().bytes()?).ok()?;
    Some(body.get("QueueUrl")?.as_str()?.to_owned())
}

#[derive(Debug)]
struct CountingClient {
    inner: SharedHttpClient,
    calls: ApiCalls,
}

impl HttpClient for CountingClient {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        SharedHttpConnector::new(CountingConnector {
            inner: self.inner.http_connector(settings, components),
            calls: self.calls.clone(),
        })
    }
}

struct CountingConnector {
    inner: SharedHttpConnector,
    calls: ApiCalls,
}

impl fmt::Debug for CountingConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CountingConnector").finish_non_exhaustive()
    }
}

impl HttpConnector for CountingConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        self.calls.count(&request);
        self.inner.call(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: &str, uri: &str, target: Option<&str>) -> HttpRequest {
        with_body(method, uri, target, "")
    }

    fn with_body(method: &str, uri: &str, target: Option<&str>, body: &str) -> HttpRequest {
        let mut builder = http::Request::builder().method(method).uri(uri);
        if let Some(target) = target {
            builder = builder.header("x-amz-target", target);
        }
        let body = aws_smithy_types::body::SdkBody::from(body.to_owned());
        HttpRequest::try_from(builder.body(body).unwrap()).unwrap()
    }

    #[test]
    fn sqs_calls_on_notifys_stand_in_queue_are_named_apart() {
        let on = |queue: &str| {
            let body = format!(r#"{{"QueueUrl":"http://127.0.0.1:1/123456789012/{queue}","MaxNumberOfMessages":10}}"#);
            api_name(&with_body("POST", "http://127.0.0.1:1/", Some("AmazonSQS.ReceiveMessage"), &body))
        };
        assert_eq!(on("e2e-1-notify-target"), "SQS:ReceiveMessage (notify stand-in)");
        assert_eq!(on("e2e-1-note-created"), "SQS:ReceiveMessage");
    }

    #[test]
    fn put_events_adds_its_entries_and_their_bytes() {
        let calls = ApiCalls::default();
        let body = r#"{"Entries":[{"DetailType":"note-created","Detail":"{}"},{"DetailType":"note-saved","Detail":"{\"a\":1}"}]}"#;
        calls.count(&with_body("POST", "http://127.0.0.1:1/", Some("AWSEvents.PutEvents"), body));
        assert_eq!(calls.snapshot()["EventBridge:PutEvents"], 1);
        assert_eq!(calls.units()["EventBridge:PutEvents entries"], 2);
        assert_eq!(calls.units()["EventBridge:PutEvents entries note-created"], 1);
        assert!(calls.units()["EventBridge:PutEvents bytes"] > 60);
    }

    #[test]
    fn put_events_keeps_the_distinct_note_ids_by_detail_type() {
        let calls = ApiCalls::default();
        let saved = |id: &str| format!(r#"{{"DetailType":"note-saved","Detail":"{{\"noteId\":\"{id}\"}}"}}"#);
        for entries in [[saved("n-1"), saved("n-2")], [saved("n-1"), saved("n-3")]] {
            let body = format!(r#"{{"Entries":[{}]}}"#, entries.join(","));
            calls.count(&with_body("POST", "http://127.0.0.1:1/", Some("AWSEvents.PutEvents"), &body));
        }
        let ids = calls.note_ids("note-saved");
        assert_eq!(ids.len(), 3, "{ids:?}");
        assert!(calls.note_ids("note-failed").is_empty());
    }

    #[test]
    fn calls_are_named_by_service_and_api() {
        let named = |m, u, t| api_name(&request(m, u, t));
        assert_eq!(
            named("POST", "http://127.0.0.1:1/", Some("DynamoDB_20120810.TransactWriteItems")),
            "DynamoDB:TransactWriteItems"
        );
        assert_eq!(named("POST", "http://127.0.0.1:1/", Some("AWSEvents.PutEvents")), "EventBridge:PutEvents");
        assert_eq!(named("POST", "http://127.0.0.1:1/", Some("AmazonSQS.ReceiveMessage")), "SQS:ReceiveMessage");
        assert_eq!(
            named("POST", "http://127.0.0.1:1/@connections/abc%3D", None),
            "ApiGatewayManagement:PostToConnection"
        );
        assert_eq!(
            named("DELETE", "http://127.0.0.1:1/@connections/abc", None),
            "ApiGatewayManagement:DeleteConnection"
        );
    }
}
