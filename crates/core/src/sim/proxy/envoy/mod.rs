//! Envoy as the reverse proxy (the HTTP connection manager, the router
//! filter, one cluster `app` of the scenario's upstreams, round robin).
//! **Documented, not verified**: no Envoy binary runs here; every behaviour
//! below cites Envoy's source or documentation in
//! docs/research/envoy-alb-model.md (and docs/research/envoy-cloudflare-alb-sources.md §1).
//!
//! What it does, in Envoy's words:
//! - a refused connect is a **503** with flag `UF` and the body
//!   `upstream connect error or disconnect/reset before headers. reset reason: remote connection failure, transport failure reason: delayed connect error: Connection refused`
//!   (router.cc `Filter::onUpstreamReset`; the transport reason from
//!   connection_impl.cc, `strerror` in current Envoy, `111` in older ones);
//! - no answer to the SYN within the cluster's `connect_timeout` (5 s): 503
//!   `UF`, `reset reason: connection timeout`;
//! - the upstream closes or resets the connection before a response header
//!   (the keep-alive race on a pooled connection): 503 `UC`, `reset reason: connection termination`;
//! - no host in the cluster: 503 `UH`, `no healthy upstream`;
//! - no complete response within the route's `timeout` (15 s): **504**
//!   `UT`, `upstream request timeout`;
//! - a response Envoy's codec cannot parse: **502** `UPE`, `reset reason: protocol error`;
//! - retries only with a route `retry_policy` (`retry_on`, `num_retries`),
//!   after a jittered back-off (25 ms base); the body then says `retried and
//!   the latest reset reason: …` and a spent retry budget adds `URX`;
//! - the access log line is the default format (`log.rs`), no error log line.

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
use crate::sim::FaultKind;

use self::log::{EnvoyLogEntry, ResponseFlag};
use super::ProxyFlavor;

/// Where the exported envoy.yaml writes the access log.
pub const ACCESS_LOG: &str = "/var/log/envoy/access.log";
/// The retry back-off's base interval (`retry_policy.retry_back_off.base_interval`'s default, 25 ms).
const BACKOFF_BASE_US: u64 = 25_000;
/// The `ProxyTimer::Connect` attempt number that means "start the next try now".
const RETRY_NOW: u32 = u32::MAX;
/// The `ProxyTimer::Read` attempt number of the route timeout (it spans the retries).
const ROUTE_TIMEOUT: u32 = u32::MAX;

/// What the Envoy flavor does not model, for a scenario it would run
/// (faults applied): None when it models all of it.
pub fn unsupported(sc: &Scenario) -> Option<String> {
    if sc.proxy.flavor != Flavor::Envoy {
        return None;
    }
    if let Some(why) = super::uncovered(sc) {
        return Some(why);
    }
    if conf::hosts(sc).iter().any(|h| h.starts_with("unix:")) {
        return Some("the Envoy flavor models TCP upstreams only (a pipe address was not modelled).".into());
    }
    if let Some(bad) = sc.proxy.envoy.retry_on.iter().find(|r| !crate::sim::scenario::ENVOY_RETRY_ON.contains(&r.as_str())) {
        return Some(format!("retry_on {bad:?} is not modelled (the Envoy flavor models {}).", crate::sim::scenario::ENVOY_RETRY_ON.join(", ")));
    }
    // A name that does not resolve (NXDOMAIN) leaves a STRICT_DNS cluster without hosts: UH.
    let mut rest = sc.clone();
    rest.faults.retain(|f| !matches!(f.kind, FaultKind::DnsFailure { .. }));
    documented_faults(&rest, "Envoy")
}

/// The faults the documented flavors model (the rest would be invented):
/// refused, black-holed, closing and slow upstreams, the app's own answers,
/// an invalid header and the keep-alive race.
pub fn documented_faults(sc: &Scenario, name: &str) -> Option<String> {
    for f in &sc.faults {
        let modelled = matches!(
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
                | FaultKind::DbPoolExhausted { .. }
                | FaultKind::Overload { .. }
        );
        // rolling_deploy is left out: the fault refuses new connections during
        // the deploy but does not close the connections a pool already holds,
        // so a flavor that pools by default (these two) would keep serving over
        // them; a real process that stops closes its sockets.
        if !modelled {
            return Some(format!(
                "the {name} flavor is documented, not verified, and models refused, black-holed, closing and slow upstreams, an invalid header, the app's own errors and the keep-alive race, not {}.",
                f.kind.id()
            ));
        }
    }
    None
}

/// `Http::Utility::resetReasonToString` for the reasons the flavor meets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResetReason {
    RemoteConnectionFailure,
    ConnectionTimeout,
    ConnectionTermination,
    ProtocolError,
}

impl ResetReason {
    pub fn as_str(self) -> &'static str {
        match self {
            ResetReason::RemoteConnectionFailure => "remote connection failure",
            ResetReason::ConnectionTimeout => "connection timeout",
            ResetReason::ConnectionTermination => "connection termination",
            ResetReason::ProtocolError => "protocol error",
        }
    }

    /// router.cc `streamResetReasonToResponseFlag`.
    pub fn flag(self) -> ResponseFlag {
        match self {
            ResetReason::RemoteConnectionFailure | ResetReason::ConnectionTimeout => ResponseFlag::UF,
            ResetReason::ConnectionTermination => ResponseFlag::UC,
            ResetReason::ProtocolError => ResponseFlag::UPE,
        }
    }

    fn is_connect_failure(self) -> bool {
        matches!(self, ResetReason::RemoteConnectionFailure | ResetReason::ConnectionTimeout)
    }
}

/// router.cc `Filter::onUpstreamReset`'s body.
pub fn reset_body(retried: bool, reason: ResetReason, transport: Option<&str>) -> String {
    format!(
        "upstream connect error or disconnect/reset before headers. {}reset reason: {}{}",
        if retried { "retried and the latest " } else { "" },
        reason.as_str(),
        transport.map(|t| format!(", transport failure reason: {t}")).unwrap_or_default()
    )
}

/// A version 4 UUID (`x-request-id`, generated by the connection manager) from the run's PRNG.
pub fn request_id(w: &mut World) -> String {
    let hi = w.rng.between(0, u64::MAX);
    let lo = w.rng.between(0, u64::MAX);
    let hi = (hi & 0xffff_ffff_ffff_0fff) | 0x0000_0000_0000_4000;
    let lo = (lo & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000;
    format!("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", hi >> 32, (hi >> 16) & 0xffff, hi & 0xffff, lo >> 48, lo & 0xffff_ffff_ffff)
}

#[derive(Clone, Debug, Default, PartialEq)]
struct ReqState {
    arrived: Option<SimTime>,
    request_id: String,
    /// Retries done so far.
    retries: u32,
    /// The retry limit stopped a retry the policy asked for (`URX`).
    limit_reached: bool,
    /// When the current upstream request was sent (x-envoy-upstream-service-time).
    sent: Option<SimTime>,
}

pub struct Envoy {
    hosts: Vec<String>,
    next: usize,
    pool: Vec<ConnId>,
    state: PerRequest<ReqState>,
}

impl Envoy {
    pub fn start(w: &mut World) -> Envoy {
        // A STRICT_DNS cluster: a name is resolved to its addresses; one that
        // does not resolve (NXDOMAIN) gives no host at all (inferred:
        // docs/research/envoy-alb-model.md §1, "unresolvable host").
        let mut hosts = Vec::new();
        for h in conf::hosts(&w.scenario) {
            match crate::sim::net::Address::parse(&h) {
                Ok(a) if !a.is_ip() && a.host().is_some() => {
                    let name = a.host().unwrap_or_default().to_string();
                    if w.scenario.faults.iter().any(|f| f.dns_answer(&name).is_some()) {
                        continue;
                    }
                    hosts.push(a.resolved("127.0.0.1").to_string());
                }
                _ => hosts.push(h),
            }
        }
        Envoy { hosts, next: 0, pool: Vec::new(), state: PerRequest::default() }
    }

    fn st(&mut self, id: ReqId) -> &mut ReqState {
        self.state.at(id)
    }

    /// The next host (round robin); None when the cluster has none.
    fn pick(&mut self) -> Option<(usize, String)> {
        if self.hosts.is_empty() {
            return None;
        }
        let i = self.next % self.hosts.len();
        self.next = self.next.wrapping_add(1);
        Some((i, self.hosts[i].clone()))
    }

    fn try_upstream(&mut self, w: &mut World, id: ReqId) {
        let Some((server, host)) = self.pick() else {
            self.local_reply(w, id, 503, "no healthy upstream".into(), vec![ResponseFlag::UH], "The cluster has no host to send the request to: Envoy answers 503 no healthy upstream (flag UH) without trying a connection.".into());
            return;
        };
        if let Some(conn) = super::take_idle(w, &mut self.pool, &host) {
            super::reuse(w, id, conn);
            note!(w, id, Actor::Proxy, "reuses an idle connection to {host} from the cluster's pool");
            self.send_request(w, id, conn);
            return;
        }
        let attempt = w.exchanges[id].attempts.len() as u32;
        note!(w, id, Actor::Proxy, "connects to {host} (cluster app)");
        w.connect_attempt(id, host, Some(server));
        let t = w.scenario.proxy.envoy.connect_timeout_ms * 1_000;
        w.schedule(t, Event::ProxyTimer { id, timer: ProxyTimer::Connect { attempt } });
    }

    fn send_request(&mut self, w: &mut World, id: ReqId, conn: ConnId) {
        w.conns[conn].keepalive = true;
        w.conns[conn].state = ConnState::Active;
        w.request_sent(id);
        let now = w.now;
        self.st(id).sent = Some(now);
        let hop = w.hop();
        w.schedule(hop, Event::AppRequest { conn });
    }

    fn close(&mut self, w: &mut World, id: ReqId) {
        if let Some(conn) = w.set_req_conn(id, None) {
            w.conns[conn].state = ConnState::Closed;
            self.pool.retain(|&c| c != conn);
        }
    }

    /// Whether the route's retry policy retries this reset.
    /// retry_state_impl.cc `RetryStateImpl::wouldRetryFromReset`.
    fn retries_reset(w: &World, reason: ResetReason) -> bool {
        let on = &w.scenario.proxy.envoy.retry_on;
        on.iter().any(|r| matches!(r.as_str(), "5xx" | "gateway-error" | "reset")) || (reason.is_connect_failure() && on.iter().any(|r| r == "connect-failure"))
    }

    /// Whether the route's retry policy retries this response status.
    fn retries_status(w: &World, status: u16) -> bool {
        w.scenario.proxy.envoy.retry_on.iter().any(|r| match r.as_str() {
            "5xx" => status >= 500,
            "gateway-error" => matches!(status, 502..=504),
            _ => false,
        })
    }

    /// Takes one retry if the budget allows (else records `URX`); true when a retry is scheduled.
    fn retry(&mut self, w: &mut World, id: ReqId, what: &str) -> bool {
        let limit = w.scenario.proxy.envoy.num_retries;
        let done = self.state.get(id).map_or(0, |s| s.retries);
        if done >= limit {
            self.st(id).limit_reached = true;
            return false;
        }
        self.st(id).retries = done + 1;
        // Jittered exponential back-off: uniform in [0, (2^n - 1) x 25 ms) (router's JitteredExponentialBackOffStrategy).
        let ceiling = ((1u64 << (done + 1).min(10)) - 1) * BACKOFF_BASE_US;
        let delay = w.rng.between(0, ceiling.saturating_sub(1));
        note!(w, id, Actor::Proxy, "{what}: retry {} of num_retries {limit} in {} ms (retry_on {})", done + 1, delay / 1_000, w.scenario.proxy.envoy.retry_on.join(","));
        w.schedule(delay, Event::ProxyTimer { id, timer: ProxyTimer::Connect { attempt: RETRY_NOW } });
        true
    }

    /// The upstream request was reset (connect failure, termination, protocol error).
    fn reset(&mut self, w: &mut World, id: ReqId, reason: ResetReason, transport: Option<&str>, cause: FailureCause, why: String) {
        w.end_attempt(id, AttemptResult::Failed { cause });
        self.close(w, id);
        let peer = super::peer(w, id);
        if Self::retries_reset(w, reason) && self.retry(w, id, &format!("upstream reset ({})", reason.as_str())) {
            return;
        }
        let st = self.state.get(id).cloned().unwrap_or_default();
        let mut flags = vec![reason.flag()];
        if st.limit_reached {
            flags.push(ResponseFlag::URX);
        }
        let status = if reason == ResetReason::ProtocolError { 502 } else { 503 };
        let body = reset_body(st.retries > 0, reason, transport);
        let retried = if st.retries > 0 { format!(" The route's retry policy (retry_on {}) retried {} time(s); num_retries is spent, so the flags add URX and the body says \"retried and the latest reset reason\".", w.scenario.proxy.envoy.retry_on.join(","), st.retries) } else { String::new() };
        let flag = reason.flag().as_str();
        let explanation = format!("{why}{retried} Envoy answers {status} with the text body {body:?}; its access log line has the response flag {flag} after the status (the default format has no response code details: %RESPONSE_CODE_DETAILS% would say upstream_reset_before_response_started{{{}}}). Upstream {peer}.", reason.as_str().replace(' ', "_"));
        self.local_reply(w, id, status, body, flags, explanation);
    }

    /// Envoy's own answer (`sendLocalReply`): a text/plain body.
    fn local_reply(&mut self, w: &mut World, id: ReqId, status: u16, body: String, flags: Vec<ResponseFlag>, explanation: String) {
        if w.keep_details {
            w.exchanges[id].explanation = Some(explanation);
        }
        let response = Response {
            status,
            reason: crate::sim::http::reason_phrase(status).into(),
            headers: vec![
                Header::new("content-length", body.len().to_string()),
                Header::new("content-type", "text/plain"),
                Header::new("date", w.clock.http_date(w.now)),
                Header::new("server", "envoy"),
            ],
            body: body.into(),
        };
        self.send(w, id, response, flags, None, ClientResult::Response);
    }

    fn send(&mut self, w: &mut World, id: ReqId, response: Response, flags: Vec<ResponseFlag>, service_ms: Option<u64>, result: ClientResult) {
        if !super::finish(w, id) {
            return;
        }
        let bytes = response.body.len() as u64;
        self.access_line(w, id, response.status, flags, bytes, service_ms);
        super::deliver(w, id, response, result, "");
    }

    fn access_line(&mut self, w: &mut World, id: ReqId, code: u16, flags: Vec<ResponseFlag>, bytes_sent: u64, service_ms: Option<u64>) {
        w.exchanges[id].logged_status = (code != 0).then_some(code);
        let flag_text = log::flags(&flags);
        note!(w, id, Actor::Proxy, "logs {code} {flag_text}");
        if !w.keep_details {
            return;
        }
        let st = self.state.get(id).cloned().unwrap_or_default();
        let ex = &w.exchanges[id];
        let arrived = st.arrived.unwrap_or(ex.sent_at);
        let agent = w.ops.get(ex.op).and_then(|o| o.user_agent.clone()).unwrap_or_else(|| w.scenario.clients.user_agent.clone());
        let start_ms = w.clock.unix(arrived).saturating_mul(1_000).saturating_add((arrived.as_micros() % 1_000_000 / 1_000) as i64);
        let entry = EnvoyLogEntry {
            start_ms,
            method: ex.request.method.to_string(),
            path: ex.request.path.to_string(),
            protocol: "HTTP/1.1".into(),
            code,
            flags,
            bytes_received: ex.request.body_bytes,
            bytes_sent,
            duration_ms: w.now.since(arrived) / 1_000,
            upstream_service_time_ms: service_ms,
            x_forwarded_for: None,
            user_agent: Some(agent),
            request_id: Some(st.request_id.clone()),
            authority: (!ex.request.host.is_empty()).then(|| ex.request.host.to_string()),
            upstream_host: ex.attempts.last().map(|a| a.peer.clone()),
        };
        let line = log::format(&entry);
        w.access_log.push(line.clone());
        w.exchanges[id].access_line = Some(line);
    }

    fn pool_or_close(&mut self, w: &mut World, conn: ConnId) {
        if w.conns[conn].keepalive && !w.conns[conn].app_closed {
            w.set_conn_req(conn, None);
            let c = &mut w.conns[conn];
            c.state = ConnState::Idle;
            c.served += 1;
            c.proxy_idle_token += 1;
            let token = c.proxy_idle_token;
            self.pool.push(conn);
            let t = w.scenario.proxy.envoy.idle_timeout_ms * 1_000;
            w.schedule(t, Event::ProxyIdleTimeout { conn, token });
        } else {
            w.conns[conn].state = ConnState::Closed;
        }
    }
}

impl ProxyFlavor for Envoy {
    fn on_request(&mut self, w: &mut World, id: ReqId) {
        let now = w.now;
        let rid = request_id(w);
        let st = self.st(id);
        st.arrived = Some(now);
        st.request_id = rid;
        note!(w, id, Actor::Proxy, "routes \"{}\" to cluster app", w.exchanges[id].request_line());
        let t = w.scenario.proxy.envoy.route_timeout_ms;
        if t > 0 {
            w.schedule(t * 1_000, Event::ProxyTimer { id, timer: ProxyTimer::Read { attempt: ROUTE_TIMEOUT } });
        }
        self.try_upstream(w, id);
    }

    fn on_connect_result(&mut self, w: &mut World, conn: ConnId, outcome: ConnectOutcome) {
        let Some(id) = super::current(w, conn) else { return };
        if w.conns[conn].state != ConnState::Connecting {
            return;
        }
        let peer = super::peer(w, id);
        match outcome {
            ConnectOutcome::Accepted => self.send_request(w, id, conn),
            ConnectOutcome::Refused => self.reset(
                w,
                id,
                ResetReason::RemoteConnectionFailure,
                Some("delayed connect error: Connection refused"),
                FailureCause::Refused,
                format!("Nothing listens on {peer}: the kernel answered the connect with RST (ECONNREFUSED)."),
            ),
            ConnectOutcome::PermissionDenied | ConnectOutcome::NoSuchFile | ConnectOutcome::Dropped => {}
        }
    }

    fn on_tls_done(&mut self, _w: &mut World, _conn: ConnId, _result: TlsResult) {}

    fn on_upstream_data(&mut self, w: &mut World, conn: ConnId) {
        let Some(id) = super::current(w, conn) else { return };
        let Some(reply) = w.conns[conn].reply.take() else { return };
        let peer = super::peer(w, id);
        match reply.wire {
            Wire::Http { bad_header_line: Some(line), .. } => {
                self.reset(w, id, ResetReason::ProtocolError, None, FailureCause::InvalidHeader { line: line.clone() }, format!("{peer} sent a header line Envoy's HTTP/1 codec rejects ({line:?}): a protocol error."));
            }
            Wire::Garbage(_) => {
                self.reset(w, id, ResetReason::ProtocolError, None, FailureCause::NotHttp, format!("{peer} answered with bytes that are not HTTP: Envoy's codec fails with a protocol error."));
            }
            Wire::Http { response, truncate_body_at, .. } => {
                let status = response.status;
                w.end_attempt(id, AttemptResult::Responded { status });
                if truncate_body_at.is_none() && Self::retries_status(w, status) {
                    w.set_req_conn(id, None);
                    self.pool_or_close(w, conn);
                    if self.retry(w, id, &format!("the upstream answered {status}")) {
                        return;
                    }
                    // retry limit: the response goes to the client (flag URX).
                } else {
                    w.set_req_conn(id, None);
                    if truncate_body_at.is_some() {
                        w.conns[conn].state = ConnState::Closed;
                    } else {
                        self.pool_or_close(w, conn);
                    }
                }
                let sent = self.state.get(id).and_then(|s| s.sent).unwrap_or(w.now);
                let service = w.now.since(sent) / 1_000;
                let mut out = response;
                out.headers.retain(|h| !h.name.eq_ignore_ascii_case("connection") && !h.name.eq_ignore_ascii_case("keep-alive") && !h.name.eq_ignore_ascii_case("server"));
                for h in &mut out.headers {
                    h.name = h.name.to_ascii_lowercase().into();
                }
                out.headers.push(Header::new("x-envoy-upstream-service-time", service.to_string()));
                out.headers.push(Header::new("server", "envoy"));
                let limit = self.state.get(id).is_some_and(|s| s.limit_reached);
                let flags = if limit { vec![ResponseFlag::URX] } else { vec![] };
                if w.keep_details {
                    w.exchanges[id].explanation = Some(match status {
                        s if s >= 500 => format!("The app on {peer} itself answered {s}; Envoy passed it on (server: envoy, x-envoy-upstream-service-time: {service}) with no response flag: a 5xx with flags '-' is the app's, not Envoy's."),
                        s => format!("The app on {peer} answered {s} and Envoy passed it on (x-envoy-upstream-service-time: {service})."),
                    });
                }
                match truncate_body_at {
                    Some(n) => {
                        let expected = (!out.is_chunked()).then_some(out.body.len() as u64);
                        out.body.to_mut().truncate(n as usize);
                        self.send(w, id, out, vec![ResponseFlag::UC], Some(service), ClientResult::Truncated { received: n, expected });
                    }
                    None => self.send(w, id, out, flags, Some(service), ClientResult::Response),
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
        let reused = w.exchanges[id].attempts.last().is_some_and(|a| a.reused);
        let what = if reset { "reset the connection (RST)" } else { "closed the connection (FIN)" };
        let race = if reused {
            format!(" The connection was an idle one from the pool: Envoy keeps upstream connections up to its idle_timeout ({} s by default 3600), the app closes them sooner (Node.js: 5 s), and a request written as the app closes one is lost: the keep-alive race.", w.scenario.proxy.envoy.idle_timeout_ms / 1_000)
        } else {
            String::new()
        };
        let cause = if reset { FailureCause::Reset } else { FailureCause::PrematureClose };
        self.reset(w, id, ResetReason::ConnectionTermination, None, cause, format!("{peer} {what} before a response header.{race}"));
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
        // The downstream went away: the access log says code 0, flag DC
        // (usage.rst: "a response code of '0' means that the server never sent the beginning of a response").
        w.exchanges[id].proxy.done = true;
        if w.exchanges[id].proxy.conn.is_some() {
            w.end_attempt(id, AttemptResult::ClientClosed);
            self.close(w, id);
        }
        self.access_line(w, id, 0, vec![ResponseFlag::DC], 0, None);
    }

    fn on_timer(&mut self, w: &mut World, id: ReqId, timer: ProxyTimer) {
        if w.exchanges[id].proxy.done {
            return;
        }
        match timer {
            ProxyTimer::Connect { attempt: RETRY_NOW } => self.try_upstream(w, id),
            ProxyTimer::Connect { attempt } => {
                let Some(conn) = w.exchanges[id].proxy.conn else { return };
                if w.conns[conn].attempt != attempt || w.conns[conn].state != ConnState::Connecting {
                    return;
                }
                let peer = super::peer(w, id);
                let t = w.scenario.proxy.envoy.connect_timeout_ms;
                self.reset(w, id, ResetReason::ConnectionTimeout, None, FailureCause::Timeout { phase: TimeoutPhase::Connect }, format!("{peer} did not answer the connection attempt within the cluster's connect_timeout ({t} ms)."));
            }
            ProxyTimer::Read { attempt: ROUTE_TIMEOUT } => {
                let t = w.scenario.proxy.envoy.route_timeout_ms;
                if w.exchanges[id].proxy.conn.is_some() {
                    w.end_attempt(id, AttemptResult::Failed { cause: FailureCause::Timeout { phase: TimeoutPhase::ReadHeader } });
                    self.close(w, id);
                }
                let peer = super::peer(w, id);
                self.local_reply(w, id, 504, "upstream request timeout".into(), vec![ResponseFlag::UT], format!("{peer} had not answered when the route's timeout ({t} ms; 15 s when unset) ran out: Envoy resets the upstream request and answers 504 upstream request timeout (flag UT)."));
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

    #[test]
    fn the_reset_bodies_are_routers() {
        assert_eq!(
            reset_body(false, ResetReason::RemoteConnectionFailure, Some("delayed connect error: Connection refused")),
            "upstream connect error or disconnect/reset before headers. reset reason: remote connection failure, transport failure reason: delayed connect error: Connection refused"
        );
        assert_eq!(reset_body(true, ResetReason::ConnectionTermination, None), "upstream connect error or disconnect/reset before headers. retried and the latest reset reason: connection termination");
    }
}
