//! The single table, through `aws-sdk-dynamodb` and `serde_dynamo`. Implements every
//! table-backed port. Only GetItem, Query, PutItem and TransactWriteItems are used: no Scan.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::operation::put_item::builders::PutItemFluentBuilder;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Delete, Put, TransactWriteItem};
use serde::{Deserialize, Serialize};

use crate::domain::{IdempotencyKey, Note, NoteId, Timestamp, Username};
use crate::events::NoteEvent;
use crate::keys::{self, Key};
use crate::ports::{
    ChangeOutcome, Claim, Connection, ConnectionStore, IdempotencyStore, NoteStore, Page, PageRequest, SaveOutcome,
    StoreError, UserRecord, UserStore,
};

type Item = HashMap<String, AttributeValue>;

/// The table named `TABLE_NAME`, shared by every function.
#[derive(Clone, Debug)]
pub struct DynamoTable {
    client: Client,
    table: String,
}

impl DynamoTable {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }
}

// ----- items -----------------------------------------------------------------------------

#[derive(Serialize, Deserialize)]
struct NoteItem {
    pk: String,
    sk: String,
    kind: String,
    #[serde(flatten)]
    note: Note,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserItem {
    pk: String,
    sk: String,
    kind: String,
    username: Username,
    password_hash: String,
    created_at: Timestamp,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct IdempotencyItem {
    pk: String,
    sk: String,
    kind: String,
    /// The `note-created` event recorded under the key, as JSON.
    event: String,
    ttl: i64,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConnectionItem {
    pk: String,
    sk: String,
    kind: String,
    connection_id: String,
    username: Username,
    connected_at: Timestamp,
    ttl: i64,
}

#[derive(Serialize)]
struct TombstoneItem {
    pk: String,
    sk: String,
    kind: &'static str,
    ttl: i64,
}

fn to_item<T: Serialize>(value: &T) -> Result<Item, StoreError> {
    serde_dynamo::to_item(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn from_item<T: for<'de> Deserialize<'de>>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn key_of(key: &Key) -> Item {
    HashMap::from([
        (keys::PK.to_owned(), AttributeValue::S(key.pk.clone())),
        (keys::SK.to_owned(), AttributeValue::S(key.sk.clone())),
    ])
}

fn note_item(key: Key, note: &Note) -> Result<Item, StoreError> {
    to_item(&NoteItem { pk: key.pk, sk: key.sk, kind: "note".into(), note: note.clone() })
}

/// Sends a conditional PutItem: `Ok(true)` when written, `Ok(false)` when its condition failed.
async fn put_if(request: PutItemFluentBuilder) -> Result<bool, StoreError> {
    match request.send().await {
        Ok(_) => Ok(true),
        Err(err) => {
            let err = err.into_service_error();
            if err.is_conditional_check_failed_exception() { Ok(false) } else { Err(unavailable(err)) }
        }
    }
}

fn unavailable<E: std::error::Error + 'static>(err: E) -> StoreError {
    StoreError::Unavailable(DisplayErrorContext(err).to_string())
}

fn built<T, E: std::fmt::Display>(result: Result<T, E>) -> Result<T, StoreError> {
    result.map_err(|e| StoreError::Corrupt(format!("request could not be built: {e}")))
}

/// Per-item reasons of a cancelled transaction: `true` where a condition failed.
fn failed_conditions(err: &TransactWriteItemsError) -> Option<Vec<bool>> {
    match err {
        TransactWriteItemsError::TransactionCanceledException(e) => {
            Some(e.cancellation_reasons().iter().map(|r| r.code() == Some("ConditionalCheckFailed")).collect())
        }
        _ => None,
    }
}

const UNCHANGED_CONDITION: &str = "attribute_exists(pk) AND updatedAt = :previousUpdatedAt";
const NEVER_UPDATED_CONDITION: &str = "attribute_exists(pk) AND attribute_not_exists(updatedAt)";

impl DynamoTable {
    fn put(&self, item: Item, condition: Option<&str>) -> Result<TransactWriteItem, StoreError> {
        let put = built(
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .set_condition_expression(condition.map(str::to_owned))
                .build(),
        )?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    fn condition_check(&self, key: &Key, condition: &str) -> Result<TransactWriteItem, StoreError> {
        let check = built(
            ConditionCheck::builder()
                .table_name(&self.table)
                .set_key(Some(key_of(key)))
                .condition_expression(condition)
                .build(),
        )?;
        Ok(TransactWriteItem::builder().condition_check(check).build())
    }

    fn delete(&self, key: &Key) -> Result<TransactWriteItem, StoreError> {
        let delete = built(Delete::builder().table_name(&self.table).set_key(Some(key_of(key))).build())?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    /// The condition that the owner's copy is still exactly `before`: optimistic concurrency
    /// on `updatedAt`, which every change sets.
    fn unchanged(before: &Note) -> (&'static str, Option<Item>) {
        match before.updated_at {
            Some(at) => (
                UNCHANGED_CONDITION,
                Some(HashMap::from([(":previousUpdatedAt".to_owned(), AttributeValue::S(at.to_string()))])),
            ),
            None => (NEVER_UPDATED_CONDITION, None),
        }
    }

    async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<Result<(), Vec<bool>>, StoreError> {
        match self.client.transact_write_items().set_transact_items(Some(items)).send().await {
            Ok(_) => Ok(Ok(())),
            Err(err) => {
                let service_err = err.into_service_error();
                match failed_conditions(&service_err) {
                    Some(reasons) if reasons.iter().any(|failed| *failed) => Ok(Err(reasons)),
                    _ => Err(unavailable(service_err)),
                }
            }
        }
    }

    async fn get_item(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_of(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unavailable(e.into_service_error()))?;
        Ok(out.item)
    }

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

    async fn query_connections(&self, pk: String, sk_prefix: &str) -> Result<Vec<Connection>, StoreError> {
        let now = Timestamp::now().epoch_seconds();
        let mut start: Option<Item> = None;
        let mut connections = Vec::new();
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                // TTL deletion lags expiry by up to days: expired items are skipped here.
                .filter_expression("#ttl > :now")
                .expression_attribute_names("#ttl", keys::TTL)
                .expression_attribute_values(":pk", AttributeValue::S(pk.clone()))
                .expression_attribute_values(":prefix", AttributeValue::S(sk_prefix.to_owned()))
                .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| unavailable(e.into_service_error()))?;
            for item in out.items.unwrap_or_default() {
                connections.push(connection_of(from_item::<ConnectionItem>(item)?));
            }
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(connections),
            }
        }
    }
}

fn connection_of(item: ConnectionItem) -> Connection {
    Connection {
        connection_id: item.connection_id,
        username: item.username,
        connected_at: item.connected_at,
        expires_at: Timestamp::from_datetime(
            chrono::DateTime::from_timestamp(item.ttl, 0).unwrap_or_else(chrono::Utc::now),
        ),
    }
}

// ----- notes -----------------------------------------------------------------------------

#[async_trait]
impl NoteStore for DynamoTable {
    async fn save_new(&self, note: &Note) -> Result<SaveOutcome, StoreError> {
        let owner_key = keys::owner_note(&note.username, note.note_id);
        let mut items = vec![
            self.condition_check(&keys::user_profile(&note.username), "attribute_exists(pk)")?,
            self.condition_check(&keys::tombstone(&note.username, note.note_id), "attribute_not_exists(pk)")?,
            self.put(note_item(owner_key.clone(), note)?, Some("attribute_not_exists(pk)"))?,
        ];
        if note.is_public {
            items.push(self.put(note_item(keys::public_note(note.note_id), note)?, Some("attribute_not_exists(pk)"))?);
        }
        match self.transact(items).await? {
            Ok(()) => Ok(SaveOutcome::Saved),
            Err(failed) if failed.first() == Some(&true) => Ok(SaveOutcome::OwnerMissing),
            Err(failed) if failed.get(1) == Some(&true) => Ok(SaveOutcome::Deleted),
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

    async fn replace(&self, before: &Note, after: &Note) -> Result<ChangeOutcome, StoreError> {
        let owner_key = keys::owner_note(&after.username, after.note_id);
        let public_key = keys::public_note(after.note_id);
        let (condition, values) = Self::unchanged(before);
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(note_item(owner_key, after)?))
            .condition_expression(condition)
            .set_expression_attribute_values(values);
        let mut items = vec![TransactWriteItem::builder().put(built(put.build())?).build()];
        match (before.is_public, after.is_public) {
            (_, true) => items.push(self.put(note_item(public_key, after)?, None)?),
            (true, false) => items.push(self.delete(&public_key)?),
            (false, false) => {}
        }
        Ok(match self.transact(items).await? {
            Ok(()) => ChangeOutcome::Applied,
            Err(_) => ChangeOutcome::Conflict,
        })
    }

    async fn delete(&self, note: &Note, tombstone_until: Timestamp) -> Result<ChangeOutcome, StoreError> {
        let tombstone_key = keys::tombstone(&note.username, note.note_id);
        let tombstone = TombstoneItem {
            pk: tombstone_key.pk,
            sk: tombstone_key.sk,
            kind: "tombstone",
            ttl: tombstone_until.epoch_seconds(),
        };
        let (condition, values) = Self::unchanged(note);
        let owner_copy = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key_of(&keys::owner_note(&note.username, note.note_id))))
            .condition_expression(condition)
            .set_expression_attribute_values(values);
        let mut items = vec![
            TransactWriteItem::builder().delete(built(owner_copy.build())?).build(),
            self.put(to_item(&tombstone)?, None)?,
        ];
        if note.is_public {
            items.push(self.delete(&keys::public_note(note.note_id))?);
        }
        Ok(match self.transact(items).await? {
            Ok(()) => ChangeOutcome::Applied,
            Err(_) => ChangeOutcome::Conflict,
        })
    }

    async fn was_deleted(&self, owner: &Username, note_id: NoteId) -> Result<bool, StoreError> {
        Ok(self.get_item(&keys::tombstone(owner, note_id)).await?.is_some())
    }
}

// ----- users -----------------------------------------------------------------------------

#[async_trait]
impl UserStore for DynamoTable {
    async fn create(&self, user: &UserRecord) -> Result<bool, StoreError> {
        let key = keys::user_profile(&user.username);
        let item = to_item(&UserItem {
            pk: key.pk,
            sk: key.sk,
            kind: "user".into(),
            username: user.username.clone(),
            password_hash: user.password_hash.clone(),
            created_at: user.created_at,
        })?;
        put_if(
            self.client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk)"),
        )
        .await
    }

    async fn get(&self, username: &Username) -> Result<Option<UserRecord>, StoreError> {
        let Some(item) = self.get_item(&keys::user_profile(username)).await? else {
            return Ok(None);
        };
        let item: UserItem = from_item(item)?;
        Ok(Some(UserRecord { username: item.username, password_hash: item.password_hash, created_at: item.created_at }))
    }
}

// ----- idempotency -----------------------------------------------------------------------

#[async_trait]
impl IdempotencyStore for DynamoTable {
    async fn claim(
        &self,
        owner: &Username,
        key: &IdempotencyKey,
        event: &NoteEvent,
        expires_at: Timestamp,
    ) -> Result<Claim, StoreError> {
        let item_key = keys::idempotency(owner, key);
        let item = to_item(&IdempotencyItem {
            pk: item_key.pk.clone(),
            sk: item_key.sk.clone(),
            kind: "idempotency".into(),
            event: serde_json::to_string(event).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            ttl: expires_at.epoch_seconds(),
        })?;
        let claimed = put_if(
            self.client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item))
                // A record past its TTL but not yet swept by DynamoDB counts as gone.
                .condition_expression("attribute_not_exists(pk) OR #ttl < :now")
                .expression_attribute_names("#ttl", keys::TTL)
                .expression_attribute_values(":now", AttributeValue::N(Timestamp::now().epoch_seconds().to_string())),
        )
        .await?;
        if claimed {
            return Ok(Claim::New);
        }
        let item = self
            .get_item(&item_key)
            .await?
            .ok_or_else(|| StoreError::Unavailable("idempotency record vanished; retry".into()))?;
        let recorded: IdempotencyItem = from_item(item)?;
        let event = serde_json::from_str(&recorded.event).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(Claim::Existing(event))
    }
}

// ----- connections -----------------------------------------------------------------------

#[async_trait]
impl ConnectionStore for DynamoTable {
    async fn add(&self, connection: &Connection) -> Result<(), StoreError> {
        let id = &connection.connection_id;
        let keys = [
            keys::connection_meta(id),
            keys::user_connection(&connection.username, id),
            keys::broadcast_connection(id),
        ];
        let mut items = Vec::with_capacity(keys.len());
        for key in keys {
            let item = to_item(&ConnectionItem {
                pk: key.pk,
                sk: key.sk,
                kind: "connection".into(),
                connection_id: id.clone(),
                username: connection.username.clone(),
                connected_at: connection.connected_at,
                ttl: connection.expires_at.epoch_seconds(),
            })?;
            items.push(self.put(item, None)?);
        }
        match self.transact(items).await? {
            Ok(()) => Ok(()),
            Err(_) => Err(StoreError::Unavailable("connection items were not written".into())),
        }
    }

    async fn remove(&self, connection_id: &str) -> Result<Option<Connection>, StoreError> {
        let Some(item) = self.get_item(&keys::connection_meta(connection_id)).await? else {
            return Ok(None);
        };
        let connection = connection_of(from_item::<ConnectionItem>(item)?);
        // The owner comes from the connection's own item, never from the event being sent.
        let items = vec![
            self.delete(&keys::connection_meta(connection_id))?,
            self.delete(&keys::user_connection(&connection.username, connection_id))?,
            self.delete(&keys::broadcast_connection(connection_id))?,
        ];
        match self.transact(items).await? {
            Ok(()) => Ok(Some(connection)),
            Err(_) => Err(StoreError::Unavailable("connection items were not removed".into())),
        }
    }

    async fn of_user(&self, username: &Username) -> Result<Vec<Connection>, StoreError> {
        self.query_connections(keys::user_pk(username), keys::CONNECTION_SK_PREFIX).await
    }

    async fn all(&self) -> Result<Vec<Connection>, StoreError> {
        self.query_connections(keys::ALL_CONNECTIONS_PK.to_owned(), keys::CONNECTION_SK_PREFIX).await
    }
}
