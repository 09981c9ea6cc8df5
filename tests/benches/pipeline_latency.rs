//! Latency of the whole pipeline through the local stack: `POST /notes` until the owner's
//! WebSocket receives `note-saved`. Prints p50, p99 and the throughput of the run.
//!
//! `make bench` runs it in a release build against a fresh DynamoDB Local and moto. The number
//! includes them, and moto is far slower than the AWS services it stands in for, so read it as
//! the local stack's latency and as a regression signal for the handlers, not as AWS latency.
//! Its progress (notes done, the last latency, the time left) is shown on stderr.

use std::time::{Duration, Instant};

use notes_e2e::Stack;
use notes_e2e::progress::Progress;

const WARMUP: usize = 5;
const SAMPLES: usize = 100;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[tokio::main]
async fn main() {
    let progress = Progress::start("latency");
    let stack = Stack::start().await;
    let (token, mut socket) = stack.connected_user("bench").await;
    let mut samples = Vec::with_capacity(SAMPLES);
    progress.phase("POST -> note-saved", (WARMUP + SAMPLES) as u64, "notes");
    let started = Instant::now();
    for i in 0..WARMUP + SAMPLES {
        let sent = Instant::now();
        let note_id = stack.post_note(&token, &format!("benchmark note {i}"), i % 2 == 0).await;
        socket.expect_event("note-saved", &note_id).await;
        let latency = sent.elapsed();
        if i >= WARMUP {
            samples.push(latency);
        }
        progress.set("last ms", latency.as_millis() as u64);
        progress.add_done(1);
    }
    let total = started.elapsed();
    progress.finish();
    samples.sort();
    let mean = samples.iter().sum::<Duration>() / samples.len() as u32;
    println!("POST /notes -> WebSocket note-saved, {SAMPLES} notes one after another (after {WARMUP} warm-up):");
    println!("  p50  {:>8.1} ms", percentile(&samples, 50.0).as_secs_f64() * 1e3);
    println!("  p99  {:>8.1} ms", percentile(&samples, 99.0).as_secs_f64() * 1e3);
    println!("  mean {:>8.1} ms   max {:.1} ms", mean.as_secs_f64() * 1e3, samples.last().unwrap().as_secs_f64() * 1e3);
    println!("  {:.1} notes/s end to end", (WARMUP + SAMPLES) as f64 / total.as_secs_f64());
}
