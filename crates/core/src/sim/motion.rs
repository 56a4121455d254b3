//! A request's journey as typed legs: each hop from one box to the next and
//! each wait in between, in virtual time, with the proxy timer that governed
//! a wait (its name as the proxy's configuration spells it, and its value).
//!
//! The page replays a journey over screen time a person can follow (every hop
//! drawn for a fixed moment, long waits compressed, a timer counting up toward
//! its limit); this module only says what happened and when, from what the
//! engine recorded: the exchange's attempts (`started`, `sent`, `ended`,
//! `result`) and the scenario's hop latency and timeouts.

use super::failure::{FailureCause, TimeoutPhase};
use super::proxy::nginx::conf::time;
use super::scenario::{Flavor, Scenario};
use super::time::SimTime;
use super::world::{AttemptResult, ClientResult, Exchange};

/// Where a request is, on the topology.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Node {
    Client,
    Proxy,
    /// The upstream peer of an attempt; `app` is the scenario's app that
    /// listens on its address (None: nobody the scenario runs listens there).
    Upstream { app: Option<usize> },
}

/// A proxy timer that ran during a wait.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timer {
    /// The directive, as the proxy's configuration spells it:
    /// `proxy_read_timeout`, `timeout server`, `proxy_connect_timeout`, ...
    pub name: &'static str,
    /// Its value in microseconds: the configured one, or, for a timer that
    /// fired, the time it actually ran (the same unless the configuration
    /// changed since).
    pub limit_us: u64,
    /// When the proxy armed it (the timer reads `at - since` at instant `at`).
    pub since: SimTime,
    /// It expired and ended the wait.
    pub fired: bool,
}

impl Timer {
    /// `proxy_read_timeout 60s` (the directive with its value).
    pub fn setting(&self) -> String {
        format!("{} {}", self.name, time(self.limit_us / 1_000))
    }
}

/// One leg of a journey.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Leg {
    /// Something travels from `from` to `to`: the request, a SYN, an RST, the response.
    Hop { from: Node, to: Node, start: SimTime, end: SimTime, what: String },
    /// The request sits at `at` (the proxy, or an upstream working on it or
    /// not answering) while virtual time passes.
    Wait { at: Node, start: SimTime, end: SimTime, timer: Option<Timer> },
}

impl Leg {
    pub fn start(&self) -> SimTime {
        match self {
            Leg::Hop { start, .. } | Leg::Wait { start, .. } => *start,
        }
    }
    pub fn end(&self) -> SimTime {
        match self {
            Leg::Hop { end, .. } | Leg::Wait { end, .. } => *end,
        }
    }
}

/// A request's legs, in order; each starts where the previous one ended.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Journey {
    pub legs: Vec<Leg>,
    /// The client has its result: nothing will be added.
    pub finished: bool,
}

/// The timer a proxy of `flavor` runs in `phase`, with its configured value (µs).
pub fn timer_setting(sc: &Scenario, phase: TimeoutPhase) -> (&'static str, u64) {
    let (p, h) = (&sc.proxy, &sc.proxy.haproxy);
    let (name, ms) = match (sc.proxy.flavor, phase) {
        (Flavor::Nginx, TimeoutPhase::Connect) => ("proxy_connect_timeout", p.proxy_connect_timeout_ms),
        (Flavor::Nginx, TimeoutPhase::Send) => ("proxy_send_timeout", p.proxy_send_timeout_ms),
        (Flavor::Nginx, TimeoutPhase::ReadHeader) => ("proxy_read_timeout", p.proxy_read_timeout_ms),
        (Flavor::Haproxy, TimeoutPhase::Connect) => ("timeout connect", h.timeout_connect_ms),
        // HAProxy's `timeout server` covers writing the request and waiting for the answer.
        (Flavor::Haproxy, _) => ("timeout server", h.timeout_server_ms),
        // Apache's ProxyTimeout covers the connect and the wait for the answer.
        (Flavor::Apache, _) => ("ProxyTimeout", p.apache.proxy_timeout_ms),
        (Flavor::Varnish, TimeoutPhase::Connect) => (".connect_timeout", p.varnish.connect_timeout_ms),
        (Flavor::Varnish, _) => (".first_byte_timeout", p.varnish.first_byte_timeout_ms),
        (Flavor::Caddy, TimeoutPhase::Connect) => ("dial_timeout", p.caddy.dial_timeout_ms),
        // No response_header_timeout (Caddy's default): a wait without a limit.
        (Flavor::Caddy, _) if p.caddy.response_header_timeout_ms == 0 => ("no response_header_timeout", u64::MAX / 1_000),
        (Flavor::Caddy, _) => ("response_header_timeout", p.caddy.response_header_timeout_ms),
        (Flavor::Envoy, TimeoutPhase::Connect) => ("connect_timeout", p.envoy.connect_timeout_ms),
        (Flavor::Envoy, _) if p.envoy.route_timeout_ms == 0 => ("no route timeout", u64::MAX / 1_000),
        (Flavor::Envoy, _) => ("route timeout", p.envoy.route_timeout_ms),
        (Flavor::Alb, TimeoutPhase::Connect) => ("connection timeout (10 s)", super::proxy::alb::CONNECT_TIMEOUT_MS),
        (Flavor::Alb, _) => ("idle timeout", p.alb.idle_timeout_s.saturating_mul(1_000)),
    };
    (name, ms.saturating_mul(1_000))
}

/// Builds the legs as they go, keeping them contiguous and clipped at `stop`.
struct Legs {
    legs: Vec<Leg>,
    at: SimTime,
    stop: SimTime,
}

impl Legs {
    fn clip(&self, t: SimTime) -> SimTime {
        t.max(self.at).min(self.stop)
    }
    fn hop(&mut self, from: Node, to: Node, end: SimTime, what: impl Into<String>) {
        let (start, end) = (self.at, self.clip(end));
        self.legs.push(Leg::Hop { from, to, start, end, what: what.into() });
        self.at = end;
    }
    /// A wait until `end` (nothing when it would last no time and has no timer).
    fn wait(&mut self, at: Node, end: SimTime, timer: Option<Timer>) {
        let end = self.clip(end);
        if end > self.at || timer.is_some() {
            self.legs.push(Leg::Wait { at, start: self.at, end, timer });
        }
        self.at = end;
    }
    fn done(&self) -> bool {
        self.at >= self.stop
    }
}

/// The journey of `ex` as far as virtual time `now` (`sc`: the run's
/// effective scenario, `World::scenario`).
pub fn journey(sc: &Scenario, ex: &Exchange, now: SimTime) -> Journey {
    let hop = sc.hop_latency_us;
    let stop = ex.finished_at.unwrap_or(now).max(ex.sent_at);
    let mut j = Legs { legs: Vec::new(), at: ex.sent_at, stop };
    let finished = ex.finished_at.is_some();
    if matches!(ex.client_result, Some(ClientResult::Rejected)) {
        // The circuit breaker kept it at the client.
        return Journey { legs: Vec::new(), finished };
    }
    let line = format!("{} {}", ex.request.method, ex.request.path);
    if matches!(ex.client_result, Some(ClientResult::ConnectFailed)) {
        // Nobody listens on the proxy's port: the SYN comes back as an RST.
        j.hop(Node::Client, Node::Proxy, ex.sent_at.plus_us(hop), "SYN");
        j.hop(Node::Proxy, Node::Client, stop, "RST: refused");
        return Journey { legs: j.legs, finished };
    }
    let arrive = ex.attempts.first().map_or(ex.sent_at.plus_us(hop), |a| a.started.min(ex.sent_at.plus_us(hop)));
    j.hop(Node::Client, Node::Proxy, arrive, line.clone());
    for a in &ex.attempts {
        if j.done() {
            break;
        }
        // Before this attempt: the proxy holds the request (limit_req's delay,
        // the resolver, HAProxy's turn-around before a retry).
        j.wait(Node::Proxy, a.started, None);
        let up = Node::Upstream { app: sc.apps.iter().position(|x| x.listen == a.peer) };
        let end = a.ended.unwrap_or(now);
        let cause = a.result.cause();
        // The timer that ended the attempt, if one did.
        let expired = match cause {
            Some(FailureCause::Timeout { phase }) => Some(*phase),
            _ => None,
        };
        let timer = |phase: TimeoutPhase, since: SimTime| {
            let (name, configured) = timer_setting(sc, phase);
            let fired = a.ended.is_some() && Some(phase) == expired;
            let limit_us = if fired { end.since(since) } else { configured };
            Timer { name, limit_us, since, fired }
        };
        // What comes back, if anything, and so whether the wait ends one hop
        // before the attempt does (the answer travelling back).
        let back = match &a.result {
            AttemptResult::Responded { status } => Some(format!("{status}")),
            AttemptResult::Failed { cause } if expired.is_none() => Some(failure_word(cause).to_string()),
            _ => None,
        };
        let back_at = if back.is_some() { SimTime(end.as_micros().saturating_sub(hop)) } else { end };
        match a.sent {
            Some(sent) => {
                let what = if a.reused { format!("{line} (kept-alive connection)") } else { line.clone() };
                j.hop(Node::Proxy, up, sent.plus_us(hop).min(back_at), what);
                let phase = if expired == Some(TimeoutPhase::Send) { TimeoutPhase::Send } else { TimeoutPhase::ReadHeader };
                j.wait(up, back_at, Some(timer(phase, sent)));
            }
            None => {
                j.hop(Node::Proxy, up, a.started.plus_us(hop).min(back_at), "SYN");
                // A SYN nobody answers, or a handshake under way: the connect timer runs.
                if back.is_none() || back_at > j.at {
                    j.wait(up, back_at, Some(timer(TimeoutPhase::Connect, a.started)));
                }
            }
        }
        if let Some(what) = back {
            j.hop(up, Node::Proxy, end, what);
        }
    }
    if finished && !j.done() {
        let answered = !matches!(ex.client_result, Some(ClientResult::TimedOut | ClientResult::Cancelled));
        if answered {
            j.wait(Node::Proxy, SimTime(stop.as_micros().saturating_sub(hop)), None);
            let what = ex.response.as_ref().map_or_else(|| "no response".to_string(), |r| format!("{} {}", r.status, r.reason));
            j.hop(Node::Proxy, Node::Client, stop, what);
        } else {
            // The client gave up first (its own timeout, or a hedge answered).
            j.wait(Node::Proxy, stop, None);
        }
    } else if !finished && !j.done() {
        j.wait(Node::Proxy, stop, None);
    }
    Journey { legs: j.legs, finished }
}

/// What an upstream sends back when an attempt fails, in a word or two.
fn failure_word(cause: &FailureCause) -> &'static str {
    match cause {
        FailureCause::Refused => "RST: refused",
        FailureCause::NoSuchFile => "no such socket",
        FailureCause::PermissionDenied => "permission denied",
        FailureCause::Reset => "RST",
        FailureCause::PrematureClose => "FIN, no header",
        FailureCause::Tls(_) => "TLS failure",
        FailureCause::TooBigHeader { .. } => "header too big",
        FailureCause::InvalidHeader { .. } => "invalid header",
        FailureCause::NotHttp => "not HTTP",
        FailureCause::Timeout { .. } => "timeout",
        FailureCause::InvalidChunked => "bad chunked body",
    }
}
