//! The embed's postMessage protocol, without the browser: a host page's
//! message (as JSON) becomes a `Command` or a `Reject`, and what the embed
//! reports becomes JSON. `ui::embed::api` moves these values in and out of
//! the page; everything that decides lives here and is tested natively.
//!
//! Envelope: `{"gatewayLab": 1, "type": "break", "fault": "app_down", "id": "x"}`.
//! A message is ours when it is a JSON object with a `gatewayLab` key. Ours
//! and malformed gives an `error` event; anything else (another library's
//! message, a string, an array, a payload over `MAX_MESSAGE_BYTES`, our own
//! event types echoed back) is ignored without a word. See docs/EMBEDDING.md.

use serde_json::{json, Map, Value};

use crate::sim::scenario::Flavor;
use crate::sim::termination::TerminationState;
use crate::sim::world::{ClientResult, Exchange};
use crate::sim::{FaultKind, Scenario};

/// The protocol version, the value of the `gatewayLab` key.
pub const PROTOCOL: u64 = 1;
/// The envelope key.
pub const ENVELOPE: &str = "gatewayLab";
/// Longest message read (bytes of JSON); longer ones are ignored unread.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// `send` sends at most this many requests per message.
pub const MAX_SEND: u64 = 50;
/// Virtual milliseconds between the requests of one `send`.
pub const SEND_GAP_MS: u64 = 100;
/// A scenario loaded through the API runs at most this many requests of its own
/// (the embed answers at once; a longer run belongs in the full page).
pub const MAX_LOAD_REQUESTS: u64 = 1_000;
/// Longest correlation id (a string) echoed back.
pub const MAX_ID_LEN: usize = 128;

/// Event types the embed sends; the same types coming in are ignored, so a
/// host that echoes messages back cannot start a loop.
pub const EVENT_TYPES: &[&str] = &["ready", "resize", "outcome", "ack", "pong", "error", "diagnosis"];
/// Longest `text` of a `diagnose` message (bytes); the message itself is at
/// most `MAX_MESSAGE_BYTES`.
pub const MAX_DIAGNOSE_BYTES: usize = 32 * 1024;

/// What a host page asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// A ready scenario by name (a file of `scenarios/`), or a whole scenario.
    Load(Load),
    /// Break the upstream with a catalog fault (`"none"` heals it).
    Break(String),
    /// Apply the engine's fix for the active fault.
    Fix,
    /// Send this many `GET /users` requests.
    Send(u64),
    Play,
    Pause,
    /// Start the run again from time zero.
    Reset,
    Ping,
    /// Diagnose pasted log lines (`crate::diagnose`): load the reproduction
    /// when recognised, reply with a `diagnosis` event either way.
    Diagnose(String),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Load {
    Named(String),
    Scenario(Box<Scenario>),
}

impl Command {
    /// The message `type` this command came from.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Load(_) => "load",
            Command::Break(_) => "break",
            Command::Fix => "fix",
            Command::Send(_) => "send",
            Command::Play => "play",
            Command::Pause => "pause",
            Command::Reset => "reset",
            Command::Ping => "ping",
            Command::Diagnose(_) => "diagnose",
        }
    }
}

/// A valid message: the command and the host's correlation id.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    /// A string (at most `MAX_ID_LEN` bytes) or a number, echoed in the reply.
    pub id: Option<Value>,
    pub command: Command,
}

/// Why a message was not turned into a command.
#[derive(Clone, Debug, PartialEq)]
pub enum Reject {
    /// Not ours (or not worth an answer): say nothing.
    Ignore,
    /// Ours but wrong: answer with an `error` event.
    Error { id: Option<Value>, message: String },
}

/// The id if it is one we echo: a short string or a number.
fn correlation(m: &Map<String, Value>) -> Result<Option<Value>, String> {
    match m.get("id") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.len() <= MAX_ID_LEN => Ok(Some(Value::String(s.clone()))),
        Some(Value::String(_)) => Err(format!("id: at most {MAX_ID_LEN} bytes")),
        Some(Value::Number(n)) => Ok(Some(Value::Number(n.clone()))),
        Some(_) => Err("id: expected a string or a number".into()),
    }
}

/// Reads one message (the `data` of a `message` event, as JSON).
pub fn parse(v: &Value) -> Result<Message, Reject> {
    let Value::Object(m) = v else { return Err(Reject::Ignore) };
    let Some(version) = m.get(ENVELOPE) else { return Err(Reject::Ignore) };
    let ty = m.get("type").and_then(Value::as_str);
    if ty.is_some_and(|t| EVENT_TYPES.contains(&t)) {
        return Err(Reject::Ignore);
    }
    let id = correlation(m).map_err(|message| Reject::Error { id: None, message })?;
    let err = |message: String| Reject::Error { id: id.clone(), message };
    if version.as_u64() != Some(PROTOCOL) {
        return Err(err(format!("{ENVELOPE}: this page speaks protocol {PROTOCOL}, got {}", short(version))));
    }
    let ty = match m.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(other) => return Err(err(format!("type: expected a string, got {}", short(other)))),
        None => return Err(err("type: missing (load, break, fix, send, play, pause, reset, ping or diagnose)".into())),
    };
    let command = match ty {
        "load" => Command::Load(load(m.get("scenario")).map_err(err)?),
        "break" => match m.get("fault") {
            Some(Value::String(f)) if f == "none" || FaultKind::from_id(f).is_some() => Command::Break(f.clone()),
            Some(Value::String(f)) => return Err(err(format!("fault: {} is not a fault of the catalog", short(&Value::String(f.clone()))))),
            Some(other) => return Err(err(format!("fault: expected a fault id (a string), got {}", short(other)))),
            None => return Err(err("fault: missing (a fault id such as \"app_down\", or \"none\")".into())),
        },
        "fix" => Command::Fix,
        "send" => Command::Send(count(m.get("count")).map_err(err)?),
        "play" => Command::Play,
        "pause" => Command::Pause,
        "reset" => Command::Reset,
        "ping" => Command::Ping,
        "diagnose" => match m.get("text") {
            Some(Value::String(t)) if t.trim().is_empty() => return Err(err("text: empty (paste one or more log lines)".into())),
            Some(Value::String(t)) if t.len() > MAX_DIAGNOSE_BYTES => return Err(err(format!("text: {} bytes is too long (at most {MAX_DIAGNOSE_BYTES})", t.len()))),
            Some(Value::String(t)) => Command::Diagnose(t.clone()),
            Some(other) => return Err(err(format!("text: expected the pasted lines (a string), got {}", short(other)))),
            None => return Err(err("text: missing (the pasted log lines, a string)".into())),
        },
        other => return Err(err(format!("type: unknown message type {}", short(&Value::String(other.to_string()))))),
    };
    Ok(Message { id, command })
}

/// Reads a message given as JSON text: longer than `MAX_MESSAGE_BYTES` or
/// not JSON is ignored.
pub fn parse_text(text: &str) -> Result<Message, Reject> {
    if text.len() > MAX_MESSAGE_BYTES {
        return Err(Reject::Ignore);
    }
    let v: Value = serde_json::from_str(text).map_err(|_| Reject::Ignore)?;
    parse(&v)
}

fn load(v: Option<&Value>) -> Result<Load, String> {
    match v {
        Some(Value::String(name)) if !name.is_empty() && name.len() <= 64 => Ok(Load::Named(name.clone())),
        Some(Value::String(_)) => Err("scenario: a ready scenario's name is 1 to 64 bytes".into()),
        Some(obj @ Value::Object(_)) => {
            let sc = Scenario::from_json(&obj.to_string()).map_err(|e| format!("scenario: {e}"))?;
            let total = sc.clients.requests as u64 + sc.requests.len() as u64;
            if total > MAX_LOAD_REQUESTS {
                return Err(format!("scenario: {total} requests is too many for an embed (at most {MAX_LOAD_REQUESTS})"));
            }
            Ok(Load::Scenario(Box::new(sc)))
        }
        Some(other) => Err(format!("scenario: expected a name or a scenario object, got {}", short(other))),
        None => Err("scenario: missing (a ready scenario's name, or a scenario object)".into()),
    }
}

fn count(v: Option<&Value>) -> Result<u64, String> {
    match v {
        None | Some(Value::Null) => Ok(1),
        Some(Value::Number(n)) => match n.as_u64() {
            Some(c) if (1..=MAX_SEND).contains(&c) => Ok(c),
            _ => Err(format!("count: a whole number from 1 to {MAX_SEND}, got {n}")),
        },
        Some(other) => Err(format!("count: expected a number, got {}", short(other))),
    }
}

/// A value for an error message: JSON, cut to 40 characters.
fn short(v: &Value) -> String {
    let s = v.to_string();
    match s.char_indices().nth(40) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s,
    }
}

// ---------------------------------------------------------------- events out

/// The scenario in a few fields (in `ready` and `ack`).
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    pub title: String,
    /// The first active fault's id, or "none".
    pub fault: String,
    pub faults: Vec<String>,
    pub flavor: &'static str,
    pub seed: u64,
}

pub fn summary(sc: &Scenario) -> Summary {
    let faults: Vec<String> = sc.faults.iter().map(|f| f.kind.id().to_string()).collect();
    Summary {
        title: title(sc),
        fault: faults.first().cloned().unwrap_or_else(|| "none".into()),
        faults,
        flavor: sc.proxy.flavor.as_str(),
        seed: sc.seed,
    }
}

/// A title for the scenario: its own, else its first fault's, else "Healthy
/// upstream"; in the proxy's words: an own title that is its first fault's
/// catalog title (nginx's words, as the ready scenarios use them) is that
/// fault's title for the scenario's proxy.
pub fn title(sc: &Scenario) -> String {
    let own = sc.title.trim();
    match sc.faults.first() {
        Some(f) if own.is_empty() || own == f.kind.title() => f.kind.title_in(sc.proxy.flavor).to_string(),
        _ if !own.is_empty() => own.to_string(),
        _ => "Healthy upstream".into(),
    }
}

/// One finished request, as the host sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// As the page numbers requests: 1 for the first.
    pub request: usize,
    /// The status the proxy logged (None: it logged none).
    pub status: Option<u16>,
    /// Which log the line comes from: "error.log", "access.log" or "haproxy".
    pub log: &'static str,
    pub log_line: Option<String>,
    pub client_result: &'static str,
    pub explanation: String,
    /// HAProxy only: the httplog line's termination state (`sH--`) and what
    /// it means, in words (`TerminationState::sentence`). None under nginx.
    pub termination: Option<Termination>,
}

/// HAProxy's termination state of one request, as code and sentence.
#[derive(Clone, Debug, PartialEq)]
pub struct Termination {
    pub code: String,
    pub sentence: String,
}

/// The termination state of `line` if it is an HAProxy httplog line.
pub fn termination(line: &str) -> Option<Termination> {
    TerminationState::of_httplog(line).map(|t| Termination { code: t.code(), sentence: t.sentence() })
}

/// Where a line of `log_line` was written ("error.log", "access.log" or
/// "haproxy"), as the embed titles it: nginx's logs by name, HAProxy's as
/// its option httplog line.
/// `log_title` in the words of the proxy that wrote it (Apache's files
/// are called error.log and access.log too, under /var/log/apache2).
pub fn log_title_in(log: &str, flavor: Flavor) -> &'static str {
    match (log, flavor) {
        ("error.log", Flavor::Apache) => "Apache error.log",
        ("access.log", Flavor::Apache) => "Apache access.log",
        ("error.log", Flavor::Caddy) => "Caddy error log (JSON)",
        ("access.log", Flavor::Caddy) => "Caddy access log (JSON)",
        ("error.log", Flavor::Varnish) => "varnishlog",
        ("access.log", Flavor::Varnish) => "varnishncsa",
        ("access.log", Flavor::Envoy) => "Envoy access log",
        ("access.log", Flavor::Alb) => "ALB access log",
        _ => log_title(log),
    }
}

pub fn log_title(log: &str) -> &'static str {
    match log {
        "error.log" => "nginx error.log",
        "access.log" => "nginx access.log",
        _ => "HAProxy log (option httplog)",
    }
}

/// The log line that says what happened to `ex`: for nginx the most severe
/// error.log line it produced (the last of equals), else its access.log
/// line; for HAProxy its log line (option httplog).
pub fn log_line(ex: &Exchange, flavor: Flavor) -> (&'static str, Option<String>) {
    if flavor == Flavor::Haproxy {
        return ("haproxy", ex.access_line.clone());
    }
    if flavor == Flavor::Apache || flavor == Flavor::Caddy || flavor == Flavor::Varnish || flavor == Flavor::Envoy || flavor == Flavor::Alb {
        // Apache's first line of a failure carries the errno (`(111)Connection
        // refused: AH00957 …`); the lines after it summarise.
        let worst = ex.error_lines.iter().map(|l| l.level).min();
        return match ex.error_lines.iter().find(|l| Some(l.level) == worst) {
            Some(l) => ("error.log", Some(l.text.clone())),
            None => ("access.log", ex.access_line.clone()),
        };
    }
    match ex.worst_error_line() {
        Some(l) => ("error.log", Some(l.text.clone())),
        None => ("access.log", ex.access_line.clone()),
    }
}

/// `log_line`; when the proxy wrote none because a layer in front answered,
/// that layer's record (`"layer"`); when the request left no line because the
/// proxy is not running (it failed to start: the client could not even
/// connect), the proxy's own last line on stderr, which journald keeps (`"stderr"`).
pub fn telling_line(w: &crate::sim::world::World, ex: &Exchange) -> (&'static str, Option<String>) {
    let (log, line) = log_line(ex, w.scenario.proxy.flavor);
    // The request never reached the proxy: a layer in front answered with its own page, and its
    // record is the line that goes with the status (`"layer"`; `layer::answering_line`).
    if line.is_none() {
        if let Some((_, record)) = crate::sim::layer::answering_line(w, ex) {
            return ("layer", Some(record));
        }
    }
    if line.is_none() && ex.client_result == Some(ClientResult::ConnectFailed) && !w.proxy_running {
        // The first line of the last block of failure lines: HAProxy follows its cause
        // (`could not resolve address`) with a summary (`Failed to initialize server(s)`).
        let lines: Vec<&str> = w.proxy_stderr.lines().map(|l| l.as_ref()).collect();
        let failing = |l: &str| l.contains("[emerg]") || l.contains("[ALERT]");
        let end = lines.iter().rposition(|l| failing(l));
        if let Some(end) = end {
            let start = lines[..=end].iter().rposition(|l| !failing(l)).map_or(0, |i| i + 1);
            return ("stderr", Some(lines[start].to_string()));
        }
        if let Some(l) = lines.last() {
            return ("stderr", Some(l.to_string()));
        }
    }
    (log, line)
}

pub fn client_result_name(r: Option<&ClientResult>) -> &'static str {
    match r {
        None => "pending",
        Some(ClientResult::Response) => "response",
        Some(ClientResult::Truncated { .. }) => "truncated",
        Some(ClientResult::Http09) => "http09",
        Some(ClientResult::ConnectFailed) => "connect_failed",
        Some(ClientResult::TimedOut) => "timed_out",
        Some(ClientResult::Cancelled) => "cancelled",
        Some(ClientResult::Rejected) => "rejected",
        Some(ClientResult::Reset) => "reset",
    }
}

/// Whitespace (newlines included) collapsed to single spaces.
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub fn outcome(ex: &Exchange, flavor: Flavor) -> Outcome {
    let (log, log_line) = log_line(ex, flavor);
    let termination = if flavor == Flavor::Haproxy { log_line.as_deref().and_then(termination) } else { None };
    Outcome {
        termination,
        request: ex.id + 1,
        status: ex.logged_status,
        log,
        log_line,
        client_result: client_result_name(ex.client_result.as_ref()),
        explanation: one_line(ex.explanation.as_deref().unwrap_or_default()),
    }
}

/// What the embed tells its host.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// Sent once, when the embed has started. `started` is false while a
    /// `start=click` embed waits for its reader.
    Ready { scenario: Summary, started: bool, warnings: Vec<String> },
    /// The embed's content height in CSS pixels changed.
    Resize { height: u32 },
    Outcome(Outcome),
    /// A command with an `id` was carried out.
    Ack { id: Value, command: &'static str, scenario: Summary },
    Pong { id: Option<Value> },
    Error { id: Option<Value>, message: String },
    /// The reply to `diagnose`.
    Diagnosis { id: Option<Value>, report: DiagnosisReport },
}

/// What a `diagnose` found, as the host hears it.
#[derive(Clone, Debug, PartialEq)]
pub struct DiagnosisReport {
    /// The lines name one cause, and its reproduction was loaded.
    pub recognised: bool,
    /// Why not (the engine's sentence); None when recognised.
    pub message: Option<String>,
    /// The input could not be read at all (binary, too large).
    pub unusable: bool,
    /// The reproduction's candidate (`missing_socket · nginx`).
    pub candidate: Option<String>,
    pub fault: Option<String>,
    pub flavor: Option<&'static str>,
    pub cause: Option<String>,
    pub fix: Option<String>,
    pub placed: usize,
    pub unplaced: usize,
    /// The reproduced line of the first placed line.
    pub reproduced: Option<String>,
    /// Not recognised: the nearest candidates' labels.
    pub nearest: Vec<String>,
}

/// The report of a `crate::diagnose::verdict`.
pub fn diagnosis_report(r: &Result<crate::diagnose::Diagnosis, crate::diagnose::DiagnoseError>) -> DiagnosisReport {
    use crate::diagnose::DiagnoseError;
    let none = DiagnosisReport {
        recognised: false, message: None, unusable: false, candidate: None, fault: None, flavor: None,
        cause: None, fix: None, placed: 0, unplaced: 0, reproduced: None, nearest: Vec::new(),
    };
    match r {
        Ok(d) => DiagnosisReport {
            recognised: true,
            candidate: Some(d.candidate.clone()),
            fault: d.fault.clone(),
            flavor: Some(d.flavor.as_str()),
            cause: d.cause.clone(),
            fix: d.fix.clone(),
            placed: d.placed.len(),
            unplaced: d.unplaced.len(),
            reproduced: d.placed.first().map(|p| p.reproduced.clone()),
            ..none
        },
        Err(DiagnoseError::Unusable(m)) => DiagnosisReport { message: Some(m.clone()), unusable: true, ..none },
        Err(DiagnoseError::NotRecognised { message, nearest }) => {
            DiagnosisReport { message: Some(message.clone()), nearest: nearest.iter().map(|n| n.candidate.clone()).collect(), ..none }
        }
    }
}

fn summary_json(s: &Summary) -> Value {
    json!({ "title": s.title, "fault": s.fault, "faults": s.faults, "flavor": s.flavor, "seed": s.seed })
}

impl Event {
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Ready { .. } => "ready",
            Event::Resize { .. } => "resize",
            Event::Outcome(_) => "outcome",
            Event::Ack { .. } => "ack",
            Event::Pong { .. } => "pong",
            Event::Error { .. } => "error",
            Event::Diagnosis { .. } => "diagnosis",
        }
    }

    /// The message posted to the host.
    pub fn to_json(&self) -> Value {
        let mut v = match self {
            Event::Ready { scenario, started, warnings } => json!({
                "version": PROTOCOL, "scenario": summary_json(scenario), "started": started, "warnings": warnings,
            }),
            Event::Resize { height } => json!({ "height": height }),
            Event::Outcome(o) => json!({
                "requestId": o.request, "status": o.status, "log": o.log, "logLine": o.log_line,
                "clientResult": o.client_result, "explanation": o.explanation,
                "termination": o.termination.as_ref().map(|t| json!({ "code": t.code, "sentence": t.sentence })),
            }),
            Event::Ack { id, command, scenario } => json!({ "id": id, "command": command, "scenario": summary_json(scenario) }),
            Event::Pong { id } => json!({ "id": id }),
            Event::Error { id, message } => json!({ "id": id, "message": message }),
            Event::Diagnosis { id, report: r } => json!({
                "id": id, "recognised": r.recognised, "message": r.message, "unusable": r.unusable,
                "candidate": r.candidate, "fault": r.fault, "flavor": r.flavor, "cause": r.cause, "fix": r.fix,
                "placed": r.placed, "unplaced": r.unplaced, "reproduced": r.reproduced, "nearest": r.nearest,
            }),
        };
        if let Value::Object(m) = &mut v {
            m.insert(ENVELOPE.into(), Value::from(PROTOCOL));
            m.insert("type".into(), Value::from(self.kind()));
        }
        v
    }
}

/// The reply to a message that was ours but wrong.
pub fn reject_event(r: Reject) -> Option<Event> {
    match r {
        Reject::Ignore => None,
        Reject::Error { id, message } => Some(Event::Error { id, message }),
    }
}

/// An origin as `origin=` gives it: `scheme://host[:port]`, http or https,
/// nothing after. Returned as browsers serialise it (lower case).
pub fn parse_origin(s: &str) -> Result<String, String> {
    let lower = s.trim().to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .ok_or_else(|| format!("origin={s:?}: expected http(s)://host[:port]"))?;
    let (host, port) = match rest.strip_prefix('[') {
        // An IPv6 literal: [::1] or [::1]:8080.
        Some(v6) => match v6.split_once(']') {
            Some((addr, after)) if !addr.is_empty() && addr.bytes().all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.') => {
                (addr, if after.is_empty() { Some(None) } else { after.strip_prefix(':').map(Some) })
            }
            _ => ("", None),
        },
        None => {
            let (h, p) = match rest.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (rest, None),
            };
            let ok = h.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
            (if ok { h } else { "" }, Some(p))
        }
    };
    let host_ok = !host.is_empty() && host.len() <= 253;
    // None: something other than `:port` follows the host.
    let port_ok = match port {
        Some(None) => true,
        Some(Some(p)) => !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u32>().is_ok_and(|n| n <= 65_535),
        None => false,
    };
    if host_ok && port_ok {
        Ok(lower)
    } else {
        Err(format!("origin={s:?}: expected http(s)://host[:port] and nothing after"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::Simulation;
    use proptest::prelude::*;

    /// The ready scenarios, read from scenarios/ (this module must not reach into the UI).
    fn ready_scenarios() -> Vec<(String, String)> {
        let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("scenarios");
        let mut v: Vec<_> = std::fs::read_dir(dir)
            .expect("scenarios/ is readable")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .map(|p| (p.file_stem().unwrap().to_string_lossy().into_owned(), std::fs::read_to_string(&p).unwrap()))
            .collect();
        v.sort();
        assert!(v.len() >= 20, "{} scenarios", v.len());
        v
    }

    fn ready(name: &str) -> Scenario {
        let (_, text) = ready_scenarios().into_iter().find(|(n, _)| n == name).unwrap();
        Scenario::from_json(&text).unwrap()
    }

    fn ok(v: Value) -> Message {
        parse(&v).unwrap_or_else(|e| panic!("{v}: {e:?}"))
    }

    fn error(v: Value) -> (Option<Value>, String) {
        match parse(&v) {
            Err(Reject::Error { id, message }) => (id, message),
            other => panic!("{v}: expected an error, got {other:?}"),
        }
    }

    #[test]
    fn valid_commands() {
        let m = ok(json!({"gatewayLab": 1, "type": "break", "fault": "app_down", "id": "b1"}));
        assert_eq!(m, Message { id: Some(json!("b1")), command: Command::Break("app_down".into()) });
        assert_eq!(ok(json!({"gatewayLab": 1, "type": "break", "fault": "none"})).command, Command::Break("none".into()));
        assert_eq!(ok(json!({"gatewayLab": 1, "type": "fix", "id": 7})), Message { id: Some(json!(7)), command: Command::Fix });
        assert_eq!(ok(json!({"gatewayLab": 1, "type": "send"})).command, Command::Send(1));
        assert_eq!(ok(json!({"gatewayLab": 1, "type": "send", "count": 5})).command, Command::Send(5));
        assert_eq!(ok(json!({"gatewayLab": 1, "type": "send", "count": MAX_SEND})).command, Command::Send(MAX_SEND));
        for (t, c) in [("play", Command::Play), ("pause", Command::Pause), ("reset", Command::Reset), ("ping", Command::Ping)] {
            let m = ok(json!({"gatewayLab": 1, "type": t}));
            assert_eq!((m.command.name(), m.command), (t, c));
        }
        assert_eq!(ok(json!({"gatewayLab": 1, "type": "load", "scenario": "slow_app"})).command, Command::Load(Load::Named("slow_app".into())));
        let m = ok(json!({"gatewayLab": 1, "type": "load", "scenario": {"version": 1, "seed": 9, "faults": [{"type": "slow_app"}], "proxy": {"flavor": "haproxy"}}}));
        let Command::Load(Load::Scenario(sc)) = m.command else { panic!("not a scenario") };
        assert_eq!((sc.seed, sc.faults[0].kind.id(), sc.proxy.flavor), (9, "slow_app", Flavor::Haproxy));
    }

    #[test]
    fn other_messages_are_ignored() {
        for v in [
            json!(null),
            json!("gatewayLab"),
            json!(1),
            json!([{"gatewayLab": 1, "type": "fix"}]),
            json!({}),
            json!({"type": "break", "fault": "app_down"}),
            json!({"source": "react-devtools-content-script", "payload": {}}),
            json!({"gatewaylab": 1, "type": "fix"}),
            // Our own events, echoed back by a host.
            json!({"gatewayLab": 1, "type": "error", "message": "x"}),
            json!({"gatewayLab": 1, "type": "ready"}),
            json!({"gatewayLab": 1, "type": "outcome", "status": 502}),
        ] {
            assert_eq!(parse(&v), Err(Reject::Ignore), "{v}");
        }
        assert_eq!(parse_text("not json"), Err(Reject::Ignore));
        assert_eq!(parse_text(&format!(r#"{{"gatewayLab":1,"type":"fix","pad":"{}"}}"#, "x".repeat(MAX_MESSAGE_BYTES))), Err(Reject::Ignore));
        assert_eq!(parse_text(r#"{"gatewayLab":1,"type":"fix"}"#).unwrap().command, Command::Fix);
        // serde_json's recursion limit turns a deep document into "not JSON".
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert_eq!(parse_text(&deep), Err(Reject::Ignore));
    }

    #[test]
    fn our_envelope_with_mistakes_gets_an_error() {
        let cases = [
            (json!({"gatewayLab": 2, "type": "fix", "id": "v"}), "protocol 1, got 2"),
            (json!({"gatewayLab": "1", "type": "fix", "id": "v"}), "protocol 1"),
            (json!({"gatewayLab": 1, "id": "v"}), "type: missing"),
            (json!({"gatewayLab": 1, "type": 3, "id": "v"}), "type: expected a string"),
            (json!({"gatewayLab": 1, "type": "explode", "id": "v"}), "unknown message type \"explode\""),
            (json!({"gatewayLab": 1, "type": "break", "id": "v"}), "fault: missing"),
            (json!({"gatewayLab": 1, "type": "break", "fault": "gremlins", "id": "v"}), "not a fault of the catalog"),
            (json!({"gatewayLab": 1, "type": "break", "fault": {"type": "app_down"}, "id": "v"}), "expected a fault id"),
            (json!({"gatewayLab": 1, "type": "send", "count": 0, "id": "v"}), "count: a whole number from 1 to 50"),
            (json!({"gatewayLab": 1, "type": "send", "count": 1e9, "id": "v"}), "count"),
            (json!({"gatewayLab": 1, "type": "send", "count": -1, "id": "v"}), "count"),
            (json!({"gatewayLab": 1, "type": "send", "count": 2.5, "id": "v"}), "count"),
            (json!({"gatewayLab": 1, "type": "send", "count": "3", "id": "v"}), "count: expected a number"),
            (json!({"gatewayLab": 1, "type": "load", "id": "v"}), "scenario: missing"),
            (json!({"gatewayLab": 1, "type": "load", "scenario": "", "id": "v"}), "1 to 64 bytes"),
            (json!({"gatewayLab": 1, "type": "load", "scenario": 5, "id": "v"}), "expected a name or a scenario object"),
            (json!({"gatewayLab": 1, "type": "load", "scenario": {"seed": 1}, "id": "v"}), "version"),
            (json!({"gatewayLab": 1, "type": "load", "scenario": {"version": 1, "seed": "x"}, "id": "v"}), "seed"),
            (json!({"gatewayLab": 1, "type": "load", "scenario": {"version": 1, "bogus": 1}, "id": "v"}), "bogus"),
            (json!({"gatewayLab": 1, "type": "load", "scenario": {"version": 1, "clients": {"requests": 5000}}, "id": "v"}), "too many for an embed"),
        ];
        for (v, expect) in cases {
            let (id, message) = error(v.clone());
            assert_eq!(id, Some(json!("v")), "{v}");
            assert!(message.contains(expect), "{v}: {message}");
        }
        // A bad id is reported without it.
        let (id, message) = error(json!({"gatewayLab": 1, "type": "fix", "id": {"a": 1}}));
        assert_eq!((id, message.as_str()), (None, "id: expected a string or a number"));
        let (id, message) = error(json!({"gatewayLab": 1, "type": "fix", "id": "x".repeat(500)}));
        assert!(id.is_none() && message.contains("at most 128"), "{message}");
        // Messages quote what they got, cut short.
        let (_, message) = error(json!({"gatewayLab": 1, "type": "x".repeat(5000)}));
        assert!(message.len() < 120, "{message}");
    }

    #[test]
    fn events_carry_the_envelope() {
        let sc = ready("app_down");
        let ready = Event::Ready { scenario: summary(&sc), started: true, warnings: vec![] }.to_json();
        assert_eq!(
            ready,
            json!({"gatewayLab": 1, "type": "ready", "version": 1, "started": true, "warnings": [],
                   "scenario": {"title": "App process not running", "fault": "app_down", "faults": ["app_down"], "flavor": "nginx", "seed": 1}})
        );
        assert_eq!(Event::Resize { height: 381 }.to_json(), json!({"gatewayLab": 1, "type": "resize", "height": 381}));
        assert_eq!(Event::Pong { id: None }.to_json(), json!({"gatewayLab": 1, "type": "pong", "id": null}));
        // Our own events are never read back as commands.
        for e in [ready, Event::Error { id: Some(json!(1)), message: "m".into() }.to_json()] {
            assert_eq!(parse(&e), Err(Reject::Ignore));
        }
        let healthy = summary(&Scenario::default());
        assert_eq!((healthy.title.as_str(), healthy.fault.as_str(), healthy.faults.len()), ("Healthy upstream", "none", 0));
    }

    fn first_outcome(name: &str, flavor: Flavor) -> Outcome {
        let mut sc = ready(name);
        sc.proxy.flavor = flavor;
        let mut sim = Simulation::new(sc).unwrap();
        sim.run();
        let ex = sim.exchanges().iter().find(|e| e.is_finished()).expect("a finished request");
        outcome(ex, flavor)
    }

    #[test]
    fn outcomes_report_the_logged_status_and_the_telling_line() {
        let o = first_outcome("app_down", Flavor::Nginx);
        assert_eq!((o.request, o.status, o.log, o.client_result), (1, Some(502), "error.log", "response"));
        let line = o.log_line.unwrap();
        assert!(line.contains("[error]") && line.contains("connect() failed (111: Connection refused) while connecting to upstream"), "{line}");
        assert!(o.explanation.starts_with("Nothing was listening on 127.0.0.1:3000"), "{}", o.explanation);
        let v = Event::Outcome(first_outcome("app_down", Flavor::Nginx)).to_json();
        assert_eq!((v["type"].as_str(), v["status"].as_u64(), v["requestId"].as_u64()), (Some("outcome"), Some(502), Some(1)));

        let o = first_outcome("healthy", Flavor::Nginx);
        assert_eq!((o.status, o.log), (Some(200), "access.log"));
        assert!(o.log_line.as_deref().unwrap().contains("\"GET /users HTTP/1.1\" 200 "));
        assert_eq!(o.termination, None);
        assert!(Event::Outcome(o).to_json()["termination"].is_null());

        let o = first_outcome("app_down", Flavor::Haproxy);
        assert_eq!((o.status, o.log), (Some(503), "haproxy"));
        assert!(o.log_line.as_deref().unwrap().contains(" 503 "));
        let t = o.termination.clone().expect("HAProxy's termination state");
        assert_eq!(t.code, "SC--");
        assert!(t.sentence.starts_with("SC--: "), "{}", t.sentence);
        let v = Event::Outcome(o).to_json();
        assert_eq!(v["termination"]["code"].as_str(), Some("SC--"));
        assert_eq!(v["termination"]["sentence"].as_str(), Some(t.sentence.as_str()));
    }

    #[test]
    fn every_ready_scenario_gives_an_outcome_with_a_line() {
        for (name, text) in ready_scenarios() {
            for flavor in [Flavor::Nginx, Flavor::Haproxy] {
                let mut sc = Scenario::from_json(&text).unwrap();
                sc.proxy.flavor = flavor;
                if flavor == Flavor::Haproxy && crate::sim::server::protocol(&sc.apps) != crate::sim::server::Protocol::Http {
                    // HAProxy speaks only HTTP to its servers: refused by validation.
                    assert!(Simulation::new(sc).is_err(), "{name}");
                    continue;
                }
                let mut sim = Simulation::new(sc).unwrap();
                sim.run();
                for ex in sim.exchanges().iter().filter(|e| e.is_finished()) {
                    let o = outcome(ex, flavor);
                    assert!(!o.explanation.contains('\n'));
                    // HAProxy's line always carries its termination state, said in words; nginx's never.
                    assert_eq!(o.termination.is_some(), flavor == Flavor::Haproxy && o.log_line.is_some(), "{name} {flavor:?} #{}", o.request);
                    // A request the proxy saw has a line; one the client never sent may not.
                    if o.status.is_some() {
                        assert!(o.log_line.is_some(), "{name} {flavor:?} #{}", o.request);
                    }
                    if flavor == Flavor::Nginx && o.status.is_some_and(|s| s >= 500) && !ex.error_lines.is_empty() {
                        let line = o.log_line.unwrap();
                        assert!(["[error]", "[crit]", "[alert]", "[emerg]"].iter().any(|l| line.contains(l)), "{name}: {line}");
                    }
                }
            }
        }
    }

    /// The php-fpm socket line of the page's e2e test.
    const FPM: &str = "2023/05/14 09:12:44 [crit] 1204#1204: *7 connect() to unix:/run/php/php8.2-fpm.sock failed (2: No such file or directory) while connecting to upstream, client: 203.0.113.9, server: example.org, request: \"GET /index.php HTTP/1.1\", upstream: \"fastcgi://unix:/run/php/php8.2-fpm.sock:\", host: \"example.org\"";

    #[test]
    fn diagnose_messages() {
        let ok = |v: Value| parse(&v).unwrap();
        assert_eq!(ok(json!({"gatewayLab": 1, "type": "diagnose", "text": FPM, "id": "d"})).command, Command::Diagnose(FPM.into()));
        for (v, expect) in [
            (json!({"gatewayLab": 1, "type": "diagnose"}), "text: missing"),
            (json!({"gatewayLab": 1, "type": "diagnose", "text": 7}), "expected the pasted lines"),
            (json!({"gatewayLab": 1, "type": "diagnose", "text": " \n "}), "empty"),
            (json!({"gatewayLab": 1, "type": "diagnose", "text": "x".repeat(MAX_DIAGNOSE_BYTES + 1)}), "too long"),
        ] {
            match parse(&v) {
                Err(Reject::Error { message, .. }) => assert!(message.contains(expect), "{message}"),
                other => panic!("{other:?}"),
            }
        }
        // Our own reply echoed back is ignored.
        assert_eq!(parse(&json!({"gatewayLab": 1, "type": "diagnosis", "recognised": true})), Err(Reject::Ignore));

        let r = diagnosis_report(&crate::diagnose::verdict(FPM));
        assert!(r.recognised, "{r:?}");
        assert_eq!((r.flavor, r.placed, r.unplaced), (Some("nginx"), 1, 0));
        assert!(r.reproduced.as_deref().unwrap().contains("unix:/run/php/php8.2-fpm.sock"), "{r:?}");
        let v = Event::Diagnosis { id: Some(json!("d")), report: r }.to_json();
        assert_eq!((v["type"].as_str(), v["recognised"].as_bool(), v["id"].as_str()), (Some("diagnosis"), Some(true), Some("d")));
        assert!(v["fault"].as_str().is_some() && v["cause"].as_str().is_some(), "{v}");

        let r = diagnosis_report(&crate::diagnose::verdict("sshd[123]: Accepted publickey for root from 10.0.0.1 port 5022 ssh2"));
        assert!(!r.recognised && !r.unusable && r.message.as_deref().unwrap().contains("not recognised"), "{r:?}");
        let r = diagnosis_report(&crate::diagnose::verdict("\0\0\0binary"));
        assert!(!r.recognised && r.unusable, "{r:?}");
    }

    #[test]
    fn origins() {
        assert_eq!(parse_origin("https://Docs.Example.com").unwrap(), "https://docs.example.com");
        assert_eq!(parse_origin("http://127.0.0.1:8080").unwrap(), "http://127.0.0.1:8080");
        assert_eq!(parse_origin("http://[::1]:8080").unwrap(), "http://[::1]:8080");
        assert_eq!(parse_origin("https://[::1]").unwrap(), "https://[::1]");
        assert_eq!(parse_origin("http://localhost").unwrap(), "http://localhost");
        for bad in ["", "*", "docs.example.com", "javascript:alert(1)", "https://", "https://a.com/path", "https://a.com:99999", "https://a.com:", "ftp://a.com", "https://a b.com", "https://a.com?x", "https://[::1]x", "https://[]", "https://[::1]:"] {
            assert!(parse_origin(bad).is_err(), "{bad:?}");
        }
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map(Value::Number).unwrap_or(Value::Null)),
            "[a-z_]{0,12}".prop_map(Value::from),
            prop_oneof![Just("break"), Just("load"), Just("send"), Just("fix"), Just("app_down"), Just("none"), Just("gatewayLab")].prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec(
                    (prop_oneof![Just("gatewayLab".to_string()), Just("type".to_string()), Just("fault".to_string()), Just("scenario".to_string()), Just("count".to_string()), Just("id".to_string()), "[a-z]{1,8}"], inner),
                    0..6
                )
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

        /// Random JSON never panics, and whatever is accepted is a known command
        /// with the envelope; whatever is refused out loud carried the envelope.
        #[test]
        fn random_json_never_panics(v in json_value()) {
            match parse(&v) {
                Ok(m) => {
                    prop_assert_eq!(v.get(ENVELOPE).and_then(Value::as_u64), Some(PROTOCOL));
                    prop_assert_eq!(v.get("type").and_then(Value::as_str), Some(m.command.name()));
                }
                Err(Reject::Error { message, .. }) => {
                    prop_assert!(v.get(ENVELOPE).is_some());
                    prop_assert!(!message.is_empty() && message.len() < 400);
                }
                Err(Reject::Ignore) => {}
            }
            let _ = parse_text(&v.to_string());
        }

        #[test]
        fn random_enveloped_messages_never_panic(ty in "[a-z]{0,6}|load|break|send", extra in json_value()) {
            let mut m = Map::new();
            m.insert(ENVELOPE.into(), Value::from(1));
            m.insert("type".into(), Value::from(ty));
            for key in ["fault", "scenario", "count", "id"] {
                m.insert(key.into(), extra.clone());
            }
            let _ = parse(&Value::Object(m));
        }

        #[test]
        fn random_text_never_panics(s in ".{0,200}") {
            let _ = parse_text(&s);
            let _ = parse_origin(&s);
        }
    }
}
