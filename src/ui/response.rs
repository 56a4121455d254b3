use leptos::prelude::*;

use crate::sim::world::Exchange;

pub use crate::view::headline;

/// What the client received: the status, then `children` (the stage puts
/// the telling log line there), the engine's explanation, and the details a
/// curious reader opens (client console, headers, body).
#[component]
pub fn ResponseView(exchange: Signal<Option<Exchange>>, children: Children) -> impl IntoView {
    let head = move || exchange.with(|e| e.as_ref().map(headline));
    let status_class = move || match head() {
        None | Some((_, "pending")) => "status".to_string(),
        Some((_, class)) => format!("status {class}"),
    };
    view! {
        <section class="response" aria-label="What the client got">
            <h2>"What the client got"</h2>
            <p class=status_class data-testid="status" aria-live="polite">
                {move || head().map(|h| h.0).unwrap_or_else(|| "No request sent yet".to_string())}
            </p>
            {children()}
            <p class="explanation" data-testid="explanation">
                {move || exchange.with(|e| e.as_ref().and_then(|e| e.explanation.clone()).unwrap_or_default())}
            </p>
            <details class="wire" data-testid="wire">
                <summary>"What curl printed, the headers and the body"</summary>
                <p class="console" data-testid="client-console">
                    {move || exchange.with(|e| e.as_ref().map(|e| e.console.join("\n")).unwrap_or_default())}
                </p>
                <pre class="headers" data-testid="response-headers">
                    {move || exchange.with(|e| e.as_ref().and_then(|e| e.response.as_ref()).filter(|r| r.status >= 100).map(|r| {
                        let mut s = r.status_line();
                        for h in &r.headers {
                            s.push_str(&format!("\n{}: {}", h.name, h.value));
                        }
                        s
                    }).unwrap_or_default())}
                </pre>
                <pre class="body" data-testid="response-body">
                    {move || exchange.with(|e| e.as_ref().and_then(|e| e.response.as_ref()).map(|r| r.body.replace("\r\n", "\n")).unwrap_or_default())}
                </pre>
            </details>
        </section>
    }
}
