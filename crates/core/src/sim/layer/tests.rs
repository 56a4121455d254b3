//! Each layer's mapping, status by status, and the routing through the engine.

use super::*;
use crate::sim::scenario::Scenario;

fn cf() -> cloudflare::Cloudflare {
    cloudflare::Cloudflare::default()
}

fn alb() -> alb::Alb {
    alb::Alb::default()
}

fn status_and_page(a: Answer) -> (Option<u16>, bool) {
    (a.status, a.page.is_some())
}

#[test]
fn cloudflare_maps_each_origin_behaviour_to_its_documented_status() {
    let c = cf();
    let cases = [
        (Seen::Refused, Some(521), true),
        (Seen::ConnectTimeout, Some(522), true),
        (Seen::ReadTimeout, Some(524), true),
        (Seen::Empty, Some(520), true),
        (Seen::NotHttp, Some(520), true),
        (Seen::Answer { status: 502, complete: true }, Some(502), true),
        (Seen::Answer { status: 504, complete: true }, Some(504), true),
        (Seen::Answer { status: 503, complete: true }, Some(503), false),
        (Seen::Answer { status: 200, complete: true }, Some(200), false),
        (Seen::Answer { status: 404, complete: true }, Some(404), false),
        (Seen::ClientClosed, None, false),
    ];
    for (seen, status, own) in cases {
        assert_eq!(status_and_page(c.answer(seen, "shop.example.com", "0123456789abcdef-FRA")), (status, own), "{seen:?}");
    }
}

#[test]
fn cloudflare_pages_carry_the_real_title_and_the_ray_id() {
    let p = cloudflare::page(521, "shop.example.com", "0123456789abcdef-FRA");
    assert!(p.body.contains("<title>shop.example.com | 521: Web server is down</title>"), "{}", p.body);
    assert!(p.body.contains("Error code 521"));
    assert!(p.body.contains("Cloudflare Ray ID: <strong>0123456789abcdef</strong>"));
    assert_eq!(p.header("CF-RAY"), Some("0123456789abcdef-FRA"));
    assert_eq!(p.header("Server"), Some("cloudflare"));
    assert_eq!(p.header("Content-Length"), Some(p.body.len().to_string().as_str()));
    for (s, t) in [(520, "520: Web server is returning an unknown error"), (522, "522: Connection timed out"), (524, "524: A timeout occurred"), (502, "502: Bad gateway"), (504, "504: Gateway time-out")] {
        assert!(cloudflare::page(s, "h", "r-FRA").body.contains(&format!("<title>h | {t}</title>")), "{s}");
    }
}

#[test]
fn alb_maps_each_target_behaviour_to_its_documented_status() {
    let a = alb();
    let cases = [
        (Seen::Refused, Some(502), true),
        (Seen::ConnectTimeout, Some(504), true),
        (Seen::ReadTimeout, Some(504), true),
        (Seen::Empty, Some(502), true),
        (Seen::NotHttp, Some(502), true),
        (Seen::Answer { status: 502, complete: true }, Some(502), false),
        (Seen::Answer { status: 503, complete: true }, Some(503), false),
        (Seen::Answer { status: 200, complete: true }, Some(200), false),
        (Seen::ClientClosed, Some(460), false),
    ];
    for (seen, status, own) in cases {
        assert_eq!(status_and_page(a.answer(seen, "h", "")), (status, own), "{seen:?}");
    }
}

#[test]
fn ray_ids_look_like_cf_ray_headers_and_follow_the_seed() {
    let a = cloudflare::ray_id(&mut crate::sim::rng::SimRng::stream(7, 3), "SJC");
    let b = cloudflare::ray_id(&mut crate::sim::rng::SimRng::stream(7, 3), "SJC");
    assert_eq!(a, b);
    let (hex, colo) = a.split_once('-').unwrap();
    assert_eq!((hex.len(), colo), (16, "SJC"));
    assert!(hex.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()), "{a}");
}

fn layered(json: &str) -> crate::sim::Simulation {
    let s = Scenario::from_json(json).unwrap_or_else(|e| panic!("{e}"));
    crate::sim::run(s).unwrap()
}

fn hops_of(sim: &crate::sim::Simulation) -> Vec<(LayerKind, Seen, Option<u16>)> {
    sim.exchanges()[0].layers.iter().map(|h| (h.kind, h.seen, h.status)).collect()
}

fn access(sim: &crate::sim::Simulation) -> Vec<String> {
    sim.world().access_log.lines().cloned().collect()
}

#[test]
fn the_alb_idle_timeout_fires_before_cloudflare_and_nginx_logs_499() {
    // ALB 60 s (default) < nginx 300 s, Cloudflare 100 s: the ALB gives up first.
    let sim = layered(r#"{"version":3,"clients":{"requests":1},"proxy":{"proxy_read_timeout_ms":300000},
        "layers":[{"kind":"cloudflare"},{"kind":"alb"}],"faults":[{"type":"slow_app","delay_ms":150000}]}"#);
    let ex = &sim.exchanges()[0];
    assert_eq!(ex.status(), Some(504));
    assert_eq!(
        hops_of(&sim),
        vec![
            (LayerKind::Alb, Seen::ReadTimeout, Some(504)),
            (LayerKind::Cloudflare, Seen::Answer { status: 504, complete: true }, Some(504)),
        ]
    );
    assert!(ex.layers[1].own_page, "Cloudflare shows its branded 504");
    assert!(ex.response.as_ref().unwrap().body.contains("504: Gateway time-out"));
    assert!(access(&sim)[0].contains("\" 499 0 "), "{:?}", access(&sim));
    // The client waited the ALB's 60 s plus the hops, not Cloudflare's 100 s.
    let took = ex.finished_at.unwrap().since(ex.sent_at);
    assert!((60_000_000..61_000_000).contains(&took), "{took}");
}

#[test]
fn nginx_times_out_first_when_its_timeout_is_the_shortest() {
    let sim = layered(r#"{"version":3,"clients":{"requests":1},"proxy":{"proxy_read_timeout_ms":30000},
        "layers":[{"kind":"cloudflare"},{"kind":"alb"}],"faults":[{"type":"slow_app","delay_ms":150000}]}"#);
    assert_eq!(
        hops_of(&sim),
        vec![
            (LayerKind::Alb, Seen::Answer { status: 504, complete: true }, Some(504)),
            (LayerKind::Cloudflare, Seen::Answer { status: 504, complete: true }, Some(504)),
        ]
    );
    assert!(access(&sim)[0].contains("\" 504 "), "{:?}", access(&sim));
    let alb_line = sim.world().layer_logs[1].lines().next().unwrap().clone();
    assert!(alb_line.contains(" 504 504 "), "elb 504, target 504: {alb_line}");
}

#[test]
fn cloudflare_times_out_first_with_a_slower_alb_and_the_alb_logs_460() {
    let sim = layered(include_str!("../../../../../scenarios/chain_slow_origin.json"));
    let ex = &sim.exchanges()[0];
    assert_eq!(ex.status(), Some(524));
    assert_eq!(
        hops_of(&sim),
        vec![(LayerKind::Cloudflare, Seen::ReadTimeout, Some(524)), (LayerKind::Alb, Seen::ClientClosed, Some(460))]
    );
    assert!(access(&sim)[0].contains("\" 499 0 "), "{:?}", access(&sim));
    let alb_line = sim.world().layer_logs[1].lines().next().unwrap().clone();
    assert!(alb_line.contains(" 0.000 -1 -1 460 - "), "{alb_line}");
    let cf_line = sim.world().layer_logs[0].lines().next().unwrap().clone();
    assert!(cf_line.contains("\"EdgeResponseStatus\":524") && cf_line.contains("\"OriginResponseStatus\":0"), "{cf_line}");
}

#[test]
fn the_app_down_reads_differently_at_each_layer() {
    let sim = layered(include_str!("../../../../../scenarios/chain_app_down.json"));
    let ex = &sim.exchanges()[0];
    assert_eq!(ex.status(), Some(502));
    assert_eq!(
        hops_of(&sim),
        vec![
            (LayerKind::Alb, Seen::Answer { status: 502, complete: true }, Some(502)),
            (LayerKind::Cloudflare, Seen::Answer { status: 502, complete: true }, Some(502)),
        ]
    );
    assert!(!ex.layers[0].own_page && ex.layers[1].own_page);
    assert!(ex.worst_error_line().unwrap().text.contains("connect() failed (111: Connection refused)"));
    let alb_line = sim.world().layer_logs[1].lines().next().unwrap().clone();
    assert!(alb_line.contains(" 502 502 "), "{alb_line}");
    assert!(ex.explanation.as_deref().unwrap().contains("Behind the layers:"), "{:?}", ex.explanation);
}

#[test]
fn a_stopped_origin_is_cloudflare_521_and_nginx_writes_nothing() {
    let sim = layered(include_str!("../../../../../scenarios/chain_origin_refused.json"));
    assert_eq!(sim.exchanges()[0].status(), Some(521));
    assert!(access(&sim).is_empty());
    // Behind an ALB, the same stopped nginx is the ALB's 502, which Cloudflare brands.
    let sim = layered(r#"{"version":3,"clients":{"requests":1},"layers":[{"kind":"cloudflare"},{"kind":"alb"}],
        "faults":[{"type":"dns_failure","host":"app.internal"}]}"#);
    assert_eq!(
        hops_of(&sim),
        vec![(LayerKind::Alb, Seen::Refused, Some(502)), (LayerKind::Cloudflare, Seen::Answer { status: 502, complete: true }, Some(502))]
    );
}

#[test]
fn the_origin_firewall_gives_521_when_it_rejects_and_522_after_19_s_when_it_drops() {
    let sim = layered(r#"{"version":3,"clients":{"requests":1},"layers":[{"kind":"cloudflare","origin_firewall":"reject"}]}"#);
    assert_eq!(sim.exchanges()[0].status(), Some(521));
    assert!(access(&sim).is_empty(), "nginx never sees it");
    let sim = layered(r#"{"version":3,"clients":{"requests":1},"layers":[{"kind":"cloudflare","origin_firewall":"drop"}]}"#);
    let ex = &sim.exchanges()[0];
    assert_eq!(ex.status(), Some(522));
    let took = ex.finished_at.unwrap().since(ex.sent_at);
    assert!((19_000_000..19_100_000).contains(&took), "{took}");
}

#[test]
fn cloudflare_tls_to_the_origin_525_526_after_two_round_trips_and_a_stopped_origin_is_still_521() {
    // Full (strict), an expired certificate: 526 after the TCP and TLS round trips (4 × 10 ms).
    let sim = layered(r#"{"version":3,"clients":{"requests":1},"layers":[{"kind":"cloudflare","ssl_mode":"strict","origin_tls":"self_signed"}]}"#);
    let ex = &sim.exchanges()[0];
    assert_eq!(hops_of(&sim), vec![(LayerKind::Cloudflare, Seen::InvalidCertificate, Some(526))]);
    assert_eq!(ex.finished_at.unwrap().since(ex.sent_at), 2 * 100 + 4 * 10_000);
    assert!(access(&sim).is_empty(), "nginx's HTTP layer never sees it");
    let cf_line = sim.world().layer_logs[0].lines().next().unwrap().clone();
    assert!(cf_line.contains("\"EdgeResponseStatus\":526") && cf_line.contains("\"OriginResponseStatus\":0"), "{cf_line}");
    // Nothing listens on the origin's port: the connection is refused before any TLS.
    let sim = layered(r#"{"version":3,"clients":{"requests":1},"layers":[{"kind":"cloudflare","ssl_mode":"full","origin_tls":"handshake_fails"}],
        "faults":[{"type":"dns_failure","host":"app.internal"}]}"#);
    assert_eq!(sim.exchanges()[0].status(), Some(521));
    // With an ALB as its next hop, the handshake with the ALB fails: 525, and the ALB logs no request.
    let sim = layered(r#"{"version":3,"clients":{"requests":1},"layers":[{"kind":"cloudflare","ssl_mode":"strict"},{"kind":"alb"}]}"#);
    assert_eq!(hops_of(&sim), vec![(LayerKind::Cloudflare, Seen::TlsHandshakeFailed, Some(525))]);
    let p = cf().answer(Seen::TlsHandshakeFailed, "shop.example.com", "0123456789abcdef-FRA").page.unwrap();
    assert!(p.body.contains("<title>shop.example.com | 525: SSL handshake failed</title>"), "{}", p.body);
}

#[test]
fn a_healthy_chain_relays_200_and_stamps_cf_ray() {
    let sim = layered(r#"{"version":3,"clients":{"requests":1},"layers":[{"kind":"cloudflare"},{"kind":"alb"}]}"#);
    let ex = &sim.exchanges()[0];
    assert_eq!(ex.status(), Some(200));
    let r = ex.response.as_ref().unwrap();
    assert_eq!(r.header("Server"), Some("cloudflare"));
    assert_eq!(r.header("CF-RAY"), Some(ex.layers_trace.ray.as_str()));
    assert!(ex.succeeded());
}

#[test]
fn the_client_giving_up_reaches_every_layer_then_nginx() {
    let sim = layered(r#"{"version":3,"clients":{"requests":1,"retry":{"timeout_ms":5000}},"layers":[{"kind":"cloudflare"},{"kind":"alb"}],
        "faults":[{"type":"slow_app","delay_ms":150000}]}"#);
    assert_eq!(
        hops_of(&sim),
        vec![(LayerKind::Cloudflare, Seen::ClientClosed, None), (LayerKind::Alb, Seen::ClientClosed, Some(460))]
    );
    assert!(access(&sim)[0].contains("\" 499 0 "), "{:?}", access(&sim));
    // Cloudflare's status for a client that left is not in the pages read: no record line claims one.
    assert_eq!(sim.world().layer_logs[0].lines().count(), 0);
    assert_eq!(sim.world().layer_logs[1].lines().count(), 1);
}

#[test]
fn the_terminal_curl_on_the_proxy_host_bypasses_the_layers() {
    let s = Scenario::from_json(r#"{"version":3,"layers":[{"kind":"cloudflare"}]}"#).unwrap();
    let mut sim = crate::sim::Simulation::new(s).unwrap();
    let id = sim.send_tool(crate::sim::RequestSpec::default(), "curl/7.88.1");
    sim.run_until_finished(id);
    assert!(sim.exchanges()[id].layers.is_empty());
    assert_eq!(sim.exchanges()[id].status(), Some(200));
}

#[test]
fn layers_are_validated_with_the_field_named() {
    let err = |j: &str| Scenario::from_json(j).unwrap_err().0;
    assert!(err(r#"{"version":3,"layers":[{"kind":"cloudflare"},{"kind":"alb","idle_timeout_s":0}]}"#)
        .contains("layers[1].idle_timeout_s: must be between 1 and 4000"));
    assert!(err(r#"{"version":3,"layers":[{"kind":"cloudflare","proxy_read_timeout_s":7000}]}"#).contains("layers[0].proxy_read_timeout_s"));
    assert!(err(r#"{"version":3,"layers":[{"kind":"cloudflare","colo":"frankfurt"}]}"#).contains("layers[0].colo"));
    assert!(err(r#"{"version":3,"layers":[{"kind":"akamai"}]}"#).contains("layers"));
    assert!(err(r#"{"version":3,"layers":[{"kind":"alb","idle":5}]}"#).contains("idle"));
    let five = r#"{"kind":"alb"},"#.repeat(5);
    assert!(err(&format!(r#"{{"version":3,"layers":[{}]}}"#, five.trim_end_matches(','))).contains("at most 4 layers"));
}

#[test]
fn a_scenario_without_layers_serializes_as_before() {
    let s = Scenario::default();
    assert!(!s.to_json().contains("layers"));
    let with = Scenario { layers: vec![LayerKind::Alb.default_layer()], ..Scenario::default() };
    let back = Scenario::from_json(&with.to_json()).unwrap();
    assert_eq!(back, with);
}

#[test]
fn removing_the_layers_while_requests_cross_them_ends_them_without_a_panic() {
    for at_ms in [1, 5, 15, 60_000, 100_000] {
        let s = Scenario::from_json(r#"{"version":3,"clients":{"requests":3,"rate_per_s":1000},"layers":[{"kind":"cloudflare"},{"kind":"alb"}],
            "faults":[{"type":"slow_app","delay_ms":30000}]}"#).unwrap();
        let mut sim = crate::sim::Simulation::new(s.clone()).unwrap();
        sim.run_until(crate::sim::time::SimTime::from_ms(at_ms));
        sim.reconfigure(Scenario { layers: Vec::new(), ..s }).unwrap();
        sim.run();
        assert!(sim.exchanges().iter().all(|e| e.is_finished()), "at {at_ms} ms");
    }
}

#[test]
fn the_slow_origin_s_fix_raises_the_layers_timeouts_too_and_then_the_request_succeeds() {
    let sc = crate::sim::Scenario::from_json(include_str!("../../../../../scenarios/chain_slow_origin.json")).unwrap();
    let fix = sc.faults[0].fix_in(&sc);
    // The ALB's 120 s is below the app's 150 s too, and Cloudflare's 100 s.
    assert!(fix.detail.contains("Cloudflare's Proxy Read Timeout to 180 s"), "{}", fix.detail);
    assert!(fix.detail.contains("the ALB's idle timeout to 180 s"), "{}", fix.detail);
    let mut s = crate::session::Session::new(sc).unwrap();
    assert_eq!(s.sim().exchanges()[0].response.as_ref().map(|r| r.status), Some(524));
    s.fix().unwrap();
    s.send(1, 0).unwrap();
    let last = s.sim().exchanges().last().unwrap();
    assert_eq!(last.response.as_ref().map(|r| r.status), Some(200), "after the fix the slow request gets through every layer");
    // Without layers the fix's words are the proxy's alone.
    let mut plain = crate::sim::Scenario::from_json(include_str!("../../../../../scenarios/chain_slow_origin.json")).unwrap();
    plain.layers.clear();
    assert!(!plain.faults[0].fix_in(&plain).detail.contains("In front of the proxy"));
}

#[test]
fn a_stale_dns_record_is_cloudflare_523_after_one_round_trip_and_nginx_writes_nothing() {
    let sim = layered(include_str!("../../../../../scenarios/chain_origin_unreachable.json"));
    let ex = &sim.exchanges()[0];
    assert_eq!(hops_of(&sim), vec![(LayerKind::Cloudflare, Seen::Unreachable, Some(523))]);
    assert!(ex.layers[0].own_page);
    let body = &ex.response.as_ref().unwrap().body;
    assert!(body.contains("<title>shop.example.com | 523: Origin is unreachable</title>"), "{body}");
    assert!(body.contains("Error code 523"));
    // The client's hop there and back (100 µs each) and Cloudflare's round trip (2 × 10 ms).
    assert_eq!(ex.finished_at.unwrap().since(ex.sent_at), 2 * 100 + 2 * 10_000);
    assert!(access(&sim).is_empty(), "nginx never sees it");
    assert!(sim.world().error_log.lines().all(|l| !l.contains("shop.example.com")), "no error line for it either");
    let cf_line = sim.world().layer_logs[0].lines().next().unwrap().clone();
    for field in ["\"EdgeResponseStatus\":523", "\"OriginResponseStatus\":0", "\"OriginIP\":\"\"", "\"OriginResponseDurationMs\":20"] {
        assert!(cf_line.contains(field), "{field} in {cf_line}");
    }
    assert!(ex.explanation.as_deref().unwrap().contains("523"), "{:?}", ex.explanation);
    // The record wins over the origin's firewall and its TLS: no packet reaches the origin.
    let sim = layered(r#"{"version":3,"clients":{"requests":1},"layers":[{"kind":"cloudflare","origin_record":"stale","origin_firewall":"drop","ssl_mode":"strict"}]}"#);
    assert_eq!(hops_of(&sim), vec![(LayerKind::Cloudflare, Seen::Unreachable, Some(523))]);
}

#[test]
fn an_alb_without_registered_targets_answers_503_at_once_with_the_flavors_page() {
    let sim = layered(include_str!("../../../../../scenarios/chain_no_targets.json"));
    let ex = &sim.exchanges()[0];
    assert_eq!(hops_of(&sim), vec![(LayerKind::Alb, Seen::NoTarget, Some(503))]);
    let r = ex.response.as_ref().unwrap();
    assert_eq!((r.status, &*r.reason), (503, "Service Temporarily Unavailable"));
    // The ALB flavor's page, byte for byte: 162 bytes.
    assert_eq!(r.body.to_string(), crate::sim::proxy::alb::error_page(503, crate::sim::proxy::alb::own_reason(503)));
    assert_eq!(r.body.len(), 162);
    assert_eq!(r.header("Server"), Some("awselb/2.0"));
    // At once: the client's hop there and back only.
    assert_eq!(ex.finished_at.unwrap().since(ex.sent_at), 2 * 100);
    assert!(access(&sim).is_empty(), "nginx never sees it");
    let line = sim.world().layer_logs[0].lines().next().unwrap().clone();
    assert!(line.contains(" - -1 -1 -1 503 - "), "target -, times -1, elb 503, target status -: {line}");
    // Behind Cloudflare, the ALB's 503 is relayed (not one of Cloudflare's own codes).
    let sim = layered(r#"{"version":3,"clients":{"requests":1},"layers":[{"kind":"cloudflare"},{"kind":"alb","targets_registered":false}]}"#);
    assert_eq!(
        hops_of(&sim),
        vec![(LayerKind::Alb, Seen::NoTarget, Some(503)), (LayerKind::Cloudflare, Seen::Answer { status: 503, complete: true }, Some(503))]
    );
    assert!(!sim.exchanges()[0].layers[1].own_page);
}

#[test]
fn the_new_settings_default_to_today_s_behaviour_and_are_not_written_when_default() {
    let with = Scenario { layers: vec![LayerKind::Cloudflare.default_layer(), LayerKind::Alb.default_layer()], ..Scenario::default() };
    let json = with.to_json();
    assert!(!json.contains("origin_record") && !json.contains("targets_registered"), "{json}");
    let set = Scenario::from_json(r#"{"version":3,"layers":[{"kind":"cloudflare","origin_record":"stale"},{"kind":"alb","targets_registered":false}]}"#).unwrap();
    assert_eq!(Scenario::from_json(&set.to_json()).unwrap(), set);
    let e = Scenario::from_json(r#"{"version":3,"layers":[{"kind":"cloudflare","origin_record":"old"}]}"#).unwrap_err().0;
    assert!(e.contains("layers[0].origin_record: unknown variant `old`"), "{e}");
}

#[test]
fn apply_the_fix_points_the_record_back_and_registers_the_target() {
    for (name, json, title, status) in [
        ("chain_origin_unreachable", include_str!("../../../../../scenarios/chain_origin_unreachable.json"), "Point the DNS record back at the proxy", 523),
        ("chain_no_targets", include_str!("../../../../../scenarios/chain_no_targets.json"), "Register the target", 503),
    ] {
        let sc = Scenario::from_json(json).unwrap();
        let fix = crate::sim::Fault::fix_for(&sc).unwrap_or_else(|| panic!("{name}: no fix"));
        assert_eq!(fix.title, title);
        assert!(fix.detail.contains(PROXY_HOST_IP), "{name}: {}", fix.detail);
        let mut s = crate::session::Session::new(sc).unwrap();
        s.send(1, 0).unwrap();
        assert_eq!(s.sim().exchanges()[0].status(), Some(status), "{name}");
        s.fix().unwrap();
        s.send(1, 0).unwrap();
        assert_eq!(s.sim().exchanges().last().unwrap().status(), Some(200), "{name}: after the fix the request reaches nginx");
        assert_eq!(crate::sim::Fault::fix_for(s.scenario()), None, "{name}: nothing left to fix");
        assert_eq!(s.fix(), Err(crate::session::SessionError::NothingToFix));
    }
}

#[test]
fn cloudflare_523_and_alb_503_map_as_documented() {
    let a = cf().answer(Seen::Unreachable, "shop.example.com", "0123456789abcdef-FRA");
    assert_eq!((a.status, a.page.is_some()), (Some(523), true));
    assert_eq!(a.page.unwrap().reason, "Origin is unreachable");
    assert_eq!(status_and_page(alb().answer(Seen::NoTarget, "h", "")), (Some(503), true));
}
