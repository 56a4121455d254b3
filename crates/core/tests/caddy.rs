//! The Caddy flavor against what a real Caddy 2.6.2 (Debian) did on
//! loopback (docs/research/apache-caddy-varnish-observations.md §2, and the
//! fidelity harness's Caddy column): empty-bodied 502/504, Go's error texts
//! in the JSON error line, the access line's level, the transparent re-send.

use std::path::Path;

use gateway_core::sim::scenario::Flavor;
use gateway_core::sim::{Scenario, Simulation};

fn load(name: &str) -> Scenario {
    let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("scenarios").join(format!("{name}.json"));
    let mut s = Scenario::from_json(&std::fs::read_to_string(&path).unwrap()).unwrap();
    s.proxy.flavor = Flavor::Caddy;
    s
}

fn run(s: Scenario) -> Simulation {
    let mut sim = Simulation::new(s).unwrap();
    sim.run();
    sim
}

fn json(l: &str) -> serde_json::Value {
    serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))
}

/// (status, body bytes, the error line's msg, the access line's level).
fn seen(sim: &Simulation, i: usize) -> (u16, usize, Option<String>, String) {
    let ex = &sim.exchanges()[i];
    let r = ex.response.as_ref().unwrap();
    let msg = ex.error_lines.first().map(|l| json(&l.text)["msg"].as_str().unwrap().to_string());
    let level = json(ex.access_line.as_ref().unwrap())["level"].as_str().unwrap().to_string();
    (r.status, r.body.len(), msg, level)
}

#[test]
fn refused_is_an_empty_502_with_gos_dial_error() {
    let sim = run(load("app_down"));
    assert_eq!(seen(&sim, 0), (502, 0, Some("dial tcp 127.0.0.1:3000: connect: connection refused".into()), "error".into()));
    let line = json(&sim.exchanges()[0].error_lines[0].text);
    assert_eq!(line["logger"], "http.log.error.log0");
    assert_eq!(line["err_trace"], "reverseproxy.statusError (reverseproxy.go:1272)");
    assert_eq!(line["status"], 502);
}

#[test]
fn a_black_hole_is_502_after_dial_timeout_not_504() {
    let sim = run(load("connect_black_hole"));
    assert_eq!(seen(&sim, 0), (502, 0, Some("dial tcp 127.0.0.1:3000: i/o timeout".into()), "error".into()));
    let ex = &sim.exchanges()[0];
    let ms = ex.finished_at.unwrap().since(ex.sent_at) / 1_000;
    assert!((3_000..3_100).contains(&ms), "{ms} ms: dial_timeout is 3 s by default");
}

#[test]
fn a_slow_app_waits_without_a_limit_but_504_with_response_header_timeout() {
    let sim = run(load("slow_app"));
    assert_eq!(seen(&sim, 0).0, 200, "no response_header_timeout by default");
    let mut s = load("slow_app");
    s.proxy.caddy.response_header_timeout_ms = 1_000;
    let sim = run(s);
    assert_eq!(seen(&sim, 0), (504, 0, Some("net/http: timeout awaiting response headers".into()), "error".into()));
}

#[test]
fn a_close_is_eof_and_an_invalid_header_name_is_dropped() {
    let sim = run(load("crash_mid_request"));
    assert_eq!(seen(&sim, 0), (502, 0, Some("EOF".into()), "error".into()));
    let sim = run(load("invalid_header"));
    let (status, _, msg, level) = seen(&sim, 0);
    assert_eq!((status, msg, level.as_str()), (200, None, "info"));
    assert!(sim.exchanges()[0].response.as_ref().unwrap().header("Bad Header").is_none());
    assert!(sim.exchanges()[0].access_line.as_ref().unwrap().contains("\"Bad Header\":[\"x\"]"));
}

#[test]
fn the_keep_alive_race_is_resent_on_a_new_connection() {
    let sim = run(load("keepalive_mismatch"));
    let ex = &sim.exchanges()[1];
    assert_eq!(ex.response.as_ref().unwrap().status, 200);
    assert_eq!(ex.attempts.len(), 2);
    assert!(ex.attempts[0].reused && !ex.attempts[1].reused);
    assert!(ex.error_lines.is_empty());
}

#[test]
fn lb_try_duration_retries_every_interval_and_logs_once() {
    let mut s = load("app_down");
    s.proxy.caddy.lb_try_duration_ms = 2_000;
    let sim = run(s);
    let ex = &sim.exchanges()[0];
    // Measured: 9 connects in 2.01 s with the 250 ms interval.
    assert_eq!(ex.attempts.len(), 9);
    assert_eq!(ex.error_lines.len(), 1);
    assert_eq!(ex.response.as_ref().unwrap().status, 502);
}

#[test]
fn tls_and_nginx_only_features_are_refused_with_a_message() {
    for name in ["tls_cert_invalid", "rate_limited", "auth_request_failure"] {
        let err = Simulation::new(load(name)).err().unwrap_or_else(|| panic!("{name} ran"));
        assert!(err.to_string().contains("proxy.flavor"), "{name}: {err}");
    }
}
