//! The chosen proxy's language throughout: every fix speaks the flavor's own
//! directives (or none), no explanation carries Markdown, and every HAProxy
//! termination state the engine writes is explained in words.

use std::collections::BTreeSet;
use std::path::Path;

use gateway_core::session::Session;
use gateway_core::sim::scenario::Flavor;
use gateway_core::sim::termination::TerminationState;
use gateway_core::sim::{Fault, FaultKind, Scenario, Simulation};

/// Words that belong to one proxy only (directives, program, user).
const NGINX_ONLY: &[&str] = &[
    "nginx", "proxy_pass", "proxy_read_timeout", "proxy_connect_timeout", "proxy_send_timeout", "proxy_buffer", "proxy_next_upstream",
    "keepalive_timeout", "limit_req", "upstream block", "upstream server", "www-data", "resolver",
];
const HAPROXY_ONLY: &[&str] = &[
    "HAProxy", "haproxy", "timeout server", "timeout connect", "retries", "redispatch", "tune.bufsize", "tune.maxrewrite", "http-request",
    "backend", "http-reuse", "sc_http_req_rate",
];

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// Every ready scenario and lab experiment, as files.
fn shipped() -> Vec<(String, Scenario)> {
    let mut out = Vec::new();
    for dir in ["scenarios", "scenarios/retry_lab"] {
        let mut files: Vec<_> = std::fs::read_dir(root().join(dir)).unwrap().filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "json")).collect();
        files.sort();
        for p in files {
            let sc = Scenario::from_json(&std::fs::read_to_string(&p).unwrap()).unwrap();
            out.push((p.file_stem().unwrap().to_string_lossy().into_owned(), sc));
        }
    }
    assert!(out.len() >= 25);
    out
}

fn in_flavor(mut sc: Scenario, flavor: Flavor) -> Scenario {
    sc.proxy.flavor = flavor;
    sc
}

#[test]
fn every_fix_speaks_the_chosen_proxys_language() {
    for k in FaultKind::catalog() {
        let f = Fault::from(k.clone());
        for (flavor, other) in [(Flavor::Nginx, HAPROXY_ONLY), (Flavor::Haproxy, NGINX_ONLY)] {
            let fix = f.fix(flavor);
            let text = format!("{} {}", fix.title, fix.detail);
            for word in other {
                assert!(!text.contains(word), "{} under {flavor:?}: \"{text}\" names {word:?}, a word of the other proxy", k.id());
            }
            assert!(!text.contains('`'), "{}: {text}", k.id());
        }
    }
    let slow = Fault::from(FaultKind::from_id("slow_app").unwrap());
    assert_eq!(slow.fix(Flavor::Haproxy).title, "Raise timeout server");
    assert!(slow.fix(Flavor::Haproxy).detail.starts_with("timeout server 120s"), "{}", slow.fix(Flavor::Haproxy).detail);
    assert!(slow.fix(Flavor::Nginx).detail.starts_with("proxy_read_timeout 120s"));
    // Proxy-neutral fixes read the same for both.
    let down = Fault::from(FaultKind::AppDown);
    assert_eq!(down.fix(Flavor::Haproxy), down.fix(Flavor::Nginx));
}

#[test]
fn the_haproxy_fixes_work_under_haproxy() {
    // Applied where the fault shows under HAProxy, the fix makes the next request succeed.
    for k in FaultKind::catalog() {
        let mut sc = in_flavor(gateway_core::scenarios::blank(), Flavor::Haproxy);
        sc.faults = vec![Fault::from(k.clone())];
        if let FaultKind::OversizedHeader { .. } = k {
            // 6000 bytes fit HAProxy's buffer: make the header too big for it.
            sc.faults[0].kind = FaultKind::OversizedHeader { header_bytes: 20_000 };
        }
        let mut s = Session::new(sc).unwrap();
        s.send(1, 0).unwrap();
        if s.last().unwrap().succeeded() {
            continue;
        }
        let fix = s.scenario().faults[0].fix(Flavor::Haproxy);
        s.fix().unwrap();
        // A new run of the fixed scenario: the first request meets the same breakage.
        s.reset().unwrap();
        s.send(1, 0).unwrap();
        assert!(s.last().unwrap().succeeded(), "{} under HAProxy after \"{}: {}\": {:?}", k.id(), fix.title, fix.detail, s.last().unwrap().status());
    }
}

/// Every explanation the engine writes: the shipped scenarios, every
/// fault on one Send and with its pattern, both proxies.
fn all_runs() -> Vec<(String, Vec<gateway_core::sim::world::Exchange>)> {
    let mut runs = Vec::new();
    for flavor in [Flavor::Nginx, Flavor::Haproxy] {
        for (name, sc) in shipped() {
            let mut sim = Simulation::new(in_flavor(sc, flavor)).unwrap();
            sim.run();
            runs.push((format!("{name} {flavor:?}"), sim.exchanges().iter().cloned().collect()));
        }
        for k in FaultKind::catalog() {
            let mut sc = in_flavor(gateway_core::scenarios::blank(), flavor);
            sc.faults = vec![Fault::from(k.clone())];
            let mut s = Session::new(sc).unwrap();
            s.send(1, 0).unwrap();
            let _ = s.demonstrate();
            s.fix().unwrap();
            s.send(1, 0).unwrap();
            runs.push((format!("{} {flavor:?}", k.id()), s.sim().exchanges().iter().cloned().collect()));
        }
    }
    runs
}

#[test]
fn no_explanation_carries_markdown_and_termination_states_are_explained() {
    let mut codes = BTreeSet::new();
    let mut explained = 0;
    for (what, exchanges) in all_runs() {
        for ex in &exchanges {
            if let Some(e) = &ex.explanation {
                explained += 1;
                assert!(!e.contains('`'), "{what}, request {}: {e}", ex.id);
                assert!(!e.contains("**"), "{what}, request {}: {e}", ex.id);
            }
            if what.ends_with("Haproxy") {
                if let Some(line) = &ex.access_line {
                    let t = TerminationState::of_httplog(line).unwrap_or_else(|| panic!("{what}: no termination state in {line}"));
                    let s = t.sentence();
                    assert!(s.starts_with(&format!("{}: ", t.code())) && s.len() > 40 && !s.contains('`'), "{s}");
                    codes.insert(t.code());
                }
            } else if let Some(line) = &ex.access_line {
                assert_eq!(TerminationState::of_httplog(line), None, "{what}: an nginx line read as httplog: {line}");
            }
        }
    }
    assert!(explained > 500, "{explained}");
    // The codes the engine writes over these runs, each explained above.
    let seen: Vec<&str> = codes.iter().map(|s| s.as_str()).collect();
    for must in ["----", "SC--", "sC--", "sH--", "SH--", "PH--", "SD--", "PR--"] {
        assert!(seen.contains(&must), "{must} not seen in {seen:?}");
    }
    // The documented ones the brief names, whether or not the engine writes them.
    for code in ["SC--", "sC--", "sH--", "SH--", "PH--", "SD--", "CD--", "cD--", "CH--", "sQ--", "CC--"] {
        let s = TerminationState::parse(code).unwrap().sentence();
        assert!(s.starts_with(code) && s.len() > 40, "{s}");
    }
}

#[test]
fn the_ready_haproxy_runs_name_timeout_server_in_words() {
    let path = root().join("scenarios/slow_app.json");
    let sc = in_flavor(Scenario::from_json(&std::fs::read_to_string(path).unwrap()).unwrap(), Flavor::Haproxy);
    let mut sim = Simulation::new(sc).unwrap();
    sim.run();
    let ex = sim.exchanges().iter().find(|e| e.status() == Some(504)).unwrap();
    let why = ex.explanation.as_deref().unwrap();
    assert!(why.contains("within timeout server ("), "{why}");
    let t = TerminationState::of_httplog(ex.access_line.as_deref().unwrap()).unwrap();
    assert_eq!(t.code(), "sH--");
    assert!(t.sentence().contains("timeout server expired"), "{}", t.sentence());
}
