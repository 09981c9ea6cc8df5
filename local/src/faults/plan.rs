//! Fault plans: what may go wrong and how often, drawn from a seeded generator.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use notes_core::ports::StoreError;
use serde::{Deserialize, Serialize};

/// What may go wrong, and how often: a fault plan. Every probability is per call (or per
/// delivered message, or per batch) and between 0 and 1. Read from JSON (`--fault-plan FILE`),
/// unknown fields refused, absent ones 0; or a preset by name ([`FaultPlan::preset`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FaultPlan {
    /// Seeds the generator every fault is drawn from, so a run can be repeated.
    pub seed: u64,
    /// Each DynamoDB call of `save-note`, `notify` and `broadcast` fails as throttled
    /// (`ProvisionedThroughputExceededException`).
    #[serde(default)]
    pub table_throttled: f64,
    /// Each `PutEvents` of `publish-changes` (the table stream's consumer, the only function of
    /// the pipeline that publishes) fails outright (a 500 `InternalException`).
    #[serde(default)]
    pub put_events_unavailable: f64,
    /// Each `PutEvents` of `publish-changes` answers 200 with `FailedEntryCount > 0` (every entry
    /// `ThrottlingException`).
    #[serde(default)]
    pub put_events_rejected: f64,
    /// Each `PostToConnection` of `notify` answers a 500.
    #[serde(default)]
    pub post_to_connection_5xx: f64,
    /// Each `PostToConnection` of `notify` finds the connection gone: the local API Gateway drops
    /// the connection (the client sees it close, as when its network went) and answers 410.
    #[serde(default)]
    pub post_to_connection_gone: f64,
    /// Each message `save-note` receives is delivered a second time (SQS is at-least-once).
    #[serde(default)]
    pub duplicate_delivery: f64,
    /// Each `save-note` invocation dies after handling part of its batch: nothing of the batch
    /// is deleted, so all of it comes back after the visibility timeout.
    #[serde(default)]
    pub die_mid_batch: f64,
    /// Each call above (before any fault is drawn for it) is first delayed by `slowCallMs`.
    #[serde(default)]
    pub slow_call: f64,
    #[serde(default)]
    pub slow_call_ms: u64,
}

/// The presets `--fault-plan` knows by name.
pub const PRESETS: &[&str] = &["soak"];

impl FaultPlan {
    /// A plan by name: `soak` fails 20 % of the AWS calls of `save-note` and `notify`
    /// transiently and delivers 5 % of the messages twice (plus 1 % of invocations dying
    /// mid-batch and 1 % of calls 250 ms slow).
    pub fn preset(name: &str) -> Option<FaultPlan> {
        match name {
            "soak" => Some(FaultPlan {
                seed: 20_260_101,
                table_throttled: 0.20,
                put_events_unavailable: 0.10,
                put_events_rejected: 0.10,
                post_to_connection_5xx: 0.18,
                post_to_connection_gone: 0.02,
                duplicate_delivery: 0.05,
                die_mid_batch: 0.01,
                slow_call: 0.01,
                slow_call_ms: 250,
            }),
            _ => None,
        }
    }

    /// `--fault-plan PLAN`: a preset's name, or a JSON file; every mistake is a sentence.
    pub fn load(plan: &str) -> Result<FaultPlan, String> {
        if let Some(preset) = FaultPlan::preset(plan) {
            return Ok(preset);
        }
        let path = Path::new(plan);
        if !path.is_file() {
            return Err(format!(
                "--fault-plan {plan}: no preset has that name ({}) and it is not a file",
                PRESETS.join(", ")
            ));
        }
        let text = std::fs::read_to_string(path).map_err(|e| format!("--fault-plan {plan}: cannot read it: {e}"))?;
        FaultPlan::from_json(&text).map_err(|e| format!("--fault-plan {plan}: {e}"))
    }

    /// A plan from its JSON text, checked.
    pub fn from_json(text: &str) -> Result<FaultPlan, String> {
        let plan: FaultPlan = serde_json::from_str(text).map_err(|e| format!("not a fault plan: {e}"))?;
        plan.validate()?;
        Ok(plan)
    }

    pub fn validate(&self) -> Result<(), String> {
        let probabilities = [
            ("tableThrottled", self.table_throttled),
            ("putEventsUnavailable", self.put_events_unavailable),
            ("putEventsRejected", self.put_events_rejected),
            ("postToConnection5xx", self.post_to_connection_5xx),
            ("postToConnectionGone", self.post_to_connection_gone),
            ("duplicateDelivery", self.duplicate_delivery),
            ("dieMidBatch", self.die_mid_batch),
            ("slowCall", self.slow_call),
        ];
        for (name, p) in probabilities {
            if !(0.0..=1.0).contains(&p) {
                return Err(format!("{name} is {p}; a probability is between 0 and 1"));
            }
        }
        for (what, sum) in [
            ("putEventsUnavailable + putEventsRejected", self.put_events_unavailable + self.put_events_rejected),
            ("postToConnection5xx + postToConnectionGone", self.post_to_connection_5xx + self.post_to_connection_gone),
        ] {
            if sum > 1.0 {
                return Err(format!("{what} is {sum}; one call fails one way at most, so it cannot exceed 1"));
            }
        }
        if self.slow_call > 0.0 && self.slow_call_ms == 0 {
            return Err("slowCall is set but slowCallMs is 0".into());
        }
        if self.slow_call_ms > 60_000 {
            return Err(format!("slowCallMs is {}; at most 60000 (a minute)", self.slow_call_ms));
        }
        Ok(())
    }
}

/// A fault plan at work: the seeded generator, an on/off switch (off before a redrive, as an
/// operator's fix would be), and how many faults it injected, by AWS API.
#[derive(Debug)]
pub struct Faults {
    plan: FaultPlan,
    state: Mutex<u64>,
    on: AtomicBool,
    injected: Mutex<BTreeMap<String, u64>>,
}

/// The fault a call gets.
pub(super) enum Drawn {
    None,
    First,
    Second,
}

impl Faults {
    pub fn new(plan: FaultPlan) -> Arc<Self> {
        let state = Mutex::new(plan.seed);
        Arc::new(Faults { plan, state, on: AtomicBool::new(true), injected: Mutex::new(BTreeMap::new()) })
    }

    pub fn plan(&self) -> &FaultPlan {
        &self.plan
    }

    /// Turns the plan's faults on or off (the poison marker has its own [`FaultSwitch`]).
    pub fn set(&self, on: bool) {
        self.on.store(on, Ordering::SeqCst);
    }

    pub fn is_on(&self) -> bool {
        self.on.load(Ordering::SeqCst)
    }

    /// The faults injected so far, by what they stood for (`DynamoDB:Query throttled`, …).
    pub fn injected(&self) -> BTreeMap<String, u64> {
        self.injected.lock().expect("not poisoned").clone()
    }

    /// The next number in [0, 1) of the seeded sequence (SplitMix64). The sequence is fixed by
    /// the seed; which call gets which number follows the order the calls come in.
    fn next(&self) -> f64 {
        let mut state = self.state.lock().expect("not poisoned");
        *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Whether something of probability `p` happens now (never while the plan is off).
    pub fn happens(&self, p: f64) -> bool {
        p > 0.0 && self.is_on() && self.next() < p
    }

    /// A number in `0..n` from the sequence, for choosing where a batch dies.
    pub fn below(&self, n: usize) -> usize {
        ((self.next() * n as f64) as usize).min(n.saturating_sub(1))
    }

    pub fn record(&self, what: impl Into<String>) {
        *self.injected.lock().expect("not poisoned").entry(what.into()).or_default() += 1;
    }

    pub(super) fn draw(&self, first: f64, second: f64) -> Drawn {
        if !self.is_on() || first + second <= 0.0 {
            return Drawn::None;
        }
        let x = self.next();
        if x < first {
            Drawn::First
        } else if x < first + second {
            Drawn::Second
        } else {
            Drawn::None
        }
    }

    pub(super) async fn maybe_slow(&self, api: &str) {
        if self.happens(self.plan.slow_call) {
            self.record(format!("{api} slow"));
            tokio::time::sleep(Duration::from_millis(self.plan.slow_call_ms)).await;
        }
    }

    /// Before a DynamoDB call: maybe slow, maybe throttled.
    pub(super) async fn table_call(&self, api: &str) -> Result<(), StoreError> {
        self.maybe_slow(api).await;
        if self.happens(self.plan.table_throttled) {
            self.record(format!("{api} throttled"));
            return Err(StoreError::Unavailable(format!(
                "{api}: ProvisionedThroughputExceededException (local fault plan)"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_soak_preset_fails_a_fifth_of_the_calls_and_duplicates_five_percent() {
        let plan = FaultPlan::load("soak").unwrap();
        assert_eq!(plan.table_throttled, 0.20);
        assert!((plan.put_events_unavailable + plan.put_events_rejected - 0.20).abs() < 1e-9);
        assert!((plan.post_to_connection_5xx + plan.post_to_connection_gone - 0.20).abs() < 1e-9);
        assert_eq!(plan.duplicate_delivery, 0.05);
        plan.validate().unwrap();
    }

    #[test]
    fn a_plan_reads_from_json_with_absent_fields_zero() {
        let plan = FaultPlan::from_json(r#"{"seed": 7, "tableThrottled": 0.5}"#).unwrap();
        assert_eq!(plan.seed, 7);
        assert_eq!(plan.table_throttled, 0.5);
        assert_eq!(plan.duplicate_delivery, 0.0);
    }

    #[test]
    fn bad_plans_are_refused_with_a_reason() {
        let refused = |text: &str| FaultPlan::from_json(text).unwrap_err();
        assert!(refused(r#"{"tableThrottled": 0.5}"#).contains("seed"));
        assert!(refused(r#"{"seed": 1, "tableThrotled": 0.5}"#).contains("unknown field"));
        assert!(refused(r#"{"seed": 1, "tableThrottled": 1.5}"#).contains("between 0 and 1"));
        assert!(
            refused(r#"{"seed": 1, "postToConnection5xx": 0.6, "postToConnectionGone": 0.6}"#).contains("exceed 1")
        );
        assert!(refused(r#"{"seed": 1, "slowCall": 0.1}"#).contains("slowCallMs"));
        assert!(refused("not json").contains("not a fault plan"));
        let missing = FaultPlan::load("/no/such/plan.json").unwrap_err();
        assert!(missing.contains("no preset") && missing.contains("soak"), "{missing}");
    }

    #[test]
    fn the_same_seed_draws_the_same_faults() {
        let plan = FaultPlan { seed: 42, ..FaultPlan::preset("soak").unwrap() };
        let run = || {
            let faults = Faults::new(plan.clone());
            (0..1000).map(|_| faults.happens(0.2)).collect::<Vec<bool>>()
        };
        let first = run();
        assert_eq!(first, run());
        let hits = first.iter().filter(|h| **h).count();
        assert!((150..250).contains(&hits), "{hits} of 1000 at 20 %");
        let other = Faults::new(FaultPlan { seed: 43, ..plan.clone() });
        assert_ne!(first, (0..1000).map(|_| other.happens(0.2)).collect::<Vec<bool>>());
    }

    #[test]
    fn nothing_is_injected_while_the_plan_is_off() {
        let faults =
            Faults::new(FaultPlan { seed: 1, table_throttled: 1.0, ..FaultPlan::from_json(r#"{"seed":1}"#).unwrap() });
        assert!(faults.happens(1.0));
        faults.set(false);
        assert!(!faults.happens(1.0));
    }
}
