//! The differential harness: one scenario file, one proxy flavour. It derives
//! a harness variant of the scenario (faster timeouts, free loopback ports,
//! explicit requests with distinct paths), runs the engine on it, builds the
//! same world out of real sockets and the real proxy, sends the same
//! requests at the same times, and compares what both sides observed.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use gateway_core::sim::fault::{AppReply, CertProblem, DnsAnswer, Fault, FaultKind, PoolMode, Wire};
use gateway_core::sim::http::Response;
use gateway_core::sim::net::{Address, ProxyPass, Target};
use gateway_core::sim::proxy::nginx::conf::Paths;
use gateway_core::sim::rng::SimRng;
use gateway_core::sim::scenario::{App, Flavor, RequestSpec};
use gateway_core::sim::server::ServerKind;
use gateway_core::sim::time::SimTime;
use gateway_core::sim::world::{effective, ClientResult};
use gateway_core::sim::{Scenario, Simulation};

use super::proxy::{self, ProxyUnderTest};
use super::upstream::{
    self, free_port, sys, Action, AppConfig, BlackHole, CertKind, Dns, DnsRule, Listen, Pki, Plan, RequestInfo, TlsServer, Upstream,
};

/// Proxy timeouts above this are lowered to it (single-request scenarios).
pub const TIMEOUT_MS: u64 = 1_000;
/// HAProxy's `timeout connect` above this is lowered to it. Below 1 s it is
/// also HAProxy's turn-around delay between retries (`min(timeout connect,
/// 1 s)`), so the retry timing is measured with a value other than 1 s.
pub const HAPROXY_CONNECT_MS: u64 = 500;
/// A slow app (or a hung database pool) answers after this, i.e. after the
/// proxy has given up.
pub const SLOW_MS: u64 = 2_000;
/// With a real app server, proxy read timeouts above this are lowered to it.
pub const SERVER_READ_MS: u64 = 8_000;
/// An app keep-alive timeout above this is lowered to it.
pub const KEEPALIVE_MS: u64 = 1_000;
/// Width of the emulated keep-alive race (see `AppConfig::race_window_ms`).
pub const RACE_WINDOW_MS: u64 = 30;
/// Scheduled state changes (down windows) happen this much early.
pub const LEAD_MS: u64 = 10;
/// Time scale for the overload scenarios (compared on aggregates).
pub const OVERLOAD_SCALE: f64 = 0.25;
/// Time scale for the rolling deploy.
pub const DEPLOY_SCALE: f64 = 0.5;
/// Response times may differ by this plus 10% (the real clock jitters, the
/// app's latency jitter is drawn differently, loopback hops are faster).
pub const TIME_TOLERANCE_MS: u64 = 100;
/// Aggregate comparisons accept this difference in a share of requests.
pub const AGGREGATE_TOLERANCE: f64 = 0.15;

/// Why a cell has no comparison.
#[derive(Clone, Debug)]
pub enum NoRun {
    /// The situation cannot be built on loopback here.
    Cannot(String),
    /// The harness itself failed (a bug or a busy machine).
    Harness(String),
}

/// The scenario both sides run, and what was changed to get it.
#[derive(Clone, Debug)]
pub struct Variant {
    pub file: String,
    pub scenario: Scenario,
    pub tmp: PathBuf,
    pub notes: Vec<String>,
    /// Compared on aggregate properties rather than request by request.
    pub aggregate: bool,
    pub dns_port: Option<u16>,
    /// Added to the response-time tolerance (a real server's kill tick).
    pub time_slack_ms: u64,
}

pub fn fault_ids(sc: &Scenario) -> Vec<&'static str> {
    sc.faults.iter().map(|f| f.kind.id()).collect()
}

fn free_port_not_in(taken: &[u16]) -> u16 {
    for _ in 0..1_000 {
        let p = free_port();
        if !taken.contains(&p) {
            return p;
        }
    }
    panic!("no free loopback port after 1000 tries");
}

fn free_udp_port() -> u16 {
    UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap().local_addr().unwrap().port()
}

fn scale_ms(v: u64, s: f64) -> u64 {
    ((v as f64) * s).round().max(1.0) as u64
}

/// Multiplies every time of the run by `s` (arrival rate divided by `s`).
fn scale_times(sc: &mut Scenario, s: f64) {
    sc.clients.rate_per_s /= s;
    sc.duration_ms = if sc.duration_ms == 0 { 0 } else { scale_ms(sc.duration_ms, s) };
    for r in &mut sc.requests {
        r.at_ms = (r.at_ms as f64 * s).round() as u64;
    }
    let p = &mut sc.proxy;
    p.proxy_connect_timeout_ms = scale_ms(p.proxy_connect_timeout_ms, s);
    p.proxy_read_timeout_ms = scale_ms(p.proxy_read_timeout_ms, s);
    p.proxy_send_timeout_ms = scale_ms(p.proxy_send_timeout_ms, s);
    p.haproxy.timeout_connect_ms = scale_ms(p.haproxy.timeout_connect_ms, s);
    p.haproxy.timeout_server_ms = scale_ms(p.haproxy.timeout_server_ms, s);
    for f in &mut sc.faults {
        f.from_ms = (f.from_ms as f64 * s).round() as u64;
        f.until_ms = f.until_ms.map(|u| (u as f64 * s).round() as u64);
        match &mut f.kind {
            FaultKind::Overload { service_ms, .. } => *service_ms = scale_ms(*service_ms, s),
            FaultKind::RollingDeploy { down_ms } => *down_ms = scale_ms(*down_ms, s),
            FaultKind::SlowApp { delay_ms } => *delay_ms = scale_ms(*delay_ms, s),
            _ => {}
        }
    }
}

/// Appends `r=N` to the query so every request line is distinct.
fn marked(path: &str, n: usize) -> String {
    if path.contains('?') { format!("{path}&r={n}") } else { format!("{path}?r={n}") }
}

/// Derives the harness variant of `original` for one proxy flavour (see the
/// module docs and the report's method section). Err: this scenario cannot
/// be run for real here.
pub fn derive(file: &str, original: &Scenario, tmp: &Path, flavor: Flavor) -> Result<Variant, NoRun> {
    let cannot = |m: String| Err(NoRun::Cannot(m));
    if !original.layers.is_empty() {
        // Cloudflare and AWS ALB are services: nothing to run on loopback.
        return cannot("documented only: the layers in front of the proxy (Cloudflare, AWS ALB) cannot run here; their behaviour is cited in docs/research/layers-model.md, not measured".into());
    }
    let haproxy = flavor == Flavor::Haproxy;
    let apache = flavor == Flavor::Apache;
    // A ready scenario written for a documented flavor (Envoy, ALB) times its
    // requests to hit that flavor's keep-alive race: another proxy's flow takes
    // other hops, so the engine misses the window the harness's app emulates
    // (measured: nginx, Apache, Caddy and Varnish differed on requests 3 and 5).
    // The race itself is compared through keepalive_mismatch.json.
    if !original.proxy.flavor.evidence().is_verified() && original.faults.iter().any(|f| matches!(f.kind, FaultKind::KeepaliveMismatch { .. })) {
        return cannot(format!("its request times aim at the {} flavor's keep-alive race window, not this proxy's (the race is compared in keepalive_mismatch.json)", original.proxy.flavor.display()));
    }
    let mut sc = original.clone();
    sc.proxy.flavor = flavor;
    if let Some(why) = gateway_core::sim::proxy::apache::unsupported(&effective(&sc)) {
        return cannot(format!("not modelled for Apache: {why}"));
    }
    let caddy = flavor == Flavor::Caddy;
    if let Some(why) = gateway_core::sim::proxy::caddy::unsupported(&effective(&sc)) {
        return cannot(format!("not modelled for Caddy: {why}"));
    }
    let varnish = flavor == Flavor::Varnish;
    if let Some(why) = gateway_core::sim::proxy::varnish::unsupported(&effective(&sc)) {
        return cannot(format!("not modelled for Varnish: {why}"));
    }
    let mut notes = Vec::new();
    if sc.clients.count > 1 {
        return cannot("clients.count > 1: requests from many client addresses".into());
    }
    if sc.clients.ip != "127.0.0.1" {
        return cannot(format!("client address {} is not loopback", sc.clients.ip));
    }
    if sc.clients.host.is_empty() || sc.requests.iter().any(|r| r.host.is_empty()) {
        return cannot("a request without a Host header (HTTP/1.0 client) is not modelled by the harness client".into());
    }
    for f in &sc.faults {
        if f.probability > 0.0 && f.probability < 1.0 {
            return cannot(format!("{}: probability {} is drawn from the engine's PRNG, which the real world cannot replay", f.kind.id(), f.probability));
        }
        if let (true, FaultKind::DnsFailure { answer, .. }) = (haproxy, &f.kind) {
            if !matches!(answer, DnsAnswer::Nxdomain) {
                let answer = format!("{answer:?}").to_lowercase();
                return cannot(format!(
                    "dns_failure answer {answer}: the exported haproxy.cfg has no `resolvers` section, so HAProxy resolves the server name once at start-up with libc, through the system resolver (/etc/resolv.conf), which answers NXDOMAIN for app.internal; the harness cannot make it answer {answer} without changing the host's resolver configuration"
                ));
            }
        }
    }

    // Real app servers (issue 18): their own settings, their own programs.
    let servers = sc.apps.iter().any(|a| a.server != ServerKind::Node);
    for a in &sc.apps {
        if a.server == ServerKind::Node {
            continue;
        }
        if let Err(e) = super::servers::available(a.server) {
            return cannot(e);
        }
        if haproxy && a.server.protocol() != gateway_core::sim::server::Protocol::Http {
            return cannot(format!("HAProxy 2.6 speaks HTTP to its servers, not {}'s protocol (the engine refuses the scenario too)", a.server.as_str()));
        }
        if let Some(f) = sc.faults.iter().find(|f| f.targets(&a.name) && !matches!(f.kind, FaultKind::UnixSocketMissing { .. } | FaultKind::UnixSocketPermission { .. })) {
            return cannot(format!("{} on a real {}: the real server runs its own app, which the fault's reply cannot reach", f.kind.id(), a.server.as_str()));
        }
    }
    let mut time_slack_ms = 0;
    if servers {
        // A server that kills a worker at its timeout does it on its master's
        // tick (gunicorn's arbiter and uWSGI's master: 1 s; PHP-FPM: a third of
        // the timeout), whose phase relative to a request the engine cannot know.
        for a in &mut sc.apps {
            let slow = a.latency_ms;
            let kill_s = match a.server {
                ServerKind::Gunicorn => Some(&mut a.gunicorn.timeout),
                ServerKind::Uwsgi if a.uwsgi.harakiri > 0 => Some(&mut a.uwsgi.harakiri),
                ServerKind::PhpFpm if a.php_fpm.request_terminate_timeout > 0 => Some(&mut a.php_fpm.request_terminate_timeout),
                _ => None,
            };
            if let Some(t) = kill_s.filter(|t| slow > **t * 1_000) {
                if *t > 2 {
                    notes.push(format!("{}: {} s kill timeout → 2 s, latency {} → 5000 ms", a.server.as_str(), *t, slow));
                    *t = 2;
                    a.latency_ms = 5_000;
                    a.latency_jitter_ms = 0;
                }
                time_slack_ms = 1_000;
            }
        }
        if time_slack_ms > 0 {
            notes.push("the server kills on its master's tick (gunicorn, uWSGI: 1 s; PHP-FPM: a third of request_terminate_timeout), whose phase relative to the request is not known: response times compared within 1 s more".into());
        }
    }

    // Times.
    let aggregate = sc.faults.iter().any(|f| matches!(f.kind, FaultKind::Overload { .. }));
    let deploy = sc.faults.iter().any(|f| matches!(f.kind, FaultKind::RollingDeploy { .. }));
    if aggregate {
        scale_times(&mut sc, OVERLOAD_SCALE);
        notes.push(format!(
            "every time ×{OVERLOAD_SCALE} (service time, arrival gaps, proxy timeouts); compared on aggregates (shares of statuses and of {}, tolerance ±{:.0}% of the requests)",
            if haproxy { "httplog status + termination state + retried or not" } else { "error.log messages" },
            AGGREGATE_TOLERANCE * 100.0
        ));
    } else {
        if deploy {
            scale_times(&mut sc, DEPLOY_SCALE);
            notes.push(format!("arrival gaps and the deploy window ×{DEPLOY_SCALE}"));
        }
        let p = &mut sc.proxy;
        let original_read = if haproxy {
            p.haproxy.timeout_server_ms
        } else if varnish {
            p.varnish.first_byte_timeout_ms
        } else if caddy {
            p.caddy.response_header_timeout_ms
        } else if apache {
            p.apache.proxy_timeout_ms
        } else {
            p.proxy_read_timeout_ms
        };
        let mut lowered = Vec::new();
        // An app server's own timeouts are the subject: the proxy waits longer.
        let read_max = if servers { SERVER_READ_MS } else { TIMEOUT_MS };
        let timeouts = if haproxy {
            vec![("timeout connect", &mut p.haproxy.timeout_connect_ms, HAPROXY_CONNECT_MS), ("timeout server", &mut p.haproxy.timeout_server_ms, read_max)]
        } else if apache {
            vec![("ProxyTimeout", &mut p.apache.proxy_timeout_ms, read_max)]
        } else if varnish {
            vec![(".connect_timeout", &mut p.varnish.connect_timeout_ms, TIMEOUT_MS), (".first_byte_timeout", &mut p.varnish.first_byte_timeout_ms, read_max)]
        } else if caddy {
            vec![("dial_timeout", &mut p.caddy.dial_timeout_ms, TIMEOUT_MS), ("response_header_timeout", &mut p.caddy.response_header_timeout_ms, read_max)]
        } else {
            vec![
                ("proxy_connect_timeout", &mut p.proxy_connect_timeout_ms, TIMEOUT_MS),
                ("proxy_read_timeout", &mut p.proxy_read_timeout_ms, read_max),
                ("proxy_send_timeout", &mut p.proxy_send_timeout_ms, TIMEOUT_MS),
                ("resolver_timeout", &mut p.resolver_timeout_ms, TIMEOUT_MS),
            ]
        };
        for (name, v, max) in timeouts {
            if *v > max {
                lowered.push(format!("{name} {} → {max} ms", *v));
                *v = max;
            }
        }
        if !lowered.is_empty() {
            notes.push(lowered.join(", "));
        }
        let read = if haproxy {
            sc.proxy.haproxy.timeout_server_ms
        } else if varnish {
            sc.proxy.varnish.first_byte_timeout_ms
        } else if caddy {
            sc.proxy.caddy.response_header_timeout_ms
        } else if apache {
            sc.proxy.apache.proxy_timeout_ms
        } else {
            sc.proxy.proxy_read_timeout_ms
        };
        for f in &mut sc.faults {
            match &mut f.kind {
                FaultKind::SlowApp { delay_ms } if *delay_ms > original_read && *delay_ms > SLOW_MS => {
                    notes.push(format!("slow_app delay {} → {SLOW_MS} ms", *delay_ms));
                    *delay_ms = SLOW_MS.max(read * 2);
                }
                FaultKind::DbPoolExhausted { mode: PoolMode::Hang, pool_timeout_ms } if *pool_timeout_ms > original_read && *pool_timeout_ms > SLOW_MS => {
                    notes.push(format!("pool_timeout {} → {SLOW_MS} ms", *pool_timeout_ms));
                    *pool_timeout_ms = SLOW_MS.max(read * 2);
                }
                _ => {}
            }
        }
        // Keep-alive: a shorter app idle timeout; each request keeps its
        // offset after the last multiple of the timeout.
        let ka = sc.faults.iter().find_map(|f| match f.kind {
            FaultKind::KeepaliveMismatch { app_keepalive_timeout_ms } => Some(app_keepalive_timeout_ms),
            _ => None,
        });
        if let Some(t) = ka.filter(|&t| t > KEEPALIVE_MS) {
            for f in &mut sc.faults {
                if let FaultKind::KeepaliveMismatch { app_keepalive_timeout_ms } = &mut f.kind {
                    *app_keepalive_timeout_ms = KEEPALIVE_MS;
                }
            }
            for r in &mut sc.requests {
                r.at_ms = r.at_ms / t * KEEPALIVE_MS + r.at_ms % t;
            }
            notes.push(format!(
                "app keep-alive timeout {t} → {KEEPALIVE_MS} ms, each request at n·{KEEPALIVE_MS} + (its offset after n·{t}) ms; the race is emulated with a ±{RACE_WINDOW_MS} ms window"
            ));
        }
    }

    // Addresses: fresh loopback ports, unix sockets under tmp.
    let mut ports: BTreeMap<u16, u16> = BTreeMap::new();
    let mut map_port = |p: u16| -> u16 {
        let taken: Vec<u16> = ports.values().copied().collect();
        *ports.entry(p).or_insert_with(|| free_port_not_in(&taken))
    };
    let sock = |p: &str| format!("{}/sock{p}", tmp.display());
    let dns_hosts: Vec<String> = sc
        .faults
        .iter()
        .filter_map(|f| match &f.kind {
            FaultKind::DnsFailure { host, .. } => Some(host.clone()),
            _ => None,
        })
        .collect();
    let mut rewrite = |a: &str, what: &str| -> Result<String, NoRun> {
        match Address::parse(a) {
            Ok(Address::Tcp { host, port }) => {
                let loopback = ["127.0.0.1", "0.0.0.0", "localhost"].contains(&host.as_str());
                if host == "localhost" && what != "app" {
                    // Resolved by the proxy through its own /etc/hosts
                    // (proxy::own_hosts_if_asked).
                    Ok(format!("localhost:{}", map_port(port)))
                } else if loopback {
                    Ok(format!("127.0.0.1:{}", map_port(port)))
                } else if dns_hosts.contains(&host) {
                    Ok(format!("{host}:{}", map_port(port)))
                } else {
                    Err(NoRun::Cannot(format!("{what} {a} is not on loopback")))
                }
            }
            Ok(Address::Unix { path }) => Ok(format!("unix:{}", sock(&path))),
            Err(e) => Err(NoRun::Harness(e)),
        }
    };
    for a in &mut sc.apps {
        a.listen = rewrite(&a.listen, "app")?;
    }
    for s in &mut sc.upstream.servers {
        s.address = rewrite(&s.address, "server")?;
    }
    if let Ok(ProxyPass { scheme, host: Target::Addr(addr) }) = ProxyPass::parse(&sc.proxy.proxy_pass) {
        let new = rewrite(&addr.to_string(), "proxy_pass")?;
        sc.proxy.proxy_pass = format!("{}://{new}", scheme.as_str());
    }
    if let Some(auth) = &mut sc.proxy.auth_request {
        if let Ok(ProxyPass { scheme, host: Target::Addr(addr) }) = ProxyPass::parse(&auth.pass) {
            auth.pass = format!("{}://{}", scheme.as_str(), rewrite(&addr.to_string(), "auth_request")?);
        }
    }
    for f in &mut sc.faults {
        match &mut f.kind {
            FaultKind::WrongPort { port } => *port = map_port(*port),
            FaultKind::UnixSocketMissing { path } | FaultKind::UnixSocketPermission { path } => *path = sock(path),
            _ => {}
        }
    }
    let taken: Vec<u16> = ports.values().copied().collect();
    sc.proxy.listen = free_port_not_in(&taken);
    notes.push("addresses moved to free ports on 127.0.0.1".into());
    if proxy::names_localhost(&sc) {
        notes.push(format!(
            "`localhost` kept in the config: the proxy runs in its own mount namespace whose /etc/hosts maps localhost to {} (this machine's has no `::1 localhost`)",
            if sc.proxy.localhost_ipv6 { "127.0.0.1 and ::1, as Debian's does" } else { "127.0.0.1 only" }
        ));
    }
    if sc.faults.iter().any(|f| matches!(f.kind, FaultKind::UnixSocketMissing { .. } | FaultKind::UnixSocketPermission { .. })) {
        notes.push("unix sockets moved under the run's temporary directory".into());
    }
    let mut dns_port = None;
    if sc.proxy.resolver.is_some() && caddy {
        notes.push("nginx's `resolver` is not part of the exported Caddyfile: Caddy resolves the upstream's name when it dials, through the system resolver".into());
    } else if sc.proxy.resolver.is_some() && apache {
        notes.push("nginx's `resolver` is not part of the exported Apache site: Apache resolves the backend's name per request through the system resolver".into());
    } else if sc.proxy.resolver.is_some() && haproxy {
        notes.push("nginx's `resolver` is not part of the exported haproxy.cfg: HAProxy resolves the server name at start-up through the system resolver".into());
    } else if sc.proxy.resolver.is_some() {
        let p = free_udp_port();
        sc.proxy.resolver = Some(format!("127.0.0.1:{p}"));
        dns_port = Some(p);
        notes.push("resolver → the harness's DNS server on 127.0.0.1".into());
    }

    // Requests: the engine's own arrivals, made explicit, each with its own path.
    let probe = Simulation::new(sc.clone()).map_err(|e| NoRun::Harness(format!("scaled scenario is invalid: {e}")))?;
    let mut probe = probe;
    probe.run();
    let mut explicit: Vec<RequestSpec> = probe
        .exchanges()
        .iter()
        .map(|ex| RequestSpec { at_ms: ex.sent_at.as_micros() / 1_000, path: marked(&ex.request.path, ex.id + 1), ..RequestSpec::clone(&ex.request) })
        .collect();
    explicit.sort_by_key(|r| r.at_ms);
    if sc.clients.requests > 0 {
        notes.push(format!("the client arrivals ({}) sent at the engine's own arrival times (whole ms)", sc.clients.requests));
    }
    sc.clients.requests = 0;
    sc.requests = explicit;
    sc.validate().map_err(|e| NoRun::Harness(format!("variant is invalid: {e}")))?;
    Ok(Variant { file: file.to_string(), scenario: sc, tmp: tmp.to_path_buf(), notes, aggregate, dns_port, time_slack_ms })
}

// ---------------------------------------------------------------------------
// The real world.

/// Everything on the upstream side of the proxy; dropping it stops it all.
pub struct RealWorld {
    pub apps: Vec<(String, Upstream)>,
    /// Real app servers (PHP-FPM, gunicorn, uWSGI).
    pub servers: Vec<super::servers::RealServer>,
    holes: Vec<BlackHole>,
    tls: Vec<TlsServer>,
    pub dns: Option<Dns>,
    pub notes: Vec<String>,
}

fn wire_head(r: &Response, bad_line: Option<&str>) -> Vec<u8> {
    let mut head = format!("{}\r\n", r.status_line());
    for h in &r.headers {
        head.push_str(&format!("{}: {}\r\n", h.name, h.value));
    }
    if let Some(l) = bad_line {
        head.push_str(l);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    head.into_bytes()
}

/// What the real app does for the engine's `AppReply` (the fault catalog
/// decides the wire; this only puts it on a socket).
fn plan_from(reply: AppReply) -> Plan {
    let delay_us = reply.after_us;
    let body = reply.wire.body_on_wire();
    match reply.wire {
        Wire::Http { response, bad_header_line, truncate_body_at } => Plan {
            delay_us,
            action: Action::Respond {
                head: wire_head(&response, bad_header_line.as_deref()),
                // The engine frames the body (cut short, chunked or not).
                body: body.unwrap_or_default().into_bytes(),
                truncate_at: None,
            },
            // The engine's app exits after a body cut short.
            die: truncate_body_at.is_some(),
        },
        Wire::Garbage(p) => Plan { delay_us, action: Action::Raw(p.into_bytes()), die: false },
        Wire::BadChunked { response, raw } => {
            Plan { delay_us, action: Action::Respond { head: wire_head(&response, None), body: raw.into_bytes(), truncate_at: None }, die: false }
        }
        Wire::Crash | Wire::OomKill { .. } => Plan { delay_us, action: Action::Close, die: true },
        Wire::Hang => Plan { delay_us, action: Action::Hang, die: false },
    }
}

fn lcg(state: &Mutex<u64>) -> u64 {
    let mut s = state.lock().unwrap();
    *s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    *s >> 33
}

/// Builds the upstream side of `eff` (the effective variant).
pub fn build_world(v: &Variant, eff: &Scenario) -> Result<(RealWorld, Paths), NoRun> {
    let harness = |e: std::io::Error, what: &str| NoRun::Harness(format!("{what}: {e}"));
    let mut world = RealWorld { apps: Vec::new(), servers: Vec::new(), holes: Vec::new(), tls: Vec::new(), dns: None, notes: Vec::new() };
    // Parent directories of every unix socket.
    let mut sockets: Vec<String> = eff.apps.iter().map(|a| a.listen.clone()).collect();
    sockets.extend(eff.upstream.servers.iter().map(|s| s.address.clone()));
    sockets.push(eff.proxy.proxy_pass.replace("http://", "").replace("https://", ""));
    for s in sockets {
        if let Some(p) = s.strip_prefix("unix:") {
            let p = p.trim_end_matches(':');
            if let Some(parent) = Path::new(p).parent() {
                std::fs::create_dir_all(parent).map_err(|e| harness(e, "socket directory"))?;
            }
        }
    }
    let paths = Paths {
        log_dir: v.tmp.join("logs").display().to_string(),
        ca_file: v.tmp.join("pki/ca.pem").display().to_string(),
        doc_root: v.tmp.join("www").display().to_string(),
    };
    let pki = if eff.apps.iter().any(|a| a.tls) {
        world.notes.push("TLS apps are `openssl s_server` with certificates made by the openssl CLI".into());
        if std::process::Command::new("openssl").arg("version").output().is_err() {
            return Err(NoRun::Cannot("a TLS app needs the openssl CLI (certificates and s_server), which is not installed".into()));
        }
        Some(Pki::new(&v.tmp.join("pki")).map_err(|e| NoRun::Harness(format!("certificates: {e}")))?)
    } else {
        None
    };
    let ssl_name = match ProxyPass::parse(&eff.proxy.proxy_pass).map(|p| p.host) {
        Ok(Target::Group(g)) => g,
        Ok(Target::Addr(a)) => a.host().unwrap_or("localhost").to_string(),
        Err(_) => "localhost".into(),
    };
    if eff.faults.iter().any(|f| matches!(f.kind, FaultKind::SelinuxConnectDenied)) {
        world.notes.push("the proxy runs under a seccomp filter that makes its connect() fail with EACCES (13), the errno SELinux gives with httpd_can_network_connect off (SELinux itself is not available here)".into());
    }
    for (index, app) in eff.apps.iter().enumerate() {
        let faults: Vec<Fault> = eff.faults.iter().filter(|f| f.targets(&app.name)).cloned().collect();
        let windowed = |f: &Fault| f.from_ms != 0 || f.until_ms.is_some();
        let addr = Address::parse(&app.listen).map_err(NoRun::Harness)?;
        if let Some(f) = faults.iter().find(|f| matches!(f.kind, FaultKind::ConnectBlackHole)) {
            if windowed(f) {
                return Err(NoRun::Cannot("connect_black_hole with a time window: a full accept queue cannot be emptied and refilled on time".into()));
            }
            let Address::Tcp { port, .. } = addr else {
                return Err(NoRun::Cannot("connect_black_hole on a unix socket".into()));
            };
            world.holes.push(BlackHole::start(port).map_err(|e| harness(e, "black hole"))?);
            world.notes.push(format!("{}: a listener with backlog 0 whose accept queue is full (one connection never accepted): SYNs are dropped", app.name));
            continue;
        }
        if app.tls {
            let Address::Tcp { port, .. } = addr else {
                return Err(NoRun::Cannot("a TLS app on a unix socket".into()));
            };
            if faults.iter().any(|f| f.kind.honours_probability() && !matches!(f.kind, FaultKind::AppDown)) {
                return Err(NoRun::Cannot("a TLS app that also misbehaves per request: openssl s_server cannot".into()));
            }
            if faults.iter().any(|f| f.cert_problem().is_some() && windowed(f)) {
                return Err(NoRun::Cannot("tls_cert_invalid with a time window: s_server cannot change certificates on time".into()));
            }
            let problem = faults.iter().find_map(|f| f.cert_problem());
            let kind = match problem {
                Some(CertProblem::Expired) => CertKind::Expired,
                Some(CertProblem::SelfSigned) => CertKind::SelfSigned,
                Some(CertProblem::HostnameMismatch) => CertKind::OtherName,
                None => CertKind::Good,
            };
            let pki = pki.as_ref().expect("made above");
            let (crt, key) = pki.leaf(kind, &ssl_name).map_err(|e| NoRun::Harness(format!("certificate: {e}")))?;
            // Every request's path, with the app's healthy body (faults that
            // change replies are refused above for a TLS app).
            let healthy = gateway_core::sim::app::healthy_response(app);
            let mut reply = String::from_utf8(wire_head(&healthy, None)).unwrap_or_default();
            reply.push_str(&healthy.body);
            let files: Vec<(String, String)> = eff.requests.iter().map(|r| (r.path.trim_start_matches('/').to_string(), reply.clone())).collect();
            let sni = faults.iter().find_map(|f| match &f.kind {
                FaultKind::SniRequired { name } => Some(name.clone()),
                _ => None,
            });
            if let Some(name) = sni {
                if std::process::Command::new("python3").arg("--version").output().is_err() {
                    return Err(NoRun::Cannot("sni_required needs python3 (the TLS app that requires SNI), which is not installed: run ./scripts/setup test".into()));
                }
                world.tls.push(TlsServer::start_requiring_sni(port, &crt, &key, &files, &name).map_err(|e| harness(e, "python3 sni server"))?);
                world.notes.push(format!("{}: a Python ssl server that requires SNI {name:?} (alert 40 without SNI, 112 for another name)", app.name));
                continue;
            }
            world.tls.push(TlsServer::start(port, &crt, &key, &files).map_err(|e| harness(e, "openssl s_server"))?);
            world.notes.push(format!("{}: openssl s_server with a {kind:?} certificate for {ssl_name:?}", app.name));
            continue;
        }
        if app.server != ServerKind::Node {
            let dir = v.tmp.join(format!("server-{index}"));
            let server = super::servers::start(app, &dir, &v.tmp.join("www")).map_err(NoRun::Harness)?;
            world.notes.push(format!("{}: the real {} ({}), its settings from the scenario", app.name, app.server.as_str(), server_version(app.server)));
            world.servers.push(server);
            continue;
        }
        let permission = faults.iter().any(|f| matches!(f.kind, FaultKind::UnixSocketPermission { .. }));
        let listen = match addr {
            Address::Tcp { port, .. } => Listen::Tcp(port),
            Address::Unix { path } => Listen::Unix { path: PathBuf::from(path), mode: if permission { 0o600 } else { 0o666 } },
        };
        if permission {
            if !sys::is_root() {
                return Err(NoRun::Cannot(
                    "unix_socket_permission needs the test to run as root: the proxy (nginx's worker, HAProxy) then runs as nobody and a root-owned 0600 socket refuses it".into(),
                ));
            }
            let who = if eff.proxy.flavor == Flavor::Haproxy { "HAProxy runs" } else { "nginx's worker runs" };
            world.notes.push(format!("{}: a root-owned unix socket with mode 0600; {who} as nobody", app.name));
        }
        let mut down = Vec::new();
        for f in &faults {
            match f.kind {
                FaultKind::AppDown => down.push((f.from_ms, f.until_ms.unwrap_or(u64::MAX))),
                FaultKind::RollingDeploy { down_ms } => down.push((f.from_ms, f.from_ms.saturating_add(down_ms))),
                _ => {}
            }
        }
        let shed = (app.shed_queue_above > 0).then(|| {
            let r = gateway_core::sim::app::shed_response();
            let mut bytes = wire_head(&r, None);
            bytes.extend_from_slice(r.body.as_bytes());
            (app.shed_queue_above, bytes)
        });
        let seed = v.scenario.seed;
        let app_c = app.clone();
        let jitter = Mutex::new(seed.wrapping_add(index as u64 * 7919));
        let script: upstream::Script = Arc::new(move |info: &RequestInfo| {
            let lo = app_c.latency_ms.saturating_sub(app_c.latency_jitter_ms) * 1_000;
            let hi = app_c.latency_ms.saturating_add(app_c.latency_jitter_ms) * 1_000;
            let after_us = lo + lcg(&jitter) % (hi - lo + 1);
            let healthy = AppReply {
                after_us,
                wire: Wire::Http { response: gateway_core::sim::app::healthy_response(&app_c), bad_header_line: None, truncate_body_at: None },
                note: None,
            };
            // Probabilities are 0 or 1 here, so the generator is never drawn.
            let mut rng = SimRng::seeded(seed);
            let now = SimTime::from_ms(info.at_ms);
            let reply = faults.iter().fold(healthy, |r, f| f.on_request(now, &app_c.name, &mut rng, r));
            // A WebSocket app answers every healthy request as the handshake
            // it stands for: 101 and a silent tunnel when the upgrade reached
            // it, its refusal otherwise (the scenarios' requests are all
            // WebSocket handshakes).
            let healthy = matches!(&reply.wire, Wire::Http { response, bad_header_line: None, truncate_body_at: None } if response.status == 200);
            if let (true, Some(r)) = (healthy, gateway_core::sim::websocket::answer(app_c.websocket, info.upgrade)) {
                if r.status == 101 {
                    return Plan { delay_us: reply.after_us, action: Action::Tunnel { head: wire_head(&r, None) }, die: false };
                }
                return plan_from(AppReply { wire: Wire::Http { response: r, bad_header_line: None, truncate_body_at: None }, ..reply });
            }
            plan_from(reply)
        });
        let cfg = AppConfig {
            name: app.name.clone(),
            listen,
            workers: app.workers,
            backlog: app.backlog,
            keepalive_ms: app.keepalive_timeout_ms,
            race_window_ms: RACE_WINDOW_MS,
            restart_ms: app.restart_ms,
            down,
            lead_ms: LEAD_MS,
            shed,
            script,
        };
        if app.workers > 64 {
            world.notes.push(format!("{}: {} workers capped at 64 threads", app.name, app.workers));
        }
        world.apps.push((app.name.clone(), Upstream::start(cfg).map_err(|e| harness(e, "upstream"))?));
    }
    if let Some(port) = v.dns_port {
        let rules = eff
            .faults
            .iter()
            .filter_map(|f| match &f.kind {
                FaultKind::DnsFailure { host, answer } => Some((
                    host.clone(),
                    match answer {
                        DnsAnswer::Nxdomain => DnsRule::Nxdomain,
                        DnsAnswer::Servfail => DnsRule::Servfail,
                        DnsAnswer::Timeout => DnsRule::Silent,
                    },
                )),
                _ => None,
            })
            .collect();
        world.dns = Some(Dns::start(port, rules, DnsRule::A(Ipv4Addr::LOCALHOST)).map_err(|e| harness(e, "dns"))?);
        world.notes.push("a UDP DNS server on 127.0.0.1 answers the resolver".into());
    }
    Ok((world, paths))
}

/// `php-fpm8.2 -v`'s first line, `gunicorn --version`, `uwsgi --version`.
fn server_version(kind: ServerKind) -> String {
    let (bin, arg) = match kind {
        ServerKind::PhpFpm => ("/usr/sbin/php-fpm8.2", "-v"),
        ServerKind::Gunicorn => ("/usr/bin/gunicorn", "--version"),
        ServerKind::Uwsgi => ("/usr/bin/uwsgi", "--version"),
        ServerKind::Node => return "node".into(),
    };
    std::process::Command::new(bin)
        .arg(arg)
        .output()
        .map(|o| {
            let t = String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
            t.lines().next().unwrap_or("").trim().to_string()
        })
        .unwrap_or_else(|e| format!("{bin}: {e}"))
}

// ---------------------------------------------------------------------------
// The client: plain HTTP/1.1 over TcpStream, one connection per request.

pub struct Got {
    pub status: String,
    pub body: usize,
    /// From the first byte sent to the last byte received (or the failure).
    pub ms: u64,
    /// The client's own port (Apache names a request in its error log only
    /// by the client's address).
    pub local_port: Option<u16>,
}

/// The engine's client request head (Host, User-Agent, Accept, the body's
/// headers, a Cookie), then the body.
fn request_bytes(r: &RequestSpec, ua: &str) -> Vec<u8> {
    let mut b = gateway_core::sim::http::client_request_head(r, ua).into_bytes();
    b.extend(std::iter::repeat_n(b'x', r.body_bytes as usize));
    b
}

pub fn fetch(port: u16, r: &RequestSpec, ua: &str, deadline: Duration) -> Got {
    let t = Instant::now();
    let ms = move || t.elapsed().as_millis() as u64;
    let none = |s: &str, local_port: Option<u16>| Got { status: s.into(), body: 0, ms: ms(), local_port };
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_secs(2)) else { return none("no connection", None) };
    let local_port = s.local_addr().ok().map(|a| a.port());
    if s.write_all(&request_bytes(r, ua)).is_err() {
        return none("no response", local_port);
    }
    let end = Instant::now() + deadline;
    let _ = s.set_read_timeout(Some(Duration::from_millis(50)));
    let mut buf = Vec::new();
    let mut tmp = [0u8; 16 * 1024];
    let mut eof = false;
    let mut last = ms();
    // Reads more; false at EOF, error or the deadline.
    let mut more = |s: &mut TcpStream, buf: &mut Vec<u8>, eof: &mut bool| -> bool {
        while Instant::now() < end {
            match s.read(&mut tmp) {
                Ok(0) => {
                    *eof = true;
                    return false;
                }
                Ok(n) => {
                    buf.extend_from_slice(&tmp[..n]);
                    last = ms();
                    return true;
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted) => {}
                Err(_) => {
                    *eof = true;
                    return false;
                }
            }
        }
        false
    };
    let head_end = loop {
        if buf.len() >= 5 && !buf.starts_with(b"HTTP/") {
            break None;
        }
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break Some(i + 4);
        }
        if !more(&mut s, &mut buf, &mut eof) {
            break None;
        }
    };
    let Some(head_end) = head_end else {
        if buf.is_empty() {
            return none(if eof { "no response" } else { "no response (client timeout)" }, local_port);
        }
        // HTTP/0.9: raw bytes with no length. nginx keeps the (HTTP/1.1)
        // client connection open afterwards, so stop after 300 ms of silence.
        let _ = s.set_read_timeout(Some(Duration::from_millis(300)));
        while Instant::now() < end {
            match s.read(&mut tmp) {
                Ok(n) if n > 0 => {
                    buf.extend_from_slice(&tmp[..n]);
                    last = ms();
                }
                _ => break,
            }
        }
        return Got { status: "HTTP/0.9 bytes".into(), body: buf.len(), ms: last, local_port };
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let status = head.split(' ').nth(1).unwrap_or("?").to_string();
    let length = head
        .split("\r\n")
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok());
    if r.method == "HEAD" {
        return Got { status, body: 0, ms: ms(), local_port };
    }
    let chunked = head
        .split("\r\n")
        .filter_map(|l| l.split_once(':'))
        .any(|(k, v)| k.trim().eq_ignore_ascii_case("transfer-encoding") && v.to_ascii_lowercase().contains("chunked"));
    let (status, body) = match length {
        _ if chunked => {
            // Decoded until the last chunk; EOF before it is a cut body.
            let (got, complete) = loop {
                let (got, complete, _) = dechunk(&buf[head_end..]);
                if complete || !more(&mut s, &mut buf, &mut eof) {
                    break (got, complete);
                }
            };
            if complete { (status, got) } else { (format!("{status} (chunked body cut at {got} bytes, no last chunk)"), got) }
        }
        Some(n) => {
            while buf.len() - head_end < n && more(&mut s, &mut buf, &mut eof) {}
            let got = buf.len() - head_end;
            if got < n {
                (format!("{status} (body cut at {got} of {n} bytes)"), got)
            } else {
                (status, n)
            }
        }
        None => {
            while more(&mut s, &mut buf, &mut eof) {}
            (status, buf.len() - head_end)
        }
    };
    // A 101 (WebSocket) is over when the tunnel closes, as curl's
    // time_total counts it: the time of the EOF, not of the last byte.
    let last = if status == "101" && eof { ms() } else { last };
    Got { status, body, ms: last, local_port }
}

/// Decodes a chunked body as far as it goes: (payload bytes of the complete
/// chunks, whether the last chunk arrived, bytes consumed).
fn dechunk(b: &[u8]) -> (usize, bool, usize) {
    let (mut pos, mut payload) = (0, 0);
    loop {
        let Some(eol) = b[pos..].windows(2).position(|w| w == b"\r\n") else { return (payload, false, pos) };
        let line = String::from_utf8_lossy(&b[pos..pos + eol]).to_string();
        let Ok(size) = usize::from_str_radix(line.split(';').next().unwrap_or("").trim(), 16) else { return (payload, false, pos) };
        let data = pos + eol + 2;
        if size == 0 {
            // No trailers are sent here: the last chunk ends with one CRLF.
            return if b.len() >= data + 2 { (payload, true, data + 2) } else { (payload, false, pos) };
        }
        if b.len() < data + size + 2 {
            // A chunk cut short: its data so far counts (as curl counts it).
            return (payload + size.min(b.len() - data), false, pos);
        }
        payload += size;
        pos = data + size + 2;
    }
}

// ---------------------------------------------------------------------------
// Observations.

/// What one side observed for one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReqObs {
    pub line: String,
    pub at_ms: u64,
    /// Client-visible: `502`, `200 (body cut at 200 of 1000 bytes)`,
    /// `HTTP/0.9 bytes`, `no connection`.
    pub status: String,
    pub body: usize,
    /// The access.log line without its time, or `-` (normalised by the
    /// flavour: see `Access::normalised`).
    pub access: String,
    /// The log line as written, or `-`.
    pub raw_access: String,
    /// Timers of the log line compared within a tolerance (HAProxy).
    pub times: Vec<(String, i64)>,
    /// What an overload comparison counts from the log line (HAProxy:
    /// `503 sC-- retried`).
    pub log_kind: Option<String>,
    /// Normalised error.log lines of this request, in order.
    pub errors: Vec<String>,
    /// Upstream connections used (including reused ones).
    pub attempts: u32,
    /// Response time seen by the client, ms.
    pub ms: u64,
}

#[derive(Clone, Debug, Default)]
pub struct RunObs {
    pub reqs: Vec<ReqObs>,
    /// Normalised stderr of the proxy (start-up failures).
    pub stderr: Vec<String>,
    /// Normalised error.log lines that belong to no request.
    pub stray: Vec<String>,
    pub notes: Vec<String>,
    /// The report shows each request's raw log line (HAProxy) rather than
    /// its error.log lines.
    pub show_access: bool,
    /// A real app server's own key lines (`server_key_lines`), digits masked.
    pub server_lines: Vec<String>,
}

/// The app server's lines that tell its story (not its start-up and stop
/// chatter): PHP-FPM's warnings, gunicorn's WORKER TIMEOUT, uWSGI's
/// harakiri and request-block lines. Digits are masked (pids, times,
/// sizes); a script path under `www` reads as the engine's root.
pub fn server_key_lines<'a>(lines: impl Iterator<Item = &'a str>, www: &str) -> Vec<String> {
    // (uWSGI's `DAMN ! worker … trying respawn` comes a moment after the
    // kill, often after the harness has stopped it: not compared.)
    const KEYS: [&str; 4] = ["WARNING: [pool ", "[CRITICAL] WORKER TIMEOUT", "*** HARAKIRI ON WORKER", "invalid request block size"];
    lines
        .filter_map(|l| {
            let k = KEYS.iter().find_map(|k| l.find(k))?;
            let msg = if www.is_empty() { l[k..].to_string() } else { l[k..].replace(www, gateway_core::sim::server::ROOT) };
            let mut out = String::new();
            let mut digits = false;
            for c in msg.chars() {
                if c.is_ascii_digit() {
                    if !digits {
                        out.push('N');
                    }
                    digits = true;
                } else {
                    digits = false;
                    out.push(c);
                }
            }
            Some(out)
        })
        .collect()
}

fn engine_status(ex: &gateway_core::sim::world::Exchange) -> String {
    match (&ex.client_result, &ex.response) {
        (Some(ClientResult::ConnectFailed), _) => "no connection".into(),
        (Some(ClientResult::Http09), _) => "HTTP/0.9 bytes".into(),
        (Some(ClientResult::Truncated { received, expected: Some(expected) }), Some(r)) => format!("{} (body cut at {received} of {expected} bytes)", r.status),
        (Some(ClientResult::Truncated { received, expected: None }), Some(r)) => format!("{} (chunked body cut at {received} bytes, no last chunk)", r.status),
        (_, Some(r)) => r.status.to_string(),
        (_, None) => "no response".into(),
    }
}

/// The scenario one column runs.
pub fn for_flavor(v: &Variant, flavor: &dyn ProxyUnderTest) -> Scenario {
    let mut sc = v.scenario.clone();
    sc.proxy.flavor = flavor.engine_flavor();
    sc
}

pub fn run_engine(v: &Variant, flavor: &dyn ProxyUnderTest) -> Result<RunObs, NoRun> {
    let sc = for_flavor(v, flavor);
    let mut sim = Simulation::new(sc).map_err(|e| NoRun::Harness(format!("engine: {e}")))?;
    sim.run();
    let tmp = v.tmp.display().to_string();
    let norm = |l: &String| flavor.normalise_error(l, &tmp);
    let reqs: Vec<ReqObs> = sim
        .exchanges()
        .iter()
        .map(|ex| {
            let access = ex.access_line.as_ref().and_then(|l| flavor.parse_access(l));
            ReqObs {
                line: ex.request_line(),
                at_ms: ex.sent_at.as_micros() / 1_000,
                status: engine_status(ex),
                body: match ex.client_result {
                    Some(ClientResult::ConnectFailed) => 0,
                    _ => ex.response.as_ref().map(|r| r.body.len()).unwrap_or(0),
                },
                access: access.as_ref().map(|a| a.normalised.clone()).unwrap_or_else(|| "-".into()),
                raw_access: ex.access_line.clone().unwrap_or_else(|| "-".into()),
                log_kind: access.as_ref().and_then(|a| flavor.aggregate_key(&a.normalised)),
                times: access.map(|a| a.times).unwrap_or_default(),
                // An nginx line with no request context (`[alert] N worker_connections
                // are not enough` on accept) cannot be told apart in the real
                // error.log: compared with the stray lines, as the real one is.
                errors: ex
                    .error_lines
                    .iter()
                    .map(|l| &l.text)
                    .filter(|t| flavor.engine_flavor() != gateway_core::sim::scenario::Flavor::Nginx || flavor.request_of(t).is_some())
                    .filter_map(norm)
                    .collect(),
                attempts: ex.attempts.len() as u32,
                ms: ex.finished_at.map(|f| f.since(ex.sent_at) / 1_000).unwrap_or(0),
            }
        })
        .collect();
    let lines: Vec<&String> = reqs.iter().map(|r| &r.line).collect();
    let w = sim.world();
    let stray = if flavor.client_ports(&[]).is_some() {
        // Lines of no request: those no exchange wrote.
        let own: std::collections::BTreeSet<&str> = sim.exchanges().iter().flat_map(|ex| ex.error_lines.iter().map(|l| l.text.as_str())).collect();
        w.error_log.lines().filter(|l| !own.contains(l.as_str())).filter_map(norm).collect()
    } else {
        w.error_log.lines().filter(|l| flavor.request_of(l).is_none_or(|r| !lines.contains(&&r))).filter_map(norm).collect()
    };
    let stderr = w.proxy_stderr.lines().filter_map(norm).collect();
    let servers = v.scenario.apps.iter().any(|a| a.server != ServerKind::Node);
    let server_lines = if servers { server_key_lines(w.app_log.lines().map(String::as_str), "") } else { Vec::new() };
    Ok(RunObs { reqs, stderr, stray, notes: Vec::new(), show_access: flavor.details_show_access(), server_lines })
}

/// `GET /users?r=1` of a request line (the upstream sees HTTP/1.0 or 1.1).
fn method_and_path(line: &str) -> String {
    line.rsplit_once(' ').map(|(a, _)| a.to_string()).unwrap_or_else(|| line.to_string())
}

pub fn run_real(v: &Variant, flavor: &dyn ProxyUnderTest) -> Result<RunObs, NoRun> {
    let sc = for_flavor(v, flavor);
    let eff = effective(&sc);
    let (world, paths) = build_world(v, &eff)?;
    let proxy = flavor.start(&eff, &v.tmp, &paths).map_err(NoRun::Harness)?;
    let t0 = Instant::now() + Duration::from_millis(100);
    for (_, u) in &world.apps {
        u.set_t0(t0);
    }
    let listen = eff.proxy.listen;
    let ua = eff.clients.user_agent.clone();
    let last = sc.requests.iter().map(|r| r.at_ms).max().unwrap_or(0);
    let p = &eff.proxy;
    let budget = Duration::from_millis(match flavor.engine_flavor() {
        Flavor::Nginx => p.proxy_connect_timeout_ms.max(p.resolver_timeout_ms) + p.proxy_read_timeout_ms * 3 + 5_000,
        // Every try may wait for `timeout connect` and the turn-around delay.
        Flavor::Haproxy => {
            let h = &p.haproxy;
            (u64::from(h.retries) + 1) * (h.timeout_connect_ms + h.timeout_connect_ms.min(1_000)) + h.timeout_server_ms * 3 + 5_000
        }
        Flavor::Apache => eff.upstream.servers.len().max(1) as u64 * p.apache.proxy_timeout_ms * 2 + 5_000,
        Flavor::Varnish => p.varnish.connect_timeout_ms + p.varnish.first_byte_timeout_ms + 5_000,
        Flavor::Caddy => p.caddy.dial_timeout_ms + p.caddy.response_header_timeout_ms + p.caddy.lb_try_duration_ms + SLOW_MS * 2 + 5_000,
        // Never run against a real program (documented flavors have no ProxyUnderTest).
        Flavor::Envoy | Flavor::Alb => 0,
    });
    let results: Arc<Mutex<Vec<Option<Got>>>> = Arc::new(Mutex::new((0..sc.requests.len()).map(|_| None).collect()));
    let mut handles = Vec::new();
    for (i, r) in sc.requests.iter().enumerate() {
        let at = t0 + Duration::from_millis(r.at_ms);
        let now = Instant::now();
        if at > now {
            thread::sleep(at - now);
        }
        let (r, ua, results) = (r.clone(), ua.clone(), results.clone());
        let h = thread::Builder::new().stack_size(128 * 1024).spawn(move || {
            let got = fetch(listen, &r, &ua, budget);
            results.lock().unwrap()[i] = Some(got);
        });
        match h {
            Ok(h) => handles.push(h),
            Err(e) => return Err(NoRun::Harness(format!("client thread: {e}"))),
        }
    }
    let hard = t0 + Duration::from_millis(last) + budget + Duration::from_secs(5);
    for h in handles {
        while !h.is_finished() && Instant::now() < hard {
            thread::sleep(Duration::from_millis(5));
        }
        if h.is_finished() {
            let _ = h.join();
        }
    }
    thread::sleep(Duration::from_millis(50));
    let logs = proxy.stop();
    let mut seen: Vec<String> = world.apps.iter().flat_map(|(_, u)| u.requests()).map(|l| method_and_path(&l)).collect();
    seen.extend(world.tls.iter().flat_map(|t| t.served()));
    // s_server names no request it refused: a plain request it read is
    // counted for the only request of a one-request run.
    let plain_on_tls: u32 = world.tls.iter().map(|t| t.plain_http_requests()).sum();
    // A real app server reports no request it read: a request reached it
    // when nginx's connect to it did not fail (one server, no retries).
    let real_servers = !world.servers.is_empty();
    let www = v.tmp.join("www").display().to_string();
    // (their logs are read once they have stopped, below)
    let mut notes = world.notes.clone();
    if let Some(d) = &world.dns {
        notes.push(format!("DNS queries seen: {}", d.queries().join(", ")));
    }
    let server_paths: Vec<PathBuf> = world.servers.iter().map(|s| s.log.clone()).collect();
    drop(world);
    let server_logs: Vec<String> = server_paths.iter().map(|p| std::fs::read_to_string(p).unwrap_or_default()).collect();

    let tmp = v.tmp.display().to_string();
    let mut access: BTreeMap<String, Vec<(String, super::proxy::Access)>> = BTreeMap::new();
    for l in &logs.access {
        if let Some(a) = flavor.parse_access(l) {
            access.entry(a.request_line.clone()).or_default().push((l.clone(), a));
        }
    }
    let mut errors: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut stray = Vec::new();
    let lines: Vec<String> = sc.requests.iter().map(|r| format!("{} {} HTTP/1.1", r.method, r.path)).collect();
    // A flavor that names a request only by the client's port (Apache):
    // the port each request's client connection had.
    let by_port: BTreeMap<u16, String> = {
        let res = results.lock().unwrap();
        res.iter().zip(&lines).filter_map(|(g, l)| Some((g.as_ref()?.local_port?, l.clone()))).collect()
    };
    let ports = flavor.client_ports(&logs.error);
    for (k, l) in logs.error.iter().enumerate() {
        let Some(n) = flavor.normalise_error(l, &tmp) else { continue };
        let by_client = ports.as_ref().and_then(|p| p[k]).and_then(|port| by_port.get(&port).cloned());
        match by_client.or_else(|| flavor.request_of(l)).filter(|r| lines.contains(r)) {
            Some(r) => errors.entry(r).or_default().push(n),
            None => stray.push(n),
        }
    }
    let results = results.lock().unwrap();
    let reqs = sc
        .requests
        .iter()
        .zip(lines.iter())
        .enumerate()
        .map(|(i, (r, line))| {
            let got = results[i].as_ref();
            let errs = errors.remove(line).unwrap_or_default();
            let mp = method_and_path(line);
            let mut read = seen.iter().filter(|s| **s == mp).count() as u32 + if sc.requests.len() == 1 { plain_on_tls } else { 0 };
            let mut logged = access.remove(line).unwrap_or_default();
            // A request HAProxy could not parse is logged as `<BADREQ>`: the
            // next such line is this request's when the client got a 400.
            if logged.is_empty() && got.is_some_and(|g| g.status == "400") {
                if let Some(bad) = access.get_mut("<BADREQ>").filter(|v| !v.is_empty()) {
                    logged.push(bad.remove(0));
                }
            }
            if real_servers {
                let connect_failed = errs.iter().any(|e| flavor.is_failed_attempt(e)) || logged.iter().any(|(_, a)| a.failed_connects > 0);
                read = u32::from(!connect_failed && got.is_some_and(|g| g.status != "no connection"));
            }
            let failed = errs.iter().filter(|e| flavor.is_failed_attempt(e)).count() as u32
                + logged.iter().map(|(_, a)| a.failed_connects).sum::<u32>();
            let join = |f: &dyn Fn(&(String, super::proxy::Access)) -> String| {
                if logged.is_empty() { "-".to_string() } else { logged.iter().map(f).collect::<Vec<_>>().join(" + ") }
            };
            ReqObs {
                line: line.clone(),
                at_ms: r.at_ms,
                status: got.map(|g| g.status.clone()).unwrap_or_else(|| "no response (client still waiting)".into()),
                body: got.map(|g| g.body).unwrap_or(0),
                access: join(&|(_, a)| a.normalised.clone()),
                raw_access: join(&|(raw, _)| raw.clone()),
                times: if logged.len() == 1 { logged[0].1.times.clone() } else { Vec::new() },
                log_kind: if logged.len() == 1 { flavor.aggregate_key(&logged[0].1.normalised) } else { None },
                errors: errs,
                attempts: read + failed,
                ms: got.map(|g| g.ms).unwrap_or(0),
            }
        })
        .collect();
    let stderr = logs.stderr.iter().filter_map(|l| flavor.normalise_error(l, &tmp)).collect();
    if !logs.started {
        notes.push("the proxy did not start".into());
    }
    notes.extend(logs.forced_stop.clone());
    let server_lines: Vec<String> = server_logs.iter().flat_map(|t| server_key_lines(t.lines(), &www)).collect();
    Ok(RunObs { reqs, stderr, stray, notes, show_access: flavor.details_show_access(), server_lines })
}

// ---------------------------------------------------------------------------
// Comparison.

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diff {
    /// 1-based request number, None for run-level fields.
    pub request: Option<usize>,
    pub field: String,
    pub engine: String,
    pub real: String,
}

/// Equal, or equal but for `excess: N.NNN` values within 0.02 (limit_req
/// measures the real gaps between requests, which jitter by a few µs).
fn same_line(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let (ta, na) = split_excess(a);
    let (tb, nb) = split_excess(b);
    ta == tb && na.len() == nb.len() && na.iter().zip(&nb).all(|(x, y)| (x - y).abs() <= 0.02)
}

/// Two `show_list`s of error.log lines (engine's, real's) that differ only in limit_req `excess:`
/// values, each real one below the engine's: what late real arrivals give on a loaded machine
/// (the bucket drains while a request is delayed, so a late request finds less excess, never
/// more). `tests/fidelity.rs` runs such a cell again, as it does one with late response times.
pub fn late_excess_only(engine: &str, real: &str) -> bool {
    let (e, r): (Vec<&str>, Vec<&str>) = (engine.split(" ⏎ ").collect(), real.split(" ⏎ ").collect());
    e.len() == r.len()
        && e.iter().zip(&r).all(|(a, b)| {
            let ((ta, na), (tb, nb)) = (split_excess(a), split_excess(b));
            ta == tb && !na.is_empty() && na.len() == nb.len() && na.iter().zip(&nb).all(|(x, y)| y <= &(x + 0.02))
        })
}

/// A line's text with each `excess: N.NNN` value replaced by `#`, and the values.
fn split_excess(s: &str) -> (String, Vec<f64>) {
    let mut text = String::new();
    let mut nums = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.find("excess: ") {
        text.push_str(&rest[..i + 8]);
        let r = &rest[i + 8..];
        let n = r.bytes().take_while(|c| c.is_ascii_digit() || *c == b'.').count();
        nums.push(r[..n].parse().unwrap_or(f64::NAN));
        text.push('#');
    rest = &r[n..];
    }
    text.push_str(rest);
    (text, nums)
}

fn show_list(v: &[String]) -> String {
    if v.is_empty() { "(none)".into() } else { v.join(" ⏎ ") }
}

pub fn compare(v: &Variant, engine: &RunObs, real: &RunObs, flavor: &dyn ProxyUnderTest) -> Vec<Diff> {
    let mut diffs = Vec::new();
    let mut run_level = |field: &str, e: &[String], r: &[String]| {
        if e.len() != r.len() || e.iter().zip(r).any(|(a, b)| !same_line(a, b)) {
            diffs.push(Diff { request: None, field: field.into(), engine: show_list(e), real: show_list(r) });
        }
    };
    run_level("stderr", &engine.stderr, &real.stderr);
    run_level("app server log", &engine.server_lines, &real.server_lines);
    if v.aggregate {
        return compare_aggregate(engine, real, diffs, flavor);
    }
    run_level(flavor.stray_name(), &engine.stray, &real.stray);
    for (i, (e, r)) in engine.reqs.iter().zip(&real.reqs).enumerate() {
        let mut d = |field: &str, a: String, b: String| {
            diffs.push(Diff { request: Some(i + 1), field: field.into(), engine: a, real: b });
        };
        if e.status != r.status {
            d("status", e.status.clone(), r.status.clone());
        }
        if e.body != r.body {
            d("body bytes", e.body.to_string(), r.body.to_string());
        }
        if e.access != r.access {
            if flavor.details_show_access() {
                let show = |o: &ReqObs| format!("{} ⏎ as logged: {}", o.access, o.raw_access);
                d(flavor.log_name(), show(e), show(r));
            } else {
                d(flavor.log_name(), e.access.clone(), r.access.clone());
            }
        } else {
            // Same line: its timers (HAProxy's Tc/Tr/Ta) within the time tolerance.
            for ((name, a), (_, b)) in e.times.iter().zip(&r.times) {
                if a.abs_diff(*b) > TIME_TOLERANCE_MS + a.unsigned_abs() / 10 + v.time_slack_ms {
                    d(&format!("{} {name}", flavor.log_name()), format!("{a} ms"), format!("{b} ms"));
                }
            }
        }
        if e.errors.len() != r.errors.len() || e.errors.iter().zip(&r.errors).any(|(a, b)| !same_line(a, b)) {
            d("error.log", show_list(&e.errors), show_list(&r.errors));
        }
        if e.attempts != r.attempts {
            d("attempts", e.attempts.to_string(), r.attempts.to_string());
        }
        if e.ms.abs_diff(r.ms) > TIME_TOLERANCE_MS + e.ms / 10 + v.time_slack_ms {
            d("response time", format!("{} ms", e.ms), format!("{} ms", r.ms));
        }
    }
    if engine.reqs.len() != real.reqs.len() {
        diffs.push(Diff { request: None, field: "requests".into(), engine: engine.reqs.len().to_string(), real: real.reqs.len().to_string() });
    }
    diffs
}

/// The message of a normalised error line, without the request context.
pub fn message_kind(line: &str) -> String {
    line.split(", client:").next().unwrap_or(line).to_string()
}

pub fn counts<'a>(items: impl Iterator<Item = &'a str>) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for i in items {
        *m.entry(i.to_string()).or_insert(0) += 1;
    }
    m
}

pub fn show_counts(m: &BTreeMap<String, usize>) -> String {
    if m.is_empty() {
        return "(none)".into();
    }
    m.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join(", ")
}

fn compare_aggregate(engine: &RunObs, real: &RunObs, mut diffs: Vec<Diff>, flavor: &dyn ProxyUnderTest) -> Vec<Diff> {
    let n = engine.reqs.len().max(1) as f64;
    let tol = AGGREGATE_TOLERANCE * n;
    let far = |a: &BTreeMap<String, usize>, b: &BTreeMap<String, usize>| {
        a.keys().chain(b.keys()).any(|k| (*a.get(k).unwrap_or(&0) as f64 - *b.get(k).unwrap_or(&0) as f64).abs() > tol)
    };
    let es = counts(engine.reqs.iter().map(|r| r.status.as_str()));
    let rs = counts(real.reqs.iter().map(|r| r.status.as_str()));
    if far(&es, &rs) {
        diffs.push(Diff { request: None, field: "statuses".into(), engine: show_counts(&es), real: show_counts(&rs) });
    }
    let ek: Vec<String> = engine.reqs.iter().flat_map(|r| r.errors.iter().map(|e| message_kind(e))).collect();
    let rk: Vec<String> = real.reqs.iter().flat_map(|r| r.errors.iter().map(|e| message_kind(e))).collect();
    let (ek, rk) = (counts(ek.iter().map(String::as_str)), counts(rk.iter().map(String::as_str)));
    if far(&ek, &rk) {
        diffs.push(Diff { request: None, field: "error.log messages".into(), engine: show_counts(&ek), real: show_counts(&rk) });
    }
    let kinds = |o: &RunObs| counts(o.reqs.iter().map(|r| r.log_kind.as_deref().unwrap_or("(no line)")));
    if engine.reqs.iter().chain(&real.reqs).any(|r| r.log_kind.is_some()) {
        let (ek, rk) = (kinds(engine), kinds(real));
        if far(&ek, &rk) {
            diffs.push(Diff { request: None, field: format!("{} status, termination state", flavor.log_name()), engine: show_counts(&ek), real: show_counts(&rk) });
        }
    }
    diffs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excess_values_compare_within_a_tolerance() {
        let a = "[error] limiting requests, excess: 0.990 by zone \"perip\", client: 127.0.0.1";
        assert!(same_line(a, &a.replace("0.990", "0.981")));
        assert!(!same_line(a, &a.replace("0.990", "0.950")));
        assert!(!same_line(a, &a.replace("perip", "other")));
    }

    #[test]
    fn a_lower_real_excess_is_a_late_arrival() {
        let a = "[error] limiting requests, excess: 2.960 by zone \"perip\", client: 127.0.0.1";
        let two = |x: &str| format!("{a} ⏎ {x}");
        assert!(late_excess_only(a, &a.replace("2.960", "2.930")));
        assert!(late_excess_only(&two(a), &two(&a.replace("2.960", "2.500"))));
        // Higher in the real: not what lateness gives.
        assert!(!late_excess_only(a, &a.replace("2.960", "2.990")));
        // Another difference, or no excess at all, or another line count.
        assert!(!late_excess_only(a, &a.replace("2.960", "2.930").replace("perip", "other")));
        assert!(!late_excess_only("[error] connect() failed", "[error] connect() failed"));
        assert!(!late_excess_only(&two(a), a));
    }

    #[test]
    fn paths_get_a_distinct_marker() {
        assert_eq!(marked("/users", 3), "/users?r=3");
        assert_eq!(marked("/users?page=2", 3), "/users?page=2&r=3");
        assert_eq!(method_and_path("GET /users?r=3 HTTP/1.0"), "GET /users?r=3");
    }

    #[test]
    fn the_real_app_writes_the_engines_reply() {
        let app = App::default();
        let plan = plan_from(AppReply {
            after_us: 1_000,
            wire: Wire::Http { response: gateway_core::sim::app::healthy_response(&app), bad_header_line: Some("Bad Header: x".into()), truncate_body_at: Some(5) },
            note: None,
        });
        let Action::Respond { head, body, truncate_at } = plan.action else { panic!() };
        assert_eq!(
            String::from_utf8(head).unwrap(),
            "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: 48\r\nBad Header: x\r\n\r\n"
        );
        assert_eq!((body.len(), truncate_at, plan.die), (5, None, true));
    }

    #[test]
    fn a_chunked_body_cut_short_is_one_chunk_without_the_last_one() {
        let fault = FaultKind::DiesAfterHeaders { content_length: 1_000, sent_bytes: 200, chunked: true };
        let app = App::default();
        let healthy = AppReply { after_us: 0, wire: Wire::Http { response: gateway_core::sim::app::healthy_response(&app), bad_header_line: None, truncate_body_at: None }, note: None };
        let reply = Fault::from(fault).on_request(SimTime::ZERO, &app.name, &mut SimRng::seeded(1), healthy);
        let plan = plan_from(reply);
        let Action::Respond { head, body, .. } = plan.action else { panic!() };
        let head = String::from_utf8(head).unwrap();
        assert!(head.contains("\r\nTransfer-Encoding: chunked\r\n") && !head.contains("Content-Length"), "{head}");
        assert_eq!(String::from_utf8(body).unwrap(), format!("c8\r\n{}\r\n", "x".repeat(200)));
        assert!(plan.die);
        assert_eq!(dechunk(format!("c8\r\n{}\r\n", "x".repeat(200)).as_bytes()), (200, false, 206));
        assert_eq!(dechunk(b"C8\r\n"), (0, false, 0));
        assert_eq!(dechunk(b"3\r\nabc\r\n0\r\n\r\n"), (3, true, 13));
    }
}
