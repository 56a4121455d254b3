//! The HAProxy flavor on every catalog scenario: status, termination state,
//! retries and timers as a real HAProxy 2.6.12 produced them
//! (docs/research/haproxy-2.6-observations.md).

use std::path::Path;

use gateway_core::sim::scenario::Flavor;
use gateway_core::sim::{Scenario, Simulation};

fn run_haproxy(name: &str) -> Simulation {
    let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("scenarios").join(format!("{name}.json"));
    let mut s = Scenario::from_json(&std::fs::read_to_string(&path).unwrap()).unwrap();
    s.proxy.flavor = Flavor::Haproxy;
    let mut sim = Simulation::new(s).unwrap();
    sim.run();
    sim
}

/// (status, termination state, retries field, Ta) of each request's log line.
fn fields(sim: &Simulation) -> Vec<(String, String, String, String)> {
    sim.exchanges()
        .iter()
        .filter_map(|e| e.access_line.as_ref())
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            let timers: Vec<&str> = f[4].split('/').collect();
            let conns: Vec<&str> = f[10].split('/').collect();
            (f[5].to_string(), f[9].to_string(), conns[4].to_string(), timers[4].to_string())
        })
        .collect()
}

fn one(sim: &Simulation) -> (String, String, String, String) {
    let f = fields(sim);
    assert_eq!(f.len(), 1, "{f:?}");
    f[0].clone()
}

fn st(s: &str, t: &str, rc: &str, ta: &str) -> (String, String, String, String) {
    (s.into(), t.into(), rc.into(), ta.into())
}

#[test]
fn log_line_format_matches_httplog() {
    let sim = run_haproxy("app_down");
    let line = sim.exchanges()[0].access_line.clone().unwrap();
    assert_eq!(
        line,
        "127.0.0.1:40001 [21/Nov/2026:04:43:44.000] fe_main be_app/app1 0/0/-1/-1/3000 503 217 - - SC-- 1/1/0/0/3 0/0 \"GET /users HTTP/1.1\""
    );
    let r = sim.exchanges()[0].response.as_ref().unwrap();
    assert_eq!(r.status_line(), "HTTP/1.1 503 Service Unavailable");
    assert_eq!(r.body.len(), 107);
    assert_eq!(r.header("cache-control"), Some("no-cache"));
}

#[test]
fn refused_is_503_sc_after_three_retries_one_second_apart() {
    assert_eq!(one(&run_haproxy("app_down")), st("503", "SC--", "3", "3000"));
    assert_eq!(one(&run_haproxy("wrong_port")), st("503", "SC--", "3", "3000"));
}

#[test]
fn unix_socket_failures_retry_back_to_back() {
    assert_eq!(one(&run_haproxy("unix_socket_missing")), st("503", "SC--", "3", "0"));
    assert_eq!(one(&run_haproxy("unix_socket_permission")), st("503", "SC--", "3", "0"));
}

#[test]
fn black_hole_is_503_sc_lowercase_after_each_connect_timeout() {
    // timeout connect 5 s (the flavor's default), 4 attempts.
    assert_eq!(one(&run_haproxy("connect_black_hole")), st("503", "sC--", "3", "20000"));
}

#[test]
fn slow_app_is_504_sh() {
    assert_eq!(one(&run_haproxy("slow_app")), st("504", "sH--", "0", "60000"));
    assert_eq!(one(&run_haproxy("db_pool_exhausted")), st("504", "sH--", "0", "60000"));
}

#[test]
fn closed_or_reset_before_headers_is_502_sh_never_retried() {
    let f = fields(&run_haproxy("oom_kill"));
    assert!(f.iter().all(|x| x.0 == "502" && x.1 == "SH--" && x.2 == "0"), "{f:?}");
    let f = fields(&run_haproxy("crash_mid_request"));
    assert_eq!((f[0].0.as_str(), f[0].1.as_str()), ("502", "SH--"));
}

#[test]
fn bad_responses_are_502_ph_but_a_6k_header_fits_haproxys_buffer() {
    assert_eq!(one(&run_haproxy("invalid_header")).1, "PH--");
    assert_eq!(one(&run_haproxy("not_http")).0, "502");
    assert_eq!(one(&run_haproxy("not_http")).1, "PH--");
    assert_eq!(one(&run_haproxy("oversized_header")).0, "200", "6000 bytes < bufsize 16384 - maxrewrite 1024");
}

#[test]
fn passthrough_and_truncation() {
    assert_eq!(one(&run_haproxy("maintenance")).1, "----");
    assert_eq!(one(&run_haproxy("db_pool_error")), st("500", "----", "0", "2"));
    let (status, term, ..) = one(&run_haproxy("dies_after_headers"));
    assert_eq!((status.as_str(), term.as_str()), ("200", "SD--"));
}

#[test]
fn chunked_body_without_its_last_chunk_is_200_sd() {
    // Research §8c: `200 280 - - SD--` for text/plain; %B counts the de-chunked
    // payload and the transfer-encoding header, not HAProxy's re-chunking.
    use gateway_core::sim::FaultKind;
    let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("scenarios/dies_after_headers.json");
    let mut s = Scenario::from_json(&std::fs::read_to_string(&path).unwrap()).unwrap();
    s.proxy.flavor = Flavor::Haproxy;
    s.faults[0].kind = FaultKind::DiesAfterHeaders { content_length: 1_000, sent_bytes: 200, chunked: true };
    let mut sim = Simulation::new(s).unwrap();
    sim.run();
    assert_eq!(one(&sim).0.as_str(), "200");
    assert_eq!(one(&sim).1.as_str(), "SD--");
    let ex = &sim.exchanges()[0];
    let line = ex.access_line.clone().unwrap();
    // 33 (start line) + content-type application/octet-stream (36) + transfer-encoding chunked (24) + 1 + 200.
    assert!(line.contains(" 200 294 - - SD-- "), "{line}");
    assert!(sim.world().error_log.lines().next().is_none());
    assert_eq!(ex.console, ["GET /users → HTTP/1.1 200 OK, then curl: (18) transfer closed with outstanding read data remaining"]);
    assert_eq!(ex.response.as_ref().unwrap().header("transfer-encoding"), Some("chunked"));
}

#[test]
fn tls_failures_are_handled_like_refusals() {
    assert_eq!(one(&run_haproxy("tls_cert_invalid")).1, "SC--");
    let (status, term, rc, ta) = one(&run_haproxy("tls_handshake_failure"));
    assert_eq!((status.as_str(), term.as_str(), rc.as_str()), ("503", "SC--", "3"));
    // Real runs logged Ta 3004..3011: three 1 s turn-arounds plus handshakes.
    assert!((3000..3020).contains(&ta.parse::<u32>().unwrap()), "{ta}");
}

#[test]
fn retries_bridge_a_short_restart() {
    // nginx gives 6 × 502 during the 3 s deploy; HAProxy's 1 s retries hide most of it.
    let sim = run_haproxy("rolling_deploy");
    let f = fields(&sim);
    assert!(f.iter().all(|x| x.0 == "200"), "{f:?}");
    assert!(f.iter().any(|x| x.2 != "0"), "some requests needed retries: {f:?}");
}

#[test]
fn unresolvable_server_stops_haproxy_at_start_up() {
    let sim = run_haproxy("dns_failure_startup");
    let stderr: Vec<_> = sim.world().proxy_stderr.lines().cloned().collect();
    assert!(stderr[0].contains(": config : [/etc/haproxy/haproxy.cfg:") && stderr[0].ends_with("'server be_app/app1' : could not resolve address 'app.internal'."), "{stderr:?}");
    assert!(stderr[1].ends_with("config : Failed to initialize server(s) addr."));
    assert!(sim.exchanges()[0].access_line.is_none());
}

#[test]
fn deny_rule_is_pr_from_the_frontend() {
    let sim = run_haproxy("rate_limited");
    let lines: Vec<_> = sim.world().access_log.lines().cloned().collect();
    assert!(lines.iter().filter(|l| l.contains(" fe_main fe_main/<NOSRV> 0/-1/-1/-1/0 503 217 - - PR-- ")).count() == 4, "{lines:#?}");
}

#[test]
fn redispatch_moves_to_another_server_at_once() {
    use gateway_core::sim::scenario::{App, UpstreamServer};
    let mut s = Scenario::default();
    s.proxy.flavor = Flavor::Haproxy;
    s.proxy.haproxy.redispatch = true;
    s.upstream.servers = vec![
        UpstreamServer { address: "127.0.0.1:3000".into(), ..Default::default() },
        UpstreamServer { address: "127.0.0.1:3001".into(), ..Default::default() },
    ];
    s.apps = vec![App { name: "b".into(), listen: "127.0.0.1:3001".into(), ..Default::default() }];
    let mut sim = Simulation::new(s).unwrap();
    sim.run();
    let line = sim.exchanges()[0].access_line.clone().unwrap();
    assert!(line.contains(" be_app/app2 ") && line.contains(" 200 ") && line.contains(" 1/1/0/0/+1 "), "{line}");
}

/// A client with a 1 s timeout against `scenario` on HAProxy.
fn client_gives_up(name: &str, abortonclose: bool) -> Simulation {
    let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("scenarios").join(format!("{name}.json"));
    let mut s = Scenario::from_json(&std::fs::read_to_string(&path).unwrap()).unwrap();
    s.proxy.flavor = Flavor::Haproxy;
    s.proxy.haproxy.abortonclose = abortonclose;
    s.clients.retry.timeout_ms = 1_000;
    let mut sim = Simulation::new(s).unwrap();
    sim.run();
    sim
}

#[test]
fn a_client_that_gives_up_is_ignored_without_abortonclose() {
    // Observed: HAProxy waits for the server, logs its answer, drops it.
    let sim = client_gives_up("slow_app", false);
    let (status, term, _, _) = one(&sim);
    assert_eq!((status.as_str(), term.as_str()), ("504", "sH--"), "the server timeout still runs its course");
    let ex = &sim.exchanges()[0];
    assert!(matches!(ex.client_result, Some(gateway_core::sim::world::ClientResult::TimedOut)));
    assert!(ex.response.is_none(), "the client never got it");
    // While connecting, the retries go on too: 503 sC-- after 4 × 5 s.
    let sim = client_gives_up("connect_black_hole", false);
    assert_eq!(one(&sim).1, "sC--");
}

#[test]
fn with_abortonclose_the_server_connection_is_aborted() {
    // Observed: 400 CH-- with 206 bytes and Tr -1 while waiting for headers;
    // -1 CC-- while still connecting.
    let sim = client_gives_up("slow_app", true);
    assert_eq!(one(&sim), st("400", "CH--", "0", "1000"));
    assert!(sim.exchanges()[0].access_line.as_ref().unwrap().contains("/-1/1000 400 206 - - CH--"));
    let sim = client_gives_up("connect_black_hole", true);
    let (status, term, _, ta) = one(&sim);
    assert_eq!((status.as_str(), term.as_str(), ta.as_str()), ("-1", "CC--", "1000"));
}
