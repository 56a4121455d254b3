//! Benchmark cases: the scenarios the performance figures are measured on.
//!
//! One definition, three runners: the criterion benches (`benches/engine.rs`),
//! the native `gateway-bench` binary and the page's hidden `?bench=` entry
//! point (`ui/bench.rs`, the release wasm build in Chromium). `scripts/bench`
//! runs the last two side by side and checks that they processed the same
//! number of events (the engine is deterministic, so the same scenario gives
//! the same count on both).
//!
//! Pure: no clock here. Each runner times `run` with its own clock
//! (`std::time::Instant` natively, `performance.now()` in the page).

use crate::sim::{Scenario, Simulation};

/// A scenario file with the load the benchmark puts on it.
#[derive(Clone, Copy, Debug)]
pub struct Case {
    pub name: &'static str,
    /// The file it comes from, relative to the repository (for the docs).
    pub file: &'static str,
    text: &'static str,
    /// Replaces `clients.requests`.
    pub requests: u32,
    /// Replaces `clients.count` when set.
    pub clients: Option<u32>,
    /// Replaces `clients.rate_per_s` when set.
    pub rate_per_s: Option<f64>,
    /// `World::measure_only()` (as the retry lab and `--metrics` run); false
    /// keeps every request's details and timeline, as the playground does.
    pub measure_only: bool,
    pub what: &'static str,
}

pub const CASES: &[Case] = &[
    Case {
        name: "healthy",
        file: "scenarios/healthy.json",
        text: include_str!("../../../scenarios/healthy.json"),
        requests: 10_000,
        clients: None,
        rate_per_s: Some(100.0),
        measure_only: true,
        what: "10,000 requests at 100/s to a healthy app, measure_only",
    },
    Case {
        name: "healthy_details",
        file: "scenarios/healthy.json",
        text: include_str!("../../../scenarios/healthy.json"),
        requests: 10_000,
        clients: None,
        rate_per_s: Some(100.0),
        measure_only: false,
        what: "the same with every detail and timeline kept (the playground's settings)",
    },
    Case {
        name: "flaky_503",
        file: "scenarios/retry_lab/flaky_503.json",
        text: include_str!("../../../scenarios/retry_lab/flaky_503.json"),
        requests: 50_000,
        clients: Some(10_000),
        rate_per_s: Some(500.0),
        measure_only: true,
        what: "the retry lab at its largest: 10,000 clients, 50,000 requests at 500/s, 30 % 503, 4 tries with full jitter",
    },
    Case {
        name: "retry_storm",
        file: "scenarios/retry_lab/retry_storm.json",
        text: include_str!("../../../scenarios/retry_lab/retry_storm.json"),
        requests: 100_000,
        clients: None,
        rate_per_s: None,
        measure_only: true,
        what: "100,000 requests from 2,000 synchronised clients, exponential backoff without jitter, 4 tries",
    },
];

pub fn case(name: &str) -> Option<&'static Case> {
    CASES.iter().find(|c| c.name == name)
}

pub fn names() -> Vec<&'static str> {
    CASES.iter().map(|c| c.name).collect()
}

impl Case {
    /// The case's scenario; `requests` (when given) replaces the case's own count.
    pub fn scenario(&self, requests: Option<u32>) -> Scenario {
        let mut s = Scenario::from_json(self.text).expect("benchmark scenarios are valid");
        s.requests.clear();
        s.duration_ms = 0;
        s.clients.requests = requests.unwrap_or(self.requests);
        if let Some(c) = self.clients {
            s.clients.count = c;
        }
        if let Some(r) = self.rate_per_s {
            s.clients.rate_per_s = r;
        }
        s
    }

    /// Builds the simulation (what `run` times, with the run itself).
    pub fn simulation(&self, scenario: Scenario) -> Simulation {
        let mut sim = Simulation::new(scenario).expect("benchmark scenarios are valid");
        if self.measure_only {
            sim.world_mut().measure_only();
        }
        sim
    }

    /// Builds and runs the scenario to the end; returns the events processed.
    pub fn run(&self, scenario: Scenario) -> u64 {
        let mut sim = self.simulation(scenario);
        sim.run();
        sim.world().events_processed
    }
}

/// Median of a non-empty list (mean of the middle two for an even count).
pub fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// One runner's result as the JSON line both runners print:
/// `{"case":…,"requests":…,"events":…,"runs_ms":[…],"ms":median,"events_per_s":…}`.
/// Runs `case` `runs` times on the same scenario, timing each run with
/// `now_ms` (the native clock or the page's `performance.now()`), and gives
/// the result as JSON; Err if the event count changed between runs (the
/// engine must be deterministic).
pub fn measure(case: &Case, requests: Option<u32>, runs: usize, mut now_ms: impl FnMut() -> f64) -> Result<String, String> {
    let scenario = case.scenario(requests);
    let n = scenario.clients.requests;
    let mut events = 0;
    let mut runs_ms = Vec::with_capacity(runs);
    for _ in 0..runs {
        let sc = scenario.clone();
        let t = now_ms();
        let e = case.run(sc);
        runs_ms.push(now_ms() - t);
        if events != 0 && e != events {
            return Err(format!("the event count changed between runs ({events} then {e}): not deterministic"));
        }
        events = e;
    }
    Ok(result_json(case, n, events, &runs_ms))
}

pub fn result_json(case: &Case, requests: u32, events: u64, runs_ms: &[f64]) -> String {
    let ms = median(runs_ms);
    let eps = if ms > 0.0 { events as f64 / (ms / 1_000.0) } else { 0.0 };
    serde_json::json!({
        "case": case.name,
        "requests": requests,
        "events": events,
        "runs_ms": runs_ms,
        "ms": ms,
        "events_per_s": eps.round(),
    })
    .to_string()
}

/// `sc` under a steady open-loop load and nothing else: `rate` requests/s
/// for `seconds` of virtual time (the memory runs' load).
pub fn steady(mut sc: Scenario, rate: f64, seconds: u64) -> Scenario {
    sc.requests.clear();
    sc.duration_ms = 0;
    sc.clients.rate_per_s = rate;
    sc.clients.requests = (rate * seconds as f64).round() as u32;
    sc
}

/// One sample of a long run.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Sample {
    /// Virtual seconds since the start.
    pub t_s: u64,
    /// What the runner's probe said: bytes held.
    pub bytes: u64,
    /// Requests sent so far, and those the run still keeps.
    pub requests: usize,
    pub kept: usize,
}

/// Runs `sc` for `seconds` of virtual time as the playground runs it
/// (`Simulation::interactive`, or every request kept with `keep_all`), in
/// steps of `sample_s`; after each step `probe` says how many bytes the
/// runner holds (the live heap natively, the wasm linear memory in the page).
pub fn long_run(sc: Scenario, seconds: u64, sample_s: u64, keep_all: bool, mut probe: impl FnMut() -> u64) -> Vec<Sample> {
    let made = if keep_all { Simulation::new(sc) } else { Simulation::interactive(sc) };
    let Ok(mut sim) = made else { return Vec::new() };
    let (sample_s, seconds) = (sample_s.max(1), seconds.max(1));
    let mut samples = Vec::new();
    let mut t = 0;
    while t < seconds {
        t = (t + sample_s).min(seconds);
        sim.run_until(crate::sim::time::SimTime::from_ms(t * 1_000));
        let w = sim.world();
        samples.push(Sample { t_s: t, bytes: probe(), requests: w.exchanges.len(), kept: w.exchanges.kept() });
    }
    samples
}

/// How fast the samples' bytes grow: the least-squares slope, in MB per
/// simulated hour.
pub fn growth_mb_per_hour(samples: &[Sample]) -> f64 {
    let points: Vec<(f64, f64)> = samples.iter().map(|s| (s.t_s as f64 / 3_600.0, s.bytes as f64 / 1_048_576.0)).collect();
    slope(&points)
}

/// Least-squares slope of y over x (0 for fewer than two distinct x).
pub fn slope(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    if points.len() < 2 {
        return 0.0;
    }
    let (mx, my) = (points.iter().map(|p| p.0).sum::<f64>() / n, points.iter().map(|p| p.1).sum::<f64>() / n);
    let num: f64 = points.iter().map(|(x, y)| (x - mx) * (y - my)).sum();
    let den: f64 = points.iter().map(|(x, _)| (x - mx) * (x - mx)).sum();
    if den == 0.0 { 0.0 } else { num / den }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_long_run_reports_flat_samples() {
        let sc = super::steady(super::case("healthy").unwrap().scenario(None), 20.0, 120);
        assert_eq!((sc.clients.requests, sc.clients.rate_per_s, sc.duration_ms), (2_400, 20.0, 0));
        let samples = super::long_run(sc, 120, 30, false, || 1_048_576);
        assert_eq!(samples.iter().map(|s| s.t_s).collect::<Vec<_>>(), [30, 60, 90, 120]);
        assert_eq!(samples[3].requests, 2_400);
        assert_eq!(super::growth_mb_per_hour(&samples), 0.0);
        assert_eq!(super::slope(&[(0.0, 1.0), (1.0, 3.0)]), 2.0);
    }

    use super::*;

    #[test]
    fn every_case_parses_and_applies_its_load() {
        for c in CASES {
            let s = c.scenario(None);
            assert_eq!(s.clients.requests, c.requests, "{}", c.name);
            if let Some(n) = c.clients {
                assert_eq!(s.clients.count, n);
            }
            assert!(s.validate().is_ok(), "{}", c.name);
        }
        assert_eq!(case("retry_storm").unwrap().scenario(Some(7)).clients.requests, 7);
    }

    #[test]
    fn small_runs_are_deterministic() {
        for c in CASES {
            let a = c.run(c.scenario(Some(200)));
            let b = c.run(c.scenario(Some(200)));
            assert!(a > 0, "{}", c.name);
            assert_eq!(a, b, "{}: same scenario, same event count", c.name);
        }
    }

    #[test]
    fn median_of_odd_and_even_lists() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    }

    #[test]
    fn result_json_has_the_fields_the_script_reads() {
        let c = case("healthy").unwrap();
        let v: serde_json::Value = serde_json::from_str(&result_json(c, 10, 1_000, &[2.0, 1.0, 3.0])).unwrap();
        assert_eq!(v["events"], 1_000);
        assert_eq!(v["ms"], 2.0);
        assert_eq!(v["events_per_s"], 500_000.0);
    }
}
