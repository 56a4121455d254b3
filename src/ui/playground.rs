//! The page's `Session`, made reactive and shared through Leptos context.
//!
//! `App` creates one `Playground` and provides it. Every component that
//! drives the run (buttons, keys, the terminal, lessons, the quiz, the
//! embed API) calls a command of `gateway_core::session::Session` through
//! `Playground::run`, which bumps `revision` for the views and mirrors the
//! few values views read often (the scenario, the epoch, the clock). An
//! error is never dropped: `run` shows it as the page's notice and returns
//! it, so the embed API can post it to its host.

use leptos::prelude::*;

use crate::session::{Session, SessionError, Speed};
use crate::sim::Simulation;

/// Loads `flavor`'s code without a command waiting for it ("Try again" loads it again).
fn load_in_background(flavors: super::flavors::Flavors, flavor: crate::sim::scenario::Flavor) {
    leptos::task::spawn_local(async move {
        let _ = flavors.ensure(flavor, Callback::new(move |_| load_in_background(flavors, flavor))).await;
    });
}

/// What "Try again" runs after the flavors' chunk did not download for command `f`: the chunk
/// again, then `f`.
fn retry_callback<T: 'static, F>(pg: Playground, flavor: crate::sim::scenario::Flavor, f: F) -> Callback<()>
where
    F: FnOnce(&mut Session) -> Result<T, SessionError> + Clone + Send + Sync + 'static,
{
    Callback::new(move |_: ()| {
        let f = f.clone();
        leptos::task::spawn_local(async move {
            let retry = retry_callback(pg, flavor, f.clone());
            if pg.flavors.ensure(flavor, retry).await.is_ok() {
                let _ = pg.run(f);
            }
        });
    })
}

/// Wall-clock milliseconds between two ticks of the playing clock.
pub const TICK_MS: u32 = 50;

/// Speeds offered: virtual time per wall-clock time; the last is "instant".
pub const SPEEDS: &[(&str, Speed)] = &[
    ("slow motion (0.01×)", Speed::Played(0.01)),
    ("0.1×", Speed::Played(0.1)),
    ("real time (1×)", Speed::Played(1.0)),
    ("10×", Speed::Played(10.0)),
    ("100×", Speed::Played(100.0)),
    ("instant", Speed::Instant),
];

#[derive(Clone, Copy)]
pub struct Playground {
    session: StoredValue<Session>,
    /// Bumped after every command; views that read the run track it.
    pub revision: RwSignal<u64>,
    /// Mirrors of the session, updated after every command.
    pub scenario: RwSignal<crate::sim::Scenario>,
    pub epoch: RwSignal<u64>,
    pub playing: RwSignal<bool>,
    /// Index into `SPEEDS`.
    pub speed: RwSignal<usize>,
    /// The request the user picked (None: the newest). A view choice, not the run's.
    pub selected: RwSignal<Option<usize>>,
    /// Why the last command was refused (shown next to the controls).
    pub notice: RwSignal<Option<String>>,
    /// Bumped when the terminal's transcript changes.
    pub terminal_revision: RwSignal<u64>,
    /// The flavors other than nginx, loaded on demand (`flavors.rs`, issue 20).
    pub flavors: super::flavors::Flavors,
}

fn speed_index(s: Speed) -> usize {
    SPEEDS.iter().position(|(_, x)| *x == s).unwrap_or(SPEEDS.len() - 1)
}

impl Playground {
    pub fn new(session: Session) -> Self {
        Playground {
            scenario: RwSignal::new(session.scenario().clone()),
            epoch: RwSignal::new(session.epoch()),
            playing: RwSignal::new(session.playing()),
            speed: RwSignal::new(speed_index(session.speed())),
            session: StoredValue::new(session),
            revision: RwSignal::new(0),
            selected: RwSignal::new(None),
            notice: RwSignal::new(None),
            terminal_revision: RwSignal::new(0),
            flavors: super::flavors::Flavors::default(),
        }
    }

    /// The playground of the enclosing `App`.
    pub fn get() -> Self {
        expect_context::<Playground>()
    }

    /// Runs one command on the session; views re-render, and an error
    /// becomes the page's notice (and is returned for the caller to report).
    pub fn run<T>(&self, f: impl FnOnce(&mut Session) -> Result<T, SessionError>) -> Result<T, SessionError> {
        let epoch = self.epoch.get_untracked();
        let sent = self.sent();
        let r = self.session.try_update_value(f).expect("the playground lives as long as the page");
        self.follow_newest(sent);
        self.sync(epoch);
        self.terminal_revision.update(|r| *r += 1);
        match &r {
            Ok(_) => self.notice.set(None),
            Err(e) => self.notice.set(Some(e.to_string())),
        }
        if let Err(SessionError::FlavorNotLoaded(flavor)) = &r {
            // A command that did not come through `with_flavor`: the flavor loads now, so the
            // same command works when tried again (the notice says why it did not this time).
            load_in_background(self.flavors, *flavor);
        }
        r
    }

    /// The chokepoint of the commands that may open a flavor other than nginx (issue 20): runs
    /// `f` once `flavor`'s code is loaded (`flavors.rs`: "Loading HAProxy's model…" while its
    /// chunk downloads, Send disabled). A chunk that did not download is
    /// `SessionError::FlavorNotLoaded`, with the message and "Try again", which runs `f` again.
    pub async fn with_flavor<T: 'static>(
        &self,
        flavor: crate::sim::scenario::Flavor,
        f: impl FnOnce(&mut Session) -> Result<T, SessionError> + Clone + Send + Sync + 'static,
    ) -> Result<T, SessionError> {
        let retry = retry_callback(*self, flavor, f.clone());
        if self.flavors.ensure(flavor, retry).await.is_err() {
            let e = SessionError::FlavorNotLoaded(flavor);
            self.notice.set(None);
            return Err(e);
        }
        let r = self.run(f);
        if r.is_ok() {
            self.flavors.clear_failure();
        }
        r
    }

    /// Replaces the run with a fresh one on `sc` (`Session::load`), once its flavor is loaded.
    pub async fn load(&self, sc: crate::sim::Scenario) -> Result<(), SessionError> {
        let flavor = sc.proxy.flavor;
        self.with_flavor(flavor, move |s| s.load(sc)).await
    }

    /// A command that cannot fail (step, play, speed, tick).
    fn act<T>(&self, f: impl FnOnce(&mut Session) -> T) -> T {
        let epoch = self.epoch.get_untracked();
        let r = self.session.try_update_value(f).expect("the playground lives as long as the page");
        self.sync(epoch);
        r
    }

    /// Requests sent in this run so far.
    fn sent(&self) -> usize {
        self.session.with_value(|s| s.sim().exchanges().len())
    }

    /// A command that sent requests makes the views follow the newest one
    /// again (the user's pick of an older request ends).
    fn follow_newest(&self, sent_before: usize) {
        if self.sent() != sent_before {
            self.selected.set(None);
        }
    }

    /// Mirrors the session into the signals (only what changed).
    fn sync(&self, epoch_before: u64) {
        self.session.with_value(|s| {
            if self.scenario.with_untracked(|sc| sc != s.scenario()) {
                self.scenario.set(s.scenario().clone());
            }
            if s.epoch() != epoch_before {
                // Request ids of an older run mean nothing in the new one.
                self.selected.set(None);
                self.epoch.set(s.epoch());
            }
            if self.playing.get_untracked() != s.playing() {
                self.playing.set(s.playing());
            }
            let i = speed_index(s.speed());
            if self.speed.get_untracked() != i {
                self.speed.set(i);
            }
        });
        self.revision.update(|r| *r += 1);
    }

    /// Reads the session (untracked: track `revision` to re-render).
    pub fn with<T>(&self, f: impl FnOnce(&Session) -> T) -> T {
        self.session.with_value(f)
    }

    /// Reads the simulation (untracked: track `revision` to re-render).
    pub fn with_sim<T>(&self, f: impl FnOnce(&Simulation) -> T) -> T {
        self.session.with_value(|s| f(s.sim()))
    }

    /// Starts the wall clock that plays virtual time (kept for the page's life).
    pub fn start_clock(self) {
        let tick = gloo_timers::callback::Interval::new(TICK_MS, move || {
            if self.playing.get_untracked() {
                self.act(|s| s.tick(TICK_MS as u64));
            }
        });
        StoredValue::new_local(tick);
    }

    // The commands the page's controls call; each is one Session command.

    pub fn send(&self) -> Result<(), SessionError> {
        self.run(|s| s.send(1, 0).map(|_| ()))
    }
    pub fn burst(&self) -> Result<(), SessionError> {
        self.run(|s| s.burst().map(|_| ()))
    }
    pub fn break_with(&self, id: &str) -> Result<(), SessionError> {
        self.run(|s| s.break_with(id))
    }
    pub fn fix(&self) -> Result<(), SessionError> {
        self.run(|s| s.fix())
    }
    /// Loads the ready scenario `name` (`Session::load_named`), read in the codec chunk (issue
    /// 20). A chunk that did not download is the page's notice too.
    pub async fn load_named(&self, name: &str) -> Result<(), String> {
        match super::codec::named(name.to_string()).await {
            Ok(Ok(sc)) => self.load(sc).await.map_err(|e| e.to_string()),
            Ok(Err(e)) => self.run(|_| Err::<(), _>(e)).map_err(|e| e.to_string()),
            Err(super::lazy::LoadFailed) => {
                let message = format!("{name:?} could not be opened: its part of the simulator did not download. Check the connection and try again.");
                self.notice.set(Some(message.clone()));
                Err(message)
            }
        }
    }
    /// Starts afresh on `sc` as the page starts on an address's scenario: its own requests run
    /// (`Session::new`), or wait for the reader's click (`paused`, `Session::paused`).
    /// Its flavor's code is loaded first (`with_flavor`).
    pub async fn open(&self, sc: crate::sim::Scenario, paused: bool) -> Result<(), SessionError> {
        let flavor = sc.proxy.flavor;
        self.with_flavor(flavor, move |s| {
            *s = if paused { Session::paused(sc) } else { Session::new(sc) }?;
            Ok(())
        })
        .await
    }
    pub fn reset(&self) -> Result<(), SessionError> {
        self.run(|s| s.reset())
    }
    pub fn set_seed(&self, seed: u64) -> Result<(), SessionError> {
        self.run(|s| s.set_seed(seed))
    }
    pub fn step(&self) {
        self.act(|s| {
            s.step();
        });
    }
    pub fn set_playing(&self, on: bool) {
        self.act(|s| s.set_playing(on));
    }
    pub fn set_speed(&self, index: usize) {
        if let Some((_, speed)) = SPEEDS.get(index) {
            self.act(|s| s.set_speed(*speed));
        }
    }

    /// Runs a line in the diagnosis terminal. Most commands only look, so
    /// the page re-renders only if the run moved (curl sends a request and
    /// lets virtual time pass); the terminal always does.
    pub fn run_command(&self, line: &str, cols: usize) {
        // A service command (systemctl stop app) changes the run without a
        // request or a tick of virtual time.
        let stamp = |s: &Session| {
            let w = s.sim().world();
            (s.now(), w.events_processed, s.sim().exchanges().len(), w.service_commands)
        };
        let sent = self.sent();
        let moved = self.session.try_update_value(|s| {
            let before = stamp(s);
            s.run_command(line, cols);
            stamp(s) != before
        });
        self.follow_newest(sent);
        if moved == Some(true) {
            self.sync(self.epoch.get_untracked());
        }
        self.terminal_revision.update(|r| *r += 1);
    }

    /// Where a lesson step begins now.
    pub fn mark(&self) -> crate::lesson::Mark {
        self.with(|s| s.mark())
    }

    /// Whether `check` passes for the step that began at `m` (reactive:
    /// re-evaluated after every command).
    pub fn passes(&self, check: &crate::lesson::Check, m: crate::lesson::Mark) -> bool {
        self.revision.track();
        self.terminal_revision.track();
        self.with(|s| s.passes(check, m))
    }
}
