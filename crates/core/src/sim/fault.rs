//! The fault catalog. Everything a breakage does lives in this file: the
//! configuration mistake it stands for (`configure`), what a connection
//! attempt to the app does (`on_connect`), what the app puts on the wire
//! for a request (`on_request`), and how it is described. The proxy
//! flavours only react to what arrives on the wire; the app model only
//! carries out process-level consequences (a crashed process is down).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::http::{chunk, Header, Response, LAST_CHUNK};
use super::rng::SimRng;
use super::scenario::{Flavor, LimitReq, RequestSpec, Scenario, ScenarioError};
use super::time::SimTime;

/// One active breakage: its kind and knobs, plus when and how often it bites.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Fault {
    #[serde(flatten)]
    pub kind: FaultKind,
    /// The app it affects (by `apps[].name`); none = every app.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Chance that it bites a given request or connection (0..=1).
    pub probability: f64,
    /// Active from this virtual time (ms).
    pub from_ms: u64,
    /// Active until this virtual time (ms); none = to the end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until_ms: Option<u64>,
}

impl From<FaultKind> for Fault {
    fn from(kind: FaultKind) -> Self {
        Fault { kind, target: None, probability: 1.0, from_ms: 0, until_ms: None }
    }
}

/// Read as a JSON object, then split by `TryFrom<Map>`. The split runs inside
/// the object's own `deserialize_map`, so that serde_json positions its errors
/// at the object (the error path of `Scenario::from_json` comes from that
/// position: `faults[0]: unknown field ...`).
impl<'de> Deserialize<'de> for Fault {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct FaultVisitor;
        impl<'de> serde::de::Visitor<'de> for FaultVisitor {
            type Value = Fault;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, a: A) -> Result<Fault, A::Error> {
                let m = Map::deserialize(serde::de::value::MapAccessDeserializer::new(a))?;
                Fault::try_from(m).map_err(serde::de::Error::custom)
            }
        }
        d.deserialize_map(FaultVisitor)
    }
}

impl TryFrom<Map<String, Value>> for Fault {
    type Error = String;

    /// Splits the common knobs from the kind's own, so that unknown fields
    /// are still rejected (serde cannot combine `flatten` with
    /// `deny_unknown_fields`).
    fn try_from(mut m: Map<String, Value>) -> Result<Self, String> {
        let mut f = Fault::from(FaultKind::AppDown);
        if let Some(v) = m.remove("target") {
            f.target = match v {
                Value::Null => None,
                Value::String(s) => Some(s),
                other => return Err(format!("target: expected an app name, got {other}")),
            };
        }
        if let Some(v) = m.remove("probability") {
            f.probability = v.as_f64().ok_or_else(|| format!("probability: expected a number, got {v}"))?;
        }
        if let Some(v) = m.remove("from_ms") {
            f.from_ms = v.as_u64().ok_or_else(|| format!("from_ms: expected milliseconds, got {v}"))?;
        }
        if let Some(v) = m.remove("until_ms") {
            f.until_ms = match v {
                Value::Null => None,
                v => Some(v.as_u64().ok_or_else(|| format!("until_ms: expected milliseconds, got {v}"))?),
            };
        }
        f.kind = serde_json::from_value(Value::Object(m)).map_err(|e| e.to_string())?;
        Ok(f)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CertProblem {
    Expired,
    SelfSigned,
    HostnameMismatch,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DnsAnswer {
    /// NXDOMAIN (rcode 3).
    Nxdomain,
    /// SERVFAIL (rcode 2).
    Servfail,
    /// The resolver never answers.
    Timeout,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PoolMode {
    /// Requests wait for a connection that never comes (until the pool's timeout).
    Hang,
    /// The app answers 500 at once.
    Error,
}

/// The catalog. Serialized with a `type` tag: `{"type":"slow_app","delay_ms":90000}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum FaultKind {
    /// 1. The app process is not running: the kernel answers the SYN with RST.
    AppDown,
    /// 2. The proxy is configured with the wrong port.
    WrongPort {
        #[serde(default = "d_wrong_port")]
        port: u16,
    },
    /// 3. proxy_pass names a unix socket that does not exist.
    UnixSocketMissing {
        #[serde(default = "d_socket")]
        path: String,
    },
    /// 4. The socket exists but the nginx worker user may not open it.
    UnixSocketPermission {
        #[serde(default = "d_socket")]
        path: String,
    },
    /// 5. The app crashes while handling a request.
    CrashMidRequest,
    /// 6. The kernel's OOM killer kills the app mid-request.
    OomKill {
        #[serde(default = "d_oom_rss")]
        rss_mb: u64,
    },
    /// 7. The app takes `delay_ms` to answer.
    SlowApp {
        #[serde(default = "d_slow")]
        delay_ms: u64,
    },
    /// 8. SYNs to the app are silently dropped (firewall DROP, unroutable).
    ConnectBlackHole,
    /// 9. The app runs with a small worker pool and backlog.
    Overload {
        #[serde(default = "d_workers")]
        workers: u32,
        #[serde(default = "d_backlog")]
        backlog: u32,
        #[serde(default = "d_service")]
        service_ms: u64,
        #[serde(default)]
        shed_queue_above: u32,
    },
    /// 10. Maintenance mode: 503 with Retry-After.
    Maintenance {
        #[serde(default = "d_retry_after")]
        retry_after_s: u64,
    },
    /// 11. A response header line nginx cannot parse.
    InvalidHeader {
        #[serde(default = "d_bad_header")]
        line: String,
    },
    /// 12. The app answers something that is not HTTP.
    NotHttp {
        #[serde(default = "d_not_http")]
        payload: String,
    },
    /// 13. A response header larger than proxy_buffer_size.
    OversizedHeader {
        #[serde(default = "d_big_header")]
        header_bytes: u64,
    },
    /// 14. The app dies after sending the status line and headers.
    DiesAfterHeaders {
        #[serde(default = "d_content_length")]
        content_length: u64,
        #[serde(default = "d_sent_bytes")]
        sent_bytes: u64,
        /// `Transfer-Encoding: chunked` instead of `Content-Length`: one
        /// chunk of `sent_bytes` bytes, then the process dies before the
        /// last chunk (`0\r\n\r\n`).
        #[serde(default)]
        chunked: bool,
    },
    /// 15. The app closes idle keep-alive connections sooner than nginx stops reusing them.
    KeepaliveMismatch {
        #[serde(default = "d_app_keepalive")]
        app_keepalive_timeout_ms: u64,
    },
    /// 16. A deploy restarts the app: down for `down_ms` from `from_ms`.
    RollingDeploy {
        #[serde(default = "d_down")]
        down_ms: u64,
    },
    /// 17. The upstream's host name does not resolve.
    DnsFailure {
        #[serde(default = "d_host")]
        host: String,
        #[serde(default = "d_dns_answer")]
        answer: DnsAnswer,
    },
    /// 18a. The upstream's TLS certificate fails verification.
    TlsCertInvalid {
        #[serde(default = "d_cert")]
        problem: CertProblem,
    },
    /// 18b. The TLS handshake itself fails (the app speaks plain HTTP).
    TlsHandshakeFailure,
    /// 19. The app's database pool is exhausted.
    DbPoolExhausted {
        #[serde(default = "d_pool_mode")]
        mode: PoolMode,
        #[serde(default = "d_pool_timeout")]
        pool_timeout_ms: u64,
    },
    /// 20. nginx `limit_req` rejects requests above the rate.
    RateLimited {
        #[serde(default = "d_rate")]
        rate_per_s: f64,
        #[serde(default)]
        burst: u32,
        #[serde(default)]
        nodelay: bool,
    },
    /// 22. The app speaks TLS on its port; the proxy speaks plain HTTP to it.
    PlainHttpToTls,
    /// 23. A 200 with `Transfer-Encoding: chunked` whose body is not chunked.
    InvalidChunked,
    /// 24. SELinux refuses the proxy's connect() to the app's TCP port (EACCES).
    SelinuxConnectDenied,
    /// 25. The app's TLS server requires SNI for `name`: a ClientHello
    /// without it gets alert 40, one for another name alert 112.
    SniRequired {
        #[serde(default = "d_sni_name")]
        name: String,
    },
}

fn d_sni_name() -> String { "app".into() }

fn d_wrong_port() -> u16 { 3001 }
fn d_socket() -> String { "/run/app/app.sock".into() }
fn d_oom_rss() -> u64 { 1024 }
fn d_slow() -> u64 { 90_000 }
fn d_workers() -> u32 { 4 }
fn d_backlog() -> u32 { 16 }
fn d_service() -> u64 { 200 }
fn d_retry_after() -> u64 { 120 }
fn d_bad_header() -> String { "Bad Header: x".into() }
fn d_not_http() -> String { "hello\r\n\r\n".into() }
fn d_big_header() -> u64 { 6_000 }
fn d_content_length() -> u64 { 1_000 }
fn d_sent_bytes() -> u64 { 200 }
fn d_app_keepalive() -> u64 { 5_000 }
fn d_down() -> u64 { 3_000 }
fn d_host() -> String { "app.internal".into() }
fn d_dns_answer() -> DnsAnswer { DnsAnswer::Nxdomain }
fn d_cert() -> CertProblem { CertProblem::Expired }
fn d_pool_mode() -> PoolMode { PoolMode::Hang }
fn d_pool_timeout() -> u64 { 120_000 }
fn d_rate() -> f64 { 1.0 }

/// What happens when the proxy's SYN reaches the app's host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectOutcome {
    Accepted,
    /// RST: ECONNREFUSED (111).
    Refused,
    /// No such unix socket: ENOENT (2).
    NoSuchFile,
    /// EACCES (13).
    PermissionDenied,
    /// Silently dropped: no answer at all.
    Dropped,
}

/// What a fault does to the app's service (the unit systemd runs), as
/// `systemctl`, `ss` and `docker` on the host see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServiceFault {
    /// Stopped (`systemctl stop`, or never started) from `since` (the
    /// fault's window): no process, nothing listens.
    Stopped { since: SimTime },
    /// Restarted by a deploy at `since`: the new process runs but does not
    /// listen yet.
    Starting { since: SimTime },
}

/// What the app puts on the wire for one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Wire {
    /// A well-formed HTTP response, possibly with extra header bytes, a bad
    /// header line, or a body cut short.
    Http {
        response: Response,
        /// A raw header line nginx will find invalid.
        bad_header_line: Option<String>,
        /// Body bytes actually sent before the connection closes (payload
        /// bytes: a chunked body's framing is not counted; see
        /// [`Wire::body_on_wire`]).
        truncate_body_at: Option<u64>,
    },
    /// Bytes that are not an HTTP response.
    Garbage(String),
    /// The process exits: the connection closes with no reply.
    Crash,
    /// The kernel kills the process (OOM).
    OomKill { rss_mb: u64 },
    /// Never answers.
    Hang,
    /// A response header that announces `Transfer-Encoding: chunked`, then
    /// `raw` bytes that are not valid chunked framing.
    BadChunked { response: Response, raw: String },
}

impl Wire {
    /// The bytes the app writes after its header block, framed the way its
    /// headers say: the body as is (`Content-Length`), or, with
    /// `Transfer-Encoding: chunked`, the bytes it sends as one chunk
    /// followed by the last chunk (`0\r\n\r\n`) only if the body is
    /// complete. None for replies that are not HTTP.
    pub fn body_on_wire(&self) -> Option<String> {
        if let Wire::BadChunked { raw, .. } = self {
            return Some(raw.clone());
        }
        let Wire::Http { response, truncate_body_at, .. } = self else { return None };
        let sent = match truncate_body_at {
            Some(n) => &response.body[..(*n as usize).min(response.body.len())],
            None => &response.body[..],
        };
        if !response.is_chunked() {
            return Some(sent.to_string());
        }
        let mut out = if sent.is_empty() { String::new() } else { chunk(sent) };
        if truncate_body_at.is_none() {
            out.push_str(LAST_CHUNK);
        }
        Some(out)
    }
}

/// The app's reply to one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppReply {
    /// Time the app spends before writing, microseconds.
    pub after_us: u64,
    pub wire: Wire,
    /// Extra text for the app's log line.
    pub note: Option<&'static str>,
}

impl AppReply {
    pub fn status(&self) -> Option<u16> {
        match &self.wire {
            Wire::Http { response, .. } | Wire::BadChunked { response, .. } => Some(response.status),
            _ => None,
        }
    }
}

/// Points the upstream servers (or a direct proxy_pass) at a unix socket.
fn point_at_socket(sc: &mut Scenario, path: &str) {
    for s in &mut sc.upstream.servers {
        s.address = format!("unix:{path}");
    }
    if let Ok(super::net::ProxyPass { scheme, host: super::net::Target::Addr(_) }) = super::net::ProxyPass::parse(&sc.proxy.proxy_pass) {
        sc.proxy.proxy_pass = format!("{}://unix:{path}", scheme.as_str());
    }
}

pub(crate) fn text_response<const N: usize>(status: u16, reason: &'static str, body: impl Into<super::http::Text>, extra: [Header; N]) -> Response {
    let body = body.into();
    let mut headers = Vec::with_capacity(2 + N);
    headers.push(Header::new("Content-Type", "text/plain; charset=utf-8"));
    headers.push(Header::new("Content-Length", body.len().to_string()));
    headers.extend(extra);
    Response { status, reason: reason.into(), headers, body }
}

impl FaultKind {
    /// Every fault with its default knobs, in catalog order.
    pub fn catalog() -> Vec<FaultKind> {
        vec![
            FaultKind::AppDown,
            FaultKind::WrongPort { port: d_wrong_port() },
            FaultKind::UnixSocketMissing { path: d_socket() },
            FaultKind::UnixSocketPermission { path: d_socket() },
            FaultKind::CrashMidRequest,
            FaultKind::OomKill { rss_mb: d_oom_rss() },
            FaultKind::SlowApp { delay_ms: d_slow() },
            FaultKind::ConnectBlackHole,
            FaultKind::Overload { workers: d_workers(), backlog: d_backlog(), service_ms: d_service(), shed_queue_above: 0 },
            FaultKind::Maintenance { retry_after_s: d_retry_after() },
            FaultKind::InvalidHeader { line: d_bad_header() },
            FaultKind::NotHttp { payload: d_not_http() },
            FaultKind::OversizedHeader { header_bytes: d_big_header() },
            FaultKind::DiesAfterHeaders { content_length: d_content_length(), sent_bytes: d_sent_bytes(), chunked: false },
            FaultKind::KeepaliveMismatch { app_keepalive_timeout_ms: d_app_keepalive() },
            FaultKind::RollingDeploy { down_ms: d_down() },
            FaultKind::DnsFailure { host: d_host(), answer: d_dns_answer() },
            FaultKind::TlsCertInvalid { problem: d_cert() },
            FaultKind::TlsHandshakeFailure,
            FaultKind::DbPoolExhausted { mode: d_pool_mode(), pool_timeout_ms: d_pool_timeout() },
            FaultKind::RateLimited { rate_per_s: d_rate(), burst: 0, nodelay: false },
            FaultKind::PlainHttpToTls,
            FaultKind::InvalidChunked,
            FaultKind::SelinuxConnectDenied,
            FaultKind::SniRequired { name: d_sni_name() },
        ]
    }

    /// Stable identifier (the serde `type` tag).
    pub fn id(&self) -> &'static str {
        match self {
            FaultKind::AppDown => "app_down",
            FaultKind::WrongPort { .. } => "wrong_port",
            FaultKind::UnixSocketMissing { .. } => "unix_socket_missing",
            FaultKind::UnixSocketPermission { .. } => "unix_socket_permission",
            FaultKind::CrashMidRequest => "crash_mid_request",
            FaultKind::OomKill { .. } => "oom_kill",
            FaultKind::SlowApp { .. } => "slow_app",
            FaultKind::ConnectBlackHole => "connect_black_hole",
            FaultKind::Overload { .. } => "overload",
            FaultKind::Maintenance { .. } => "maintenance",
            FaultKind::InvalidHeader { .. } => "invalid_header",
            FaultKind::NotHttp { .. } => "not_http",
            FaultKind::OversizedHeader { .. } => "oversized_header",
            FaultKind::DiesAfterHeaders { .. } => "dies_after_headers",
            FaultKind::KeepaliveMismatch { .. } => "keepalive_mismatch",
            FaultKind::RollingDeploy { .. } => "rolling_deploy",
            FaultKind::DnsFailure { .. } => "dns_failure",
            FaultKind::TlsCertInvalid { .. } => "tls_cert_invalid",
            FaultKind::TlsHandshakeFailure => "tls_handshake_failure",
            FaultKind::DbPoolExhausted { .. } => "db_pool_exhausted",
            FaultKind::RateLimited { .. } => "rate_limited",
            FaultKind::PlainHttpToTls => "plain_http_to_tls",
            FaultKind::InvalidChunked => "invalid_chunked",
            FaultKind::SelinuxConnectDenied => "selinux_connect_denied",
            FaultKind::SniRequired { .. } => "sni_required",
        }
    }

    pub fn from_id(id: &str) -> Option<FaultKind> {
        Self::catalog().into_iter().find(|f| f.id() == id)
    }

    pub fn title(&self) -> &'static str {
        match self {
            FaultKind::AppDown => "App process not running",
            FaultKind::WrongPort { .. } => "Proxy points at the wrong port",
            FaultKind::UnixSocketMissing { .. } => "Unix socket does not exist",
            FaultKind::UnixSocketPermission { .. } => "Unix socket not accessible",
            FaultKind::CrashMidRequest => "App crashes mid-request",
            FaultKind::OomKill { .. } => "App OOM-killed",
            FaultKind::SlowApp { .. } => "App slower than proxy_read_timeout",
            FaultKind::ConnectBlackHole => "Connect black hole",
            FaultKind::Overload { .. } => "Overloaded app",
            FaultKind::Maintenance { .. } => "App in maintenance mode",
            FaultKind::InvalidHeader { .. } => "Invalid response header",
            FaultKind::NotHttp { .. } => "Response is not HTTP",
            FaultKind::OversizedHeader { .. } => "Header larger than proxy_buffer_size",
            FaultKind::DiesAfterHeaders { .. } => "App dies after the headers",
            FaultKind::KeepaliveMismatch { .. } => "Keep-alive timeout mismatch",
            FaultKind::RollingDeploy { .. } => "Rolling deploy / restart",
            FaultKind::DnsFailure { .. } => "Upstream name does not resolve",
            FaultKind::TlsCertInvalid { .. } => "Upstream TLS certificate rejected",
            FaultKind::TlsHandshakeFailure => "Upstream TLS handshake fails",
            FaultKind::DbPoolExhausted { .. } => "Database pool exhausted",
            FaultKind::RateLimited { .. } => "Rate limited by limit_req",
            FaultKind::PlainHttpToTls => "Plain HTTP to a TLS port",
            FaultKind::InvalidChunked => "Malformed chunked body",
            FaultKind::SelinuxConnectDenied => "Connect denied by SELinux",
            FaultKind::SniRequired { .. } => "Upstream requires SNI",
        }
    }

    /// The title in the chosen proxy's words (`title` names nginx's directives).
    pub fn title_in(&self, flavor: Flavor) -> &'static str {
        match (self, flavor) {
            (FaultKind::SlowApp { .. }, Flavor::Haproxy) => "App slower than timeout server",
            (FaultKind::OversizedHeader { .. }, Flavor::Haproxy) => "Header larger than HAProxy's buffer",
            (FaultKind::RateLimited { .. }, Flavor::Haproxy) => "Rate limited by http-request deny",
            // Not proxy_buffer_size's: Apache's 8 KB header lines and Go's 1 MB let the 6000-byte header pass.
            (FaultKind::OversizedHeader { .. }, Flavor::Apache | Flavor::Caddy) => "Large response header",
            (FaultKind::SlowApp { .. }, Flavor::Apache) => "App slower than ProxyTimeout",
            (FaultKind::SlowApp { .. }, Flavor::Caddy) => "App slower than usual",
            (FaultKind::SlowApp { .. }, Flavor::Varnish) => "App slower than .first_byte_timeout",
            (FaultKind::SlowApp { .. }, Flavor::Envoy) => "App slower than the route timeout",
            (FaultKind::SlowApp { .. }, Flavor::Alb) => "App slower than the idle timeout",
            _ => self.title(),
        }
    }

    /// The cause in the chosen proxy's words (`cause` tells nginx's story).
    pub fn cause_in(&self, flavor: Flavor) -> &'static str {
        if flavor == Flavor::Nginx {
            return self.cause();
        }
        if flavor == Flavor::Varnish {
            return match self {
                FaultKind::WrongPort { .. } => "The app moved to another port (or the VCL has a typo); Varnish connects to a port where nothing listens.",
                FaultKind::SlowApp { .. } => "A slow query keeps the app busy longer than Varnish waits for the first byte of the response (.first_byte_timeout).",
                FaultKind::KeepaliveMismatch { .. } => "The app closes idle connections (Node.js: 5 s) while Varnish keeps them for reuse; a request sent just as the app closes one is retried once on a new connection.",
                FaultKind::DnsFailure { .. } => "The backend's .host does not resolve (typo, record deleted); Varnish resolves it when the VCL is compiled, so the VCL does not load.",
                _ => self.cause(),
            };
        }
        if flavor == Flavor::Envoy {
            return match self {
                FaultKind::WrongPort { .. } => "The app moved to another port (or the cluster's endpoint has a typo); Envoy connects to a port where nothing listens.",
                FaultKind::SlowApp { .. } => "A slow query keeps the app busy longer than the route's timeout (15 s unless set).",
                FaultKind::ConnectBlackHole => "A firewall drops packets to the upstream (or its address is unroutable); SYNs get no answer until the cluster's connect_timeout (5 s).",
                FaultKind::KeepaliveMismatch { .. } => "The app closes idle connections (Node.js: 5 s) while Envoy keeps upstream connections for up to its idle_timeout (1 h): a request written as the app closes one is reset (UC).",
                FaultKind::InvalidHeader { .. } => "A bug writes a malformed header line; Envoy's HTTP/1 codec rejects the response (a protocol error).",
                _ => self.cause(),
            };
        }
        if flavor == Flavor::Alb {
            return match self {
                FaultKind::WrongPort { .. } => "The target group names a port where nothing listens on the target: the target answers the SYN with RST.",
                FaultKind::SlowApp { .. } => "A slow query keeps the app busy longer than the load balancer's idle timeout (60 s).",
                FaultKind::ConnectBlackHole => "A security group or NACL drops the load balancer's packets to the target; the connection is not established within 10 s.",
                FaultKind::KeepaliveMismatch { .. } => "The target's keep-alive (Node.js keepAliveTimeout: 5 s) is shorter than the load balancer's idle timeout (60 s): it closes connections the load balancer still reuses.",
                FaultKind::InvalidHeader { .. } => "A bug writes a malformed header line: \"the target response is malformed or contains HTTP headers that are not valid\".",
                FaultKind::AppDown => "The service crashed or was never started; the target answers the load balancer's SYN with RST.",
                _ => self.cause(),
            };
        }
        if flavor == Flavor::Caddy {
            return match self {
                FaultKind::WrongPort { .. } => "The app moved to another port (or the Caddyfile has a typo); Caddy dials a port where nothing listens.",
                FaultKind::UnixSocketMissing { .. } => "reverse_proxy names a socket file the app never created (wrong path, app not started, tmpfs wiped).",
                FaultKind::UnixSocketPermission { .. } => "The app created its socket as its own user with mode 0600; Caddy's user (caddy) may not open it.",
                FaultKind::SlowApp { .. } => "A slow query keeps the app busy; Caddy has no response_header_timeout by default, so it waits as long as the app takes.",
                FaultKind::KeepaliveMismatch { .. } => "The app closes idle connections (Node.js: 5 s) while Caddy keeps them for reuse; Go's transport re-sends a GET that meets a closed one.",
                FaultKind::DnsFailure { .. } => "The upstream's DNS name does not resolve (typo, record deleted); Caddy looks it up when it dials.",
                FaultKind::SelinuxConnectDenied => "SELinux is enforcing and httpd_can_network_connect is off: Caddy (httpd_t with Fedora's package) may not connect to the app's port, so the kernel refuses its connect() with EACCES.",
                FaultKind::OversizedHeader { .. } => "Huge cookies or a giant header (JWTs, tracing baggage); Go's HTTP client accepts response headers up to 1 MB.",
                FaultKind::PlainHttpToTls => "The app serves HTTPS on its port (it terminates TLS itself), but reverse_proxy dials it without TLS: Caddy writes a plain HTTP request into a TLS listener.",
                _ => self.cause(),
            };
        }
        if flavor == Flavor::Apache {
            return match self {
                FaultKind::WrongPort { .. } => "The app moved to another port (or the config has a typo); Apache connects to a port where nothing listens.",
                FaultKind::UnixSocketMissing { .. } => "ProxyPass names a socket file the app never created (wrong path, app not started, tmpfs wiped).",
                FaultKind::UnixSocketPermission { .. } => "The app created its socket as its own user with mode 0600; Apache's worker (www-data) may not open it.",
                FaultKind::SlowApp { .. } => "A slow query keeps the app busy longer than Apache waits for the response (ProxyTimeout).",
                FaultKind::KeepaliveMismatch { .. } => "The app closes idle connections (Node.js: 5 s) while Apache keeps them pooled for reuse; a request sent just as the app closes one is lost.",
                FaultKind::DnsFailure { .. } => "The backend's DNS name does not resolve (typo, record deleted); Apache looks it up when a request needs it.",
                FaultKind::SelinuxConnectDenied => "SELinux is enforcing and the boolean httpd_can_network_connect is off: Apache (httpd_t) may not connect to the app's port, so the kernel refuses its connect() with EACCES.",
                FaultKind::OversizedHeader { .. } => "Huge cookies or a giant header (JWTs, tracing baggage); Apache's mod_proxy_http reads response header lines of up to 8 KB by default (ProxyIOBufferSize), so a 6000-byte header passes.",
                FaultKind::PlainHttpToTls => "The app serves HTTPS on its port (it terminates TLS itself), but ProxyPass says http://: Apache writes a plain HTTP request into a TLS listener.",
                _ => self.cause(),
            };
        }
        match self {
            FaultKind::WrongPort { .. } => "The app moved to another port (or the config has a typo); HAProxy connects to a port where nothing listens.",
            FaultKind::UnixSocketMissing { .. } => "The server line names a socket file the app never created (wrong path, app not started, tmpfs wiped).",
            FaultKind::UnixSocketPermission { .. } => "The app created its socket as its own user with mode 0600; HAProxy's user (haproxy) may not open it.",
            FaultKind::SlowApp { .. } => "A slow query keeps the app busy longer than HAProxy waits for the response headers (timeout server).",
            FaultKind::OversizedHeader { .. } => "Huge cookies or a giant header (JWTs, tracing baggage) exceed the proxy's header buffer; HAProxy's (tune.bufsize 16384 minus tune.maxrewrite 1024) holds more than 6000 bytes.",
            FaultKind::KeepaliveMismatch { .. } => "The app closes idle connections (Node.js: 5 s) sooner than the proxy stops reusing them; HAProxy's default http-reuse safe keeps each new client's first request off idle server connections.",
            FaultKind::DnsFailure { .. } => "The server's DNS name does not resolve (typo, record deleted, DNS server down); HAProxy resolves it at start-up and refuses to start.",
            FaultKind::TlsCertInvalid { .. } => "The server's TLS certificate is expired, self-signed or for another name. HAProxy checks it only with ssl verify required; with verify none it is accepted silently.",
            FaultKind::TlsHandshakeFailure => "The server line says ssl but the app speaks plain HTTP on that port.",
            FaultKind::RateLimited { .. } => "An http-request deny rule on a stick table caps each client's request rate; requests above it are denied.",
            FaultKind::PlainHttpToTls => "The app serves HTTPS on its port (it terminates TLS itself), but the server line has no ssl: HAProxy writes a plain HTTP request into a TLS listener.",
            FaultKind::SniRequired { .. } => "The app's TLS server (or the load balancer in front of it) serves several names and needs the name in the ClientHello (SNI); the server line has no sni, so HAProxy sends none.",
            FaultKind::SelinuxConnectDenied => "SELinux is enforcing and the boolean haproxy_connect_any is off: HAProxy (haproxy_t) may connect only to ports labelled for it, so the kernel refuses its connect() to the app's port with EACCES.",
            _ => self.cause(),
        }
    }

    /// The real-world cause, in one line.
    pub fn cause(&self) -> &'static str {
        match self {
            FaultKind::AppDown => "The service crashed or was never started; nothing listens on its port.",
            FaultKind::WrongPort { .. } => "The app moved to another port (or the config has a typo); nginx connects to a port where nothing listens.",
            FaultKind::UnixSocketMissing { .. } => "proxy_pass names a socket file the app never created (wrong path, app not started, tmpfs wiped).",
            FaultKind::UnixSocketPermission { .. } => "The app created its socket as its own user with mode 0600; nginx's worker (www-data) may not open it.",
            FaultKind::CrashMidRequest => "An unhandled exception kills the process while it handles the request.",
            FaultKind::OomKill { .. } => "The app's memory grows past its limit and the kernel's OOM killer sends SIGKILL.",
            FaultKind::SlowApp { .. } => "A slow query keeps the app busy longer than nginx waits for the response header.",
            FaultKind::ConnectBlackHole => "A firewall drops packets to the upstream (or its address is unroutable); SYNs get no answer.",
            FaultKind::Overload { .. } => "More requests arrive than the app's workers can serve; queues fill, latency climbs, connections wait.",
            FaultKind::Maintenance { .. } => "The app was put in maintenance mode and refuses work with 503 and Retry-After.",
            FaultKind::InvalidHeader { .. } => "A bug writes a malformed header line (a space in the name, a stray byte).",
            FaultKind::NotHttp { .. } => "Something other than an HTTP server answers on the port (a debug listener, another protocol).",
            FaultKind::OversizedHeader { .. } => "Huge cookies or a giant header (JWTs, tracing baggage) exceed nginx's header buffer.",
            FaultKind::DiesAfterHeaders { .. } => "The app starts streaming a 200 and crashes half-way through the body.",
            FaultKind::KeepaliveMismatch { .. } => "The app closes idle connections (Node.js: 5 s) while nginx still holds them in its keepalive pool.",
            FaultKind::RollingDeploy { .. } => "A deploy stops the old process before the new one listens.",
            FaultKind::DnsFailure { .. } => "The upstream's DNS name does not resolve (typo, record deleted, resolver down).",
            FaultKind::TlsCertInvalid { .. } => "The app's TLS certificate is expired, self-signed or for another name. nginx checks it only with proxy_ssl_verify on; off (the default), it is accepted silently.",
            FaultKind::TlsHandshakeFailure => "proxy_pass says https but the app speaks plain HTTP on that port.",
            FaultKind::DbPoolExhausted { .. } => "All database connections are in use; requests wait for one (or fail fast with 500).",
            FaultKind::RateLimited { .. } => "A limit_req zone caps each client's request rate; bursts above it are rejected.",
            FaultKind::PlainHttpToTls => "The app serves HTTPS on its port (it terminates TLS itself), but proxy_pass says http://: nginx writes a plain HTTP request into a TLS listener.",
            FaultKind::InvalidChunked => "The app (or a middleware) sets Transfer-Encoding: chunked by hand but writes the body unframed, so its first line is read as a chunk size.",
            FaultKind::SniRequired { .. } => "The app's TLS server (or the load balancer in front of it) serves several names and needs the name in the ClientHello (SNI); nginx sends none unless proxy_ssl_server_name is on.",
            FaultKind::SelinuxConnectDenied => "SELinux is enforcing and the boolean httpd_can_network_connect is off: nginx (httpd_t) may connect only to ports labelled for HTTP, so the kernel refuses its connect() to the app's port with EACCES.",
        }
    }

    /// Whether `probability` is used (per connection or per request).
    pub fn honours_probability(&self) -> bool {
        matches!(
            self,
            FaultKind::AppDown
                | FaultKind::ConnectBlackHole
                | FaultKind::CrashMidRequest
                | FaultKind::OomKill { .. }
                | FaultKind::SlowApp { .. }
                | FaultKind::Maintenance { .. }
                | FaultKind::InvalidHeader { .. }
                | FaultKind::NotHttp { .. }
                | FaultKind::OversizedHeader { .. }
                | FaultKind::DiesAfterHeaders { .. }
                | FaultKind::DbPoolExhausted { .. }
                | FaultKind::InvalidChunked
        )
    }

    /// Whether `from_ms`/`until_ms` are used. Configuration faults apply
    /// for the whole run; `rolling_deploy` uses `from_ms` + `down_ms`.
    pub fn honours_window(&self) -> bool {
        self.honours_probability() || matches!(self, FaultKind::TlsCertInvalid { .. })
    }

    /// What the app box shows while this fault is active.
    pub fn app_state(&self) -> &'static str {
        match self {
            FaultKind::AppDown | FaultKind::OomKill { .. } | FaultKind::CrashMidRequest => "down",
            FaultKind::RollingDeploy { .. } => "restarting",
            FaultKind::SlowApp { .. } | FaultKind::DbPoolExhausted { .. } => "slow",
            FaultKind::Overload { .. } => "overloaded",
            FaultKind::Maintenance { .. } => "maintenance",
            FaultKind::ConnectBlackHole | FaultKind::SelinuxConnectDenied => "unreachable",
            _ => "misbehaving",
        }
    }
}

/// The most requests a pattern sends (`session::MAX_SEND`).
pub const PATTERN_MAX_REQUESTS: u64 = 1_000;

/// `proxy_buffer_size` (in KiB) that holds a header block of `header_bytes`.
fn nginx_buffer_k(header_bytes: u64) -> u64 {
    ((header_bytes + 1024).div_ceil(4096) * 4).next_power_of_two()
}

/// `tune.bufsize` that holds a header block of `header_bytes` (HTX adds a
/// little per header) with `tune.maxrewrite` (1024) reserved.
fn haproxy_bufsize_for(header_bytes: u64) -> u64 {
    (header_bytes + 2 * 1024).next_power_of_two().clamp(16_384, 1 << 20)
}

/// Traffic that shows a fault one request does not (`Fault::pattern`):
/// what the button says, what it does and why, and the requests.
#[derive(Clone, Debug, PartialEq)]
pub struct Pattern {
    /// The button's words: "Send 1000 at 100/s".
    pub label: String,
    /// One or two sentences: the traffic and why the fault needs it.
    pub description: String,
    pub traffic: Traffic,
}

/// The requests of a [`Pattern`].
#[derive(Clone, Debug, PartialEq)]
pub enum Traffic {
    /// `count` GETs `gap_ms` apart.
    Burst { count: u64, gap_ms: u64 },
    /// `first`, on a connection the app keeps alive for `idle_ms`; once it
    /// is answered, `then`, timed to reach the proxy as the app's idle timer
    /// closes that connection (so its FIN crosses the request on the wire).
    IdleRace { first: RequestSpec, then: RequestSpec, idle_ms: u64 },
}

/// The pattern of the first fault of `sc` that has one, for its proxy.
pub fn pattern_for(sc: &Scenario) -> Option<Pattern> {
    sc.faults.iter().find_map(|f| f.pattern(sc.proxy.flavor))
}

/// The fix the playground offers for a fault: what it says and what it does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fix {
    /// Imperative, one line: "Start the app".
    pub title: &'static str,
    /// What changes, in the scenario's own terms.
    pub detail: String,
}

/// The layers of `sc` whose own timeout would cut a slow app of `delay_ms` short, with the
/// timeout (seconds) the fix raises each to: above the delay with 30 s to spare, as the proxies'
/// fixes, within what the service allows. `Fault::fix_in` says it, `Fault::apply_fix` does it.
fn layer_raises(sc: &Scenario, delay_ms: u64) -> Vec<(usize, u64)> {
    let s = (delay_ms + 30_000).div_ceil(1_000);
    sc.layers
        .iter()
        .enumerate()
        .filter_map(|(i, l)| match l {
            super::layer::Layer::Cloudflare(c) if c.proxy_read_timeout_s * 1_000 <= delay_ms => Some((i, s.min(CLOUDFLARE_MAX_READ_TIMEOUT_S))),
            super::layer::Layer::Alb(a) if a.idle_timeout_s * 1_000 <= delay_ms => Some((i, s.min(ALB_MAX_IDLE_TIMEOUT_S))),
            _ => None,
        })
        .collect()
}

/// Cloudflare's Proxy Read Timeout can be raised to 6000 s (Enterprise; docs/research/layers-model.md).
const CLOUDFLARE_MAX_READ_TIMEOUT_S: u64 = 6_000;
/// An ALB's idle timeout: 1 to 4000 s.
const ALB_MAX_IDLE_TIMEOUT_S: u64 = 4_000;

impl Fault {
    /// The fix for this fault, as the docs of the chosen proxy would tell an
    /// operator: the proxy's own directive where the fix is one (nginx's
    /// `proxy_read_timeout`, HAProxy's `timeout server`), the same
    /// proxy-neutral step otherwise (start the app, fix the socket path).
    /// Plain text: no Markdown.
    pub fn fix(&self, flavor: Flavor) -> Fix {
        let f = |title: &'static str, detail: &str| Fix { title, detail: detail.to_string() };
        let haproxy = flavor == Flavor::Haproxy;
        let apache = flavor == Flavor::Apache;
        let caddy = flavor == Flavor::Caddy;
        let varnish = flavor == Flavor::Varnish;
        let envoy = flavor == Flavor::Envoy;
        let alb = flavor == Flavor::Alb;
        let time = super::proxy::nginx::conf::time;
        match &self.kind {
            FaultKind::WrongPort { .. } if envoy => f("Fix the port", "Point the cluster's endpoint (port_value) back at the port the app listens on."),
            FaultKind::SlowApp { delay_ms } if envoy => Fix {
                title: "Raise the route timeout",
                detail: format!("timeout: {} on the route (above the app's {delay_ms} ms); the real fix is a faster query.", super::proxy::envoy::conf::duration(delay_ms + 30_000)),
            },
            FaultKind::ConnectBlackHole if envoy => f("Open the firewall", "The upstream's port is reachable again."),
            FaultKind::KeepaliveMismatch { app_keepalive_timeout_ms } if envoy => Fix {
                title: "Expire idle upstream connections first",
                detail: format!("common_http_protocol_options: {{ idle_timeout: {} }} on the cluster (below the app's {app_keepalive_timeout_ms} ms), so Envoy closes idle connections before the app does; retry_policy {{ retry_on: reset }} also hides the race.", super::proxy::envoy::conf::duration(app_keepalive_timeout_ms.saturating_sub(1_000).max(1_000))),
            },
            FaultKind::RollingDeploy { .. } if envoy => f("Add a second instance", "A second endpoint (the app on :3001) in cluster app and retry_policy { retry_on: connect-failure }: Envoy retries a refused connection on the other host."),
            FaultKind::WrongPort { .. } if alb => f("Fix the port", "Register the target with the port the app listens on."),
            FaultKind::SlowApp { delay_ms } if alb => Fix {
                title: "Raise the idle timeout",
                detail: format!("idle_timeout.timeout_seconds = {} (above the app's {delay_ms} ms); the real fix is a faster query.", (delay_ms + 30_000).div_ceil(1_000).min(4_000)),
            },
            FaultKind::ConnectBlackHole if alb => f("Open the security group", "The target's security group and NACL let the load balancer in (and the ephemeral ports back)."),
            FaultKind::KeepaliveMismatch { .. } if alb => f("Keep the target's keep-alive above the idle timeout", "server.keepAliveTimeout = 65000; server.headersTimeout = 66000; in the Node app: longer than the load balancer's 60 s idle timeout, so the load balancer closes idle connections first."),
            FaultKind::RollingDeploy { .. } if alb => f("Deregister before stopping", "A second target (the app on :3001) and a deploy that deregisters the old one first (deregistration delay), so no request is sent to a stopped target."),
            FaultKind::WrongPort { .. } if varnish => f("Fix the port", "Point the backend's .port back at the port the app listens on."),
            FaultKind::SlowApp { delay_ms } if varnish => Fix {
                title: "Raise .first_byte_timeout",
                detail: format!(".first_byte_timeout = {}; in the backend (above the app's {delay_ms} ms); the real fix is a faster query.", time(delay_ms + 30_000)),
            },
            FaultKind::KeepaliveMismatch { .. } if varnish => f("Align keep-alive timeouts", "Keep the app's idle timeout above Varnish's backend_idle_timeout (60 s), so Varnish closes idle connections first."),
            FaultKind::DnsFailure { .. } if varnish => f("Fix the DNS name", "The backend's .host resolves again, and the VCL compiles."),
            FaultKind::RollingDeploy { .. } if varnish => f("Add a second instance", "A second backend in a director (import directors; round_robin) with a health probe: Varnish then skips the instance that is down (not modelled here)."),
            FaultKind::WrongPort { .. } if caddy => f("Fix the port", "Point reverse_proxy back at the port the app listens on."),
            FaultKind::UnixSocketMissing { .. } if caddy => f("Use the socket the app creates", "Point reverse_proxy (unix//path) back at the app's real socket."),
            FaultKind::UnixSocketPermission { .. } if caddy => f("Let Caddy open the socket", "chmod 660 the socket and chgrp it to Caddy's group (caddy)."),
            FaultKind::SlowApp { .. } if caddy => f("Make the query faster", "Caddy waits as long as the app takes (no response_header_timeout by default): the fix is in the app."),
            FaultKind::KeepaliveMismatch { .. } if caddy => f("Align keep-alive timeouts", "Keep the app's idle timeout longer than the transport's keepalive (transport http { keepalive 4s }): Caddy then closes idle connections first."),
            FaultKind::DnsFailure { .. } if caddy => f("Fix the DNS name", "The upstream's name in reverse_proxy resolves again."),
            FaultKind::RollingDeploy { .. } if caddy => f("Add a second instance", "A second upstream (the app on :3001) and lb_try_duration 5s: Caddy dials the other one when one refuses."),
            FaultKind::NotHttp { .. } if caddy => f("Point at the HTTP port", "An HTTP server answers on the upstream address."),
            FaultKind::OversizedHeader { .. } if caddy || apache => f("Keep headers small", "Nothing to change in the proxy for this size; keep cookies and headers small for the clients' sake."),
            FaultKind::SelinuxConnectDenied if caddy => f("Let Caddy connect", "setsebool -P httpd_can_network_connect 1 (or label the app's port: semanage port -a -t http_port_t -p tcp 3000); leave SELinux enforcing."),
            FaultKind::NotHttp { .. } if apache => f("Point at the HTTP port", "An HTTP server answers on the backend's address."),
            FaultKind::WrongPort { .. } if apache => f("Fix the port", "Point ProxyPass back at the port the app listens on."),
            FaultKind::UnixSocketMissing { .. } if apache => f("Use the socket the app creates", "Point ProxyPass (unix:/path|http://localhost/) back at the app's real socket."),
            FaultKind::UnixSocketPermission { .. } if apache => f("Let Apache open the socket", "chmod 660 the socket and chgrp it to Apache's group (www-data)."),
            FaultKind::SlowApp { delay_ms } if apache => Fix {
                title: "Raise ProxyTimeout",
                detail: format!("ProxyTimeout {} (seconds, above the app's {delay_ms} ms); the real fix is a faster query.", apache_timeout_s(*delay_ms)),
            },
            FaultKind::KeepaliveMismatch { app_keepalive_timeout_ms } if apache => Fix {
                title: "Expire pooled connections first",
                detail: format!("ttl={} on the backend (ProxyPass … ttl=N, in seconds): Apache closes a pooled connection idle that long before the app's {app_keepalive_timeout_ms} ms idle timeout can.", apache_ttl_s(*app_keepalive_timeout_ms)),
            },
            FaultKind::DnsFailure { .. } if apache => f("Fix the DNS name", "The backend's name in ProxyPass resolves again."),
            FaultKind::RollingDeploy { .. } if apache => f("Add a second instance", "A second BalancerMember (the app on :3001) in balancer://app: a member that refuses connections is put in error state and the request goes to the other one."),
            FaultKind::SelinuxConnectDenied if apache => f("Let Apache connect", "setsebool -P httpd_can_network_connect 1 (or label the app's port: semanage port -a -t http_port_t -p tcp 3000); leave SELinux enforcing."),
            FaultKind::AppDown => f("Start the app", "systemctl start app: the process listens on its port again."),
            FaultKind::WrongPort { .. } if haproxy => f("Fix the port", "Point the server line of backend be_app back at the port the app listens on."),
            FaultKind::WrongPort { .. } => f("Fix the port", "Point the upstream server back at the port the app listens on."),
            FaultKind::UnixSocketMissing { .. } if haproxy => f("Use the socket the app creates", "Point the server line of backend be_app back at the app's real address."),
            FaultKind::UnixSocketMissing { .. } => f("Use the socket the app creates", "Point proxy_pass back at the app's real address."),
            FaultKind::UnixSocketPermission { .. } if haproxy => f("Let HAProxy open the socket", "chmod 660 the socket and chgrp it to HAProxy's group (haproxy)."),
            FaultKind::UnixSocketPermission { .. } => f("Let nginx open the socket", "chmod 660 the socket and chgrp it to nginx's group (www-data)."),
            FaultKind::CrashMidRequest => f("Deploy the bug fix", "The handler no longer throws."),
            FaultKind::OomKill { .. } => f("Fix the leak / raise the limit", "The process stays under its memory limit."),
            FaultKind::SlowApp { delay_ms } if haproxy => Fix {
                title: "Raise timeout server",
                detail: format!("timeout server {} (above the app's {delay_ms} ms); the real fix is a faster query.", time(delay_ms + 30_000)),
            },
            FaultKind::SlowApp { delay_ms } => Fix {
                title: "Raise proxy_read_timeout",
                detail: format!("proxy_read_timeout {} (above the app's {delay_ms} ms); the real fix is a faster query.", time(delay_ms + 30_000)),
            },
            FaultKind::ConnectBlackHole if haproxy => f("Open the firewall", "The server's port is reachable again."),
            FaultKind::ConnectBlackHole => f("Open the firewall", "The upstream's port is reachable again."),
            FaultKind::Overload { .. } => f("Add capacity", "Back to the app's normal workers and backlog."),
            FaultKind::Maintenance { .. } => f("End maintenance", "The app serves requests again."),
            FaultKind::InvalidHeader { .. } => f("Fix the header", "The app sends well-formed header lines."),
            FaultKind::NotHttp { .. } if haproxy => f("Point at the HTTP port", "An HTTP server answers on the server's address."),
            FaultKind::NotHttp { .. } => f("Point at the HTTP port", "An HTTP server answers on the upstream address."),
            FaultKind::OversizedHeader { header_bytes } if haproxy => {
                let size = haproxy_bufsize_for(*header_bytes);
                Fix { title: "Raise tune.bufsize", detail: format!("tune.bufsize {size} in the global section: the response headers must fit in tune.bufsize minus tune.maxrewrite (1024).") }
            }
            FaultKind::OversizedHeader { header_bytes } => {
                let k = nginx_buffer_k(*header_bytes);
                Fix { title: "Raise proxy_buffer_size", detail: format!("proxy_buffer_size {k}k; proxy_buffers 8 {k}k (both: {k}k alone fails nginx -t).") }
            }
            FaultKind::DiesAfterHeaders { .. } => f("Fix the crash", "The app finishes writing its body."),
            FaultKind::KeepaliveMismatch { app_keepalive_timeout_ms } if haproxy => Fix {
                title: "Align keep-alive timeouts",
                detail: format!("Keep the app's idle timeout ({app_keepalive_timeout_ms} ms) longer than the proxy keeps idle server connections; HAProxy's default http-reuse safe already sends each new client's first request on a server connection of its own."),
            },
            FaultKind::KeepaliveMismatch { app_keepalive_timeout_ms } => Fix {
                title: "Align keep-alive timeouts",
                detail: format!("upstream keepalive_timeout {} (below the app's {} ms), so nginx drops idle connections before the app does.", time(app_keepalive_timeout_ms.saturating_sub(1_000).max(1_000)), app_keepalive_timeout_ms),
            },
            FaultKind::RollingDeploy { .. } if haproxy => f("Add a second instance", "A second server (the app on :3001) in backend be_app, with option redispatch: HAProxy retries a refused connection on the other server."),
            FaultKind::RollingDeploy { .. } => f("Add a second instance", "A second app on :3001 in the upstream block: nginx passes refused requests to it (proxy_next_upstream error)."),
            FaultKind::DnsFailure { .. } if haproxy => f("Fix the DNS name", "The server's name resolves again, and HAProxy starts."),
            FaultKind::DnsFailure { .. } => f("Fix the DNS name", "The upstream name resolves again."),
            FaultKind::TlsCertInvalid { .. } => f("Renew the certificate", "The app presents a valid certificate."),
            FaultKind::TlsHandshakeFailure if haproxy => f("Drop ssl from the server line", "The server line of backend be_app without ssl: HAProxy speaks plain HTTP, as the app does."),
            FaultKind::TlsHandshakeFailure => f("Use http://", "proxy_pass speaks the protocol the app speaks."),
            FaultKind::DbPoolExhausted { .. } => f("Raise the pool size", "Requests get a database connection at once."),
            FaultKind::RateLimited { .. } if haproxy => f("Fit the limit to real traffic", "http-request deny if { sc_http_req_rate(0) gt 120 }: legitimate bursts pass; floods above 100 r/s are still denied."),
            FaultKind::RateLimited { .. } => f("Fit the limit to real traffic", "limit_req rate=100r/s burst=20 nodelay: legitimate bursts pass; floods above 100 r/s are still rejected."),
            FaultKind::PlainHttpToTls if haproxy => f("Add ssl to the server line", "server app 127.0.0.1:3000 ssl verify none: HAProxy speaks TLS, as the app does (verify required with a ca-file also checks its certificate)."),
            FaultKind::PlainHttpToTls => f("Use https://", "proxy_pass https://app: nginx speaks TLS, as the app does (proxy_ssl_verify on with a trusted CA also checks its certificate)."),
            FaultKind::InvalidChunked => f("Let the framework frame the body", "Drop the hand-written Transfer-Encoding header (or send Content-Length): the app's server then chunks the body itself."),
            FaultKind::SniRequired { name } if haproxy => Fix { title: "Send SNI", detail: format!("sni str({name}) on the server line: HAProxy names the server it wants in the ClientHello.") },
            FaultKind::SniRequired { name } => Fix { title: "Send SNI", detail: format!("proxy_ssl_server_name on; (and proxy_ssl_name {name}; when proxy_pass names an IP address or another name): nginx names the server it wants in the ClientHello.") },
            FaultKind::SelinuxConnectDenied if haproxy => f("Let HAProxy connect", "setsebool -P haproxy_connect_any 1 (or label the app's port for HAProxy with semanage port -a); leave SELinux enforcing."),
            FaultKind::SelinuxConnectDenied => f("Let nginx connect", "setsebool -P httpd_can_network_connect 1 (or label the app's port: semanage port -a -t http_port_t -p tcp 3000); leave SELinux enforcing."),
        }
    }

    /// The traffic that shows this fault when one request does not: its
    /// effect needs load or a reused connection. None when one Send shows
    /// it (or, for `flavor`, nothing does; see `tests/patterns.rs`).
    pub fn pattern(&self, flavor: Flavor) -> Option<Pattern> {
        match &self.kind {
            FaultKind::KeepaliveMismatch { app_keepalive_timeout_ms } => {
                // HAProxy's default `http-reuse safe` never sends a client's
                // first request over an idle server connection (and the
                // engine's HAProxy closes each server connection after its
                // response): the race cannot happen.
                if flavor == Flavor::Haproxy {
                    return None;
                }
                let idle = *app_keepalive_timeout_ms;
                let s = super::proxy::nginx::conf::time(idle);
                Some(Pattern {
                    label: format!("Send GET, then POST {s} later"),
                    description: format!(
                        "Two requests on one kept-alive connection: a GET, then a POST sent just as the app's idle timeout ({idle} ms) closes the connection the GET left open. {}"
                        , match flavor {
                            Flavor::Apache => "Apache writes the POST into the closing pooled connection and does not retry it (Apache 2.4 retries no request whose connection broke).",
                            Flavor::Envoy => "Envoy writes the POST into the closing pooled connection: 503 UC (no retry_policy, no retry).",
                            Flavor::Alb => "The load balancer writes the POST into the closing connection to the target: 502, target_status_code -.",
                            _ => "nginx writes the POST into the closing connection and, since a POST is not idempotent, does not retry it.",
                        }
                    ),
                    traffic: Traffic::IdleRace {
                        first: RequestSpec::default(),
                        then: RequestSpec { method: "POST".into(), path: "/orders".into(), body_bytes: 64, ..RequestSpec::default() },
                        idle_ms: idle,
                    },
                })
            }
            FaultKind::Overload { workers, backlog, service_ms, .. } => {
                // Five times what the workers can serve, for as long as a
                // send may last: the queue grows by four fifths of the rate.
                let workers = (*workers).max(1) as u64;
                let gap_ms = (service_ms / (5 * workers)).max(1);
                let count = PATTERN_MAX_REQUESTS;
                let rate = 1_000 / gap_ms;
                let capacity = workers as f64 * 1_000.0 / (*service_ms).max(1) as f64;
                Some(Pattern {
                    label: format!("Send {count} at {rate}/s"),
                    description: format!(
                        "A burst of {count} requests at {rate}/s, about {:.0}× what {workers} workers at {service_ms} ms each can serve ({capacity:.0}/s): the queue grows, the listen backlog ({backlog}) fills and connections wait until a timeout of the proxy ends them.",
                        rate as f64 / capacity
                    ),
                    traffic: Traffic::Burst { count, gap_ms },
                })
            }
            FaultKind::RateLimited { rate_per_s, burst, .. } => {
                // Ten times the allowed rate, more requests than the
                // bucket (nginx) or the one-second window (HAProxy) admits.
                let gap_ms = ((1_000.0 / (rate_per_s * 10.0)) as u64).max(1);
                let count = (rate_per_s.floor() as u64 + *burst as u64 + 2).clamp(3, PATTERN_MAX_REQUESTS);
                let rate = 1_000 / gap_ms;
                Some(Pattern {
                    label: format!("Send {count} at {rate}/s"),
                    description: format!(
                        "{count} requests {gap_ms} ms apart, faster than the limit of {rate_per_s} r/s with a burst of {burst}: the requests above it are rejected before they reach the app."
                    ),
                    traffic: Traffic::Burst { count, gap_ms },
                })
            }
            _ => None,
        }
    }

    /// [`Fault::fix`] for the whole path of `sc`: with layers in front of the proxy (Cloudflare,
    /// an ALB) whose own timeout would still cut the slow app short, the fix raises theirs too
    /// ([`Fault::apply_fix`]) and says so: raising only the proxy's would leave the 524 or the
    /// ALB's 504 in place.
    pub fn fix_in(&self, sc: &Scenario) -> Fix {
        let mut fix = self.fix(sc.proxy.flavor);
        let FaultKind::SlowApp { delay_ms } = self.kind else { return fix };
        if sc.proxy.flavor == Flavor::Caddy {
            return fix; // its fix is a faster app: no timeout is raised
        }
        let raised: Vec<String> = layer_raises(sc, delay_ms)
            .into_iter()
            .map(|(i, to)| match &sc.layers[i] {
                super::layer::Layer::Cloudflare(c) => format!(
                    "Cloudflare's Proxy Read Timeout to {to} s (past 100 s only on an Enterprise plan: on the others the origin must answer within {} s)",
                    c.proxy_read_timeout_s
                ),
                super::layer::Layer::Alb(_) => format!("the ALB's idle timeout to {to} s"),
            })
            .collect();
        if !raised.is_empty() {
            fix.detail.push_str(&format!(" In front of the proxy, raise {} too.", raised.join(" and ")));
        }
        fix
    }

    /// The fix the page offers for `sc`: the first fault's ([`Fault::fix_in`]), or, with no
    /// fault, a layer setting that keeps every request from the proxy (`layer::fix`: a stale
    /// Cloudflare DNS record, an ALB without registered targets).
    pub fn fix_for(sc: &Scenario) -> Option<Fix> {
        match sc.faults.first() {
            Some(f) => Some(f.fix_in(sc)),
            None => super::layer::fix(&sc.layers),
        }
    }

    /// Applies [`Fault::fix_for`]: the first fault's fix ([`Fault::apply_fix`]), or the
    /// layers'. False when there is nothing to fix.
    pub fn apply_fix_for(sc: &mut Scenario) -> bool {
        if sc.faults.is_empty() {
            return super::layer::apply_fix(&mut sc.layers);
        }
        Fault::apply_fix(sc, 0);
        true
    }

    /// Applies [`Fault::fix`] to the user's scenario, where `index` is this
    /// fault's position in `sc.faults`. Either the fault goes away or the
    /// configuration changes so that it no longer hurts.
    pub fn apply_fix(sc: &mut Scenario, index: usize) {
        let Some(fault) = sc.faults.get(index).cloned() else { return };
        match fault.kind {
            // Caddy waits without a limit: the fix is a faster app.
            FaultKind::SlowApp { .. } if sc.proxy.flavor == Flavor::Caddy => {
                sc.faults.remove(index);
            }
            FaultKind::SlowApp { delay_ms } => {
                sc.proxy.varnish.first_byte_timeout_ms = delay_ms + 30_000;
                sc.proxy.proxy_read_timeout_ms = delay_ms + 30_000;
                sc.proxy.haproxy.timeout_server_ms = delay_ms + 30_000;
                sc.proxy.apache.proxy_timeout_ms = apache_timeout_s(delay_ms) * 1_000;
                if sc.proxy.flavor == Flavor::Envoy {
                    sc.proxy.envoy.route_timeout_ms = delay_ms + 30_000;
                }
                if sc.proxy.flavor == Flavor::Alb {
                    sc.proxy.alb.idle_timeout_s = (delay_ms + 30_000).div_ceil(1_000).min(4_000);
                }
                // The layers in front wait as long (`fix_in` says so).
                for (i, to) in layer_raises(sc, delay_ms) {
                    match &mut sc.layers[i] {
                        super::layer::Layer::Cloudflare(c) => c.proxy_read_timeout_s = to,
                        super::layer::Layer::Alb(a) => a.idle_timeout_s = to,
                    }
                }
            }
            FaultKind::OversizedHeader { header_bytes } if sc.proxy.flavor == Flavor::Haproxy => {
                sc.proxy.haproxy.bufsize = sc.proxy.haproxy.bufsize.max(haproxy_bufsize_for(header_bytes));
            }
            FaultKind::OversizedHeader { header_bytes } => {
                let k = nginx_buffer_k(header_bytes);
                sc.proxy.proxy_buffer_size = k * 1024;
                sc.proxy.proxy_buffers_size = k * 1024;
            }
            FaultKind::KeepaliveMismatch { app_keepalive_timeout_ms } if sc.proxy.flavor == Flavor::Envoy => {
                sc.proxy.envoy.idle_timeout_ms = app_keepalive_timeout_ms.saturating_sub(1_000).max(1_000);
            }
            FaultKind::KeepaliveMismatch { .. } if sc.proxy.flavor == Flavor::Alb => {
                // The fault stands for the app's short keep-alive: the fix is in the app.
                sc.faults.remove(index);
                for a in &mut sc.apps {
                    a.keepalive_timeout_ms = 65_000;
                    a.headers_timeout_ms = 66_000;
                }
            }
            FaultKind::KeepaliveMismatch { app_keepalive_timeout_ms } if sc.proxy.flavor == Flavor::Apache => {
                sc.proxy.apache.ttl_s = apache_ttl_s(app_keepalive_timeout_ms);
            }
            FaultKind::KeepaliveMismatch { app_keepalive_timeout_ms } => {
                sc.upstream.keepalive_timeout_ms = app_keepalive_timeout_ms.saturating_sub(1_000).max(1_000);
            }
            FaultKind::RollingDeploy { .. } => {
                let first = sc.apps.first().cloned().unwrap_or_default();
                if let Ok(super::net::Address::Tcp { host, port }) = super::net::Address::parse(&first.listen) {
                    let listen = format!("{host}:{}", port + 1);
                    if !sc.apps.iter().any(|a| a.listen == listen) {
                        sc.apps.push(super::scenario::App { name: format!("{}-b", first.name), listen: listen.clone(), pid: first.pid + 1, ..first.clone() });
                        sc.upstream.servers.push(super::scenario::UpstreamServer { address: listen, ..Default::default() });
                    }
                }
                sc.faults[index].target = Some(first.name);
                if sc.proxy.flavor == Flavor::Haproxy {
                    sc.proxy.haproxy.redispatch = true;
                }
            }
            FaultKind::RateLimited { rate_per_s, .. } => {
                sc.faults[index].kind = FaultKind::RateLimited { rate_per_s: rate_per_s.max(100.0), burst: 20, nodelay: true };
            }
            FaultKind::SniRequired { name } => {
                // The app keeps requiring SNI; the proxy learns to send it.
                sc.proxy.proxy_ssl_server_name = true;
                if super::proxy::nginx::ssl_name::sni(sc).as_deref() != Some(name.as_str()) {
                    sc.proxy.proxy_ssl_name = name;
                }
            }
            FaultKind::PlainHttpToTls => {
                // The app keeps its TLS listener; the proxy learns to speak TLS.
                sc.proxy.proxy_pass = sc.proxy.proxy_pass.replacen("http://", "https://", 1);
            }
            _ => {
                sc.faults.remove(index);
            }
        }
    }

    pub fn validate(&self, field: &str, sc: &Scenario) -> Result<(), ScenarioError> {
        let bad = |f: &str, m: String| Err(ScenarioError(format!("{field}.{f}: {m}")));
        if !(0.0..=1.0).contains(&self.probability) {
            return bad("probability", format!("must be between 0 and 1, got {}", self.probability));
        }
        if let Some(u) = self.until_ms {
            if u < self.from_ms {
                return bad("until_ms", format!("must not be before from_ms ({} < {})", u, self.from_ms));
            }
        }
        if let Some(t) = &self.target {
            if !sc.apps.iter().any(|a| &a.name == t) {
                return bad("target", format!("no app named {t:?}"));
            }
        }
        if !self.kind.honours_probability() && self.probability != 1.0 {
            return bad("probability", format!("{} does not use probability (it applies to every request); remove it", self.kind.id()));
        }
        if !self.kind.honours_window() && (self.from_ms != 0 || self.until_ms.is_some()) {
            let what = if matches!(self.kind, FaultKind::RollingDeploy { .. }) { "until_ms (the window is from_ms + down_ms)" } else { "from_ms/until_ms (a configuration fault applies for the whole run)" };
            if !(matches!(self.kind, FaultKind::RollingDeploy { .. }) && self.until_ms.is_none()) {
                return bad(if matches!(self.kind, FaultKind::RollingDeploy { .. }) { "until_ms" } else { "from_ms" }, format!("{} does not use {what}; remove it", self.kind.id()));
            }
        }
        const DAY: u64 = 24 * 3_600_000;
        match &self.kind {
            FaultKind::SlowApp { delay_ms } if *delay_ms > DAY => bad("delay_ms", "must be at most one day".into()),
            FaultKind::Overload { workers, .. } if *workers == 0 || *workers > 100_000 => bad("workers", format!("must be between 1 and 100000, got {workers}")),
            FaultKind::Overload { backlog, .. } if *backlog > 1_000_000 => bad("backlog", format!("must be at most 1000000, got {backlog}")),
            FaultKind::Overload { service_ms, .. } if *service_ms > DAY => bad("service_ms", "must be at most one day".into()),
            FaultKind::WrongPort { port: 0 } => bad("port", "must not be 0".into()),
            FaultKind::UnixSocketMissing { path } | FaultKind::UnixSocketPermission { path }
                if super::net::Address::parse(&format!("unix:{path}")).is_err() =>
            {
                bad("path", format!("must be an absolute path of at most 107 bytes, got {path:?}"))
            }
            FaultKind::InvalidHeader { line } if line.len() > 8192 || line.contains('\n') => {
                bad("line", "must be one line of at most 8192 bytes".into())
            }
            FaultKind::NotHttp { payload } if payload.len() > 65_536 => bad("payload", "must be at most 64 KiB".into()),
            FaultKind::OversizedHeader { header_bytes } if *header_bytes > 1 << 20 => {
                bad("header_bytes", "must be at most 1 MiB".into())
            }
            FaultKind::DiesAfterHeaders { content_length, .. } if *content_length > 1 << 20 => {
                bad("content_length", format!("must be at most 1048576, got {content_length}"))
            }
            FaultKind::DiesAfterHeaders { content_length, sent_bytes, .. } if sent_bytes >= content_length => {
                bad("sent_bytes", format!("must be below content_length ({sent_bytes} >= {content_length})"))
            }
            FaultKind::KeepaliveMismatch { app_keepalive_timeout_ms } if *app_keepalive_timeout_ms == 0 || *app_keepalive_timeout_ms > DAY => {
                bad("app_keepalive_timeout_ms", "must be between 1 ms and one day".into())
            }
            FaultKind::RollingDeploy { down_ms } if *down_ms > DAY => bad("down_ms", "must be at most one day".into()),
            FaultKind::DnsFailure { host, .. }
                if host.is_empty() || host.parse::<std::net::Ipv4Addr>().is_ok() || !host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-') =>
            {
                bad("host", format!("must be a DNS name, got {host:?}"))
            }
            FaultKind::DbPoolExhausted { pool_timeout_ms, .. } if *pool_timeout_ms > DAY => {
                bad("pool_timeout_ms", "must be at most one day".into())
            }
            FaultKind::SniRequired { name } if name.is_empty() || name.len() > 253 || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-') => {
                bad("name", format!("must be a DNS name, got {name:?}"))
            }
            FaultKind::RateLimited { rate_per_s, .. } if !(rate_per_s.is_finite() && *rate_per_s > 0.0 && *rate_per_s <= 1e6) => {
                bad("rate_per_s", format!("must be a number in (0, 1000000], got {rate_per_s}"))
            }
            _ => Ok(()),
        }
    }

    /// Whether the fault's time window covers `now`.
    pub fn in_window(&self, now: SimTime) -> bool {
        let ms = now.as_micros() / 1_000;
        ms >= self.from_ms && self.until_ms.is_none_or(|u| ms < u)
    }

    /// Whether the fault applies to the app named `app`.
    pub fn targets(&self, app: &str) -> bool {
        self.target.as_deref().is_none_or(|t| t == app)
    }

    /// In window, on this app, and the dice say yes.
    pub fn bites(&self, now: SimTime, app: &str, rng: &mut SimRng) -> bool {
        self.in_window(now) && self.targets(app) && rng.chance(self.probability)
    }

    /// The configuration this fault stands for, applied to the scenario the
    /// engine runs (the user's scenario is left untouched, so removing the
    /// fault restores the working configuration).
    pub fn configure(&self, sc: &mut Scenario) {
        let first_app = sc
            .apps
            .iter()
            .position(|a| self.targets(&a.name))
            .unwrap_or(0);
        match &self.kind {
            FaultKind::WrongPort { port } => {
                for s in &mut sc.upstream.servers {
                    if let Ok(super::net::Address::Tcp { host, .. }) = super::net::Address::parse(&s.address) {
                        s.address = format!("{host}:{port}");
                    }
                }
                if let Ok(super::net::ProxyPass { scheme, host: super::net::Target::Addr(super::net::Address::Tcp { host, .. }) }) =
                    super::net::ProxyPass::parse(&sc.proxy.proxy_pass)
                {
                    sc.proxy.proxy_pass = format!("{}://{host}:{port}", scheme.as_str());
                }
            }
            FaultKind::UnixSocketMissing { path } => {
                // nginx is pointed at the socket; the app still listens on TCP.
                point_at_socket(sc, path);
            }
            FaultKind::UnixSocketPermission { path } => {
                point_at_socket(sc, path);
                if let Some(a) = sc.apps.get_mut(first_app) {
                    a.listen = format!("unix:{path}");
                }
            }
            FaultKind::Overload { workers, backlog, service_ms, shed_queue_above } => {
                for a in sc.apps.iter_mut().filter(|a| self.targets(&a.name)) {
                    a.workers = *workers;
                    a.backlog = *backlog;
                    a.latency_ms = *service_ms;
                    a.latency_jitter_ms = service_ms / 4;
                    a.shed_queue_above = *shed_queue_above;
                }
            }
            FaultKind::KeepaliveMismatch { app_keepalive_timeout_ms } => {
                // The textbook keepalive setup, on an app with a short idle timeout.
                let p = &mut sc.proxy;
                p.proxy_http_version = "1.1".into();
                p.proxy_set_header.insert("Connection".into(), String::new());
                if sc.upstream.keepalive == 0 {
                    sc.upstream.keepalive = 16;
                }
                for a in sc.apps.iter_mut().filter(|a| self.targets(&a.name)) {
                    a.keepalive_timeout_ms = *app_keepalive_timeout_ms;
                }
            }
            FaultKind::DnsFailure { host, .. } => {
                for s in &mut sc.upstream.servers {
                    if let Ok(super::net::Address::Tcp { port, .. }) = super::net::Address::parse(&s.address) {
                        s.address = format!("{host}:{port}");
                    }
                }
                if let Ok(super::net::ProxyPass { scheme, host: super::net::Target::Addr(super::net::Address::Tcp { port, .. }) }) =
                    super::net::ProxyPass::parse(&sc.proxy.proxy_pass)
                {
                    sc.proxy.proxy_pass = format!("{}://{host}:{port}", scheme.as_str());
                }
            }
            FaultKind::TlsCertInvalid { .. } => {
                sc.proxy.proxy_pass = sc.proxy.proxy_pass.replacen("http://", "https://", 1);
                // proxy_ssl_verify stays as the user set it (off by default,
                // as in nginx): the certificate then passes unchecked.
                for a in sc.apps.iter_mut().filter(|a| self.targets(&a.name)) {
                    a.tls = true;
                }
            }
            FaultKind::TlsHandshakeFailure => {
                sc.proxy.proxy_pass = sc.proxy.proxy_pass.replacen("http://", "https://", 1);
                for a in sc.apps.iter_mut().filter(|a| self.targets(&a.name)) {
                    a.tls = false;
                }
            }
            FaultKind::SniRequired { .. } => {
                // An https upstream; what its TLS server answers: tls_alert.
                sc.proxy.proxy_pass = sc.proxy.proxy_pass.replacen("http://", "https://", 1);
                for a in sc.apps.iter_mut().filter(|a| self.targets(&a.name)) {
                    a.tls = true;
                }
            }
            FaultKind::PlainHttpToTls => {
                // What the app does with the plain bytes: app::plain_on_tls_port.
                for a in sc.apps.iter_mut().filter(|a| self.targets(&a.name)) {
                    a.tls = true;
                }
            }
            FaultKind::RateLimited { rate_per_s, burst, nodelay } => {
                sc.proxy.limit_req = Some(LimitReq {
                    rate_per_s: *rate_per_s,
                    burst: *burst,
                    nodelay: *nodelay,
                    ..LimitReq::default()
                });
            }
            _ => {}
        }
    }

    /// What this fault does to the service of the app named `app` at
    /// `now` (None: the process runs as usual). `app_down` means the service
    /// is stopped only when it refuses every connection (probability 1): a
    /// flaky one is a running process that sometimes refuses.
    pub fn service_fault(&self, now: SimTime, app: &str) -> Option<ServiceFault> {
        if !self.targets(app) {
            return None;
        }
        match self.kind {
            FaultKind::AppDown if self.probability >= 1.0 && self.in_window(now) => {
                Some(ServiceFault::Stopped { since: SimTime::from_ms(self.from_ms) })
            }
            FaultKind::RollingDeploy { down_ms } => {
                let ms = now.as_micros() / 1_000;
                (ms >= self.from_ms && ms < self.from_ms.saturating_add(down_ms))
                    .then_some(ServiceFault::Starting { since: SimTime::from_ms(self.from_ms) })
            }
            _ => None,
        }
    }

    /// The last instant before `now` at which this fault's window (re)started
    /// the service of app `app` with a new process: the end of an `app_down`
    /// window, or a deploy's restart.
    pub fn service_restarted_at(&self, now: SimTime, app: &str) -> Option<SimTime> {
        if !self.targets(app) {
            return None;
        }
        let ms = now.as_micros() / 1_000;
        match self.kind {
            FaultKind::AppDown if self.probability >= 1.0 => self.until_ms.filter(|&u| u <= ms).map(SimTime::from_ms),
            FaultKind::RollingDeploy { .. } => (self.from_ms <= ms).then(|| SimTime::from_ms(self.from_ms)),
            _ => None,
        }
    }

    /// Overrides how a connection attempt to the app ends.
    pub fn on_connect(&self, now: SimTime, app: &str, rng: &mut SimRng) -> Option<ConnectOutcome> {
        match self.kind {
            FaultKind::AppDown if self.bites(now, app, rng) => Some(ConnectOutcome::Refused),
            FaultKind::RollingDeploy { down_ms } => {
                let ms = now.as_micros() / 1_000;
                let in_deploy = ms >= self.from_ms && ms < self.from_ms.saturating_add(down_ms);
                (in_deploy && self.targets(app)).then_some(ConnectOutcome::Refused)
            }
            FaultKind::ConnectBlackHole if self.bites(now, app, rng) => Some(ConnectOutcome::Dropped),
            FaultKind::UnixSocketPermission { .. } if self.targets(app) => Some(ConnectOutcome::PermissionDenied),
            // The policy refuses the syscall itself (avc: denied { name_connect }).
            FaultKind::SelinuxConnectDenied if self.targets(app) => Some(ConnectOutcome::PermissionDenied),
            _ => None,
        }
    }

    /// Transforms the reply a healthy app would give.
    pub fn on_request(&self, now: SimTime, app: &str, rng: &mut SimRng, healthy: AppReply) -> AppReply {
        let applies = match self.kind {
            // Config-level faults act through `configure` only.
            FaultKind::WrongPort { .. }
            | FaultKind::UnixSocketMissing { .. }
            | FaultKind::UnixSocketPermission { .. }
            | FaultKind::Overload { .. }
            | FaultKind::KeepaliveMismatch { .. }
            | FaultKind::DnsFailure { .. }
            | FaultKind::TlsCertInvalid { .. }
            | FaultKind::TlsHandshakeFailure
            | FaultKind::RateLimited { .. }
            | FaultKind::AppDown
            | FaultKind::RollingDeploy { .. }
            | FaultKind::ConnectBlackHole
            | FaultKind::PlainHttpToTls
            | FaultKind::SelinuxConnectDenied
            | FaultKind::SniRequired { .. } => false,
            _ => self.bites(now, app, rng),
        };
        if !applies {
            return healthy;
        }
        let http = |response: Response| Wire::Http { response, bad_header_line: None, truncate_body_at: None };
        match &self.kind {
            FaultKind::CrashMidRequest => AppReply {
                after_us: healthy.after_us / 2,
                wire: Wire::Crash,
                note: Some("TypeError: Cannot read properties of undefined (reading 'id')"),
            },
            FaultKind::OomKill { rss_mb } => AppReply {
                after_us: healthy.after_us / 2,
                wire: Wire::OomKill { rss_mb: *rss_mb },
                note: None,
            },
            FaultKind::SlowApp { delay_ms } => AppReply {
                after_us: delay_ms.saturating_mul(1_000),
                note: Some("slow query"),
                ..healthy
            },
            FaultKind::Maintenance { retry_after_s } => AppReply {
                after_us: 1_000,
                wire: http(text_response(
                    503,
                    "Service Unavailable",
                    "Down for maintenance. Please retry later.\n",
                    [Header::new("Retry-After", retry_after_s.to_string())],
                )),
                note: Some("maintenance mode"),
            },
            FaultKind::InvalidChunked => match healthy.wire {
                Wire::Http { response, .. } => {
                    let mut response = response;
                    // The header says chunked; the body goes out as it is.
                    response.headers.retain(|h| !h.name.eq_ignore_ascii_case("Content-Length"));
                    response.headers.push(Header::new("Transfer-Encoding", "chunked"));
                    let raw = response.body.to_string();
                    AppReply { wire: Wire::BadChunked { response, raw }, note: Some("Transfer-Encoding: chunked set by hand, body not chunked"), ..healthy }
                }
                _ => healthy,
            },
            FaultKind::InvalidHeader { line } => match healthy.wire {
                Wire::Http { response, .. } => AppReply {
                    wire: Wire::Http { response, bad_header_line: Some(line.clone()), truncate_body_at: None },
                    ..healthy
                },
                _ => healthy,
            },
            FaultKind::NotHttp { payload } => AppReply {
                wire: Wire::Garbage(payload.clone()),
                note: Some("not an HTTP server"),
                ..healthy
            },
            FaultKind::OversizedHeader { header_bytes } => match healthy.wire {
                Wire::Http { mut response, .. } => {
                    // A Set-Cookie that makes the header block `header_bytes` long.
                    let used = response.header_block_len();
                    let pad = header_bytes.saturating_sub(used as u64 + "Set-Cookie: session=\r\n".len() as u64);
                    response.headers.push(Header::new("Set-Cookie", format!("session={}", "x".repeat(pad as usize))));
                    AppReply { wire: http(response), note: Some("large Set-Cookie"), ..healthy }
                }
                _ => healthy,
            },
            FaultKind::DiesAfterHeaders { content_length, sent_bytes, chunked } => {
                let body = "x".repeat(*content_length as usize);
                let mut response = text_response(200, "OK", body, []);
                response.headers[0] = Header::new("Content-Type", "application/octet-stream");
                if *chunked {
                    // A streaming app: no length up front, the body in chunks.
                    response.headers[1] = Header::new("Transfer-Encoding", "chunked");
                }
                AppReply {
                    after_us: healthy.after_us,
                    wire: Wire::Http { response, bad_header_line: None, truncate_body_at: Some(*sent_bytes) },
                    note: Some("process exited while writing the body"),
                }
            }
            FaultKind::DbPoolExhausted { mode, pool_timeout_ms } => match mode {
                PoolMode::Hang => AppReply {
                    after_us: pool_timeout_ms.saturating_mul(1_000),
                    wire: http(text_response(
                        500,
                        "Internal Server Error",
                        "TimeoutError: ResourceRequest timed out\n",
                        [],
                    )),
                    note: Some("TimeoutError: ResourceRequest timed out (pool exhausted)"),
                },
                PoolMode::Error => AppReply {
                    after_us: 2_000,
                    wire: http(text_response(
                        500,
                        "Internal Server Error",
                        "Error: too many clients already\n",
                        [],
                    )),
                    note: Some("error: sorry, too many clients already"),
                },
            },
            _ => healthy,
        }
    }

    /// The TLS outcome of a handshake with an app that speaks TLS, or None
    /// when the certificate is fine.
    pub fn cert_problem(&self) -> Option<CertProblem> {
        match self.kind {
            FaultKind::TlsCertInvalid { problem } => Some(problem),
            _ => None,
        }
    }

    /// The TLS alert the app's server sends in answer to a ClientHello with
    /// server name `sni` (None: no SNI), if this fault makes it abort:
    /// 40 (handshake_failure) without SNI, 112 (unrecognized_name) for a
    /// name it does not serve.
    pub fn tls_alert(&self, sni: Option<&str>) -> Option<u8> {
        match (&self.kind, sni) {
            (FaultKind::SniRequired { .. }, None) => Some(40),
            (FaultKind::SniRequired { name }, Some(s)) if !s.eq_ignore_ascii_case(name) => Some(112),
            _ => None,
        }
    }

    /// The DNS answer for `host`, if this fault breaks it.
    pub fn dns_answer(&self, host: &str) -> Option<DnsAnswer> {
        match &self.kind {
            FaultKind::DnsFailure { host: h, answer } if h == host => Some(*answer),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_entries_have_unique_ids() {
        let c = FaultKind::catalog();
        let mut ids: Vec<_> = c.iter().map(|f| f.id()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), c.len());
        assert_eq!(c.len(), 25);
    }

    #[test]
    fn catalog_round_trips_through_json() {
        for f in FaultKind::catalog() {
            assert_eq!(FaultKind::from_id(f.id()), Some(f.clone()));
            let fault = Fault { probability: 0.5, from_ms: 10, until_ms: Some(20), target: Some("app".into()), kind: f.clone() };
            let json = serde_json::to_string(&fault).unwrap();
            assert!(json.contains(&format!("\"type\":\"{}\"", f.id())), "{json}");
            let back: Fault = serde_json::from_str(&json).unwrap();
            assert_eq!(back, fault);
        }
    }

    #[test]
    fn knobs_default_and_unknown_fields_are_rejected() {
        let f: Fault = serde_json::from_str(r#"{"type":"slow_app"}"#).unwrap();
        assert_eq!(f, Fault::from(FaultKind::SlowApp { delay_ms: 90_000 }));
        let e = serde_json::from_str::<Fault>(r#"{"type":"slow_app","delay":5}"#).unwrap_err();
        assert!(e.to_string().contains("unknown field `delay`"), "{e}");
        let e = serde_json::from_str::<Fault>(r#"{"type":"melted"}"#).unwrap_err();
        assert!(e.to_string().contains("unknown variant `melted`"), "{e}");
        let f: Fault = serde_json::from_str(r#"{"type":"dies_after_headers","content_length":1000,"sent_bytes":200}"#).unwrap();
        assert_eq!(f.kind, FaultKind::DiesAfterHeaders { content_length: 1_000, sent_bytes: 200, chunked: false });
    }

    fn dies(chunked: bool, sent_bytes: u64) -> Wire {
        let healthy = AppReply { after_us: 0, wire: Wire::Crash, note: None };
        let f = Fault::from(FaultKind::DiesAfterHeaders { content_length: 1_000, sent_bytes, chunked });
        f.on_request(SimTime::ZERO, "app", &mut SimRng::seeded(1), healthy).wire
    }

    #[test]
    fn dies_after_headers_puts_a_cut_body_on_the_wire() {
        let Wire::Http { response, truncate_body_at, .. } = dies(false, 200) else { panic!() };
        assert_eq!((response.header("Content-Length"), response.header("Transfer-Encoding"), truncate_body_at), (Some("1000"), None, Some(200)));
        assert_eq!(dies(false, 200).body_on_wire().unwrap(), "x".repeat(200));

        let Wire::Http { response, truncate_body_at, .. } = dies(true, 200) else { panic!() };
        assert_eq!((response.header("Content-Length"), response.header("Transfer-Encoding"), truncate_body_at), (None, Some("chunked"), Some(200)));
        // One chunk of the bytes sent, lower-case hex, and no last chunk.
        assert_eq!(dies(true, 200).body_on_wire().unwrap(), format!("c8\r\n{}\r\n", "x".repeat(200)));
        assert_eq!(dies(true, 0).body_on_wire().unwrap(), "");
    }
}

/// Apache's `ProxyTimeout` (whole seconds) that outlasts a `delay_ms` app by 30 s.
fn apache_timeout_s(delay_ms: u64) -> u64 {
    (delay_ms + 30_000).div_ceil(1_000)
}

/// Apache's worker `ttl=` (whole seconds) below an app's idle timeout.
fn apache_ttl_s(app_idle_ms: u64) -> u64 {
    (app_idle_ms.saturating_sub(1_000) / 1_000).max(1)
}
