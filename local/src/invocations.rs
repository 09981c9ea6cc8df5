//! How often the stack invoked each function and for how long: the cost measurement's source for
//! Lambda's requests and duration (`make cost`). Each invocation is timed from the moment the
//! stand-in (the HTTP or WebSocket API, the event source mapping, EventBridge's asynchronous
//! invocation) hands the event over until the function answers, as Lambda bills it.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

/// One function's invocations.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Invoked {
    pub count: u64,
    /// Summed duration, in milliseconds.
    pub milliseconds: f64,
}

/// Invocations so far, by function name.
#[derive(Clone, Debug, Default)]
pub struct Invocations(Arc<Mutex<BTreeMap<String, Invoked>>>);

impl Invocations {
    /// Runs one invocation of `function`, counting and timing it.
    pub async fn time<T>(&self, function: &str, invocation: impl Future<Output = T>) -> T {
        let started = Instant::now();
        let answer = invocation.await;
        self.record(function, started.elapsed());
        answer
    }

    pub fn snapshot(&self) -> BTreeMap<String, Invoked> {
        self.0.lock().expect("not poisoned").clone()
    }

    fn record(&self, function: &str, took: Duration) {
        let mut all = self.0.lock().expect("not poisoned");
        let entry = all.entry(function.to_owned()).or_default();
        entry.count += 1;
        entry.milliseconds += took.as_secs_f64() * 1000.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn each_invocation_is_counted_and_timed_under_its_function() {
        let invocations = Invocations::default();
        let answer = invocations
            .time("save-note", async {
                tokio::time::sleep(Duration::from_millis(20)).await;
                7
            })
            .await;
        invocations.time("save-note", async {}).await;
        assert_eq!(answer, 7);
        let seen = invocations.snapshot();
        assert_eq!(seen["save-note"].count, 2);
        assert!(seen["save-note"].milliseconds >= 20.0, "{:?}", seen["save-note"]);
        assert!(!seen.contains_key("notify"));
    }
}
