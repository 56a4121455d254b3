//! Engine basics end to end: nginx's exact log lines, virtual time,
//! connection numbering, determinism.

use gateway_core::sim::scenario::Clients;
use gateway_core::sim::{run, Fault, FaultKind, Scenario};

fn scenario_with(fault: Option<FaultKind>) -> Scenario {
    Scenario { faults: fault.into_iter().map(Fault::from).collect(), ..Scenario::default() }
}

#[test]
fn app_down_gives_502_and_connect_refused() {
    let sim = run(scenario_with(Some(FaultKind::AppDown))).unwrap();
    let ex = &sim.exchanges()[0];
    let resp = ex.response.as_ref().unwrap();
    assert_eq!(resp.status_line(), "HTTP/1.1 502 Bad Gateway");
    assert_eq!(resp.body.len(), 157);
    assert_eq!(
        ex.error_lines.iter().map(|l| l.text.as_str()).collect::<Vec<_>>(),
        ["2026/11/21 04:43:44 [error] 4453#4453: *1 connect() failed (111: Connection refused) while connecting to upstream, client: 127.0.0.1, server: localhost, request: \"GET /users HTTP/1.1\", upstream: \"http://127.0.0.1:3000/users\", host: \"localhost\""]
    );
    assert_eq!(
        ex.access_line.as_deref(),
        Some("127.0.0.1 - - [21/Nov/2026:04:43:44 +0000] \"GET /users HTTP/1.1\" 502 157 \"-\" \"curl/8.5.0\"")
    );
    assert_eq!(ex.attempts.len(), 1);
    assert!(sim.world().app_log.is_empty(), "a process that is not running logs nothing");
}

#[test]
fn slow_app_gives_504_after_proxy_read_timeout() {
    let mut s = scenario_with(Some(FaultKind::SlowApp { delay_ms: 90_000 }));
    s.proxy.proxy_read_timeout_ms = 60_000;
    let sim = run(s).unwrap();
    let ex = &sim.exchanges()[0];
    assert_eq!(ex.status(), Some(504));
    assert_eq!(ex.response.as_ref().unwrap().reason, "Gateway Time-out");
    assert_eq!(ex.error_lines.len(), 1);
    assert_eq!(ex.error_lines[0].level, gateway_core::sim::log::Level::Error);
    let line = &ex.error_lines[0].text;
    assert!(line.starts_with("2026/11/21 04:44:44 [error] 4453#4453: *1 upstream timed out (110: Connection timed out) while reading response header from upstream, client: 127.0.0.1"), "{line}");
    let access = ex.access_line.as_deref().unwrap();
    assert!(access.contains("[21/Nov/2026:04:44:44 +0000] \"GET /users HTTP/1.1\" 504 167 "), "{access}");
    // The app still finishes at 90 s and logs it.
    let app: Vec<_> = sim.world().app_log.lines().collect();
    assert_eq!(app.len(), 1, "{app:?}");
    assert!(app[0].starts_with("Nov 21 04:45:14 web1 app[2817]: GET /users 200 90000ms"), "{}", app[0]);
}

#[test]
fn healthy_app_gives_200() {
    let sim = run(scenario_with(None)).unwrap();
    let ex = &sim.exchanges()[0];
    assert_eq!(ex.status(), Some(200));
    assert!(sim.world().error_log.is_empty());
    assert_eq!(sim.world().app_log.len(), 1);
}

#[test]
fn client_and_upstream_connections_share_nginx_counter() {
    // Observed on nginx 1.22.1: three curl requests to a refused upstream log *1, *3, *5.
    let mut s = scenario_with(Some(FaultKind::AppDown));
    s.clients = Clients { requests: 3, rate_per_s: 1.0, ..Clients::default() };
    let sim = run(s).unwrap();
    let numbers: Vec<_> = sim.exchanges().iter().map(|e| e.client_connection).collect();
    assert_eq!(numbers, [1, 3, 5]);
    assert!(sim.world().error_log.lines().nth(2).unwrap().contains(": *5 connect() failed"));
}

#[test]
fn same_scenario_same_transcript() {
    let mut s = scenario_with(Some(FaultKind::SlowApp { delay_ms: 30 }));
    s.clients = Clients { requests: 50, rate_per_s: 100.0, ..Clients::default() };
    s.seed = 42;
    let a = run(s.clone()).unwrap().transcript();
    let b = run(s.clone()).unwrap().transcript();
    assert_eq!(a, b);
    s.seed = 43;
    s.faults.clear();
    let c = run(s).unwrap().transcript();
    assert_ne!(a, c, "the seed drives the app's latency jitter");
}

#[test]
fn run_until_finished_leaves_later_events_for_later() {
    let mut s = scenario_with(Some(FaultKind::AppDown));
    s.clients = Clients { requests: 0, ..Clients::default() };
    let mut sim = gateway_core::sim::Simulation::new(s).unwrap();
    let id = sim.send_after(0, gateway_core::sim::RequestSpec::default());
    sim.run_until_finished(id);
    assert_eq!(sim.exchanges()[0].status(), Some(502));
    assert!(sim.now().as_micros() < 1_000, "the stale 60 s connect timer did not drag the clock: {:?}", sim.now());
}
