//! Connections: three items per open WebSocket connection, written and removed together, each
//! with the TTL API Gateway's 2-hour limit gives it: `CONNECTION#{id}` / `META` (who owns it),
//! `USER#{owner}` / `CONNECTION#{id}` (the owner's connections) and `CONNECTIONS#{shard}` /
//! `CONNECTION#{id}` (every connection, for the public feed, over `table.connectionShards`
//! partitions).

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};

use super::{DynamoTable, Item, from_item, to_item, unavailable};
use crate::adapters::keys;
use crate::domain::{Timestamp, Username};
use crate::ports::{Connection, ConnectionStore, StoreError};

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

/// The three items of a connection, in the order they are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ConnectionItemKind {
    Meta,
    OfUser,
    ForBroadcast,
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

impl DynamoTable {
    /// The connection items under `pk`, read strongly consistent when `consistent` (a user's
    /// own, counted at a handshake: one just written by the handshake before counts).
    async fn query_connections(
        &self,
        pk: String,
        sk_prefix: &str,
        consistent: bool,
    ) -> Result<Vec<Connection>, StoreError> {
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
                .consistent_read(consistent)
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

#[async_trait]
impl ConnectionStore for DynamoTable {
    async fn add(&self, connection: &Connection) -> Result<(), StoreError> {
        let id = &connection.connection_id;
        let mut tx = self.transaction();
        for (kind, key) in [
            (ConnectionItemKind::Meta, keys::connection_meta(id)),
            (ConnectionItemKind::OfUser, keys::user_connection(&connection.username, id)),
            (ConnectionItemKind::ForBroadcast, keys::broadcast_connection(id)),
        ] {
            let item = to_item(&ConnectionItem {
                pk: key.pk,
                sk: key.sk,
                kind: "connection".into(),
                connection_id: id.clone(),
                username: connection.username.clone(),
                connected_at: connection.connected_at,
                ttl: connection.expires_at.epoch_seconds(),
            })?;
            tx.put(kind, item, None, None)?;
        }
        match tx.run(&self.client).await? {
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
        let mut tx = self.transaction();
        tx.delete(ConnectionItemKind::Meta, &keys::connection_meta(connection_id), None)?;
        tx.delete(ConnectionItemKind::OfUser, &keys::user_connection(&connection.username, connection_id), None)?;
        tx.delete(ConnectionItemKind::ForBroadcast, &keys::broadcast_connection(connection_id), None)?;
        match tx.run(&self.client).await? {
            Ok(()) => Ok(Some(connection)),
            Err(_) => Err(StoreError::Unavailable("connection items were not removed".into())),
        }
    }

    async fn of_user(&self, username: &Username) -> Result<Vec<Connection>, StoreError> {
        self.query_connections(keys::user_pk(username), keys::CONNECTION_SK_PREFIX, true).await
    }

    async fn in_shard(&self, shard: u32) -> Result<Vec<Connection>, StoreError> {
        self.query_connections(keys::broadcast_shard(shard), keys::CONNECTION_SK_PREFIX, false).await
    }
}
