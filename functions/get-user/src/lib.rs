//! `GET /auth/user`: the signed-in user's account, `{username, createdAt}`.

use std::sync::Arc;

use async_trait::async_trait;
use lambda_http::{Body, Request, Response};
use notes_core::domain::{Timestamp, Username};
use notes_core::edge::auth::JwtKeys;
use notes_core::edge::function::{Function, Http, HttpFunction, Settings};
use notes_core::edge::http::{api_request_id, authenticate, json_response, respond};
use notes_core::ports::UserStore;
use notes_core::{ApiError, edge::config::ConfigError};
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

    async fn current_user(&self, req: &Request) -> Result<Response<Body>, ApiError> {
        let username = authenticate(&self.keys, req)?;
        // A token can outlive its account: once the account is gone the token no longer counts.
        let user = self.users.get(&username).await?.ok_or(ApiError::Unauthorized)?;
        Ok(json_response(http::StatusCode::OK, &Account { username: user.username, created_at: user.created_at }))
    }
}

impl Function for GetUser {
    const NAME: &'static str = env!("CARGO_PKG_NAME");
    type Trigger = Http;

    async fn build(settings: &Settings) -> Result<Self, ConfigError> {
        Ok(Self::new(settings.jwt_keys().await?, settings.users()?))
    }
}

#[async_trait]
impl HttpFunction for GetUser {
    async fn handle(&self, req: Request) -> Response<Body> {
        let span = tracing::info_span!("get_user", correlationId = %api_request_id(&req));
        respond(self.current_user(&req).instrument(span).await)
    }
}
