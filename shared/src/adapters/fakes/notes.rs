//! The notes of the in-memory table: each note key's state (a note, a failure, a tombstone),
//! and the stream of its transitions.

use async_trait::async_trait;

use super::InMemoryTable;
use crate::domain::lifecycle::{FailedNote, NoteState, OwnNote, Provenance, Tombstone};
use crate::domain::{Note, NoteChange, NoteId, Timestamp, Username};
use crate::ports::{
    ChangeOutcome, DismissOutcome, FailureOutcome, NoteStore, Page, PageRequest, SaveOutcome, StoreError,
};

fn page<T: Clone>(items: Vec<T>, id: impl Fn(&T) -> NoteId, request: PageRequest) -> Page<T> {
    let mut items: Vec<T> = items
        .into_iter()
        .rev()
        .filter(|n| request.after.is_none_or(|after| id(n) < after))
        .take(request.limit + 1)
        .collect();
    let next = if items.len() > request.limit {
        items.truncate(request.limit);
        items.last().map(&id)
    } else {
        None
    };
    Page { items, next }
}

#[async_trait]
impl NoteStore for InMemoryTable {
    async fn save_new(&self, note: &Note, made_by: &Provenance) -> Result<SaveOutcome, StoreError> {
        self.write_latency().await;
        self.check_available()?;
        if self.throttled_notes.lock().unwrap().contains(&note.note_id) {
            return Err(StoreError::Unavailable("ThrottlingException (injected)".into()));
        }
        if self.refused_notes.lock().unwrap().contains(&note.note_id) {
            return Err(StoreError::Rejected("ValidationException (injected)".into()));
        }
        let mut t = self.tables.lock().unwrap();
        let version = match t.state(&note.username, note.note_id) {
            Some(NoteState::Deleted(_)) => return Ok(SaveOutcome::Deleted),
            Some(NoteState::Stored(existing)) => return Ok(SaveOutcome::AlreadySaved(existing.clone())),
            Some(NoteState::Failed(failed)) => failed.version + 1,
            None => note.version,
        };
        t.set(NoteState::Stored(Note { version, ..note.clone() }), made_by.clone());
        Ok(SaveOutcome::Saved)
    }

    async fn record_failure(&self, failed: &FailedNote, made_by: &Provenance) -> Result<FailureOutcome, StoreError> {
        self.check_available()?;
        let mut t = self.tables.lock().unwrap();
        let version = match t.state(&failed.username, failed.note_id) {
            None => failed.version,
            Some(NoteState::Failed(before)) => before.version + 1,
            Some(_) => return Ok(FailureOutcome::Settled),
        };
        t.set(NoteState::Failed(FailedNote { version, ..failed.clone() }), made_by.clone());
        Ok(FailureOutcome::Recorded)
    }

    async fn get(&self, owner: &Username, note_id: NoteId) -> Result<Option<Note>, StoreError> {
        self.check_available()?;
        let read = match self.tables.lock().unwrap().state(owner, note_id) {
            Some(NoteState::Stored(note)) => Some(note.clone()),
            _ => None,
        };
        let race = read.is_some() && {
            let mut races = self.races.lock().unwrap();
            let race = *races > 0;
            *races = races.saturating_sub(1);
            race
        };
        if let (true, Some(note)) = (race, &read) {
            let last = note.updated_at.unwrap_or(note.saved_at);
            let theirs = note.changed(&NoteChange { content: None, is_public: Some(true) }, last.plus_seconds(1));
            let by = Provenance::request("a competing request");
            assert_eq!(self.replace(note, &theirs, &by).await, Ok(ChangeOutcome::Applied));
        }
        Ok(read)
    }

    async fn state(&self, owner: &Username, note_id: NoteId) -> Result<Option<NoteState>, StoreError> {
        self.check_available()?;
        Ok(self.tables.lock().unwrap().state(owner, note_id).cloned())
    }

    async fn list_by_owner(&self, owner: &Username, request: PageRequest) -> Result<Page<OwnNote>, StoreError> {
        self.check_available()?;
        let t = self.tables.lock().unwrap();
        let own: Vec<OwnNote> = t
            .notes
            .iter()
            .filter(|((o, _), _)| o == owner)
            .filter_map(|(_, (state, _))| match state {
                NoteState::Stored(note) => Some(OwnNote::Stored(note.clone())),
                NoteState::Failed(failed) => Some(OwnNote::Failed(failed.clone())),
                NoteState::Deleted(_) => None,
            })
            .collect();
        Ok(page(own, OwnNote::note_id, request))
    }

    async fn list_public(&self, request: PageRequest) -> Result<Page<Note>, StoreError> {
        self.check_available()?;
        let t = self.tables.lock().unwrap();
        let mut public: Vec<Note> = t.public().cloned().collect();
        public.sort_by_key(|n| n.note_id);
        Ok(page(public, |n| n.note_id, request))
    }

    async fn replace(&self, before: &Note, after: &Note, made_by: &Provenance) -> Result<ChangeOutcome, StoreError> {
        self.check_available()?;
        let mut t = self.tables.lock().unwrap();
        match t.state(&before.username, before.note_id) {
            Some(NoteState::Stored(now)) if now.updated_at == before.updated_at => {}
            _ => return Ok(ChangeOutcome::Conflict),
        }
        t.set(NoteState::Stored(after.clone()), made_by.clone());
        Ok(ChangeOutcome::Applied)
    }

    async fn delete(
        &self,
        note: &Note,
        tombstone: &Tombstone,
        made_by: &Provenance,
    ) -> Result<ChangeOutcome, StoreError> {
        self.check_available()?;
        self.tombstone_expiries.lock().unwrap().push(tombstone.expires_at);
        let mut t = self.tables.lock().unwrap();
        match t.state(&note.username, note.note_id) {
            Some(NoteState::Stored(now)) if now.updated_at == note.updated_at => {}
            _ => return Ok(ChangeOutcome::Conflict),
        }
        t.set(NoteState::Deleted(tombstone.clone()), made_by.clone());
        Ok(ChangeOutcome::Applied)
    }

    async fn dismiss(
        &self,
        owner: &Username,
        note_id: NoteId,
        tombstone_until: Timestamp,
        made_by: &Provenance,
    ) -> Result<DismissOutcome, StoreError> {
        self.check_available()?;
        let mut t = self.tables.lock().unwrap();
        let version = match t.state(owner, note_id) {
            Some(NoteState::Stored(_)) => return Ok(DismissOutcome::Stored),
            Some(NoteState::Deleted(_)) => return Ok(DismissOutcome::Dismissed),
            Some(NoteState::Failed(failed)) => failed.version + 1,
            None => 1,
        };
        let tombstone = Tombstone {
            note_id,
            username: owner.clone(),
            deleted_at: Timestamp::now(),
            version,
            expires_at: tombstone_until,
        };
        t.set(NoteState::Deleted(tombstone), made_by.clone());
        Ok(DismissOutcome::Dismissed)
    }

    async fn was_deleted(&self, owner: &Username, note_id: NoteId) -> Result<bool, StoreError> {
        self.check_available()?;
        Ok(matches!(self.tables.lock().unwrap().state(owner, note_id), Some(NoteState::Deleted(_))))
    }
}

/// A saved note of `owner`, as `save-note` would store it.
pub fn note(owner: &str, content: &str, is_public: bool) -> Note {
    let now = Timestamp::now();
    Note {
        note_id: NoteId::new(),
        username: Username::parse(owner).expect("a valid test username"),
        content: crate::domain::NoteContent::parse(content).expect("valid test content"),
        is_public,
        status: crate::domain::NoteStatus::Saved,
        created_at: now,
        saved_at: now,
        updated_at: None,
        version: 1,
    }
}

impl InMemoryTable {
    /// Stores a saved note of `owner` (creating the owner), as `save-note` would.
    pub async fn store_note(&self, owner: &str, content: &str, is_public: bool) -> Note {
        let note = note(owner, content, is_public);
        self.insert_user(&note.username);
        assert_eq!(self.save_new(&note, &saved_by()).await, Ok(SaveOutcome::Saved));
        note
    }
}

/// The provenance of a note a test stores: a flow and the `note-created` that caused the save.
pub fn saved_by() -> Provenance {
    Provenance { correlation_id: "a test".into(), causation_id: Some(uuid::Uuid::new_v4()) }
}
