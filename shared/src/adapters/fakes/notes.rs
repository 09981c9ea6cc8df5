//! The notes of the in-memory table: owner's copies, public copies, tombstones.

use async_trait::async_trait;

use super::InMemoryTable;
use crate::domain::events::{ChangeRecord, NoteEvent};
use crate::domain::{Note, NoteChange, NoteId, Timestamp, Username};
use crate::ports::{ChangeOutcome, DismissOutcome, LastChange, NoteStore, Page, PageRequest, SaveOutcome, StoreError};

fn page<'a>(notes: impl DoubleEndedIterator<Item = &'a Note>, request: PageRequest) -> Page<Note> {
    let mut items: Vec<Note> = notes
        .rev()
        .filter(|n| request.after.is_none_or(|after| n.note_id < after))
        .take(request.limit + 1)
        .cloned()
        .collect();
    let next = if items.len() > request.limit {
        items.truncate(request.limit);
        items.last().map(|n| n.note_id)
    } else {
        None
    };
    Page { items, next }
}

#[async_trait]
impl NoteStore for InMemoryTable {
    async fn save_new(&self, note: &Note) -> Result<SaveOutcome, StoreError> {
        self.write_latency().await;
        self.check_available()?;
        if self.throttled_notes.lock().unwrap().contains(&note.note_id) {
            return Err(StoreError::Unavailable("ThrottlingException (injected)".into()));
        }
        if self.refused_notes.lock().unwrap().contains(&note.note_id) {
            return Err(StoreError::Rejected("ValidationException (injected)".into()));
        }
        let mut t = self.tables.lock().unwrap();
        let key = (note.username.clone(), note.note_id);
        if t.tombstones.contains_key(&key) {
            return Ok(SaveOutcome::Deleted);
        }
        if let Some(existing) = t.notes.get(&key) {
            return Ok(SaveOutcome::AlreadySaved(existing.clone()));
        }
        t.notes.insert(key, note.clone());
        if note.is_public {
            t.public.insert(note.note_id, note.clone());
        }
        t.writes += 1;
        Ok(SaveOutcome::Saved)
    }

    async fn get(&self, owner: &Username, note_id: NoteId) -> Result<Option<Note>, StoreError> {
        self.check_available()?;
        let read = self.tables.lock().unwrap().notes.get(&(owner.clone(), note_id)).cloned();
        let race = read.is_some() && {
            let mut races = self.races.lock().unwrap();
            let race = *races > 0;
            *races = races.saturating_sub(1);
            race
        };
        if let (true, Some(note)) = (race, &read) {
            let last = note.updated_at.unwrap_or(note.saved_at);
            let theirs = note.changed(&NoteChange { content: None, is_public: Some(true) }, last.plus_seconds(1));
            let record = NoteEvent::note_updated(note, &theirs, "a competing request".into()).change_record();
            let record = record.expect("an edit has a record");
            assert_eq!(self.replace(note, &theirs, &record).await, Ok(ChangeOutcome::Applied));
        }
        Ok(read)
    }

    async fn list_by_owner(&self, owner: &Username, request: PageRequest) -> Result<Page<Note>, StoreError> {
        self.check_available()?;
        let t = self.tables.lock().unwrap();
        Ok(page(t.notes.iter().filter(|((o, _), _)| o == owner).map(|(_, n)| n), request))
    }

    async fn list_public(&self, request: PageRequest) -> Result<Page<Note>, StoreError> {
        self.check_available()?;
        let t = self.tables.lock().unwrap();
        Ok(page(t.public.values(), request))
    }

    async fn replace(&self, before: &Note, after: &Note, change: &ChangeRecord) -> Result<ChangeOutcome, StoreError> {
        self.check_available()?;
        let mut t = self.tables.lock().unwrap();
        let key = (before.username.clone(), before.note_id);
        if t.notes.get(&key).map(|n| n.updated_at) != Some(before.updated_at) {
            return Ok(ChangeOutcome::Conflict);
        }
        t.notes.insert(key.clone(), after.clone());
        t.last_edits.insert(key, change.clone());
        if after.is_public {
            t.public.insert(after.note_id, after.clone());
        } else {
            t.public.remove(&after.note_id);
        }
        t.writes += 1;
        Ok(ChangeOutcome::Applied)
    }

    async fn delete(
        &self,
        note: &Note,
        tombstone_until: Timestamp,
        change: &ChangeRecord,
    ) -> Result<ChangeOutcome, StoreError> {
        self.check_available()?;
        self.tombstone_expiries.lock().unwrap().push(tombstone_until);
        let mut t = self.tables.lock().unwrap();
        let key = (note.username.clone(), note.note_id);
        if t.notes.get(&key).map(|n| n.updated_at) != Some(note.updated_at) {
            return Ok(ChangeOutcome::Conflict);
        }
        t.notes.remove(&key);
        t.last_edits.remove(&key);
        t.public.remove(&note.note_id);
        t.tombstone_ttls.insert(key.clone(), tombstone_until);
        t.tombstones.insert(key, Some(change.clone()));
        t.writes += 1;
        Ok(ChangeOutcome::Applied)
    }

    async fn dismiss(
        &self,
        owner: &Username,
        note_id: NoteId,
        tombstone_until: Timestamp,
    ) -> Result<DismissOutcome, StoreError> {
        self.check_available()?;
        let mut t = self.tables.lock().unwrap();
        let key = (owner.clone(), note_id);
        if t.notes.contains_key(&key) {
            return Ok(DismissOutcome::Stored);
        }
        if !t.tombstones.contains_key(&key) {
            t.tombstone_ttls.insert(key.clone(), tombstone_until);
            t.tombstones.insert(key, None);
            t.writes += 1;
        }
        Ok(DismissOutcome::Dismissed)
    }

    async fn was_deleted(&self, owner: &Username, note_id: NoteId) -> Result<bool, StoreError> {
        self.check_available()?;
        Ok(self.tables.lock().unwrap().tombstones.contains_key(&(owner.clone(), note_id)))
    }

    async fn last_change(&self, owner: &Username, note_id: NoteId) -> Result<Option<LastChange>, StoreError> {
        self.check_available()?;
        let t = self.tables.lock().unwrap();
        let key = (owner.clone(), note_id);
        if let Some(note) = t.notes.get(&key) {
            return Ok(t
                .last_edits
                .get(&key)
                .map(|change| LastChange::Updated { note: note.clone(), change: change.clone() }));
        }
        Ok(t.tombstones.get(&key).cloned().flatten().map(LastChange::Deleted))
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
    }
}

impl InMemoryTable {
    /// Stores a saved note of `owner` (creating the owner), as `save-note` would.
    pub async fn store_note(&self, owner: &str, content: &str, is_public: bool) -> Note {
        let note = note(owner, content, is_public);
        self.insert_user(&note.username);
        assert_eq!(self.save_new(&note).await, Ok(SaveOutcome::Saved));
        note
    }
}
