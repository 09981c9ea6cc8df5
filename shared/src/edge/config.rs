//! Configuration from the environment (docs/configuration.md). A missing required variable stops
//! the function at init with a message naming it.

use crate::edge::auth::JwtKeys;

#[derive(Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("the environment variable {0} is required but not set")]
    Missing(&'static str),
    #[error("the environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
    #[error("the JWT secret could not be read: {0}")]
    Secret(String),
}

/// A function's `main` returning this at init prints it with `Debug`: make that the sentence.
impl std::fmt::Debug for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

pub const TABLE_NAME: &str = "TABLE_NAME";
pub const EVENT_BUS_NAME: &str = "EVENT_BUS_NAME";
pub const WEBSOCKET_MANAGEMENT_ENDPOINT: &str = "WEBSOCKET_MANAGEMENT_ENDPOINT";
pub const BROADCAST_QUEUE_URL: &str = "BROADCAST_QUEUE_URL";
pub const JWT_SECRET_ARN: &str = "JWT_SECRET_ARN";
pub const JWT_SECRET: &str = "JWT_SECRET";
pub const JWT_TTL_SECONDS: &str = "JWT_TTL_SECONDS";
pub const DEFAULT_JWT_TTL_SECONDS: i64 = 86_400;

/// The value of a required variable.
pub fn required(name: &'static str) -> Result<String, ConfigError> {
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => Ok(value),
        _ => Err(ConfigError::Missing(name)),
    }
}

pub fn optional(name: &'static str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

pub fn jwt_ttl_seconds() -> Result<i64, ConfigError> {
    match optional(JWT_TTL_SECONDS) {
        None => Ok(DEFAULT_JWT_TTL_SECONDS),
        Some(raw) => match raw.parse::<i64>() {
            Ok(v) if v > 0 => Ok(v),
            _ => Err(ConfigError::Invalid {
                name: JWT_TTL_SECONDS,
                reason: "must be a positive number of seconds".into(),
            }),
        },
    }
}

/// Where the signing secret comes from: Secrets Manager in AWS, the environment locally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    SecretsManager { arn: String },
    Environment(String),
}

impl SecretSource {
    pub fn from_env() -> Result<Self, ConfigError> {
        if let Some(arn) = optional(JWT_SECRET_ARN) {
            return Ok(SecretSource::SecretsManager { arn });
        }
        if let Some(secret) = optional(JWT_SECRET) {
            return Ok(SecretSource::Environment(secret));
        }
        Err(ConfigError::Missing(JWT_SECRET_ARN))
    }
}

/// Builds the JWT keys from a secret already read, with the configured lifetime.
pub fn jwt_keys(secret: &str) -> Result<JwtKeys, ConfigError> {
    JwtKeys::new(secret.as_bytes(), jwt_ttl_seconds()?)
        .map_err(|e| ConfigError::Invalid { name: JWT_SECRET, reason: e.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_variable_is_named_in_the_error() {
        let err = required("NOTES_TEST_VARIABLE_THAT_IS_NEVER_SET").unwrap_err();
        assert_eq!(err, ConfigError::Missing("NOTES_TEST_VARIABLE_THAT_IS_NEVER_SET"));
        assert!(err.to_string().contains("NOTES_TEST_VARIABLE_THAT_IS_NEVER_SET"));
        assert_eq!(format!("{err:?}"), err.to_string(), "what main prints when init fails");
    }

    #[test]
    fn a_short_secret_is_refused_at_init_without_showing_it() {
        let err = jwt_keys("too-short").unwrap_err();
        assert!(!err.to_string().contains("too-short"));
    }
}
