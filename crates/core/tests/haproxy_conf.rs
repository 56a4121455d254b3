//! Every exported haproxy.cfg passes `haproxy -c` on the real HAProxy
//! (Debian's 2.6.12): exit 0, `Configuration file is valid`, no warning.
//! Except where the engine says HAProxy refuses to start (an `[ALERT]` on its
//! stderr) — then `haproxy -c` must fail with the same `[ALERT]` lines (pid
//! left out, the config path shown as CONF, the same line number).
//! Needs `haproxy` in /usr/sbin (scripts/setup test installs it); set
//! GATEWAY_LAB_NO_HAPROXY=1 to skip explicitly.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use gateway_core::sim::proxy::haproxy::conf::{render_with, Paths};
use gateway_core::sim::scenario::{Flavor, UpstreamServer};
use gateway_core::sim::world::effective;
use gateway_core::sim::{Scenario, Simulation};

/// Where the engine's HAProxy says its configuration file is.
const ENGINE_CONF: &str = "/etc/haproxy/haproxy.cfg";

fn haproxy() -> Option<PathBuf> {
    common::proxy_binary("haproxy", "GATEWAY_LAB_NO_HAPROXY")
}

/// `[ALERT]    (12281) : config : [FILE:20] : msg` → `[ALERT] config : [CONF:20] : msg`.
fn normalise(line: &str, conf: &Path) -> String {
    let line = line.trim_end().replace(&conf.display().to_string(), "CONF").replace(ENGINE_CONF, "CONF");
    let Some((level, rest)) = line.split_once(']') else { return line };
    let rest = rest.trim_start();
    let rest = match rest.strip_prefix('(').and_then(|r| r.split_once(") : ")) {
        Some((pid, after)) if pid.bytes().all(|b| b.is_ascii_digit()) => after,
        _ => rest,
    };
    format!("{level}] {rest}")
}

fn alerts(text: &str, conf: &Path) -> Vec<String> {
    text.lines().filter(|l| l.starts_with("[ALERT]")).map(|l| normalise(l, conf)).collect()
}

/// The scenario files, plus a few knobs no file uses (so that every branch
/// of the renderer is checked).
fn cases() -> Vec<(String, Scenario)> {
    let files = common::scenario_files();
    let mut out: Vec<(String, Scenario)> = files
        .iter()
        .map(|f| (f.file_name().unwrap().to_string_lossy().to_string(), Scenario::from_json(&std::fs::read_to_string(f).unwrap()).unwrap()))
        // HAProxy speaks only HTTP to its servers: PHP-FPM and uWSGI scenarios are nginx's.
        .filter(|(_, sc)| gateway_core::sim::server::protocol(&sc.apps) == gateway_core::sim::server::Protocol::Http)
        .collect();
    let healthy = out.iter().find(|(n, _)| n == "healthy.json").map(|(_, s)| s.clone()).expect("healthy.json");
    let mut knobs = healthy.clone();
    knobs.proxy.haproxy.redispatch = true;
    knobs.proxy.haproxy.abortonclose = true;
    knobs.proxy.haproxy.retries = 0;
    knobs.upstream.servers = vec![
        UpstreamServer { address: "127.0.0.1:3000".into(), weight: 3, ..UpstreamServer::default() },
        UpstreamServer { address: "127.0.0.1:3001".into(), backup: true, ..UpstreamServer::default() },
        UpstreamServer { address: "127.0.0.1:3002".into(), down: true, ..UpstreamServer::default() },
        UpstreamServer { address: "unix:/run/app/app.sock".into(), ..UpstreamServer::default() },
    ];
    out.push(("healthy.json [redispatch, abortonclose, retries 0, weight, backup, down, unix server]".into(), knobs));
    // tune.bufsize as the oversized-header fix raises it (the engine's own value, rendered in global).
    let mut big = healthy.clone();
    big.proxy.flavor = Flavor::Haproxy;
    big.faults = vec![gateway_core::sim::Fault::from(gateway_core::sim::FaultKind::OversizedHeader { header_bytes: 20_000 })];
    gateway_core::sim::Fault::apply_fix(&mut big, 0);
    assert_eq!(big.proxy.haproxy.bufsize, 32_768);
    out.push(("healthy.json [oversized_header 20000 B, fixed: tune.bufsize 32768]".into(), big));
    out
}

#[test]
fn the_rendered_global_section_carries_the_engines_tune_bufsize() {
    for (name, mut sc) in cases() {
        sc.proxy.flavor = Flavor::Haproxy;
        let eff = effective(&sc);
        let text = render_with(&eff, &Paths::default()).text;
        let global = text.split("\n\n").find(|s| s.contains("global\n")).unwrap_or_else(|| panic!("{name}: no global section\n{text}"));
        assert!(global.contains(&format!("\n    tune.bufsize {}", eff.proxy.haproxy.bufsize)), "{name}:\n{text}");
    }
}

#[test]
fn every_scenario_config_passes_haproxy_c() {
    let Some(haproxy) = haproxy() else { return };
    let root = std::env::temp_dir().join(format!("gateway-lab-haproxy-c-{}", std::process::id()));
    std::fs::create_dir_all(&root).unwrap();
    let ca = common::self_signed_ca(&root);
    let paths = Paths { ca_file: ca.display().to_string() };
    let conf = root.join("haproxy.cfg");
    let (mut checked, mut refused) = (0, 0);
    for (name, mut scenario) in cases() {
        scenario.proxy.flavor = Flavor::Haproxy;
        if let Err(e) = scenario.validate() {
            panic!("{name}: {e}");
        }
        let rendered = render_with(&effective(&scenario), &paths);
        std::fs::write(&conf, &rendered.text).unwrap();
        let out = Command::new(&haproxy).arg("-c").arg("-f").arg(&conf).output().unwrap();
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        let mut sim = Simulation::new(scenario).unwrap();
        sim.run();
        let engine: Vec<String> = sim.world().proxy_stderr.lines().map(|l| normalise(l, &conf)).collect();
        let engine_alerts: Vec<String> = engine.iter().filter(|l| l.starts_with("[ALERT]")).cloned().collect();
        if engine_alerts.is_empty() {
            assert!(
                out.status.success() && stdout.trim() == "Configuration file is valid" && stderr.trim().is_empty(),
                "{name}: haproxy -c did not accept the exported config cleanly ({}):\n--- stdout:\n{stdout}--- stderr:\n{stderr}--- config:\n{}",
                out.status,
                rendered.text
            );
        } else {
            assert!(!out.status.success(), "{name}: the engine says HAProxy refuses to start ({engine_alerts:?}) but haproxy -c passed:\n{stdout}");
            // Same messages, same line of the same file, same order.
            assert_eq!(engine_alerts, alerts(&stderr, &conf), "{name}: engine vs haproxy -c\n--- config:\n{}", rendered.text);
            refused += 1;
        }
        checked += 1;
    }
    std::fs::remove_dir_all(&root).ok();
    assert!(checked >= 26, "{checked}");
    assert!(refused >= 2, "dns_failure and dns_failure_startup make HAProxy refuse its config: {refused}");
}

#[test]
fn alert_lines_normalise_alike() {
    let conf = Path::new("/tmp/x/haproxy.cfg");
    let real = "[ALERT]    (12281) : config : [/tmp/x/haproxy.cfg:20] : 'server be_app/app1' : could not resolve address 'app.internal'.";
    let engine = "[ALERT]    (4453) : config : [/etc/haproxy/haproxy.cfg:20] : 'server be_app/app1' : could not resolve address 'app.internal'.";
    assert_eq!(normalise(real, conf), normalise(engine, conf));
    assert_eq!(normalise(real, conf), "[ALERT] config : [CONF:20] : 'server be_app/app1' : could not resolve address 'app.internal'.");
    assert_eq!(alerts("[NOTICE]   (1) : haproxy version is 2.6.12\n[ALERT]    (1) : config : Failed to initialize server(s) addr.\n", conf), vec!["[ALERT] config : Failed to initialize server(s) addr."]);
}
