//! nginx's upstream-group semantics, replaying runs of a real nginx 1.22.1
//! (docs/research/nginx-1.22-observations.md §5 and -2.md §9).

use gateway_core::sim::scenario::{App, Clients, RequestSpec, UpstreamServer};
use gateway_core::sim::{run, Fault, FaultKind, Scenario, Simulation};

fn servers(ports: &[u16]) -> Vec<UpstreamServer> {
    ports.iter().map(|p| UpstreamServer { address: format!("127.0.0.1:{p}"), ..Default::default() }).collect()
}

fn app(port: u16) -> App {
    App { name: format!("app{port}"), listen: format!("127.0.0.1:{port}"), ..Default::default() }
}

fn at(times_ms: &[u64]) -> Vec<RequestSpec> {
    times_ms.iter().map(|&t| RequestSpec { at_ms: t, ..Default::default() }).collect()
}

fn scenario(ports: &[u16], apps: Vec<App>, times: &[u64]) -> Scenario {
    let mut s = Scenario::default();
    s.clients = Clients { requests: 0, ..Clients::default() };
    // The observations were made with `error_log ... info`: warn lines show.
    s.proxy.error_log_level = "warn".into();
    s.upstream.servers = servers(ports);
    s.apps = apps;
    s.requests = at(times);
    s
}

/// `[level] *N message ... upstream: "..."` without time, pid and context.
fn brief(sim: &Simulation) -> Vec<String> {
    sim.world()
        .error_log
        .lines()
        .map(|l| {
            let level = &l[l.find('[').unwrap()..=l.find(']').unwrap()];
            let star = &l[l.find(": *").unwrap() + 2..];
            let msg = &star[..star.find(", client:").unwrap()];
            let up = l.find("upstream: \"").map(|i| &l[i + 11..]).map(|u| &u[..u.find('"').unwrap()]).unwrap_or("-");
            format!("{level} {msg} {up}")
        })
        .collect()
}

#[test]
fn two_servers_both_down_then_no_live_upstreams() {
    let sim = run(scenario(&[3000, 3002], vec![], &[0, 500, 1000, 1500])).unwrap();
    assert_eq!(
        brief(&sim),
        [
            "[error] *1 connect() failed (111: Connection refused) while connecting to upstream http://127.0.0.1:3000/users",
            "[warn] *1 upstream server temporarily disabled while connecting to upstream http://127.0.0.1:3000/users",
            "[error] *1 connect() failed (111: Connection refused) while connecting to upstream http://127.0.0.1:3002/users",
            "[warn] *1 upstream server temporarily disabled while connecting to upstream http://127.0.0.1:3002/users",
            "[error] *4 no live upstreams while connecting to upstream http://app/users",
            "[error] *5 no live upstreams while connecting to upstream http://app/users",
            "[error] *6 no live upstreams while connecting to upstream http://app/users",
        ]
    );
    assert!(sim.exchanges().iter().all(|e| e.logged_status == Some(502)));
    assert_eq!(sim.exchanges()[0].attempts.len(), 2);
}

#[test]
fn after_fail_timeout_both_are_tried_again_in_round_robin_order() {
    let sim = run(scenario(&[3000, 3002], vec![], &[0, 9_000, 11_000, 11_100])).unwrap();
    assert_eq!(
        brief(&sim)[4..],
        [
            "[error] *4 no live upstreams while connecting to upstream http://app/users",
            "[error] *5 connect() failed (111: Connection refused) while connecting to upstream http://127.0.0.1:3002/users",
            "[warn] *5 upstream server temporarily disabled while connecting to upstream http://127.0.0.1:3002/users",
            "[error] *5 connect() failed (111: Connection refused) while connecting to upstream http://127.0.0.1:3000/users",
            "[warn] *5 upstream server temporarily disabled while connecting to upstream http://127.0.0.1:3000/users",
            "[error] *8 no live upstreams while connecting to upstream http://app/users",
        ]
    );
}

#[test]
fn one_down_one_up_only_the_first_request_logs() {
    let sim = run(scenario(&[3000, 3001], vec![app(3001)], &[0, 500, 1000, 1500])).unwrap();
    assert_eq!(
        brief(&sim),
        [
            "[error] *1 connect() failed (111: Connection refused) while connecting to upstream http://127.0.0.1:3000/users",
            "[warn] *1 upstream server temporarily disabled while connecting to upstream http://127.0.0.1:3000/users",
        ]
    );
    assert!(sim.exchanges().iter().all(|e| e.logged_status == Some(200)));
}

#[test]
fn warn_lines_are_not_written_at_level_error() {
    let mut s = scenario(&[3000, 3002], vec![], &[0, 500]);
    s.proxy.error_log_level = "error".into();
    let sim = run(s).unwrap();
    assert!(brief(&sim).iter().all(|l| l.starts_with("[error]")), "{:#?}", brief(&sim));
    assert_eq!(brief(&sim).len(), 3);
}

#[test]
fn read_timeout_on_first_server_get_retried_post_not() {
    // -2.md §9: warn, then "upstream timed out" while reading; GET → 200 from peer 2.
    let mut s = scenario(&[3000, 3001], vec![app(3000), app(3001)], &[0]);
    s.proxy.proxy_read_timeout_ms = 1_000;
    s.faults = vec![Fault { target: Some("app3000".into()), ..Fault::from(FaultKind::SlowApp { delay_ms: 5_000 }) }];
    s.requests.push(RequestSpec { at_ms: 10, method: "POST".into(), path: "/orders".into(), ..Default::default() });
    // Make the POST go to the slow server too: only one server, by marking the other down.
    let sim = run(s.clone()).unwrap();
    assert_eq!(
        brief(&sim)[..2],
        [
            "[warn] *1 upstream server temporarily disabled while reading response header from upstream http://127.0.0.1:3000/users",
            "[error] *1 upstream timed out (110: Connection timed out) while reading response header from upstream http://127.0.0.1:3000/users",
        ]
    );
    assert_eq!(sim.exchanges()[0].logged_status, Some(200));
    assert_eq!(sim.exchanges()[0].attempts.len(), 2);

    let mut post = s.clone();
    post.requests = vec![RequestSpec { method: "POST".into(), path: "/orders".into(), ..Default::default() }];
    let sim = run(post.clone()).unwrap();
    assert_eq!(sim.exchanges()[0].logged_status, Some(504), "a sent POST is not passed to the next server");
    assert_eq!(sim.exchanges()[0].attempts.len(), 1);
    post.proxy.proxy_next_upstream.push("non_idempotent".into());
    let sim = run(post).unwrap();
    assert_eq!(sim.exchanges()[0].logged_status, Some(200));
}

#[test]
fn weights_backup_down_and_tries() {
    // Weights 3:1 split traffic 3:1.
    let mut s = scenario(&[3000, 3001], vec![app(3000), app(3001)], &[]);
    s.upstream.servers[0].weight = 3;
    s.requests = (0..400).map(|i| RequestSpec { at_ms: i * 10, ..Default::default() }).collect();
    let sim = run(s).unwrap();
    let first = sim.exchanges().iter().filter(|e| e.attempts[0].peer == "127.0.0.1:3000").count();
    assert_eq!(first, 300);

    // The backup is used only when the primary is unavailable.
    let mut s = scenario(&[3000, 3001], vec![app(3001)], &[0, 100]);
    s.upstream.servers[1].backup = true;
    let sim = run(s).unwrap();
    assert!(sim.exchanges().iter().all(|e| e.logged_status == Some(200)));
    assert_eq!(sim.exchanges()[0].attempts.iter().map(|a| a.peer.as_str()).collect::<Vec<_>>(), ["127.0.0.1:3000", "127.0.0.1:3001"]);

    // `down` servers are never tried.
    let mut s = scenario(&[3000, 3001], vec![app(3000), app(3001)], &[0, 100, 200]);
    s.upstream.servers[0].down = true;
    let sim = run(s).unwrap();
    assert!(sim.exchanges().iter().all(|e| e.attempts.len() == 1 && e.attempts[0].peer == "127.0.0.1:3001"));

    // proxy_next_upstream_tries 1: no second server.
    let mut s = scenario(&[3000, 3002], vec![], &[0]);
    s.proxy.proxy_next_upstream_tries = 1;
    let sim = run(s).unwrap();
    assert_eq!(sim.exchanges()[0].attempts.len(), 1);

    // proxy_next_upstream off: no second server either.
    let mut s = scenario(&[3000, 3002], vec![], &[0]);
    s.proxy.proxy_next_upstream = vec!["off".into()];
    let sim = run(s).unwrap();
    assert_eq!(sim.exchanges()[0].attempts.len(), 1);
}

#[test]
fn proxy_send_timeout_when_the_app_does_not_read_a_large_body() {
    // One busy worker: a 5 MB upload waits unread; its body does not fit in the socket buffers.
    let mut s = scenario(&[3000], vec![App { workers: 1, latency_ms: 30_000, latency_jitter_ms: 0, ..app(3000) }], &[]);
    s.proxy.proxy_send_timeout_ms = 5_000;
    s.requests = vec![
        RequestSpec { at_ms: 0, ..Default::default() },
        RequestSpec { at_ms: 10, method: "POST".into(), path: "/upload".into(), body_bytes: 5_000_000, ..Default::default() },
    ];
    // 5 MB is above nginx's default client_max_body_size (1m, a 413): no limit here.
    s.proxy.client_max_body_size = 0;
    let sim = run(s).unwrap();
    assert_eq!(sim.exchanges()[1].logged_status, Some(504));
    assert!(brief(&sim).contains(&"[error] *3 upstream timed out (110: Connection timed out) while sending request to upstream http://127.0.0.1:3000/upload".to_string()), "{:#?}", brief(&sim));
}

#[test]
fn proxy_read_timeout_starts_once_a_large_body_is_written() {
    // The body waits 10 s for a worker (send timeout 60 s), then the app
    // takes 30 s: the read timeout (15 s) counts from the write, not the start.
    let mut s = scenario(&[3000], vec![App { workers: 1, latency_ms: 10_000, latency_jitter_ms: 0, ..app(3000) }], &[]);
    s.proxy.proxy_read_timeout_ms = 15_000;
    s.faults = vec![];
    s.requests = vec![
        RequestSpec { at_ms: 0, ..Default::default() },
        RequestSpec { at_ms: 10, method: "POST".into(), path: "/upload".into(), body_bytes: 5_000_000, ..Default::default() },
    ];
    // 5 MB is above nginx's default client_max_body_size (1m, a 413): no limit here.
    s.proxy.client_max_body_size = 0;
    let sim = run(s).unwrap();
    let post = &sim.exchanges()[1];
    assert_eq!(post.logged_status, Some(200), "20 s in all, but only 10 s after the body was written");
    let mut s2 = scenario(&[3000], vec![App { workers: 1, latency_ms: 20_000, latency_jitter_ms: 0, ..app(3000) }], &[]);
    s2.proxy.proxy_read_timeout_ms = 15_000;
    s2.requests = vec![
        RequestSpec { at_ms: 0, ..Default::default() },
        RequestSpec { at_ms: 10, method: "POST".into(), path: "/upload".into(), body_bytes: 5_000_000, ..Default::default() },
    ];
    // 5 MB is above nginx's default client_max_body_size (1m, a 413): no limit here.
    s2.proxy.client_max_body_size = 0;
    let sim = run(s2).unwrap();
    let post = &sim.exchanges()[1];
    assert_eq!(post.logged_status, Some(504));
    let ended_s = post.finished_at.unwrap().as_micros() / 1_000_000;
    assert_eq!(ended_s, 35, "the worker is free at 20 s, then the 15 s read timeout");
}
