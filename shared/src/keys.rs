//! The single table's key design, in one place (docs/table.md).
//!
//! | item | pk | sk |
//! | --- | --- | --- |
//! | user profile | `USER#{username}` | `PROFILE` |
//! | note, owner's copy | `USER#{username}` | `NOTE#{noteId}` |
//! | note, public-feed copy | `PUBLIC#NOTES` | `NOTE#{noteId}` |
//! | tombstone of a deleted note | `USER#{username}` | `TOMBSTONE#{noteId}` |
//! | idempotency record | `USER#{username}` | `IDEMPOTENCY#{key}` |
//! | connection | `CONNECTION#{connectionId}` | `META` |
//! | connection, by owner | `USER#{username}` | `CONNECTION#{connectionId}` |
//! | connection, for the broadcast | `CONNECTIONS` | `CONNECTION#{connectionId}` |
//!
//! Note ids are UUID v7, so `NOTE#…` sort keys are in creation order and a reverse Query
//! lists newest first. Every access is a GetItem or a Query on one partition; nothing scans.

use crate::domain::{IdempotencyKey, NoteId, Username};

pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub const TTL: &str = "ttl";

pub const PROFILE_SK: &str = "PROFILE";
pub const NOTE_SK_PREFIX: &str = "NOTE#";
pub const CONNECTION_SK_PREFIX: &str = "CONNECTION#";
pub const PUBLIC_NOTES_PK: &str = "PUBLIC#NOTES";
pub const CONNECTION_META_SK: &str = "META";
/// The partition that lists every open connection, so a public broadcast needs no Scan.
pub const ALL_CONNECTIONS_PK: &str = "CONNECTIONS";

/// A (pk, sk) pair.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Self { pk: pk.into(), sk: sk.into() }
    }
}

pub fn user_pk(username: &Username) -> String {
    format!("USER#{username}")
}

pub fn note_sk(note_id: NoteId) -> String {
    format!("{NOTE_SK_PREFIX}{note_id}")
}

pub fn user_profile(username: &Username) -> Key {
    Key::new(user_pk(username), PROFILE_SK)
}

pub fn owner_note(username: &Username, note_id: NoteId) -> Key {
    Key::new(user_pk(username), note_sk(note_id))
}

pub fn public_note(note_id: NoteId) -> Key {
    Key::new(PUBLIC_NOTES_PK, note_sk(note_id))
}

pub fn tombstone(username: &Username, note_id: NoteId) -> Key {
    Key::new(user_pk(username), format!("TOMBSTONE#{note_id}"))
}

pub fn idempotency(username: &Username, key: &IdempotencyKey) -> Key {
    Key::new(user_pk(username), format!("IDEMPOTENCY#{}", key.as_str()))
}

pub fn connection_meta(connection_id: &str) -> Key {
    Key::new(format!("CONNECTION#{connection_id}"), CONNECTION_META_SK)
}

pub fn user_connection(username: &Username, connection_id: &str) -> Key {
    Key::new(user_pk(username), format!("{CONNECTION_SK_PREFIX}{connection_id}"))
}

pub fn broadcast_connection(connection_id: &str) -> Key {
    Key::new(ALL_CONNECTIONS_PK, format!("{CONNECTION_SK_PREFIX}{connection_id}"))
}

/// The note id in a `NOTE#{id}` sort key, if it is one.
pub fn note_id_of_sk(sk: &str) -> Option<NoteId> {
    sk.strip_prefix(NOTE_SK_PREFIX).and_then(|id| NoteId::parse(id).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_and_public_copies_share_the_sort_key() {
        let u = Username::parse("alice").unwrap();
        let id = NoteId::new();
        assert_eq!(owner_note(&u, id).sk, public_note(id).sk);
        assert_eq!(owner_note(&u, id).pk, "USER#alice");
        assert_eq!(note_id_of_sk(&public_note(id).sk), Some(id));
    }

    #[test]
    fn a_connection_has_three_keys_in_three_partitions() {
        let u = Username::parse("bob").unwrap();
        let keys = [connection_meta("c1"), user_connection(&u, "c1"), broadcast_connection("c1")];
        let pks: std::collections::HashSet<_> = keys.iter().map(|k| &k.pk).collect();
        assert_eq!(pks.len(), 3);
    }
}
