//! Notes: one item per note key, `USER#{owner}` / `NOTE#{id}`, written with one conditional PutItem.
//!
//! - The key holds a note, a failure (`kind = failed`: the note could not be stored) or a
//!   tombstone (`kind = tombstone`: deleted or dismissed), each with the `version` it is at and
//!   the provenance (`correlationId`, `causationId`) of the change that made it. The table's
//!   stream carries each transition to `publish-changes`, which publishes its event
//!   ([`read_state`] reads the stream's images as this module writes items).
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
use uuid::Uuid;

use super::{DynamoTable, Item, from_item, put_if, to_item, unavailable};
use crate::adapters::keys::{self, Key};
use crate::domain::lifecycle::{FailedNote, NoteState, OwnNote, Provenance, Tombstone};
use crate::domain::{Note, NoteId, Timestamp, Username};
use crate::ports::{
    ChangeOutcome, DismissOutcome, FailureOutcome, NoteStore, Page, PageRequest, SaveOutcome, StoreError,
};
use crate::topology::topology;

const NOTE_KIND: &str = "note";
const TOMBSTONE_KIND: &str = "tombstone";
const FAILED_KIND: &str = "failed";

/// The provenance attributes every note-key item carries.
#[derive(Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct MadeBy {
    #[serde(default)]
    correlation_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    causation_id: Option<Uuid>,
}

impl From<&Provenance> for MadeBy {
    fn from(p: &Provenance) -> Self {
        MadeBy { correlation_id: p.correlation_id.clone(), causation_id: p.causation_id }
    }
}

impl From<MadeBy> for Provenance {
    fn from(m: MadeBy) -> Self {
        Provenance { correlation_id: m.correlation_id, causation_id: m.causation_id }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct NoteItem {
    pk: String,
    sk: String,
    kind: String,
    #[serde(flatten)]
    note: Note,
    #[serde(flatten)]
    made_by: MadeBy,
    /// The public feed index's keys: on public notes only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    feed_pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    feed_sk: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TombstoneItem {
    pk: String,
    sk: String,
    kind: String,
    ttl: i64,
    /// Absent on tombstones written before versions were kept.
    #[serde(default)]
    deleted_at: Option<Timestamp>,
    #[serde(default)]
    version: u64,
    #[serde(flatten)]
    made_by: MadeBy,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FailedItem {
    pk: String,
    sk: String,
    kind: String,
    ttl: i64,
    error: String,
    created_at: Timestamp,
    failed_at: Timestamp,
    version: u64,
    #[serde(flatten)]
    made_by: MadeBy,
}

/// The note id and owner a note key names.
fn identity(pk: &str, sk: &str) -> Result<(Username, NoteId), StoreError> {
    match (keys::username_of_pk(pk), keys::note_id_of_sk(sk)) {
        (Some(owner), Some(note_id)) => Ok((owner, note_id)),
        _ => Err(StoreError::Corrupt(format!("{pk}/{sk} is not a note's key"))),
    }
}

/// What a note's key holds, read from its item, with the provenance of the change that made it.
pub(crate) fn read_state(item: Item) -> Result<(NoteState, Provenance), StoreError> {
    match item.get(keys::KIND) {
        Some(AttributeValue::S(kind)) if kind == TOMBSTONE_KIND => {
            let t: TombstoneItem = from_item(item)?;
            let (username, note_id) = identity(&t.pk, &t.sk)?;
            let expires_at = Timestamp::from_epoch_millis(t.ttl.saturating_mul(1000)).unwrap_or_else(Timestamp::now);
            let tombstone = Tombstone {
                note_id,
                username,
                deleted_at: t.deleted_at.unwrap_or(expires_at),
                version: t.version,
                expires_at,
            };
            Ok((NoteState::Deleted(tombstone), t.made_by.into()))
        }
        Some(AttributeValue::S(kind)) if kind == FAILED_KIND => {
            let f: FailedItem = from_item(item)?;
            let (username, note_id) = identity(&f.pk, &f.sk)?;
            let failed = FailedNote {
                note_id,
                username,
                error: f.error,
                created_at: f.created_at,
                failed_at: f.failed_at,
                version: f.version,
                expires_at: Timestamp::from_epoch_millis(f.ttl.saturating_mul(1000)).unwrap_or_else(Timestamp::now),
            };
            Ok((NoteState::Failed(failed), f.made_by.into()))
        }
        _ => {
            let n = note_from(item)?;
            Ok((NoteState::Stored(n.note), n.made_by.into()))
        }
    }
}

fn stored(item: Item) -> Result<NoteState, StoreError> {
    read_state(item).map(|(state, _)| state)
}

/// The item that holds `state`, made by `made_by`.
pub(crate) fn state_item(state: &NoteState, made_by: &Provenance) -> Result<Item, StoreError> {
    match state {
        NoteState::Stored(note) => note_item(note, made_by),
        NoteState::Deleted(tombstone) => tombstone_item(tombstone, made_by),
        NoteState::Failed(failed) => failed_item(failed, made_by),
    }
}

fn tombstone_item(tombstone: &Tombstone, made_by: &Provenance) -> Result<Item, StoreError> {
    let Key { pk, sk } = keys::tombstone(&tombstone.username, tombstone.note_id);
    to_item(&TombstoneItem {
        pk,
        sk,
        kind: TOMBSTONE_KIND.into(),
        ttl: tombstone.expires_at.epoch_seconds(),
        deleted_at: Some(tombstone.deleted_at),
        version: tombstone.version,
        made_by: made_by.into(),
    })
}

fn failed_item(failed: &FailedNote, made_by: &Provenance) -> Result<Item, StoreError> {
    let Key { pk, sk } = keys::owner_note(&failed.username, failed.note_id);
    to_item(&FailedItem {
        pk,
        sk,
        kind: FAILED_KIND.into(),
        ttl: failed.expires_at.epoch_seconds(),
        error: failed.error.clone(),
        created_at: failed.created_at,
        failed_at: failed.failed_at,
        version: failed.version,
        made_by: made_by.into(),
    })
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

fn note_item(note: &Note, made_by: &Provenance) -> Result<Item, StoreError> {
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
        made_by: made_by.into(),
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
    /// written, else `Err` with what is there (nothing if the key emptied between the write and
    /// the read).
    async fn put_where_nothing_is(
        &self,
        item: Item,
        owner: &Username,
        note_id: NoteId,
    ) -> Result<Result<(), Option<NoteState>>, StoreError> {
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

    /// Puts `item` in the place of the failure recorded at `version`, only if it is still there.
    async fn put_over_failure(&self, item: Item, version: u64) -> Result<bool, StoreError> {
        put_if(
            self.client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("#kind = :failed AND version = :version")
                .expression_attribute_names("#kind", keys::KIND)
                .expression_attribute_values(":failed", AttributeValue::S(FAILED_KIND.into()))
                .expression_attribute_values(":version", AttributeValue::N(version.to_string())),
        )
        .await
    }

    /// A user's notes and failures, newest first. Tombstones are filtered out, so a page may
    /// take a few Queries; it is short (with a cursor) when DynamoDB stopped one at 1 MB, or when
    /// even those found too few notes.
    async fn list_owner_notes(&self, owner: &Username, page: PageRequest) -> Result<Page<OwnNote>, StoreError> {
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
                // A failure past its ttl is gone to its owner, whenever DynamoDB's sweep removes it.
                .filter_expression("#kind = :note OR (#kind = :failed AND #ttl > :now)")
                .expression_attribute_names("#ttl", keys::TTL)
                .expression_attribute_values(":now", AttributeValue::N(Timestamp::now().epoch_seconds().to_string()))
                .expression_attribute_names("#kind", keys::KIND)
                .expression_attribute_values(":pk", AttributeValue::S(pk.clone()))
                .expression_attribute_values(":notePrefix", AttributeValue::S(keys::NOTE_SK_PREFIX.into()))
                .expression_attribute_values(":note", AttributeValue::S(NOTE_KIND.into()))
                .expression_attribute_values(":failed", AttributeValue::S(FAILED_KIND.into()))
                .scan_index_forward(false)
                // One more than asked, to know whether another page follows without an empty last page.
                .limit(i32::try_from(asked).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| unavailable(e.into_service_error()))?;
            for item in out.items.unwrap_or_default() {
                items.push(match stored(item)? {
                    NoteState::Stored(note) => OwnNote::Stored(note),
                    NoteState::Failed(failed) => OwnNote::Failed(failed),
                    NoteState::Deleted(_) => continue,
                });
            }
            if items.len() > page.limit {
                items.truncate(page.limit);
                let next = items.last().map(OwnNote::note_id);
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
        let next = cursor_of(start.as_ref(), keys::SK).or_else(|| items.last().map(OwnNote::note_id));
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

/// How many times a write that raced a failure's redrive or dismiss is tried again.
const RACE_ATTEMPTS: usize = 3;

#[async_trait]
impl NoteStore for DynamoTable {
    async fn save_new(&self, note: &Note, made_by: &Provenance) -> Result<SaveOutcome, StoreError> {
        for _ in 0..RACE_ATTEMPTS {
            match self.put_where_nothing_is(note_item(note, made_by)?, &note.username, note.note_id).await? {
                Ok(()) => return Ok(SaveOutcome::Saved),
                Err(Some(NoteState::Stored(stored))) => return Ok(SaveOutcome::AlreadySaved(stored)),
                Err(Some(NoteState::Failed(failed))) => {
                    // A redrive that stores a note whose failure was recorded: one version past it.
                    let redriven = Note { version: failed.version + 1, ..note.clone() };
                    if self.put_over_failure(note_item(&redriven, made_by)?, failed.version).await? {
                        return Ok(SaveOutcome::Saved);
                    }
                }
                // Deleted or dismissed.
                Err(Some(NoteState::Deleted(_))) => return Ok(SaveOutcome::Deleted),
                // Emptied between the write and the read (a tombstone expired): try again.
                Err(None) => {}
            }
        }
        Err(StoreError::Unavailable("the note's key kept changing under the save".into()))
    }

    async fn record_failure(&self, failed: &FailedNote, made_by: &Provenance) -> Result<FailureOutcome, StoreError> {
        for _ in 0..RACE_ATTEMPTS {
            match self.put_where_nothing_is(failed_item(failed, made_by)?, &failed.username, failed.note_id).await? {
                Ok(()) => return Ok(FailureOutcome::Recorded),
                // Failed again (a try again under the same key, a second redrive): recorded anew,
                // one version on, so its owner hears of this failure too.
                Err(Some(NoteState::Failed(before))) => {
                    let again = FailedNote { version: before.version + 1, ..failed.clone() };
                    if self.put_over_failure(failed_item(&again, made_by)?, before.version).await? {
                        return Ok(FailureOutcome::Recorded);
                    }
                }
                Err(Some(_)) => return Ok(FailureOutcome::Settled),
                Err(None) => {}
            }
        }
        Err(StoreError::Unavailable("the note's key kept changing under the failure".into()))
    }

    async fn get(&self, owner: &Username, note_id: NoteId) -> Result<Option<Note>, StoreError> {
        match self.state(owner, note_id).await? {
            Some(NoteState::Stored(note)) => Ok(Some(note)),
            _ => Ok(None),
        }
    }

    async fn state(&self, owner: &Username, note_id: NoteId) -> Result<Option<NoteState>, StoreError> {
        let state = self.get_item(&keys::owner_note(owner, note_id)).await?.map(stored).transpose()?;
        // A failure past its ttl is gone, whenever DynamoDB's sweep removes it.
        Ok(state.filter(|s| !matches!(s, NoteState::Failed(f) if f.expires_at <= Timestamp::now())))
    }

    async fn list_by_owner(&self, owner: &Username, page: PageRequest) -> Result<Page<OwnNote>, StoreError> {
        self.list_owner_notes(owner, page).await
    }

    async fn list_public(&self, page: PageRequest) -> Result<Page<Note>, StoreError> {
        self.list_feed(page).await
    }

    async fn replace(&self, before: &Note, after: &Note, made_by: &Provenance) -> Result<ChangeOutcome, StoreError> {
        self.put_unchanged(before, note_item(after, made_by)?).await
    }

    async fn delete(
        &self,
        note: &Note,
        tombstone: &Tombstone,
        made_by: &Provenance,
    ) -> Result<ChangeOutcome, StoreError> {
        self.put_unchanged(note, tombstone_item(tombstone, made_by)?).await
    }

    async fn dismiss(
        &self,
        owner: &Username,
        note_id: NoteId,
        tombstone_until: Timestamp,
        made_by: &Provenance,
    ) -> Result<DismissOutcome, StoreError> {
        let tombstone = |version| Tombstone {
            note_id,
            username: owner.clone(),
            deleted_at: Timestamp::now(),
            version,
            expires_at: tombstone_until,
        };
        for _ in 0..RACE_ATTEMPTS {
            match self.put_where_nothing_is(tombstone_item(&tombstone(1), made_by)?, owner, note_id).await? {
                Ok(()) | Err(Some(NoteState::Deleted(_))) => return Ok(DismissOutcome::Dismissed),
                Err(Some(NoteState::Stored(_))) => return Ok(DismissOutcome::Stored),
                Err(Some(NoteState::Failed(failed))) => {
                    let item = tombstone_item(&tombstone(failed.version + 1), made_by)?;
                    if self.put_over_failure(item, failed.version).await? {
                        return Ok(DismissOutcome::Dismissed);
                    }
                }
                Err(None) => {}
            }
        }
        Err(StoreError::Unavailable("the note's key kept changing under the dismiss".into()))
    }

    async fn was_deleted(&self, owner: &Username, note_id: NoteId) -> Result<bool, StoreError> {
        Ok(matches!(self.state(owner, note_id).await?, Some(NoteState::Deleted(_))))
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
            version: 1,
        }
    }

    #[test]
    fn a_long_content_is_stored_deflated_and_reads_back_the_same() {
        let text = "Notes are written in a browser, accepted at once and stored later. ".repeat(15)
            + "Ünïcödé and emoji \u{1F600} survive the round trip.";
        let original = note(&text);
        let item = note_item(&original, &Provenance::request("r")).unwrap();
        assert!(!item.contains_key(CONTENT));
        let AttributeValue::B(deflated) = &item[CONTENT_DEFLATED] else { panic!("a binary attribute") };
        assert!(deflated.as_ref().len() < text.len() / 2);
        assert_eq!(note_from(item).unwrap().note, original);
    }

    #[test]
    fn a_short_content_is_stored_as_it_is() {
        let original = note("a short note");
        let item = note_item(&original, &Provenance::request("r")).unwrap();
        assert_eq!(item[CONTENT], AttributeValue::S("a short note".into()));
        assert_eq!(note_from(item).unwrap().note, original);
    }
}
