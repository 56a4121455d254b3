//! "Paste your error": from pasted log lines to the scenario whose run
//! writes them (issue 17).
//!
//! [`diagnose`] is a pure function: text in, a [`Diagnosis`] (the
//! reproducing scenario, which pasted lines it placed and the line the run
//! writes for each, which it could not place, the other causes that write
//! the same lines) or a [`DiagnoseError`] out. The page and the CLI
//! (`gateway-sim diagnose`) call it alike.
//!
//! How: `catalog` runs every candidate (each catalog fault × its knob
//! variants × flavor × topology, the ready scenarios) once, lazily, and
//! keeps each line it wrote as a `template` whose variable parts are slots.
//! A pasted line is laid over the templates; the candidate that places the
//! most pasted lines wins; `fill` carries the pasted values (addresses,
//! paths, names...) into its scenario; the result is run again and every
//! placed line checked against what the run wrote, values that the run
//! does not write back are dropped. Docs: docs/DIAGNOSE.md.

pub mod catalog;
pub mod fill;
pub mod input;
pub mod template;

use std::collections::BTreeMap;

use catalog::{Catalog, Source};
use template::{match_head, match_pieces, method_of, split_context, Piece, Template};

use crate::sim::scenario::Flavor;
use crate::sim::{FaultKind, Scenario};

/// A pasted line the diagnosis placed.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Placed {
    /// 1-based line number in the paste.
    pub line: usize,
    pub pasted: String,
    /// The line the reproduction writes in its place (same template).
    pub reproduced: String,
    pub source: Source,
    /// Pasted values carried into the scenario: (what, value).
    pub carried: Vec<(String, String)>,
    /// Where the reproduction differs beyond times and counters, in words.
    pub differences: Vec<String>,
}

/// A pasted line the diagnosis could not place.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Unplaced {
    pub line: usize,
    pub text: String,
    pub reason: String,
}

/// A near miss, for "not recognised".
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Nearest {
    /// The candidate run (`slow_app · nginx`).
    pub candidate: String,
    /// A line it writes.
    pub line: String,
}

/// How much the placed lines say.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Evidence {
    /// At least one placed line names the cause (an error.log line,
    /// HAProxy's termination state, the app's log...).
    Cause,
    /// The lines fit several causes and were quoted without the words that
    /// tell them apart (an error.log message without its ` while ...`).
    /// The CLI says "not recognised" for these.
    Ambiguous,
    /// Only the status (an nginx access line, a status line, an error
    /// page): the scenario reproduces them, but `alternatives` write them
    /// as well and the paste cannot tell which. The CLI says "not
    /// recognised" for these.
    StatusOnly,
}

/// What the paste was found to be.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Diagnosis {
    pub evidence: Evidence,
    /// The complete scenario (version 1) whose run writes the placed lines.
    pub scenario: Scenario,
    /// The candidate it came from (`crash_mid_request · nginx`).
    pub candidate: String,
    /// The fault's id (`crash_mid_request`); None for a healthy run.
    pub fault: Option<String>,
    pub flavor: Flavor,
    /// The cause and the fix, in the chosen proxy's words (the engine's own).
    pub cause: Option<String>,
    pub fix: Option<String>,
    pub placed: Vec<Placed>,
    pub unplaced: Vec<Unplaced>,
    /// Other faults whose runs write the same pasted lines (the paste alone
    /// cannot tell them apart), with their candidate labels.
    pub alternatives: Vec<String>,
}

/// Why there is no diagnosis.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub enum DiagnoseError {
    /// Nothing readable: binary, too large, too many lines, empty.
    Unusable(String),
    /// Readable, but no candidate writes it (or only its status).
    NotRecognised { message: String, nearest: Vec<Nearest> },
}

impl std::fmt::Display for DiagnoseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DiagnoseError::Unusable(m) => f.write_str(m),
            DiagnoseError::NotRecognised { message, .. } => f.write_str(message),
        }
    }
}

/// Steps the matcher may take in one call, all lines together: bounds the
/// work of any paste (each template match also has its own budget).
pub const CALL_BUDGET: usize = 3_000_000;

/// One pasted line laid over one template.
#[derive(Clone, Debug)]
struct Hit {
    entry: usize,
    /// Literal characters matched: the more, the better the fit.
    score: usize,
    /// Marker index → pasted value.
    values: Vec<(usize, String)>,
    /// Context values that did not fit: (key, pasted value).
    misfits: Vec<(String, String)>,
    /// Context fields of the paste that the template does not have at all
    /// (`subrequest: "/auth"` pasted, a line without it in the template).
    extra: Vec<String>,
    /// Fitted only without its action clause (the paste stops before ` while ...`).
    partial: bool,
}

/// Slot texts paired with the marker of each slot.
fn bindings(pieces: &[Piece], values: &[&str]) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut k = 0;
    for p in pieces {
        match p {
            Piece::Lit(_) => {}
            Piece::Slot(_) => k += 1,
            Piece::Marker(m, _) => {
                if let Some(v) = values.get(k) {
                    out.push((*m, v.to_string()));
                }
                k += 1;
            }
        }
    }
    out
}

fn literal_len(p: &[Piece]) -> usize {
    p.iter().map(|p| if let Piece::Lit(s) = p { s.len() } else { 0 }).sum()
}

/// Lays `text` over template `t`: the head must fit (whole, or from its
/// message on); each context field the paste also has is matched, a misfit
/// noted. None if the head does not fit.
fn lay(entry: usize, t: &Template, text: &str, budget: &mut usize) -> Option<Hit> {
    if *budget == 0 {
        return None;
    }
    // A line cut short by a pager (`$`) or an ellipsis.
    let (text, open) = match text.strip_suffix('$').or_else(|| text.strip_suffix("...")).or_else(|| text.strip_suffix('…')) {
        Some(t) => (t, true),
        None => (text, false),
    };
    let key = t.key_text();
    if key.is_empty() {
        return None;
    }
    let first = match t.head.get(t.first_long) {
        Some(Piece::Lit(s)) => s.trim(),
        _ => key,
    };
    let short_key = t.short.as_deref().map(Template::key_text).filter(|k| !k.is_empty());
    if !text.contains(key) && !text.contains(first) && !short_key.is_some_and(|k| text.contains(k)) {
        // Cut short: the key's first MIN_CUT characters must be there, at the end.
        let cut = key.char_indices().nth(template::MIN_CUT).map(|(i, _)| i).unwrap_or(key.len());
        if !open || !text.contains(&key[..cut]) {
            return None;
        }
    }
    let (head, ctx) = split_context(text);
    let (t, k, vals, partial) = match match_head(t, head, open, budget) {
        Some((k, v)) => (t, k, v, false),
        None => {
            // Quoted without its action clause: the shorter head, whole.
            let s = t.short.as_deref()?;
            let (k, v) = match_head(s, head, false, budget)?;
            (s, k, v, true)
        }
    };
    let pieces: Vec<Piece> = t.head[k..].to_vec();
    let mut values = bindings(&pieces, &vals);
    let mut score = literal_len(&t.head[k..]);
    let mut misfits = Vec::new();
    for (key, pcs) in &t.context {
        let Some((_, v)) = ctx.iter().find(|(k2, _)| k2 == key) else { continue };
        match match_pieces(pcs, v) {
            Some(vals) => {
                values.extend(bindings(pcs, &vals));
                score += literal_len(pcs) + key.len();
            }
            None => misfits.push((key.clone(), v.to_string())),
        }
    }
    let extra = ctx.iter().filter(|(k, _)| !t.context.iter().any(|(k2, _)| k2 == k)).map(|(k, _)| k.to_string()).collect();
    Some(Hit { entry, score, values, misfits, extra, partial })
}

/// Status-only evidence: what an nginx access line, a status line, a
/// header or an error page says is the status, not its cause.
fn weak(cat: &Catalog, entry: usize, flavor: Flavor) -> bool {
    match cat.entries[entry].source {
        // Envoy's own body says why (router.cc: the reset reason, no healthy
        // upstream, upstream request timeout): a cause, not only a status.
        Source::Page if flavor == Flavor::Envoy => {
            let e = &cat.entries[entry].example;
            !(e.contains("reset reason: ") || e.starts_with("no healthy upstream") || e.starts_with("upstream request timeout"))
        }
        Source::Page if cloudflare_own_status_page(&cat.entries[entry].example) => false,
        Source::Response | Source::Page => true,
        // varnishncsa's line is a combined line too: a status.
        // An ALB entry (the ALB flavor's, or an ALB layer's in front of
        // nginx) has its error fields and `-1`s: a cause, whatever the flavor.
        Source::AccessLog => (flavor == Flavor::Nginx || flavor == Flavor::Varnish) && !is_alb_entry(&cat.entries[entry].example),
        // Cloudflare's own error codes name what it saw from the origin
        // (refused, no SYN+ACK, no answer in time, an empty reply); a
        // relayed status, or its branded 502/504, says only the status.
        Source::CloudflareLog => !cloudflare_own_status(&cat.entries[entry].example),
        Source::Console => cat.entries[entry].example.contains(" → "),
        // uWSGI's request line is its access log: a status, not a cause.
        Source::AppLog => cat.entries[entry].example.starts_with("[pid: "),
        _ => false,
    }
}

/// An ALB access entry: `http|https|h2 <time> app/...`.
fn is_alb_entry(line: &str) -> bool {
    ["http ", "https ", "h2 "].iter().any(|p| line.strip_prefix(p).is_some_and(|r| r.split(' ').nth(1).is_some_and(|w| w.starts_with("app/"))))
}

/// Cloudflare's own codes (520 to 527: not an HTTP status any origin sends).
fn cloudflare_code(n: u64) -> bool {
    (520..=527).contains(&n)
}

/// A Logpush record whose `EdgeResponseStatus` is Cloudflare's own code.
fn cloudflare_own_status(record: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(record).ok().and_then(|v| v.get("EdgeResponseStatus").and_then(serde_json::Value::as_u64)).is_some_and(cloudflare_code)
}

/// A line of Cloudflare's error page that names its own code: the title
/// (`shop.example.com | 521: Web server is down`) or `Error code 521`.
fn cloudflare_own_status_page(line: &str) -> bool {
    let code = |s: &str| s.get(..3).and_then(|d| d.parse::<u64>().ok()).is_some_and(cloudflare_code);
    line.strip_prefix("Error code ").is_some_and(code) || line.split_once(" | ").is_some_and(|(_, r)| code(r) && r[3..].starts_with(": "))
}

/// What a marker stands for, in words, for `Placed::carried`.
fn marker_name(cat: &Catalog, idx: usize, cand: &catalog::Candidate) -> String {
    if method_of(idx).is_some() {
        return "method".into();
    }
    let Some(m) = cat.markers.get(idx) else { return "value".into() };
    let sc = &cand.probe;
    let p = m.probe.as_str();
    if p == sc.clients.ip {
        "client address".into()
    } else if p == sc.clients.host {
        "Host header".into()
    } else if p == sc.proxy.server_name {
        "server_name".into()
    } else if p == sc.upstream.name {
        "upstream name".into()
    } else if p == sc.clients.path || sc.requests.iter().any(|r| r.path == p) {
        "path".into()
    } else if sc.apps.iter().any(|a| a.name == p) {
        "app name".into()
    } else if p == sc.clients.user_agent {
        "user agent".into()
    } else if sc.upstream.servers.iter().any(|s| s.address == p) || sc.apps.iter().any(|a| a.listen == p) {
        "upstream address".into()
    } else if p == sc.proxy.worker_pid.to_string() {
        "worker pid".into()
    } else if sc.apps.iter().any(|a| a.pid.to_string() == p) {
        "app pid".into()
    } else if sc.layers.iter().any(|l| matches!(l, crate::sim::layer::Layer::Cloudflare(cf) if cf.colo == p)) {
        "Cloudflare data centre".into()
    } else if sc.layers.iter().any(|l| matches!(l, crate::sim::layer::Layer::Cloudflare(cf) if cf.edge_ip == p)) {
        "Cloudflare's address".into()
    } else if p == sc.proxy.version || p == sc.proxy.haproxy.version {
        "proxy version".into()
    } else {
        // A fault's knob: its name in the fault's JSON.
        sc.faults
            .iter()
            .find_map(|f| {
                let v = serde_json::to_value(&f.kind).ok()?;
                v.as_object()?.iter().find(|(k, x)| *k != "type" && (x.as_str() == Some(p) || x.as_u64().map(|n| n.to_string()).as_deref() == Some(p))).map(|(k, _)| format!("{} {k}", f.kind.id()))
            })
            .unwrap_or_else(|| "value".into())
    }
}

/// Diagnoses pasted text. Pure and deterministic; the first call builds
/// the catalog (every candidate run once), later calls reuse it.
pub fn diagnose(text: &str) -> Result<Diagnosis, DiagnoseError> {
    let mut lines = input::read(text).map_err(|u| DiagnoseError::Unusable(u.0))?;
    let cat = catalog::get();
    let mut budget = CALL_BUDGET;
    let hits_of = |text: &str, budget: &mut usize| -> Vec<Hit> { cat.entries.iter().enumerate().filter_map(|(i, e)| lay(i, &e.template, text, budget)).collect() };
    // Every hit of every pasted line; a line nothing fits is tried joined
    // with the next ones (a log line wrapped by a terminal or an issue).
    let mut hits: Vec<Vec<Hit>> = Vec::with_capacity(lines.len());
    let mut i = 0;
    while i < lines.len() {
        if lines[i].informational {
            hits.push(Vec::new());
            i += 1;
            continue;
        }
        let own = hits_of(&lines[i].text, &mut budget);
        if own.is_empty() {
            let mut joined = lines[i].text.clone();
            let mut found = None;
            for j in i + 1..(i + 4).min(lines.len()) {
                if lines[j].informational || !hits_of(&lines[j].text, &mut budget).is_empty() {
                    break;
                }
                joined.push(' ');
                joined.push_str(&lines[j].text);
                let h = hits_of(&joined, &mut budget);
                if !h.is_empty() {
                    found = Some((j, joined.clone(), h));
                    break;
                }
            }
            if let Some((j, text, h)) = found {
                lines[i].text = text;
                lines.drain(i + 1..=j);
                hits.push(h);
                i += 1;
                continue;
            }
        }
        hits.push(own);
        i += 1;
    }

    // The candidate that places the most lines, strong ones first; ties go
    // to the first in catalog order.
    let mut best: Option<(usize, (usize, usize, usize, usize))> = None;
    let mut keys = Vec::with_capacity(cat.candidates.len());
    for (c, cand) in cat.candidates.iter().enumerate() {
        let mut placed = 0;
        let mut strong = 0;
        let mut fits = 0;
        let mut literal = 0;
        for hs in &hits {
            if let Some(h) = hs.iter().filter(|h| cand.entries.binary_search(&h.entry).is_ok()).max_by_key(|h| h.score) {
                placed += 1;
                if !weak(cat, h.entry, cand.flavor) {
                    strong += 1;
                }
                fits += usize::MAX / 1024 - h.misfits.len() - h.extra.len();
                if is_alb_entry(&cat.entries[h.entry].example) {
                    literal += h.score;
                }
            }
        }
        // Lines that name the cause, then lines placed, then context fields
        // that fit, then the literal text the placed ALB entries match (an
        // ALB layer's `-1 -1 460`, literals, beats the ALB flavor's template
        // whose number slot takes a `-1`); ties go to the first candidate in
        // catalog order.
        let key = (strong, placed, fits, literal);
        keys.push(key);
        if placed > 0 && best.is_none_or(|(_, k)| key > k) {
            best = Some((c, key));
        }
    }
    let Some((chosen, key)) = best else {
        return Err(not_recognised(cat, &lines, &hits, None));
    };
    let evidence = if key.0 > 0 { Evidence::Cause } else { Evidence::StatusOnly };
    let cand = &cat.candidates[chosen];

    // Which line goes where, and the values to carry.
    let mut placed_hits: Vec<(usize, Hit)> = Vec::new();
    let mut unplaced = Vec::new();
    let mut used: Vec<usize> = Vec::new();
    for (i, (l, hs)) in lines.iter().zip(&hits).enumerate() {
        // The best fit, a template no earlier line took first (two servers'
        // lines go to the two servers' templates).
        let fits = || hs.iter().filter(|h| cand.entries.binary_search(&h.entry).is_ok());
        let best = fits().filter(|h| !used.contains(&h.entry)).max_by_key(|h| h.score).or_else(|| fits().max_by_key(|h| h.score));
        if let Some(h) = best {
            used.push(h.entry);
        }
        match best {
            Some(h) => placed_hits.push((i, h.clone())),
            None => {
                let reason = if l.informational {
                    "curl's own line (what it sent or remarked), nothing a server wrote".to_string()
                } else if let Some(h) = hs.first() {
                    let other = &cat.candidates[cat.entries[h.entry].candidates[0]];
                    format!("written by another situation ({}), not in the same run as the other lines", other.label)
                } else {
                    "no candidate run writes such a line".to_string()
                };
                unplaced.push(Unplaced { line: l.number, text: l.text.clone(), reason });
            }
        }
    }
    let mut values: BTreeMap<usize, String> = BTreeMap::new();
    let mut conflicts: Vec<(usize, String)> = Vec::new();
    for (_, h) in &placed_hits {
        for (m, v) in &h.values {
            match values.get(m) {
                None => {
                    values.insert(*m, v.clone());
                }
                Some(old) if old != v => conflicts.push((*m, v.clone())),
                _ => {}
            }
        }
    }
    // Values the scenario refuses (a path with a space...) are not carried.
    let mut dropped: Vec<(usize, String, String)> = Vec::new();
    let singles: Vec<usize> = values.keys().copied().collect();
    for m in singles {
        let one: BTreeMap<usize, String> = [(m, values[&m].clone())].into();
        if let Err(e) = fill::fill(&cand.probe, &cat.markers, &one) {
            let v = values.remove(&m).unwrap_or_default();
            dropped.push((m, v, e));
        }
    }
    // Fill, run, check; values the run does not write back are dropped.
    let mut reproduced: Vec<Option<String>> = vec![None; placed_hits.len()];
    let mut scenario = None;
    for round in 0..5 {
        if round == 4 {
            // Still not written back: the candidate as it is, carrying nothing.
            for (m, v) in std::mem::take(&mut values) {
                dropped.push((m, v, "the run does not write it back".into()));
            }
        }
        let sc = match fill::fill(&cand.probe, &cat.markers, &values) {
            Ok(sc) => sc,
            Err(e) => {
                // Together they are refused: carry none.
                for (m, v) in std::mem::take(&mut values) {
                    dropped.push((m, v, e.clone()));
                }
                continue;
            }
        };
        let Some(sim) = catalog::run(&sc) else { break };
        let lines_run = catalog::all_lines_of(&sim);
        let mut wrong: Vec<usize> = Vec::new();
        for (j, (_, h)) in placed_hits.iter().enumerate() {
            let e = &cat.entries[h.entry];
            let mut found = None;
            let mut near = None;
            for (src, l) in &lines_run {
                if *src != e.source {
                    continue;
                }
                let (head, ctx) = split_context(template::record_body(l));
                let Some(v) = match_pieces(&e.template.head, head) else { continue };
                let mut got = bindings(&e.template.head, &v);
                for (key, pcs) in &e.template.context {
                    if let Some((_, cv)) = ctx.iter().find(|(k, _)| k == key) {
                        if let Some(vv) = match_pieces(pcs, cv) {
                            got.extend(bindings(pcs, &vv));
                        }
                    }
                }
                // Only the values this line carries (not one that lost to an earlier line's).
                let bad: Vec<usize> = h.values.iter().filter(|(m, v)| values.get(m) == Some(v)).filter(|(m, want)| got.iter().any(|(g, have)| g == m && have != want)).map(|(m, _)| *m).collect();
                if bad.is_empty() {
                    found = Some(l.clone());
                    break;
                }
                if near.is_none() {
                    near = Some((l.clone(), bad));
                }
            }
            match (found, near) {
                (Some(l), _) => reproduced[j] = Some(l),
                (None, Some((l, bad))) => {
                    reproduced[j] = Some(l);
                    wrong.extend(bad);
                }
                (None, None) => {
                    reproduced[j] = None;
                    // The values themselves changed the run (a pasted port
                    // equal to the app's turns a wrong port right): carry none of them.
                    wrong.extend(h.values.iter().filter(|(m, v)| values.get(m) == Some(v)).map(|(m, _)| *m));
                }
            }
        }
        wrong.sort_unstable();
        wrong.dedup();
        scenario = Some(sc);
        if wrong.is_empty() {
            break;
        }
        for m in wrong {
            if let Some(v) = values.remove(&m) {
                dropped.push((m, v, "the run does not write it back".into()));
            }
        }
        scenario = None;
    }
    let mut scenario = match scenario {
        Some(s) => s,
        None => fill::fill(&cand.probe, &cat.markers, &BTreeMap::new()).map_err(|e| DiagnoseError::NotRecognised { message: format!("internal: the candidate {} is refused: {e}", cand.label), nearest: Vec::new() })?,
    };
    let fault_kind: Option<&FaultKind> = scenario.faults.first().map(|f| &f.kind);
    // No fault, but a layer's setting keeps it out (the Cloudflare candidates'
    // 521, 522 from its origin's firewall, 525, 526 from its TLS to the origin).
    let layer_fw = scenario.layers.iter().find_map(|l| l.model().diagnosis());
    let title = match (fault_kind, &layer_fw) {
        (Some(k), _) => format!("Diagnosed: {}", k.title_in(scenario.proxy.flavor)),
        (None, Some((t, _, _))) => format!("Diagnosed: {t}"),
        (None, None) => "Diagnosed: no fault".to_string(),
    };
    let cause = fault_kind.map(|k| k.cause_in(scenario.proxy.flavor).to_string()).or_else(|| layer_fw.as_ref().map(|(_, c, _)| c.clone()));
    let fix = scenario
        .faults
        .first()
        .map(|f| {
            let x = f.fix(scenario.proxy.flavor);
            format!("{}: {}", x.title, x.detail)
        })
        .or_else(|| layer_fw.as_ref().map(|(_, _, f)| f.clone()));
    scenario.title = title;
    scenario.description = format!(
        "Reproduces pasted lines (gateway-sim diagnose, candidate {}).{}",
        cand.label,
        cause.as_ref().map(|c| format!(" {c}")).unwrap_or_default()
    );

    let mut placed = Vec::new();
    for ((i, h), rep) in placed_hits.iter().zip(reproduced) {
        let l = &lines[*i];
        let Some(rep) = rep else {
            unplaced.push(Unplaced { line: l.number, text: l.text.clone(), reason: "the reproduction does not write it".into() });
            continue;
        };
        let mut carried: Vec<(String, String)> = Vec::new();
        for (m, v) in h.values.iter().filter(|(m, v)| values.get(m) == Some(v)) {
            let item = (marker_name(cat, *m, cand), v.clone());
            if !carried.contains(&item) {
                carried.push(item);
            }
        }
        let mut differences: Vec<String> = h
            .misfits
            .iter()
            .map(|(k, v)| format!("{k}: the paste has {}, the run writes its own", if v.is_empty() { "nothing" } else { v }))
            .chain(h.extra.iter().map(|k| format!("{k}: the paste has it, the run writes none")))
            .collect();
        for (m, v, why) in &dropped {
            if h.values.iter().any(|(hm, hv)| hm == m && hv == v) {
                differences.push(format!("{} {v:?} not carried over ({why})", marker_name(cat, *m, cand)));
            }
        }
        for (m, v) in &conflicts {
            if h.values.iter().any(|(hm, hv)| hm == m && hv == v) {
                differences.push(format!("{} {v:?} differs from an earlier line's; the earlier one is used", marker_name(cat, *m, cand)));
            }
        }
        placed.push(Placed { line: l.number, pasted: l.text.clone(), reproduced: rep, source: cat.entries[h.entry].source, carried, differences });
    }
    unplaced.sort_by_key(|u| u.line);
    if placed.is_empty() {
        return Err(not_recognised(cat, &lines, &hits, Some(chosen)));
    }

    // Other causes that place the same lines as well.
    let mut alternatives: Vec<String> = Vec::new();
    let mut seen_faults: Vec<Option<&str>> = vec![cand.fault.as_deref()];
    for (c, k) in keys.iter().enumerate() {
        let other = &cat.candidates[c];
        if *k == key || (k.0 == key.0 && k.1 == key.1) {
            if !seen_faults.contains(&other.fault.as_deref()) {
                seen_faults.push(other.fault.as_deref());
                alternatives.push(other.label.clone());
            }
        }
    }
    let partial = placed_hits.iter().any(|(_, h)| h.partial);
    let evidence = if evidence == Evidence::Cause && partial && !alternatives.is_empty() { Evidence::Ambiguous } else { evidence };
    Ok(Diagnosis {
        evidence,
        candidate: cand.label.clone(),
        fault: cand.fault.clone(),
        flavor: scenario.proxy.flavor,
        cause,
        fix,
        scenario,
        placed,
        unplaced,
        alternatives,
    })
}

/// Words of a line (letters, 3 or more), for nearness.
fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_ascii_alphabetic()).filter(|w| w.len() >= 3).map(str::to_ascii_lowercase).collect()
}

impl Diagnosis {
    /// The "not recognised" a cautious reader (the CLI, the corpus score)
    /// makes of a diagnosis that does not name one cause: status-only or
    /// ambiguous lines. None when the evidence names the cause.
    pub fn refusal(&self) -> Option<DiagnoseError> {
        let message = match self.evidence {
            Evidence::Cause => return None,
            Evidence::StatusOnly => "not recognised: these lines give the status, not its cause (paste the proxy's error.log line, HAProxy's log line or the app's log)",
            Evidence::Ambiguous => "not recognised: the lines fit several causes; paste the whole line (with its \"while ...\" part)",
        };
        let mut nearest = vec![Nearest { candidate: self.candidate.clone(), line: self.placed.first().map(|p| p.reproduced.clone()).unwrap_or_default() }];
        nearest.extend(self.alternatives.iter().take(4).map(|a| Nearest { candidate: a.clone(), line: String::new() }));
        Some(DiagnoseError::NotRecognised { message: message.into(), nearest })
    }
}

/// `diagnose` as a reader takes it (the page, the embed, like the CLI): a
/// diagnosis whose evidence does not name one cause becomes its `refusal`.
pub fn verdict(text: &str) -> Result<Diagnosis, DiagnoseError> {
    let d = diagnose(text)?;
    match d.refusal() {
        Some(e) => Err(e),
        None => Ok(d),
    }
}

/// The catalog candidate labelled `label` (a `Nearest::candidate`, an
/// alternative): its scenario (the probe run's), to load in its place.
pub fn candidate_scenario(label: &str) -> Option<Scenario> {
    catalog::get().candidates.iter().find(|c| c.label == label).map(|c| c.probe.clone())
}

fn not_recognised(cat: &Catalog, lines: &[input::Line], hits: &[Vec<Hit>], weak_best: Option<usize>) -> DiagnoseError {
    let placed_any = hits.iter().any(|h| !h.is_empty());
    let mut nearest = Vec::new();
    if let (true, Some(c)) = (placed_any, weak_best) {
        // Only status evidence: name what it fits without choosing.
        let mut faults: Vec<&str> = Vec::new();
        for hs in hits {
            for h in hs {
                for &ci in &cat.entries[h.entry].candidates {
                    let cand = &cat.candidates[ci];
                    if let Some(f) = cand.fault.as_deref() {
                        if !faults.contains(&f) && nearest.len() < 5 {
                            faults.push(f);
                            nearest.push(Nearest { candidate: cand.label.clone(), line: cat.entries[h.entry].example.clone() });
                        }
                    }
                }
            }
        }
        let _ = c;
        return DiagnoseError::NotRecognised {
            message: "not recognised: these lines give the status, not its cause (paste the proxy's error.log line, HAProxy's log line or the app's log)".into(),
            nearest,
        };
    }
    let pasted: Vec<String> = lines.iter().filter(|l| !l.informational).flat_map(|l| words(&l.text)).collect();
    let mut scored: Vec<(usize, usize)> = cat
        .entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let lit: String = e.template.head.iter().filter_map(|p| if let Piece::Lit(s) = p { Some(s.as_str()) } else { None }).collect::<Vec<_>>().join(" ");
            let w = words(&lit);
            let shared = w.iter().filter(|x| pasted.contains(x)).count();
            (shared * 100 / w.len().max(1), i)
        })
        .filter(|(s, _)| *s > 0)
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut seen: Vec<Option<&str>> = Vec::new();
    for (_, i) in scored {
        let e = &cat.entries[i];
        let cand = &cat.candidates[e.candidates[0]];
        if seen.contains(&cand.fault.as_deref()) {
            continue;
        }
        seen.push(cand.fault.as_deref());
        nearest.push(Nearest { candidate: cand.label.clone(), line: e.example.clone() });
        if nearest.len() == 3 {
            break;
        }
    }
    DiagnoseError::NotRecognised { message: "not recognised: no situation the engine knows writes these lines".into(), nearest }
}
