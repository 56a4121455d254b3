//! Issue 16, items 1–6: the situations measured against a real nginx 1.22.1
//! and HAProxy 2.6.12 (docs/research/nginx-1.22-observations-3.md). Each
//! test runs the ready scenario (and its HAProxy variant) and checks the
//! lines the real software wrote.

use std::path::Path;

use gateway_core::sim::scenario::Flavor;
use gateway_core::sim::world::ClientResult;
use gateway_core::sim::{Scenario, Simulation};

fn scenario(name: &str) -> Scenario {
    let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("scenarios").join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Scenario::from_json(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn run(sc: Scenario) -> Simulation {
    let mut sim = Simulation::new(sc).unwrap();
    sim.run();
    sim
}

fn flavor(mut sc: Scenario, f: Flavor) -> Scenario {
    sc.proxy.flavor = f;
    sc
}

/// error.log lines without the time and pid: `[error] *1 message, client: ...`.
fn errors(sim: &Simulation) -> Vec<String> {
    sim.world().error_log.lines().map(|l| l.split_once(" [").map(|(_, r)| format!("[{r}")).unwrap_or_default()).collect()
}

fn access(sim: &Simulation) -> Vec<String> {
    sim.world().access_log.lines().map(|l| l.split_once("] ").map(|(_, r)| r.to_string()).unwrap_or_default()).collect()
}

fn statuses(sim: &Simulation) -> Vec<Option<u16>> {
    sim.exchanges().iter().map(|e| e.logged_status).collect()
}

// ---------------------------------------------------------------------------
// 4. Plain HTTP to a TLS port.

#[test]
fn plain_http_to_a_tls_port_is_a_premature_close_and_502() {
    let sim = run(scenario("plain_http_to_tls"));
    assert_eq!(statuses(&sim), [Some(502)]);
    assert_eq!(
        errors(&sim),
        ["[error] 4453#4453: *1 upstream prematurely closed connection while reading response header from upstream, client: 127.0.0.1, server: localhost, request: \"GET /users HTTP/1.1\", upstream: \"http://127.0.0.1:3000/users\", host: \"localhost\""]
    );
    let ex = &sim.exchanges()[0];
    assert!(ex.explanation.as_deref().unwrap().contains("speaks TLS"), "{:?}", ex.explanation);
    // The app never saw a request: nothing in its log.
    assert_eq!(sim.world().app_log.lines().count(), 0);

    let sim = run(flavor(scenario("plain_http_to_tls"), Flavor::Haproxy));
    assert_eq!(statuses(&sim), [Some(502)]);
    assert!(access(&sim)[0].contains(" 502 209 - - SH-- 1/1/0/0/0 "), "{:?}", access(&sim));
}

#[test]
fn plain_http_to_a_tls_port_is_fixed_by_https() {
    let mut sc = scenario("plain_http_to_tls");
    gateway_core::sim::Fault::apply_fix(&mut sc, 0);
    assert_eq!(sc.proxy.proxy_pass, "https://app");
    let sim = run(sc.clone());
    assert_eq!(statuses(&sim), [Some(200)]);
    assert!(matches!(sim.exchanges()[0].client_result, Some(ClientResult::Response)));
    let sim = run(flavor(sc, Flavor::Haproxy));
    assert_eq!(statuses(&sim), [Some(200)]);
}
