//! Every exported nginx configuration passes `nginx -t` on the real nginx
//! (Debian's 1.22.1), except where the scenario is about nginx refusing its
//! configuration — then `nginx -t` must fail with the same `[emerg]`
//! message the engine printed. Needs `nginx` on PATH or in /usr/sbin
//! (scripts/setup test installs it); set GATEWAY_LAB_NO_NGINX=1 to skip
//! explicitly.

mod common;

use std::path::PathBuf;
use std::process::Command;

use gateway_core::sim::proxy::nginx::conf::{render, Paths};
use gateway_core::sim::world::effective;
use gateway_core::sim::{Scenario, Simulation};

fn nginx() -> Option<PathBuf> {
    common::proxy_binary("nginx", "GATEWAY_LAB_NO_NGINX")
}

#[test]
fn every_scenario_config_passes_nginx_t() {
    let Some(nginx) = nginx() else { return };
    let root = std::env::temp_dir().join(format!("gateway-lab-nginx-t-{}", std::process::id()));
    std::fs::create_dir_all(root.join("logs")).unwrap();
    let ca = common::self_signed_ca(&root);
    let paths = Paths { log_dir: root.join("logs").display().to_string(), ca_file: ca.display().to_string() };
    let mut checked = 0;
    for file in common::scenario_files() {
        let scenario = Scenario::from_json(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let conf = render(&effective(&scenario), &paths);
        let site = root.join("gateway-lab.conf");
        std::fs::write(&site, &conf.text).unwrap();
        let r = root.display();
        // The events block the exported file shows as a comment (worker_connections).
        let wc = scenario.proxy.worker_connections;
        let main = format!(
            "daemon off;\nworker_processes 1;\npid {r}/nginx.pid;\nerror_log {r}/logs/main-error.log;\nevents {{ worker_connections {wc}; }}\nhttp {{\n    client_body_temp_path {r}/body; proxy_temp_path {r}/proxy; fastcgi_temp_path {r}/fastcgi; uwsgi_temp_path {r}/uwsgi; scgi_temp_path {r}/scgi;\n    include {};\n}}\n",
            site.display()
        );
        std::fs::write(root.join("nginx.conf"), main).unwrap();
        let out = Command::new(&nginx)
            .arg("-t")
            .arg("-p")
            .arg(&root)
            .arg("-c")
            .arg(root.join("nginx.conf"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let mut sim = Simulation::new(scenario).unwrap();
        sim.run();
        let engine_emerg: Vec<_> = sim.world().proxy_stderr.lines().cloned().collect();
        if engine_emerg.is_empty() {
            assert!(out.status.success(), "{}: nginx -t failed:\n{stderr}\n--- config:\n{}", file.display(), conf.text);
        } else {
            assert!(!out.status.success(), "{}: the engine refused to start but nginx -t passed", file.display());
            // Same message, same line of the same file.
            let engine = &engine_emerg[0];
            let msg = &engine[engine.find("[emerg]").unwrap()..];
            let msg = msg.split_once(": ").map(|(_, m)| m).unwrap();
            let (text, line) = msg.rsplit_once(':').unwrap();
            let text = text.replace("/etc/nginx/conf.d/gateway-lab.conf", &site.display().to_string());
            assert!(stderr.contains(&format!("{text}:{line}")), "{}:\n engine: {msg}\n nginx:  {stderr}", file.display());
        }
        checked += 1;
    }
    std::fs::remove_dir_all(&root).ok();
    assert!(checked >= 25, "{checked}");
}

/// The directives of the knobs that no shipped scenario sets away from
/// nginx's defaults (issue 16): the real `nginx -t` accepts them.
#[test]
fn the_request_limit_and_log_format_knobs_pass_nginx_t() {
    let Some(nginx) = nginx() else { return };
    let root = std::env::temp_dir().join(format!("gateway-lab-nginx-t-knobs-{}", std::process::id()));
    std::fs::create_dir_all(root.join("logs")).unwrap();
    let paths = Paths { log_dir: root.join("logs").display().to_string(), ca_file: String::new() };
    let mut variants: Vec<(&str, Scenario)> = Vec::new();
    let mut sc = Scenario::default();
    sc.proxy.client_max_body_size = 10 << 20;
    sc.proxy.large_client_header_buffers_count = 8;
    sc.proxy.large_client_header_buffers_size = 16 << 10;
    variants.push(("client_max_body_size 10m, large_client_header_buffers 8 16k", sc.clone()));
    sc.proxy.client_max_body_size = 0;
    sc.proxy.large_client_header_buffers_size = 1500;
    variants.push(("client_max_body_size 0, large_client_header_buffers 8 1500", sc.clone()));
    sc.proxy.access_log_format = "upstreaminfo".into();
    variants.push(("log_format upstreaminfo", sc));
    for (name, sc) in variants {
        let conf = render(&effective(&sc), &paths);
        let site = root.join("gateway-lab.conf");
        std::fs::write(&site, &conf.text).unwrap();
        let r = root.display();
        let main = format!(
            "daemon off;\nworker_processes 1;\npid {r}/nginx.pid;\nerror_log {r}/logs/main-error.log;\nevents {{ worker_connections 64; }}\nhttp {{\n    client_body_temp_path {r}/body; proxy_temp_path {r}/proxy; fastcgi_temp_path {r}/fastcgi; uwsgi_temp_path {r}/uwsgi; scgi_temp_path {r}/scgi;\n    include {};\n}}\n",
            site.display()
        );
        std::fs::write(root.join("nginx.conf"), main).unwrap();
        let out = Command::new(&nginx).arg("-t").arg("-p").arg(&root).arg("-c").arg(root.join("nginx.conf")).output().unwrap();
        assert!(out.status.success(), "{name}: nginx -t failed:\n{}\n--- config:\n{}", String::from_utf8_lossy(&out.stderr), conf.text);
    }
    std::fs::remove_dir_all(&root).ok();
}
