//! The local stack: the whole notes suite on one machine, with no AWS account.
//!
//! - the table lives in AWS's DynamoDB Local ([`dynamodb_local`]), SQS and EventBridge in moto's
//!   server ([`moto`]), provisioned from `shared/topology.json` like the CDK stack ([`provision`]);
//!   each SDK client reaches its emulator through the SDK's per-service endpoint
//!   ([`emulator_sdk_config`]);
//! - the HTTP API (default 127.0.0.1:3000) turns each request into the API Gateway v2 event
//!   Lambda would get and calls the same handler the Lambda binary runs ([`http_api`]);
//! - the WebSocket API and the Management API's `@connections` (default 127.0.0.1:3001) do the
//!   same for `$connect`, `$disconnect` and `$default` ([`ws_api`]);
//! - the SQS event source mappings (→ `save-note`, → `broadcast`) and the EventBridge → `notify`
//!   target run as pollers that behave like Lambda's ([`pollers`]);
//! - the built frontend is served with a generated `/config.json` ([`frontend`]).
//!
//! Everything runs in-process, so tests can start a whole stack of their own on free ports.

pub mod calls;
pub mod capacity;
pub mod dynamodb_local;
pub mod faults;
pub mod frontend;
pub mod functions;
pub mod http_api;
pub mod invocations;
pub mod moto;
pub mod pollers;
pub mod provision;
pub mod redrive;
pub mod ws_api;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use aws_config::{BehaviorVersion, SdkConfig};
use aws_types::origin::Origin;
use aws_types::service_config::{LoadServiceConfig, ServiceConfigKey};
use notes_core::auth::JwtKeys;
use notes_core::function::Settings;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use functions::Functions;
pub use provision::Resources;

/// The signing secret the local stack uses unless `JWT_SECRET` says otherwise. It is public,
/// so tokens it signs are worth nothing anywhere else.
pub const LOCAL_JWT_SECRET: &str = "local-development-secret-not-for-aws-0123456789";

#[derive(Debug, Clone)]
pub struct StackConfig {
    /// 127.0.0.1 ports; 0 picks a free one.
    pub http_port: u16,
    pub ws_port: u16,
    pub frontend_port: u16,
    /// moto (or another emulator) for SQS and EventBridge; `None` starts moto's server from the venv.
    pub aws_endpoint: Option<String>,
    /// DynamoDB Local (or another DynamoDB) for the table; `None` starts DynamoDB Local from
    /// `local/dynamodb/`, keeping its data where [`StackConfig::dynamodb_data`] says.
    pub dynamodb_endpoint: Option<String>,
    /// Where the DynamoDB Local the stack starts keeps its data: a folder, kept across restarts,
    /// or `None` for memory. Only when the stack starts it (no `dynamodb_endpoint`).
    pub dynamodb_data: Option<PathBuf>,
    /// Prefix of every resource name, so several stacks can share one moto and one DynamoDB.
    pub prefix: String,
    /// Replaces the topology's visibility timeout of the note-created queue (seconds), so
    /// retries and the DLQ can be watched in seconds instead of minutes; the broadcast queue's
    /// too, but never below `broadcast`'s timeout.
    pub visibility_timeout_seconds: Option<u32>,
    /// Seconds after a failed `notify` attempt ended before the next one starts (Lambda's
    /// asynchronous retry delay); an attempt still running is never retried.
    pub notify_retry_seconds: u32,
    /// Turns on the fault-injection switch ([`faults`]). Never present in deployed functions.
    pub fault_injection: bool,
    /// Injects the faults of this plan into `save-note` and `notify` and their event sources
    /// ([`faults::FaultPlan`]). Never present in deployed functions.
    pub fault_plan: Option<faults::FaultPlan>,
    pub frontend_dir: Option<PathBuf>,
    pub jwt_secret: String,
    pub jwt_ttl_seconds: i64,
    /// Origins allowed by CORS; the frontend's own origin is always added.
    pub allowed_origins: Vec<String>,
}

impl Default for StackConfig {
    fn default() -> Self {
        Self {
            http_port: 3000,
            ws_port: 3001,
            frontend_port: 8080,
            aws_endpoint: None,
            dynamodb_endpoint: None,
            dynamodb_data: None,
            prefix: "notes-local".into(),
            visibility_timeout_seconds: None,
            notify_retry_seconds: 2,
            fault_injection: false,
            fault_plan: None,
            frontend_dir: None,
            jwt_secret: LOCAL_JWT_SECRET.into(),
            jwt_ttl_seconds: notes_core::config::DEFAULT_JWT_TTL_SECONDS,
            allowed_origins: Vec::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StackError {
    #[error("could not start moto's server: {0}")]
    Moto(String),
    #[error("could not start DynamoDB Local: {0}")]
    DynamoDbLocal(String),
    #[error("could not provision the resources: {0}")]
    Provision(String),
    #[error("could not listen on 127.0.0.1:{port}: {source}")]
    Listen { port: u16, source: std::io::Error },
    #[error("invalid configuration: {0}")]
    Config(String),
}

/// A running stack. Dropping it stops everything it started.
pub struct RunningStack {
    pub http_addr: SocketAddr,
    pub ws_addr: SocketAddr,
    pub frontend_addr: Option<SocketAddr>,
    /// SQS and EventBridge (moto).
    pub aws_endpoint: String,
    /// The table's DynamoDB (DynamoDB Local).
    pub dynamodb_endpoint: String,
    pub resources: Resources,
    /// The fault-injection switch, when the stack was started with fault injection.
    pub faults: Option<faults::FaultSwitch>,
    /// The fault plan at work, when the stack was started with one.
    pub fault_plan: Option<Arc<faults::Faults>>,
    /// Every AWS call the stack's functions and pollers made, by API.
    pub api_calls: calls::ApiCalls,
    /// The capacity the functions' table calls consumed, by API.
    pub consumed_capacity: capacity::CapacityMeter,
    /// Every function invocation, counted and timed, by function.
    pub invocations: invocations::Invocations,
    sdk: SdkConfig,
    tasks: Vec<JoinHandle<()>>,
    _moto: Option<moto::MotoServer>,
    _dynamodb: Option<dynamodb_local::DynamoDbLocal>,
}

impl RunningStack {
    pub fn http_url(&self) -> String {
        format!("http://{}", self.http_addr)
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}", self.ws_addr)
    }

    pub fn frontend_url(&self) -> Option<String> {
        self.frontend_addr.map(|a| format!("http://{a}"))
    }

    /// Sends every dead-lettered `note-created` back to its queue (`notes-local redrive`).
    pub async fn redrive_note_dlq(&self) -> Result<usize, String> {
        let sqs = aws_sdk_sqs::Client::new(&self.sdk);
        redrive::redrive(&sqs, &self.resources.note_dlq_url, &self.resources.note_queue_url).await
    }

    /// The SDK configuration the stack's own clients use: its moto and its DynamoDB.
    pub fn sdk_config(&self) -> SdkConfig {
        self.sdk.clone()
    }
}

impl Drop for RunningStack {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// The SDK configuration for the emulators: every client reaches `aws_endpoint` (moto), except
/// DynamoDB's, which reaches `dynamodb_endpoint` (DynamoDB Local); fixed region, dummy credentials.
///
/// The split is the SDK's own per-service endpoint: the configuration is the one a function
/// loads from an environment with `AWS_ENDPOINT_URL` (moto) and `AWS_ENDPOINT_URL_DYNAMODB`
/// (DynamoDB Local), so `aws_sdk_dynamodb::Client::new(&sdk)` asks the service config for
/// DynamoDB's endpoint before taking the general one. Both come from the arguments only, never
/// from the process's environment, so what a stack or a test is given is what it uses.
pub async fn emulator_sdk_config(aws_endpoint: &str, dynamodb_endpoint: &str) -> SdkConfig {
    let credentials = aws_credential_types::Credentials::new("local", "local", None, None, "notes-local");
    let mut sdk = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(aws_endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(credentials)
        .load()
        .await
        .into_builder()
        .service_config(ServiceEndpoints { dynamodb: dynamodb_endpoint.to_owned() });
    // A programmatic endpoint would win over every per-service one; an endpoint from the
    // environment (`AWS_ENDPOINT_URL`) is where a service without its own endpoint goes.
    sdk.insert_origin("endpoint_url", Origin::shared_environment_variable());
    sdk.build()
}

/// DynamoDB's own endpoint, as the SDK's per-service configuration.
#[derive(Debug)]
struct ServiceEndpoints {
    dynamodb: String,
}

impl LoadServiceConfig for ServiceEndpoints {
    fn load_config(&self, key: ServiceConfigKey<'_>) -> Option<String> {
        (key.service_id() == "DynamoDB" && key.env() == "AWS_ENDPOINT_URL").then(|| self.dynamodb.clone())
    }
}

async fn listen(port: u16) -> Result<TcpListener, StackError> {
    TcpListener::bind(("127.0.0.1", port)).await.map_err(|source| StackError::Listen { port, source })
}

async fn start_moto(config: &StackConfig) -> Result<(Option<moto::MotoServer>, String), StackError> {
    match &config.aws_endpoint {
        Some(endpoint) => Ok((None, endpoint.clone())),
        None => {
            let server = moto::MotoServer::start().await?;
            let endpoint = server.endpoint();
            Ok((Some(server), endpoint))
        }
    }
}

async fn start_dynamodb(config: &StackConfig) -> Result<(Option<dynamodb_local::DynamoDbLocal>, String), StackError> {
    match (&config.dynamodb_endpoint, &config.dynamodb_data) {
        (Some(_), Some(_)) => Err(StackError::Config(
            "a DynamoDB data folder is for the DynamoDB Local the stack starts, not with a DynamoDB endpoint".into(),
        )),
        (Some(endpoint), None) => Ok((None, endpoint.clone())),
        (None, data) => {
            let storage = match data {
                Some(dir) => dynamodb_local::Storage::Disk(dir.clone()),
                None => dynamodb_local::Storage::InMemory,
            };
            let server = dynamodb_local::DynamoDbLocal::start(&storage).await?;
            let endpoint = server.endpoint();
            Ok((Some(server), endpoint))
        }
    }
}

/// Starts moto and DynamoDB Local (unless given their endpoints), provisions, and serves everything.
pub async fn start(config: StackConfig) -> Result<RunningStack, StackError> {
    let ((moto, endpoint), (dynamodb, dynamodb_endpoint)) =
        tokio::try_join!(start_moto(&config), start_dynamodb(&config))?;
    let api_calls = calls::ApiCalls::default();
    let sdk = api_calls.instrument(emulator_sdk_config(&endpoint, &dynamodb_endpoint).await);
    let resources = provision::provision(&sdk, &config).await?;

    let http_listener = listen(config.http_port).await?;
    let ws_listener = listen(config.ws_port).await?;
    let http_addr =
        http_listener.local_addr().map_err(|source| StackError::Listen { port: config.http_port, source })?;
    let ws_addr = ws_listener.local_addr().map_err(|source| StackError::Listen { port: config.ws_port, source })?;
    let frontend = match &config.frontend_dir {
        Some(dir) if dir.join("index.html").exists() => Some((dir.clone(), listen(config.frontend_port).await?)),
        Some(dir) => {
            tracing::warn!(dir = %dir.display(), "no built frontend there (run `npm run build` in frontend/); not serving it");
            None
        }
        None => None,
    };
    let frontend_addr = match &frontend {
        Some((_, listener)) => {
            Some(listener.local_addr().map_err(|source| StackError::Listen { port: config.frontend_port, source })?)
        }
        None => None,
    };

    let keys = JwtKeys::new(config.jwt_secret.as_bytes(), config.jwt_ttl_seconds)
        .map_err(|e| StackError::Config(e.to_string()))?;
    // What each function's Lambda reads from its environment, given here from what was provisioned;
    // every function is built by its own `Function::build` from it.
    let settings = Settings::given(sdk.clone(), keys)
        .with_table(&resources.table_name)
        .with_bus(&resources.bus_name)
        .with_management_endpoint(format!("http://{ws_addr}"))
        .with_broadcast_queue(&resources.broadcast_queue_url);
    let consumed_capacity = capacity::CapacityMeter::default();
    let settings = settings.with_table_interceptor(consumed_capacity.interceptor());
    let invocations = invocations::Invocations::default();
    let functions =
        Arc::new(Functions::build(&settings, &invocations).await.map_err(|e| StackError::Config(e.to_string()))?);
    let mut allowed_origins = config.allowed_origins.clone();
    if let Some(addr) = frontend_addr {
        allowed_origins.push(format!("http://{addr}"));
        allowed_origins.push(format!("http://localhost:{}", addr.port()));
    }

    let mut tasks = Vec::new();
    tasks.push(tokio::spawn(http_api::serve(http_listener, functions.clone(), allowed_origins)));
    let ws = ws_api::WebSocketApi::new(&functions).map_err(StackError::Config)?;
    tasks.push(tokio::spawn(ws_api::serve(ws_listener, ws.clone())));
    let faults = config.fault_injection.then(|| faults::FaultSwitch::new(true));
    let fault_plan = match &config.fault_plan {
        Some(plan) => {
            plan.validate().map_err(|e| StackError::Config(format!("fault plan: {e}")))?;
            Some(faults::Faults::new(plan.clone()))
        }
        None => None,
    };
    let save_note = pollers::save_note(&settings, faults.clone(), fault_plan.clone())
        .await
        .map_err(|e| StackError::Config(e.to_string()))?;
    let event_source = |queue_url: &String, queue_arn: &String| pollers::EventSource {
        queue_url: queue_url.clone(),
        queue_arn: queue_arn.clone(),
    };
    let source = event_source(&resources.note_queue_url, &resources.note_queue_arn);
    let run = pollers::run_event_source(sdk.clone(), source, save_note, fault_plan.clone(), invocations.clone());
    tasks.push(tokio::spawn(run));
    let dropper = ws.clone() as Arc<dyn faults::ConnectionDropper>;
    let planned = fault_plan.clone().map(|f| (f, dropper));
    let notify = pollers::notify(&settings, planned.clone()).await.map_err(|e| StackError::Config(e.to_string()))?;
    let broadcast = pollers::broadcast(&settings, planned).await.map_err(|e| StackError::Config(e.to_string()))?;
    let source = event_source(&resources.broadcast_queue_url, &resources.broadcast_queue_arn);
    let run = pollers::run_event_source(sdk.clone(), source, broadcast, fault_plan.clone(), invocations.clone());
    tasks.push(tokio::spawn(run));
    let notify_retry_delay = std::time::Duration::from_secs(u64::from(config.notify_retry_seconds));
    tasks.push(tokio::spawn(pollers::run_notify(
        sdk.clone(),
        resources.clone(),
        notify,
        notify_retry_delay,
        invocations.clone(),
    )));
    if let Some((dir, listener)) = frontend {
        let runtime_config =
            frontend::RuntimeConfig { api_url: format!("http://{http_addr}"), ws_url: format!("ws://{ws_addr}") };
        tasks.push(tokio::spawn(frontend::serve(listener, dir, runtime_config)));
    }

    Ok(RunningStack {
        http_addr,
        ws_addr,
        frontend_addr,
        aws_endpoint: endpoint,
        dynamodb_endpoint,
        resources,
        faults,
        fault_plan,
        api_calls,
        consumed_capacity,
        invocations,
        sdk,
        tasks,
        _moto: moto,
        _dynamodb: dynamodb,
    })
}
