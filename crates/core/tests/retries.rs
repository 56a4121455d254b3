//! Client retry policies: the arithmetic of amplification, the two
//! snippets users meet most, Retry-After, jitter and deadlines.

use gateway_core::sim::scenario::{Backoff, Clients, Jitter, RetryPolicy};
use gateway_core::sim::{run, Fault, FaultKind, Scenario};

mod common;

fn with(fault: Option<Fault>, clients: Clients) -> Scenario {
    Scenario { faults: fault.into_iter().collect(), clients, ..Scenario::default() }
}

fn try_times_s(sim: &gateway_core::sim::Simulation, op: usize) -> Vec<f64> {
    sim.world().ops[op].tries.iter().map(|&id| sim.exchanges()[id].sent_at.as_micros() as f64 / 1e6).collect()
}

#[test]
fn amplification_matches_the_geometric_series_within_one_percent() {
    // Independent failures with probability p, at most N tries:
    // expected tries per request = (1 - p^N) / (1 - p).
    for (p, n) in [(0.3f64, 4u32), (0.5, 3), (0.1, 5)] {
        let fault = Fault { probability: p, ..Fault::from(FaultKind::Maintenance { retry_after_s: 1 }) };
        let policy = RetryPolicy { backoff: Backoff::Fixed, base_ms: 100, max_attempts: n, retry_on: vec!["503".into()], ..Default::default() };
        let ops = 100_000u32;
        // 200/s stays well below the app's capacity (16 workers × 25 ms): no other failures.
        let mut s = with(Some(fault), Clients { requests: ops, rate_per_s: 200.0, retry: policy, ..Clients::default() });
        s.seed = 7;
        let sim = run(s).unwrap();
        let st = &sim.world().stats;
        assert_eq!(st.ops_finished, ops as u64);
        let measured = st.upstream_attempts as f64 / ops as f64;
        let expected = (1.0 - p.powi(n as i32)) / (1.0 - p);
        let err = (measured - expected).abs() / expected;
        assert!(err < 0.01, "p={p} N={n}: measured {measured:.4}, expected {expected:.4} ({:.2} %)", err * 100.0);
        // Success rate: 1 - p^N.
        let ok = st.ops_ok as f64 / ops as f64;
        assert!((ok - (1.0 - p.powi(n as i32))).abs() < 0.01, "p={p} N={n}: success {ok}");
    }
}

#[test]
fn fetch_with_retry_tries_three_times_one_then_two_seconds_apart_only_on_502() {
    let c = Clients { requests: 1, retry: RetryPolicy::fetch_with_retry(), ..Clients::default() };
    let sim = run(with(Some(Fault::from(FaultKind::AppDown)), c.clone())).unwrap();
    let t = try_times_s(&sim, 0);
    assert_eq!(t.len(), 3, "{t:?}");
    assert!((t[1] - t[0] - 1.0).abs() < 0.01 && (t[2] - t[1] - 2.0).abs() < 0.01, "{t:?}");
    // A 504 is not retried by this snippet.
    let slow = Fault::from(FaultKind::SlowApp { delay_ms: 90_000 });
    let sim = run(with(Some(slow), c)).unwrap();
    assert_eq!(sim.world().ops[0].tries.len(), 1);
}

/// When the caller of a preset's operation hears of its end (µs after it began).
fn op_ended_after_us(sim: &gateway_core::sim::Simulation, op: usize) -> u64 {
    let o = &sim.world().ops[op];
    o.finished.expect("the operation ended").since(o.started)
}

#[test]
fn code_named_presets_sleep_after_the_last_failure_too_as_their_code_does() {
    // fetchWithRetry: 502, sleep 1 s, 502, sleep 2 s, 502, sleep 4 s, then "Max retries exceeded".
    let c = Clients { requests: 1, retry: RetryPolicy::fetch_with_retry(), ..Clients::default() };
    let sim = run(with(Some(Fault::from(FaultKind::AppDown)), c)).unwrap();
    let o = &sim.world().ops[0];
    assert_eq!((o.tries.len(), o.ok, o.outcome.as_str()), (3, false, "502"));
    let last_end = sim.exchanges()[*o.tries.last().unwrap()].finished_at.unwrap();
    assert_eq!(o.finished.unwrap().since(last_end), 4_000_000, "4 s after the third 502");
    let total = op_ended_after_us(&sim, 0);
    assert!((7_000_000..7_050_000).contains(&total), "{total} µs");
    assert_eq!(sim.world().stats.client_retries, 2, "the last sleep is not a retry");
    // The Python loop: 1 + 2 + 4 + 8 + 16 s of sleeps around five 502s.
    let c = Clients { requests: 1, retry: RetryPolicy::python_requests(), ..Clients::default() };
    let sim = run(with(Some(Fault::from(FaultKind::AppDown)), c)).unwrap();
    assert_eq!(sim.world().ops[0].tries.len(), 5);
    let total = op_ended_after_us(&sim, 0);
    assert!((31_000_000..31_050_000).contains(&total), "{total} µs");
    // A policy without it ends at the last failure; a success ends at once either way.
    let plain = RetryPolicy { sleep_after_last: false, ..RetryPolicy::fetch_with_retry() };
    let sim = run(with(Some(Fault::from(FaultKind::AppDown)), Clients { requests: 1, retry: plain, ..Clients::default() })).unwrap();
    assert!(op_ended_after_us(&sim, 0) < 3_050_000);
    let sim = run(with(None, Clients { requests: 1, retry: RetryPolicy::fetch_with_retry(), ..Clients::default() })).unwrap();
    assert!(sim.world().ops[0].ok && op_ended_after_us(&sim, 0) < 50_000);
    // A deadline during the last sleep ends the operation at the deadline's check (no sleep past it).
    let dl = RetryPolicy { deadline_ms: 5_000, ..RetryPolicy::fetch_with_retry() };
    let sim = run(with(Some(Fault::from(FaultKind::AppDown)), Clients { requests: 1, retry: dl, ..Clients::default() })).unwrap();
    assert!(op_ended_after_us(&sim, 0) < 3_050_000, "{}", op_ended_after_us(&sim, 0));
}

#[test]
fn python_requests_loop_waits_min_2_pow_i_30_seconds() {
    let c = Clients { requests: 1, retry: RetryPolicy::python_requests(), ..Clients::default() };
    let sim = run(with(Some(Fault::from(FaultKind::AppDown)), c)).unwrap();
    let t = try_times_s(&sim, 0);
    let gaps: Vec<f64> = t.windows(2).map(|w| (w[1] - w[0]).round()).collect();
    assert_eq!(gaps, [1.0, 2.0, 4.0, 8.0]);
    // With a 30 s cap the waits stop growing.
    let p = RetryPolicy { max_attempts: 8, ..RetryPolicy::python_requests() };
    let sim = run(with(Some(Fault::from(FaultKind::AppDown)), Clients { requests: 1, retry: p, ..Clients::default() })).unwrap();
    let t = try_times_s(&sim, 0);
    let gaps: Vec<f64> = t.windows(2).map(|w| (w[1] - w[0]).round()).collect();
    assert_eq!(gaps, [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]);
}

#[test]
fn retry_after_is_honoured_when_asked() {
    let policy = RetryPolicy { backoff: Backoff::Fixed, max_attempts: 2, retry_on: vec!["503".into()], honour_retry_after: true, ..Default::default() };
    let sim = run(with(Some(Fault::from(FaultKind::Maintenance { retry_after_s: 120 })), Clients { requests: 1, retry: policy, ..Clients::default() })).unwrap();
    let t = try_times_s(&sim, 0);
    assert!((t[1] - t[0] - 120.0).abs() < 0.1, "{t:?}");
}

#[test]
fn full_jitter_stays_within_the_backoff_and_follows_the_seed() {
    let policy = RetryPolicy { backoff: Backoff::Exponential, jitter: Jitter::Full, max_attempts: 4, ..Default::default() };
    let run_seed = |seed| {
        let mut s = with(Some(Fault::from(FaultKind::AppDown)), Clients { requests: 50, rate_per_s: 10.0, retry: policy.clone(), ..Clients::default() });
        s.seed = seed;
        run(s).unwrap()
    };
    let sim = run_seed(1);
    let mut distinct = std::collections::BTreeSet::new();
    for op in 0..50 {
        let t = try_times_s(&sim, op);
        for (i, w) in t.windows(2).enumerate() {
            let gap = w[1] - w[0];
            assert!(gap <= 2f64.powi(i as i32) + 0.01, "op {op} retry {i}: {gap}");
            distinct.insert((gap * 1e6) as u64);
        }
    }
    assert!(distinct.len() > 100, "jittered waits differ: {}", distinct.len());
    assert_eq!(run_seed(1).transcript(), sim.transcript());
    assert_ne!(run_seed(2).transcript(), sim.transcript());
}

#[test]
fn a_deadline_stops_retrying() {
    let policy = RetryPolicy { backoff: Backoff::Fixed, base_ms: 1_000, max_attempts: 100, deadline_ms: 3_500, ..Default::default() };
    let sim = run(with(Some(Fault::from(FaultKind::AppDown)), Clients { requests: 1, retry: policy, ..Clients::default() })).unwrap();
    assert_eq!(sim.world().ops[0].tries.len(), 4, "tries at 0, 1, 2 and 3 s; the next would pass 3.5 s");
}

#[test]
fn retry_policy_validation_names_the_field() {
    let e = Scenario::from_json(r#"{"version":1,"clients":{"retry":{"retry_on":["5xx"]}}}"#).unwrap_err();
    assert!(e.0.starts_with("clients.retry.retry_on[0]:"), "{e}");
    let e = Scenario::from_json(r#"{"version":1,"clients":{"retry":{"max_attempts":0}}}"#).unwrap_err();
    assert!(e.0.starts_with("clients.retry.max_attempts:"), "{e}");
}

#[test]
fn python_timeout_below_proxy_read_timeout_gives_499_not_504() {
    // The app takes 90 s; nginx would wait 60 s (proxy_read_timeout) and
    // answer 504, but the Python loop gives up after 30 s, every time.
    let c = Clients { requests: 1, retry: RetryPolicy::python_requests(), ..Clients::default() };
    let sim = run(with(Some(Fault::from(FaultKind::SlowApp { delay_ms: 90_000 })), c)).unwrap();
    let w = sim.world();
    assert_eq!(w.ops[0].tries.len(), 5);
    assert_eq!(w.ops[0].outcome, "timeout");
    let t = try_times_s(&sim, 0);
    // 30 s timeout, then waits of 1, 2, 4, 8 s.
    let gaps: Vec<f64> = t.windows(2).map(|w| (w[1] - w[0]).round()).collect();
    assert_eq!(gaps, [31.0, 32.0, 34.0, 38.0]);
    for &id in &w.ops[0].tries {
        let ex = &sim.exchanges()[id];
        assert_eq!(ex.logged_status, Some(499), "{:?}", ex.access_line);
        assert!(ex.access_line.as_deref().unwrap().contains("\" 499 0 \""), "{:?}", ex.access_line);
        assert_eq!(ex.console, ["curl: (28) Operation timed out after 30000 milliseconds with 0 bytes received"]);
        assert!(ex.error_lines.is_empty(), "the [info] line is below the default error level");
    }
    // The app still did the work of all five: nobody got it.
    assert_eq!(w.stats.app_requests_read, 5);
    assert_eq!(w.stats.client_timeouts, 5);
}

#[test]
fn client_abort_is_logged_at_info_with_the_phase() {
    let mut s = with(
        Some(Fault::from(FaultKind::SlowApp { delay_ms: 5_000 })),
        Clients { requests: 1, retry: RetryPolicy { timeout_ms: 1_000, ..Default::default() }, ..Clients::default() },
    );
    s.proxy.error_log_level = "info".into();
    let sim = run(s).unwrap();
    let ex = &sim.exchanges()[0];
    assert_eq!(ex.error_lines.len(), 1, "{:?}", ex.error_lines);
    assert_eq!(ex.error_lines[0].level, gateway_core::sim::log::Level::Info);
    let l = &ex.error_lines[0].text;
    assert!(l.contains("[info]"), "{l}");
    assert!(
        l.contains("epoll_wait() reported that client prematurely closed connection, so upstream connection is closed too while sending request to upstream, client: 127.0.0.1, server: localhost, request: \"GET /users HTTP/1.1\", upstream: \"http://127.0.0.1:3000/users\", host: \"localhost\""),
        "{l}"
    );
    assert!(matches!(ex.attempts[0].result, gateway_core::sim::world::AttemptResult::ClientClosed));
}

fn breaker_run(until_ms: Option<u64>) -> gateway_core::sim::Simulation {
    use gateway_core::sim::scenario::CircuitBreaker;
    let fault = Fault { until_ms, ..Fault::from(FaultKind::AppDown) };
    let policy = RetryPolicy {
        breaker: Some(CircuitBreaker { window_size: 20, failure_rate_percent: 50.0, minimum_calls: 10, open_ms: 2_000, half_open_probes: 3, ..Default::default() }),
        ..Default::default()
    };
    // 20 requests per second for 30 s.
    run(with(Some(fault), Clients { requests: 600, rate_per_s: 20.0, retry: policy, ..Clients::default() })).unwrap()
}

#[test]
fn a_circuit_breaker_sheds_calls_while_the_app_is_down_and_closes_after_it_recovers() {
    use gateway_core::sim::client::guards::BreakerState::*;
    let sim = breaker_run(Some(10_000));
    let w = sim.world();
    let b = w.guards.breaker.as_ref().unwrap();
    let states: Vec<_> = b.timeline.iter().map(|(t, s)| (t.as_micros() / 1_000, *s)).collect();
    // Opens after the 10th call (minimum_calls), at 9 × 50 ms.
    assert_eq!(states[1], (450, Open), "{states:?}");
    // While the app is down every 2 s: half-open, the first probe fails, open again.
    assert_eq!(states[2].1, HalfOpen);
    assert_eq!(states[3].1, Open);
    // After the app is back (10 s) the probes succeed and it closes for good.
    let (closed_at, last) = *states.last().unwrap();
    assert_eq!(last, Closed);
    assert!((10_000..13_000).contains(&closed_at), "{states:?}");
    // Rejected calls never reach the proxy.
    assert!(w.stats.breaker_rejections > 150, "{}", w.stats.breaker_rejections);
    assert_eq!(w.stats.upstream_attempts + w.stats.breaker_rejections, 600);
    assert_eq!(w.stats.ops_ok, 600 - w.ops.iter().filter(|o| !o.ok).count() as u64);
    assert!(w.ops.iter().filter(|o| o.outcome == "breaker_open").count() as u64 == w.stats.breaker_rejections);
    // The same run without recovery stays open or half-open.
    let sim = breaker_run(None);
    assert_ne!(sim.world().guards.breaker.as_ref().unwrap().state, Closed);
}

#[test]
fn a_retry_budget_caps_retries_at_its_share_of_requests() {
    use gateway_core::sim::scenario::RetryBudget;
    let policy = RetryPolicy {
        backoff: Backoff::Fixed,
        base_ms: 10,
        max_attempts: 4,
        budget: Some(RetryBudget { percent: 20.0, min_per_s: 1.0, ttl_ms: 10_000 }),
        ..Default::default()
    };
    let ops = 2_000u64;
    let sim = run(with(Some(Fault::from(FaultKind::AppDown)), Clients { requests: ops as u32, rate_per_s: 100.0, retry: policy.clone(), ..Clients::default() })).unwrap();
    let st = &sim.world().stats;
    // Without a budget: 4 tries each. With it: about 1.2 (plus the 10-retry reserve per window).
    let amp = st.upstream_attempts as f64 / ops as f64;
    assert!((1.19..1.22).contains(&amp), "amplification {amp}");
    assert!(st.budget_denied > 1_000, "{}", st.budget_denied);
    let unlimited = run(with(Some(Fault::from(FaultKind::AppDown)), Clients { requests: ops as u32, rate_per_s: 100.0, retry: RetryPolicy { budget: None, ..policy }, ..Clients::default() })).unwrap();
    assert_eq!(unlimited.world().stats.upstream_attempts, 4 * ops);
}

#[test]
fn grpc_throttle_stops_retrying_once_half_the_tokens_are_gone() {
    use gateway_core::sim::scenario::RetryThrottle;
    let policy = RetryPolicy {
        backoff: Backoff::Fixed,
        base_ms: 10,
        max_attempts: 5,
        throttle: Some(RetryThrottle { max_tokens: 10.0, token_ratio: 0.1 }),
        ..Default::default()
    };
    let sim = run(with(Some(Fault::from(FaultKind::AppDown)), Clients { requests: 100, rate_per_s: 1.0, retry: policy, ..Clients::default() })).unwrap();
    let st = &sim.world().stats;
    // Five failures take the bucket from 10 to 5 tokens: the first request
    // gets its retries (4 failures leave 6 > 5, the 5th try is the last
    // allowed), then every other request gets one try and no retry.
    assert_eq!(sim.world().ops[0].tries.len(), 5);
    assert_eq!(st.upstream_attempts, 5 + 99);
    assert_eq!(st.throttle_denied, 99);
}

#[test]
fn hedging_cuts_the_tail_and_cancelled_copies_are_logged_499() {
    use gateway_core::sim::scenario::Hedge;
    // One request in ten is slow (2 s); the others take 25 ms.
    let slow = Fault { probability: 0.1, ..Fault::from(FaultKind::SlowApp { delay_ms: 2_000 }) };
    let run_with = |policy: RetryPolicy| {
        let mut s = with(Some(slow.clone()), Clients { requests: 2_000, rate_per_s: 50.0, retry: policy, ..Clients::default() });
        s.seed = 3;
        // Enough workers for the slow requests and the copies (with the
        // default 16, hedging itself overloads the app: see the retry lab).
        s.apps[0].workers = 64;
        run(s).unwrap()
    };
    let p99 = |sim: &gateway_core::sim::Simulation| gateway_core::sim::metrics::Metrics::of(sim.world()).latency_ms.p99;
    let plain = run_with(RetryPolicy::default());
    let hedged = run_with(RetryPolicy { max_attempts: 3, hedge: Some(Hedge { delay_ms: 100 }), ..Default::default() });
    assert!(p99(&plain) >= 2_000.0, "{}", p99(&plain));
    assert!(p99(&hedged) < 200.0, "{}", p99(&hedged));
    let st = &hedged.world().stats;
    assert_eq!(st.ops_ok, 2_000);
    assert!(st.hedges > 150 && st.hedges < 260, "about 10 % of requests hedge: {}", st.hedges);
    assert_eq!(st.hedges_cancelled, st.hedges, "every slow original is abandoned once its copy answers");
    let aborted = hedged.exchanges().iter().filter(|e| e.logged_status == Some(499)).count() as u64;
    assert_eq!(aborted, st.hedges_cancelled);
}

#[test]
fn retry_storm_no_jitter_keeps_the_app_down_full_jitter_recovers() {
    use gateway_core::sim::metrics::Metrics;
    let path = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("scenarios/retry_lab/retry_storm.json");
    let base = Scenario::from_json(&std::fs::read_to_string(path).unwrap()).unwrap();
    let run_with = |f: &dyn Fn(&mut RetryPolicy)| {
        let mut s = base.clone();
        f(&mut s.clients.retry);
        // 1 s buckets: each 10 s tick is ten of them.
        Metrics::with_bucket_ms(run(s).unwrap().world(), 1_000)
    };
    let none = run_with(&|p| *p = RetryPolicy::default());
    let lockstep = run_with(&|p| p.jitter = Jitter::None);
    let jittered = run_with(&|p| p.jitter = Jitter::Full);
    assert_eq!(lockstep.bucket_ms, 1_000);
    // Six ticks of 2000 synchronised requests; the app serves 640/s and
    // sheds with 503 beyond 64 waiting, so a tick gets about 80 answers.
    assert_eq!((none.ops, lockstep.ops, jittered.ops), (12_000, 12_000, 12_000));
    assert!((none.success_rate - 0.04).abs() < 0.005, "no retries: {}", none.success_rate);
    // Backoff from 10 s without jitter lands every retry on a later tick:
    // while the ticks last, the app serves no more than without retries,
    // under up to four times the load.
    let tick = |m: &Metrics, k: usize, what: &dyn Fn(&gateway_core::sim::metrics::Bucket) -> u64| -> u64 {
        m.buckets.iter().skip(k * 10).take(10).map(what).sum()
    };
    let ok = |b: &gateway_core::sim::metrics::Bucket| b.outcomes.get("200").copied().unwrap_or(0);
    let load = |b: &gateway_core::sim::metrics::Bucket| b.upstream_attempts;
    for k in 1..6 {
        let (ok_none, ok_lockstep) = (tick(&none, k, &ok), tick(&lockstep, k, &ok));
        assert!(ok_lockstep <= ok_none + 5, "tick {k}: {ok_lockstep} answered with retries, {ok_none} without");
        // Tick k also carries retries of earlier ticks (waits of 10, 20 and 40 s).
        let (l, l0) = (tick(&lockstep, k, &load) as f64, tick(&none, k, &load) as f64);
        assert!(l >= 1.9 * l0, "tick {k}: load {l} vs {l0} without retries");
    }
    assert!(lockstep.success_rate < 0.10, "no jitter: {}", lockstep.success_rate);
    assert!(lockstep.amplification > 3.5, "{}", lockstep.amplification);
    // The same retries with full jitter fill the idle seconds between the
    // ticks: nearly everything succeeds, for half the load.
    assert!(jittered.success_rate > 0.999, "full jitter: {}", jittered.success_rate);
    assert!(jittered.amplification < 2.1, "{}", jittered.amplification);
    for k in 1..6 {
        assert!(tick(&jittered, k, &ok) > 1_500, "tick {k}: {}", tick(&jittered, k, &ok));
    }
}

#[test]
fn client_retries_multiply_with_proxy_retries() {
    use gateway_core::sim::metrics::Metrics;
    let path = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("scenarios/retry_lab/proxy_failover.json");
    let mut s = Scenario::from_json(&std::fs::read_to_string(path).unwrap()).unwrap();
    s.clients.requests = 20_000;
    s.clients.rate_per_s = 200.0;
    let m = Metrics::of(run(s).unwrap().world());
    // Each server answers 503 with p = 0.6; nginx makes up to 3 attempts per
    // try, the client up to 4 tries.
    let p: f64 = 0.6;
    let proxy = 1.0 + p + p * p;
    let q = p.powi(3); // a try fails when all three attempts did
    let client = (1.0 - q.powi(4)) / (1.0 - q);
    let close = |a: f64, b: f64| (a - b).abs() / b < 0.02;
    assert!(close(m.attempts_per_try, proxy), "proxy attempts per try {} vs {proxy}", m.attempts_per_try);
    assert!(close(m.tries_per_op, client), "client tries per request {} vs {client}", m.tries_per_op);
    assert!(close(m.amplification, proxy * client), "{} vs {}", m.amplification, proxy * client);
    assert!((m.success_rate - (1.0 - q.powi(4))).abs() < 0.01, "{}", m.success_rate);
}

#[test]
fn every_retry_lab_experiment_loads_and_runs() {
    let mut n = 0;
    for p in common::json_files("scenarios/retry_lab") {
        let s = Scenario::from_json(&std::fs::read_to_string(&p).unwrap()).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        assert!(!s.title.is_empty() && !s.description.is_empty(), "{}", p.display());
        let sim = run(s).unwrap();
        assert_eq!(sim.world().stats.ops_finished, sim.world().ops.len() as u64, "{}", p.display());
        n += 1;
    }
    assert!(n >= 5);
}

#[test]
fn a_breaker_with_hedging_never_cancels_the_copy_in_flight_nor_sticks_half_open() {
    use gateway_core::sim::client::guards::BreakerState;
    use gateway_core::sim::scenario::{App, CircuitBreaker, Hedge};
    use gateway_core::sim::world::ClientResult;
    let policy = RetryPolicy {
        max_attempts: 3,
        retry_on: vec!["503".into()],
        hedge: Some(Hedge { delay_ms: 100 }),
        breaker: Some(CircuitBreaker { window_size: 20, failure_rate_percent: 50.0, minimum_calls: 10, open_ms: 1_000, half_open_probes: 2, ..Default::default() }),
        ..Default::default()
    };
    let mut s = Scenario {
        faults: vec![
            Fault { probability: 0.3, ..Fault::from(FaultKind::SlowApp { delay_ms: 2_000 }) },
            Fault { probability: 0.4, ..Fault::from(FaultKind::Maintenance { retry_after_s: 1 }) },
        ],
        clients: Clients { count: 500, requests: 3_000, rate_per_s: 100.0, retry: policy, ..Clients::default() },
        ..Scenario::default()
    };
    s.apps = vec![App { workers: 256, ..App::default() }];
    let sim = run(s).unwrap();
    let w = sim.world();
    for o in w.ops.iter().filter(|o| o.outcome == "breaker_open") {
        assert!(
            !o.tries.iter().any(|&t| matches!(sim.exchanges()[t].client_result, Some(ClientResult::Cancelled))),
            "a rejected hedge must not abandon the copy still in flight"
        );
    }
    // Half-open lasts as long as its probes take (at most a 2 s slow answer), never for ever.
    let t = &w.guards.breaker.as_ref().unwrap().timeline;
    for (i, (from, state)) in t.iter().enumerate() {
        if *state == BreakerState::HalfOpen {
            let to = t.get(i + 1).map(|n| n.0).unwrap_or(w.now);
            assert!(to.since(*from) <= 2_100_000, "half-open from {from:?} to {to:?}");
        }
    }
    assert!(t.iter().filter(|(_, s)| *s == BreakerState::Closed).count() > 2, "it closes again between the bad stretches");
}

#[test]
fn the_deadline_cuts_a_try_in_flight() {
    let policy = RetryPolicy { backoff: Backoff::Fixed, max_attempts: 3, deadline_ms: 1_000, ..Default::default() };
    let sim = run(with(Some(Fault::from(FaultKind::SlowApp { delay_ms: 90_000 })), Clients { requests: 1, retry: policy, ..Clients::default() })).unwrap();
    let w = sim.world();
    assert_eq!(w.ops[0].outcome, "timeout");
    assert_eq!(w.ops[0].finished.unwrap().as_micros(), 1_000_000);
    assert_eq!(sim.exchanges()[0].logged_status, Some(499));
}

#[test]
fn the_grpc_throttle_counts_only_retryable_failures() {
    use gateway_core::sim::scenario::RetryThrottle;
    // 502s that the policy does not retry take no token (gRFC A6).
    let policy = RetryPolicy { backoff: Backoff::Fixed, max_attempts: 3, retry_on: vec!["503".into()], throttle: Some(RetryThrottle::default()), ..Default::default() };
    let sim = run(with(Some(Fault::from(FaultKind::AppDown)), Clients { requests: 50, retry: policy, ..Clients::default() })).unwrap();
    assert_eq!(sim.world().guards.throttle.as_ref().unwrap().tokens, 10.0);
}

#[test]
fn two_strategies_on_the_same_seed_see_the_same_arrivals() {
    use gateway_core::sim::scenario::Arrival;
    let clients = |retry| Clients { requests: 500, rate_per_s: 50.0, arrival: Arrival::Poisson, retry, ..Clients::default() };
    let flaky = Fault { probability: 0.3, ..Fault::from(FaultKind::Maintenance { retry_after_s: 1 }) };
    let a = run(with(Some(flaky.clone()), clients(RetryPolicy::default()))).unwrap();
    let b = run(with(Some(flaky), clients(RetryPolicy::preset("exponential_full_jitter").unwrap()))).unwrap();
    let firsts = |sim: &gateway_core::sim::Simulation| sim.world().ops.iter().map(|o| o.started).collect::<Vec<_>>();
    assert_eq!(firsts(&a), firsts(&b), "the jitter draws do not move the arrivals");
    assert!(b.world().stats.client_retries > 100);
}
