//! `GET /notes/public?limit=&cursor=`: every user's public notes, newest first. No sign-in.
//!
//! One Query on the public-feed partition per page; the cursor only says where in it to go on.

use std::sync::Arc;

use lambda_http::{Body, Request, Response};
use notes_core::http::{api_request_id, json_response, query_param, respond};
use notes_core::pagination::{NotesPage, page_request};
use notes_core::ports::NoteStore;
use notes_core::{ApiError, aws, config::ConfigError};
use tracing::Instrument as _;

pub struct GetPublicNotes {
    notes: Arc<dyn NoteStore>,
}

impl GetPublicNotes {
    pub fn new(notes: Arc<dyn NoteStore>) -> Self {
        Self { notes }
    }

    /// Builds the table client once, from the environment. No JWT secret is needed here.
    pub async fn from_env() -> Result<Self, ConfigError> {
        let sdk = aws::sdk_config().await;
        Ok(Self::new(Arc::new(aws::table_from_env(&sdk)?)))
    }

    pub async fn handle(&self, req: Request) -> Response<Body> {
        let span = tracing::info_span!("get_public_notes", correlationId = %api_request_id(&req));
        respond(self.list(&req).instrument(span).await)
    }

    async fn list(&self, req: &Request) -> Result<Response<Body>, ApiError> {
        let request = page_request(query_param(req, "limit").as_deref(), query_param(req, "cursor").as_deref())?;
        let page = self.notes.list_public(request).await?;
        Ok(json_response(http::StatusCode::OK, &NotesPage::from(page)))
    }
}
