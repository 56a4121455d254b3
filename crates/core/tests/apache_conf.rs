//! Every exported Apache site passes `apache2 -t` on the real Apache
//! (Debian's 2.4.71): exit 0 and `Syntax OK`. The site is `Include`d
//! unchanged from a minimal main config that loads the modules Debian's
//! `a2enmod proxy proxy_http proxy_balancer lbmethod_byrequests` would and
//! defines `APACHE_LOG_DIR`. Scenarios the Apache flavor does not model (TLS
//! to the backend, nginx's auth_request, rate limits) are skipped: the
//! engine refuses them with a message. Needs `apache2` in /usr/sbin; set
//! GATEWAY_LAB_NO_APACHE=1 to skip explicitly.

mod common;

use std::path::Path;
use std::process::Command;

use gateway_core::sim::proxy::apache;
use gateway_core::sim::scenario::{Flavor, UpstreamServer};
use gateway_core::sim::world::effective;
use gateway_core::sim::Scenario;

fn main_conf(dir: &Path, site: &Path) -> String {
    let d = dir.display();
    let m = "/usr/lib/apache2/modules";
    let mut s = format!("ServerRoot {d}\nDefine APACHE_LOG_DIR {d}\nListen 127.0.0.1:18080\nPidFile {d}/httpd.pid\nDefaultRuntimeDir {d}\nMutex file:{d} default\nServerName localhost\nErrorLog {d}/main-error.log\n");
    for (name, file) in [
        ("mpm_event_module", "mod_mpm_event.so"),
        ("authz_core_module", "mod_authz_core.so"),
        ("proxy_module", "mod_proxy.so"),
        ("proxy_http_module", "mod_proxy_http.so"),
        ("proxy_balancer_module", "mod_proxy_balancer.so"),
        ("slotmem_shm_module", "mod_slotmem_shm.so"),
        ("lbmethod_byrequests_module", "mod_lbmethod_byrequests.so"),
    ] {
        s.push_str(&format!("LoadModule {name} {m}/{file}\n"));
    }
    s.push_str("LogFormat \"%h %l %u %t \\\"%r\\\" %>s %b \\\"%{Referer}i\\\" \\\"%{User-Agent}i\\\"\" combined\n");
    s.push_str(&format!("Include {}\n", site.display()));
    s
}

fn cases() -> Vec<(String, Scenario)> {
    let mut out: Vec<(String, Scenario)> = common::scenario_files()
        .iter()
        .map(|f| (f.file_name().unwrap().to_string_lossy().to_string(), Scenario::from_json(&std::fs::read_to_string(f).unwrap()).unwrap()))
        .collect();
    let healthy = out.iter().find(|(n, _)| n == "healthy.json").map(|(_, s)| s.clone()).expect("healthy.json");
    let mut knobs = healthy.clone();
    knobs.proxy.apache.retry_s = 5;
    knobs.proxy.apache.ttl_s = 4;
    knobs.proxy.apache.proxy_timeout_ms = 30_000;
    knobs.upstream.servers = vec![
        UpstreamServer { address: "127.0.0.1:3000".into(), weight: 3, ..UpstreamServer::default() },
        UpstreamServer { address: "127.0.0.1:3001".into(), backup: true, ..UpstreamServer::default() },
        UpstreamServer { address: "127.0.0.1:3002".into(), down: true, ..UpstreamServer::default() },
        UpstreamServer { address: "unix:/run/app/app.sock".into(), ..UpstreamServer::default() },
    ];
    out.push(("healthy.json [balancer: loadfactor, hot standby, disabled, unix member; retry=5 ttl=4 ProxyTimeout 30]".into(), knobs));
    let mut unix = healthy;
    unix.proxy.proxy_pass = "http://unix:/run/app/app.sock".into();
    unix.proxy.apache.ttl_s = 4;
    out.push(("healthy.json [ProxyPass to a unix socket, ttl=4]".into(), unix));
    out
}

#[test]
fn every_exported_site_passes_apache2_t() {
    let Some(bin) = common::proxy_binary("apache2", "GATEWAY_LAB_NO_APACHE") else { return };
    let dir = std::env::temp_dir().join(format!("gwlab-apache-conf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut checked = 0;
    let mut failures = Vec::new();
    for (name, mut sc) in cases() {
        sc.proxy.flavor = Flavor::Apache;
        let eff = effective(&sc);
        if let Some(why) = apache::unsupported(&eff) {
            println!("{name}: not modelled for Apache: {why}");
            continue;
        }
        let site = dir.join("gateway-lab.conf");
        std::fs::write(&site, apache::conf::render(&eff)).unwrap();
        let conf = dir.join("httpd.conf");
        std::fs::write(&conf, main_conf(&dir, &site)).unwrap();
        let out = Command::new(&bin).arg("-t").arg("-d").arg(&dir).arg("-f").arg(&conf).output().unwrap();
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        checked += 1;
        if !out.status.success() || !text.contains("Syntax OK") {
            failures.push(format!("{name}: {}\n{text}\n{}", out.status, apache::conf::render(&eff)));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!("apache2 -t: {checked} sites checked");
    assert!(checked >= 30, "only {checked} sites checked");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
