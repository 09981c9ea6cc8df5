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
//! - every function is built as its Lambda binary builds it ([`functions`]), and wired to what its
//!   declaration names: an HTTP or WebSocket route, a queue's event source mapping
//!   ([`event_source_mapping`]), or a rule's asynchronous invocation ([`async_invocation`]);
//! - fault injection reaches the asynchronous functions through one hook on their ports ([`faults`]);
//! - the built frontend is served with a generated `/config.json` ([`frontend`]).
//!
//! Everything runs in-process, so tests can start a whole stack of their own on free ports.

pub mod async_invocation;
pub mod calls;
pub mod capacity;
pub mod config;
pub mod dynamodb_local;
pub mod event_source_mapping;
pub mod faults;
pub mod frontend;
pub mod functions;
pub mod http_api;
pub mod invocations;
pub mod moto;
pub mod provision;
pub mod redrive;
pub mod stream_source;
pub mod ws_api;

use std::net::SocketAddr;
use std::sync::Arc;

use aws_config::{BehaviorVersion, SdkConfig};
use aws_types::origin::Origin;
use aws_types::service_config::{LoadServiceConfig, ServiceConfigKey};
use notes_core::edge::auth::JwtKeys;
use notes_core::edge::function::Settings;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use config::{LOCAL_JWT_SECRET, StackConfig, StackError};
pub use functions::Functions;
use notes_core::topology::{Trigger, topology};
pub use provision::Resources;

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

/// DynamoDB's own endpoint (its stream's too), as the SDK's per-service configuration.
#[derive(Debug)]
struct ServiceEndpoints {
    dynamodb: String,
}

impl LoadServiceConfig for ServiceEndpoints {
    fn load_config(&self, key: ServiceConfigKey<'_>) -> Option<String> {
        // The table's stream is DynamoDB Local's too.
        let dynamodb = matches!(key.service_id(), "DynamoDB" | "DynamoDB Streams");
        (dynamodb && key.env() == "AWS_ENDPOINT_URL").then(|| self.dynamodb.clone())
    }
}

fn missing(what: &str, name: &str) -> StackError {
    StackError::Config(format!("no {what} {name} was provisioned or built"))
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
    let faults = config.fault_injection.then(|| faults::FaultSwitch::new(true));
    let fault_plan = match &config.fault_plan {
        Some(plan) => {
            plan.validate().map_err(|e| StackError::Config(format!("fault plan: {e}")))?;
            Some(faults::Faults::new(plan.clone()))
        }
        None => None,
    };
    let hook = Arc::new(faults::FaultHook::new(faults.clone(), fault_plan.clone()));
    let consumed_capacity = capacity::CapacityMeter::default();
    // What each function's Lambda reads from its environment, given here from what was provisioned;
    // every function is built by the one path its Lambda binary takes, its ports through the hook.
    let settings = Settings::given(sdk.clone(), keys)
        .with_table(&resources.table_name)
        .with_bus(&resources.bus_name)
        .with_management_endpoint(format!("http://{ws_addr}"))
        .with_broadcast_queue(&resources.broadcast_queue_url)
        .with_table_interceptor(consumed_capacity.interceptor())
        .with_port_hook(hook.clone());
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
    let _ = hook.dropper().set(ws.clone() as Arc<dyn faults::ConnectionDropper>);
    tasks.push(tokio::spawn(ws_api::serve(ws_listener, ws.clone())));
    let retry_delay = std::time::Duration::from_secs(u64::from(config.notify_retry_seconds));
    for (name, declared) in &topology().functions {
        let name: &'static str = name.as_str();
        match &declared.trigger {
            Trigger::Queue(queue) => {
                let source = resources.work_queue(queue).ok_or_else(|| missing("queue", queue))?;
                let function = functions.queue(name).ok_or_else(|| missing("queue function", name))?;
                let run = event_source_mapping::run(sdk.clone(), name, source, function, fault_plan.clone());
                tasks.push(tokio::spawn(run));
            }
            Trigger::Rule(rule) => {
                let target = resources.rule_target(rule).ok_or_else(|| missing("rule target", rule))?;
                let function = functions.rule(name).ok_or_else(|| missing("rule function", name))?;
                tasks.push(tokio::spawn(async_invocation::run(sdk.clone(), name, target, function, retry_delay)));
            }
            Trigger::Stream(_) => {
                let function = functions.stream(name).ok_or_else(|| missing("stream function", name))?;
                let source = stream_source::Source {
                    table_name: resources.table_name.clone(),
                    on_failure_url: resources.change_failures_url.clone(),
                };
                tasks.push(tokio::spawn(stream_source::run(sdk.clone(), name, source, function)));
            }
            // The HTTP and WebSocket APIs route to theirs from the same declarations.
            Trigger::Http(_) | Trigger::WebSocket(_) => {}
        }
    }
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
