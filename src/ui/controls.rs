use leptos::prelude::*;

use crate::session::{BURST, BURST_RATE};
use crate::sim::FaultKind;

/// Chooses the breakage and sends a request.
#[component]
pub fn Controls(
    fault_id: Signal<String>,
    on_fault: impl Fn(String) + 'static,
    on_send: impl Fn() + 'static,
    on_burst: impl Fn() + 'static,
) -> impl IntoView {
    let catalog = FaultKind::catalog();
    let cause = move || {
        FaultKind::from_id(&fault_id.get())
            .map(|f| f.cause())
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
                    {catalog
                        .into_iter()
                        .map(|f| view! { <option value=f.id()>{f.title()}</option> })
                        .collect_view()}
                </select>
            </label>
            <p class="cause" data-testid="fault-cause">{cause}</p>
            <button class="send" data-testid="send-request" on:click=move |_| on_send()>
                "Send GET /users"
            </button>
            <button class="burst" data-testid="send-burst" on:click=move |_| on_burst()
                title="Load: many requests close together (rate limits, overload)">
                {format!("Send {BURST} at {BURST_RATE}/s")}
            </button>
        </section>
    }
}
