//! A public note reaches every open connection exactly once: 200 connections of 20 users
//! (`make bench` runs 2,000 and prints the time).

use std::time::Duration;

use notes_e2e::Stack;
use notes_e2e::fanout::fan_out;

#[tokio::test]
async fn one_public_note_reaches_each_of_200_open_connections_exactly_once() {
    let stack = Stack::start().await;
    let result = fan_out(&stack, 200, Duration::from_secs(60)).await;
    assert!(result.exactly_once(), "{result:?}");
}
