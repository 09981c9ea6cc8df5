//! What every function is, and the one path that builds and runs one, in Lambda and in the local
//! stack alike.
//!
//! A function is declared once, in `shared/topology.json` (trigger, limits, configuration,
//! permissions), under the name of its crate. Its crate implements [`Function`]: its name, how
//! it is built from [`Settings`], and its trigger kind, one of
//!
//! | trigger | the crate implements | Lambda hands it | it answers |
//! | --- | --- | --- | --- |
//! | [`Http`] route | [`HttpFunction`] | an API Gateway v2 request | the response |
//! | [`WebSocket`] route | [`WebSocketFunction`] | an API Gateway WebSocket request | the response |
//! | [`Queue`] (SQS, partial batch failures) | [`QueueFunction`]: one record | a batch | the records to retry |
//! | [`Rule`] (EventBridge, asynchronous) | [`RuleFunction`] | one event | success, or an error to retry |
//! | [`Stream`] (the table's stream, partial batch failures) | [`StreamFunction`] | a batch, in order | the record to retry from |
//!
//! [`build`] turns the declared function into a [`Handler`]: what Lambda's runtime loop calls
//! ([`main`], the whole of every `main.rs` through [`lambda_main!`](crate::lambda_main)), and
//! what the local stack calls behind its emulated APIs and event sources.

mod queue;
mod settings;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use async_trait::async_trait;
use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use aws_lambda_events::dynamodb::Event as StreamEvent;
use aws_lambda_events::eventbridge::EventBridgeEvent;
use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use aws_lambda_events::streams::DynamoDbEventResponse;
use lambda_http::{Body, Request, Response};
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

pub use queue::{Disposition, QueueFunction, handle_batch};
pub use settings::{PortHook, Settings};

use crate::edge::config::ConfigError;
use crate::topology::{self, topology};

/// A function of the suite.
pub trait Function: Sized + Send + Sync + 'static {
    /// Its name: its crate's (write `env!("CARGO_PKG_NAME")`), its binary's, and the key of its
    /// declaration in `shared/topology.json`.
    const NAME: &'static str;

    /// What invokes it: [`Http`], [`WebSocket`], [`Queue`], [`Rule`] or [`Stream`], as its
    /// declaration says.
    type Trigger: Trigger<Self>;

    /// Builds it, with its SDK clients, once per cold start (Lambda) or once per stack (local).
    fn build(settings: &Settings) -> impl Future<Output = Result<Self, ConfigError>> + Send;
}

/// A function behind a route of the HTTP API.
#[async_trait]
pub trait HttpFunction: Function {
    async fn handle(&self, request: Request) -> Response<Body>;
}

/// A function behind a route of the WebSocket API.
#[async_trait]
pub trait WebSocketFunction: Function {
    async fn handle(&self, request: ApiGatewayWebsocketProxyRequest) -> ApiGatewayProxyResponse;
}

/// A function an EventBridge rule invokes asynchronously: an error makes Lambda retry the event
/// (then its DLQ takes it).
#[async_trait]
pub trait RuleFunction: Function {
    type Error: std::error::Error + Send + Sync + 'static;
    async fn handle_event(&self, event: EventBridgeEvent<Value>) -> Result<(), Self::Error>;
}

/// A function the table's stream triggers: it gets a batch of one shard's records in order, and
/// answers the sequence number of the first record to retry (Lambda retries from there, the
/// records after it included, so a record is never skipped past a failure), or none.
#[async_trait]
pub trait StreamFunction: Function {
    async fn handle_records(&self, batch: StreamEvent) -> DynamoDbEventResponse;
}

/// A trigger kind: how a function of that kind becomes a [`Handler`].
pub trait Trigger<F>: 'static {
    /// Whether `declared` is a trigger of this kind.
    fn matches(declared: &topology::Trigger) -> bool;
    fn handler(function: Arc<F>) -> Handler;
}

/// An HTTP API route.
pub struct Http;
/// A WebSocket API route.
pub struct WebSocket;
/// An SQS event source mapping with partial batch failures.
pub struct Queue;
/// An EventBridge rule's asynchronous invocation.
pub struct Rule;
/// A DynamoDB stream event source mapping with partial batch failures.
pub struct Stream;

impl<F: HttpFunction> Trigger<F> for Http {
    fn matches(declared: &topology::Trigger) -> bool {
        matches!(declared, topology::Trigger::Http(_))
    }
    fn handler(function: Arc<F>) -> Handler {
        Handler::Http(function)
    }
}

impl<F: WebSocketFunction> Trigger<F> for WebSocket {
    fn matches(declared: &topology::Trigger) -> bool {
        matches!(declared, topology::Trigger::WebSocket(_))
    }
    fn handler(function: Arc<F>) -> Handler {
        Handler::WebSocket(function)
    }
}

impl<F: QueueFunction> Trigger<F> for Queue {
    fn matches(declared: &topology::Trigger) -> bool {
        matches!(declared, topology::Trigger::Queue(_))
    }
    fn handler(function: Arc<F>) -> Handler {
        Handler::Queue(Arc::new(queue::Batches::new(function)))
    }
}

impl<F: RuleFunction> Trigger<F> for Rule {
    fn matches(declared: &topology::Trigger) -> bool {
        matches!(declared, topology::Trigger::Rule(_))
    }
    fn handler(function: Arc<F>) -> Handler {
        Handler::Rule(function)
    }
}

impl<F: StreamFunction> Trigger<F> for Stream {
    fn matches(declared: &topology::Trigger) -> bool {
        matches!(declared, topology::Trigger::Stream(_))
    }
    fn handler(function: Arc<F>) -> Handler {
        Handler::Stream(function)
    }
}

/// A built function of any kind, as its trigger calls it.
#[derive(Clone)]
pub enum Handler {
    Http(Arc<dyn HttpHandler>),
    WebSocket(Arc<dyn WebSocketHandler>),
    Queue(Arc<dyn QueueHandler>),
    Rule(Arc<dyn RuleHandler>),
    Stream(Arc<dyn StreamHandler>),
}

impl Handler {
    /// Whether `declared` is this handler's kind of trigger.
    pub fn serves(&self, declared: &topology::Trigger) -> bool {
        matches!(
            (self, declared),
            (Handler::Http(_), topology::Trigger::Http(_))
                | (Handler::WebSocket(_), topology::Trigger::WebSocket(_))
                | (Handler::Queue(_), topology::Trigger::Queue(_))
                | (Handler::Rule(_), topology::Trigger::Rule(_))
                | (Handler::Stream(_), topology::Trigger::Stream(_))
        )
    }
}

#[async_trait]
pub trait HttpHandler: Send + Sync {
    async fn call(&self, request: Request) -> Response<Body>;
}

#[async_trait]
impl<F: HttpFunction> HttpHandler for F {
    async fn call(&self, request: Request) -> Response<Body> {
        self.handle(request).await
    }
}

#[async_trait]
pub trait WebSocketHandler: Send + Sync {
    async fn call(&self, request: ApiGatewayWebsocketProxyRequest) -> ApiGatewayProxyResponse;
}

#[async_trait]
impl<F: WebSocketFunction> WebSocketHandler for F {
    async fn call(&self, request: ApiGatewayWebsocketProxyRequest) -> ApiGatewayProxyResponse {
        self.handle(request).await
    }
}

/// A batch of an SQS event source mapping, handled before `deadline` (the invocation's end).
#[async_trait]
pub trait QueueHandler: Send + Sync {
    async fn call(&self, batch: SqsEvent, deadline: Instant) -> SqsBatchResponse;
}

/// One asynchronous invocation by an EventBridge rule; the error's text says why it failed.
#[async_trait]
pub trait RuleHandler: Send + Sync {
    async fn call(&self, event: EventBridgeEvent<Value>) -> Result<(), String>;
}

#[async_trait]
impl<F: RuleFunction> RuleHandler for F {
    async fn call(&self, event: EventBridgeEvent<Value>) -> Result<(), String> {
        self.handle_event(event).await.map_err(|e| e.to_string())
    }
}

/// One batch of a stream event source mapping.
#[async_trait]
pub trait StreamHandler: Send + Sync {
    async fn call(&self, batch: StreamEvent) -> DynamoDbEventResponse;
}

#[async_trait]
impl<F: StreamFunction> StreamHandler for F {
    async fn call(&self, batch: StreamEvent) -> DynamoDbEventResponse {
        self.handle_records(batch).await
    }
}

/// The operation timeout of every AWS call a function with `timeout` makes: a tenth of it (1 s
/// for a 10 s function, 3 s for a 30 s one), each attempt half of that, so a call that hangs or
/// keeps being throttled fails in time for the function to answer, and a queue function to
/// report its records, before Lambda's own timeout cuts it off.
pub fn operation_timeout(timeout: Duration) -> Duration {
    timeout / 10
}

/// The SDK's timeouts for a function declared with `timeout`: [`operation_timeout`], and each
/// attempt half of it.
pub fn sdk_timeouts(timeout: Duration) -> aws_config::timeout::TimeoutConfig {
    let operation = operation_timeout(timeout);
    aws_config::timeout::TimeoutConfig::builder()
        .operation_timeout(operation)
        .operation_attempt_timeout(operation / 2)
        .build()
}

/// The timeout `name` is declared with.
pub fn timeout_of(name: &str) -> Duration {
    Duration::from_secs(topology().functions.get(name).map_or(3, |f| u64::from(f.timeout_seconds)))
}

/// Builds `F` from `settings` as the handler its declared trigger calls: the one path, in Lambda
/// and locally. A function that is not declared, or declared with another kind of trigger, stops
/// here, so no binary runs undeclared.
pub async fn build<F: Function>(settings: &Settings) -> Result<Handler, ConfigError> {
    let declared = topology()
        .functions
        .get(F::NAME)
        .ok_or_else(|| ConfigError::Invalid { name: "function", reason: format!("{} is not declared", F::NAME) })?;
    if !<F::Trigger as Trigger<F>>::matches(&declared.trigger) {
        return Err(ConfigError::Invalid {
            name: "function",
            reason: format!("{} is declared with another kind of trigger than it implements", F::NAME),
        });
    }
    let function = F::build(&settings.for_function(F::NAME)).await?;
    Ok(<F::Trigger as Trigger<F>>::handler(Arc::new(function)))
}

/// The error a Lambda binary stops with.
pub type LambdaError = lambda_runtime::Error;

/// The whole `main` of a function's binary: telemetry, then [`build`] from the environment once
/// per cold start, then Lambda's runtime loop for its trigger kind.
pub fn main<F: Function>() -> Result<(), LambdaError> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(async {
        crate::telemetry::init(F::NAME);
        let timeout = timeout_of(F::NAME);
        let handler = build::<F>(&Settings::from_env().await.with_sdk_timeouts(sdk_timeouts(timeout))).await?;
        serve(handler, timeout).await
    })
}

/// Runs Lambda's runtime loop on `handler`.
async fn serve(handler: Handler, timeout: Duration) -> Result<(), LambdaError> {
    match handler {
        Handler::Http(function) => {
            lambda_http::run(lambda_http::service_fn(move |request: Request| {
                let function = function.clone();
                async move { Ok::<_, std::convert::Infallible>(function.call(request).await) }
            }))
            .await
        }
        Handler::WebSocket(function) => {
            lambda_runtime::run(service_fn(move |event: LambdaEvent<ApiGatewayWebsocketProxyRequest>| {
                let function = function.clone();
                async move { Ok::<_, LambdaError>(function.call(event.payload).await) }
            }))
            .await
        }
        Handler::Queue(function) => {
            lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
                let function = function.clone();
                let deadline = deadline_of(&event.context, timeout);
                async move { Ok::<_, LambdaError>(function.call(event.payload, deadline).await) }
            }))
            .await
        }
        Handler::Rule(function) => {
            lambda_runtime::run(service_fn(move |event: LambdaEvent<EventBridgeEvent<Value>>| {
                let function = function.clone();
                async move { function.call(event.payload).await.map_err(LambdaError::from) }
            }))
            .await
        }
        Handler::Stream(function) => {
            lambda_runtime::run(service_fn(move |event: LambdaEvent<StreamEvent>| {
                let function = function.clone();
                async move { Ok::<_, LambdaError>(function.call(event.payload).await) }
            }))
            .await
        }
    }
}

/// The invocation's deadline as an instant: Lambda gives it in epoch milliseconds, and never more
/// than the function's timeout ahead. A deadline already past, or none, is an emulator's (one
/// that stamps it when the request arrives, then compiles the function, say): the declared
/// timeout from now is used instead.
fn deadline_of(context: &lambda_runtime::Context, timeout: Duration) -> Instant {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    match context.deadline.checked_sub(now_ms) {
        Some(left) if left > 0 => Instant::now() + Duration::from_millis(left).min(timeout),
        _ => Instant::now() + timeout,
    }
}

/// The `main.rs` of every function, one line: `notes_core::lambda_main!(my_crate::MyFunction);`
#[macro_export]
macro_rules! lambda_main {
    ($function:ty) => {
        fn main() -> Result<(), $crate::edge::function::LambdaError> {
            $crate::edge::function::main::<$function>()
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context_with_deadline(deadline: u64) -> lambda_runtime::Context {
        let mut context = lambda_runtime::Context::default();
        context.deadline = deadline;
        context
    }

    fn epoch_ms() -> u64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64
    }

    #[tokio::test(start_paused = true)]
    async fn the_deadline_is_lambdas_when_it_gives_one_ahead_and_the_declared_timeout_otherwise() {
        let timeout = Duration::from_secs(10);
        let lambdas = deadline_of(&context_with_deadline(epoch_ms() + 4_000), timeout);
        assert!(
            lambdas <= Instant::now() + Duration::from_secs(4) && lambdas > Instant::now() + Duration::from_secs(3)
        );
        for odd in [0, epoch_ms() - 60_000] {
            assert_eq!(deadline_of(&context_with_deadline(odd), timeout), Instant::now() + timeout);
        }
        let beyond = deadline_of(&context_with_deadline(epoch_ms() + 900_000), timeout);
        assert_eq!(beyond, Instant::now() + timeout, "never more than the declared timeout");
    }
}
