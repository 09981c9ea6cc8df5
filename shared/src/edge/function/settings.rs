//! Where a function's ports come from: the SDK configuration, the names of the resources it
//! reaches, its signing keys, and (locally only) one hook that may wrap each port.

use std::sync::{Arc, OnceLock};

use aws_config::SdkConfig;

use crate::adapters::aws::{self, DynamoTable, EventBridgeBus, ManagementApi, SqsBroadcastQueue};
use crate::edge::auth::JwtKeys;
use crate::edge::config::{self, ConfigError, SecretSource};
use crate::ports::{
    BroadcastQueue, ConnectionPusher, ConnectionStore, EventPublisher, IdempotencyStore, NoteStore, UserStore,
};

/// Wraps the ports a function is built with. The local stack's one hook: its fault plan and the
/// poison marker wrap the ports of the functions they apply to. Every method gets the function's
/// name and its port, and by default hands the port back as it is. Never set in Lambda.
pub trait PortHook: Send + Sync {
    fn notes(&self, _function: &'static str, port: Arc<dyn NoteStore>) -> Arc<dyn NoteStore> {
        port
    }
    fn connections(&self, _function: &'static str, port: Arc<dyn ConnectionStore>) -> Arc<dyn ConnectionStore> {
        port
    }
    fn events(&self, _function: &'static str, port: Arc<dyn EventPublisher>) -> Arc<dyn EventPublisher> {
        port
    }
    fn pusher(&self, _function: &'static str, port: Arc<dyn ConnectionPusher>) -> Arc<dyn ConnectionPusher> {
        port
    }
}

/// Where a function's adapters come from. Each port is asked for by the function that needs it,
/// so a missing setting stops only the functions that read it, with a message naming it. The
/// table's client is built once, however many ports of it a function takes.
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
    hook: Option<Arc<dyn PortHook>>,
    /// The function being built, for the hook.
    function: &'static str,
    table: Arc<OnceLock<Arc<DynamoTable>>>,
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
            table_name: config::optional(config::TABLE_NAME),
            bus_name: config::optional(config::EVENT_BUS_NAME),
            management_endpoint: config::optional(config::WEBSOCKET_MANAGEMENT_ENDPOINT),
            broadcast_queue_url: config::optional(config::BROADCAST_QUEUE_URL),
            ..Settings::new(aws::sdk_config().await, Jwt::FromEnvironment)
        }
    }

    /// Given outright, as the local stack does with what it provisioned.
    pub fn given(sdk: SdkConfig, keys: JwtKeys) -> Self {
        Settings::new(sdk, Jwt::Keys(Box::new(keys)))
    }

    fn new(sdk: SdkConfig, jwt: Jwt) -> Self {
        Settings {
            sdk,
            table_name: None,
            bus_name: None,
            management_endpoint: None,
            broadcast_queue_url: None,
            jwt,
            table_interceptor: None,
            hook: None,
            function: "",
            table: Arc::default(),
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

    /// Every AWS call bounded by these timeouts (in Lambda: from the function's declared timeout,
    /// `super::sdk_timeouts`). The local stack leaves its emulators' calls unbounded: their
    /// latency on a loaded 2-core machine is not AWS's, and its event sources enforce the
    /// functions' own timeouts instead.
    pub fn with_sdk_timeouts(mut self, timeouts: aws_config::timeout::TimeoutConfig) -> Self {
        self.sdk = self.sdk.into_builder().timeout_config(timeouts).build();
        self
    }

    /// The hook that wraps every port a function is built with (the local stack's fault plan).
    pub fn with_port_hook(mut self, hook: Arc<dyn PortHook>) -> Self {
        self.hook = Some(hook);
        self
    }

    /// These settings for building `function`: its own table client, and its name for the hook.
    pub(super) fn for_function(&self, function: &'static str) -> Self {
        Settings { function, table: Arc::default(), ..self.clone() }
    }

    pub fn sdk(&self) -> &SdkConfig {
        &self.sdk
    }

    /// The table named `TABLE_NAME`, its client built once.
    fn table(&self) -> Result<Arc<DynamoTable>, ConfigError> {
        let name = self.table_name.as_ref().ok_or(ConfigError::Missing(config::TABLE_NAME))?;
        Ok(self
            .table
            .get_or_init(|| {
                let mut config = aws_sdk_dynamodb::config::Builder::from(&self.sdk);
                if let Some(interceptor) = &self.table_interceptor {
                    config.push_interceptor(interceptor.clone());
                }
                Arc::new(DynamoTable::new(aws_sdk_dynamodb::Client::from_conf(config.build()), name))
            })
            .clone())
    }

    /// The notes in the table named `TABLE_NAME`.
    pub fn notes(&self) -> Result<Arc<dyn NoteStore>, ConfigError> {
        let port: Arc<dyn NoteStore> = self.table()?;
        Ok(match &self.hook {
            Some(hook) => hook.notes(self.function, port),
            None => port,
        })
    }

    /// The users in the table named `TABLE_NAME`.
    pub fn users(&self) -> Result<Arc<dyn UserStore>, ConfigError> {
        Ok(self.table()?)
    }

    /// The idempotency records in the table named `TABLE_NAME`.
    pub fn idempotency(&self) -> Result<Arc<dyn IdempotencyStore>, ConfigError> {
        Ok(self.table()?)
    }

    /// The WebSocket connections' items in the table named `TABLE_NAME`.
    pub fn connections(&self) -> Result<Arc<dyn ConnectionStore>, ConfigError> {
        let port: Arc<dyn ConnectionStore> = self.table()?;
        Ok(match &self.hook {
            Some(hook) => hook.connections(self.function, port),
            None => port,
        })
    }

    /// The bus named `EVENT_BUS_NAME`.
    pub fn events(&self) -> Result<Arc<dyn EventPublisher>, ConfigError> {
        let name = self.bus_name.as_ref().ok_or(ConfigError::Missing(config::EVENT_BUS_NAME))?;
        let port: Arc<dyn EventPublisher> =
            Arc::new(EventBridgeBus::new(aws_sdk_eventbridge::Client::new(&self.sdk), name));
        Ok(match &self.hook {
            Some(hook) => hook.events(self.function, port),
            None => port,
        })
    }

    /// The Management API at `WEBSOCKET_MANAGEMENT_ENDPOINT`.
    pub fn pusher(&self) -> Result<Arc<dyn ConnectionPusher>, ConfigError> {
        let endpoint =
            self.management_endpoint.as_ref().ok_or(ConfigError::Missing(config::WEBSOCKET_MANAGEMENT_ENDPOINT))?;
        let port: Arc<dyn ConnectionPusher> = Arc::new(ManagementApi::new(&self.sdk, endpoint));
        Ok(match &self.hook {
            Some(hook) => hook.pusher(self.function, port),
            None => port,
        })
    }

    /// The broadcast queue at `BROADCAST_QUEUE_URL`.
    pub fn broadcast_queue(&self) -> Result<Arc<dyn BroadcastQueue>, ConfigError> {
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
