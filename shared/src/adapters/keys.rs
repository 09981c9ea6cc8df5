//! The single table's key design, in one place (docs/table.md).
//!
//! | item | pk | sk |
//! | --- | --- | --- |
//! | user profile | `USER#{username}` | `PROFILE` |
//! | note | `USER#{username}` | `NOTE#{noteId}` |
//! | tombstone of a deleted note, in the note's place | `USER#{username}` | `NOTE#{noteId}` |
//! | idempotency record | `USER#{username}` | `IDEMPOTENCY#{key}` |
//! | connection | `CONNECTION#{connectionId}` | `META` |
//! | connection, by owner | `USER#{username}` | `CONNECTION#{connectionId}` |
//! | connection, for the broadcast | `CONNECTIONS#{shard}` | `CONNECTION#{connectionId}` |
//!
//! A public note also carries the keys of the sparse `publicFeed` index: `feedPk` =
//! `PUBLIC#NOTES#{shard}` (the shard from the note id, one of `shards` in the topology) and
//! `feedSk` = `NOTE#{noteId}`. Only public notes have them, so only they are in the index.
//!
//! Note ids are UUID v7, so `NOTE#…` sort keys are in creation order and a reverse Query
//! lists newest first. Every access is a GetItem or a Query on one partition; nothing scans.

use crate::domain::{IdempotencyKey, NoteId, Username};

pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub const TTL: &str = "ttl";
/// The public feed index's key attributes (`table.publicFeed` in the topology).
pub const FEED_PK: &str = "feedPk";
pub const FEED_SK: &str = "feedSk";

pub const PROFILE_SK: &str = "PROFILE";
pub const NOTE_SK_PREFIX: &str = "NOTE#";
pub const CONNECTION_SK_PREFIX: &str = "CONNECTION#";
/// The partition keys of the public feed index start so; the shard number follows.
pub const PUBLIC_FEED_PK_PREFIX: &str = "PUBLIC#NOTES#";
/// The attribute that tells a note from the tombstone in its place.
pub const KIND: &str = "kind";
pub const CONNECTION_META_SK: &str = "META";
/// The partitions that list every open connection, so a public broadcast needs no Scan, start so;
/// the shard follows (`table.connectionShards` in the topology).
pub const ALL_CONNECTIONS_PK_PREFIX: &str = "CONNECTIONS#";

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

/// The key of a deleted note's tombstone: the note's own, so storing the note again is refused
/// by the same condition that refuses storing it twice.
pub fn tombstone(username: &Username, note_id: NoteId) -> Key {
    owner_note(username, note_id)
}

/// The public feed index's (partition, sort) key of a public note: the shard comes from the random
/// bits at the end of the UUID v7, so notes spread evenly and a note always lands in the same shard.
pub fn public_feed(note_id: NoteId) -> (String, String) {
    let shards = u128::from(crate::topology::topology().table.public_feed.shards.max(1));
    (format!("{PUBLIC_FEED_PK_PREFIX}{}", note_id.as_uuid().as_u128() % shards), note_sk(note_id))
}

/// Every partition key of the public feed index, one per shard.
pub fn public_feed_shards() -> Vec<String> {
    (0..crate::topology::topology().table.public_feed.shards.max(1))
        .map(|n| format!("{PUBLIC_FEED_PK_PREFIX}{n}"))
        .collect()
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

/// The shard of the broadcast list a connection is in: FNV-1a of its id, so it is the same in
/// every process and every release (std's hasher is seeded per process).
pub fn connection_shard(connection_id: &str) -> u32 {
    let hash =
        connection_id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    let shards = u64::from(crate::topology::topology().table.connection_shards.max(1));
    u32::try_from(hash % shards).unwrap_or(0)
}

pub fn broadcast_connection(connection_id: &str) -> Key {
    Key::new(broadcast_shard(connection_shard(connection_id)), format!("{CONNECTION_SK_PREFIX}{connection_id}"))
}

/// The partition key of one shard of the broadcast list.
pub fn broadcast_shard(shard: u32) -> String {
    format!("{ALL_CONNECTIONS_PK_PREFIX}{shard}")
}

/// The username in a `USER#{username}` partition key, if it is one.
pub fn username_of_pk(pk: &str) -> Option<Username> {
    pk.strip_prefix("USER#").and_then(|name| Username::parse(name).ok())
}

/// The note id in a `NOTE#{id}` sort key, if it is one.
pub fn note_id_of_sk(sk: &str) -> Option<NoteId> {
    sk.strip_prefix(NOTE_SK_PREFIX).and_then(|id| NoteId::parse(id).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_and_its_feed_entry_share_the_sort_key() {
        let u = Username::parse("alice").unwrap();
        let id = NoteId::new();
        assert_eq!(owner_note(&u, id).sk, public_feed(id).1);
        assert_eq!(owner_note(&u, id).pk, "USER#alice");
        assert_eq!(note_id_of_sk(&public_feed(id).1), Some(id));
        assert_eq!(username_of_pk(&owner_note(&u, id).pk), Some(u));
    }

    #[test]
    fn public_notes_spread_over_every_shard_and_stay_in_theirs() {
        let shards = public_feed_shards();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..400 {
            let id = NoteId::new();
            assert_eq!(public_feed(id), public_feed(id));
            assert!(shards.contains(&public_feed(id).0));
            seen.insert(public_feed(id).0);
        }
        assert_eq!(seen.len(), shards.len());
    }

    #[test]
    fn the_feed_keys_are_the_index_the_topology_declares() {
        let feed = &crate::topology::topology().table.public_feed;
        assert_eq!((feed.partition_key.as_str(), feed.sort_key.as_str()), (FEED_PK, FEED_SK));
    }

    #[test]
    fn connections_spread_over_every_broadcast_shard_and_stay_in_theirs() {
        let shards: Vec<String> =
            (0..crate::topology::topology().table.connection_shards).map(broadcast_shard).collect();
        let mut seen = std::collections::HashSet::new();
        for i in 0..2_000 {
            // API Gateway connection ids: 16 characters of base64-like text.
            let id = format!("Ab{i:06}cDeFgH=");
            assert_eq!(broadcast_connection(&id), broadcast_connection(&id));
            assert!(shards.contains(&broadcast_connection(&id).pk));
            seen.insert(broadcast_connection(&id).pk);
        }
        assert_eq!(seen.len(), shards.len());
        // The same shard in every process and release: FNV-1a, not a seeded hasher.
        assert_eq!(connection_shard("L0SM9cOFvHcCIhw="), connection_shard("L0SM9cOFvHcCIhw="));
        assert_eq!(
            broadcast_connection("abc").pk,
            format!("CONNECTIONS#{}", 0xe71f_a219_0541_574b_u64 % shards.len() as u64)
        );
    }

    #[test]
    fn a_connection_has_three_keys_in_three_partitions() {
        let u = Username::parse("bob").unwrap();
        let keys = [connection_meta("c1"), user_connection(&u, "c1"), broadcast_connection("c1")];
        let pks: std::collections::HashSet<_> = keys.iter().map(|k| &k.pk).collect();
        assert_eq!(pks.len(), 3);
    }
}
