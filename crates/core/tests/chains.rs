//! Golden transcripts of the chain scenarios (client → Cloudflare → AWS ALB
//! → proxy): the whole `Simulation::transcript()`, the layers' log sections
//! included, byte for byte. Documented, not verified: these pin the engine's
//! model (docs/research/layers-model.md), not a real Cloudflare or ALB.
//!
//! After an intended change: `GOLDEN_WRITE=1 cargo test -p gateway-core --test chains`,
//! then read the diff.

use gateway_core::sim::{run, Scenario};

const CHAINS: &[&str] = &["chain_app_down", "chain_origin_refused", "chain_slow_origin"];

fn path(dir: &str, name: &str, ext: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir).join(format!("{name}.{ext}"))
}

#[test]
fn chain_transcripts_are_the_golden_ones() {
    let write = std::env::var_os("GOLDEN_WRITE").is_some();
    let mut differ = Vec::new();
    for name in CHAINS {
        let text = std::fs::read_to_string(path("../../scenarios", name, "json")).unwrap();
        let got = run(Scenario::from_json(&text).unwrap()).unwrap().transcript();
        let golden = path("tests/data/chains", name, "txt");
        if write {
            std::fs::write(&golden, &got).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&golden).unwrap_or_default();
        if got != want {
            differ.push(format!("{name}:\n--- golden\n{want}\n--- now\n{got}"));
        }
    }
    assert!(differ.is_empty(), "transcripts differ (GOLDEN_WRITE=1 rewrites them):\n{}", differ.join("\n"));
}

#[test]
fn each_layer_reads_the_same_break_differently() {
    // The final status the client gets, and what each layer logged, per chain.
    let want = [
        ("chain_app_down", 502, vec!["\"EdgeResponseStatus\":502", " 502 502 "]),
        ("chain_origin_refused", 521, vec!["\"EdgeResponseStatus\":521"]),
        ("chain_slow_origin", 524, vec!["\"EdgeResponseStatus\":524", " 460 - "]),
    ];
    for (name, status, lines) in want {
        let text = std::fs::read_to_string(path("../../scenarios", name, "json")).unwrap();
        let sim = run(Scenario::from_json(&text).unwrap()).unwrap();
        assert_eq!(sim.exchanges()[0].status(), Some(status), "{name}");
        let logs: Vec<String> = sim.world().layer_logs.iter().map(|l| l.lines().cloned().collect::<Vec<_>>().join("\n")).collect();
        for (i, needle) in lines.iter().enumerate() {
            assert!(logs[i].contains(needle), "{name}: layer {} log {:?} lacks {needle:?}", i + 1, logs[i]);
        }
    }
}
