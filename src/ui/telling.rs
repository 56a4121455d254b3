//! The stage's log line: the one line of the proxy's logs that says what
//! happened to the request on screen, in full (the part people search
//! their own logs for included), with its log and its level. The engine
//! chooses it (`embed_api::telling_line`: nginx's most severe error.log line
//! by level, else the access.log line; HAProxy's httplog line, with its
//! termination state in words; the proxy's stderr when it failed to start; the record of the
//! layer in front that answered, when the proxy never saw the request).

use leptos::prelude::*;

use crate::embed_api;
use crate::sim::scenario::Flavor;
use crate::sim::termination::TerminationState;
use crate::sim::world::{Exchange, World};

/// The line the stage shows: where it was written, its level, its text.
#[derive(Clone, Debug, PartialEq)]
pub struct Telling {
    pub title: String,
    pub level: Option<&'static str>,
    pub text: String,
}

/// What the stage shows for `ex` (finished) in world `w`.
pub fn telling(w: &World, ex: &Exchange) -> Option<Telling> {
    if !ex.is_finished() {
        return None;
    }
    let (log, text) = embed_api::telling_line(w, ex);
    let proxy = w.scenario.proxy.flavor;
    let title = match (log, proxy) {
        // A layer in front answered (the proxy never saw the request): its log, as the Logs tab names it.
        ("layer", _) => crate::sim::layer::answering_line(w, ex)
            .and_then(|(hop, _)| crate::sim::layer::log_title(w, hop.layer))
            .map(|t| format!("{t} (documented, not verified)"))
            .unwrap_or_default(),
        ("error.log", Flavor::Varnish) => "varnishlog (the backend transaction)".to_string(),
        ("access.log", Flavor::Varnish) => "varnishncsa".to_string(),
        ("stderr", Flavor::Varnish) => "varnishd's VCL compiler (journalctl -u varnish)".to_string(),
        ("error.log", Flavor::Caddy) => "caddy's error logger (journalctl -u caddy)".to_string(),
        ("access.log", Flavor::Caddy) => "/var/log/caddy/access.log".to_string(),
        ("stderr", Flavor::Caddy) => "caddy's stderr (journalctl -u caddy)".to_string(),
        ("error.log", Flavor::Apache) => "/var/log/apache2/error.log".to_string(),
        ("access.log", Flavor::Apache) => "/var/log/apache2/access.log".to_string(),
        ("stderr", Flavor::Apache) => "apache2's start-up output (journalctl -u apache2)".to_string(),
        ("access.log", Flavor::Envoy) => "/var/log/envoy/access.log (Envoy's default format)".to_string(),
        ("access.log", Flavor::Alb) => "the ALB's access log (S3)".to_string(),
        ("error.log", _) => "/var/log/nginx/error.log".to_string(),
        ("access.log", _) => "/var/log/nginx/access.log".to_string(),
        ("stderr", Flavor::Nginx) => "nginx's stderr (journalctl -u nginx)".to_string(),
        ("stderr", Flavor::Haproxy) => "haproxy's stderr (journalctl -u haproxy)".to_string(),
        _ => "haproxy log (option httplog)".to_string(),
    };
    let level = if log == "error.log" { ex.worst_error_line().map(|l| l.level.as_str()) } else { None };
    Some(Telling { title, level, text: text? })
}

#[component]
pub fn TellingLine(line: Signal<Option<Telling>>) -> impl IntoView {
    view! {
        <Show when=move || line.with(|l| l.is_some())>
            <div class="telling" data-testid="stage-log">
                <div class="telling-head">
                    <span class="telling-title" data-testid="stage-log-title">{move || line.with(|l| l.as_ref().map(|l| l.title.clone()).unwrap_or_default())}</span>
                    {move || line.with(|l| l.as_ref().and_then(|l| l.level)).map(|lvl| view! { <span class=format!("telling-level level-{lvl}") data-testid="stage-log-level">{lvl}</span> })}
                </div>
                <code class="telling-line" data-testid="stage-log-line">{move || line.with(|l| l.as_ref().map(|l| l.text.clone()).unwrap_or_default())}</code>
                // HAProxy's termination state (`sH--`), in words: the engine's `TerminationState`.
                {move || line.with(|l| l.as_ref().and_then(|l| TerminationState::of_httplog(&l.text))).map(|t| view! {
                    <p class="termination-sentence" data-testid="termination-sentence">{t.sentence()}</p>
                })}
            </div>
        </Show>
    }
}
