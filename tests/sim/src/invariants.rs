//! The invariants, each named, checked at every step or at quiescence. (Two more are checked
//! where they can be seen: "no user receives what they may not read" at each push, and "every
//! event conforms to its schema" at each `PutEvents`; see `services`.)

use notes_core::domain::lifecycle::NoteState;

use crate::{Sim, Socket, View};

/// An invariant broken at a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub invariant: &'static str,
    pub step: usize,
    pub detail: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "step {}: {}: {}", self.step, self.invariant, self.detail)
    }
}

pub const STORED_ONCE_OR_TOLD: &str = "an accepted note is stored or its owner told it failed (one or the other)";
pub const DELETED_STAYS_DELETED: &str = "a deleted or dismissed note is never stored again";
pub const NEVER_OLDER: &str = "what a client shows of a note is never older than what it showed before";
pub const CHANGES_REACH_OWNER: &str = "every committed change reaches its owner's open connections";
pub const ITEMS_GO_WITH_SOCKET: &str = "a connection's items are removed only once its socket is gone";
pub const FEED_WHILE_PUBLIC: &str = "a note is in the public feed exactly while it is public";

/// The invariants that hold after every step.
pub async fn every_step(sim: &mut Sim) -> Vec<crate::Violation> {
    let mut found = Vec::new();
    for note in &sim.posted {
        if sim.deleted.contains(&note.note_id)
            && let Some(NoteState::Stored(stored)) = sim.state_of(note).await
        {
            found.push(sim.violation(DELETED_STAYS_DELETED, format!("{} is stored again: {stored:?}", note.note_id)));
        }
    }
    let items = sim.connection_items().await;
    for gone in sim.known_connections.difference(&items) {
        if !sim.socket_gone(gone) {
            found.push(sim.violation(ITEMS_GO_WITH_SOCKET, format!("{gone}'s items were removed while it is open")));
        }
    }
    sim.known_connections = items;
    for client in &sim.clients {
        for (note_id, versions) in &client.shown {
            if versions.windows(2).any(|w| w[1] < w[0]) {
                found.push(sim.violation(
                    NEVER_OLDER,
                    format!("{} showed {note_id} at versions {versions:?}", client.connection_id),
                ));
            }
        }
    }
    found
}

/// The invariants that hold once everything has drained.
pub async fn at_quiescence(sim: &Sim) -> Vec<crate::Violation> {
    let mut found = Vec::new();
    // The notes whose key ever held something: stored, failed, or given up.
    let settled: std::collections::HashSet<String> =
        sim.table.transitions().iter().filter_map(|t| t.after.as_ref().map(|s| s.note_id().to_string())).collect();
    for note in &sim.posted {
        let state = sim.state_of(note).await;
        let by_owner = sim.deleted.contains(&note.note_id);
        match &state {
            // Nothing there: expired (a failure or a tombstone past its ttl, swept) is fine;
            // never anything is a note lost.
            None if !settled.contains(&note.note_id) => {
                found.push(sim.violation(STORED_ONCE_OR_TOLD, format!("{} was never stored nor failed", note.note_id)))
            }
            None => {}
            Some(NoteState::Deleted(_)) if !by_owner => {
                found.push(sim.violation(
                    STORED_ONCE_OR_TOLD,
                    format!("{} is gone though its owner never deleted it", note.note_id),
                ))
            }
            _ => {}
        }
        let changed_at = sim.last_change.get(&note.note_id).copied().unwrap_or(0);
        for client in sim.clients.iter().filter(|c| c.socket == Socket::Open && changed_at > c.opened_step) {
            if client.user == note.owner {
                let shown = client.notes.get(&note.note_id);
                let matches = match (&state, shown) {
                    (Some(NoteState::Stored(n)), Some(View::Saved { version, .. })) => *version == n.version,
                    (Some(NoteState::Failed(f)), Some(View::Failed { version, .. })) => *version == f.version,
                    (Some(NoteState::Deleted(_)), Some(View::Deleted)) => true,
                    (None, _) => true,
                    _ => false,
                };
                if !matches {
                    found.push(sim.violation(
                        CHANGES_REACH_OWNER,
                        format!(
                            "{} shows {} as {shown:?}; the table holds {state:?}",
                            client.connection_id, note.note_id
                        ),
                    ));
                }
            } else {
                let public_now = match &state {
                    Some(NoteState::Stored(n)) if n.is_public => Some(n.version),
                    _ => None,
                };
                let in_feed = client.feed.get(&note.note_id).copied();
                if in_feed != public_now {
                    found.push(sim.violation(
                        FEED_WHILE_PUBLIC,
                        format!(
                            "{}'s feed has {} at {in_feed:?}; it is public at {public_now:?}",
                            client.connection_id, note.note_id
                        ),
                    ));
                }
            }
        }
    }
    found
}
