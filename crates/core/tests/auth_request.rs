//! Issue 16 item 10: nginx's `auth_request` with a failing authorization
//! service gives the client 500, while error.log has the subrequest's own
//! line and `auth request unexpected status: 502`. Texts as the real nginx
//! 1.22.1 wrote them: docs/research/nginx-1.22-observations-4.md §3.

use gateway_core::shell;
use gateway_core::sim::proxy::nginx::conf::{render, Paths};
use gateway_core::sim::scenario::Flavor;
use gateway_core::sim::world::effective;
use gateway_core::sim::{Fault, FaultKind, Scenario, Simulation};

fn ready() -> Scenario {
    let text = gateway_core::scenarios::READY.iter().find(|(n, _)| *n == "auth_request_failure").unwrap().1;
    Scenario::from_json(text).unwrap()
}

fn run(sc: Scenario) -> Simulation {
    gateway_core::sim::run(sc).unwrap()
}

#[test]
fn a_refused_auth_subrequest_is_a_500_for_the_client() {
    let sim = run(ready());
    let ex = &sim.exchanges()[0];
    assert_eq!(ex.logged_status, Some(500));
    assert_eq!(ex.response.as_ref().unwrap().body.len(), 177);
    assert!(ex.attempts.is_empty(), "the app never sees the request");
    let lines: Vec<&str> = ex.error_lines.iter().map(|l| l.text.as_str()).collect();
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert!(lines[0].ends_with("[error] 4453#4453: *1 connect() failed (111: Connection refused) while connecting to upstream, client: 127.0.0.1, server: localhost, request: \"GET /users HTTP/1.1\", subrequest: \"/auth\", upstream: \"http://127.0.0.1:9000/auth\", host: \"localhost\""), "{}", lines[0]);
    assert!(lines[1].ends_with("[error] 4453#4453: *1 auth request unexpected status: 502 while sending to client, client: 127.0.0.1, server: localhost, request: \"GET /users HTTP/1.1\", host: \"localhost\""), "{}", lines[1]);
    let why = ex.explanation.as_deref().unwrap();
    assert!(why.contains("500 hides a gateway error") && why.contains("HAProxy has no built-in equivalent"), "{why}");
}

#[test]
fn an_auth_answer_with_too_big_headers_is_the_other_variant() {
    let mut sc = ready();
    sc.faults[0].kind = FaultKind::OversizedHeader { header_bytes: 6_000 };
    let sim = run(sc);
    let ex = &sim.exchanges()[0];
    assert_eq!(ex.logged_status, Some(500));
    assert!(ex.error_lines[0].text.contains("upstream sent too big header while reading response header from upstream, client: 127.0.0.1, server: localhost, request: \"GET /users HTTP/1.1\", subrequest: \"/auth\", upstream: \"http://127.0.0.1:9000/auth\""), "{}", ex.error_lines[0].text);
    assert!(ex.error_lines[1].text.contains("auth request unexpected status: 502 while sending to client"));
    // The auth service logged the subrequest it answered.
    assert!(sim.world().app_log.lines().any(|l| l.contains("auth[2830]") && l.contains("GET /auth")), "{:#?}", sim.world().app_log.lines().collect::<Vec<_>>());
}

#[test]
fn a_working_auth_service_lets_the_request_through_after_its_answer() {
    let mut sc = ready();
    sc.faults.clear();
    let sim = run(sc);
    let ex = &sim.exchanges()[0];
    assert_eq!(ex.logged_status, Some(200));
    assert_eq!(ex.attempts.len(), 1);
    assert!(ex.error_lines.is_empty());
    assert!(ex.attempts[0].started.as_micros() >= 3_000, "the subrequest's answer comes first: {:?}", ex.attempts[0].started);
    // The fix of the fault (start the auth service) gives the same.
    let mut sc = ready();
    Fault::apply_fix(&mut sc, 0);
    assert_eq!(run(sc).exchanges()[0].logged_status, Some(200));
}

#[test]
fn haproxy_has_no_auth_request() {
    let mut sc = ready();
    sc.proxy.flavor = Flavor::Haproxy;
    let sim = run(sc);
    let ex = &sim.exchanges()[0];
    assert_eq!(ex.logged_status, Some(200));
    assert!(ex.explanation.as_deref().unwrap().contains("auth_request is nginx's"));
}

#[test]
fn the_exported_config_has_the_auth_location() {
    let text = render(&effective(&ready()), &Paths::default()).text;
    assert!(text.contains("        auth_request /auth;\n"), "{text}");
    assert!(text.contains("    location = /auth {\n        internal;\n        proxy_pass http://127.0.0.1:9000;\n        proxy_pass_request_body off;\n        proxy_set_header Content-Length \"\";\n    }\n}\n"), "{text}");
    let mut bad = ready();
    bad.proxy.auth_request.as_mut().unwrap().pass = "https://x".into();
    assert!(bad.validate().unwrap_err().0.starts_with("proxy.auth_request.pass"));
    let old = Scenario::from_json(r#"{"version": 1}"#).unwrap();
    assert_eq!(old.proxy.auth_request, None);
    assert!(!render(&effective(&old), &Paths::default()).text.contains("auth_request"));
}

#[test]
fn the_terminal_shows_the_auth_service_down_and_the_lines() {
    let mut sim = run(ready());
    let status = shell::run(&mut sim, "systemctl status auth").text;
    assert!(status.starts_with("○ auth.service"), "{status}");
    let errors = shell::run(&mut sim, "grep 'auth request' /var/log/nginx/error.log").text;
    assert!(errors.contains("auth request unexpected status: 502 while sending to client"), "{errors}");
    let access = shell::run(&mut sim, "tail -n 1 /var/log/nginx/access.log").text;
    assert!(access.contains("\"GET /users HTTP/1.1\" 500 177"), "{access}");
}
