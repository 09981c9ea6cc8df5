//! How a local stack is configured, and what stops one from starting.

use std::path::PathBuf;

use crate::faults;

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
            jwt_ttl_seconds: notes_core::edge::config::DEFAULT_JWT_TTL_SECONDS,
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
