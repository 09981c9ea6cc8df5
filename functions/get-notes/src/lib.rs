//! `GET /notes?limit=&cursor=`: the caller's own notes, private and public, newest first.
//!
//! One Query on the caller's partition per page. The partition comes from the token, never
//! from the cursor, so no cursor can page into another user's notes.

use std::sync::Arc;

use async_trait::async_trait;
use lambda_http::{Body, Request, Response};
use notes_core::edge::auth::JwtKeys;
use notes_core::edge::function::{Function, Http, HttpFunction, Settings};
use notes_core::edge::http::{api_request_id, authenticate, json_response, query_param, respond};
use notes_core::edge::pagination::{NotesPage, page_request};
use notes_core::ports::NoteStore;
use notes_core::{ApiError, edge::config::ConfigError};
use tracing::Instrument as _;

pub struct GetNotes {
    keys: JwtKeys,
    notes: Arc<dyn NoteStore>,
}

impl GetNotes {
    pub fn new(keys: JwtKeys, notes: Arc<dyn NoteStore>) -> Self {
        Self { keys, notes }
    }

    async fn list(&self, req: &Request) -> Result<Response<Body>, ApiError> {
        let owner = authenticate(&self.keys, req)?;
        let request = page_request(query_param(req, "limit").as_deref(), query_param(req, "cursor").as_deref())?;
        let page = self.notes.list_by_owner(&owner, request).await?;
        Ok(json_response(http::StatusCode::OK, &NotesPage::from(page)))
    }
}

impl Function for GetNotes {
    const NAME: &'static str = env!("CARGO_PKG_NAME");
    type Trigger = Http;

    async fn build(settings: &Settings) -> Result<Self, ConfigError> {
        Ok(Self::new(settings.jwt_keys().await?, settings.notes()?))
    }
}

#[async_trait]
impl HttpFunction for GetNotes {
    async fn handle(&self, req: Request) -> Response<Body> {
        let span = tracing::info_span!("get_notes", correlationId = %api_request_id(&req));
        respond(self.list(&req).instrument(span).await)
    }
}
