use leptos::prelude::*;

use crate::sim::world::{ClientResult, Exchange};

/// What the client received: status line, headers, body and the engine's
/// explanation.
#[component]
pub fn ResponseView(exchange: Signal<Option<Exchange>>) -> impl IntoView {
    let status_class = move || {
        exchange.with(|e| match e.as_ref().and_then(|e| e.status()).filter(|s| *s >= 100) {
            None if e.as_ref().is_some_and(|e| e.finished_at.is_some()) => "status fail",
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
                {move || exchange.with(|e| match e.as_ref() {
                    None => "No request sent yet".to_string(),
                    Some(e) => match (&e.client_result, &e.response) {
                        (Some(ClientResult::ConnectFailed), _) => "No response: could not connect".to_string(),
                        (Some(ClientResult::Http09), _) => "No status line (HTTP/0.9 bytes)".to_string(),
                        (_, Some(r)) => format!("{} {}", r.status, r.reason),
                        (_, None) => "Waiting…".to_string(),
                    },
                })}
            </p>
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
