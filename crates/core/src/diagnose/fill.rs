//! Carrying pasted values into a candidate's scenario: every JSON leaf that
//! holds a marker's probe value takes the pasted one (the client address,
//! the host, a socket path in a fault's knob, an upstream address in both
//! the server line and the app's listen address). No field table: the
//! probe values are distinctive, so where they sit is where they go.

use std::collections::BTreeMap;

use serde_json::Value;

use super::catalog::PROBES;
use super::template::{method_of, Marker};
use crate::sim::Scenario;

/// Replaces `probe` by `new` in every leaf of `v`: strings equal to it (or,
/// for a probe of 6 characters or more, containing it, as proxy_pass
/// contains the upstream's name), numbers equal to it when `numeric`.
pub fn substitute(v: &mut Value, probe: &str, new: &str, numeric: bool) -> usize {
    match v {
        Value::String(s) => {
            if s == probe {
                *s = new.to_string();
                1
            } else if !numeric && probe.len() >= 6 && s.contains(probe) {
                *s = s.replace(probe, new);
                1
            } else {
                0
            }
        }
        Value::Number(n) if numeric => match (n.as_u64(), probe.parse::<u64>(), new.parse::<u64>()) {
            (Some(a), Ok(b), Ok(c)) if a == b => {
                *v = Value::from(c);
                1
            }
            _ => 0,
        },
        Value::Array(a) => a.iter_mut().map(|x| substitute(x, probe, new, numeric)).sum(),
        Value::Object(m) => m.iter_mut().filter(|(k, _)| k.as_str() != "title" && k.as_str() != "description" && k.as_str() != "type").map(|(_, x)| substitute(x, probe, new, numeric)).sum(),
        _ => 0,
    }
}

/// The probe scenario with `values` (marker index → pasted text) filled in
/// and the other probe values back to their defaults. Err names what the
/// scenario refused.
pub fn fill(probe: &Scenario, markers: &[Marker], values: &BTreeMap<usize, String>) -> Result<Scenario, String> {
    let mut v = serde_json::to_value(probe).map_err(|e| e.to_string())?;
    let mut reverted: Vec<&str> = Vec::new();
    for (&idx, val) in values {
        if let Some(m) = method_of(idx) {
            if !m.is_empty() {
                substitute(&mut v, m, val, false);
            }
            continue;
        }
        let Some(m) = markers.get(idx) else { continue };
        substitute(&mut v, &m.probe, val, m.numeric);
        reverted.push(&m.probe);
    }
    for (p, orig) in PROBES {
        // A pasted value that happens to be a probe value (a catalog line
        // pasted back into another candidate) stays.
        if !reverted.contains(p) && !values.values().any(|v| v == p) {
            substitute(&mut v, p, orig, false);
        }
    }
    let sc: Scenario = serde_json::from_value(v).map_err(|e| e.to_string())?;
    sc.validate().map_err(|e| e.to_string())?;
    Ok(sc)
}
