//! The accounts of the in-memory table.

use async_trait::async_trait;

use super::InMemoryTable;
use crate::domain::Username;
use crate::ports::{StoreError, UserRecord, UserStore};

#[async_trait]
impl UserStore for InMemoryTable {
    async fn create(&self, user: &UserRecord) -> Result<bool, StoreError> {
        self.check_available()?;
        let mut t = self.tables.lock().unwrap();
        if t.users.contains_key(&user.username) {
            return Ok(false);
        }
        t.users.insert(user.username.clone(), user.clone());
        t.writes += 1;
        Ok(true)
    }

    async fn get(&self, username: &Username) -> Result<Option<UserRecord>, StoreError> {
        self.check_available()?;
        Ok(self.tables.lock().unwrap().users.get(username).cloned())
    }
}
