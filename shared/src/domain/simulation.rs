//! The deterministic simulation's clock and entropy (`tests/sim`). While a thread runs a
//! simulation ([`enter`]), [`Timestamp::now`](crate::domain::Timestamp::now), new note ids, new
//! event ids and request ids come from here: simulated time that moves only when the simulation
//! says ([`advance`]), and a seeded generator, so a seed replays exactly. Telemetry is silent in
//! that thread. Nothing outside the simulation enters one: every other thread reads the system
//! clock and the system's entropy as before.

use std::cell::RefCell;

struct World {
    now_ms: i64,
    rng: u64,
}

thread_local! {
    static WORLD: RefCell<Option<World>> = const { RefCell::new(None) };
}

/// Starts simulating on this thread: time `start_ms` (milliseconds since the epoch), entropy from `seed`.
pub fn enter(start_ms: i64, seed: u64) {
    WORLD.with(|w| *w.borrow_mut() = Some(World { now_ms: start_ms, rng: seed ^ 0x9e37_79b9_7f4a_7c15 }));
}

/// Stops simulating on this thread.
pub fn leave() {
    WORLD.with(|w| *w.borrow_mut() = None);
}

/// Whether this thread runs a simulation.
pub fn active() -> bool {
    WORLD.with(|w| w.borrow().is_some())
}

/// Moves simulated time on by `ms`.
pub fn advance(ms: i64) {
    WORLD.with(|w| {
        if let Some(world) = w.borrow_mut().as_mut() {
            world.now_ms += ms.max(0);
        }
    });
}

/// Simulated time in milliseconds since the epoch, if this thread simulates.
pub fn now_ms() -> Option<i64> {
    WORLD.with(|w| w.borrow().as_ref().map(|world| world.now_ms))
}

/// The next 64 bits of the seeded generator (SplitMix64), if this thread simulates.
pub fn next_u64() -> Option<u64> {
    WORLD.with(|w| {
        w.borrow_mut().as_mut().map(|world| {
            world.rng = world.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = world.rng;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        })
    })
}

/// 16 bytes of the seeded generator, if this thread simulates.
pub fn random_bytes() -> Option<[u8; 16]> {
    let (a, b) = (next_u64()?, next_u64()?);
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&a.to_le_bytes());
    bytes[8..].copy_from_slice(&b.to_le_bytes());
    Some(bytes)
}

/// A random (v4) UUID: from the seeded generator while simulating, else from the system.
pub fn uuid_v4() -> uuid::Uuid {
    match random_bytes() {
        Some(bytes) => uuid::Builder::from_random_bytes(bytes).into_uuid(),
        None => uuid::Uuid::new_v4(),
    }
}

/// A time-ordered (v7) UUID: at simulated time from the seeded generator while simulating.
pub fn uuid_v7() -> uuid::Uuid {
    match (now_ms(), random_bytes()) {
        (Some(ms), Some(bytes)) => {
            let mut random = [0u8; 10];
            random.copy_from_slice(&bytes[..10]);
            uuid::Builder::from_unix_timestamp_millis(u64::try_from(ms).unwrap_or(0), &random).into_uuid()
        }
        _ => uuid::Uuid::now_v7(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_replays_the_same_time_and_ids_and_outside_a_simulation_nothing_changes() {
        let run = || {
            enter(1_800_000_000_000, 42);
            let first = (crate::domain::Timestamp::now(), crate::domain::NoteId::new(), uuid_v4());
            advance(1500);
            let later = crate::domain::Timestamp::now();
            leave();
            (first, later)
        };
        let (a, b) = (run(), run());
        assert_eq!(a, b);
        assert_eq!(a.1.epoch_millis() - a.0.0.epoch_millis(), 1500);
        assert!(!active());
        assert_ne!(crate::domain::Timestamp::now().epoch_millis(), 1_800_000_001_500);
    }
}
