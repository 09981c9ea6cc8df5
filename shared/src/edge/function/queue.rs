//! The SQS trigger, written once: Lambda's event source mapping hands a batch; each record is
//! handled on its own, concurrently with a bound, by the function's [`QueueFunction::handle`];
//! the answer lists in `batchItemFailures` only the records to retry, so one bad message never
//! fails its batch-mates. A record that fails its last receive (the queue's declared
//! `maxReceiveCount`) goes to the dead-letter queue: the function hears of it first, through
//! [`QueueFunction::dead_lettered`]. Records not started while too little of the invocation's
//! time is left are reported too, untouched, so a batch never runs past its deadline and loses
//! its answer.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use futures::StreamExt as _;
use tokio::time::Instant;
use tracing::Instrument as _;

use super::{Function, QueueHandler, timeout_of};
use crate::telemetry::{self, PerNote, metric};
use crate::topology::topology;

/// What became of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    /// Done with: deleted from the queue.
    Done,
    /// Worth another try (the reason is logged): reported in `batchItemFailures`.
    Retry(String),
}

/// A function an SQS event source mapping invokes: it handles one record.
#[async_trait]
pub trait QueueFunction: Function {
    /// Records of one batch handled at once; the rest wait for a free slot.
    const MAX_CONCURRENT_RECORDS: usize;

    /// The invocation's one metric line, filled by its records and written once at its end.
    fn batch_metric() -> PerNote;

    /// Handles one record, inside a span with its `messageId`, in which it records the `noteId`
    /// and `correlationId` it finds.
    async fn handle(&self, record: &SqsMessage, metric: &PerNote) -> Disposition;

    /// `record` failed its last receive and goes to the dead-letter queue, for `reason`.
    async fn dead_lettered(&self, _record: &SqsMessage, _reason: &str) {}

    /// Of an invocation's `timeout`, what is kept back when starting a record: no record starts
    /// with less than this left, so each started record, its calls bounded by their operation
    /// timeout ([`super::operation_timeout`]), ends before Lambda's deadline. By default three
    /// operations: a write, its publish, and the dead letter's announcement.
    fn reserve(timeout: Duration) -> Duration {
        3 * super::operation_timeout(timeout)
    }
}

/// A [`QueueFunction`] as its event source mapping calls it: a batch at a time.
pub(super) struct Batches<F> {
    function: Arc<F>,
}

impl<F> Batches<F> {
    pub(super) fn new(function: Arc<F>) -> Self {
        Self { function }
    }
}

#[async_trait]
impl<F: QueueFunction> QueueHandler for Batches<F> {
    async fn call(&self, batch: SqsEvent, deadline: Instant) -> SqsBatchResponse {
        handle_batch(&*self.function, batch, deadline).await
    }
}

/// Hands `batch` to `function` as its event source mapping does, to be answered by `deadline`.
pub async fn handle_batch<F: QueueFunction>(function: &F, batch: SqsEvent, deadline: Instant) -> SqsBatchResponse {
    let metric = &F::batch_metric();
    let reserve = F::reserve(timeout_of(F::NAME));
    let failures: Vec<BatchItemFailure> = futures::stream::iter(batch.records)
        .map(|record| async move {
            let id = record.message_id.clone().unwrap_or_default();
            let span = tracing::info_span!(
                "record",
                messageId = %id,
                noteId = tracing::field::Empty,
                correlationId = tracing::field::Empty,
            );
            let disposition = if Instant::now() + reserve > deadline {
                Disposition::Retry("not started: the invocation's time was running out".into())
            } else {
                function.handle(&record, metric).instrument(span.clone()).await
            };
            let Disposition::Retry(reason) = disposition else {
                return None;
            };
            if span.in_scope(|| report_retry::<F>(&record, &reason)) {
                function.dead_lettered(&record, &reason).instrument(span).await;
            }
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            Some(failure)
        })
        .buffer_unordered(F::MAX_CONCURRENT_RECORDS)
        .filter_map(|failure| async move { failure })
        .collect()
        .await;
    metric.emit();
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failures;
    response
}

/// Logs and counts a record handed back to SQS; `true` when this was its last receive, as the
/// declaration of the function's queue counts them (`maxReceiveCount`).
fn report_retry<F: Function>(record: &SqsMessage, reason: &str) -> bool {
    let receives: u32 = record.attributes.get("ApproximateReceiveCount").and_then(|v| v.parse().ok()).unwrap_or(1);
    let max_receives = topology().queue_of(F::NAME).map_or(1, |(_, queue)| queue.max_receive_count);
    let last_chance = receives >= max_receives;
    let id = record.message_id.as_deref().unwrap_or_default();
    if last_chance {
        tracing::error!(
            messageId = id,
            receives,
            reason,
            "record failed its last receive; it goes to the dead-letter queue"
        );
        telemetry::count(metric::RECORDS_DEAD_LETTERED, &[("messageId", id)]);
    } else {
        tracing::warn!(messageId = id, receives, reason, "record failed; SQS will deliver it again");
        telemetry::count(metric::RECORDS_RETRIED, &[("messageId", id)]);
    }
    last_chance
}
