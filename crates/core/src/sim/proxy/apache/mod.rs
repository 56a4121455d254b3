//! Apache httpd 2.4 with mod_proxy_http, behind the same `ProxyFlavor`
//! interface as nginx and HAProxy. Measured on Apache 2.4.71 (Debian) on
//! loopback: docs/research/apache-caddy-varnish-observations.md §1, and the
//! fidelity harness's Apache column.
//!
//! What it does, in Apache's words:
//! - a backend that cannot be connected to (refused, connect timeout after
//!   `ProxyTimeout`, a missing or forbidden unix socket) is **503** Service
//!   Unavailable, with `AH00957` (`attempt to connect to … failed`, errno in
//!   APR's `(111)Connection refused` form) and `AH01114`;
//! - a backend that closes, resets or says nothing within `ProxyTimeout`
//!   after the request is **502** Proxy Error, with `AH01102` (`error
//!   reading status line from remote server`) and `AH00898`; no retry, also
//!   when the connection was a pooled one the backend had just closed (the
//!   keep-alive race);
//! - a response header name with invalid characters is **500**
//!   (`AH02429`, from the `http` module);
//! - a backend name that does not resolve is **500** Proxy Error
//!   (`AH00898 DNS lookup failure for:`), at request time;
//! - pooled backend connections are reused; one the backend has already
//!   closed is detected before reuse (`ap_proxy_check_connection`);
//! - a plain `ProxyPass` worker is never put in error state (since 2.4.23);
//!   a balancer member that failed to connect is (`AH00959 … disabling worker
//!   for (…) for 60s`), and a balancer whose members are all in error state
//!   recovers them at once (`forcerecovery`, on by default).

pub mod conf;
pub mod pages;

use crate::sim::failure::{FailureCause, TimeoutPhase};
use crate::sim::fault::{ConnectOutcome, Wire};
use crate::sim::http::{Header, Response};
use crate::sim::log::{Level, LogLine};
use crate::sim::net::{Address, ProxyPass, Scheme};
use crate::sim::scenario::{Flavor, Scenario};
use crate::sim::window::PerRequest;
use crate::sim::world::{Actor, AttemptResult, ClientResult, ConnId, ConnState, Event, ProxyTimer, ReqId, World};
use crate::sim::app::TlsResult;

use super::ProxyFlavor;

/// `LimitRequestFieldSize`'s default: the longest request header line.
pub const LIMIT_REQUEST_FIELD_SIZE: usize = 8190;

/// Where Debian's Apache writes its logs (`${APACHE_LOG_DIR}`).
pub const ERROR_LOG: &str = "/var/log/apache2/error.log";
pub const ACCESS_LOG: &str = "/var/log/apache2/access.log";

/// What the Apache flavor does not model, for a scenario it would run (the
/// effective one, faults applied): None when it models all of it. The
/// reason is shown as the scenario's error.
pub fn unsupported(sc: &Scenario) -> Option<String> {
    if sc.proxy.flavor != Flavor::Apache {
        return None;
    }
    super::uncovered(sc)
}

/// One backend: a plain `ProxyPass` worker or a `BalancerMember`.
#[derive(Clone, Debug)]
struct Member {
    /// The address as configured (`127.0.0.1:3000`, `unix:/run/app.sock`).
    address: String,
    server: usize,
    weight: i64,
    /// mod_lbmethod_byrequests' `lbstatus`.
    lbstatus: i64,
    hot_standby: bool,
    disabled: bool,
    /// In error state until this Unix second (balancer members only).
    error_until: Option<i64>,
}

#[derive(Clone, Debug, Default, PartialEq)]
struct ReqState {
    member: Option<usize>,
    /// Connection attempts made so far for this request.
    attempts: u32,
    /// When the request arrived (the access log's `%t`).
    arrived: Option<crate::sim::time::SimTime>,
}

pub struct Apache {
    members: Vec<Member>,
    balancer: bool,
    scheme: Scheme,
    /// Idle pooled backend connections and when each went idle, the most recent last.
    pool: Vec<(ConnId, crate::sim::time::SimTime)>,
    state: PerRequest<ReqState>,
}

/// APR's text for an errno, as Apache prints it: `(111)Connection refused`.
fn apr_error(cause: &FailureCause) -> &'static str {
    match cause {
        FailureCause::Refused => "(111)Connection refused",
        FailureCause::NoSuchFile => "(2)No such file or directory",
        FailureCause::PermissionDenied => "(13)Permission denied",
        FailureCause::Timeout { .. } => "(70007)The timeout specified has expired",
        FailureCause::Reset => "(104)Connection reset by peer",
        FailureCause::NotHttp => "(70014)End of file found",
        _ => "(20014)Internal error (specific information not available)",
    }
}

impl Apache {
    pub fn start(w: &mut World) -> Apache {
        let sc = &w.scenario;
        let scheme = ProxyPass::parse(&sc.proxy.proxy_pass).map(|p| p.scheme).unwrap_or(Scheme::Http);
        let balancer = conf::uses_balancer(sc);
        let members = conf::backends(sc)
            .into_iter()
            .enumerate()
            .map(|(i, (address, weight, backup, down))| Member {
                address,
                server: i,
                weight: weight.max(1) as i64,
                lbstatus: 0,
                hot_standby: backup,
                disabled: down,
                error_until: None,
            })
            .collect();
        Apache { members, balancer, scheme, pool: Vec::new(), state: PerRequest::default() }
    }

    fn st(&mut self, id: ReqId) -> &mut ReqState {
        self.state.at(id)
    }

    fn usable(m: &Member, now_s: i64) -> bool {
        !m.disabled && m.error_until.is_none_or(|t| now_s >= t)
    }

    /// mod_proxy_balancer + mod_lbmethod_byrequests: the usable member
    /// with the highest `lbstatus` after each gets its `lbfactor`; hot
    /// standbys only when no other member is usable; all members in error
    /// state are recovered at once (`forcerecovery`, on by default).
    fn pick(&mut self, now_s: i64) -> Option<usize> {
        if !self.balancer {
            return Some(0);
        }
        let any = |ms: &[Member], standby: bool| ms.iter().any(|m| m.hot_standby == standby && Self::usable(m, now_s));
        if !any(&self.members, false) && !any(&self.members, true) && self.members.iter().any(|m| !m.disabled) {
            for m in &mut self.members {
                m.error_until = None; // AH01165 (debug): force recovery
            }
        }
        let standby = !any(&self.members, false);
        let candidates: Vec<usize> = (0..self.members.len()).filter(|&i| self.members[i].hot_standby == standby && Self::usable(&self.members[i], now_s)).collect();
        let mut total = 0;
        for &i in &candidates {
            self.members[i].lbstatus += self.members[i].weight;
            total += self.members[i].weight;
        }
        let best = candidates.iter().copied().fold(None, |b: Option<usize>, i| if b.is_none_or(|x| self.members[i].lbstatus > self.members[x].lbstatus) { Some(i) } else { b })?;
        self.members[best].lbstatus -= total;
        Some(best)
    }

    /// `[client 127.0.0.1:40001] `.
    fn client(w: &World, id: ReqId) -> String {
        let ex = &w.exchanges[id];
        format!("[client {}:{}] ", ex.client_ip, 40_000 + ex.client_connection % 20_000)
    }

    /// One error log line: `[time] [module:level] [pid P:tid T] (errno)text: [client …] AHnnnnn: message`.
    fn log(&self, w: &mut World, id: ReqId, module: &str, level: Level, errno: Option<&str>, with_client: bool, message: &str) {
        note!(w, id, Actor::Proxy, "error.log [{module}:{}] {message}", level.as_str());
        let threshold = Level::parse(&w.scenario.proxy.error_log_level).unwrap_or(Level::Warn);
        if level > threshold || !w.keep_details {
            return;
        }
        let pid = w.scenario.proxy.worker_pid;
        let tid = pid as u64 + 2 + w.exchanges[id].client_connection % 25;
        let errno = errno.map(|e| format!("{e}: ")).unwrap_or_default();
        let client = if with_client { Self::client(w, id) } else { String::new() };
        let line = format!("[{}] [{module}:{}] [pid {pid}:tid {tid}] {errno}{client}{message}", w.clock.apache_error(w.now), level.as_str());
        w.error_log.push(line.clone());
        w.exchanges[id].error_lines.push(LogLine { level, text: line });
    }

    /// `Server: Apache/2.4.71 (Debian)`.
    fn server_header(w: &World) -> Header {
        Header::new("Server", format!("Apache/{} (Debian)", w.scenario.proxy.apache.version))
    }

    /// The path part of the request (`r->uri`, without the query).
    fn uri(w: &World, id: ReqId) -> String {
        let p = &w.exchanges[id].request.path;
        p.split('?').next().unwrap_or(p).to_string()
    }

    fn host_port(address: &str) -> (String, String) {
        match Address::parse(address) {
            Ok(Address::Tcp { host, port }) => (host, port.to_string()),
            Ok(Address::Unix { path }) => (path, String::new()),
            Err(_) => (address.to_string(), String::new()),
        }
    }

    fn choose_and_connect(&mut self, w: &mut World, id: ReqId) {
        let now_s = w.unix_secs();
        let Some(m) = self.pick(now_s) else {
            // Every member is disabled (status=+D).
            self.log(w, id, "proxy_balancer", Level::Error, None, true, &format!("AH01170: {}: All workers are in error state", conf::BALANCER));
            self.finish_page(w, id, 503, "Service Unavailable", pages::service_unavailable(), true, "Every member of balancer://app is disabled (status=+D) or in error state: Apache answers 503 Service Unavailable without connecting (AH01170).".into());
            return;
        };
        self.st(id).member = Some(m);
        let address = self.members[m].address.clone();
        // The name is resolved when the request needs it (apache2 -t does not).
        if let Ok(a) = Address::parse(&address) {
            if let Some(host) = a.host().filter(|_| !a.is_ip()) {
                if w.scenario.faults.iter().any(|f| f.dns_answer(host).is_some()) {
                    let uri = Self::uri(w, id);
                    self.log(w, id, "proxy", Level::Error, Some("(EAI 2)Name or service not known"), true, &format!("AH00898: DNS lookup failure for: {host} returned by {uri}"));
                    self.finish_page(w, id, 500, "Proxy Error", pages::proxy_error_500(&format!("DNS lookup failure for: {host}")), true, format!(
                        "Apache resolves the backend's name {host} when a request needs it, and the resolver said it does not exist. Apache answers 500 Proxy Error (not 502) without connecting, and logs AH00898 DNS lookup failure. Fix: correct the name in ProxyPass or its DNS record (apache2 -t does not resolve it, so the config still passes)."
                    ));
                    return;
                }
            }
        }
        let peer = match Address::parse(&address) {
            Ok(a) if !a.is_ip() && a.host().is_some() => a.resolved("127.0.0.1").to_string(),
            _ => address.clone(),
        };
        // A pooled connection to the same backend, if the backend has not closed it.
        let ttl_us = w.scenario.proxy.apache.ttl_s * 1_000_000;
        while let Some(pos) = self.pool.iter().rposition(|&(c, _)| w.conns[c].peer == peer) {
            let (conn, idle_since) = self.pool.remove(pos);
            let expired = ttl_us > 0 && w.now.since(idle_since) >= ttl_us;
            // ap_proxy_check_connection sees a FIN that has arrived (the
            // state is Closed then), not one still on its way: that is the race.
            if w.conns[conn].state != ConnState::Idle || expired {
                w.conns[conn].state = ConnState::Closed;
                continue;
            }
            super::reuse(w, id, conn);
            let number = w.conns[conn].number;
            self.st(id).attempts += 1;
            note!(w, id, Actor::Proxy, "reuses its pooled connection #{number} to {peer}");
            self.send_request(w, id, conn);
            return;
        }
        let server = Some(self.members[m].server);
        let attempt = w.exchanges[id].attempts.len() as u32;
        w.connect_attempt(id, peer.clone(), server);
        self.st(id).attempts += 1;
        note!(w, id, Actor::Proxy, "connects to {peer}");
        let t = w.scenario.proxy.apache.proxy_timeout_ms * 1_000;
        w.schedule(t, Event::ProxyTimer { id, timer: ProxyTimer::Connect { attempt } });
    }

    fn send_request(&mut self, w: &mut World, id: ReqId, conn: ConnId) {
        // mod_proxy_http speaks HTTP/1.1 with keep-alive to the backend.
        w.conns[conn].keepalive = true;
        w.conns[conn].state = ConnState::Active;
        w.request_sent(id);
        note!(w, id, Actor::Proxy, "sends \"{}\" to the backend", w.exchanges[id].request_line());
        let hop = w.hop();
        w.schedule(hop, Event::AppRequest { conn });
        let attempt = w.conns[conn].attempt;
        let t = w.scenario.proxy.apache.proxy_timeout_ms * 1_000;
        w.schedule(t, Event::ProxyTimer { id, timer: ProxyTimer::Read { attempt } });
    }

    fn close(w: &mut World, id: ReqId) {
        if let Some(conn) = w.set_req_conn(id, None) {
            w.conns[conn].state = ConnState::Closed;
        }
    }

    /// `ap_proxy_connect_backend` failed: AH00957 (and AH00959 for a
    /// balancer member), AH01114, then another member or 503.
    fn connect_failed(&mut self, w: &mut World, id: ReqId, cause: FailureCause) {
        let errno = apr_error(&cause);
        w.end_attempt(id, AttemptResult::Failed { cause: cause.clone() });
        Self::close(w, id);
        let m = self.state[id].member.unwrap_or(0);
        let address = self.members[m].address.clone();
        let (host, port) = Self::host_port(&address);
        let scheme = self.scheme.as_str();
        // Measured: a unix socket's line is AH02454 and names localhost:80.
        let message = if port.is_empty() {
            format!("AH02454: {scheme}: attempt to connect to Unix domain socket {host} (localhost:80) failed")
        } else {
            format!("AH00957: {scheme}: attempt to connect to {host}:{port} ({host}:{port}) failed")
        };
        self.log(w, id, "proxy", Level::Error, Some(errno), false, &message);
        if self.balancer {
            let retry = w.scenario.proxy.apache.retry_s;
            let label = if port.is_empty() { host.clone() } else { format!("{host}:{port}") };
            self.log(w, id, "proxy", Level::Error, None, false, &format!("AH00959: ap_proxy_connect_backend disabling worker for ({label}) for {retry}s"));
            self.members[m].error_until = Some(w.unix_secs() + retry as i64);
        }
        let backend = if port.is_empty() { "localhost".to_string() } else { host.clone() };
        self.log(w, id, "proxy_http", Level::Error, None, true, &format!("AH01114: HTTP: failed to make connection to backend: {backend}"));
        // A balancer tries another member, up to maxattempts (members - 1).
        let now_s = w.unix_secs();
        let others = self.members.iter().filter(|x| Self::usable(x, now_s)).count();
        if self.balancer && self.state[id].attempts < self.members.len() as u32 && others > 0 {
            note!(w, id, Actor::Proxy, "tries another balancer member");
            self.choose_and_connect(w, id);
            return;
        }
        let why = match cause {
            FailureCause::Refused => format!("Nothing listens on {address}: the connection was refused (ECONNREFUSED)."),
            FailureCause::Timeout { .. } => format!("{address} did not answer the connection attempt (SYN) within ProxyTimeout ({} s).", w.scenario.proxy.apache.proxy_timeout_ms / 1_000),
            FailureCause::NoSuchFile => format!("The unix socket {host} does not exist (ENOENT)."),
            FailureCause::PermissionDenied => format!("The kernel refused the connect() to {address} with EACCES (permission denied)."),
            _ => format!("The connection to {address} failed."),
        };
        let worker = if self.balancer {
            format!(" The member is now in error state for retry={} s (AH00959); with every member in error state the balancer recovers them all at once (forcerecovery), so the next request tries again.", w.scenario.proxy.apache.retry_s)
        } else {
            " A plain ProxyPass backend is not put in error state (since 2.4.23), so the next request tries again.".to_string()
        };
        self.finish_page(w, id, 503, "Service Unavailable", pages::service_unavailable(), true, format!(
            "{why} Apache answers 503 Service Unavailable, not 502, for a backend it cannot connect to, and logs AH00957 and AH01114.{worker}"
        ));
    }

    /// The backend broke after the request was written: AH01102 + AH00898, 502.
    fn read_failed(&mut self, w: &mut World, id: ReqId, cause: FailureCause) {
        let errno = apr_error(&cause);
        let reused = w.exchanges[id].attempts.last().is_some_and(|a| a.reused);
        w.end_attempt(id, AttemptResult::Failed { cause: cause.clone() });
        Self::close(w, id);
        let peer = w.exchanges[id].attempts.last().map(|a| a.peer.clone()).unwrap_or_default();
        let uri = Self::uri(w, id);
        let shown = if peer.starts_with("unix:") { "localhost:80".to_string() } else { peer.clone() };
        self.log(w, id, "proxy_http", Level::Error, Some(errno), true, &format!("AH01102: error reading status line from remote server {shown}"));
        self.log(w, id, "proxy", Level::Error, None, true, &format!("AH00898: Error reading from remote server returned by {uri}"));
        let what = match cause {
            FailureCause::Timeout { .. } => format!("{peer} sent no response within ProxyTimeout ({} s). Apache answers 502 Proxy Error, not 504, when the backend is too slow", w.scenario.proxy.apache.proxy_timeout_ms / 1_000),
            FailureCause::Reset => format!("{peer} reset the connection (RST) before a byte of response. Apache answers 502 Proxy Error"),
            _ if reused => format!("Apache sent the request on a pooled connection to {peer} just as the backend closed it for being idle (the keep-alive race). Apache 2.4 does not retry it: 502 Proxy Error"),
            _ => format!("{peer} closed the connection before a byte of response. Apache answers 502 Proxy Error"),
        };
        let fix = if reused && !matches!(cause, FailureCause::Timeout { .. }) {
            " Fix: keep the backend's keep-alive timeout above Apache's, or set ttl= on the worker below the backend's idle timeout."
        } else {
            ""
        };
        self.finish_page(w, id, 502, "Proxy Error", pages::proxy_error_502("Error reading from remote server"), false, format!(
            "{what} and logs AH01102 (error reading status line, with the APR error {errno}) and AH00898.{fix}"
        ));
    }

    /// Sends one of Apache's own pages.
    fn finish_page(&mut self, w: &mut World, id: ReqId, status: u16, reason: &str, body: String, close: bool, explanation: String) {
        Self::close(w, id);
        let mut headers = vec![Header::new("Date", w.clock.http_date(w.now)), Self::server_header(w), Header::new("Content-Length", body.len().to_string())];
        if close {
            headers.push(Header::new("Connection", "close"));
        }
        headers.push(Header::new("Content-Type", "text/html; charset=iso-8859-1"));
        let response = Response { status, reason: reason.to_string().into(), headers, body: body.into() };
        if w.keep_details {
            w.exchanges[id].explanation = Some(explanation);
        }
        let bytes = response.body.len() as u64;
        self.send(w, id, response, ClientResult::Response, bytes);
    }

    /// Writes the response to the client and the access log line (`%b`: `bytes`).
    fn send(&mut self, w: &mut World, id: ReqId, response: Response, result: ClientResult, bytes: u64) {
        if !super::finish(w, id) {
            return;
        }
        w.exchanges[id].logged_status = Some(response.status);
        if w.keep_details {
            let ex = &w.exchanges[id];
            let agent = w.ops.get(ex.op).and_then(|o| o.user_agent.as_deref()).unwrap_or(&w.scenario.clients.user_agent);
            let arrived = self.state.get(id).and_then(|s| s.arrived).unwrap_or(ex.sent_at);
            let b = if bytes == 0 { "-".to_string() } else { bytes.to_string() };
            let line = format!("{} - - [{}] \"{}\" {} {b} \"-\" \"{agent}\"", ex.client_ip, w.clock.time_local(arrived), ex.request_line(), response.status);
            w.access_log.push(line.clone());
            w.exchanges[id].access_line = Some(line);
        }
        super::deliver(w, id, response, result, "");
    }

    /// Puts a finished backend connection back in the pool, or closes it.
    fn release(&mut self, w: &mut World, id: ReqId, conn: ConnId) {
        w.set_req_conn(id, None);
        if w.conns[conn].keepalive && !w.conns[conn].app_closed {
            w.set_conn_req(conn, None);
            let c = &mut w.conns[conn];
            c.state = ConnState::Idle;
            c.served += 1;
            let now = w.now;
            self.pool.push((conn, now));
        } else {
            w.conns[conn].state = ConnState::Closed;
        }
    }
}

impl ProxyFlavor for Apache {
    fn on_request(&mut self, w: &mut World, id: ReqId) {
        let now = w.now;
        self.st(id).arrived = Some(now);
        note!(w, id, Actor::Proxy, "reads \"{}\"", w.exchanges[id].request_line());
        // LimitRequestFieldSize (8190 by default): a longer header line is
        // 400 before any backend is asked (measured with a 9 kB and a 16 kB
        // Cookie: 400, 318 bytes, nothing in the error log at LogLevel error).
        let request = w.exchanges[id].request.clone();
        let agent = w.ops.get(w.exchanges[id].op).and_then(|o| o.user_agent.clone()).unwrap_or_else(|| w.scenario.clients.user_agent.clone());
        let head = crate::sim::http::client_request_head(&request, &agent);
        if let Some(longest) = head.split("\r\n").skip(1).map(str::len).max().filter(|&l| l > LIMIT_REQUEST_FIELD_SIZE) {
            self.finish_page(w, id, 400, "Bad Request", pages::field_too_large(), true, format!(
                "A request header line is {longest} bytes, more than Apache's LimitRequestFieldSize ({LIMIT_REQUEST_FIELD_SIZE}): Apache answers 400 Bad Request itself (\"Size of a request header field exceeds server limit.\") and the backend never sees the request. Fix: send smaller headers (a big Cookie), or raise LimitRequestFieldSize."
            ));
            return;
        }
        self.choose_and_connect(w, id);
    }

    fn on_connect_result(&mut self, w: &mut World, conn: ConnId, outcome: ConnectOutcome) {
        let Some(id) = super::current(w, conn) else { return };
        if w.conns[conn].state != ConnState::Connecting {
            return;
        }
        let cause = match outcome {
            ConnectOutcome::Accepted => {
                self.send_request(w, id, conn);
                return;
            }
            ConnectOutcome::Refused => FailureCause::Refused,
            ConnectOutcome::NoSuchFile => FailureCause::NoSuchFile,
            ConnectOutcome::PermissionDenied => FailureCause::PermissionDenied,
            ConnectOutcome::Dropped => return,
        };
        self.connect_failed(w, id, cause);
    }

    fn on_tls_done(&mut self, _w: &mut World, _conn: ConnId, _result: TlsResult) {
        // No TLS to the backend in this flavor (`unsupported`).
    }

    fn on_upstream_data(&mut self, w: &mut World, conn: ConnId) {
        let Some(id) = super::current(w, conn) else { return };
        let Some(reply) = w.conns[conn].reply.take() else { return };
        match reply.wire {
            Wire::Http { response, bad_header_line, truncate_body_at } => {
                if let Some(line) = bad_header_line {
                    let name = line.split(':').next().unwrap_or(&line).to_string();
                    let invalid = line.contains(':') && name.bytes().any(|b| b <= b' ' || b"()<>@,;\\\"/[]?={}".contains(&b) || b >= 0x7f);
                    if invalid {
                        w.end_attempt(id, AttemptResult::Failed { cause: FailureCause::InvalidHeader { line: line.clone() } });
                        let peer = w.exchanges[id].attempts.last().map(|a| a.peer.clone()).unwrap_or_default();
                        self.log(w, id, "http", Level::Error, None, true, &format!("AH02429: Response header name '{name}' contains invalid characters, aborting request"));
                        Self::close(w, id);
                        let body = pages::internal_server_error();
                        // Observed: %b is the page plus the backend's body (574 = 571 + 3).
                        let logged = body.len() as u64 + response.body.len() as u64;
                        let response = Response {
                            status: 500,
                            reason: "Internal Server Error".into(),
                            headers: vec![Header::new("Date", w.clock.http_date(w.now)), Self::server_header(w), Header::new("Connection", "close"), Header::new("Content-Type", "text/html; charset=iso-8859-1")],
                            body: body.into(),
                        };
                        if w.keep_details {
                            w.exchanges[id].explanation = Some(format!(
                                "{peer} sent a response header line whose name has characters a header name may not have ({line:?}). Apache's http module refuses it (AH02429) and answers 500 Internal Server Error, not 502: unlike nginx and HAProxy it does not call it a gateway error. Fix the app's header."
                            ));
                        }
                        self.send(w, id, response, ClientResult::Response, logged);
                        return;
                    }
                    if !line.contains(':') {
                        // Measured at LogLevel error: 502 Bad Gateway (272
                        // bytes), no error log line (lower levels: not measured).
                        w.end_attempt(id, AttemptResult::Failed { cause: FailureCause::InvalidHeader { line: line.clone() } });
                        let peer = w.exchanges[id].attempts.last().map(|a| a.peer.clone()).unwrap_or_default();
                        self.finish_page(w, id, 502, "Bad Gateway", pages::bad_gateway(), false, format!(
                            "{peer} sent a response header line without a colon ({line:?}). Apache cannot read the header and answers 502 Bad Gateway; at LogLevel error it writes nothing about it."
                        ));
                        return;
                    }
                }
                let status = response.status;
                w.end_attempt(id, AttemptResult::Responded { status });
                let mut out = response;
                out.headers.retain(|h| !h.name.eq_ignore_ascii_case("server") && !h.name.eq_ignore_ascii_case("date") && !h.name.eq_ignore_ascii_case("connection") && !h.name.eq_ignore_ascii_case("keep-alive"));
                out.headers.insert(0, Header::new("Date", w.clock.http_date(w.now)));
                out.headers.insert(1, Self::server_header(w));
                if w.keep_details {
                    let peer = w.exchanges[id].attempts.last().map(|a| a.peer.clone()).unwrap_or_default();
                    w.exchanges[id].explanation = Some(match status {
                        503 => format!("The app on {peer} itself answered 503; Apache relayed it unchanged and wrote nothing in its error log (its own 503 would have AH00957/AH01114 lines)."),
                        s => format!("The app on {peer} answered {s} and Apache relayed it."),
                    });
                }
                match truncate_body_at {
                    Some(sent) => {
                        // Measured: the status and the bytes that came are
                        // passed on, then AH01110 with (70008).
                        self.log(w, id, "proxy_http", Level::Error, Some("(70008)Partial results are valid but processing is incomplete"), true, "AH01110: error reading response");
                        if w.keep_details {
                            let peer = w.exchanges[id].attempts.last().map(|a| a.peer.clone()).unwrap_or_default();
                            w.exchanges[id].explanation = Some(format!(
                                "{peer} sent its headers and {sent} body bytes, then closed the connection. Apache had already passed the {status} on: the client gets a truncated body, and the error log says AH01110 error reading response (70008: partial results)."
                            ));
                        }
                        let expected = (!out.is_chunked()).then_some(out.body.len() as u64);
                        out.body.to_mut().truncate(sent as usize);
                        Self::close(w, id);
                        self.send(w, id, out, ClientResult::Truncated { received: sent, expected }, sent);
                    }
                    None => {
                        let bytes = out.body.len() as u64;
                        self.release(w, id, conn);
                        self.send(w, id, out, ClientResult::Response, bytes);
                    }
                }
            }
            Wire::Garbage(bytes) => {
                // mod_proxy_http reads a status line; one that is not
                // `HTTP/x.x` is taken for an HTTP/0.9 answer: 200 with the
                // line as the body (measured with `hello\r\n\r\n`: 200,
                // 7 bytes, nothing in the error log). No line at all before
                // the close: AH01102 with (70014)End of file found, 502.
                match bytes.find('\n') {
                    Some(end) => {
                        let body = bytes[..=end].to_string();
                        w.end_attempt(id, AttemptResult::Responded { status: 200 });
                        Self::close(w, id);
                        let n = body.len() as u64;
                        let response = Response {
                            status: 200,
                            reason: "OK".into(),
                            headers: vec![Header::new("Date", w.clock.http_date(w.now)), Self::server_header(w)],
                            body: body.into(),
                        };
                        if w.keep_details {
                            let peer = w.exchanges[id].attempts.last().map(|a| a.peer.clone()).unwrap_or_default();
                            w.exchanges[id].explanation = Some(format!(
                                "{peer} answered with bytes that are not an HTTP response ({:?}). Apache takes a first line without HTTP/x.x for an HTTP/0.9 answer: it sends the client 200 OK with that line as the body and writes nothing in its error log. nginx would answer 502 here, HAProxy 502 PH--.",
                                bytes.chars().take(40).collect::<String>()
                            ));
                        }
                        self.send(w, id, response, ClientResult::Response, n);
                    }
                    None => self.read_failed(w, id, FailureCause::NotHttp),
                }
            }
            Wire::BadChunked { .. } => {
                // Measured: 502 Bad Gateway (its plain page, 272 bytes) and
                // AH01110 with (20014): the header was read, the body is not chunked.
                w.end_attempt(id, AttemptResult::Failed { cause: FailureCause::InvalidChunked });
                self.log(w, id, "proxy_http", Level::Error, Some("(20014)Internal error (specific information not available)"), true, "AH01110: error reading response");
                let peer = w.exchanges[id].attempts.last().map(|a| a.peer.clone()).unwrap_or_default();
                self.finish_page(w, id, 502, "Bad Gateway", pages::bad_gateway(), false, format!(
                    "{peer} announced Transfer-Encoding: chunked but its body is not in chunks. Apache fails to read the body (AH01110 error reading response) before it has sent anything and answers 502 Bad Gateway (its plain page, without the Proxy Error reason). Fix the app: let its server frame the body."
                ));
            }
            Wire::Crash | Wire::OomKill { .. } | Wire::Hang => {}
        }
    }

    fn on_upstream_closed(&mut self, w: &mut World, conn: ConnId, reset: bool) {
        if w.conns[conn].state == ConnState::Idle {
            // The backend closed a pooled connection: it will not be reused.
            w.conns[conn].state = ConnState::Closed;
            self.pool.retain(|&(c, _)| c != conn);
            return;
        }
        let Some(id) = super::current(w, conn) else { return };
        if !w.exchanges[id].proxy.request_sent {
            return;
        }
        let cause = if reset { FailureCause::Reset } else { FailureCause::PrematureClose };
        self.read_failed(w, id, cause);
    }

    fn on_idle_timeout(&mut self, _w: &mut World, _conn: ConnId, _token: u64) {}

    fn on_client_abort(&mut self, w: &mut World, id: ReqId) {
        if w.exchanges[id].proxy.done {
            return;
        }
        // Apache's worker thread is busy with the backend and notices the
        // client only when it writes the answer (not measured further).
        w.note(id, Actor::Proxy, "the client closed its connection; Apache's worker still waits for the backend");
    }

    fn on_timer(&mut self, w: &mut World, id: ReqId, timer: ProxyTimer) {
        if w.exchanges[id].proxy.done {
            return;
        }
        let Some(conn) = w.exchanges[id].proxy.conn else { return };
        match timer {
            ProxyTimer::Connect { attempt } => {
                if w.conns[conn].attempt != attempt || w.conns[conn].state != ConnState::Connecting {
                    return;
                }
                self.connect_failed(w, id, FailureCause::Timeout { phase: TimeoutPhase::Connect });
            }
            ProxyTimer::Read { attempt } => {
                if w.conns[conn].attempt != attempt || w.conns[conn].state != ConnState::Active {
                    return;
                }
                self.read_failed(w, id, FailureCause::Timeout { phase: TimeoutPhase::ReadHeader });
            }
            _ => {}
        }
    }

    fn forget_before(&mut self, id: ReqId) {
        self.state.forget_before(id);
    }
}
