//! The API's one error type and its mapping to the contract's status codes and body
//! `{"error": "<snake_case_code>", "message": "<sentence>"}`. Nothing else picks a status code
//! for an error, and no AWS error text ever reaches a response.

use http::StatusCode;
use serde::Serialize;

use crate::domain::ValidationError;
use crate::ports::{PublishError, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    #[error("{message}")]
    InvalidRequest { message: String },
    #[error("a valid bearer token is required")]
    Unauthorized,
    #[error("the username or password is wrong")]
    InvalidCredentials,
    #[error("that username is taken")]
    UsernameTaken,
    #[error("no such note")]
    NotFound,
    #[error("the request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("this Idempotency-Key was already used with a different request body; use a new key for a new note")]
    IdempotencyKeyReused,
    #[error("the note created under this Idempotency-Key has since been deleted")]
    NoteDeleted,
    #[error("the service is briefly unavailable; please retry")]
    Unavailable,
    #[error("something went wrong on our side")]
    Internal,
}

/// The JSON body of every error response.
#[derive(Debug, Serialize)]
pub struct ErrorBody<'a> {
    pub error: &'a str,
    pub message: String,
}

impl ApiError {
    /// One error of every kind, for tests that hold documents (the OpenAPI document, the docs)
    /// to what the code answers. A new kind does not compile until it is listed here.
    pub fn one_of_each() -> Vec<ApiError> {
        let all = vec![
            ApiError::invalid("content is required"),
            ApiError::Unauthorized,
            ApiError::InvalidCredentials,
            ApiError::UsernameTaken,
            ApiError::NotFound,
            ApiError::PayloadTooLarge { limit: 65_536 },
            ApiError::IdempotencyKeyReused,
            ApiError::NoteDeleted,
            ApiError::Unavailable,
            ApiError::Internal,
        ];
        for error in &all {
            match error {
                ApiError::InvalidRequest { .. }
                | ApiError::Unauthorized
                | ApiError::InvalidCredentials
                | ApiError::UsernameTaken
                | ApiError::NotFound
                | ApiError::PayloadTooLarge { .. }
                | ApiError::IdempotencyKeyReused
                | ApiError::NoteDeleted
                | ApiError::Unavailable
                | ApiError::Internal => {}
            }
        }
        all
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        ApiError::InvalidRequest { message: message.into() }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::InvalidRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized | ApiError::InvalidCredentials => StatusCode::UNAUTHORIZED,
            ApiError::UsernameTaken => StatusCode::CONFLICT,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::NoteDeleted => StatusCode::GONE,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::InvalidRequest { .. } => "invalid_request",
            ApiError::Unauthorized => "unauthorized",
            ApiError::InvalidCredentials => "invalid_credentials",
            ApiError::UsernameTaken => "username_taken",
            ApiError::NotFound => "not_found",
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::IdempotencyKeyReused => "idempotency_key_reused",
            ApiError::NoteDeleted => "note_deleted",
            ApiError::Unavailable => "service_unavailable",
            ApiError::Internal => "internal_error",
        }
    }

    pub fn body(&self) -> ErrorBody<'static> {
        ErrorBody { error: self.code(), message: self.to_string() }
    }
}

impl From<ValidationError> for ApiError {
    fn from(err: ValidationError) -> Self {
        ApiError::invalid(format!("{} {}", err.field, err.message))
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        // The detail goes to the log, never to the caller.
        tracing::error!(error = %err, "table access failed");
        match err {
            StoreError::Unavailable(_) => ApiError::Unavailable,
            StoreError::Corrupt(_) | StoreError::Rejected(_) => ApiError::Internal,
        }
    }
}

impl From<PublishError> for ApiError {
    fn from(err: PublishError) -> Self {
        tracing::error!(error = %err, "publishing to the event bus failed");
        ApiError::Unavailable
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_has_the_contract_status_and_code() {
        let cases = [
            (ApiError::invalid("x"), 400, "invalid_request"),
            (ApiError::Unauthorized, 401, "unauthorized"),
            (ApiError::InvalidCredentials, 401, "invalid_credentials"),
            (ApiError::UsernameTaken, 409, "username_taken"),
            (ApiError::NotFound, 404, "not_found"),
            (ApiError::PayloadTooLarge { limit: 65536 }, 413, "payload_too_large"),
            (ApiError::IdempotencyKeyReused, 422, "idempotency_key_reused"),
            (ApiError::NoteDeleted, 410, "note_deleted"),
            (ApiError::Unavailable, 503, "service_unavailable"),
            (ApiError::Internal, 500, "internal_error"),
        ];
        for (err, status, code) in cases {
            assert_eq!(err.status().as_u16(), status);
            assert_eq!(err.body().error, code);
            assert!(!err.body().message.is_empty());
        }
    }

    #[test]
    fn store_failures_never_leak_their_text() {
        let err: ApiError = StoreError::Unavailable("ProvisionedThroughputExceeded arn:aws:dynamodb:...".into()).into();
        assert!(!err.body().message.contains("arn:aws"));
    }
}
