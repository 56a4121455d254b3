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
            if flavor == Flavor::Haproxy && gateway_core::sim::server::protocol(&sc.apps) != gateway_core::sim::server::Protocol::Http {
                continue; // HAProxy speaks only HTTP to its servers (refused by validation)
            }
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

/// Every word of `text` that belongs to the other proxy than `flavor`'s.
/// `text` without its parenthesised comparisons that name nginx outright
/// ("(auth_request is nginx's: HAProxy has no built-in equivalent …)"): a
/// deliberate contrast, not nginx's words leaking into HAProxy's story.
fn without_comparisons(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(open) = rest.find('(') {
        let Some(len) = rest[open..].find(')') else { break };
        let inner = &rest[open..open + len + 1];
        out.push_str(&rest[..open]);
        if !inner.contains("nginx") {
            out.push_str(inner);
        }
        rest = &rest[open + len + 1..];
    }
    out.push_str(rest);
    out
}

fn foreign_words(text: &str, flavor: Flavor) -> Vec<&'static str> {
    let other = if flavor == Flavor::Haproxy { NGINX_ONLY } else { HAPROXY_ONLY };
    other.iter().copied().filter(|w| text.contains(w)).collect()
}

#[test]
fn the_palette_speaks_the_chosen_proxys_language() {
    // Titles, causes and knob labels, as the palette shows them (its knobs are the fault's serde fields).
    for k in FaultKind::catalog() {
        for flavor in [Flavor::Nginx, Flavor::Haproxy] {
            let mut words = vec![k.title_in(flavor).to_string(), k.cause_in(flavor).to_string()];
            let serde_json::Value::Object(knobs) = serde_json::to_value(Fault::from(k.clone())).unwrap() else { panic!() };
            words.extend(knobs.keys().filter(|key| *key != "type").filter_map(|key| k.knob_label(key, flavor)));
            for w in &words {
                // The nginx titles and causes tell nginx's story; HAProxy's must not name nginx's words.
                if flavor == Flavor::Haproxy {
                    assert!(foreign_words(w, flavor).is_empty(), "{} under HAProxy: {w:?} names {:?}", k.id(), foreign_words(w, flavor));
                }
                assert!(!w.contains('`'), "{w}");
            }
        }
    }
    let rate = FaultKind::from_id("rate_limited").unwrap();
    assert_eq!(rate.title_in(Flavor::Haproxy), "Rate limited by http-request deny");
    // nodelay is limit_req's: HAProxy's rule has none, so the palette hides it.
    assert_eq!(rate.knob_label("nodelay", Flavor::Haproxy), None);
    assert_eq!(rate.knob_label("nodelay", Flavor::Nginx).as_deref(), Some("nodelay"));
    assert_eq!(rate.knob_label("burst", Flavor::Haproxy).as_deref(), Some("burst (added to the rate)"));
    let big = FaultKind::from_id("oversized_header").unwrap();
    assert!(big.knob_label("header_bytes", Flavor::Haproxy).unwrap().contains("tune.bufsize"));
    assert_eq!(big.knob_label("header_bytes", Flavor::Nginx).as_deref(), Some("header bytes"));
    let slow = FaultKind::from_id("slow_app").unwrap();
    assert_eq!(slow.title_in(Flavor::Haproxy), "App slower than timeout server");
    assert_eq!(slow.title_in(Flavor::Nginx), "App slower than proxy_read_timeout");
    // Plain knobs read as their field.
    assert_eq!(slow.knob_label("probability", Flavor::Haproxy).as_deref(), Some("probability"));
}

/// A terminal line's output on a fresh run of `sc`.
fn shell_text(sc: &Scenario, line: &str) -> String {
    let mut sim = Simulation::new(sc.clone()).unwrap();
    gateway_core::shell::run(&mut sim, line).text.replace("\r\n", "\n")
}

#[test]
fn the_terminal_speaks_the_chosen_proxys_language() {
    let lines = [
        "help",
        "systemctl status haproxy",
        "journalctl -u haproxy -n 20",
        "systemctl status app",
        "ss -tlnp",
        "ls -la /etc/haproxy",
        "cat /etc/haproxy/haproxy.cfg",
        "cat /var/log/haproxy.log",
        "ls -la /etc/shadow",
        "nginx -t",
        "curl -v http://localhost/users",
    ];
    for k in [None, Some("app_down"), Some("unix_socket_permission"), Some("dns_failure"), Some("slow_app")] {
        let mut sc = in_flavor(gateway_core::scenarios::blank(), Flavor::Haproxy);
        sc.faults = k.map(|id| vec![Fault::from(FaultKind::from_id(id).unwrap())]).unwrap_or_default();
        for line in lines {
            let out = shell_text(&sc, line);
            // `nginx -t` says nginx is not installed here, in words that name it.
            let out = if line == "nginx -t" { out.replace("bash: nginx: command not found", "") } else { out };
            assert!(foreign_words(&out, Flavor::Haproxy).is_empty(), "{k:?} `{line}` under HAProxy names {:?}:\n{out}", foreign_words(&out, Flavor::Haproxy));
        }
        for cmd in gateway_core::shell::suggestions(&sc) {
            assert!(foreign_words(&cmd, Flavor::Haproxy).is_empty(), "suggested under HAProxy: {cmd}");
        }
    }
    let sc = in_flavor(gateway_core::scenarios::blank(), Flavor::Haproxy);
    let help = shell_text(&sc, "help");
    assert!(help.contains("haproxy -c -f /etc/haproxy/haproxy.cfg") && help.contains("journalctl -u haproxy"), "{help}");
    assert_eq!(gateway_core::shell::help(Flavor::Haproxy), help);
    assert!(gateway_core::shell::suggestions(&sc).contains(&"journalctl -u haproxy -n 5".to_string()));
    assert!(shell_text(&sc, "ls -la /etc/shadow").contains("HAProxy logs to journalctl -u haproxy"));
    // The socket's group is the proxy's: haproxy here, and HAProxy's user may use it; www-data may not.
    let mut sock = sc.clone();
    sock.apps[0].listen = "unix:/run/app/app.sock".into();
    sock.upstream.servers[0].address = "unix:/run/app/app.sock".into();
    assert_eq!(shell_text(&sock, "ls -la /run/app/app.sock"), "srw-rw---- 1 app haproxy 0 Nov 21 04:43 /run/app/app.sock\n");
    assert!(shell_text(&sock, "sudo -u haproxy curl -s --unix-socket /run/app/app.sock http://localhost/users").contains("Ada"));
    assert!(shell_text(&sock, "sudo -u www-data curl -v --unix-socket /run/app/app.sock http://localhost/users").contains("failed: Permission denied"));
    assert_eq!(shell_text(&sock, "sudo -u haproxy whoami"), "haproxy\n");
    // Under nginx, no haproxy user and the socket is www-data's group.
    let mut nginx_sock = sock.clone();
    nginx_sock.proxy.flavor = Flavor::Nginx;
    assert_eq!(shell_text(&nginx_sock, "ls -la /run/app/app.sock"), "srw-rw---- 1 app www-data 0 Nov 21 04:43 /run/app/app.sock\n");
    assert!(shell_text(&nginx_sock, "sudo -u haproxy whoami").starts_with("sudo: unknown user haproxy"));
    let nginx_help = gateway_core::shell::help(Flavor::Nginx);
    assert!(foreign_words(&nginx_help, Flavor::Nginx).is_empty(), "{nginx_help}");
    assert!(nginx_help.contains("nginx -t, nginx -s reload"));
}

#[test]
fn the_embeds_outcome_says_haproxys_termination_state_in_words() {
    use gateway_core::embed_api::{self, Event};
    for (id, code) in [("app_down", "SC--"), ("slow_app", "sH--")] {
        let mut sc = in_flavor(gateway_core::scenarios::blank(), Flavor::Haproxy);
        sc.faults = vec![Fault::from(FaultKind::from_id(id).unwrap())];
        let mut s = Session::new(sc.clone()).unwrap();
        s.send(1, 0).unwrap();
        while !s.last().unwrap().is_finished() {
            s.step();
        }
        let o = embed_api::outcome(s.last().unwrap(), Flavor::Haproxy);
        let t = o.termination.clone().unwrap_or_else(|| panic!("{id}: no termination state"));
        assert_eq!(t.code, code, "{id}");
        assert_eq!(t.sentence, TerminationState::parse(code).unwrap().sentence());
        let v = Event::Outcome(o).to_json();
        assert_eq!(v["termination"]["code"], code);
        assert!(v["termination"]["sentence"].as_str().unwrap().starts_with(&format!("{code}: ")));
        // The embed's title of a scenario without its own: the fault's, in HAProxy's words.
        assert!(foreign_words(&embed_api::title(&sc), Flavor::Haproxy).is_empty(), "{}", embed_api::title(&sc));
        assert_eq!(embed_api::log_title(o_log(&s)), "HAProxy log (option httplog)");
        // Under nginx: no termination state.
        let o = embed_api::outcome(s.last().unwrap(), Flavor::Nginx);
        assert_eq!(o.termination, None);
    }
    let mut sc = gateway_core::scenarios::blank();
    sc.faults = vec![Fault::from(FaultKind::from_id("slow_app").unwrap())];
    assert_eq!(embed_api::title(&sc), "App slower than proxy_read_timeout");
    sc.proxy.flavor = Flavor::Haproxy;
    assert_eq!(embed_api::title(&sc), "App slower than timeout server");
    // A ready scenario titled with the fault's catalog title (nginx's words) follows the proxy too.
    let ready = Scenario::from_json(&std::fs::read_to_string(root().join("scenarios/slow_app.json")).unwrap()).unwrap();
    assert_eq!(embed_api::title(&ready), "App slower than proxy_read_timeout");
    assert_eq!(embed_api::title(&in_flavor(ready, Flavor::Haproxy)), "App slower than timeout server");
}

fn o_log(s: &Session) -> &'static str {
    gateway_core::embed_api::log_line(s.last().unwrap(), s.scenario().proxy.flavor).0
}

#[test]
fn the_retry_lab_speaks_the_chosen_proxys_language() {
    let sc = gateway_core::scenarios::blank();
    for flavor in [Flavor::Nginx, Flavor::Haproxy] {
        let sc = in_flavor(sc.clone(), flavor);
        let side = gateway_core::lab::proxy_side(&sc);
        let label = gateway_core::lab::timeouts_label(flavor);
        for w in [side.as_str(), label] {
            assert!(foreign_words(w, flavor).is_empty(), "{flavor:?}: {w}");
        }
    }
    assert!(gateway_core::lab::proxy_side(&in_flavor(sc, Flavor::Haproxy)).starts_with("retries 3 · option redispatch"));
}

/// HAProxy's explanations use HAProxy's words. One contrast is deliberate and allowed: HAProxy's
/// connect failures say "Unlike nginx it answers 503 ..., not 502" (the reason people switching
/// proxies see another status).
#[test]
fn haproxy_explanations_name_no_nginx_word() {
    let mut bad = BTreeSet::new();
    for (what, exchanges) in all_runs() {
        if !what.ends_with("Haproxy") {
            continue;
        }
        for ex in &exchanges {
            if let Some(e) = &ex.explanation {
                let words = foreign_words(&without_comparisons(&e.replace("Unlike nginx it answers 503 Service Unavailable, not 502", "")), Flavor::Haproxy);
                if !words.is_empty() {
                    bad.insert(format!("{what}: {words:?}: {e}"));
                }
            }
        }
    }
    assert!(bad.is_empty(), "{} explanations under HAProxy name nginx's words:\n{}", bad.len(), bad.into_iter().collect::<Vec<_>>().join("\n"));
}
