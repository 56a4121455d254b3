//! The candidate runs and the templates of every line they write, built
//! from the engine once (lazily) and cached.
//!
//! Candidates come from the fault catalog itself, `FaultKind::catalog()`
//! (every kind with its default knobs), not from a list kept here: each
//! kind × its knob variants that change the text (an enum knob's other
//! variants, read from serde's own "expected one of" message, and a flipped
//! boolean) × flavor × one or two upstream servers, plus a client that
//! gives up (status 499) where a run lasted long enough for one to, plus the
//! ready scenarios and the retry lab's experiments. A fault added to the
//! catalog is a candidate with no edit here.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::Value;

use super::template::{Class, Marker, Template};
use crate::sim::server::ServerKind;
use crate::sim::fault::{FaultKind, Traffic};
use crate::sim::scenario::{App, Flavor, RequestSpec, Scenario, UpstreamServer};
use crate::sim::{Fault, Simulation};

/// Where a line was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// nginx error.log.
    ErrorLog,
    /// nginx access.log or HAProxy's httplog.
    AccessLog,
    /// The app's journal (app, systemd, kernel lines).
    AppLog,
    /// What the proxy printed on start-up.
    Stderr,
    /// The proxy unit's journal.
    Journal,
    /// The client's console (curl's words).
    Console,
    /// The response's status line and headers, as `curl -v` shows them.
    Response,
    /// The response body's text (an error page).
    Page,
    /// A Cloudflare layer's Logpush `http_requests` record (one JSON line).
    CloudflareLog,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::ErrorLog => "error.log",
            Source::AccessLog => "access log",
            Source::AppLog => "app log",
            Source::Stderr => "proxy stderr",
            Source::Journal => "proxy journal",
            Source::Console => "client console",
            Source::Response => "response",
            Source::Page => "error page",
            Source::CloudflareLog => "Cloudflare log",
        }
    }
}

/// The scenario fields a probe run gives distinctive values, so that each
/// shows in the lines as itself: (probe value, the default it stands for).
/// Other markers keep their own values (paths, addresses, a fault's knobs).
pub const PROBES: &[(&str, &str)] = &[
    ("198.51.100.7", "127.0.0.1"),
    ("host.probe.test", "localhost"),
    ("server.probe.test", "localhost"),
    ("probeup", "app"),
];

/// One candidate run.
#[derive(Clone, Debug)]
pub struct Candidate {
    /// `crash_mid_request · nginx · 2 servers`.
    pub label: String,
    /// The id of its first fault (None: no fault).
    pub fault: Option<String>,
    pub flavor: Flavor,
    /// The scenario with the probe values in.
    pub probe: Scenario,
    /// Indices into `Catalog::markers` of the values its lines show.
    pub markers: Vec<usize>,
    /// Indices into `Catalog::entries`, sorted.
    pub entries: Vec<usize>,
}

/// A distinct template and what wrote it.
#[derive(Clone, Debug)]
pub struct Entry {
    pub template: Template,
    pub source: Source,
    /// The first line it was made from (a probe run's line).
    pub example: String,
    /// Candidates whose run wrote it (indices into `Catalog::candidates`).
    pub candidates: Vec<usize>,
    /// Distinct fault ids among them (None counts as one): the more, the
    /// less the line says about the cause.
    pub causes: usize,
}

#[derive(Debug, Default)]
pub struct Catalog {
    pub markers: Vec<Marker>,
    pub entries: Vec<Entry>,
    pub candidates: Vec<Candidate>,
    /// Candidate runs made while building (figures for the docs).
    pub runs: usize,
}

static CATALOG: OnceLock<Catalog> = OnceLock::new();

/// The catalog, built on first use.
pub fn get() -> &'static Catalog {
    match CATALOG.get() {
        Some(c) => c,
        None => Builder::new().finish(),
    }
}

/// Most requests a candidate sends (a traffic pattern or an experiment is cut to this).
const MAX_CANDIDATE_REQUESTS: usize = 120;
/// Most requests of a retry-lab experiment run as a candidate.
const MAX_EXPERIMENT_REQUESTS: u32 = 100;
/// Most distinct lines kept from one run.
const MAX_LINES_PER_RUN: usize = 400;
/// A run lasting this long gets a variant whose client gives up sooner.
const CLIENT_GIVES_UP_MS: u64 = 15_000;

/// The knob variants of a kind that may change its text: itself, each other
/// variant of an enum knob (from serde's error message, so the list is the
/// enum's own), each boolean flipped.
pub fn variants(kind: &FaultKind) -> Vec<(FaultKind, String)> {
    let mut out = vec![(kind.clone(), String::new())];
    let Ok(Value::Object(m)) = serde_json::to_value(kind) else { return out };
    for (k, v) in &m {
        if k == "type" {
            continue;
        }
        let mut tries: Vec<Value> = Vec::new();
        match v {
            Value::Bool(b) => tries.push(Value::Bool(!b)),
            Value::String(cur) => {
                let mut probe = m.clone();
                probe.insert(k.clone(), Value::String("\u{1}".into()));
                if let Err(e) = serde_json::from_value::<FaultKind>(Value::Object(probe)) {
                    let msg = e.to_string();
                    if let Some(list) = msg.split("expected ").nth(1) {
                        for name in list.split('`').skip(1).step_by(2) {
                            if name != cur {
                                tries.push(Value::String(name.to_string()));
                            }
                        }
                    }
                }
            }
            _ => {}
        }
        for t in tries {
            let mut mm = m.clone();
            let label = format!("{k}={}", t.as_str().map(str::to_string).unwrap_or_else(|| t.to_string()));
            mm.insert(k.clone(), t);
            if let Ok(kv) = serde_json::from_value::<FaultKind>(Value::Object(mm)) {
                out.push((kv, label));
            }
        }
    }
    out
}

/// Puts the probe values into a scenario (see `PROBES`).
pub fn apply_probes(sc: &mut Scenario) {
    if sc.clients.ip == PROBES[0].1 {
        sc.clients.ip = PROBES[0].0.into();
    }
    if sc.clients.host == PROBES[1].1 {
        sc.clients.host = PROBES[1].0.into();
    }
    for r in &mut sc.requests {
        if r.host == PROBES[1].1 {
            r.host = PROBES[1].0.into();
        }
    }
    if sc.proxy.server_name == PROBES[2].1 {
        sc.proxy.server_name = PROBES[2].0.into();
    }
    let group = format!("://{}", sc.upstream.name);
    if sc.upstream.name == PROBES[3].1 && sc.proxy.proxy_pass.ends_with(&group) {
        sc.upstream.name = PROBES[3].0.into();
        sc.proxy.proxy_pass = sc.proxy.proxy_pass.replace(&group, &format!("://{}", PROBES[3].0));
    }
}

/// The values of `sc` that its lines may show, as markers.
fn markers_of(sc: &Scenario) -> Vec<Marker> {
    let mut out: Vec<Marker> = Vec::new();
    let mut add = |probe: String, class: Class, numeric: bool| {
        if probe.len() >= 3 && !out.iter().any(|m| m.probe == probe) {
            out.push(Marker { probe, class, numeric });
        }
    };
    add(sc.clients.ip.clone(), Class::Token, false);
    add(sc.clients.host.clone(), Class::Token, false);
    add(sc.proxy.server_name.clone(), Class::Token, false);
    add(sc.upstream.name.clone(), Class::Token, false);
    add(sc.clients.path.clone(), Class::Path, false);
    add(sc.clients.user_agent.clone(), Class::Text, false);
    for r in &sc.requests {
        add(r.path.clone(), Class::Path, false);
        add(r.host.clone(), Class::Token, false);
    }
    for s in &sc.upstream.servers {
        add(s.address.clone(), Class::of(&s.address), false);
    }
    for a in &sc.apps {
        add(a.name.clone(), Class::Token, false);
        add(a.listen.clone(), Class::of(&a.listen), false);
        add(a.pid.to_string(), Class::Num, true);
    }
    // A Cloudflare layer's data centre (the Ray ID's suffix, the record's
    // `EdgeColoCode`) and the address the proxy sees it come from.
    for l in &sc.layers {
        if let crate::sim::layer::Layer::Cloudflare(cf) = l {
            add(cf.colo.clone(), Class::Token, false);
            add(cf.edge_ip.clone(), Class::of(&cf.edge_ip), false);
        }
    }
    add(sc.proxy.worker_pid.to_string(), Class::Num, true);
    add(sc.proxy.version.clone(), Class::Token, false);
    add(sc.proxy.haproxy.version.clone(), Class::Token, false);
    // Every fault's own knobs: free strings and large numbers.
    for f in &sc.faults {
        let Ok(Value::Object(m)) = serde_json::to_value(&f.kind) else { continue };
        for (k, v) in m {
            if k == "type" {
                continue;
            }
            match v {
                Value::String(s) if is_free_string(&f.kind, &k) => add(s.clone(), Class::of(&s), false),
                Value::Number(n) => {
                    if let Some(n) = n.as_u64().filter(|n| *n >= 1_000) {
                        add(n.to_string(), Class::Num, true);
                    }
                }
                _ => {}
            }
        }
    }
    // A scheme prefix is part of proxy_pass, not a value of its own.
    out.retain(|m| !m.probe.is_empty());
    out
}

/// A string knob that takes any text (not an enum's variant name).
fn is_free_string(kind: &FaultKind, key: &str) -> bool {
    let Ok(Value::Object(mut m)) = serde_json::to_value(kind) else { return false };
    m.insert(key.to_string(), Value::String("\u{1}diagnose".into()));
    serde_json::from_value::<FaultKind>(Value::Object(m)).is_ok()
}

/// Every line a finished run wrote, with where: one per shape (numbers
/// aside), at most `MAX_LINES_PER_RUN`.
pub fn lines_of(sim: &Simulation) -> Vec<(Source, String)> {
    lines(sim, true)
}

/// Every distinct line a finished run wrote, numbers and all.
pub fn all_lines_of(sim: &Simulation) -> Vec<(Source, String)> {
    lines(sim, false)
}

fn lines(sim: &Simulation, by_shape: bool) -> Vec<(Source, String)> {
    let w = sim.world();
    let mut out: Vec<(Source, String)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    // One line per shape: the same line with other numbers (times,
    // connection numbers, durations) is the same template.
    let mut push = |src: Source, line: String, out: &mut Vec<(Source, String)>| {
        let shape: String = if by_shape { line.chars().map(|c| if c.is_ascii_digit() { '#' } else { c }).collect() } else { line.clone() };
        if (!by_shape || out.len() < MAX_LINES_PER_RUN) && !line.trim().is_empty() && seen.insert((src, shape)) {
            out.push((src, line));
        }
    };
    for l in w.error_log.lines() {
        push(Source::ErrorLog, l.clone(), &mut out);
    }
    for l in w.proxy_stderr.lines() {
        push(Source::Stderr, l.clone(), &mut out);
    }
    for e in &w.proxy_journal {
        if let crate::sim::world::UnitEntry::Line(l) = e {
            push(Source::Journal, l.clone(), &mut out);
        }
    }
    for l in w.app_log.lines() {
        push(Source::AppLog, l.clone(), &mut out);
    }
    // varnishncsa's line is a combined line with an absolute URL: a combined
    // template (Apache's, nginx's) takes it too, and it says only the status.
    // Varnish is diagnosed from varnishlog's records.
    if w.scenario.proxy.flavor != crate::sim::scenario::Flavor::Varnish {
        for l in w.access_log.lines() {
            push(Source::AccessLog, l.clone(), &mut out);
        }
    }
    // The layers in front of the proxy (`sim::layer`): Cloudflare's Logpush
    // record is a source of its own; an ALB layer writes the ALB flavor's
    // access entry, so it is an access line like the flavor's.
    for (layer, log) in w.scenario.layers.iter().zip(&w.layer_logs) {
        let src = match layer.kind() {
            crate::sim::layer::LayerKind::Cloudflare => Source::CloudflareLog,
            crate::sim::layer::LayerKind::Alb => Source::AccessLog,
        };
        for l in log.lines() {
            push(src, l.clone(), &mut out);
        }
    }
    for l in w.console.lines() {
        push(Source::Console, l.clone(), &mut out);
    }
    for ex in sim.exchanges() {
        let Some(r) = &ex.response else { continue };
        if r.status >= 100 {
            push(Source::Response, r.status_line(), &mut out);
        }
        for h in &r.headers {
            // A giant header (a fault's oversized cookie) is no line anyone pastes.
            if h.value.len() <= 300 {
                push(Source::Response, format!("{}: {}", h.name, h.value), &mut out);
            }
        }
        for t in page_text(&r.body) {
            push(Source::Page, t, &mut out);
        }
    }
    out
}

/// The text lines of an HTML page (tags removed), as a browser shows them.
pub fn page_text(body: &str) -> Vec<String> {
    let mut text = String::with_capacity(body.len());
    let mut in_tag = false;
    for c in body.chars() {
        match c {
            '<' => {
                in_tag = true;
                text.push('\n');
            }
            '>' if in_tag => in_tag = false,
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    // Cloudflare's page shows its Ray ID alone in a `<strong>`: a random
    // id, no words, nothing that tells a cause (its label line stays).
    let ray_alone = |l: &str| l.len() == 16 && l.bytes().all(|c| c.is_ascii_hexdigit());
    text.lines().map(str::trim).filter(|l| !l.is_empty() && l.len() <= 300 && !ray_alone(l)).map(str::to_string).collect()
}

/// The candidate scenarios, in order: no fault first, then the catalog's,
/// then the ready scenarios and experiments: (label, fault id, scenario).
/// (`build` adds the twins whose client gives up.)
pub fn scenarios() -> Vec<(String, Option<String>, Scenario)> {
    let mut out = Vec::new();
    let mut kinds: Vec<(Option<FaultKind>, String)> = vec![(None, String::new())];
    for k in FaultKind::catalog() {
        for (v, label) in variants(&k) {
            kinds.push((Some(v), label));
        }
    }
    // Varnish's varnishlog writes a transaction as several records (`**  << BeReq >>`,
    // `--  FetchError …`, `--  End`): each record is a line of its own, so a
    // pasted block is placed record by record and the FetchError names the cause.
    for flavor in Flavor::ALL {
        for (kind, knob) in &kinds {
            for servers in [1usize, 2] {
                let mut sc = Scenario::default();
                sc.proxy.flavor = flavor;
                sc.clients.requests = 3;
                sc.clients.rate_per_s = 2.0;
                // Every line nginx writes, warn and info ones too.
                sc.proxy.error_log_level = "info".into();
                if servers == 2 {
                    sc.upstream.servers.push(UpstreamServer { address: "127.0.0.1:3002".into(), ..UpstreamServer::default() });
                    sc.apps.push(App { name: "app2".into(), listen: "127.0.0.1:3002".into(), pid: 2905, ..App::default() });
                }
                let id = kind.as_ref().map(|k| k.id().to_string());
                if let Some(k) = kind {
                    let fault = Fault::from(k.clone());
                    // A burst becomes the run's requests. Other traffic (a race
                    // timed to the microsecond, or a kind added later) runs the
                    // plain requests; a ready scenario stands for the race.
                    if let Some(Traffic::Burst { count, gap_ms }) = fault.pattern(flavor).map(|p| p.traffic) {
                        sc.clients.requests = 0;
                        sc.requests = (0..count.min(MAX_CANDIDATE_REQUESTS as u64)).map(|i| RequestSpec { at_ms: i * gap_ms, ..RequestSpec::default() }).collect();
                    }
                    sc.faults.push(fault);
                }
                let mut label = id.clone().unwrap_or_else(|| "no fault".into());
                if !knob.is_empty() {
                    label.push_str(&format!(" ({knob})"));
                }
                label.push_str(&format!(" · {}", flavor.as_str()));
                if servers == 2 {
                    label.push_str(" · 2 servers");
                }
                out.push((label, id, sc));
            }
        }
    }
    // The same faults behind nginx's other protocols (`sim::server`): its
    // lines name `fastcgi://` and `uwsgi://` upstreams, and the app server
    // writes its own lines. One server; after the HTTP ones, so that a line
    // that does not tell them apart goes to those.
    for server in [ServerKind::PhpFpm, ServerKind::Uwsgi] {
        for (kind, knob) in &kinds {
            let mut sc = Scenario::default();
            sc.clients.requests = 3;
            sc.clients.rate_per_s = 2.0;
            sc.proxy.error_log_level = "info".into();
            sc.apps[0].server = server;
            sc.apps[0].php_fpm.scripts = vec![sc.clients.path.clone()];
            if server == ServerKind::PhpFpm {
                // PHP-FPM on Debian listens on a unix socket. Not Debian's own path
                // (/run/php/php8.2-fpm.sock): a pasted socket fault's path is
                // filled into the fault, and it must not become the path the app
                // listens on, or the reproduction's socket would exist.
                sc.apps[0].listen = "unix:/run/php/php-fpm-pool-www.sock".into();
                sc.upstream.servers[0].address = sc.apps[0].listen.clone();
            }
            let id = kind.as_ref().map(|k| k.id().to_string());
            if let Some(k) = kind {
                let fault = Fault::from(k.clone());
                if let Some(Traffic::Burst { count, gap_ms }) = fault.pattern(Flavor::Nginx).map(|p| p.traffic) {
                    sc.clients.requests = 0;
                    sc.requests = (0..count.min(MAX_CANDIDATE_REQUESTS as u64)).map(|i| RequestSpec { at_ms: i * gap_ms, ..RequestSpec::default() }).collect();
                }
                sc.faults.push(fault);
            }
            let mut label = id.clone().unwrap_or_else(|| "no fault".into());
            if !knob.is_empty() {
                label.push_str(&format!(" ({knob})"));
            }
            label.push_str(&format!(" · nginx · {}", server.as_str()));
            out.push((label, id, sc));
        }
    }
    // The catalog's faults (default knobs) behind Cloudflare, and a
    // Cloudflare whose origin firewall rejects or drops it: its Logpush
    // record and its own pages (520, 521, 522, 524) for each; and a
    // Cloudflare whose TLS to the origin fails (525) or refuses its
    // certificate (526). After the
    // ready scenarios (the chains among them), so that a line they write
    // too goes to them; nginx, one server.
    use crate::sim::layer::cloudflare::{OriginTls, SslMode};
    use crate::sim::layer::Firewall;
    // (fault, the origin's firewall, SSL/TLS mode, the origin's TLS, label without a fault)
    let behind: Vec<(Option<FaultKind>, Firewall, SslMode, OriginTls, &str)> = [
        (Firewall::Reject, SslMode::Flexible, OriginTls::None, "origin firewall rejects Cloudflare"),
        (Firewall::Drop, SslMode::Flexible, OriginTls::None, "origin firewall drops Cloudflare"),
        (Firewall::Open, SslMode::Full, OriginTls::HandshakeFails, "Cloudflare's TLS handshake with the origin fails"),
        (Firewall::Open, SslMode::Strict, OriginTls::Expired, "Cloudflare (Full (strict)) refuses the origin's certificate"),
    ]
    .into_iter()
    .map(|(f, m, t, l)| (None, f, m, t, l))
    .chain(FaultKind::catalog().into_iter().map(|k| (Some(k), Firewall::Open, SslMode::Flexible, OriginTls::None, "")))
    .collect();
    let mut layered = Vec::new();
    for (kind, firewall, ssl_mode, origin_tls, label) in behind {
        let mut sc = Scenario::default();
        sc.clients.requests = 1;
        sc.proxy.error_log_level = "info".into();
        let mut cf = crate::sim::layer::cloudflare::Cloudflare::default();
        cf.origin_firewall = firewall;
        cf.ssl_mode = ssl_mode;
        cf.origin_tls = origin_tls;
        sc.layers.push(crate::sim::layer::Layer::Cloudflare(cf));
        let id = kind.as_ref().map(|k| k.id().to_string());
        if let Some(k) = kind {
            let fault = Fault::from(k);
            if let Some(Traffic::Burst { count, gap_ms }) = fault.pattern(Flavor::Nginx).map(|p| p.traffic) {
                sc.clients.requests = 0;
                sc.requests = (0..count.min(MAX_CANDIDATE_REQUESTS as u64)).map(|i| RequestSpec { at_ms: i * gap_ms, ..RequestSpec::default() }).collect();
            }
            sc.faults.push(fault);
        }
        let what = id.clone().unwrap_or_else(|| label.to_string());
        layered.push((format!("{what} · nginx · behind Cloudflare"), id, sc));
    }
    for (name, json) in crate::scenarios::READY.iter().chain(crate::scenarios::EXPERIMENTS) {
        let Ok(mut sc) = Scenario::from_json(json) else { continue };
        // The retry lab's thousands of requests repeat the same few lines;
        // a ready scenario runs as it is.
        if crate::scenarios::EXPERIMENTS.iter().any(|(n, _)| n == name) {
            sc.clients.requests = sc.clients.requests.min(MAX_EXPERIMENT_REQUESTS);
            sc.requests.truncate(MAX_CANDIDATE_REQUESTS);
        }
        let id = sc.faults.first().map(|f| f.kind.id().to_string());
        out.push((format!("scenario {name} · {}", sc.proxy.flavor.as_str()), id, sc));
    }
    out.extend(layered);
    out
}

/// Runs a scenario to its end; None if it is refused.
pub fn run(sc: &Scenario) -> Option<Simulation> {
    let mut sim = Simulation::new(sc.clone()).ok()?;
    sim.run();
    Some(sim)
}

/// Words of a line that vary between set-ups but are no scenario value.
pub fn generic_words() -> [&'static str; 3] {
    // HAProxy's section names and the VCL backend's name (varnishlog's `backend default:`).
    [crate::sim::proxy::haproxy::FRONTEND, crate::sim::proxy::haproxy::BACKEND, crate::sim::proxy::varnish::BACKEND]
}

/// Most lines of one run made into templates (a long run repeats itself).
const MAX_LINES_READ: usize = 4_000;

/// Templates of a run's lines, with the run's markers (indices into `table`).
pub fn templates(lines: &[(Source, String)], markers: &[(usize, &Marker)]) -> Vec<(Source, Template, String)> {
    let words = generic_words();
    lines.iter().map(|(src, l)| (*src, Template::new(l, markers, *src == Source::AccessLog, &words), l.clone())).collect()
}

/// The catalog built step by step: one candidate run per `step`, so a page
/// can build it in idle time without a long freeze (`get` builds it in one
/// go). The result is the same either way.
pub struct Builder {
    cat: Catalog,
    marker_ix: HashMap<Marker, usize>,
    entry_ix: HashMap<(Source, Template), usize>,
    queue: Vec<(String, Option<String>, Scenario)>,
    next: usize,
}

impl Default for Builder {
    fn default() -> Self {
        Self::new()
    }
}

impl Builder {
    pub fn new() -> Builder {
        Builder { cat: Catalog::default(), marker_ix: HashMap::new(), entry_ix: HashMap::new(), queue: scenarios(), next: 0 }
    }

    /// (candidates run, candidates queued so far): the queue grows while
    /// building (a long run adds its twin whose client gives up).
    pub fn progress(&self) -> (usize, usize) {
        (self.next, self.queue.len())
    }

    /// Runs the next candidate; false once none is left.
    pub fn step(&mut self) -> bool {
        let Some((label, fault, mut sc)) = self.queue.get(self.next).cloned() else { return false };
        self.next += 1;
        apply_probes(&mut sc);
        let Some(sim) = run(&sc) else { return true };
        self.cat.runs += 1;
        // A client that gives up where the run kept one waiting long: nginx's 499.
        let long = sim.exchanges().iter().any(|e| e.finished_at.is_some_and(|f| f.as_micros().saturating_sub(e.sent_at.as_micros()) > CLIENT_GIVES_UP_MS * 1_000));
        if long && sc.clients.retry.timeout_ms == 0 && !label.starts_with("scenario ") {
            let mut v = sc.clone();
            v.clients.retry.timeout_ms = CLIENT_GIVES_UP_MS;
            self.queue.push((format!("{label} · client gives up after {} s", CLIENT_GIVES_UP_MS / 1_000), fault.clone(), v));
        }
        let ms = markers_of(&sc);
        let idx: Vec<(usize, Marker)> = ms
            .into_iter()
            .map(|m| {
                let n = self.cat.markers.len();
                let k = *self.marker_ix.entry(m.clone()).or_insert(n);
                if k == n {
                    self.cat.markers.push(m.clone());
                }
                (k, m)
            })
            .collect();
        let refs: Vec<(usize, &Marker)> = idx.iter().map(|(k, m)| (*k, m)).collect();
        let c = self.cat.candidates.len();
        let mut entries = Vec::new();
        let mut lines = all_lines_of(&sim);
        lines.truncate(MAX_LINES_READ);
        // One line per shape before the (dearer) templates: numbers aside,
        // but a marker's own digits kept (two servers' lines differ by them).
        let mut shapes = std::collections::HashSet::new();
        let holders: Vec<(&str, String)> = idx.iter().filter(|(_, m)| !m.numeric).map(|(i, m)| (m.probe.as_str(), format!("\u{0}{i}\u{0}"))).collect();
        lines.retain(|(src, l)| {
            let mut k = l.clone();
            for (probe, holder) in &holders {
                if k.contains(probe) {
                    k = k.replace(probe, holder);
                }
            }
            let k: String = k.chars().map(|c| if c.is_ascii_digit() { '#' } else { c }).collect();
            shapes.insert((*src, k))
        });
        let mut mine = std::collections::HashSet::new();
        for (src, t, example) in templates(&lines, &refs) {
            // Distinct templates per run, at most MAX_LINES_PER_RUN.
            if !mine.contains(&(src, t.clone())) && mine.len() >= MAX_LINES_PER_RUN {
                continue;
            }
            mine.insert((src, t.clone()));
            let n = self.cat.entries.len();
            let e = *self.entry_ix.entry((src, t.clone())).or_insert(n);
            if e == n {
                self.cat.entries.push(Entry { template: t, source: src, example, candidates: Vec::new(), causes: 0 });
            }
            if self.cat.entries[e].candidates.last() != Some(&c) {
                self.cat.entries[e].candidates.push(c);
            }
            entries.push(e);
        }
        entries.sort_unstable();
        entries.dedup();
        let flavor = sc.proxy.flavor;
        self.cat.candidates.push(Candidate { label, fault, flavor, probe: sc, markers: idx.iter().map(|(k, _)| *k).collect(), entries });
        true
    }

    /// Runs what is left and keeps the catalog: `get` returns it from now
    /// on (if another build finished first, that one is kept).
    pub fn finish(self) -> &'static Catalog {
        let cat = self.build();
        CATALOG.get_or_init(|| cat)
    }

    /// Runs what is left and returns the catalog, without keeping it.
    pub fn build(mut self) -> Catalog {
        while self.step() {}
        let mut cat = self.cat;
        for e in &mut cat.entries {
            let mut ids: Vec<Option<&str>> = e.candidates.iter().map(|&c| cat.candidates[c].fault.as_deref()).collect();
            ids.sort_unstable();
            ids.dedup();
            e.causes = ids.len();
        }
        cat
    }
}

/// Whether the catalog has been built (`get` will not build it).
pub fn is_built() -> bool {
    CATALOG.get().is_some()
}
