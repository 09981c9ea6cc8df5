//! Named scenarios: the orders review found this wave, played on purpose through the same
//! simulation, with every invariant checked as in a random run. Each is a script of the
//! simulation's own actions, with no faults but the ones it names.

use notes_core::domain::simulation;

use crate::{Config, Defect, Outcome, START_MS, Sim};

/// Plays `script` on a fresh world (three users, one open socket each), then drains to
/// quiescence and checks every invariant.
pub fn play(name: &str, defect: Option<Defect>, script: impl AsyncFnOnce(&mut Sim)) -> Outcome {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap();
    let seed = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    simulation::enter(START_MS, seed);
    let outcome = runtime.block_on(async {
        let mut sim = Sim::new(Config { seed, steps: 0, users: 3, faults: false, defect });
        sim.setup().await;
        script(&mut sim).await;
        sim.quiesce().await;
        sim.outcome()
    });
    simulation::leave();
    outcome
}

/// A public note is made private; before that edit's event is out, another tab edits the text,
/// and the first tab's PUT is retried. Other users must learn the note left the feed, and never
/// see the new text.
pub fn interleaved_edit(defect: Option<Defect>) -> Outcome {
    play("interleaved edit", defect, async |sim: &mut Sim| {
        let note = sim.post(0, true).await.unwrap();
        sim.drain_newest_first().await;
        sim.edit(note, false, Some(false)).await;
        sim.edit(note, true, None).await;
        sim.edit(note, false, Some(false)).await;
        sim.drain_newest_first().await;
    })
}

/// A public note is made private with new text in one save: other users learn it left the
/// feed, without the text.
pub fn made_private_with_new_text(defect: Option<Defect>) -> Outcome {
    play("made private with new text", defect, async |sim: &mut Sim| {
        let note = sim.post(0, true).await.unwrap();
        sim.drain_newest_first().await;
        sim.edit(note, true, Some(false)).await;
        sim.drain_newest_first().await;
    })
}

/// A deleted note's note-created is replayed late in the archive's retention: its tombstone
/// must still be there.
pub fn replay_late_in_retention(defect: Option<Defect>) -> Outcome {
    play("replay late in retention", defect, async |sim: &mut Sim| {
        let note = sim.post(1, true).await.unwrap();
        sim.drain_newest_first().await;
        sim.delete(note).await;
        sim.drain_newest_first().await;
        sim.advance(29 * 86_400_000).await;
        sim.replay(0).await;
        sim.drain_newest_first().await;
    })
}

/// The first receive stores the note but its acknowledgement is lost; the last receive then
/// fails and the message is dead-lettered. The owner must never be told it failed.
pub fn stored_note_told_failed() -> Outcome {
    play("stored note told failed", None, async |sim: &mut Sim| {
        let note = sim.post(0, false).await.unwrap();
        sim.route_all().await;
        sim.deliver_note_batch(1, true).await;
        sim.throttle_saves(2);
        sim.deliver_note_batch(1, false).await;
        sim.deliver_note_batch(1, false).await;
        sim.drain_newest_first().await;
        let id = sim.posted[note].note_id.clone();
        if sim.failures_heard(&id) > 0 {
            let v = sim.violation("a stored note is never announced failed", format!("{id}'s owner heard note-failed"));
            sim.violations.push(v);
        }
    })
}

/// A public note is deleted; the archive is then replayed. No one may be pushed its text, and
/// it must not come back.
pub fn replay_after_delete(defect: Option<Defect>) -> Outcome {
    play("replay after delete", defect, async |sim: &mut Sim| {
        let note = sim.post(0, true).await.unwrap();
        sim.drain_newest_first().await;
        sim.delete(note).await;
        sim.drain_newest_first().await;
        sim.replay(0).await;
        sim.drain_newest_first().await;
    })
}

/// A deleted note's tombstone must outlive every way its note-created can come back: a replay
/// late in the archive's retention, then three receives to the DLQ and a redrive weeks later.
pub fn tombstone_chain(defect: Option<Defect>) -> Outcome {
    play("tombstone chain", defect, async |sim: &mut Sim| {
        let note = sim.post(1, true).await.unwrap();
        sim.drain_newest_first().await;
        sim.delete(note).await;
        sim.drain_newest_first().await;
        sim.advance(29 * 86_400_000).await;
        sim.replay(0).await;
        sim.throttle_saves(3);
        for _ in 0..3 {
            sim.deliver_note_batch(10, false).await;
        }
        sim.advance(10 * 86_400_000).await;
        sim.redrive().await;
        sim.drain_newest_first().await;
    })
}

/// A note fails (dead-lettered, its failure recorded), its owner dismisses it, and an operator
/// then redrives the DLQ: it must not be stored.
pub fn redrive_after_dismiss() -> Outcome {
    play("redrive after dismiss", None, async |sim: &mut Sim| {
        let note = sim.post(2, true).await.unwrap();
        sim.route_all().await;
        sim.throttle_saves(3);
        for _ in 0..3 {
            sim.deliver_note_batch(1, false).await;
        }
        sim.drain_newest_first().await;
        sim.delete(note).await;
        sim.redrive().await;
        sim.drain_newest_first().await;
    })
}

/// A push races a handshake: the new socket answers 410 until `$connect` has answered. Its items
/// must stay, and the next change must reach it.
pub fn handshake_410() -> Outcome {
    play("handshake 410", None, async |sim: &mut Sim| {
        let socket = sim.open_socket(0).await;
        sim.post(0, false).await.unwrap();
        sim.drain_newest_first().await;
        sim.answer_handshake(socket).await;
        let later = sim.post(0, false).await.unwrap();
        sim.drain_newest_first().await;
        let id = sim.posted[later].note_id.clone();
        if !matches!(sim.clients[socket].notes.get(&id), Some(crate::View::Saved { .. })) {
            let v = sim.violation(crate::invariants::CHANGES_REACH_OWNER, format!("the new socket never got {id}"));
            sim.violations.push(v);
        }
    })
}

/// A batch runs out of time: every write is slow, so save-note reports the records it could not
/// start before its deadline. None may be lost or stored twice.
pub fn batch_timeout() -> Outcome {
    play("batch timeout", None, async |sim: &mut Sim| {
        for i in 0..18 {
            sim.post(i % 3, i % 2 == 0).await.unwrap();
        }
        sim.route_all().await;
        sim.table.slow_writes(std::time::Duration::from_secs(4));
        sim.deliver_note_batch(10, false).await;
        sim.deliver_note_batch(10, false).await;
        sim.table.slow_writes(std::time::Duration::ZERO);
        sim.drain_newest_first().await;
    })
}

/// Every named scenario, with no defect planted.
pub fn all() -> Vec<(&'static str, Outcome)> {
    vec![
        ("interleaved edit", interleaved_edit(None)),
        ("made private with new text", made_private_with_new_text(None)),
        ("replay late in retention", replay_late_in_retention(None)),
        ("stored note told failed", stored_note_told_failed()),
        ("replay after delete", replay_after_delete(None)),
        ("tombstone chain", tombstone_chain(None)),
        ("redrive after dismiss", redrive_after_dismiss()),
        ("handshake 410", handshake_410()),
        ("batch timeout", batch_timeout()),
    ]
}
