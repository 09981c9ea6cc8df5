//! `DELETE /notes/{noteId}`: removes a note (and its public copy); `204`.
//!
//! The delete applies only if the note is still what was read, and leaves a tombstone so a late
//! redelivery, a redrive or a replay of the note's `note-created` cannot store it again.
//! `note-deleted` is published after the write, carrying `wasPublic` so public feeds can drop
//! the note. The tombstone keeps the record of that event: if the publish fails (or the function
//! dies) after the write, the client's retried DELETE answers 204 and publishes the same event
//! again, so no committed delete is left without its event.
//!
//! A note its owner never saw stored (a note-failed they dismiss, or one still pending) is given
//! up the same way: a `DELETE` of the caller's own note id that holds nothing writes a tombstone
//! in the caller's partition and answers 204, so a later redrive or replay of its `note-created`
//! stores nothing. Nothing is published: no one was ever told the note existed. Only the caller's
//! own partition is written, so this reveals and touches nothing of anyone else's.

use std::sync::Arc;

use async_trait::async_trait;
use lambda_http::{Body, Request, Response};
use notes_core::domain::events::NoteEvent;
use notes_core::domain::{Note, NoteId, Timestamp, Username};
use notes_core::edge::auth::JwtKeys;
use notes_core::edge::editing::change_own_note;
use notes_core::edge::function::{Function, Http, HttpFunction, Settings};
use notes_core::edge::http::{api_request_id, authenticate, empty_response, note_id_param, respond};
use notes_core::ports::{DismissOutcome, EventPublisher, LastChange, NoteStore};
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

        let event = match self.remove(&owner, note_id, &correlation_id).await {
            Ok(event) => event,
            // The note is gone. If this caller deleted it, this is a retry: the delete was
            // committed, and its note-deleted (recorded on the tombstone) is published again.
            Err(ApiError::NotFound) => match self.notes.last_change(&owner, note_id).await? {
                Some(LastChange::Deleted(record)) => {
                    tracing::info!("the note is already deleted; publishing its note-deleted again");
                    NoteEvent::deleted_again(note_id, owner, &record)
                }
                _ => return self.dismiss(&owner, note_id, &correlation_id).await,
            },
            Err(err) => return Err(err),
        };
        // The delete is done whatever happens next. If the publish fails the client gets a 503;
        // sending the DELETE again publishes this same event.
        self.bus.publish(std::slice::from_ref(&event)).await?;
        tracing::info!("note deleted");
        Ok(empty_response(http::StatusCode::NO_CONTENT))
    }

    /// Gives up a note of the caller's that is not stored: its tombstone, 204. If it was stored
    /// meanwhile (its last receive saved it after all), it is deleted as a stored note is.
    async fn dismiss(
        &self,
        owner: &Username,
        note_id: NoteId,
        correlation_id: &str,
    ) -> Result<Response<Body>, ApiError> {
        let until = Timestamp::now().plus_seconds(tombstone_seconds());
        match self.notes.dismiss(owner, note_id, until).await? {
            DismissOutcome::Dismissed => {
                tracing::info!("a note never stored is given up: its tombstone refuses a later store");
                Ok(empty_response(http::StatusCode::NO_CONTENT))
            }
            DismissOutcome::Stored => {
                let event = self.remove(owner, note_id, correlation_id).await?;
                self.bus.publish(std::slice::from_ref(&event)).await?;
                Ok(empty_response(http::StatusCode::NO_CONTENT))
            }
        }
    }

    /// Deletes the caller's note; the event to publish.
    async fn remove(&self, owner: &Username, note_id: NoteId, correlation_id: &str) -> Result<NoteEvent, ApiError> {
        change_own_note(self.notes.as_ref(), owner, note_id, |note: Note| async move {
            let now = Timestamp::now();
            let event = NoteEvent::note_deleted(&note, correlation_id.to_owned(), now);
            let record = event.change_record().expect("a note-deleted has a change record");
            let outcome = self.notes.delete(&note, now.plus_seconds(tombstone_seconds()), &record).await?;
            Ok((outcome, event))
        })
        .await
    }
}

impl Function for DeleteNote {
    const NAME: &'static str = env!("CARGO_PKG_NAME");
    type Trigger = Http;

    async fn build(settings: &Settings) -> Result<Self, ConfigError> {
        Ok(Self::new(settings.jwt_keys().await?, settings.notes()?, settings.events()?))
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
