use leptos::prelude::*;

use crate::session::{BURST, BURST_RATE};
use crate::sim::fault::Pattern;
use crate::sim::scenario::Flavor;
use crate::sim::FaultKind;

/// Chooses the breakage and sends a request; offers the traffic a fault
/// needs to show itself (`Fault::pattern`) when one request does not.
#[component]
pub fn Controls(
    fault_id: Signal<String>,
    flavor: Signal<Flavor>,
    pattern: Signal<Option<Pattern>>,
    on_fault: impl Fn(String) + 'static,
    on_send: impl Fn() + 'static,
    on_burst: impl Fn() + 'static,
    on_demonstrate: Callback<()>,
) -> impl IntoView {
    let catalog = FaultKind::catalog();
    let cause = move || {
        FaultKind::from_id(&fault_id.get())
            .map(|f| f.cause_in(flavor.get()))
            .unwrap_or("Nothing is broken: the app listens on its port and answers quickly.")
    };
    view! {
        <section class="controls" aria-label="Break the upstream">
            <label class="field">
                <span class="field-label">"Break the upstream"</span>
                <select
                    data-testid="fault-select"
                    prop:value=move || fault_id.get()
                    on:change=move |ev| on_fault(event_target_value(&ev))
                >
                    <option value="none">"Nothing broken (healthy)"</option>
                    {move || {
                        let flavor = flavor.get();
                        catalog
                            .iter()
                            .map(|f| {
                                let (id, title) = (f.id(), f.title_in(flavor));
                                view! { <option value=id selected=move || fault_id.get() == id>{title}</option> }
                            })
                            .collect_view()
                    }}
                </select>
            </label>
            <p class="cause" data-testid="fault-cause">{cause}</p>
            <button class="send" data-testid="send-request" on:click=move |_| on_send()>
                // The Session sends a GET of the scenario's clients.path.
                {move || format!("Send GET {}", use_context::<super::playground::Playground>().map(|pg| pg.scenario.with(|s| s.clients.path.clone())).unwrap_or_else(|| "/users".into()))}
            </button>
            <button class="burst" data-testid="send-burst" on:click=move |_| on_burst()
                title="Load: many requests close together (rate limits, overload)">
                {format!("Send {BURST} at {BURST_RATE}/s")}
            </button>
            <Show when=move || pattern.with(|p| p.is_some())>
                <button class="pattern" data-testid="send-pattern" on:click=move |_| on_demonstrate.run(())
                    title=move || pattern.with(|p| p.as_ref().map(|p| p.description.clone()).unwrap_or_default())>
                    {move || pattern.with(|p| p.as_ref().map(|p| p.label.clone()).unwrap_or_default())}
                </button>
                <p class="pattern-hint" data-testid="pattern-hint">
                    "One request does not show this fault. "
                    {move || pattern.with(|p| p.as_ref().map(|p| p.description.clone()).unwrap_or_default())}
                </p>
            </Show>
        </section>
    }
}
