//! The functions the local stack runs, every one declared in `shared/topology.json`, each built
//! by `notes_core::edge::function::build` (the path its Lambda binary takes) from the stack's
//! settings, and each invocation counted and timed. The list is generated from the declarations
//! by `local/build.rs`; which route, queue or rule invokes a function is read from its declaration
//! by the APIs ([`crate::http_api`], [`crate::ws_api`]) and the event sources
//! ([`crate::event_source_mapping`], [`crate::async_invocation`], [`crate::stream_source`]).

use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::time::Instant;

use async_trait::async_trait;
use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use aws_lambda_events::dynamodb::Event as StreamEvent;
use aws_lambda_events::eventbridge::EventBridgeEvent;
use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use aws_lambda_events::streams::DynamoDbEventResponse;
use lambda_http::{Body, Request, Response};
use notes_core::edge::config::ConfigError;
use notes_core::edge::function::{
    Handler, HttpHandler, QueueHandler, RuleHandler, Settings, StreamHandler, WebSocketHandler, build,
};
use serde_json::Value;

use crate::invocations::Invocations;

include!(concat!(env!("OUT_DIR"), "/declared_functions.rs"));

/// A handler whose every invocation is counted and timed under its function's name.
struct Counted<H: ?Sized> {
    name: &'static str,
    inner: Arc<H>,
    invocations: Invocations,
}

#[async_trait]
impl HttpHandler for Counted<dyn HttpHandler> {
    async fn call(&self, request: Request) -> Response<Body> {
        self.invocations.time(self.name, self.inner.call(request)).await
    }
}

#[async_trait]
impl WebSocketHandler for Counted<dyn WebSocketHandler> {
    async fn call(&self, request: ApiGatewayWebsocketProxyRequest) -> ApiGatewayProxyResponse {
        self.invocations.time(self.name, self.inner.call(request)).await
    }
}

#[async_trait]
impl QueueHandler for Counted<dyn QueueHandler> {
    async fn call(&self, batch: SqsEvent, deadline: Instant) -> SqsBatchResponse {
        self.invocations.time(self.name, self.inner.call(batch, deadline)).await
    }
}

#[async_trait]
impl StreamHandler for Counted<dyn StreamHandler> {
    async fn call(&self, batch: StreamEvent) -> DynamoDbEventResponse {
        self.invocations.time(self.name, self.inner.call(batch)).await
    }
}

#[async_trait]
impl RuleHandler for Counted<dyn RuleHandler> {
    async fn call(&self, event: EventBridgeEvent<Value>) -> Result<(), String> {
        self.invocations.time(self.name, self.inner.call(event)).await
    }
}

/// Every built function, by name.
pub struct Functions {
    handlers: BTreeMap<&'static str, Handler>,
}

impl Functions {
    /// Every declared function, built from `settings`; their invocations are counted in `invocations`.
    pub async fn build(settings: &Settings, invocations: &Invocations) -> Result<Self, ConfigError> {
        let counted = |name: &'static str, handler: Handler| {
            let invocations = invocations.clone();
            match handler {
                Handler::Http(inner) => Handler::Http(Arc::new(Counted { name, inner, invocations })),
                Handler::WebSocket(inner) => Handler::WebSocket(Arc::new(Counted { name, inner, invocations })),
                Handler::Queue(inner) => Handler::Queue(Arc::new(Counted { name, inner, invocations })),
                Handler::Rule(inner) => Handler::Rule(Arc::new(Counted { name, inner, invocations })),
                Handler::Stream(inner) => Handler::Stream(Arc::new(Counted { name, inner, invocations })),
            }
        };
        let handlers = build_all(settings).await?.into_iter().map(|(name, h)| (name, counted(name, h))).collect();
        Ok(Functions { handlers })
    }

    pub fn http(&self, name: &str) -> Option<Arc<dyn HttpHandler>> {
        match self.handlers.get(name)? {
            Handler::Http(handler) => Some(handler.clone()),
            _ => None,
        }
    }

    pub fn websocket(&self, name: &str) -> Option<Arc<dyn WebSocketHandler>> {
        match self.handlers.get(name)? {
            Handler::WebSocket(handler) => Some(handler.clone()),
            _ => None,
        }
    }

    pub fn queue(&self, name: &str) -> Option<Arc<dyn QueueHandler>> {
        match self.handlers.get(name)? {
            Handler::Queue(handler) => Some(handler.clone()),
            _ => None,
        }
    }

    pub fn rule(&self, name: &str) -> Option<Arc<dyn RuleHandler>> {
        match self.handlers.get(name)? {
            Handler::Rule(handler) => Some(handler.clone()),
            _ => None,
        }
    }

    pub fn stream(&self, name: &str) -> Option<Arc<dyn StreamHandler>> {
        match self.handlers.get(name)? {
            Handler::Stream(handler) => Some(handler.clone()),
            _ => None,
        }
    }

    /// Every function built here, with its handler.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &Handler)> + '_ {
        self.handlers.iter().map(|(name, handler)| (*name, handler))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use notes_core::edge::auth::JwtKeys;
    use notes_core::topology::topology;

    use super::*;

    async fn built() -> Functions {
        let sdk = aws_config::SdkConfig::builder().behavior_version(aws_config::BehaviorVersion::latest()).build();
        let keys = JwtKeys::new(crate::config::LOCAL_JWT_SECRET.as_bytes(), 60).unwrap();
        let settings = Settings::given(sdk, keys)
            .with_table("t")
            .with_bus("b")
            .with_management_endpoint("http://m")
            .with_broadcast_queue("http://q");
        Functions::build(&settings, &Invocations::default())
            .await
            .expect("every function builds from the stack's settings")
    }

    #[tokio::test]
    async fn every_declared_function_is_built_once_and_nothing_else() {
        let functions = built().await;
        let declared: BTreeSet<&str> = topology().functions.keys().map(String::as_str).collect();
        assert_eq!(functions.iter().map(|(name, _)| name).collect::<BTreeSet<_>>(), declared);
    }

    #[tokio::test]
    async fn every_function_is_built_for_the_kind_of_trigger_it_is_declared_with() {
        let functions = built().await;
        for (name, handler) in functions.iter() {
            assert!(handler.serves(&topology().functions[name].trigger), "{name}");
        }
    }
}
