use leptos::prelude::*;

use crate::sim::scenario::{Clients, Flavor};
use crate::sim::world::ClientResult;
use crate::sim::{Fault, FaultKind, RequestSpec, Scenario, Simulation};

use super::compare::Compare;
use super::config::{self, ConfigPanel};
use super::controls::{Controls, BURST, BURST_RATE};
use super::fix::FixPanel;
use super::lab::RetryLab;
use super::logs::LogPanel;
use super::palette::Palette;
use super::picker::ScenarioPicker;
use super::requests::{Chip, RecentRequests};
use super::response::ResponseView;
use super::share::{read_location, LinkNotice, ShareLink};
use super::theme::ThemePicker;
use super::time::{TimeControls, SPEEDS};
use super::timeline::Timeline;
use super::topology::Topology;

/// Lines of each log rendered in the page (the engine keeps more).
const SHOWN_LINES: usize = 200;

/// Request chips shown (the newest ones).
const RECENT: usize = 40;

/// Wall-clock milliseconds between two steps of the playing clock.
const TICK_MS: u32 = 50;

/// Pause between two requests sent with the button, virtual milliseconds.
const THINK_TIME_MS: u64 = 1_000;

#[component]
pub fn App() -> impl IntoView {
    // A share link (or readable parameters) may name the scenario to open.
    let link = read_location();
    let blank = Scenario { clients: Clients { requests: 0, ..Clients::default() }, ..Scenario::default() };
    let (initial, first) = match link.scenario.clone().map(|s| Simulation::new(s.clone()).map(|sim| (s, sim))) {
        Some(Ok((s, mut sim))) => {
            // Its own requests run, as when a ready scenario is loaded.
            sim.run();
            (s, sim)
        }
        _ => (blank.clone(), Simulation::new(blank).expect("the default scenario is valid")),
    };
    let notice = RwSignal::new((!link.problems.is_empty()).then(|| {
        let what = if link.scenario.is_some() { "Parts of this link were ignored" } else { "This link could not be opened, so the page shows the default scenario" };
        format!("{what}: {}.", link.problems.join("; "))
    }));
    let sim = StoredValue::new(first);
    // The user's scenario: the single source of the configuration shown and run.
    let scenario = RwSignal::new(initial);
    // Bumped after every change to the simulation; views read it to re-render.
    let revision = RwSignal::new(0u64);
    let selected = RwSignal::new(None::<usize>);

    // Reconfigures the running simulation (time and logs are kept).
    // Why the last change was refused (shown next to the controls).
    let config_error = RwSignal::new(None::<String>);
    let apply = move |next: Scenario| {
        let result = sim.try_update_value(|s| s.reconfigure(next.clone())).unwrap_or(Ok(()));
        match result {
            Ok(()) => {
                config_error.set(None);
                scenario.set(next);
                revision.update(|r| *r += 1);
            }
            Err(e) => config_error.set(Some(e.to_string())),
        }
    };
    let set_faults = Callback::new(move |faults: Vec<Fault>| {
        let mut next = scenario.get_untracked();
        next.faults = faults;
        apply(next);
    });

    // Time: "instant" runs each request to completion; other speeds play
    // virtual time against the wall clock, 50 ms a tick.
    let playing = RwSignal::new(false);
    let speed = RwSignal::new(SPEEDS.len() - 1);
    let factor = move || SPEEDS.get(speed.get_untracked()).and_then(|s| s.1);
    let tick = gloo_timers::callback::Interval::new(TICK_MS, move || {
        if !playing.get_untracked() {
            return;
        }
        let Some(f) = factor() else { return };
        sim.update_value(|s| {
            let until = s.now().plus_us((TICK_MS as f64 * 1_000.0 * f) as u64);
            s.run_until(until);
        });
        revision.update(|r| *r += 1);
    });
    StoredValue::new_local(tick);

    let send = move || {
        selected.set(None);
        sim.update_value(|s| {
            let delay = if s.exchanges().is_empty() { 0 } else { THINK_TIME_MS };
            let id = s.send_after(delay, RequestSpec::default());
            if factor().is_none() {
                s.run_until_finished(id);
            }
        });
        if factor().is_some() {
            playing.set(true);
        }
        revision.update(|r| *r += 1);
    };
    let burst = move || {
        selected.set(None);
        sim.update_value(|s| {
            let start = if s.exchanges().is_empty() { 0 } else { THINK_TIME_MS };
            let gap = 1_000 / BURST_RATE;
            let ids: Vec<_> = (0..BURST).map(|i| s.send_after(start + i * gap, RequestSpec::default())).collect();
            if factor().is_none() {
                for id in ids {
                    s.run_until_finished(id);
                }
            }
        });
        if factor().is_some() {
            playing.set(true);
        }
        revision.update(|r| *r += 1);
    };
    // Load a ready scenario: its configuration, faults and requests.
    let load = Callback::new(move |name: String| {
        let Some((_, text)) = super::library::SCENARIOS.iter().find(|(n, _)| *n == name) else { return };
        match Scenario::from_json(text).and_then(|sc| Simulation::new(sc.clone()).map(|sim| (sc, sim))) {
            Ok((sc, mut fresh)) => {
                playing.set(false);
                selected.set(None);
                if factor().is_none() {
                    fresh.run();
                } else {
                    playing.set(true);
                }
                sim.set_value(fresh);
                config_error.set(None);
                scenario.set(sc);
                revision.update(|r| *r += 1);
            }
            Err(e) => config_error.set(Some(format!("{name}: {e}"))),
        }
    });
    let step = Callback::new(move |_| {
        playing.set(false);
        sim.update_value(|s| {
            s.step();
        });
        revision.update(|r| *r += 1);
    });
    let reset = Callback::new(move |_| {
        playing.set(false);
        selected.set(None);
        if let Ok(mut fresh) = Simulation::new(scenario.get_untracked()) {
            // A loaded scenario's own requests run again.
            if factor().is_none() {
                fresh.run();
            }
            sim.set_value(fresh);
            revision.update(|r| *r += 1);
        }
    });
    let set_seed = Callback::new(move |seed: u64| {
        let mut next = scenario.get_untracked();
        next.seed = seed;
        if let Ok(fresh) = Simulation::new(next.clone()) {
            playing.set(false);
            selected.set(None);
            sim.set_value(fresh);
            scenario.set(next);
            revision.update(|r| *r += 1);
        }
    });
    let clock = Signal::derive(move || {
        revision.track();
        sim.with_value(|s| format!("virtual time {}  ·  {}", s.now().offset_label(), s.world().clock.error_log(s.now())))
    });
    let pending = Signal::derive(move || {
        revision.track();
        sim.with_value(|s| s.exchanges().iter().filter(|e| !e.is_finished()).count())
    });

    let fault_id = Signal::derive(move || {
        scenario.with(|s| s.faults.first().map(|f| f.kind.id().to_string()).unwrap_or_else(|| "none".into()))
    });
    let choose_fault = move |id: String| {
        let mut next = scenario.get_untracked();
        next.faults = FaultKind::from_id(&id).into_iter().map(Fault::from).collect();
        apply(next);
    };
    let apply_fix = move || {
        let mut next = scenario.get_untracked();
        if !next.faults.is_empty() {
            Fault::apply_fix(&mut next, 0);
            apply(next);
        }
    };
    let config_text = Signal::derive(move || {
        revision.track();
        sim.with_value(|s| config::render(&s.world().scenario))
    });

    let topology = Memo::new(move |_| {
        revision.track();
        sim.with_value(super::topology::model)
    });
    let topology = Signal::from(topology);
    // The request the response and timeline panels show: the newest one,
    // unless the user picked another.
    let last = Memo::new(move |_| {
        revision.track();
        let pick = selected.get();
        sim.with_value(|s| match pick {
            Some(i) => s.exchanges().get(i).cloned(),
            None => s.exchanges().last().cloned(),
        })
    });
    let chips = Signal::derive(move || {
        revision.track();
        sim.with_value(|s| {
            let ex = s.exchanges();
            ex[ex.len().saturating_sub(RECENT)..]
                .iter()
                .map(|e| {
                    let (label, class) = match (e.is_finished(), e.logged_status) {
                        (false, _) => ("…".to_string(), "pending"),
                        (true, Some(st)) if (200..400).contains(&st) && matches!(e.client_result, Some(ClientResult::Response)) => (format!("{st:03}"), "ok"),
                        (true, Some(st)) if (400..500).contains(&st) => (format!("{st:03}"), "warn"),
                        (true, Some(st)) => (format!("{st:03}"), "fail"),
                        (true, None) => ("---".to_string(), "fail"),
                    };
                    Chip { id: e.id, title: e.console.join(" "), label, class }
                })
                .collect::<Vec<_>>()
        })
    });
    let select = Callback::new(move |id: usize| selected.set(Some(id)));
    let log = move |pick: fn(&crate::sim::world::World) -> &crate::sim::log::LogBuffer| {
        Signal::derive(move || {
            revision.track();
            sim.with_value(|s| {
                let buf = pick(s.world());
                let skip = buf.len().saturating_sub(SHOWN_LINES);
                let first = buf.total() - buf.len() as u64 + skip as u64;
                buf.lines().skip(skip).cloned().enumerate().map(|(i, l)| (first + i as u64, l)).collect::<Vec<_>>()
            })
        })
    };
    let error_lines = log(|w| &w.error_log);
    let access_lines = log(|w| &w.access_log);
    let app_lines = log(|w| &w.app_log);
    let stderr_lines = log(|w| &w.proxy_stderr);
    let proxy_name = Signal::derive(move || {
        scenario.with(|s| if s.proxy.flavor == Flavor::Haproxy { "haproxy" } else { "nginx" }.to_string())
    });

    view! {
        <div class="app" data-testid="app">
            <header class="masthead">
                <div>
                    <h1>"Gateway Lab"</h1>
                    <p class="tagline">"Break the upstream, watch what nginx does, read the exact log line."</p>
                </div>
                <div class="masthead-tools">
                    <ShareLink scenario=scenario />
                    <ThemePicker initial=link.theme.clone().unwrap_or_else(|| "system".into()) />
                </div>
            </header>
            <LinkNotice message=notice />
            <main>
                <Topology model=topology on_select=select />
                <Controls fault_id=fault_id on_fault=choose_fault on_send=send on_burst=burst />
                <Palette scenario=scenario error=config_error on_change=set_faults />
                <ScenarioPicker scenario=scenario on_load=load />
                <TimeControls
                    playing
                    speed
                    seed=Signal::derive(move || scenario.with(|s| s.seed))
                    clock
                    pending
                    on_step=step
                    on_reset=reset
                    on_seed=set_seed
                />
                <RecentRequests chips selected=selected.into() on_select=select />
                <ResponseView exchange=last.into() />
                <FixPanel exchange=last.into() scenario=scenario on_fix=Callback::new(move |_| apply_fix()) />
                <Timeline exchange=last.into() />
                <Compare scenario=scenario />
                <RetryLab playground=scenario />
                <ConfigPanel text=config_text scenario=scenario on_change=Callback::new(move |next: Scenario| apply(next)) />
                <section class="logs" aria-label="Logs">
                    <Show when=move || proxy_name.get() == "nginx">
                        <LogPanel title=Signal::derive(|| "nginx error.log".to_string()) testid="error-log" lines=error_lines />
                    </Show>
                    <LogPanel
                        title=Signal::derive(move || if proxy_name.get() == "nginx" { "nginx access.log".to_string() } else { "haproxy log (option httplog)".to_string() })
                        testid="access-log"
                        lines=access_lines
                    />
                    <LogPanel title=Signal::derive(|| "app log (journalctl)".to_string()) testid="app-log" lines=app_lines />
                    <Show when=move || stderr_lines.with(|l| !l.is_empty())>
                        <LogPanel title=Signal::derive(move || format!("{} stderr (journalctl -u {})", proxy_name.get(), proxy_name.get())) testid="proxy-stderr" lines=stderr_lines />
                    </Show>
                </section>
            </main>
            <footer class="footer">
                "Virtual time; everything runs in your browser. nginx "
                {move || sim.with_value(|s| s.world().scenario.proxy.version.clone())}
                " semantics."
            </footer>
        </div>
    }
}
