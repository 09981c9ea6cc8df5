//! Idempotency records: `USER#{owner}` / `IDEMPOTENCY#{key}`, the first request's `note-created`
//! envelope and the digest of its body, with a TTL. Under 1 KB whatever the note's size.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};

use super::{DynamoTable, from_item, put_if, to_item};
use crate::adapters::keys;
use crate::domain::events::Envelope;
use crate::domain::{IdempotencyKey, Timestamp, Username};
use crate::ports::{Claim, FirstRequest, IdempotencyStore, StoreError};

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct IdempotencyItem {
    pk: String,
    sk: String,
    kind: String,
    /// The envelope of the `note-created` the first request published, as JSON.
    envelope: String,
    body_digest: String,
    ttl: i64,
}

#[async_trait]
impl IdempotencyStore for DynamoTable {
    async fn claim(
        &self,
        owner: &Username,
        key: &IdempotencyKey,
        first: &FirstRequest,
        expires_at: Timestamp,
    ) -> Result<Claim, StoreError> {
        let item_key = keys::idempotency(owner, key);
        let item = to_item(&IdempotencyItem {
            pk: item_key.pk.clone(),
            sk: item_key.sk.clone(),
            kind: "idempotency".into(),
            envelope: serde_json::to_string(&first.envelope).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            body_digest: first.body_digest.clone(),
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
        let envelope: Envelope =
            serde_json::from_str(&recorded.envelope).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(Claim::Existing(FirstRequest { envelope, body_digest: recorded.body_digest }))
    }
}
