//! The single table, through `aws-sdk-dynamodb` and `serde_dynamo`. One module per kind of item
//! it stores ([`notes`], [`users`], [`idempotency`], [`connections`]), each implementing its
//! port. Only GetItem, Query, PutItem, DeleteItem and TransactWriteItems are used: no Scan.
//!
//! A transaction names each of its items ([`Transaction`]), so a cancelled one answers which
//! named condition failed, never a position in a list of reasons.

mod connections;
mod idempotency;
mod notes;
pub mod stream;
mod users;

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_dynamodb::operation::put_item::builders::PutItemFluentBuilder;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem};
use serde::{Deserialize, Serialize};

use crate::adapters::keys::{self, Key};
use crate::ports::StoreError;

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

/// Error codes of requests DynamoDB will refuse however often they are sent.
const PERMANENT_ERRORS: [&str; 5] = [
    "ValidationException",
    "ItemCollectionSizeLimitExceededException",
    "AccessDeniedException",
    "ResourceNotFoundException",
    "UnrecognizedClientException",
];

/// Cancellation reasons of a transaction that retrying will not get past (a failed condition is
/// an answer, not an error, and is read by the caller).
const PERMANENT_CANCELLATIONS: [&str; 2] = ["ValidationError", "ItemCollectionSizeLimitExceeded"];

/// A failed call, classified: refused for good ([`StoreError::Rejected`]) or worth retrying
/// ([`StoreError::Unavailable`]: throttling, timeouts, 5xx, transaction conflicts, the network).
fn unavailable<E: std::error::Error + ProvideErrorMetadata + 'static>(err: E) -> StoreError {
    let permanent = err.code().is_some_and(|code| PERMANENT_ERRORS.contains(&code));
    let text = DisplayErrorContext(err).to_string();
    if permanent { StoreError::Rejected(text) } else { StoreError::Unavailable(text) }
}

fn built<T, E: std::fmt::Display>(result: Result<T, E>) -> Result<T, StoreError> {
    result.map_err(|e| StoreError::Corrupt(format!("request could not be built: {e}")))
}

/// One `TransactWriteItems`, each item named by a `L` that says what its condition stands for.
struct Transaction<L> {
    table: String,
    items: Vec<(L, TransactWriteItem)>,
}

impl<L: Copy> Transaction<L> {
    fn new(table: &str) -> Self {
        Self { table: table.to_owned(), items: Vec::new() }
    }

    fn put(&mut self, label: L, item: Item, condition: Option<&str>, values: Option<Item>) -> Result<(), StoreError> {
        let put = built(
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .set_condition_expression(condition.map(str::to_owned))
                .set_expression_attribute_values(values)
                .build(),
        )?;
        self.items.push((label, TransactWriteItem::builder().put(put).build()));
        Ok(())
    }

    fn delete(&mut self, label: L, key: &Key, condition: Option<(&str, Option<Item>)>) -> Result<(), StoreError> {
        let (condition, values) = condition.map_or((None, None), |(c, v)| (Some(c.to_owned()), v));
        let delete = built(
            Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key_of(key)))
                .set_condition_expression(condition)
                .set_expression_attribute_values(values)
                .build(),
        )?;
        self.items.push((label, TransactWriteItem::builder().delete(delete).build()));
        Ok(())
    }

    /// Runs it: `Ok(Ok(()))` when written, `Ok(Err(labels))` when cancelled because the conditions
    /// of those items failed, `Err` when it could not run (throttling, a conflicting transaction).
    async fn run(self, client: &Client) -> Result<Result<(), Vec<L>>, StoreError> {
        let (labels, items): (Vec<L>, Vec<TransactWriteItem>) = self.items.into_iter().unzip();
        match client.transact_write_items().set_transact_items(Some(items)).send().await {
            Ok(_) => Ok(Ok(())),
            Err(err) => {
                let err = err.into_service_error();
                let TransactWriteItemsError::TransactionCanceledException(cancelled) = &err else {
                    return Err(unavailable(err));
                };
                let reasons = cancelled.cancellation_reasons();
                if reasons.iter().any(|r| r.code().is_some_and(|code| PERMANENT_CANCELLATIONS.contains(&code))) {
                    return Err(StoreError::Rejected(DisplayErrorContext(err).to_string()));
                }
                let failed: Vec<L> = reasons
                    .iter()
                    .zip(&labels)
                    .filter(|(reason, _)| reason.code() == Some("ConditionalCheckFailed"))
                    .map(|(_, label)| *label)
                    .collect();
                if failed.is_empty() { Err(unavailable(err)) } else { Ok(Err(failed)) }
            }
        }
    }
}

impl DynamoTable {
    fn transaction<L: Copy>(&self) -> Transaction<L> {
        Transaction::new(&self.table)
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
}
