//! The embed's answer panel: what the client got for the newest request,
//! the one log line that says why, and the engine's explanation.

use leptos::prelude::*;

use crate::embed_api;
use crate::sim::scenario::Flavor;
use crate::sim::world::Exchange;
use crate::ui::response::headline;

#[component]
pub fn LastRequest(exchange: Signal<Option<Exchange>>, flavor: Signal<Flavor>) -> impl IntoView {
    let head = move || exchange.with(|e| e.as_ref().map(headline));
    let line = move || exchange.with(|e| e.as_ref().filter(|e| e.is_finished()).map(|e| embed_api::log_line(e, flavor.get())));
    // Under HAProxy: the httplog line's termination state, in words, as the host's `outcome` event carries it.
    let termination = move || line().and_then(|(_, l)| embed_api::termination(&l?)).map(|t| t.sentence);
    let explanation = move || exchange.with(|e| e.as_ref().and_then(|e| e.explanation.as_deref()).map(embed_api::one_line).unwrap_or_default());
    view! {
        <div class="embed-result" aria-live="polite">
            <p class=move || format!("embed-status {}", head().map(|h| h.1).unwrap_or("none")) data-testid="embed-status">
                {move || match head() {
                    Some((text, _)) => text,
                    None => "No request yet: press Send".into(),
                }}
                <span class="embed-request-no">{move || exchange.with(|e| e.as_ref().map(|e| format!("request #{}", e.id + 1)).unwrap_or_default())}</span>
            </p>
            <Show when=move || line().is_some_and(|(_, l)| l.is_some())>
                <div class="embed-log">
                    <span class="embed-log-title" data-testid="embed-log-title">{move || line().map(|(log, _)| embed_api::log_title_in(log, flavor.get())).unwrap_or_default()}</span>
                    <code class="embed-log-line" data-testid="embed-log-line">{move || line().and_then(|(_, l)| l).unwrap_or_default()}</code>
                </div>
            </Show>
            {move || termination().map(|s| view! { <p class="embed-termination" data-testid="embed-termination">{s}</p> })}
            <p class="embed-explanation" data-testid="embed-explanation" title=explanation>{explanation}</p>
        </div>
    }
}
