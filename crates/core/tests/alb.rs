//! The AWS ALB flavor (documented, not verified: docs/research/envoy-alb-model.md
//! §2): its statuses by cause, the access log entry's elb/target status and
//! `-1`s, its own pages, the Node keep-alive race and its fix.

use std::path::Path;

use gateway_core::sim::scenario::Flavor;
use gateway_core::sim::{Scenario, Simulation};

fn load(name: &str) -> Scenario {
    let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("scenarios").join(format!("{name}.json"));
    let mut s = Scenario::from_json(&std::fs::read_to_string(&path).unwrap()).unwrap();
    s.proxy.flavor = Flavor::Alb;
    s
}

fn run(s: Scenario) -> Simulation {
    s.validate().unwrap_or_else(|e| panic!("{e}"));
    let mut sim = Simulation::new(s).unwrap();
    sim.run();
    sim
}

/// The entry's fields by name (0-based positions of load-balancer-access-logs.md:84-112).
fn field(sim: &Simulation, i: usize, name: &str) -> String {
    let line = sim.exchanges()[i].access_line.clone().unwrap();
    let pos = ["type", "time", "elb", "client", "target", "request_processing_time", "target_processing_time", "response_processing_time", "elb_status_code", "target_status_code"]
        .iter()
        .position(|n| *n == name)
        .unwrap();
    line.split(' ').nth(pos).unwrap().to_string()
}

fn codes(sim: &Simulation, i: usize) -> (u16, String, String) {
    (sim.exchanges()[i].status().unwrap(), field(sim, i, "elb_status_code"), field(sim, i, "target_status_code"))
}

fn ms(sim: &Simulation, i: usize) -> u64 {
    let ex = &sim.exchanges()[i];
    ex.finished_at.unwrap().since(ex.sent_at) / 1_000
}

#[test]
fn refused_is_the_load_balancers_502_with_no_target_status() {
    let sim = run(load("app_down"));
    assert_eq!(codes(&sim, 0), (502, "502".into(), "-".into()));
    assert_eq!((field(&sim, 0, "target_processing_time"), field(&sim, 0, "response_processing_time")), ("-1".into(), "-1".into()));
    let r = sim.exchanges()[0].response.clone().unwrap();
    assert_eq!(r.body.len(), 122, "the 502 page's length in a real answer");
    assert!(r.headers.iter().any(|h| h.name == "Server" && h.value == "awselb/2.0"));
}

#[test]
fn no_registered_target_is_503() {
    let mut s = load("healthy");
    s.proxy.alb.targets_registered = false;
    let sim = run(s);
    assert_eq!(codes(&sim, 0), (503, "503".into(), "-".into()));
    assert_eq!(field(&sim, 0, "target"), "-");
    assert_eq!(sim.exchanges()[0].response.as_ref().unwrap().body.len(), 162);
    assert_eq!(sim.exchanges()[0].response.as_ref().unwrap().reason, "Service Temporarily Unavailable");
}

#[test]
fn a_slow_target_is_504_at_the_60_s_idle_timeout() {
    let sim = run(load("slow_app"));
    assert_eq!(codes(&sim, 0), (504, "504".into(), "-".into()));
    assert!((60_000..60_010).contains(&ms(&sim, 0)), "{} ms", ms(&sim, 0));
    let mut s = load("slow_app");
    s.proxy.alb.idle_timeout_s = 120;
    assert_eq!(run(s).exchanges()[0].status(), Some(200), "the app answers in 90 s");
}

#[test]
fn a_black_hole_is_504_at_the_10_s_connection_timeout() {
    let sim = run(load("connect_black_hole"));
    assert_eq!(codes(&sim, 0), (504, "504".into(), "-".into()));
    assert!((10_000..10_010).contains(&ms(&sim, 0)), "{} ms", ms(&sim, 0));
}

#[test]
fn the_targets_own_answer_passes() {
    let sim = run(load("maintenance"));
    assert_eq!(codes(&sim, 0), (503, "503".into(), "503".into()));
    let sim = run(load("healthy"));
    assert_eq!(codes(&sim, 0), (200, "200".into(), "200".into()));
}

#[test]
fn the_node_keepalive_race_is_an_intermittent_502_and_its_fix_ends_it() {
    let sim = run(load("alb_node_keepalive_race"));
    let got: Vec<(u16, String, String)> = (0..6).map(|i| codes(&sim, i)).collect();
    let ok = (200, "200".to_string(), "200".to_string());
    let race = (502, "502".to_string(), "-".to_string());
    assert_eq!(got, [ok.clone(), ok.clone(), race.clone(), ok.clone(), race, ok.clone()]);
    assert!(sim.exchanges()[2].attempts[0].reused, "the race needs a reused connection");
    assert_eq!(field(&sim, 2, "response_processing_time"), "-1");
    assert_ne!(field(&sim, 2, "target_processing_time"), "-1", "the request reached the target");
    let fixed = run(load("alb_node_keepalive_fixed"));
    assert!((0..6).all(|i| codes(&fixed, i) == ok));
    assert!(fixed.exchanges().iter().skip(1).all(|e| e.attempts[0].reused), "one connection, reused");
    // The engine's Fix does the same to the race.
    let mut s = load("alb_node_keepalive_race");
    gateway_core::sim::Fault::apply_fix(&mut s, 0);
    assert_eq!((s.apps[0].keepalive_timeout_ms, s.apps[0].headers_timeout_ms), (65_000, 66_000));
    assert!(run(s).exchanges().iter().all(|e| e.status() == Some(200)));
}

#[test]
fn a_client_that_gives_up_is_460() {
    let mut s = load("slow_app");
    s.clients.retry.timeout_ms = 2_000;
    let sim = run(s);
    assert_eq!(field(&sim, 0, "elb_status_code"), "460");
    assert_eq!(field(&sim, 0, "target_status_code"), "-");
}

#[test]
fn what_an_alb_cannot_be_is_refused() {
    for (name, says) in [("unix_socket_missing", "unix socket"), ("rate_limited", "limit_req"), ("tls_handshake_failure", "HTTPS")] {
        let mut s = load(name);
        s.proxy.flavor = Flavor::Alb;
        let e = s.validate().unwrap_err().to_string();
        assert!(e.contains("proxy.flavor") && e.contains(says), "{name}: {e}");
    }
    let mut s = load("healthy");
    s.proxy.alb.idle_timeout_s = 4_001;
    assert!(s.validate().unwrap_err().to_string().contains("idle_timeout_s"));
}
