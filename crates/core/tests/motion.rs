//! A request's journey (`sim::motion`): the hops and waits the page replays
//! over screen time, with the timer that governed each wait.

mod common;

use std::path::Path;

use gateway_core::sim::motion::{journey, Journey, Leg, Node};
use gateway_core::sim::scenario::Flavor;
use gateway_core::sim::{Scenario, Simulation};

fn scenario(name: &str) -> Scenario {
    let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("scenarios").join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Scenario::from_json(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs `sc` to the end; the journeys of its requests.
fn journeys(sc: Scenario) -> Vec<Journey> {
    let mut sim = Simulation::new(sc).unwrap();
    sim.run();
    let w = sim.world();
    sim.exchanges().iter().map(|e| journey(&w.scenario, e, w.now)).collect()
}

fn first(name: &str, flavor: Flavor) -> Journey {
    let mut sc = scenario(name);
    sc.proxy.flavor = flavor;
    journeys(sc).remove(0)
}

fn waits(j: &Journey) -> Vec<&Leg> {
    j.legs.iter().filter(|l| matches!(l, Leg::Wait { .. })).collect()
}

fn upstream_hops(j: &Journey) -> usize {
    j.legs.iter().filter(|l| matches!(l, Leg::Hop { from: Node::Proxy, to: Node::Upstream { .. }, .. })).count()
}

fn last_hop(j: &Journey) -> (Node, Node, String) {
    match j.legs.last() {
        Some(Leg::Hop { from, to, what, .. }) => (*from, *to, what.clone()),
        other => panic!("the journey ends with {other:?}"),
    }
}

#[test]
fn slow_app_waits_at_the_app_until_proxy_read_timeout() {
    let j = first("slow_app", Flavor::Nginx);
    assert!(j.finished);
    let timed: Vec<_> = j.legs.iter().filter_map(|l| match l { Leg::Wait { at, start, end, timer: Some(t) } => Some((at, *start, *end, t)), _ => None }).collect();
    assert_eq!(timed.len(), 1, "{:#?}", j.legs);
    let (at, start, end, t) = timed[0];
    assert_eq!(*at, Node::Upstream { app: Some(0) }, "the app holds the request");
    assert_eq!(t.name, "proxy_read_timeout");
    assert_eq!(t.limit_us, 60_000_000);
    assert_eq!(t.setting(), "proxy_read_timeout 60s");
    assert!(t.fired);
    assert_eq!(end.since(t.since), 60_000_000, "the wait ends when the timer reaches its limit");
    assert!(end.since(start) > 59_000_000);
    assert_eq!(last_hop(&j), (Node::Proxy, Node::Client, "504 Gateway Time-out".into()));
    assert_eq!(
        j.legs.iter().map(|l| match l { Leg::Hop { from, to, .. } => format!("{from:?}>{to:?}"), Leg::Wait { at, .. } => format!("wait@{at:?}") }).collect::<Vec<_>>(),
        ["Client>Proxy", "Proxy>Upstream { app: Some(0) }", "wait@Upstream { app: Some(0) }", "Proxy>Client"],
    );
}

#[test]
fn haproxy_names_timeout_server() {
    let j = first("slow_app", Flavor::Haproxy);
    let t = waits(&j).into_iter().find_map(|l| match l { Leg::Wait { timer: Some(t), .. } => Some(t.clone()), _ => None }).expect("a timed wait");
    assert_eq!(t.name, "timeout server");
    assert!(t.fired);
    assert_eq!(t.setting(), "timeout server 60s");
    assert_eq!(last_hop(&j).2, "504 Gateway Time-out");
}

#[test]
fn app_down_is_refused_at_the_first_hop() {
    let j = first("app_down", Flavor::Nginx);
    assert_eq!(upstream_hops(&j), 1);
    let i = j.legs.iter().position(|l| matches!(l, Leg::Hop { from: Node::Proxy, to: Node::Upstream { .. }, .. })).unwrap();
    assert!(matches!(&j.legs[i], Leg::Hop { what, .. } if what == "SYN"), "{:?}", j.legs[i]);
    assert!(matches!(&j.legs[i + 1], Leg::Hop { from: Node::Upstream { app: Some(0) }, to: Node::Proxy, what, .. } if what == "RST: refused"), "{:?}", j.legs[i + 1]);
    assert!(waits(&j).iter().all(|l| matches!(l, Leg::Wait { timer: None, .. })), "no timer runs out: {:#?}", j.legs);
    assert_eq!(last_hop(&j).2, "502 Bad Gateway");
}

#[test]
fn haproxy_retries_are_several_upstream_hops() {
    let mut sc = scenario("app_down");
    sc.proxy.flavor = Flavor::Haproxy;
    let retries = sc.proxy.haproxy.retries as usize;
    let j = journeys(sc).remove(0);
    assert_eq!(upstream_hops(&j), retries + 1, "{:#?}", j.legs);
    let refused = j.legs.iter().filter(|l| matches!(l, Leg::Hop { what, to: Node::Proxy, .. } if what == "RST: refused")).count();
    assert_eq!(refused, retries + 1);
    // Between two tries, HAProxy's turn-around: the request waits at the proxy.
    assert!(waits(&j).iter().filter(|l| matches!(l, Leg::Wait { at: Node::Proxy, .. })).count() >= retries, "{:#?}", j.legs);
    assert_eq!(last_hop(&j).2, "503 Service Unavailable");
}

#[test]
fn a_black_hole_runs_the_connect_timer() {
    for (flavor, name) in [(Flavor::Nginx, "proxy_connect_timeout"), (Flavor::Haproxy, "timeout connect")] {
        let j = first("connect_black_hole", flavor);
        let timers: Vec<_> = j.legs.iter().filter_map(|l| match l { Leg::Wait { timer: Some(t), .. } => Some(t), _ => None }).collect();
        assert!(!timers.is_empty(), "{flavor:?}: {:#?}", j.legs);
        assert!(timers.iter().all(|t| t.name == name && t.fired), "{flavor:?}: {timers:#?}");
    }
}

#[test]
fn a_healthy_request_answers_before_its_timer() {
    let j = first("healthy", Flavor::Nginx);
    let t = waits(&j).into_iter().find_map(|l| match l { Leg::Wait { timer: Some(t), .. } => Some(t.clone()), _ => None }).expect("the read timer runs while the app works");
    assert_eq!(t.name, "proxy_read_timeout");
    assert!(!t.fired);
    assert!(matches!(&j.legs[j.legs.len() - 2], Leg::Hop { from: Node::Upstream { .. }, to: Node::Proxy, what, .. } if what == "200"));
    assert_eq!(last_hop(&j).2, "200 OK");
}

#[test]
fn a_request_in_flight_ends_with_the_wait_so_far() {
    let mut sim = Simulation::new(scenario("slow_app")).unwrap();
    let mut j = Journey::default();
    // Run until ten virtual seconds into the wait.
    while sim.step() {
        if sim.world().now.as_micros() > 10_000_000 {
            break;
        }
    }
    let w = sim.world();
    if let Some(e) = sim.exchanges().iter().next() {
        j = journey(&w.scenario, e, w.now);
    }
    assert!(!j.finished);
    match j.legs.last() {
        Some(Leg::Wait { end, timer: Some(t), .. }) => {
            assert_eq!(*end, w.now);
            assert!(!t.fired);
            assert_eq!(t.limit_us, 60_000_000);
        }
        other => panic!("{other:?}"),
    }
}

/// Every shipped scenario, both flavours: each journey's legs follow one
/// another without gaps, never go back in time, and stay within the request.
#[test]
fn every_journey_is_contiguous() {
    for path in common::scenario_files() {
        let text = std::fs::read_to_string(&path).unwrap();
        let Ok(base) = Scenario::from_json(&text) else { continue };
        for flavor in [Flavor::Nginx, Flavor::Haproxy] {
            let mut sc = base.clone();
            sc.proxy.flavor = flavor;
            if sc.validate().is_err() {
                continue;
            }
            let Ok(mut sim) = Simulation::new(sc) else { continue };
            sim.run();
            let w = sim.world();
            for e in sim.exchanges().iter() {
                let j = journey(&w.scenario, e, w.now);
                let mut at = e.sent_at;
                for l in &j.legs {
                    assert_eq!(l.start(), at, "{} {flavor:?} #{}: {:#?}", path.display(), e.id, j.legs);
                    assert!(l.end() >= l.start());
                    at = l.end();
                }
                if let Some(done) = e.finished_at {
                    assert!(at <= done, "{} #{}", path.display(), e.id);
                }
            }
        }
    }
}
