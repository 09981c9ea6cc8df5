//! The broadcast queue's message: one public event for the connections of one shard of the
//! connection list (`CONNECTIONS#{shard}`).
//!
//! `notify` sends one per shard for each event other users may hear of, and `broadcast` pushes
//! each to its shard. The message carries the event exactly as other users may see it
//! ([`crate::events::NoteEvent::for_other_users`]), decided by `notify`: `broadcast` sends it on
//! verbatim and never adds to it. The owner's connections are skipped there, since `notify` sends
//! the owner the full event itself.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::topology::topology;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BroadcastMessage {
    /// The shard of the connection list to push to.
    pub shard: u32,
    /// The event's detail as other users may see it.
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

    /// Reads a queue message's body: a shard and a detail naming its note's owner.
    pub fn parse(body: &str) -> Result<BroadcastMessage, InvalidBroadcast> {
        let message: BroadcastMessage = serde_json::from_str(body).map_err(|e| InvalidBroadcast(e.to_string()))?;
        if !message.detail.is_object() {
            return Err(InvalidBroadcast("detail is not an object".into()));
        }
        if message.owner().is_empty() {
            return Err(InvalidBroadcast("detail names no username".into()));
        }
        Ok(message)
    }

    pub fn to_body(&self) -> String {
        serde_json::to_string(self).expect("a broadcast message serializes")
    }

    /// The note's owner, whose connections `notify` serves.
    pub fn owner(&self) -> &str {
        self.field("username")
    }

    /// A string field of the detail (`eventId`, `noteId`, `correlationId`), or "".
    pub fn field(&self, name: &str) -> &str {
        self.detail.get(name).and_then(Value::as_str).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn one_message_goes_to_each_shard() {
        let messages = BroadcastMessage::for_every_shard(&json!({"username": "alice"}));
        let shards: Vec<u32> = messages.iter().map(|m| m.shard).collect();
        assert_eq!(shards, (0..topology().table.connection_shards).collect::<Vec<_>>());
    }

    #[test]
    fn a_message_reads_back_as_sent() {
        let sent = BroadcastMessage { shard: 3, detail: json!({"username": "alice", "noteId": "n"}) };
        assert_eq!(BroadcastMessage::parse(&sent.to_body()).unwrap(), sent);
    }

    #[test]
    fn a_body_without_an_owner_or_a_shard_is_refused() {
        assert!(BroadcastMessage::parse(r#"{"shard": 1, "detail": {"noteId": "n"}}"#).is_err());
        assert!(BroadcastMessage::parse(r#"{"detail": {"username": "alice"}}"#).is_err());
        assert!(BroadcastMessage::parse(r#"{"shard": 1, "detail": "alice"}"#).is_err());
        assert!(BroadcastMessage::parse("not json").is_err());
    }
}
