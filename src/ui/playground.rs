//! The playground's state and commands, shared through Leptos context.
//!
//! `App` creates one `Playground` and provides it; every component that
//! drives the simulation (the controls, the terminal, lessons, the quiz,
//! the embed API) takes it with `Playground::get()` and calls its commands,
//! so there is exactly one way to load, break, fix, send, play and step.

use leptos::prelude::*;

use crate::lesson::Action;
use crate::sim::{Fault, RequestSpec, Scenario, Simulation};

use super::controls::{BURST, BURST_RATE};
use super::time::SPEEDS;

/// Pause between two requests sent with the button, virtual milliseconds.
pub const THINK_TIME_MS: u64 = 1_000;

/// Wall-clock milliseconds between two steps of the playing clock.
pub const TICK_MS: u32 = 50;

#[derive(Clone, Copy)]
pub struct Playground {
    pub sim: StoredValue<Simulation>,
    /// The user's scenario: the single source of the configuration shown and run.
    pub scenario: RwSignal<Scenario>,
    /// Bumped after every change to the simulation; views read it to re-render.
    pub revision: RwSignal<u64>,
    pub playing: RwSignal<bool>,
    /// Index into `SPEEDS`.
    pub speed: RwSignal<usize>,
    /// The request the user picked (None: the newest).
    pub selected: RwSignal<Option<usize>>,
    /// Why the last change was refused (shown next to the controls).
    pub config_error: RwSignal<Option<String>>,
    /// Commands run in the diagnosis terminal, oldest first (lessons check
    /// them); the terminal keeps the newest ones only.
    pub commands: RwSignal<Vec<String>>,
    /// Commands forgotten before `commands[0]`.
    pub commands_dropped: RwSignal<usize>,
    /// Bumped whenever the simulation is replaced (load, reset, seed):
    /// request indices of an older run mean nothing in the new one.
    pub epoch: RwSignal<u64>,
    /// A command someone (a lesson's "Show me") asks the terminal to run.
    pub pending_command: RwSignal<Option<String>>,
}

impl Playground {
    /// A playground on `scenario`, its own requests already run.
    pub fn new(scenario: Scenario, sim: Simulation) -> Self {
        Playground {
            sim: StoredValue::new(sim),
            scenario: RwSignal::new(scenario),
            revision: RwSignal::new(0),
            playing: RwSignal::new(false),
            speed: RwSignal::new(SPEEDS.len() - 1),
            selected: RwSignal::new(None),
            config_error: RwSignal::new(None),
            commands: RwSignal::new(Vec::new()),
            commands_dropped: RwSignal::new(0),
            epoch: RwSignal::new(0),
            pending_command: RwSignal::new(None),
        }
    }

    /// The playground of the enclosing `App`.
    pub fn get() -> Self {
        expect_context::<Playground>()
    }

    /// Virtual time per wall-clock time; None when "instant".
    pub fn factor(&self) -> Option<f64> {
        SPEEDS.get(self.speed.get_untracked()).and_then(|s| s.1)
    }

    pub fn bump(&self) {
        self.revision.update(|r| *r += 1);
    }

    /// Starts the wall clock that plays virtual time (kept for the page's life).
    pub fn start_clock(self) {
        let tick = gloo_timers::callback::Interval::new(TICK_MS, move || {
            if !self.playing.get_untracked() {
                return;
            }
            let Some(f) = self.factor() else { return };
            self.sim.update_value(|s| {
                let until = s.now().plus_us((TICK_MS as f64 * 1_000.0 * f) as u64);
                s.run_until(until);
            });
            self.bump();
        });
        StoredValue::new_local(tick);
    }

    /// Reconfigures the running simulation (time and logs are kept).
    pub fn apply(&self, next: Scenario) -> Result<(), String> {
        let result = self.sim.try_update_value(|s| s.reconfigure(next.clone())).unwrap_or(Ok(()));
        match result {
            Ok(()) => {
                self.config_error.set(None);
                self.scenario.set(next);
                self.bump();
                Ok(())
            }
            Err(e) => {
                self.config_error.set(Some(e.to_string()));
                Err(e.to_string())
            }
        }
    }

    pub fn set_faults(&self, faults: Vec<Fault>) -> Result<(), String> {
        let mut next = self.scenario.get_untracked();
        next.faults = faults;
        self.apply(next)
    }

    /// Breaks the upstream with catalog fault `id` ("none" heals it): the
    /// same action a lesson's "Show me" performs.
    pub fn break_with(&self, id: &str) -> Result<(), String> {
        Action::Break(id.to_string()).perform(&mut self.clone())
    }

    /// Applies the engine's fix for the first fault (`Fault::apply_fix`), if any.
    pub fn fix(&self) {
        let _ = Action::Fix.perform(&mut self.clone());
    }

    /// Replaces the simulation with a fresh one on `sc`; its own requests
    /// run at once (instant) or as the clock plays.
    pub fn load(&self, sc: Scenario) -> Result<(), String> {
        let mut fresh = Simulation::interactive(sc.clone()).map_err(|e| e.to_string())?;
        self.playing.set(false);
        self.selected.set(None);
        if self.factor().is_none() {
            fresh.run();
        } else {
            self.playing.set(true);
        }
        self.sim.set_value(fresh);
        self.epoch.update(|e| *e += 1);
        self.config_error.set(None);
        self.scenario.set(sc);
        self.bump();
        Ok(())
    }

    /// Loads the ready scenario `name` (a file of `scenarios/`).
    pub fn load_named(&self, name: &str) -> Result<(), String> {
        let Some((_, text)) = super::library::SCENARIOS.iter().find(|(n, _)| *n == name) else {
            return Err(format!("{name:?} is not a ready scenario"));
        };
        let r = Scenario::from_json(text).map_err(|e| e.to_string()).and_then(|sc| self.load(sc));
        if let Err(e) = &r {
            self.config_error.set(Some(format!("{name}: {e}")));
        }
        r
    }

    /// Sends `n` requests `gap_ms` apart (after a pause if others were
    /// sent before); at "instant" they run to completion at once.
    pub fn send_many(&self, n: u64, gap_ms: u64) {
        self.selected.set(None);
        let instant = self.factor().is_none();
        self.sim.update_value(|s| {
            let start = if s.exchanges().is_empty() { 0 } else { THINK_TIME_MS };
            let ids: Vec<_> = (0..n).map(|i| s.send_after(start + i * gap_ms, RequestSpec::default())).collect();
            if instant {
                for id in ids {
                    s.run_until_finished(id);
                }
            }
        });
        if !instant {
            self.playing.set(true);
        }
        self.bump();
    }

    /// One `GET /users`.
    pub fn send(&self) {
        self.send_many(1, 0);
    }

    /// The burst button's load.
    pub fn burst(&self) {
        self.send_many(BURST, 1_000 / BURST_RATE);
    }

    /// Runs one event, paused.
    pub fn step(&self) {
        self.playing.set(false);
        self.sim.update_value(|s| {
            s.step();
        });
        self.bump();
    }

    /// Starts the run again from time zero (same scenario, same seed).
    pub fn reset(&self) {
        self.playing.set(false);
        self.selected.set(None);
        if let Ok(mut fresh) = Simulation::interactive(self.scenario.get_untracked()) {
            if self.factor().is_none() {
                fresh.run();
            }
            self.sim.set_value(fresh);
            self.epoch.update(|e| *e += 1);
            self.bump();
        }
    }

    pub fn set_seed(&self, seed: u64) {
        let mut next = self.scenario.get_untracked();
        next.seed = seed;
        if let Ok(fresh) = Simulation::interactive(next.clone()) {
            self.playing.set(false);
            self.selected.set(None);
            self.sim.set_value(fresh);
            self.epoch.update(|e| *e += 1);
            self.scenario.set(next);
            self.bump();
        }
    }

    /// Play or pause the clock. At "instant" there is nothing to play, so
    /// play first switches to real time.
    pub fn set_playing(&self, on: bool) {
        if on && self.factor().is_none() {
            self.speed.set(SPEEDS.iter().position(|s| s.1 == Some(1.0)).unwrap_or(0));
        }
        self.playing.set(on);
    }
}

/// Lessons drive the page through the same commands as the buttons.
impl crate::lesson::Driver for Playground {
    fn scenario(&self) -> Scenario {
        self.scenario.get_untracked()
    }
    fn load_named(&mut self, name: &str) -> Result<(), String> {
        Playground::load_named(self, name)
    }
    fn apply(&mut self, next: Scenario) -> Result<(), String> {
        Playground::apply(self, next)
    }
    fn send(&mut self, count: u64, gap_ms: u64) {
        self.send_many(count, gap_ms);
    }
    fn run_command(&mut self, line: &str) {
        // The terminal component runs commands and records them; lessons'
        // "Show me" asks it to through this signal.
        self.pending_command.set(Some(line.to_string()));
    }
    fn reset(&mut self) -> Result<(), String> {
        Playground::reset(self);
        Ok(())
    }
}

impl Playground {
    /// Where a lesson step begins now.
    pub fn mark(&self) -> crate::lesson::Mark {
        crate::lesson::Mark {
            epoch: self.epoch.get_untracked(),
            requests: self.sim.with_value(|s| s.exchanges().len()),
            commands: self.commands_dropped.get_untracked() + self.commands.with_untracked(|c| c.len()),
        }
    }

    /// Whether `check` passes for the step that began at `m` (reactive:
    /// re-evaluated when the simulation or the commands change).
    pub fn passes(&self, check: &crate::lesson::Check, m: crate::lesson::Mark) -> bool {
        self.revision.track();
        let epoch = self.epoch.get();
        self.scenario.with(|scenario| {
            let dropped = self.commands_dropped.get();
            self.commands.with(|commands| self.sim.with_value(|s| check.passes(&m.seen(epoch, scenario, s.exchanges(), commands, dropped))))
        })
    }
}
