//! What every function is, and the one path that builds one from its settings, in Lambda and in
//! the local stack alike.
//!
//! A function is declared once, in `shared/topology.json` (trigger, limits, configuration,
//! permissions), under the name of its crate. Its crate implements [`Function`] (how it is built
//! from [`Settings`]) and, for an API route, [`HttpFunction`] or [`WebSocketFunction`] (how it
//! answers). Its `main` is one call ([`run_http`], [`run_websocket`], or [`init`] then the
//! runtime), and the local stack builds it with the same [`Function::build`].

use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use lambda_http::{Body, Request, Response};
use lambda_runtime::{LambdaEvent, service_fn};

use crate::auth::JwtKeys;
use crate::aws::{self, DynamoTable, EventBridgeBus, ManagementApi, SqsBroadcastQueue};
use crate::config::{self, ConfigError, SecretSource};
use crate::topology::topology;

/// Where a function's adapters come from: the SDK configuration, the names of the resources it
/// reaches, and its signing keys. Each adapter is asked for by the function that needs it, so a
/// missing setting stops only the functions that read it, with a message naming it.
#[derive(Clone)]
pub struct Settings {
    sdk: SdkConfig,
    table_name: Option<String>,
    bus_name: Option<String>,
    management_endpoint: Option<String>,
    broadcast_queue_url: Option<String>,
    jwt: Jwt,
    /// Watches the table's calls: the local stack's consumed-capacity meter; never in Lambda.
    table_interceptor: Option<aws_sdk_dynamodb::config::SharedInterceptor>,
}

#[derive(Clone)]
enum Jwt {
    /// Read when asked: `JWT_SECRET_ARN` (Secrets Manager) in AWS, `JWT_SECRET` locally.
    FromEnvironment,
    Keys(Box<JwtKeys>),
}

impl Settings {
    /// In Lambda: the standard SDK configuration and the variables of docs/configuration.md.
    pub async fn from_env() -> Self {
        Settings {
            sdk: aws::sdk_config().await,
            table_name: config::optional(config::TABLE_NAME),
            bus_name: config::optional(config::EVENT_BUS_NAME),
            management_endpoint: config::optional(config::WEBSOCKET_MANAGEMENT_ENDPOINT),
            broadcast_queue_url: config::optional(config::BROADCAST_QUEUE_URL),
            jwt: Jwt::FromEnvironment,
            table_interceptor: None,
        }
    }

    /// Given outright, as the local stack does with what it provisioned.
    pub fn given(sdk: SdkConfig, keys: JwtKeys) -> Self {
        Settings {
            sdk,
            table_name: None,
            bus_name: None,
            management_endpoint: None,
            broadcast_queue_url: None,
            jwt: Jwt::Keys(Box::new(keys)),
            table_interceptor: None,
        }
    }

    pub fn with_table(mut self, name: impl Into<String>) -> Self {
        self.table_name = Some(name.into());
        self
    }

    pub fn with_bus(mut self, name: impl Into<String>) -> Self {
        self.bus_name = Some(name.into());
        self
    }

    /// An interceptor on the table's client (the local stack meters consumed capacity with one).
    pub fn with_table_interceptor(mut self, interceptor: aws_sdk_dynamodb::config::SharedInterceptor) -> Self {
        self.table_interceptor = Some(interceptor);
        self
    }

    pub fn with_management_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.management_endpoint = Some(endpoint.into());
        self
    }

    pub fn with_broadcast_queue(mut self, url: impl Into<String>) -> Self {
        self.broadcast_queue_url = Some(url.into());
        self
    }

    pub fn sdk(&self) -> &SdkConfig {
        &self.sdk
    }

    /// The table named `TABLE_NAME`.
    pub fn table(&self) -> Result<Arc<DynamoTable>, ConfigError> {
        let name = self.table_name.as_ref().ok_or(ConfigError::Missing(config::TABLE_NAME))?;
        let mut config = aws_sdk_dynamodb::config::Builder::from(&self.sdk);
        if let Some(interceptor) = &self.table_interceptor {
            config.push_interceptor(interceptor.clone());
        }
        Ok(Arc::new(DynamoTable::new(aws_sdk_dynamodb::Client::from_conf(config.build()), name)))
    }

    /// The bus named `EVENT_BUS_NAME`.
    pub fn bus(&self) -> Result<Arc<EventBridgeBus>, ConfigError> {
        let name = self.bus_name.as_ref().ok_or(ConfigError::Missing(config::EVENT_BUS_NAME))?;
        Ok(Arc::new(EventBridgeBus::new(aws_sdk_eventbridge::Client::new(&self.sdk), name)))
    }

    /// The Management API at `WEBSOCKET_MANAGEMENT_ENDPOINT`.
    pub fn management_api(&self) -> Result<Arc<ManagementApi>, ConfigError> {
        let endpoint =
            self.management_endpoint.as_ref().ok_or(ConfigError::Missing(config::WEBSOCKET_MANAGEMENT_ENDPOINT))?;
        Ok(Arc::new(ManagementApi::new(&self.sdk, endpoint)))
    }

    /// The broadcast queue at `BROADCAST_QUEUE_URL`.
    pub fn broadcast_queue(&self) -> Result<Arc<SqsBroadcastQueue>, ConfigError> {
        let url = self.broadcast_queue_url.as_ref().ok_or(ConfigError::Missing(config::BROADCAST_QUEUE_URL))?;
        Ok(Arc::new(SqsBroadcastQueue::new(aws_sdk_sqs::Client::new(&self.sdk), url)))
    }

    /// The JWT keys, with the secret read once; its value is never logged.
    pub async fn jwt_keys(&self) -> Result<JwtKeys, ConfigError> {
        match &self.jwt {
            Jwt::Keys(keys) => Ok(JwtKeys::clone(keys)),
            Jwt::FromEnvironment => config::jwt_keys(&aws::read_secret(&self.sdk, SecretSource::from_env()?).await?),
        }
    }
}

/// A function of the suite.
pub trait Function: Sized + Send + Sync + 'static {
    /// Its name: its crate's (write `env!("CARGO_PKG_NAME")`), its binary's, and the key of its
    /// declaration in `shared/topology.json`.
    const NAME: &'static str;

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

/// Starts telemetry and builds `F` from the environment: the start of every `main`. A function
/// whose declaration is missing stops here, so no binary runs undeclared.
pub async fn init<F: Function>() -> Result<F, ConfigError> {
    crate::telemetry::init(F::NAME);
    if !topology().functions.contains_key(F::NAME) {
        return Err(ConfigError::Invalid { name: "function", reason: format!("{} is not declared", F::NAME) });
    }
    F::build(&Settings::from_env().await).await
}

/// The `main` of an HTTP function.
pub async fn run_http<F: HttpFunction>() -> Result<(), lambda_http::Error> {
    let app = Arc::new(init::<F>().await?);
    lambda_http::run(lambda_http::service_fn(move |request: Request| {
        let app = app.clone();
        async move { Ok::<_, std::convert::Infallible>(app.handle(request).await) }
    }))
    .await
}

/// The `main` of a WebSocket function.
pub async fn run_websocket<F: WebSocketFunction>() -> Result<(), lambda_runtime::Error> {
    let app = Arc::new(init::<F>().await?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<ApiGatewayWebsocketProxyRequest>| {
        let app = app.clone();
        async move { Ok::<_, lambda_runtime::Error>(app.handle(event.payload).await) }
    }))
    .await
}
