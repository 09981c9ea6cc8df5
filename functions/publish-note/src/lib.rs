//! `POST /notes`: accepts a note and puts a `note-created` event on the bus; `202` at once.
//! Storing happens later, in `save-note`. The same `Idempotency-Key` from the same user gets
//! the same `noteId` back and the note is stored once.

use std::sync::Arc;

use lambda_http::{Body, Request, Response};
use notes_core::auth::JwtKeys;
use notes_core::domain::{IdempotencyKey, NoteContent, NoteId, Timestamp};
use notes_core::events::NoteEvent;
use notes_core::http::{JsonObject, api_request_id, authenticate, header, json_response, respond};
use notes_core::ports::{Claim, EventPublisher, IdempotencyStore};
use notes_core::telemetry::{self, metric};
use notes_core::{ApiError, aws, config::ConfigError};
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

pub struct PublishNote {
    keys: JwtKeys,
    bus: Arc<dyn EventPublisher>,
    idempotency: Arc<dyn IdempotencyStore>,
}

impl PublishNote {
    pub fn new(keys: JwtKeys, bus: Arc<dyn EventPublisher>, idempotency: Arc<dyn IdempotencyStore>) -> Self {
        Self { keys, bus, idempotency }
    }

    /// Builds the function's clients once, from the environment.
    pub async fn from_env() -> Result<Self, ConfigError> {
        let sdk = aws::sdk_config().await;
        Ok(Self::new(
            aws::jwt_keys_from_env(&sdk).await?,
            Arc::new(aws::bus_from_env(&sdk)?),
            Arc::new(aws::table_from_env(&sdk)?),
        ))
    }

    pub async fn handle(&self, req: Request) -> Response<Body> {
        let correlation_id = api_request_id(&req);
        let span = tracing::info_span!("publish_note", correlationId = %correlation_id, noteId = field::Empty);
        respond(self.accept(&req, correlation_id).instrument(span).await)
    }

    async fn accept(&self, req: &Request, correlation_id: String) -> Result<Response<Body>, ApiError> {
        let username = authenticate(&self.keys, req)?;
        let key = header(req, IDEMPOTENCY_HEADER).map(IdempotencyKey::parse).transpose()?;
        let body = JsonObject::from_request(req)?;
        let content = NoteContent::parse(body.required_string("content")?)?;
        let is_public = body.optional_bool("isPublic")?.unwrap_or(false);

        let now = Timestamp::now();
        let mut event = NoteEvent::note_created(NoteId::new(), username, content, is_public, correlation_id, now);
        if let Some(key) = key {
            let expires_at = now.plus_seconds(IDEMPOTENCY_WINDOW_SECONDS);
            if let Claim::Existing(first) = self.idempotency.claim(event.username(), &key, &event, expires_at).await? {
                // A retry: publish the first request's event again, unchanged. If the first
                // publish was lost this one delivers it; if not, save-note stores it once.
                tracing::info!(noteId = %first.note_id(), "idempotent retry");
                event = first;
            }
        }
        tracing::Span::current().record("noteId", field::display(event.note_id()));
        self.bus.publish(std::slice::from_ref(&event)).await?;

        let note_id = event.note_id().to_string();
        telemetry::count(metric::NOTES_ACCEPTED, &[("noteId", &note_id), ("correlationId", event.correlation_id())]);
        tracing::info!(isPublic = is_public, "note accepted");
        Ok(json_response(
            http::StatusCode::ACCEPTED,
            &Accepted { message: "Note submitted for processing", note_id: event.note_id(), status: "pending" },
        ))
    }
}
