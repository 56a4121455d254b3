//! Properties over random scenarios: determinism, every request ends
//! exactly once with one outcome, and the counters add up.

use gateway_core::sim::fault::Fault;
use gateway_core::sim::rng::SimRng;
use gateway_core::sim::sample::{random_fault, random_scenario};
use gateway_core::sim::world::ClientResult;
use gateway_core::sim::world::World;
use gateway_core::sim::{run, Scenario, Simulation};
use proptest::prelude::*;

/// A catalog fault, from the property generator (`sim::sample`).
fn arb_fault() -> impl Strategy<Value = Fault> {
    any::<u64>().prop_map(|seed| random_fault(&mut SimRng::seeded(seed)))
}

/// A scenario of the property generator (`sim::sample::random_scenario`):
/// both flavors, every retry preset, uniform, Poisson and synchronised
/// arrivals. The same function makes `gateway-sim --corpus` and the page's
/// `?bench=corpus`, whose transcripts e2e/determinism.test.mjs compares.
/// (Proptest shrinks the seed, which does not make the scenario simpler; a
/// failure prints the whole scenario.)
fn arb_scenario() -> impl Strategy<Value = Scenario> {
    any::<u64>().prop_map(random_scenario)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(256), ..ProptestConfig::default() })]

    #[test]
    fn same_seed_same_transcript(s in arb_scenario()) {
        let a = run(s.clone()).unwrap();
        let b = run(s).unwrap();
        prop_assert_eq!(a.transcript(), b.transcript());
    }

    #[test]
    fn every_request_ends_exactly_once_and_counters_add_up(s in arb_scenario()) {
        let ops = s.clients.requests as u64;
        let nginx = s.proxy.flavor == gateway_core::sim::scenario::Flavor::Nginx;
        let sim = run(s).unwrap();
        let w = sim.world();
        prop_assert_eq!(w.ops.len() as u64, ops);
        // Tries: the first ones, the retries and the hedges.
        let total = sim.exchanges().len() as u64;
        prop_assert_eq!(total, ops + w.stats.client_retries + w.stats.hedges);
        let unsent = sim.exchanges().iter().filter(|e| e.client_connection == 0 && !matches!(e.client_result, Some(ClientResult::ConnectFailed))).count() as u64;
        prop_assert_eq!(w.stats.requests_sent + unsent, total, "every try is sent, or rejected or abandoned before it went out");
        prop_assert_eq!(w.stats.requests_finished, total, "every request finishes");
        prop_assert_eq!(w.stats.by_status.values().sum::<u64>(), total, "one outcome each");
        let mut attempts = 0u64;
        for ex in sim.exchanges() {
            prop_assert!(ex.finished_at.is_some());
            prop_assert_eq!(ex.console.len(), 1, "one console line per request");
            prop_assert!(ex.client_result.is_some());
            // A try that reached the proxy has exactly one access.log line
            // (499 if the client left first); no connection, none.
            prop_assert_eq!(ex.access_line.is_some(), ex.client_connection != 0);
            if nginx && matches!(ex.client_result, Some(ClientResult::TimedOut | ClientResult::Cancelled)) && ex.response.is_none() && ex.client_connection != 0 {
                prop_assert_eq!(ex.logged_status, Some(499));
            }
            prop_assert!(ex.attempts.iter().all(|a| a.ended.is_some()), "no attempt left open");
            attempts += ex.attempts.len() as u64;
        }
        prop_assert_eq!(attempts, w.stats.upstream_attempts);
        prop_assert_eq!(w.access_log.total(), sim.exchanges().iter().filter(|e| e.access_line.is_some()).count() as u64);
        prop_assert_eq!(
            w.stats.upstream_connections + w.stats.keepalive_reuses,
            w.stats.upstream_attempts,
            "each attempt is a new connection or a reused one"
        );
        prop_assert!(w.stats.app_responses_written <= w.stats.app_requests_read);
        prop_assert_eq!(w.ops.iter().map(|o| o.tries.len()).sum::<usize>(), sim.exchanges().len(), "every try belongs to one operation");
        prop_assert_eq!(w.stats.ops_finished, w.ops.len() as u64, "every operation ends");
        prop_assert!(w.ops.iter().all(|o| !o.outcome.is_empty()), "with an outcome");
        prop_assert_eq!(w.ops.iter().filter(|o| o.ok).count() as u64, w.stats.ops_ok);
        for (i, a) in w.apps.iter().enumerate() {
            // A hung pool or a dead process may hold workers; otherwise all are free again.
            prop_assert!(a.busy <= w.scenario.apps[i].workers, "app {} has {} busy of {}", i, a.busy, w.scenario.apps[i].workers);
        }
    }

    /// The playground keeps only the newest requests (`World::retain`).
    /// Retiring the others must change nothing that can be seen: the same
    /// logs, counters and breaker, and every kept request identical to the
    /// one a run that keeps all has; the bookkeeping behind it stays exact
    /// all along, also across a reload with requests in flight.
    #[test]
    fn retiring_old_requests_changes_nothing_observable(
        s in arb_scenario(),
        more in 1u32..10,
        keep in prop_oneof![Just(0usize), Just(5), Just(60)],
        reload_at in 0u64..400,
        reload_faults in prop::collection::vec(arb_fault(), 0..2),
    ) {
        let mut s = s;
        s.clients.requests *= more;
        let drive = |retain: Option<usize>| -> Result<Simulation, TestCaseError> {
            let mut sim = Simulation::new(s.clone()).unwrap();
            sim.world_mut().retain = retain;
            let mut steps = 0u64;
            while sim.step() {
                steps += 1;
                if steps == reload_at {
                    sim.set_faults(reload_faults.clone());
                }
                if retain.is_some() && steps % 53 == 0 {
                    sim.world().audit().map_err(|e| TestCaseError::fail(format!("after {steps} events: {e}")))?;
                }
            }
            sim.world().audit().map_err(|e| TestCaseError::fail(format!("at the end: {e}")))?;
            Ok(sim)
        };
        let all = drive(None)?;
        let bounded = drive(Some(keep))?;
        let (a, b): (&World, &World) = (all.world(), bounded.world());
        for (name, x, y) in [
            ("error.log", &a.error_log, &b.error_log),
            ("access.log", &a.access_log, &b.access_log),
            ("app log", &a.app_log, &b.app_log),
            ("console", &a.console, &b.console),
            ("proxy stderr", &a.proxy_stderr, &b.proxy_stderr),
        ] {
            prop_assert_eq!(x.lines().collect::<Vec<_>>(), y.lines().collect::<Vec<_>>(), "{}", name);
            prop_assert_eq!(x.total(), y.total(), "{}", name);
        }
        prop_assert_eq!(&a.stats, &b.stats);
        prop_assert_eq!(a.events_processed, b.events_processed);
        prop_assert_eq!(a.now, b.now);
        prop_assert_eq!(a.guards.breaker.as_ref().map(|g| g.timeline.clone()), b.guards.breaker.as_ref().map(|g| g.timeline.clone()));
        prop_assert_eq!(a.exchanges.len(), b.exchanges.len());
        for (id, e) in b.exchanges.enumerate() {
            prop_assert_eq!(serde_json::to_string(e).unwrap(), serde_json::to_string(&a.exchanges[id]).unwrap(), "request #{}", id);
        }
        // Once the run is over nothing refers to its old records: a last
        // `retire` leaves the newest `keep` of each kind, and what those
        // still name (a kept connection's request, a kept try's operation).
        let mut bounded = bounded;
        bounded.world_mut().retire();
        let b = bounded.world();
        b.audit().map_err(|e| TestCaseError::fail(format!("after the last retire: {e}")))?;
        let why = || {
            let ex: Vec<String> = b.exchanges.enumerate().map(|(id, e)| format!("#{id} finished={} op={} conn={:?}", e.is_finished(), e.op, e.proxy.conn)).collect();
            let conns: Vec<String> = b.conns.enumerate().map(|(id, c)| format!("#{id} {:?} req={:?} app={:?} app_closed={} worker={} queued={}", c.state, c.req, c.app, c.app_closed, c.holds_worker, c.queued)).collect();
            format!("requests {ex:?}; connections {conns:?}")
        };
        prop_assert!(b.exchanges.kept() <= keep + b.conns.kept(), "{} requests kept of {}: {}", b.exchanges.kept(), b.exchanges.len(), why());
        prop_assert!(b.ops.kept() <= keep + b.exchanges.kept(), "{} operations kept of {}", b.ops.kept(), b.ops.len());
        prop_assert!(b.conns.kept() <= keep, "{} connections kept of {}: {}", b.conns.kept(), b.conns.len(), why());
    }
}

