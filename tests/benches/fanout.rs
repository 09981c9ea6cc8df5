//! `make bench`: one public note fanned out by the local stack to FANOUT_CONNECTIONS (2,000) open
//! WebSocket connections, each of which must receive it exactly once; prints the times from the
//! `POST` to the first, the median and the last connection's `note-saved`.

use std::time::Duration;

use notes_e2e::Stack;
use notes_e2e::fanout::fan_out;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let connections: usize = std::env::var("FANOUT_CONNECTIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(2_000);
    let stack = Stack::start().await;
    let result = fan_out(&stack, connections, Duration::from_secs(300)).await;
    println!(
        "fan-out: {} of {} connections received the public note once ({} duplicates); POST -> first {:.0} ms, median {:.0} ms, last {:.0} ms",
        result.received,
        result.connections,
        result.duplicates,
        result.first.as_secs_f64() * 1000.0,
        result.p50.as_secs_f64() * 1000.0,
        result.last.as_secs_f64() * 1000.0,
    );
    if result.exactly_once() { std::process::ExitCode::SUCCESS } else { std::process::ExitCode::FAILURE }
}
