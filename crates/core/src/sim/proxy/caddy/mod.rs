//! Caddy 2.6 with `reverse_proxy`, behind the same `ProxyFlavor` interface.
//! Measured on Caddy 2.6.2 (Debian) on loopback:
//! docs/research/apache-caddy-varnish-observations.md §2, and the fidelity
//! harness's Caddy column.
//!
//! What it does, in Caddy's (Go's) words:
//! - every failure of its own is an **empty** body: 502 for a refused or
//!   timed-out dial (`dial tcp 127.0.0.1:3000: connect: connection refused`,
//!   `… i/o timeout` after `dial_timeout`, 3 s by default), for a backend
//!   that closes (`EOF`) or resets (`read tcp A->B: read: connection reset by
//!   peer`) and for a name that does not resolve; **504** when
//!   `response_header_timeout` (none by default) runs out;
//! - each failure writes one JSON line to the error logger
//!   (`http.log.error.log0`, the journal) and one to the access log
//!   (`http.log.access.log0`, `level` `error` for any status >= 500);
//! - a header name with a space is dropped: the client gets the 200;
//! - a request sent on a pooled connection the backend had just closed is
//!   re-sent on a new connection by Go's transport (GET): 200, no line;
//! - retries only with `lb_try_duration`, every `lb_try_interval` (250 ms),
//!   with one error line for the last attempt.

pub mod conf;

use crate::sim::app::TlsResult;
use crate::sim::failure::{FailureCause, TimeoutPhase};
use crate::sim::fault::{ConnectOutcome, Wire};
use crate::sim::http::{Header, Response};
use crate::sim::log::{Level, LogLine};
use crate::sim::net::Address;
use crate::sim::scenario::{Flavor, Scenario};
use crate::sim::time::SimTime;
use crate::sim::window::PerRequest;
use crate::sim::world::{Actor, AttemptResult, ClientResult, ConnId, ConnState, Event, ProxyTimer, ReqId, World};

use super::ProxyFlavor;

/// Where the exported Caddyfile writes the access log.
pub const ACCESS_LOG: &str = "/var/log/caddy/access.log";
/// Caddy's `err_trace` for every proxy error in 2.6.2.
const ERR_TRACE: &str = "reverseproxy.statusError (reverseproxy.go:1272)";

/// What the Caddy flavor does not model, for a scenario it would run
/// (faults applied): None when it models all of it.
pub fn unsupported(sc: &Scenario) -> Option<String> {
    if sc.proxy.flavor != Flavor::Caddy {
        return None;
    }
    super::uncovered(sc)
}

#[derive(Clone, Debug, Default, PartialEq)]
struct ReqState {
    /// Upstream index of the current attempt.
    upstream: Option<usize>,
    /// When the first attempt started (`lb_try_duration` counts from it).
    first_try: Option<SimTime>,
    arrived: Option<SimTime>,
    /// The reused connection failed once and the request was re-sent.
    resent: bool,
    /// A header the upstream sent that Caddy logs but does not pass on.
    dropped_header: Option<(String, String)>,
}

pub struct Caddy {
    /// Upstream addresses as dialed (`127.0.0.1:3000`, `unix//run/app.sock`).
    upstreams: Vec<(String, usize)>,
    /// `lb_policy round_robin`'s counter.
    next: usize,
    pool: Vec<ConnId>,
    state: PerRequest<ReqState>,
}

/// A float as Go's strconv prints it shortest (`0.000617`, `2.0094`).
fn go_float(micros: u64) -> String {
    let s = format!("{}.{:06}", micros / 1_000_000, micros % 1_000_000);
    let s = s.trim_end_matches('0');
    s.trim_end_matches('.').to_string()
}

/// One header of a logged map: `"Name":["value"]`; Caddy 2.6 logs the
/// values of Cookie and Set-Cookie as an empty list (measured).
fn redacted(name: &str, value: &str) -> String {
    if name.eq_ignore_ascii_case("cookie") || name.eq_ignore_ascii_case("set-cookie") {
        format!("{}:[]", json_str(name))
    } else {
        format!("{}:[{}]", json_str(name), json_str(value))
    }
}

fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

impl Caddy {
    pub fn start(w: &mut World) -> Caddy {
        let upstreams = conf::upstreams(&w.scenario).into_iter().enumerate().map(|(i, a)| (a, i)).collect();
        Caddy { upstreams, next: 0, pool: Vec::new(), state: PerRequest::default() }
    }

    fn st(&mut self, id: ReqId) -> &mut ReqState {
        self.state.at(id)
    }

    /// The client's port as Caddy logs it (`remote_port`).
    fn client_port(w: &World, id: ReqId) -> u64 {
        40_000 + w.exchanges[id].client_connection % 20_000
    }

    /// The `request` object of both log lines.
    fn request_json(w: &World, id: ReqId) -> String {
        let ex = &w.exchanges[id];
        let agent = w.ops.get(ex.op).and_then(|o| o.user_agent.clone()).unwrap_or_else(|| w.scenario.clients.user_agent.clone());
        let head = crate::sim::http::client_request_head(&ex.request, &agent);
        let headers: Vec<String> = head
            .split("\r\n")
            .skip(1)
            .filter_map(|l| l.split_once(": "))
            .filter(|(n, _)| !n.eq_ignore_ascii_case("host"))
            .map(|(n, v)| redacted(n, v))
            .collect();
        let uri = &ex.request.path;
        format!(
            "{{\"remote_ip\":{},\"remote_port\":\"{}\",\"proto\":\"HTTP/1.1\",\"method\":{},\"host\":{},\"uri\":{},\"headers\":{{{}}}}}",
            json_str(&ex.client_ip),
            Self::client_port(w, id),
            json_str(&ex.request.method),
            json_str(&ex.request.host),
            json_str(uri),
            headers.join(",")
        )
    }

    /// 9 characters from `[a-z0-9]`, derived from the run's seed and the request (no PRNG draw).
    fn err_id(w: &World, id: ReqId) -> String {
        let mut x = w.scenario.seed ^ (id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xC0FF_EE;
        (0..9)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                b"abcdefghijklmnopqrstuvwxyz0123456789"[(x % 36) as usize] as char
            })
            .collect()
    }

    fn duration(&self, w: &World, id: ReqId) -> String {
        let since = self.state.get(id).and_then(|s| s.arrived).unwrap_or(w.exchanges[id].sent_at);
        go_float(w.now.since(since).max(1))
    }

    /// The error logger's line (the journal: Caddy's default logger).
    fn error_line(&self, w: &mut World, id: ReqId, msg: &str, status: u16) {
        note!(w, id, Actor::Proxy, "logs {msg:?} ({status})");
        if !w.keep_details {
            return;
        }
        let line = format!(
            "{{\"level\":\"error\",\"ts\":{},\"logger\":\"http.log.error.log0\",\"msg\":{},\"request\":{},\"duration\":{},\"status\":{status},\"err_id\":\"{}\",\"err_trace\":\"{ERR_TRACE}\"}}",
            go_float((w.clock.unix(w.now) as u64).saturating_mul(1_000_000).saturating_add(w.now.as_micros() % 1_000_000)),
            json_str(msg),
            Self::request_json(w, id),
            self.duration(w, id),
            Self::err_id(w, id)
        );
        w.error_log.push(line.clone());
        w.exchanges[id].error_lines.push(LogLine { level: Level::Error, text: line });
    }

    fn access_line(&self, w: &mut World, id: ReqId, response: &Response, size: u64) {
        w.exchanges[id].logged_status = Some(response.status);
        if !w.keep_details {
            return;
        }
        let level = if response.status >= 500 { "error" } else { "info" };
        // Go drops Transfer-Encoding from the header map (it frames the body itself).
        let mut headers: Vec<(&str, &str)> = response.headers.iter().filter(|h| !h.name.eq_ignore_ascii_case("transfer-encoding")).map(|h| (h.name.as_ref(), h.value.as_ref())).collect();
        let extra = self.state.get(id).and_then(|s| s.dropped_header.clone());
        if let Some((n, v)) = &extra {
            headers.push((n.as_str(), v.as_str()));
        }
        headers.sort_by(|a, b| a.0.cmp(b.0));
        // Go's header map: one key per name, its values in order
        // (`"Server":["Caddy","gunicorn"]` when the upstream names itself).
        let mut grouped: Vec<(&str, Vec<&str>)> = Vec::new();
        for (n, v) in headers {
            match grouped.last_mut() {
                Some((last, vs)) if last.eq_ignore_ascii_case(n) => vs.push(v),
                _ => grouped.push((n, vec![v])),
            }
        }
        let resp_headers: Vec<String> = grouped
            .iter()
            .map(|(n, vs)| if vs.len() == 1 { redacted(n, vs[0]) } else { format!("{}:[{}]", json_str(n), vs.iter().map(|v| json_str(v)).collect::<Vec<_>>().join(",")) })
            .collect();
        let line = format!(
            "{{\"level\":\"{level}\",\"ts\":{},\"logger\":\"http.log.access.log0\",\"msg\":\"handled request\",\"request\":{},\"user_id\":\"\",\"duration\":{},\"size\":{size},\"status\":{},\"resp_headers\":{{{}}}}}",
            go_float((w.clock.unix(w.now) as u64).saturating_mul(1_000_000).saturating_add(w.now.as_micros() % 1_000_000)),
            Self::request_json(w, id),
            self.duration(w, id),
            response.status,
            resp_headers.join(",")
        );
        w.access_log.push(line.clone());
        w.exchanges[id].access_line = Some(line);
    }

    /// `lb_policy round_robin` over the upstreams (one: always it). Caddy
    /// adds one to its counter before it picks: the first request goes to
    /// the second upstream (measured).
    fn pick(&mut self) -> usize {
        let n = self.upstreams.len().max(1);
        let i = (self.next + 1) % n;
        self.next = self.next.wrapping_add(1);
        i
    }

    fn dial(&mut self, w: &mut World, id: ReqId) {
        let now = w.now;
        self.st(id).first_try.get_or_insert(now);
        let i = self.pick();
        self.st(id).upstream = Some(i);
        let Some((address, server)) = self.upstreams.get(i).cloned() else { return };
        if let Ok(a) = Address::parse(&address) {
            if let Some(host) = a.host().filter(|_| !a.is_ip()) {
                if w.scenario.faults.iter().any(|f| f.dns_answer(host).is_some()) {
                    let resolver = w.scenario.proxy.resolver.clone().map(|r| if r.contains(':') { r } else { format!("{r}:53") }).unwrap_or_else(|| "127.0.0.53:53".into());
                    let msg = format!("dial tcp: lookup {host} on {resolver}: no such host");
                    self.failed_try(w, id, msg, None, format!("Caddy looks up {host} when it dials, and the resolver said the name does not exist. Caddy answers 502 with an empty body."));
                    return;
                }
            }
        }
        let peer = match Address::parse(&address) {
            Ok(a) if !a.is_ip() && a.host().is_some() => a.resolved("127.0.0.1").to_string(),
            _ => address.clone(),
        };
        // Go's transport takes the most recently used idle connection.
        if let Some(pos) = self.pool.iter().rposition(|&c| w.conns[c].peer == peer) {
            let conn = self.pool.remove(pos);
            if w.conns[conn].state == ConnState::Idle {
                super::reuse(w, id, conn);
                note!(w, id, Actor::Proxy, "reuses an idle connection to {peer}");
                self.send_request(w, id, conn);
                return;
            }
        }
        let attempt = w.exchanges[id].attempts.len() as u32;
        w.connect_attempt(id, peer.clone(), Some(server));
        note!(w, id, Actor::Proxy, "dials {peer}");
        let t = w.scenario.proxy.caddy.dial_timeout_ms * 1_000;
        w.schedule(t, Event::ProxyTimer { id, timer: ProxyTimer::Connect { attempt } });
    }

    fn send_request(&mut self, w: &mut World, id: ReqId, conn: ConnId) {
        // Go's transport keeps connections alive (HTTP/1.1).
        w.conns[conn].keepalive = true;
        w.conns[conn].state = ConnState::Active;
        w.request_sent(id);
        note!(w, id, Actor::Proxy, "sends \"{}\" upstream", w.exchanges[id].request_line());
        let hop = w.hop();
        w.schedule(hop, Event::AppRequest { conn });
        let rht = w.scenario.proxy.caddy.response_header_timeout_ms;
        if rht > 0 {
            let attempt = w.conns[conn].attempt;
            w.schedule(rht * 1_000, Event::ProxyTimer { id, timer: ProxyTimer::Read { attempt } });
        }
    }

    fn close(w: &mut World, id: ReqId) {
        if let Some(conn) = w.set_req_conn(id, None) {
            w.conns[conn].state = ConnState::Closed;
        }
    }

    /// A try failed with Go's error `msg`: retry within `lb_try_duration`,
    /// or log it and answer 502 (504 for a response header timeout).
    fn failed_try(&mut self, w: &mut World, id: ReqId, msg: String, cause: Option<FailureCause>, why: String) {
        if let Some(c) = cause.clone() {
            w.end_attempt(id, AttemptResult::Failed { cause: c });
        }
        Self::close(w, id);
        let c = &w.scenario.proxy.caddy;
        let (duration, interval) = (c.lb_try_duration_ms * 1_000, c.lb_try_interval_ms * 1_000);
        let started = self.state.get(id).and_then(|s| s.first_try).unwrap_or(w.now);
        // Only a dial error is retried (the request was not sent).
        let dial_error = msg.starts_with("dial ");
        // reverseproxy.go tryAgain: give up once lb_try_duration has passed, else wait lb_try_interval.
        if dial_error && duration > 0 && w.now.since(started) < duration {
            note!(w, id, Actor::Proxy, "{msg}; tries again in {} ms (lb_try_duration)", interval / 1_000);
            w.schedule(interval, Event::ProxyTimer { id, timer: ProxyTimer::Connect { attempt: u32::MAX } });
            return;
        }
        let status = if matches!(cause, Some(FailureCause::Timeout { phase: TimeoutPhase::ReadHeader })) { 504 } else { 502 };
        self.error_line(w, id, &msg, status);
        let retries = if duration > 0 { format!(" It tried again every lb_try_interval ({} ms) for lb_try_duration ({} ms): {} attempts, and logged only the last.", interval / 1_000, duration / 1_000, w.exchanges[id].attempts.len()) } else { String::new() };
        if w.keep_details {
            w.exchanges[id].explanation = Some(format!(
                "{why}{retries} Caddy writes its error in one JSON line (the msg is Go's error text, here {msg:?}) and a second line in the access log with \"level\":\"error\"."
            ));
        }
        let response = Response {
            status,
            reason: crate::sim::http::reason_phrase(status).into(),
            headers: vec![Header::new("Server", "Caddy"), Header::new("Date", w.clock.http_date(w.now)), Header::new("Content-Length", "0")],
            body: String::new().into(),
        };
        self.send(w, id, response, ClientResult::Response, 0);
    }

    fn send(&mut self, w: &mut World, id: ReqId, response: Response, result: ClientResult, size: u64) {
        if !super::finish(w, id) {
            return;
        }
        // The access log's resp_headers: what Caddy sent, without Date and Content-Length of its own errors.
        let mut logged = response.clone();
        logged.headers.retain(|h| !h.name.eq_ignore_ascii_case("date") && !(response.body.is_empty() && h.name.eq_ignore_ascii_case("content-length") && size == 0));
        self.access_line(w, id, &logged, size);
        // Caddy's answer for a client that has gone is dropped without a note.
        if super::client_gone(w, id) {
            return;
        }
        super::deliver(w, id, response, result, "");
    }

    /// Go's name for a dialed address: `tcp 127.0.0.1:3000`, `unix /run/app.sock`.
    fn dialed(peer: &str) -> String {
        match peer.strip_prefix("unix:") {
            Some(path) => format!("unix {path}"),
            None => format!("tcp {peer}"),
        }
    }
}

impl ProxyFlavor for Caddy {
    fn on_request(&mut self, w: &mut World, id: ReqId) {
        let now = w.now;
        self.st(id).arrived = Some(now);
        note!(w, id, Actor::Proxy, "reads \"{}\"", w.exchanges[id].request_line());
        self.dial(w, id);
    }

    fn on_connect_result(&mut self, w: &mut World, conn: ConnId, outcome: ConnectOutcome) {
        let Some(id) = super::current(w, conn) else { return };
        if w.conns[conn].state != ConnState::Connecting {
            return;
        }
        let peer = super::peer(w, id);
        let (cause, errno) = match outcome {
            ConnectOutcome::Accepted => {
                self.send_request(w, id, conn);
                return;
            }
            ConnectOutcome::Refused => (FailureCause::Refused, "connection refused"),
            ConnectOutcome::NoSuchFile => (FailureCause::NoSuchFile, "no such file or directory"),
            ConnectOutcome::PermissionDenied => (FailureCause::PermissionDenied, "permission denied"),
            ConnectOutcome::Dropped => return,
        };
        let msg = format!("dial {}: connect: {errno}", Self::dialed(&peer));
        self.failed_try(w, id, msg, Some(cause), format!("Caddy could not connect to {peer} ({errno}). Caddy answers 502 Bad Gateway with an empty body."));
    }

    fn on_tls_done(&mut self, _w: &mut World, _conn: ConnId, _result: TlsResult) {}

    fn on_upstream_data(&mut self, w: &mut World, conn: ConnId) {
        let Some(id) = super::current(w, conn) else { return };
        let Some(reply) = w.conns[conn].reply.take() else { return };
        let peer = super::peer(w, id);
        match reply.wire {
            Wire::Http { response, bad_header_line, truncate_body_at } => {
                let status = response.status;
                w.end_attempt(id, AttemptResult::Responded { status });
                if let Some((n, v)) = bad_header_line.as_ref().and_then(|l| l.split_once(':')) {
                    self.st(id).dropped_header = Some((n.to_string(), v.trim().to_string()));
                }
                let mut out = response;
                // Caddy sets its own Server and keeps the upstream's after it
                // (measured with gunicorn: `"Server":["Caddy","gunicorn"]`).
                out.headers.retain(|h| !h.name.eq_ignore_ascii_case("connection") && !h.name.eq_ignore_ascii_case("keep-alive"));
                out.headers.insert(0, Header::new("Server", "Caddy"));
                if w.keep_details {
                    w.exchanges[id].explanation = Some(match (&bad_header_line, status) {
                        (Some(l), _) => format!("{peer} answered {status} with a header line Caddy's HTTP server will not send on ({l:?}): it is dropped and the client gets the {status} without it. Caddy logs nothing about it."),
                        (None, 503) => format!("The app on {peer} itself answered 503; Caddy relayed it (its access log line says \"level\":\"error\" for any 5xx, but there is no error line)."),
                        (None, s) => format!("The app on {peer} answered {s} and Caddy relayed it."),
                    });
                }
                match truncate_body_at {
                    Some(sent) => {
                        let chunked = out.is_chunked();
                        let expected = (!chunked).then_some(out.body.len() as u64);
                        out.body.to_mut().truncate(sent as usize);
                        Self::close(w, id);
                        // Measured: a chunked body cut short reaches the client
                        // as a complete chunked body of the bytes that came
                        // (Go's server ends the chunks); a Content-Length body
                        // stays short.
                        let result = if chunked { ClientResult::Response } else { ClientResult::Truncated { received: sent, expected } };
                        if chunked && w.keep_details {
                            w.exchanges[id].explanation = Some(format!("{peer} sent a chunked body and died after {sent} bytes without the last chunk. Caddy re-frames the body for the client and ends it properly: the client sees a complete 200 with {sent} bytes and cannot tell that the body is cut short. Nothing in the logs says so."));
                        }
                        self.send(w, id, out, result, sent);
                    }
                    None => {
                        let size = out.body.len() as u64;
                        w.set_req_conn(id, None);
                        if w.conns[conn].keepalive && !w.conns[conn].app_closed {
                            w.set_conn_req(conn, None);
                            w.conns[conn].state = ConnState::Idle;
                            w.conns[conn].served += 1;
                            self.pool.push(conn);
                        } else {
                            w.conns[conn].state = ConnState::Closed;
                        }
                        self.send(w, id, out, ClientResult::Response, size);
                    }
                }
            }
            Wire::Garbage(bytes) => {
                let first = bytes.split("\r\n").next().unwrap_or(&bytes).to_string();
                self.failed_try(w, id, format!("net/http: HTTP/1.x transport connection broken: malformed HTTP response {}", json_str(&first)), Some(FailureCause::NotHttp), format!("{peer} answered with bytes that are not an HTTP response."));
            }
            Wire::BadChunked { response, .. } => {
                // Measured: Caddy has sent the 200 and its headers when Go's
                // chunked reader fails on the first chunk line; the client
                // gets a complete, empty chunked body and no line is logged.
                let status = response.status;
                w.end_attempt(id, AttemptResult::Failed { cause: FailureCause::InvalidChunked });
                Self::close(w, id);
                let mut out = response;
                out.headers.retain(|h| !h.name.eq_ignore_ascii_case("connection") && !h.name.eq_ignore_ascii_case("server"));
                out.headers.insert(0, Header::new("Server", "Caddy"));
                out.body = String::new().into();
                if w.keep_details {
                    w.exchanges[id].explanation = Some(format!(
                        "{peer} announced Transfer-Encoding: chunked but its body is not in chunks. Caddy had already sent the {status} and its headers; when Go's chunked reader fails it ends the response: the client sees a complete {status} with an empty body, and neither log says anything is wrong (the access log has size 0)."
                    ));
                }
                self.send(w, id, out, ClientResult::Response, 0);
            }
            Wire::Crash | Wire::OomKill { .. } | Wire::Hang => {}
        }
    }

    fn on_upstream_closed(&mut self, w: &mut World, conn: ConnId, reset: bool) {
        if w.conns[conn].state == ConnState::Idle {
            w.conns[conn].state = ConnState::Closed;
            self.pool.retain(|&c| c != conn);
            return;
        }
        let Some(id) = super::current(w, conn) else { return };
        if !w.exchanges[id].proxy.request_sent {
            return;
        }
        let reused = w.exchanges[id].attempts.last().is_some_and(|a| a.reused);
        let idempotent = matches!(w.exchanges[id].request.method.as_str(), "GET" | "HEAD" | "OPTIONS" | "TRACE");
        if reused && !reset && idempotent && !self.state.get(id).is_some_and(|s| s.resent) {
            // Go's transport: a request that got nothing on a reused
            // connection is sent again on a new one (measured: kaclose → 200).
            w.end_attempt(id, AttemptResult::Failed { cause: FailureCause::PrematureClose });
            Self::close(w, id);
            self.st(id).resent = true;
            note!(w, id, Actor::Proxy, "the idle connection it reused was closed by the app: Go's transport sends the request again on a new connection");
            let peer = super::peer(w, id);
            let server = self.state.get(id).and_then(|s| s.upstream).and_then(|i| self.upstreams.get(i)).map(|u| u.1);
            let attempt = w.exchanges[id].attempts.len() as u32;
            w.connect_attempt(id, peer, server);
            let t = w.scenario.proxy.caddy.dial_timeout_ms * 1_000;
            w.schedule(t, Event::ProxyTimer { id, timer: ProxyTimer::Connect { attempt } });
            return;
        }
        let peer = super::peer(w, id);
        let (msg, cause, why) = if reset {
            let local = 40_000 + w.conns[conn].number % 20_000;
            (format!("read {}: read: connection reset by peer", Self::dialed(&peer).replacen(' ', &format!(" 127.0.0.1:{local}->"), 1)), FailureCause::Reset, format!("{peer} reset the connection (RST) before a byte of response."))
        } else {
            ("EOF".to_string(), FailureCause::PrematureClose, format!("{peer} closed the connection before a byte of response (Go calls it EOF)."))
        };
        self.failed_try(w, id, msg, Some(cause), format!("{why} Caddy answers 502 Bad Gateway with an empty body."));
    }

    fn on_idle_timeout(&mut self, _w: &mut World, _conn: ConnId, _token: u64) {}

    fn on_client_abort(&mut self, w: &mut World, id: ReqId) {
        if w.exchanges[id].proxy.done {
            return;
        }
        w.note(id, Actor::Proxy, "the client closed its connection (what Caddy logs then was not measured)");
    }

    fn on_timer(&mut self, w: &mut World, id: ReqId, timer: ProxyTimer) {
        if w.exchanges[id].proxy.done {
            return;
        }
        match timer {
            ProxyTimer::Connect { attempt: u32::MAX } => self.dial(w, id),
            ProxyTimer::Connect { attempt } => {
                let Some(conn) = w.exchanges[id].proxy.conn else { return };
                if w.conns[conn].attempt != attempt || w.conns[conn].state != ConnState::Connecting {
                    return;
                }
                let peer = super::peer(w, id);
                let msg = format!("dial {}: i/o timeout", Self::dialed(&peer));
                let t = w.scenario.proxy.caddy.dial_timeout_ms;
                self.failed_try(w, id, msg, Some(FailureCause::Timeout { phase: TimeoutPhase::Connect }), format!("{peer} did not answer the connection attempt within dial_timeout ({t} ms). Caddy answers 502 (not 504) for a dial timeout, with an empty body."));
            }
            ProxyTimer::Read { attempt } => {
                let Some(conn) = w.exchanges[id].proxy.conn else { return };
                if w.conns[conn].attempt != attempt || w.conns[conn].state != ConnState::Active {
                    return;
                }
                let peer = super::peer(w, id);
                let t = w.scenario.proxy.caddy.response_header_timeout_ms;
                self.failed_try(w, id, "net/http: timeout awaiting response headers".into(), Some(FailureCause::Timeout { phase: TimeoutPhase::ReadHeader }), format!("{peer} sent no response headers within response_header_timeout ({t} ms). Caddy answers 504 Gateway Timeout with an empty body."));
            }
            _ => {}
        }
    }

    fn forget_before(&mut self, id: ReqId) {
        self.state.forget_before(id);
    }
}
