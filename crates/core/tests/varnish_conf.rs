//! Every exported VCL compiles with the real `varnishd -C` (Debian's 7.1.1):
//! exit 0. A backend name that does not resolve must fail to compile with
//! VCC's message, as the engine says (varnishd does not start). Scenarios
//! the Varnish flavor does not model are skipped. Needs `varnishd` in
//! /usr/sbin; set GATEWAY_LAB_NO_VARNISH=1 to skip.

mod common;

use std::process::Command;

use gateway_core::sim::proxy::varnish;
use gateway_core::sim::scenario::Flavor;
use gateway_core::sim::world::effective;
use gateway_core::sim::{Scenario, Simulation};

#[test]
fn every_exported_vcl_compiles_with_varnishd_c() {
    let Some(bin) = common::proxy_binary("varnishd", "GATEWAY_LAB_NO_VARNISH") else { return };
    let dir = std::env::temp_dir().join(format!("gwlab-varnish-conf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (mut checked, mut refused) = (0, 0);
    let mut failures = Vec::new();
    for f in common::scenario_files() {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let mut sc = Scenario::from_json(&std::fs::read_to_string(&f).unwrap()).unwrap();
        sc.proxy.flavor = Flavor::Varnish;
        let eff = effective(&sc);
        if let Some(why) = varnish::unsupported(&eff) {
            println!("{name}: not modelled for Varnish: {why}");
            continue;
        }
        let vcl = dir.join("default.vcl");
        std::fs::write(&vcl, varnish::conf::render(&eff)).unwrap();
        let out = Command::new(&bin).arg("-C").arg("-f").arg(&vcl).arg("-n").arg(dir.join("n")).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let mut sim = Simulation::new(sc).unwrap();
        sim.run();
        let engine_starts = sim.world().proxy_running;
        checked += 1;
        if engine_starts != out.status.success() {
            failures.push(format!("{name}: varnishd -C {} but the engine's varnishd {}\n{stderr}", out.status, if engine_starts { "starts" } else { "does not start" }));
        }
        if !engine_starts {
            refused += 1;
            for l in ["Message from VCC-compiler:", "could not be resolved to an IP address:", "VCL compilation failed"] {
                assert!(stderr.contains(l), "{name}: real stderr lacks {l:?}\n{stderr}");
                assert!(sim.world().proxy_stderr.lines().any(|e| e.contains(l)), "{name}: the engine lacks {l:?}");
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!("varnishd -C: {checked} VCLs checked, {refused} refused as the engine says");
    assert!(checked >= 15, "only {checked} checked");
    assert!(refused >= 1, "the unresolvable backend was not checked");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
