//! The Envoy flavor (documented, not verified: docs/research/envoy-alb-model.md
//! §1): the router's replies and flags, the default access log line, the
//! route timeout, retries, the keep-alive race as UC, envoy.yaml.

use std::path::Path;

use gateway_core::sim::scenario::Flavor;
use gateway_core::sim::{Scenario, Simulation};

fn load(name: &str) -> Scenario {
    let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("scenarios").join(format!("{name}.json"));
    let mut s = Scenario::from_json(&std::fs::read_to_string(&path).unwrap()).unwrap();
    s.proxy.flavor = Flavor::Envoy;
    s
}

fn run(s: Scenario) -> Simulation {
    s.validate().unwrap_or_else(|e| panic!("{e}"));
    let mut sim = Simulation::new(s).unwrap();
    sim.run();
    sim
}

/// (status, body, the access line's fields after the request line: code, flags, bytes in, bytes out).
fn seen(sim: &Simulation, i: usize) -> (u16, String, String) {
    let ex = &sim.exchanges()[i];
    let r = ex.response.as_ref().unwrap();
    let line = ex.access_line.clone().unwrap();
    let after = line.split("\" ").nth(1).unwrap().split(' ').take(2).collect::<Vec<_>>().join(" ");
    (r.status, r.body.to_string(), after)
}

fn ms(sim: &Simulation, i: usize) -> u64 {
    let ex = &sim.exchanges()[i];
    ex.finished_at.unwrap().since(ex.sent_at) / 1_000
}

const BEFORE: &str = "upstream connect error or disconnect/reset before headers. ";

#[test]
fn refused_is_503_uf_with_the_current_transport_reason() {
    let sim = run(load("app_down"));
    assert_eq!(
        seen(&sim, 0),
        (503, format!("{BEFORE}reset reason: remote connection failure, transport failure reason: delayed connect error: Connection refused"), "503 UF".into())
    );
    let r = sim.exchanges()[0].response.clone().unwrap();
    let names: Vec<&str> = r.headers.iter().map(|h| h.name.as_ref()).collect();
    assert_eq!(names, ["content-length", "content-type", "date", "server"]);
    assert!(r.headers.iter().any(|h| h.name == "server" && h.value == "envoy"));
}

#[test]
fn the_access_line_is_envoys_default_format() {
    let sim = run(load("app_down"));
    let line = sim.exchanges()[0].access_line.clone().unwrap();
    let body_len = sim.exchanges()[0].response.as_ref().unwrap().body.len();
    // [START_TIME] "METHOD PATH PROTOCOL" CODE FLAGS RX TX DURATION SERVICE_TIME "XFF" "UA" "REQUEST_ID" "AUTHORITY" "UPSTREAM_HOST"
    let (time, rest) = line.split_once("] ").unwrap();
    assert!(time.starts_with('[') && time.ends_with('Z') && time.len() == 25, "{line}");
    let prefix = format!("\"GET /users HTTP/1.1\" 503 UF 0 {body_len} 0 - \"-\" \"curl/8.5.0\" \"");
    assert!(rest.starts_with(&prefix), "{line}");
    assert!(rest.ends_with("\" \"localhost\" \"127.0.0.1:3000\""), "{line}");
    let id = rest[prefix.len()..].split('"').next().unwrap();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    assert_eq!(&id[14..15], "4", "version 4: {id}");
    assert!(!line.contains("upstream_reset_before_response_started"), "the default format has no response code details: {line}");
}

#[test]
fn a_black_hole_is_503_uf_connection_timeout_after_5_s() {
    let sim = run(load("connect_black_hole"));
    assert_eq!(seen(&sim, 0), (503, format!("{BEFORE}reset reason: connection timeout"), "503 UF".into()));
    assert!((5_000..5_010).contains(&ms(&sim, 0)), "{} ms: connect_timeout 5 s", ms(&sim, 0));
}

#[test]
fn a_slow_app_is_504_ut_at_the_15_s_route_timeout() {
    let sim = run(load("slow_app"));
    assert_eq!(seen(&sim, 0), (504, "upstream request timeout".into(), "504 UT".into()));
    assert!((15_000..15_010).contains(&ms(&sim, 0)), "{} ms", ms(&sim, 0));
    let mut s = load("slow_app");
    s.proxy.envoy.route_timeout_ms = 0;
    let sim = run(s);
    assert_eq!(seen(&sim, 0).0, 200, "timeout 0 disables the route timeout");
}

#[test]
fn an_unresolvable_name_leaves_no_host_uh() {
    let sim = run(load("dns_failure"));
    assert_eq!(seen(&sim, 0), (503, "no healthy upstream".into(), "503 UH".into()));
    assert!(sim.exchanges()[0].access_line.as_ref().unwrap().ends_with("\"localhost\" \"-\""));
}

#[test]
fn an_invalid_header_is_a_502_protocol_error() {
    let sim = run(load("invalid_header"));
    assert_eq!(seen(&sim, 0), (502, format!("{BEFORE}reset reason: protocol error"), "502 UPE".into()));
}

#[test]
fn the_apps_own_503_passes_with_no_flag() {
    let sim = run(load("maintenance"));
    let (status, _, log) = seen(&sim, 0);
    assert_eq!((status, log.as_str()), (503, "503 -"));
    let r = sim.exchanges()[0].response.clone().unwrap();
    assert!(r.headers.iter().any(|h| h.name == "x-envoy-upstream-service-time"), "{:?}", r.headers);
}

#[test]
fn the_keepalive_race_is_503_uc_and_no_retry_without_a_policy() {
    let sim = run(load("envoy_keepalive_race"));
    let statuses: Vec<u16> = sim.exchanges().iter().map(|e| e.status().unwrap()).collect();
    assert_eq!(statuses, [200, 200, 503, 200, 503, 200]);
    assert_eq!(seen(&sim, 2), (503, format!("{BEFORE}reset reason: connection termination"), "503 UC".into()));
    assert_eq!(sim.exchanges()[2].attempts.len(), 1);
    assert!(sim.exchanges()[2].attempts[0].reused);
}

#[test]
fn retry_on_reset_hides_the_race() {
    let mut s = load("envoy_keepalive_race");
    s.proxy.envoy.retry_on = vec!["reset".into()];
    let sim = run(s);
    let statuses: Vec<u16> = sim.exchanges().iter().map(|e| e.status().unwrap()).collect();
    assert_eq!(statuses, [200; 6]);
    assert_eq!(sim.exchanges()[2].attempts.len(), 2, "the reset try and the retry");
    assert_eq!(seen(&sim, 2).2, "200 -");
}

#[test]
fn spent_retries_say_retried_and_add_urx() {
    let mut s = load("app_down");
    s.proxy.envoy.retry_on = vec!["connect-failure".into()];
    s.proxy.envoy.num_retries = 2;
    let sim = run(s);
    assert_eq!(sim.exchanges()[0].attempts.len(), 3);
    assert_eq!(
        seen(&sim, 0),
        (503, format!("{BEFORE}retried and the latest reset reason: remote connection failure, transport failure reason: delayed connect error: Connection refused"), "503 UF,URX".into())
    );
    // connect-failure does not retry a reset after the request was sent.
    let mut s = load("envoy_keepalive_race");
    s.proxy.envoy.retry_on = vec!["connect-failure".into()];
    assert_eq!(run(s).exchanges()[2].status(), Some(503));
}

#[test]
fn the_fix_expires_idle_connections_before_the_app() {
    let mut s = load("envoy_keepalive_race");
    gateway_core::sim::Fault::apply_fix(&mut s, 0);
    assert_eq!(s.proxy.envoy.idle_timeout_ms, 4_000);
    let sim = run(s);
    assert!(sim.exchanges().iter().all(|e| e.status() == Some(200)));
}

#[test]
fn a_client_that_leaves_is_code_0_dc() {
    let mut s = load("slow_app");
    s.clients.retry.timeout_ms = 2_000;
    let sim = run(s);
    let line = sim.exchanges()[0].access_line.clone().unwrap();
    assert!(line.contains("\" 0 DC 0 0 "), "{line}");
}

#[test]
fn unmodelled_features_are_refused_naming_the_flavor() {
    let mut s = load("app_down");
    s.proxy.envoy.retry_on = vec!["retriable-4xx".into()];
    let e = s.validate().unwrap_err().to_string();
    assert!(e.contains("proxy.flavor") && e.contains("retriable-4xx"), "{e}");
    let mut s = load("tls_handshake_failure");
    s.proxy.flavor = Flavor::Envoy;
    assert!(s.validate().unwrap_err().to_string().contains("Envoy"));
}

/// The terminal: envoy.yaml, the access log file, the admin interface's
/// counters; the ALB is not on the host.
#[test]
fn the_terminal_shows_envoys_files_and_admin_interface() {
    use gateway_core::shell;
    let mut s = load("app_down");
    s.clients.requests = 2;
    let mut sim = Simulation::new(s).unwrap();
    sim.run();
    let out = |sim: &mut Simulation, l: &str| shell::run(sim, l).text.replace("\r\n", "\n");
    let conf = out(&mut sim, "cat /etc/envoy/envoy.yaml");
    assert!(conf.contains("connect_timeout: 5s") && conf.contains("cluster: app"), "{conf}");
    let log = out(&mut sim, "tail -n 1 /var/log/envoy/access.log");
    assert!(log.contains("\" 503 UF "), "{log}");
    let clusters = out(&mut sim, "curl -s localhost:9901/clusters");
    assert!(clusters.contains("app::127.0.0.1:3000::cx_connect_fail::2\n"), "{clusters}");
    let stats = out(&mut sim, "curl -s localhost:9901/stats | grep connect_fail");
    assert_eq!(stats, "cluster.app.upstream_cx_connect_fail: 2\n");
    assert!(out(&mut sim, "ps aux").contains("/usr/bin/envoy -c /etc/envoy/envoy.yaml"));

    let mut a = load("app_down");
    a.proxy.flavor = Flavor::Alb;
    let mut alb = Simulation::new(a).unwrap();
    alb.run();
    let st = shell::run(&mut alb, "systemctl status alb");
    assert_eq!(st.status, 4, "{}", st.text);
    assert!(!out(&mut alb, "ss -tlnp").contains(":80 "), "the load balancer listens on AWS's side");
    assert!(out(&mut alb, "cat /root/alb.sh").contains("Key=idle_timeout.timeout_seconds,Value=60"));
}
