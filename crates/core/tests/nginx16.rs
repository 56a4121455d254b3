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
    gateway_core::sim::run(sc).unwrap()
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

// ---------------------------------------------------------------------------
// 6. proxy_ssl_verify: off by default, and the certificate fault no longer
// turns it on.

#[test]
fn an_unverified_bad_certificate_passes_silently() {
    let sim = run(scenario("tls_cert_unverified"));
    assert_eq!(statuses(&sim), [Some(200)]);
    assert!(errors(&sim).is_empty(), "{:?}", errors(&sim));
    let why = sim.exchanges()[0].explanation.clone().unwrap();
    assert!(why.contains("certificate has expired") && why.contains("proxy_ssl_verify is off"), "{why}");

    let sim = run(flavor(scenario("tls_cert_unverified"), Flavor::Haproxy));
    assert_eq!(statuses(&sim), [Some(200)]);
    assert!(sim.exchanges()[0].explanation.as_deref().unwrap().contains("verify none"));
}

#[test]
fn turning_verification_on_shows_the_certificate_problem() {
    let mut sc = scenario("tls_cert_unverified");
    sc.proxy.proxy_ssl_verify = true;
    let sim = run(sc.clone());
    assert_eq!(statuses(&sim), [Some(502)]);
    assert!(errors(&sim)[0].contains("upstream SSL certificate verify error: (10:certificate has expired) while SSL handshaking to upstream"), "{:?}", errors(&sim));
    let sim = run(flavor(sc, Flavor::Haproxy));
    assert_eq!(statuses(&sim), [Some(503)]);
    // And the shipped tls_cert_invalid.json says so itself.
    assert!(scenario("tls_cert_invalid").proxy.proxy_ssl_verify);
    assert_eq!(statuses(&run(scenario("tls_cert_invalid"))), [Some(502)]);
}

#[test]
fn a_version_1_scenario_keeps_its_meaning() {
    // Written for version 1, where tls_cert_invalid forced verification on.
    let v1 = r#"{"version":1,"clients":{"requests":1},"faults":[{"type":"tls_cert_invalid","problem":"self_signed"}]}"#;
    let sc = Scenario::from_json(v1).unwrap();
    assert_eq!((sc.version, sc.proxy.proxy_ssl_verify), (3, true));
    let sim = run(sc);
    assert_eq!(statuses(&sim), [Some(502)]);
    assert!(errors(&sim)[0].contains("(18:self-signed certificate)"));
    // The same document as version 2 means nginx's default: not verified.
    let v2 = v1.replace("\"version\":1", "\"version\":2");
    assert_eq!(statuses(&run(Scenario::from_json(&v2).unwrap())), [Some(200)]);
    // An old share link (its JSON says version 1) reads the same way.
    use base64::Engine as _;
    let frag = format!("#s=1.{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v1));
    let sc = gateway_core::link::decode_fragment(&frag).unwrap();
    assert!(sc.proxy.proxy_ssl_verify);
    // Re-encoded, the link now carries the setting itself.
    assert!(gateway_core::link::minimal_json(&sc).contains("\"proxy_ssl_verify\":true"));
}

// ---------------------------------------------------------------------------
// 5. A malformed chunked body after a 200 header.

#[test]
fn a_malformed_chunked_body_is_an_empty_reply_logged_as_200_0() {
    let sim = run(scenario("invalid_chunked"));
    assert_eq!(statuses(&sim), [Some(200)]);
    assert_eq!(
        errors(&sim),
        ["[error] 4453#4453: *1 upstream sent invalid chunked response while reading upstream, client: 127.0.0.1, server: localhost, request: \"GET /users HTTP/1.1\", upstream: \"http://127.0.0.1:3000/users\", host: \"localhost\""]
    );
    assert!(access(&sim)[0].ends_with("\"GET /users HTTP/1.1\" 200 0 \"-\" \"curl/8.5.0\""), "{:?}", access(&sim));
    let ex = &sim.exchanges()[0];
    assert!(ex.response.is_none());
    assert_eq!(ex.console, ["curl: (52) Empty reply from server"]);
    assert_eq!(gateway_core::sim::client::outcome_class(ex), "error");

    let sim = run(flavor(scenario("invalid_chunked"), Flavor::Haproxy));
    assert_eq!(statuses(&sim), [Some(502)]);
    assert!(access(&sim)[0].contains("/-1/") && access(&sim)[0].contains(" 502 209 - - PH-- "), "{:?}", access(&sim));
}

#[test]
fn curl_straight_to_the_app_fails_on_the_chunk_size() {
    let mut s = gateway_core::session::Session::new(scenario("invalid_chunked")).unwrap();
    let text = s.run_command("curl -i http://127.0.0.1:3000/users", 120).unwrap().text.clone();
    assert!(text.contains("Transfer-Encoding: chunked") && text.contains("curl: (56) Illegal or missing hexadecimal sequence in chunked-encoding"), "{text}");
}

// ---------------------------------------------------------------------------
// 1. connect() denied by the host's policy (SELinux).

#[test]
fn selinux_denies_the_connect_with_eacces_named_at_crit() {
    let sim = run(scenario("selinux_connect_denied"));
    assert_eq!(statuses(&sim), [Some(502)]);
    assert_eq!(
        errors(&sim),
        ["[crit] 4453#4453: *1 connect() to 127.0.0.1:3000 failed (13: Permission denied) while connecting to upstream, client: 127.0.0.1, server: localhost, request: \"GET /users HTTP/1.1\", upstream: \"http://127.0.0.1:3000/users\", host: \"localhost\""]
    );
    let why = sim.exchanges()[0].explanation.clone().unwrap();
    assert!(why.contains("setsebool -P httpd_can_network_connect 1"), "{why}");
    assert_eq!(sim.world().app_log.lines().count(), 0);

    // HAProxy: the syscall fails at once, so the 3 retries come without delay.
    let sim = run(flavor(scenario("selinux_connect_denied"), Flavor::Haproxy));
    assert_eq!(statuses(&sim), [Some(503)]);
    assert!(access(&sim)[0].contains(" 0/0/-1/-1/0 503 217 - - SC-- 1/1/0/0/3 "), "{:?}", access(&sim));
    assert!(sim.exchanges()[0].explanation.as_deref().unwrap().contains("haproxy_connect_any"));
}

#[test]
fn two_denied_servers_end_in_no_live_upstreams() {
    let mut sc = scenario("selinux_connect_denied");
    sc.apps = vec![
        gateway_core::sim::scenario::App { name: "web1".into(), listen: "127.0.0.1:8081".into(), ..Default::default() },
        gateway_core::sim::scenario::App { name: "web2".into(), listen: "127.0.0.1:8082".into(), pid: 2818, ..Default::default() },
    ];
    sc.upstream.servers = ["127.0.0.1:8081", "127.0.0.1:8082"]
        .iter()
        .map(|a| gateway_core::sim::scenario::UpstreamServer { address: a.to_string(), ..Default::default() })
        .collect();
    sc.proxy.error_log_level = "warn".into();
    sc.clients.requests = 2;
    let sim = run(sc);
    assert_eq!(statuses(&sim), [Some(502), Some(502)]);
    let e = errors(&sim);
    assert!(e[0].starts_with("[crit] 4453#4453: *1 connect() to 127.0.0.1:8081 failed (13: Permission denied)"), "{e:?}");
    assert!(e[1].starts_with("[warn] 4453#4453: *1 upstream server temporarily disabled"), "{e:?}");
    assert!(e[2].starts_with("[crit] 4453#4453: *1 connect() to 127.0.0.1:8082 failed (13: Permission denied)"), "{e:?}");
    assert!(e[4].contains("no live upstreams while connecting to upstream"), "{e:?}");
}

#[test]
fn the_terminal_shows_selinux_and_its_denials() {
    let mut s = gateway_core::session::Session::new(gateway_core::scenarios::blank()).unwrap();
    s.break_with("selinux_connect_denied").unwrap();
    s.send(1, 0).unwrap();
    assert_eq!(s.last().unwrap().status(), Some(502));
    let mut run = |line: &str| s.run_command(line, 120).unwrap().text.clone();
    assert_eq!(run("getenforce"), "Enforcing\n");
    assert_eq!(run("getsebool httpd_can_network_connect"), "httpd_can_network_connect --> off\n");
    let avc = run("ausearch -m avc -ts recent");
    assert!(avc.contains("avc:  denied  { name_connect } for  pid=4453 comm=\"nginx\" dest=3000 scontext=system_u:system_r:httpd_t:s0"), "{avc}");
    assert!(run("sudo tail -n 1 /var/log/nginx/error.log").contains("connect() to 127.0.0.1:3000 failed (13: Permission denied)"));
}

// ---------------------------------------------------------------------------
// 3. SNI: nginx sends none unless proxy_ssl_server_name is on.

fn sni_case(f: impl FnOnce(&mut Scenario)) -> Simulation {
    let mut sc = scenario("sni_required");
    f(&mut sc);
    run(sc)
}

#[test]
fn no_sni_is_alert_40_and_a_wrong_name_alert_112_at_crit() {
    let sim = sni_case(|_| {});
    assert_eq!(statuses(&sim), [Some(502)]);
    assert!(errors(&sim)[0].starts_with("[error] 4453#4453: *1 SSL_do_handshake() failed (SSL: error:0A000410:SSL routines::sslv3 alert handshake failure:SSL alert number 40) while SSL handshaking to upstream"), "{:?}", errors(&sim));
    assert!(sim.exchanges()[0].explanation.as_deref().unwrap().contains("proxy_ssl_server_name on"));

    let sim = sni_case(|sc| {
        sc.proxy.proxy_ssl_server_name = true;
        sc.proxy.proxy_ssl_name = "other.example".into();
    });
    assert_eq!(statuses(&sim), [Some(502)]);
    assert!(errors(&sim)[0].starts_with("[crit] 4453#4453: *1 SSL_do_handshake() failed (SSL: error:0A000458:SSL routines::tlsv1 unrecognized name:SSL alert number 112) while SSL handshaking to upstream"), "{:?}", errors(&sim));

    // HAProxy without sni on the server line: a failed handshake, retried, 503 SC--.
    let sim = run(flavor(scenario("sni_required"), Flavor::Haproxy));
    assert_eq!(statuses(&sim), [Some(503)]);
    assert!(access(&sim)[0].contains(" SC-- 1/1/0/0/3 "), "{:?}", access(&sim));
}

#[test]
fn sni_is_sent_for_a_name_but_never_for_an_ip() {
    assert_eq!(statuses(&sni_case(|sc| sc.proxy.proxy_ssl_server_name = true)), [Some(200)]);
    let ip = |sc: &mut Scenario| {
        sc.proxy.proxy_pass = "https://127.0.0.1:3000".into();
        sc.proxy.proxy_ssl_server_name = true;
    };
    assert_eq!(statuses(&sni_case(ip)), [Some(502)]);
    assert_eq!(statuses(&sni_case(|sc| { ip(sc); sc.proxy.proxy_ssl_name = "app".into(); })), [Some(200)]);
    // The fix turns it on (and names the app where proxy_pass cannot).
    for pass in ["http://app", "http://127.0.0.1:3000"] {
        let mut sc = scenario("sni_required");
        sc.proxy.proxy_pass = pass.into();
        gateway_core::sim::Fault::apply_fix(&mut sc, 0);
        assert!(sc.proxy.proxy_ssl_server_name);
        assert_eq!(statuses(&run(sc.clone())), [Some(200)], "{pass}");
        assert_eq!(statuses(&run(flavor(sc, Flavor::Haproxy))), [Some(200)], "{pass}");
    }
}

#[test]
fn the_exported_configs_carry_the_sni_directives() {
    let mut sc = gateway_core::sim::world::effective(&scenario("sni_required"));
    sc.proxy.proxy_ssl_server_name = true;
    sc.proxy.proxy_ssl_name = "app.internal".into();
    let nginx = gateway_core::sim::proxy::nginx::conf::render(&sc, &Default::default()).text;
    assert!(nginx.contains("        proxy_ssl_server_name on;\n        proxy_ssl_name app.internal;\n"), "{nginx}");
    let haproxy = gateway_core::sim::proxy::haproxy::conf::render(&sc).text;
    assert!(haproxy.contains(" ssl verify none sni str(app.internal)"), "{haproxy}");
}

#[test]
fn curl_to_the_app_by_ip_sends_no_sni_either() {
    let mut s = gateway_core::session::Session::new(scenario("sni_required")).unwrap();
    let text = s.run_command("curl -vk https://127.0.0.1:3000/users", 120).unwrap().text.clone();
    assert!(text.contains("TLS alert, handshake failure (552)") && text.contains("curl: (35) error:0A000410:SSL routines::sslv3 alert handshake failure"), "{text}");
}

// ---------------------------------------------------------------------------
// 2. `localhost` is two addresses (docs/research/nginx-1.22-observations-5.md §1).

#[test]
fn localhost_is_two_peers_and_the_ipv6_one_is_refused_first() {
    let sim = run(scenario("localhost_ipv6"));
    assert_eq!(statuses(&sim), [Some(200), Some(200), Some(200)]);
    let field = "client: 127.0.0.1, server: localhost, request: \"GET /users HTTP/1.1\", upstream: \"http://[::1]:5000/users\", host: \"localhost\"";
    assert_eq!(
        errors(&sim),
        [
            format!("[error] 4453#4453: *1 connect() failed (111: Connection refused) while connecting to upstream, {field}"),
            format!("[warn] 4453#4453: *1 upstream server temporarily disabled while connecting to upstream, {field}"),
        ]
    );
    let peers: Vec<Vec<&str>> = sim.exchanges().iter().map(|e| e.attempts.iter().map(|a| a.peer.as_str()).collect()).collect();
    assert_eq!(peers, [vec!["[::1]:5000", "127.0.0.1:5000"], vec!["127.0.0.1:5000"], vec!["127.0.0.1:5000"]]);
    let why = sim.exchanges()[0].explanation.clone().unwrap();
    assert!(why.contains("localhost is two addresses") && why.contains("proxy_pass http://127.0.0.1:5000"), "{why}");

    // Without `::1 localhost` in /etc/hosts: one peer, nothing logged.
    let mut sc = scenario("localhost_ipv6");
    sc.proxy.localhost_ipv6 = false;
    let sim = run(sc);
    assert_eq!(statuses(&sim), [Some(200), Some(200), Some(200)]);
    assert!(errors(&sim).is_empty(), "{:?}", errors(&sim));

    // The app listening on :: as well (a dual-stack socket): no refusal.
    let mut sc = scenario("localhost_ipv6");
    sc.apps[0].listen = "[::]:5000".into();
    assert!(errors(&run(sc)).is_empty());
}

#[test]
fn localhost_with_nothing_listening_disables_both_then_no_live_upstreams() {
    let mut sc = scenario("localhost_ipv6");
    sc.faults = vec![gateway_core::sim::Fault::from(gateway_core::sim::FaultKind::AppDown)];
    let sim = run(sc);
    assert_eq!(statuses(&sim), [Some(502), Some(502), Some(502)]);
    let e = errors(&sim);
    assert_eq!(e.len(), 6, "{e:?}");
    assert!(e[0].contains("*1 connect() failed (111: Connection refused)") && e[0].contains("upstream: \"http://[::1]:5000/users\""), "{e:?}");
    assert!(e[2].contains("*1 connect() failed (111: Connection refused)") && e[2].contains("upstream: \"http://127.0.0.1:5000/users\""), "{e:?}");
    // The implicit upstream's name is the host: `http://localhost/users`.
    assert!(e[4].starts_with("[error] 4453#4453: *4 no live upstreams while connecting to upstream") && e[4].contains("upstream: \"http://localhost/users\""), "{e:?}");

    // HAProxy takes libc's first address, [::1]: refused on every retry, 503 SC--.
    let mut sc = flavor(scenario("localhost_ipv6"), Flavor::Haproxy);
    sc.clients.requests = 1;
    let sim = run(sc);
    assert_eq!(statuses(&sim), [Some(503)]);
    assert!(access(&sim)[0].contains(" 503 217 - - SC-- 1/1/0/0/3 "), "{:?}", access(&sim));
}

#[test]
fn the_terminal_shows_the_app_on_127_0_0_1_only_and_curl_tries_ipv6_first() {
    let mut sim = run(scenario("localhost_ipv6"));
    let ss = gateway_core::shell::run(&mut sim, "ss -tlnp").text;
    assert!(ss.contains("127.0.0.1:5000") && !ss.contains("[::1]:5000"), "{ss}");
    let curl = gateway_core::shell::run(&mut sim, "curl -v http://localhost:5000/users").text;
    if std::env::var("SHOW").is_ok() { eprintln!("{ss}\n{curl}"); }
    assert!(curl.contains("*   Trying [::1]:5000...\n* connect to ::1 port 5000 failed: Connection refused\n*   Trying 127.0.0.1:5000..."), "{curl}");
    assert!(curl.contains("127.0.0.1"), "{curl}");

    let mut sc = scenario("localhost_ipv6");
    sc.apps[0].listen = "[::1]:5000".into();
    let mut sim = run(sc);
    let ss = gateway_core::shell::run(&mut sim, "ss -tlnp").text;
    assert!(ss.contains("[::1]:5000"), "{ss}");
}

#[test]
fn the_exported_config_says_what_localhost_becomes() {
    use gateway_core::sim::proxy::nginx::conf::{render, Paths};
    let text = render(&scenario("localhost_ipv6"), &Paths::default()).text;
    assert!(text.contains("        proxy_pass http://localhost:5000;"), "{text}");
    assert!(text.contains("# /etc/hosts maps localhost to ::1 and 127.0.0.1: nginx resolves it at start-up into [::1]:5000 and 127.0.0.1:5000."), "{text}");
}

// ---------------------------------------------------------------------------
// 8. WebSocket (docs/research/nginx-1.22-observations-4.md §4, -5.md §2).

fn websocket_fixed(mut sc: Scenario) -> Scenario {
    sc.proxy.proxy_http_version = "1.1".into();
    sc.proxy.proxy_set_header.insert("Upgrade".into(), "$http_upgrade".into());
    sc.proxy.proxy_set_header.insert("Connection".into(), "upgrade".into());
    sc.proxy.proxy_read_timeout_ms = 2_000;
    sc
}

#[test]
fn a_websocket_without_the_upgrade_headers_gets_the_apps_refusal() {
    let sim = run(scenario("websocket_upgrade"));
    assert_eq!(statuses(&sim), [Some(426)]);
    assert!(errors(&sim).is_empty(), "{:?}", errors(&sim));
    assert_eq!(access(&sim), ["\"GET /socket HTTP/1.1\" 426 16 \"-\" \"curl/8.5.0\""]);
    let why = sim.exchanges()[0].explanation.clone().unwrap();
    assert!(why.contains("proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade"), "{why}");

    let mut sc = scenario("websocket_upgrade");
    sc.apps[0].websocket = gateway_core::sim::scenario::WebSocketApp::Socketio;
    let sim = run(sc);
    assert_eq!(access(&sim), ["\"GET /socket HTTP/1.1\" 400 34 \"-\" \"curl/8.5.0\""]);

    // A plain HTTP app ignores the Upgrade header.
    let mut sc = scenario("websocket_upgrade");
    sc.apps[0].websocket = gateway_core::sim::scenario::WebSocketApp::None;
    assert_eq!(statuses(&run(sc)), [Some(200)]);
}

#[test]
fn with_the_headers_the_tunnel_closes_at_proxy_read_timeout_logged_at_info() {
    let sim = run(websocket_fixed(scenario("websocket_upgrade")));
    assert_eq!(statuses(&sim), [Some(101)]);
    // Nothing at the default level (error).
    assert!(errors(&sim).is_empty(), "{:?}", errors(&sim));
    let ex = &sim.exchanges()[0];
    let took = ex.finished_at.unwrap().since(ex.sent_at);
    assert!((2_000_000..2_100_000).contains(&took), "{took}");
    let r = ex.response.as_ref().unwrap();
    let names: Vec<String> = r.headers.iter().map(|h| format!("{}: {}", h.name, h.value)).collect();
    assert_eq!(names[2..], ["Connection: upgrade", "Upgrade: websocket", "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="]);

    let mut sc = websocket_fixed(scenario("websocket_upgrade"));
    sc.proxy.error_log_level = "info".into();
    let sim = run(sc);
    assert_eq!(
        errors(&sim),
        ["[info] 4453#4453: *1 upstream timed out (110: Connection timed out) while proxying upgraded connection, client: 127.0.0.1, server: localhost, request: \"GET /socket HTTP/1.1\", upstream: \"http://127.0.0.1:3000/socket\", host: \"localhost\""]
    );
    assert_eq!(access(&sim), ["\"GET /socket HTTP/1.1\" 101 0 \"-\" \"curl/8.5.0\""]);
    // access.log is written when the tunnel ends, 2 s after the request.
    assert!(sim.world().access_log.lines().next().unwrap().contains("[21/Nov/2026:04:43:46 +0000]"));

    // HAProxy passes the upgrade by itself; timeout server (2 s) closes it: sD--.
    let mut sc = flavor(scenario("websocket_upgrade"), Flavor::Haproxy);
    sc.proxy.haproxy.timeout_server_ms = 2_000;
    let sim = run(sc);
    assert_eq!(statuses(&sim), [Some(101)]);
    assert!(access(&sim)[0].contains(" 101 132 - - sD-- 1/1/0/0/0 "), "{:?}", access(&sim));
}

#[test]
fn the_terminals_curl_sends_a_websocket_handshake() {
    let h = "-H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=='";
    let mut sim = Simulation::new(scenario("websocket_upgrade")).unwrap();
    let out = gateway_core::shell::run(&mut sim, &format!("curl -sS -i {h} http://127.0.0.1/socket"));
    assert!(out.text.contains("HTTP/1.1 426 Upgrade Required"), "{}", out.text);
    let mut sim = Simulation::new(websocket_fixed(scenario("websocket_upgrade"))).unwrap();
    let out = gateway_core::shell::run(&mut sim, &format!("curl -sS -i {h} http://127.0.0.1/socket"));
    let text = out.text.replace("\r\n", "\n");
    assert!(text.contains("HTTP/1.1 101 Switching Protocols\n") && text.contains("Connection: upgrade\n"), "{text}");
    assert!(text.contains("curl: (52) Empty reply from server"), "{text}");
}

#[test]
fn the_idle_timeout_scenario_closes_the_tunnel_after_60_s() {
    let sim = run(scenario("websocket_idle_timeout"));
    assert_eq!(statuses(&sim), [Some(101)]);
    let e = errors(&sim);
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].starts_with("[info] 4453#4453: *1 upstream timed out (110: Connection timed out) while proxying upgraded connection"), "{e:?}");
    assert!(sim.world().access_log.lines().next().unwrap().contains("[21/Nov/2026:04:44:44 +0000] \"GET /socket HTTP/1.1\" 101 0"));
}

#[test]
fn the_pages_send_button_sends_a_websocket_clients_handshake() {
    let mut s = gateway_core::session::Session::new(scenario("websocket_upgrade")).unwrap();
    let ids = s.send(1, 0).unwrap();
    let ex = &s.sim().exchanges()[ids[0]];
    assert!(ex.request.websocket && ex.request.path == "/socket");
    assert_eq!(ex.logged_status, Some(426));
}
