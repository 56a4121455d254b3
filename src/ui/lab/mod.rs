//! The retry lab: one breakage, two client strategies, run to the end in
//! virtual time on the same seed, compared side by side (tables and SVG
//! charts). Everything shown comes from `sim::metrics`.

pub mod experiments;
mod charts;
mod results;
pub use crate::lab as run;
pub mod strategy;

use leptos::prelude::*;

use crate::sim::metrics::Metrics;
use crate::sim::scenario::{Flavor, Jitter, RetryPolicy, Scenario};

use charts::{BreakerBand, Legend, LoadChart, OutcomeChart};
use results::ResultTable;
use run::{Load, MAX_CLIENTS, MAX_REQUESTS};
use strategy::StrategyEditor;
use super::number::NumberField;

/// The playground's own scenario, offered as an experiment.
const PLAYGROUND: &str = "playground";

/// An experiment by id; the playground's scenario gets the lab's default load.
fn experiment(id: &str, playground: &Scenario) -> Scenario {
    if id == PLAYGROUND {
        let mut s = playground.clone();
        if s.clients.requests < 100 {
            s.clients.requests = 2_000;
            s.clients.rate_per_s = 100.0;
            s.clients.count = 500;
            s.clients.arrival = crate::sim::scenario::Arrival::Poisson;
        }
        if s.clients.retry.backoff == crate::sim::scenario::Backoff::None {
            s.clients.retry = RetryPolicy::preset("exponential").unwrap_or_default();
        }
        return s;
    }
    experiments::EXPERIMENTS
        .iter()
        .find(|(i, _)| *i == id)
        .and_then(|(_, json)| Scenario::from_json(json).ok())
        .unwrap_or_default()
}

/// What a finished comparison shows.
#[derive(Clone, Debug, PartialEq)]
struct Outcome {
    a: Result<(Metrics, u64), String>,
    b: Result<(Metrics, u64), String>,
    wall_ms: [f64; 2],
}

fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map(|p| p.now()).unwrap_or(0.0)
}

#[component]
pub fn RetryLab(playground: RwSignal<Scenario>) -> impl IntoView {
    let first = experiments::EXPERIMENTS[0].0;
    let chosen = RwSignal::new(first.to_string());
    let base = RwSignal::new(experiment(first, &Scenario::default()));
    let own = Signal::derive(move || base.with(|s| s.clients.retry.clone()));
    let load = RwSignal::new(Load::of(&base.get_untracked().clients));
    let a = RwSignal::new(base.get_untracked().clients.retry);
    let b = RwSignal::new(RetryPolicy { jitter: Jitter::Full, ..base.get_untracked().clients.retry });
    let running = RwSignal::new(false);
    // Comparisons finished so far (tests wait for the next one).
    let runs = RwSignal::new(0u32);
    let outcome = RwSignal::new(None::<Outcome>);

    let choose = move |id: String| {
        let s = experiment(&id, &playground.get_untracked());
        load.set(Load::of(&s.clients));
        a.set(s.clients.retry.clone());
        b.set(RetryPolicy { jitter: Jitter::Full, ..s.clients.retry.clone() });
        base.set(s);
        chosen.set(id);
        outcome.set(None);
    };

    let run_both = move |_| {
        if running.get_untracked() {
            return;
        }
        running.set(true);
        outcome.set(None);
        // Let the page paint "running" before the (synchronous) runs.
        gloo_timers::callback::Timeout::new(20, move || {
            let (s, l) = (base.get_untracked(), load.get_untracked());
            let t0 = now_ms();
            let ra = run::run(&s, &l, &a.get_untracked());
            let t1 = now_ms();
            let rb = run::run(&s, &l, &b.get_untracked());
            let t2 = now_ms();
            outcome.set(Some(Outcome { a: ra, b: rb, wall_ms: [t1 - t0, t2 - t1] }));
            runs.update(|n| *n += 1);
            running.set(false);
        })
        .forget();
    };

    let proxy_side = move || base.with(crate::lab::proxy_side);
    let flavor = move || base.with(|s| s.proxy.flavor);
    let next_upstream_has = move |c: &str| base.with(|s| s.proxy.proxy_next_upstream.iter().any(|x| x == c));
    let toggle_next = move |c: &'static str, on: bool| {
        base.update(|s| {
            s.proxy.proxy_next_upstream.retain(|x| x != c && x != "off");
            if on {
                s.proxy.proxy_next_upstream.push(c.to_string());
            }
            if s.proxy.proxy_next_upstream.is_empty() {
                s.proxy.proxy_next_upstream.push("off".into());
            }
        });
        outcome.set(None);
    };

    let load_field = move |label: &'static str, testid: &'static str, max: f64, get: fn(&Load) -> f64, put: fn(&mut Load, f64)| {
        let on_text = Callback::new(move |text: String| {
            if let Ok(v) = text.trim().parse::<f64>() {
                if v.is_finite() && v >= 1.0 {
                    load.update(|l| put(l, v.min(max)));
                }
            }
        });
        view! { <NumberField label testid=testid.to_string() min="1".to_string() max=max.to_string() value=Signal::derive(move || load.with(|l| get(l).to_string())) on_text /> }
    };

    let results = move || {
        outcome.get().map(|o| {
            let name_a = "Strategy A".to_string();
            let name_b = "Strategy B".to_string();
            match (&o.a, &o.b) {
                (Ok((ma, ea)), Ok((mb, eb))) => {
                    let end = ma.end_ms.max(mb.end_ms);
                    let y_tries = charts::nice_max(charts::peak_tries_per_s(ma).max(charts::peak_tries_per_s(mb)));
                    let y_load = charts::nice_max(charts::peak_load_per_s(ma).max(charts::peak_load_per_s(mb)).max(ma.capacity_per_s * 1.1));
                    let mut present = charts::groups_present(ma);
                    present.extend(charts::groups_present(mb));
                    present.sort_unstable();
                    present.dedup();
                    let note = |events: u64, wall: f64, m: &Metrics| format!("{events} events, {:.1} s of virtual time, computed in {wall:.0} ms", m.end_ms as f64 / 1e3);
                    let column = move |name: String, testid: &'static str, m: Metrics, note: String| {
                        let breaker = (!m.breaker.is_empty()).then(|| view! { <BreakerBand metrics=m.clone() end_ms=end /> });
                        let (l1, l2) = (
                            format!("{name}: tries by outcome over time; success rate {:.1} %", m.success_rate * 100.0),
                            format!("{name}: upstream load over time; peak {:.0} attempts/s against a capacity of {:.0}/s", charts::peak_load_per_s(&m), m.capacity_per_s),
                        );
                        view! {
                            <div class="lab-column">
                                <ResultTable name=name metrics=m.clone() testid=testid note=note flavor=flavor() />
                                <OutcomeChart metrics=m.clone() end_ms=end y_max=y_tries label=l1 />
                                <LoadChart metrics=m.clone() end_ms=end y_max=y_load label=l2 />
                                {breaker}
                            </div>
                        }
                    };
                    view! {
                        <Legend present=present breaker=!(ma.breaker.is_empty() && mb.breaker.is_empty()) />
                        <div class="lab-columns" data-testid="lab-results">
                            {column(name_a, "lab-table-a", ma.clone(), note(*ea, o.wall_ms[0], ma))}
                            {column(name_b, "lab-table-b", mb.clone(), note(*eb, o.wall_ms[1], mb))}
                        </div>
                    }
                    .into_any()
                }
                (ra, rb) => {
                    let msg = [ra.as_ref().err(), rb.as_ref().err()].into_iter().flatten().next().cloned().unwrap_or_default();
                    view! { <p class="lab-error" role="alert" data-testid="lab-error">{format!("This combination is not a valid scenario: {msg}")}</p> }.into_any()
                }
            }
        })
    };

    view! {
        <section id="lab" class="lab" aria-label="Retry lab" data-testid="lab">
            <h2>"Retry lab"</h2>
            <p class="lab-intro">
                "Run the same breakage with two client strategies, on the same seed, to the end in virtual time, and compare what they cost: success, latency, and the load the retries put on the upstream."
            </p>
            <div class="lab-setup">
                <label class="field wide">
                    <span class="field-label">"Experiment"</span>
                    <select data-testid="lab-experiment" prop:value=move || chosen.get() on:change=move |ev| choose(event_target_value(&ev))>
                        {experiments::EXPERIMENTS
                            .iter()
                            .map(|(id, json)| {
                                let title = Scenario::from_json(json).map(|s| s.title).unwrap_or_else(|_| id.to_string());
                                view! { <option value=*id>{title}</option> }
                            })
                            .collect_view()}
                        <option value=PLAYGROUND>"The playground's scenario (its faults and proxy)"</option>
                    </select>
                </label>
                <p class="lab-description" data-testid="lab-description">{move || base.with(|s| s.description.clone())}</p>
                <div class="lab-load">
                    {load_field("Clients", "lab-clients", MAX_CLIENTS as f64, |l| l.count as f64, |l, v| l.count = v as u32)}
                    {load_field("Requests", "lab-requests", MAX_REQUESTS as f64, |l| l.requests as f64, |l, v| l.requests = v as u32)}
                    {load_field("Rate (requests/s)", "lab-rate", 100_000.0, |l| l.rate_per_s, |l, v| l.rate_per_s = v)}
                </div>
                <div class="lab-proxy">
                    <span class="field-label">"Proxy side"</span>
                    <code data-testid="lab-proxy">{proxy_side}</code>
                    // nginx's proxy_next_upstream conditions; HAProxy retries connection failures only.
                    <Show when=move || flavor() == Flavor::Nginx>
                    <div class="lab-checks" role="group" aria-label="proxy_next_upstream">
                        {["error", "timeout", "http_502", "http_503", "http_504"]
                            .into_iter()
                            .map(|c| view! {
                                <label class="check">
                                    <input type="checkbox" data-testid=format!("lab-next-{c}") prop:checked=move || next_upstream_has(c) on:change=move |ev| toggle_next(c, event_target_checked(&ev)) />
                                    {c}
                                </label>
                            })
                            .collect_view()}
                    </div>
                    </Show>
                </div>
            </div>
            <div class="lab-strategies">
                <StrategyEditor name="Strategy A" key="a" policy=a own=own />
                <StrategyEditor name="Strategy B" key="b" policy=b own=own />
            </div>
            <button class="send lab-run" data-testid="lab-run" disabled=move || running.get() on:click=run_both>
                {move || if running.get() { "Running both…" } else { "Run the comparison" }}
            </button>
            <div aria-live="polite" data-testid="lab-output" data-runs=move || runs.get().to_string()>{results}</div>
        </section>
    }
}
