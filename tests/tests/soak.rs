//! The soak at 300 notes (`make test` runs it as its own step, after the other Rust tests, so
//! its load does not slow them): the same run and the same targets as `make soak`.

use notes_e2e::soak::{SoakConfig, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a 300-note soak under the soak fault plan; scripts/test.sh runs it as its own step"]
async fn a_small_soak_under_the_soak_plan_loses_nothing_duplicates_nothing_and_misdelivers_nothing() {
    let config = SoakConfig::from_env_or(300).expect("the soak's settings");
    let report = run(config).await.expect("the soak runs");
    report.print();
    assert!(report.failures().is_empty(), "{:?}\n{}", report.failures(), report.last_line());
}
