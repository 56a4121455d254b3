//! Structured outcomes: a failed attempt carries a typed cause, the
//! explanations branch on it (not on the log text), one rule says whether a
//! request succeeded, and error.log lines keep their level as data.

use std::path::Path;

use gateway_core::embed_api;
use gateway_core::sim::failure::{FailureCause, TimeoutPhase, TlsProblem};
use gateway_core::sim::fault::CertProblem;
use gateway_core::sim::log::{Level, LogLine};
use gateway_core::sim::scenario::{App, Flavor, RequestSpec};
use gateway_core::sim::world::{AttemptResult, Exchange, OutcomeClass};
use gateway_core::sim::{run, Fault, FaultKind, Scenario, Simulation};

fn ready(name: &str, flavor: Flavor) -> Simulation {
    let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("scenarios").join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut sc = Scenario::from_json(&text).unwrap();
    sc.proxy.flavor = flavor;
    let mut sim = Simulation::new(sc).unwrap();
    sim.run();
    sim
}

fn ready_names() -> Vec<String> {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("scenarios");
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    v.sort();
    assert!(v.len() >= 20);
    v
}

fn with_fault(kind: FaultKind) -> Scenario {
    Scenario { faults: vec![Fault::from(kind)], ..Scenario::default() }
}

fn first_cause(ex: &Exchange) -> Option<&FailureCause> {
    ex.attempts.first().and_then(|a| a.result.cause())
}

#[test]
fn a_missing_socket_whose_path_contains_111_is_a_missing_socket() {
    // The old explanation looked for "111" in the log text: this path made
    // it say "Nothing was listening".
    let sim = run(with_fault(FaultKind::UnixSocketMissing { path: "/run/app-111/app.sock".into() })).unwrap();
    let ex = &sim.exchanges()[0];
    assert_eq!(ex.status(), Some(502));
    assert_eq!(first_cause(ex), Some(&FailureCause::NoSuchFile));
    let why = ex.explanation.as_deref().unwrap();
    assert!(why.starts_with("The unix socket unix:/run/app-111/app.sock does not exist (ENOENT)"), "{why}");
    assert!(!why.contains("Nothing was listening"), "{why}");
    // The log line is still nginx's, byte for byte, and [crit] as data.
    assert_eq!(ex.error_lines.len(), 1);
    assert_eq!(ex.error_lines[0].level, Level::Crit);
    assert!(ex.error_lines[0].text.contains("[crit] 4453#4453: *1 connect() to unix:/run/app-111/app.sock failed (2: No such file or directory) while connecting to upstream"), "{}", ex.error_lines[0].text);
}

#[test]
fn a_forbidden_socket_whose_path_contains_111_is_a_permission_problem() {
    let sim = run(with_fault(FaultKind::UnixSocketPermission { path: "/run/111/app.sock".into() })).unwrap();
    let ex = &sim.exchanges()[0];
    assert_eq!(first_cause(ex), Some(&FailureCause::PermissionDenied));
    let why = ex.explanation.as_deref().unwrap();
    assert!(why.starts_with("The socket unix:/run/111/app.sock exists but nginx's worker user may not open it (EACCES)"), "{why}");
}

#[test]
fn a_certificate_for_another_name_is_a_tls_problem_even_if_the_name_has_111() {
    let mut s = with_fault(FaultKind::TlsCertInvalid { problem: CertProblem::HostnameMismatch });
    s.upstream.name = "pool111".into();
    s.proxy.proxy_pass = "http://pool111".into();
    s.proxy.proxy_ssl_verify = true;
    let sim = run(s).unwrap();
    let ex = &sim.exchanges()[0];
    assert_eq!(first_cause(ex), Some(&FailureCause::Tls(TlsProblem::CertVerify(CertProblem::HostnameMismatch))));
    assert!(ex.error_lines[0].text.contains("upstream SSL certificate does not match \"pool111\" while SSL handshaking to upstream"), "{}", ex.error_lines[0].text);
    let why = ex.explanation.as_deref().unwrap();
    assert!(why.starts_with("The TLS handshake with 127.0.0.1:3000 failed (upstream SSL certificate does not match \"pool111\")"), "{why}");
}

#[test]
fn a_refused_unix_socket_is_nothing_listening() {
    // The app listens on another socket: the path exists as a file of
    // nobody's (modelled as a refusal, 111), named in the line.
    let mut s = Scenario::default();
    s.upstream.servers[0].address = "unix:/run/app.sock".into();
    s.apps = vec![App { listen: "unix:/run/app.sock".into(), ..App::default() }];
    s.faults = vec![Fault::from(FaultKind::AppDown)];
    let sim = run(s).unwrap();
    let ex = &sim.exchanges()[0];
    assert_eq!(first_cause(ex), Some(&FailureCause::Refused));
    assert!(ex.error_lines[0].text.contains("connect() to unix:/run/app.sock failed (111: Connection refused)"), "{}", ex.error_lines[0].text);
    assert!(ex.explanation.as_deref().unwrap().starts_with("Nothing was listening on unix:/run/app.sock"));
}

#[test]
fn every_ready_fault_gives_its_typed_cause() {
    use FailureCause::*;
    let cases: &[(&str, Flavor, Option<FailureCause>)] = &[
        ("app_down", Flavor::Nginx, Some(Refused)),
        ("app_down", Flavor::Haproxy, Some(Refused)),
        ("wrong_port", Flavor::Nginx, Some(Refused)),
        ("unix_socket_missing", Flavor::Nginx, Some(NoSuchFile)),
        ("unix_socket_missing", Flavor::Haproxy, Some(NoSuchFile)),
        ("unix_socket_permission", Flavor::Nginx, Some(PermissionDenied)),
        ("unix_socket_permission", Flavor::Haproxy, Some(PermissionDenied)),
        ("connect_black_hole", Flavor::Nginx, Some(Timeout { phase: TimeoutPhase::Connect })),
        ("connect_black_hole", Flavor::Haproxy, Some(Timeout { phase: TimeoutPhase::Connect })),
        ("slow_app", Flavor::Nginx, Some(Timeout { phase: TimeoutPhase::ReadHeader })),
        ("slow_app", Flavor::Haproxy, Some(Timeout { phase: TimeoutPhase::ReadHeader })),
        ("tls_cert_invalid", Flavor::Nginx, Some(Tls(TlsProblem::CertVerify(CertProblem::Expired)))),
        ("tls_cert_invalid", Flavor::Haproxy, Some(Tls(TlsProblem::CertVerify(CertProblem::Expired)))),
        ("tls_handshake_failure", Flavor::Nginx, Some(Tls(TlsProblem::HandshakeFailure))),
        ("tls_handshake_failure", Flavor::Haproxy, Some(Tls(TlsProblem::HandshakeFailure))),
        ("invalid_header", Flavor::Nginx, Some(InvalidHeader { line: "Bad Header: x".into() })),
        ("invalid_header", Flavor::Haproxy, Some(InvalidHeader { line: "Bad Header: x".into() })),
        // nginx relays bytes that are not HTTP as HTTP/0.9; HAProxy refuses them.
        ("not_http", Flavor::Nginx, None),
        ("not_http", Flavor::Haproxy, Some(NotHttp)),
        ("healthy", Flavor::Nginx, None),
        ("maintenance", Flavor::Haproxy, None),
    ];
    for (name, flavor, want) in cases {
        let sim = ready(name, *flavor);
        let ex = &sim.exchanges()[0];
        assert_eq!(first_cause(ex), want.as_ref(), "{name} {flavor:?}: {:?}", ex.attempts);
    }
    // The header sizes are data.
    let sim = ready("oversized_header", Flavor::Nginx);
    match first_cause(&sim.exchanges()[0]) {
        Some(TooBigHeader { bytes, limit: 4096 }) if *bytes > 4096 => {}
        other => panic!("{other:?}"),
    }
    let ex = &sim.exchanges()[0];
    assert!(ex.explanation.as_deref().unwrap().contains("(upstream sent too big header ("), "{:?}", ex.explanation);
    // A crash mid-request closes the connection (FIN) before any header.
    let sim = ready("crash_mid_request", Flavor::Nginx);
    assert_eq!(first_cause(&sim.exchanges()[0]), Some(&PrematureClose));
}

#[test]
fn a_send_timeout_is_explained_as_one() {
    // One busy worker: a 5 MB upload waits unread past proxy_send_timeout.
    let mut s = Scenario::default();
    s.apps = vec![App { workers: 1, latency_ms: 30_000, latency_jitter_ms: 0, ..App::default() }];
    s.proxy.proxy_send_timeout_ms = 5_000;
    s.clients.requests = 0;
    s.requests = vec![
        RequestSpec { at_ms: 0, ..Default::default() },
        RequestSpec { at_ms: 10, method: "POST".into(), path: "/upload".into(), body_bytes: 5_000_000, ..Default::default() },
    ];
    // 5 MB is above nginx's default client_max_body_size (1m, a 413): no limit here.
    s.proxy.client_max_body_size = 0;
    let sim = run(s).unwrap();
    let ex = &sim.exchanges()[1];
    assert_eq!(ex.logged_status, Some(504));
    assert_eq!(first_cause(ex), Some(&FailureCause::Timeout { phase: TimeoutPhase::Send }));
    let why = ex.explanation.as_deref().unwrap();
    assert!(why.contains("proxy_send_timeout (5000 ms)") && !why.contains("proxy_read_timeout"), "{why}");
}

#[test]
fn haproxy_explanations_name_the_cause() {
    let why = |name: &str| ready(name, Flavor::Haproxy).exchanges()[0].explanation.clone().unwrap();
    assert!(why("app_down").contains("(ECONNREFUSED)"), "{}", why("app_down"));
    assert!(why("unix_socket_missing").contains("(ENOENT)"));
    assert!(why("unix_socket_permission").contains("(EACCES)"));
    assert!(why("not_http").contains("not an HTTP response"));
    // 6000 bytes fit in HAProxy's 16 KiB buffer; 20000 do not.
    let mut s = with_fault(FaultKind::OversizedHeader { header_bytes: 20_000 });
    s.proxy.flavor = Flavor::Haproxy;
    let sim = run(s).unwrap();
    let ex = &sim.exchanges()[0];
    assert!(matches!(first_cause(ex), Some(FailureCause::TooBigHeader { limit: 15_360, .. })), "{:?}", ex.attempts);
    assert!(ex.explanation.as_deref().unwrap().contains("tune.bufsize"), "{:?}", ex.explanation);
}

#[test]
fn succeeded_is_a_complete_2xx_or_3xx_response() {
    let classes = |name: &str, flavor: Flavor| {
        let sim = ready(name, flavor);
        let ex = &sim.exchanges()[0];
        (ex.succeeded(), ex.outcome_class())
    };
    assert_eq!(classes("healthy", Flavor::Nginx), (true, OutcomeClass::Ok));
    assert_eq!(classes("app_down", Flavor::Nginx), (false, OutcomeClass::Failure));
    assert_eq!(classes("maintenance", Flavor::Nginx), (false, OutcomeClass::Failure));
    // Headers with 200 arrived, then the body was cut short: not a success.
    assert_eq!(classes("dies_after_headers", Flavor::Nginx), (false, OutcomeClass::Failure));
    assert_eq!(classes("not_http", Flavor::Nginx), (false, OutcomeClass::Failure));
    // A 4xx is answered, not broken.
    let rl = ready("rate_limited", Flavor::Nginx);
    let refused = rl.exchanges().iter().find(|e| e.status().is_some_and(|s| (400..500).contains(&s)));
    if let Some(e) = refused {
        assert_eq!((e.succeeded(), e.outcome_class(), e.outcome_class().css()), (false, OutcomeClass::ClientError, "warn"));
    }
    assert_eq!(OutcomeClass::Ok.css(), "ok");
    assert_eq!(OutcomeClass::Failure.css(), "fail");
    assert_eq!(OutcomeClass::Pending.css(), "pending");
}

#[test]
fn every_error_line_carries_the_level_its_text_shows() {
    for name in ready_names() {
        for flavor in [Flavor::Nginx, Flavor::Haproxy] {
            if flavor == Flavor::Haproxy && (name.starts_with("php_fpm") || name.starts_with("uwsgi")) {
                continue; // HAProxy speaks only HTTP to its servers (refused by validation)
            }
            let sim = ready(&name, flavor);
            for ex in sim.exchanges() {
                for l in &ex.error_lines {
                    assert!(l.text.contains(&format!(" [{}] ", l.level.as_str())), "{name}: {l:?}");
                }
                // And the embed's line is the most severe one, by level.
                if flavor == Flavor::Nginx {
                    if let Some(worst) = ex.error_lines.iter().map(|l| l.level).min() {
                        let (log, line) = embed_api::log_line(ex, flavor);
                        assert_eq!(log, "error.log");
                        let picked = ex.error_lines.iter().rev().find(|l| Some(&l.text) == line.as_ref()).unwrap();
                        assert_eq!(picked.level, worst, "{name}");
                    }
                }
            }
        }
    }
}

#[test]
fn the_most_severe_line_is_picked_by_level_not_by_text() {
    let sim = ready("app_down", Flavor::Nginx);
    let mut ex = sim.exchanges()[0].clone();
    // Texts that would mislead a parser; the levels are what counts.
    ex.error_lines = vec![
        LogLine { level: Level::Warn, text: "[emerg] looks severe".into() },
        LogLine { level: Level::Crit, text: "first crit".into() },
        LogLine { level: Level::Error, text: "[alert] also looks severe".into() },
        LogLine { level: Level::Crit, text: "last crit".into() },
        LogLine { level: Level::Info, text: "info".into() },
    ];
    assert_eq!(ex.worst_error_line().map(|l| l.text.as_str()), Some("last crit"));
    assert_eq!(embed_api::log_line(&ex, Flavor::Nginx), ("error.log", Some("last crit".to_string())));
    ex.error_lines.clear();
    assert_eq!(embed_api::log_line(&ex, Flavor::Nginx).0, "access.log");
}

#[test]
fn a_failed_attempt_serializes_its_cause() {
    let sim = run(with_fault(FaultKind::UnixSocketMissing { path: "/run/app.sock".into() })).unwrap();
    let v = serde_json::to_value(&sim.exchanges()[0].attempts[0].result).unwrap();
    assert_eq!(v, serde_json::json!({"failed": {"cause": "no_such_file"}}));
    let v = serde_json::to_value(AttemptResult::Failed { cause: FailureCause::Timeout { phase: TimeoutPhase::Connect } }).unwrap();
    assert_eq!(v, serde_json::json!({"failed": {"cause": {"timeout": {"phase": "connect"}}}}));
    let v = serde_json::to_value(&sim.exchanges()[0].error_lines[0]).unwrap();
    assert_eq!(v["level"], "crit");
}

#[test]
fn a_servfail_is_not_explained_as_a_missing_name() {
    let sim = ready("dns_failure", Flavor::Nginx);
    let why = sim.exchanges()[0].explanation.clone().unwrap();
    assert!(why.contains("said the name does not exist"), "{why}");
    let mut s = with_fault(FaultKind::DnsFailure { host: "app.internal".into(), answer: gateway_core::sim::fault::DnsAnswer::Servfail });
    s.proxy.proxy_pass = "http://127.0.0.1:3000".into();
    s.proxy.resolver = Some("127.0.0.53".into());
    let sim = run(s).unwrap();
    let ex = &sim.exchanges()[0];
    assert_eq!(ex.status(), Some(502));
    assert!(ex.error_lines[0].text.contains("app.internal could not be resolved (2: Server failure)"), "{}", ex.error_lines[0].text);
    let why = ex.explanation.clone().unwrap();
    assert!(why.contains("(SERVFAIL)") && !why.contains("does not exist"), "{why}");
}

#[test]
fn a_proxy_that_failed_to_start_is_explained_where_its_line_really_is() {
    // The start-up failure is on the proxy's stderr (journald), not in error.log: the explanation
    // says so, in the chosen proxy's words (issue 15: it used to send nginx users to an empty error.log).
    for (flavor, name, marker) in [(Flavor::Nginx, "nginx", "[emerg]"), (Flavor::Haproxy, "haproxy", "[ALERT]")] {
        let sim = ready("dns_failure_startup", flavor);
        let e = sim.exchanges().last().expect("a request");
        let why = e.explanation.as_deref().unwrap_or_default();
        assert!(why.starts_with(&format!("{name} is not running")), "{flavor:?}: {why}");
        assert!(why.contains(&format!("journalctl -u {name}")) && why.contains(marker), "{flavor:?}: {why}");
        assert!(!why.contains("error.log"), "{flavor:?}: {why}");
        assert!(sim.world().proxy_stderr.lines().any(|l| l.contains(marker)), "{flavor:?}: the line is where the explanation says");
    }
}

#[test]
fn the_telling_line_of_a_proxy_that_failed_to_start_is_its_stderr_cause() {
    // No error.log or access line exists for a request the proxy never accepted: the stage and
    // the embed show the start-up failure itself, the cause line rather than HAProxy's summary.
    for (flavor, expect) in [(Flavor::Nginx, "[emerg]"), (Flavor::Haproxy, "could not resolve address 'app.internal'")] {
        let mut sim = ready("healthy", flavor);
        let mut sc = sim.world().base.clone();
        sc.faults = vec![Fault::from(FaultKind::from_id("dns_failure").unwrap())];
        sim.reconfigure(sc).unwrap();
        let id = sim.send_after(1_000, RequestSpec::default());
        sim.run_until_finished(id);
        let e = sim.exchanges().get(id).unwrap();
        let (log, line) = embed_api::telling_line(sim.world(), e);
        assert_eq!(log, "stderr", "{flavor:?}");
        let line = line.unwrap();
        assert!(line.contains(expect), "{flavor:?}: {line}");
        // Any request that was answered keeps its own line.
        let ok = ready("app_down", flavor);
        let e = ok.exchanges().last().unwrap();
        assert_ne!(embed_api::telling_line(ok.world(), e).0, "stderr");
    }
}
