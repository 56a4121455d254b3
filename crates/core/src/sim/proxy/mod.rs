//! Proxy flavours. Each flavour is one module behind [`ProxyFlavor`]; the
//! engine calls it for every proxy-side event and it decides what the proxy
//! does, which log lines it writes and what the client gets.

pub mod alb;
pub mod apache;
pub mod caddy;
pub mod envoy;
pub mod haproxy;
pub mod nginx;
pub mod varnish;

use super::app::TlsResult;
use super::fault::{ConnectOutcome, DnsAnswer};
use super::http::Response;
use super::net::{ProxyPass, Scheme};
use super::scenario::{Flavor, Scenario};
use super::world::{Actor, ClientResult, ConnId, ConnState, Event, ProxyTimer, ReqId, World};

pub trait ProxyFlavor {
    /// A client request has fully arrived.
    fn on_request(&mut self, w: &mut World, id: ReqId);
    /// A connection attempt to an upstream ended (SYN-ACK, RST, error).
    fn on_connect_result(&mut self, w: &mut World, conn: ConnId, outcome: ConnectOutcome);
    /// The TLS handshake with the upstream ended.
    fn on_tls_done(&mut self, w: &mut World, conn: ConnId, result: TlsResult);
    /// The upstream's response has arrived.
    fn on_upstream_data(&mut self, w: &mut World, conn: ConnId);
    /// The upstream closed (FIN) or reset (RST) the connection.
    fn on_upstream_closed(&mut self, w: &mut World, conn: ConnId, reset: bool);
    /// A request body too large for the socket buffers has been read by the app.
    fn on_request_drained(&mut self, _w: &mut World, _conn: ConnId) {}
    /// The flavour's own idle timer for a cached upstream connection.
    fn on_idle_timeout(&mut self, w: &mut World, conn: ConnId, token: u64);
    /// The client closed its connection before the response reached it.
    fn on_client_abort(&mut self, w: &mut World, id: ReqId);
    /// A timer armed by this flavour fired (it may be stale).
    fn on_timer(&mut self, w: &mut World, id: ReqId, timer: ProxyTimer);
    /// Requests below `id` were retired (`World::retire`): drop their state.
    fn forget_before(&mut self, id: ReqId);
}

/// The flavours, dispatched statically so a `Simulation` stays plain data.
///
/// With the `split-flavors` feature (the wasm app's dependency only, issue 20) the six flavors
/// other than nginx are not named here: `Proxy::start` starts them through the registry that
/// `register_flavors` fills (`Other`), so the wasm's main module, which never calls
/// `register_flavors`, reaches none of their code and wasm-split moves it into a chunk. Natively
/// (tests, CLIs, benches, previews, the fidelity harness) dispatch is direct, as below.
pub enum Proxy {
    Nginx(nginx::Nginx),
    #[cfg(not(feature = "split-flavors"))]
    Haproxy(haproxy::Haproxy),
    #[cfg(not(feature = "split-flavors"))]
    Apache(apache::Apache),
    #[cfg(not(feature = "split-flavors"))]
    Caddy(caddy::Caddy),
    #[cfg(not(feature = "split-flavors"))]
    Varnish(varnish::Varnish),
    #[cfg(not(feature = "split-flavors"))]
    Envoy(envoy::Envoy),
    #[cfg(not(feature = "split-flavors"))]
    Alb(alb::Alb),
    /// A flavor other than nginx, started by the registered constructor.
    #[cfg(feature = "split-flavors")]
    Other(Box<dyn ProxyFlavor + Send + Sync>),
    /// A flavor whose code is not loaded: never started by the engine, which refuses such a
    /// scenario first (`loaded`, `Simulation::new`); here so that a missed check cannot panic.
    #[cfg(feature = "split-flavors")]
    NotLoaded(NotLoaded),
}

impl Proxy {
    /// Starts the flavour the scenario names (it may fail to start and
    /// leave `w.proxy_running` false, as nginx does on a bad config).
    #[cfg(not(feature = "split-flavors"))]
    pub fn start(w: &mut World) -> Proxy {
        match w.scenario.proxy.flavor {
            super::scenario::Flavor::Nginx => Proxy::Nginx(nginx::Nginx::start(w)),
            super::scenario::Flavor::Haproxy => Proxy::Haproxy(haproxy::Haproxy::start(w)),
            super::scenario::Flavor::Apache => Proxy::Apache(apache::Apache::start(w)),
            super::scenario::Flavor::Caddy => Proxy::Caddy(caddy::Caddy::start(w)),
            super::scenario::Flavor::Varnish => Proxy::Varnish(varnish::Varnish::start(w)),
            super::scenario::Flavor::Envoy => Proxy::Envoy(envoy::Envoy::start(w)),
            super::scenario::Flavor::Alb => Proxy::Alb(alb::Alb::start(w)),
        }
    }

    /// Starts the flavour the scenario names: nginx directly, any other through the registry.
    #[cfg(feature = "split-flavors")]
    pub fn start(w: &mut World) -> Proxy {
        match w.scenario.proxy.flavor {
            Flavor::Nginx => Proxy::Nginx(nginx::Nginx::start(w)),
            _ => match registry::STARTER.get() {
                Some(start) => Proxy::Other(start(w)),
                None => {
                    w.proxy_running = false;
                    Proxy::NotLoaded(NotLoaded)
                }
            },
        }
    }

    pub fn flavor(&mut self) -> &mut dyn ProxyFlavor {
        match self {
            Proxy::Nginx(p) => p,
            #[cfg(not(feature = "split-flavors"))]
            Proxy::Haproxy(p) => p,
            #[cfg(not(feature = "split-flavors"))]
            Proxy::Apache(p) => p,
            #[cfg(not(feature = "split-flavors"))]
            Proxy::Caddy(p) => p,
            #[cfg(not(feature = "split-flavors"))]
            Proxy::Varnish(p) => p,
            #[cfg(not(feature = "split-flavors"))]
            Proxy::Envoy(p) => p,
            #[cfg(not(feature = "split-flavors"))]
            Proxy::Alb(p) => p,
            #[cfg(feature = "split-flavors")]
            Proxy::Other(p) => p.as_mut(),
            #[cfg(feature = "split-flavors")]
            Proxy::NotLoaded(p) => p,
        }
    }
}

/// Whether `flavor`'s code can run now: always natively; with `split-flavors`, nginx always and
/// the others once `register_flavors` has run. The engine refuses a scenario whose flavor is not
/// loaded (`Simulation::new`, `reconfigure`; the Session's `SessionError::FlavorNotLoaded`).
pub fn loaded(flavor: Flavor) -> bool {
    #[cfg(feature = "split-flavors")]
    {
        flavor == Flavor::Nginx || registry::STARTER.get().is_some()
    }
    #[cfg(not(feature = "split-flavors"))]
    {
        let _ = flavor;
        true
    }
}

/// What the engine says of a scenario whose flavor is not loaded (`loaded`).
pub fn not_loaded_message(flavor: Flavor) -> String {
    format!("proxy.flavor: the {} model is not loaded yet (its part of the simulator downloads on demand)", flavor.display())
}

/// Makes the flavors other than nginx runnable (`loaded`). With `split-flavors` it fills the
/// registry with their constructor: only code outside the wasm's main module calls it (the
/// `flavors` chunk, `src/ui/flavors.rs`, and the chunks that run other flavors themselves), so
/// their code goes into a chunk. Natively it does nothing (they are always there). Idempotent.
pub fn register_flavors() {
    #[cfg(feature = "split-flavors")]
    {
        let _ = registry::STARTER.set(registry::start_other);
    }
}

#[cfg(feature = "split-flavors")]
mod registry {
    use super::{alb, apache, caddy, envoy, haproxy, nginx, varnish, ProxyFlavor};
    use crate::sim::scenario::Flavor;
    use crate::sim::world::World;

    pub type Starter = fn(&mut World) -> Box<dyn ProxyFlavor + Send + Sync>;

    /// The constructor of the flavors other than nginx, once registered.
    pub static STARTER: std::sync::OnceLock<Starter> = std::sync::OnceLock::new();

    pub fn start_other(w: &mut World) -> Box<dyn ProxyFlavor + Send + Sync> {
        match w.scenario.proxy.flavor {
            Flavor::Nginx => Box::new(nginx::Nginx::start(w)),
            Flavor::Haproxy => Box::new(haproxy::Haproxy::start(w)),
            Flavor::Apache => Box::new(apache::Apache::start(w)),
            Flavor::Caddy => Box::new(caddy::Caddy::start(w)),
            Flavor::Varnish => Box::new(varnish::Varnish::start(w)),
            Flavor::Envoy => Box::new(envoy::Envoy::start(w)),
            Flavor::Alb => Box::new(alb::Alb::start(w)),
        }
    }
}

/// The stand-in of a flavor whose code is not loaded (`Proxy::NotLoaded`): it does nothing.
#[cfg(feature = "split-flavors")]
pub struct NotLoaded;

#[cfg(feature = "split-flavors")]
impl ProxyFlavor for NotLoaded {
    fn on_request(&mut self, _w: &mut World, _id: ReqId) {}
    fn on_connect_result(&mut self, _w: &mut World, _conn: ConnId, _outcome: ConnectOutcome) {}
    fn on_tls_done(&mut self, _w: &mut World, _conn: ConnId, _result: TlsResult) {}
    fn on_upstream_data(&mut self, _w: &mut World, _conn: ConnId) {}
    fn on_upstream_closed(&mut self, _w: &mut World, _conn: ConnId, _reset: bool) {}
    fn on_idle_timeout(&mut self, _w: &mut World, _conn: ConnId, _token: u64) {}
    fn on_client_abort(&mut self, _w: &mut World, _id: ReqId) {}
    fn on_timer(&mut self, _w: &mut World, _id: ReqId, _timer: ProxyTimer) {}
    fn forget_before(&mut self, _id: ReqId) {}
}

/// What issues 16 and 18 added and was measured for nginx (and HAProxy) only
/// (FastCGI and uwsgi app servers, WebSocket upgrades, `localhost` resolved
/// into `::1` and `127.0.0.1`): a flavor measured
/// without them refuses a scenario that needs them, naming `proxy.flavor`,
/// rather than inventing what it does. `name` is the flavor's name.
pub fn unmeasured_issue16(sc: &super::Scenario, name: &str) -> Option<String> {
    // Apache's mod_proxy_fcgi/mod_proxy_uwsgi and Caddy's php_fastcgi exist but
    // were not measured; Varnish speaks HTTP only (issue 18's server kinds).
    if let Some(a) = sc.apps.iter().find(|a| a.server.protocol() != super::server::Protocol::Http) {
        return Some(format!("the {name} flavor models HTTP backends only: {}'s protocol was measured behind nginx only. Use nginx.", a.server.as_str()));
    }
    if sc.clients.websocket || sc.requests.iter().any(|r| r.websocket) || sc.apps.iter().any(|a| a.websocket != super::scenario::WebSocketApp::None) {
        return Some(format!("the {name} flavor does not model WebSocket upgrades yet: they were measured for nginx and HAProxy only."));
    }
    let names_localhost = |a: &str| super::net::Address::parse(a).ok().is_some_and(|a| a.host() == Some("localhost"));
    let pass = super::net::ProxyPass::parse(&sc.proxy.proxy_pass).ok();
    let localhost = pass.is_some_and(|p| match p.host {
        super::net::Target::Addr(a) => a.host() == Some("localhost"),
        super::net::Target::Group(_) => sc.upstream.servers.iter().any(|s| names_localhost(&s.address)),
    });
    if localhost && sc.proxy.localhost_ipv6 {
        return Some(format!("the {name} flavor does not model `localhost` as two addresses (::1 and 127.0.0.1, proxy.localhost_ipv6) yet: measured for nginx and HAProxy only. Use 127.0.0.1, or turn localhost_ipv6 off."));
    }
    None
}

/// The request an upstream connection is carrying for the proxy now, if its
/// answer is still awaited (a stale event on a connection the request left,
/// or for a request already answered, finds none).
pub fn current(w: &World, conn: ConnId) -> Option<ReqId> {
    let id = w.conns[conn].req?;
    (w.exchanges[id].proxy.conn == Some(conn) && !w.exchanges[id].proxy.done).then_some(id)
}

/// An idle pooled connection carries request `id` from now on: its next attempt, counted as a
/// keep-alive reuse (`stats.keepalive_reuses`). Every flavor's pool hands a connection over this way.
pub fn reuse(w: &mut World, id: ReqId, conn: ConnId) {
    let attempt = w.exchanges[id].attempts.len() as u32;
    w.set_conn_req(conn, Some(id));
    let c = &mut w.conns[conn];
    c.state = ConnState::Active;
    c.attempt = attempt;
    w.stats.keepalive_reuses += 1;
    w.begin_attempt(id, conn, true);
}

/// Takes the most recently pooled idle connection to `peer` out of `pool` (ALB and Envoy; Caddy,
/// Varnish and nginx drop a stale newest connection instead, in their own modules).
pub fn take_idle(w: &World, pool: &mut Vec<ConnId>, peer: &str) -> Option<ConnId> {
    let pos = pool.iter().rposition(|&c| w.conns[c].peer == peer && w.conns[c].state == ConnState::Idle)?;
    Some(pool.remove(pos))
}

/// The address of the request's latest upstream attempt (`127.0.0.1:3000`).
pub fn peer(w: &World, id: ReqId) -> String {
    w.exchanges[id].attempts.last().map(|a| a.peer.clone()).unwrap_or_default()
}

/// Marks the proxy's part of the request done: false when it already was
/// (a second answer for the same request is dropped by the caller).
pub fn finish(w: &mut World, id: ReqId) -> bool {
    if w.exchanges[id].proxy.done {
        return false;
    }
    w.exchanges[id].proxy.done = true;
    true
}

/// Whether the client has already gone (closed its connection) when the
/// proxy's answer is ready.
pub fn client_gone(w: &World, id: ReqId) -> bool {
    w.exchanges[id].finished_at.is_some()
}

/// The response leaves the proxy: the client receives it one hop later.
/// `tag` follows the status line in the note (HAProxy's termination state).
/// When the client has gone, the answer is dropped and the note says so.
pub fn deliver(w: &mut World, id: ReqId, response: Response, result: ClientResult, tag: &str) {
    if client_gone(w, id) {
        note!(w, id, Actor::Proxy, "gets \"{}\" for a client that has gone{tag}; drops it", response.status_line());
        return;
    }
    note!(w, id, Actor::Proxy, "sends \"{}\" to the client{tag}", response.status_line());
    hand_over(w, id, response, result);
}

/// The response reaches the client one hop later (no note: the caller wrote it).
pub fn hand_over(w: &mut World, id: ReqId, response: Response, result: ClientResult) {
    let ex = &mut w.exchanges[id];
    ex.response = Some(response);
    ex.client_result = Some(result);
    let hop = w.hop();
    w.schedule(hop, Event::ClientReceive(id));
}

/// What a flavor was measured (or, for a documented flavor, documented) for
/// among the features only some flavors model: each `Some` is the message a
/// scenario that needs the feature gets (`proxy.flavor`'s error); `None`
/// means the flavor models it. nginx and HAProxy model all of them and have
/// no entry.
pub struct Coverage {
    /// The flavor's name in messages (`Apache`).
    pub name: &'static str,
    /// `https://` in `proxy_pass`: TLS to the upstream.
    pub tls: Option<&'static str>,
    /// `proxy.limit_req`.
    pub limit_req: Option<&'static str>,
    /// `proxy.auth_request`.
    pub auth_request: Option<&'static str>,
    /// A `dns_failure` fault whose answer is not NXDOMAIN; `{answer}` is
    /// replaced by `SERVFAIL` or `timeout`.
    pub dns_other_than_nxdomain: Option<&'static str>,
}

/// The table: flavor → what it models of the features above.
pub fn coverage(flavor: Flavor) -> Option<&'static Coverage> {
    const APACHE: Coverage = Coverage {
        name: "Apache",
        tls: Some("the Apache flavor does not model TLS to the backend (mod_ssl's SSLProxyEngine) yet: it was not measured. Use nginx or HAProxy for the TLS faults."),
        limit_req: Some("Apache httpd has no built-in request rate limit (mod_ratelimit limits bandwidth, not requests): rate_limited is modelled for nginx and HAProxy only."),
        auth_request: Some("auth_request is nginx's: the Apache flavor does not model an authorization subrequest."),
        dns_other_than_nxdomain: Some("the Apache flavor models a backend name that does not exist (NXDOMAIN) only; what Apache 2.4 writes for a DNS {answer} was not measured."),
    };
    const CADDY: Coverage = Coverage {
        name: "Caddy",
        tls: Some("the Caddy flavor does not model TLS to the upstream (transport http { tls }) yet: it was not measured. Use nginx or HAProxy for the TLS faults."),
        limit_req: Some("Caddy 2.6 has no built-in request rate limit (it needs a plugin): rate_limited is modelled for nginx and HAProxy only."),
        auth_request: Some("auth_request is nginx's (Caddy's forward_auth was not measured): the Caddy flavor does not model an authorization subrequest."),
        dns_other_than_nxdomain: Some("the Caddy flavor models a name that does not exist (NXDOMAIN) only; what Caddy writes for another DNS answer was not measured."),
    };
    const VARNISH: Coverage = Coverage {
        name: "Varnish",
        tls: Some("Varnish does not speak TLS to a backend (it needs a TLS proxy in front of the backend): TLS faults are modelled for nginx and HAProxy."),
        limit_req: Some("limit_req and auth_request are nginx's: Varnish has neither built in."),
        auth_request: Some("limit_req and auth_request are nginx's: Varnish has neither built in."),
        dns_other_than_nxdomain: None,
    };
    const ENVOY: Coverage = Coverage {
        name: "Envoy",
        tls: Some("the Envoy flavor does not model TLS to the upstream (a transport_socket on the cluster): it is documented, not verified, and only plain HTTP upstreams are modelled."),
        limit_req: Some("limit_req is nginx's: Envoy's local_ratelimit filter (flag RL, 429) is not modelled."),
        auth_request: Some("auth_request is nginx's: Envoy's ext_authz filter (flag UAEX) is not modelled."),
        dns_other_than_nxdomain: Some("the Envoy flavor does not model a DNS {answer}: what a STRICT_DNS cluster does then was not documented in the sources read."),
    };
    const ALB: Coverage = Coverage {
        name: "AWS ALB",
        tls: Some("the ALB flavor does not model HTTPS targets: it is documented, not verified, and only HTTP targets are modelled."),
        limit_req: Some("limit_req is nginx's: an ALB has no request rate limit of its own (AWS WAF rate-based rules are not modelled)."),
        auth_request: Some("auth_request is nginx's: the ALB's authenticate actions (and their 561) are not modelled."),
        dns_other_than_nxdomain: Some("an ALB's targets are registered by IP address or instance: a DNS {answer} for a target is not modelled."),
    };
    match flavor {
        Flavor::Nginx | Flavor::Haproxy => None,
        Flavor::Apache => Some(&APACHE),
        Flavor::Caddy => Some(&CADDY),
        Flavor::Varnish => Some(&VARNISH),
        Flavor::Envoy => Some(&ENVOY),
        Flavor::Alb => Some(&ALB),
    }
}

/// The checks every flavor with a `coverage` entry shares, in this order:
/// issue 16's features (`unmeasured_issue16`), TLS, `limit_req`,
/// `auth_request`, a DNS answer other than NXDOMAIN. None: nothing the
/// scenario needs is outside the table's coverage (the flavor's own checks
/// come after).
pub fn uncovered(sc: &Scenario) -> Option<String> {
    let cov = coverage(sc.proxy.flavor)?;
    if let Some(why) = unmeasured_issue16(sc, cov.name) {
        return Some(why);
    }
    if let Some(why) = cov.tls {
        if ProxyPass::parse(&sc.proxy.proxy_pass).is_ok_and(|p| p.scheme == Scheme::Https) {
            return Some(why.into());
        }
    }
    if let (Some(why), true) = (cov.limit_req, sc.proxy.limit_req.is_some()) {
        return Some(why.into());
    }
    if let (Some(why), true) = (cov.auth_request, sc.proxy.auth_request.is_some()) {
        return Some(why.into());
    }
    if let Some(why) = cov.dns_other_than_nxdomain {
        for f in &sc.faults {
            if let super::FaultKind::DnsFailure { answer, .. } = &f.kind {
                let name = match answer {
                    DnsAnswer::Nxdomain => continue,
                    DnsAnswer::Servfail => "SERVFAIL",
                    _ => "timeout",
                };
                return Some(why.replace("{answer}", name));
            }
        }
    }
    None
}

/// The registry of `split-flavors` (run with `cargo test -p gateway-core --features split-flavors
/// --lib split_flavors`): one test, since the registry is process-wide and is never emptied.
#[cfg(all(test, feature = "split-flavors"))]
mod split_flavors_tests {
    use crate::session::{Session, SessionError};
    use crate::sim::scenario::Flavor;
    use crate::sim::{Scenario, Simulation};

    fn on(flavor: Flavor) -> Scenario {
        let mut sc = crate::scenarios::blank();
        sc.proxy.flavor = flavor;
        sc
    }

    #[test]
    fn split_flavors_refuse_until_registered_then_run_as_natively() {
        // nginx never waits.
        assert!(super::loaded(Flavor::Nginx));
        assert!(Session::new(on(Flavor::Nginx)).is_ok());
        for f in Flavor::ALL.into_iter().filter(|f| *f != Flavor::Nginx) {
            assert!(!super::loaded(f), "{f:?} is loaded before register_flavors");
            assert!(matches!(Session::new(on(f)), Err(SessionError::FlavorNotLoaded(g)) if g == f));
            let err = Simulation::new(on(f)).err().expect("refused").0;
            assert!(err.starts_with("proxy.flavor: "), "{err}");
            // A switch of a running nginx session is refused and changes nothing.
            let mut s = Session::new(on(Flavor::Nginx)).expect("nginx");
            let epoch = s.epoch();
            assert!(matches!(s.apply(on(f)), Err(SessionError::FlavorNotLoaded(_))));
            assert!(matches!(s.load(on(f)), Err(SessionError::FlavorNotLoaded(_))));
            assert_eq!((s.scenario().proxy.flavor, s.epoch()), (Flavor::Nginx, epoch));
        }
        super::register_flavors();
        super::register_flavors();
        let sc = on(Flavor::Haproxy);
        let mut s = Session::new(sc.clone()).expect("HAProxy once registered");
        s.break_with("app_down").expect("break");
        s.send(1, 0).expect("send");
        assert_eq!(s.last().and_then(|e| e.status()), Some(503));
        for f in Flavor::ALL {
            assert!(super::loaded(f));
            assert!(Session::new(on(f)).is_ok(), "{f:?}");
        }
    }
}
