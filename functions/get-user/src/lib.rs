//! `GET /auth/user`: the signed-in user's account, `{username, createdAt}`.

use std::sync::Arc;

use lambda_http::{Body, Request, Response};
use notes_core::auth::JwtKeys;
use notes_core::domain::{Timestamp, Username};
use notes_core::http::{api_request_id, authenticate, json_response, respond};
use notes_core::ports::UserStore;
use notes_core::{ApiError, aws, config::ConfigError};
use serde::Serialize;
use tracing::Instrument as _;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    pub username: Username,
    pub created_at: Timestamp,
}

pub struct GetUser {
    keys: JwtKeys,
    users: Arc<dyn UserStore>,
}

impl GetUser {
    pub fn new(keys: JwtKeys, users: Arc<dyn UserStore>) -> Self {
        Self { keys, users }
    }

    /// Builds the table client and reads the signing secret once, from the environment.
    pub async fn from_env() -> Result<Self, ConfigError> {
        let sdk = aws::sdk_config().await;
        Ok(Self::new(aws::jwt_keys_from_env(&sdk).await?, Arc::new(aws::table_from_env(&sdk)?)))
    }

    pub async fn handle(&self, req: Request) -> Response<Body> {
        let span = tracing::info_span!("get_user", correlationId = %api_request_id(&req));
        respond(self.current_user(&req).instrument(span).await)
    }

    async fn current_user(&self, req: &Request) -> Result<Response<Body>, ApiError> {
        let username = authenticate(&self.keys, req)?;
        // A token can outlive its account: once the account is gone the token no longer counts.
        let user = self.users.get(&username).await?.ok_or(ApiError::Unauthorized)?;
        Ok(json_response(http::StatusCode::OK, &Account { username: user.username, created_at: user.created_at }))
    }
}
