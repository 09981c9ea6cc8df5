//! Notes: one item per note, `USER#{owner}` / `NOTE#{id}`, written with one conditional PutItem.
//!
//! - A public note also carries `feedPk` / `feedSk`, so it is in the sparse `publicFeed` index
//!   (sharded, see [`keys::public_feed`]); a private note is not. Nothing is kept in step by hand.
//! - Deleting puts a tombstone in the note's place, so one condition (`attribute_not_exists(pk)`)
//!   refuses both a second store of the note and a late store of a deleted one, and the failed
//!   condition returns the item that is there, telling which.
//! - An edit or a delete applies only if the note is still what was read (`updatedAt`).
//! - A content over 200 bytes is stored deflated (`contentDeflated`) when that is smaller.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use serde::{Deserialize, Serialize};

use super::{DynamoTable, Item, from_item, put_if, to_item, unavailable};
use crate::adapters::keys::{self, Key};
use crate::domain::events::ChangeRecord;
use crate::domain::{Note, NoteId, Timestamp, Username};
use crate::ports::{ChangeOutcome, DismissOutcome, LastChange, NoteStore, Page, PageRequest, SaveOutcome, StoreError};
use crate::topology::topology;

const NOTE_KIND: &str = "note";
const TOMBSTONE_KIND: &str = "tombstone";

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct NoteItem {
    pk: String,
    sk: String,
    kind: String,
    #[serde(flatten)]
    note: Note,
    /// The record of the last edit's `note-updated`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_change: Option<ChangeRecord>,
    /// The public feed index's keys: on public notes only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    feed_pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    feed_sk: Option<String>,
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

/// What a note's key holds.
enum Stored {
    Note(Box<NoteItem>),
    Tombstone(TombstoneItem),
}

fn stored(item: Item) -> Result<Stored, StoreError> {
    match item.get(keys::KIND) {
        Some(AttributeValue::S(kind)) if kind == TOMBSTONE_KIND => Ok(Stored::Tombstone(from_item(item)?)),
        _ => Ok(Stored::Note(Box::new(note_from(item)?))),
    }
}

/// A content longer than this is stored compressed (raw DEFLATE) when that makes it smaller:
/// DynamoDB bills a write per started KB of the item, so a 1 KB note of text fits one write unit
/// instead of two, in the table and in the feed index alike.
const COMPRESS_ABOVE_BYTES: usize = 200;
const CONTENT: &str = "content";
const CONTENT_DEFLATED: &str = "contentDeflated";
/// More than the longest content can inflate to (10,000 characters of up to 4 bytes).
const MAX_CONTENT_BYTES: usize = 64 * 1024;

fn compress_content(item: &mut Item) {
    let Some(AttributeValue::S(content)) = item.get(CONTENT) else { return };
    if content.len() <= COMPRESS_ABOVE_BYTES {
        return;
    }
    let deflated = miniz_oxide::deflate::compress_to_vec(content.as_bytes(), 6);
    if deflated.len() < content.len() {
        item.remove(CONTENT);
        item.insert(CONTENT_DEFLATED.into(), AttributeValue::B(aws_sdk_dynamodb::primitives::Blob::new(deflated)));
    }
}

/// A note item as read, its content inflated when it was stored compressed.
fn note_from(mut item: Item) -> Result<NoteItem, StoreError> {
    if let Some(AttributeValue::B(deflated)) = item.remove(CONTENT_DEFLATED) {
        let bytes = miniz_oxide::inflate::decompress_to_vec_with_limit(deflated.as_ref(), MAX_CONTENT_BYTES)
            .map_err(|e| StoreError::Corrupt(format!("a compressed note content does not inflate: {e:?}")))?;
        let content = String::from_utf8(bytes).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        item.insert(CONTENT.into(), AttributeValue::S(content));
    }
    from_item(item)
}

fn note_item(note: &Note, last_change: Option<&ChangeRecord>) -> Result<Item, StoreError> {
    let key = keys::owner_note(&note.username, note.note_id);
    let (feed_pk, feed_sk) = if note.is_public {
        let (pk, sk) = keys::public_feed(note.note_id);
        (Some(pk), Some(sk))
    } else {
        (None, None)
    };
    let mut item = to_item(&NoteItem {
        pk: key.pk,
        sk: key.sk,
        kind: NOTE_KIND.into(),
        note: note.clone(),
        last_change: last_change.cloned(),
        feed_pk,
        feed_sk,
    })?;
    compress_content(&mut item);
    Ok(item)
}

/// The condition that the note is still exactly `before` (and not a tombstone): optimistic
/// concurrency on `updatedAt`, which every change sets.
fn unchanged(before: &Note) -> (&'static str, Item) {
    let mut values = HashMap::from([(":note".to_owned(), AttributeValue::S(NOTE_KIND.into()))]);
    match before.updated_at {
        Some(at) => {
            values.insert(":previousUpdatedAt".to_owned(), AttributeValue::S(at.to_string()));
            ("#kind = :note AND updatedAt = :previousUpdatedAt", values)
        }
        None => ("#kind = :note AND attribute_not_exists(updatedAt)", values),
    }
}

/// What DynamoDB reads for one Query at most, and a generous size of a note item beside its
/// content (keys, owner, dates, index keys).
const QUERY_PAGE_BYTES: usize = 1024 * 1024;
const NOTE_ITEM_OVERHEAD_BYTES: usize = 512;

/// How many Queries one page of a user's notes may take when tombstones fill the first ones.
const MAX_QUERIES_PER_PAGE: usize = 4;

/// The note id in a Query's `LastEvaluatedKey`, read from its `NOTE#{id}` sort key attribute
/// (`sk` in the table, `feedSk` in the feed index), as a cursor.
fn cursor_of(key: Option<&Item>, sort_key: &str) -> Option<NoteId> {
    match key.and_then(|key| key.get(sort_key)) {
        Some(AttributeValue::S(sk)) => keys::note_id_of_sk(sk),
        _ => None,
    }
}

impl DynamoTable {
    /// Puts `item` in the note's place only if the key holds nothing: `Ok(())` when it was
    /// written, else `Err` with what is there (the note or its tombstone; nothing if the key
    /// emptied between the write and the read).
    async fn put_where_nothing_is(
        &self,
        item: Item,
        owner: &Username,
        note_id: NoteId,
    ) -> Result<Result<(), Option<Stored>>, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let err = match result {
            Ok(_) => return Ok(Ok(())),
            Err(err) => err.into_service_error(),
        };
        let PutItemError::ConditionalCheckFailedException(failed) = &err else {
            return Err(unavailable(err));
        };
        let there = match failed.item() {
            Some(item) => Some(item.clone()),
            None => self.get_item(&keys::owner_note(owner, note_id)).await?,
        };
        Ok(Err(there.map(stored).transpose()?))
    }

    /// A user's notes, newest first. Tombstones are filtered out, so a page may take a few
    /// Queries; it is short (with a cursor) when DynamoDB stopped one at 1 MB, or when even
    /// those found too few notes.
    async fn list_owner_notes(&self, owner: &Username, page: PageRequest) -> Result<Page<Note>, StoreError> {
        let pk = keys::user_pk(owner);
        let mut start = page.after.map(|after| {
            HashMap::from([
                (keys::PK.to_owned(), AttributeValue::S(pk.clone())),
                (keys::SK.to_owned(), AttributeValue::S(keys::note_sk(after))),
            ])
        });
        let mut items = Vec::new();
        for _ in 0..MAX_QUERIES_PER_PAGE {
            let asked = page.limit + 1 - items.len();
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :notePrefix)")
                .filter_expression("#kind = :note")
                .expression_attribute_names("#kind", keys::KIND)
                .expression_attribute_values(":pk", AttributeValue::S(pk.clone()))
                .expression_attribute_values(":notePrefix", AttributeValue::S(keys::NOTE_SK_PREFIX.into()))
                .expression_attribute_values(":note", AttributeValue::S(NOTE_KIND.into()))
                .scan_index_forward(false)
                // One more than asked, to know whether another page follows without an empty last page.
                .limit(i32::try_from(asked).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| unavailable(e.into_service_error()))?;
            for item in out.items.unwrap_or_default() {
                items.push(note_from(item)?.note);
            }
            if items.len() > page.limit {
                items.truncate(page.limit);
                let next = items.last().map(|n| n.note_id);
                return Ok(Page { items, next });
            }
            let stopped_at_one_megabyte = usize::try_from(out.scanned_count).unwrap_or(0) < asked;
            match out.last_evaluated_key {
                // Only tombstones made it short: read on. At 1 MB, answer a short page instead,
                // so a response never grows past what one Query reads.
                Some(key) if !stopped_at_one_megabyte => start = Some(key),
                Some(key) => {
                    start = Some(key);
                    break;
                }
                None => return Ok(Page { items, next: None }),
            }
        }
        // Short: the Queries stopped (at 1 MB, or after too many tombstones) before the page was full.
        let next = cursor_of(start.as_ref(), keys::SK).or_else(|| items.last().map(|n| n.note_id));
        Ok(Page { items, next })
    }

    /// The public feed, newest first: one Query per shard of the index, merged. A shard that
    /// DynamoDB stopped at 1 MB bounds the page: nothing older than what it returned is certain.
    async fn list_feed(&self, page: PageRequest) -> Result<Page<Note>, StoreError> {
        let feed = &topology().table.public_feed;
        let queries = keys::public_feed_shards().into_iter().map(|shard| {
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(&feed.index_name)
                .expression_attribute_names("#pk", keys::FEED_PK)
                .expression_attribute_names("#sk", keys::FEED_SK)
                .expression_attribute_values(":shard", AttributeValue::S(shard))
                .scan_index_forward(false)
                .limit(i32::try_from(page.limit + 1).unwrap_or(i32::MAX));
            query = match page.after {
                Some(after) => query
                    .key_condition_expression("#pk = :shard AND #sk < :after")
                    .expression_attribute_values(":after", AttributeValue::S(keys::note_sk(after))),
                None => query
                    .key_condition_expression("#pk = :shard AND begins_with(#sk, :notePrefix)")
                    .expression_attribute_values(":notePrefix", AttributeValue::S(keys::NOTE_SK_PREFIX.into())),
            };
            query.send()
        });
        let mut notes = Vec::new();
        // The oldest note id below which some shard may hold notes not read yet.
        let mut bound: Option<NoteId> = None;
        for out in futures::future::try_join_all(queries).await.map_err(|e| unavailable(e.into_service_error()))? {
            let items = out.items.unwrap_or_default();
            let full = items.len() > page.limit;
            let mut oldest = None;
            for item in items {
                let note = note_from(item)?.note;
                oldest = Some(note.note_id);
                notes.push(note);
            }
            if !full && out.last_evaluated_key.is_some() {
                let stopped_at = oldest.or_else(|| cursor_of(out.last_evaluated_key.as_ref(), keys::FEED_SK));
                bound = bound.max(stopped_at);
            }
        }
        notes.sort_by_key(|n| std::cmp::Reverse(n.note_id));
        if let Some(bound) = bound {
            notes.retain(|n| n.note_id >= bound);
        }
        // No more than one Query's 1 MB in a page, however many shards answered: a response
        // stays far below Lambda's 6 MB, as one Query's page did.
        let mut bytes = 0;
        if let Some(over) = notes.iter().position(|n| {
            bytes += n.content.as_str().len() + NOTE_ITEM_OVERHEAD_BYTES;
            bytes > QUERY_PAGE_BYTES
        }) {
            notes.truncate(over.max(1));
            bound = bound.max(notes.last().map(|n| n.note_id));
        }
        if notes.len() > page.limit {
            notes.truncate(page.limit);
            let next = notes.last().map(|n| n.note_id);
            return Ok(Page { items: notes, next });
        }
        let next = bound.and_then(|_| notes.last().map(|n| n.note_id));
        Ok(Page { items: notes, next })
    }

    /// A conditional PutItem of a note or tombstone in the place of `before`.
    async fn put_unchanged(&self, before: &Note, item: Item) -> Result<ChangeOutcome, StoreError> {
        let (condition, values) = unchanged(before);
        let applied = put_if(
            self.client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression(condition)
                .expression_attribute_names("#kind", keys::KIND)
                .set_expression_attribute_values(Some(values)),
        )
        .await?;
        Ok(if applied { ChangeOutcome::Applied } else { ChangeOutcome::Conflict })
    }
}

#[async_trait]
impl NoteStore for DynamoTable {
    async fn save_new(&self, note: &Note) -> Result<SaveOutcome, StoreError> {
        Ok(match self.put_where_nothing_is(note_item(note, None)?, &note.username, note.note_id).await? {
            Ok(()) => SaveOutcome::Saved,
            Err(Some(Stored::Note(item))) => SaveOutcome::AlreadySaved(item.note),
            // Deleted (or stored, then deleted between the write and the read).
            Err(Some(Stored::Tombstone(_)) | None) => SaveOutcome::Deleted,
        })
    }

    async fn get(&self, owner: &Username, note_id: NoteId) -> Result<Option<Note>, StoreError> {
        match self.get_item(&keys::owner_note(owner, note_id)).await?.map(stored).transpose()? {
            Some(Stored::Note(item)) => Ok(Some(item.note)),
            _ => Ok(None),
        }
    }

    async fn list_by_owner(&self, owner: &Username, page: PageRequest) -> Result<Page<Note>, StoreError> {
        self.list_owner_notes(owner, page).await
    }

    async fn list_public(&self, page: PageRequest) -> Result<Page<Note>, StoreError> {
        self.list_feed(page).await
    }

    async fn replace(&self, before: &Note, after: &Note, change: &ChangeRecord) -> Result<ChangeOutcome, StoreError> {
        self.put_unchanged(before, note_item(after, Some(change))?).await
    }

    async fn delete(
        &self,
        note: &Note,
        tombstone_until: Timestamp,
        change: &ChangeRecord,
    ) -> Result<ChangeOutcome, StoreError> {
        let Key { pk, sk } = keys::tombstone(&note.username, note.note_id);
        let tombstone = TombstoneItem {
            pk,
            sk,
            kind: TOMBSTONE_KIND.into(),
            ttl: tombstone_until.epoch_seconds(),
            change: Some(change.clone()),
        };
        self.put_unchanged(note, to_item(&tombstone)?).await
    }

    async fn dismiss(
        &self,
        owner: &Username,
        note_id: NoteId,
        tombstone_until: Timestamp,
    ) -> Result<DismissOutcome, StoreError> {
        let Key { pk, sk } = keys::tombstone(owner, note_id);
        let tombstone =
            TombstoneItem { pk, sk, kind: TOMBSTONE_KIND.into(), ttl: tombstone_until.epoch_seconds(), change: None };
        Ok(match self.put_where_nothing_is(to_item(&tombstone)?, owner, note_id).await? {
            Err(Some(Stored::Note(_))) => DismissOutcome::Stored,
            Ok(()) | Err(Some(Stored::Tombstone(_)) | None) => DismissOutcome::Dismissed,
        })
    }

    async fn was_deleted(&self, owner: &Username, note_id: NoteId) -> Result<bool, StoreError> {
        let there = self.get_item(&keys::tombstone(owner, note_id)).await?.map(stored).transpose()?;
        Ok(matches!(there, Some(Stored::Tombstone(_))))
    }

    async fn last_change(&self, owner: &Username, note_id: NoteId) -> Result<Option<LastChange>, StoreError> {
        Ok(match self.get_item(&keys::owner_note(owner, note_id)).await?.map(stored).transpose()? {
            Some(Stored::Note(item)) => {
                let NoteItem { note, last_change, .. } = *item;
                last_change.map(|change| LastChange::Updated { note, change })
            }
            Some(Stored::Tombstone(tombstone)) => tombstone.change.map(LastChange::Deleted),
            None => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{NoteContent, NoteStatus};

    fn note(content: &str) -> Note {
        Note {
            note_id: NoteId::new(),
            username: Username::parse("alice").unwrap(),
            content: NoteContent::parse(content).unwrap(),
            is_public: true,
            status: NoteStatus::Saved,
            created_at: Timestamp::now(),
            saved_at: Timestamp::now(),
            updated_at: None,
        }
    }

    #[test]
    fn a_long_content_is_stored_deflated_and_reads_back_the_same() {
        let text = "Notes are written in a browser, accepted at once and stored later. ".repeat(15)
            + "Ünïcödé and emoji \u{1F600} survive the round trip.";
        let original = note(&text);
        let item = note_item(&original, None).unwrap();
        assert!(!item.contains_key(CONTENT));
        let AttributeValue::B(deflated) = &item[CONTENT_DEFLATED] else { panic!("a binary attribute") };
        assert!(deflated.as_ref().len() < text.len() / 2);
        assert_eq!(note_from(item).unwrap().note, original);
    }

    #[test]
    fn a_short_content_is_stored_as_it_is() {
        let original = note("a short note");
        let item = note_item(&original, None).unwrap();
        assert_eq!(item[CONTENT], AttributeValue::S("a short note".into()));
        assert_eq!(note_from(item).unwrap().note, original);
    }
}
