//! Accounts: `USER#{username}` / `PROFILE`, created once with a conditional put.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{DynamoTable, from_item, put_if, to_item};
use crate::adapters::keys;
use crate::domain::{Timestamp, Username};
use crate::ports::{StoreError, UserRecord, UserStore};

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
