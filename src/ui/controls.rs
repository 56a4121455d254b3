use leptos::prelude::*;

use crate::session::{BURST, BURST_RATE};
use crate::sim::fault::Pattern;
use crate::sim::scenario::Flavor;
use crate::sim::FaultKind;

/// The fault picker's value for a scenario whose break is its own settings.
const OWN: &str = "scenario";

/// `s` up to its first full stop (all of it if none).
fn first_sentence(s: &str) -> String {
    match s.find(". ") {
        Some(i) => s[..=i].to_string(),
        None => s.trim().to_string(),
    }
}

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
    let pg = use_context::<super::playground::Playground>();
    // A scenario with no catalog fault but a title of its own (a ready scenario whose break is in
    // its settings, e.g. PHP-FPM's socket owner; a diagnosed paste): the picker names it rather
    // than "Nothing broken", and its description's first sentence is the cause.
    let own = move || {
        pg.and_then(|pg| {
            pg.scenario.with(|s| (s.faults.is_empty() && !s.title.trim().is_empty()).then(|| (s.title.clone(), first_sentence(&s.description))))
        })
    };
    let cause = move || match (FaultKind::from_id(&fault_id.get()), own()) {
        (Some(f), _) => f.cause_in(flavor.get()).to_string(),
        (None, Some((_, why))) if !why.is_empty() => why,
        (None, Some(_)) => "This scenario's own settings, not a catalog fault: see its description under Build.".to_string(),
        (None, None) => "Nothing is broken: the app listens on its port and answers quickly.".to_string(),
    };
    let value = move || if own().is_some() { OWN.to_string() } else { fault_id.get() };
    view! {
        <section class="controls" aria-label="Break the upstream">
            <label class="field">
                <span class="field-label">"Break the upstream"</span>
                <select
                    data-testid="fault-select"
                    prop:value=value
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        if v != OWN {
                            on_fault(v);
                        }
                    }
                >
                    {move || own().map(|(title, _)| view! { <option value=OWN selected=true data-testid="fault-own">{format!("This scenario: {title}")}</option> })}
                    <option value="none">{move || if own().is_some() { "No catalog fault (the scenario's settings stay)" } else { "Nothing broken (healthy)" }}</option>
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
