//! The one set of commands that drives a run, whoever calls: a button, a
//! key, a lesson's "Show me", an embedding page's message, a test.
//!
//! A `Session` owns the user's scenario, the simulation running it, the
//! run's epoch (bumped whenever the simulation is replaced), the terminal's
//! history and transcript, and the play clock. Every command returns a
//! `Result`; the page shows an error as a notice, the embed API posts it to
//! the host as an `error` event, lessons show it under "Show me". The UI's
//! `Playground` is a thin reactive wrapper around one `Session`, and
//! `tests/lessons.rs` drives the very same type, so what the tests prove is
//! what the page does.
//!
//! Pure like the engine: no web imports, no wall clock. The play clock is
//! ticked by the caller with the wall-clock milliseconds that passed.

use std::fmt;

use crate::lesson::{Check, Mark, Seen};
use crate::shell;
use crate::sim::time::SimTime;
use crate::sim::world::{Exchange, ReqId};
use crate::sim::fault::{pattern_for, Pattern, Traffic};
use crate::sim::{Fault, FaultKind, RequestSpec, Scenario, Simulation};

/// Pause between two batches of requests sent by hand, virtual milliseconds
/// (the user's "think time": a second request is not sent at the same
/// instant as the first one's answer).
pub const THINK_TIME_MS: u64 = 1_000;

/// The burst button's load: this many requests...
pub const BURST: u64 = 200;
/// ... at this rate (requests per virtual second).
pub const BURST_RATE: u64 = 50;

/// Most requests one `send` command sends.
pub const MAX_SEND: u64 = 1_000;

/// Command lines the terminal remembers (lessons check them; the arrow keys recall them).
pub const REMEMBERED: usize = 1_000;

/// Terminal transcript entries kept (what the screen can show).
pub const KEPT: usize = 200;

/// Why a command was refused. Nothing changed when a command fails.
#[derive(Clone, Debug, PartialEq)]
pub enum SessionError {
    /// The scenario (loaded, applied or edited) is not valid: its message names the field.
    InvalidScenario(String),
    /// No ready scenario (file of `scenarios/`) has this name.
    UnknownScenario(String),
    /// Not a catalog fault id.
    UnknownFault(String),
    /// A JSON pointer that names no field of the scenario, or a value it does not take.
    InvalidField { pointer: String, message: String },
    /// "Fix" with nothing broken.
    NothingToFix,
    /// A send of zero requests.
    NothingToSend,
    /// "Demonstrate" while no fault needs a pattern (`Fault::pattern`): one Send shows it.
    NoPattern,
    /// The scenario's proxy flavor is not loaded yet (`sim::proxy::loaded`: the wasm app loads
    /// the flavors other than nginx on demand, issue 20); nothing changed. Never natively.
    FlavorNotLoaded(crate::sim::scenario::Flavor),
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionError::InvalidScenario(m) => write!(f, "{m}"),
            SessionError::UnknownScenario(n) => write!(f, "{n:?} is not a ready scenario"),
            SessionError::UnknownFault(id) => write!(f, "{id:?} is not a catalog fault"),
            SessionError::InvalidField { pointer, message } => write!(f, "{pointer}: {message}"),
            SessionError::NothingToFix => write!(f, "nothing is broken, so there is nothing to fix"),
            SessionError::NothingToSend => write!(f, "a send needs at least one request"),
            SessionError::NoPattern => write!(f, "no fault here needs a traffic pattern: one Send shows it"),
            SessionError::FlavorNotLoaded(flavor) => write!(f, "{}", crate::sim::proxy::not_loaded_message(*flavor)),
        }
    }
}

impl std::error::Error for SessionError {}

pub type Result<T> = std::result::Result<T, SessionError>;

/// `FlavorNotLoaded` when `sc`'s flavor cannot run yet (checked before the engine refuses it).
fn require_loaded(sc: &Scenario) -> Result<()> {
    if crate::sim::proxy::loaded(sc.proxy.flavor) {
        Ok(())
    } else {
        Err(SessionError::FlavorNotLoaded(sc.proxy.flavor))
    }
}

fn invalid(e: impl fmt::Display) -> SessionError {
    SessionError::InvalidScenario(e.to_string())
}

/// How virtual time moves: at once ("instant": every request runs to its
/// end when sent) or played at `factor` × wall-clock time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Speed {
    Instant,
    /// Virtual time per wall-clock time (0.01 is slow motion).
    Played(f64),
}

/// One command run in the terminal and what it printed.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// Increasing over the session's life (a stable key for the screen).
    pub id: u64,
    pub line: String,
    pub text: String,
    pub status: i32,
}

/// The terminal's state: every command line (the newest `REMEMBERED`) and
/// the transcript on screen (the newest `KEPT` entries).
#[derive(Clone, Debug, Default)]
pub struct TerminalState {
    history: Vec<String>,
    /// Lines forgotten before `history[0]`.
    dropped: usize,
    transcript: Vec<Entry>,
    next_id: u64,
}

impl TerminalState {
    /// Command lines remembered, oldest first.
    pub fn history(&self) -> &[String] {
        &self.history
    }
    /// Commands run since the session began, forgotten ones included.
    pub fn commands_run(&self) -> usize {
        self.dropped + self.history.len()
    }
    /// What the screen shows, oldest first.
    pub fn transcript(&self) -> &[Entry] {
        &self.transcript
    }
}

/// What `Session::demonstrate` did.
#[derive(Clone, Debug, PartialEq)]
pub struct Demonstration {
    pub pattern: Pattern,
    /// The requests it sent, in order.
    pub sent: Vec<ReqId>,
    /// The first of them that finished without succeeding (`Exchange::succeeded`).
    pub failed: Option<ReqId>,
}

pub struct Session {
    /// The user's scenario: what every control edits and what a share link carries.
    scenario: Scenario,
    sim: Simulation,
    epoch: u64,
    speed: Speed,
    playing: bool,
    terminal: TerminalState,
}

/// The ready scenario `name` (a file of `scenarios/`), read: what
/// `Session::load_named` loads. The page reads it apart (in its codec chunk,
/// issue 20) and loads it with `Session::load`, the same command.
pub fn named_scenario(name: &str) -> Result<Scenario> {
    let text = crate::lesson::catalog::scenario_text(name).ok_or_else(|| SessionError::UnknownScenario(name.to_string()))?;
    Scenario::from_json(text).map_err(|e| SessionError::InvalidScenario(format!("{name}: {e}")))
}

impl Session {
    /// A session on `scenario`, its own requests run to the end (instant).
    pub fn new(scenario: Scenario) -> Result<Session> {
        let mut s = Session::paused(scenario)?;
        s.sim.run();
        Ok(s)
    }

    /// A session on `scenario` whose own requests have not run yet (a
    /// click-to-start embed runs them with `reset` when the reader clicks).
    pub fn paused(scenario: Scenario) -> Result<Session> {
        require_loaded(&scenario)?;
        let sim = Simulation::interactive(scenario.clone()).map_err(invalid)?;
        Ok(Session { scenario, sim, epoch: 0, speed: Speed::Instant, playing: false, terminal: TerminalState::default() })
    }

    // ------------------------------------------------------------ reading

    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }
    pub fn sim(&self) -> &Simulation {
        &self.sim
    }
    /// Bumped whenever the simulation is replaced (load, reset, a new seed):
    /// request ids of an older run mean nothing in the new one.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }
    pub fn speed(&self) -> Speed {
        self.speed
    }
    pub fn playing(&self) -> bool {
        self.playing
    }
    pub fn terminal(&self) -> &TerminalState {
        &self.terminal
    }

    /// Where a lesson step begins now.
    pub fn mark(&self) -> Mark {
        Mark { epoch: self.epoch, requests: self.sim.exchanges().len(), commands: self.terminal.commands_run() }
    }

    /// What a check sees of the step that began at `m`.
    pub fn seen(&self, m: Mark) -> Seen<'_> {
        m.seen(self.epoch, &self.scenario, self.sim.exchanges(), &self.terminal.history, self.terminal.dropped)
    }

    /// Whether `check` passes for the step that began at `m`.
    pub fn passes(&self, check: &Check, m: Mark) -> bool {
        check.passes(&self.seen(m))
    }

    // ------------------------------------------------------------ commands

    /// Replaces the run with a fresh one on `sc`; its own requests run at
    /// once (instant) or as the clock plays.
    pub fn load(&mut self, sc: Scenario) -> Result<()> {
        self.restart(sc, true)
    }

    /// Loads the ready scenario `name` (a file of `scenarios/`).
    pub fn load_named(&mut self, name: &str) -> Result<()> {
        self.restart(named_scenario(name)?, true)
    }

    /// Makes `next` the user's scenario. The run goes on (time and logs are
    /// kept, as after `nginx -s reload`) unless the seed or the start time
    /// changed: those belong to a run, so a new one starts.
    pub fn apply(&mut self, next: Scenario) -> Result<()> {
        if next.seed != self.scenario.seed || next.start_unix != self.scenario.start_unix {
            return self.restart(next, false);
        }
        require_loaded(&next)?;
        self.sim.reconfigure(next.clone()).map_err(invalid)?;
        self.scenario = next;
        Ok(())
    }

    /// Sets one field of the scenario by JSON pointer (`/proxy/proxy_read_timeout_ms`).
    pub fn set_field(&mut self, pointer: &str, value: &serde_json::Value) -> Result<()> {
        let next = crate::lesson::set_field(&self.scenario, pointer, value)
            .map_err(|message| SessionError::InvalidField { pointer: pointer.to_string(), message })?;
        self.apply(next)
    }

    /// Replaces the faults (the palette's list).
    pub fn set_faults(&mut self, faults: Vec<Fault>) -> Result<()> {
        let next = Scenario { faults, ..self.scenario.clone() };
        self.apply(next)
    }

    /// Breaks the upstream with catalog fault `id` alone; "none" heals it.
    pub fn break_with(&mut self, id: &str) -> Result<()> {
        let faults = match FaultKind::from_id(id) {
            Some(kind) => vec![Fault::from(kind)],
            None if id == "none" => Vec::new(),
            None => return Err(SessionError::UnknownFault(id.to_string())),
        };
        self.set_faults(faults)
    }

    /// Applies the engine's fix for the first fault (`Fault::apply_fix`), or, with no
    /// fault, for a layer setting that keeps requests out (`Fault::apply_fix_for`).
    pub fn fix(&mut self) -> Result<()> {
        let mut next = self.scenario.clone();
        if !Fault::apply_fix_for(&mut next) {
            return Err(SessionError::NothingToFix);
        }
        self.apply(next)
    }

    /// Sends `count` requests (at most `MAX_SEND`) `gap_ms` apart, after a
    /// think time if others were sent before. Instant: they run to their
    /// end now; played: the clock starts playing. The ids sent.
    pub fn send(&mut self, count: u64, gap_ms: u64) -> Result<Vec<ReqId>> {
        if count == 0 {
            return Err(SessionError::NothingToSend);
        }
        let start = if self.sim.exchanges().is_empty() { 0 } else { THINK_TIME_MS };
        // A GET of the scenario's own path (`clients.path`: `/users` unless a
        // scenario names another, e.g. PHP-FPM's `/index.php`); a WebSocket
        // client (`clients.websocket`) sends its handshake there.
        let c = &self.sim.world().scenario.clients;
        let spec = RequestSpec { path: c.path.clone(), websocket: c.websocket, ..RequestSpec::default() };
        let ids: Vec<ReqId> = (0..count.min(MAX_SEND)).map(|i| self.sim.send_after(start + i * gap_ms, spec.clone())).collect();
        match self.speed {
            Speed::Instant => {
                for &id in &ids {
                    self.sim.run_until_finished(id);
                }
            }
            Speed::Played(_) => self.playing = true,
        }
        Ok(ids)
    }

    /// Sends the traffic the first fault with a [`Pattern`] needs to show
    /// itself (`Fault::pattern` for the scenario's proxy): a burst, or a
    /// request on a kept-alive connection and a second one timed to meet the
    /// app's idle close. The keep-alive race's second request is timed from
    /// when the app answered the first, so that first request runs to its end
    /// now whatever the speed; the rest runs like `send` (instant: to the
    /// end; played: the clock plays). Returns the requests sent and the first
    /// of them that failed, the one to show.
    pub fn demonstrate(&mut self) -> Result<Demonstration> {
        let pattern = pattern_for(&self.scenario).ok_or(SessionError::NoPattern)?;
        let sent = match pattern.traffic.clone() {
            Traffic::Burst { count, gap_ms } => self.send(count, gap_ms)?,
            Traffic::IdleRace { first, then, idle_ms } => {
                let start = if self.sim.exchanges().is_empty() { 0 } else { THINK_TIME_MS };
                let a = self.sim.send_after(start, first);
                self.sim.run_until_finished(a);
                // The app wrote its answer one hop before the proxy got it
                // (the attempt's end) and closes the idle connection
                // `idle_ms` later. Sent one hop before that instant, the
                // second request reaches the proxy as the app closes: the
                // proxy still holds the connection as idle and writes into
                // it, and the app's FIN arrives one hop later.
                let hop = self.sim.world().scenario.hop_latency_us;
                let answered = self.sim.exchanges().get(a).and_then(|e| e.attempts.last()).and_then(|t| t.ended).unwrap_or(self.sim.now());
                let close = answered.as_micros().saturating_sub(hop) + idle_ms.saturating_mul(1_000);
                let at = SimTime(close.saturating_sub(hop).max(self.sim.now().as_micros()));
                let ip = self.sim.world().scenario.clients.ip.clone();
                let then = RequestSpec { at_ms: at.as_micros() / 1_000, ..then };
                let b = self.sim.world_mut().add_request(then, ip, at);
                match self.speed {
                    Speed::Instant => self.sim.run_until_finished(b),
                    Speed::Played(_) => self.playing = true,
                }
                vec![a, b]
            }
        };
        let failed = sent.iter().copied().find(|&id| self.sim.exchanges().get(id).is_some_and(|e| e.is_finished() && !e.succeeded()));
        Ok(Demonstration { pattern, sent, failed })
    }

    /// The burst button: `BURST` requests at `BURST_RATE` per second.
    pub fn burst(&mut self) -> Result<Vec<ReqId>> {
        self.send(BURST, 1_000 / BURST_RATE)
    }

    /// Runs one event and pauses the clock; false when nothing was scheduled.
    pub fn step(&mut self) -> bool {
        self.playing = false;
        self.sim.step()
    }

    /// Starts the run again from time zero (same scenario, same seed).
    pub fn reset(&mut self) -> Result<()> {
        self.restart(self.scenario.clone(), false)
    }

    /// A new run of the same scenario with another seed.
    pub fn set_seed(&mut self, seed: u64) -> Result<()> {
        self.restart(Scenario { seed, ..self.scenario.clone() }, false)
    }

    /// Instant or played time. Switching to instant pauses the clock.
    pub fn set_speed(&mut self, speed: Speed) {
        if let Speed::Played(f) = speed {
            if !(f.is_finite() && f > 0.0) {
                return;
            }
        }
        self.speed = speed;
        if speed == Speed::Instant {
            self.playing = false;
        }
    }

    /// Plays or pauses the clock. At instant speed there is nothing to
    /// play, so playing first switches to real time.
    pub fn set_playing(&mut self, on: bool) {
        if on && self.speed == Speed::Instant {
            self.speed = Speed::Played(1.0);
        }
        self.playing = on;
    }

    /// The play clock's tick: `wall_ms` of wall-clock time passed. True if
    /// virtual time moved.
    pub fn tick(&mut self, wall_ms: u64) -> bool {
        let Speed::Played(f) = self.speed else { return false };
        if !self.playing || wall_ms == 0 {
            return false;
        }
        let until = self.sim.now().plus_us((wall_ms as f64 * 1_000.0 * f) as u64);
        self.sim.run_until(until);
        true
    }

    /// Runs one line in the diagnosis terminal (`cols` wide), records it in
    /// the history and the transcript, and returns what it printed (None
    /// for `clear`, which empties the screen). Its requests (curl) are real
    /// requests of the run.
    pub fn run_command(&mut self, line: &str, cols: usize) -> Option<&Entry> {
        let trimmed = line.trim();
        if !trimmed.is_empty() {
            let t = &mut self.terminal;
            t.history.push(trimmed.to_string());
            let extra = t.history.len().saturating_sub(REMEMBERED);
            t.history.drain(..extra);
            t.dropped += extra;
        }
        let out = shell::run_in(&mut self.sim, line, cols);
        let t = &mut self.terminal;
        if out.clear {
            t.transcript.clear();
            return None;
        }
        let id = t.next_id;
        t.next_id += 1;
        t.transcript.push(Entry { id, line: trimmed.to_string(), text: out.text, status: out.status });
        let extra = t.transcript.len().saturating_sub(KEPT);
        t.transcript.drain(..extra);
        t.transcript.last()
    }

    /// Empties the terminal's screen (the history stays).
    pub fn clear_screen(&mut self) {
        self.terminal.transcript.clear();
    }

    /// Performs a lesson's action ("Show me", and the lesson tests).
    pub fn perform(&mut self, action: &crate::lesson::Action) -> Result<()> {
        use crate::lesson::Action;
        match action {
            Action::Load(name) => self.load_named(name),
            Action::Break(id) => self.break_with(id),
            Action::Fix => self.fix(),
            Action::Set { pointer, value } => self.set_field(pointer, value),
            Action::Send { count, gap_ms } => self.send(*count, *gap_ms).map(|_| ()),
            Action::Run(line) => {
                self.run_command(line, shell::DEFAULT_COLS);
                Ok(())
            }
            Action::Reset => self.reset(),
        }
    }

    /// The newest request, finished or not.
    pub fn last(&self) -> Option<&Exchange> {
        self.sim.exchanges().last()
    }

    /// Virtual time now.
    pub fn now(&self) -> SimTime {
        self.sim.now()
    }

    /// A fresh simulation of `sc` replaces the run. At instant speed its own
    /// requests run now; otherwise the clock waits at time zero, playing if
    /// `play` (a scenario just loaded) and paused if not (a reset, a new seed:
    /// the user presses play when ready).
    fn restart(&mut self, sc: Scenario, play: bool) -> Result<()> {
        require_loaded(&sc)?;
        let mut fresh = Simulation::interactive(sc.clone()).map_err(invalid)?;
        match self.speed {
            Speed::Instant => {
                fresh.run();
                self.playing = false;
            }
            Speed::Played(_) => self.playing = play,
        }
        self.sim = fresh;
        self.scenario = sc;
        self.epoch += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn healthy() -> Session {
        Session::new(crate::scenarios::blank()).unwrap()
    }

    #[test]
    fn a_failed_command_changes_nothing() {
        let mut s = healthy();
        s.send(1, 0).unwrap();
        let (epoch, sc, n) = (s.epoch(), s.scenario().clone(), s.sim().exchanges().len());
        assert_eq!(s.break_with("nope"), Err(SessionError::UnknownFault("nope".into())));
        assert_eq!(s.fix(), Err(SessionError::NothingToFix));
        assert_eq!(s.load_named("nope"), Err(SessionError::UnknownScenario("nope".into())));
        assert!(matches!(s.set_field("/proxy/nope", &1.into()), Err(SessionError::InvalidField { .. })));
        assert!(matches!(s.set_field("/proxy/proxy_read_timeout_ms", &"soon".into()), Err(SessionError::InvalidField { .. })));
        assert_eq!(s.send(0, 0), Err(SessionError::NothingToSend));
        let mut bad = sc.clone();
        bad.clients.count = 0;
        assert!(matches!(s.apply(bad), Err(SessionError::InvalidScenario(_))));
        assert_eq!((s.epoch(), s.scenario(), s.sim().exchanges().len()), (epoch, &sc, n));
    }

    #[test]
    fn a_new_seed_is_a_new_run_whichever_command_sets_it() {
        let mut s = healthy();
        s.send(1, 0).unwrap();
        // By pointer, as a lesson's `set` does: the run must use the seed it shows.
        s.set_field("/seed", &7.into()).unwrap();
        assert_eq!((s.epoch(), s.scenario().seed, s.sim().world().base.seed), (1, 7, 7));
        assert!(s.sim().exchanges().is_empty(), "the blank scenario sends nothing by itself");
        s.set_seed(9).unwrap();
        assert_eq!((s.epoch(), s.sim().world().base.seed), (2, 9));
        // Any other field keeps the run going.
        s.send(1, 0).unwrap();
        s.set_field("/proxy/proxy_read_timeout_ms", &90_000.into()).unwrap();
        assert_eq!((s.epoch(), s.sim().exchanges().len()), (2, 1));
    }

    #[test]
    fn break_send_fix_send() {
        let mut s = healthy();
        s.break_with("app_down").unwrap();
        s.send(1, 0).unwrap();
        assert_eq!(s.last().and_then(|e| e.status()), Some(502));
        s.fix().unwrap();
        s.send(1, 0).unwrap();
        assert_eq!(s.last().and_then(|e| e.status()), Some(200));
        let times: Vec<_> = s.sim().exchanges().iter().map(|e| e.sent_at).collect();
        assert!(times[1].as_micros() >= times[0].as_micros() + THINK_TIME_MS * 1_000, "think time between sends: {times:?}");
    }

    #[test]
    fn played_time_moves_only_when_ticked_and_playing() {
        let mut s = healthy();
        s.set_speed(Speed::Played(1.0));
        s.send(1, 0).unwrap();
        assert!(s.playing());
        assert!(!s.last().unwrap().is_finished(), "played: the request waits for the clock");
        for _ in 0..20 {
            s.tick(50);
        }
        assert!(s.last().unwrap().is_finished(), "a second of wall clock at 1× finishes a healthy request");
        s.set_playing(false);
        let now = s.now();
        assert!(!s.tick(1_000));
        assert_eq!(s.now(), now);
        s.set_speed(Speed::Played(f64::NAN));
        assert_eq!(s.speed(), Speed::Played(1.0), "a nonsense speed is refused");
        s.set_speed(Speed::Played(100.0));
        s.set_playing(true);
        s.tick(1_000);
        // A reset waits at time zero, paused; a load plays its own requests.
        s.reset().unwrap();
        assert_eq!((s.now(), s.playing()), (SimTime::ZERO, false));
        s.load_named("overload").unwrap();
        assert_eq!((s.now(), s.playing()), (SimTime::ZERO, true));
        s.set_speed(Speed::Instant);
        assert!(!s.playing());
    }

    #[test]
    fn the_terminal_remembers_and_forgets() {
        let mut s = healthy();
        for i in 0..(REMEMBERED + 5) {
            s.run_command(&format!("echo {i}"), 80);
        }
        let t = s.terminal();
        assert_eq!((t.history().len(), t.commands_run(), t.transcript().len()), (REMEMBERED, REMEMBERED + 5, KEPT));
        assert_eq!(t.transcript().last().unwrap().text, format!("{}\n", REMEMBERED + 4));
        assert!(s.run_command("clear", 80).is_none());
        assert!(s.terminal().transcript().is_empty());
        // A blank line shows a prompt but is not history.
        s.run_command("   ", 80);
        assert_eq!(s.terminal().commands_run(), REMEMBERED + 6);
    }
}
