//! One public note fanned out to many open WebSocket connections: every connection must receive
//! its `note-saved` exactly once. `make bench` runs it with 2,000 connections and prints the time
//! (`tests/benches/fanout.rs`); `make test` runs 200 (`tests/tests/fanout.rs`). It shows its
//! progress on stderr ([`crate::progress`]): users signed up, connections open, connections that
//! received the note.

use std::time::{Duration, Instant};

use futures::StreamExt as _;

use crate::progress::Progress;
use crate::{Socket, Stack, unique};

/// Connections one user may hold (the `$connect` cap), so `connections` need this many per user.
const PER_USER: usize = 10;

/// What one fan-out came to.
#[derive(Debug)]
pub struct FanOut {
    pub connections: usize,
    /// Connections that received the note's `note-saved`.
    pub received: usize,
    /// Copies beyond the first, on any connection, within a quiet second after the last one.
    pub duplicates: usize,
    /// From the `POST` to the first and to the last connection's `note-saved`.
    pub first: Duration,
    pub last: Duration,
    pub p50: Duration,
}

impl FanOut {
    pub fn exactly_once(&self) -> bool {
        self.received == self.connections && self.duplicates == 0
    }
}

/// Opens `connections` WebSockets (users of 10 each), posts one public note and waits until every
/// connection has its `note-saved` (or `patience` passes).
pub async fn fan_out(stack: &Stack, connections: usize, patience: Duration) -> FanOut {
    let progress = Progress::start("fan-out");
    let run = unique("fan");
    let users = connections.div_ceil(PER_USER);
    progress.phase("signing up", users as u64, "users");
    let tokens: Vec<String> = futures::stream::iter(0..users)
        .map(|i| {
            let (run, progress) = (&run, &progress);
            async move {
                let token = stack.user(&format!("{run}-{i}")).await;
                progress.add_done(1);
                token
            }
        })
        .buffered(8)
        .collect()
        .await;
    progress.phase("connecting", connections as u64, "connections");
    let sockets: Vec<Socket> = futures::stream::iter(0..connections)
        .map(|i| {
            let (token, progress) = (&tokens[i / PER_USER], &progress);
            async move {
                let mut socket = stack.websocket(token).await.expect("within the cap of 10 per user");
                socket.ping().await;
                progress.add_done(1);
                socket
            }
        })
        .buffered(32)
        .collect()
        .await;

    progress.phase("note received", connections as u64, "connections");
    let started = Instant::now();
    let note_id = stack.post_note(&tokens[0], "one note for everyone", true).await;
    let heard: Vec<(Option<Duration>, usize)> = futures::stream::iter(sockets)
        .map(|mut socket| {
            let (note_id, progress) = (note_id.clone(), &progress);
            async move {
                let mut first = None;
                let mut copies = 0;
                let deadline = started + patience;
                loop {
                    // Until the first copy, as long as patience allows; after it, a quiet second.
                    let wait = match first {
                        None => deadline.saturating_duration_since(Instant::now()),
                        Some(_) => Duration::from_secs(1),
                    };
                    match socket.next_within(wait).await {
                        Some(m) if m["eventType"] == "note-saved" && m["noteId"] == note_id.as_str() => {
                            copies += 1;
                            if first.is_none() {
                                progress.add_done(1);
                            }
                            first.get_or_insert_with(|| started.elapsed());
                        }
                        Some(_) => continue,
                        None => return (first, copies),
                    }
                }
            }
        })
        .buffer_unordered(connections.max(1))
        .collect()
        .await;

    progress.finish();
    let mut times: Vec<Duration> = heard.iter().filter_map(|(t, _)| *t).collect();
    times.sort();
    FanOut {
        connections,
        received: times.len(),
        duplicates: heard.iter().map(|(_, n)| n.saturating_sub(1)).sum(),
        first: times.first().copied().unwrap_or_default(),
        last: times.last().copied().unwrap_or_default(),
        p50: times.get(times.len() / 2).copied().unwrap_or_default(),
    }
}
