use leptos::prelude::*;

use crate::sim::scenario::Clients;
use crate::sim::world::OutcomeClass;
use crate::sim::{run, Fault, FaultKind, RequestSpec, Scenario};

/// One column of the comparison.
#[derive(Clone, Debug, PartialEq)]
struct Column {
    fault: &'static str,
    status: String,
    log: String,
    explanation: String,
    /// The request failed (`OutcomeClass::Failure`).
    failed: bool,
}

/// The same request through three breakages, on the current configuration.
fn compare(base: &Scenario) -> Vec<Column> {
    [FaultKind::AppDown, FaultKind::Maintenance { retry_after_s: 120 }, FaultKind::SlowApp { delay_ms: 90_000 }]
        .into_iter()
        .map(|kind| {
            let title = kind.title_in(base.proxy.flavor);
            let s = Scenario {
                faults: vec![Fault::from(kind)],
                clients: Clients { requests: 0, ..base.clients.clone() },
                requests: vec![RequestSpec::default()],
                ..base.clone()
            };
            match run(s) {
                Ok(sim) => {
                    let ex = &sim.exchanges()[0];
                    let w = sim.world();
                    let log: String = ex
                        .error_lines
                        .first()
                        .map(|l| l.text.clone())
                        .or_else(|| ex.access_line.clone())
                        .or_else(|| w.proxy_stderr.lines().next().cloned())
                        .unwrap_or_default();
                    Column {
                        fault: title,
                        status: ex.response.as_ref().map(|r| format!("{} {}", r.status, r.reason)).unwrap_or_else(|| "no response".into()),
                        log,
                        explanation: ex.explanation.clone().unwrap_or_default(),
                        failed: ex.outcome_class() == OutcomeClass::Failure,
                    }
                }
                Err(e) => Column { fault: title, status: "invalid scenario".into(), log: e.to_string(), explanation: String::new(), failed: false },
            }
        })
        .collect()
}

/// 502 vs 503 vs 504 side by side.
#[component]
pub fn Compare(scenario: RwSignal<Scenario>) -> impl IntoView {
    let shown = RwSignal::new(false);
    let columns = Memo::new(move |_| if shown.get() { scenario.with(compare) } else { Vec::new() });
    view! {
        <section id="compare" class="compare" aria-label="502 vs 503 vs 504">
            <div class="compare-head">
                <h2>"502 vs 503 vs 504"</h2>
                <button class="compare-run" data-testid="compare-run" aria-expanded=move || shown.get().to_string() on:click=move |_| shown.update(|s| *s = !*s)>
                    {move || if shown.get() { "Hide" } else { "Same request, three breakages" }}
                </button>
            </div>
            <div class="compare-grid" data-testid="compare">
                <For
                    each=move || columns.get()
                    key=|c| (c.fault, c.status.clone(), c.log.clone())
                    children=move |c| {
                        let class = if c.failed { "compare-col fail" } else { "compare-col" };
                        view! {
                            <article class=class data-testid="compare-col">
                                <h3>{c.fault}</h3>
                                <p class="compare-status">{c.status}</p>
                                <code class="compare-log">{c.log}</code>
                                <p class="compare-why">{c.explanation}</p>
                            </article>
                        }
                    }
                />
            </div>
        </section>
    }
}
