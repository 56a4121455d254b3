//! What a run measured, for the retry lab: success rate, latency
//! percentiles, amplification, outcomes and upstream load over time, and
//! the circuit breaker's states. Computed from the world after (or during)
//! a run; nothing here changes it.

use std::collections::BTreeMap;

use serde::Serialize;

use super::client::guards::BreakerState;
use super::client::outcome_class;
use super::world::World;

/// Latency percentiles, in milliseconds (nearest rank).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
}

impl Percentiles {
    /// From unsorted samples in µs.
    pub fn of(mut us: Vec<u64>) -> Percentiles {
        if us.is_empty() {
            return Percentiles::default();
        }
        us.sort_unstable();
        let rank = |q: f64| {
            let i = ((q * us.len() as f64).ceil() as usize).clamp(1, us.len()) - 1;
            us[i] as f64 / 1_000.0
        };
        Percentiles { p50: rank(0.50), p95: rank(0.95), p99: rank(0.99) }
    }
}

/// One slice of virtual time.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Bucket {
    pub start_ms: u64,
    /// Tries that ended in this slice, by outcome ("200", "502", "timeout",
    /// "breaker_open", "cancelled"...).
    pub outcomes: BTreeMap<String, u64>,
    /// Proxy→upstream attempts started in this slice.
    pub upstream_attempts: u64,
    /// Client operations (first tries) started in this slice.
    pub new_requests: u64,
}

/// A stretch of time the breaker spent in one state.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BreakerSpan {
    pub from_ms: u64,
    pub to_ms: u64,
    pub state: BreakerState,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Metrics {
    /// Client operations (logical requests), finished ones, and those that succeeded.
    pub ops: u64,
    pub ops_finished: u64,
    pub ops_ok: u64,
    /// ops_ok / ops_finished (1.0 when none finished).
    pub success_rate: f64,
    /// From an operation's first try to its end, over finished operations.
    pub latency_ms: Percentiles,
    /// The same over successful operations only.
    pub ok_latency_ms: Percentiles,
    /// Tries the clients made (first tries, retries and hedges, including
    /// those the breaker rejected), and those that reached the proxy.
    pub tries: u64,
    pub tries_sent: u64,
    pub upstream_attempts: u64,
    /// Upstream attempts per client operation = tries_per_op × attempts_per_try.
    pub amplification: f64,
    /// Tries that reached the proxy, per client operation.
    pub tries_per_op: f64,
    /// Proxy attempts per try that reached the proxy.
    pub attempts_per_try: f64,
    pub retries: u64,
    pub timeouts: u64,
    pub hedges: u64,
    pub hedges_cancelled: u64,
    pub breaker_rejections: u64,
    pub budget_denied: u64,
    pub throttle_denied: u64,
    /// How operations ended, by outcome.
    pub outcomes: BTreeMap<String, u64>,
    pub bucket_ms: u64,
    pub buckets: Vec<Bucket>,
    /// Empty without a breaker.
    pub breaker: Vec<BreakerSpan>,
    /// Virtual time covered, ms.
    pub end_ms: u64,
    /// What the apps can serve when healthy, requests per second
    /// (workers × 1000 / latency_ms, summed): a reference line for the load chart.
    pub capacity_per_s: f64,
}

/// A round bucket width giving about `target` buckets over `end_ms`.
fn bucket_width(end_ms: u64, target: u64) -> u64 {
    const NICE: [u64; 16] = [10, 20, 50, 100, 200, 250, 500, 1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 300_000, 600_000];
    let want = end_ms.div_ceil(target.max(1)).max(1);
    NICE.iter().copied().find(|&n| n >= want).unwrap_or(want)
}

impl Metrics {
    /// About 60 buckets over the run (`with_buckets` for another count).
    pub fn of(w: &World) -> Metrics {
        Self::with_buckets(w, 60)
    }

    pub fn with_buckets(w: &World, target: u64) -> Metrics {
        Self::build(w, |end_ms| bucket_width(end_ms, target))
    }

    /// Buckets of exactly `bucket_ms` (at least 1).
    pub fn with_bucket_ms(w: &World, bucket_ms: u64) -> Metrics {
        Self::build(w, |_| bucket_ms.max(1))
    }

    fn build(w: &World, width: impl Fn(u64) -> u64) -> Metrics {
        let end_us = w
            .exchanges
            .iter()
            .filter_map(|e| e.finished_at)
            .chain(w.ops.iter().filter_map(|o| o.finished))
            .map(|t| t.as_micros())
            .max()
            .unwrap_or(0)
            .max(1_000);
        let end_ms = end_us.div_ceil(1_000);
        let bucket_ms = width(end_ms);
        let n = end_ms / bucket_ms + 1;
        let mut buckets: Vec<Bucket> = (0..n).map(|i| Bucket { start_ms: i * bucket_ms, ..Bucket::default() }).collect();
        let last = buckets.len() - 1;
        let slot = |us: u64| ((us / 1_000 / bucket_ms) as usize).min(last);

        let mut reached_proxy = 0u64;
        for ex in &w.exchanges {
            if let Some(at) = ex.finished_at {
                let i = slot(at.as_micros());
                *buckets[i].outcomes.entry(outcome_class(ex)).or_insert(0) += 1;
            }
            if ex.client_connection != 0 {
                reached_proxy += 1;
            }
            for a in &ex.attempts {
                let i = slot(a.started.as_micros());
                buckets[i].upstream_attempts += 1;
            }
        }
        let mut all = Vec::new();
        let mut ok = Vec::new();
        let mut outcomes = BTreeMap::new();
        for o in &w.ops {
            let i = slot(o.started.as_micros());
            buckets[i].new_requests += 1;
            if let Some(end) = o.finished {
                let took = end.since(o.started);
                all.push(took);
                if o.ok {
                    ok.push(took);
                }
                *outcomes.entry(o.outcome.clone()).or_insert(0) += 1;
            }
        }
        let ops = w.ops.len() as u64;
        let ops_finished = all.len() as u64;
        let ops_ok = ok.len() as u64;
        let tries = w.exchanges.len() as u64;
        let attempts: u64 = w.exchanges.iter().map(|e| e.attempts.len() as u64).sum();
        let per = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let breaker = w
            .guards
            .breaker
            .as_ref()
            .map(|b| {
                let t = &b.timeline;
                t.iter()
                    .enumerate()
                    .map(|(i, &(from, state))| BreakerSpan {
                        from_ms: from.as_micros() / 1_000,
                        to_ms: t.get(i + 1).map(|n| n.0.as_micros() / 1_000).unwrap_or(end_ms).max(from.as_micros() / 1_000),
                        state,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let capacity_per_s = w.scenario.apps.iter().map(|a| a.workers as f64 * 1_000.0 / a.latency_ms.max(1) as f64).sum();
        let st = &w.stats;
        Metrics {
            ops,
            ops_finished,
            ops_ok,
            success_rate: if ops_finished == 0 { 1.0 } else { per(ops_ok, ops_finished) },
            latency_ms: Percentiles::of(all),
            ok_latency_ms: Percentiles::of(ok),
            tries,
            tries_sent: reached_proxy,
            upstream_attempts: attempts,
            amplification: per(attempts, ops),
            tries_per_op: per(reached_proxy, ops),
            attempts_per_try: per(attempts, reached_proxy),
            retries: st.client_retries,
            timeouts: st.client_timeouts,
            hedges: st.hedges,
            hedges_cancelled: st.hedges_cancelled,
            breaker_rejections: st.breaker_rejections,
            budget_denied: st.budget_denied,
            throttle_denied: st.throttle_denied,
            outcomes,
            bucket_ms,
            buckets,
            breaker,
            end_ms,
            capacity_per_s,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let p = Percentiles::of((1..=100).map(|ms| ms * 1_000).collect());
        assert_eq!((p.p50, p.p95, p.p99), (50.0, 95.0, 99.0));
        assert_eq!(Percentiles::of(vec![]), Percentiles::default());
        assert_eq!(Percentiles::of(vec![7_000]).p99, 7.0);
    }

    #[test]
    fn bucket_widths_are_round() {
        assert_eq!(bucket_width(60_000, 60), 1_000);
        assert_eq!(bucket_width(61_000, 60), 2_000);
        assert_eq!(bucket_width(3_000, 60), 50);
        assert_eq!(bucket_width(1, 60), 10);
    }
}
