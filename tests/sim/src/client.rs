//! A client as the app is one: a socket, and what it shows of its owner's notes and of the public
//! feed, by the app's rules (`frontend/src/lib/notes-model.ts`): per note the highest version
//! seen wins and anything lower is dropped; a deleted note never comes back; a pending note is
//! settled by the first answer for it; a refetch on (re)connect settles what it lists.

use std::collections::BTreeMap;

use serde_json::Value;

/// The socket's state, as the client knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Socket {
    /// `$connect` ran; the handshake has not completed.
    Opening,
    Open,
    Closed,
}

/// What the client shows of one of its owner's notes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum View {
    Pending,
    Saved { version: u64, public: bool, content: String },
    Failed { version: u64, error: String },
    Deleted,
}

impl View {
    fn version(&self) -> Option<u64> {
        match self {
            View::Saved { version, .. } | View::Failed { version, .. } => Some(*version),
            View::Pending | View::Deleted => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Client {
    pub user: usize,
    pub connection_id: String,
    pub socket: Socket,
    pub opened_at_ms: i64,
    /// The step its handshake completed and it refetched.
    pub opened_step: usize,
    pub notes: BTreeMap<String, View>,
    /// Other users' public notes it shows: note id → version.
    pub feed: BTreeMap<String, u64>,
    /// Other users' notes that left the feed (or were deleted) at a version: nothing older brings them back.
    pub feed_marks: BTreeMap<String, u64>,
    /// Each note's versions in the order the client showed them (never decreasing).
    pub shown: BTreeMap<String, Vec<u64>>,
    /// How many note-failed messages it received, by note.
    pub failures_heard: BTreeMap<String, usize>,
}

impl Client {
    pub fn new(user: usize, connection_id: &str, opened_at_ms: i64) -> Client {
        Client {
            user,
            connection_id: connection_id.to_owned(),
            socket: Socket::Opening,
            opened_at_ms,
            opened_step: 0,
            notes: BTreeMap::new(),
            feed: BTreeMap::new(),
            feed_marks: BTreeMap::new(),
            shown: BTreeMap::new(),
            failures_heard: BTreeMap::new(),
        }
    }

    pub fn pending(&mut self, note_id: &str) {
        self.notes.entry(note_id.to_owned()).or_insert(View::Pending);
    }

    pub fn deleted_here(&mut self, note_id: &str) {
        self.notes.insert(note_id.to_owned(), View::Deleted);
    }

    pub fn pending_ids(&self) -> Vec<String> {
        self.notes.iter().filter(|(_, v)| **v == View::Pending).map(|(id, _)| id.clone()).collect()
    }

    fn show(&mut self, note_id: &str, view: View) {
        if let Some(version) = view.version() {
            self.shown.entry(note_id.to_owned()).or_default().push(version);
        }
        self.notes.insert(note_id.to_owned(), view);
    }

    /// Whether an answer or event of `version` replaces what the client holds for the note.
    fn newer(&self, note_id: &str, version: u64) -> bool {
        match self.notes.get(note_id) {
            Some(View::Deleted) => false,
            Some(View::Pending) | None => true,
            Some(held) => held.version().is_none_or(|v| version > v),
        }
    }

    /// A pushed event.
    pub fn receive(&mut self, message: &Value, mine: bool) {
        let (Some(note_id), Some(kind)) = (message["noteId"].as_str(), message["eventType"].as_str()) else { return };
        let version = message["version"].as_u64().unwrap_or(0);
        if kind == "note-failed" {
            *self.failures_heard.entry(note_id.to_owned()).or_default() += 1;
        }
        if !mine {
            self.receive_feed(note_id, kind, version, message);
            return;
        }
        if !self.newer(note_id, version) {
            return;
        }
        let view = match kind {
            "note-saved" | "note-updated" => View::Saved {
                version,
                public: message["isPublic"].as_bool().unwrap_or(false),
                content: message["content"].as_str().unwrap_or_default().to_owned(),
            },
            "note-failed" => View::Failed { version, error: message["error"].as_str().unwrap_or_default().to_owned() },
            "note-deleted" => View::Deleted,
            _ => return,
        };
        self.show(note_id, view);
    }

    fn receive_feed(&mut self, note_id: &str, kind: &str, version: u64, message: &Value) {
        let held = self.feed.get(note_id).copied().max(self.feed_marks.get(note_id).copied());
        if held.is_some_and(|h| version <= h) {
            return;
        }
        let public_now = message["isPublic"].as_bool() == Some(true) && message.get("content").is_some();
        if (kind == "note-saved" || kind == "note-updated") && public_now {
            self.feed.insert(note_id.to_owned(), version);
        } else {
            self.feed.remove(note_id);
            self.feed_marks.insert(note_id.to_owned(), if kind == "note-deleted" { u64::MAX } else { version });
        }
    }

    /// The refetched list of its owner's notes: each listed note as listed, unless it holds newer.
    pub fn settle_from_list(&mut self, listed: &[Value]) {
        for note in listed {
            let Some(note_id) = note["noteId"].as_str() else { continue };
            let version = note["version"].as_u64().unwrap_or(0);
            if !self.newer(note_id, version) {
                continue;
            }
            let view = if note["status"] == "failed" {
                View::Failed { version, error: note["error"].as_str().unwrap_or_default().to_owned() }
            } else {
                View::Saved {
                    version,
                    public: note["isPublic"].as_bool().unwrap_or(false),
                    content: note["content"].as_str().unwrap_or_default().to_owned(),
                }
            };
            self.show(note_id, view);
        }
    }

    /// `GET /notes/{id}` for a note it holds pending: 404 leaves it pending.
    pub fn settle_from_get(&mut self, note_id: &str, status: u16, body: &Value) {
        if status == 200 && body["noteId"] == note_id {
            self.settle_from_list(std::slice::from_ref(body));
        }
    }
}
