//! The poison marker: a note whose content holds [`TRANSIENT_FAULT_MARKER`] can never be saved
//! while the switch is on (applied by [`super::FaultyNoteStore`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use notes_core::domain::Note;
use notes_core::ports::StoreError;

pub const TRANSIENT_FAULT_MARKER: &str = "[[local-fault:transient]]";

/// Turns the injected faults on and off while the stack runs (an operator's fix, before a redrive).
#[derive(Clone, Debug)]
pub struct FaultSwitch(Arc<AtomicBool>);

impl FaultSwitch {
    pub fn new(on: bool) -> Self {
        FaultSwitch(Arc::new(AtomicBool::new(on)))
    }

    pub fn set(&self, on: bool) {
        self.0.store(on, Ordering::SeqCst);
    }

    pub fn is_on(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// The transient error a poisoned note meets on every save while the switch is on.
pub(super) fn poisoned(switch: &FaultSwitch, note: &Note) -> Option<StoreError> {
    (switch.is_on() && note.content.as_str().contains(TRANSIENT_FAULT_MARKER))
        .then(|| StoreError::Unavailable("ProvisionedThroughputExceededException (local fault injection)".into()))
}
