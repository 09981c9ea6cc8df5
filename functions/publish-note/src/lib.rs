//! `POST /notes`: accepts a note and puts a `note-created` event on the bus; `202` at once.
//! Storing happens later, in `save-note`.
//!
//! `Idempotency-Key` (draft-ietf-httpapi-idempotency-key-header), per user:
//! - the first request under a key records its `note-created` envelope and a digest of its body
//!   with a conditional put;
//! - an exact retry (same user, key and body) is answered for the note the first request made:
//!   `202` with the same `noteId` while that note is not stored yet (the first request's event is
//!   published again, rebuilt from the recorded envelope and the retry's identical body, so a lost
//!   first publish is delivered now); once it is stored, `200` with
//!   `status: "saved"` and nothing is published (its `note-saved` went out already, and no other
//!   notification would follow); once it is deleted, `410 note_deleted`;
//! - the same key with another body is `422 idempotency_key_reused` and publishes nothing.

use std::sync::Arc;

use async_trait::async_trait;
use lambda_http::{Body, Request, Response};
use notes_core::domain::events::{NoteEvent, created_body_digest};
use notes_core::domain::{IdempotencyKey, NoteContent, NoteId, Timestamp};
use notes_core::edge::auth::JwtKeys;
use notes_core::edge::function::{Function, Http, HttpFunction, Settings};
use notes_core::edge::http::{JsonObject, api_request_id, authenticate, header, json_response, respond};
use notes_core::ports::{Claim, EventPublisher, FirstRequest, IdempotencyStore, NoteStore};
use notes_core::telemetry::{self, metric};
use notes_core::{ApiError, edge::config::ConfigError};
use serde::Serialize;
use tracing::{Instrument, field};

/// How long an `Idempotency-Key` is remembered.
pub const IDEMPOTENCY_WINDOW_SECONDS: i64 = 24 * 3600;
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";

#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Accepted {
    pub message: &'static str,
    pub note_id: NoteId,
    pub status: &'static str,
}

/// What an exact retry under an `Idempotency-Key` found of the note the first request made.
enum Retry {
    /// Not stored yet: publish the recorded event again.
    Pending(NoteEvent),
    /// Stored: nothing more will be published for it.
    Saved(NoteId),
}

pub struct PublishNote {
    keys: JwtKeys,
    bus: Arc<dyn EventPublisher>,
    idempotency: Arc<dyn IdempotencyStore>,
    notes: Arc<dyn NoteStore>,
}

impl PublishNote {
    pub fn new(
        keys: JwtKeys,
        bus: Arc<dyn EventPublisher>,
        idempotency: Arc<dyn IdempotencyStore>,
        notes: Arc<dyn NoteStore>,
    ) -> Self {
        Self { keys, bus, idempotency, notes }
    }

    async fn accept(&self, req: &Request, correlation_id: String) -> Result<Response<Body>, ApiError> {
        let username = authenticate(&self.keys, req)?;
        let key = header(req, IDEMPOTENCY_HEADER).map(IdempotencyKey::parse).transpose()?;
        let body = JsonObject::from_request(req)?;
        let content = NoteContent::parse(body.required_string("content")?)?;
        let is_public = body.optional_bool("isPublic")?.unwrap_or(false);

        let digest = created_body_digest(&content, is_public);
        let now = Timestamp::now();
        let mut event = NoteEvent::note_created(NoteId::new(), username, content, is_public, correlation_id, now);
        if let Some(key) = key {
            let expires_at = now.plus_seconds(IDEMPOTENCY_WINDOW_SECONDS);
            let request = FirstRequest { envelope: event.envelope.clone(), body_digest: digest };
            if let Claim::Existing(first) = self.idempotency.claim(event.username(), &key, &request, expires_at).await?
            {
                tracing::Span::current().record("noteId", field::display(first.envelope.note_id));
                match self.retry(first, &request, &event).await? {
                    Retry::Pending(first) => event = first,
                    Retry::Saved(note_id) => {
                        tracing::info!("idempotent retry of a note already saved");
                        return Ok(json_response(
                            http::StatusCode::OK,
                            &Accepted { message: "Note already saved", note_id, status: "saved" },
                        ));
                    }
                }
            }
        }
        tracing::Span::current().record("noteId", field::display(event.note_id()));
        self.bus.publish(std::slice::from_ref(&event)).await?;

        let note_id = event.note_id().to_string();
        // The one line per note at the default level: the metric line carries the ids.
        telemetry::count(metric::NOTES_ACCEPTED, &[("noteId", &note_id), ("correlationId", event.correlation_id())]);
        tracing::debug!(isPublic = is_public, "note accepted");
        Ok(json_response(
            http::StatusCode::ACCEPTED,
            &Accepted { message: "Note submitted for processing", note_id: event.note_id(), status: "pending" },
        ))
    }

    /// A request under a key used before: the same body is a retry of `first`; another body is
    /// a misuse of the key.
    async fn retry(&self, first: FirstRequest, request: &FirstRequest, event: &NoteEvent) -> Result<Retry, ApiError> {
        if first.body_digest != request.body_digest || first.envelope.username != request.envelope.username {
            tracing::info!("Idempotency-Key reused with another body");
            return Err(ApiError::IdempotencyKeyReused);
        }
        let (owner, note_id) = (&first.envelope.username, first.envelope.note_id);
        if self.notes.get(owner, note_id).await?.is_some() {
            return Ok(Retry::Saved(note_id));
        }
        if self.notes.was_deleted(owner, note_id).await? {
            return Err(ApiError::NoteDeleted);
        }
        tracing::info!("idempotent retry; publishing the first request's event again");
        // The very event the first request published: its envelope, and the same body.
        Ok(Retry::Pending(NoteEvent { envelope: first.envelope, body: event.body.clone() }))
    }
}

impl Function for PublishNote {
    const NAME: &'static str = env!("CARGO_PKG_NAME");
    type Trigger = Http;

    async fn build(settings: &Settings) -> Result<Self, ConfigError> {
        Ok(Self::new(settings.jwt_keys().await?, settings.events()?, settings.idempotency()?, settings.notes()?))
    }
}

#[async_trait]
impl HttpFunction for PublishNote {
    async fn handle(&self, req: Request) -> Response<Body> {
        let correlation_id = api_request_id(&req);
        let span = tracing::info_span!("publish_note", correlationId = %correlation_id, noteId = field::Empty);
        respond(self.accept(&req, correlation_id).instrument(span).await)
    }
}
