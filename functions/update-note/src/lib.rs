//! `PUT /notes/{noteId}`: changes a note's content, its visibility, or both; `200` with the note.
//!
//! Read, change, conditional write: the write applies only if the note is still what was read
//! (optimistic concurrency on `updatedAt`), and the owner's copy and the public copy change in
//! one transaction. A write that lost a race is retried on a fresh read. `note-updated` is
//! published after the write, carrying `wasPublic` so public feeds can drop the note.
//!
//! The write keeps the record of its `note-updated` on the owner's copy. If the publish fails
//! (or the function dies) after the write, the client's retry finds its change already applied
//! and publishes that same event again, `wasPublic` and `eventId` included: no committed edit is
//! left without its event.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use lambda_http::{Body, Request, Response};
use notes_core::domain::events::NoteEvent;
use notes_core::domain::{Note, NoteChange, NoteContent, NoteId, Timestamp, Username};
use notes_core::edge::auth::JwtKeys;
use notes_core::edge::editing::change_own_note;
use notes_core::edge::function::{Function, Http, HttpFunction, Settings};
use notes_core::edge::http::{JsonObject, api_request_id, authenticate, json_response, note_id_param, respond};
use notes_core::ports::{ChangeOutcome, EventPublisher, LastChange, NoteStore};
use notes_core::{ApiError, edge::config::ConfigError};
use tracing::{Instrument as _, field};

pub struct UpdateNote {
    keys: JwtKeys,
    notes: Arc<dyn NoteStore>,
    bus: Arc<dyn EventPublisher>,
}

impl UpdateNote {
    pub fn new(keys: JwtKeys, notes: Arc<dyn NoteStore>, bus: Arc<dyn EventPublisher>) -> Self {
        Self { keys, notes, bus }
    }

    async fn update(&self, req: &Request, correlation_id: String) -> Result<Response<Body>, ApiError> {
        let owner = authenticate(&self.keys, req)?;
        let note_id = note_id_param(req)?;
        tracing::Span::current().record("noteId", field::display(note_id));
        let change = read_change(req)?;

        let (event, after) = self.write(&owner, note_id, &change, &correlation_id).await?;
        // The write is done whatever happens next. If the publish fails the client gets a 503
        // and may send the PUT again, which publishes this same event (see `write`).
        self.bus.publish(std::slice::from_ref(&event)).await?;
        tracing::info!(isPublic = after.is_public, "note updated");
        Ok(json_response(http::StatusCode::OK, &after))
    }

    /// Applies `change` to the caller's note; the event to publish and the note as it is now.
    async fn write(
        &self,
        owner: &Username,
        note_id: NoteId,
        change: &NoteChange,
        correlation_id: &str,
    ) -> Result<(NoteEvent, Note), ApiError> {
        change_own_note(self.notes.as_ref(), owner, note_id, |before: Note| async move {
            if change.is_applied_to(&before)
                && let Some(LastChange::Updated { note, change: record }) =
                    self.notes.last_change(owner, note_id).await?
                && note == before
                && note.updated_at == Some(record.at)
            {
                // A retry of the edit that made the note what it is: its event, once more.
                tracing::info!("the change is already applied; publishing its note-updated again");
                return Ok((ChangeOutcome::Applied, (NoteEvent::updated_again(&note, &record), note)));
            }
            let after = before.changed(change, update_time(&before));
            let event = NoteEvent::note_updated(&before, &after, correlation_id.to_owned());
            let record = event.change_record().expect("a note-updated has a change record");
            let outcome = self.notes.replace(&before, &after, &record).await?;
            Ok((outcome, (event, after)))
        })
        .await
    }
}

impl Function for UpdateNote {
    const NAME: &'static str = env!("CARGO_PKG_NAME");
    type Trigger = Http;

    async fn build(settings: &Settings) -> Result<Self, ConfigError> {
        Ok(Self::new(settings.jwt_keys().await?, settings.notes()?, settings.events()?))
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
