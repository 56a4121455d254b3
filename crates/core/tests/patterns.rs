//! Faults whose effect needs traffic or a reused connection carry a
//! `Pattern` (`Fault::pattern`), and `Session::demonstrate` sends it. Proved
//! here on the page's own `Session`, from the picker (the blank scenario and
//! `break_with`), on several seeds and both proxies: the pattern shows the
//! failure, and every fault without one shows its failure on one Send, so
//! the list of faults that need a pattern is complete.

use gateway_core::session::{Session, SessionError, Speed};
use gateway_core::sim::fault::Traffic;
use gateway_core::sim::scenario::Flavor;
use gateway_core::sim::FaultKind;

const SEEDS: [u64; 4] = [1, 2, 7, 1234];

/// Faults that HAProxy, at its defaults, does not suffer at all, so that
/// neither one Send nor a pattern shows a failure:
/// - keepalive_mismatch: HAProxy's default `http-reuse safe` never sends a
///   client's first request over an idle server connection (the engine's
///   HAProxy closes each server connection after its response);
/// - oversized_header: 6000 bytes of headers fit HAProxy's buffer
///   (tune.bufsize 16384 minus tune.maxrewrite 1024), unlike nginx's 4k;
/// - rolling_deploy: `retries 3`, one second apart, outlast the 3 s restart.
const HARMLESS_UNDER_HAPROXY: [&str; 3] = ["keepalive_mismatch", "oversized_header", "rolling_deploy"];

/// Faults that neither proxy shows at its defaults, by design: the point of
/// the fault is that nothing fails.
/// - tls_cert_invalid: `proxy_ssl_verify` is off by default (HAProxy:
///   `verify none`), so a bad certificate passes silently (200); turning
///   verification on shows it.
const SILENT_AT_DEFAULTS: [&str; 1] = ["tls_cert_invalid"];

fn picked(flavor: Flavor, seed: u64, id: &str) -> Session {
    let mut sc = gateway_core::scenarios::blank();
    sc.proxy.flavor = flavor;
    sc.seed = seed;
    let mut s = Session::new(sc).unwrap();
    s.break_with(id).unwrap();
    s
}

#[test]
fn every_fault_fails_on_one_send_or_has_a_pattern_that_shows_it() {
    for flavor in [Flavor::Nginx, Flavor::Haproxy] {
        for f in FaultKind::catalog() {
            for seed in SEEDS {
                let what = format!("{flavor:?} {} seed {seed}", f.id());
                let mut s = picked(flavor, seed, f.id());
                let pattern = s.scenario().faults[0].pattern(flavor);
                s.send(1, 0).unwrap();
                let one = s.last().unwrap().clone();
                assert!(one.is_finished(), "{what}");
                match pattern {
                    None if SILENT_AT_DEFAULTS.contains(&f.id()) => {
                        assert!(one.succeeded(), "{what}: listed as silent at the defaults, yet one Send failed: drop it from the list");
                    }
                    None if flavor == Flavor::Haproxy && HARMLESS_UNDER_HAPROXY.contains(&f.id()) => {
                        assert!(one.succeeded(), "{what}: listed as harmless under HAProxy, yet one Send failed: drop it from the list");
                    }
                    None => assert!(!one.succeeded(), "{what}: one Send got {:?} and the fault has no pattern", one.status()),
                    Some(p) => {
                        assert!(one.succeeded(), "{what}: one Send already fails ({:?}); the pattern is not needed", one.status());
                        let d = s.demonstrate().unwrap_or_else(|e| panic!("{what}: {e}"));
                        assert_eq!(d.pattern, p);
                        let id = d.failed.unwrap_or_else(|| panic!("{what}: \"{}\" sent {} requests and none failed", p.label, d.sent.len()));
                        let ex = s.sim().exchanges().get(id).unwrap();
                        let status = ex.status();
                        match f.id() {
                            "keepalive_mismatch" => {
                                assert_eq!(status, Some(502), "{what}");
                                assert_eq!(ex.request.method, "POST", "{what}");
                                assert!(
                                    ex.error_lines.iter().any(|l| l.text.contains("upstream prematurely closed connection while reading response header from upstream")),
                                    "{what}: {:?}",
                                    ex.error_lines
                                );
                                assert_eq!(d.sent.len(), 2, "{what}");
                                // The second request reused the first one's connection.
                                assert!(ex.attempts[0].reused, "{what}");
                            }
                            // nginx: 504 (timeouts); HAProxy: 503 (connection attempts that time out).
                            "overload" => assert!(matches!(status, Some(503 | 504)), "{what}: {status:?}"),
                            "rate_limited" => assert_eq!(status, Some(503), "{what}"),
                            other => panic!("{what}: a pattern for {other} needs its expected failure here"),
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn the_patterns_are_the_ones_expected_and_fit_a_send() {
    let with: Vec<&str> = FaultKind::catalog()
        .into_iter()
        .filter(|k| gateway_core::sim::Fault::from(k.clone()).pattern(Flavor::Nginx).is_some())
        .map(|k| k.id())
        .collect();
    assert_eq!(with, ["overload", "keepalive_mismatch", "rate_limited"]);
    for k in FaultKind::catalog() {
        for flavor in [Flavor::Nginx, Flavor::Haproxy] {
            let Some(p) = gateway_core::sim::Fault::from(k.clone()).pattern(flavor) else { continue };
            assert!(!p.label.is_empty() && !p.description.contains('`'), "{p:?}");
            if let Traffic::Burst { count, .. } = p.traffic {
                assert!(count <= gateway_core::session::MAX_SEND, "{p:?}");
            }
        }
    }
    let p = gateway_core::sim::Fault::from(FaultKind::from_id("overload").unwrap()).pattern(Flavor::Nginx).unwrap();
    assert_eq!(p.label, "Send 1000 at 100/s");
    let p = gateway_core::sim::Fault::from(FaultKind::from_id("keepalive_mismatch").unwrap()).pattern(Flavor::Nginx).unwrap();
    assert_eq!(p.label, "Send GET, then POST 5s later");
}

#[test]
fn the_keepalive_race_also_after_earlier_requests_and_when_played() {
    for seed in SEEDS {
        // Requests sent before warm connections of their own.
        let mut s = picked(Flavor::Nginx, seed, "keepalive_mismatch");
        s.send(3, 0).unwrap();
        s.send(1, 0).unwrap();
        let d = s.demonstrate().unwrap();
        assert_eq!(d.failed.and_then(|id| s.sim().exchanges().get(id)).and_then(|e| e.status()), Some(502), "seed {seed}");
        // Played: the first request runs at once, the second as the clock plays.
        let mut s = picked(Flavor::Nginx, seed, "keepalive_mismatch");
        s.set_speed(Speed::Played(1.0));
        let d = s.demonstrate().unwrap();
        assert!(s.playing());
        for _ in 0..200 {
            s.tick(50);
        }
        let second = s.sim().exchanges().get(d.sent[1]).unwrap();
        assert_eq!(second.status(), Some(502), "seed {seed}");
    }
}

#[test]
fn demonstrate_without_a_pattern_changes_nothing() {
    let mut s = picked(Flavor::Nginx, 1, "app_down");
    let before = (s.epoch(), s.sim().exchanges().len(), s.scenario().clone());
    assert_eq!(s.demonstrate(), Err(SessionError::NoPattern));
    s.break_with("none").unwrap();
    assert_eq!(s.demonstrate(), Err(SessionError::NoPattern));
    assert_eq!((s.epoch(), s.sim().exchanges().len()), (before.0, before.1));
    // HAProxy does not suffer the keep-alive race: no pattern is offered.
    let mut s = picked(Flavor::Haproxy, 1, "keepalive_mismatch");
    assert_eq!(s.demonstrate(), Err(SessionError::NoPattern));
}
