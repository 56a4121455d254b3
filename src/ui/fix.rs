use leptos::prelude::*;

use crate::sim::world::Exchange;
use crate::sim::Scenario;

/// "Apply the fix": the engine's fix for the active fault, offered while
/// the last request failed.
#[component]
pub fn FixPanel(
    exchange: Signal<Option<Exchange>>,
    scenario: RwSignal<Scenario>,
    on_fix: Callback<()>,
) -> impl IntoView {
    // Failed: finished without succeeding (`Exchange::succeeded`).
    let failed = move || exchange.with(|e| e.as_ref().is_some_and(|e| e.is_finished() && !e.succeeded()));
    // For the whole path: the layers in front too (`Fault::fix_in`), or a layer's own
    // setting when there is no fault (`Fault::fix_for`).
    let fix = move || scenario.with(crate::sim::fault::Fault::fix_for);
    view! {
        <Show when=move || failed() && fix().is_some()>
            <section class="fix" aria-label="Fix it">
                <h2>"Fix it"</h2>
                <p class="fix-detail" data-testid="fix-detail">{move || fix().map(|f| f.detail).unwrap_or_default()}</p>
                <button class="apply-fix" data-testid="apply-fix" on:click=move |_| on_fix.run(())>
                    {move || fix().map(|f| format!("Apply the fix: {}", f.title)).unwrap_or_default()}
                </button>
            </section>
        </Show>
    }
}
