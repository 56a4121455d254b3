//! Proxy flavours. Each flavour is one module behind [`ProxyFlavor`]; the
//! engine calls it for every proxy-side event and it decides what the proxy
//! does, which log lines it writes and what the client gets.

pub mod alb;
pub mod apache;
pub mod caddy;
pub mod haproxy;
pub mod nginx;
pub mod varnish;

use super::app::TlsResult;
use super::fault::ConnectOutcome;
use super::world::{ConnId, ProxyTimer, ReqId, World};

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
pub enum Proxy {
    Nginx(nginx::Nginx),
    Haproxy(haproxy::Haproxy),
    Apache(apache::Apache),
    Caddy(caddy::Caddy),
    Varnish(varnish::Varnish),
}

impl Proxy {
    /// Starts the flavour the scenario names (it may fail to start and
    /// leave `w.proxy_running` false, as nginx does on a bad config).
    pub fn start(w: &mut World) -> Proxy {
        match w.scenario.proxy.flavor {
            super::scenario::Flavor::Nginx => Proxy::Nginx(nginx::Nginx::start(w)),
            super::scenario::Flavor::Haproxy => Proxy::Haproxy(haproxy::Haproxy::start(w)),
            super::scenario::Flavor::Apache => Proxy::Apache(apache::Apache::start(w)),
            super::scenario::Flavor::Caddy => Proxy::Caddy(caddy::Caddy::start(w)),
            super::scenario::Flavor::Varnish => Proxy::Varnish(varnish::Varnish::start(w)),
        }
    }

    pub fn flavor(&mut self) -> &mut dyn ProxyFlavor {
        match self {
            Proxy::Nginx(p) => p,
            Proxy::Haproxy(p) => p,
            Proxy::Apache(p) => p,
            Proxy::Caddy(p) => p,
            Proxy::Varnish(p) => p,
        }
    }
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
