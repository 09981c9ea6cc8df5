//! `DELETE /notes/{noteId}`: removes a note (and its public copy); `204`.
//!
//! The delete applies only if the note is still what was read, and puts a tombstone (one version
//! past the note) in its place, so a late redelivery, a redrive or a replay of the note's
//! `note-created` cannot store it again. Nothing is published here: the table's stream carries
//! the committed delete to `publish-changes`, which publishes `note-deleted` with `wasPublic`
//! read from the stream's old image. A retried `DELETE` finds the tombstone, answers 204 and
//! writes nothing.
//!
//! A note its owner never saw stored (a failed note they dismiss, or one still pending) is given
//! up the same way: a `DELETE` of the caller's own note id whose key holds nothing or a failure
//! writes a tombstone in the caller's partition and answers 204, so a later redrive or replay of
//! its `note-created` stores nothing. Only the caller's own partition is written, so this
//! reveals and touches nothing of anyone else's.

use std::sync::Arc;

use async_trait::async_trait;
use lambda_http::{Body, Request, Response};
use notes_core::domain::lifecycle::{Provenance, Tombstone};
use notes_core::domain::{Note, NoteId, Timestamp, Username};
use notes_core::edge::auth::JwtKeys;
use notes_core::edge::editing::change_own_note;
use notes_core::edge::function::{Function, Http, HttpFunction, Settings};
use notes_core::edge::http::{api_request_id, authenticate, empty_response, note_id_param, respond};
use notes_core::ports::{DismissOutcome, NoteStore};
use notes_core::topology::topology;
use notes_core::{ApiError, edge::config::ConfigError};
use tracing::{Instrument as _, field};

/// How long a tombstone is kept (`Topology::tombstone_seconds`): a day longer than a
/// `note-created` can come back, as a message on its queue or its DLQ or as an event replayed from
/// the archive; `save-note` refuses an older one.
pub fn tombstone_seconds() -> i64 {
    topology().tombstone_seconds()
}

pub struct DeleteNote {
    keys: JwtKeys,
    notes: Arc<dyn NoteStore>,
}

impl DeleteNote {
    pub fn new(keys: JwtKeys, notes: Arc<dyn NoteStore>) -> Self {
        Self { keys, notes }
    }

    async fn delete(&self, req: &Request, correlation_id: String) -> Result<Response<Body>, ApiError> {
        let owner = authenticate(&self.keys, req)?;
        let note_id = note_id_param(req)?;
        tracing::Span::current().record("noteId", field::display(note_id));

        let made_by = Provenance::request(correlation_id);
        match self.remove(&owner, note_id, &made_by).await {
            Ok(()) => {
                tracing::info!("note deleted");
                Ok(empty_response(http::StatusCode::NO_CONTENT))
            }
            // Nothing stored there: deleted already (a retry), failed, pending, or never the
            // caller's. Given up, in the caller's own partition.
            Err(ApiError::NotFound) => self.dismiss(&owner, note_id, &made_by).await,
            Err(err) => Err(err),
        }
    }

    /// Gives up a note of the caller's that is not stored: its tombstone, 204. If it was stored
    /// meanwhile (its last receive saved it after all), it is deleted as a stored note is.
    async fn dismiss(
        &self,
        owner: &Username,
        note_id: NoteId,
        made_by: &Provenance,
    ) -> Result<Response<Body>, ApiError> {
        let until = Timestamp::now().plus_seconds(tombstone_seconds());
        match self.notes.dismiss(owner, note_id, until, made_by).await? {
            DismissOutcome::Dismissed => {
                tracing::info!("a note not stored is given up: its tombstone refuses a later store");
                Ok(empty_response(http::StatusCode::NO_CONTENT))
            }
            DismissOutcome::Stored => {
                self.remove(owner, note_id, made_by).await?;
                Ok(empty_response(http::StatusCode::NO_CONTENT))
            }
        }
    }

    /// Deletes the caller's stored note: its tombstone in its place, one version on.
    async fn remove(&self, owner: &Username, note_id: NoteId, made_by: &Provenance) -> Result<(), ApiError> {
        change_own_note(self.notes.as_ref(), owner, note_id, |note: Note| async move {
            let now = Timestamp::now();
            let tombstone = Tombstone::replacing(&note, now, now.plus_seconds(tombstone_seconds()));
            let outcome = self.notes.delete(&note, &tombstone, made_by).await?;
            Ok((outcome, ()))
        })
        .await
    }
}

impl Function for DeleteNote {
    const NAME: &'static str = env!("CARGO_PKG_NAME");
    type Trigger = Http;

    async fn build(settings: &Settings) -> Result<Self, ConfigError> {
        Ok(Self::new(settings.jwt_keys().await?, settings.notes()?))
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
