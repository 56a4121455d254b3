//! AWS Application Load Balancer straight in front of the targets (the
//! apps): documented, not verified (it is a service; nothing here was run).
//! Sources: docs/research/envoy-cloudflare-alb-sources.md §3 and
//! docs/research/envoy-alb-model.md §2 (AWS's user guide, file and line).
//!
//! - **502** when the target refuses the connection (TCP RST), closes or
//!   resets it with the request outstanding (the keep-alive race: a Node
//!   target's `keepAliveTimeout` 5 s under the 60 s idle timeout) or sends a
//!   malformed response; `target_status_code` is `-`;
//! - **503** when the target group has no registered target;
//! - **504** when the connection is not established within 10 s, or the
//!   target does not answer within the idle timeout (60 s);
//! - **460** when the client closes its connection first;
//! - a target's own answer is passed on (`elb_status_code` = `target_status_code`);
//! - all targets unhealthy: it fails open (the engine has no health checks,
//!   so every registered target gets requests);
//! - connections to the targets are reused (the idle timeout applies to them);
//! - 561 is an authenticate action's IdP error: no scenario has one, so it
//!   never appears.

pub mod conf;
pub mod log;

use crate::sim::app::TlsResult;
use crate::sim::failure::{FailureCause, TimeoutPhase};
use crate::sim::fault::{ConnectOutcome, Wire};
use crate::sim::http::{Header, Response};
use crate::sim::scenario::{Flavor, Scenario};
use crate::sim::time::SimTime;
use crate::sim::window::PerRequest;
use crate::sim::world::{Actor, AttemptResult, ClientResult, ConnId, ConnState, Event, ProxyTimer, ReqId, World};

use self::log::{AlbLogEntry, ListenerType};
use super::ProxyFlavor;

/// "The load balancer failed to establish a connection to the target before
/// the connection timeout expired (10 seconds)." (load-balancer-troubleshooting.md, 504)
pub const CONNECT_TIMEOUT_MS: u64 = 10_000;
/// Where the exported access log is shown (the S3 object's lines).
pub const ACCESS_LOG: &str = "s3://my-alb-logs/AWSLogs/123456789012/elasticloadbalancing/us-east-1/access.log";
/// The access log's `target_group_arn`.
pub const TARGET_GROUP_ARN: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/my-targets/73e2d6bc24d8a067";

/// What the ALB flavor does not model, for a scenario it would run.
pub fn unsupported(sc: &Scenario) -> Option<String> {
    if sc.proxy.flavor != Flavor::Alb {
        return None;
    }
    if let Some(why) = super::uncovered(sc) {
        return Some(why);
    }
    if super::envoy::conf::hosts(sc).iter().any(|h| h.starts_with("unix:")) {
        return Some("an ALB's targets are IP addresses, instances or Lambda functions: a unix socket cannot be a target.".into());
    }
    if !(1..=4_000).contains(&sc.proxy.alb.idle_timeout_s) {
        return Some(format!("proxy.alb.idle_timeout_s must be 1..4000 (the ALB's valid range), got {}", sc.proxy.alb.idle_timeout_s));
    }
    super::envoy::documented_faults(sc, "AWS ALB")
}

/// The load balancer's own error page (`Server: awselb/2.0`, CRLF lines): the
/// 502 page is 122 bytes and the 503 page 162 (Content-Length of real
/// answers quoted in docs/research/envoy-alb-model.md §2.3).
pub fn error_page(status: u16, reason: &str) -> String {
    format!("<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n<center><h1>{status} {reason}</h1></center>\r\n</body>\r\n</html>\r\n")
}

/// The reason phrase on the load balancer's own status line.
pub fn own_reason(status: u16) -> &'static str {
    match status {
        503 => "Service Temporarily Unavailable",
        504 => "Gateway Time-out",
        s => crate::sim::http::reason_phrase(s),
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
struct ReqState {
    arrived: Option<SimTime>,
    sent: Option<SimTime>,
    /// `Root=1-…` of X-Amzn-Trace-Id.
    trace_id: String,
}

pub struct Alb {
    targets: Vec<String>,
    next: usize,
    pool: Vec<ConnId>,
    state: PerRequest<ReqState>,
}

impl Alb {
    pub fn start(w: &mut World) -> Alb {
        Alb { targets: super::envoy::conf::hosts(&w.scenario), next: 0, pool: Vec::new(), state: PerRequest::default() }
    }

    fn st(&mut self, id: ReqId) -> &mut ReqState {
        self.state.at(id)
    }

    fn idle_us(w: &World) -> u64 {
        w.scenario.proxy.alb.idle_timeout_s * 1_000_000
    }

    fn dispatch(&mut self, w: &mut World, id: ReqId) {
        if !w.scenario.proxy.alb.targets_registered || self.targets.is_empty() {
            self.own_error(w, id, 503, None, "The target group has no registered targets: the load balancer answers 503 itself (HTTPCode_ELB_5XX_Count), target and target_status_code are -.".into());
            return;
        }
        let i = self.next % self.targets.len();
        self.next = self.next.wrapping_add(1);
        let target = self.targets[i].clone();
        if let Some(conn) = super::take_idle(w, &mut self.pool, &target) {
            super::reuse(w, id, conn);
            note!(w, id, Actor::Proxy, "reuses an idle connection to target {target}");
            self.send_request(w, id, conn);
            return;
        }
        let attempt = w.exchanges[id].attempts.len() as u32;
        note!(w, id, Actor::Proxy, "connects to target {target}");
        w.connect_attempt(id, target, Some(i));
        w.schedule(CONNECT_TIMEOUT_MS * 1_000, Event::ProxyTimer { id, timer: ProxyTimer::Connect { attempt } });
    }

    fn send_request(&mut self, w: &mut World, id: ReqId, conn: ConnId) {
        w.conns[conn].keepalive = true;
        w.conns[conn].state = ConnState::Active;
        w.request_sent(id);
        let now = w.now;
        self.st(id).sent = Some(now);
        let hop = w.hop();
        w.schedule(hop, Event::AppRequest { conn });
        let attempt = w.conns[conn].attempt;
        let t = Self::idle_us(w);
        w.schedule(t, Event::ProxyTimer { id, timer: ProxyTimer::Read { attempt } });
    }

    fn close(&mut self, w: &mut World, id: ReqId) {
        if let Some(conn) = w.set_req_conn(id, None) {
            w.conns[conn].state = ConnState::Closed;
            self.pool.retain(|&c| c != conn);
        }
    }

    /// The load balancer's own answer; `target_ms` is the target processing
    /// time when the request reached a target (else `-1`).
    fn own_error(&mut self, w: &mut World, id: ReqId, status: u16, target_ms: Option<u64>, why: String) {
        if w.keep_details {
            w.exchanges[id].explanation = Some(format!("{why} Its access log line has elb_status_code {status} and target_status_code - (the target sent no response)."));
        }
        let reason = own_reason(status);
        let body = error_page(status, reason);
        let response = Response {
            status,
            reason: reason.into(),
            headers: vec![
                Header::new("Server", "awselb/2.0"),
                Header::new("Date", w.clock.http_date(w.now)),
                Header::new("Content-Type", "text/html"),
                Header::new("Content-Length", body.len().to_string()),
                Header::new("Connection", "keep-alive"),
            ],
            body: body.into(),
        };
        self.send(w, id, response, None, target_ms, ClientResult::Response);
    }

    fn send(&mut self, w: &mut World, id: ReqId, response: Response, target_status: Option<u16>, target_us: Option<u64>, result: ClientResult) {
        if !super::finish(w, id) {
            return;
        }
        let head = response.status_line().len() as u64 + 2 + response.headers.iter().map(|h| h.name.len() as u64 + h.value.len() as u64 + 4).sum::<u64>() + 2;
        self.access_line(w, id, response.status, target_status, target_us, head + response.body.len() as u64);
        super::deliver(w, id, response, result, "");
    }

    fn access_line(&mut self, w: &mut World, id: ReqId, elb_status: u16, target_status: Option<u16>, target_us: Option<u64>, sent_bytes: u64) {
        w.exchanges[id].logged_status = Some(elb_status);
        note!(w, id, Actor::Proxy, "logs elb_status_code {elb_status} target_status_code {}", target_status.map_or("-".to_string(), |s| s.to_string()));
        if !w.keep_details {
            return;
        }
        let st = self.state.get(id).cloned().unwrap_or_default();
        let ex = &w.exchanges[id];
        let arrived = st.arrived.unwrap_or(ex.sent_at);
        let agent = w.ops.get(ex.op).and_then(|o| o.user_agent.clone()).unwrap_or_else(|| w.scenario.clients.user_agent.clone());
        // Saturating: a scenario's virtual time can run far past the calendar's end (fuzz found it).
        let unix_us = |t: SimTime| w.clock.unix(t).saturating_mul(1_000_000).saturating_add((t.as_micros() % 1_000_000) as i64);
        let target = ex.attempts.last().map(|a| a.peer.clone());
        let responded = target_status.is_some();
        let received = crate::sim::http::client_request_head(&ex.request, &agent).len() as u64 + ex.request.body_bytes;
        let host = if ex.request.host.is_empty() { "localhost" } else { &ex.request.host };
        let entry = AlbLogEntry {
            listener: ListenerType::Http,
            time_us: unix_us(w.now),
            elb: format!("app/{}/50dc6c495c0c9188", w.scenario.proxy.alb.name),
            client: format!("{}:{}", ex.client_ip, 40_000 + ex.client_connection % 20_000),
            target: target.clone(),
            request_processing_us: target.as_ref().map(|_| 0),
            target_processing_us: target_us,
            response_processing_us: responded.then_some(0),
            elb_status_code: elb_status,
            target_status_code: target_status,
            received_bytes: received,
            sent_bytes,
            request: format!("{} http://{host}:80{} HTTP/1.1", ex.request.method, ex.request.path),
            user_agent: agent,
            ssl_cipher: None,
            ssl_protocol: None,
            target_group_arn: TARGET_GROUP_ARN.into(),
            trace_id: st.trace_id.clone(),
            domain_name: None,
            chosen_cert_arn: None,
            matched_rule_priority: Some(0),
            request_creation_time_us: unix_us(arrived),
            actions_executed: "forward".into(),
            redirect_url: None,
            error_reason: None,
            target_port_list: target.into_iter().collect(),
            target_status_code_list: target_status.into_iter().collect(),
            classification: None,
            classification_reason: None,
        };
        let line = log::format(&entry);
        w.access_log.push(line.clone());
        w.exchanges[id].access_line = Some(line);
    }

    fn target_time(&self, w: &World, id: ReqId) -> Option<u64> {
        self.state.get(id).and_then(|s| s.sent).map(|s| w.now.since(s))
    }
}

/// `Root=1-<8 hex: epoch seconds>-<24 hex>` from the run's PRNG (X-Amzn-Trace-Id).
fn trace_id(w: &mut World, unix: i64) -> String {
    let a = w.rng.between(0, u64::MAX);
    let b = w.rng.between(0, u32::MAX as u64);
    format!("Root=1-{:08x}-{:016x}{:08x}", unix as u32, a, b)
}

impl ProxyFlavor for Alb {
    fn on_request(&mut self, w: &mut World, id: ReqId) {
        let now = w.now;
        let unix = w.clock.unix(now);
        let trace = trace_id(w, unix);
        let st = self.st(id);
        st.arrived = Some(now);
        st.trace_id = trace;
        note!(w, id, Actor::Proxy, "listener :80 rule default: forward to target group app");
        self.dispatch(w, id);
    }

    fn on_connect_result(&mut self, w: &mut World, conn: ConnId, outcome: ConnectOutcome) {
        let Some(id) = super::current(w, conn) else { return };
        if w.conns[conn].state != ConnState::Connecting {
            return;
        }
        let peer = super::peer(w, id);
        match outcome {
            ConnectOutcome::Accepted => self.send_request(w, id, conn),
            ConnectOutcome::Refused => {
                w.end_attempt(id, AttemptResult::Failed { cause: FailureCause::Refused });
                self.close(w, id);
                self.own_error(w, id, 502, None, format!("The target {peer} answered the connection attempt with a TCP RST (nothing listens): the load balancer answers 502 Bad Gateway."));
            }
            ConnectOutcome::PermissionDenied | ConnectOutcome::NoSuchFile | ConnectOutcome::Dropped => {}
        }
    }

    fn on_tls_done(&mut self, _w: &mut World, _conn: ConnId, _result: TlsResult) {}

    fn on_upstream_data(&mut self, w: &mut World, conn: ConnId) {
        let Some(id) = super::current(w, conn) else { return };
        let Some(reply) = w.conns[conn].reply.take() else { return };
        let peer = super::peer(w, id);
        let target_us = self.target_time(w, id);
        match reply.wire {
            Wire::Http { bad_header_line: Some(line), .. } => {
                w.end_attempt(id, AttemptResult::Failed { cause: FailureCause::InvalidHeader { line: line.clone() } });
                self.close(w, id);
                self.own_error(w, id, 502, target_us, format!("The target {peer} sent a header line that is not valid HTTP ({line:?}): \"The target response is malformed or contains HTTP headers that are not valid\", 502."));
            }
            Wire::Garbage(_) => {
                w.end_attempt(id, AttemptResult::Failed { cause: FailureCause::NotHttp });
                self.close(w, id);
                self.own_error(w, id, 502, target_us, format!("The target {peer} answered with bytes that are not an HTTP response: 502."));
            }
            Wire::Http { response, truncate_body_at, .. } => {
                let status = response.status;
                w.end_attempt(id, AttemptResult::Responded { status });
                w.set_req_conn(id, None);
                if truncate_body_at.is_none() && w.conns[conn].keepalive && !w.conns[conn].app_closed {
                    w.set_conn_req(conn, None);
                    let c = &mut w.conns[conn];
                    c.state = ConnState::Idle;
                    c.served += 1;
                    c.proxy_idle_token += 1;
                    let token = c.proxy_idle_token;
                    self.pool.push(conn);
                    let t = Self::idle_us(w);
                    w.schedule(t, Event::ProxyIdleTimeout { conn, token });
                } else {
                    w.conns[conn].state = ConnState::Closed;
                }
                let mut out = response;
                out.headers.retain(|h| !h.name.eq_ignore_ascii_case("connection") && !h.name.eq_ignore_ascii_case("keep-alive"));
                out.headers.push(Header::new("Connection", "keep-alive"));
                if w.keep_details {
                    w.exchanges[id].explanation = Some(match status {
                        s if s >= 500 => format!("The target {peer} itself answered {s}; the load balancer forwards it (HTTPCode_Target_5XX_Count): elb_status_code and target_status_code are both {s}."),
                        s => format!("The target {peer} answered {s} and the load balancer forwarded it."),
                    });
                }
                match truncate_body_at {
                    Some(n) => {
                        let expected = (!out.is_chunked()).then_some(out.body.len() as u64);
                        out.body.to_mut().truncate(n as usize);
                        self.send(w, id, out, Some(status), target_us, ClientResult::Truncated { received: n, expected });
                    }
                    None => self.send(w, id, out, Some(status), target_us, ClientResult::Response),
                }
            }
            Wire::BadChunked { .. } | Wire::Crash | Wire::OomKill { .. } | Wire::Hang => {}
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
        let peer = super::peer(w, id);
        let target_us = self.target_time(w, id);
        let reused = w.exchanges[id].attempts.last().is_some_and(|a| a.reused);
        let cause = if reset { FailureCause::Reset } else { FailureCause::PrematureClose };
        w.end_attempt(id, AttemptResult::Failed { cause });
        self.close(w, id);
        let what = if reset { "a TCP RST" } else { "a TCP FIN" };
        let race = if reused {
            format!(" It was an idle connection the load balancer reused: it keeps them up to its idle timeout ({} s), the target closed it sooner (Node.js keepAliveTimeout: 5 s). AWS: \"Check whether the keep-alive duration of the target is shorter than the idle timeout value of the load balancer.\" Fix: server.keepAliveTimeout = 65000 and server.headersTimeout = 66000 in the app.", w.scenario.proxy.alb.idle_timeout_s)
        } else {
            String::new()
        };
        self.own_error(w, id, 502, target_us, format!("The target {peer} closed the connection with {what} while the load balancer had a request outstanding: 502 Bad Gateway.{race}"));
    }

    fn on_idle_timeout(&mut self, w: &mut World, conn: ConnId, token: u64) {
        if w.conns[conn].state == ConnState::Idle && w.conns[conn].proxy_idle_token == token {
            w.conns[conn].state = ConnState::Closed;
            self.pool.retain(|&c| c != conn);
        }
    }

    fn on_client_abort(&mut self, w: &mut World, id: ReqId) {
        if w.exchanges[id].proxy.done {
            return;
        }
        // 460: "the client closed the connection with the load balancer before the idle timeout period elapsed".
        w.exchanges[id].proxy.done = true;
        if w.exchanges[id].proxy.conn.is_some() {
            w.end_attempt(id, AttemptResult::ClientClosed);
            self.close(w, id);
        }
        let target_us = self.target_time(w, id);
        self.access_line(w, id, 460, None, target_us, 0);
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
                w.end_attempt(id, AttemptResult::Failed { cause: FailureCause::Timeout { phase: TimeoutPhase::Connect } });
                self.close(w, id);
                self.own_error(w, id, 504, None, format!("The target {peer} did not complete the TCP handshake within the load balancer's connection timeout (10 s): 504."));
            }
            ProxyTimer::Read { attempt } => {
                if w.conns[conn].attempt != attempt || w.conns[conn].state != ConnState::Active {
                    return;
                }
                w.end_attempt(id, AttemptResult::Failed { cause: FailureCause::Timeout { phase: TimeoutPhase::ReadHeader } });
                self.close(w, id);
                let t = w.scenario.proxy.alb.idle_timeout_s;
                self.own_error(w, id, 504, None, format!("The target {peer} did not respond before the idle timeout ({t} s) elapsed: the load balancer answers 504 Gateway Time-out (target_processing_time -1)."));
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
    use super::*;

    /// The Content-Length of real 502 (122) and 503 (162) answers.
    #[test]
    fn the_error_pages_have_the_lengths_real_answers_had() {
        assert_eq!(error_page(502, own_reason(502)).len(), 122);
        assert_eq!(error_page(503, own_reason(503)).len(), 162);
    }
}
