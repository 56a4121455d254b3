use leptos::prelude::*;

use crate::sim::Scenario;

use super::library::SCENARIOS;

/// "Load a ready scenario": the files of scenarios/, with their title and
/// description, each replayed with its own requests, timing and seed.
#[component]
pub fn ScenarioPicker(scenario: RwSignal<Scenario>, on_load: Callback<String>) -> impl IntoView {
    let titles: Vec<(&'static str, String)> = SCENARIOS
        .iter()
        .map(|(name, text)| (*name, Scenario::from_json(text).map(|s| s.title).unwrap_or_else(|e| format!("{name} (invalid: {e})"))))
        .collect();
    view! {
        <section class="picker" aria-label="Ready scenarios">
            <label class="field">
                <span class="field-label">"Load a ready scenario (its requests, timing and seed)"</span>
                <select data-testid="scenario-select" on:change=move |ev| on_load.run(event_target_value(&ev))>
                    <option value="" selected>"Choose…"</option>
                    {titles.into_iter().map(|(name, title)| view! { <option value=name>{title}</option> }).collect_view()}
                </select>
            </label>
            <p class="scenario-description" data-testid="scenario-description">
                {move || scenario.with(|s| s.description.clone())}
            </p>
        </section>
    }
}
