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

use gateway_lab::sim::time::SimTime;
use gateway_lab::sim::{Scenario, Simulation};

const MB: f64 = 1024.0 * 1024.0;

/// Growth allowed per simulated hour once the kept window has filled: the
/// heap must not grow with the run's length. (Unbounded, this run grew by
/// ~695 MB per simulated hour.)
const BUDGET_MB_PER_HOUR: f64 = 2.0;
/// The heap the run may use at any sample after the first: what the newest
/// `INTERACTIVE_RETAIN` requests and the bounded logs take, with room.
const BUDGET_MB: f64 = 32.0;

fn steady(file: &str, rate: f64, seconds: u64) -> Scenario {
    let text = std::fs::read_to_string(format!("{}/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let mut sc = Scenario::from_json(&text).unwrap();
    sc.requests.clear();
    sc.duration_ms = 0;
    sc.clients.rate_per_s = rate;
    sc.clients.requests = (rate * seconds as f64) as u32;
    sc
}

/// (virtual hours, live heap MB) every `sample_s`, from an empty start.
fn samples(sc: Scenario, seconds: u64, sample_s: u64) -> Vec<(f64, f64)> {
    let before = counting::live();
    let mut sim = Simulation::interactive(sc).unwrap();
    let mut points = Vec::new();
    let mut t = 0;
    while t < seconds {
        t += sample_s;
        sim.run_until(SimTime::from_ms(t * 1_000));
        points.push((t as f64 / 3_600.0, counting::live().saturating_sub(before) as f64 / MB));
    }
    assert!(sim.exchanges().retired() > 0, "the run retired old requests");
    points
}

#[test]
fn an_hour_of_load_keeps_the_heap_flat() {
    // The healthy playground, then one full of errors and timeouts (more
    // log lines, timers and connections per request).
    for (file, rate) in [("scenarios/healthy.json", 50.0), ("scenarios/overload.json", 20.0)] {
        let points = samples(steady(file, rate, 3_600), 3_600, 300);
        let settled = &points[1..];
        let per_hour = counting::slope(settled);
        let most = settled.iter().map(|p| p.1).fold(0.0, f64::max);
        let shown: Vec<String> = points.iter().map(|(h, mb)| format!("{:.0}s {mb:.1}MB", h * 3_600.0)).collect();
        eprintln!("{file} at {rate}/s: {per_hour:.3} MB per simulated hour, at most {most:.1} MB: {}", shown.join(", "));
        assert!(per_hour <= BUDGET_MB_PER_HOUR, "{file}: the heap grows {per_hour:.2} MB per simulated hour (budget {BUDGET_MB_PER_HOUR}): {shown:?}");
        assert!(most <= BUDGET_MB, "{file}: the heap reached {most:.1} MB (budget {BUDGET_MB}): {shown:?}");
    }
}
