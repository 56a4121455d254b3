//! The palette's words for a fault's knobs, in the chosen proxy's language.
//! A knob is a field of the fault's serde form (`rate_per_s`, `nodelay`);
//! most read the same under both proxies, but `rate_limited`'s are nginx's
//! `limit_req` parameters, which HAProxy's stick-table rule uses otherwise
//! (`sc_http_req_rate(0) gt rate + burst`) or not at all (`nodelay`).
//! Titles and causes are `FaultKind::title_in` / `cause_in` (fault.rs).

use super::fault::FaultKind;
use super::scenario::Flavor;

impl FaultKind {
    /// The label of knob `key` of this fault under `flavor`, or None when
    /// the knob means nothing to that proxy (the palette then hides it).
    pub fn knob_label(&self, key: &str, flavor: Flavor) -> Option<String> {
        // nginx's own words are the fields' names (limit_req's rate, burst, nodelay).
        let words = match (self, key) {
            (_, _) if flavor == Flavor::Nginx => return Some(key.replace('_', " ")),
            (FaultKind::RateLimited { .. }, "nodelay") => return None,
            (FaultKind::RateLimited { .. }, "rate_per_s") => "rate per s (sc_http_req_rate)",
            (FaultKind::RateLimited { .. }, "burst") => "burst (added to the rate)",
            (FaultKind::OversizedHeader { .. }, "header_bytes") => "header bytes (vs tune.bufsize)",
            (FaultKind::SlowApp { .. }, "delay_ms") => "delay ms (vs timeout server)",
            _ => return Some(key.replace('_', " ")),
        };
        Some(words.to_string())
    }
}
