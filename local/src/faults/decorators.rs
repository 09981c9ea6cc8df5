//! The adapters of `save-note`, `notify` and `broadcast` under a fault plan: each call may fail, be slow, or go
//! through, as the plan draws it, and what was injected is counted by AWS API.

use std::sync::Arc;

use async_trait::async_trait;
use notes_core::domain::events::NoteEvent;
use notes_core::domain::lifecycle::{FailedNote, NoteState, OwnNote, Provenance, Tombstone};
use notes_core::domain::{Note, NoteId, Timestamp, Username};
use notes_core::ports::{
    ChangeOutcome, Connection, ConnectionPusher, ConnectionStore, DismissOutcome, EventPublisher, FailureOutcome,
    NoteStore, Page, PageRequest, PublishError, PushError, SaveOutcome, StoreError,
};

use super::marker::{FaultSwitch, poisoned};
use super::plan::{Drawn, Faults};

const PUT_ITEM: &str = "DynamoDB:PutItem";
const TRANSACT_WRITE: &str = "DynamoDB:TransactWriteItems";
const GET_ITEM: &str = "DynamoDB:GetItem";
const QUERY: &str = "DynamoDB:Query";

/// The table of `save-note` under local fault injection: the poison marker, when its switch is
/// given (a marked note fails to save while it is on), then the fault plan's draw on every call,
/// when a plan is given (named by the API the adapter calls).
pub struct FaultyNoteStore {
    inner: Arc<dyn NoteStore>,
    marker: Option<FaultSwitch>,
    plan: Option<Arc<Faults>>,
}

impl FaultyNoteStore {
    pub fn new(inner: Arc<dyn NoteStore>, marker: Option<FaultSwitch>, plan: Option<Arc<Faults>>) -> Self {
        Self { inner, marker, plan }
    }

    async fn table_call(&self, api: &str) -> Result<(), StoreError> {
        match &self.plan {
            Some(faults) => faults.table_call(api).await,
            None => Ok(()),
        }
    }
}

#[async_trait]
impl NoteStore for FaultyNoteStore {
    async fn save_new(&self, note: &Note, made_by: &Provenance) -> Result<SaveOutcome, StoreError> {
        if let Some(err) = self.marker.as_ref().and_then(|switch| poisoned(switch, note)) {
            return Err(err);
        }
        self.table_call(PUT_ITEM).await?;
        self.inner.save_new(note, made_by).await
    }

    async fn record_failure(&self, failed: &FailedNote, made_by: &Provenance) -> Result<FailureOutcome, StoreError> {
        self.table_call(PUT_ITEM).await?;
        self.inner.record_failure(failed, made_by).await
    }

    async fn get(&self, owner: &Username, note_id: NoteId) -> Result<Option<Note>, StoreError> {
        self.table_call(GET_ITEM).await?;
        self.inner.get(owner, note_id).await
    }

    async fn state(&self, owner: &Username, note_id: NoteId) -> Result<Option<NoteState>, StoreError> {
        self.table_call(GET_ITEM).await?;
        self.inner.state(owner, note_id).await
    }

    async fn list_by_owner(&self, owner: &Username, page: PageRequest) -> Result<Page<OwnNote>, StoreError> {
        self.table_call(QUERY).await?;
        self.inner.list_by_owner(owner, page).await
    }

    async fn list_public(&self, page: PageRequest) -> Result<Page<Note>, StoreError> {
        self.table_call(QUERY).await?;
        self.inner.list_public(page).await
    }

    async fn replace(&self, before: &Note, after: &Note, made_by: &Provenance) -> Result<ChangeOutcome, StoreError> {
        self.table_call(PUT_ITEM).await?;
        self.inner.replace(before, after, made_by).await
    }

    async fn delete(
        &self,
        note: &Note,
        tombstone: &Tombstone,
        made_by: &Provenance,
    ) -> Result<ChangeOutcome, StoreError> {
        self.table_call(PUT_ITEM).await?;
        self.inner.delete(note, tombstone, made_by).await
    }

    async fn dismiss(
        &self,
        owner: &Username,
        note_id: NoteId,
        tombstone_until: Timestamp,
        made_by: &Provenance,
    ) -> Result<DismissOutcome, StoreError> {
        self.table_call(PUT_ITEM).await?;
        self.inner.dismiss(owner, note_id, tombstone_until, made_by).await
    }

    async fn was_deleted(&self, owner: &Username, note_id: NoteId) -> Result<bool, StoreError> {
        self.table_call(GET_ITEM).await?;
        self.inner.was_deleted(owner, note_id).await
    }
}

/// The connection items `notify` and `broadcast` read (and remove on a 410), under a fault plan.
pub struct PlannedConnectionStore {
    inner: Arc<dyn ConnectionStore>,
    faults: Arc<Faults>,
}

impl PlannedConnectionStore {
    pub fn new(inner: Arc<dyn ConnectionStore>, faults: Arc<Faults>) -> Self {
        Self { inner, faults }
    }
}

#[async_trait]
impl ConnectionStore for PlannedConnectionStore {
    async fn add(&self, connection: &Connection) -> Result<(), StoreError> {
        self.faults.table_call(TRANSACT_WRITE).await?;
        self.inner.add(connection).await
    }

    async fn remove(&self, connection_id: &str) -> Result<Option<Connection>, StoreError> {
        self.faults.table_call(GET_ITEM).await?;
        self.inner.remove(connection_id).await
    }

    async fn of_user(&self, username: &Username) -> Result<Vec<Connection>, StoreError> {
        self.faults.table_call(QUERY).await?;
        self.inner.of_user(username).await
    }

    async fn in_shard(&self, shard: u32) -> Result<Vec<Connection>, StoreError> {
        self.faults.table_call(QUERY).await?;
        self.inner.in_shard(shard).await
    }
}

/// `save-note`'s bus under a fault plan: `PutEvents` fails outright, or answers
/// `FailedEntryCount > 0`.
pub struct PlannedPublisher {
    inner: Arc<dyn EventPublisher>,
    faults: Arc<Faults>,
}

impl PlannedPublisher {
    pub fn new(inner: Arc<dyn EventPublisher>, faults: Arc<Faults>) -> Self {
        Self { inner, faults }
    }
}

#[async_trait]
impl EventPublisher for PlannedPublisher {
    async fn publish(&self, events: &[NoteEvent]) -> Result<(), PublishError> {
        const API: &str = "EventBridge:PutEvents";
        self.faults.maybe_slow(API).await;
        let plan = self.faults.plan();
        match self.faults.draw(plan.put_events_unavailable, plan.put_events_rejected) {
            Drawn::First => {
                self.faults.record(format!("{API} failed"));
                Err(PublishError::Unavailable("InternalException (local fault plan)".into()))
            }
            Drawn::Second => {
                self.faults.record(format!("{API} FailedEntryCount > 0"));
                Err(PublishError::Rejected {
                    failed: events.len(),
                    reason: "ThrottlingException (local fault plan)".into(),
                })
            }
            Drawn::None => self.inner.publish(events).await,
        }
    }
}

/// Drops a live WebSocket connection, as the client's network going away would.
pub trait ConnectionDropper: Send + Sync {
    fn drop_connection(&self, connection_id: &str);
}

/// `notify`'s Management API under a fault plan: `PostToConnection` answers a 500, or finds the
/// connection gone (and then it is: the local API Gateway drops it, so the 410 is true).
pub struct PlannedPusher {
    inner: Arc<dyn ConnectionPusher>,
    faults: Arc<Faults>,
    dropper: Arc<dyn ConnectionDropper>,
}

impl PlannedPusher {
    pub fn new(inner: Arc<dyn ConnectionPusher>, faults: Arc<Faults>, dropper: Arc<dyn ConnectionDropper>) -> Self {
        Self { inner, faults, dropper }
    }
}

#[async_trait]
impl ConnectionPusher for PlannedPusher {
    async fn push(&self, connection_id: &str, payload: &[u8]) -> Result<(), PushError> {
        const API: &str = "ApiGatewayManagement:PostToConnection";
        self.faults.maybe_slow(API).await;
        let plan = self.faults.plan();
        match self.faults.draw(plan.post_to_connection_5xx, plan.post_to_connection_gone) {
            Drawn::First => {
                self.faults.record(format!("{API} 500"));
                Err(PushError::Unavailable("500 InternalServerErrorException (local fault plan)".into()))
            }
            Drawn::Second => {
                self.faults.record(format!("{API} 410"));
                self.dropper.drop_connection(connection_id);
                Err(PushError::Gone)
            }
            Drawn::None => self.inner.push(connection_id, payload).await,
        }
    }

    async fn is_open(&self, connection_id: &str) -> Result<bool, PushError> {
        self.faults.maybe_slow("ApiGatewayManagement:GetConnection").await;
        self.inner.is_open(connection_id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults::{FaultPlan, TRANSIENT_FAULT_MARKER};

    #[tokio::test]
    async fn a_throttled_call_never_reaches_the_table_and_is_counted() {
        let table = Arc::new(notes_core::adapters::fakes::InMemoryTable::default());
        let faults = Faults::new(FaultPlan { table_throttled: 1.0, ..FaultPlan::from_json(r#"{"seed":1}"#).unwrap() });
        let store = FaultyNoteStore::new(table.clone(), None, Some(faults.clone()));
        let note = notes_core::adapters::fakes::note("alice", "hello", false);
        let err = store.save_new(&note, &Provenance::request("a test")).await.unwrap_err();
        assert!(err.is_transient());
        assert_eq!(faults.injected().get("DynamoDB:PutItem throttled"), Some(&1));
        faults.set(false);
        assert!(store.get(&note.username, note.note_id).await.unwrap().is_none(), "the throttled save wrote nothing");
    }

    #[tokio::test]
    async fn a_marked_note_fails_to_save_while_the_switch_is_on_and_saves_once_it_is_off() {
        let table = Arc::new(notes_core::adapters::fakes::InMemoryTable::default());
        let switch = FaultSwitch::new(true);
        let store = FaultyNoteStore::new(table.clone(), Some(switch.clone()), None);
        let note = notes_core::adapters::fakes::note("alice", &format!("poison {TRANSIENT_FAULT_MARKER}"), false);
        assert!(store.save_new(&note, &Provenance::request("a test")).await.unwrap_err().is_transient());
        assert!(store.get(&note.username, note.note_id).await.unwrap().is_none());
        switch.set(false);
        assert_eq!(store.save_new(&note, &Provenance::request("a test")).await.unwrap(), SaveOutcome::Saved);
    }
}
