//! The soak's reconciliation: its counts, its targets, and how it is printed.

use std::collections::BTreeMap;

use notes_local::capacity::Consumed;
use notes_local::invocations::Invoked;
use serde_json::json;

/// The reconciliation.
#[derive(Debug, Default, Clone)]
pub struct SoakReport {
    pub notes: usize,
    pub users: usize,
    pub plan: Option<String>,
    pub accepted: usize,
    pub refused: usize,
    pub poison: usize,
    pub stored_once: usize,
    pub stored_twice: usize,
    pub lost: usize,
    pub dead_lettered_with_note_failed: usize,
    pub poison_dead_lettered_with_note_failed: usize,
    pub poison_stored: usize,
    pub other_stored_once: usize,
    pub owners_notified: usize,
    pub duplicate_notifications: usize,
    pub duplicates_with_new_event_id: usize,
    pub misdelivered: usize,
    pub reconnects: usize,
    pub redriven: usize,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    /// From the first `POST` until the pipeline had drained, before the redrive.
    pub seconds_to_drain: f64,
    pub seconds_total: f64,
    pub drained: bool,
    pub api_calls: BTreeMap<String, u64>,
    /// Units some calls carry (`EventBridge:PutEvents entries`, `… bytes`), in the same window.
    pub api_units: BTreeMap<String, u64>,
    /// What the table's calls consumed, by API, in the same window as `api_calls`.
    pub consumed_capacity: BTreeMap<String, Consumed>,
    /// Function invocations, by function, in the same window.
    pub invocations: BTreeMap<String, Invoked>,
    /// Accepted notes that were public.
    pub public: usize,
    pub injected: BTreeMap<String, u64>,
    /// Accepted notes whose owner can read their fate from the list: stored, or failed.
    pub fate_readable: usize,
    /// Stored notes whose owner's listener never dropped yet never heard their `note-saved`: the
    /// owner reads them from the list (their refetch), and the notify DLQ holds the events that
    /// ran out of retries under the plan's faults, for an operator.
    pub saves_unheard: usize,
    /// Events in notify's dead-letter queue at the end.
    pub notify_dead_lettered: usize,
    /// Each lost note, with the evidence of where it went.
    pub lost_notes: Vec<LostNote>,
}

/// A note neither stored nor dead-lettered with its owner told, and what was found of it.
#[derive(Debug, Clone, Default)]
pub struct LostNote {
    pub note_id: String,
    pub poison: bool,
    /// In the note-created DLQ at the end.
    pub in_dlq: bool,
    /// Its owner's list shows it failed.
    pub listed_failed: bool,
    /// Its owner's listener received its `note-failed`.
    pub heard_failed: bool,
    /// How often its owner's listener reconnected during the run (a push may have found it closed).
    pub owner_reconnects: usize,
}

impl LostNote {
    /// Which condition failed, in words.
    pub fn why(&self) -> String {
        let mut why = Vec::new();
        if !self.in_dlq {
            why.push(
                "not in the DLQ at the end (in flight after the redrive, deleted, or never sent there)".to_owned(),
            );
        }
        if !self.listed_failed {
            why.push("no failure recorded: its owner's list does not show it".to_owned());
        }
        if !self.heard_failed {
            why.push(format!(
                "its owner's listener never received note-failed ({} reconnects during the run)",
                self.owner_reconnects
            ));
        }
        format!("{}{}: {}", self.note_id, if self.poison { " (poison)" } else { "" }, why.join("; "))
    }
}

impl SoakReport {
    /// The counts a cost estimate needs (`scripts/cost.py`), as JSON.
    pub fn counts_json(&self) -> serde_json::Value {
        json!({
            "notes": self.accepted,
            "public": self.public,
            "users": self.users,
            "faultPlan": self.plan,
            "notesPerSecond": self.notes_per_second(),
            "apiCalls": self.api_calls,
            "apiUnits": self.api_units,
            "consumedCapacity": self.consumed_capacity,
            "invocations": self.invocations,
        })
    }

    pub fn notes_per_second(&self) -> f64 {
        self.accepted as f64 / self.seconds_to_drain.max(1e-9)
    }

    /// Every target the run missed; empty when it met them all.
    pub fn failures(&self) -> Vec<String> {
        let mut failures = Vec::new();
        let mut check = |ok: bool, what: String| {
            if !ok {
                failures.push(what);
            }
        };
        check(self.lost == 0, format!("{} notes lost", self.lost));
        check(self.stored_twice == 0, format!("{} notes stored twice", self.stored_twice));
        check(self.misdelivered == 0, format!("{} messages misdelivered", self.misdelivered));
        check(self.refused == 0, format!("{} POSTs not accepted", self.refused));
        check(
            self.poison_dead_lettered_with_note_failed == self.poison,
            format!(
                "{} of {} poison notes dead-lettered with note-failed",
                self.poison_dead_lettered_with_note_failed, self.poison
            ),
        );
        check(self.poison_stored == 0, format!("{} poison notes stored", self.poison_stored));
        check(
            self.other_stored_once == self.accepted - self.poison.min(self.accepted),
            format!(
                "{} of {} other notes stored once",
                self.other_stored_once,
                self.accepted - self.poison.min(self.accepted)
            ),
        );
        check(
            self.duplicates_with_new_event_id == 0,
            format!("{} repeated notifications with a new eventId", self.duplicates_with_new_event_id),
        );
        check(self.drained, "the pipeline did not drain in time".into());
        check(
            self.fate_readable == self.accepted,
            format!(
                "{} of {} notes have a fate their owner can read (stored or listed failed)",
                self.fate_readable, self.accepted
            ),
        );

        failures
    }

    pub fn last_line(&self) -> String {
        format!(
            "soak: {} accepted, {} stored once, {} lost, {} duplicated, {} dead-lettered with note-failed, {} misdelivered",
            self.accepted,
            self.stored_once,
            self.lost,
            self.stored_twice,
            self.dead_lettered_with_note_failed,
            self.misdelivered
        )
    }

    pub fn print(&self) {
        let per_note = |n: u64| n as f64 / self.accepted.max(1) as f64;
        println!(
            "soak: {} notes from {} users, fault plan {}",
            self.notes,
            self.users,
            self.plan.as_deref().unwrap_or("none")
        );
        println!("  accepted (202)                         {}", self.accepted);
        println!("  refused                                {}", self.refused);
        println!("  stored exactly once                    {}", self.stored_once);
        println!("  stored twice                           {}", self.stored_twice);
        println!("  lost                                   {}", self.lost);
        println!(
            "  dead-lettered with note-failed         {} (poison: {} of {})",
            self.dead_lettered_with_note_failed, self.poison_dead_lettered_with_note_failed, self.poison
        );
        println!("  other notes stored once                {}", self.other_stored_once);
        println!("  owners notified                        {} of {}", self.owners_notified, self.accepted);
        println!("  fate readable by the owner             {} of {}", self.fate_readable, self.accepted);
        println!(
            "  saves unheard by a connected owner     {} (read from the list instead; notify DLQ holds {})",
            self.saves_unheard, self.notify_dead_lettered
        );
        println!(
            "  repeated notifications                 {} ({} with a new eventId)",
            self.duplicate_notifications, self.duplicates_with_new_event_id
        );
        println!("  misdelivered                           {}", self.misdelivered);
        println!("  listener reconnects                    {}", self.reconnects);
        println!("  redriven from the DLQ                  {}", self.redriven);
        let ms = |v: Option<f64>| v.map(|v| format!("{v:.1} ms")).unwrap_or_else(|| "-".into());
        println!("  POST -> owner's note-saved             p50 {}, p99 {}", ms(self.p50_ms), ms(self.p99_ms));
        println!(
            "  drained in                             {:.1} s ({:.1} notes/s end to end); {:.1} s in all",
            self.seconds_to_drain,
            self.notes_per_second(),
            self.seconds_total
        );
        println!(
            "  AWS calls per accepted note, by API (every call the stack made from the first POST to the end of the redrive):"
        );
        for (api, n) in &self.api_calls {
            println!("    {api:<40} {:>9.3}  ({n})", per_note(*n));
        }
        println!("    {:<40} {:>9.3}", "all", per_note(self.api_calls.values().sum()));
        let per = |v: f64| v / self.accepted.max(1) as f64;
        println!(
            "  DynamoDB capacity units per accepted note, by API (as DynamoDB Local reports them; refused calls apart):"
        );
        for (api, c) in &self.consumed_capacity {
            println!("    {api:<40} {:>9.3}  ({} calls, {} refused)", per(c.capacity_units), c.calls, c.refused);
        }
        println!("  invocations per accepted note, by function (mean duration):");
        for (function, i) in &self.invocations {
            let mean = i.milliseconds / i.count.max(1) as f64;
            println!("    {function:<40} {:>9.3}  ({} at {mean:.1} ms)", per(i.count as f64), i.count);
        }
        if !self.injected.is_empty() {
            println!("  faults injected (these calls never reached the emulators):");
            for (what, n) in &self.injected {
                println!("    {what:<50} {n}");
            }
        }
        for lost in &self.lost_notes {
            println!("  LOST: {}", lost.why());
        }
        for failure in self.failures() {
            println!("  MISSED: {failure}");
        }
        println!("{}", self.last_line());
    }
}

pub(super) fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}
