//! HAProxy 2.6 as a reverse proxy (`mode http`, `option httplog`).
//! Behind the same `ProxyFlavor` interface as nginx, with HAProxy's own
//! semantics: `retries` with a turn-around delay, `option redispatch`,
//! `timeout connect`/`timeout server`, its built-in error pages, and one
//! httplog line per request with the termination state (`SC--`, `sH--`...).
//! Checked against a real HAProxy 2.6.12: docs/research/haproxy-2.6-observations.md.

pub mod conf;
pub mod pages;
pub mod request_limits;

use crate::sim::app::{self, TlsResult};
use crate::sim::failure::{FailureCause, TimeoutPhase, TlsProblem};
use crate::sim::fault::{ConnectOutcome, Wire};
use crate::sim::http::{Header, Response};
use crate::sim::net::{Address, ProxyPass, Scheme, Target};
use crate::sim::window::PerRequest;
use crate::sim::world::{Actor, AttemptResult, ClientResult, ConnId, ConnState, Event, ProxyTimer, ReqId, World};

use super::nginx::peers::{PeerSet, Pick};
use super::ProxyFlavor;

pub const FRONTEND: &str = "fe_main";
pub const BACKEND: &str = "be_app";

/// Why a session ended: HAProxy's two-letter termination state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Termination(pub char, pub char);

impl Termination {
    pub fn code(self) -> String {
        format!("{}{}--", self.0, self.1)
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
struct ReqState {
    /// Connection attempts made (the first one included).
    tries: u32,
    pick: Option<Pick>,
    /// Time the last connection was established (for %Tc).
    connect_ms: Option<i64>,
    /// Time the response headers arrived (for %Tr).
    response_ms: Option<i64>,
    redispatched: bool,
}

pub struct Haproxy {
    peers: PeerSet,
    tls: bool,
    state: PerRequest<ReqState>,
    /// Request times per client address, for the rate limit (sliding 1 s).
    rate: std::collections::BTreeMap<String, std::collections::VecDeque<u64>>,
    /// Server names (`app1`, `app2`...) by index in upstream.servers.
    names: Vec<String>,
    /// Per request: the 101 of a WebSocket tunnel, logged when it closes.
    tunnels: PerRequest<Option<Response>>,
}

/// HAProxy's internal (HTX) size of a response, which `%B` logs:
/// 20 + version + code + reason, each header's name and value, 1, and the body.
pub fn htx_size(r: &Response, body: u64) -> u64 {
    htx_headers(r) + body
}

/// The HTX size of the status line and headers (compared with
/// `tune.bufsize - tune.maxrewrite`).
pub fn htx_headers(r: &Response) -> u64 {
    let start = 20 + "HTTP/1.1".len() + 3 + r.reason.len();
    let headers: usize = r.headers.iter().map(|h| h.name.len() + h.value.len()).sum();
    (start + headers + 1) as u64
}

/// What HAProxy forwards: header names lower-cased, hop-by-hop `Connection`
/// dropped (kept on a 101: `connection: upgrade`, measured by its `%B`).
fn forwarded(mut r: Response) -> Response {
    let upgrade = r.status == 101;
    r.headers.retain(|h| upgrade || !h.name.eq_ignore_ascii_case("connection"));
    for h in &mut r.headers {
        if h.name.bytes().any(|b| b.is_ascii_uppercase()) {
            h.name = h.name.to_ascii_lowercase().into();
        }
    }
    r
}

/// How the timeline names a failed connection attempt.
fn connect_failure_note(cause: &FailureCause) -> &'static str {
    match cause {
        FailureCause::Refused => "connection refused",
        FailureCause::NoSuchFile => "no such socket file",
        FailureCause::PermissionDenied => "permission denied on the socket",
        FailureCause::Timeout { .. } => "timeout connect",
        FailureCause::Tls(TlsProblem::HandshakeFailure) => "SSL handshake failure",
        FailureCause::Tls(TlsProblem::CertVerify(_)) => "SSL handshake failure (certificate verification)",
        FailureCause::Tls(TlsProblem::Alert(_)) => "SSL handshake failure (alert from the server)",
        _ => "connection failed",
    }
}

impl Haproxy {
    pub fn start(w: &mut World) -> Haproxy {
        let pass = ProxyPass::parse(&w.scenario.proxy.proxy_pass).ok();
        let tls = pass.as_ref().is_some_and(|p| p.scheme == Scheme::Https);
        let servers = match pass.as_ref().map(|p| &p.host) {
            Some(Target::Addr(a)) => vec![crate::sim::scenario::UpstreamServer { address: a.to_string(), ..Default::default() }],
            _ => w.scenario.upstream.servers.clone(),
        };
        // HAProxy resolves server names when it parses its configuration.
        for s in &servers {
            if let Ok(addr) = Address::parse(&s.address) {
                if let Some(host) = addr.host().filter(|_| !addr.is_ip()) {
                    if w.scenario.faults.iter().any(|f| f.dns_answer(host).is_some()) {
                        let line = conf::render(&w.scenario).server_lines.first().copied().unwrap_or(1);
                        let pid = w.scenario.proxy.worker_pid;
                        w.proxy_stderr.push(format!(
                            "[ALERT]    ({pid}) : config : [/etc/haproxy/haproxy.cfg:{line}] : 'server {BACKEND}/app1' : could not resolve address '{host}'."
                        ));
                        w.proxy_stderr.push(format!("[ALERT]    ({pid}) : config : Failed to initialize server(s) addr."));
                        w.proxy_running = false;
                    }
                }
            }
        }
        let servers: Vec<_> = servers
            .into_iter()
            .map(|mut s| {
                if let Ok(a) = Address::parse(&s.address) {
                    if let Some(host) = a.host().filter(|_| !a.is_ip()) {
                        // libc's first answer (`localhost` → ::1 first where
                        // /etc/hosts has `::1 localhost`: measured on 2.6.12).
                        let ip = crate::sim::proxy::nginx::hosts_addresses(&w.scenario, host)[0];
                        s.address = a.resolved(ip).to_string();
                    }
                }
                // HAProxy has no passive max_fails marking without health checks.
                s.max_fails = 0;
                s
            })
            .collect();
        let names = (0..servers.len()).map(|i| format!("app{}", i + 1)).collect();
        Haproxy { peers: PeerSet::new(&servers), tls, state: PerRequest::default(), rate: Default::default(), names, tunnels: PerRequest::default() }
    }

    fn st(&mut self, id: ReqId) -> &mut ReqState {
        self.state.at(id)
    }

    fn server_name(&self, pick: Option<Pick>) -> String {
        pick.map(|p| self.names[self.peers.peer(p).server].clone()).unwrap_or_else(|| "<NOSRV>".into())
    }

    fn ms_since_start(w: &World, id: ReqId) -> i64 {
        (w.now.since(w.exchanges[id].sent_at) / 1_000) as i64
    }

    /// Picks a server (round robin) and connects.
    fn connect(&mut self, w: &mut World, id: ReqId, new_server: bool) {
        let now_s = w.unix_secs();
        if new_server || self.st(id).pick.is_none() {
            let n = self.peers.primary.len();
            let mut tried = vec![false; n];
            let mut tb = vec![false; self.peers.backup.len()];
            let mut ob = false;
            if let (true, Some(prev)) = (new_server, self.state[id].pick) {
                if !prev.backup && n > 1 {
                    tried[prev.index] = true;
                }
            }
            let pick = self.peers.get(&mut tried, &mut tb, &mut ob, now_s);
            self.st(id).pick = pick;
        }
        let Some(pick) = self.state[id].pick else {
            // Every server is `down`: 503 without a connection (`SC--`, <NOSRV>).
            self.finish_error(w, id, 503, Termination('S', 'C'));
            return;
        };
        let peer = self.peers.peer(pick).name.clone();
        let server = Some(self.peers.peer(pick).server);
        let attempt = w.exchanges[id].attempts.len() as u32;
        w.connect_attempt(id, peer.clone(), server);
        self.st(id).tries += 1;
        let name = self.server_name(Some(pick));
        note!(w, id, Actor::Proxy, "connects to {BACKEND}/{name} ({peer})");
        let t = w.scenario.proxy.haproxy.timeout_connect_ms * 1_000;
        w.schedule(t, Event::ProxyTimer { id, timer: ProxyTimer::Connect { attempt } });
    }


    fn close(w: &mut World, id: ReqId) {
        if let Some(conn) = w.set_req_conn(id, None) {
            w.conns[conn].state = ConnState::Closed;
        }
    }

    /// A connection attempt failed with `cause`: retry (after the
    /// turn-around delay) or give up with 503.
    fn connect_failed(&mut self, w: &mut World, id: ReqId, cause: FailureCause) {
        let timeout = matches!(cause, FailureCause::Timeout { .. });
        // EACCES comes from the connect() syscall itself (a unix socket's
        // mode, or SELinux on a TCP port): retried at once, like a local failure.
        let at_once = cause == FailureCause::PermissionDenied;
        let why = connect_failure_note(&cause);
        w.end_attempt(id, AttemptResult::Failed { cause });
        Self::close(w, id);
        let h = w.scenario.proxy.haproxy.clone();
        let tries = self.state[id].tries;
        if tries <= h.retries {
            // Observed on 2.6.12: with `option redispatch` the first retry
            // already goes to another server, at once.
            let redispatch = h.redispatch && !self.state[id].redispatched && self.peers.primary.len() > 1;
            if redispatch {
                self.st(id).redispatched = true;
            }
            // "a turn-around timer of min(timeout connect, 1s) is applied before
            // a retry occurs on the same server" after a refusal or a TLS
            // failure; a timeout, or a unix socket that fails at once, retries
            // immediately.
            let local = w.exchanges[id].attempts.last().is_some_and(|a| a.peer.starts_with("unix:"));
            let delay = if timeout || redispatch || local || at_once { 0 } else { h.timeout_connect_ms.min(1_000) * 1_000 };
            note!(w, id, Actor::Proxy, "{why}; retry {tries}/{} {}", h.retries, if redispatch { "on another server (redispatch)" } else { "on the same server" });
            // Reuse the Connect timer slot as the retry trigger.
            let attempt = u32::MAX - tries;
            if redispatch {
                w.schedule(delay, Event::ProxyTimer { id, timer: ProxyTimer::Connect { attempt: u32::MAX - 999 } });
            } else {
                w.schedule(delay, Event::ProxyTimer { id, timer: ProxyTimer::Connect { attempt } });
            }
            return;
        }
        note!(w, id, Actor::Proxy, "{why}; no retries left");
        let term = if timeout { Termination('s', 'C') } else { Termination('S', 'C') };
        self.finish_error(w, id, 503, term);
    }

    fn finish_error(&mut self, w: &mut World, id: ReqId, status: u16, term: Termination) {
        Self::close(w, id);
        let (reason, body) = pages::error_page(status);
        let response = Response {
            status,
            reason: reason.into(),
            headers: vec![
                Header::new("content-length", body.len().to_string()),
                Header::new("cache-control", "no-cache"),
                Header::new("content-type", "text/html"),
            ],
            body: body.into(),
        };
        if w.keep_details {
            let explanation = self.explain(w, id, status, term);
            w.exchanges[id].explanation = Some(explanation);
        }
        self.send(w, id, response, term, ClientResult::Response, None);
    }

    fn explain(&self, w: &World, id: ReqId, status: u16, term: Termination) -> String {
        let tries = self.state.get(id).map(|s| s.tries).unwrap_or(0);
        let last = w.exchanges[id].attempts.last();
        let peer = last.map(|a| a.peer.clone()).unwrap_or_else(|| "the server".into());
        let cause = last.and_then(|a| a.result.cause());
        match (term.0, term.1) {
            ('S', 'C') => {
                let why = match cause {
                    Some(FailureCause::Refused) => " Nothing was listening there: the kernel refused every connection (ECONNREFUSED).",
                    Some(FailureCause::NoSuchFile) => " The unix socket does not exist (ENOENT).",
                    Some(FailureCause::PermissionDenied) if !peer.starts_with("unix:") => " The kernel refused every connect() with EACCES before a packet left the host: SELinux is enforcing and haproxy_connect_any is off, so HAProxy (haproxy_t) may not connect to that port (ausearch -m avc shows the denials). The error comes from the syscall itself, so the retries follow at once, without the turn-around delay. Fix: setsebool -P haproxy_connect_any 1, or label the port for HAProxy.",
                    Some(FailureCause::PermissionDenied) => " The socket exists but HAProxy's user may not open it (EACCES).",
                    Some(FailureCause::Tls(TlsProblem::HandshakeFailure)) => " The TLS handshake failed: the server does not speak TLS there.",
                    Some(FailureCause::Tls(TlsProblem::CertVerify(_))) => " The server's certificate failed verification (ssl verify required).",
                    Some(FailureCause::Tls(TlsProblem::Alert(40))) => " The server aborted every TLS handshake with alert 40: it needs the name it is asked for (SNI), and the server line has no sni, so HAProxy sent none. Fix: sni str(NAME) on the server line.",
                    Some(FailureCause::Tls(TlsProblem::Alert(_))) => " The server aborted every TLS handshake with an alert: it does not serve the name HAProxy sent (sni).",
                    _ => "",
                };
                format!("HAProxy could not connect to {peer} ({tries} attempts: the first plus retries {}).{why} Unlike nginx it answers 503 Service Unavailable, not 502, and logs the termination state SC-- (server side, connect phase).", w.scenario.proxy.haproxy.retries)
            }
            ('s', 'C') => format!("Every connection attempt to {peer} hit timeout connect ({} ms, {tries} attempts). HAProxy answers 503 with termination state sC-- (server timeout during connect).", w.scenario.proxy.haproxy.timeout_connect_ms),
            ('s', 'H') => format!("{peer} sent no response headers within timeout server ({} ms). HAProxy answers 504 with sH--.", w.scenario.proxy.haproxy.timeout_server_ms),
            ('S', 'H') => match cause {
                Some(FailureCause::Reset) => format!("{peer} reset the connection (RST) before sending headers. HAProxy answers 502 with SH--."),
                Some(FailureCause::PrematureClose) if app::plain_to_tls_peer(w, &peer) => format!("The app on {peer} speaks TLS (HTTPS) on that port, but the server line has no ssl: HAProxy wrote a plain HTTP request where the app's TLS layer expected a ClientHello, and the app closed the connection without a byte. HAProxy answers 502 with SH-- (server side, waiting for headers) and does not retry: the connection itself had succeeded. Fix: add ssl (verify none, or verify required with a ca-file) to the server line."),
                Some(FailureCause::PrematureClose) => format!("{peer} closed the connection before sending headers. HAProxy answers 502 with SH--."),
                _ => format!("{peer} closed or reset the connection before sending headers. HAProxy answers 502 with SH--."),
            },
            ('P', 'H') => match cause {
                Some(FailureCause::NotHttp) => format!("{peer} answered with bytes that are not an HTTP response. HAProxy refuses to parse them and answers 502 with PH--."),
                Some(FailureCause::TooBigHeader { bytes, limit }) => format!("{peer} sent response headers too large for HAProxy's buffer ({bytes} bytes > tune.bufsize minus tune.maxrewrite, {limit}). HAProxy answers 502 with PH--."),
                Some(FailureCause::InvalidHeader { .. }) => format!("{peer} sent a response header line HAProxy refused to parse. HAProxy answers 502 with PH--."),
                Some(FailureCause::InvalidChunked) => format!("{peer} announced Transfer-Encoding: chunked, but its body is not in chunks (the first line is not a chunk size in hex). HAProxy parses the chunks that arrive with the header before it forwards anything, rejects the response and answers 502 with PH-- (no retry). Fix the app: let its server frame the body (drop the hand-written Transfer-Encoding header, or send Content-Length)."),
                _ => format!("{peer} sent a response HAProxy refused to parse (invalid or too large). HAProxy answers 502 with PH--."),
            },
            ('P', 'R') => format!("HAProxy denied the request itself (rate limit rule): {status}, termination state PR--; the server never saw it."),
            _ => format!("HAProxy answered {status}."),
        }
    }

    /// The server answered 101 (a WebSocket): HAProxy forwards it and the
    /// stream becomes a tunnel. Without `timeout tunnel` the client and
    /// server timeouts still apply, so a silent tunnel ends after the
    /// shorter one (measured: 2 s `timeout server` → `sD--`, observations-5.md §2).
    fn start_tunnel(&mut self, w: &mut World, id: ReqId, response: Response) {
        let h = &w.scenario.proxy.haproxy;
        let t = h.timeout_server_ms.min(h.timeout_client_ms);
        note!(w, id, Actor::Proxy, "forwards \"{}\" to the client: the stream is now a tunnel, closed after {t} ms without data", response.status_line());
        *self.tunnels.at(id) = Some(response);
        w.schedule(t * 1_000, Event::ProxyTimer { id, timer: ProxyTimer::Tunnel });
    }

    fn end_tunnel(&mut self, w: &mut World, id: ReqId) {
        let Some(response) = self.tunnels.at(id).take() else { return };
        Self::close(w, id);
        let h = &w.scenario.proxy.haproxy;
        let (side, name, ms) = if h.timeout_server_ms <= h.timeout_client_ms { ('s', "timeout server", h.timeout_server_ms) } else { ('c', "timeout client", h.timeout_client_ms) };
        if w.keep_details {
            w.exchanges[id].explanation = Some(format!(
                "The WebSocket upgrade went through: HAProxy passes Upgrade and Connection on by itself (no setting needed, unlike nginx), the server answered 101 and the stream became a tunnel. Nobody sent a frame for {ms} ms, so {name} closed it: the log line is written then, 101 with {side}D-- ({} side, data phase). Fix for long-lived sockets: timeout tunnel (e.g. 1h) in the backend, or pings more often than that.",
                if side == 's' { "server" } else { "client" }
            ));
        }
        self.send(w, id, response, Termination(side, 'D'), ClientResult::Response, None);
    }

    /// Sends the response and writes the httplog line.
    fn send(&mut self, w: &mut World, id: ReqId, response: Response, term: Termination, result: ClientResult, body_override: Option<u64>) {
        if !super::finish(w, id) {
            return;
        }
        let body = body_override.unwrap_or(response.body.len() as u64);
        let bytes = htx_size(&response, body);
        if w.keep_details && w.scenario.proxy.access_log_format == crate::sim::proxy::nginx::upstream_log::NAME {
            // The scenario asks for nginx's upstreaminfo format, which HAProxy has not.
            if let Some(e) = w.exchanges[id].explanation.as_mut() {
                e.push_str(" (access_log_format upstreaminfo is an nginx log_format; HAProxy's httplog names only the last server and counts the retries in %rc.)");
            }
        }
        if w.keep_details && w.scenario.proxy.auth_request.is_some() {
            // nginx's auth_request is not in the exported haproxy.cfg.
            if let Some(e) = w.exchanges[id].explanation.as_mut() {
                e.push_str(" (auth_request is nginx's: HAProxy has no built-in equivalent, so this configuration asks no authorization service.)");
            }
        }
        self.log_line(w, id, response.status as i32, bytes, term);
        w.exchanges[id].logged_status = Some(response.status);
        // A client that left already (no abortonclose) has its answer dropped.
        super::deliver(w, id, response, result, &format!(" ({})", term.code()));
    }

    /// The httplog line.
    fn log_line(&self, w: &mut World, id: ReqId, status: i32, bytes: u64, term: Termination) {
        if !w.keep_details {
            return; // a run that keeps no details writes no log lines
        }
        let st = self.state.get(id).cloned().unwrap_or_default();
        let ta = Self::ms_since_start(w, id);
        let tc = st.connect_ms.map(|v| v.to_string()).unwrap_or_else(|| "-1".into());
        // %Tr: from the established connection to the complete response headers.
        let tr = match (st.response_ms, st.connect_ms) {
            (Some(r), Some(c)) => (r - c).to_string(),
            _ => "-1".into(),
        };
        // A request denied by the frontend never reaches the backend queue: %Tw = -1.
        let tw = if term == Termination('P', 'R') { "-1" } else { "0" };
        let retries = st.tries.saturating_sub(1);
        let retries = if st.redispatched { format!("+{retries}") } else { retries.to_string() };
        let ex = &w.exchanges[id];
        let accept = w.clock.haproxy_accept(ex.sent_at);
        let server = if st.pick.is_some() { self.server_name(st.pick) } else { "<NOSRV>".into() };
        let backend = if term == Termination('P', 'R') { FRONTEND } else { BACKEND };
        let server = if term == Termination('P', 'R') { "<NOSRV>".to_string() } else { server };
        let line = format!(
            "{}:{} [{accept}] {FRONTEND} {backend}/{server} 0/{tw}/{tc}/{tr}/{ta} {status} {bytes} - - {} 1/1/0/0/{retries} 0/0 \"{}\"",
            ex.client_ip,
            40_000 + ex.client_connection % 20_000,
            term.code(),
            ex.request_line()
        );
        w.access_log.push(line.clone());
        w.exchanges[id].access_line = Some(line);
    }

    fn send_request(&mut self, w: &mut World, id: ReqId, conn: ConnId) {
        let ms = Self::ms_since_start(w, id);
        self.st(id).connect_ms = Some(ms);
        w.conns[conn].state = ConnState::Active;
        w.request_sent(id);
        let line = w.exchanges[id].request_line();
        note!(w, id, Actor::Proxy, "sends \"{line}\" to the server");
        let hop = w.hop();
        w.schedule(hop, Event::AppRequest { conn });
        let attempt = w.conns[conn].attempt;
        let t = w.scenario.proxy.haproxy.timeout_server_ms * 1_000;
        w.schedule(t, Event::ProxyTimer { id, timer: ProxyTimer::Read { attempt } });
    }
}

impl ProxyFlavor for Haproxy {
    fn on_request(&mut self, w: &mut World, id: ReqId) {
        self.st(id);
        let line = w.exchanges[id].request_line();
        note!(w, id, Actor::Proxy, "{FRONTEND} reads \"{line}\"");
        if self.refuse_request(w, id) {
            return;
        }
        if let Some(cfg) = w.scenario.proxy.limit_req.clone() {
            // http-request deny if { sc_http_req_rate(0) gt N }: 1 s sliding window.
            let key = w.exchanges[id].client_ip.to_string();
            let now = w.now_ms();
            let q = self.rate.entry(key).or_default();
            while q.front().is_some_and(|&t| now.saturating_sub(t) >= 1_000) {
                q.pop_front();
            }
            q.push_back(now);
            let limit = (cfg.rate_per_s.floor() as usize) + cfg.burst as usize;
            if q.len() > limit.max(1) {
                self.finish_error(w, id, cfg.status, Termination('P', 'R'));
                return;
            }
        }
        self.connect(w, id, true);
    }

    fn on_connect_result(&mut self, w: &mut World, conn: ConnId, outcome: ConnectOutcome) {
        let Some(id) = super::current(w, conn) else { return };
        if w.conns[conn].state != ConnState::Connecting {
            return;
        }
        let cause = match outcome {
            ConnectOutcome::Accepted => {
                if self.tls {
                    let result = app::tls_handshake(w, conn);
                    let hop = w.hop();
                    w.schedule(2 * hop, Event::ProxyTlsDone { conn, result });
                } else {
                    self.send_request(w, id, conn);
                }
                return;
            }
            ConnectOutcome::Refused => FailureCause::Refused,
            ConnectOutcome::NoSuchFile => FailureCause::NoSuchFile,
            ConnectOutcome::PermissionDenied => FailureCause::PermissionDenied,
            ConnectOutcome::Dropped => return,
        };
        self.connect_failed(w, id, cause);
    }

    fn on_tls_done(&mut self, w: &mut World, conn: ConnId, result: TlsResult) {
        let Some(id) = super::current(w, conn) else { return };
        // `ssl verify required` checks the chain, not the name: without
        // `verifyhost` (not in the exported config) a certificate for another
        // name is accepted.
        let result = if result == TlsResult::Cert(crate::sim::fault::CertProblem::HostnameMismatch) { TlsResult::Ok } else { result };
        if result == TlsResult::Ok {
            self.send_request(w, id, conn);
            return;
        }
        // A failed handshake is a connection failure for HAProxy: retried, then 503.
        let problem = match result {
            TlsResult::Cert(p) => TlsProblem::CertVerify(p),
            TlsResult::Alert(a) => TlsProblem::Alert(a),
            _ => TlsProblem::HandshakeFailure,
        };
        self.connect_failed(w, id, FailureCause::Tls(problem));
    }

    fn on_upstream_data(&mut self, w: &mut World, conn: ConnId) {
        let Some(id) = super::current(w, conn) else { return };
        let Some(reply) = w.conns[conn].reply.take() else { return };
        let ms = Self::ms_since_start(w, id);
        self.st(id).response_ms = Some(ms);
        match reply.wire {
            Wire::Garbage(_) => {
                // No valid response header was received: %Tr stays -1.
                self.st(id).response_ms = None;
                w.end_attempt(id, AttemptResult::Failed { cause: FailureCause::NotHttp });
                self.finish_error(w, id, 502, Termination('P', 'H'));
            }
            Wire::Http { response, bad_header_line, truncate_body_at } => {
                let mut header_len = htx_headers(&response);
                if let Some(l) = &bad_header_line {
                    header_len += l.len() as u64;
                }
                // tune.maxrewrite (1024) is reserved out of tune.bufsize.
                let limit = w.scenario.proxy.haproxy.bufsize.saturating_sub(1024);
                let invalid = bad_header_line.as_ref().filter(|l| !l.contains(':') || l.split(':').next().is_some_and(|n| n.bytes().any(|b| b <= b' ')));
                let cause = if header_len > limit {
                    Some(FailureCause::TooBigHeader { bytes: header_len, limit })
                } else {
                    invalid.map(|l| FailureCause::InvalidHeader { line: l.clone() })
                };
                if let Some(cause) = cause {
                    self.st(id).response_ms = None;
                    w.end_attempt(id, AttemptResult::Failed { cause });
                    self.finish_error(w, id, 502, Termination('P', 'H'));
                    return;
                }
                let status = response.status;
                let response = forwarded(response);
                w.end_attempt(id, AttemptResult::Responded { status });
                if status == 101 {
                    self.start_tunnel(w, id, response);
                    return;
                }
                Self::close(w, id);
                if w.keep_details {
                    let unchecked = app::unchecked_cert_problem(w, conn);
                    let explanation = match status {
                        s if unchecked.is_some() => format!(
                            "The server answered {s} and HAProxy relayed it, although its certificate {}: the server line says ssl verify none, so HAProxy encrypts the connection but does not check the certificate. Use verify required with a ca-file to see the problem as a 503 SC--, and renew the certificate.",
                            app::cert_problem_words(unchecked.expect("checked"))
                        ),
                        503 => "The server itself answered 503; HAProxy relayed it (termination state ----).".to_string(),
                        s => format!("The server answered {s} and HAProxy relayed it."),
                    };
                    w.exchanges[id].explanation = Some(explanation);
                }
                if let Some(sent) = truncate_body_at {
                    let chunked = response.is_chunked();
                    let expected = (!chunked).then_some(response.body.len() as u64);
                    let mut out = response;
                    out.body.to_mut().truncate(sent as usize);
                    let what = if chunked {
                        format!("one {sent}-byte chunk of a chunked body, then closed without the last chunk. HAProxy de-chunks the body and re-chunks it for the client (sizes in upper-case hex); the log counts the {sent} payload bytes, not the framing")
                    } else {
                        format!("{sent} of {} body bytes, then closed", expected.unwrap_or_default())
                    };
                    w.exchanges[id].explanation = Some(format!(
                        "The server sent its headers and {what}. HAProxy had already forwarded the {status}: the client gets a truncated body, and the log shows SD-- (server side, data phase)."
                    ));
                    self.send(w, id, out, Termination('S', 'D'), ClientResult::Truncated { received: sent, expected }, Some(sent));
                } else {
                    self.send(w, id, response, Termination('-', '-'), ClientResult::Response, None);
                }
            }
            Wire::BadChunked { .. } => {
                // HAProxy parses the chunks that came with the header before
                // it forwards anything: a parse error, its own 502.
                self.st(id).response_ms = None;
                w.end_attempt(id, AttemptResult::Failed { cause: FailureCause::InvalidChunked });
                self.finish_error(w, id, 502, Termination('P', 'H'));
            }
            Wire::Crash | Wire::OomKill { .. } | Wire::Hang => {}
        }
    }

    fn on_upstream_closed(&mut self, w: &mut World, conn: ConnId, reset: bool) {
        let Some(id) = super::current(w, conn) else { return };
        if !w.exchanges[id].proxy.request_sent {
            return;
        }
        let cause = if reset { FailureCause::Reset } else { FailureCause::PrematureClose };
        w.end_attempt(id, AttemptResult::Failed { cause });
        self.finish_error(w, id, 502, Termination('S', 'H'));
    }

    fn on_idle_timeout(&mut self, _w: &mut World, _conn: ConnId, _token: u64) {}

    fn on_client_abort(&mut self, w: &mut World, id: ReqId) {
        if w.exchanges[id].proxy.done || w.exchanges[id].client_connection == 0 {
            return;
        }
        // Observed on 2.6.12 (docs/research/client-abort-observations.md):
        // without `option abortonclose` HAProxy keeps the server connection,
        // even its connection retries, and logs the server's answer as usual
        // once it comes; nobody receives it.
        if !w.scenario.proxy.haproxy.abortonclose {
            w.note(id, Actor::Proxy, "the client closed its connection; without option abortonclose HAProxy still waits for the server");
            return;
        }
        // With it: the server connection is reset at once. Waiting for the
        // headers it logs 400 CH-- (206 bytes, as observed); still
        // connecting, -1 with CC--.
        let connecting = w.exchanges[id].proxy.conn.is_none_or(|c| w.conns[c].state == ConnState::Connecting);
        w.end_attempt(id, AttemptResult::ClientClosed);
        Self::close(w, id);
        if w.keep_details {
            w.exchanges[id].explanation = Some("The client closed its connection before the server answered. With option abortonclose HAProxy aborts the server connection at once, so the server's work is wasted but its connection slot is freed.".into());
        }
        let (status, term, bytes) = if connecting { (-1i32, Termination('C', 'C'), 0) } else { (400, Termination('C', 'H'), 206) };
        self.log_line(w, id, status, bytes, term);
        w.exchanges[id].proxy.done = true;
        w.exchanges[id].logged_status = u16::try_from(status).ok();
    }

    fn forget_before(&mut self, id: ReqId) {
        self.state.forget_before(id);
    }

    fn on_timer(&mut self, w: &mut World, id: ReqId, timer: ProxyTimer) {
        if w.exchanges[id].proxy.done {
            return;
        }
        // A tunnel has only its own idle timer.
        if self.tunnels.get(id).is_some_and(|t| t.is_some()) && timer != ProxyTimer::Tunnel {
            return;
        }
        match timer {
            ProxyTimer::Tunnel => self.end_tunnel(w, id),
            ProxyTimer::Connect { attempt } if attempt == u32::MAX - 999 => {
                // Redispatch: the retry goes to another server.
                self.connect(w, id, true);
            }
            ProxyTimer::Connect { attempt } if attempt > u32::MAX - 999 => {
                // The turn-around delay is over: retry on the same server.
                self.connect(w, id, false);
            }
            ProxyTimer::Connect { attempt } => {
                let Some(conn) = w.exchanges[id].proxy.conn else { return };
                if w.conns[conn].attempt != attempt || w.conns[conn].state != ConnState::Connecting {
                    return;
                }
                self.connect_failed(w, id, FailureCause::Timeout { phase: TimeoutPhase::Connect });
            }
            ProxyTimer::Read { attempt } => {
                let Some(conn) = w.exchanges[id].proxy.conn else { return };
                if w.conns[conn].attempt != attempt || w.conns[conn].state != ConnState::Active {
                    return;
                }
                w.end_attempt(id, AttemptResult::Failed { cause: FailureCause::Timeout { phase: TimeoutPhase::ReadHeader } });
                self.finish_error(w, id, 504, Termination('s', 'H'));
            }
            _ => {}
        }
    }
}
