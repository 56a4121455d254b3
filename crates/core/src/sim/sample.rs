//! Random scenarios from a seed: the property generator.
//!
//! `random_scenario(seed)` is a pure function of `seed` (drawn with the
//! engine's own `SimRng`), so every build of the crate can make the same
//! scenario from the same number: the property tests (tests/properties.rs)
//! draw their scenarios here, `gateway-sim --corpus N` hashes the transcripts
//! of scenarios 0..N natively, and the page's `?bench=corpus` runs the same
//! scenarios in the browser's wasm (e2e/determinism.test.mjs compares them).
//!
//! It covers both proxy flavors, every retry preset (`RetryPolicy::presets`)
//! with or without a per-try timeout, uniform, Poisson and synchronised
//! arrivals, 0 to 2 catalog faults with their probability and time window,
//! 1 to 3 upstream servers (the third a backup), GET and POST, keep-alive or
//! not, and three timeout scales. The work is bounded: at most 39 requests,
//! so a thousand scenarios run in seconds.

use super::fault::{Fault, FaultKind};
use super::rng::SimRng;
use super::scenario::{App, Arrival, Clients, Flavor, RetryPolicy, Scenario, UpstreamServer};

/// Most requests a sampled scenario sends.
pub const MAX_REQUESTS: u32 = 39;

/// Uniform pick from a non-empty slice.
fn pick<'a, T>(rng: &mut SimRng, items: &'a [T]) -> &'a T {
    &items[rng.between(0, items.len() as u64 - 1) as usize]
}

/// A catalog fault (with its default knobs), a probability in [0, 1] for the
/// kinds that honour one and a time window for those that honour one.
pub fn random_fault(rng: &mut SimRng) -> Fault {
    let kind = pick(rng, &FaultKind::catalog()).clone();
    let probability = rng.between(0, 1_000_000) as f64 / 1_000_000.0;
    let from_ms = rng.between(0, 2_999);
    let until_ms = rng.chance(0.5).then(|| rng.between(3_000, 19_999));
    let window = kind.honours_window() || matches!(kind, FaultKind::RollingDeploy { .. });
    Fault {
        probability: if kind.honours_probability() { probability } else { 1.0 },
        from_ms: if window { from_ms } else { 0 },
        until_ms: if kind.honours_window() { until_ms } else { None },
        target: None,
        kind,
    }
}

/// Scenario number `seed` of the property generator.
pub fn random_scenario(seed: u64) -> Scenario {
    let mut rng = SimRng::seeded(seed);
    let r = &mut rng;
    let engine_seed = r.between(0, u64::MAX);
    let faults = (0..r.between(0, 2)).map(|_| random_fault(r)).collect();
    let requests = r.between(1, MAX_REQUESTS as u64) as u32;
    let rate_per_s = *pick(r, &[1.0, 20.0, 500.0]);
    let servers = r.between(1, 3) as usize;
    let arrival = *pick(r, &[Arrival::Uniform, Arrival::Poisson, Arrival::Synchronised]);
    let burst_size = r.between(1, 20) as u32;
    let method = *pick(r, &["GET", "POST"]);
    let read_timeout = *pick(r, &[1_000u64, 5_000, 60_000]);
    let keepalive = r.chance(0.5);
    let presets = RetryPolicy::presets();
    let preset = pick(r, &presets).2.clone();
    let timeout_ms = *pick(r, &[0u64, 50, 2_000]);
    let haproxy = r.chance(0.5);
    let abortonclose = r.chance(0.5);

    let mut s = Scenario { seed: engine_seed, faults, ..Scenario::default() };
    s.clients = Clients {
        requests,
        rate_per_s,
        arrival,
        burst_size,
        method: method.into(),
        count: 3,
        // Every named strategy (retries, breaker, budget, throttle, hedging),
        // with or without a per-try timeout.
        retry: RetryPolicy { timeout_ms, ..preset },
        ..Clients::default()
    };
    if haproxy {
        s.proxy.flavor = Flavor::Haproxy;
        s.proxy.haproxy.abortonclose = abortonclose;
        s.proxy.haproxy.timeout_server_ms = read_timeout;
        s.proxy.haproxy.timeout_connect_ms = read_timeout.min(5_000);
    }
    s.proxy.proxy_read_timeout_ms = read_timeout;
    s.proxy.proxy_connect_timeout_ms = read_timeout;
    if keepalive {
        s.upstream.keepalive = 4;
        s.proxy.proxy_http_version = "1.1".into();
        s.proxy.proxy_set_header.insert("Connection".into(), String::new());
    }
    s.upstream.servers = (0..servers)
        .map(|i| UpstreamServer { address: format!("127.0.0.1:{}", 3000 + i), backup: i == 2, ..Default::default() })
        .collect();
    s.apps = (0..servers).map(|i| App { name: format!("app{i}"), listen: format!("127.0.0.1:{}", 3000 + i), ..Default::default() }).collect();
    s
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// The id of the preset a sampled policy came from (the per-try timeout
    /// is the generator's own).
    fn preset_id(p: &RetryPolicy) -> Option<&'static str> {
        RetryPolicy::presets().into_iter().find(|(_, _, q)| RetryPolicy { timeout_ms: q.timeout_ms, ..p.clone() } == *q).map(|(id, _, _)| id)
    }

    #[test]
    fn the_first_thousand_cover_every_flavor_preset_arrival_and_fault() {
        let (mut flavors, mut presets, mut arrivals, mut faults, mut timeouts) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
        for seed in 0..1_000 {
            let s = random_scenario(seed);
            s.validate().unwrap_or_else(|e| panic!("scenario {seed} is invalid: {e}"));
            assert!((1..=MAX_REQUESTS).contains(&s.clients.requests));
            flavors.insert(s.proxy.flavor.as_str());
            presets.insert(preset_id(&s.clients.retry).unwrap_or_else(|| panic!("scenario {seed}: retry policy is no preset: {:?}", s.clients.retry)));
            arrivals.insert(format!("{:?}", s.clients.arrival));
            faults.extend(s.faults.iter().map(|f| f.kind.id()));
            timeouts.insert(s.clients.retry.timeout_ms);
        }
        assert_eq!(flavors.into_iter().collect::<Vec<_>>(), ["haproxy", "nginx"]);
        let all: BTreeSet<&str> = RetryPolicy::presets().iter().map(|p| p.0).collect();
        assert_eq!(presets, all, "every retry preset");
        assert_eq!(arrivals.into_iter().collect::<Vec<_>>(), ["Poisson", "Synchronised", "Uniform"]);
        let catalog: BTreeSet<&str> = FaultKind::catalog().iter().map(|k| k.id()).collect();
        assert_eq!(faults, catalog, "every catalog fault");
        assert_eq!(timeouts.into_iter().collect::<Vec<_>>(), [0, 50, 2_000]);
    }

    #[test]
    fn a_seed_always_gives_the_same_scenario_and_seeds_differ() {
        assert_eq!(random_scenario(42), random_scenario(42));
        let distinct: BTreeSet<String> = (0..100).map(|s| serde_json::to_string(&random_scenario(s)).unwrap()).collect();
        assert_eq!(distinct.len(), 100);
    }
}
