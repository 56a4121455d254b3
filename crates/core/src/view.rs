//! What the page and the embed draw, read off the simulation, without web
//! code: the topology's model (boxes, links, the dots of requests on their
//! way) and a request's status in a few words. The UI renders them
//! (`src/ui/topology.rs`, `src/ui/embed/`), and so does the embed's static
//! preview (`preview`), which is built natively at build time: one function
//! for both, so the preview shows what the live embed shows.

use crate::sim::world::{ClientResult, Exchange};
use crate::sim::{app, Simulation};

/// What the client got, in a few words, and its class (ok, warn, fail,
/// pending): the page's and the embed's status line.
pub fn headline(e: &Exchange) -> (String, &'static str) {
    if !e.is_finished() {
        // The status line may have arrived while the body is still coming.
        return match &e.response {
            Some(r) if r.status >= 100 => (format!("{} {}", r.status, r.reason), "pending"),
            _ => ("Waiting…".into(), "pending"),
        };
    }
    let text = match (&e.client_result, &e.response) {
        (Some(ClientResult::ConnectFailed), _) => "No response: could not connect".into(),
        (Some(ClientResult::Http09), _) => "No status line (HTTP/0.9 bytes)".into(),
        (Some(ClientResult::Truncated { .. }), Some(r)) => format!("{} {}, body cut short", r.status, r.reason),
        // The proxy closed the connection without a byte (curl: (52) Empty reply from server).
        (Some(ClientResult::Truncated { received: 0, .. }), None) => "No response: empty reply".into(),
        (Some(ClientResult::Reset), _) => "No response: connection reset".into(),
        (Some(ClientResult::TimedOut), _) => "No response: the client gave up (timeout)".into(),
        (Some(ClientResult::Rejected), _) => "Not sent: the circuit breaker is open".into(),
        (Some(ClientResult::Cancelled), _) => "Cancelled: another copy answered first".into(),
        (_, Some(r)) => format!("{} {}", r.status, r.reason),
        (_, None) => "No response".into(),
    };
    (text, e.outcome_class().css())
}

/// The status a request's chip and the client box show: the proxy's logged
/// status (its access log: 499, 009, …), or, behind layers, the status the
/// outermost layer sent the client (nginx may have logged nothing, or 499).
pub fn shown_status(e: &Exchange) -> Option<u16> {
    if e.layers.is_empty() {
        e.logged_status
    } else {
        e.status()
    }
}

/// What the topology draws, read off the simulation.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    pub client: String,
    pub proxy_name: String,
    pub proxy_detail: String,
    pub proxy_running: bool,
    pub apps: Vec<AppBox>,
    pub inflight: Vec<Dot>,
    /// Outcome class of the newest finished request.
    pub last: &'static str,
    pub last_text: String,
    /// Outcome class of the newest finished request that reached an app.
    pub apps_last: &'static str,
    /// The layers in front of the proxy, outermost first (`sim::layer`).
    pub layers: Vec<LayerBox>,
}

/// A layer in front of the proxy (Cloudflare, an ALB) and what it did with
/// the newest finished request that passed it.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerBox {
    pub name: &'static str,
    /// Its timeout and where it is.
    pub detail: String,
    /// What it did with the newest request: `521, its own page`, `relays 502`.
    pub state: String,
    /// That status's class (ok, warn, fail), or idle.
    pub last: &'static str,
}

/// The words under every layer box: none of them could run here.
pub const LAYER_NOTE: &str = "documented, not verified";

impl Model {
    /// The topology in one sentence, for screen readers (the page's SVG and the embed's boxes).
    pub fn describe(&self) -> String {
        let layers: String = self.layers.iter().map(|l| format!("{} ({LAYER_NOTE}, {}), ", l.name, l.state)).collect();
        format!(
            "client, {layers}{} ({}), and {} upstream server(s): {}",
            self.proxy_name,
            if self.proxy_running { "running" } else { "not running" },
            self.apps.len(),
            self.apps.iter().map(|a| match a.server {
                Some(srv) => format!("{} ({srv}) {}", a.name, a.state),
                None => format!("{} {}", a.name, a.state),
            }).collect::<Vec<_>>().join(", ")
        )
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct AppBox {
    pub name: String,
    /// The server program when it is not node (`PHP-FPM`, `gunicorn`, `uWSGI`).
    pub server: Option<&'static str>,
    pub listen: String,
    pub state: &'static str,
    pub backup: bool,
    /// Outcome class of the newest attempt that went to this app.
    pub last: &'static str,
}

/// A request on its path: which link it is on, and its outcome once it has one.
#[derive(Clone, Debug, PartialEq)]
pub struct Dot {
    pub id: usize,
    /// None: between client and proxy; Some(i): between proxy and app i.
    pub app: Option<usize>,
    /// The request reached the app and waits for its answer.
    pub at_app: bool,
    pub returning: bool,
    /// Finished in the last virtual seconds: back at the client, coloured.
    pub outcome: Option<&'static str>,
}

/// How long a finished request stays drawn at the client (virtual time).
const SHOW_DONE_US: u64 = 2_000_000;

fn outcome(ex: &Exchange) -> &'static str {
    ex.outcome_class().css()
}

/// The server program's name as the topology shows it.
pub fn server_name(kind: crate::sim::server::ServerKind) -> &'static str {
    use crate::sim::server::ServerKind;
    match kind {
        ServerKind::Node => "Node.js",
        ServerKind::Gunicorn => "gunicorn",
        ServerKind::PhpFpm => "PHP-FPM",
        ServerKind::Uwsgi => "uWSGI",
    }
}

pub fn model(sim: &Simulation) -> Model {
    let w = sim.world();
    let sc = &w.scenario;
    let haproxy = sc.proxy.flavor == crate::sim::scenario::Flavor::Haproxy;
    let app_of_peer = |peer: &str| sc.apps.iter().position(|a| a.listen == peer);
    let mut apps: Vec<AppBox> = sc
        .apps
        .iter()
        .enumerate()
        .map(|(i, a)| AppBox {
            name: a.name.clone(),
            server: (a.server != crate::sim::server::ServerKind::Node).then(|| server_name(a.server)),
            listen: a.listen.clone(),
            state: app::state(w, i),
            backup: sc.upstream.servers.iter().any(|s| s.backup && s.address == a.listen),
            last: "idle",
        })
        .collect();
    let mut inflight = Vec::new();
    let mut last = "idle";
    let mut last_text = "idle".to_string();
    let mut apps_last = "idle";
    for ex in w.exchanges.iter().rev().take(500) {
        if let Some(done) = ex.finished_at {
            if w.now.since(done) <= SHOW_DONE_US && inflight.len() < 20 {
                inflight.push(Dot { id: ex.id, app: None, at_app: false, returning: true, outcome: Some(outcome(ex)) });
            }
            if last == "idle" {
                last = outcome(ex);
                last_text = match (shown_status(ex), &ex.client_result) {
                    (_, Some(ClientResult::ConnectFailed)) => "no connection".into(),
                    (Some(s), _) => format!("got {s:03}"),
                    _ => "no response".into(),
                };
            }
            if let Some(a) = ex.attempts.last().and_then(|a| app_of_peer(&a.peer)) {
                if apps[a].last == "idle" {
                    apps[a].last = outcome(ex);
                }
                if apps_last == "idle" {
                    apps_last = apps[a].last;
                }
            }
            continue;
        }
        let open = ex.attempts.last().filter(|a| a.ended.is_none());
        // Waiting at the app once the request could have reached it (SYN, SYN-ACK, request).
        let at_app = open.is_some_and(|a| w.now.since(a.started) >= 3 * sc.hop_latency_us);
        inflight.push(Dot {
            id: ex.id,
            app: open.and_then(|a| app_of_peer(&a.peer)),
            at_app,
            returning: ex.response.is_some(),
            outcome: None,
        });
    }
    inflight.truncate(200);
    let layers = layer_boxes(w);
    Model {
        client: format!("{} from {}", sc.clients.user_agent, sc.clients.ip),
        proxy_name: sc.proxy.flavor.as_str().into(),
        proxy_detail: if haproxy {
            format!("bind :{} → backend be_app", sc.proxy.listen)
        } else if sc.proxy.flavor == crate::sim::scenario::Flavor::Varnish {
            format!(":{} → backend {}", sc.proxy.listen, crate::sim::proxy::varnish::conf::backends(sc).join(" "))
        } else if sc.proxy.flavor == crate::sim::scenario::Flavor::Caddy {
            format!(":{} → reverse_proxy {}", sc.proxy.listen, crate::sim::proxy::caddy::conf::upstreams(sc).join(" "))
        } else if sc.proxy.flavor == crate::sim::scenario::Flavor::Apache {
            let target = if crate::sim::proxy::apache::conf::uses_balancer(sc) {
                "balancer://app".to_string()
            } else {
                crate::sim::proxy::apache::conf::backends(sc).first().map(|b| b.0.clone()).unwrap_or_default()
            };
            format!("*:{} → ProxyPass / {target}", sc.proxy.listen)
        } else {
            match crate::sim::server::protocol(&sc.apps) {
                crate::sim::server::Protocol::Http => format!("listen {} → proxy_pass {}", sc.proxy.listen, sc.proxy.proxy_pass),
                // fastcgi_pass / uwsgi_pass name the upstream without a scheme.
                p => format!(
                    "listen {} → {}_pass {}",
                    sc.proxy.listen,
                    p.prefix(),
                    sc.proxy.proxy_pass.split_once("://").map(|(_, t)| t).unwrap_or(&sc.proxy.proxy_pass)
                ),
            }
        },
        proxy_running: w.proxy_running,
        apps,
        inflight,
        last,
        last_text,
        apps_last,
        layers,
    }
}

/// The layer boxes: each layer's settings and what it did with the newest
/// finished request that passed the layers.
fn layer_boxes(w: &crate::sim::world::World) -> Vec<LayerBox> {
    use crate::sim::layer::cloudflare::SslMode;
    use crate::sim::layer::{Layer, Seen};
    let newest = w.exchanges.iter().rev().take(500).find(|e| e.is_finished() && !e.layers.is_empty());
    w.scenario
        .layers
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let m = l.model();
            let mut detail = match l {
                Layer::Cloudflare(c) => match c.ssl_mode {
                    // TLS to the origin shows; Off and Flexible (HTTP to the origin) as before.
                    SslMode::Full | SslMode::Strict => format!("{} · read timeout {} s · SSL {}", c.colo, c.proxy_read_timeout_s, c.ssl_mode.label()),
                    _ => format!("{} · read timeout {} s", c.colo, c.proxy_read_timeout_s),
                },
                Layer::Alb(a) => format!("idle timeout {} s", a.idle_timeout_s),
            };
            // A setting that keeps every request out shows instead of the timeout (which
            // plays no part then; the box is narrow); the defaults as before.
            match l {
                Layer::Cloudflare(c) if c.origin_record == crate::sim::layer::cloudflare::OriginRecord::Stale => {
                    detail = format!("{} · DNS record stale", c.colo);
                }
                Layer::Alb(a) if !a.targets_registered => detail = "no registered targets".into(),
                _ => {}
            }
            let hop = newest.and_then(|e| e.layers.iter().rev().find(|h| h.layer == i));
            let (state, last) = match hop {
                None => ("idle".to_string(), "idle"),
                Some(h) => {
                    let class = match h.status {
                        Some(s) if (200..400).contains(&s) => "ok",
                        Some(s) if (400..500).contains(&s) && s != 460 => "warn",
                        _ => "fail",
                    };
                    let text = match (h.status, h.own_page, h.seen) {
                        (Some(s), _, Seen::ClientClosed) => format!("{s}: its client closed"),
                        (None, _, Seen::ClientClosed) => "its client closed".to_string(),
                        (Some(s), true, _) => format!("{s}, its own page"),
                        (Some(s), false, _) => format!("relays {s}"),
                        (None, _, _) => "sent nothing".to_string(),
                    };
                    (text, class)
                }
            };
            LayerBox { name: m.name(), detail, state, last }
        })
        .collect()
}

