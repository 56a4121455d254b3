//! The discrete-event loop. `Simulation` owns the world and the proxy
//! flavour, pops events in (time, sequence) order and routes each to the
//! party it concerns. Nothing here knows about any particular fault.

use super::fault::Fault;
use super::proxy::{nginx::Nginx, Proxy};
use super::scenario::{RequestSpec, Scenario, ScenarioError};
use super::time::SimTime;
use super::upstream;
use super::world::{Actor, Event, Exchange, ReqId, World};

/// Stops a run that would otherwise never end (a bug, or a hostile scenario).
pub const MAX_EVENTS_PER_RUN: u64 = 50_000_000;

pub struct Simulation {
    world: World,
    proxy: Proxy,
}

impl Simulation {
    /// Builds a run from a validated scenario; its requests are scheduled.
    pub fn new(scenario: Scenario) -> Result<Simulation, ScenarioError> {
        scenario.validate()?;
        let requests = scenario.requests.clone();
        let mut sim = Simulation { world: World::new(scenario), proxy: Proxy::Nginx(Nginx) };
        for r in requests {
            let at = SimTime::from_ms(r.at_ms);
            sim.world.add_request(r, at);
        }
        Ok(sim)
    }

    /// Runs every scheduled event.
    pub fn run(&mut self) {
        let mut budget = MAX_EVENTS_PER_RUN;
        while budget > 0 && self.step() {
            budget -= 1;
        }
    }

    /// Processes the next event; false when there is none.
    pub fn step(&mut self) -> bool {
        let Some((at, event)) = self.world.queue.pop() else { return false };
        debug_assert!(at >= self.world.now, "time never goes backwards");
        self.world.now = at;
        self.world.events_processed += 1;
        self.dispatch(event);
        true
    }

    fn dispatch(&mut self, event: Event) {
        let w = &mut self.world;
        let proxy = self.proxy.flavor();
        match event {
            Event::ClientSend(id) => {
                let conn = w.next_connection_number();
                w.exchanges[id].client_connection = conn;
                let line = w.exchanges[id].request_line();
                w.note(id, Actor::Client, format!("sends \"{line}\""));
                let hop = w.hop();
                w.schedule(hop, Event::ProxyReceive(id));
            }
            Event::ProxyReceive(id) => proxy.on_request(w, id),
            Event::AppSyn { id, attempt } => upstream::on_syn(w, id, attempt),
            Event::ProxyConnectResult { id, attempt, outcome } => {
                proxy.on_connect_result(w, id, attempt, outcome)
            }
            Event::AppRequest { id, attempt } => upstream::on_request(w, id, attempt),
            Event::AppWrite { id, attempt } => upstream::on_write(w, id, attempt),
            Event::ProxyUpstreamResponse { id, attempt } => {
                proxy.on_upstream_response(w, id, attempt)
            }
            Event::ProxyTimer { id, timer } => proxy.on_timer(w, id, timer),
            Event::ClientReceive(id) => {
                w.exchanges[id].finished_at = Some(w.now);
                let status_line =
                    w.exchanges[id].response.as_ref().map(|r| r.status_line()).unwrap_or_default();
                let took = w.now.since(w.exchanges[id].sent_at);
                w.note(id, Actor::Client, format!("receives \"{status_line}\" after {}", fmt_duration(took)));
            }
        }
    }

    /// Sends another request `delay_ms` after the current virtual time.
    pub fn send_after(&mut self, delay_ms: u64, request: RequestSpec) -> ReqId {
        let at = self.world.now.plus_ms(delay_ms);
        let request = RequestSpec { at_ms: at.as_micros() / 1_000, ..request };
        self.world.add_request(request, at)
    }

    /// Replaces the active faults from now on.
    pub fn set_faults(&mut self, faults: Vec<Fault>) {
        self.world.scenario.faults = faults;
    }

    pub fn world(&self) -> &World {
        &self.world
    }

    pub fn now(&self) -> SimTime {
        self.world.now
    }

    pub fn exchanges(&self) -> &[Exchange] {
        &self.world.exchanges
    }

    /// Everything observable about the run as text: the same scenario and
    /// seed always give byte-identical transcripts.
    pub fn transcript(&self) -> String {
        let w = &self.world;
        let mut out = String::new();
        for ex in &w.exchanges {
            out.push_str(&format!(
                "request #{} {} -> {}\n",
                ex.id + 1,
                ex.request_line(),
                ex.response.as_ref().map(|r| r.status_line()).unwrap_or_else(|| "(no response)".into())
            ));
            for s in &ex.timeline {
                out.push_str(&format!("  {} {:<6} {}\n", s.at.offset_label(), s.actor.as_str(), s.text));
            }
        }
        for (name, log) in [("error.log", &w.error_log), ("access.log", &w.access_log), ("app.log", &w.app_log)] {
            out.push_str(&format!("== {name}\n"));
            for l in log.lines() {
                out.push_str(l);
                out.push('\n');
            }
        }
        out
    }
}

/// Runs a scenario to completion.
pub fn run(scenario: Scenario) -> Result<Simulation, ScenarioError> {
    let mut sim = Simulation::new(scenario)?;
    sim.run();
    Ok(sim)
}

/// `250 µs`, `12.3 ms`, `60.0 s`.
pub fn fmt_duration(us: u64) -> String {
    if us < 1_000 {
        format!("{us} µs")
    } else if us < 1_000_000 {
        format!("{:.1} ms", us as f64 / 1_000.0)
    } else {
        format!("{:.1} s", us as f64 / 1_000_000.0)
    }
}
