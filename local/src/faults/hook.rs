//! The one hook through which fault injection reaches the functions: it wraps the ports of the
//! functions an event source or a rule invokes (`queue`, `rule` and `stream` triggers, as declared), the
//! asynchronous part of the pipeline whose retries, dead letters and duplicates the faults are
//! there to exercise. API functions answer their caller directly and are left alone.

use std::sync::{Arc, OnceLock};

use notes_core::edge::function::PortHook;
use notes_core::ports::{ConnectionPusher, ConnectionStore, EventPublisher, NoteStore};
use notes_core::topology::{Trigger, topology};

use super::decorators::{ConnectionDropper, FaultyNoteStore, PlannedConnectionStore, PlannedPublisher, PlannedPusher};
use super::marker::FaultSwitch;
use super::plan::Faults;

/// The poison marker and the fault plan, on the asynchronous functions' ports.
pub struct FaultHook {
    marker: Option<FaultSwitch>,
    plan: Option<Arc<Faults>>,
    /// The WebSocket API, which a planned 410 closes the connection on; set once it exists.
    dropper: Arc<OnceLock<Arc<dyn ConnectionDropper>>>,
}

impl FaultHook {
    pub fn new(marker: Option<FaultSwitch>, plan: Option<Arc<Faults>>) -> Self {
        Self { marker, plan, dropper: Arc::default() }
    }

    /// Where the WebSocket API is to be given, once built, to drop a connection a planned 410 names.
    pub fn dropper(&self) -> Arc<OnceLock<Arc<dyn ConnectionDropper>>> {
        self.dropper.clone()
    }

    fn applies_to(function: &str) -> bool {
        topology()
            .functions
            .get(function)
            .is_some_and(|f| matches!(f.trigger, Trigger::Queue(_) | Trigger::Rule(_) | Trigger::Stream(_)))
    }
}

/// Drops a connection through the API once it has been given.
struct LateDropper(Arc<OnceLock<Arc<dyn ConnectionDropper>>>);

impl ConnectionDropper for LateDropper {
    fn drop_connection(&self, connection_id: &str) {
        if let Some(dropper) = self.0.get() {
            dropper.drop_connection(connection_id);
        }
    }
}

impl PortHook for FaultHook {
    fn notes(&self, function: &'static str, port: Arc<dyn NoteStore>) -> Arc<dyn NoteStore> {
        if !Self::applies_to(function) || (self.marker.is_none() && self.plan.is_none()) {
            return port;
        }
        Arc::new(FaultyNoteStore::new(port, self.marker.clone(), self.plan.clone()))
    }

    fn connections(&self, function: &'static str, port: Arc<dyn ConnectionStore>) -> Arc<dyn ConnectionStore> {
        match &self.plan {
            Some(faults) if Self::applies_to(function) => Arc::new(PlannedConnectionStore::new(port, faults.clone())),
            _ => port,
        }
    }

    fn events(&self, function: &'static str, port: Arc<dyn EventPublisher>) -> Arc<dyn EventPublisher> {
        match &self.plan {
            Some(faults) if Self::applies_to(function) => Arc::new(PlannedPublisher::new(port, faults.clone())),
            _ => port,
        }
    }

    fn pusher(&self, function: &'static str, port: Arc<dyn ConnectionPusher>) -> Arc<dyn ConnectionPusher> {
        match &self.plan {
            Some(faults) if Self::applies_to(function) => {
                Arc::new(PlannedPusher::new(port, faults.clone(), Arc::new(LateDropper(self.dropper.clone()))))
            }
            _ => port,
        }
    }
}
