//! The Varnish flavor against what a real Varnish 7.1.1 (Debian) did on
//! loopback (docs/research/apache-caddy-varnish-observations.md §3): one
//! 503 Backend fetch failed for every backend failure, the reason only in
//! varnishlog's FetchError, varnishncsa's line, the retry of a reused
//! connection. The fidelity harness's Varnish column checks the rest.

use std::path::Path;

use gateway_core::sim::scenario::Flavor;
use gateway_core::sim::{Scenario, Simulation};

fn load(name: &str) -> Scenario {
    let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("scenarios").join(format!("{name}.json"));
    let mut s = Scenario::from_json(&std::fs::read_to_string(&path).unwrap()).unwrap();
    s.proxy.flavor = Flavor::Varnish;
    s
}

fn run(s: Scenario) -> Simulation {
    let mut sim = Simulation::new(s).unwrap();
    sim.run();
    sim
}

/// (status, reason, body bytes, the FetchError record).
fn seen(sim: &Simulation, i: usize) -> (u16, String, usize, Option<String>) {
    let ex = &sim.exchanges()[i];
    let r = ex.response.as_ref().unwrap();
    let fetch = ex.error_lines.iter().find(|l| l.text.starts_with("--  FetchError")).map(|l| l.text.clone());
    (r.status, r.reason.to_string(), r.body.len(), fetch)
}

/// The first request of a fresh varnishd: backend transaction 3, a 278-byte page (measured).
fn failed(fetch: &str) -> (u16, String, usize, Option<String>) {
    (503, "Backend fetch failed".into(), 278, Some(format!("--  FetchError     {fetch}")))
}

#[test]
fn every_backend_failure_is_503_backend_fetch_failed() {
    assert_eq!(seen(&run(load("app_down")), 0), failed("backend default: fail errno 111 (Connection refused)"));
    assert_eq!(seen(&run(load("crash_mid_request")), 0), failed("HTC eof (-1)"));
    assert_eq!(seen(&run(load("slow_app")), 0), failed("first byte timeout"));
    assert_eq!(seen(&run(load("connect_black_hole")), 0), failed("backend default: fail errno 110 (Connection timed out)"));
    assert_eq!(seen(&run(load("invalid_header")), 0), failed("http format error"));
}

#[test]
fn timeouts_are_the_vcl_defaults() {
    let sim = run(load("slow_app"));
    let ex = &sim.exchanges()[0];
    let ms = ex.finished_at.unwrap().since(ex.sent_at) / 1_000;
    assert!((60_000..60_100).contains(&ms), "first_byte_timeout 60 s: {ms}");
    let sim = run(load("connect_black_hole"));
    let ex = &sim.exchanges()[0];
    let ms = ex.finished_at.unwrap().since(ex.sent_at) / 1_000;
    assert!((3_500..3_600).contains(&ms), "connect_timeout 3.5 s: {ms}");
}

#[test]
fn the_503_page_and_the_access_line() {
    let sim = run(load("app_down"));
    let ex = &sim.exchanges()[0];
    let r = ex.response.as_ref().unwrap();
    assert_eq!(r.header("Retry-After"), Some("5"));
    assert_eq!(r.header("Server"), Some("Varnish"));
    assert_eq!(r.header("Via"), Some("1.1 varnish (Varnish/7.1)"));
    let xid: u64 = r.header("X-Varnish").unwrap().parse().unwrap();
    assert!(r.body.contains(&format!("<p>XID: {}</p>", xid + 1)), "the page names the backend transaction");
    let line = ex.access_line.as_ref().unwrap();
    assert!(line.ends_with("\"GET http://localhost/users HTTP/1.1\" 503 278 \"-\" \"curl/8.5.0\""), "{line}");
}

#[test]
fn a_refusal_holds_the_backend_down_for_a_quarter_second() {
    // Measured: two requests right after each other: X-Varnish 2 (278 bytes, errno 111),
    // then 32770 (282 bytes) with `fail errno 0 (Success)` and no connect.
    let mut s = load("app_down");
    s.clients.requests = 0;
    s.requests = vec![
        gateway_core::sim::scenario::RequestSpec { at_ms: 0, ..Default::default() },
        gateway_core::sim::scenario::RequestSpec { at_ms: 50, ..Default::default() },
        gateway_core::sim::scenario::RequestSpec { at_ms: 1_500, ..Default::default() },
    ];
    let sim = run(s);
    assert_eq!(seen(&sim, 0), failed("backend default: fail errno 111 (Connection refused)"));
    let second = seen(&sim, 1);
    assert_eq!((second.0, second.2, second.3.as_deref()), (503, 282, Some("--  FetchError     backend default: fail errno 0 (Success)")));
    assert_eq!(sim.exchanges()[1].attempts.len(), 0);
    assert_eq!(sim.exchanges()[1].response.as_ref().unwrap().header("X-Varnish"), Some("32770"));
    // 1.5 s later (the research runs' spacing): it connects again and is refused.
    assert_eq!(seen(&sim, 2).3.as_deref(), Some("--  FetchError     backend default: fail errno 111 (Connection refused)"));
}

#[test]
fn the_apps_own_503_passes_with_its_reason_and_no_retry_after() {
    let sim = run(load("maintenance"));
    let r = sim.exchanges()[0].response.as_ref().unwrap();
    assert_eq!(r.status, 503);
    assert_ne!(r.reason, "Backend fetch failed");
    assert!(r.header("Server") != Some("Varnish"));
}

#[test]
fn a_reused_connection_that_fails_is_retried_once() {
    let sim = run(load("keepalive_mismatch"));
    let ex = &sim.exchanges()[1];
    assert_eq!(ex.response.as_ref().unwrap().status, 200);
    assert_eq!(ex.attempts.len(), 2);
    let log: Vec<&str> = ex.error_lines.iter().map(|l| l.text.as_str()).collect();
    assert!(log.iter().any(|l| l.ends_with(" reuse")) && log.contains(&"--  FetchError     HTC eof (-1)") && log.iter().any(|l| l.ends_with(" connect")), "{log:?}");
}

#[test]
fn an_unresolvable_backend_does_not_compile() {
    let sim = run(load("dns_failure_startup"));
    assert!(!sim.world().proxy_running);
    assert!(sim.world().proxy_stderr.lines().any(|l| l == "VCL compilation failed"));
}

#[test]
fn what_was_not_measured_is_refused_with_a_message() {
    for name in ["tls_cert_invalid", "not_http", "invalid_chunked", "dies_after_headers", "oversized_header"] {
        let err = Simulation::new(load(name)).err().unwrap_or_else(|| panic!("{name} ran"));
        assert!(err.to_string().contains("proxy.flavor"), "{name}: {err}");
    }
}
