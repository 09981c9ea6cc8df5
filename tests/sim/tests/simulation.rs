//! The simulation as `make test` runs it: a fixed set of seeds, every named scenario, and the
//! planted defects it must catch.

use notes_sim::{Config, Defect, Outcome, run, scenarios};

/// Seeds every `make test` runs (`make sim SEEDS=N` runs more).
const SEEDS: u64 = 48;

fn report(outcome: &Outcome) -> String {
    let mut text = format!("seed {}: {} violations\n", outcome.seed, outcome.violations.len());
    for violation in outcome.violations.iter().take(5) {
        text.push_str(&format!("  {violation}\n"));
    }
    for line in outcome.trace.iter().rev().take(40).rev() {
        text.push_str(&format!("    {line}\n"));
    }
    text
}

#[test]
fn the_fixed_seeds_keep_every_invariant() {
    for seed in 1..=SEEDS {
        let outcome = run(&Config::seeded(seed));
        assert!(outcome.violations.is_empty(), "{}", report(&outcome));
    }
}

#[test]
fn a_seed_replays_exactly() {
    let (a, b) = (run(&Config::seeded(7)), run(&Config::seeded(7)));
    assert_eq!(a.trace, b.trace);
    assert_eq!(a.violations, b.violations);
}

#[test]
fn every_named_scenario_keeps_every_invariant() {
    for (name, outcome) in scenarios::all() {
        assert!(outcome.violations.is_empty(), "{name}: {}", report(&outcome));
    }
}

/// The first of `seeds` seeds that breaks `invariant` with `defect` planted.
fn caught(defect: Defect, invariant: &str, seeds: u64) -> Option<u64> {
    (1..=seeds).find(|seed| {
        let outcome = run(&Config { defect: Some(defect), ..Config::seeded(*seed) });
        outcome.violations.iter().any(|v| v.invariant == invariant)
    })
}

#[test]
fn a_fan_out_that_skips_the_redaction_is_caught() {
    let seed = caught(Defect::UnredactedFanOut, "no user receives what they may not read", 30);
    assert!(seed.is_some(), "no seed of 30 caught text pushed to a user who may not read it");
    let outcome = scenarios::made_private_with_new_text(Some(Defect::UnredactedFanOut));
    assert!(outcome.violations.iter().any(|v| v.invariant == "no user receives what they may not read"));
}

#[test]
fn tombstones_that_expire_early_are_caught() {
    let outcome = scenarios::replay_late_in_retention(Some(Defect::EarlyTombstoneSweep));
    assert!(
        outcome.violations.iter().any(|v| v.invariant == notes_sim::invariants::DELETED_STAYS_DELETED),
        "{}",
        report(&outcome)
    );
}

#[test]
fn a_stream_that_skips_failed_records_is_caught() {
    let seed = caught(Defect::StreamSkipsFailures, notes_sim::invariants::CHANGES_REACH_OWNER, 30);
    assert!(seed.is_some(), "no seed of 30 caught a committed change that never reached its owner");
}
