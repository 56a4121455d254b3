//! Issue 16 items 7 and 11: nginx's limits on the client's request
//! (`client_max_body_size`, `large_client_header_buffers`) and HAProxy's
//! buffer for the request head; the `upstreaminfo` access.log format that
//! lists every attempt. Expected texts are the real ones of
//! docs/research/nginx-1.22-observations-4.md.

use gateway_core::shell;
use gateway_core::sim::proxy::nginx::conf::{render, Paths};
use gateway_core::sim::scenario::{Flavor, RequestSpec};
use gateway_core::sim::world::effective;
use gateway_core::sim::{Scenario, Simulation};

fn ready(name: &str) -> Scenario {
    let text = gateway_core::scenarios::READY.iter().find(|(n, _)| *n == name).unwrap().1;
    Scenario::from_json(text).unwrap()
}

fn run(sc: Scenario) -> Simulation {
    gateway_core::sim::run(sc).unwrap()
}

#[test]
fn nginx_refuses_a_large_body_with_413_and_a_long_cookie_with_400() {
    let sim = run(ready("request_too_large"));
    let ex = sim.exchanges();
    assert_eq!(ex.iter().map(|e| e.logged_status).collect::<Vec<_>>(), [Some(413), Some(400), Some(400)]);
    assert!(ex.iter().all(|e| e.attempts.is_empty()), "the app never sees them");
    assert_eq!(ex[0].response.as_ref().unwrap().body.len(), 183);
    assert_eq!(ex[1].response.as_ref().unwrap().body.len(), 233);
    assert!(ex[1].response.as_ref().unwrap().body.contains("<title>400 Request Header Or Cookie Too Large</title>"));
    let errors: Vec<&String> = sim.world().error_log.lines().collect();
    assert_eq!(errors.len(), 1, "the [info] lines stay below error_log error: {errors:?}");
    assert!(errors[0].ends_with("[error] 4453#4453: *1 client intended to send too large body: 2000000 bytes, client: 127.0.0.1, server: localhost, request: \"POST /upload HTTP/1.1\", host: \"localhost\""), "{}", errors[0]);
    let why = ex[1].explanation.as_deref().unwrap();
    assert!(why.contains("[info]") && why.contains("large_client_header_buffers 4 16k"), "{why}");
    assert!(ex[0].explanation.as_deref().unwrap().contains("client_max_body_size 2m"), "{:?}", ex[0].explanation);
}

#[test]
fn the_too_long_header_line_is_quoted_as_nginx_quotes_it() {
    let mut sc = ready("request_too_large");
    sc.proxy.error_log_level = "info".into();
    let sim = run(sc);
    let line = &sim.exchanges()[1].error_lines[0].text;
    // "Cookie: session=" and 1732 more bytes: NGX_MAX_ERROR_STR - 300 = 1748.
    let quoted = format!("\"Cookie: session={}...\"", "a".repeat(1_732));
    assert!(line.contains(&format!("[info] 4453#4453: *2 client sent too long header line: {quoted} while reading client request headers, client: 127.0.0.1, server: localhost, request: \"GET /users HTTP/1.1\", host: \"localhost\"")), "{line}");
}

#[test]
fn the_limits_are_at_the_bytes_real_nginx_measured() {
    // 8174 bytes of cookie after "session=": the line and its CRLF are 8192 bytes.
    let one = |cookie: u64, body: u64| {
        let mut sc = Scenario::default();
        sc.clients.requests = 0;
        sc.requests = vec![RequestSpec { cookie_bytes: cookie, body_bytes: body, method: if body > 0 { "POST".into() } else { "GET".into() }, ..RequestSpec::default() }];
        run(sc).exchanges()[0].logged_status.unwrap()
    };
    assert_eq!(one(8 + 8_174, 0), 200);
    assert_eq!(one(8 + 8_175, 0), 400);
    assert_eq!(one(0, 1 << 20), 200);
    assert_eq!(one(0, (1 << 20) + 1), 413);
}

#[test]
fn haproxy_passes_the_body_and_refuses_only_a_head_beyond_its_buffer() {
    let mut sc = ready("request_too_large");
    sc.proxy.flavor = Flavor::Haproxy;
    let sim = run(sc);
    let ex = sim.exchanges();
    assert_eq!(ex.iter().map(|e| e.logged_status).collect::<Vec<_>>(), [Some(200), Some(200), Some(400)]);
    let line = ex[2].access_line.as_deref().unwrap();
    assert!(line.ends_with(" fe_main fe_main/<NOSRV> -1/-1/-1/-1/0 400 0 - - PR-- 1/1/0/0/0 0/0 \"<BADREQ>\""), "{line}");
    assert_eq!(ex[2].response.as_ref().unwrap().body.len(), 90);
    assert!(ex[2].explanation.as_deref().unwrap().contains("tune.bufsize"));
    // The largest head the real HAProxy took: 15265 bytes with 4 headers.
    let one = |cookie: u64| {
        let mut sc = Scenario::default();
        sc.proxy.flavor = Flavor::Haproxy;
        sc.clients.requests = 0;
        sc.requests = vec![RequestSpec { path: "/users?n=15162".into(), cookie_bytes: cookie, ..RequestSpec::default() }];
        run(sc).exchanges()[0].logged_status.unwrap()
    };
    assert_eq!(one(8 + 15_162), 200);
    assert_eq!(one(8 + 15_163), 400);
}

#[test]
fn old_scenarios_keep_their_meaning() {
    let sc = Scenario::from_json(r#"{"version": 1, "requests": [{"at_ms": 0}]}"#).unwrap();
    assert_eq!(sc.proxy.client_max_body_size, 1 << 20, "nginx's default");
    assert_eq!((sc.proxy.large_client_header_buffers_count, sc.proxy.large_client_header_buffers_size), (4, 8192));
    assert_eq!(sc.proxy.access_log_format, "combined");
    assert_eq!(sc.requests[0].cookie_bytes, 0);
    assert!(!sc.to_json().contains("cookie_bytes"), "a zero is not written out");
    let text = render(&effective(&sc), &Paths::default()).text;
    assert!(!text.contains("client_max_body_size") && !text.contains("large_client_header_buffers") && !text.contains("log_format"), "{text}");
    assert!(text.contains("access_log /var/log/nginx/access.log combined;"), "{text}");
}

#[test]
fn the_knobs_are_in_the_exported_config() {
    let mut sc = Scenario::default();
    sc.proxy.client_max_body_size = 10 << 20;
    sc.proxy.large_client_header_buffers_size = 16 << 10;
    sc.proxy.access_log_format = "upstreaminfo".into();
    let text = render(&effective(&sc), &Paths::default()).text;
    assert!(text.contains("    client_max_body_size 10m;\n    large_client_header_buffers 4 16k;\n"), "{text}");
    assert!(text.contains("log_format upstreaminfo '$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent \"$http_referer\" \"$http_user_agent\" $request_length $request_time $upstream_addr $upstream_response_length $upstream_response_time $upstream_status';"), "{text}");
    assert!(text.contains("access_log /var/log/nginx/access.log upstreaminfo;"), "{text}");
    sc.proxy.client_max_body_size = 0;
    assert!(render(&effective(&sc), &Paths::default()).text.contains("    client_max_body_size 0;\n"));
    let mut bad = Scenario::default();
    bad.proxy.access_log_format = "main".into();
    assert!(bad.validate().unwrap_err().0.starts_with("proxy.access_log_format"));
}

#[test]
fn upstreaminfo_lists_every_attempt() {
    let sim = run(ready("upstream_fields"));
    let line = sim.exchanges()[0].access_line.as_deref().unwrap();
    assert!(
        line.ends_with("\"GET /users HTTP/1.1\" 504 167 \"-\" \"curl/8.5.0\" 77 15.000 127.0.0.1:3000, 127.0.0.1:3001, 127.0.0.1:3002 0, 0, 0 5.000, 5.000, 5.000 504, 504, 504"),
        "{line}"
    );
}

#[test]
fn the_explanation_reads_the_upstream_fields_per_flavor() {
    let sim = run(ready("upstream_fields"));
    let why = sim.exchanges()[0].explanation.as_deref().unwrap();
    assert!(why.contains("lists all 3 attempts: $upstream_status 504, 504, 504,"), "{why}");
    let mut sc = ready("upstream_fields");
    sc.proxy.flavor = Flavor::Haproxy;
    let sim = run(sc);
    let why = sim.exchanges()[0].explanation.as_deref().unwrap();
    assert!(why.contains("is an nginx log_format; HAProxy's httplog names only the last server"), "{why}");
}

#[test]
fn upstreaminfo_says_dash_without_an_upstream_and_names_the_group_when_none_is_live() {
    let mut sc = ready("upstream_fields");
    sc.faults = vec![gateway_core::sim::FaultKind::AppDown.into()];
    sc.clients.requests = 2;
    sc.proxy.client_max_body_size = 10;
    sc.requests = vec![RequestSpec { at_ms: 5_000, method: "POST".into(), path: "/g".into(), body_bytes: 30, ..RequestSpec::default() }];
    let sim = run(sc);
    let lines: Vec<&String> = sim.world().access_log.lines().collect();
    // Real nginx: "... 79 0.000 127.0.0.1:18191, 127.0.0.1:18192, 127.0.0.1:18193 0, 0, 0 0.000, 0.000, 0.000 502, 502, 502",
    // then "refusing 0 0.000 502" and "POST /g ... 413 183 ... 149 0.001 - - - -" (149 with
    // curl's "Host: 127.0.0.1:18175", 6 bytes more than "Host: localhost").
    assert!(lines[0].ends_with(" 77 0.000 127.0.0.1:3000, 127.0.0.1:3001, 127.0.0.1:3002 0, 0, 0 0.000, 0.000, 0.000 502, 502, 502"), "{}", lines[0]);
    assert!(lines[1].ends_with(" 77 0.000 app 0 0.000 502"), "{}", lines[1]);
    assert!(lines[2].contains("\"POST /g HTTP/1.1\" 413 183 ") && lines[2].ends_with(" 143 0.000 - - - -"), "{}", lines[2]);
}

#[test]
fn an_admin_finds_them_in_the_logs_from_the_terminal() {
    let mut sim = run(ready("request_too_large"));
    let errors = shell::run(&mut sim, "grep 'too large' /var/log/nginx/error.log").text;
    assert!(errors.contains("client intended to send too large body: 2000000 bytes"), "{errors}");
    assert!(!errors.contains("too long header line"), "written at [info] only: {errors}");
    let access = shell::run(&mut sim, "tail -n 2 /var/log/nginx/access.log").text;
    assert_eq!(access.matches("\" 400 233 \"-\"").count(), 2, "{access}");
    let mut sim = run(ready("upstream_fields"));
    let access = shell::run(&mut sim, "tail -n 1 /var/log/nginx/access.log").text;
    assert!(access.contains("504, 504, 504"), "{access}");
    let conf = shell::run(&mut sim, "grep log_format /etc/nginx/conf.d/gateway-lab.conf").text;
    assert!(conf.starts_with("log_format upstreaminfo '$remote_addr"), "{conf}");
}
