//! The broadcast queue's message: one public event for the connections of one shard of the
//! connection list (`CONNECTIONS#{shard}`).
//!
//! `notify` sends one per shard for each event other users may hear of, and `broadcast` pushes
//! each to its shard. The message carries the event exactly as other users may see it
//! ([`crate::domain::events::NoteEvent::for_other_users`]), decided by `notify`: `broadcast` sends it on
//! verbatim and never adds to it. The owner's connections are skipped there, since `notify` sends
//! the owner the full event itself.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::{NoteId, Username};
use crate::topology::topology;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BroadcastMessage {
    /// The shard of the connection list to push to.
    pub shard: u32,
    /// The event's detail as other users may see it.
    pub detail: Value,
}

/// A broadcast message as `broadcast` reads it: its note and owner as typed fields.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedBroadcast {
    pub shard: u32,
    pub note_id: NoteId,
    /// The note's owner, whose connections `notify` serves.
    pub owner: Username,
    pub correlation_id: String,
    /// The version of the note the event shows (absent only on events older than versions).
    pub version: Option<u64>,
    /// Whether the detail carries the note's content (a public note's `note-saved` or `note-updated`).
    pub shows_content: bool,
    /// Pushed as it is.
    pub detail: Value,
}

/// A message body that is not a broadcast message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a broadcast message: {0}")]
pub struct InvalidBroadcast(pub String);

impl BroadcastMessage {
    /// One message per shard of the connection list, each carrying `detail`.
    pub fn for_every_shard(detail: &Value) -> Vec<BroadcastMessage> {
        (0..topology().table.connection_shards.max(1))
            .map(|shard| BroadcastMessage { shard, detail: detail.clone() })
            .collect()
    }

    /// Reads a queue message's body: a shard and a detail naming its note and the note's owner.
    pub fn parse(body: &str) -> Result<ReceivedBroadcast, InvalidBroadcast> {
        let message: BroadcastMessage = serde_json::from_str(body).map_err(|e| InvalidBroadcast(e.to_string()))?;
        let field = |name: &str| message.detail.get(name).and_then(Value::as_str);
        if !message.detail.is_object() {
            return Err(InvalidBroadcast("detail is not an object".into()));
        }
        let owner = field("username").ok_or_else(|| InvalidBroadcast("detail names no username".into()))?;
        let owner = Username::parse(owner).map_err(|e| InvalidBroadcast(format!("username: {e}")))?;
        let note_id = field("noteId").ok_or_else(|| InvalidBroadcast("detail names no noteId".into()))?;
        let note_id = NoteId::parse(note_id).map_err(|e| InvalidBroadcast(format!("noteId: {e}")))?;
        let correlation_id = field("correlationId").unwrap_or_default().to_owned();
        let version = message.detail.get("version").and_then(Value::as_u64);
        let shows_content = message.detail.get("content").is_some();
        Ok(ReceivedBroadcast {
            shard: message.shard,
            note_id,
            owner,
            correlation_id,
            version,
            shows_content,
            detail: message.detail,
        })
    }

    pub fn to_body(&self) -> String {
        serde_json::to_string(self).expect("a broadcast message serializes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn one_message_goes_to_each_shard() {
        let messages = BroadcastMessage::for_every_shard(&json!({"username": "alice", "noteId": NOTE_ID}));
        let shards: Vec<u32> = messages.iter().map(|m| m.shard).collect();
        assert_eq!(shards, (0..topology().table.connection_shards).collect::<Vec<_>>());
    }

    const NOTE_ID: &str = "01890a5d-ac96-774b-bcce-b302099a8057";

    #[test]
    fn a_message_reads_back_as_sent_with_its_note_and_owner_typed() {
        let detail = json!({"username": "alice", "noteId": NOTE_ID, "correlationId": "req-1"});
        let sent = BroadcastMessage { shard: 3, detail: detail.clone() };
        let received = BroadcastMessage::parse(&sent.to_body()).unwrap();
        assert_eq!(received.shard, 3);
        assert_eq!(received.note_id, NoteId::parse(NOTE_ID).unwrap());
        assert_eq!(received.owner.as_str(), "alice");
        assert_eq!(received.correlation_id, "req-1");
        assert_eq!(received.detail, detail);
    }

    #[test]
    fn a_body_without_an_owner_a_note_or_a_shard_is_refused() {
        assert!(BroadcastMessage::parse(&format!(r#"{{"shard": 1, "detail": {{"noteId": "{NOTE_ID}"}}}}"#)).is_err());
        assert!(BroadcastMessage::parse(r#"{"shard": 1, "detail": {"username": "alice", "noteId": "n"}}"#).is_err());
        assert!(BroadcastMessage::parse(r#"{"detail": {"username": "alice"}}"#).is_err());
        assert!(BroadcastMessage::parse(r#"{"shard": 1, "detail": "alice"}"#).is_err());
        assert!(BroadcastMessage::parse("not json").is_err());
    }
}
