//! Golden transcripts of the chain scenarios (client → Cloudflare → AWS ALB
//! → proxy): the whole `Simulation::transcript()`, the layers' log sections
//! included, byte for byte. Documented, not verified: these pin the engine's
//! model (docs/research/layers-model.md), not a real Cloudflare or ALB.
//!
//! After an intended change: `GOLDEN_WRITE=1 cargo test -p gateway-core --test chains`,
//! then read the diff.

use gateway_core::sim::{run, Scenario};

const CHAINS: &[&str] = &["chain_app_down", "chain_no_targets", "chain_origin_refused", "chain_origin_tls", "chain_origin_unreachable", "chain_slow_origin"];

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
        ("chain_origin_tls", 526, vec!["\"EdgeResponseStatus\":526,\"EdgeStartTimestamp\""]),
        ("chain_slow_origin", 524, vec!["\"EdgeResponseStatus\":524", " 460 - "]),
        ("chain_origin_unreachable", 523, vec!["\"EdgeResponseStatus\":523"]),
        ("chain_no_targets", 503, vec![" - -1 -1 -1 503 - "]),
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

#[test]
fn the_ssl_mode_and_the_origin_certificate_decide_525_526_or_through() {
    // Cloudflare's 525/526 pages: 525 when the handshake fails under Full or
    // Full (strict); 526 only under Full (strict); Full accepts a self-signed
    // or expired certificate; Off and Flexible reach the origin over HTTP.
    let text = std::fs::read_to_string(path("../../scenarios", "chain_origin_tls", "json")).unwrap();
    let cases = [
        ("strict", "expired", 526),
        ("strict", "self_signed", 526),
        ("strict", "valid", 200),
        ("strict", "none", 525),
        ("strict", "handshake_fails", 525),
        ("full", "expired", 200),
        ("full", "self_signed", 200),
        ("full", "handshake_fails", 525),
        ("full", "none", 525),
        ("flexible", "handshake_fails", 200),
        ("off", "expired", 200),
    ];
    for (mode, tls, want) in cases {
        let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
        v["layers"][0]["ssl_mode"] = mode.into();
        v["layers"][0]["origin_tls"] = tls.into();
        let sim = run(Scenario::from_json(&v.to_string()).unwrap()).unwrap();
        let ex = &sim.exchanges()[0];
        assert_eq!(ex.status(), Some(want), "{mode}/{tls}");
        let access = sim.transcript();
        let access = access.split("== access.log\n").nth(1).unwrap().split("== app log").next().unwrap();
        if want == 200 {
            assert!(access.contains("\" 200 "), "{mode}/{tls}: nginx served it: {access:?}");
        } else {
            // The handshake failed: nginx's HTTP layer never saw a request.
            assert!(access.is_empty(), "{mode}/{tls}: {access:?}");
            let body = ex.response.as_ref().unwrap().body.to_string();
            let words = if want == 525 { "SSL handshake failed" } else { "Invalid SSL certificate" };
            assert!(body.contains(&format!("<title>shop.example.com | {want}: {words}</title>")), "{body}");
        }
    }
}

#[test]
fn a_bad_ssl_mode_names_its_field() {
    let e = Scenario::from_json(r#"{"version":3,"layers":[{"kind":"alb"},{"kind":"cloudflare","ssl_mode":"full_strict"}]}"#).unwrap_err().to_string();
    assert!(e.starts_with("layers[1].ssl_mode: unknown variant `full_strict`"), "{e}");
    let e = Scenario::from_json(r#"{"version":3,"layers":[{"kind":"cloudflare","origin_tls":"revoked"}]}"#).unwrap_err().to_string();
    assert!(e.starts_with("layers[0].origin_tls: unknown variant `revoked`"), "{e}");
}

#[test]
fn a_stale_dns_record_and_an_empty_target_group_never_reach_the_proxy() {
    // Cloudflare 523 (its record points at an address with no route) and the
    // ALB's 503 (no registered targets): the layer answers with its own page,
    // writes its record, and nginx writes nothing at all.
    for (name, status, title, record) in [
        (
            "chain_origin_unreachable",
            523,
            "<title>shop.example.com | 523: Origin is unreachable</title>",
            vec!["\"EdgeResponseStatus\":523", "\"OriginResponseStatus\":0", "\"OriginIP\":\"\""],
        ),
        ("chain_no_targets", 503, "<title>503 Service Temporarily Unavailable</title>", vec!["\"GET http://shop.example.com:80/users HTTP/1.1\"", " 503 - ", " - -1 -1 -1 "]),
    ] {
        let text = std::fs::read_to_string(path("../../scenarios", name, "json")).unwrap();
        let sim = run(Scenario::from_json(&text).unwrap()).unwrap();
        let ex = &sim.exchanges()[0];
        assert_eq!(ex.status(), Some(status), "{name}");
        assert!(ex.response.as_ref().unwrap().body.contains(title), "{name}: {:?}", ex.response);
        let line = sim.world().layer_logs[0].lines().next().cloned().unwrap_or_default();
        for needle in record {
            assert!(line.contains(needle), "{name}: {needle:?} in {line}");
        }
        let t = sim.transcript();
        let access = t.split("== access.log\n").nth(1).unwrap().split("== ").next().unwrap();
        assert!(access.is_empty(), "{name}: nginx's access log: {access:?}");
        assert!(sim.world().error_log.lines().next().is_none(), "{name}: nginx's error log: {:?}", sim.world().error_log.lines().collect::<Vec<_>>());
        assert!(ex.attempts.is_empty(), "{name}: no upstream attempt");
    }
}

#[test]
fn the_layer_boxes_say_the_stale_record_and_the_empty_target_group() {
    for (name, detail, state) in [
        ("chain_origin_unreachable", "FRA · DNS record stale", "523, its own page"),
        ("chain_no_targets", "no registered targets", "503, its own page"),
        ("chain_origin_refused", "FRA · read timeout 100 s", "521, its own page"),
    ] {
        let text = std::fs::read_to_string(path("../../scenarios", name, "json")).unwrap();
        let sim = run(Scenario::from_json(&text).unwrap()).unwrap();
        let m = gateway_core::view::model(&sim);
        assert_eq!((m.layers[0].detail.as_str(), m.layers[0].state.as_str()), (detail, state), "{name}");
    }
}

/// The stage's line (`embed_api::telling_line`) goes with the status: when a layer in front answered
/// with its own page and the proxy never saw the request, it is that layer's record; when the
/// proxy did log the request, it is still the proxy's line.
#[test]
fn the_stage_line_is_the_answering_layers_record_when_the_proxy_saw_nothing() {
    let cases = [
        ("chain_origin_unreachable", "layer", "\"EdgeResponseStatus\":523"),
        ("chain_origin_refused", "layer", "\"EdgeResponseStatus\":521"),
        ("chain_no_targets", "layer", " 503 - "),
        ("chain_app_down", "error.log", "connect() failed (111: Connection refused)"),
    ];
    for (name, log, needle) in cases {
        let text = std::fs::read_to_string(path("../../scenarios", name, "json")).unwrap();
        let sim = run(Scenario::from_json(&text).unwrap()).unwrap();
        let ex = sim.exchanges().iter().rfind(|e| e.is_finished()).unwrap_or_else(|| panic!("{name}: a finished request"));
        let (got_log, line) = gateway_core::embed_api::telling_line(sim.world(), ex);
        let line = line.unwrap_or_else(|| panic!("{name}: no line"));
        assert_eq!(got_log, log, "{name}: {line}");
        assert!(line.contains(needle), "{name}: {line}");
    }
}
