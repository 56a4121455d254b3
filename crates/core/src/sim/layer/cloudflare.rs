//! Cloudflare in front of the origin (documented, not verified). Sources,
//! each mapping with its page: docs/research/layers-model.md §Cloudflare.
//!
//! - 520 "Web server is returning an unknown error": the origin's response
//!   is empty or not HTTP (error-520 page).
//! - 521 "Web server is down": the origin refuses the connection (error-521).
//! - 522 "Connection timed out": no SYN+ACK within 19 s (error-522; older
//!   connection-limits table: 15 s) — `connect_timeout_s`.
//! - 523 "Origin is unreachable": the zone's DNS record points at an
//!   address no route leads to (`origin_record` `stale`: the origin moved,
//!   the provider changed its IP) (error-523). Answered after one round
//!   trip to the origin's network (inferred: the page gives no timing).
//! - 524 "A timeout occurred": no response within the Proxy Read Timeout,
//!   100 s in the connection-limits table, 120 s on the newest 524 page —
//!   `proxy_read_timeout_s`, default 100.
//! - 525 "SSL handshake failed": `ssl_mode` Full or Full (strict) and the
//!   origin's handshake fails (`origin_tls` none, handshake_fails) (error-525).
//! - 526 "Invalid SSL certificate": Full (strict) and an expired or
//!   self-signed origin certificate; Full accepts them (error-526).
//! - 502/504 from the origin: Cloudflare's branded 502/504 page
//!   (error-502-504); every other status is relayed.

use serde::{Deserialize, Serialize};

use super::{Answer, Firewall, LayerKind, LayerModel, RecordCtx, Seen};
use crate::sim::http::{Header, Response};
use crate::sim::rng::SimRng;
use crate::sim::scenario::ScenarioError;
use crate::sim::time::{Clock, SimTime};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Cloudflare {
    /// One-way latency between the Cloudflare data centre and the next hop, µs.
    pub hop_latency_us: u64,
    /// Proxy Read Timeout, seconds (524). Default 100 (connection-limits
    /// table); the newest 524 page says 120. Enterprise: up to 6000.
    pub proxy_read_timeout_s: u64,
    /// How long Cloudflare waits for the origin's SYN+ACK, seconds (522).
    pub connect_timeout_s: u64,
    /// What the origin's firewall does to Cloudflare's connections.
    pub origin_firewall: Firewall,
    /// The zone's SSL/TLS encryption mode towards the origin (525/526).
    pub ssl_mode: SslMode,
    /// What the origin's TLS offers when Cloudflare connects with TLS
    /// (`ssl_mode` `full` or `strict`).
    pub origin_tls: OriginTls,
    /// Where the zone's proxied DNS record (A/AAAA) points: the proxy's
    /// address (the default), or a stale address no route leads to (523).
    #[serde(skip_serializing_if = "OriginRecord::is_proxy")]
    pub origin_record: OriginRecord,
    /// The data centre (IATA code) that takes the request: the Ray ID's suffix.
    pub colo: String,
    /// The address the next hop sees the request come from.
    pub edge_ip: String,
}

impl Default for Cloudflare {
    fn default() -> Self {
        Cloudflare {
            hop_latency_us: 10_000,
            proxy_read_timeout_s: 100,
            connect_timeout_s: 19,
            origin_firewall: Firewall::Open,
            ssl_mode: SslMode::Flexible,
            origin_tls: OriginTls::None,
            origin_record: OriginRecord::Proxy,
            colo: "FRA".into(),
            edge_ip: "172.70.242.13".into(),
        }
    }
}

/// Cloudflare's SSL/TLS encryption mode, by the dashboard's names
/// (Cloudflare's API: "Off", "Flexible", "Full", "Full (Strict)").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SslMode {
    /// No TLS anywhere: Cloudflare reaches the origin over HTTP.
    Off,
    /// TLS to the visitor, HTTP to the origin (the engine's proxy listens
    /// without TLS: this is how every scenario ran before the setting).
    #[default]
    Flexible,
    /// TLS to the origin, any certificate (self-signed, expired) accepted.
    Full,
    /// "Full (strict)": TLS to the origin with a valid certificate for the host.
    Strict,
}

/// Where the zone's proxied DNS record points (Cloudflare's DNS app, the
/// A or AAAA record's content).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OriginRecord {
    /// The proxy host's address: Cloudflare reaches the proxy.
    #[default]
    Proxy,
    /// An old or wrong address ([`STALE_ORIGIN_IP`]): the origin moved
    /// hosts or its provider changed its IP, and the record was not
    /// updated. No host answers there and no route leads to it: 523.
    Stale,
}

/// The address a stale record points at (TEST-NET-3, RFC 5737: an address
/// no host on the Internet answers for).
pub const STALE_ORIGIN_IP: &str = "203.0.113.80";

impl OriginRecord {
    pub const ALL: [OriginRecord; 2] = [OriginRecord::Proxy, OriginRecord::Stale];
    pub fn key(self) -> &'static str {
        match self {
            OriginRecord::Proxy => "proxy",
            OriginRecord::Stale => "stale",
        }
    }
    pub fn parse(s: &str) -> Option<OriginRecord> {
        OriginRecord::ALL.into_iter().find(|m| m.key() == s)
    }
    pub fn is_proxy(&self) -> bool {
        *self == OriginRecord::Proxy
    }
}

/// The origin's TLS as Cloudflare finds it when it connects with TLS.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OriginTls {
    /// The origin's port speaks no TLS (plain HTTP): the handshake fails.
    #[default]
    None,
    /// A certificate from a trusted CA, unexpired, for the request's host.
    Valid,
    /// A self-signed certificate.
    SelfSigned,
    /// An expired certificate.
    Expired,
    /// The handshake itself fails (no shared cipher or protocol, no
    /// certificate for the SNI name).
    HandshakeFails,
}

impl SslMode {
    pub const ALL: [SslMode; 4] = [SslMode::Off, SslMode::Flexible, SslMode::Full, SslMode::Strict];
    pub fn key(self) -> &'static str {
        match self {
            SslMode::Off => "off",
            SslMode::Flexible => "flexible",
            SslMode::Full => "full",
            SslMode::Strict => "strict",
        }
    }
    pub fn parse(s: &str) -> Option<SslMode> {
        SslMode::ALL.into_iter().find(|m| m.key() == s)
    }
}

impl OriginTls {
    pub const ALL: [OriginTls; 5] = [OriginTls::None, OriginTls::Valid, OriginTls::SelfSigned, OriginTls::Expired, OriginTls::HandshakeFails];
    pub fn key(self) -> &'static str {
        match self {
            OriginTls::None => "none",
            OriginTls::Valid => "valid",
            OriginTls::SelfSigned => "self_signed",
            OriginTls::Expired => "expired",
            OriginTls::HandshakeFails => "handshake_fails",
        }
    }
    pub fn parse(s: &str) -> Option<OriginTls> {
        OriginTls::ALL.into_iter().find(|m| m.key() == s)
    }
}

/// What Cloudflare's TLS connection to the origin ends in, for `mode` and
/// the origin's `tls`: None when the request goes on (no TLS to the
/// origin, or a certificate the mode accepts).
pub fn tls_failure(mode: SslMode, tls: OriginTls) -> Option<Seen> {
    match (mode, tls) {
        (SslMode::Off | SslMode::Flexible, _) => None,
        (_, OriginTls::None | OriginTls::HandshakeFails) => Some(Seen::TlsHandshakeFailed),
        (SslMode::Full, _) | (SslMode::Strict, OriginTls::Valid) => None,
        (SslMode::Strict, OriginTls::SelfSigned | OriginTls::Expired) => Some(Seen::InvalidCertificate),
    }
}

/// A Logpush `http_requests` record: the fields this engine knows, by
/// their Logpush names (https://developers.cloudflare.com/logs/reference/log-fields/zone/http_requests/).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CfLog {
    #[serde(rename = "RayID")]
    pub ray_id: String,
    #[serde(rename = "EdgeStartTimestamp")]
    pub edge_start: SimTime,
    #[serde(rename = "EdgeEndTimestamp")]
    pub edge_end: SimTime,
    #[serde(rename = "ClientIP")]
    pub client_ip: String,
    #[serde(rename = "ClientRequestHost")]
    pub host: String,
    #[serde(rename = "ClientRequestMethod")]
    pub method: String,
    #[serde(rename = "ClientRequestURI")]
    pub uri: String,
    #[serde(rename = "EdgeColoCode")]
    pub colo: String,
    /// "HTTP status code returned by Cloudflare to the client."
    #[serde(rename = "EdgeResponseStatus")]
    pub edge_status: u16,
    /// "Status returned by the upstream server. The value 0 means that
    /// there was no request made to the origin server": 0 here whenever
    /// the origin returned no status.
    #[serde(rename = "OriginResponseStatus")]
    pub origin_status: u16,
    #[serde(rename = "OriginResponseDurationMs")]
    pub origin_duration_ms: u64,
    #[serde(rename = "OriginIP")]
    pub origin_ip: String,
}

impl CfLog {
    /// The record as one Logpush JSON line (timestamps as RFC 3339, the
    /// job's `timestamp_format=rfc3339`).
    pub fn line(&self, clock: &Clock) -> String {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.insert("EdgeStartTimestamp".into(), clock.rfc3339_nano(self.edge_start).into());
            o.insert("EdgeEndTimestamp".into(), clock.rfc3339_nano(self.edge_end).into());
        }
        v.to_string()
    }
}

/// A Ray ID as the `cf-ray` header shows it: 16 hex digits, `-`, the data
/// centre (`230b030023ae2822-SJC`, Cloudflare's HTTP headers page).
pub fn ray_id(rng: &mut SimRng, colo: &str) -> String {
    format!("{:016x}-{colo}", rng.between(0, u64::MAX))
}

/// The page's words for a status Cloudflare answers itself (titles as real
/// pages show them: `<host> | 521: Web server is down`).
pub fn title(status: u16) -> &'static str {
    match status {
        520 => "Web server is returning an unknown error",
        521 => "Web server is down",
        522 => "Connection timed out",
        523 => "Origin is unreachable",
        524 => "A timeout occurred",
        525 => "SSL handshake failed",
        526 => "Invalid SSL certificate",
        502 => "Bad gateway",
        504 => "Gateway time-out",
        _ => "Error",
    }
}

/// Cloudflare's error page for `status` (abridged: the title, heading,
/// error code and Ray ID of the real page; not its full markup).
pub fn page(status: u16, host: &str, ray: &str) -> Response {
    let t = title(status);
    let ray_plain = ray.split('-').next().unwrap_or(ray);
    let body = format!(
        "<!DOCTYPE html>\n<html lang=\"en-US\">\n<head><title>{host} | {status}: {t}</title></head>\n<body>\n<h1><span>{t}</span> <span class=\"code-label\">Error code {status}</span></h1>\n<p>Cloudflare Ray ID: <strong>{ray_plain}</strong></p>\n</body>\n</html>\n"
    );
    Response {
        status,
        // 502/504 keep their standard reason; Cloudflare's own codes have
        // none in RFC 9110 (inferred: the page's words).
        reason: match status {
            502 | 504 => crate::sim::http::reason_phrase(status).into(),
            _ => t.into(),
        },
        headers: vec![
            Header::new("Server", "cloudflare"),
            Header::new("Content-Type", "text/html; charset=UTF-8"),
            Header::new("Content-Length", body.len().to_string()),
            Header::new("CF-RAY", ray.to_string()),
        ],
        body: body.into(),
    }
}

/// A relayed response gains Cloudflare's `Server` and `CF-RAY` headers.
pub fn stamp(r: &mut Response, ray: &str) {
    r.headers.retain(|h| !h.name.eq_ignore_ascii_case("Server") && !h.name.eq_ignore_ascii_case("CF-RAY"));
    r.headers.insert(0, Header::new("Server", "cloudflare"));
    r.headers.push(Header::new("CF-RAY", ray.to_string()));
}

impl Cloudflare {
    pub(super) fn record(&self, c: &RecordCtx) -> CfLog {
        let origin_status = match c.seen {
            Seen::Answer { status, .. } => status,
            _ => 0,
        };
        CfLog {
            ray_id: c.ray.split('-').next().unwrap_or("").to_string(),
            edge_start: c.received,
            edge_end: c.answered,
            client_ip: c.client.clone(),
            host: if c.host.is_empty() { "localhost".into() } else { c.host.clone() },
            method: c.method.clone(),
            uri: c.path.clone(),
            colo: self.colo.clone(),
            edge_status: c.status.unwrap_or(0),
            origin_status,
            origin_duration_ms: match c.seen {
                Seen::ClientClosed => 0,
                _ => c.answered.since(c.forwarded) / 1_000,
            },
            // No route to the record's address: no connection, no origin IP.
            origin_ip: match c.seen {
                Seen::Unreachable => String::new(),
                _ => c.next.rsplit_once(':').map(|(ip, _)| ip.to_string()).unwrap_or_default(),
            },
        }
    }
}

impl SslMode {
    /// The dashboard's words.
    pub fn label(self) -> &'static str {
        match self {
            SslMode::Off => "Off",
            SslMode::Flexible => "Flexible",
            SslMode::Full => "Full",
            SslMode::Strict => "Full (strict)",
        }
    }
}

impl LayerModel for Cloudflare {
    fn kind(&self) -> LayerKind {
        LayerKind::Cloudflare
    }
    fn name(&self) -> &'static str {
        "Cloudflare"
    }
    fn hop_us(&self) -> u64 {
        self.hop_latency_us
    }
    fn read_timeout_us(&self) -> u64 {
        self.proxy_read_timeout_s * 1_000_000
    }
    fn connect_timeout_us(&self) -> u64 {
        self.connect_timeout_s * 1_000_000
    }
    fn firewall(&self) -> Firewall {
        self.origin_firewall
    }
    fn tls_failure(&self) -> Option<Seen> {
        tls_failure(self.ssl_mode, self.origin_tls)
    }
    fn unreachable(&self) -> bool {
        self.origin_record == OriginRecord::Stale
    }
    fn diagnosis(&self) -> Option<(String, String, String)> {
        if self.origin_record == OriginRecord::Stale {
            return Some((
                "Cloudflare's DNS record points at an address with no route (stale origin IP)".into(),
                format!("The zone's proxied A/AAAA record in Cloudflare still points at {STALE_ORIGIN_IP}, an old or wrong address (the origin moved hosts, or its provider changed its IP): no route leads there, Cloudflare cannot contact the origin and answers 523 \"Origin is unreachable\". The proxy never sees the request."),
                super::layer_fix(&super::Layer::Cloudflare(self.clone())).map(|f| format!("{}: {}", f.title, f.detail)).unwrap_or_default(),
            ));
        }
        if let Some(d) = self.origin_firewall.diagnosis(self.name()) {
            return Some(d);
        }
        let mode = self.ssl_mode.label();
        match tls_failure(self.ssl_mode, self.origin_tls)? {
            Seen::InvalidCertificate => Some((
                format!("Cloudflare (Full (strict)) refuses the origin's {} certificate", if self.origin_tls == OriginTls::Expired { "expired" } else { "self-signed" }),
                "Cloudflare's SSL/TLS mode is Full (strict): it validates the origin's certificate (unexpired, signed by a trusted CA, for the host) and cannot: it answers 526. The proxy never sees the request.".into(),
                "Fix the origin's certificate: Install a valid certificate for the host on the origin (a Cloudflare Origin CA certificate is trusted by Cloudflare), or renew the expired one; setting SSL/TLS to Full (not strict) accepts it but no longer checks it.".into(),
            )),
            _ => Some((
                format!("Cloudflare ({mode}) cannot complete a TLS handshake with the origin"),
                format!("Cloudflare's SSL/TLS mode is {mode}: it connects to the origin with TLS, and the handshake fails (no TLS on the origin's port 443, no shared cipher suite or protocol, no certificate for the SNI name): it answers 525. The proxy's HTTP layer never sees the request."),
                "Serve TLS on the origin: Listen with TLS on port 443 with a certificate for the host and ciphers Cloudflare offers (e.g. nginx `listen 443 ssl;` with `ssl_certificate`), or set SSL/TLS to Flexible if the origin only speaks HTTP.".into(),
            )),
        }
    }
    fn ip(&self) -> &str {
        &self.edge_ip
    }

    fn answer(&self, seen: Seen, host: &str, ray: &str) -> Answer {
        let own = |status: u16, why: String| Answer { status: Some(status), page: Some(page(status, host, ray)), why };
        match seen {
            Seen::Refused => own(521, "Cloudflare's connection to the origin was refused (RST): it answers 521 \"Web server is down\" with its own page (documented: Cloudflare's error-521 page).".into()),
            // (`NoTarget` is an ALB's; Cloudflare's origin is its DNS record.)
            Seen::Unreachable | Seen::NoTarget => own(
                523,
                format!("Cloudflare's DNS record for the origin points at {STALE_ORIGIN_IP} and no route leads there: Cloudflare cannot contact the origin and answers 523 \"Origin is unreachable\" with its own page; the request never reaches the proxy (documented: Cloudflare's error-523 page, \"a network device between Cloudflare and the origin web server does not have a route to the origin's IP address\")."),
            ),
            Seen::ConnectTimeout => own(
                522,
                format!("The origin never answered Cloudflare's SYN within {} s: Cloudflare answers 522 \"Connection timed out\" (documented: error-522 page).", self.connect_timeout_s),
            ),
            Seen::ReadTimeout => own(
                524,
                format!(
                    "Cloudflare connected, but the origin sent no response within its Proxy Read Timeout of {} s: it answers 524 \"A timeout occurred\" and closes its connection to the origin (documented: error-524 page and connection limits).",
                    self.proxy_read_timeout_s
                ),
            ),
            Seen::TlsHandshakeFailed => own(
                525,
                format!(
                    "Cloudflare's SSL/TLS mode is {}: it connects to the origin with TLS, and the handshake fails ({}): it answers 525 \"SSL handshake failed\" with its own page; the request never reaches the proxy's HTTP layer (documented: Cloudflare's 5xx errors, 525).",
                    self.ssl_mode.label(),
                    match self.origin_tls {
                        OriginTls::None => "the origin's port speaks no TLS",
                        _ => "no shared cipher or protocol, or no certificate for the host's SNI name",
                    }
                ),
            ),
            Seen::InvalidCertificate => own(
                526,
                format!(
                    "Cloudflare's SSL/TLS mode is Full (strict): the origin's certificate is {}, which strict mode refuses (Full would accept it): it answers 526 \"Invalid SSL certificate\" with its own page (documented: Cloudflare's 5xx errors, 526).",
                    match self.origin_tls {
                        OriginTls::Expired => "expired",
                        _ => "self-signed",
                    }
                ),
            ),
            Seen::Empty | Seen::NotHttp => own(520, "The origin closed or reset the connection without a usable HTTP response: Cloudflare answers 520 (documented: error-520 page, \"empty, unknown, or unexpected response\").".into()),
            Seen::Answer { status: s @ (502 | 504), .. } => own(
                s,
                format!("The origin answered {s}: Cloudflare shows its own branded {s} page instead of the origin's (documented: error-502-504 page)."),
            ),
            Seen::Answer { status, .. } => Answer { status: Some(status), page: None, why: format!("Cloudflare relays the origin's {status}.") },
            // Not documented in the pages read: no status is claimed.
            Seen::ClientClosed => Answer { status: None, page: None, why: String::new() },
        }
    }

    fn validate(&self, field: &str) -> Result<(), ScenarioError> {
        let bad = |f: &str, m: String| Err(ScenarioError(format!("{field}.{f}: {m}")));
        if self.hop_latency_us > 10_000_000 {
            return bad("hop_latency_us", format!("must be at most 10 s, got {}", self.hop_latency_us));
        }
        if !(1..=6_000).contains(&self.proxy_read_timeout_s) {
            return bad("proxy_read_timeout_s", format!("must be between 1 and 6000 s (Enterprise's limit), got {}", self.proxy_read_timeout_s));
        }
        if !(1..=600).contains(&self.connect_timeout_s) {
            return bad("connect_timeout_s", format!("must be between 1 and 600 s, got {}", self.connect_timeout_s));
        }
        if self.colo.len() != 3 || !self.colo.bytes().all(|b| b.is_ascii_uppercase()) {
            return bad("colo", format!("must be a three-letter upper-case IATA code such as FRA, got {:?}", self.colo));
        }
        if self.edge_ip.parse::<std::net::IpAddr>().is_err() {
            return bad("edge_ip", format!("must be an IP address, got {:?}", self.edge_ip));
        }
        Ok(())
    }
}
