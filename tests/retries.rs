//! Client retry policies: the arithmetic of amplification, the two
//! snippets users meet most, Retry-After, jitter and deadlines.

use gateway_lab::sim::scenario::{Backoff, Clients, Jitter, RetryPolicy};
use gateway_lab::sim::{run, Fault, FaultKind, Scenario};

fn with(fault: Option<Fault>, clients: Clients) -> Scenario {
    Scenario { faults: fault.into_iter().collect(), clients, ..Scenario::default() }
}

fn try_times_s(sim: &gateway_lab::sim::Simulation, op: usize) -> Vec<f64> {
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
