//! The soak (`make soak`): `SOAK_NOTES` notes (10,000) from `SOAK_USERS` users (50) through a
//! local stack under the `soak` fault plan (`SOAK_FAULT_PLAN`: a preset, a file, or `none`),
//! reconciled note by note (`notes_e2e::soak`). Prints the reconciliation; its last line is
//! `soak: A accepted, S stored once, 0 lost, 0 duplicated, D dead-lettered with note-failed, 0
//! misdelivered`, and it exits non-zero when a target is missed. With `SOAK_MIN_NOTES_PER_SECOND`
//! set, a slower run (to the drain) is a miss too.

use notes_e2e::soak::{SoakConfig, run};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let config = match SoakConfig::from_env() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("soak: {err}");
            return std::process::ExitCode::from(2);
        }
    };
    let min_rate: Option<f64> = match std::env::var("SOAK_MIN_NOTES_PER_SECOND").ok().filter(|v| !v.is_empty()) {
        Some(v) => match v.parse() {
            Ok(rate) => Some(rate),
            Err(_) => {
                eprintln!("soak: SOAK_MIN_NOTES_PER_SECOND={v} is not a number");
                return std::process::ExitCode::from(2);
            }
        },
        None => None,
    };
    // The functions log as they do in Lambda (JSON lines on stdout), so the cost measurement can
    // weigh their output.
    notes_core::telemetry::init("notes-local");
    let report = match run(config).await {
        Ok(report) => report,
        Err(err) => {
            eprintln!("soak: {err}");
            return std::process::ExitCode::FAILURE;
        }
    };
    report.print();
    if let Some(path) = std::env::var_os("SOAK_COUNTS_JSON") {
        let counts = serde_json::to_string_pretty(&report.counts_json()).unwrap_or_default();
        if let Err(err) = std::fs::write(&path, counts) {
            eprintln!("soak: could not write {}: {err}", path.to_string_lossy());
            return std::process::ExitCode::FAILURE;
        }
    }
    let slow = min_rate.filter(|rate| report.notes_per_second() < *rate);
    if let Some(rate) = slow {
        println!("  MISSED: {:.1} notes/s, below the {rate} notes/s asked for", report.notes_per_second());
    }
    if report.failures().is_empty() && slow.is_none() {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}
