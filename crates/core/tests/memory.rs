//! The long-run memory budget (issue 8), part of the README's test command:
//! a simulated hour of steady load with the playground's settings
//! (`Simulation::interactive`: every detail and timeline kept for the
//! requests it keeps) must leave the heap flat. A counting allocator gives
//! the live heap. `cargo bench --bench memory` prints the same run sample by
//! sample (`--keep-all` shows the unbounded run for comparison).
//!
//! One test in this binary, so no other test's allocations are counted.

#[path = "../benches/support/heap.rs"]
mod counting;

#[global_allocator]
static ALLOC: counting::Counting = counting::Counting;

use gateway_core::bench;
use gateway_core::sim::Scenario;

const MB: f64 = 1024.0 * 1024.0;

/// Growth allowed per simulated hour, over the samples from the 5th
/// simulated minute on (the kept window fills in the first seconds): the heap
/// must not grow with the run's length. (Unbounded, this run grew by ~709 MB
/// per simulated hour.)
const BUDGET_MB_PER_HOUR: f64 = 2.0;
/// The heap the run may use at any sample: what the newest
/// `INTERACTIVE_RETAIN` requests and the bounded logs take, with room.
const BUDGET_MB: f64 = 32.0;

#[test]
fn an_hour_of_load_keeps_the_heap_flat() {
    // The healthy playground, then one full of errors and timeouts (more
    // log lines, timers and connections per request).
    for (file, rate) in [("scenarios/healthy.json", 50.0), ("scenarios/overload.json", 20.0)] {
        let text = std::fs::read_to_string(format!("{}/{file}", concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))).unwrap();
        let sc = bench::steady(Scenario::from_json(&text).unwrap(), rate, 3_600);
        let before = counting::live();
        let samples = bench::long_run(sc, 3_600, 300, false, || counting::live().saturating_sub(before) as u64);
        let last = samples.last().unwrap();
        assert!(last.kept < last.requests, "the run retired old requests");
        let per_hour = bench::growth_mb_per_hour(&samples);
        let most = samples.iter().map(|s| s.bytes as f64 / MB).fold(0.0, f64::max);
        let shown: Vec<String> = samples.iter().map(|s| format!("{}s {:.1}MB", s.t_s, s.bytes as f64 / MB)).collect();
        eprintln!("{file} at {rate}/s: {per_hour:.3} MB per simulated hour, at most {most:.1} MB: {}", shown.join(", "));
        assert!(per_hour <= BUDGET_MB_PER_HOUR, "{file}: the heap grows {per_hour:.2} MB per simulated hour (budget {BUDGET_MB_PER_HOUR}): {shown:?}");
        assert!(most <= BUDGET_MB, "{file}: the heap reached {most:.1} MB (budget {BUDGET_MB}): {shown:?}");
    }
}
