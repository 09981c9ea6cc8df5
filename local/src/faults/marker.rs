//! The poison marker: a note whose content holds [`TRANSIENT_FAULT_MARKER`] can never be saved
//! while the switch is on.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use notes_core::domain::{Note, NoteId, Timestamp, Username};
use notes_core::events::ChangeRecord;
use notes_core::ports::{ChangeOutcome, LastChange, NoteStore, Page, PageRequest, SaveOutcome, StoreError};

pub const TRANSIENT_FAULT_MARKER: &str = "[[local-fault:transient]]";

/// Turns the injected faults on and off while the stack runs (an operator's fix, before a redrive).
#[derive(Clone, Debug)]
pub struct FaultSwitch(Arc<AtomicBool>);

impl FaultSwitch {
    pub fn new(on: bool) -> Self {
        FaultSwitch(Arc::new(AtomicBool::new(on)))
    }

    pub fn set(&self, on: bool) {
        self.0.store(on, Ordering::SeqCst);
    }

    pub fn is_on(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

pub struct FaultyNoteStore {
    inner: Arc<dyn NoteStore>,
    switch: FaultSwitch,
}

impl FaultyNoteStore {
    pub fn new(inner: Arc<dyn NoteStore>, switch: FaultSwitch) -> Self {
        Self { inner, switch }
    }
}

#[async_trait]
impl NoteStore for FaultyNoteStore {
    async fn save_new(&self, note: &Note) -> Result<SaveOutcome, StoreError> {
        if self.switch.is_on() && note.content.as_str().contains(TRANSIENT_FAULT_MARKER) {
            return Err(StoreError::Unavailable(
                "ProvisionedThroughputExceededException (local fault injection)".into(),
            ));
        }
        self.inner.save_new(note).await
    }

    async fn get(&self, owner: &Username, note_id: NoteId) -> Result<Option<Note>, StoreError> {
        self.inner.get(owner, note_id).await
    }

    async fn list_by_owner(&self, owner: &Username, page: PageRequest) -> Result<Page<Note>, StoreError> {
        self.inner.list_by_owner(owner, page).await
    }

    async fn list_public(&self, page: PageRequest) -> Result<Page<Note>, StoreError> {
        self.inner.list_public(page).await
    }

    async fn replace(&self, before: &Note, after: &Note, change: &ChangeRecord) -> Result<ChangeOutcome, StoreError> {
        self.inner.replace(before, after, change).await
    }

    async fn delete(
        &self,
        note: &Note,
        tombstone_until: Timestamp,
        change: &ChangeRecord,
    ) -> Result<ChangeOutcome, StoreError> {
        self.inner.delete(note, tombstone_until, change).await
    }

    async fn last_change(&self, owner: &Username, note_id: NoteId) -> Result<Option<LastChange>, StoreError> {
        self.inner.last_change(owner, note_id).await
    }

    async fn was_deleted(&self, owner: &Username, note_id: NoteId) -> Result<bool, StoreError> {
        self.inner.was_deleted(owner, note_id).await
    }
}
