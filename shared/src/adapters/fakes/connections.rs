//! The connections of the in-memory table.

use async_trait::async_trait;

use super::InMemoryTable;
use crate::adapters::keys;
use crate::domain::{Timestamp, Username};
use crate::ports::{Connection, ConnectionStore, StoreError};

#[async_trait]
impl ConnectionStore for InMemoryTable {
    async fn add(&self, connection: &Connection) -> Result<(), StoreError> {
        self.check_available()?;
        let mut t = self.tables.lock().unwrap();
        t.connections.insert(connection.connection_id.clone(), connection.clone());
        t.writes += 1;
        Ok(())
    }

    async fn remove(&self, connection_id: &str) -> Result<Option<Connection>, StoreError> {
        self.check_available()?;
        Ok(self.tables.lock().unwrap().connections.remove(connection_id))
    }

    async fn of_user(&self, username: &Username) -> Result<Vec<Connection>, StoreError> {
        self.check_available()?;
        let now = Timestamp::now();
        let t = self.tables.lock().unwrap();
        // In key order, as a Query answers: the same order on every run.
        let mut found: Vec<Connection> =
            t.connections.values().filter(|c| &c.username == username && c.expires_at > now).cloned().collect();
        found.sort_by(|a, b| a.connection_id.cmp(&b.connection_id));
        Ok(found)
    }

    async fn in_shard(&self, shard: u32) -> Result<Vec<Connection>, StoreError> {
        self.check_available()?;
        let now = Timestamp::now();
        let t = self.tables.lock().unwrap();
        let mut found: Vec<Connection> = t
            .connections
            .values()
            .filter(|c| keys::connection_shard(&c.connection_id) == shard && c.expires_at > now)
            .cloned()
            .collect();
        found.sort_by(|a, b| a.connection_id.cmp(&b.connection_id));
        Ok(found)
    }
}
