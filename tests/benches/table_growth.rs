//! How the time of one TransactWriteItems grows with the number of items in the table: the
//! three-item transaction a WebSocket `$connect` writes (`ConnectionStore::add`), sent one after
//! another at several table sizes. On DynamoDB Local it should stay flat; moto's grew with the
//! table (75 ms at 500 items, 304 ms at 1,500), which is why the table left moto.
//!
//! `cargo bench -p notes-e2e --bench table_growth` (also part of `make bench`). It uses the
//! DynamoDB Local at `AWS_ENDPOINT_URL_DYNAMODB`, or starts one in memory; with
//! `TABLE_GROWTH_MOTO=1` it measures moto too (up to 1,500 items: past that it takes minutes).
//! Its progress (filling, timing, at which size) is shown on stderr.

use std::time::{Duration, Instant};

use futures::{StreamExt as _, stream};
use notes_core::adapters::aws::DynamoTable;
use notes_core::domain::{Timestamp, Username};
use notes_core::ports::{Connection, ConnectionStore};
use notes_e2e::progress::Progress;
use notes_e2e::{env_endpoint, unique};
use notes_local::dynamodb_local::{DynamoDbLocal, Storage};

/// Table sizes (items) at which transactions are timed.
const SIZES: [usize; 6] = [0, 500, 1_500, 3_000, 6_000, 9_000];
/// Transactions timed at each size, one after another.
const SAMPLES: usize = 50;
/// Untimed transactions on a table of their own first, so a cold JVM's start is not counted.
const WARMUP: usize = 200;
/// Items one `add` writes: the connection's META item, the owner's and the broadcast one.
const ITEMS_PER_ADD: usize = 3;

fn connection(n: usize) -> Connection {
    let now = Timestamp::now();
    Connection {
        connection_id: format!("bench-{n:06}"),
        username: Username::parse(format!("user{}", n % 100)).expect("a valid name"),
        connected_at: now,
        expires_at: now.plus_seconds(7200),
    }
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

async fn new_table(sdk: &aws_config::SdkConfig) -> DynamoTable {
    let name = unique("table-growth");
    notes_local::provision::create_table(sdk, &name).await.expect("the table is created");
    DynamoTable::new(aws_sdk_dynamodb::Client::new(sdk), &name)
}

/// Times transactions at each of `SIZES` up to `largest`, filling the table in between with
/// `fill_concurrency` transactions in flight.
async fn measure(emulator: &str, endpoint: &str, largest: usize, fill_concurrency: usize) {
    let sdk = notes_local::emulator_sdk_config(endpoint, endpoint).await;
    let progress = Progress::start(&format!("table growth, {emulator}"));
    progress.phase("warming up", WARMUP as u64, "transactions");
    let warmup = new_table(&sdk).await;
    for n in 0..WARMUP {
        warmup.add(&connection(n)).await.expect("warm-up");
        progress.add_done(1);
    }
    let table = new_table(&sdk).await;
    let mut lines = Vec::new();

    let mut next = 0;
    for size in SIZES.into_iter().filter(|s| *s <= largest) {
        let fill = (size.saturating_sub(next * ITEMS_PER_ADD)).div_ceil(ITEMS_PER_ADD);
        progress.phase(&format!("filling to {size} items"), fill as u64, "transactions");
        stream::iter(next..next + fill)
            .map(|n| {
                let (table, progress) = (&table, &progress);
                async move {
                    table.add(&connection(n)).await.expect("filled");
                    progress.add_done(1);
                }
            })
            .buffer_unordered(fill_concurrency)
            .collect::<Vec<()>>()
            .await;
        next += fill;
        let items = next * ITEMS_PER_ADD;

        let mut samples = Vec::with_capacity(SAMPLES);
        progress.phase(&format!("timing at {items} items"), SAMPLES as u64, "transactions");
        for _ in 0..SAMPLES {
            let started = Instant::now();
            table.add(&connection(next)).await.expect("written");
            samples.push(started.elapsed());
            progress.add_done(1);
            next += 1;
        }
        samples.sort();
        let mean = samples.iter().sum::<Duration>() / SAMPLES as u32;
        let p99 = samples[(SAMPLES * 99).div_ceil(100) - 1];
        lines.push(format!(
            "  {items:>6}  {:>8.1}  {:>8.1}  {:>8.1}",
            millis(samples[SAMPLES / 2]),
            millis(mean),
            millis(p99)
        ));
    }
    // The table once the progress line is done with the terminal.
    progress.finish();
    println!(
        "{emulator} ({endpoint}): one TransactWriteItems of {ITEMS_PER_ADD} items, {SAMPLES} one after another \
         (after {WARMUP} untimed)"
    );
    println!("  {:>6}  {:>8}  {:>8}  {:>8}", "items", "p50 ms", "mean ms", "p99 ms");
    for line in lines {
        println!("{line}");
    }
}

#[tokio::main]
async fn main() {
    let started;
    let endpoint = match env_endpoint("AWS_ENDPOINT_URL_DYNAMODB") {
        Some(endpoint) => endpoint,
        None => {
            started = DynamoDbLocal::start(&Storage::InMemory).await.expect("DynamoDB Local starts");
            started.endpoint()
        }
    };
    measure("DynamoDB Local", &endpoint, usize::MAX, 4).await;

    if env_endpoint("TABLE_GROWTH_MOTO").is_some() {
        let moto = notes_local::moto::MotoServer::start().await.expect("moto starts");
        // One at a time: moto answers concurrent transactions with an HTML error page now and then.
        measure("moto", &moto.endpoint(), 1_500, 1).await;
    }
}
