//! Every catalog fault: its scenario file in scenarios/ runs through the
//! same loader as the CLI, and the client's status and nginx's exact log
//! messages are what a real nginx 1.22.1 produced
//! (docs/research/nginx-1.22-observations*.md).

use std::path::Path;

use gateway_core::sim::{FaultKind, Scenario, Simulation};

fn load(name: &str) -> Simulation {
    let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("scenarios").join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let scenario = Scenario::from_json(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut sim = Simulation::new(scenario).unwrap();
    sim.run();
    sim
}

fn statuses(sim: &Simulation) -> Vec<Option<u16>> {
    sim.exchanges().iter().map(|e| e.logged_status).collect()
}

fn errors(sim: &Simulation) -> Vec<String> {
    sim.world().error_log.lines().cloned().collect()
}

/// The message part of an error.log line: from `*N ` to `, client:`.
fn message(line: &str) -> &str {
    let start = line.find(": *").map(|i| line[i + 3..].find(' ').unwrap() + i + 4).unwrap();
    let end = line.find(", client:").unwrap_or(line.len());
    &line[start..end]
}

fn level(line: &str) -> &str {
    let s = line.find('[').unwrap() + 1;
    &line[s..line.find(']').unwrap()]
}

fn only_error(sim: &Simulation) -> (String, String, String) {
    let e = errors(sim);
    assert_eq!(e.len(), 1, "{e:#?}");
    (level(&e[0]).to_string(), message(&e[0]).to_string(), e[0].clone())
}

#[test]
fn every_catalog_fault_has_a_scenario_file() {
    for f in FaultKind::catalog() {
        let sim = load(f.id());
        assert!(
            sim.world().base.faults.iter().any(|x| x.kind.id() == f.id()),
            "scenarios/{}.json must use the fault it is named after",
            f.id()
        );
    }
}

#[test]
fn healthy() {
    let sim = load("healthy");
    assert_eq!(statuses(&sim), [Some(200)]);
    assert!(errors(&sim).is_empty());
}

#[test]
fn f01_app_down() {
    let sim = load("app_down");
    assert_eq!(statuses(&sim), [Some(502)]);
    let (lvl, msg, _) = only_error(&sim);
    assert_eq!((lvl.as_str(), msg.as_str()), ("error", "connect() failed (111: Connection refused) while connecting to upstream"));
}

#[test]
fn f02_wrong_port_logs_the_configured_address() {
    let sim = load("wrong_port");
    assert_eq!(statuses(&sim), [Some(502)]);
    let (lvl, msg, line) = only_error(&sim);
    assert_eq!((lvl.as_str(), msg.as_str()), ("error", "connect() failed (111: Connection refused) while connecting to upstream"));
    assert!(line.contains("upstream: \"http://127.0.0.1:3001/users\""), "{line}");
}

#[test]
fn f03_unix_socket_missing_is_crit() {
    let sim = load("unix_socket_missing");
    assert_eq!(statuses(&sim), [Some(502)]);
    let (lvl, msg, line) = only_error(&sim);
    assert_eq!(lvl, "crit");
    assert_eq!(msg, "connect() to unix:/run/app/app.sock failed (2: No such file or directory) while connecting to upstream");
    assert!(line.contains("upstream: \"http://unix:/run/app/app.sock:/users\""), "{line}");
}

#[test]
fn f04_unix_socket_permission_is_crit() {
    let sim = load("unix_socket_permission");
    assert_eq!(statuses(&sim), [Some(502)]);
    let (lvl, msg, _) = only_error(&sim);
    assert_eq!((lvl.as_str(), msg.as_str()), ("crit", "connect() to unix:/run/app/app.sock failed (13: Permission denied) while connecting to upstream"));
}

#[test]
fn f05_crash_then_refused_while_restarting() {
    let sim = load("crash_mid_request");
    assert_eq!(statuses(&sim), [Some(502), Some(502)]);
    let e = errors(&sim);
    assert_eq!(message(&e[0]), "upstream prematurely closed connection while reading response header from upstream");
    assert_eq!(message(&e[1]), "connect() failed (111: Connection refused) while connecting to upstream");
    let app: Vec<_> = sim.world().app_log.lines().cloned().collect();
    assert!(app.iter().any(|l| l.contains("Uncaught TypeError")), "{app:#?}");
    assert!(app.iter().any(|l| l.contains("Main process exited, code=exited, status=1/FAILURE")), "{app:#?}");
    assert!(app.iter().any(|l| l.contains("Started app.service.")), "{app:#?}");
}

#[test]
fn f06_oom_kill_fin_for_the_read_request_rst_for_unread_ones() {
    let sim = load("oom_kill");
    assert_eq!(statuses(&sim), [Some(502), Some(502), Some(502)]);
    let msgs: Vec<_> = errors(&sim).iter().map(|l| message(l).to_string()).collect();
    assert_eq!(
        msgs,
        [
            "upstream prematurely closed connection while reading response header from upstream",
            "recv() failed (104: Connection reset by peer) while reading response header from upstream",
            "recv() failed (104: Connection reset by peer) while reading response header from upstream",
        ]
    );
    let app: Vec<_> = sim.world().app_log.lines().cloned().collect();
    assert!(app.iter().any(|l| l.contains("kernel: Out of memory: Killed process 2817 (node)")), "{app:#?}");
    assert!(app.iter().any(|l| l.contains("killed by the OOM killer")), "{app:#?}");
}

#[test]
fn f07_slow_app_504_after_read_timeout() {
    let sim = load("slow_app");
    assert_eq!(statuses(&sim), [Some(504)]);
    let (lvl, msg, _) = only_error(&sim);
    assert_eq!((lvl.as_str(), msg.as_str()), ("error", "upstream timed out (110: Connection timed out) while reading response header from upstream"));
    let ex = &sim.exchanges()[0];
    assert_eq!(ex.finished_at.unwrap().since(ex.sent_at) / 1_000_000, 60, "after proxy_read_timeout");
}

#[test]
fn f08_black_hole_504_while_connecting() {
    let sim = load("connect_black_hole");
    assert_eq!(statuses(&sim), [Some(504)]);
    let (_, msg, _) = only_error(&sim);
    assert_eq!(msg, "upstream timed out (110: Connection timed out) while connecting to upstream");
}

#[test]
fn f09_overload_latency_grows_then_timeouts() {
    let sim = load("overload");
    let ex = sim.exchanges();
    let ok: Vec<_> = ex.iter().filter(|e| e.logged_status == Some(200)).collect();
    let first = ok.iter().take(20).map(|e| e.finished_at.unwrap().since(e.sent_at)).max().unwrap();
    let later = ok.iter().skip(ok.len() / 2).map(|e| e.finished_at.unwrap().since(e.sent_at)).max().unwrap();
    assert!(later > 5 * first, "latency must grow with the queue: {first} → {later} µs");
    let msgs: Vec<_> = errors(&sim).iter().map(|l| message(l).to_string()).collect();
    assert!(msgs.iter().any(|m| m == "upstream timed out (110: Connection timed out) while reading response header from upstream"));
    assert!(msgs.iter().any(|m| m == "upstream timed out (110: Connection timed out) while connecting to upstream"), "backlog overflow drops SYNs");
    assert!(sim.world().stats.syns_dropped > 0);
    let timeouts = ex.iter().filter(|e| e.logged_status == Some(504)).count();
    assert!(timeouts > 100 && ok.len() > 100, "{timeouts} timeouts, {} ok", ok.len());
}

#[test]
fn f09b_overload_with_shedding_gives_fast_503s() {
    let sim = load("overload_shedding");
    let ex = sim.exchanges();
    let shed: Vec<_> = ex.iter().filter(|e| e.logged_status == Some(503)).collect();
    assert!(!shed.is_empty());
    assert!(shed.iter().all(|e| e.response.as_ref().unwrap().reason == "Service Unavailable"), "the app's 503, not nginx's");
    assert!(shed.iter().all(|e| e.finished_at.unwrap().since(e.sent_at) < 50_000), "shedding is fast");
    assert!(errors(&sim).is_empty(), "an app's 503 is not an nginx error");
}

#[test]
fn f10_maintenance_503_passes_through_silently() {
    let sim = load("maintenance");
    assert_eq!(statuses(&sim), [Some(503)]);
    let r = sim.exchanges()[0].response.as_ref().unwrap();
    assert_eq!(r.status_line(), "HTTP/1.1 503 Service Unavailable");
    assert_eq!(r.header("Retry-After"), Some("120"));
    assert!(errors(&sim).is_empty());
}

#[test]
fn f11_invalid_header() {
    let sim = load("invalid_header");
    assert_eq!(statuses(&sim), [Some(502)]);
    let (lvl, msg, _) = only_error(&sim);
    assert_eq!((lvl.as_str(), msg.as_str()), ("error", "upstream sent invalid header: \"Bad\\x20...\" while reading response header from upstream"));
}

#[test]
fn f12_not_http_is_relayed_as_http09() {
    let sim = load("not_http");
    assert_eq!(statuses(&sim), [Some(9)]);
    let (_, msg, _) = only_error(&sim);
    assert_eq!(msg, "upstream sent no valid HTTP/1.0 header while reading response header from upstream");
    let access = sim.exchanges()[0].access_line.clone().unwrap();
    assert!(access.contains("\" 009 9 \""), "{access}");
    assert_eq!(sim.exchanges()[0].console, ["curl: (1) Received HTTP/0.9 when not allowed"]);
}

#[test]
fn f13_oversized_header_and_its_fix() {
    let sim = load("oversized_header");
    assert_eq!(statuses(&sim), [Some(502)]);
    let (_, msg, _) = only_error(&sim);
    assert_eq!(msg, "upstream sent too big header while reading response header from upstream");

    let mut s = sim.world().base.clone();
    s.proxy.proxy_buffer_size = 16 * 1024;
    let mut only_buffer = Simulation::new(s.clone()).unwrap();
    only_buffer.run();
    let stderr: Vec<_> = only_buffer.world().proxy_stderr.lines().cloned().collect();
    assert!(stderr[0].contains("[emerg]") && stderr[0].contains("\"proxy_busy_buffers_size\" must be less than the size of all \"proxy_buffers\" minus one buffer"), "{stderr:?}");
    s.proxy.proxy_buffers_size = 16 * 1024;
    let mut fixed = Simulation::new(s).unwrap();
    fixed.run();
    assert_eq!(statuses(&fixed), [Some(200)]);
}

#[test]
fn f14_dies_after_headers() {
    let sim = load("dies_after_headers");
    assert_eq!(statuses(&sim), [Some(200)]);
    let (_, msg, _) = only_error(&sim);
    assert_eq!(msg, "upstream prematurely closed connection while reading upstream");
    let ex = &sim.exchanges()[0];
    assert!(ex.access_line.as_ref().unwrap().contains("\" 200 200 \""), "{:?}", ex.access_line);
    assert!(ex.console[0].ends_with("curl: (18) transfer closed with 800 bytes remaining to read"), "{:?}", ex.console);
}

#[test]
fn f14_dies_after_headers_chunked() {
    // docs/research/nginx-1.22-observations-2.md §3: one 200-byte chunk, no last chunk, FIN.
    let mut s = load("dies_after_headers").world().base.clone();
    s.faults[0].kind = FaultKind::DiesAfterHeaders { content_length: 1_000, sent_bytes: 200, chunked: true };
    let mut sim = Simulation::new(s).unwrap();
    sim.run();
    assert_eq!(statuses(&sim), [Some(200)]);
    let (lvl, msg, _) = only_error(&sim);
    assert_eq!((lvl.as_str(), msg.as_str()), ("error", "upstream prematurely closed connection while reading upstream"));
    let ex = &sim.exchanges()[0];
    // nginx re-chunks for the client: c8\r\n + 200 + \r\n, no last chunk.
    assert!(ex.access_line.as_ref().unwrap().contains("\" 200 206 \""), "{:?}", ex.access_line);
    assert_eq!(ex.console, ["GET /users → HTTP/1.1 200 OK, then curl: (18) transfer closed with outstanding read data remaining"]);
    let r = ex.response.as_ref().unwrap();
    assert_eq!((r.header("Transfer-Encoding"), r.header("Content-Length"), r.body.len()), (Some("chunked"), None, 200));

    // The rule: one chunk, lower-case hex size; 0 bytes send no chunk at all.
    use gateway_core::sim::proxy::nginx::rechunked_len;
    assert_eq!([1, 15, 16, 255, 256, 4000, 0].map(|n| rechunked_len(n, false)), [6, 20, 22, 261, 263, 4007, 0]);
    assert_eq!(rechunked_len(200, true), 211, "a complete body adds 0\\r\\n\\r\\n");
}

#[test]
fn f15_keepalive_race_get_retried_post_not() {
    let sim = load("keepalive_mismatch");
    assert_eq!(statuses(&sim), [Some(200), Some(200), Some(502)]);
    let ex = sim.exchanges();
    assert_eq!(ex[1].attempts.len(), 2, "GET retried on a new connection");
    assert!(ex[1].attempts[0].reused && !ex[1].attempts[1].reused);
    assert_eq!(ex[2].attempts.len(), 1, "POST not retried");
    let msgs: Vec<_> = errors(&sim).iter().map(|l| message(l).to_string()).collect();
    assert_eq!(msgs, ["upstream prematurely closed connection while reading response header from upstream"; 2]);

    let mut s = sim.world().base.clone();
    s.proxy.proxy_next_upstream.push("non_idempotent".into());
    let mut with = Simulation::new(s).unwrap();
    with.run();
    assert_eq!(statuses(&with)[2], Some(200), "non_idempotent lets nginx retry the POST");
}

#[test]
fn f16_rolling_deploy_brief_502s() {
    let sim = load("rolling_deploy");
    let st: Vec<_> = statuses(&sim).into_iter().map(|s| s.unwrap()).collect();
    assert_eq!(st, [200, 200, 200, 200, 502, 502, 502, 502, 502, 502, 200, 200, 200, 200]);
}

#[test]
fn f17_dns_failure_at_run_time() {
    let sim = load("dns_failure");
    assert_eq!(statuses(&sim), [Some(502)]);
    let (lvl, msg, line) = only_error(&sim);
    assert_eq!((lvl.as_str(), msg.as_str()), ("error", "app.internal could not be resolved (3: Host not found)"));
    assert!(!line.contains("upstream:") && !line.contains(" while "), "{line}");
}

#[test]
fn f17b_dns_failure_at_start_up() {
    let sim = load("dns_failure_startup");
    assert!(errors(&sim).is_empty(), "start-up errors go to stderr, not error.log");
    let stderr: Vec<_> = sim.world().proxy_stderr.lines().cloned().collect();
    assert_eq!(stderr.len(), 1);
    assert!(stderr[0].ends_with("[emerg] 4452#4452: host not found in upstream \"app.internal:3000\" in /etc/nginx/conf.d/gateway-lab.conf:3"), "{}", stderr[0]);
    assert_eq!(statuses(&sim), [None]);
    assert!(sim.exchanges()[0].console[0].starts_with("curl: (7) Failed to connect to localhost port 80"));
}

#[test]
fn f18_tls_certificate_and_handshake() {
    let sim = load("tls_cert_invalid");
    assert_eq!(statuses(&sim), [Some(502)]);
    let (lvl, msg, line) = only_error(&sim);
    assert_eq!((lvl.as_str(), msg.as_str()), ("error", "upstream SSL certificate verify error: (10:certificate has expired) while SSL handshaking to upstream"));
    assert!(line.contains("upstream: \"https://127.0.0.1:3000/users\""), "{line}");
    let sim = load("tls_handshake_failure");
    assert_eq!(statuses(&sim), [Some(502)]);
    let (lvl, msg, _) = only_error(&sim);
    assert_eq!((lvl.as_str(), msg.as_str()), ("error", "SSL_do_handshake() failed (SSL: error:0A00010B:SSL routines::wrong version number) while SSL handshaking to upstream"));
}

#[test]
fn f19_db_pool_hang_is_504_but_fail_fast_is_500() {
    let sim = load("db_pool_exhausted");
    assert_eq!(statuses(&sim), [Some(504)]);
    let sim = load("db_pool_error");
    assert_eq!(statuses(&sim), [Some(500)]);
    assert!(errors(&sim).is_empty(), "a 500 from the app is not a gateway error");
}

#[test]
fn f20_rate_limited() {
    let sim = load("rate_limited");
    assert_eq!(statuses(&sim), [Some(200), Some(503), Some(503), Some(503), Some(503)]);
    let e = errors(&sim);
    assert_eq!(e.len(), 4);
    assert_eq!(message(&e[0]), "limiting requests, excess: 0.990 by zone \"perip\"");
    assert!(!e[0].contains("upstream:"));
    let r = sim.exchanges()[1].response.as_ref().unwrap();
    assert_eq!((r.reason.as_ref(), r.body.len()), ("Service Temporarily Unavailable", 197));
    assert_eq!(sim.world().stats.upstream_attempts, 1, "rejected requests never reach the app");
}

#[test]
fn every_fix_makes_the_next_request_succeed() {
    for f in FaultKind::catalog() {
        let mut s = load(f.id()).world().base.clone();
        // One plain GET after the fix, well after any restart or deploy window.
        s.clients.requests = 0;
        s.requests = vec![gateway_core::sim::RequestSpec { at_ms: 20_000, ..Default::default() }];
        let i = s.faults.iter().position(|x| x.kind.id() == f.id()).unwrap();
        let fix = s.faults[i].fix(s.proxy.flavor);
        gateway_core::sim::fault::Fault::apply_fix(&mut s, i);
        let mut sim = Simulation::new(s).unwrap_or_else(|e| panic!("{}: the fixed scenario is invalid: {e}", f.id()));
        sim.run();
        assert_eq!(statuses(&sim), [Some(200)], "{}: after \"{}\" ({})", f.id(), fix.title, fix.detail);
    }
}

#[test]
fn fixes_that_change_the_config_hold_during_the_breakage() {
    use gateway_core::sim::fault::Fault;
    // Rolling deploy: with a second instance, requests inside the window succeed.
    let mut s = load("rolling_deploy").world().base.clone();
    Fault::apply_fix(&mut s, 0);
    let mut sim = Simulation::new(s).unwrap();
    sim.run();
    assert!(statuses(&sim).iter().all(|s| *s == Some(200)), "{:?}", statuses(&sim));
    assert!(sim.exchanges().iter().any(|e| e.attempts.len() == 2), "some went to the second instance");
    // Keep-alive: nginx drops idle connections first; the race is gone.
    let mut s = load("keepalive_mismatch").world().base.clone();
    Fault::apply_fix(&mut s, 0);
    let mut sim = Simulation::new(s).unwrap();
    sim.run();
    assert_eq!(statuses(&sim), [Some(200); 3]);
    assert!(errors(&sim).is_empty(), "{:#?}", errors(&sim));
    // Rate limit: the same burst of five passes.
    let mut s = load("rate_limited").world().base.clone();
    Fault::apply_fix(&mut s, 0);
    let mut sim = Simulation::new(s).unwrap();
    sim.run();
    assert_eq!(statuses(&sim), [Some(200); 5]);
}

#[test]
fn a_burst_shows_rate_limiting_and_overload() {
    use gateway_core::sim::scenario::Clients;
    // What the playground's burst button sends: 200 GETs at 50/s.
    let burst = |faults: Vec<gateway_core::sim::Fault>| {
        let s = Scenario { faults, clients: Clients { requests: 200, rate_per_s: 50.0, ..Clients::default() }, ..Scenario::default() };
        let mut sim = Simulation::new(s).unwrap();
        sim.run();
        let worst = sim.exchanges().iter().map(|e| e.finished_at.unwrap().since(e.sent_at)).max().unwrap();
        (sim.world().stats.by_status.clone(), worst, sim.world().stats.syns_dropped)
    };
    let f = |id: &str| vec![gateway_core::sim::Fault::from(FaultKind::from_id(id).unwrap())];
    let (rate, _, _) = burst(f("rate_limited"));
    assert!(rate.get(&503).copied().unwrap_or(0) > 100, "{rate:?}");
    // Overload with nginx's default 60 s timeouts: nothing fails yet, but the
    // backlog overflows (SYNs dropped, retransmitted after 1 s, 3 s...) and latency explodes.
    let (over, worst, dropped) = burst(f("overload"));
    assert_eq!(over.get(&200), Some(&200), "{over:?}");
    assert!(worst > 3_000_000 && dropped > 0, "worst {worst} µs, {dropped} SYNs dropped");
    let (_, healthy_worst, _) = burst(vec![]);
    assert!(healthy_worst < 100_000, "{healthy_worst}");
}
