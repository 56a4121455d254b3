//! Varnish 7.1 in front of one backend, every request passed (`return
//! (pass)`), behind the same `ProxyFlavor` interface. Built from what a real
//! Varnish 7.1.1 (Debian) did on loopback:
//! docs/research/apache-caddy-varnish-observations.md §3, and the Varnish
//! column of the fidelity harness. Only the cases measured are modelled
//! (`unsupported` refuses the others with a message).
//!
//! What it does:
//! - every backend failure, timeouts included, is **503 Backend fetch
//!   failed** with the built-in Guru Meditation page (`XID:` the backend
//!   transaction), `Retry-After: 5`, and the connection kept alive;
//! - why is only in `varnishlog`: `FetchError backend default: fail errno
//!   111 (Connection refused)`, `… errno 110 (Connection timed out)` after
//!   `.connect_timeout`, `HTC eof (-1)` for a close or a reset, `first byte
//!   timeout`, `http format error` for an invalid header line;
//! - varnishncsa's line (the access log) is the same for every failure:
//!   `503 282`;
//! - a request that fails on a reused backend connection is retried once on
//!   a new one (the client sees 200; only varnishlog shows it);
//! - a backend name that does not resolve is a VCL compile error: varnishd
//!   does not start.

pub mod conf;

use crate::sim::app::TlsResult;
use crate::sim::failure::{FailureCause, TimeoutPhase};
use crate::sim::fault::{ConnectOutcome, Wire};
use crate::sim::http::{Header, Response};
use crate::sim::log::{Level, LogLine};
use crate::sim::net::Address;
use crate::sim::scenario::{Flavor, Scenario};
use crate::sim::window::PerRequest;
use crate::sim::world::{Actor, AttemptResult, ClientResult, ConnId, ConnState, Event, ProxyTimer, ReqId, World};
use crate::sim::fault::FaultKind;

use super::ProxyFlavor;

/// `http_req_hdr_len`'s default: the longest request header line.
pub const HTTP_REQ_HDR_LEN: usize = 8_192;

/// The backend's name in the exported VCL.
pub const BACKEND: &str = "default";

/// What the Varnish flavor does not model, for a scenario it would run
/// (faults applied): None when it models all of it.
pub fn unsupported(sc: &Scenario) -> Option<String> {
    if sc.proxy.flavor != Flavor::Varnish {
        return None;
    }
    if let Some(why) = super::uncovered(sc) {
        return Some(why);
    }
    let backends = conf::backends(sc);
    if backends.len() != 1 {
        return Some("the Varnish flavor models one backend: a director over several (vmod directors) was not measured.".into());
    }
    if backends.iter().any(|b| b.starts_with("unix:")) {
        return Some("the Varnish flavor does not model a unix-socket backend (.path): not measured.".into());
    }
    for f in &sc.faults {
        let measured = matches!(
            f.kind,
            FaultKind::AppDown
                | FaultKind::WrongPort { .. }
                | FaultKind::CrashMidRequest
                | FaultKind::OomKill { .. }
                | FaultKind::SlowApp { .. }
                | FaultKind::ConnectBlackHole
                | FaultKind::Maintenance { .. }
                | FaultKind::InvalidHeader { .. }
                | FaultKind::KeepaliveMismatch { .. }
                | FaultKind::DnsFailure { .. }
                | FaultKind::DbPoolExhausted { .. }
                | FaultKind::Overload { .. }
                | FaultKind::RollingDeploy { .. }
        );
        if !measured {
            return Some(format!("what Varnish 7.1 does for {} was not measured, so the Varnish flavor does not model it (it models refused, closed, reset, slow, black-holed and unresolvable backends, an invalid header, the app's own errors and the keep-alive race).", f.kind.id()));
        }
    }
    None
}

#[derive(Clone, Debug, Default, PartialEq)]
struct ReqState {
    /// Retries after a failure on a reused connection.
    retried: bool,
    /// The varnishlog records of the backend transaction so far.
    records: Vec<(Level, String)>,
}

pub struct Varnish {
    /// When a connect to the backend was last refused.
    refused_at: Option<crate::sim::time::SimTime>,
    address: String,
    pool: Vec<ConnId>,
    state: PerRequest<ReqState>,
}

/// The client transaction's vxid. Measured on a fresh varnishd (two
/// requests): the first is `X-Varnish: 2` (its backend transaction 3, a
/// 278-byte page), the second 32770 (backend 32771, 282 bytes): the worker
/// threads take vxids in batches. Each later request on its own connection
/// is taken as three more (session, request, backend request).
fn vxid(id: ReqId) -> u64 {
    if id == 0 { 2 } else { 32_770 + 3 * (id as u64 - 1) }
}

/// `backend_remote_error_holddown` (0.25 s): after a refused connect,
/// Varnish does not try the backend again for this long; a fetch in that
/// time fails at once with `fail errno 0 (Success)` (measured: two
/// requests right after each other, the second one's FetchError).
const REMOTE_ERROR_HOLDDOWN_US: u64 = 250_000;

/// The built-in `vcl_backend_error` page (282 bytes with a 5-digit XID).
pub fn guru_meditation(xid: u64) -> String {
    format!(
        "<!DOCTYPE html>\n<html>\n  <head>\n    <title>503 Backend fetch failed</title>\n  </head>\n  <body>\n    <h1>Error 503 Backend fetch failed</h1>\n    <p>Backend fetch failed</p>\n    <h3>Guru Meditation:</h3>\n    <p>XID: {xid}</p>\n    <hr>\n    <p>Varnish cache server</p>\n  </body>\n</html>\n"
    )
}

impl Varnish {
    pub fn start(w: &mut World) -> Varnish {
        let address = conf::backends(&w.scenario).into_iter().next().unwrap_or_default();
        // The backend's host is resolved when the VCL is compiled.
        if let Ok(a) = Address::parse(&address) {
            if let Some(host) = a.host().filter(|_| !a.is_ip()) {
                if w.scenario.faults.iter().any(|f| f.dns_answer(host).is_some()) {
                    let (line, pos) = conf::host_line(&w.scenario);
                    for l in [
                        "Message from VCC-compiler:".to_string(),
                        format!("Backend host '\"{host}\"' could not be resolved to an IP address:"),
                        "\tName or service not known".to_string(),
                        "(Sorry if that error message is gibberish.)".to_string(),
                        format!("('{}' Line {line} Pos {pos})", conf::PATH),
                        "Running VCC-compiler failed, exited with 2".to_string(),
                        "VCL compilation failed".to_string(),
                    ] {
                        w.proxy_stderr.push(l);
                    }
                    w.proxy_running = false;
                }
            }
        }
        Varnish { refused_at: None, address, pool: Vec::new(), state: PerRequest::default() }
    }

    fn st(&mut self, id: ReqId) -> &mut ReqState {
        self.state.at(id)
    }

    /// One varnishlog record of the backend transaction (`--  Tag  value`).
    fn record(&mut self, w: &mut World, id: ReqId, level: Level, tag: &str, value: String) {
        note!(w, id, Actor::Proxy, "varnishlog {tag} {value}");
        self.st(id).records.push((level, format!("--  {tag:<14} {value}")));
    }

    fn connect(&mut self, w: &mut World, id: ReqId) {
        let peer = match Address::parse(&self.address) {
            Ok(a) if !a.is_ip() && a.host().is_some() => a.resolved("127.0.0.1").to_string(),
            _ => self.address.clone(),
        };
        if let Some(pos) = self.pool.iter().rposition(|&c| w.conns[c].peer == peer) {
            let conn = self.pool.remove(pos);
            if w.conns[conn].state == ConnState::Idle {
                super::reuse(w, id, conn);
                let fd = 22;
                let (host, port) = peer.split_once(':').unwrap_or((&peer, ""));
                self.record(w, id, Level::Info, "BackendOpen", format!("{fd} {BACKEND} {host} {port} 127.0.0.1 {} reuse", 40_000 + w.conns[conn].number % 20_000));
                self.send_request(w, id, conn);
                return;
            }
        }
        if self.refused_at.is_some_and(|t| w.now.since(t) < REMOTE_ERROR_HOLDDOWN_US) {
            self.record(w, id, Level::Error, "FetchError", format!("backend {BACKEND}: fail errno 0 (Success)"));
            self.record(w, id, Level::Info, "BerespStatus", "503".into());
            self.record(w, id, Level::Info, "BerespReason", "Backend fetch failed".into());
            if w.keep_details {
                w.exchanges[id].explanation = Some(format!("{peer} refused a connection less than 0.25 s ago (backend_remote_error_holddown): Varnish does not even try, and varnishlog says fail errno 0 (Success)."));
            }
            self.fail_page(w, id);
            return;
        }
        let attempt = w.exchanges[id].attempts.len() as u32;
        w.connect_attempt(id, peer, Some(0));
        let t = w.scenario.proxy.varnish.connect_timeout_ms * 1_000;
        w.schedule(t, Event::ProxyTimer { id, timer: ProxyTimer::Connect { attempt } });
    }

    fn send_request(&mut self, w: &mut World, id: ReqId, conn: ConnId) {
        w.conns[conn].keepalive = true;
        w.conns[conn].state = ConnState::Active;
        w.request_sent(id);
        let hop = w.hop();
        w.schedule(hop, Event::AppRequest { conn });
        let attempt = w.conns[conn].attempt;
        let t = w.scenario.proxy.varnish.first_byte_timeout_ms * 1_000;
        w.schedule(t, Event::ProxyTimer { id, timer: ProxyTimer::Read { attempt } });
    }

    fn close(w: &mut World, id: ReqId) {
        if let Some(conn) = w.set_req_conn(id, None) {
            w.conns[conn].state = ConnState::Closed;
        }
    }

    /// `vcl_backend_error`: 503 Backend fetch failed.
    fn fetch_failed(&mut self, w: &mut World, id: ReqId, cause: FailureCause, why: String) {
        w.end_attempt(id, AttemptResult::Failed { cause });
        Self::close(w, id);
        self.record(w, id, Level::Info, "BerespStatus", "503".into());
        self.record(w, id, Level::Info, "BerespReason", "Backend fetch failed".into());
        if w.keep_details {
            w.exchanges[id].explanation = Some(format!(
                "{why} Varnish answers every backend failure, timeouts included, with 503 Backend fetch failed and its Guru Meditation page (XID {} is the backend transaction to look up: varnishlog -q 'vxid == {}'). varnishncsa's line says only 503; the reason is in varnishlog's FetchError.",
                vxid(id) + 1,
                vxid(id) + 1
            ));
        }
        self.fail_page(w, id);
    }

    /// Sends `vcl_backend_error`'s page.
    fn fail_page(&mut self, w: &mut World, id: ReqId) {
        let body = guru_meditation(vxid(id) + 1);
        let response = Response {
            status: 503,
            reason: "Backend fetch failed".into(),
            headers: vec![
                Header::new("Date", w.clock.http_date(w.now)),
                Header::new("Server", "Varnish"),
                Header::new("Content-Type", "text/html; charset=utf-8"),
                Header::new("Retry-After", "5"),
                Header::new("X-Varnish", vxid(id).to_string()),
                Header::new("Age", "0"),
                Header::new("Via", format!("1.1 varnish (Varnish/{})", short_version(&w.scenario.proxy.varnish.version))),
                Header::new("Content-Length", body.len().to_string()),
                Header::new("Connection", "keep-alive"),
            ],
            body: body.into(),
        };
        self.send(w, id, response, ClientResult::Response);
    }

    fn send(&mut self, w: &mut World, id: ReqId, response: Response, result: ClientResult) {
        if !super::finish(w, id) {
            return;
        }
        w.exchanges[id].logged_status = Some(response.status);
        if w.keep_details {
            let ex = &w.exchanges[id];
            let agent = w.ops.get(ex.op).and_then(|o| o.user_agent.as_deref()).unwrap_or(&w.scenario.clients.user_agent);
            let host = if ex.request.host.is_empty() { "localhost".to_string() } else { ex.request.host.to_string() };
            let line = format!(
                "{} - - [{}] \"{} http://{host}{} HTTP/1.1\" {} {} \"-\" \"{agent}\"",
                ex.client_ip,
                w.clock.time_local(ex.sent_at),
                ex.request.method,
                ex.request.path,
                response.status,
                response.body.len()
            );
            w.access_log.push(line.clone());
            w.exchanges[id].access_line = Some(line);
            // varnishlog's backend transaction, as one group.
            let records = self.state.get(id).map(|s| s.records.clone()).unwrap_or_default();
            if !records.is_empty() {
                let head = format!("**  << BeReq    >> {}", vxid(id) + 1);
                let mut lines = vec![(Level::Info, head), (Level::Info, format!("--  {:<14} bereq {} pass", "Begin", vxid(id)))];
                lines.extend(records);
                lines.push((Level::Info, "--  End".to_string()));
                for (level, text) in lines {
                    w.error_log.push(text.clone());
                    w.exchanges[id].error_lines.push(LogLine { level, text });
                }
            }
        }
        // Varnish notes the answer even for a client that has gone, then drops it.
        note!(w, id, Actor::Proxy, "sends \"{}\" to the client", response.status_line());
        if super::client_gone(w, id) {
            return;
        }
        super::hand_over(w, id, response, result);
    }
}

/// `7.1.1` → `7.1` (the `Via` header).
fn short_version(v: &str) -> String {
    v.split('.').take(2).collect::<Vec<_>>().join(".")
}

impl ProxyFlavor for Varnish {
    fn on_request(&mut self, w: &mut World, id: ReqId) {
        self.st(id);
        // http_req_hdr_len (8 KB): a longer request header line is refused
        // with 400 before any VCL runs: no body, no varnishncsa line, no
        // backend transaction (measured by the harness with 9 kB and 16 kB Cookies).
        let request = w.exchanges[id].request.clone();
        let agent = w.ops.get(w.exchanges[id].op).and_then(|o| o.user_agent.clone()).unwrap_or_else(|| w.scenario.clients.user_agent.clone());
        let head = crate::sim::http::client_request_head(&request, &agent);
        if let Some(longest) = head.split("\r\n").skip(1).map(str::len).max().filter(|&l| l > HTTP_REQ_HDR_LEN) {
            w.exchanges[id].proxy.done = true;
            w.exchanges[id].logged_status = None;
            if w.keep_details {
                w.exchanges[id].explanation = Some(format!("A request header line is {longest} bytes, more than Varnish's http_req_hdr_len ({HTTP_REQ_HDR_LEN}): Varnish answers 400 Bad Request with no body before any VCL runs; varnishncsa writes no line for it. Fix: smaller headers, or raise http_req_hdr_len (varnishd -p)."));
            }
            let response = Response { status: 400, reason: "Bad Request".into(), headers: vec![Header::new("Content-Length", "0"), Header::new("Connection", "close")], body: String::new().into() };
            let ex = &mut w.exchanges[id];
            ex.response = Some(response);
            ex.client_result = Some(ClientResult::Response);
            let hop = w.hop();
            w.schedule(hop, Event::ClientReceive(id));
            return;
        }
        note!(w, id, Actor::Proxy, "vcl_recv: pass; fetches \"{}\" from backend {BACKEND}", w.exchanges[id].request_line());
        self.connect(w, id);
    }

    fn on_connect_result(&mut self, w: &mut World, conn: ConnId, outcome: ConnectOutcome) {
        let Some(id) = super::current(w, conn) else { return };
        if w.conns[conn].state != ConnState::Connecting {
            return;
        }
        let peer = super::peer(w, id);
        match outcome {
            ConnectOutcome::Accepted => {
                let (host, port) = peer.split_once(':').unwrap_or((&peer, ""));
                let local = 40_000 + w.conns[conn].number % 20_000;
                self.record(w, id, Level::Info, "BackendOpen", format!("22 {BACKEND} {host} {port} 127.0.0.1 {local} connect"));
                self.send_request(w, id, conn);
            }
            ConnectOutcome::Refused => {
                let now = w.now;
                self.refused_at = Some(now);
                self.record(w, id, Level::Error, "FetchError", format!("backend {BACKEND}: fail errno 111 (Connection refused)"));
                self.fetch_failed(w, id, FailureCause::Refused, format!("Nothing listens on {peer}: the connection was refused."));
            }
            ConnectOutcome::PermissionDenied => {
                self.record(w, id, Level::Error, "FetchError", format!("backend {BACKEND}: fail errno 13 (Permission denied)"));
                self.fetch_failed(w, id, FailureCause::PermissionDenied, format!("The kernel refused the connect() to {peer} (EACCES)."));
            }
            ConnectOutcome::NoSuchFile | ConnectOutcome::Dropped => {}
        }
    }

    fn on_tls_done(&mut self, _w: &mut World, _conn: ConnId, _result: TlsResult) {}

    fn on_upstream_data(&mut self, w: &mut World, conn: ConnId) {
        let Some(id) = super::current(w, conn) else { return };
        let Some(reply) = w.conns[conn].reply.take() else { return };
        let peer = super::peer(w, id);
        match reply.wire {
            Wire::Http { bad_header_line: Some(line), .. } => {
                // Measured: the parser's 503 first, then the error.
                self.record(w, id, Level::Info, "BerespStatus", "503".into());
                self.record(w, id, Level::Info, "BerespReason", "Service Unavailable".into());
                self.record(w, id, Level::Error, "FetchError", "http format error".into());
                self.record(w, id, Level::Info, "BackendClose", format!("22 {BACKEND} close Received junk data"));
                self.fetch_failed(w, id, FailureCause::InvalidHeader { line: line.clone() }, format!("{peer} sent a header line Varnish cannot parse ({line:?})."));
            }
            Wire::Http { response, .. } => {
                let status = response.status;
                w.end_attempt(id, AttemptResult::Responded { status });
                self.record(w, id, Level::Info, "BerespStatus", status.to_string());
                self.record(w, id, Level::Info, "BerespReason", response.reason.to_string());
                w.set_req_conn(id, None);
                if w.conns[conn].keepalive && !w.conns[conn].app_closed {
                    self.record(w, id, Level::Info, "BackendClose", format!("22 {BACKEND} recycle"));
                    w.set_conn_req(conn, None);
                    w.conns[conn].state = ConnState::Idle;
                    w.conns[conn].served += 1;
                    self.pool.push(conn);
                } else {
                    self.record(w, id, Level::Info, "BackendClose", format!("22 {BACKEND} close Backend/VCL requested close"));
                    w.conns[conn].state = ConnState::Closed;
                }
                let mut out = response;
                out.headers.retain(|h| !h.name.eq_ignore_ascii_case("connection"));
                out.headers.push(Header::new("X-Varnish", vxid(id).to_string()));
                out.headers.push(Header::new("Age", "0"));
                out.headers.push(Header::new("Via", format!("1.1 varnish (Varnish/{})", short_version(&w.scenario.proxy.varnish.version))));
                if w.keep_details {
                    w.exchanges[id].explanation = Some(match status {
                        503 => format!("The app on {peer} itself answered 503 and Varnish passed it on with its own reason phrase and body: no Server: Varnish, no Retry-After, no Guru Meditation. That is how to tell it from Varnish's own 503 Backend fetch failed."),
                        s => format!("The app on {peer} answered {s} and Varnish passed it on (X-Varnish, Via added)."),
                    });
                    if self.state.get(id).is_some_and(|s| s.retried) {
                        if let Some(e) = w.exchanges[id].explanation.as_mut() {
                            e.push_str(" The first try went over a reused backend connection the app had just closed (HTC eof); Varnish retried once on a new connection, which only varnishlog shows.");
                        }
                    }
                }
                self.send(w, id, out, ClientResult::Response);
            }
            Wire::Garbage(_) | Wire::BadChunked { .. } | Wire::Crash | Wire::OomKill { .. } | Wire::Hang => {}
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
        self.record(w, id, Level::Error, "FetchError", "HTC eof (-1)".into());
        self.record(w, id, Level::Info, "BackendClose", format!("22 {BACKEND} close Received bad req/resp"));
        let cause = if reset { FailureCause::Reset } else { FailureCause::PrematureClose };
        let resendable = w.exchanges[id].request.body_bytes == 0;
        if reused && resendable && !self.state.get(id).is_some_and(|s| s.retried) {
            // Measured (kaclose): one retry on a new connection, in the same
            // BeReq; a POST with a body is not retried (measured by the
            // harness: 503 after HTC eof).
            w.end_attempt(id, AttemptResult::Failed { cause });
            Self::close(w, id);
            self.st(id).retried = true;
            self.connect(w, id);
            return;
        }
        let peer = super::peer(w, id);
        let what = if reset { "reset the connection (RST)" } else { "closed the connection" };
        self.fetch_failed(w, id, cause, format!("{peer} {what} before a byte of response (varnishlog: HTC eof, the same for a close and a reset)."));
    }

    fn on_idle_timeout(&mut self, _w: &mut World, _conn: ConnId, _token: u64) {}

    fn on_client_abort(&mut self, w: &mut World, id: ReqId) {
        if !w.exchanges[id].proxy.done {
            w.note(id, Actor::Proxy, "the client closed its connection (what Varnish logs then was not measured)");
        }
    }

    fn on_timer(&mut self, w: &mut World, id: ReqId, timer: ProxyTimer) {
        if w.exchanges[id].proxy.done {
            return;
        }
        let Some(conn) = w.exchanges[id].proxy.conn else { return };
        let peer = super::peer(w, id);
        match timer {
            ProxyTimer::Connect { attempt } => {
                if w.conns[conn].attempt != attempt || w.conns[conn].state != ConnState::Connecting {
                    return;
                }
                self.record(w, id, Level::Error, "FetchError", format!("backend {BACKEND}: fail errno 110 (Connection timed out)"));
                let t = w.scenario.proxy.varnish.connect_timeout_ms;
                self.fetch_failed(w, id, FailureCause::Timeout { phase: TimeoutPhase::Connect }, format!("{peer} did not answer the connection attempt within .connect_timeout ({t} ms)."));
            }
            ProxyTimer::Read { attempt } => {
                if w.conns[conn].attempt != attempt || w.conns[conn].state != ConnState::Active {
                    return;
                }
                self.record(w, id, Level::Error, "FetchError", "first byte timeout".into());
                self.record(w, id, Level::Info, "BackendClose", format!("22 {BACKEND} close Receive timeout"));
                let t = w.scenario.proxy.varnish.first_byte_timeout_ms;
                self.fetch_failed(w, id, FailureCause::Timeout { phase: TimeoutPhase::ReadHeader }, format!("{peer} sent no response within .first_byte_timeout ({t} ms): still 503, not 504."));
            }
            _ => {}
        }
    }

    fn forget_before(&mut self, id: ReqId) {
        self.state.forget_before(id);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_guru_meditation_page_has_the_measured_length() {
        assert_eq!(super::guru_meditation(32771).len(), 282);
        assert_eq!(super::guru_meditation(6).len(), 278);
        assert_eq!(super::guru_meditation(12).len(), 279);
    }
}
