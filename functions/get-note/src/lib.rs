//! `GET /notes/{noteId}`: one of the caller's notes.
//!
//! The lookup key is always the caller's own partition, so another user's note, an unknown id
//! and a malformed id are all the same 404: nothing tells whether someone else has that note.

use std::sync::Arc;

use async_trait::async_trait;
use lambda_http::{Body, Request, Response};
use notes_core::domain::lifecycle::NoteState;
use notes_core::edge::auth::JwtKeys;
use notes_core::edge::function::{Function, Http, HttpFunction, Settings};
use notes_core::edge::http::{api_request_id, authenticate, json_response, note_id_param, respond};
use notes_core::ports::NoteStore;
use notes_core::{ApiError, edge::config::ConfigError};
use tracing::{Instrument as _, field};

pub struct GetNote {
    keys: JwtKeys,
    notes: Arc<dyn NoteStore>,
}

impl GetNote {
    pub fn new(keys: JwtKeys, notes: Arc<dyn NoteStore>) -> Self {
        Self { keys, notes }
    }

    async fn get(&self, req: &Request) -> Result<Response<Body>, ApiError> {
        let owner = authenticate(&self.keys, req)?;
        let note_id = note_id_param(req)?;
        tracing::Span::current().record("noteId", field::display(note_id));
        // The note, or why it could not be stored: its owner reads its fate after the fact.
        match self.notes.state(&owner, note_id).await? {
            Some(NoteState::Stored(note)) => Ok(json_response(http::StatusCode::OK, &note)),
            Some(NoteState::Failed(failed)) => Ok(json_response(http::StatusCode::OK, &failed)),
            Some(NoteState::Deleted(_)) | None => Err(ApiError::NotFound),
        }
    }
}

impl Function for GetNote {
    const NAME: &'static str = env!("CARGO_PKG_NAME");
    type Trigger = Http;

    async fn build(settings: &Settings) -> Result<Self, ConfigError> {
        Ok(Self::new(settings.jwt_keys().await?, settings.notes()?))
    }
}

#[async_trait]
impl HttpFunction for GetNote {
    async fn handle(&self, req: Request) -> Response<Body> {
        let span = tracing::info_span!("get_note", correlationId = %api_request_id(&req), noteId = field::Empty);
        respond(self.get(&req).instrument(span).await)
    }
}
