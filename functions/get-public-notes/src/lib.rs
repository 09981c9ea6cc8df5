//! `GET /notes/public?limit=&cursor=`: every user's public notes, newest first. No sign-in.
//!
//! One Query on the public-feed partition per page; the cursor only says where in it to go on.

use std::sync::Arc;

use async_trait::async_trait;
use lambda_http::{Body, Request, Response};
use notes_core::edge::function::{Function, Http, HttpFunction, Settings};
use notes_core::edge::http::{api_request_id, json_response, query_param, respond};
use notes_core::edge::pagination::{NotesPage, page_request};
use notes_core::ports::NoteStore;
use notes_core::{ApiError, edge::config::ConfigError};
use tracing::Instrument as _;

pub struct GetPublicNotes {
    notes: Arc<dyn NoteStore>,
}

impl GetPublicNotes {
    pub fn new(notes: Arc<dyn NoteStore>) -> Self {
        Self { notes }
    }

    async fn list(&self, req: &Request) -> Result<Response<Body>, ApiError> {
        let request = page_request(query_param(req, "limit").as_deref(), query_param(req, "cursor").as_deref())?;
        let page = self.notes.list_public(request).await?;
        Ok(json_response(http::StatusCode::OK, &NotesPage::from(page)))
    }
}

impl Function for GetPublicNotes {
    const NAME: &'static str = env!("CARGO_PKG_NAME");
    type Trigger = Http;

    async fn build(settings: &Settings) -> Result<Self, ConfigError> {
        Ok(Self::new(settings.notes()?))
    }
}

#[async_trait]
impl HttpFunction for GetPublicNotes {
    async fn handle(&self, req: Request) -> Response<Body> {
        let span = tracing::info_span!("get_public_notes", correlationId = %api_request_id(&req));
        respond(self.list(&req).instrument(span).await)
    }
}
