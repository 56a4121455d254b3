//! The retry lab: runs one strategy: the experiment's scenario with the lab's
//! client settings and the strategy's retry policy, in virtual time, to the
//! end. Only the metrics are kept (the exchanges are dropped).

use crate::sim::metrics::Metrics;
use crate::sim::scenario::{Clients, Flavor, RetryPolicy, Scenario};
use crate::sim::Simulation;

/// The client side the lab lets users change.
#[derive(Clone, Debug, PartialEq)]
pub struct Load {
    pub count: u32,
    pub requests: u32,
    pub rate_per_s: f64,
}

impl Load {
    pub fn of(c: &Clients) -> Load {
        Load { count: c.count, requests: c.requests, rate_per_s: c.rate_per_s }
    }
}

/// Most client requests the lab runs in one strategy.
pub const MAX_REQUESTS: u32 = 50_000;
/// Most distinct clients.
pub const MAX_CLIENTS: u32 = 10_000;

pub fn scenario_for(base: &Scenario, load: &Load, policy: &RetryPolicy) -> Scenario {
    let mut s = base.clone();
    s.requests.clear();
    s.duration_ms = 0;
    s.clients.count = load.count;
    s.clients.requests = load.requests;
    s.clients.rate_per_s = load.rate_per_s;
    s.clients.retry = policy.clone();
    s
}

/// Most tries one strategy may make (requests × max tries): every try is
/// kept until the run ends, so this bounds the page's memory.
pub const MAX_TRIES: u64 = 250_000;

/// Runs to completion; Err carries the scenario's own validation message.
pub fn run(base: &Scenario, load: &Load, policy: &RetryPolicy) -> Result<(Metrics, u64), String> {
    let tries = load.requests as u64 * policy.max_attempts as u64;
    if tries > MAX_TRIES {
        return Err(format!(
            "{} requests × {} tries could make {tries} tries; the lab runs at most {MAX_TRIES} per strategy. Lower the requests or the max tries.",
            load.requests, policy.max_attempts
        ));
    }
    let mut sim = Simulation::new(scenario_for(base, load, policy)).map_err(|e| e.to_string())?;
    sim.world_mut().measure_only();
    sim.run();
    Ok((Metrics::with_buckets(sim.world(), 120), sim.world().events_processed))
}

/// The proxy side of an experiment in one line, in its proxy's words
/// (nginx's `proxy_next_upstream`, HAProxy's `retries` and `option redispatch`).
pub fn proxy_side(s: &Scenario) -> String {
    let p = &s.proxy;
    let servers = &s.upstream.servers;
    let backups = servers.iter().filter(|x| x.backup).count();
    let apps = s.apps.iter().map(|a| format!("{} ({} workers × {} ms)", a.name, a.workers, a.latency_ms)).collect::<Vec<_>>().join(", ");
    match p.flavor {
        Flavor::Nginx => {
            let fails = servers.first().map(|x| format!("max_fails={} fail_timeout={}s", x.max_fails, x.fail_timeout_ms / 1_000)).unwrap_or_default();
            let tries = if p.proxy_next_upstream_tries == 0 { "all servers".to_string() } else { p.proxy_next_upstream_tries.to_string() };
            format!("proxy_next_upstream {} · proxy_next_upstream_tries {tries} · {} server(s), {backups} backup · {fails} · apps: {apps}", p.proxy_next_upstream.join(" "), servers.len())
        }
        Flavor::Haproxy => {
            let h = &p.haproxy;
            format!(
                "retries {} · option redispatch {} · timeout connect {} ms · timeout server {} ms · {} server(s), {backups} backup · apps: {apps}",
                h.retries,
                if h.redispatch { "on" } else { "off" },
                h.timeout_connect_ms,
                h.timeout_server_ms,
                servers.len()
            )
        }
        Flavor::Varnish => format!(
            ".connect_timeout {} ms · .first_byte_timeout {} ms · one backend · apps: {apps}",
            p.varnish.connect_timeout_ms, p.varnish.first_byte_timeout_ms
        ),
        Flavor::Caddy => format!(
            "dial_timeout {} ms · response_header_timeout {} · lb_try_duration {} · {} upstream(s) · apps: {apps}",
            p.caddy.dial_timeout_ms,
            if p.caddy.response_header_timeout_ms == 0 { "none".to_string() } else { format!("{} ms", p.caddy.response_header_timeout_ms) },
            if p.caddy.lb_try_duration_ms == 0 { "off".to_string() } else { format!("{} ms", p.caddy.lb_try_duration_ms) },
            servers.len()
        ),
        Flavor::Apache => format!(
            "ProxyTimeout {} s · retry={} s · {} backend(s) · apps: {apps}",
            p.apache.proxy_timeout_ms / 1_000,
            p.apache.retry_s,
            servers.len()
        ),
        Flavor::Envoy => format!(
            "connect_timeout {} ms · route timeout {} ms · retry_on {} · num_retries {} · {} host(s) · apps: {apps}",
            p.envoy.connect_timeout_ms,
            p.envoy.route_timeout_ms,
            if p.envoy.retry_on.is_empty() { "none".to_string() } else { p.envoy.retry_on.join(",") },
            p.envoy.num_retries,
            servers.len()
        ),
        Flavor::Alb => format!("idle timeout {} s · connection timeout 10 s · {} target(s) · apps: {apps}", p.alb.idle_timeout_s, servers.len()),
    }
}

/// The result table's label for the tries the client gave up on, with what
/// the proxy logs for them (nginx: 499; HAProxy: the C of CC-- or CH--).
pub fn timeouts_label(flavor: Flavor) -> &'static str {
    match flavor {
        Flavor::Nginx => "Client timeouts (nginx 499)",
        Flavor::Haproxy => "Client timeouts (HAProxy CC-- / CH--)",
        Flavor::Apache => "Client timeouts (Apache)",
        Flavor::Caddy => "Client timeouts (Caddy)",
        Flavor::Varnish => "Client timeouts (Varnish)",
        Flavor::Envoy => "Client timeouts (Envoy 0 DC)",
        Flavor::Alb => "Client timeouts (ALB 460)",
    }
}

/// A retry preset that is a well-known snippet, as the retry lab shows it
/// next to the preset. The preset behaves exactly as this code does
/// (`tests/snippets.rs` runs it against a real nginx and compares).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Snippet {
    pub language: &'static str,
    pub code: &'static str,
}

/// The JavaScript of `fetch_with_retry`: it sleeps after every 502, the
/// third included, so its caller hears "Max retries exceeded" after 1 + 2 +
/// 4 s (and a network error throws at once: only 502 is retried).
pub const FETCH_WITH_RETRY_JS: &str = r#"async function fetchWithRetry(url, retries = 3) {
  for (let i = 0; i < retries; i++) {
    const res = await fetch(url);
    if (res.status !== 502) return res;
    await new Promise((r) => setTimeout(r, 2 ** i * 1000));
  }
  throw new Error("Max retries exceeded");
}"#;

/// The Python of `python_requests`: 5 tries with a 30 s timeout, retried on
/// 502 and on any `RequestException` (connection error, broken response,
/// timeout), a sleep of min(2^i, 30) s after each, the last included.
pub const PYTHON_REQUESTS_PY: &str = r#"import time
import requests

def get_with_retry(url, tries=5):
    for i in range(tries):
        try:
            r = requests.get(url, timeout=30)
            if r.status_code != 502:
                return r
        except requests.RequestException:
            pass
        time.sleep(min(2 ** i, 30))
    raise Exception("Max retries exceeded")"#;

/// The code a preset stands for, if it names one (`RetryPolicy::presets`).
pub fn snippet(preset: &str) -> Option<Snippet> {
    match preset {
        "fetch_with_retry" => Some(Snippet { language: "JavaScript", code: FETCH_WITH_RETRY_JS }),
        "python_requests" => Some(Snippet { language: "Python", code: PYTHON_REQUESTS_PY }),
        _ => None,
    }
}
