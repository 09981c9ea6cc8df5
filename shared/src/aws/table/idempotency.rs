//! Idempotency records: `USER#{owner}` / `IDEMPOTENCY#{key}`, the first request's `note-created`
//! event, with a TTL.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};

use super::{DynamoTable, from_item, put_if, to_item};
use crate::domain::{IdempotencyKey, Timestamp, Username};
use crate::events::NoteEvent;
use crate::keys;
use crate::ports::{Claim, IdempotencyStore, StoreError};

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
