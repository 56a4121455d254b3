//! Share links. The whole scenario travels in the URL fragment, as the
//! JSON fields that differ from the defaults, base64url-encoded behind a
//! format version: `#s=1.eyJ2ZXJzaW9uIjoxLC4uLn0`. Readable query
//! parameters cover the common cases (`?fault=slow_app&flavor=haproxy&
//! retry=python_requests&seed=7&theme=dark&embed=1`), in any order (`parse`
//! says how the fragment, `fault=` and the modifiers combine, and how a
//! repeated key reads). Nothing here panics on a mangled link: every
//! problem becomes a message and the defaults.

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
    /// `view=NAME`: the tab to open (or `topology`, the stage), checked by the page.
    pub view: Option<String>,
    /// `paste=TEXT` (URL-encoded log lines): the page opens on their diagnosis
    /// (`crate::diagnose`), for docs links. At most `MAX_PASTE` bytes once decoded.
    pub paste: Option<String>,
    /// `origin=https://host[:port]`: the only origin an embed takes messages
    /// from and posts events to (docs/EMBEDDING.md).
    pub origin: Option<String>,
    /// What chose the scenario besides its seed, as notices name it: the
    /// fragment, `fault="…"`, `flavor="…"`, `retry="…"` (a lesson, which
    /// starts from its own scenario, cannot honour them).
    pub chosen_by: Vec<String>,
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

/// Longest `paste=` text accepted, decoded (a link, not a log file: the
/// paste box takes more).
pub const MAX_PASTE: usize = 8 * 1024;

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

/// The query keys `parse` reads, in the order it applies them (and reports
/// their problems): the base scenario (`fault`), its modifiers, the rest.
/// Any other key is ignored without a word (a host page may add its own).
pub const KEYS: &[&str] = &["fault", "flavor", "retry", "layers", "seed", "theme", "embed", "present", "start", "origin", "lesson", "view", "paste"];

/// The query's known keys, each with its last value (decoded). A key given
/// more than once with different values: the last one wins and a problem
/// says so (`?fault=a&fault=b` reads as `fault=b`), the way a parameter
/// appended to a link overrides the one already there.
fn read_query(query: &str, problems: &mut Vec<String>) -> Vec<(&'static str, String)> {
    let pairs: Vec<(String, String)> = query
        .trim_start_matches('?')
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect();
    KEYS.iter()
        .filter_map(|key| {
            let values: Vec<&String> = pairs.iter().filter(|(k, _)| k == key).map(|(_, v)| v).collect();
            let last = *values.last()?;
            if values.iter().any(|v| *v != last) {
                // At most five values are quoted (a link may repeat a key thousands of times).
                let mut all: Vec<String> = values.iter().take(5).map(|v| format!("{v:?}")).collect();
                if values.len() > 5 {
                    all.push("…".into());
                }
                problems.push(format!("{key} is given {} times ({}): the last one, {key}={last:?}, is used", values.len(), all.join(", ")));
            }
            Some((*key, last.clone()))
        })
        .collect()
}

/// `cloudflare,alb` → those layers with their defaults; `none` → no layer.
fn parse_layers(v: &str) -> Result<Vec<crate::sim::layer::Layer>, String> {
    use crate::sim::layer::{LayerKind, MAX_LAYERS};
    if v == "none" {
        return Ok(Vec::new());
    }
    let names: Vec<&str> = v.split(',').map(str::trim).collect();
    if names.len() > MAX_LAYERS {
        return Err(format!("layers={v:?}: at most {MAX_LAYERS} layers"));
    }
    names
        .iter()
        .map(|n| {
            LayerKind::parse(n).map(LayerKind::default_layer).ok_or_else(|| {
                format!("layers={v:?}: {n:?} is not a layer (expected {}, or none)", LayerKind::ALL.iter().map(|k| k.key()).collect::<Vec<_>>().join(", "))
            })
        })
        .collect()
}

/// The `layers=` value for `s`'s layers when each has its defaults (the
/// readable form of a link), else None (the fragment carries them).
pub fn layers_param(s: &Scenario) -> Option<String> {
    if s.layers.is_empty() || s.layers.iter().any(|l| *l != l.kind().default_layer()) {
        return None;
    }
    Some(s.layers.iter().map(|l| l.kind().key()).collect::<Vec<_>>().join(","))
}

/// The query keys that choose or change the scenario (`parse` reads them
/// first); the others are about the page around it.
pub const SCENARIO_KEYS: &[&str] = &["fault", "flavor", "retry", "layers", "seed"];

/// One of the page's own keys (`theme`, `embed`, `present`, `start`,
/// `origin`, `lesson`, `view`, `paste`): sets `link`'s field or adds a problem.
fn page_key(link: &mut Link, k: &str, v: String) {
    match k {
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
        // Percent-decoding was lossy (`decode_utf8_lossy`): a broken
        // encoding shows as U+FFFD, which no log line contains.
        "paste" if v.len() > MAX_PASTE => link.problems.push(format!("paste= is too long ({} bytes; a link carries at most {MAX_PASTE}): paste the lines into the box instead", v.len())),
        "paste" if v.contains('\u{FFFD}') => link.problems.push("paste= is damaged (not URL-encoded UTF-8 text): it may have been cut short".into()),
        "paste" if v.trim().is_empty() => link.problems.push("paste= is empty: nothing to diagnose".into()),
        "paste" => link.paste = Some(v),
        _ => {} // read_query returns only KEYS; the scenario's keys are not the page's
    }
}

/// The cheap part of `parse`, for a page that must start before it can read
/// a scenario: everything but the scenario (the page's flags, theme, tab,
/// lesson id, paste and origin, with their problems), and whether the
/// address asks for a scenario at all (a fragment, or one of
/// `SCENARIO_KEYS`). It reads no JSON. When it says no, its `Link` is the
/// one `parse` returns; when it says yes, `parse` adds the scenario, the
/// `chosen_by` and the scenario's problems.
pub fn parse_page(query: &str, fragment: &str) -> (Link, bool) {
    let mut link = Link::default();
    let mut wants = !fragment.trim_start_matches('#').is_empty();
    for (k, v) in read_query(query, &mut link.problems) {
        if SCENARIO_KEYS.contains(&k) {
            wants = true;
        } else {
            page_key(&mut link, k, v);
        }
    }
    (link, wants)
}

/// Reads a page address: `query` (`?a=b&c=d`) and `fragment` (`#s=...`).
/// `library` lists the ready scenarios by name (`fault=` may name one).
///
/// The order of the parameters does not matter. First the base scenario:
/// the fragment's (`#s=…`), else `fault=`'s, else (when a modifier is
/// given) the default one; `fault=` next to a fragment that reads is
/// ignored, with a problem saying so (a damaged fragment falls back to
/// `fault=`). Then the modifiers `flavor`, `retry` and `seed` change that
/// base. A repeated key: the last value wins (see `read_query`). Every
/// value that cannot be honoured becomes a problem, listed in the order of
/// `KEYS` whatever the order of the address.
pub fn parse(query: &str, fragment: &str, library: &[(&str, &str)]) -> Link {
    let mut link = Link::default();
    let f = fragment.trim_start_matches('#');
    let mut scenario = None;
    if !f.is_empty() {
        match decode_fragment(f) {
            Ok(s) => {
                scenario = Some(s);
                link.chosen_by.push("the scenario in the link (#s=…)".into());
            }
            Err(e) => link.problems.push(e),
        }
    }
    let from_fragment = scenario.is_some();
    let params = read_query(query, &mut link.problems);
    for (k, v) in params {
        match k {
            // The base scenario (the fragment's, if it read, wins).
            "fault" => match fault_scenario(&v, library) {
                Some(_) if from_fragment => link.problems.push(format!("fault={v:?} was ignored: the scenario in the link's fragment (#s=...) wins")),
                Some(s) => {
                    scenario = Some(s);
                    link.chosen_by.push(format!("fault={v:?}"));
                }
                None => link.problems.push(format!("fault={v:?} is not a fault or scenario this page knows")),
            },
            // Modifiers of the base scenario (`KEYS` puts them after `fault`).
            "flavor" => match Flavor::parse(v.as_str()) {
                Some(f) => {
                    let s = scenario.get_or_insert_with(Scenario::default);
                    s.proxy.flavor = f;
                    link.chosen_by.push(format!("flavor={v:?}"));
                }
                None => link.problems.push(format!(
                    "flavor={v:?}: expected {}",
                    Flavor::ALL.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(", ")
                )),
            },
            "retry" => match RetryPolicy::preset(&v) {
                Some(p) => {
                    scenario.get_or_insert_with(Scenario::default).clients.retry = p;
                    link.chosen_by.push(format!("retry={v:?}"));
                }
                None => link.problems.push(format!("retry={v:?} is not a retry preset")),
            },
            // `layers=cloudflare,alb`: these layers in front of the proxy, outermost first,
            // with their documented defaults; `layers=none` removes them.
            "layers" => match parse_layers(&v) {
                Ok(layers) => {
                    scenario.get_or_insert_with(Scenario::default).layers = layers;
                    link.chosen_by.push(format!("layers={v:?}"));
                }
                Err(e) => link.problems.push(e),
            },
            "seed" => match v.parse::<u64>() {
                Ok(seed) => scenario.get_or_insert_with(Scenario::default).seed = seed,
                Err(_) => link.problems.push(format!("seed={v:?}: expected a whole number")),
            },
            // The page around the scenario.
            _ => page_key(&mut link, k, v),
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
    fn parse_page_is_parse_without_the_scenario() {
        let addresses = [
            ("", ""),
            ("?theme=dark&present=1&view=logs", ""),
            ("?embed=1&start=click&origin=https://docs.example.com", ""),
            ("?lesson=01-app-not-running&theme=sepia&view=a%20b", ""),
            ("?paste=&start=later&theme=dark&theme=light", ""),
            ("?fault=slow_app&theme=dark&embed=1", ""),
            ("?flavor=haproxy&seed=x&lesson=01-app-not-running", ""),
            ("?retry=nope&layers=alb&view=config", ""),
            ("?seed=7", ""),
            ("?present=1", "#s=1.eyJ2ZXJzaW9uIjo0fQ"),
            ("", "#s=2.abc"),
            ("?theme=dark", "#top"),
        ];
        for (q, f) in addresses {
            let full = parse(q, f, crate::scenarios::READY);
            let (page, wants) = parse_page(q, f);
            let asks = !f.is_empty() || SCENARIO_KEYS.iter().any(|k| q.contains(&format!("{k}=")));
            assert_eq!(wants, asks, "{q}{f}");
            if !wants {
                assert_eq!(page, full, "{q}{f}");
            }
            let strip = |l: &Link| Link { scenario: None, chosen_by: Vec::new(), problems: Vec::new(), ..l.clone() };
            assert_eq!(strip(&page), strip(&full), "{q}{f}");
            // The page's problems are among the full parse's, in the same order.
            let mut rest = full.problems.iter();
            for p in &page.problems {
                assert!(rest.any(|x| x == p), "{q}{f}: {p:?} not in {:?}", full.problems);
            }
        }
    }

    #[test]
    fn layers_read_from_the_query_in_order_and_bad_names_are_problems() {
        use crate::sim::layer::LayerKind;
        let l = parse("?fault=app_down&layers=cloudflare,alb", "", crate::scenarios::READY);
        let s = l.scenario.unwrap();
        assert_eq!(s.layers.iter().map(|l| l.kind()).collect::<Vec<_>>(), vec![LayerKind::Cloudflare, LayerKind::Alb]);
        assert_eq!(s.faults.len(), 1);
        assert_eq!(layers_param(&s).as_deref(), Some("cloudflare,alb"));
        let l = parse("?fault=chain_app_down&layers=none", "", crate::scenarios::READY);
        assert!(l.scenario.unwrap().layers.is_empty());
        let l = parse("?layers=akamai", "", crate::scenarios::READY);
        assert!(l.problems[0].contains("\"akamai\" is not a layer (expected cloudflare, alb, or none)"), "{:?}", l.problems);
        let l = parse("?layers=alb,alb,alb,alb,alb", "", crate::scenarios::READY);
        assert!(l.problems[0].contains("at most 4 layers"), "{:?}", l.problems);
        // The fragment carries layers with their settings.
        let mut s = Scenario::default();
        s.layers = vec![LayerKind::Alb.default_layer()];
        if let crate::sim::layer::Layer::Alb(a) = &mut s.layers[0] {
            a.idle_timeout_s = 120;
        }
        assert_eq!(layers_param(&s), None);
        assert_eq!(decode_fragment(&encode_fragment(&s)).unwrap(), s);
        // Cloudflare's SSL/TLS mode and the origin's TLS travel the same way.
        let mut s = Scenario::default();
        let mut cf = crate::sim::layer::cloudflare::Cloudflare::default();
        cf.ssl_mode = crate::sim::layer::cloudflare::SslMode::Strict;
        cf.origin_tls = crate::sim::layer::cloudflare::OriginTls::Expired;
        s.layers = vec![crate::sim::layer::Layer::Cloudflare(cf)];
        assert_eq!(layers_param(&s), None);
        assert!(minimal_json(&s).contains(r#""ssl_mode":"strict""#), "{}", minimal_json(&s));
        assert_eq!(decode_fragment(&encode_fragment(&s)).unwrap(), s);
    }

    #[test]
    fn a_default_scenario_is_a_tiny_link() {
        assert_eq!(minimal_json(&Scenario::default()), r#"{"version":3}"#);
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

    #[test]
    fn paste_parameter() {
        let l = parse("?paste=connect%28%29%20to%20unix%3A%2Frun%2Fphp%2Fphp8.2-fpm.sock%20failed", "", &[]);
        assert_eq!(l.paste.as_deref(), Some("connect() to unix:/run/php/php8.2-fpm.sock failed"));
        assert!(l.problems.is_empty() && l.scenario.is_none());
        let l = parse("?paste=a+b%0Ac", "", &[]);
        assert_eq!(l.paste.as_deref(), Some("a b\nc"));
        for q in ["?paste=%FF%FE", "?paste=", "?paste=%20%20"] {
            let l = parse(q, "", &[]);
            assert_eq!((l.paste.as_deref(), l.problems.len()), (None, 1), "{q}: {:?}", l.problems);
        }
        let long = format!("?paste={}", "x".repeat(MAX_PASTE + 1));
        let l = parse(&long, "", &[]);
        assert!(l.paste.is_none() && l.problems[0].contains("too long"), "{:?}", l.problems);
        // Broken percent escapes never panic.
        for q in ["?paste=%", "?paste=%E2%82", "?paste=%%%41", "?paste=%00"] {
            let _ = parse(q, "", &[]);
        }
    }

    /// Every order of `items` (Heap's algorithm).
    fn permutations<T: Clone>(items: &[T]) -> Vec<Vec<T>> {
        fn go<T: Clone>(k: usize, a: &mut Vec<T>, out: &mut Vec<Vec<T>>) {
            if k <= 1 {
                out.push(a.clone());
                return;
            }
            for i in 0..k {
                go(k - 1, a, out);
                a.swap(if k.is_multiple_of(2) { i } else { 0 }, k - 1);
            }
        }
        let mut out = Vec::new();
        go(items.len(), &mut items.to_vec(), &mut out);
        out
    }

    /// The seven readable parameters of issue 14 (one value each).
    const SEVEN: [&str; 7] = ["fault=app_down", "flavor=haproxy", "seed=7", "theme=dark", "lesson=timeouts-504", "retry=python_requests", "embed=1"];

    /// A fragment with a scenario unlike the defaults (slow_app, seed 3).
    fn fragment() -> (String, Scenario) {
        let mut s = Scenario { faults: vec![Fault::from(FaultKind::catalog().into_iter().find(|k| k.id() == "slow_app").unwrap())], ..Scenario::default() };
        s.seed = 3;
        (format!("#{}", encode_fragment(&s)), s)
    }

    /// What `params` (any of SEVEN) on top of `base` must give.
    fn expected(params: &[&str], base: Option<Scenario>) -> Link {
        let mut link = Link::default();
        let from_fragment = base.is_some();
        let mut scenario = base;
        // What chose the scenario, in KEYS order after the fragment.
        if from_fragment {
            link.chosen_by.push("the scenario in the link (#s=…)".into());
        }
        for (p, named) in [("fault=app_down", r#"fault="app_down""#), ("flavor=haproxy", r#"flavor="haproxy""#), ("retry=python_requests", r#"retry="python_requests""#)] {
            if params.contains(&p) && !(from_fragment && p == "fault=app_down") {
                link.chosen_by.push(named.into());
            }
        }
        if params.contains(&"fault=app_down") {
            if from_fragment {
                link.problems.push(r#"fault="app_down" was ignored: the scenario in the link's fragment (#s=...) wins"#.into());
            } else {
                let text = crate::scenarios::READY.iter().find(|(n, _)| *n == "app_down").unwrap().1;
                scenario = Some(Scenario::from_json(text).unwrap());
            }
        }
        for p in params {
            match *p {
                "flavor=haproxy" => scenario.get_or_insert_with(Scenario::default).proxy.flavor = Flavor::Haproxy,
                "seed=7" => scenario.get_or_insert_with(Scenario::default).seed = 7,
                "retry=python_requests" => scenario.get_or_insert_with(Scenario::default).clients.retry = RetryPolicy::python_requests(),
                "theme=dark" => link.theme = Some("dark".into()),
                "lesson=timeouts-504" => link.lesson = Some("timeouts-504".into()),
                "embed=1" => link.embed = true,
                _ => {}
            }
        }
        link.scenario = scenario;
        link
    }

    #[test]
    fn every_order_of_the_seven_parameters_gives_the_same_link() {
        let (frag, frag_scenario) = fragment();
        let orders = permutations(&SEVEN);
        assert_eq!(orders.len(), 5_040);
        let want = expected(&SEVEN, None);
        let s = want.scenario.as_ref().unwrap();
        // The named fault, with every modifier applied to it.
        assert_eq!((s.faults[0].kind.id(), s.proxy.flavor, s.seed), ("app_down", Flavor::Haproxy, 7));
        assert_eq!(s.clients.retry, RetryPolicy::python_requests());
        assert!(want.problems.is_empty());
        let want_frag = expected(&SEVEN, Some(frag_scenario));
        let s = want_frag.scenario.as_ref().unwrap();
        // The fragment's scenario, modified; fault= is ignored and the reader is told.
        assert_eq!((s.faults[0].kind.id(), s.proxy.flavor, s.seed), ("slow_app", Flavor::Haproxy, 7));
        assert_eq!(want_frag.problems.len(), 1);
        let mut distinct = std::collections::HashSet::new();
        for order in &orders {
            let q = format!("?{}", order.join("&"));
            assert!(distinct.insert(q.clone()), "{q} twice");
            assert_eq!(parse(&q, "", crate::scenarios::READY), want, "{q}");
            assert_eq!(parse(&q, &frag, crate::scenarios::READY), want_frag, "{q} {frag}");
        }
    }

    #[test]
    fn every_pair_of_parameters_with_and_without_a_fragment() {
        let (frag, frag_scenario) = fragment();
        for a in SEVEN {
            for b in SEVEN.into_iter().filter(|b| *b != a) {
                let q = format!("?{a}&{b}");
                assert_eq!(parse(&q, "", crate::scenarios::READY), expected(&[a, b], None), "{q}");
                assert_eq!(parse(&q, &frag, crate::scenarios::READY), expected(&[a, b], Some(frag_scenario.clone())), "{q} {frag}");
            }
            // One alone, too (e.g. `#s=…&seed=7` modifies the fragment's scenario).
            assert_eq!(parse(&format!("?{a}"), &frag, crate::scenarios::READY), expected(&[a], Some(frag_scenario.clone())), "{a}");
        }
    }

    #[test]
    fn the_reported_orders_open_the_named_fault() {
        for q in ["?seed=7&fault=app_down", "?fault=app_down&seed=7"] {
            let s = parse(q, "", crate::scenarios::READY).scenario.unwrap();
            assert_eq!((s.faults[0].kind.id(), s.seed), ("app_down", 7), "{q}");
        }
        let l = parse("?fault=app_down&flavor=apache", "", crate::scenarios::READY);
        let s = l.scenario.expect("a scenario");
        assert_eq!((s.faults[0].kind.id(), s.proxy.flavor), ("app_down", Flavor::Apache));
        assert!(l.problems.is_empty(), "{:?}", l.problems);
        for q in ["?flavor=haproxy&fault=slow_app", "?fault=slow_app&flavor=haproxy"] {
            let s = parse(q, "", crate::scenarios::READY).scenario.unwrap();
            assert_eq!((s.faults[0].kind.id(), s.proxy.flavor), ("slow_app", Flavor::Haproxy), "{q}");
        }
    }

    #[test]
    fn a_damaged_fragment_falls_back_to_fault() {
        let l = parse("?seed=7&fault=slow_app", "#s=1.@@@", crate::scenarios::READY);
        let s = l.scenario.unwrap();
        assert_eq!((s.faults[0].kind.id(), s.seed), ("slow_app", 7));
        assert_eq!(l.problems.len(), 1);
        assert!(l.problems[0].contains("damaged"), "{:?}", l.problems);
    }

    #[test]
    fn a_repeated_key_the_last_value_wins_and_the_reader_is_told() {
        let l = parse("?fault=app_down&seed=1&fault=slow_app", "", crate::scenarios::READY);
        assert_eq!(l.scenario.as_ref().unwrap().faults[0].kind.id(), "slow_app");
        assert_eq!(l.problems, vec![r#"fault is given 2 times ("app_down", "slow_app"): the last one, fault="slow_app", is used"#.to_string()]);
        let l = parse("?seed=1&theme=dark&seed=2&seed=3", "", &[]);
        assert_eq!(l.scenario.unwrap().seed, 3);
        assert_eq!(l.problems.len(), 1);
        assert!(l.problems[0].starts_with("seed is given 3 times"), "{:?}", l.problems);
        // The same value (as written) twice: nothing to say.
        let l = parse("?seed=4&seed=4&embed=1&embed=1", "", &[]);
        assert_eq!((l.scenario.unwrap().seed, l.embed, l.problems.len()), (4, true, 0));
        // A repeated key whose last value is bad: both are said, and the earlier value is not used.
        let l = parse("?seed=4&seed=x", "", &[]);
        assert_eq!((l.scenario, l.problems.len()), (None, 2));
        // A key repeated many times: one message, of bounded length.
        let l = parse(&(0..10_000).map(|i| format!("seed={i}")).collect::<Vec<_>>().join("&"), "", &[]);
        assert_eq!((l.scenario.unwrap().seed, l.problems.len()), (9_999, 1));
        assert!(l.problems[0].starts_with(r#"seed is given 10000 times ("0", "1", "2", "3", "4", …): the last one, seed="9999""#), "{:?}", l.problems);
        // Unknown keys stay silent, repeated or not (a host page may add its own).
        let l = parse("?utm=a&utm=b&ref=x", "", &[]);
        assert_eq!(l, Link::default());
    }

    #[test]
    fn every_problem_gives_a_message() {
        let (frag, _) = fragment();
        let lib = crate::scenarios::READY;
        // A bad scenario made valid JSON: a fragment the validator refuses.
        let bad = format!("#s={LINK_VERSION}.{}", URL_SAFE_NO_PAD.encode(r#"{"version":1,"clients":{"count":0}}"#));
        for (query, fragment, says) in [
            ("?fault=nope", "", r#"fault="nope" is not a fault"#),
            ("?fault=app_down", frag.as_str(), r#"fault="app_down" was ignored"#),
            ("?fault=nope", frag.as_str(), r#"fault="nope" is not a fault"#),
            ("?flavor=traefik", "", r#"flavor="traefik""#),
            ("?retry=forever", "", r#"retry="forever" is not a retry preset"#),
            ("?seed=-1", "", r#"seed="-1": expected a whole number"#),
            ("?theme=pink", "", r#"theme="pink""#),
            ("?start=later", "", r#"start="later""#),
            ("?origin=*", "", "origin"),
            ("?lesson=%3Cx%3E", "", r#"lesson="<x>" is not a name"#),
            ("?view=a%20b", "", r#"view="a b" is not a name"#),
            ("?theme=dark&theme=light", "", "theme is given 2 times"),
            ("", "#s=1.@@@", "damaged"),
            ("", "#s=9.e30", "another version"),
            ("", bad.as_str(), "not valid"),
        ] {
            let l = parse(query, fragment, lib);
            assert_eq!(l.problems.len(), 1, "{query} {fragment}: {:?}", l.problems);
            assert!(l.problems[0].contains(says), "{query} {fragment}: {:?}", l.problems);
        }
        // Several problems: one message each, in a fixed order whatever the order of the address.
        let bad_params = ["fault=nope", "flavor=x", "retry=x", "seed=x", "theme=x", "start=x", "lesson=%3C"];
        let first = parse(&format!("?{}", bad_params.join("&")), "", lib);
        assert_eq!(first.problems.len(), bad_params.len(), "{:?}", first.problems);
        for order in permutations(&bad_params) {
            assert_eq!(parse(&format!("?{}", order.join("&")), "", lib), first, "{order:?}");
        }
    }
}
