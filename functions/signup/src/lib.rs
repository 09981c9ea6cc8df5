//! `POST /auth/signup`: creates an account; `201 {username, createdAt}`, `409` if the name is taken.
//!
//! The password is stored only as an argon2id hash. The account is created by a conditional
//! write, so two sign-ups racing for one name cannot both succeed.

use std::sync::Arc;

use async_trait::async_trait;
use lambda_http::{Body, Request, Response};
use notes_core::domain::{Password, Timestamp, Username};
use notes_core::edge::auth::PasswordHasher;
use notes_core::edge::function::{Function, Http, HttpFunction, Settings};
use notes_core::edge::http::{JsonObject, api_request_id, json_response, respond};
use notes_core::ports::{UserRecord, UserStore};
use notes_core::{ApiError, edge::config::ConfigError};
use serde::Serialize;
use tracing::Instrument as _;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    pub username: Username,
    pub created_at: Timestamp,
}

pub struct Signup {
    users: Arc<dyn UserStore>,
    hasher: Arc<PasswordHasher>,
}

impl Signup {
    pub fn new(users: Arc<dyn UserStore>) -> Self {
        Self { users, hasher: Arc::new(PasswordHasher::new()) }
    }

    async fn sign_up(&self, req: &Request) -> Result<Response<Body>, ApiError> {
        let body = JsonObject::from_request(req)?;
        let username = Username::parse(body.required_string("username")?)?;
        let password = Password::parse(body.required_string("password")?)?;

        // argon2id is deliberately slow; off the async threads so other requests sharing the
        // runtime (the local stack runs every handler in one process) are not held up.
        let hasher = Arc::clone(&self.hasher);
        let password_hash =
            tokio::task::spawn_blocking(move || hasher.hash(&password)).await.map_err(|_| ApiError::Internal)?;

        let user = UserRecord { username, password_hash, created_at: Timestamp::now() };
        if !self.users.create(&user).await? {
            return Err(ApiError::UsernameTaken);
        }
        tracing::info!(username = %user.username, "account created");
        Ok(json_response(http::StatusCode::CREATED, &Account { username: user.username, created_at: user.created_at }))
    }
}

impl Function for Signup {
    const NAME: &'static str = env!("CARGO_PKG_NAME");
    type Trigger = Http;

    async fn build(settings: &Settings) -> Result<Self, ConfigError> {
        Ok(Self::new(settings.users()?))
    }
}

#[async_trait]
impl HttpFunction for Signup {
    async fn handle(&self, req: Request) -> Response<Body> {
        let span = tracing::info_span!("signup", correlationId = %api_request_id(&req));
        respond(self.sign_up(&req).instrument(span).await)
    }
}
