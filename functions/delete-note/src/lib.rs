//! `DELETE /notes/{noteId}`: removes a note (and its public copy); `204`.
//!
//! The delete applies only if the note is still what was read, and leaves a tombstone so a late
//! redelivery of the note's `note-created` cannot store it again. `note-deleted` is published
//! after the write, carrying `wasPublic` so public feeds can drop the note.

use std::sync::Arc;

use async_trait::async_trait;
use lambda_http::{Body, Request, Response};
use notes_core::auth::JwtKeys;
use notes_core::domain::{Note, NoteId, Timestamp, Username};
use notes_core::editing::change_own_note;
use notes_core::events::NoteEvent;
use notes_core::function::{Function, HttpFunction, Settings};
use notes_core::http::{api_request_id, authenticate, empty_response, note_id_param, respond};
use notes_core::ports::{EventPublisher, NoteStore};
use notes_core::topology::topology;
use notes_core::{ApiError, config::ConfigError};
use tracing::{Instrument as _, field};

/// How long a tombstone is kept: a day longer than a `note-created` message can stay on its
/// queue, so no delivery of it can arrive after the tombstone is gone.
pub fn tombstone_seconds() -> i64 {
    i64::from(topology().queues.note_created.retention_seconds) + 24 * 3600
}

pub struct DeleteNote {
    keys: JwtKeys,
    notes: Arc<dyn NoteStore>,
    bus: Arc<dyn EventPublisher>,
}

impl DeleteNote {
    pub fn new(keys: JwtKeys, notes: Arc<dyn NoteStore>, bus: Arc<dyn EventPublisher>) -> Self {
        Self { keys, notes, bus }
    }

    async fn delete(&self, req: &Request, correlation_id: String) -> Result<Response<Body>, ApiError> {
        let owner = authenticate(&self.keys, req)?;
        let note_id = note_id_param(req)?;
        tracing::Span::current().record("noteId", field::display(note_id));

        let (note, deleted_at) = self.remove(&owner, note_id).await?;
        // The delete is done whatever happens next. If the publish fails the client gets a 503;
        // sending the DELETE again answers 404, as the note is gone.
        self.bus.publish(&[NoteEvent::note_deleted(&note, correlation_id, deleted_at)]).await?;
        tracing::info!(wasPublic = note.is_public, "note deleted");
        Ok(empty_response(http::StatusCode::NO_CONTENT))
    }

    /// Deletes the caller's note; the note as it was and when it was deleted.
    async fn remove(&self, owner: &Username, note_id: NoteId) -> Result<(Note, Timestamp), ApiError> {
        change_own_note(self.notes.as_ref(), owner, note_id, |note: Note| async move {
            let now = Timestamp::now();
            let outcome = self.notes.delete(&note, now.plus_seconds(tombstone_seconds())).await?;
            Ok((outcome, (note, now)))
        })
        .await
    }
}

impl Function for DeleteNote {
    const NAME: &'static str = env!("CARGO_PKG_NAME");

    async fn build(settings: &Settings) -> Result<Self, ConfigError> {
        Ok(Self::new(settings.jwt_keys().await?, settings.table()?, settings.bus()?))
    }
}

#[async_trait]
impl HttpFunction for DeleteNote {
    async fn handle(&self, req: Request) -> Response<Body> {
        let correlation_id = api_request_id(&req);
        let span = tracing::info_span!("delete_note", correlationId = %correlation_id, noteId = field::Empty);
        respond(self.delete(&req, correlation_id).instrument(span).await)
    }
}
