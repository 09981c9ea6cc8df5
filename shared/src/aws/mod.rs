//! AWS adapters for the ports. Clients are built here, once per cold start, from the standard
//! SDK configuration, which honours `AWS_REGION` and `AWS_ENDPOINT_URL` (the local stack and
//! the moto-backed tests point every client at an emulator that way).

mod dynamo;
mod eventbridge;
mod management;

pub use dynamo::DynamoTable;
pub use eventbridge::EventBridgeBus;
pub use management::ManagementApi;

use aws_config::{BehaviorVersion, SdkConfig};

use crate::auth::JwtKeys;
use crate::config::{self, ConfigError, SecretSource};

/// The shared SDK configuration (region, credentials, endpoint), loaded once. Endpoints come
/// per service when set: `AWS_ENDPOINT_URL_DYNAMODB` for DynamoDB's client, `AWS_ENDPOINT_URL`
/// for the others (locally, DynamoDB Local and moto).
pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}

/// The table named by `TABLE_NAME`.
pub fn table_from_env(sdk: &SdkConfig) -> Result<DynamoTable, ConfigError> {
    Ok(DynamoTable::new(aws_sdk_dynamodb::Client::new(sdk), config::required(config::TABLE_NAME)?))
}

/// The bus named by `EVENT_BUS_NAME`.
pub fn bus_from_env(sdk: &SdkConfig) -> Result<EventBridgeBus, ConfigError> {
    Ok(EventBridgeBus::new(aws_sdk_eventbridge::Client::new(sdk), config::required(config::EVENT_BUS_NAME)?))
}

/// The Management API at `WEBSOCKET_MANAGEMENT_ENDPOINT`.
pub fn management_api_from_env(sdk: &SdkConfig) -> Result<ManagementApi, ConfigError> {
    Ok(ManagementApi::new(sdk, &config::required(config::WEBSOCKET_MANAGEMENT_ENDPOINT)?))
}

/// The JWT keys, with the secret read once: from Secrets Manager (`JWT_SECRET_ARN`) in AWS,
/// from `JWT_SECRET` locally. The secret's value is never logged.
pub async fn jwt_keys_from_env(sdk: &SdkConfig) -> Result<JwtKeys, ConfigError> {
    config::jwt_keys(&read_secret(sdk, SecretSource::from_env()?).await?)
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
