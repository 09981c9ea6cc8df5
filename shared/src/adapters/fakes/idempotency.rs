//! The idempotency records of the in-memory table.

use async_trait::async_trait;

use super::InMemoryTable;
use crate::domain::{IdempotencyKey, Timestamp, Username};
use crate::ports::{Claim, FirstRequest, IdempotencyStore, StoreError};

#[async_trait]
impl IdempotencyStore for InMemoryTable {
    async fn claim(
        &self,
        owner: &Username,
        key: &IdempotencyKey,
        first: &FirstRequest,
        _expires_at: Timestamp,
    ) -> Result<Claim, StoreError> {
        self.check_available()?;
        let mut t = self.tables.lock().unwrap();
        let slot = (owner.clone(), key.as_str().to_owned());
        if let Some(existing) = t.idempotency.get(&slot) {
            return Ok(Claim::Existing(existing.clone()));
        }
        t.idempotency.insert(slot, first.clone());
        t.writes += 1;
        Ok(Claim::New)
    }
}
