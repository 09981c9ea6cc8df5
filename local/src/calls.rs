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

use std::collections::BTreeMap;
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

/// The calls counted so far, by API.
#[derive(Clone, Debug, Default)]
pub struct ApiCalls(Arc<Mutex<BTreeMap<ApiName, u64>>>);

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
        self.0.lock().expect("not poisoned").clone()
    }

    fn count(&self, request: &HttpRequest) {
        let name = api_name(request);
        *self.0.lock().expect("not poisoned").entry(name).or_default() += 1;
    }
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
        let mut builder = http::Request::builder().method(method).uri(uri);
        if let Some(target) = target {
            builder = builder.header("x-amz-target", target);
        }
        HttpRequest::try_from(builder.body(aws_smithy_types::body::SdkBody::empty()).unwrap()).unwrap()
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
