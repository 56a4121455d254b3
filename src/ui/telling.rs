//! The stage's log line: the one line of the proxy's logs that says what
//! happened to the request on screen, in full (the part people search
//! their own logs for included), with its log and its level. The engine
//! chooses it (`embed_api::log_line`: nginx's most severe error.log line by
//! level, else the access.log line; HAProxy's httplog line, with its
//! termination state in words).

use leptos::prelude::*;

use crate::embed_api;
use crate::sim::scenario::Flavor;
use crate::sim::termination::TerminationState;
use crate::sim::world::Exchange;

/// The log's name as an admin would say it.
fn log_title(log: &str) -> &'static str {
    match log {
        "error.log" => "/var/log/nginx/error.log",
        "access.log" => "/var/log/nginx/access.log",
        _ => "haproxy log (option httplog)",
    }
}

#[component]
pub fn TellingLine(exchange: Signal<Option<Exchange>>, flavor: Signal<Flavor>) -> impl IntoView {
    let line = move || {
        exchange.with(|e| {
            let e = e.as_ref().filter(|e| e.is_finished())?;
            let (log, text) = embed_api::log_line(e, flavor.get());
            let level = if log == "error.log" { e.worst_error_line().map(|l| l.level.as_str()) } else { None };
            Some((log_title(log), level, text?))
        })
    };
    view! {
        <Show when=move || line().is_some()>
            <div class="telling" data-testid="stage-log">
                <div class="telling-head">
                    <span class="telling-title" data-testid="stage-log-title">{move || line().map(|l| l.0).unwrap_or_default()}</span>
                    {move || line().and_then(|l| l.1).map(|lvl| view! { <span class=format!("telling-level level-{lvl}") data-testid="stage-log-level">{lvl}</span> })}
                </div>
                <code class="telling-line" data-testid="stage-log-line">{move || line().map(|l| l.2).unwrap_or_default()}</code>
                // HAProxy's termination state (`sH--`), in words: the engine's `TerminationState`.
                {move || line().and_then(|l| TerminationState::of_httplog(&l.2)).map(|t| view! {
                    <p class="termination-sentence" data-testid="termination-sentence">{t.sentence()}</p>
                })}
            </div>
        </Show>
    }
}
