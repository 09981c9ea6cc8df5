//! AWS adapters for the ports. Their clients are built once per cold start, by
//! [`crate::edge::function::Settings`], from the standard SDK configuration, which honours `AWS_REGION`
//! and `AWS_ENDPOINT_URL` (the local stack and the moto-backed tests point every client at an
//! emulator that way).

mod eventbridge;
mod management;
mod sqs;
mod table;

pub use eventbridge::EventBridgeBus;
pub use management::ManagementApi;
pub use sqs::SqsBroadcastQueue;
pub use table::{DynamoTable, stream};

use aws_config::{BehaviorVersion, SdkConfig};

use crate::edge::config::{ConfigError, SecretSource};

/// The shared SDK configuration (region, credentials, endpoint), loaded once. Endpoints come
/// per service when set: `AWS_ENDPOINT_URL_DYNAMODB` for DynamoDB's client, `AWS_ENDPOINT_URL`
/// for the others (locally, DynamoDB Local and moto).
pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}

/// The signing secret's value, from where `source` says.
pub async fn read_secret(sdk: &SdkConfig, source: SecretSource) -> Result<String, ConfigError> {
    match source {
        SecretSource::Environment(secret) => Ok(secret),
        SecretSource::SecretsManager { arn } => {
            let out =
                aws_sdk_secretsmanager::Client::new(sdk).get_secret_value().secret_id(&arn).send().await.map_err(
                    |e| ConfigError::Secret(aws_sdk_secretsmanager::error::DisplayErrorContext(e).to_string()),
                )?;
            out.secret_string.ok_or_else(|| ConfigError::Secret(format!("{arn} has no string value")))
        }
    }
}
