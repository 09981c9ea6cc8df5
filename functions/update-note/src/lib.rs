//! `PUT /notes/{noteId}`: changes a note's content, its visibility, or both; `200` with the note.
//!
//! Read, change, conditional write: the write applies only if the note is still what was read
//! (optimistic concurrency on `updatedAt`), one version on, its place in the public feed in the
//! same item. A write that lost a race is retried on a fresh read. Nothing is published here:
//! the table's stream carries the committed edit to `publish-changes`, which publishes its
//! `note-updated` (with `wasPublic` read from the stream's old image).
//!
//! A retried `PUT` that finds its change already applied answers 200 with the note as it is and
//! writes nothing: the first write's event has been published or will be, from the stream. So no
//! edit's event can be lost behind another edit, or published twice with different content.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use lambda_http::{Body, Request, Response};
use notes_core::domain::lifecycle::Provenance;
use notes_core::domain::{Note, NoteChange, NoteContent, NoteId, Timestamp, Username};
use notes_core::edge::auth::JwtKeys;
use notes_core::edge::editing::change_own_note;
use notes_core::edge::function::{Function, Http, HttpFunction, Settings};
use notes_core::edge::http::{JsonObject, api_request_id, authenticate, json_response, note_id_param, respond};
use notes_core::ports::{ChangeOutcome, NoteStore};
use notes_core::{ApiError, edge::config::ConfigError};
use tracing::{Instrument as _, field};

pub struct UpdateNote {
    keys: JwtKeys,
    notes: Arc<dyn NoteStore>,
}

impl UpdateNote {
    pub fn new(keys: JwtKeys, notes: Arc<dyn NoteStore>) -> Self {
        Self { keys, notes }
    }

    async fn update(&self, req: &Request, correlation_id: String) -> Result<Response<Body>, ApiError> {
        let owner = authenticate(&self.keys, req)?;
        let note_id = note_id_param(req)?;
        tracing::Span::current().record("noteId", field::display(note_id));
        let change = read_change(req)?;

        let after = self.write(&owner, note_id, &change, &Provenance::request(correlation_id)).await?;
        tracing::info!(isPublic = after.is_public, version = after.version, "note updated");
        Ok(json_response(http::StatusCode::OK, &after))
    }

    /// Applies `change` to the caller's note; the note as it is now.
    async fn write(
        &self,
        owner: &Username,
        note_id: NoteId,
        change: &NoteChange,
        made_by: &Provenance,
    ) -> Result<Note, ApiError> {
        change_own_note(self.notes.as_ref(), owner, note_id, |before: Note| async move {
            if change.is_applied_to(&before) {
                // Already so: a retry of the edit that made it so, or an edit that changes
                // nothing. Nothing to write; whatever made it so has its event from the stream.
                tracing::info!("the change is already applied; nothing written");
                return Ok((ChangeOutcome::Applied, before));
            }
            let after = before.changed(change, update_time(&before));
            let outcome = self.notes.replace(&before, &after, made_by).await?;
            Ok((outcome, after))
        })
        .await
    }
}

impl Function for UpdateNote {
    const NAME: &'static str = env!("CARGO_PKG_NAME");
    type Trigger = Http;

    async fn build(settings: &Settings) -> Result<Self, ConfigError> {
        Ok(Self::new(settings.jwt_keys().await?, settings.notes()?))
    }
}

#[async_trait]
impl HttpFunction for UpdateNote {
    async fn handle(&self, req: Request) -> Response<Body> {
        let correlation_id = api_request_id(&req);
        let span = tracing::info_span!("update_note", correlationId = %correlation_id, noteId = field::Empty);
        respond(self.update(&req, correlation_id).instrument(span).await)
    }
}

/// `{content?, isPublic?}` with at least one of the two.
fn read_change(req: &Request) -> Result<NoteChange, ApiError> {
    let body = JsonObject::from_request(req)?;
    let content = body.optional_string("content")?.map(NoteContent::parse).transpose()?;
    let is_public = body.optional_bool("isPublic")?;
    if content.is_none() && is_public.is_none() {
        return Err(ApiError::invalid("at least one of content and isPublic is required"));
    }
    Ok(NoteChange { content, is_public })
}

/// Now, unless that is not after the last update (two updates in one millisecond, or a clock
/// behind the last writer's): `updatedAt` must strictly increase, because it is the version
/// the next writer's conditional write compares.
fn update_time(before: &Note) -> Timestamp {
    let now = Timestamp::now();
    match before.updated_at {
        Some(last) if now <= last => Timestamp::from_datetime(last.as_datetime() + Duration::from_millis(1)),
        _ => now,
    }
}
