//! The Apache flavor against what a real Apache 2.4.71 (Debian) wrote on
//! loopback (docs/research/apache-caddy-varnish-observations.md §1, and the
//! fidelity harness's Apache column): statuses, bodies, the error log's
//! lines with their AH codes and APR errors, the access log.

use std::path::Path;

use gateway_core::sim::scenario::{App, Flavor, RequestSpec, UpstreamServer};
use gateway_core::sim::{Scenario, Simulation};

fn load(name: &str) -> Scenario {
    let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("scenarios").join(format!("{name}.json"));
    let mut s = Scenario::from_json(&std::fs::read_to_string(&path).unwrap()).unwrap();
    s.proxy.flavor = Flavor::Apache;
    s
}

fn run(s: Scenario) -> Simulation {
    let mut sim = Simulation::new(s).unwrap();
    sim.run();
    sim
}

/// Each error line without its time and `[pid …:tid …]`, the client port as PORT.
fn errors(sim: &Simulation, i: usize) -> Vec<String> {
    sim.exchanges()[i]
        .error_lines
        .iter()
        .map(|l| {
            let t = &l.text;
            let after_time = &t[t.find("] [").unwrap() + 2..];
            let (module, rest) = after_time.split_once("] [pid ").unwrap();
            let rest = &rest[rest.find("] ").unwrap() + 2..];
            let rest = match rest.find("[client 127.0.0.1:") {
                Some(i) => {
                    let end = rest[i..].find(']').unwrap() + i;
                    format!("{}[client 127.0.0.1:PORT{}", &rest[..i], &rest[end..])
                }
                None => rest.to_string(),
            };
            format!("{module}] {rest}")
        })
        .collect()
}

fn status_and_body(sim: &Simulation, i: usize) -> (u16, usize) {
    let r = sim.exchanges()[i].response.as_ref().unwrap();
    (r.status, r.body.len())
}

#[test]
fn a_refused_backend_is_503_with_ah00957_and_ah01114() {
    let sim = run(load("app_down"));
    assert_eq!(status_and_body(&sim, 0), (503, 339));
    assert_eq!(
        errors(&sim, 0),
        [
            "[proxy:error] (111)Connection refused: AH00957: http: attempt to connect to 127.0.0.1:3000 (127.0.0.1:3000) failed",
            "[proxy_http:error] [client 127.0.0.1:PORT] AH01114: HTTP: failed to make connection to backend: 127.0.0.1",
        ]
    );
    let access = sim.exchanges()[0].access_line.clone().unwrap();
    assert!(access.ends_with("\"GET /users HTTP/1.1\" 503 339 \"-\" \"curl/8.5.0\""), "{access}");
}

#[test]
fn a_slow_backend_is_502_not_504() {
    let sim = run(load("slow_app"));
    assert_eq!(status_and_body(&sim, 0), (502, 381));
    assert_eq!(
        errors(&sim, 0),
        [
            "[proxy_http:error] (70007)The timeout specified has expired: [client 127.0.0.1:PORT] AH01102: error reading status line from remote server 127.0.0.1:3000",
            "[proxy:error] [client 127.0.0.1:PORT] AH00898: Error reading from remote server returned by /users",
        ]
    );
    // ProxyTimeout (60 s by default) after the request was written.
    let ex = &sim.exchanges()[0];
    let waited = ex.finished_at.unwrap().since(ex.sent_at) / 1_000;
    assert!((60_000..60_100).contains(&waited), "{waited} ms");
}

#[test]
fn a_black_holed_backend_is_503_after_proxytimeout() {
    let sim = run(load("connect_black_hole"));
    assert_eq!(status_and_body(&sim, 0), (503, 339));
    assert!(errors(&sim, 0)[0].starts_with("[proxy:error] (70007)The timeout specified has expired: AH00957: "), "{:?}", errors(&sim, 0));
}

#[test]
fn an_invalid_header_name_is_500_from_the_http_module() {
    let sim = run(load("invalid_header"));
    assert_eq!(status_and_body(&sim, 0), (500, 571));
    assert_eq!(errors(&sim, 0), ["[http:error] [client 127.0.0.1:PORT] AH02429: Response header name 'Bad Header' contains invalid characters, aborting request"]);
}

#[test]
fn an_unresolvable_backend_is_500_proxy_error_at_request_time() {
    let sim = run(load("dns_failure_startup"));
    assert!(sim.world().proxy_running, "apache2 -t does not resolve ProxyPass hosts");
    // 311 bytes for `nonexistent.invalid`, 7 fewer for `app.internal`.
    assert_eq!(status_and_body(&sim, 0), (500, 304));
    assert_eq!(errors(&sim, 0), ["[proxy:error] (EAI 2)Name or service not known: [client 127.0.0.1:PORT] AH00898: DNS lookup failure for: app.internal returned by /users"]);
}

#[test]
fn the_keep_alive_race_is_a_502_without_retry() {
    let sim = run(load("keepalive_mismatch"));
    let statuses: Vec<u16> = (0..3).map(|i| status_and_body(&sim, i).0).collect();
    assert_eq!(statuses[1], 502, "{statuses:?}");
    let ex = &sim.exchanges()[1];
    assert_eq!(ex.attempts.len(), 1);
    assert!(ex.attempts[0].reused, "the request went on the pooled connection");
    assert!(errors(&sim, 1)[0].starts_with("[proxy_http:error] (20014)Internal error (specific information not available): "), "{:?}", errors(&sim, 1));
}

#[test]
fn a_pooled_connection_the_backend_closed_first_is_replaced_silently() {
    // kaidle: the backend closes an idle connection long before the next request.
    let mut s = load("healthy");
    s.clients.requests = 0;
    s.apps[0].keepalive_timeout_ms = 200;
    s.requests = vec![RequestSpec { at_ms: 0, ..RequestSpec::default() }, RequestSpec { at_ms: 500, ..RequestSpec::default() }];
    let sim = run(s);
    for i in 0..2 {
        assert_eq!(status_and_body(&sim, i).0, 200);
        assert!(!sim.exchanges()[i].attempts[0].reused);
    }
}

#[test]
fn a_plain_proxypass_worker_is_never_put_in_error_state() {
    let mut s = load("app_down");
    s.clients.requests = 2;
    let sim = run(s);
    for i in 0..2 {
        assert_eq!(status_and_body(&sim, i).0, 503);
        assert_eq!(sim.exchanges()[i].attempts.len(), 1, "the second request connects again");
        assert!(!errors(&sim, i).iter().any(|l| l.contains("AH00959")));
    }
}

#[test]
fn a_balancer_member_that_refuses_is_disabled_and_the_other_member_answers() {
    let mut s = load("app_down");
    s.apps = vec![
        App { name: "web1".into(), listen: "127.0.0.1:3000".into(), ..App::default() },
        App { name: "web2".into(), listen: "127.0.0.1:3001".into(), pid: 2818, ..App::default() },
    ];
    s.upstream.servers = ["127.0.0.1:3000", "127.0.0.1:3001"].iter().map(|a| UpstreamServer { address: a.to_string(), ..UpstreamServer::default() }).collect();
    s.faults[0].target = Some("web1".into());
    s.clients.requests = 3;
    s.clients.rate_per_s = 2.0;
    let sim = run(s);
    assert_eq!(status_and_body(&sim, 0).0, 200);
    assert_eq!(sim.exchanges()[0].attempts.len(), 2);
    assert!(errors(&sim, 0).iter().any(|l| l == "[proxy:error] AH00959: ap_proxy_connect_backend disabling worker for (127.0.0.1:3000) for 60s"), "{:?}", errors(&sim, 0));
    // In error state for retry=60: the next requests go to web2 alone.
    for i in 1..3 {
        assert_eq!(status_and_body(&sim, i).0, 200);
        assert_eq!(sim.exchanges()[i].attempts.len(), 1);
        assert_eq!(sim.exchanges()[i].attempts[0].peer, "127.0.0.1:3001");
    }
}

#[test]
fn tls_and_nginx_only_features_are_refused_with_a_message() {
    for name in ["tls_cert_invalid", "rate_limited", "auth_request_failure"] {
        let err = Simulation::new(load(name)).err().unwrap_or_else(|| panic!("{name} ran"));
        assert!(err.to_string().contains("proxy.flavor"), "{name}: {err}");
    }
}

#[test]
fn a_request_header_line_above_limitrequestfieldsize_is_400() {
    let sim = run(load("request_too_large"));
    let got: Vec<(u16, usize)> = (0..3).map(|i| status_and_body(&sim, i)).collect();
    // The 2 MB upload passes (LimitRequestBody is 1 GiB); 9 kB and 16 kB Cookies do not.
    assert_eq!(got[1..], [(400, 318), (400, 318)]);
    assert_eq!(got[0].0, 200);
}
