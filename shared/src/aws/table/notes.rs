//! Notes: the owner's copy (`USER#{owner}` / `NOTE#{id}`), the public-feed copy
//! (`PUBLIC#NOTES` / `NOTE#{id}`) and the tombstone a delete leaves, kept in step by transactions.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};

use super::{DynamoTable, Item, from_item, to_item, unavailable};
use crate::domain::{Note, NoteId, Timestamp, Username};
use crate::events::ChangeRecord;
use crate::keys::{self, Key};
use crate::ports::{ChangeOutcome, LastChange, NoteStore, Page, PageRequest, SaveOutcome, StoreError};

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct NoteItem {
    pk: String,
    sk: String,
    kind: String,
    #[serde(flatten)]
    note: Note,
    /// On the owner's copy, the record of the last edit's `note-updated`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_change: Option<ChangeRecord>,
}

#[derive(Serialize, Deserialize)]
struct TombstoneItem {
    pk: String,
    sk: String,
    kind: String,
    ttl: i64,
    /// The record of the delete's `note-deleted`.
    #[serde(default)]
    change: Option<ChangeRecord>,
}

fn note_item(key: Key, note: &Note, last_change: Option<&ChangeRecord>) -> Result<Item, StoreError> {
    to_item(&NoteItem {
        pk: key.pk,
        sk: key.sk,
        kind: "note".into(),
        note: note.clone(),
        last_change: last_change.cloned(),
    })
}

/// The items of the transaction that stores a new note, named by what their conditions stand for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NewNote {
    OwnerExists,
    NotDeleted,
    OwnerCopyIsNew,
    PublicCopyIsNew,
}

/// The items of a change to an existing note: only the owner's copy carries a condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    OwnerCopyUnchanged,
    PublicCopy,
    Tombstone,
}

const UNCHANGED_CONDITION: &str = "attribute_exists(pk) AND updatedAt = :previousUpdatedAt";
const NEVER_UPDATED_CONDITION: &str = "attribute_exists(pk) AND attribute_not_exists(updatedAt)";

/// The condition that the owner's copy is still exactly `before`: optimistic concurrency on
/// `updatedAt`, which every change sets.
fn unchanged(before: &Note) -> (&'static str, Option<Item>) {
    match before.updated_at {
        Some(at) => (
            UNCHANGED_CONDITION,
            Some(HashMap::from([(":previousUpdatedAt".to_owned(), AttributeValue::S(at.to_string()))])),
        ),
        None => (NEVER_UPDATED_CONDITION, None),
    }
}

impl DynamoTable {
    async fn query_notes(&self, pk: String, page: PageRequest) -> Result<Page<Note>, StoreError> {
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :notePrefix)")
            .expression_attribute_values(":pk", AttributeValue::S(pk.clone()))
            .expression_attribute_values(":notePrefix", AttributeValue::S(keys::NOTE_SK_PREFIX.into()))
            .scan_index_forward(false)
            // One more than asked, to know whether another page follows without an empty last page.
            .limit(i32::try_from(page.limit + 1).unwrap_or(i32::MAX));
        if let Some(after) = page.after {
            query = query.set_exclusive_start_key(Some(HashMap::from([
                (keys::PK.to_owned(), AttributeValue::S(pk)),
                (keys::SK.to_owned(), AttributeValue::S(keys::note_sk(after))),
            ])));
        }
        let out = query.send().await.map_err(|e| unavailable(e.into_service_error()))?;
        let mut items = Vec::new();
        for item in out.items.unwrap_or_default() {
            items.push(from_item::<NoteItem>(item)?.note);
        }
        let next = if items.len() > page.limit {
            items.truncate(page.limit);
            items.last().map(|n| n.note_id)
        } else {
            // DynamoDB stops a Query at 1 MB of items, before `limit`: then the page is short,
            // and the cursor continues from where the Query stopped.
            match out.last_evaluated_key.as_ref().and_then(|key| key.get(keys::SK)) {
                Some(AttributeValue::S(sk)) => items.last().map(|n| n.note_id).or_else(|| keys::note_id_of_sk(sk)),
                _ => None,
            }
        };
        Ok(Page { items, next })
    }
}

#[async_trait]
impl NoteStore for DynamoTable {
    async fn save_new(&self, note: &Note) -> Result<SaveOutcome, StoreError> {
        let owner_key = keys::owner_note(&note.username, note.note_id);
        let mut tx = self.transaction();
        tx.check(NewNote::OwnerExists, &keys::user_profile(&note.username), "attribute_exists(pk)")?;
        tx.check(NewNote::NotDeleted, &keys::tombstone(&note.username, note.note_id), "attribute_not_exists(pk)")?;
        tx.put(
            NewNote::OwnerCopyIsNew,
            note_item(owner_key.clone(), note, None)?,
            Some("attribute_not_exists(pk)"),
            None,
        )?;
        if note.is_public {
            let public = note_item(keys::public_note(note.note_id), note, None)?;
            tx.put(NewNote::PublicCopyIsNew, public, Some("attribute_not_exists(pk)"), None)?;
        }
        match tx.run(&self.client).await? {
            Ok(()) => Ok(SaveOutcome::Saved),
            Err(failed) if failed.contains(&NewNote::OwnerExists) => Ok(SaveOutcome::OwnerMissing),
            Err(failed) if failed.contains(&NewNote::NotDeleted) => Ok(SaveOutcome::Deleted),
            // Only the copies' "is new" conditions failed: an earlier delivery stored it.
            Err(_) => match self.get_item(&owner_key).await? {
                Some(item) => Ok(SaveOutcome::AlreadySaved(from_item::<NoteItem>(item)?.note)),
                // Stored, then deleted between the transaction and this read.
                None => Ok(SaveOutcome::Deleted),
            },
        }
    }

    async fn get(&self, owner: &Username, note_id: NoteId) -> Result<Option<Note>, StoreError> {
        match self.get_item(&keys::owner_note(owner, note_id)).await? {
            Some(item) => Ok(Some(from_item::<NoteItem>(item)?.note)),
            None => Ok(None),
        }
    }

    async fn list_by_owner(&self, owner: &Username, page: PageRequest) -> Result<Page<Note>, StoreError> {
        self.query_notes(keys::user_pk(owner), page).await
    }

    async fn list_public(&self, page: PageRequest) -> Result<Page<Note>, StoreError> {
        self.query_notes(keys::PUBLIC_NOTES_PK.to_owned(), page).await
    }

    async fn replace(&self, before: &Note, after: &Note, change: &ChangeRecord) -> Result<ChangeOutcome, StoreError> {
        let public_key = keys::public_note(after.note_id);
        let (condition, values) = unchanged(before);
        let mut tx = self.transaction();
        let owner_copy = note_item(keys::owner_note(&after.username, after.note_id), after, Some(change))?;
        tx.put(Change::OwnerCopyUnchanged, owner_copy, Some(condition), values)?;
        match (before.is_public, after.is_public) {
            (_, true) => tx.put(Change::PublicCopy, note_item(public_key, after, None)?, None, None)?,
            (true, false) => tx.delete(Change::PublicCopy, &public_key, None)?,
            (false, false) => {}
        }
        Ok(match tx.run(&self.client).await? {
            Ok(()) => ChangeOutcome::Applied,
            Err(_) => ChangeOutcome::Conflict,
        })
    }

    async fn delete(
        &self,
        note: &Note,
        tombstone_until: Timestamp,
        change: &ChangeRecord,
    ) -> Result<ChangeOutcome, StoreError> {
        let tombstone_key = keys::tombstone(&note.username, note.note_id);
        let tombstone = TombstoneItem {
            pk: tombstone_key.pk,
            sk: tombstone_key.sk,
            kind: "tombstone".into(),
            ttl: tombstone_until.epoch_seconds(),
            change: Some(change.clone()),
        };
        let mut tx = self.transaction();
        let owner_key = keys::owner_note(&note.username, note.note_id);
        tx.delete(Change::OwnerCopyUnchanged, &owner_key, Some(unchanged(note)))?;
        tx.put(Change::Tombstone, to_item(&tombstone)?, None, None)?;
        if note.is_public {
            tx.delete(Change::PublicCopy, &keys::public_note(note.note_id), None)?;
        }
        Ok(match tx.run(&self.client).await? {
            Ok(()) => ChangeOutcome::Applied,
            Err(_) => ChangeOutcome::Conflict,
        })
    }

    async fn was_deleted(&self, owner: &Username, note_id: NoteId) -> Result<bool, StoreError> {
        Ok(self.get_item(&keys::tombstone(owner, note_id)).await?.is_some())
    }

    async fn last_change(&self, owner: &Username, note_id: NoteId) -> Result<Option<LastChange>, StoreError> {
        if let Some(item) = self.get_item(&keys::owner_note(owner, note_id)).await? {
            let item: NoteItem = from_item(item)?;
            return Ok(item.last_change.map(|change| LastChange::Updated { note: item.note, change }));
        }
        match self.get_item(&keys::tombstone(owner, note_id)).await? {
            Some(item) => Ok(from_item::<TombstoneItem>(item)?.change.map(LastChange::Deleted)),
            None => Ok(None),
        }
    }
}
