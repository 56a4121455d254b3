//! nginx 1.22 as a reverse proxy. Messages, levels, pages and the retry
//! logic follow nginx's own sources (ngx_http_upstream.c,
//! ngx_http_proxy_module.c, ngx_event_connect.c) and were checked against a
//! real nginx 1.22.1: docs/research/nginx-1.22-observations*.md.

pub mod conf;
pub mod limit_req;
pub mod pages;
pub mod peers;
pub mod ssl_name;
pub mod request_limits;
pub mod upstream_log;
pub mod auth_request;
pub mod worker_connections;

use crate::sim::app::{self, TlsResult};
use crate::sim::failure::{FailureCause, TimeoutPhase, TlsProblem};
use crate::sim::fault::{CertProblem, ConnectOutcome, DnsAnswer, Wire};
use crate::sim::http::{Header, Response};
use crate::sim::log::{nginx_combined_line, nginx_error_line, ErrorContext, Level, LogLine};
use crate::sim::net::{Address, ProxyPass, Scheme, Target};
use crate::sim::server::Protocol;
use crate::sim::window::PerRequest;
use crate::sim::world::{
    Actor, AttemptResult, ClientResult, ConnId, ConnState, Event, ProxyTimer, ReqId, World,
};

use super::ProxyFlavor;
use limit_req::{fmt_excess, LimitReqState, Verdict};
use pages::{error_page, own_reason};
use peers::{PeerSet, Pick};

/// Where the exported config lives; nginx names it in `[emerg]` lines.
pub const CONF_PATH: &str = "/etc/nginx/conf.d/gateway-lab.conf";
/// Debian's main nginx.conf, which includes conf.d/*.conf inside http{}.
pub const MAIN_CONF: &str = "/etc/nginx/nginx.conf";
/// The line of the `}` closing http{} in Debian 12's nginx.conf.
pub const MAIN_CONF_HTTP_END: u32 = 61;

const CONNECTING: &str = "connecting to upstream";
const READING_HEADER: &str = "reading response header from upstream";
const READING_BODY: &str = "reading upstream";
const SSL_HANDSHAKING: &str = "SSL handshaking to upstream";
const SENDING: &str = "sending request to upstream";
const CLIENT_CLOSED: &str = "epoll_wait() reported that client prematurely closed connection, so upstream connection is closed too";

/// What the socket buffers between nginx and the app absorb before the app
/// must read (Linux loopback: wmem + rmem defaults, about 200 KiB each).
pub const SOCKET_BUFFER_BYTES: u64 = 425_984;

/// `proxy_next_upstream` failure types (NGX_HTTP_UPSTREAM_FT_*).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ft {
    Error,
    Timeout,
    InvalidHeader,
    Http(u16),
    NoLive,
}

impl Ft {
    fn directive(self) -> String {
        match self {
            Ft::Error => "error".into(),
            Ft::Timeout => "timeout".into(),
            Ft::InvalidHeader => "invalid_header".into(),
            Ft::Http(s) => format!("http_{s}"),
            Ft::NoLive => "noliveupstream".into(),
        }
    }

    fn status(self) -> u16 {
        match self {
            Ft::Timeout => 504,
            Ft::Http(s) => s,
            _ => 502,
        }
    }
}

pub struct Nginx {
    pass: Option<ProxyPass>,
    /// The protocol it speaks to the apps: `proxy_pass` (HTTP),
    /// `fastcgi_pass` or `uwsgi_pass` (`sim::server`).
    protocol: Protocol,
    peers: PeerSet,
    /// `proxy_pass http://name:port` resolved per request by `resolver`.
    runtime_host: Option<(String, u16)>,
    /// The upstream block's name when proxy_pass names one.
    group: Option<String>,
    /// Idle upstream connections, most recently used last.
    cache: Vec<ConnId>,
    limit: LimitReqState,
    /// Per request: which peer each attempt used.
    picks: PerRequest<Option<Pick>>,
    /// Per request: tried bitmaps (primary, backup).
    tried: PerRequest<(Vec<bool>, Vec<bool>)>,
    /// The `Server` header's value.
    server: String,
    /// The last `Date` header's value, and its calendar second.
    date: (i64, String),
    /// `proxy_ssl_name` (its default: the host of proxy_pass).
    ssl_name: String,
    /// Per request: it ended on "no live upstreams" (an `$upstream_addr`
    /// entry named after the group).
    no_live: PerRequest<bool>,
    /// Per request: its `auth_request` subrequest.
    auth: PerRequest<auth_request::AuthState>,
    /// The worker's connection slots (`worker_connections`).
    slots: worker_connections::Slots,
    /// Per request: the 101 of an upgraded connection (WebSocket), relayed
    /// and logged when the tunnel closes.
    tunnels: PerRequest<Option<Response>>,
    /// The host of an implicit upstream (`proxy_pass http://localhost:5000`):
    /// its name in "no live upstreams".
    implicit: Option<String>,
}

/// The addresses the proxy host's resolver gives `host` at start-up:
/// `localhost` is `::1` and `127.0.0.1` when /etc/hosts has `::1 localhost`
/// (`proxy.localhost_ipv6`; glibc sorts ::1 first); any other name is the
/// loopback address the apps listen on.
pub fn hosts_addresses(sc: &crate::sim::Scenario, host: &str) -> &'static [&'static str] {
    if host == "localhost" && sc.proxy.localhost_ipv6 { &["::1", "127.0.0.1"] } else { &["127.0.0.1"] }
}

/// When an attempt of request `id` was refused on an IPv6 peer that the name
/// `localhost` gave (`proxy.localhost_ipv6`): why, and the fix.
fn localhost_note(w: &World, id: ReqId) -> Option<String> {
    let sc = &w.scenario;
    let named = |a: &str| Address::parse(a).ok().is_some_and(|a| a.host() == Some("localhost"));
    let uses_localhost = match ProxyPass::parse(&sc.proxy.proxy_pass).ok()?.host {
        Target::Addr(a) => a.host() == Some("localhost"),
        Target::Group(g) => g == sc.upstream.name && sc.upstream.servers.iter().any(|s| named(&s.address)),
    };
    if !sc.proxy.localhost_ipv6 || !uses_localhost {
        return None;
    }
    let refused = w.exchanges[id].attempts.iter().find(|a| a.result.cause() == Some(&FailureCause::Refused) && Address::parse(&a.peer).is_ok_and(|p| p.is_ipv6()))?;
    let port = Address::parse(&refused.peer).ok()?.port()?;
    Some(format!(
        "localhost is two addresses on this host: /etc/hosts maps both ::1 and 127.0.0.1 to it (Debian's default), so nginx resolved it at start-up into two peers, [::1]:{port} first and 127.0.0.1:{port}. Nothing listens on [::1]:{port} (the app is bound to 127.0.0.1 only: ss -tlnp shows 127.0.0.1:{port}, not [::1]:{port}), so the connect to it was refused (111) and logged, the peer was disabled for fail_timeout, and nginx went on to the next peer. Fix: proxy_pass http://127.0.0.1:{port} (or an upstream block with that address), or make the app listen on [::1] too."
    ))
}

fn resolve_startup(w: &World, host: &str) -> Option<DnsAnswer> {
    w.scenario.faults.iter().find_map(|f| f.dns_answer(host))
}

impl Nginx {
    /// Reads the configuration the way `nginx` does at start-up. Names in
    /// `upstream` servers and in a static `proxy_pass` are resolved now; a
    /// failure stops nginx with an `[emerg]` line.
    pub fn start(w: &mut World) -> Nginx {
        let mut n = Nginx {
            pass: ProxyPass::parse(&w.scenario.proxy.proxy_pass).ok(),
            protocol: crate::sim::server::protocol(&w.scenario.apps),
            peers: PeerSet::new(&[]),
            runtime_host: None,
            group: None,
            cache: Vec::new(),
            limit: LimitReqState::default(),
            picks: PerRequest::default(),
            tried: PerRequest::default(),
            server: Self::server_header(w),
            date: (i64::MIN, String::new()),
            ssl_name: ssl_name::ssl_name(&w.scenario),
            no_live: PerRequest::default(),
            auth: PerRequest::default(),
            slots: Default::default(),
            implicit: None,
            tunnels: PerRequest::default(),
        };
        let Some(pass) = n.pass.clone() else {
            w.proxy_running = false;
            return n;
        };
        let servers = match &pass.host {
            Target::Group(name) if *name == w.scenario.upstream.name => {
                n.group = Some(name.clone());
                w.scenario.upstream.servers.clone()
            }
            Target::Group(name) => {
                // No such block: nginx resolves it as a host name (port 80).
                n.implicit = Some(name.clone());
                vec![crate::sim::scenario::UpstreamServer { address: format!("{name}:80"), ..Default::default() }]
            }
            Target::Addr(addr) => {
                if let (Some(host), false, Some(_)) = (addr.host(), addr.is_ip(), &w.scenario.proxy.resolver) {
                    n.runtime_host = Some((host.to_string(), addr.port().unwrap_or(80)));
                }
                // An implicit upstream: "no live upstreams" names its host.
                n.implicit = addr.host().map(str::to_string);
                vec![crate::sim::scenario::UpstreamServer { address: addr.to_string(), ..Default::default() }]
            }
        };
        // ngx_http_proxy_merge_loc_conf: the buffer sizes must fit together.
        let p = &w.scenario.proxy;
        let busy = 2 * p.proxy_buffer_size.max(p.proxy_buffers_size);
        if busy >= (p.proxy_buffers_count as u64 - 1) * p.proxy_buffers_size {
            // A merge-time check: nginx names the end of the http{} block of
            // the main file (line 61 of Debian's /etc/nginx/nginx.conf).
            Self::emerg(w, "\"proxy_busy_buffers_size\" must be less than the size of all \"proxy_buffers\" minus one buffer", MAIN_CONF, MAIN_CONF_HTTP_END);
            return n;
        }
        let mut resolved: Vec<(usize, crate::sim::scenario::UpstreamServer)> = servers.iter().cloned().enumerate().collect();
        if n.runtime_host.is_none() {
            resolved.clear();
            let in_block = n.group.is_some();
            let rendered = conf::render(&w.scenario, &conf::Paths::default());
            for (i, s) in servers.iter().enumerate() {
                let Ok(addr) = Address::parse(&s.address) else {
                    resolved.push((i, s.clone()));
                    continue;
                };
                let Some(host) = addr.host().filter(|_| !addr.is_ip()) else {
                    resolved.push((i, s.clone()));
                    continue;
                };
                if resolve_startup(w, host).is_some() {
                    // An upstream{} server line quotes host:port, proxy_pass only the host.
                    let quoted = if in_block { s.address.clone() } else { host.to_string() };
                    let line = if in_block { rendered.server_lines.get(i).copied().unwrap_or(2) } else { rendered.proxy_pass_line };
                    Self::emerg(w, &format!("host not found in upstream \"{quoted}\""), CONF_PATH, line);
                    return n;
                }
                // getaddrinfo() through /etc/hosts; nginx keeps every address
                // in the order given (::1 first: measured on 1.22.1).
                for ip in hosts_addresses(&w.scenario, host) {
                    resolved.push((i, crate::sim::scenario::UpstreamServer { address: addr.resolved(ip).to_string(), ..s.clone() }));
                }
            }
        }
        n.peers = PeerSet::resolved(&resolved);
        n
    }

    /// nginx refuses to start: the `[emerg]` line goes to stderr (the
    /// journal of nginx.service), not to error.log.
    fn emerg(w: &mut World, message: &str, file: &str, line: u32) {
        let pid = w.scenario.proxy.worker_pid.saturating_sub(1);
        let l = format!("{} [emerg] {pid}#{pid}: {message} in {file}:{line}", w.clock.error_log(w.now));
        w.proxy_stderr.push(l);
        w.proxy_running = false;
    }

    /// An error.log line for request `id` (and its note in the timeline);
    /// `upstream` is the peer for the line's `upstream:` field. A run that
    /// keeps no details writes no log lines.
    fn log(&self, w: &mut World, id: ReqId, level: Level, message: &str, action: Option<&str>, upstream: Option<&str>) {
        self.log_peer(w, id, level, message, action, upstream, false)
    }

    /// [`Self::log`]; `freed`: nginx has already freed the peer
    /// (`u->peer.sockaddr = NULL`, as before "upstream timed out"), so a
    /// unix socket's `upstream:` field has no `:` separator.
    #[allow(clippy::too_many_arguments)]
    fn log_peer(&self, w: &mut World, id: ReqId, level: Level, message: &str, action: Option<&str>, upstream: Option<&str>, freed: bool) {
        note!(w, id, Actor::Proxy, "error.log [{}] {message}", level.as_str());
        let threshold = Level::parse(&w.scenario.proxy.error_log_level).unwrap_or(Level::Error);
        if level > threshold || !w.keep_details {
            return;
        }
        let upstream = upstream.map(|peer| self.upstream_field(w, id, peer, freed));
        let ex = &w.exchanges[id];
        let request_line = ex.request_line();
        let host = (!ex.request.host.is_empty()).then_some(ex.request.host.as_str());
        let line = nginx_error_line(
            &w.clock.error_log(w.now),
            level,
            w.scenario.proxy.worker_pid,
            ex.client_connection,
            message,
            &ErrorContext {
                client: &ex.client_ip,
                server: w.scenario.proxy.server_name.split_whitespace().next().unwrap_or(""),
                request_line: &request_line,
                action,
                upstream: upstream.as_deref(),
                host,
            },
        );
        w.error_log.push(line.clone());
        w.exchanges[id].error_lines.push(LogLine { level, text: line });
    }

    /// `upstream: "http://127.0.0.1:3000/users"` for the peer `peer`
    /// (`u->schema`, the peer, `:` after a unix socket whose address nginx
    /// still holds, `u->uri`). FastCGI and uwsgi have no URI there:
    /// `fastcgi://unix:/run/php/php8.2-fpm.sock:`, `uwsgi://127.0.0.1:3031`.
    fn upstream_field(&self, w: &World, id: ReqId, peer: &str, freed: bool) -> String {
        let sep = if peer.starts_with("unix:") && !freed { ":" } else { "" };
        if let Some(schema) = self.protocol.schema() {
            return format!("{schema}://{peer}{sep}");
        }
        let scheme = self.pass.as_ref().map(|p| p.scheme).unwrap_or(Scheme::Http).as_str();
        let path = &w.exchanges[id].request.path;
        if peer.starts_with("unix:") && freed {
            format!("{scheme}://{peer}{path}")
        } else if peer.starts_with("unix:") {
            format!("{scheme}://{peer}:{path}")
        } else {
            format!("{scheme}://{peer}{path}")
        }
    }

    /// The app answered 101 Switching Protocols (ngx_http_upstream_upgrade):
    /// nginx relays it with `Connection: upgrade` and the two connections
    /// become a tunnel. Nothing is sent on it here, so it ends when it has
    /// been idle for proxy_read_timeout (measured: observations-4.md §4).
    fn start_tunnel(&mut self, w: &mut World, id: ReqId, mut out: Response) {
        // nginx drops the app's hop-by-hop Connection and writes its own
        // after Server and Date (measured: curl -v, observations-5.md §2).
        out.headers.retain(|h| !h.name.eq_ignore_ascii_case("connection"));
        out.headers.insert(2.min(out.headers.len()), Header::new("Connection", "upgrade"));
        let t = w.scenario.proxy.proxy_read_timeout_ms;
        note!(w, id, Actor::Proxy, "relays \"{}\" to the client: the connection is now a tunnel, closed after proxy_read_timeout ({t} ms) without data", out.status_line());
        *self.tunnels.at(id) = Some(out);
        w.schedule(t * 1_000, Event::ProxyTimer { id, timer: ProxyTimer::Tunnel });
    }

    /// The tunnel has been idle for proxy_read_timeout: nginx closes both
    /// sides, logs at info, and the access.log line (`101 0`) is written now.
    fn end_tunnel(&mut self, w: &mut World, id: ReqId) {
        let Some(out) = self.tunnels.at(id).take() else { return };
        if let Some(conn) = Self::current_conn(w, id) {
            let peer = w.conns[conn].peer.clone();
            self.log(w, id, Level::Info, "upstream timed out (110: Connection timed out)", Some("proxying upgraded connection"), Some(&peer));
            self.upstream_done(w, id, conn, false);
        }
        if w.keep_details {
            w.exchanges[id].explanation = Some(format!(
                "The upgrade reached the app (proxy_http_version 1.1, proxy_set_header Upgrade $http_upgrade and Connection \"upgrade\"), it answered 101 Switching Protocols, and nginx turned both connections into a WebSocket tunnel. Nobody sent a frame for proxy_read_timeout ({} ms), so nginx closed the tunnel: \"upstream timed out (110: Connection timed out) while proxying upgraded connection\" at [info] only (nothing at the default error level), and access.log logs 101 0 when the tunnel ends. Fix for long-lived sockets: raise proxy_read_timeout (and proxy_send_timeout) for the WebSocket location, or have the app or client send pings more often than that.",
                w.scenario.proxy.proxy_read_timeout_ms
            ));
        }
        self.send_to_client(w, id, out, 101, ClientResult::Response);
    }

    /// The upstream's name in "no live upstreams": the block's, or the host
    /// of an implicit one (`peers->name`).
    fn live_name(&self) -> String {
        self.group.clone().or_else(|| self.implicit.clone()).unwrap_or_default()
    }

    fn current_conn(w: &World, id: ReqId) -> Option<ConnId> {
        w.exchanges[id].proxy.conn
    }

    fn server_header(w: &World) -> String {
        let p = &w.scenario.proxy;
        if p.server_tokens { format!("nginx/{}", p.version) } else { "nginx".into() }
    }

    /// The `Server` and `Date` headers nginx puts first in every response
    /// (the date is formatted once per second).
    fn own_headers(&mut self, w: &World) -> [Header; 2] {
        let secs = w.clock.unix(w.now);
        if self.date.0 != secs {
            self.date = (secs, w.clock.http_date(w.now));
        }
        [Header::new("Server", self.server.clone()), Header::new("Date", self.date.1.clone())]
    }

    fn next_upstream_has(w: &World, what: &str) -> bool {
        let list = &w.scenario.proxy.proxy_next_upstream;
        !list.iter().any(|c| c == "off") && list.iter().any(|c| c == what)
    }

    fn ensure_slots(&mut self, id: ReqId) {
        self.picks.at(id);
        self.tried.at(id);
    }

    // ------------------------------------------------------------------
    // Request start: limit_req, resolver, then the first connect.

    fn start_upstream(&mut self, w: &mut World, id: ReqId) {
        if self.auth_gate(w, id) {
            return; // auth_request: the subrequest goes first
        }
        self.ensure_slots(id);
        self.tried[id] = (vec![false; self.peers.primary.len()], vec![false; self.peers.backup.len()]);
        let mut tries = self.peers.tries();
        let cap = w.scenario.proxy.proxy_next_upstream_tries;
        if cap > 0 && tries > cap {
            tries = cap;
        }
        let now = w.now;
        let st = &mut w.exchanges[id].proxy;
        st.tries = tries;
        st.start = Some(now);
        if let Some((host, _port)) = self.runtime_host.clone() {
            let answer = w.scenario.faults.iter().find_map(|f| f.dns_answer(&host));
            note!(w, id, Actor::Proxy, "asks the resolver for {host}");
            match answer {
                None => {
                    w.exchanges[id].proxy.resolved = Some("127.0.0.1".into());
                    self.connect(w, id);
                }
                Some(DnsAnswer::Timeout) => {
                    let t = w.scenario.proxy.resolver_timeout_ms * 1_000;
                    w.schedule(t, Event::ProxyTimer { id, timer: ProxyTimer::Resolver });
                }
                Some(a) => {
                    let (msg, said, fix) = match a {
                        DnsAnswer::Nxdomain => (
                            format!("{host} could not be resolved (3: Host not found)"),
                            "said the name does not exist",
                            "correct the name or its DNS record",
                        ),
                        _ => (
                            format!("{host} could not be resolved (2: Server failure)"),
                            "failed to answer for it (SERVFAIL)",
                            "repair the DNS server or the zone it serves for that name",
                        ),
                    };
                    self.log(w, id, Level::Error, &msg, None, None);
                    self.finalize_error(w, id, 502, format!(
                        "nginx resolves {host} at request time (a variable in proxy_pass with a resolver) and the DNS server {said}. \
                         nginx answers 502 without trying to connect. Fix: {fix}."
                    ));
                }
            }
            return;
        }
        self.connect(w, id);
    }

    /// `ngx_http_upstream_connect`: pick a peer, reuse a cached connection
    /// or open a new one.
    fn connect(&mut self, w: &mut World, id: ReqId) {
        let now_s = w.unix_secs();
        // A request that began before a reload (`set_faults`, `reconfigure`)
        // carries on under the new upstream block: size its bitmaps to it.
        let (np, nb) = (self.peers.primary.len(), self.peers.backup.len());
        let (tp, tb) = self.tried.at(id);
        if tp.len() != np || tb.len() != nb {
            (*tp, *tb) = (vec![false; np], vec![false; nb]);
        }
        let mut on_backup = w.exchanges[id].proxy.on_backup;
        let pick = self.peers.get(tp, tb, &mut on_backup, now_s);
        w.exchanges[id].proxy.on_backup = on_backup;
        let Some(pick) = pick else {
            self.picks[id] = None;
            let group = self.live_name();
            self.log(w, id, Level::Error, "no live upstreams", Some(CONNECTING), Some(&group));
            *self.no_live.at(id) = true;
            self.next(w, id, Ft::NoLive, None);
            return;
        };
        self.picks[id] = Some(pick);
        let mut peer = self.peers.peer(pick).name.clone();
        if let Some(ip) = &w.exchanges[id].proxy.resolved {
            if let (Some((_, port)), true) = (&self.runtime_host, !ip.is_empty()) {
                peer = format!("{ip}:{port}");
            }
        }
        let server = self.group.as_ref().map(|_| self.peers.peer(pick).server);
        let attempt = w.exchanges[id].attempts.len() as u32;

        // Keepalive cache (ngx_http_upstream_keepalive_module): most recent first.
        if w.scenario.upstream.keepalive > 0 {
            if let Some(pos) = self.cache.iter().rposition(|&c| w.conns[c].peer == peer) {
                let conn = self.cache.remove(pos);
                // A pending idle timer of the cache no longer applies to it.
                w.conns[conn].proxy_idle_token += 1;
                super::reuse(w, id, conn);
                let number = w.conns[conn].number;
                note!(w, id, Actor::Proxy, "reuses idle keepalive connection *{number} to {peer}");
                self.send_request(w, id, conn);
                return;
            }
        }
        if self.upstream_refused(w, id, &peer) {
            return;
        }
        let conn = w.connect_attempt(id, peer.clone(), server);
        self.upstream_opened(conn);
        let number = w.conns[conn].number;
        note!(w, id, Actor::Proxy, "connect() to {peer} (upstream connection *{number})");
        let t = w.scenario.proxy.proxy_connect_timeout_ms * 1_000;
        w.schedule(t, Event::ProxyTimer { id, timer: ProxyTimer::Connect { attempt } });
    }

    fn send_request(&mut self, w: &mut World, id: ReqId, conn: ConnId) {
        let p = &w.scenario.proxy;
        // fastcgi_keep_conn off and uwsgi: one request per connection.
        let keepalive = w.scenario.upstream.keepalive > 0
            && self.protocol == Protocol::Http
            && p.proxy_http_version == "1.1"
            && p.proxy_set_header.get("Connection").is_some_and(|v| v.is_empty());
        w.conns[conn].keepalive = keepalive;
        w.conns[conn].state = ConnState::Active;
        w.request_sent(id);
        if w.record_timelines {
            let line = w.exchanges[id].request_line();
            let version = &w.scenario.proxy.proxy_http_version;
            let upstream_line = line.replace("HTTP/1.1", &format!("HTTP/{version}"));
            match self.protocol {
                Protocol::Http => {
                    let upgrade = w.exchanges[id].request.websocket && crate::sim::websocket::upgrade_reaches_app(&w.scenario);
                    let how = if upgrade {
                        " with Upgrade: websocket and Connection: upgrade"
                    } else if w.exchanges[id].request.websocket {
                        " with Connection: close and without the client's Upgrade header"
                    } else if keepalive {
                        ""
                    } else {
                        " with Connection: close"
                    };
                    note!(w, id, Actor::Proxy, "sends \"{upstream_line}\" upstream{how}");
                }
                p => note!(w, id, Actor::Proxy, "passes \"{line}\" upstream as {} ({}_param)", if p == Protocol::FastCgi { "FastCGI params" } else { "uwsgi vars" }, p.prefix()),
            }
        }
        let hop = w.hop();
        w.schedule(hop, Event::AppRequest { conn });
        let attempt = w.conns[conn].attempt;
        if w.exchanges[id].request.body_bytes > SOCKET_BUFFER_BYTES {
            // The body does not fit in the socket buffers: writing it blocks
            // until the app reads, and proxy_send_timeout watches that.
            let t = w.scenario.proxy.proxy_send_timeout_ms * 1_000;
            w.schedule(t, Event::ProxyTimer { id, timer: ProxyTimer::Send { attempt } });
            return; // proxy_read_timeout starts once the body is written (on_request_drained)
        }
        let t = w.scenario.proxy.proxy_read_timeout_ms * 1_000;
        w.schedule(t, Event::ProxyTimer { id, timer: ProxyTimer::Read { attempt } });
    }

    // ------------------------------------------------------------------
    // Failure handling: ngx_http_upstream_next.


    fn close_conn(&mut self, w: &mut World, conn: ConnId) {
        // `req` stays: the app may still be working on that request.
        w.conns[conn].state = ConnState::Closed;
        self.cache.retain(|&c| c != conn);
    }

    /// The current attempt failed with `ft`. `action` is nginx's "while ..."
    /// context for the timeout line.
    fn next(&mut self, w: &mut World, id: ReqId, ft: Ft, action: Option<&str>) {
        let cached = w.exchanges[id].attempts.last().is_some_and(|a| a.reused);
        if let Some(conn) = w.set_req_conn(id, None) {
            self.close_conn(w, conn);
        }
        // Free the peer: every failure type counts, except 403/404.
        if ft != Ft::NoLive {
            if let Some(pick) = self.picks[id] {
                let failed = !matches!(ft, Ft::Http(403) | Ft::Http(404));
                if self.free_peer(w, id, failed) {
                    let peer = self.peers.peer(pick).name.clone();
                    let act = action.unwrap_or(CONNECTING);
                    self.log(w, id, Level::Warn, "upstream server temporarily disabled", Some(act), Some(&peer));
                }
            }
        }
        if ft == Ft::Timeout {
            if let Some((peer, cause)) = w.exchanges[id].attempts.last().and_then(|a| Some((a.peer.clone(), a.result.cause()?.clone()))) {
                let (level, msg) = self.failure_line(&cause, &peer);
                self.log_peer(w, id, level, &msg, action, Some(&peer), true);
            }
        }
        if cached && ft == Ft::Error {
            // "TODO: inform balancer instead": a broken cached connection
            // does not use up a try.
            w.exchanges[id].proxy.tries += 1;
        }
        let status = ft.status();
        let method = w.exchanges[id].request.method.clone();
        let non_idempotent = w.exchanges[id].proxy.request_sent
            && matches!(method.as_str(), "POST" | "LOCK" | "PATCH")
            && !Self::next_upstream_has(w, "non_idempotent");
        let limit = w.scenario.proxy.proxy_next_upstream_timeout_ms;
        let started = w.exchanges[id].proxy.start.unwrap_or(w.now);
        let out_of_time = limit > 0 && w.now.since(started) >= limit * 1_000;
        let tries = w.exchanges[id].proxy.tries;
        if tries == 0 || !Self::next_upstream_has(w, &ft.directive()) || non_idempotent || out_of_time {
            let why = if !w.keep_details {
                String::new()
            } else if non_idempotent {
                format!(" The request was a {method}, which nginx does not pass to another server once it has been sent (proxy_next_upstream has no non_idempotent).")
            } else if tries == 0 && w.exchanges[id].attempts.len() > 1 {
                format!(" nginx tried {} times and had no tries left.", w.exchanges[id].attempts.len())
            } else {
                String::new()
            };
            let explanation = if w.keep_details { self.explain(w, id, ft, status) + &why } else { String::new() };
            self.finalize_error(w, id, status, explanation);
            return;
        }
        note!(w, id, Actor::Proxy, "proxy_next_upstream {}: tries the next server ({tries} tries left)", ft.directive());
        self.connect(w, id);
    }

    /// The name nginx checks the upstream's certificate against
    /// (`proxy_ssl_name`'s default: the host of proxy_pass).
    fn ssl_name(&self) -> String {
        self.ssl_name.clone()
    }

    /// The error.log level and message nginx writes for a failed attempt
    /// to `peer` (without the " while ..." context).
    fn failure_line(&self, cause: &FailureCause, peer: &str) -> (Level, String) {
        let errno = cause.errno().map(|(code, text)| format!("({code}: {text})")).unwrap_or_default();
        match cause {
            // ngx_event_connect_peer: ECONNREFUSED is an [error], other connect() errors [crit].
            FailureCause::Refused | FailureCause::NoSuchFile | FailureCause::PermissionDenied => {
                let level = if *cause == FailureCause::Refused { Level::Error } else { Level::Crit };
                // The connect() syscall itself failed (ngx_event_connect_peer): the
                // address is named. A refused TCP connect fails later, on the
                // socket: its peer is in the "upstream:" field only.
                let named = peer.starts_with("unix:") || *cause != FailureCause::Refused;
                let msg = if named { format!("connect() to {peer} failed {errno}") } else { format!("connect() failed {errno}") };
                (level, msg)
            }
            FailureCause::Reset => (Level::Error, format!("recv() failed {errno}")),
            FailureCause::PrematureClose => (Level::Error, "upstream prematurely closed connection".into()),
            FailureCause::Timeout { .. } => (Level::Error, format!("upstream timed out {errno}")),
            FailureCause::Tls(TlsProblem::CertVerify(CertProblem::Expired)) => {
                (Level::Error, "upstream SSL certificate verify error: (10:certificate has expired)".into())
            }
            FailureCause::Tls(TlsProblem::CertVerify(CertProblem::SelfSigned)) => {
                (Level::Error, "upstream SSL certificate verify error: (18:self-signed certificate)".into())
            }
            FailureCause::Tls(TlsProblem::CertVerify(CertProblem::HostnameMismatch)) => {
                (Level::Error, format!("upstream SSL certificate does not match \"{}\"", self.ssl_name()))
            }
            FailureCause::Tls(TlsProblem::HandshakeFailure) => {
                (Level::Error, "SSL_do_handshake() failed (SSL: error:0A00010B:SSL routines::wrong version number)".into())
            }
            // ngx_ssl_connection_error lowers the level only for a list of
            // reasons: alert 40 is on it ([error]), alert 112 is not ([crit]).
            FailureCause::Tls(TlsProblem::Alert(40)) => (
                Level::Error,
                "SSL_do_handshake() failed (SSL: error:0A000410:SSL routines::sslv3 alert handshake failure:SSL alert number 40)".into(),
            ),
            FailureCause::Tls(TlsProblem::Alert(112)) => (
                Level::Crit,
                "SSL_do_handshake() failed (SSL: error:0A000458:SSL routines::tlsv1 unrecognized name:SSL alert number 112)".into(),
            ),
            FailureCause::Tls(TlsProblem::Alert(n)) => (Level::Crit, format!("SSL_do_handshake() failed (SSL alert number {n})")),
            FailureCause::TooBigHeader { .. } => (Level::Error, "upstream sent too big header".into()),
            FailureCause::InvalidHeader { line } => {
                (Level::Error, invalid_header_message(line).unwrap_or_else(|| "upstream sent invalid header".into()))
            }
            FailureCause::NotHttp => (Level::Error, "upstream sent no valid HTTP/1.0 header".into()),
            FailureCause::InvalidChunked => (Level::Error, "upstream sent invalid chunked response".into()),
        }
    }

    /// Logs a failed attempt, ends it with `cause` and moves on
    /// (`ngx_http_upstream_next` with `ft`).
    fn fail(&mut self, w: &mut World, id: ReqId, peer: &str, cause: FailureCause, ft: Ft, action: &str) {
        let (level, msg) = self.failure_line(&cause, peer);
        self.log(w, id, level, &msg, Some(action), Some(peer));
        w.end_attempt(id, AttemptResult::Failed { cause });
        self.next(w, id, ft, Some(action));
    }

    fn explain(&self, w: &World, id: ReqId, ft: Ft, status: u16) -> String {
        let a = w.exchanges[id].attempts.last();
        let peer = a.map(|a| a.peer.as_str()).unwrap_or("the upstream");
        let cause = a.and_then(|a| a.result.cause());
        match ft {
            Ft::NoLive => "Every server of the upstream block had failed within fail_timeout, so nginx did not even try to connect: \"no live upstreams\" → 502. Fix the servers; nginx tries them again once fail_timeout has passed.".into(),
            Ft::Timeout => match cause {
                Some(FailureCause::Timeout { phase: TimeoutPhase::Connect }) => format!("{peer} never answered nginx's SYN, so the connection attempt hit proxy_connect_timeout ({} ms): 504 Gateway Time-out. Causes: a firewall dropping packets, a wrong IP, or an accept queue that stays full. Fix the network path or the address.", w.scenario.proxy.proxy_connect_timeout_ms),
                Some(FailureCause::Timeout { phase: TimeoutPhase::Send }) => format!("{peer} accepted the connection but did not read the request body within proxy_send_timeout ({} ms): nginx could not finish writing it and answered 504 Gateway Time-out. The app is too busy or too slow to read large bodies. Fix the app, or raise proxy_send_timeout.", w.scenario.proxy.proxy_send_timeout_ms),
                _ => {
                    let p = self.protocol.prefix();
                    format!("{peer} accepted the request but sent no response header within {p}_read_timeout ({} ms). nginx gave up and answered 504 Gateway Time-out; the app may still finish the work, and nobody will receive it. Fix the slow path, or raise {p}_read_timeout above the app's worst case.", w.scenario.proxy.proxy_read_timeout_ms)
                }
            },
            Ft::InvalidHeader => {
                let detail = match cause {
                    Some(FailureCause::TooBigHeader { bytes, limit }) => format!("upstream sent too big header ({bytes} bytes > proxy_buffer_size {limit})"),
                    Some(c) => self.failure_line(c, peer).1,
                    None => "invalid header".into(),
                };
                format!("{peer} answered, but nginx could not accept its response header ({detail}), so it answered {status} itself.")
            }
            Ft::Http(s) => format!("{peer} answered {s}, which proxy_next_upstream treats as a failure; nginx had no other server to try."),
            Ft::Error => match cause {
                Some(c @ (FailureCause::PrematureClose | FailureCause::Reset))
                    if Address::parse(peer).ok().and_then(|a| app::listener(w, &a)).and_then(|a| {
                        crate::sim::server::explain_close(&w.scenario.apps[a], *c == FailureCause::Reset, w.scenario.proxy.proxy_read_timeout_ms)
                    }).is_some() =>
                {
                    let a = Address::parse(peer).ok().and_then(|a| app::listener(w, &a)).unwrap_or(0);
                    crate::sim::server::explain_close(&w.scenario.apps[a], *c == FailureCause::Reset, w.scenario.proxy.proxy_read_timeout_ms).unwrap_or_default()
                }
                Some(FailureCause::Refused) if localhost_note(w, id).is_some() => format!("{} Here no server answered on either address, so nginx answered 502; with max_fails both peers are now disabled for fail_timeout and the next requests get \"no live upstreams\" without a connect.", localhost_note(w, id).unwrap_or_default()),
                Some(FailureCause::Refused) => format!("Nothing was listening on {peer}, so the kernel refused nginx's connection (ECONNREFUSED, errno 111). nginx had no response to relay and answered 502 Bad Gateway itself. Fix: start the app, or point the upstream at the address it really listens on."),
                Some(FailureCause::NoSuchFile) if self.protocol == Protocol::FastCgi => format!("The unix socket {peer} does not exist (ENOENT): no PHP-FPM pool listens there. nginx logs it at crit (upstream \"fastcgi://{peer}:\") and answers 502; PHP-FPM logs nothing, since nothing reaches it. The usual causes: fastcgi_pass names another PHP version's socket (php7.4-fpm.sock after an upgrade to 8.2), or php8.2-fpm is not running. Fix: fastcgi_pass the pool's listen path (ls -la /run/php/), or start php8.2-fpm."),
                Some(FailureCause::PermissionDenied) if self.protocol == Protocol::FastCgi && peer.starts_with("unix:") => {
                    let pool = Address::parse(peer).ok().and_then(|a| app::listener(w, &a)).map(|a| &w.scenario.apps[a].php_fpm);
                    let how = pool.map(|f| format!(" (listen.owner = {}, listen.group = {}, listen.mode = {}: {})", f.listen_owner, f.listen_group, f.listen_mode, f.mode_string())).unwrap_or_default();
                    format!("PHP-FPM's socket {peer} exists, but nginx's worker (www-data) may not connect to it{how}: EACCES (13: Permission denied), logged at crit, and 502. PHP-FPM logs nothing. Fix: in the pool (/etc/php/8.2/fpm/pool.d/www.conf) set listen.owner and listen.group to nginx's user (www-data) or listen.mode to let its group in, then restart php8.2-fpm.")
                }
                Some(FailureCause::NoSuchFile) => format!("The unix socket {peer} does not exist (ENOENT). nginx logs this at crit and answers 502. Fix: point proxy_pass at the socket the app really creates, or start the app."),
                Some(FailureCause::PermissionDenied) if !peer.starts_with("unix:") => format!("The kernel refused nginx's connect() to {peer} with EACCES (13: Permission denied) before a packet left the host: SELinux is enforcing and httpd_can_network_connect is off, so nginx (domain httpd_t) may connect only to ports labelled http_port_t. nginx logs it at crit and answers 502; the app never sees a connection. The audit log has the denial (ausearch -m avc: avc: denied {{ name_connect }} ... comm=\"nginx\"). Fix: setsebool -P httpd_can_network_connect 1, or label the port (semanage port -a -t http_port_t -p tcp PORT); do not turn SELinux off."),
                Some(FailureCause::PermissionDenied) => format!("The socket {peer} exists but nginx's worker user may not open it (EACCES). Fix: make the socket group-writable for nginx's group (e.g. chmod 660 and chgrp www-data) or set the app's umask."),
                Some(FailureCause::PrematureClose) if app::plain_to_tls_peer(w, peer) => format!("The app on {peer} speaks TLS (HTTPS) on that port, but proxy_pass says http://: nginx wrote a plain \"GET ...\" where the app's TLS layer expected a ClientHello, and the app hung up without a byte. nginx logs \"upstream prematurely closed connection while reading response header from upstream\" (a server that resets instead, e.g. Python's ssl module, gives \"recv() failed (104: Connection reset by peer)\") and answers 502. Fix: proxy_pass https://, or have the app listen in plain HTTP behind the proxy."),
                Some(FailureCause::PrematureClose) => format!("{peer} closed the connection without sending a response: the process died (or closed an idle keep-alive connection as nginx reused it). nginx answered 502. Fix the crash (see the app log); for keep-alive races make the app's keepalive timeout longer than nginx's."),
                Some(FailureCause::Reset) => format!("{peer} reset the connection (RST) before answering: the process was killed with the request still unread in its socket, or the connection was already closed. nginx answered 502."),
                Some(FailureCause::Tls(TlsProblem::Alert(40))) => format!("The app's TLS server on {peer} needs to know which name it is asked for (SNI), and nginx's ClientHello named none: nginx sends SNI only with proxy_ssl_server_name on (off by default), and never for an IP address. The server aborted the handshake with alert 40 (handshake failure); nginx answered 502. Fix: proxy_ssl_server_name on; with proxy_ssl_name set to the app's name if proxy_pass does not carry it."),
                Some(FailureCause::Tls(TlsProblem::Alert(112))) => format!("nginx sent SNI \"{}\" to {peer}, a name its TLS server does not serve: it aborted the handshake with alert 112 (unrecognized name), which nginx logs at crit, and nginx answered 502. Fix: proxy_ssl_name set to the name the app serves.", self.ssl_name()),
                Some(c @ FailureCause::Tls(_)) => format!("The TLS handshake with {peer} failed ({}). nginx answered 502.", self.failure_line(c, peer).1),
                Some(c) => format!("{peer}: {}. nginx answered 502.", self.failure_line(c, peer).1),
                None => "nginx could not get a response from the upstream and answered 502.".into(),
            },
        }
    }

    /// The explanation for a response relayed from the app.
    fn relayed(out: &Response) -> String {
        match out.status {
            503 => format!(
                "The app itself answered 503{}. nginx relayed it unchanged: a 503 from the app leaves no line in error.log, only the access.log entry. Fix: end the maintenance window or add capacity; clients should honour Retry-After.",
                out.header("Retry-After").map(|v| format!(" with Retry-After: {v}")).unwrap_or_default()
            ),
            500 => "The app answered 500 Internal Server Error and nginx relayed it. This is not a gateway error: the proxy reached the app and got an answer. The bug is in the app (see its log).".to_string(),
            s if s < 400 => "The app answered in time and nginx relayed its response.".to_string(),
            s => format!("The app answered {s} and nginx relayed it unchanged."),
        }
    }

    /// Sends nginx's own error page for `status`.
    fn finalize_error(&mut self, w: &mut World, id: ReqId, status: u16, explanation: String) {
        let p = &w.scenario.proxy;
        let body = error_page(status, &p.version, p.server_tokens);
        let [server, date] = self.own_headers(w);
        let response = Response {
            status,
            reason: own_reason(status).into(),
            headers: vec![
                server,
                date,
                Header::new("Content-Type", "text/html"),
                Header::new("Content-Length", body.len().to_string()),
                Header::new("Connection", "keep-alive"),
            ],
            body: body.into(),
        };
        if w.keep_details {
            w.exchanges[id].explanation = Some(explanation);
        }
        self.send_to_client(w, id, response, status, ClientResult::Response);
    }

    /// Writes the response to the client and the access.log line.
    fn send_to_client(&mut self, w: &mut World, id: ReqId, response: Response, logged_status: u16, result: ClientResult) {
        if w.exchanges[id].proxy.done {
            return;
        }
        w.exchanges[id].proxy.done = true;
        let (bytes, complete) = match result {
            ClientResult::Truncated { received, .. } => (received as usize, false),
            _ => (response.body_bytes(), true),
        };
        // $body_bytes_sent counts what went to the client: with a chunked
        // body, nginx's own chunk framing.
        let bytes = if response.is_chunked() { rechunked_len(bytes, complete) } else { bytes };
        let relayed = match result {
            ClientResult::Truncated { received, .. } => received,
            _ => response.body_bytes() as u64,
        };
        self.access(w, id, logged_status, bytes, relayed);
        if logged_status == 9 {
            w.note(id, Actor::Proxy, "passes the raw bytes to the client as an HTTP/0.9 response");
        } else {
            note!(w, id, Actor::Proxy, "sends \"{}\" to the client", response.status_line());
        }
        let ex = &mut w.exchanges[id];
        ex.response = Some(response);
        ex.client_result = Some(result);
        let hop = w.hop();
        w.schedule(hop, Event::ClientReceive(id));
    }

    /// Closes the client connection without sending anything: access.log
    /// still logs `status` with 0 bytes; the client sees an empty reply.
    fn close_client_without_reply(&mut self, w: &mut World, id: ReqId, status: u16) {
        if w.exchanges[id].proxy.done {
            return;
        }
        w.exchanges[id].proxy.done = true;
        self.access(w, id, status, 0, 0);
        w.note(id, Actor::Proxy, "closes the client connection without sending a byte");
        let ex = &mut w.exchanges[id];
        ex.response = None;
        ex.client_result = Some(ClientResult::Truncated { received: 0, expected: None });
        let hop = w.hop();
        w.schedule(hop, Event::ClientReceive(id));
    }

    /// The access.log line (combined format, or `upstreaminfo`: see
    /// `upstream_log`), and the status it logs. `relayed`: the body bytes
    /// the last upstream attempt delivered.
    fn access(&self, w: &mut World, id: ReqId, status: u16, bytes: usize, relayed: u64) {
        w.exchanges[id].logged_status = Some(status);
        if !w.keep_details {
            return;
        }
        let ex = &w.exchanges[id];
        let agent = w.ops.get(ex.op).and_then(|o| o.user_agent.as_deref()).unwrap_or(&w.scenario.clients.user_agent);
        let mut line = nginx_combined_line(&ex.client_ip, &w.clock.time_local(w.now), &ex.request_line(), status, bytes, agent);
        if w.scenario.proxy.access_log_format == upstream_log::NAME {
            let length = request_limits::request_length(&w.scenario.proxy, &ex.request, agent);
            let group = self.no_live.get(id).copied().unwrap_or(false).then(|| self.live_name());
            let fields = upstream_log::fields(w, id, group.as_deref(), length, relayed);
            if let Some(note) = upstream_log::explain(&fields) {
                if let Some(e) = w.exchanges[id].explanation.as_mut() {
                    e.push(' ');
                    e.push_str(&note);
                }
            }
            line.push(' ');
            line.push_str(&fields);
        }
        w.access_log.push(line.clone());
        w.exchanges[id].access_line = Some(line);
    }

    /// `u->peer.free`: gives the request's peer back to the balancer, as a
    /// failure or not. True if that failure disabled the peer.
    fn free_peer(&mut self, w: &mut World, id: ReqId, failed: bool) -> bool {
        let Some(pick) = self.picks.get(id).copied().flatten() else { return false };
        let now_s = w.unix_secs();
        let mut tries = w.exchanges[id].proxy.tries;
        let disabled = self.peers.free(pick, failed, now_s, &mut tries);
        w.exchanges[id].proxy.tries = tries;
        disabled
    }

    /// A response came back complete: free the peer and keep or close the connection.
    fn upstream_done(&mut self, w: &mut World, id: ReqId, conn: ConnId, keep: bool) {
        self.free_peer(w, id, false);
        w.set_req_conn(id, None);
        if keep && w.conns[conn].keepalive && !w.conns[conn].app_closed {
            w.set_conn_req(conn, None);
            let c = &mut w.conns[conn];
            c.state = ConnState::Idle;
            c.served += 1;
            c.proxy_idle_token += 1;
            let token = c.proxy_idle_token;
            self.cache.push(conn);
            let max = w.scenario.upstream.keepalive as usize;
            if self.cache.len() > max {
                let oldest = self.cache.remove(0);
                self.close_conn(w, oldest);
            }
            let t = w.scenario.upstream.keepalive_timeout_ms * 1_000;
            w.schedule(t, Event::ProxyIdleTimeout { conn, token });
        } else {
            self.close_conn(w, conn);
        }
    }

    /// Which request is waiting on `conn` for a response header, if any.
    fn waiting_request(w: &World, conn: ConnId) -> Option<ReqId> {
        let c = &w.conns[conn];
        let id = c.req?;
        (c.state == ConnState::Active && w.exchanges[id].proxy.conn == Some(conn) && !w.exchanges[id].proxy.done).then_some(id)
    }
}

/// Bytes nginx sends a client for a chunked body of `payload` bytes.
/// nginx decodes the upstream's chunks and re-chunks for the client
/// (ngx_http_chunked_filter): each batch it passes on becomes one chunk,
/// `%xO` (lower-case hex) CRLF, the data, CRLF; the last chunk `0\r\n\r\n`
/// follows only if the upstream's body ended properly. A body cut short gets
/// no last chunk and no empty chunk: 0 bytes give 0.
///
/// One batch: measured with the harness, a chunk of 1 to 4000 bytes that
/// arrives with the header in the first buffer (proxy_buffer_size 4k) is
/// always logged as one chunk (1 → 6, 15 → 20, 16 → 22, 200 → 206,
/// 255 → 261, 256 → 263, 4000 → 4007). Bodies larger than the first buffer
/// are split where nginx's buffers were when it wrote, which depends on
/// whether the upstream's FIN had arrived (4095 gave 4102 or 4108, 100000
/// gave 100088 or 100111 in repeated runs); the engine keeps one chunk.
pub fn rechunked_len(payload: usize, complete: bool) -> usize {
    let chunk = if payload == 0 { 0 } else { format!("{payload:x}").len() + 2 + payload + 2 };
    chunk + if complete { crate::sim::http::LAST_CHUNK.len() } else { 0 }
}

/// `upstream sent invalid header: "Bad\x20..."`: the name up to the first
/// byte nginx rejects (controls and space, since 1.21.1), hex-escaped.
fn invalid_header_message(line: &str) -> Option<String> {
    let bytes = line.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b':' {
            return None;
        }
        if b <= 0x20 || b == 0x7f {
            return Some(format!("upstream sent invalid header: \"{}\\x{:02x}...\"", &line[..i], b));
        }
    }
    None
}

impl ProxyFlavor for Nginx {
    fn on_request(&mut self, w: &mut World, id: ReqId) {
        self.ensure_slots(id);
        if self.accept_refused(w, id) {
            return;
        }
        note!(w, id, Actor::Proxy, "reads \"{}\" on client connection *{}", w.exchanges[id].request_line(), w.exchanges[id].client_connection);
        if self.refuse_request(w, id) {
            return;
        }
        if let Some(cfg) = w.scenario.proxy.limit_req.clone() {
            let key = w.exchanges[id].client_ip.clone();
            match self.limit.check(&cfg, &key, w.now_ms()) {
                Verdict::Pass => {}
                Verdict::Reject { excess } => {
                    let msg = format!("limiting requests, excess: {} by zone \"{}\"", fmt_excess(excess), cfg.zone);
                    self.log(w, id, Level::Error, &msg, None, None);
                    self.finalize_error(w, id, cfg.status, format!(
                        "limit_req rejected the request before it reached any upstream: this client exceeded {} r/s with burst={} (excess {}). nginx answers {} (limit_req_status) and never contacts the app. Fix: raise the rate or burst, or slow the client down.",
                        cfg.rate_per_s, cfg.burst, fmt_excess(excess), cfg.status
                    ));
                    return;
                }
                Verdict::Delay { delay_ms, excess } => {
                    let msg = format!("delaying request, excess: {}, by zone \"{}\"", fmt_excess(excess), cfg.zone);
                    self.log(w, id, Level::Warn, &msg, None, None);
                    w.schedule(delay_ms * 1_000, Event::ProxyTimer { id, timer: ProxyTimer::LimitReqDelay });
                    return;
                }
            }
        }
        self.start_upstream(w, id);
    }

    fn on_connect_result(&mut self, w: &mut World, conn: ConnId, outcome: ConnectOutcome) {
        let Some(id) = w.conns[conn].req else { return };
        if w.exchanges[id].proxy.conn != Some(conn) || w.conns[conn].state != ConnState::Connecting {
            return;
        }
        let peer = w.conns[conn].peer.clone();
        let cause = match outcome {
            ConnectOutcome::Accepted => {
                if self.pass.as_ref().is_some_and(|p| p.scheme == Scheme::Https) {
                    w.note(id, Actor::Proxy, "connected; starts the TLS handshake");
                    let result = app::tls_handshake(w, conn);
                    let hop = w.hop();
                    w.schedule(2 * hop, Event::ProxyTlsDone { conn, result });
                } else {
                    w.note(id, Actor::Proxy, "connected");
                    self.send_request(w, id, conn);
                }
                return;
            }
            ConnectOutcome::Refused => FailureCause::Refused,
            ConnectOutcome::NoSuchFile => FailureCause::NoSuchFile,
            ConnectOutcome::PermissionDenied => FailureCause::PermissionDenied,
            ConnectOutcome::Dropped => return,
        };
        self.fail(w, id, &peer, cause, Ft::Error, CONNECTING);
    }

    fn on_tls_done(&mut self, w: &mut World, conn: ConnId, result: TlsResult) {
        let Some(id) = Self::waiting_request(w, conn).or_else(|| {
            let c = &w.conns[conn];
            c.req.filter(|&id| w.exchanges[id].proxy.conn == Some(conn) && c.state == ConnState::Connecting)
        }) else {
            return;
        };
        let peer = w.conns[conn].peer.clone();
        let problem = match result {
            TlsResult::Ok => {
                w.note(id, Actor::Proxy, "TLS handshake done");
                self.send_request(w, id, conn);
                return;
            }
            TlsResult::Cert(p) => TlsProblem::CertVerify(p),
            TlsResult::NotTls => TlsProblem::HandshakeFailure,
            TlsResult::Alert(a) => TlsProblem::Alert(a),
        };
        self.fail(w, id, &peer, FailureCause::Tls(problem), Ft::Error, SSL_HANDSHAKING);
    }

    fn on_upstream_data(&mut self, w: &mut World, conn: ConnId) {
        let Some(id) = Self::waiting_request(w, conn) else { return };
        let Some(reply) = w.conns[conn].reply.take() else { return };
        let peer = w.conns[conn].peer.clone();
        let field = Some(peer.as_str());
        match reply.wire {
            Wire::Garbage(payload) => {
                self.log(w, id, Level::Error, "upstream sent no valid HTTP/1.0 header", Some(READING_HEADER), field);
                w.end_attempt(id, AttemptResult::Responded { status: 9 });
                self.upstream_done(w, id, conn, false);
                if w.keep_details {
                    w.exchanges[id].explanation = Some(format!(
                        "{peer} answered with bytes that are not an HTTP status line. nginx 1.22 does not turn this into a 502: it logs \"upstream sent no valid HTTP/1.0 header\" and relays the raw bytes as an HTTP/0.9 response (access.log status 009). Browsers and curl reject it. Fix: make sure an HTTP server listens on that port."
                    ));
                }
                let response = Response { status: 9, reason: "".into(), headers: vec![], body: payload.into() };
                self.send_to_client(w, id, response, 9, ClientResult::Http09);
            }
            Wire::Http { response, bad_header_line, truncate_body_at } => {
                if let (Protocol::FastCgi, Some(stderr)) = (self.protocol, w.conns[conn].fcgi_stderr) {
                    // ngx_http_fastcgi_process_header: a FCGI_STDERR record.
                    self.log(w, id, Level::Error, &format!("FastCGI sent in stderr: \"{stderr}\""), Some(READING_HEADER), field);
                }
                let mut header_len = response.header_block_len();
                if let Some(l) = &bad_header_line {
                    header_len += l.len() + 2;
                }
                let limit = w.scenario.proxy.proxy_buffer_size;
                if header_len as u64 > limit {
                    let cause = FailureCause::TooBigHeader { bytes: header_len as u64, limit };
                    self.fail(w, id, &peer, cause, Ft::InvalidHeader, READING_HEADER);
                    return;
                }
                let mut response = response;
                if let Some(l) = &bad_header_line {
                    if invalid_header_message(l).is_some() {
                        let cause = FailureCause::InvalidHeader { line: l.clone() };
                        self.fail(w, id, &peer, cause, Ft::InvalidHeader, READING_HEADER);
                        return;
                    }
                    // A line without a colon is accepted as a header with an empty value.
                    if !l.contains(':') {
                        response.headers.push(Header::new(l.clone(), ""));
                    }
                }
                let status = response.status;
                w.end_attempt(id, AttemptResult::Responded { status });
                // ngx_http_upstream_test_next: retry on http_xxx only while tries > 1.
                let ft = Ft::Http(status);
                let tries = w.exchanges[id].proxy.tries;
                let method = w.exchanges[id].request.method.as_str();
                let non_idempotent = matches!(method, "POST" | "LOCK" | "PATCH") && !Self::next_upstream_has(w, "non_idempotent");
                let limit = w.scenario.proxy.proxy_next_upstream_timeout_ms;
                let started = w.exchanges[id].proxy.start.unwrap_or(w.now);
                let in_time = limit == 0 || w.now.since(started) < limit * 1_000;
                if status >= 400 && tries > 1 && Self::next_upstream_has(w, &ft.directive()) && !non_idempotent && in_time {
                    note!(w, id, Actor::Proxy, "got {status}: proxy_next_upstream http_{status} tries the next server");
                    self.next(w, id, ft, Some(READING_HEADER));
                    return;
                }
                // proxy_hide_header's defaults (Date, Server) and the
                // hop-by-hop headers nginx does not pass (Connection, Keep-Alive).
                response.headers.retain(|h| !["Date", "Server", "Connection", "Keep-Alive"].iter().any(|n| h.name.eq_ignore_ascii_case(n)));
                let mut headers = Vec::with_capacity(response.headers.len() + 3);
                headers.extend(self.own_headers(w));
                headers.append(&mut response.headers);
                headers.push(Header::new("Connection", "keep-alive"));
                let mut out = Response { headers, ..response };
                if out.status == 101 {
                    self.start_tunnel(w, id, out);
                    return;
                }
                if let Some(sent) = truncate_body_at {
                    let chunked = out.is_chunked();
                    let expected = out.body.len() as u64;
                    out.body.to_mut().truncate(sent as usize);
                    self.log(w, id, Level::Error, "upstream prematurely closed connection", Some(READING_BODY), field);
                    self.upstream_done(w, id, conn, false);
                    if w.keep_details {
                        w.exchanges[id].explanation = Some(if chunked {
                            let logged = rechunked_len(sent as usize, false);
                            format!(
                                "The app sent \"{} {}\" with Transfer-Encoding: chunked and one {sent}-byte chunk, then died before the last chunk (0\\r\\n\\r\\n). The status line had already gone to the client, so nginx cannot turn it into a 502: it logs \"upstream prematurely closed connection while reading upstream\". nginx decodes the app's chunks and re-chunks the body for the client, so the access log counts its own framing: {} with {logged} bytes ({sent:x}\\r\\n + {sent} + \\r\\n). The client never gets a last chunk and cannot tell how much is missing (curl error 18, \"outstanding read data remaining\"). Fix the crash; clients must treat a chunked body without its last chunk as incomplete.",
                                out.status, out.reason, out.status
                            )
                        } else {
                            format!(
                                "The app sent \"{} {}\" and {sent} of {expected} body bytes, then died. The status line had already gone to the client, so nginx cannot turn it into a 502: it logs \"upstream prematurely closed connection while reading upstream\", the access log says {} with {sent} bytes, and the client sees a truncated body (curl error 18). Fix the crash; clients must check Content-Length.",
                                out.status, out.reason, out.status
                            )
                        });
                    }
                    self.send_to_client(w, id, out, status, ClientResult::Truncated { received: sent, expected: (!chunked).then_some(expected) });
                    return;
                }
                if w.keep_details {
                    w.exchanges[id].explanation = Some(match app::unchecked_cert_problem(w, conn) {
                        Some(p) => format!(
                            "The app answered {} and nginx relayed it, although the app's certificate {}: proxy_ssl_verify is off, nginx's default, so nginx encrypts the connection but does not check who is at the other end, and logs nothing. An attacker in the path could present any certificate. Turn on proxy_ssl_verify (with proxy_ssl_trusted_certificate) to see the problem as a 502, and renew the certificate.",
                            out.status,
                            app::cert_problem_words(p)
                        ),
                        None if w.exchanges[id].request.websocket && !crate::sim::websocket::upgrade_reaches_app(&w.scenario) && matches!(out.status, 400 | 426) => format!(
                            "The client asked for a WebSocket (Upgrade: websocket, Connection: Upgrade), but nginx talks HTTP/1.0 to the upstream and drops these hop-by-hop headers unless told otherwise: the app got a plain \"GET ... HTTP/1.0\" with Connection: close and refused it with {} {} ({}). nginx relays that and logs nothing in error.log. Fix, in the location: proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection \"upgrade\"; (and a proxy_read_timeout longer than the socket's quiet periods).",
                            out.status,
                            out.reason,
                            if out.status == 426 { "the ws package's answer" } else { "socket.io's {\"code\":3,\"message\":\"Bad request\"}" }
                        ),
                        None => localhost_note(w, id).map(|n| format!("{n} {}", Self::relayed(&out))).unwrap_or_else(|| Self::relayed(&out)),
                    });
                }
                self.upstream_done(w, id, conn, true);
                self.send_to_client(w, id, out, status, ClientResult::Response);
            }
            Wire::BadChunked { response, .. } => {
                // The header is fine; the body's first chunk-size line is
                // not. nginx parses the chunks before it sends anything
                // (the header waits in its buffer with the first body bytes).
                let status = response.status;
                let cause = FailureCause::InvalidChunked;
                let (level, msg) = self.failure_line(&cause, &peer);
                self.log(w, id, level, &msg, Some(READING_BODY), field);
                w.end_attempt(id, AttemptResult::Failed { cause });
                // ngx_http_upstream_finalize_request: the peer is freed, not as a failure.
                self.upstream_done(w, id, conn, false);
                if w.keep_details {
                    w.exchanges[id].explanation = Some(format!(
                        "{peer} answered \"{} {}\" with Transfer-Encoding: chunked, but its body is not in chunks: the first line, which should be a chunk size in hex, is not. nginx accepted the header, then its chunk parser failed on the body that came with it, before nginx had sent the client a single byte. It logs \"upstream sent invalid chunked response while reading upstream\", writes {status} with 0 bytes in access.log (the app's status, nothing sent) and closes the client connection: the client gets no status line at all (curl: (52) Empty reply from server). No retry: the header had been accepted. Fix the app: let its server frame the body (drop the hand-written Transfer-Encoding header, or send Content-Length).",
                        response.status, response.reason
                    ));
                }
                self.close_client_without_reply(w, id, status);
            }
            Wire::Crash | Wire::OomKill { .. } | Wire::Hang => {}
        }
    }

    fn on_upstream_closed(&mut self, w: &mut World, conn: ConnId, reset: bool) {
        if w.conns[conn].state == ConnState::Idle {
            // ngx_http_upstream_keepalive_close_handler: drop it from the cache.
            self.close_conn(w, conn);
            return;
        }
        let Some(id) = Self::waiting_request(w, conn) else { return };
        if !w.exchanges[id].proxy.request_sent {
            return;
        }
        let peer = w.conns[conn].peer.clone();
        let cause = if reset { FailureCause::Reset } else { FailureCause::PrematureClose };
        self.fail(w, id, &peer, cause, Ft::Error, READING_HEADER);
    }

    fn on_request_drained(&mut self, w: &mut World, conn: ConnId) {
        // The large body is written at last: proxy_read_timeout starts now.
        let Some(id) = Self::waiting_request(w, conn) else { return };
        let attempt = w.conns[conn].attempt;
        let t = w.scenario.proxy.proxy_read_timeout_ms * 1_000;
        w.schedule(t, Event::ProxyTimer { id, timer: ProxyTimer::Read { attempt } });
    }

    fn on_idle_timeout(&mut self, w: &mut World, conn: ConnId, token: u64) {
        if w.conns[conn].state == ConnState::Idle && w.conns[conn].proxy_idle_token == token {
            self.close_conn(w, conn);
        }
    }

    /// `ngx_http_upstream_check_broken_connection`: the client closed its
    /// connection while nginx waited for the upstream. With the default
    /// `proxy_ignore_client_abort off`, nginx closes the upstream connection
    /// too (the app may still be working on the request) and logs 499.
    fn on_client_abort(&mut self, w: &mut World, id: ReqId) {
        let ex = &w.exchanges[id];
        if ex.proxy.done || ex.client_connection == 0 {
            return;
        }
        if let Some(conn) = w.set_req_conn(id, None) {
            // Observed on 1.22.1: "sending request to upstream" until the
            // first response byte (our responses arrive whole, so always).
            let action = match w.conns[conn].state {
                ConnState::Connecting => CONNECTING,
                _ if !w.exchanges[id].proxy.request_sent => SSL_HANDSHAKING,
                _ => SENDING,
            };
            let peer = w.conns[conn].peer.clone();
            self.log(w, id, Level::Info, CLIENT_CLOSED, Some(action), Some(&peer));
            w.end_attempt(id, AttemptResult::ClientClosed);
            self.close_conn(w, conn);
            // ngx_http_upstream_finalize_request: the peer is freed, not as a failure.
            self.free_peer(w, id, false);
        }
        w.exchanges[id].proxy.done = true;
        w.note(id, Actor::Proxy, "the client closed the connection: logs 499 and closes the upstream connection");
        if w.keep_details {
            w.exchanges[id].explanation = Some(
                "The client gave up before nginx had a response for it and closed the connection. nginx logs status 499 (its own code for \"client closed request\") and closes the upstream connection; the app may still finish the work, for nobody. Under load, abandoned requests keep workers busy and retries add more: raise the client's timeout above the app's real latency, or make the app faster.".into(),
            );
        }
        self.access(w, id, 499, 0, 0);
    }

    fn forget_before(&mut self, id: ReqId) {
        self.picks.forget_before(id);
        self.tried.forget_before(id);
        self.no_live.forget_before(id);
        self.auth.forget_before(id);
        self.tunnels.forget_before(id);
    }

    fn on_timer(&mut self, w: &mut World, id: ReqId, timer: ProxyTimer) {
        if w.exchanges[id].proxy.done {
            return;
        }
        // An upgraded connection has only its own idle timer.
        if self.tunnels.get(id).is_some_and(|t| t.is_some()) && timer != ProxyTimer::Tunnel {
            return;
        }
        match timer {
            ProxyTimer::Tunnel => self.end_tunnel(w, id),
            ProxyTimer::Connect { attempt } => {
                let Some(conn) = Self::current_conn(w, id) else { return };
                if w.conns[conn].attempt != attempt || w.conns[conn].state != ConnState::Connecting {
                    return;
                }
                w.end_attempt(id, AttemptResult::Failed { cause: FailureCause::Timeout { phase: TimeoutPhase::Connect } });
                self.next(w, id, Ft::Timeout, Some(CONNECTING));
            }
            ProxyTimer::Read { attempt } => {
                let Some(conn) = Self::current_conn(w, id) else { return };
                if w.conns[conn].attempt != attempt || w.conns[conn].state != ConnState::Active {
                    return;
                }
                w.end_attempt(id, AttemptResult::Failed { cause: FailureCause::Timeout { phase: TimeoutPhase::ReadHeader } });
                self.next(w, id, Ft::Timeout, Some(READING_HEADER));
            }
            ProxyTimer::Send { attempt } => {
                let Some(conn) = Self::current_conn(w, id) else { return };
                let c = &w.conns[conn];
                if c.attempt != attempt || c.state != ConnState::Active || c.read_by_app {
                    return; // the app read the body in time
                }
                w.end_attempt(id, AttemptResult::Failed { cause: FailureCause::Timeout { phase: TimeoutPhase::Send } });
                self.next(w, id, Ft::Timeout, Some(SENDING));
            }
            ProxyTimer::LimitReqDelay => self.start_upstream(w, id),
            ProxyTimer::AuthDone => self.auth_done(w, id),
            ProxyTimer::Resolver => {
                let host = self.runtime_host.as_ref().map(|h| h.0.clone()).unwrap_or_default();
                self.log(w, id, Level::Error, &format!("{host} could not be resolved (110: Operation timed out)"), None, None);
                self.finalize_error(w, id, 502, format!(
                    "The resolver did not answer within resolver_timeout ({} ms), so nginx could not find {host} and answered 502.",
                    w.scenario.proxy.resolver_timeout_ms
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_header_message_matches_nginx() {
        assert_eq!(
            invalid_header_message("Bad Header: x").as_deref(),
            Some("upstream sent invalid header: \"Bad\\x20...\"")
        );
        assert_eq!(invalid_header_message("NoColonHere"), None);
        assert_eq!(invalid_header_message("X-Ok: fine"), None);
    }
}
