//! `POST /auth/login`: checks a username and password and issues a bearer token (HS256 JWT).
//!
//! An unknown user and a wrong password get the very same answer, after the same argon2 work,
//! so neither the body nor the time tells which usernames exist.

use std::sync::Arc;

use async_trait::async_trait;
use lambda_http::{Body, Request, Response};
use notes_core::domain::{Password, Timestamp, Username};
use notes_core::edge::auth::{JwtKeys, PasswordHasher};
use notes_core::edge::function::{Function, Http, HttpFunction, Settings};
use notes_core::edge::http::{JsonObject, api_request_id, json_response, respond};
use notes_core::ports::UserStore;
use notes_core::{ApiError, edge::config::ConfigError};
use serde::Serialize;
use tracing::Instrument as _;

pub const TOKEN_TYPE: &str = "Bearer";

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoggedIn {
    pub token: String,
    pub token_type: &'static str,
    pub expires_at: Timestamp,
    pub username: Username,
}

pub struct Login {
    keys: JwtKeys,
    users: Arc<dyn UserStore>,
    hasher: Arc<PasswordHasher>,
}

impl Login {
    pub fn new(keys: JwtKeys, users: Arc<dyn UserStore>) -> Self {
        Self { keys, users, hasher: Arc::new(PasswordHasher::new()) }
    }

    async fn log_in(&self, req: &Request) -> Result<Response<Body>, ApiError> {
        // A body that is not `{username: string, password: string}` is a 400; past that, any
        // pair that does not match an account is the one 401.
        let body = JsonObject::from_request(req)?;
        let username = body.required_string("username")?;
        let password = body.required_string("password")?;

        // A password outside the length rules was never accepted at sign-up, so it matches no
        // account. Answering at once reveals nothing about which users exist: the answer and
        // its time depend only on what the caller sent.
        let password = Password::parse(password).map_err(|_| ApiError::InvalidCredentials)?;
        // A username that breaks the format rules cannot exist either: it gets the answer of an
        // unknown user (401, not 400), after the same decoy verification, so that a malformed
        // name is indistinguishable from an unknown one.
        let user = match Username::parse(username) {
            Ok(username) => self.users.get(&username).await?,
            Err(_) => None,
        };

        let hasher = Arc::clone(&self.hasher);
        let stored_hash = user.as_ref().map(|u| u.password_hash.clone());
        // argon2id is deliberately slow: run it off the async threads.
        let verified = tokio::task::spawn_blocking(move || hasher.verify(&password, stored_hash.as_deref()))
            .await
            .map_err(|_| ApiError::Internal)?;
        let user = match user {
            Some(user) if verified => user,
            _ => return Err(ApiError::InvalidCredentials),
        };

        let issued = self.keys.issue(&user.username, Timestamp::now());
        tracing::info!(username = %user.username, "logged in");
        Ok(json_response(
            http::StatusCode::OK,
            &LoggedIn {
                token: issued.token,
                token_type: TOKEN_TYPE,
                expires_at: issued.expires_at,
                username: user.username,
            },
        ))
    }
}

impl Function for Login {
    const NAME: &'static str = env!("CARGO_PKG_NAME");
    type Trigger = Http;

    async fn build(settings: &Settings) -> Result<Self, ConfigError> {
        Ok(Self::new(settings.jwt_keys().await?, settings.users()?))
    }
}

#[async_trait]
impl HttpFunction for Login {
    async fn handle(&self, req: Request) -> Response<Body> {
        let span = tracing::info_span!("login", correlationId = %api_request_id(&req));
        respond(self.log_in(&req).instrument(span).await)
    }
}
