//! The upstream application servers: processes with a worker pool, a
//! listen backlog, keep-alive idle timers, and what the operating system
//! does when a process dies. Healthy behaviour is here; every deviation is
//! asked of the active faults (`sim::fault`).

use std::collections::VecDeque;

use super::fault::{AppReply, CertProblem, ConnectOutcome, Fault, ServiceFault, Wire};
use super::http::{reason_phrase, Header, Response};
use super::net::Address;
use super::rng::SimRng;
use super::time::SimTime;
use super::server::{self, gunicorn, php_fpm, uwsgi, Abort, ServerKind};
use super::world::{Actor, ConnId, ConnState, Event, World};

/// Linux: SYN retransmissions after 1, 2, 4, 8, 16, 32 s (`tcp_syn_retries` = 6).
pub const SYN_RETRIES: u32 = 6;

/// Runtime state of one app process.
#[derive(Clone, Debug, PartialEq)]
pub struct AppProc {
    pub index: usize,
    pub running: bool,
    /// Bumped each time the process dies; stale events compare it.
    pub generation: u64,
    /// Workers busy with a request.
    pub busy: u32,
    /// Connections whose request waits for a worker (unread).
    pub waiting: VecDeque<ConnId>,
    /// Connections open at the app, in the order it accepted them. Closed
    /// ones (`Conn::app_closed`) may linger until the closings since the
    /// last sweep (`closed_in_open`) are half of it; `die` skips them.
    pub open: Vec<ConnId>,
    pub closed_in_open: usize,
    pub restarts: u32,
    /// When the current process started (systemd's "active since", docker's
    /// StartedAt): the start of the run, a restart, or the end of a stop.
    pub started: SimTime,
    /// How the previous process ended, if one ended.
    pub last_exit: Option<Exit>,
    /// `systemctl stop` stopped the service at this instant: no process,
    /// and systemd does not restart it until it is started again.
    pub stopped: Option<SimTime>,
    /// When `systemctl start` or `restart` last started the service. A
    /// fault that keeps the service stopped since an earlier instant
    /// ([`ServiceFault::Stopped`]) no longer holds: someone started it since.
    pub started_by_hand: Option<SimTime>,
    /// The app server's worker slots (`sim::server`): the connection each
    /// works on, and each one's process id (gunicorn's workers, PHP-FPM's
    /// children, uWSGI's workers; a killed one is replaced by a new pid).
    pub slots: Vec<Option<ConnId>>,
    pub slot_pids: Vec<u32>,
    /// When each slot's process started, and requests it served (uWSGI's `req: T/W`).
    pub slot_started: Vec<SimTime>,
    pub slot_served: Vec<u64>,
    /// The next process id a new worker gets.
    pub next_pid: u32,
    /// Requests the server has taken in all (uWSGI's `req: T/…`).
    pub taken: u64,
    /// PHP-FPM warned that the pool reached its max children (once until
    /// a child is free again).
    pub max_children_warned: bool,
}

impl AppProc {
    pub fn new(index: usize) -> Self {
        AppProc {
            index,
            running: true,
            generation: 0,
            busy: 0,
            waiting: VecDeque::new(),
            open: Vec::new(),
            closed_in_open: 0,
            restarts: 0,
            started: SimTime::ZERO,
            last_exit: None,
            stopped: None,
            started_by_hand: None,
            slots: Vec::new(),
            slot_pids: Vec::new(),
            slot_started: Vec::new(),
            slot_served: Vec::new(),
            next_pid: 0,
            taken: 0,
            max_children_warned: false,
        }
    }
}

/// Why a process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitCause {
    /// It exited with status 1 (an uncaught exception, or a crash while
    /// writing a body).
    Crashed,
    /// The kernel's OOM killer sent SIGKILL.
    OomKilled,
    /// The service was stopped (`systemctl stop`: SIGTERM).
    Stopped,
}

/// The end of a process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exit {
    pub at: SimTime,
    pub cause: ExitCause,
}

/// How a TLS handshake with the app ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsResult {
    Ok,
    Cert(CertProblem),
    /// The app answered the ClientHello with plain HTTP.
    NotTls,
    /// The app's TLS server aborted the handshake with this alert.
    Alert(u8),
}

/// `Nov 21 04:43:44 web1 app[2817]: ...` — the journal the app log shows.
fn journal(w: &World, app: usize, tag: &str, msg: &str) -> String {
    let t = w.clock.journal(w.now);
    format!("{t} web{} {tag}: {msg}", app + 1)
}

fn app_tag(w: &World, app: usize) -> String {
    format!("{}[{}]", w.scenario.apps[app].name, w.scenario.apps[app].pid)
}

/// The app listening on `addr`, if any (names are resolved by the proxy).
pub fn listener(w: &World, addr: &Address) -> Option<usize> {
    w.scenario.apps.iter().position(|a| {
        Address::parse(&a.listen).ok().is_some_and(|l| match (&l, addr) {
            (Address::Tcp { host: h1, port: p1 }, Address::Tcp { host: h2, port: p2 }) => {
                // 0.0.0.0 is every IPv4 address; `::` every address (Linux's
                // default dual-stack socket).
                let v6 = h2.contains(':');
                p1 == p2 && (h1 == h2 || (h1 == "0.0.0.0" && !v6) || h1 == "::" || (h2 == "localhost" && h1 == "127.0.0.1"))
            }
            _ => &l == addr,
        })
    })
}

/// What a healthy app answers.
pub fn healthy_response(cfg: &super::scenario::App) -> Response {
    Response {
        status: 200,
        reason: reason_phrase(200).into(),
        headers: vec![
            Header::new("Content-Type", "application/json; charset=utf-8"),
            Header::new("Content-Length", cfg.body.len().to_string()),
        ],
        body: cfg.body.clone().into(),
    }
}

/// The app's answer when `waiting` requests already queue and it sheds
/// load above `shed_queue_above`: a fast 503 + Retry-After.
pub fn shed_reply(cfg: &super::scenario::App, waiting: usize) -> Option<AppReply> {
    let shed = cfg.shed_queue_above;
    (shed > 0 && waiting as u32 >= shed).then(|| AppReply {
        after_us: 200,
        wire: Wire::Http { response: shed_response(), bad_header_line: None, truncate_body_at: None },
        note: Some("load shedding: queue full"),
    })
}

/// What an app that sheds load answers when its queue is full.
pub fn shed_response() -> Response {
    super::fault::text_response(
        503,
        reason_phrase(503),
        "Server is overloaded. Retry later.\n",
        [Header::new("Retry-After", "1")],
    )
}

/// A SYN reaches the app host.
pub fn on_syn(w: &mut World, conn: ConnId, syn: u32) {
    if w.conns[conn].state != ConnState::Connecting {
        return; // the proxy gave up already
    }
    let Ok(addr) = Address::parse(&w.conns[conn].peer) else { return };
    let req = w.conns[conn].req;
    let app = listener(w, &addr);
    let mut outcome = match (&addr, app) {
        (_, Some(a)) if w.apps[a].running => ConnectOutcome::Accepted,
        (Address::Unix { .. }, None) => ConnectOutcome::NoSuchFile,
        _ => ConnectOutcome::Refused,
    };
    if let Some(a) = app {
        let now = w.now;
        let by_hand = w.apps[a].started_by_hand;
        // Disjoint fields: the faults and the app are read while the PRNG draws.
        let (faults, name, rng) = (&w.scenario.faults, &w.scenario.apps[a].name, &mut w.rng);
        if let Some(o) = connect_outcome(faults, now, name, by_hand, rng) {
            outcome = o;
        }
        let cfg = &w.scenario.apps[a];
        if outcome == ConnectOutcome::Accepted && cfg.server == ServerKind::PhpFpm && matches!(addr, Address::Unix { .. }) && !cfg.php_fpm.nginx_may_connect() {
            // listen.owner/group/mode leave nginx's worker (www-data) out.
            outcome = ConnectOutcome::PermissionDenied;
        }
    }
    if outcome == ConnectOutcome::Accepted {
        let a = app.expect("accepted implies a listener");
        let cfg = &w.scenario.apps[a];
        let queued = w.apps[a].waiting.len() as u32;
        if w.apps[a].busy >= server::concurrency(cfg) && queued >= cfg.backlog {
            // Accept queue full: Linux drops the SYN; the proxy's kernel retransmits.
            w.stats.syns_dropped += 1;
            if let Some(id) = req {
                note!(w, id, Actor::Kernel, "accept queue of {} full ({queued} waiting): SYN dropped", w.conns[conn].peer);
            }
            if syn < SYN_RETRIES {
                let rto = 1_000_000u64 << syn;
                w.schedule(rto, Event::AppSyn { conn, syn: syn + 1 });
            }
            return;
        }
        w.conns[conn].app = Some(a);
        w.conns[conn].generation = w.apps[a].generation;
        w.apps[a].open.push(conn);
    }
    if let (Some(id), true) = (req, w.record_timelines) {
        let text = match outcome {
            ConnectOutcome::Accepted => format!("{} accepts the connection", w.conns[conn].peer),
            ConnectOutcome::Refused => "nothing listens there: the kernel answers RST".to_string(),
            ConnectOutcome::NoSuchFile => "no such socket file".to_string(),
            ConnectOutcome::PermissionDenied if matches!(addr, Address::Tcp { .. }) => "SELinux refuses the proxy's connect() (avc: denied { name_connect }): EACCES, no packet sent".to_string(),
            ConnectOutcome::PermissionDenied => "socket file is not accessible to nginx's user".to_string(),
            ConnectOutcome::Dropped => "the SYN is silently dropped; no answer will come".to_string(),
        };
        w.note(id, Actor::Kernel, text);
    }
    if outcome != ConnectOutcome::Dropped {
        let hop = w.hop();
        w.schedule(hop, Event::ProxyConnectResult { conn, outcome });
    }
}

/// The TLS handshake's result with the app behind `conn`.
pub fn tls_handshake(w: &World, conn: ConnId) -> TlsResult {
    let Some(a) = w.conns[conn].app else { return TlsResult::NotTls };
    if !w.scenario.apps[a].tls {
        return TlsResult::NotTls;
    }
    let name = &w.scenario.apps[a].name;
    // The server name in the proxy's ClientHello (proxy_ssl_server_name).
    let sni = super::proxy::nginx::ssl_name::sni(&w.scenario);
    if let Some(alert) = w.scenario.faults.iter().filter(|f| f.targets(name) && f.in_window(w.now)).find_map(|f| f.tls_alert(sni.as_deref())) {
        return TlsResult::Alert(alert);
    }
    let problem = w
        .scenario
        .faults
        .iter()
        .filter(|f| f.targets(name) && f.in_window(w.now))
        .find_map(|f| f.cert_problem());
    match problem {
        // Without proxy_ssl_verify nginx accepts any certificate.
        Some(p) if w.scenario.proxy.proxy_ssl_verify => TlsResult::Cert(p),
        _ => TlsResult::Ok,
    }
}

/// Whether app `a` speaks TLS on its port while the proxy speaks plain
/// HTTP to it (`proxy_pass http://`, a server line without `ssl`): the
/// request's bytes reach a TLS listener (the `plain_http_to_tls` fault).
pub fn plain_on_tls_port(w: &World, a: usize) -> bool {
    w.scenario.apps[a].tls
        && !super::net::ProxyPass::parse(&w.scenario.proxy.proxy_pass).is_ok_and(|p| p.scheme == super::net::Scheme::Https)
}

/// Whether `peer` (an attempt's address) is an app that speaks TLS to a
/// proxy that does not (see [`plain_on_tls_port`]).
pub fn plain_to_tls_peer(w: &World, peer: &str) -> bool {
    Address::parse(peer).ok().and_then(|addr| listener(w, &addr)).is_some_and(|a| plain_on_tls_port(w, a))
}

/// The certificate problem of the app behind `conn` that the proxy did not
/// check: it speaks TLS to it with `proxy_ssl_verify` off (HAProxy:
/// `verify none`), so the handshake succeeded anyway.
pub fn unchecked_cert_problem(w: &World, conn: ConnId) -> Option<CertProblem> {
    let a = w.conns[conn].app?;
    let tls = super::net::ProxyPass::parse(&w.scenario.proxy.proxy_pass).is_ok_and(|p| p.scheme == super::net::Scheme::Https);
    if !tls || !w.scenario.apps[a].tls || w.scenario.proxy.proxy_ssl_verify {
        return None;
    }
    let name = &w.scenario.apps[a].name;
    w.scenario.faults.iter().filter(|f| f.targets(name) && f.in_window(w.now)).find_map(|f| f.cert_problem())
}

/// What a certificate problem is, in words.
pub fn cert_problem_words(p: CertProblem) -> &'static str {
    match p {
        CertProblem::Expired => "has expired",
        CertProblem::SelfSigned => "is self-signed (no trusted CA signed it)",
        CertProblem::HostnameMismatch => "is for another name",
    }
}

/// The proxied request reaches the app.
pub fn on_request(w: &mut World, conn: ConnId) {
    let Some(a) = w.conns[conn].app else { return };
    if w.conns[conn].app_closed || !w.apps[a].running || w.apps[a].generation != w.conns[conn].generation {
        // The app already closed this connection: its kernel answers RST.
        if let Some(id) = w.conns[conn].req {
            w.note(id, Actor::Kernel, "the request reaches a connection the app already closed: RST");
        }
        let hop = w.hop();
        w.schedule(hop, Event::ProxyUpstreamClosed { conn, reset: true });
        return;
    }
    if plain_on_tls_port(w, a) {
        // The app's TLS layer reads "GET ..." where a ClientHello belongs and
        // hangs up at once (Node's https server and `openssl s_server` close
        // with FIN; no request reaches the handler, nothing is logged).
        if let Some(id) = w.conns[conn].req {
            w.note(id, Actor::App, "its TLS listener reads plain HTTP instead of a ClientHello and closes the connection");
        }
        close_at_app(w, a, conn);
        let hop = w.hop();
        w.schedule(hop, Event::ProxyUpstreamClosed { conn, reset: false });
        return;
    }
    w.conns[conn].idle_token += 1; // cancels the app's idle timer
    if let Some(reply) = shed_reply(&w.scenario.apps[a], w.apps[a].waiting.len()) {
        w.stats.app_requests_read += 1;
        w.conns[conn].read_by_app = true;
        let generation = w.apps[a].generation;
        w.conns[conn].reply = Some(reply);
        w.schedule(200, Event::AppWrite { conn, generation });
        return;
    }
    if let Some(size) = uwsgi_block_too_big(w, a, conn) {
        // uWSGI reads the request block and refuses it before any worker runs the app.
        w.stats.app_requests_read += 1;
        w.conns[conn].read_by_app = true;
        w.conns[conn].abort = Some(Abort::BlockTooBig { size, max: w.scenario.apps[a].uwsgi.buffer_size });
        let generation = w.apps[a].generation;
        w.schedule(0, Event::AppAbort { conn, generation });
        return;
    }
    let workers = server::concurrency(&w.scenario.apps[a]);
    if w.apps[a].busy < workers {
        start(w, a, conn);
    } else {
        w.conns[conn].queued = true;
        w.apps[a].waiting.push_back(conn);
        if w.scenario.apps[a].server == ServerKind::PhpFpm && !w.apps[a].max_children_warned {
            w.apps[a].max_children_warned = true;
            if let Some(msg) = w.scenario.apps[a].php_fpm.max_children_warning() {
                let l = php_fpm::line(&w.clock, w.now, &msg);
                w.app_log.push(l);
            }
        }
        if let Some(id) = w.conns[conn].req {
            let n = w.apps[a].waiting.len();
            note!(w, id, Actor::App, "all {workers} workers busy: the request waits unread (queue: {n})");
        }
    }
}

/// What app `cfg` replies to a request a worker starts on at `now`: a
/// healthy response after its latency, transformed by each fault in turn.
/// Draws from `rng` (the latency, then the faults' coin flips).
pub fn compose_reply(cfg: &super::scenario::App, faults: &[Fault], now: SimTime, rng: &mut SimRng) -> AppReply {
    let (lo, hi) = (
        cfg.latency_ms.saturating_sub(cfg.latency_jitter_ms),
        cfg.latency_ms.saturating_add(cfg.latency_jitter_ms),
    );
    // Validation bounds both (one day), so these cannot overflow; saturate anyway.
    let after_us = rng.between(lo.saturating_mul(1_000), hi.saturating_mul(1_000));
    let mut reply = AppReply {
        after_us,
        wire: Wire::Http { response: healthy_response(cfg), bad_header_line: None, truncate_body_at: None },
        note: None,
    };
    for f in faults {
        reply = f.on_request(now, &cfg.name, rng, reply);
    }
    reply
}

/// A worker picks up the request on `conn`.
fn start(w: &mut World, a: usize, conn: ConnId) {
    w.apps[a].busy += 1;
    w.conns[conn].holds_worker = true;
    w.conns[conn].read_by_app = true;
    w.conns[conn].queued = false;
    w.stats.app_requests_read += 1;
    let now = w.now;
    let (cfg, faults, rng) = (&w.scenario.apps[a], &w.scenario.faults, &mut w.rng);
    let reply = compose_reply(cfg, faults, now, rng);
    let slot = take_slot(w, a, conn);
    w.apps[a].taken += 1;
    let mut reply = server_reply(w, a, conn, reply);
    if let Some((at, abort)) = server_abort(w, a, conn, slot, &reply) {
        if let Some(id) = w.conns[conn].req {
            note!(w, id, Actor::App, "a worker reads \"{}\" and starts on it", w.exchanges[id].request_line());
        }
        let generation = w.apps[a].generation;
        w.conns[conn].abort = Some(abort);
        w.conns[conn].reply = Some(reply);
        w.schedule_at(at, Event::AppAbort { conn, generation });
        return;
    }
    if let Some(id) = w.conns[conn].req {
        // A WebSocket handshake to a WebSocket app: 101 if the upgrade
        // reached it, else its refusal (faults that change the reply win).
        let healthy = matches!(&reply.wire, Wire::Http { response, bad_header_line: None, truncate_body_at: None } if response.status == 200);
        if w.exchanges[id].request.websocket && healthy {
            let upgraded = super::websocket::upgrade_reaches_app(&w.scenario);
            if let Some(r) = super::websocket::answer(w.scenario.apps[a].websocket, upgraded) {
                reply.wire = Wire::Http { response: r, bad_header_line: None, truncate_body_at: None };
            }
        }
        note!(w, id, Actor::App, "a worker reads \"{}\" and starts on it", w.exchanges[id].request_line());
        if w.exchanges[id].request.body_bytes > super::proxy::nginx::SOCKET_BUFFER_BYTES {
            let hop = w.hop();
            w.schedule(hop, Event::ProxyRequestDrained { conn });
        }
    }
    let generation = w.apps[a].generation;
    let after = reply.after_us;
    let hang = matches!(reply.wire, Wire::Hang);
    w.conns[conn].reply = Some(reply);
    if !hang {
        w.schedule(after, Event::AppWrite { conn, generation });
    }
}

/// The app finishes the request on `conn`.
pub fn on_write(w: &mut World, conn: ConnId, generation: u64) {
    let Some(a) = w.conns[conn].app else { return };
    if w.apps[a].generation != generation || !w.apps[a].running {
        return; // the process died meanwhile
    }
    // Borrowed out of the connection, and put back for the proxy to read.
    let Some(reply) = w.conns[conn].reply.take() else { return };
    write_reply(w, a, conn, &reply);
    if w.conns[conn].reply.is_none() {
        w.conns[conn].reply = Some(reply);
    }
}

fn write_reply(w: &mut World, a: usize, conn: ConnId, reply: &AppReply) {
    let req = w.conns[conn].req;
    let took_ms = reply.after_us / 1_000;
    match reply.wire {
        Wire::Crash => {
            if let Some(note) = reply.note {
                let tag = app_tag(w, a);
                let line = journal(w, a, &tag, &format!("Uncaught {note}"));
                w.app_log.push(line);
            }
            if let Some(id) = req {
                w.note(id, Actor::App, "the process crashes (uncaught exception)");
            }
            die(w, a, false, 0);
            return;
        }
        Wire::OomKill { rss_mb } => {
            if let Some(id) = req {
                note!(w, id, Actor::Kernel, "out of memory: the OOM killer sends SIGKILL to the app ({rss_mb} MB resident)");
            }
            die(w, a, true, rss_mb);
            return;
        }
        _ => {}
    }
    let proxy_gone = w.conns[conn].state == ConnState::Closed;
    if w.keep_details {
        let (method, path) = req
            .map(|id| (w.exchanges[id].request.method.clone(), w.exchanges[id].request.path.clone()))
            .unwrap_or_default();
        if w.scenario.apps[a].server == ServerKind::Uwsgi {
            uwsgi_request_line(w, a, conn, &method, &path, reply);
        }
        log_response(w, a, &method, &path, reply, proxy_gone);
    }
    w.stats.app_responses_written += 1;
    let truncated = matches!(reply.wire, Wire::Http { truncate_body_at: Some(_), .. });
    // A load-shedding 503 is written by the event loop without a worker.
    if std::mem::take(&mut w.conns[conn].holds_worker) {
        finish_worker(w, a, conn);
    }
    if let (Some(id), true) = (req, w.record_timelines) {
        let status = reply.status().map(|s| s.to_string()).unwrap_or_else(|| "-".into());
        let text = if proxy_gone {
            format!("finishes after {took_ms} ms and writes {status} into a closed connection")
        } else {
            format!("writes {status} after {took_ms} ms")
        };
        w.note(id, Actor::App, text);
    }
    if !proxy_gone {
        let hop = w.hop();
        w.schedule(hop, Event::ProxyUpstreamData { conn });
    }
    if truncated {
        die(w, a, false, 0);
        return;
    }
    if reply.status() == Some(101) {
        // A WebSocket: the connection stays open, idle, until the proxy
        // closes it (the app has nothing to send).
        return;
    }
    let keep_ms = server::keepalive_ms(&w.scenario.apps[a]);
    if let (true, false, None, Some(id)) = (w.conns[conn].keepalive, proxy_gone, keep_ms, req) {
        // nginx asked to keep it (keepalive pool), the server never does.
        let why = match w.scenario.apps[a].server {
            ServerKind::Gunicorn => "gunicorn's sync worker answered Connection: close",
            _ => "the server keeps no connection after a response",
        };
        note!(w, id, Actor::App, "{why} and closes the connection: nginx's keepalive pool cannot reuse it");
    }
    if let (true, false, Some(keep_ms)) = (w.conns[conn].keepalive, proxy_gone, keep_ms) {
        w.conns[conn].read_by_app = false;
        let token = w.conns[conn].idle_token;
        let idle = keep_ms * 1_000;
        w.schedule(idle, Event::AppIdleTimeout { conn, token });
    } else {
        close_at_app(w, a, conn);
    }
}

/// The app's log line for a response it writes: `GET /users 200 25ms`
/// (node); uWSGI's request line; nothing for gunicorn and PHP-FPM, whose
/// access logs are off by default (Debian's pool, gunicorn without
/// `--access-logfile`).
fn log_response(w: &mut World, a: usize, method: &str, path: &str, reply: &AppReply, peer_gone: bool) {
    match w.scenario.apps[a].server {
        ServerKind::Node => {}
        ServerKind::Gunicorn | ServerKind::PhpFpm => return,
        // Written by `write_reply`, which knows the connection.
        ServerKind::Uwsgi => return,
    }
    let status = reply.status().map(|s| s.to_string()).unwrap_or_else(|| "-".into());
    let took_ms = reply.after_us / 1_000;
    let mut msg = format!("{method} {path} {status} {took_ms}ms");
    if let Some(note) = reply.note {
        msg.push_str(&format!(" ({note})"));
    }
    if peer_gone {
        msg.push_str(" — write to a connection the proxy already closed (EPIPE)");
    }
    let tag = app_tag(w, a);
    let line = journal(w, a, &tag, &msg);
    w.app_log.push(line);
}

/// A request that reached app `a` directly, not through the proxy (an
/// administrator's `curl` on the host), now that its reply is due: the app
/// does what it does for any request. It logs the response, or dies as the
/// reply says (a crash, the OOM killer, a body cut short). The proxy's
/// connections are not involved; nothing is scheduled for this request.
/// Returns false (and does nothing) when the process that took the request
/// (`generation`) is gone.
pub fn serve_direct(w: &mut World, a: usize, generation: u64, method: &str, path: &str, reply: &AppReply) -> bool {
    if !w.apps.get(a).is_some_and(|p| p.running && p.generation == generation) {
        return false;
    }
    match &reply.wire {
        Wire::Crash => {
            if let Some(note) = reply.note {
                let tag = app_tag(w, a);
                let line = journal(w, a, &tag, &format!("Uncaught {note}"));
                w.app_log.push(line);
            }
            die(w, a, false, 0);
        }
        Wire::OomKill { rss_mb } => die(w, a, true, *rss_mb),
        Wire::Hang => {}
        Wire::Http { truncate_body_at, .. } => {
            let cut = truncate_body_at.is_some();
            log_response(w, a, method, path, reply, false);
            if cut {
                die(w, a, false, 0);
            }
        }
        Wire::Garbage(_) | Wire::BadChunked { .. } => log_response(w, a, method, path, reply, false),
    }
    true
}

/// Whether fault `f` no longer holds app `app`'s service stopped at `now`:
/// it stopped the service (`ServiceFault::Stopped`) before `systemctl
/// start` started it again at `by_hand`.
pub fn overruled(f: &Fault, now: SimTime, app: &str, by_hand: Option<SimTime>) -> bool {
    match (f.service_fault(now, app), by_hand) {
        (Some(ServiceFault::Stopped { since }), Some(t)) => since <= t,
        _ => false,
    }
}

/// How the faults make a connection attempt to app `app` end (None: as
/// usual), leaving out a fault whose stop was overruled by a start by hand
/// at `by_hand` ([`overruled`]). Draws from `rng` as the faults do.
pub fn connect_outcome(faults: &[Fault], now: SimTime, app: &str, by_hand: Option<SimTime>, rng: &mut SimRng) -> Option<ConnectOutcome> {
    faults.iter().filter(|f| !overruled(f, now, app, by_hand)).find_map(|f| f.on_connect(now, app, rng))
}

/// The fault that changes app `a`'s service now (stopped, or restarting for
/// a deploy), if any. A stop that `systemctl start` overruled is not one.
pub fn service_fault(w: &World, a: usize) -> Option<ServiceFault> {
    let name = &w.scenario.apps.get(a)?.name;
    let by_hand = w.apps.get(a).and_then(|p| p.started_by_hand);
    w.scenario.faults.iter().filter(|f| !overruled(f, w.now, name, by_hand)).find_map(|f| f.service_fault(w.now, name))
}

/// Whether each app's service is stopped now, by a fault or by `systemctl
/// stop` (for [`on_reload`]).
pub fn stopped_services(w: &World) -> Vec<bool> {
    (0..w.apps.len())
        .map(|a| w.apps[a].stopped.is_some() || matches!(service_fault(w, a), Some(ServiceFault::Stopped { .. })))
        .collect()
}

/// For each app, the faults that keep its service stopped now, overruled or
/// not: when they change (the page broke or fixed something), a start by
/// hand no longer overrules them ([`forget_starts_by_hand`]).
pub fn stopping_faults(w: &World) -> Vec<Vec<Fault>> {
    (0..w.apps.len().min(w.scenario.apps.len()))
        .map(|a| {
            let name = &w.scenario.apps[a].name;
            w.scenario.faults.iter().filter(|f| matches!(f.service_fault(w.now, name), Some(ServiceFault::Stopped { .. }))).cloned().collect()
        })
        .collect()
}

/// The faults changed: an app whose stopping faults ([`stopping_faults`])
/// are not those of `before` forgets its start by hand.
pub fn forget_starts_by_hand(w: &mut World, before: &[Vec<Fault>]) {
    let after = stopping_faults(w);
    for (a, now) in after.iter().enumerate() {
        if before.get(a) != Some(now) {
            w.apps[a].started_by_hand = None;
        }
    }
}

/// The faults changed (`before`: [`stopped_services`] under the old ones).
/// A service they stop now was stopped now (`systemctl stop`); one they no
/// longer stop was started now, with a new process (`systemctl start`).
/// systemd's journal lines say so.
pub fn on_reload(w: &mut World, before: &[bool]) {
    let now = w.now;
    for (a, stopped) in stopped_services(w).into_iter().enumerate() {
        let was = before.get(a).copied().unwrap_or(false);
        let name = w.scenario.apps[a].name.clone();
        if stopped && !was {
            w.apps[a].last_exit = Some(Exit { at: now, cause: ExitCause::Stopped });
            for msg in [format!("Stopping {name}.service..."), format!("{name}.service: Deactivated successfully."), format!("Stopped {name}.service.")] {
                let l = journal(w, a, "systemd[1]", &msg);
                w.app_log.push(l);
            }
        } else if !stopped && was {
            w.apps[a].started = now;
            let l = journal(w, a, "systemd[1]", &format!("Started {name}.service."));
            w.app_log.push(l);
        }
    }
}

fn finish_worker(w: &mut World, a: usize, conn: ConnId) {
    if let Some(slot) = w.conns[conn].slot {
        if let Some(s) = w.apps[a].slots.get_mut(slot) {
            *s = None;
        }
    }
    w.apps[a].busy = w.apps[a].busy.saturating_sub(1);
    if w.apps[a].waiting.is_empty() {
        w.apps[a].max_children_warned = false;
    }
    while w.apps[a].busy < server::concurrency(&w.scenario.apps[a]) {
        let Some(next) = w.apps[a].waiting.pop_front() else { break };
        // Even if the proxy gave up meanwhile, the request bytes are in the
        // socket: the worker reads and serves it, and only learns when it
        // writes (wasted work, as real servers do).
        start(w, a, next);
    }
}

fn close_at_app(w: &mut World, a: usize, conn: ConnId) {
    w.conns[conn].app_closed = true;
    // Sweeping `open` at every close costs its length each time, and a
    // burst of clients can leave thousands of connections open: sweep once
    // the closed ones are half of it.
    let p = &mut w.apps[a];
    p.closed_in_open += 1;
    if p.closed_in_open * 2 >= p.open.len() {
        let conns = &w.conns;
        // A connection the run no longer keeps (`World::retire`) was closed.
        p.open.retain(|&c| conns.get(c).is_some_and(|c| !c.app_closed));
        p.closed_in_open = 0;
    }
}

/// The app's idle timer on a kept-alive connection fires: it closes (FIN).
pub fn on_idle_timeout(w: &mut World, conn: ConnId, token: u64) {
    let c = &w.conns[conn];
    if c.idle_token != token || c.app_closed || c.read_by_app || c.queued {
        return;
    }
    let Some(a) = c.app else { return };
    if w.apps[a].generation != c.generation {
        return;
    }
    close_at_app(w, a, conn);
    let hop = w.hop();
    w.schedule(hop, Event::ProxyUpstreamClosed { conn, reset: false });
}

/// The process dies. Connections whose request it had read, or idle ones,
/// close with FIN; connections with unread data in the socket get RST.
fn die(w: &mut World, a: usize, oom: bool, rss_mb: u64) {
    let cfg = w.scenario.apps[a].clone();
    let tag = app_tag(w, a);
    if oom {
        let kb = rss_mb * 1024;
        let l = journal(w, a, "kernel", &format!(
            "Out of memory: Killed process {} ({}) total-vm:{}kB, anon-rss:{kb}kB, file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:{}kB oom_score_adj:0",
            cfg.pid, "node", kb + kb / 2, kb / 400 + 4
        ));
        w.app_log.push(l);
        let l = journal(w, a, "systemd[1]", &format!("{}.service: A process of this unit has been killed by the OOM killer.", cfg.name));
        w.app_log.push(l);
        let l = journal(w, a, "systemd[1]", &format!("{}.service: Main process exited, code=killed, status=9/KILL", cfg.name));
        w.app_log.push(l);
    } else {
        let l = journal(w, a, "systemd[1]", &format!("{}.service: Main process exited, code=exited, status=1/FAILURE", cfg.name));
        w.app_log.push(l);
    }
    let _ = tag;
    w.stats.app_crashes += 1;
    let now = w.now;
    end_process(w, a, Exit { at: now, cause: if oom { ExitCause::OomKilled } else { ExitCause::Crashed } });
    let generation = w.apps[a].generation;
    w.schedule(cfg.restart_ms * 1_000, Event::AppRestarted { app: a, generation });
}

/// The process ends (`exit`): what the kernel does with its connections.
/// Those whose request it had read, or idle ones, close with FIN; those
/// with unread data in the socket get RST.
fn end_process(w: &mut World, a: usize, exit: Exit) {
    let p = &mut w.apps[a];
    p.last_exit = Some(exit);
    p.running = false;
    p.generation += 1;
    p.busy = 0;
    p.waiting.clear();
    p.slots.iter_mut().for_each(|s| *s = None);
    let open = std::mem::take(&mut p.open);
    p.closed_in_open = 0;
    let hop = w.hop();
    for conn in open {
        let Some(c) = w.conns.get_mut(conn) else { continue }; // retired: closed long ago
        if c.state == ConnState::Closed || c.app_closed {
            continue;
        }
        c.app_closed = true;
        let reset = c.queued; // unread request bytes in the socket buffer
        c.queued = false;
        w.schedule(hop, Event::ProxyUpstreamClosed { conn, reset });
    }
}

/// What `systemctl` asks of an app's unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnitAction {
    Start,
    Stop,
    Restart,
    Reload,
}

/// How a unit job ended, as `systemctl` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobResult {
    /// Done, or nothing to do (starting a running unit, stopping a stopped one).
    Done,
    /// A control process (nginx's `ExecStartPre=nginx -t`, a reload's
    /// configuration check) exited with an error.
    Failed,
    /// A reload of a unit that is not active.
    NotActive,
    /// A reload of a unit without `ExecReload=` (the apps' units).
    NotApplicable,
}

/// Whether app `a`'s service runs now as systemd sees it (a process, or
/// one that died and waits for its automatic restart), not stopped by hand
/// or by a fault.
pub fn service_active(w: &World, a: usize) -> bool {
    w.apps[a].stopped.is_none() && !matches!(service_fault(w, a), Some(ServiceFault::Stopped { .. }))
}

fn systemd_line(w: &mut World, a: usize, msg: &str) {
    let l = journal(w, a, "systemd[1]", msg);
    w.app_log.push(l);
}

/// `systemctl start|stop|restart|reload` on app `a`'s unit, now. A stop
/// sends SIGTERM: node exits at once and the kernel closes its connections
/// as for any death, but systemd does not restart it. A start runs a new
/// process (cancelling a pending automatic restart) and overrules a fault
/// that kept the service stopped; a fault that breaks the process itself
/// (an OOM, a crash) breaks the new one too. The unit has no
/// `ExecReload=`.
pub fn unit_action(w: &mut World, a: usize, action: UnitAction) -> JobResult {
    if a >= w.apps.len() || a >= w.scenario.apps.len() {
        return JobResult::Done;
    }
    let name = w.scenario.apps[a].name.clone();
    let now = w.now;
    match action {
        UnitAction::Reload => JobResult::NotApplicable,
        UnitAction::Stop => {
            if !service_active(w, a) {
                return JobResult::Done;
            }
            if w.apps[a].running {
                systemd_line(w, a, &format!("Stopping {name}.service..."));
                end_process(w, a, Exit { at: now, cause: ExitCause::Stopped });
                systemd_line(w, a, &format!("{name}.service: Deactivated successfully."));
            } else {
                // Waiting for its automatic restart: the restart job is cancelled.
                w.apps[a].generation += 1;
            }
            systemd_line(w, a, &format!("Stopped {name}.service."));
            w.apps[a].stopped = Some(now);
            JobResult::Done
        }
        UnitAction::Start | UnitAction::Restart => {
            let active = service_active(w, a);
            if active && w.apps[a].running && action == UnitAction::Start {
                return JobResult::Done;
            }
            if active && w.apps[a].running {
                systemd_line(w, a, &format!("Stopping {name}.service..."));
                end_process(w, a, Exit { at: now, cause: ExitCause::Stopped });
                systemd_line(w, a, &format!("{name}.service: Deactivated successfully."));
                systemd_line(w, a, &format!("Stopped {name}.service."));
            } else if !w.apps[a].running {
                // A pending automatic restart is cancelled: this start replaces it.
                w.apps[a].generation += 1;
            }
            let p = &mut w.apps[a];
            p.running = true;
            p.stopped = None;
            p.started = now;
            p.started_by_hand = Some(now);
            systemd_line(w, a, &format!("Started {name}.service."));
            JobResult::Done
        }
    }
}

/// systemd brings the process back.
pub fn on_restarted(w: &mut World, a: usize, generation: u64) {
    if w.apps[a].generation != generation || w.apps[a].running {
        return;
    }
    w.apps[a].running = true;
    w.apps[a].restarts += 1;
    w.apps[a].started = w.now;
    let name = w.scenario.apps[a].name.clone();
    let n = w.apps[a].restarts;
    let l = journal(w, a, "systemd[1]", &format!("{name}.service: Scheduled restart job, restart counter is at {n}."));
    w.app_log.push(l);
    let l = journal(w, a, "systemd[1]", &format!("Started {name}.service."));
    w.app_log.push(l);
}

/// The app's state as the topology shows it.
pub fn state(w: &World, a: usize) -> &'static str {
    if !w.apps.get(a).is_some_and(|p| p.running) {
        return "down";
    }
    let name = &w.scenario.apps[a].name;
    let by_hand = w.apps[a].started_by_hand;
    w.base
        .faults
        .iter()
        .find(|f| f.targets(name) && f.in_window(w.now) && !overruled(f, w.now, name, by_hand))
        .map(|f| f.kind.app_state())
        .unwrap_or("listening")
}

// ---------------------------------------------------------------------------
// The app server (`sim::server`): worker slots, what a server does to a
// request instead of answering, its own log lines.

/// Gives the request on `conn` a worker slot of app `a` (and its pid).
fn take_slot(w: &mut World, a: usize, conn: ConnId) -> usize {
    let n = server::concurrency(&w.scenario.apps[a]) as usize;
    let pid = w.scenario.apps[a].pid;
    let now = w.now;
    let p = &mut w.apps[a];
    if p.slots.len() < n.min(4_096) {
        let from = p.slots.len();
        p.slots.resize(n.min(4_096), None);
        for i in from..p.slots.len() {
            p.slot_pids.push(pid.wrapping_add(1 + i as u32));
            p.slot_started.push(SimTime::ZERO.max(now.min(p.started)));
            p.slot_served.push(0);
        }
        p.next_pid = p.next_pid.max(pid.wrapping_add(1 + p.slots.len() as u32));
    }
    let slot = p.slots.iter().position(|s| s.is_none()).unwrap_or(0);
    if let Some(s) = p.slots.get_mut(slot) {
        *s = Some(conn);
    }
    if let Some(c) = p.slot_served.get_mut(slot) {
        *c += 1;
    }
    w.conns[conn].slot = Some(slot);
    slot
}

/// The server's own answer in place of the app's: PHP-FPM's 404 for a
/// script that does not exist ("Primary script unknown" on FastCGI
/// stderr), and PHP's framing (no Content-Length: nginx sends it chunked).
fn server_reply(w: &mut World, a: usize, conn: ConnId, mut reply: AppReply) -> AppReply {
    let cfg = &w.scenario.apps[a];
    if cfg.server == ServerKind::Gunicorn {
        // gunicorn's own headers (observed, research §2.2-2.3): Server, Date,
        // and Connection: close from the sync worker, keep-alive from gthread.
        let date = w.clock.http_date(w.now.plus_us(reply.after_us));
        let connection = if cfg.gunicorn.keepalive_ms().is_some() { "keep-alive" } else { "close" };
        if let Wire::Http { response, .. } = &mut reply.wire {
            let own = [Header::new("Server", "gunicorn"), Header::new("Date", date), Header::new("Connection", connection)];
            response.headers.splice(0..0, own);
        }
        return reply;
    }
    if cfg.server != ServerKind::PhpFpm {
        return reply;
    }
    let path = w.conns[conn].req.and_then(|id| w.exchanges.get(id)).map(|ex| ex.request.path.clone()).unwrap_or_default();
    if !cfg.php_fpm.script_exists(&path) {
        w.conns[conn].fcgi_stderr = Some(php_fpm::PRIMARY_SCRIPT_UNKNOWN);
        reply.after_us = 0;
        reply.wire = Wire::Http {
            response: Response {
                status: 404,
                reason: reason_phrase(404).into(),
                headers: vec![Header::new("Content-Type", "text/html; charset=UTF-8"), Header::new("Transfer-Encoding", "chunked")],
                body: php_fpm::NOT_FOUND_BODY.into(),
            },
            bad_header_line: None,
            truncate_body_at: None,
        };
        return reply;
    }
    if let Wire::Http { response, truncate_body_at: None, .. } = &mut reply.wire {
        response.headers.retain(|h| !h.name.eq_ignore_ascii_case("Content-Length") && !h.name.eq_ignore_ascii_case("Content-Type"));
        response.headers.insert(0, Header::new("Content-Type", "text/html; charset=UTF-8"));
        response.headers.push(Header::new("Transfer-Encoding", "chunked"));
    }
    reply
}

/// Whether the server kills the worker before `reply` is written: when,
/// and how.
fn server_abort(w: &World, a: usize, conn: ConnId, _slot: usize, reply: &AppReply) -> Option<(SimTime, Abort)> {
    let cfg = &w.scenario.apps[a];
    let master = w.apps[a].started;
    let now = w.now;
    let (at, abort) = match cfg.server {
        ServerKind::Node => return None,
        ServerKind::Gunicorn => (cfg.gunicorn.abort_at(master, now), Abort::GunicornTimeout),
        ServerKind::PhpFpm => {
            let at = cfg.php_fpm.terminate_at(master, now)?;
            let ex = w.conns[conn].req.and_then(|id| w.exchanges.get(id));
            let path = ex.map(|e| e.request.path.clone()).unwrap_or_default();
            let method = ex.map(|e| e.request.method.clone()).unwrap_or_default();
            let script = format!("{}{}", server::ROOT, path.split('?').next().unwrap_or(""));
            (at, Abort::FpmTerminate { script, request: format!("{method} {path}"), since: now })
        }
        ServerKind::Uwsgi => {
            let at = cfg.uwsgi.harakiri_at(master, now)?;
            let ex = w.conns[conn].req.and_then(|id| w.exchanges.get(id));
            let request = ex.map(|e| format!("{} {}", e.request.method, e.request.path)).unwrap_or_default();
            (at, Abort::Harakiri { request, since: now })
        }
    };
    let hangs = matches!(reply.wire, Wire::Hang);
    let finishes = now.plus_us(reply.after_us);
    (hangs || finishes > at).then_some((at, abort))
}

/// The uwsgi request block of the request on `conn`, if app `a` is uWSGI
/// and the block is larger than its `buffer-size`.
fn uwsgi_block_too_big(w: &World, a: usize, conn: ConnId) -> Option<u64> {
    let cfg = &w.scenario.apps[a];
    if cfg.server != ServerKind::Uwsgi {
        return None;
    }
    let (_, bytes) = uwsgi_block(w, conn)?;
    (bytes > cfg.uwsgi.buffer_size).then_some(bytes)
}

/// The uwsgi vars and bytes nginx sends for the request on `conn`.
fn uwsgi_block(w: &World, conn: ConnId) -> Option<(usize, u64)> {
    let ex = w.exchanges.get(w.conns[conn].req?)?;
    let agent = w.ops.get(ex.op).and_then(|o| o.user_agent.clone()).unwrap_or_else(|| w.scenario.clients.user_agent.clone());
    let cookie = ex.request.cookie_value();
    let server_name = w.scenario.proxy.server_name.split_whitespace().next().unwrap_or("").to_string();
    Some(uwsgi::block(&uwsgi::UwsgiRequest {
        method: &ex.request.method,
        uri: &ex.request.path,
        host: &ex.request.host,
        user_agent: &agent,
        cookie: cookie.as_deref(),
        remote_addr: &ex.client_ip,
        remote_port_digits: 5,
        server_port: w.scenario.proxy.listen,
        server_name: &server_name,
        document_root: server::ROOT,
    }))
}

fn uwsgi_request_line(w: &mut World, a: usize, conn: ConnId, method: &str, path: &str, reply: &AppReply) {
    let slot = w.conns[conn].slot.unwrap_or(0);
    let (vars, bytes) = uwsgi_block(w, conn).unwrap_or((0, 0));
    let (status, body, headers, header_bytes) = match &reply.wire {
        Wire::Http { response, .. } => (response.status, response.body.len(), response.headers.len(), response.header_block_len()),
        _ => return,
    };
    let remote = w.conns[conn].req.and_then(|id| w.exchanges.get(id)).map(|e| e.client_ip.to_string()).unwrap_or_default();
    let p = &w.apps[a];
    let started = w.now.since(SimTime(reply.after_us.min(w.now.as_micros())));
    let line = uwsgi::request_line(
        &w.clock,
        SimTime(started),
        p.slot_pids.get(slot).copied().unwrap_or(0),
        p.taken,
        p.slot_served.get(slot).copied().unwrap_or(0),
        &remote,
        vars,
        bytes,
        method,
        path,
        body,
        reply.after_us / 1_000,
        status,
        headers,
        header_bytes,
    );
    w.app_log.push(line);
}

/// The app server aborts the request on `conn` (`Conn::abort`): its log
/// lines, the worker replaced, and the connection closed (FIN, or RST
/// with unread bytes).
pub fn on_abort(w: &mut World, conn: ConnId, generation: u64) {
    let Some(a) = w.conns[conn].app else { return };
    if w.apps[a].generation != generation || !w.apps[a].running || w.conns[conn].app_closed {
        return;
    }
    let Some(abort) = w.conns[conn].abort.take() else { return };
    let now = w.now;
    let slot = w.conns[conn].slot;
    let cfg = w.scenario.apps[a].clone();
    let old = slot.and_then(|s| w.apps[a].slot_pids.get(s).copied()).unwrap_or(cfg.pid.wrapping_add(1));
    let age = slot.and_then(|s| w.apps[a].slot_started.get(s).copied()).unwrap_or(SimTime::ZERO);
    let replaced = !matches!(abort, Abort::BlockTooBig { .. });
    let new = if replaced {
        let n = w.apps[a].next_pid.max(cfg.pid.wrapping_add(1));
        w.apps[a].next_pid = n.wrapping_add(1);
        if let Some(s) = slot {
            if let Some(p) = w.apps[a].slot_pids.get_mut(s) {
                *p = n;
            }
            if let Some(t) = w.apps[a].slot_started.get_mut(s) {
                *t = now;
            }
            if let Some(c) = w.apps[a].slot_served.get_mut(s) {
                *c = 0;
            }
        }
        n
    } else {
        old
    };
    let (lines, words): (Vec<String>, String) = match &abort {
        Abort::GunicornTimeout => {
            let lines = gunicorn::timeout_lines(&w.clock, now, cfg.pid, old, new)
                .into_iter()
                .map(|(pid, l)| journal(w, a, &format!("gunicorn[{pid}]"), &l))
                .collect();
            (lines, format!("gunicorn's arbiter aborts the worker (pid {old}) after --timeout {} s: WORKER TIMEOUT; the connection closes without a reply", cfg.gunicorn.timeout))
        }
        Abort::FpmTerminate { script, request, since } => {
            let lines = php_fpm::terminate_lines(&w.clock, now, old, new, script, request, now.since(*since), now.since(age.min(*since))).to_vec();
            (lines, format!("PHP-FPM terminates the child (pid {old}) after request_terminate_timeout {} s (SIGTERM): the connection is reset", cfg.php_fpm.request_terminate_timeout))
        }
        Abort::Harakiri { request, since } => {
            let remote = w.conns[conn].req.and_then(|id| w.exchanges.get(id)).map(|e| e.client_ip.to_string()).unwrap_or_default();
            let n = slot.unwrap_or(0) as u32 + 1;
            let lines = uwsgi::harakiri_lines(&w.clock, now, n, old, new, &remote, request, w.clock.unix(*since));
            (lines, format!("uWSGI's harakiri ({} s) kills worker {n} (pid {old}) with SIGKILL: the connection closes without a reply", cfg.uwsgi.harakiri))
        }
        Abort::BlockTooBig { size, max } => {
            (vec![uwsgi::block_line(*size, *max)], format!("uWSGI refuses the request block of {size} bytes (buffer-size {max}) and closes the connection with the request unread: RST"))
        }
    };
    for l in lines {
        w.app_log.push(l);
    }
    if let Some(id) = w.conns[conn].req {
        w.note(id, Actor::App, words);
    }
    let reset = abort.reset();
    if std::mem::take(&mut w.conns[conn].holds_worker) {
        finish_worker(w, a, conn);
    } else if let Some(s) = slot {
        if let Some(x) = w.apps[a].slots.get_mut(s) {
            *x = None;
        }
    }
    close_at_app(w, a, conn);
    if w.conns[conn].state != ConnState::Closed {
        let hop = w.hop();
        w.schedule(hop, Event::ProxyUpstreamClosed { conn, reset });
    }
}
