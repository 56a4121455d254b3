//! The one description of a run. UI state, share links, lessons, the
//! command-line runner and the tests are all a `Scenario`.
//!
//! Versioned: `version` must equal [`SCENARIO_VERSION`]. Every field has a
//! default, so a partial JSON document is completed with defaults; unknown
//! fields are rejected so typos do not pass silently. See docs/SCENARIO.md.

use serde::{Deserialize, Serialize};

use super::fault::Fault;

pub const SCENARIO_VERSION: u32 = 1;

/// 2026-11-21 04:43:44 UTC.
pub const DEFAULT_START_UNIX: i64 = 1_795_236_224;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Scenario {
    pub version: u32,
    /// Seeds the engine's only PRNG.
    pub seed: u64,
    /// Calendar time (Unix seconds, UTC) at virtual time zero.
    pub start_unix: i64,
    pub client: ClientConfig,
    pub proxy: NginxConfig,
    pub app: AppConfig,
    /// Active breakages. Each kind's behaviour lives in `sim::fault`.
    pub faults: Vec<Fault>,
    /// Requests the client sends, in order.
    pub requests: Vec<RequestSpec>,
    /// One-way latency of every hop (client↔proxy, proxy↔app), microseconds.
    pub hop_latency_us: u64,
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario {
            version: SCENARIO_VERSION,
            seed: 1,
            start_unix: DEFAULT_START_UNIX,
            client: ClientConfig::default(),
            proxy: NginxConfig::default(),
            app: AppConfig::default(),
            faults: Vec::new(),
            requests: vec![RequestSpec::default()],
            hop_latency_us: 100,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClientConfig {
    pub ip: String,
    pub user_agent: String,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig { ip: "127.0.0.1".into(), user_agent: "curl/8.5.0".into() }
    }
}

/// The nginx side: the directives of the generated nginx.conf that matter.
/// Names follow nginx's own directive names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NginxConfig {
    /// nginx version string printed by `server_tokens on`.
    pub version: String,
    /// Worker process id printed in error.log as `pid#tid`.
    pub worker_pid: u32,
    /// `listen` port.
    pub listen: u16,
    /// `server_name`.
    pub server_name: String,
    /// `proxy_pass http://<upstream>` (host:port, no URI part).
    pub proxy_pass: String,
    pub proxy_connect_timeout_ms: u64,
    pub proxy_read_timeout_ms: u64,
    pub proxy_send_timeout_ms: u64,
    pub server_tokens: bool,
}

impl Default for NginxConfig {
    fn default() -> Self {
        NginxConfig {
            version: "1.22.1".into(),
            worker_pid: 4453,
            listen: 80,
            server_name: "localhost".into(),
            proxy_pass: "127.0.0.1:3000".into(),
            proxy_connect_timeout_ms: 60_000,
            proxy_read_timeout_ms: 60_000,
            proxy_send_timeout_ms: 60_000,
            server_tokens: true,
        }
    }
}

/// The upstream application server when nothing is broken.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AppConfig {
    /// The port the app listens on.
    pub port: u16,
    /// Typical time to produce a response, milliseconds.
    pub latency_ms: u64,
    /// The response time is uniform in `latency_ms ± latency_jitter_ms`.
    pub latency_jitter_ms: u64,
    /// Body of a healthy response.
    pub body: String,
}

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig {
            port: 3000,
            latency_ms: 25,
            latency_jitter_ms: 10,
            body: "[{\"id\":1,\"name\":\"Ada\"},{\"id\":2,\"name\":\"Linus\"}]\n".into(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RequestSpec {
    /// When the client sends it, milliseconds of virtual time.
    pub at_ms: u64,
    pub method: String,
    /// Path and query, e.g. `/users?page=2`.
    pub path: String,
    /// `Host:` header the client sends.
    pub host: String,
}

impl Default for RequestSpec {
    fn default() -> Self {
        RequestSpec { at_ms: 0, method: "GET".into(), path: "/users".into(), host: "localhost".into() }
    }
}

/// Why a scenario document was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError(pub String);

impl std::fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ScenarioError {}

/// Upper bounds that keep a hostile document from exhausting memory or time.
pub const MAX_REQUESTS: usize = 100_000;
pub const MAX_FAULTS: usize = 64;
pub const MAX_TIMEOUT_MS: u64 = 24 * 3_600_000;

impl Scenario {
    /// Parses and validates a JSON document.
    pub fn from_json(text: &str) -> Result<Scenario, ScenarioError> {
        let s: Scenario = serde_json::from_str(text)
            .map_err(|e| ScenarioError(format!("not a valid scenario: {e}")))?;
        s.validate()?;
        Ok(s)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a Scenario always serializes")
    }

    /// Checks the invariants the engine relies on.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        let err = |m: String| Err(ScenarioError(m));
        if self.version != SCENARIO_VERSION {
            return err(format!(
                "scenario version {} is not supported (this build reads version {SCENARIO_VERSION})",
                self.version
            ));
        }
        if self.requests.len() > MAX_REQUESTS {
            return err(format!("too many requests: {} (at most {MAX_REQUESTS})", self.requests.len()));
        }
        if self.faults.len() > MAX_FAULTS {
            return err(format!("too many faults: {} (at most {MAX_FAULTS})", self.faults.len()));
        }
        let p = &self.proxy;
        for (name, v) in [
            ("proxy_connect_timeout_ms", p.proxy_connect_timeout_ms),
            ("proxy_read_timeout_ms", p.proxy_read_timeout_ms),
            ("proxy_send_timeout_ms", p.proxy_send_timeout_ms),
        ] {
            if v == 0 || v > MAX_TIMEOUT_MS {
                return err(format!("proxy.{name} must be between 1 and {MAX_TIMEOUT_MS} ms, got {v}"));
            }
        }
        if parse_host_port(&p.proxy_pass).is_none() {
            return err(format!("proxy.proxy_pass must be host:port, got {:?}", p.proxy_pass));
        }
        for r in &self.requests {
            if !r.path.starts_with('/') {
                return err(format!("request path must start with '/', got {:?}", r.path));
            }
            if r.method.is_empty() || !r.method.bytes().all(|b| b.is_ascii_uppercase()) {
                return err(format!("request method must be an upper-case token, got {:?}", r.method));
            }
        }
        for f in &self.faults {
            f.validate()?;
        }
        Ok(())
    }
}

/// `127.0.0.1:3000` → (`127.0.0.1`, 3000).
pub fn parse_host_port(s: &str) -> Option<(&str, u16)> {
    let (host, port) = s.rsplit_once(':')?;
    if host.is_empty() {
        return None;
    }
    Some((host, port.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_round_trips_through_json() {
        let s = Scenario::default();
        assert_eq!(Scenario::from_json(&s.to_json()).unwrap(), s);
    }

    #[test]
    fn partial_document_gets_defaults() {
        let s = Scenario::from_json(r#"{"version":1,"seed":7}"#).unwrap();
        assert_eq!(s.seed, 7);
        assert_eq!(s.proxy, NginxConfig::default());
    }

    #[test]
    fn bad_documents_are_refused_with_a_message() {
        for (doc, needle) in [
            ("{", "not a valid scenario"),
            (r#"{"version":99}"#, "version 99 is not supported"),
            (r#"{"version":1,"bogus":1}"#, "unknown field"),
            (r#"{"version":1,"proxy":{"proxy_read_timeout_ms":0}}"#, "proxy_read_timeout_ms"),
            (r#"{"version":1,"proxy":{"proxy_pass":"nowhere"}}"#, "host:port"),
            (r#"{"version":1,"requests":[{"path":"users"}]}"#, "must start with '/'"),
        ] {
            let e = Scenario::from_json(doc).unwrap_err();
            assert!(e.0.contains(needle), "{doc}: {e}");
        }
    }
}
