//! The retry lab: runs one strategy: the experiment's scenario with the lab's
//! client settings and the strategy's retry policy, in virtual time, to the
//! end. Only the metrics are kept (the exchanges are dropped).

use crate::sim::metrics::Metrics;
use crate::sim::scenario::{Clients, RetryPolicy, Scenario};
use crate::sim::Simulation;

/// The client side the lab lets users change.
#[derive(Clone, Debug, PartialEq)]
pub struct Load {
    pub count: u32,
    pub requests: u32,
    pub rate_per_s: f64,
}

impl Load {
    pub fn of(c: &Clients) -> Load {
        Load { count: c.count, requests: c.requests, rate_per_s: c.rate_per_s }
    }
}

/// Most client requests the lab runs in one strategy.
pub const MAX_REQUESTS: u32 = 50_000;
/// Most distinct clients.
pub const MAX_CLIENTS: u32 = 10_000;

pub fn scenario_for(base: &Scenario, load: &Load, policy: &RetryPolicy) -> Scenario {
    let mut s = base.clone();
    s.requests.clear();
    s.duration_ms = 0;
    s.clients.count = load.count;
    s.clients.requests = load.requests;
    s.clients.rate_per_s = load.rate_per_s;
    s.clients.retry = policy.clone();
    s
}

/// Most tries one strategy may make (requests × max tries): every try is
/// kept until the run ends, so this bounds the page's memory.
pub const MAX_TRIES: u64 = 250_000;

/// Runs to completion; Err carries the scenario's own validation message.
pub fn run(base: &Scenario, load: &Load, policy: &RetryPolicy) -> Result<(Metrics, u64), String> {
    let tries = load.requests as u64 * policy.max_attempts as u64;
    if tries > MAX_TRIES {
        return Err(format!(
            "{} requests × {} tries could make {tries} tries; the lab runs at most {MAX_TRIES} per strategy. Lower the requests or the max tries.",
            load.requests, policy.max_attempts
        ));
    }
    let mut sim = Simulation::new(scenario_for(base, load, policy)).map_err(|e| e.to_string())?;
    sim.world_mut().measure_only();
    sim.run();
    Ok((Metrics::with_buckets(sim.world(), 120), sim.world().events_processed))
}
