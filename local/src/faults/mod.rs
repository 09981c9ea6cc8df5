//! The local stack's fault injection, for watching retries, duplicates and the DLQ happen for real.
//!
//! Two independent things live here, both only in the local stack (no deployed function contains
//! them: the decorators wrap adapters inside `notes-local`, never inside a function's crate):
//!
//! - the **poison marker** ([`FaultSwitch`], [`FaultyNoteStore`], `--fault-injection`), below;
//! - a **fault plan** ([`FaultPlan`], `--fault-plan PLAN`): faults drawn from a seeded generator on
//!   every AWS call of the functions a queue or a rule invokes (DynamoDB throttling, `PutEvents`
//!   failing or answering `FailedEntryCount > 0`, `PostToConnection` 5xx or 410, slow calls),
//!   duplicate SQS deliveries and queue invocations that die mid-batch
//!   ([`crate::event_source_mapping`]).
//!
//! Both reach the functions through one [`FaultHook`] on the ports they are built with.
//!
//! The marker:
//!
//! Started with `--fault-injection`, the stack wraps `save-note`'s table adapter so that a note
//! whose content contains [`TRANSIENT_FAULT_MARKER`] fails to save with a transient error, every
//! time: `save-note` reports it in `batchItemFailures`, SQS delivers it again after the
//! visibility timeout, and after the queue's `maxReceiveCount` receives its redrive policy moves it to the
//! dead-letter queue. [`FaultSwitch`] turns it off while the stack runs, as fixing the cause
//! would, so a redrive of the DLQ can then succeed. This lives only in the local stack; no
//! deployed function contains it.

mod decorators;
mod hook;
mod marker;
mod plan;

pub use decorators::{ConnectionDropper, FaultyNoteStore, PlannedConnectionStore, PlannedPublisher, PlannedPusher};
pub use hook::FaultHook;
pub use marker::{FaultSwitch, TRANSIENT_FAULT_MARKER};
pub use plan::{FaultPlan, Faults, PRESETS};
