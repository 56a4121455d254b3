use leptos::prelude::*;

use crate::sim::world::Exchange;

/// What the client received: status line, headers, body and the engine's
/// explanation.
#[component]
pub fn ResponseView(exchange: Signal<Option<Exchange>>) -> impl IntoView {
    let status_class = move || {
        exchange.with(|e| match e.as_ref().and_then(|e| e.status()) {
            None => "status",
            Some(s) if s < 400 => "status ok",
            Some(s) if s >= 500 => "status fail",
            Some(_) => "status warn",
        })
    };
    view! {
        <section class="response" aria-label="What the client got">
            <h2>"What the client got"</h2>
            <p class=status_class data-testid="status" aria-live="polite">
                {move || exchange.with(|e| match e.as_ref().and_then(|e| e.response.as_ref()) {
                    Some(r) => format!("{} {}", r.status, r.reason),
                    None => "No request sent yet".to_string(),
                })}
            </p>
            <pre class="headers" data-testid="response-headers">
                {move || exchange.with(|e| e.as_ref().and_then(|e| e.response.as_ref()).map(|r| {
                    let mut s = r.status_line();
                    for h in &r.headers {
                        s.push_str(&format!("\n{}: {}", h.name, h.value));
                    }
                    s
                }).unwrap_or_default())}
            </pre>
            <details class="body">
                <summary>"Response body"</summary>
                <pre data-testid="response-body">
                    {move || exchange.with(|e| e.as_ref().and_then(|e| e.response.as_ref()).map(|r| r.body.replace("\r\n", "\n")).unwrap_or_default())}
                </pre>
            </details>
            <p class="explanation" data-testid="explanation">
                {move || exchange.with(|e| e.as_ref().and_then(|e| e.explanation.clone()).unwrap_or_default())}
            </p>
        </section>
    }
}
