//! What stands between a client and another try: the circuit breaker, the
//! retry budget and gRPC's retry throttle. Each is plain state driven by
//! virtual time; the breaker's state changes are kept as a timeline.

use std::collections::VecDeque;

use serde::Serialize;

use crate::sim::scenario::{BreakerWindow, CircuitBreaker, RetryBudget, RetryPolicy, RetryThrottle};
use crate::sim::time::SimTime;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

impl BreakerState {
    pub fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half-open",
        }
    }
}

/// A circuit breaker (resilience4j's state machine).
#[derive(Clone, Debug)]
pub struct Breaker {
    cfg: CircuitBreaker,
    pub state: BreakerState,
    /// Outcomes of calls made while closed: (when, failed).
    window: VecDeque<(SimTime, bool)>,
    failures: u32,
    opened_at: SimTime,
    probes_sent: u32,
    probes_ok: u32,
    /// Every state change, in order, starting closed at 0.
    pub timeline: Vec<(SimTime, BreakerState)>,
}

impl Breaker {
    pub fn new(cfg: CircuitBreaker) -> Self {
        Breaker {
            cfg,
            state: BreakerState::Closed,
            window: VecDeque::new(),
            failures: 0,
            opened_at: SimTime::ZERO,
            probes_sent: 0,
            probes_ok: 0,
            timeline: vec![(SimTime::ZERO, BreakerState::Closed)],
        }
    }

    fn enter(&mut self, now: SimTime, state: BreakerState) {
        self.state = state;
        self.timeline.push((now, state));
        match state {
            BreakerState::Open => self.opened_at = now,
            BreakerState::HalfOpen => {
                self.probes_sent = 0;
                self.probes_ok = 0;
            }
            BreakerState::Closed => {
                self.window.clear();
                self.failures = 0;
            }
        }
    }

    /// May a call go out now? `Some(probe)` if yes (probe: it is a
    /// half-open trial call), `None` if the breaker rejects it.
    pub fn admit(&mut self, now: SimTime) -> Option<bool> {
        if self.state == BreakerState::Open && now.since(self.opened_at) >= self.cfg.open_ms * 1_000 {
            self.enter(now, BreakerState::HalfOpen);
        }
        match self.state {
            BreakerState::Closed => Some(false),
            BreakerState::Open => None,
            BreakerState::HalfOpen if self.probes_sent < self.cfg.half_open_probes => {
                self.probes_sent += 1;
                Some(true)
            }
            BreakerState::HalfOpen => None,
        }
    }

    /// A trial call that was abandoned without an outcome (a cancelled
    /// hedge): its slot is free again.
    pub fn forget_probe(&mut self) {
        if self.state == BreakerState::HalfOpen {
            self.probes_sent = self.probes_sent.saturating_sub(1);
        }
    }

    /// The outcome of a call it admitted.
    pub fn record(&mut self, now: SimTime, probe: bool, failed: bool) {
        match (self.state, probe) {
            (BreakerState::HalfOpen, true) => {
                if failed {
                    self.enter(now, BreakerState::Open);
                } else {
                    self.probes_ok += 1;
                    if self.probes_ok >= self.cfg.half_open_probes {
                        self.enter(now, BreakerState::Closed);
                    }
                }
            }
            (BreakerState::Closed, false) => {
                self.window.push_back((now, failed));
                self.failures += failed as u32;
                self.evict(now);
                let n = self.window.len() as u32;
                // As resilience4j: a count window never waits for more calls than it holds.
                let minimum = match self.cfg.window {
                    BreakerWindow::Count => self.cfg.minimum_calls.min(self.cfg.window_size),
                    BreakerWindow::Time => self.cfg.minimum_calls,
                };
                if n >= minimum && self.failures as f64 * 100.0 >= self.cfg.failure_rate_percent * n as f64 {
                    self.enter(now, BreakerState::Open);
                }
            }
            // A call sent before the last state change: it does not count.
            _ => {}
        }
    }

    fn evict(&mut self, now: SimTime) {
        loop {
            let too_old = match (self.window.front(), self.cfg.window) {
                (None, _) => false,
                (Some(_), BreakerWindow::Count) => self.window.len() > self.cfg.window_size as usize,
                (Some(&(at, _)), BreakerWindow::Time) => now.since(at) >= self.cfg.window_size as u64 * 1_000_000,
            };
            if !too_old {
                break;
            }
            if let Some((_, failed)) = self.window.pop_front() {
                self.failures -= failed as u32;
            }
        }
    }
}

/// Finagle's retry budget over a sliding window of `ttl_ms`.
#[derive(Clone, Debug)]
pub struct Budget {
    cfg: RetryBudget,
    deposits: VecDeque<SimTime>,
    withdrawals: VecDeque<SimTime>,
}

impl Budget {
    pub fn new(cfg: RetryBudget) -> Self {
        Budget { cfg, deposits: VecDeque::new(), withdrawals: VecDeque::new() }
    }

    fn expire(&mut self, now: SimTime) {
        let ttl = self.cfg.ttl_ms * 1_000;
        for q in [&mut self.deposits, &mut self.withdrawals] {
            while q.front().is_some_and(|&t| now.since(t) >= ttl) {
                q.pop_front();
            }
        }
    }

    /// A first try went out.
    pub fn deposit(&mut self, now: SimTime) {
        self.expire(now);
        self.deposits.push_back(now);
    }

    /// May a retry go out? Takes it from the budget if so.
    pub fn try_withdraw(&mut self, now: SimTime) -> bool {
        self.expire(now);
        let reserve = self.cfg.min_per_s * self.cfg.ttl_ms as f64 / 1_000.0;
        let earned = self.cfg.percent / 100.0 * self.deposits.len() as f64;
        if (self.withdrawals.len() + 1) as f64 <= reserve + earned {
            self.withdrawals.push_back(now);
            true
        } else {
            false
        }
    }
}

/// gRPC's retry throttle (gRFC A6).
#[derive(Clone, Debug)]
pub struct Throttle {
    cfg: RetryThrottle,
    pub tokens: f64,
}

impl Throttle {
    pub fn new(cfg: RetryThrottle) -> Self {
        let tokens = cfg.max_tokens;
        Throttle { cfg, tokens }
    }

    pub fn record(&mut self, failed: bool) {
        self.tokens = if failed { (self.tokens - 1.0).max(0.0) } else { (self.tokens + self.cfg.token_ratio).min(self.cfg.max_tokens) };
    }

    /// Retries and hedges are allowed while more than half the bucket is left.
    pub fn allows(&self) -> bool {
        self.tokens > self.cfg.max_tokens / 2.0
    }
}

/// The guards a policy asks for, built fresh for every run.
#[derive(Clone, Debug, Default)]
pub struct Guards {
    pub breaker: Option<Breaker>,
    pub budget: Option<Budget>,
    pub throttle: Option<Throttle>,
}

impl Guards {
    pub fn new(p: &RetryPolicy) -> Self {
        Guards {
            breaker: p.breaker.clone().map(Breaker::new),
            budget: p.budget.clone().map(Budget::new),
            throttle: p.throttle.clone().map(Throttle::new),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ms: u64) -> SimTime {
        SimTime::from_ms(ms)
    }

    #[test]
    fn breaker_opens_on_the_failure_rate_after_the_minimum_calls_then_probes() {
        let cfg = CircuitBreaker { window_size: 4, failure_rate_percent: 50.0, minimum_calls: 4, open_ms: 1_000, half_open_probes: 2, ..Default::default() };
        let mut b = Breaker::new(cfg);
        for (i, failed) in [true, true, false].into_iter().enumerate() {
            assert_eq!(b.admit(t(i as u64)), Some(false));
            b.record(t(i as u64), false, failed);
        }
        assert_eq!(b.state, BreakerState::Closed, "3 calls < minimum_calls");
        b.record(t(3), false, false);
        assert_eq!(b.state, BreakerState::Open, "2 of 4 failed = 50 %");
        assert_eq!(b.admit(t(500)), None);
        assert_eq!(b.admit(t(1_003)), Some(true), "half-open after open_ms");
        assert_eq!(b.admit(t(1_003)), Some(true));
        assert_eq!(b.admit(t(1_003)), None, "only half_open_probes trial calls");
        b.record(t(1_010), false, true); // a stale call does not count
        assert_eq!(b.state, BreakerState::HalfOpen);
        b.record(t(1_010), true, false);
        b.record(t(1_011), true, false);
        assert_eq!(b.state, BreakerState::Closed);
        let states: Vec<_> = b.timeline.iter().map(|(_, s)| *s).collect();
        assert_eq!(states, [BreakerState::Closed, BreakerState::Open, BreakerState::HalfOpen, BreakerState::Closed]);
    }

    #[test]
    fn a_failed_probe_reopens_and_a_time_window_forgets() {
        let cfg = CircuitBreaker { window: BreakerWindow::Time, window_size: 1, failure_rate_percent: 100.0, minimum_calls: 2, open_ms: 100, half_open_probes: 1 };
        let mut b = Breaker::new(cfg);
        b.record(t(0), false, true);
        b.record(t(1_500), false, true);
        assert_eq!(b.state, BreakerState::Closed, "the first failure left the 1 s window");
        b.record(t(1_600), false, true);
        assert_eq!(b.state, BreakerState::Open);
        assert_eq!(b.admit(t(1_700)), Some(true));
        b.record(t(1_710), true, true);
        assert_eq!(b.state, BreakerState::Open);
        assert_eq!(b.admit(t(1_750)), None);
    }

    #[test]
    fn budget_allows_the_reserve_plus_a_share_of_requests() {
        let mut b = Budget::new(RetryBudget { percent: 20.0, min_per_s: 1.0, ttl_ms: 2_000 });
        for i in 0..10 {
            b.deposit(t(i));
        }
        // Reserve 2 (1/s over 2 s) + 20 % of 10 requests = 4 retries.
        let allowed = (0..10).filter(|_| b.try_withdraw(t(10))).count();
        assert_eq!(allowed, 4);
        // After the ttl the deposits and withdrawals expire: the reserve is back.
        assert!(b.try_withdraw(t(2_100)));
    }

    #[test]
    fn throttle_follows_grpc_a6() {
        let mut th = Throttle::new(RetryThrottle { max_tokens: 10.0, token_ratio: 0.1 });
        for _ in 0..5 {
            assert!(th.allows());
            th.record(true);
        }
        assert_eq!(th.tokens, 5.0);
        assert!(!th.allows(), "5 is not more than half of 10");
        th.record(false);
        assert!(th.allows());
    }
}

#[cfg(test)]
mod clamp_tests {
    use super::*;

    #[test]
    fn a_count_window_never_waits_for_more_calls_than_it_holds() {
        let cfg = CircuitBreaker { window_size: 5, minimum_calls: 50, failure_rate_percent: 100.0, ..Default::default() };
        let mut b = Breaker::new(cfg);
        for i in 0..5 {
            b.record(SimTime::from_ms(i), false, true);
        }
        assert_eq!(b.state, BreakerState::Open);
    }
}
