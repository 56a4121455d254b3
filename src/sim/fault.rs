//! The fault catalog. Everything a breakage does to the upstream lives in
//! this file: whether a connection is accepted, how the app answers, and
//! what the app prints. The proxy flavours only react to the result.

use serde::{Deserialize, Serialize};

use super::http::{Header, Response};
use super::scenario::ScenarioError;

/// One active breakage with its knobs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fault {
    #[serde(flatten)]
    pub kind: FaultKind,
}

/// The catalog. Serialized with a `type` tag: `{"type":"slow_app","delay_ms":90000}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum FaultKind {
    /// The app process is not running: nothing listens on its port, so the
    /// kernel answers the proxy's SYN with RST.
    AppDown,
    /// The app takes `delay_ms` to produce its response.
    SlowApp {
        #[serde(default = "default_slow_delay")]
        delay_ms: u64,
    },
    /// The app is in maintenance mode: it answers 503 with `Retry-After`.
    Maintenance {
        #[serde(default = "default_retry_after")]
        retry_after_s: u64,
    },
}

fn default_slow_delay() -> u64 {
    90_000
}
fn default_retry_after() -> u64 {
    120
}

impl FaultKind {
    /// Every fault with its default knobs, in catalog order.
    pub fn catalog() -> Vec<FaultKind> {
        vec![
            FaultKind::AppDown,
            FaultKind::SlowApp { delay_ms: default_slow_delay() },
            FaultKind::Maintenance { retry_after_s: default_retry_after() },
        ]
    }

    /// Stable identifier (the serde `type` tag).
    pub fn id(&self) -> &'static str {
        match self {
            FaultKind::AppDown => "app_down",
            FaultKind::SlowApp { .. } => "slow_app",
            FaultKind::Maintenance { .. } => "maintenance",
        }
    }

    pub fn from_id(id: &str) -> Option<FaultKind> {
        Self::catalog().into_iter().find(|f| f.id() == id)
    }

    pub fn title(&self) -> &'static str {
        match self {
            FaultKind::AppDown => "App process not running",
            FaultKind::SlowApp { .. } => "App slower than proxy_read_timeout",
            FaultKind::Maintenance { .. } => "App in maintenance mode",
        }
    }

    /// What the app box shows while this fault is active.
    pub fn app_state(&self) -> &'static str {
        match self {
            FaultKind::AppDown => "down",
            FaultKind::SlowApp { .. } => "slow",
            FaultKind::Maintenance { .. } => "maintenance",
        }
    }

    /// The real-world cause, in one line.
    pub fn cause(&self) -> &'static str {
        match self {
            FaultKind::AppDown => {
                "The service crashed or was never started; nothing listens on its port."
            }
            FaultKind::SlowApp { .. } => {
                "A slow database query keeps the app busy longer than nginx waits for the response header."
            }
            FaultKind::Maintenance { .. } => {
                "The app was put in maintenance mode and refuses work with 503 and Retry-After."
            }
        }
    }
}

/// What happens when the proxy's SYN reaches the app's host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectOutcome {
    Accepted,
    /// RST: `connect()` fails with ECONNREFUSED (111).
    Refused,
}

/// What the app does with a request it has read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppReply {
    /// Time the app spends before writing its response, microseconds.
    pub after_us: u64,
    pub response: Response,
    /// Extra text the app prints in its own log for this request.
    pub note: Option<&'static str>,
}

impl Fault {
    pub fn validate(&self) -> Result<(), ScenarioError> {
        match self.kind {
            FaultKind::SlowApp { delay_ms } if delay_ms > 24 * 3_600_000 => Err(ScenarioError(
                format!("slow_app.delay_ms must be at most one day, got {delay_ms}"),
            )),
            _ => Ok(()),
        }
    }

    /// Overrides how a connection attempt ends, or `None` to leave it alone.
    pub fn on_connect(&self) -> Option<ConnectOutcome> {
        match self.kind {
            FaultKind::AppDown => Some(ConnectOutcome::Refused),
            _ => None,
        }
    }

    /// Transforms the reply a healthy app would give.
    pub fn on_request(&self, healthy: AppReply) -> AppReply {
        match self.kind {
            FaultKind::AppDown => healthy,
            FaultKind::SlowApp { delay_ms } => AppReply {
                after_us: delay_ms.saturating_mul(1_000),
                note: Some("slow query"),
                ..healthy
            },
            FaultKind::Maintenance { retry_after_s } => {
                let body = "Down for maintenance. Please retry later.\n".to_string();
                AppReply {
                    after_us: 1_000,
                    response: Response {
                        status: 503,
                        reason: "Service Unavailable".into(),
                        headers: vec![
                            Header::new("Content-Type", "text/plain; charset=utf-8"),
                            Header::new("Content-Length", body.len().to_string()),
                            Header::new("Retry-After", retry_after_s.to_string()),
                        ],
                        body,
                    },
                    note: Some("maintenance mode"),
                }
            }
        }
    }
}

impl From<FaultKind> for Fault {
    fn from(kind: FaultKind) -> Self {
        Fault { kind }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_ids_round_trip() {
        for f in FaultKind::catalog() {
            assert_eq!(FaultKind::from_id(f.id()), Some(f.clone()));
            let json = serde_json::to_string(&Fault::from(f.clone())).unwrap();
            assert!(json.contains(&format!("\"type\":\"{}\"", f.id())), "{json}");
            let back: Fault = serde_json::from_str(&json).unwrap();
            assert_eq!(back.kind, f);
        }
    }

    #[test]
    fn knobs_default_when_omitted() {
        let f: Fault = serde_json::from_str(r#"{"type":"slow_app"}"#).unwrap();
        assert_eq!(f.kind, FaultKind::SlowApp { delay_ms: 90_000 });
    }
}
