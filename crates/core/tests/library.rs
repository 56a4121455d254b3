//! The built-in scenario lists (the page's picker, the retry lab's experiments) are exactly
//! scenarios/ and scenarios/retry_lab/, and every entry parses.

use gateway_core::sim::Scenario;
use gateway_core::scenarios::READY as SCENARIOS;

mod common;

/// The file stems of the `.json` files in `dir`, sorted.
fn stems(dir: &str) -> Vec<String> {
    common::json_files(dir).iter().map(|p| p.file_stem().unwrap().to_string_lossy().into_owned()).collect()
}

#[test]
fn the_page_offers_every_scenario_file() {
    let files = stems("scenarios");
    let listed: Vec<String> = SCENARIOS.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(listed, files, "crates/core/src/scenarios.rs must list every file in scenarios/, sorted");
    for (name, text) in SCENARIOS {
        Scenario::from_json(text).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn the_retry_lab_offers_every_experiment_file() {
    use gateway_core::scenarios::EXPERIMENTS;
    let files = stems("scenarios/retry_lab");
    let mut listed: Vec<String> = EXPERIMENTS.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(listed[0], "retry_storm", "the storm is the lab's first experiment");
    listed.sort();
    assert_eq!(listed, files, "crates/core/src/scenarios.rs must list every file in scenarios/retry_lab/");
}

#[test]
fn the_lab_runs_a_strategy_with_its_own_load() {
    use gateway_core::sim::scenario::RetryPolicy;
    use gateway_core::lab as run;
    use gateway_core::scenarios::EXPERIMENTS;
    let base = Scenario::from_json(EXPERIMENTS[1].1).unwrap();
    let load = run::Load { count: 10_000, requests: 1_000, rate_per_s: 500.0 };
    let (m, events) = run::run(&base, &load, &RetryPolicy::default()).unwrap();
    assert_eq!(m.ops, 1_000);
    assert!(events > 1_000);
    assert_eq!(m.amplification, 1.0, "no retries: one attempt per request");
    // A bad value comes back as the scenario's own message, not a panic.
    let bad = run::Load { count: 0, ..load.clone() };
    let e = run::run(&base, &bad, &RetryPolicy::default()).unwrap_err();
    assert!(e.starts_with("clients.count"), "{e}");
    // Work that would not fit in the page is refused up front.
    let huge = run::Load { requests: 50_000, ..load };
    let e = run::run(&base, &huge, &RetryPolicy { max_attempts: 100, ..RetryPolicy::default() }).unwrap_err();
    assert!(e.contains("at most 250000"), "{e}");
}
