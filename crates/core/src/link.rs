//! Share links. The whole scenario travels in the URL fragment, as the
//! JSON fields that differ from the defaults, base64url-encoded behind a
//! format version: `#s=1.eyJ2ZXJzaW9uIjoxLC4uLn0`. Readable query
//! parameters cover the common cases (`?fault=slow_app&flavor=haproxy&
//! retry=python_requests&seed=7&theme=dark&embed=1`). Nothing here panics
//! on a mangled link: every problem becomes a message and the defaults.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::Value;

use crate::sim::scenario::{Flavor, RetryPolicy};
use crate::sim::{Fault, FaultKind, Scenario};

/// The fragment's own format version (the scenario inside has its own).
pub const LINK_VERSION: &str = "1";

/// Longest fragment payload accepted (bytes of base64).
pub const MAX_PAYLOAD: usize = 64 * 1024;

/// What a page address asks for.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Link {
    /// None: the page's default scenario.
    pub scenario: Option<Scenario>,
    pub theme: Option<String>,
    /// `embed=1`: the compact layout for iframes.
    pub embed: bool,
    /// `start=click`: nothing runs until the reader clicks (embeds in long pages).
    pub click_to_start: bool,
    /// `present=1`: presenter mode (large type, keyboard shortcuts).
    pub present: bool,
    /// `lesson=ID`: open this lesson (checked against the lesson list by the page).
    pub lesson: Option<String>,
    /// `view=NAME`: the section to show first (checked by the page).
    pub view: Option<String>,
    /// `origin=https://host[:port]`: the only origin an embed takes messages
    /// from and posts events to (docs/EMBEDDING.md).
    pub origin: Option<String>,
    /// Why parts of the address were ignored (shown to the user).
    pub problems: Vec<String>,
}

/// `a` with every key whose value equals the one in `defaults` removed.
fn diff(a: &Value, defaults: &Value) -> Option<Value> {
    match (a, defaults) {
        (Value::Object(x), Value::Object(d)) => {
            let kept: serde_json::Map<String, Value> =
                x.iter().filter_map(|(k, v)| match d.get(k) { Some(dv) => diff(v, dv).map(|v| (k.clone(), v)), None => Some((k.clone(), v.clone())) }).collect();
            (!kept.is_empty()).then_some(Value::Object(kept))
        }
        _ if a == defaults => None,
        _ => Some(a.clone()),
    }
}

/// The smallest JSON document that reads back as `s` (its version included).
pub fn minimal_json(s: &Scenario) -> String {
    let full = serde_json::to_value(s).unwrap_or(Value::Null);
    let defaults = serde_json::to_value(Scenario::default()).unwrap_or(Value::Null);
    let mut v = diff(&full, &defaults).unwrap_or_else(|| Value::Object(Default::default()));
    if let Value::Object(m) = &mut v {
        m.insert("version".into(), Value::from(s.version));
    }
    v.to_string()
}

/// `s=1.<base64url>` (without the `#`).
pub fn encode_fragment(s: &Scenario) -> String {
    format!("s={LINK_VERSION}.{}", URL_SAFE_NO_PAD.encode(minimal_json(s)))
}

/// The scenario in a fragment made by `encode_fragment` (with or without `#`).
pub fn decode_fragment(fragment: &str) -> Result<Scenario, String> {
    let f = fragment.trim_start_matches('#');
    let payload = f
        .split('&')
        .find_map(|p| p.strip_prefix("s="))
        .ok_or_else(|| "the link has no scenario (#s=...)".to_string())?;
    let (version, data) = payload.split_once('.').ok_or_else(|| "the scenario part of the link is cut short".to_string())?;
    if version != LINK_VERSION {
        return Err(format!("the link was made by another version of Gateway Lab (link format {version:?}; this page reads {LINK_VERSION:?})"));
    }
    if data.len() > MAX_PAYLOAD {
        return Err(format!("the scenario in the link is too long ({} bytes; at most {MAX_PAYLOAD})", data.len()));
    }
    let bytes = URL_SAFE_NO_PAD.decode(data.trim_end_matches('=')).map_err(|_| "the scenario part of the link is damaged (not base64url): it may have been cut short or re-typed".to_string())?;
    let text = String::from_utf8(bytes).map_err(|_| "the scenario part of the link is damaged (not UTF-8 text)".to_string())?;
    Scenario::from_json(&text).map_err(|e| format!("the scenario in the link is not valid: {e}"))
}

/// The ready scenario or catalog fault named `id`, from `library`.
fn fault_scenario(id: &str, library: &[(&str, &str)]) -> Option<Scenario> {
    if let Some((_, text)) = library.iter().find(|(n, _)| *n == id) {
        return Scenario::from_json(text).ok();
    }
    let kind = FaultKind::catalog().into_iter().find(|k| k.id() == id)?;
    Some(Scenario { faults: vec![Fault::from(kind)], ..Scenario::default() })
}

/// `1`, `true` or an empty value (`?embed`).
fn flag(v: &str) -> bool {
    matches!(v, "1" | "true" | "")
}

/// A lesson or view name: short, ASCII letters, digits, `_` and `-`.
fn is_id(v: &str) -> bool {
    !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned()
}

/// Reads a page address: `query` (`?a=b&c=d`) and `fragment` (`#s=...`).
/// `library` lists the ready scenarios by name (`fault=` may name one).
pub fn parse(query: &str, fragment: &str, library: &[(&str, &str)]) -> Link {
    let mut link = Link::default();
    let f = fragment.trim_start_matches('#');
    if !f.is_empty() {
        match decode_fragment(f) {
            Ok(s) => link.scenario = Some(s),
            Err(e) => link.problems.push(e),
        }
    }
    let mut scenario = link.scenario.take();
    for pair in query.trim_start_matches('?').split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (k, v) = (percent_decode(k), percent_decode(v));
        match k.as_str() {
            "fault" => match fault_scenario(&v, library) {
                Some(s) if scenario.is_none() => scenario = Some(s),
                Some(_) => {} // the fragment's full scenario wins
                None => link.problems.push(format!("fault={v:?} is not a fault or scenario this page knows")),
            },
            "flavor" => match v.as_str() {
                "nginx" | "haproxy" => {
                    let s = scenario.get_or_insert_with(Scenario::default);
                    s.proxy.flavor = if v == "haproxy" { Flavor::Haproxy } else { Flavor::Nginx };
                }
                _ => link.problems.push(format!("flavor={v:?}: expected nginx or haproxy")),
            },
            "retry" => match RetryPolicy::preset(&v) {
                Some(p) => scenario.get_or_insert_with(Scenario::default).clients.retry = p,
                None => link.problems.push(format!("retry={v:?} is not a retry preset")),
            },
            "seed" => match v.parse::<u64>() {
                Ok(seed) => scenario.get_or_insert_with(Scenario::default).seed = seed,
                Err(_) => link.problems.push(format!("seed={v:?}: expected a whole number")),
            },
            "theme" => match v.as_str() {
                "light" | "dark" | "system" => link.theme = Some(v),
                _ => link.problems.push(format!("theme={v:?}: expected light, dark or system")),
            },
            "embed" => link.embed = flag(&v),
            "present" => link.present = flag(&v),
            "start" => match v.as_str() {
                "click" => link.click_to_start = true,
                "auto" => link.click_to_start = false,
                _ => link.problems.push(format!("start={v:?}: expected click or auto")),
            },
            "origin" => match crate::embed_api::parse_origin(&v) {
                Ok(o) => link.origin = Some(o),
                Err(e) => link.problems.push(e),
            },
            "lesson" if is_id(&v) => link.lesson = Some(v),
            "view" if is_id(&v) => link.view = Some(v),
            "lesson" | "view" => link.problems.push(format!("{k}={v:?} is not a name (letters, digits, _ and -)")),
            // Unknown keys are ignored (a host page may add its own).
            _ => {}
        }
    }
    if let Some(s) = &scenario {
        if let Err(e) = s.validate() {
            link.problems.push(format!("the linked scenario is not valid: {e}"));
            scenario = None;
        }
    }
    link.scenario = scenario;
    link
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_default_scenario_is_a_tiny_link() {
        assert_eq!(minimal_json(&Scenario::default()), r#"{"version":1}"#);
        let frag = encode_fragment(&Scenario::default());
        assert_eq!(decode_fragment(&frag).unwrap(), Scenario::default());
    }

    #[test]
    fn every_ready_scenario_round_trips() {
        for (name, text) in crate::scenarios::READY {
            let s = Scenario::from_json(text).unwrap();
            let frag = encode_fragment(&s);
            assert_eq!(decode_fragment(&frag).unwrap(), s, "{name}");
            assert!(frag.len() < 2_000, "{name}: {} bytes", frag.len());
        }
    }

    #[test]
    fn mangled_links_give_messages() {
        for (frag, expect) in [
            ("#s=1.@@@", "damaged"),
            ("#s=1", "cut short"),
            ("#s=9.e30", "another version"),
            ("#s=1.eyJ2ZXJzaW9uIjoxLCJzZWVkIjoi", "not valid"),
            ("#x=1", "no scenario"),
        ] {
            let e = decode_fragment(frag).unwrap_err();
            assert!(e.contains(expect), "{frag}: {e}");
        }
        let l = parse("?fault=nope&seed=x&theme=pink", "#s=1.%%%", &[]);
        assert!(l.scenario.is_none());
        assert_eq!(l.problems.len(), 4, "{:?}", l.problems);
    }

    #[test]
    fn readable_parameters() {
        let l = parse("?fault=slow_app&flavor=haproxy&retry=python_requests&seed=7&theme=dark&embed=1", "", crate::scenarios::READY);
        let s = l.scenario.unwrap();
        assert_eq!(s.faults[0].kind.id(), "slow_app");
        assert_eq!(s.proxy.flavor, Flavor::Haproxy);
        assert_eq!(s.clients.retry, RetryPolicy::python_requests());
        assert_eq!(s.seed, 7);
        assert_eq!((l.theme.as_deref(), l.embed), (Some("dark"), true));
        assert!(l.problems.is_empty());
        let l = parse("?lesson=timeouts-504&view=terminal&present=1&start=click&embed", "", &[]);
        assert_eq!((l.lesson.as_deref(), l.view.as_deref()), (Some("timeouts-504"), Some("terminal")));
        assert!(l.present && l.click_to_start && l.embed && l.problems.is_empty());
        let l = parse("?embed=1&origin=https%3A%2F%2FDocs.Example.com", "", &[]);
        assert_eq!((l.embed, l.origin.as_deref(), l.problems.len()), (true, Some("https://docs.example.com"), 0));
        let l = parse("?origin=*", "", &[]);
        assert_eq!((l.origin, l.problems.len()), (None, 1));
        let l = parse("?lesson=%3Cscript%3E&start=later", "", &[]);
        assert_eq!((l.lesson, l.problems.len()), (None, 2));
    }
}
