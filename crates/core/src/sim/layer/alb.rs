//! An AWS Application Load Balancer in front of the proxy (documented, not
//! verified). Sources: docs/research/layers-model.md §ALB, from the ALB
//! user guide (`load-balancer-troubleshooting.md`, `load-balancer-access-logs.md`,
//! `application-load-balancers.md`).
//!
//! - The target's own response, any status, is forwarded: `elb_status_code`
//!   = `target_status_code`.
//! - 502: the connect got a RST; the target closed or reset the connection
//!   with the request outstanding; a malformed response. Target status `-`.
//! - 504: no response before the idle timeout (default 60 s, 1–4000), or
//!   no connection within 10 s. Target status `-`.
//! - 503: the target group has no registered targets (`targets_registered`
//!   false, the ALB flavor's `proxy.alb.targets_registered`): at once, its
//!   own 162-byte page, target and target_status_code `-`.
//! - 460: the client closed the connection before the idle timeout.

use serde::{Deserialize, Serialize};

use super::{Answer, Firewall, LayerKind, LayerModel, RecordCtx, Seen};
use crate::sim::http::{Header, Response};
use crate::sim::rng::SimRng;
use crate::sim::scenario::ScenarioError;
use crate::sim::time::{Clock, SimTime};

/// "The load balancer failed to establish a connection to the target
/// before the connection timeout expired (10 seconds)."
pub const CONNECT_TIMEOUT_S: u64 = 10;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Alb {
    /// One-way latency between the load balancer and its target, µs.
    pub hop_latency_us: u64,
    /// The connection idle timeout, seconds (default 60, valid 1–4000).
    pub idle_timeout_s: u64,
    /// The load balancer's resource id as its access log names it.
    pub name: String,
    /// The load balancer node's address the target sees.
    pub ip: String,
    pub target_group_arn: String,
    /// Whether the proxy host is registered in the target group (false: an
    /// empty target group, e.g. a rollout that deregistered the nginx
    /// hosts; the ALB answers 503 itself). Same name and meaning as the ALB
    /// flavor's `proxy.alb.targets_registered`.
    #[serde(skip_serializing_if = "is_true")]
    pub targets_registered: bool,
}

fn is_true(b: &bool) -> bool {
    *b
}

impl Default for Alb {
    fn default() -> Self {
        Alb {
            hop_latency_us: 500,
            idle_timeout_s: 60,
            // The access-log page's example values.
            name: "app/my-loadbalancer/50dc6c495c0c9188".into(),
            ip: "10.0.1.23".into(),
            target_group_arn: "arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067".into(),
            targets_registered: true,
        }
    }
}

/// One ALB access log entry, field by field in the documented order (the
/// ones this engine knows; `-`/`-1` where the doc says so).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AlbLog {
    /// `type`: `http` (an HTTP listener).
    pub kind: &'static str,
    /// `time`: when the load balancer generated the response.
    pub time: SimTime,
    pub elb: String,
    /// `client:port`.
    pub client: String,
    /// `target:port`, None for `-`.
    pub target: Option<String>,
    /// Seconds, None for `-1`.
    pub request_processing_time: Option<f64>,
    pub target_processing_time: Option<f64>,
    pub response_processing_time: Option<f64>,
    /// None: nothing was sent to the client (it had gone).
    pub elb_status_code: Option<u16>,
    /// None for `-`.
    pub target_status_code: Option<u16>,
    pub received_bytes: u64,
    pub sent_bytes: u64,
    /// `"GET http://host:80/path HTTP/1.1"`.
    pub request: String,
    pub user_agent: String,
    pub target_group_arn: String,
    pub trace_id: String,
    /// `request_creation_time`.
    pub request_creation_time: SimTime,
}

/// The access log line for `r`, by the one ALB formatter
/// (`proxy::alb::log::format`); the fields this model does not know are
/// those of an HTTP listener's default action (`-`, rule priority 0,
/// `forward`).
pub fn line(r: &AlbLog, clock: &Clock) -> Option<String> {
    use crate::sim::proxy::alb::log::{format, AlbLogEntry, ListenerType};
    let unix_us = |t: SimTime| clock.unix(SimTime::ZERO).saturating_mul(1_000_000).saturating_add(t.as_micros() as i64);
    let us = |s: Option<f64>| s.map(|s| (s * 1_000_000.0).round() as u64);
    let e = AlbLogEntry {
        listener: ListenerType::Http,
        time_us: unix_us(r.time),
        elb: r.elb.clone(),
        client: r.client.clone(),
        target: r.target.clone(),
        request_processing_us: us(r.request_processing_time),
        target_processing_us: us(r.target_processing_time),
        response_processing_us: us(r.response_processing_time),
        elb_status_code: r.elb_status_code?,
        target_status_code: r.target_status_code,
        received_bytes: r.received_bytes,
        sent_bytes: r.sent_bytes,
        request: r.request.clone(),
        user_agent: r.user_agent.clone(),
        ssl_cipher: None,
        ssl_protocol: None,
        target_group_arn: r.target_group_arn.clone(),
        trace_id: r.trace_id.clone(),
        domain_name: None,
        chosen_cert_arn: None,
        matched_rule_priority: Some(0),
        request_creation_time_us: unix_us(r.request_creation_time),
        actions_executed: "forward".into(),
        redirect_url: None,
        error_reason: None,
        target_port_list: r.target.iter().cloned().collect(),
        target_status_code_list: r.target_status_code.into_iter().collect(),
        classification: None,
        classification_reason: None,
    };
    Some(format(&e))
}

impl Alb {
    pub(super) fn record(&self, c: &RecordCtx, rng: &mut SimRng) -> AlbLog {
        let port = rng.between(1_024, 65_535);
        let trace = format!("Root=1-{:08x}-{:012x}{:012x}", c.received_unix as u32, rng.between(0, 0xffff_ffff_ffff), rng.between(0, 0xffff_ffff_ffff));
        let secs = |us: u64| (us as f64 / 1_000_000.0 * 1_000.0).round() / 1_000.0;
        let waited = secs(c.answered.since(c.forwarded));
        // The processing times, after the access-log page's `-1` rules
        // (lines 89-91) and its 502 example (a target that closed: 0.001 4.205 -1).
        let (request_t, target_t, response_t) = match c.seen {
            Seen::Answer { .. } => (Some(0.0), Some(waited), Some(0.0)),
            Seen::Empty | Seen::NotHttp => (Some(0.0), Some(waited), None),
            Seen::ClientClosed => (Some(0.0), None, None),
            Seen::Refused | Seen::ConnectTimeout | Seen::Unreachable | Seen::NoTarget | Seen::ReadTimeout | Seen::TlsHandshakeFailed | Seen::InvalidCertificate => (None, None, None),
        };
        AlbLog {
            kind: "http",
            time: c.answered,
            elb: self.name.clone(),
            client: format!("{}:{port}", c.client),
            // No registered target: `-` (as the ALB flavor's 503 line).
            target: (c.seen != Seen::NoTarget).then(|| c.next.clone()),
            request_processing_time: request_t,
            target_processing_time: target_t,
            response_processing_time: response_t,
            elb_status_code: c.status,
            target_status_code: match c.seen {
                Seen::Answer { status, .. } => Some(status),
                _ => None,
            },
            received_bytes: c.request_bytes,
            sent_bytes: if c.seen == Seen::ClientClosed { 0 } else { c.response_bytes },
            request: format!("{} http://{}:80{} HTTP/1.1", c.method, if c.host.is_empty() { "localhost" } else { &c.host }, c.path),
            user_agent: c.user_agent.clone(),
            target_group_arn: self.target_group_arn.clone(),
            trace_id: trace,
            request_creation_time: c.received,
        }
    }
}

/// The load balancer's own error page (`Server: awselb/2.0`): the ALB
/// flavor's page and reason phrase (`proxy::alb::error_page`, `own_reason`:
/// 122 bytes for 502, 162 for 503).
pub fn page(status: u16) -> Response {
    use crate::sim::proxy::alb::{error_page, own_reason};
    let reason = if status == 460 { "" } else { own_reason(status) };
    let body = error_page(status, reason);
    Response {
        status,
        reason: reason.into(),
        headers: vec![
            Header::new("Server", "awselb/2.0"),
            Header::new("Content-Type", "text/html"),
            Header::new("Content-Length", body.len().to_string()),
            Header::new("Connection", "keep-alive"),
        ],
        body: body.into(),
    }
}

impl LayerModel for Alb {
    fn kind(&self) -> LayerKind {
        LayerKind::Alb
    }
    fn name(&self) -> &'static str {
        "AWS ALB"
    }
    fn hop_us(&self) -> u64 {
        self.hop_latency_us
    }
    fn read_timeout_us(&self) -> u64 {
        self.idle_timeout_s * 1_000_000
    }
    fn connect_timeout_us(&self) -> u64 {
        CONNECT_TIMEOUT_S * 1_000_000
    }
    fn firewall(&self) -> Firewall {
        Firewall::Open
    }
    fn ip(&self) -> &str {
        &self.ip
    }
    fn no_target(&self) -> bool {
        !self.targets_registered
    }
    fn diagnosis(&self) -> Option<(String, String, String)> {
        if self.targets_registered {
            return None;
        }
        Some((
            "the ALB's target group has no registered targets".into(),
            "The AWS ALB's target group has no registered targets (the nginx hosts were deregistered, e.g. by a rollout or an ingress change that replaced the target group): the load balancer has nowhere to send the request and answers 503 itself at once; its access log line has target and target_status_code \"-\", and nginx never sees the request.".into(),
            super::layer_fix(&super::Layer::Alb(self.clone())).map(|f| format!("{}: {}", f.title, f.detail)).unwrap_or_default(),
        ))
    }

    fn answer(&self, seen: Seen, _host: &str, _ray: &str) -> Answer {
        let own = |status: u16, why: String| Answer { status: Some(status), page: Some(page(status)), why };
        match seen {
            Seen::Refused => own(502, "The ALB's connection to its target got a TCP RST: it answers 502 itself, target_status_code \"-\" (documented: \"received a TCP RST from the target when attempting to establish a connection\").".into()),
            Seen::NoTarget => own(503, "The ALB's target group has no registered targets: it has nowhere to send the request and answers 503 \"Service Temporarily Unavailable\" itself, at once; target and target_status_code are \"-\" (documented: \"the target groups for the load balancer have no registered targets\").".into()),
            Seen::ConnectTimeout => own(504, format!("The ALB could not connect to its target within {CONNECT_TIMEOUT_S} s: it answers 504 (documented).")),
            Seen::ReadTimeout => own(
                504,
                format!(
                    "The target sent nothing within the ALB's idle timeout of {} s: the ALB answers 504, target_status_code \"-\", and closes its connection to the target (documented: \"the target did not respond before the idle timeout period elapsed\").",
                    self.idle_timeout_s
                ),
            ),
            // The engine's ALB has an HTTP target (no TLS towards it): not reached.
            // Nor is `Unreachable` (its targets are registered addresses).
            Seen::TlsHandshakeFailed | Seen::InvalidCertificate | Seen::Unreachable => own(502, "The ALB's TLS connection to its target failed: it answers 502 (documented: an SSL handshake error with the target).".into()),
            Seen::Empty | Seen::NotHttp => own(502, "The target closed or reset the connection with the request outstanding, or its response was malformed: the ALB answers 502, target_status_code \"-\" (documented).".into()),
            Seen::Answer { status, .. } => Answer {
                status: Some(status),
                page: None,
                why: format!("The ALB forwards its target's {status} (elb_status_code = target_status_code = {status}: \"forwards valid HTTP responses from targets to the client, including HTTP errors\")."),
            },
            Seen::ClientClosed => Answer {
                status: Some(460),
                page: None,
                why: "The ALB's client closed the connection before the idle timeout: the ALB logs 460 (documented).".into(),
            },
        }
    }

    fn validate(&self, field: &str) -> Result<(), ScenarioError> {
        let bad = |f: &str, m: String| Err(ScenarioError(format!("{field}.{f}: {m}")));
        if self.hop_latency_us > 10_000_000 {
            return bad("hop_latency_us", format!("must be at most 10 s, got {}", self.hop_latency_us));
        }
        if !(1..=4_000).contains(&self.idle_timeout_s) {
            return bad("idle_timeout_s", format!("must be between 1 and 4000 s (the ALB's valid range), got {}", self.idle_timeout_s));
        }
        if self.name.is_empty() || self.name.len() > 200 || self.name.bytes().any(|b| b <= b' ') {
            return bad("name", format!("must be 1 to 200 characters without spaces, got {:?}", self.name));
        }
        if self.ip.parse::<std::net::IpAddr>().is_err() {
            return bad("ip", format!("must be an IP address, got {:?}", self.ip));
        }
        if self.target_group_arn.len() > 400 || self.target_group_arn.bytes().any(|b| b <= b' ') {
            return bad("target_group_arn", "must be at most 400 characters without spaces".into());
        }
        Ok(())
    }
}
