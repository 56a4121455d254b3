//! Every exported Caddyfile passes `caddy validate --adapter caddyfile` on
//! the real Caddy (Debian's 2.6.2): exit 0 and `Valid configuration`.
//! Scenarios the Caddy flavor does not model (TLS to the upstream, nginx's
//! auth_request, rate limits) are skipped: the engine refuses them with a
//! message. Needs `caddy` in /usr/bin; set GATEWAY_LAB_NO_CADDY=1 to skip.

mod common;

use std::process::Command;

use gateway_core::sim::proxy::caddy;
use gateway_core::sim::scenario::{Flavor, UpstreamServer};
use gateway_core::sim::world::effective;
use gateway_core::sim::Scenario;

fn cases() -> Vec<(String, Scenario)> {
    let mut out: Vec<(String, Scenario)> = common::scenario_files()
        .iter()
        .map(|f| (f.file_name().unwrap().to_string_lossy().to_string(), Scenario::from_json(&std::fs::read_to_string(f).unwrap()).unwrap()))
        .collect();
    let healthy = out.iter().find(|(n, _)| n == "healthy.json").map(|(_, s)| s.clone()).expect("healthy.json");
    let mut knobs = healthy.clone();
    knobs.proxy.caddy.response_header_timeout_ms = 1_500;
    knobs.proxy.caddy.lb_try_duration_ms = 5_000;
    knobs.proxy.caddy.lb_try_interval_ms = 100;
    knobs.upstream.servers = vec![
        UpstreamServer { address: "127.0.0.1:3000".into(), ..UpstreamServer::default() },
        UpstreamServer { address: "unix:/run/app/app.sock".into(), ..UpstreamServer::default() },
    ];
    out.push(("healthy.json [two upstreams, one a unix socket; response_header_timeout, lb_try_duration, lb_try_interval]".into(), knobs));
    out
}

#[test]
fn every_exported_caddyfile_passes_caddy_validate() {
    let Some(bin) = common::proxy_binary("caddy", "GATEWAY_LAB_NO_CADDY") else { return };
    let dir = std::env::temp_dir().join(format!("gwlab-caddy-conf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut checked = 0;
    let mut failures = Vec::new();
    for (name, mut sc) in cases() {
        sc.proxy.flavor = Flavor::Caddy;
        let eff = effective(&sc);
        if let Some(why) = caddy::unsupported(&eff) {
            println!("{name}: not modelled for Caddy: {why}");
            continue;
        }
        let conf = dir.join("Caddyfile");
        let text = caddy::conf::render_with(&eff, &dir.join("access.log").display().to_string());
        std::fs::write(&conf, &text).unwrap();
        let out = Command::new(&bin)
            .arg("validate").arg("--config").arg(&conf).arg("--adapter").arg("caddyfile")
            .env("HOME", &dir).env("XDG_DATA_HOME", dir.join("data")).env("XDG_CONFIG_HOME", dir.join("config"))
            .output()
            .unwrap();
        checked += 1;
        let stdout = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() || !stdout.contains("Valid configuration") {
            failures.push(format!("{name}: {}\n{stdout}{}\n{text}", out.status, String::from_utf8_lossy(&out.stderr)));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!("caddy validate: {checked} Caddyfiles checked");
    assert!(checked >= 30, "only {checked} checked");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
