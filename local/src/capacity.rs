//! The capacity units the table's calls consume, as DynamoDB Local reports them: the cost
//! measurement's source for DynamoDB (`make cost`).
//!
//! The local stack gives every function's table client [`CapacityMeter::interceptor`]. It asks each
//! call for `ReturnConsumedCapacity = TOTAL` (the table and its index together), so the adapters
//! stay as they are deployed, and sums what comes back by API. A conditional write that is refused
//! reports no capacity, yet DynamoDB bills it (at least one write unit): those are counted apart,
//! as `refused`. DynamoDB Local under-reports a `TransactWriteItems` (2 units for three 1 KB items,
//! where DynamoDB bills 6); no note's path uses one any more, only connecting and disconnecting.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::ConfigBag;
use aws_sdk_dynamodb::config::{Intercept, SharedInterceptor};
use aws_sdk_dynamodb::operation::delete_item::{DeleteItemInput, DeleteItemOutput};
use aws_sdk_dynamodb::operation::get_item::{GetItemInput, GetItemOutput};
use aws_sdk_dynamodb::operation::put_item::{PutItemInput, PutItemOutput};
use aws_sdk_dynamodb::operation::query::{QueryInput, QueryOutput};
use aws_sdk_dynamodb::operation::transact_write_items::{TransactWriteItemsInput, TransactWriteItemsOutput};
use aws_sdk_dynamodb::operation::update_item::{UpdateItemInput, UpdateItemOutput};
use aws_sdk_dynamodb::types::{ConsumedCapacity, ReturnConsumedCapacity};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextMut, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use serde::Serialize;

/// What the calls of one API consumed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Consumed {
    /// Calls that answered.
    pub calls: u64,
    /// Capacity units they consumed (reads for GetItem and Query, writes for the rest).
    pub capacity_units: f64,
    /// Calls refused (a failed condition, or an error), which report no capacity.
    pub refused: u64,
}

/// The capacity consumed so far, by API (`PutItem`, `Query`, …).
#[derive(Clone, Debug, Default)]
pub struct CapacityMeter(Arc<Mutex<BTreeMap<String, Consumed>>>);

impl CapacityMeter {
    /// The interceptor to put on a table client.
    pub fn interceptor(&self) -> SharedInterceptor {
        SharedInterceptor::new(Meter(self.clone()))
    }

    pub fn snapshot(&self) -> BTreeMap<String, Consumed> {
        self.0.lock().expect("not poisoned").clone()
    }

    fn record(&self, api: &str, answered: Option<f64>) {
        let mut all = self.0.lock().expect("not poisoned");
        let entry = all.entry(api.to_owned()).or_default();
        match answered {
            Some(units) => {
                entry.calls += 1;
                entry.capacity_units += units;
            }
            None => entry.refused += 1,
        }
    }
}

#[derive(Debug)]
struct Meter(CapacityMeter);

fn units(consumed: Option<&ConsumedCapacity>) -> f64 {
    consumed.and_then(ConsumedCapacity::capacity_units).unwrap_or(0.0)
}

impl Intercept for Meter {
    fn name(&self) -> &'static str {
        "CapacityMeter"
    }

    fn modify_before_serialization(
        &self,
        context: &mut BeforeSerializationInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let input = context.input_mut();
        let total = Some(ReturnConsumedCapacity::Total);
        if let Some(i) = input.downcast_mut::<PutItemInput>() {
            i.return_consumed_capacity = total;
        } else if let Some(i) = input.downcast_mut::<GetItemInput>() {
            i.return_consumed_capacity = total;
        } else if let Some(i) = input.downcast_mut::<QueryInput>() {
            i.return_consumed_capacity = total;
        } else if let Some(i) = input.downcast_mut::<DeleteItemInput>() {
            i.return_consumed_capacity = total;
        } else if let Some(i) = input.downcast_mut::<UpdateItemInput>() {
            i.return_consumed_capacity = total;
        } else if let Some(i) = input.downcast_mut::<TransactWriteItemsInput>() {
            i.return_consumed_capacity = total;
        }
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let api = cfg.load::<Metadata>().map_or("unknown", Metadata::name).to_owned();
        let answered = match context.output_or_error() {
            Some(Ok(output)) => Some(if let Some(o) = output.downcast_ref::<PutItemOutput>() {
                units(o.consumed_capacity())
            } else if let Some(o) = output.downcast_ref::<GetItemOutput>() {
                units(o.consumed_capacity())
            } else if let Some(o) = output.downcast_ref::<QueryOutput>() {
                units(o.consumed_capacity())
            } else if let Some(o) = output.downcast_ref::<DeleteItemOutput>() {
                units(o.consumed_capacity())
            } else if let Some(o) = output.downcast_ref::<UpdateItemOutput>() {
                units(o.consumed_capacity())
            } else if let Some(o) = output.downcast_ref::<TransactWriteItemsOutput>() {
                o.consumed_capacity().iter().map(|c| units(Some(c))).sum()
            } else {
                0.0
            }),
            _ => None,
        };
        self.0.record(&api, answered);
        Ok(())
    }
}
