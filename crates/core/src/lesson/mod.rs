//! Lessons, quiz questions and challenges: data (`lessons/*.json`), and the
//! checks that decide whether a learner did what a step asks, judged on
//! the simulation itself. Pure: no web imports, nothing here decides HTTP
//! semantics (a check reads what the engine recorded).
//!
//! A lesson is a list of steps. Each step has a goal and a `Check`; the
//! check only looks at requests sent and commands run since the step
//! began, so no step is ever passed by what happened before it. Each step
//! also carries a `solution` (a list of `Action`s): the page's "Show me"
//! button performs it on the page's `Session`, and `tests/lessons.rs` performs every solution on
//! the same type to
//! prove each lesson can be completed.

pub mod catalog;

use serde::Deserialize;
use serde_json::Value;

use crate::sim::json_path::error_path;
use crate::sim::metrics::Metrics;
use crate::sim::window::Window;
use crate::sim::world::Exchange;
use crate::sim::{FaultKind, Scenario, Simulation};

/// Longest lesson file accepted (bytes).
pub const MAX_LESSON_BYTES: usize = 64 * 1024;

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Lesson {
    /// Used in links: `?lesson=ID`.
    pub id: String,
    pub title: String,
    /// One sentence: what the learner will understand.
    pub summary: String,
    /// A ready scenario (a file of `scenarios/`) loaded when the lesson
    /// starts; without it, the healthy default with no requests.
    #[serde(default)]
    pub start: Option<String>,
    pub steps: Vec<Step>,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Short imperative goal: "Make the proxy answer 504".
    pub goal: String,
    /// What to read or look at, a paragraph.
    pub text: String,
    /// Shown on demand.
    #[serde(default)]
    pub hint: Option<String>,
    /// Shown once the check passes: why it happened.
    #[serde(default)]
    pub explain: Option<String>,
    pub check: Check,
    /// What "Show me" does; also the proof, in the tests, that the step can be done.
    pub solution: Vec<Action>,
}

/// Something a learner (or "Show me") does to the playground.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// Load a ready scenario (its own requests run).
    Load(String),
    /// Break the upstream with a catalog fault ("none" heals everything).
    Break(String),
    /// The engine's fix for the first fault (`Fault::apply_fix`).
    Fix,
    /// Set one field of the scenario, by JSON pointer: `/proxy/proxy_read_timeout_ms`.
    Set { pointer: String, value: Value },
    /// Send `count` requests `gap_ms` apart.
    Send {
        count: u64,
        #[serde(default = "default_gap")]
        gap_ms: u64,
    },
    /// Run a command in the diagnosis terminal.
    Run(String),
    /// Start the run again from time zero with the current scenario.
    Reset,
}

fn default_gap() -> u64 {
    20
}

/// What a step asks for, judged on the requests that finished and the
/// commands run since the step began.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Check {
    /// The newest finished request got this status (the one the client saw).
    Status(u16),
    /// Some request of this step got this status.
    Saw(u16),
    /// A request of this step produced a log line (nginx error.log, or the
    /// access / HAProxy log line) containing this text.
    LogHas(String),
    /// This catalog fault is active.
    Fault(String),
    /// No fault is active.
    Healthy,
    /// Of the last `of_last` requests of this step (there must be that
    /// many), at least this share succeeded (2xx or 3xx, answer received).
    Success { at_least: f64, of_last: usize },
    /// A field of the scenario (JSON pointer) is at least this number.
    AtLeast { pointer: String, value: f64 },
    /// A terminal command starting with this text was run.
    Ran(String),
    All(Vec<Check>),
    Any(Vec<Check>),
}

/// Where a step began: the run (`epoch`), its request count and the
/// terminal's command count then (all commands ever run, forgotten ones
/// included). Requests of a later run all count.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Mark {
    pub epoch: u64,
    pub requests: usize,
    pub commands: usize,
}

impl Mark {
    /// The first request of the current run (`epoch`) that counts for the step.
    pub fn first_request(&self, epoch: u64) -> usize {
        if epoch == self.epoch { self.requests } else { 0 }
    }

    /// What a check sees of this step, given the run's `epoch`, its kept
    /// requests and the terminal's remembered commands, `dropped` older
    /// ones having been forgotten before `commands[0]`.
    pub fn seen<'a>(
        &self,
        epoch: u64,
        scenario: &'a Scenario,
        exchanges: &'a Window<Exchange>,
        commands: &'a [String],
        dropped: usize,
    ) -> Seen<'a> {
        let exchanges = exchanges.iter_from(self.first_request(epoch)).collect();
        let from = self.commands.saturating_sub(dropped).min(commands.len());
        Seen { scenario, exchanges, commands: &commands[from..] }
    }
}

/// What a check sees.
pub struct Seen<'a> {
    pub scenario: &'a Scenario,
    /// The requests of this step that the run still keeps (the newest
    /// `World::retain` at least), oldest first.
    pub exchanges: Vec<&'a Exchange>,
    /// The terminal commands of this step.
    pub commands: &'a [String],
}

fn words(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Check {
    pub fn passes(&self, seen: &Seen) -> bool {
        let finished = || seen.exchanges.iter().copied().filter(|e| e.is_finished());
        match self {
            Check::Status(s) => finished().last().is_some_and(|e| e.status() == Some(*s)),
            Check::Saw(s) => finished().any(|e| e.status() == Some(*s)),
            Check::LogHas(text) => finished().any(|e| e.error_lines.iter().map(|l| &l.text).chain(e.access_line.iter()).any(|l| l.contains(text.as_str()))),
            Check::Fault(id) => seen.scenario.faults.iter().any(|f| f.kind.id() == id),
            Check::Healthy => seen.scenario.faults.is_empty(),
            Check::Success { at_least, of_last } => {
                let done: Vec<&Exchange> = finished().collect();
                if *of_last == 0 || done.len() < *of_last {
                    return false;
                }
                let last = &done[done.len() - of_last..];
                let ok = last.iter().filter(|e| e.succeeded()).count();
                ok as f64 >= at_least * *of_last as f64
            }
            Check::AtLeast { pointer, value } => serde_json::to_value(seen.scenario)
                .ok()
                .and_then(|v| v.pointer(pointer).and_then(Value::as_f64))
                .is_some_and(|x| x >= *value),
            Check::Ran(prefix) => {
                let p = words(prefix);
                seen.commands.iter().any(|c| words(c).starts_with(&p))
            }
            Check::All(cs) => cs.iter().all(|c| c.passes(seen)),
            Check::Any(cs) => cs.iter().any(|c| c.passes(seen)),
        }
    }

    /// Every fault id, scenario pointer and status named is meaningful.
    fn validate(&self, at: &str) -> Result<(), String> {
        match self {
            Check::Status(s) | Check::Saw(s) if !(100..=599).contains(s) => Err(format!("{at}: status {s} is not an HTTP status")),
            Check::Fault(id) if FaultKind::from_id(id).is_none() => Err(format!("{at}: {id:?} is not a catalog fault")),
            Check::Success { at_least, of_last } if !(0.0..=1.0).contains(at_least) || *of_last == 0 || *of_last > 1_000 => {
                Err(format!("{at}: success needs 0 ≤ at_least ≤ 1 and 1 ≤ of_last ≤ 1000"))
            }
            Check::AtLeast { pointer, .. } => {
                // Every field, those a default scenario leaves out of its JSON too
                // (an app's server settings).
                let mut v = serde_json::to_value(Scenario::default()).unwrap_or(Value::Null);
                if let (Some(app), Ok(full)) = (v.pointer_mut("/apps/0"), serde_json::to_value(crate::sim::server::full_settings())) {
                    if let (Some(a), Some(f)) = (app.as_object_mut(), full.as_object()) {
                        a.extend(f.clone());
                    }
                }
                v.pointer(pointer).filter(|x| x.is_number()).map(|_| ()).ok_or_else(|| format!("{at}: {pointer:?} is not a number field of the scenario"))
            }
            Check::All(cs) | Check::Any(cs) => cs.iter().try_for_each(|c| c.validate(at)),
            _ => Ok(()),
        }
    }
}

/// `sc` with the field at `pointer` set to `value`, validated.
pub fn set_field(sc: &Scenario, pointer: &str, value: &Value) -> Result<Scenario, String> {
    let mut v = serde_json::to_value(sc).map_err(|e| e.to_string())?;
    let slot = v.pointer_mut(pointer).ok_or_else(|| format!("{pointer:?} is not a field of the scenario"))?;
    *slot = value.clone();
    Scenario::from_json(&v.to_string()).map_err(|e| e.to_string())
}

impl Action {
    /// Performs it on a session: the page's "Show me" and the lesson tests alike.
    pub fn perform(&self, s: &mut crate::session::Session) -> crate::session::Result<()> {
        s.perform(self)
    }

    /// How the "Show me" list reads it.
    pub fn describe(&self) -> String {
        match self {
            Action::Load(name) => format!("load the ready scenario “{name}”"),
            Action::Break(id) if id == "none" => "heal the upstream (nothing broken)".into(),
            Action::Break(id) => format!("break the upstream: {}", FaultKind::from_id(id).map(|k| k.title()).unwrap_or(id)),
            Action::Fix => "apply the fix".into(),
            Action::Set { pointer, value } => format!("set {} to {value}", pointer.trim_start_matches('/').replace('/', ".")),
            Action::Send { count: 1, .. } => "send a request".into(),
            Action::Send { count, gap_ms } => format!("send {count} requests, {gap_ms} ms apart"),
            Action::Run(line) => format!("run `{line}` in the terminal"),
            Action::Reset => "reset: run the scenario again from time zero".into(),
        }
    }
}

impl Lesson {
    /// The catalog faults the lesson is about, once each: those its steps'
    /// checks ask for (`{"fault": ID}`), then those its "Show me" solutions
    /// break the upstream with (`{"break": ID}`: a step may check only the
    /// log line, as the missing socket's does). The page's paste box offers
    /// the lesson for a diagnosis of one of them.
    pub fn faults(&self) -> Vec<String> {
        fn walk(c: &Check, out: &mut Vec<String>) {
            match c {
                Check::Fault(id) if !out.contains(id) => out.push(id.clone()),
                Check::All(cs) | Check::Any(cs) => cs.iter().for_each(|c| walk(c, out)),
                _ => {}
            }
        }
        let mut out = Vec::new();
        self.steps.iter().for_each(|s| walk(&s.check, &mut out));
        for a in self.steps.iter().flat_map(|s| &s.solution) {
            if let Action::Break(id) = a {
                if id != "none" && !out.contains(id) {
                    out.push(id.clone());
                }
            }
        }
        out
    }

    pub fn from_json(text: &str) -> Result<Lesson, String> {
        if text.len() > MAX_LESSON_BYTES {
            return Err(format!("the lesson is too long ({} bytes; at most {MAX_LESSON_BYTES})", text.len()));
        }
        let l: Lesson = serde_json::from_str(text).map_err(|e| format!("{}: {e}", error_path(text, &e)))?;
        l.validate()?;
        Ok(l)
    }

    pub fn validate(&self) -> Result<(), String> {
        let id_ok = !self.id.is_empty() && self.id.len() <= 64 && self.id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !id_ok {
            return Err(format!("id {:?}: letters, digits, - and _ only", self.id));
        }
        if self.steps.is_empty() {
            return Err(format!("{}: a lesson needs at least one step", self.id));
        }
        for (i, s) in self.steps.iter().enumerate() {
            let at = format!("{} step {}", self.id, i + 1);
            s.check.validate(&at)?;
            if s.solution.is_empty() {
                return Err(format!("{at}: a step needs a solution"));
            }
        }
        Ok(())
    }
}

/// "What status will this give?" The answer is not in the data: the page
/// runs the scenario after the learner answers and reveals what the engine did.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub id: String,
    /// A ready scenario of `scenarios/`.
    pub scenario: String,
    pub prompt: String,
    /// The statuses offered (the engine's answer must be among them: tested).
    pub choices: Vec<u16>,
    /// Which of the scenario's requests is asked about (default: the last).
    #[serde(default)]
    pub request: Option<usize>,
}

/// A retry-lab experiment with a pass condition on its metrics.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Challenge {
    pub id: String,
    pub title: String,
    pub text: String,
    /// A retry-lab experiment (a file of `scenarios/retry_lab/`).
    pub experiment: String,
    /// Client requests to run (the experiment's own count when absent).
    #[serde(default)]
    pub requests: Option<u32>,
    pub pass: Pass,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Pass {
    /// Share of client operations that succeed, at least.
    pub success_at_least: f64,
    /// Upstream attempts per client operation, at most.
    pub amplification_at_most: f64,
    /// 99th percentile of an operation's latency (first try to end), at most.
    #[serde(default)]
    pub p99_ms_at_most: Option<f64>,
}

/// How a challenge run went, line by line.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    pub passed: bool,
    pub lines: Vec<(bool, String)>,
}

impl Pass {
    pub fn judge(&self, m: &Metrics) -> Verdict {
        let ok_s = m.success_rate >= self.success_at_least;
        let ok_a = m.amplification <= self.amplification_at_most;
        let mut lines = vec![
            (ok_s, format!("success {:.2} % (needs ≥ {:.2} %)", m.success_rate * 100.0, self.success_at_least * 100.0)),
            (ok_a, format!("upstream load {:.3}× (needs ≤ {:.2}×)", m.amplification, self.amplification_at_most)),
        ];
        let mut passed = ok_s && ok_a;
        if let Some(p99) = self.p99_ms_at_most {
            let ok = m.latency_ms.p99 <= p99;
            passed &= ok;
            lines.push((ok, format!("p99 latency {:.1} ms (needs ≤ {p99:.0} ms)", m.latency_ms.p99)));
        }
        Verdict { passed, lines }
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Quiz {
    pub questions: Vec<Question>,
    pub challenges: Vec<Challenge>,
}

impl Quiz {
    pub fn from_json(text: &str) -> Result<Quiz, String> {
        serde_json::from_str(text).map_err(|e| format!("{}: {e}", error_path(text, &e)))
    }
}

/// The scenario a lesson starts from (its ready scenario, or the healthy
/// default with no requests), run with the room's `seed`.
pub fn starting_scenario(l: &Lesson, seed: u64) -> Result<Scenario, String> {
    let mut sc = match &l.start {
        Some(name) => Scenario::from_json(catalog::scenario_text(name).ok_or_else(|| format!("{name:?} is not a ready scenario"))?).map_err(|e| e.to_string())?,
        None => crate::scenarios::blank(),
    };
    sc.seed = seed;
    Ok(sc)
}

/// The request a question asks about, in a simulation run to the end.
pub fn asked<'a>(q: &Question, sim: &'a Simulation) -> Option<&'a Exchange> {
    let ex = sim.exchanges();
    match q.request {
        Some(i) => ex.get(i),
        None => ex.last(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The paste box offers a lesson by the faults its checks ask for or its solutions break the
    /// upstream with: each is a catalog fault, and the app-down, timeout and socket lessons are found.
    #[test]
    fn lesson_faults_come_from_the_checks() {
        let (lessons, _) = super::catalog::lessons();
        let mut mapped = 0;
        for l in &lessons {
            for f in l.faults() {
                assert!(crate::sim::FaultKind::from_id(&f).is_some(), "{}: {f}", l.id);
                mapped += 1;
            }
        }
        assert!(mapped >= 8, "{mapped} faults named by lesson checks");
        let first = |fault: &str| lessons.iter().find(|l| l.faults().iter().any(|f| f == fault)).map(|l| l.id.clone());
        assert!(first("app_down").is_some() && first("slow_app").is_some());
        // Named only by a "Show me" break: the socket step checks the log line.
        assert_eq!(first("unix_socket_missing").as_deref(), Some("wrong-port-or-socket"));
        assert_eq!(first("connect_black_hole").as_deref(), Some("timeouts-504"));
        assert_eq!(first("no_such_fault"), None);
    }

    #[test]
    fn a_step_counts_commands_after_its_start_when_old_ones_are_forgotten() {
        let sc = Scenario::default();
        let none = Window::new();
        // 1,005 commands were run; the terminal remembers the newest 1,000
        // (5 forgotten). The step began after the 995th.
        let remembered: Vec<String> = (5..1_005).map(|i| format!("cmd {i}")).collect();
        let m = Mark { epoch: 0, requests: 0, commands: 995 };
        let seen = m.seen(0, &sc, &none, &remembered, 5);
        assert_eq!(seen.commands.len(), 10);
        assert_eq!(seen.commands[0], "cmd 995");
        // A step that began among the forgotten ones sees all that is left.
        let early = Mark { commands: 2, ..m };
        assert_eq!(early.seen(0, &sc, &none, &remembered, 5).commands.len(), 1_000);
        // Nothing forgotten: indices are positions.
        assert_eq!(m.seen(0, &sc, &none, &remembered[..], 0).commands.len(), 5);
    }

    #[test]
    fn set_field_validates() {
        let sc = Scenario::default();
        let next = set_field(&sc, "/proxy/proxy_read_timeout_ms", &Value::from(90_000)).unwrap();
        assert_eq!(next.proxy.proxy_read_timeout_ms, 90_000);
        assert!(set_field(&sc, "/proxy/nope", &Value::from(1)).is_err());
        assert!(set_field(&sc, "/proxy/proxy_read_timeout_ms", &Value::from("soon")).is_err());
    }

    #[test]
    fn broken_lessons_give_messages() {
        for (text, expect) in [
            ("{", "EOF"),
            (r#"{"id":"x","title":"t","summary":"s","steps":[]}"#, "at least one step"),
            (r#"{"id":"x y","title":"t","summary":"s","steps":[]}"#, "letters"),
            (r#"{"id":"x","title":"t","summary":"s","steps":[{"goal":"g","text":"t","check":{"fault":"nope"},"solution":["fix"]}]}"#, "not a catalog fault"),
            (r#"{"id":"x","title":"t","summary":"s","steps":[{"goal":"g","text":"t","check":{"status":502},"solution":[]}]}"#, "needs a solution"),
            (r#"{"id":"x","title":"t","summary":"s","steps":[{"goal":"g","text":"t","check":{"at_least":{"pointer":"/x","value":1}},"solution":["fix"]}]}"#, "not a number field"),
            (r#"{"id":"x","title":"t","summary":"s","extra":1,"steps":[]}"#, "unknown field"),
        ] {
            let e = Lesson::from_json(text).unwrap_err();
            assert!(e.contains(expect), "{text}: {e}");
        }
    }
}
