use leptos::prelude::*;

use crate::sim::scenario::Clients;
use crate::sim::{app, Fault, FaultKind, RequestSpec, Scenario, Simulation};

use super::controls::Controls;
use super::logs::LogPanel;
use super::response::ResponseView;
use super::timeline::Timeline;
use super::topology::Topology;

/// Lines of each log rendered in the page (the engine keeps more).
const SHOWN_LINES: usize = 200;

/// Pause between two requests sent with the button, virtual milliseconds.
const THINK_TIME_MS: u64 = 1_000;

#[component]
pub fn App() -> impl IntoView {
    let scenario = Scenario { clients: Clients { requests: 0, ..Clients::default() }, ..Scenario::default() };
    let sim = StoredValue::new(Simulation::new(scenario).expect("the default scenario is valid"));
    // Bumped after every change to the simulation; views read it to re-render.
    let revision = RwSignal::new(0u64);
    let fault_id = RwSignal::new("none".to_string());

    let send = move || {
        let faults: Vec<Fault> =
            FaultKind::from_id(&fault_id.get_untracked()).into_iter().map(Fault::from).collect();
        sim.update_value(|s| {
            s.set_faults(faults);
            let delay = if s.exchanges().is_empty() { 0 } else { THINK_TIME_MS };
            s.send_after(delay, RequestSpec::default());
            s.run();
        });
        revision.update(|r| *r += 1);
    };

    let choose_fault = move |id: String| {
        let faults: Vec<Fault> = FaultKind::from_id(&id).into_iter().map(Fault::from).collect();
        sim.update_value(|s| s.set_faults(faults));
        fault_id.set(id);
        revision.update(|r| *r += 1);
    };

    let app_state = Memo::new(move |_| {
        revision.track();
        sim.with_value(|s| app::state(s.world(), 0))
    });
    let last = Memo::new(move |_| {
        revision.track();
        sim.with_value(|s| s.exchanges().last().cloned())
    });
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
    let (proxy_label, app_label, client_label) = sim.with_value(|s| {
        let sc = &s.world().scenario;
        (
            format!("listen {} → proxy_pass {}", sc.proxy.listen, sc.proxy.proxy_pass),
            format!("listening on {}", sc.apps.first().map(|a| a.listen.as_str()).unwrap_or("-")),
            format!("{} from {}", sc.clients.user_agent, sc.clients.ip),
        )
    });
    let last_status = Signal::derive(move || {
        last.with(|l| l.as_ref().filter(|e| e.finished_at.is_some()).map(|e| e.status().filter(|s| *s >= 100).unwrap_or(0)))
    });

    view! {
        <div class="app" data-testid="app">
            <header class="masthead">
                <h1>"Gateway Lab"</h1>
                <p class="tagline">"Break the upstream, watch what nginx does, read the exact log line."</p>
            </header>
            <main>
                <Topology app_state=app_state.into() last_status=last_status proxy_label app_label client_label />
                <Controls fault_id=fault_id on_fault=choose_fault on_send=send />
                <ResponseView exchange=last.into() />
                <Timeline exchange=last.into() />
                <section class="logs" aria-label="Logs">
                    <LogPanel title="nginx error.log" testid="error-log" lines=error_lines />
                    <LogPanel title="nginx access.log" testid="access-log" lines=access_lines />
                    <LogPanel title="app log (journalctl)" testid="app-log" lines=app_lines />
                    <Show when=move || stderr_lines.with(|l| !l.is_empty())>
                        <LogPanel title="nginx stderr (journalctl -u nginx)" testid="nginx-stderr" lines=stderr_lines />
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
