//! Changing a stored note safely against concurrent writers: read it, compute the change from
//! what was read, write only if the note is still that (optimistic concurrency on `updatedAt`),
//! and read again when another writer got there first.

use crate::domain::{Note, NoteId, Username};
use crate::edge::error::ApiError;
use crate::ports::{ChangeOutcome, NoteStore, StoreError};

/// Times a change is tried again after the note changed under it; then the answer is 503.
pub const MAX_CONFLICT_RETRIES: usize = 3;

/// Reads the caller's note and gives it to `write`, which changes the table only if the note is
/// still what was read. The read is always in the caller's own partition, so another user's note
/// is simply not found (404).
pub async fn change_own_note<T, W>(
    notes: &dyn NoteStore,
    owner: &Username,
    note_id: NoteId,
    mut write: impl FnMut(Note) -> W,
) -> Result<T, ApiError>
where
    W: Future<Output = Result<(ChangeOutcome, T), StoreError>>,
{
    for _ in 0..=MAX_CONFLICT_RETRIES {
        let note = notes.get(owner, note_id).await?.ok_or(ApiError::NotFound)?;
        match write(note).await? {
            (ChangeOutcome::Applied, done) => return Ok(done),
            (ChangeOutcome::Conflict, _) => tracing::info!("the note changed since it was read; reading it again"),
        }
    }
    tracing::warn!(retries = MAX_CONFLICT_RETRIES, "the note kept changing under the change");
    Err(ApiError::Unavailable)
}
