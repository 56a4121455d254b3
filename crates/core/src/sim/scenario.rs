//! The one description of a run. UI state, share links, lessons, the
//! command-line runner and the tests are all a `Scenario`.
//!
//! Versioned: `version` must equal [`SCENARIO_VERSION`] (older versions are
//! upgraded on reading: `sim::migrate`). Every field has a
//! default, so a partial JSON document is completed with defaults; unknown
//! fields are rejected so typos do not pass silently. Errors name the field
//! (`proxy.proxy_read_timeout_ms: ...`). Reference: docs/scenario.md.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::fault::Fault;
use super::net::Address;
use super::server::ServerKind;

/// Version 2: `tls_cert_invalid` leaves `proxy_ssl_verify` as it is.
/// Version 3: `proxy.localhost_ipv6` (on: `localhost` is `[::1]` and
/// `127.0.0.1`). Older documents are upgraded by `sim::migrate`.
pub const SCENARIO_VERSION: u32 = 3;

/// 2026-11-21 04:43:44 UTC.
pub const DEFAULT_START_UNIX: i64 = 1_795_236_224;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Scenario {
    /// Must be present and equal to [`SCENARIO_VERSION`].
    #[serde(default = "missing_version")]
    pub version: u32,
    /// Short name shown in the UI and in transcripts.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub title: String,
    /// What the scenario demonstrates (free text).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Seeds the engine's only PRNG.
    pub seed: u64,
    /// Calendar time (Unix seconds, UTC) at virtual time zero.
    pub start_unix: i64,
    /// Client arrivals stop after this many milliseconds (0: no limit; the
    /// run then ends when `clients.requests` requests have finished).
    pub duration_ms: u64,
    /// One-way latency of every network hop, microseconds.
    pub hop_latency_us: u64,
    pub clients: Clients,
    /// Requests sent at exact times, in addition to `clients`' arrivals.
    pub requests: Vec<RequestSpec>,
    pub proxy: ProxyConfig,
    /// The `upstream` block `proxy_pass` points at.
    pub upstream: Upstream,
    /// The application servers (processes) on the upstream hosts.
    pub apps: Vec<App>,
    /// Active breakages. Each kind's behaviour lives in `sim::fault`.
    pub faults: Vec<Fault>,
    /// Layers in front of the proxy, outermost first (Cloudflare, AWS ALB):
    /// `sim::layer`. Empty (the default): the client talks to the proxy.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub layers: Vec<super::layer::Layer>,
}

fn missing_version() -> u32 {
    0
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario {
            version: SCENARIO_VERSION,
            title: String::new(),
            description: String::new(),
            seed: 1,
            start_unix: DEFAULT_START_UNIX,
            duration_ms: 0,
            hop_latency_us: 100,
            clients: Clients::default(),
            requests: Vec::new(),
            proxy: ProxyConfig::default(),
            upstream: Upstream::default(),
            apps: vec![App::default()],
            faults: Vec::new(),
            layers: Vec::new(),
        }
    }
}

/// Open-loop client arrivals.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Clients {
    /// Distinct client hosts. One host uses `ip`; more get 10.0.x.y.
    pub count: u32,
    pub ip: String,
    pub user_agent: String,
    /// Requests to send in all.
    pub requests: u32,
    /// Mean arrival rate, requests per second.
    pub rate_per_s: f64,
    pub arrival: Arrival,
    /// Requests per tick with `arrival: synchronised`.
    pub burst_size: u32,
    pub method: String,
    /// Path and query, e.g. `/users?page=2`.
    pub path: String,
    /// `Host:` header ("" sends none, as an HTTP/1.0 client would).
    pub host: String,
    /// Request body size for POST/PUT/PATCH, bytes.
    pub body_bytes: u64,
    /// What a client does when a request fails.
    pub retry: RetryPolicy,
    /// Size of a `Cookie:` header's value, bytes (0: no Cookie header).
    #[serde(skip_serializing_if = "is_zero")]
    pub cookie_bytes: u64,
    /// A WebSocket handshake: `Connection: Upgrade`, `Upgrade: websocket`,
    /// `Sec-WebSocket-Version: 13` and a `Sec-WebSocket-Key`.
    #[serde(skip_serializing_if = "is_false")]
    pub websocket: bool,
}

fn is_false(v: &bool) -> bool {
    !*v
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

/// How long a client waits before retry number n (0-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Backoff {
    /// No retries at all.
    #[default]
    None,
    /// `base`.
    Fixed,
    /// `base × (n + 1)`.
    Linear,
    /// `base × multiplier^n`.
    Exponential,
}

/// Randomisation of the wait (names as in AWS's "Exponential Backoff And Jitter").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Jitter {
    #[default]
    None,
    /// uniform(0, wait).
    Full,
    /// wait/2 + uniform(0, wait/2).
    Equal,
    /// min(cap, uniform(base, previous × 3)).
    Decorrelated,
}

/// A client's retry strategy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetryPolicy {
    pub backoff: Backoff,
    pub jitter: Jitter,
    pub base_ms: u64,
    pub multiplier: f64,
    pub cap_ms: u64,
    /// Tries in all, the first included.
    pub max_attempts: u32,
    /// Outcomes that are retried: status codes ("502", "503", "504", "500",
    /// "429"), "connect_error" (no connection to the proxy), "error" (a
    /// broken or non-HTTP response) and "timeout" (the per-try timeout).
    pub retry_on: Vec<String>,
    /// Wait at least the response's Retry-After.
    pub honour_retry_after: bool,
    /// Give up once this much time has passed since the first try (0: never).
    pub deadline_ms: u64,
    /// Per-try timeout: the client closes the connection after this long
    /// without a response (0: wait for ever). nginx logs such a request
    /// with status 499.
    pub timeout_ms: u64,
    /// A circuit breaker in front of every try (absent: none).
    pub breaker: Option<CircuitBreaker>,
    /// A retry budget: retries may be at most a share of recent requests.
    pub budget: Option<RetryBudget>,
    /// gRPC-style retry throttling (a token bucket filled by successes).
    pub throttle: Option<RetryThrottle>,
    /// Hedged requests: another copy goes out after `delay_ms` without an
    /// answer, up to `max_attempts` copies; the first good answer wins.
    pub hedge: Option<Hedge>,
    /// The client waits its backoff after the last failed try too, and only
    /// then gives up: the loop of the snippets that sleep at the end of each
    /// turn (`fetchWithRetry`: 1 + 2 + 4 s after 3 502s).
    pub sleep_after_last: bool,
}

/// How the breaker's sliding window is measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum BreakerWindow {
    /// The last `window_size` calls.
    #[default]
    Count,
    /// The calls of the last `window_size` seconds.
    Time,
}

/// A circuit breaker shared by all clients (one calling service), named
/// after resilience4j's settings. A breaker that trips after N consecutive
/// failures is `window: count`, `window_size: N`, `failure_rate_percent: 100`,
/// `minimum_calls: N`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CircuitBreaker {
    pub window: BreakerWindow,
    /// Calls (count window) or seconds (time window).
    pub window_size: u32,
    /// Open when at least this share of the window's calls failed.
    pub failure_rate_percent: f64,
    /// Minimum throughput: no verdict before the window holds this many calls.
    pub minimum_calls: u32,
    /// How long the breaker stays open before letting probes through.
    pub open_ms: u64,
    /// Trial calls let through when half-open; all must succeed to close.
    pub half_open_probes: u32,
}

impl Default for CircuitBreaker {
    fn default() -> Self {
        CircuitBreaker { window: BreakerWindow::Count, window_size: 20, failure_rate_percent: 50.0, minimum_calls: 10, open_ms: 5_000, half_open_probes: 3 }
    }
}

/// Finagle's `RetryBudget`: each request deposits `percent`/100 of a retry;
/// deposits expire after `ttl_ms`; `min_per_s` retries per second are always
/// allowed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetryBudget {
    pub percent: f64,
    pub min_per_s: f64,
    pub ttl_ms: u64,
}

impl Default for RetryBudget {
    fn default() -> Self {
        RetryBudget { percent: 20.0, min_per_s: 10.0, ttl_ms: 10_000 }
    }
}

/// gRPC retry throttling (gRFC A6): a bucket of `max_tokens`; a failed try
/// takes one token, a success gives back `token_ratio`; retries and hedges
/// are allowed only while more than half the bucket is left.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetryThrottle {
    pub max_tokens: f64,
    pub token_ratio: f64,
}

impl Default for RetryThrottle {
    fn default() -> Self {
        RetryThrottle { max_tokens: 10.0, token_ratio: 0.1 }
    }
}

/// Hedging: send another copy after `delay_ms` without an answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Hedge {
    pub delay_ms: u64,
}

impl Default for Hedge {
    fn default() -> Self {
        Hedge { delay_ms: 100 }
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            backoff: Backoff::None,
            jitter: Jitter::None,
            base_ms: 1_000,
            multiplier: 2.0,
            cap_ms: 30_000,
            max_attempts: 1,
            retry_on: vec!["502".into(), "503".into(), "504".into(), "connect_error".into()],
            honour_retry_after: false,
            deadline_ms: 0,
            timeout_ms: 0,
            breaker: None,
            budget: None,
            throttle: None,
            hedge: None,
            sleep_after_last: false,
        }
    }
}

impl RetryPolicy {
    /// The JavaScript `fetchWithRetry` of many blog posts (`lab::snippet`):
    /// 3 tries, a wait of 2^i seconds after each 502, the last one included,
    /// only on 502.
    pub fn fetch_with_retry() -> Self {
        RetryPolicy { backoff: Backoff::Exponential, max_attempts: 3, retry_on: vec!["502".into()], sleep_after_last: true, ..Default::default() }
    }

    /// The Python `requests` loop (`lab::snippet`): 5 tries, a wait of
    /// min(2^i, 30) seconds after each failure, the last one included, on
    /// 502 and on request exceptions (connection errors, broken responses
    /// and its 30 s timeout).
    pub fn python_requests() -> Self {
        RetryPolicy {
            backoff: Backoff::Exponential,
            max_attempts: 5,
            cap_ms: 30_000,
            timeout_ms: 30_000,
            retry_on: vec!["502".into(), "connect_error".into(), "error".into(), "timeout".into()],
            sleep_after_last: true,
            ..Default::default()
        }
    }

    /// Named strategies offered by the UI and share links: (id, label, policy).
    pub fn presets() -> Vec<(&'static str, &'static str, RetryPolicy)> {
        let expo = RetryPolicy { backoff: Backoff::Exponential, base_ms: 100, cap_ms: 10_000, max_attempts: 4, ..Default::default() };
        vec![
            ("none", "No retries", RetryPolicy::default()),
            ("fetch_with_retry", "JavaScript fetchWithRetry (3 tries, 2^i s after each 502)", RetryPolicy::fetch_with_retry()),
            ("python_requests", "Python requests loop (5 tries, min(2^i, 30) s after each failure)", RetryPolicy::python_requests()),
            ("immediate", "Immediate retries (3 tries, no wait)", RetryPolicy { backoff: Backoff::Fixed, base_ms: 0, max_attempts: 3, ..Default::default() }),
            ("exponential", "Exponential backoff, no jitter (4 tries, 100 ms × 2^i)", expo.clone()),
            ("exponential_full_jitter", "Exponential backoff, full jitter (4 tries)", RetryPolicy { jitter: Jitter::Full, ..expo.clone() }),
            ("decorrelated_jitter", "Decorrelated jitter (4 tries)", RetryPolicy { jitter: Jitter::Decorrelated, ..expo.clone() }),
            ("breaker", "Full jitter + circuit breaker (50 % of 20 calls, 5 s open)", RetryPolicy { jitter: Jitter::Full, breaker: Some(CircuitBreaker::default()), ..expo.clone() }),
            ("budget", "Full jitter + retry budget (20 % + 10/s, as Finagle)", RetryPolicy { jitter: Jitter::Full, budget: Some(RetryBudget::default()), ..expo.clone() }),
            ("grpc_throttle", "gRPC retry throttling (10 tokens, ratio 0.1)", RetryPolicy { jitter: Jitter::Full, throttle: Some(RetryThrottle::default()), ..expo.clone() }),
            ("hedged", "Hedged requests (a copy after 100 ms, up to 3)", RetryPolicy { max_attempts: 3, hedge: Some(Hedge::default()), ..RetryPolicy::default() }),
        ]
    }

    /// The preset with this id.
    pub fn preset(id: &str) -> Option<RetryPolicy> {
        Self::presets().into_iter().find(|(i, _, _)| *i == id).map(|(_, _, p)| p)
    }
}

impl Default for Clients {
    fn default() -> Self {
        Clients {
            count: 1,
            ip: "127.0.0.1".into(),
            user_agent: "curl/8.5.0".into(),
            requests: 1,
            rate_per_s: 1.0,
            arrival: Arrival::Uniform,
            burst_size: 100,
            method: "GET".into(),
            path: "/users".into(),
            host: "localhost".into(),
            body_bytes: 0,
            retry: RetryPolicy::default(),
            cookie_bytes: 0,
            websocket: false,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arrival {
    /// Exactly 1/rate apart.
    Uniform,
    /// Exponential gaps with mean 1/rate.
    Poisson,
    /// Synchronised clients (cron jobs, devices polling on the same tick):
    /// `burst_size` requests at the same instant, every burst_size/rate seconds.
    Synchronised,
}

/// One request at an exact time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RequestSpec {
    pub at_ms: u64,
    pub method: String,
    pub path: String,
    pub host: String,
    pub body_bytes: u64,
    /// Size of a `Cookie:` header's value, bytes (0: no Cookie header).
    #[serde(skip_serializing_if = "is_zero")]
    pub cookie_bytes: u64,
    /// A WebSocket handshake (see `Clients::websocket`).
    #[serde(skip_serializing_if = "is_false")]
    pub websocket: bool,
}

impl RequestSpec {
    /// The `Cookie:` header's value: `session=` and then `a`s, `cookie_bytes` long.
    pub fn cookie_value(&self) -> Option<String> {
        (self.cookie_bytes > 0).then(|| "session=".chars().chain(std::iter::repeat('a')).take(self.cookie_bytes as usize).collect())
    }
}

impl Default for RequestSpec {
    fn default() -> Self {
        RequestSpec {
            at_ms: 0,
            method: "GET".into(),
            path: "/users".into(),
            host: "localhost".into(),
            body_bytes: 0,
            cookie_bytes: 0,
            websocket: false,
        }
    }
}

/// What an app does with a WebSocket handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum WebSocketApp {
    /// A plain HTTP app: it ignores `Upgrade` and answers as usual.
    #[default]
    None,
    /// The `ws` package's server: 101 with `Upgrade: websocket` and
    /// `Connection: upgrade`, else `426 Upgrade Required`.
    Ws,
    /// socket.io (engine.io) asked for the websocket transport: 101, else
    /// 400 `{"code":3,"message":"Bad request"}`.
    Socketio,
}

impl WebSocketApp {
    fn is_none(&self) -> bool {
        *self == WebSocketApp::None
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Flavor {
    #[default]
    Nginx,
    Haproxy,
    /// Apache httpd 2.4 with mod_proxy_http.
    Apache,
    /// Caddy 2.6 with `reverse_proxy`.
    Caddy,
    /// Varnish 7.1 (in front of one backend, every request passed).
    Varnish,
    /// Envoy (the router filter and one cluster): documented, not verified
    /// (docs/research/envoy-alb-model.md).
    Envoy,
    /// An AWS Application Load Balancer straight in front of the targets
    /// (the apps): documented, not verified.
    Alb,
}

/// Where a flavor's behaviour comes from: the real software run on
/// loopback by the fidelity harness, or its documentation and source only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Evidence {
    /// Compared with the real program (`software` `version`) by the harness.
    Verified { software: &'static str, version: &'static str },
    /// Modelled from documentation and source; never run here. `sources`
    /// are the research notes that cite each behaviour.
    Documented { sources: &'static [&'static str] },
}

impl Evidence {
    pub fn is_verified(self) -> bool {
        matches!(self, Evidence::Verified { .. })
    }

    /// The badge the page shows next to a documented flavor.
    pub const BADGE: &'static str = "documented, not verified";
}

impl Flavor {
    /// Every flavor, in the order the page offers them.
    pub const ALL: [Flavor; 7] = [Flavor::Nginx, Flavor::Haproxy, Flavor::Apache, Flavor::Caddy, Flavor::Varnish, Flavor::Envoy, Flavor::Alb];

    /// The proxy's program name, as in the scenario's JSON: `nginx`, `haproxy`, `apache`.
    pub fn as_str(self) -> &'static str {
        match self {
            Flavor::Nginx => "nginx",
            Flavor::Haproxy => "haproxy",
            Flavor::Apache => "apache",
            Flavor::Caddy => "caddy",
            Flavor::Varnish => "varnish",
            Flavor::Envoy => "envoy",
            Flavor::Alb => "alb",
        }
    }

    /// Where this flavor's behaviour comes from (FIDELITY.md's columns, the
    /// page's badge).
    pub fn evidence(self) -> Evidence {
        const SOURCES: &[&str] = &["docs/research/envoy-cloudflare-alb-sources.md", "docs/research/envoy-alb-model.md"];
        match self {
            Flavor::Nginx => Evidence::Verified { software: "nginx", version: "1.22.1" },
            Flavor::Haproxy => Evidence::Verified { software: "HAProxy", version: "2.6.12" },
            Flavor::Apache => Evidence::Verified { software: "Apache httpd", version: "2.4" },
            Flavor::Caddy => Evidence::Verified { software: "Caddy", version: "2.6.2" },
            Flavor::Varnish => Evidence::Verified { software: "Varnish", version: "7.1.1" },
            Flavor::Envoy | Flavor::Alb => Evidence::Documented { sources: SOURCES },
        }
    }

    /// The name people call it by: `nginx`, `HAProxy`, `Apache`.
    pub fn display(self) -> &'static str {
        match self {
            Flavor::Nginx => "nginx",
            Flavor::Haproxy => "HAProxy",
            Flavor::Apache => "Apache",
            Flavor::Caddy => "Caddy",
            Flavor::Varnish => "Varnish",
            Flavor::Envoy => "Envoy",
            Flavor::Alb => "AWS ALB",
        }
    }

    /// The flavor a link's `flavor=` names, if any.
    pub fn parse(s: &str) -> Option<Flavor> {
        Flavor::ALL.into_iter().find(|f| f.as_str() == s)
    }
}

/// Apache httpd's own settings (used when `flavor` is `apache`); names follow
/// its directives. The backends are `upstream.servers` (one: a plain
/// `ProxyPass`; several: `BalancerMember`s of `balancer://app`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApacheConfig {
    /// Apache version for the config comment and the `Server` header.
    pub version: String,
    /// `ProxyTimeout`: the connect timeout and the wait for the response
    /// (Apache's default is the value of `Timeout`, 60 s).
    pub proxy_timeout_ms: u64,
    /// `retry=` of a balancer member: seconds a member that failed to
    /// connect stays in error state (default 60).
    pub retry_s: u64,
    /// `ttl=` of the backend (seconds; 0: not set): a pooled connection idle
    /// longer than this is closed instead of reused.
    pub ttl_s: u64,
}

impl Default for ApacheConfig {
    fn default() -> Self {
        ApacheConfig { version: "2.4.71".into(), proxy_timeout_ms: 60_000, retry_s: 60, ttl_s: 0 }
    }
}

/// HAProxy's own settings (used when `flavor` is `haproxy`); names follow
/// haproxy.cfg keywords. The servers are `upstream.servers`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HaproxyConfig {
    /// HAProxy version for the config comment.
    pub version: String,
    /// `retries`: extra connection attempts after a failed one.
    pub retries: u32,
    /// `option redispatch`: the last retry may go to another server.
    pub redispatch: bool,
    /// `option abortonclose`: drop the server connection when the client
    /// goes away (without it HAProxy waits for the response and discards it).
    pub abortonclose: bool,
    pub timeout_connect_ms: u64,
    pub timeout_server_ms: u64,
    pub timeout_client_ms: u64,
    /// `tune.bufsize`: the response header must fit in it (minus `tune.maxrewrite`).
    pub bufsize: u64,
}

impl Default for HaproxyConfig {
    fn default() -> Self {
        HaproxyConfig {
            version: "2.6.12".into(),
            retries: 3,
            redispatch: false,
            abortonclose: false,
            timeout_connect_ms: 5_000,
            timeout_server_ms: 60_000,
            timeout_client_ms: 60_000,
            bufsize: 16_384,
        }
    }
}

/// Caddy's own settings (used when `flavor` is `caddy`): the
/// `reverse_proxy` directive's subdirectives. The upstreams are
/// `upstream.servers` (or the `proxy_pass` address).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CaddyConfig {
    /// Caddy version (the config comment).
    pub version: String,
    /// `transport http { dial_timeout }` (3 s by default since 2.5).
    pub dial_timeout_ms: u64,
    /// `transport http { response_header_timeout }` (0: none, Caddy's default).
    pub response_header_timeout_ms: u64,
    /// `lb_try_duration` (0: no retries, the default).
    pub lb_try_duration_ms: u64,
    /// `lb_try_interval` (250 ms by default).
    pub lb_try_interval_ms: u64,
}

impl Default for CaddyConfig {
    fn default() -> Self {
        CaddyConfig { version: "2.6.2".into(), dial_timeout_ms: 3_000, response_header_timeout_ms: 0, lb_try_duration_ms: 0, lb_try_interval_ms: 250 }
    }
}

/// Varnish's own settings (used when `flavor` is `varnish`): the backend's
/// timeouts in the exported VCL.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VarnishConfig {
    /// Varnish version (`Via`, the config comment).
    pub version: String,
    /// `.connect_timeout` (the parameter's default, 3.5 s).
    pub connect_timeout_ms: u64,
    /// `.first_byte_timeout` (60 s).
    pub first_byte_timeout_ms: u64,
}

impl Default for VarnishConfig {
    fn default() -> Self {
        VarnishConfig { version: "7.1.1".into(), connect_timeout_ms: 3_500, first_byte_timeout_ms: 60_000 }
    }
}

/// Envoy's own settings (used when `flavor` is `envoy`), by the names of its
/// API fields; defaults from its protos (docs/research/envoy-alb-model.md).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EnvoyConfig {
    /// The cluster's `connect_timeout` (5 s when unset).
    pub connect_timeout_ms: u64,
    /// The route's `timeout` (15 s when unset; 0 disables it).
    pub route_timeout_ms: u64,
    /// The cluster's upstream `common_http_protocol_options.idle_timeout`
    /// (1 h when unset): how long an idle upstream connection is kept.
    pub idle_timeout_ms: u64,
    /// The route's `retry_policy.retry_on` (empty: no retry policy, no retries).
    pub retry_on: Vec<String>,
    /// `retry_policy.num_retries` (1 when unset).
    pub num_retries: u32,
}

impl Default for EnvoyConfig {
    fn default() -> Self {
        EnvoyConfig { connect_timeout_ms: 5_000, route_timeout_ms: 15_000, idle_timeout_ms: 3_600_000, retry_on: Vec::new(), num_retries: 1 }
    }
}

/// The `retry_on` conditions the Envoy flavor models.
pub const ENVOY_RETRY_ON: [&str; 5] = ["5xx", "gateway-error", "reset", "connect-failure", "retriable-status-codes"];

/// An AWS Application Load Balancer's settings (used when `flavor` is
/// `alb`); the targets are `upstream.servers` (or `proxy_pass`'s address).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlbConfig {
    /// The load balancer's `idle_timeout.timeout_seconds` (60 by default, 1..4000).
    pub idle_timeout_s: u64,
    /// Whether the target group has registered targets (false: every
    /// request is a 503).
    pub targets_registered: bool,
    /// The load balancer's name (in its ARN and the access log's `elb` field).
    pub name: String,
}

impl Default for AlbConfig {
    fn default() -> Self {
        AlbConfig { idle_timeout_s: 60, targets_registered: true, name: "my-loadbalancer".into() }
    }
}

/// nginx `limit_req_zone` + `limit_req`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitReq {
    /// Zone name (`zone=perip`).
    pub zone: String,
    /// `rate=` in requests per second.
    pub rate_per_s: f64,
    pub burst: u32,
    pub nodelay: bool,
    /// `limit_req_status`.
    pub status: u16,
}

impl Default for LimitReq {
    fn default() -> Self {
        LimitReq { zone: "perip".into(), rate_per_s: 10.0, burst: 0, nodelay: false, status: 503 }
    }
}

/// The proxy. Field names are nginx's directive names (times in ms, sizes
/// in bytes).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProxyConfig {
    pub flavor: Flavor,
    /// Version string printed by `server_tokens on`.
    pub version: String,
    /// Worker process id printed in error.log as `pid#tid`.
    pub worker_pid: u32,
    /// `listen`.
    pub listen: u16,
    /// `server_name` (the first name is what error.log prints).
    pub server_name: String,
    pub server_tokens: bool,
    /// `error_log ... <level>`: lines below it are not written.
    pub error_log_level: String,
    /// `proxy_pass`: `http://<upstream name>`, `http://host:port`,
    /// `http://unix:/path.sock` or `https://...`.
    pub proxy_pass: String,
    pub proxy_connect_timeout_ms: u64,
    pub proxy_read_timeout_ms: u64,
    pub proxy_send_timeout_ms: u64,
    /// `proxy_next_upstream` conditions: error, timeout, invalid_header,
    /// http_500, http_502, http_503, http_504, http_403, http_404,
    /// http_429, non_idempotent, off.
    pub proxy_next_upstream: Vec<String>,
    /// 0 = no limit.
    pub proxy_next_upstream_tries: u32,
    /// 0 = no limit.
    pub proxy_next_upstream_timeout_ms: u64,
    pub proxy_buffer_size: u64,
    /// `proxy_buffers <count> <size>`.
    pub proxy_buffers_count: u32,
    pub proxy_buffers_size: u64,
    /// "1.0" (nginx's default) or "1.1" (needed for upstream keepalive).
    pub proxy_http_version: String,
    /// `proxy_set_header` entries; `Connection: ""` enables keepalive reuse.
    pub proxy_set_header: BTreeMap<String, String>,
    /// `proxy_ssl_verify` for https upstreams.
    pub proxy_ssl_verify: bool,
    /// `resolver` address; needed to resolve names at run time.
    pub resolver: Option<String>,
    pub resolver_timeout_ms: u64,
    pub limit_req: Option<LimitReq>,
    /// Settings of the HAProxy flavor.
    pub haproxy: HaproxyConfig,
    /// Settings of the Apache flavor.
    pub apache: ApacheConfig,
    /// Settings of the Caddy flavor.
    pub caddy: CaddyConfig,
    /// Settings of the Varnish flavor.
    pub varnish: VarnishConfig,
    /// Settings of the Envoy flavor.
    #[serde(skip_serializing_if = "is_default")]
    pub envoy: EnvoyConfig,
    /// Settings of the AWS ALB flavor.
    #[serde(skip_serializing_if = "is_default")]
    pub alb: AlbConfig,
    /// `proxy_ssl_server_name`: send SNI to an https upstream (off: none).
    pub proxy_ssl_server_name: bool,
    /// `proxy_ssl_name` ("" = the host of proxy_pass): the name sent as SNI
    /// and checked in the certificate.
    pub proxy_ssl_name: String,
    /// `client_max_body_size` (0: no limit). A larger request body gets 413.
    pub client_max_body_size: u64,
    /// `large_client_header_buffers <count> <size>`: a request header line
    /// (with its CRLF) longer than `size` gets 400.
    pub large_client_header_buffers_count: u32,
    pub large_client_header_buffers_size: u64,
    /// The access.log format: `combined` (nginx's default) or
    /// `upstreaminfo` (ingress-nginx style: combined, then the request
    /// length and time and every attempt's `$upstream_addr`,
    /// `$upstream_response_length`, `$upstream_response_time` and
    /// `$upstream_status`).
    pub access_log_format: String,
    /// nginx `auth_request`: every request is first sent as a subrequest
    /// to an authorization service (absent: none).
    pub auth_request: Option<AuthRequest>,
    /// nginx `worker_connections` (events block; 512, nginx's built-in
    /// default): a worker's connection slots. The listening socket and the
    /// master's channel take two; each proxied request one for the client
    /// and one for its upstream connection.
    pub worker_connections: u32,
    /// The proxy host's `/etc/hosts` has `::1 localhost` (Debian's
    /// default): the name `localhost` in `proxy_pass` or a `server` line
    /// resolves to `[::1]` and `127.0.0.1` (nginx makes a peer of each, the
    /// IPv6 one first; HAProxy takes the first). Off: `127.0.0.1` only.
    pub localhost_ipv6: bool,
}

/// nginx `auth_request <uri>` with `location = <uri> { internal; proxy_pass <pass>; }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthRequest {
    /// The subrequest's URI (`/auth`).
    pub uri: String,
    /// The authorization service: `http://host:port` (an app of the scenario
    /// listening there answers it).
    pub pass: String,
}

impl Default for AuthRequest {
    fn default() -> Self {
        AuthRequest { uri: "/auth".into(), pass: "http://127.0.0.1:9000".into() }
    }
}

impl Default for ProxyConfig {
    fn default() -> Self {
        ProxyConfig {
            flavor: Flavor::Nginx,
            version: "1.22.1".into(),
            worker_pid: 4453,
            listen: 80,
            server_name: "localhost".into(),
            server_tokens: true,
            error_log_level: "error".into(),
            proxy_pass: "http://app".into(),
            proxy_connect_timeout_ms: 60_000,
            proxy_read_timeout_ms: 60_000,
            proxy_send_timeout_ms: 60_000,
            proxy_next_upstream: vec!["error".into(), "timeout".into()],
            proxy_next_upstream_tries: 0,
            proxy_next_upstream_timeout_ms: 0,
            proxy_buffer_size: 4096,
            proxy_buffers_count: 8,
            proxy_buffers_size: 4096,
            proxy_http_version: "1.0".into(),
            proxy_set_header: BTreeMap::new(),
            proxy_ssl_verify: false,
            resolver: None,
            resolver_timeout_ms: 30_000,
            limit_req: None,
            haproxy: HaproxyConfig::default(),
            apache: ApacheConfig::default(),
            caddy: CaddyConfig::default(),
            varnish: VarnishConfig::default(),
            envoy: EnvoyConfig::default(),
            alb: AlbConfig::default(),
            proxy_ssl_server_name: false,
            proxy_ssl_name: String::new(),
            client_max_body_size: 1 << 20,
            large_client_header_buffers_count: 4,
            large_client_header_buffers_size: 8192,
            access_log_format: "combined".into(),
            auth_request: None,
            worker_connections: 512,
            localhost_ipv6: true,
        }
    }
}

/// An `upstream` block.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Upstream {
    pub name: String,
    pub servers: Vec<UpstreamServer>,
    /// `keepalive`: idle connections cached per worker (0 = none).
    pub keepalive: u32,
    /// `keepalive_timeout` of the upstream block.
    pub keepalive_timeout_ms: u64,
}

impl Default for Upstream {
    fn default() -> Self {
        Upstream {
            name: "app".into(),
            servers: vec![UpstreamServer::default()],
            keepalive: 0,
            keepalive_timeout_ms: 60_000,
        }
    }
}

/// A `server` line of an upstream block.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UpstreamServer {
    /// `127.0.0.1:3000`, `app.internal:3000` or `unix:/run/app.sock`.
    pub address: String,
    pub weight: u32,
    pub max_fails: u32,
    pub fail_timeout_ms: u64,
    pub backup: bool,
    pub down: bool,
}

impl Default for UpstreamServer {
    fn default() -> Self {
        UpstreamServer {
            address: "127.0.0.1:3000".into(),
            weight: 1,
            max_fails: 1,
            fail_timeout_ms: 10_000,
            backup: false,
            down: false,
        }
    }
}

/// An application server process on an upstream host.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct App {
    pub name: String,
    /// Where it listens: `127.0.0.1:3000` or `unix:/run/app.sock`.
    pub listen: String,
    /// Speaks TLS on that address.
    pub tls: bool,
    /// Process id shown in the app log.
    pub pid: u32,
    /// Requests handled at the same time.
    pub workers: u32,
    /// Connections the kernel queues for the app beyond `workers`
    /// (the listen backlog); further SYNs are dropped.
    pub backlog: u32,
    /// Typical time to produce a response, ms.
    pub latency_ms: u64,
    /// Response time is uniform in `latency_ms ± latency_jitter_ms`.
    pub latency_jitter_ms: u64,
    /// Idle keep-alive connections are closed after this (Node.js: 5 s).
    pub keepalive_timeout_ms: u64,
    /// Node's `server.headersTimeout` (60 000 ms in Node 20, measured): the
    /// time allowed to receive a request's headers. The engine's clients send
    /// their headers at once, so it never fires; it is here because the ALB
    /// fix sets it above `keepAliveTimeout` (nodejs/node#27363: in Node
    /// 10.15.3 it also closed idle keep-alive sockets; Node 20 does not, and
    /// neither does the engine).
    #[serde(skip_serializing_if = "is_default_headers_timeout")]
    pub headers_timeout_ms: u64,
    /// Answer 503 at once when this many requests already wait (0 = never).
    pub shed_queue_above: u32,
    /// systemd `RestartSec`: delay before a crashed process is back.
    pub restart_ms: u64,
    /// Body of a healthy response.
    pub body: String,
    /// The server program (`sim::server`): `node` (the default), `gunicorn`,
    /// `php-fpm` or `uwsgi`; its own settings are in the field of its name.
    #[serde(skip_serializing_if = "ServerKind::is_node")]
    pub server: ServerKind,
    #[serde(skip_serializing_if = "is_default")]
    pub gunicorn: super::server::gunicorn::Gunicorn,
    #[serde(skip_serializing_if = "is_default")]
    pub php_fpm: super::server::php_fpm::PhpFpm,
    #[serde(skip_serializing_if = "is_default")]
    pub uwsgi: super::server::uwsgi::Uwsgi,
    /// A WebSocket server (`ws`, `socketio`) or a plain HTTP app (`none`).
    #[serde(skip_serializing_if = "WebSocketApp::is_none")]
    pub websocket: WebSocketApp,
}

fn is_default_headers_timeout(v: &u64) -> bool {
    *v == NODE_HEADERS_TIMEOUT_MS
}

/// Node 20's `server.headersTimeout` default (measured: docs/research/envoy-cloudflare-alb-sources.md §3.3).
pub const NODE_HEADERS_TIMEOUT_MS: u64 = 60_000;

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

impl Default for App {
    fn default() -> Self {
        App {
            name: "app".into(),
            listen: "127.0.0.1:3000".into(),
            tls: false,
            pid: 2817,
            workers: 16,
            backlog: 511,
            latency_ms: 25,
            latency_jitter_ms: 10,
            keepalive_timeout_ms: 5_000,
            headers_timeout_ms: NODE_HEADERS_TIMEOUT_MS,
            shed_queue_above: 0,
            restart_ms: 1_000,
            body: "[{\"id\":1,\"name\":\"Ada\"},{\"id\":2,\"name\":\"Linus\"}]\n".into(),
            server: ServerKind::Node,
            gunicorn: Default::default(),
            php_fpm: Default::default(),
            uwsgi: Default::default(),
            websocket: WebSocketApp::None,
        }
    }
}

/// Why a scenario document was refused. The message names the field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError(pub String);

impl std::fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ScenarioError {}

/// Upper bounds that keep a hostile document from exhausting memory or time.
pub const MAX_REQUESTS: u64 = 1_000_000;
pub const MAX_FAULTS: usize = 64;
pub const MAX_SERVERS: usize = 64;
pub const MAX_TIMEOUT_MS: u64 = 24 * 3_600_000;
/// Largest `Cookie:` value a request may carry.
pub const MAX_COOKIE_BYTES: u64 = 1 << 20;

const NEXT_UPSTREAM: &[&str] = &[
    "error", "timeout", "invalid_header", "http_500", "http_502", "http_503", "http_504",
    "http_403", "http_404", "http_429", "non_idempotent", "off",
];

fn bad<T>(field: impl std::fmt::Display, problem: impl std::fmt::Display) -> Result<T, ScenarioError> {
    Err(ScenarioError(format!("{field}: {problem}")))
}

fn check_ms(field: &str, v: u64) -> Result<(), ScenarioError> {
    if v == 0 || v > MAX_TIMEOUT_MS {
        return bad(field, format!("must be between 1 and {MAX_TIMEOUT_MS} ms, got {v}"));
    }
    Ok(())
}

fn check_method(field: &str, m: &str) -> Result<(), ScenarioError> {
    if m.is_empty() || m.len() > 16 || !m.bytes().all(|b| b.is_ascii_uppercase()) {
        return bad(field, format!("must be an upper-case method such as GET or POST, got {m:?}"));
    }
    Ok(())
}

fn check_path(field: &str, p: &str) -> Result<(), ScenarioError> {
    if !p.starts_with('/') || p.len() > 2048 || p.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return bad(field, format!("must start with '/' and contain no spaces or control characters, got {p:?}"));
    }
    Ok(())
}

impl Scenario {
    /// Parses and validates a JSON document.
    pub fn from_json(text: &str) -> Result<Scenario, ScenarioError> {
        // serde would also accept a JSON array, field by field: refuse it.
        let first = text.trim_start().chars().next();
        if first.is_some_and(|c| c != '{') {
            return bad("scenario", "invalid type: the document must be a JSON object ({...})");
        }
        let s: Scenario = serde_json::from_str(text).map_err(|e| {
            let path = super::json_path::error_path(text, &e);
            if path == "." {
                ScenarioError(format!("scenario: {e}"))
            } else if e.to_string().starts_with('.') {
                // A layer's error names its field (`.ssl_mode: …`).
                ScenarioError(format!("{path}{e}"))
            } else {
                ScenarioError(format!("{path}: {e}"))
            }
        })?;
        let mut s = s;
        super::migrate::upgrade(&mut s);
        s.validate()?;
        Ok(s)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a Scenario always serializes")
    }

    /// Checks every invariant the engine relies on; the error names the field.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        if self.version == 0 {
            return bad("version", format!("missing: add \"version\": {SCENARIO_VERSION}"));
        }
        if self.version != SCENARIO_VERSION {
            return bad(
                "version",
                format!("{} is not supported (this build reads version {SCENARIO_VERSION})", self.version),
            );
        }
        if self.title.len() > 200 {
            return bad("title", "must be at most 200 bytes");
        }
        if self.description.len() > 10_000 {
            return bad("description", "must be at most 10000 bytes");
        }
        if self.hop_latency_us > 10_000_000 {
            return bad("hop_latency_us", format!("must be at most 10 s, got {}", self.hop_latency_us));
        }
        super::layer::validate(&self.layers)?;
        let c = &self.clients;
        if c.burst_size == 0 || c.burst_size > 1_000_000 {
            return bad("clients.burst_size", format!("must be between 1 and 1000000, got {}", c.burst_size));
        }
        if c.count == 0 || c.count > 65_536 {
            return bad("clients.count", format!("must be between 1 and 65536, got {}", c.count));
        }
        let total = c.requests as u64 + self.requests.len() as u64;
        if total > MAX_REQUESTS {
            return bad("clients.requests", format!("too many requests in all: {total} (at most {MAX_REQUESTS})"));
        }
        if !(c.rate_per_s.is_finite() && c.rate_per_s > 0.0 && c.rate_per_s <= 1_000_000.0) {
            return bad("clients.rate_per_s", format!("must be a number in (0, 1000000], got {}", c.rate_per_s));
        }
        check_method("clients.method", &c.method)?;
        let r = &c.retry;
        if r.max_attempts == 0 || r.max_attempts > 100 {
            return bad("clients.retry.max_attempts", format!("must be between 1 and 100, got {}", r.max_attempts));
        }
        if !(r.multiplier.is_finite() && (1.0..=100.0).contains(&r.multiplier)) {
            return bad("clients.retry.multiplier", format!("must be between 1 and 100, got {}", r.multiplier));
        }
        if r.base_ms > MAX_TIMEOUT_MS || r.cap_ms > MAX_TIMEOUT_MS || r.deadline_ms > MAX_TIMEOUT_MS {
            return bad("clients.retry", "base_ms, cap_ms and deadline_ms must be at most one day");
        }
        for (i, o) in r.retry_on.iter().enumerate() {
            let ok = matches!(o.as_str(), "connect_error" | "error" | "timeout") || o.parse::<u16>().is_ok_and(|s| (400..=599).contains(&s));
            if !ok {
                return bad(format!("clients.retry.retry_on[{i}]"), format!("must be a 4xx/5xx status, \"connect_error\", \"error\" or \"timeout\", got {o:?}"));
            }
        }
        if r.timeout_ms > MAX_TIMEOUT_MS {
            return bad("clients.retry.timeout_ms", "must be at most one day");
        }
        if let Some(b) = &r.breaker {
            if b.window_size == 0 || b.window_size > 100_000 {
                return bad("clients.retry.breaker.window_size", format!("must be between 1 and 100000, got {}", b.window_size));
            }
            if !(b.failure_rate_percent.is_finite() && b.failure_rate_percent > 0.0 && b.failure_rate_percent <= 100.0) {
                return bad("clients.retry.breaker.failure_rate_percent", format!("must be in (0, 100], got {}", b.failure_rate_percent));
            }
            if b.minimum_calls == 0 || b.minimum_calls > 100_000 {
                return bad("clients.retry.breaker.minimum_calls", format!("must be between 1 and 100000, got {}", b.minimum_calls));
            }
            if b.open_ms == 0 || b.open_ms > MAX_TIMEOUT_MS {
                return bad("clients.retry.breaker.open_ms", format!("must be between 1 ms and one day, got {}", b.open_ms));
            }
            if b.half_open_probes == 0 || b.half_open_probes > 1_000 {
                return bad("clients.retry.breaker.half_open_probes", format!("must be between 1 and 1000, got {}", b.half_open_probes));
            }
        }
        if let Some(b) = &r.budget {
            if !(b.percent.is_finite() && (0.0..=1_000.0).contains(&b.percent)) {
                return bad("clients.retry.budget.percent", format!("must be between 0 and 1000, got {}", b.percent));
            }
            if !(b.min_per_s.is_finite() && (0.0..=1_000_000.0).contains(&b.min_per_s)) {
                return bad("clients.retry.budget.min_per_s", format!("must be between 0 and 1000000, got {}", b.min_per_s));
            }
            if b.ttl_ms == 0 || b.ttl_ms > 3_600_000 {
                return bad("clients.retry.budget.ttl_ms", format!("must be between 1 ms and one hour, got {}", b.ttl_ms));
            }
        }
        if let Some(t) = &r.throttle {
            if !(t.max_tokens.is_finite() && t.max_tokens > 0.0 && t.max_tokens <= 1_000.0) {
                return bad("clients.retry.throttle.max_tokens", format!("must be in (0, 1000] as in gRPC, got {}", t.max_tokens));
            }
            if !(t.token_ratio.is_finite() && t.token_ratio > 0.0 && t.token_ratio <= 1_000.0) {
                return bad("clients.retry.throttle.token_ratio", format!("must be in (0, 1000], got {}", t.token_ratio));
            }
        }
        if let Some(h) = &r.hedge {
            if h.delay_ms > MAX_TIMEOUT_MS {
                return bad("clients.retry.hedge.delay_ms", "must be at most one day");
            }
        }
        check_path("clients.path", &c.path)?;
        for (i, r) in self.requests.iter().enumerate() {
            check_method(&format!("requests[{i}].method"), &r.method)?;
            check_path(&format!("requests[{i}].path"), &r.path)?;
        }
        let cookies = std::iter::once(("clients.cookie_bytes".to_string(), c.cookie_bytes))
            .chain(self.requests.iter().enumerate().map(|(i, r)| (format!("requests[{i}].cookie_bytes"), r.cookie_bytes)));
        for (f, n) in cookies {
            if n > MAX_COOKIE_BYTES {
                return bad(f, format!("must be at most {MAX_COOKIE_BYTES} bytes, got {n}"));
            }
        }

        let p = &self.proxy;
        if p.proxy_pass.is_empty() {
            return bad("proxy.proxy_pass", "must not be empty");
        }
        let target = super::net::ProxyPass::parse(&p.proxy_pass)
            .map_err(|e| ScenarioError(format!("proxy.proxy_pass: {e}")))?;
        check_ms("proxy.proxy_connect_timeout_ms", p.proxy_connect_timeout_ms)?;
        check_ms("proxy.proxy_read_timeout_ms", p.proxy_read_timeout_ms)?;
        check_ms("proxy.proxy_send_timeout_ms", p.proxy_send_timeout_ms)?;
        check_ms("proxy.resolver_timeout_ms", p.resolver_timeout_ms)?;
        if p.proxy_next_upstream_timeout_ms > MAX_TIMEOUT_MS {
            return bad("proxy.proxy_next_upstream_timeout_ms", "must be at most one day");
        }
        for (i, v) in p.proxy_next_upstream.iter().enumerate() {
            if !NEXT_UPSTREAM.contains(&v.as_str()) {
                return bad(
                    format!("proxy.proxy_next_upstream[{i}]"),
                    format!("unknown condition {v:?} (one of {})", NEXT_UPSTREAM.join(", ")),
                );
            }
        }
        if !(512..=1 << 20).contains(&p.proxy_buffer_size) {
            return bad("proxy.proxy_buffer_size", format!("must be between 512 and 1048576 bytes, got {}", p.proxy_buffer_size));
        }
        if !(2..=1024).contains(&p.proxy_buffers_count) || !(512..=1 << 20).contains(&p.proxy_buffers_size) {
            return bad("proxy.proxy_buffers_count/proxy_buffers_size", format!(
                "proxy_buffers must be 2..1024 buffers of 512..1048576 bytes, got {} x {}",
                p.proxy_buffers_count, p.proxy_buffers_size
            ));
        }
        if p.proxy_http_version != "1.0" && p.proxy_http_version != "1.1" {
            return bad("proxy.proxy_http_version", format!("must be \"1.0\" or \"1.1\", got {:?}", p.proxy_http_version));
        }
        if super::log::Level::parse(&p.error_log_level).is_none() {
            return bad("proxy.error_log_level", format!("must be one of debug, info, notice, warn, error, crit, alert, emerg; got {:?}", p.error_log_level));
        }
        if !p.proxy_ssl_name.is_empty()
            && (p.proxy_ssl_name.len() > 253 || !p.proxy_ssl_name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']')))
        {
            return bad("proxy.proxy_ssl_name", format!("must be a host name, got {:?}", p.proxy_ssl_name));
        }
        if p.flavor == Flavor::Apache {
            if let Some(why) = super::proxy::apache::unsupported(&super::world::effective(self)) {
                return bad("proxy.flavor", why);
            }
        }
        if p.flavor == Flavor::Caddy {
            if let Some(why) = super::proxy::caddy::unsupported(&super::world::effective(self)) {
                return bad("proxy.flavor", why);
            }
        }
        if p.flavor == Flavor::Varnish {
            if let Some(why) = super::proxy::varnish::unsupported(&super::world::effective(self)) {
                return bad("proxy.flavor", why);
            }
        }
        if p.flavor == Flavor::Envoy {
            if let Some(why) = super::proxy::envoy::unsupported(&super::world::effective(self)) {
                return bad("proxy.flavor", why);
            }
        }
        if p.flavor == Flavor::Alb {
            if let Some(why) = super::proxy::alb::unsupported(&super::world::effective(self)) {
                return bad("proxy.flavor", why);
            }
        }
        check_ms("proxy.envoy.connect_timeout_ms", p.envoy.connect_timeout_ms)?;
        check_ms("proxy.envoy.idle_timeout_ms", p.envoy.idle_timeout_ms)?;
        if p.envoy.route_timeout_ms > 86_400_000 {
            return bad("proxy.envoy.route_timeout_ms", format!("must be at most 86400000 (0: no timeout), got {}", p.envoy.route_timeout_ms));
        }
        if p.envoy.num_retries > 10 {
            return bad("proxy.envoy.num_retries", format!("must be at most 10, got {}", p.envoy.num_retries));
        }
        if !(1..=4_000).contains(&p.alb.idle_timeout_s) {
            return bad("proxy.alb.idle_timeout_s", format!("the ALB's idle timeout is 1..4000 seconds, got {}", p.alb.idle_timeout_s));
        }
        check_ms("proxy.varnish.connect_timeout_ms", p.varnish.connect_timeout_ms)?;
        check_ms("proxy.varnish.first_byte_timeout_ms", p.varnish.first_byte_timeout_ms)?;
        let c = &p.caddy;
        check_ms("proxy.caddy.dial_timeout_ms", c.dial_timeout_ms)?;
        check_ms("proxy.caddy.lb_try_interval_ms", c.lb_try_interval_ms)?;
        if c.response_header_timeout_ms > 86_400_000 || c.lb_try_duration_ms > 86_400_000 {
            return bad("proxy.caddy", "response_header_timeout_ms and lb_try_duration_ms must be at most 86400000 (0: off)".to_string());
        }
        let a = &p.apache;
        check_ms("proxy.apache.proxy_timeout_ms", a.proxy_timeout_ms)?;
        if a.proxy_timeout_ms < 1_000 || a.proxy_timeout_ms % 1_000 != 0 {
            return bad("proxy.apache.proxy_timeout_ms", format!("ProxyTimeout is in whole seconds: a multiple of 1000 from 1000, got {}", a.proxy_timeout_ms));
        }
        if a.ttl_s > 86_400 {
            return bad("proxy.apache.ttl_s", format!("must be at most 86400, got {}", a.ttl_s));
        }
        if a.retry_s > 86_400 {
            return bad("proxy.apache.retry_s", format!("must be at most 86400, got {}", a.retry_s));
        }
        let h = &p.haproxy;
        if h.retries > 100 {
            return bad("proxy.haproxy.retries", format!("must be at most 100, got {}", h.retries));
        }
        check_ms("proxy.haproxy.timeout_connect_ms", h.timeout_connect_ms)?;
        check_ms("proxy.haproxy.timeout_server_ms", h.timeout_server_ms)?;
        check_ms("proxy.haproxy.timeout_client_ms", h.timeout_client_ms)?;
        if !(1024..=1 << 20).contains(&h.bufsize) {
            return bad("proxy.haproxy.bufsize", format!("must be between 1024 and 1048576, got {}", h.bufsize));
        }
        if p.client_max_body_size > 1 << 40 {
            return bad("proxy.client_max_body_size", format!("must be at most 1 TiB, got {}", p.client_max_body_size));
        }
        if !(2..=64).contains(&p.large_client_header_buffers_count) || !(1024..=1 << 20).contains(&p.large_client_header_buffers_size) {
            return bad("proxy.large_client_header_buffers_count/large_client_header_buffers_size", format!(
                "large_client_header_buffers must be 2..64 buffers of 1024..1048576 bytes, got {} x {}",
                p.large_client_header_buffers_count, p.large_client_header_buffers_size
            ));
        }
        if !(3..=1 << 20).contains(&p.worker_connections) {
            return bad("proxy.worker_connections", format!("must be between 3 and 1048576, got {}", p.worker_connections));
        }
        if p.access_log_format != "combined" && p.access_log_format != "upstreaminfo" {
            return bad("proxy.access_log_format", format!("must be \"combined\" or \"upstreaminfo\", got {:?}", p.access_log_format));
        }
        if let Some(a) = &p.auth_request {
            if !a.uri.starts_with('/') || a.uri.len() > 256 || a.uri.bytes().any(|b| b <= b' ' || b == 0x7f || b == b'{' || b == b';') {
                return bad("proxy.auth_request.uri", format!("must be a path such as /auth, got {:?}", a.uri));
            }
            match super::net::ProxyPass::parse(&a.pass) {
                Ok(super::net::ProxyPass { host: super::net::Target::Addr(_), scheme: super::net::Scheme::Http }) => {}
                _ => return bad("proxy.auth_request.pass", format!("must be http://host:port, got {:?}", a.pass)),
            }
        }
        if let Some(l) = &p.limit_req {
            if !(l.rate_per_s.is_finite() && l.rate_per_s > 0.0 && l.rate_per_s <= 1_000_000.0) {
                return bad("proxy.limit_req.rate_per_s", format!("must be a number in (0, 1000000], got {}", l.rate_per_s));
            }
            if !(400..=599).contains(&l.status) {
                return bad("proxy.limit_req.status", format!("must be between 400 and 599, got {}", l.status));
            }
            if l.zone.is_empty() {
                return bad("proxy.limit_req.zone", "must not be empty");
            }
        }

        let u = &self.upstream;
        if u.servers.is_empty() && matches!(target.host, super::net::Target::Group(_)) {
            return bad("upstream.servers", "an upstream block needs at least one server");
        }
        if u.servers.len() > MAX_SERVERS {
            return bad("upstream.servers", format!("at most {MAX_SERVERS} servers, got {}", u.servers.len()));
        }
        check_ms("upstream.keepalive_timeout_ms", u.keepalive_timeout_ms)?;
        for (i, s) in u.servers.iter().enumerate() {
            let f = format!("upstream.servers[{i}]");
            Address::parse(&s.address).map_err(|e| ScenarioError(format!("{f}.address: {e}")))?;
            if s.weight == 0 || s.weight > 1000 {
                return bad(format!("{f}.weight"), format!("must be between 1 and 1000, got {}", s.weight));
            }
            check_ms(&format!("{f}.fail_timeout_ms"), s.fail_timeout_ms)?;
        }

        if self.apps.len() > MAX_SERVERS {
            return bad("apps", format!("at most {MAX_SERVERS} apps, got {}", self.apps.len()));
        }
        for (i, a) in self.apps.iter().enumerate() {
            let f = format!("apps[{i}]");
            if self.apps[..i].iter().any(|b| b.name == a.name) {
                return bad(format!("{f}.name"), format!("{:?} is used by another app", a.name));
            }
            Address::parse(&a.listen).map_err(|e| ScenarioError(format!("{f}.listen: {e}")))?;
            if a.workers == 0 || a.workers > 100_000 {
                return bad(format!("{f}.workers"), format!("must be between 1 and 100000, got {}", a.workers));
            }
            if a.backlog > 1_000_000 {
                return bad(format!("{f}.backlog"), format!("must be at most 1000000, got {}", a.backlog));
            }
            if a.latency_ms > MAX_TIMEOUT_MS {
                return bad(format!("{f}.latency_ms"), "must be at most one day");
            }
            if a.latency_jitter_ms > MAX_TIMEOUT_MS {
                return bad(format!("{f}.latency_jitter_ms"), "must be at most one day");
            }
            check_ms(&format!("{f}.keepalive_timeout_ms"), a.keepalive_timeout_ms)?;
        check_ms(&format!("{f}.headers_timeout_ms"), a.headers_timeout_ms)?;
            if a.restart_ms > MAX_TIMEOUT_MS {
                return bad(format!("{f}.restart_ms"), "must be at most one day");
            }
            if a.body.len() > 1 << 20 {
                return bad(format!("{f}.body"), "must be at most 1 MiB");
            }
            super::server::validate(a, &f).map_err(ScenarioError)?;
            if a.server.protocol() != super::server::protocol(&self.apps) {
                return bad(format!("{f}.server"), format!(
                    "{} speaks another protocol than apps[0] ({}): one nginx location passes to one kind of server",
                    a.server.as_str(), self.apps[0].server.as_str()
                ));
            }
            if a.server.protocol() != super::server::Protocol::Http && p.flavor == Flavor::Haproxy {
                return bad(format!("{f}.server"), format!("HAProxy 2.6 speaks HTTP to its servers, not {}'s protocol: use nginx", a.server.as_str()));
            }

        }

        if self.faults.len() > MAX_FAULTS {
            return bad("faults", format!("at most {MAX_FAULTS} faults, got {}", self.faults.len()));
        }
        for (i, f) in self.faults.iter().enumerate() {
            f.validate(&format!("faults[{i}]"), self)?;
        }
        Ok(())
    }
}
