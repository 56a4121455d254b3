use leptos::prelude::*;

use crate::sim::world::Exchange;

/// The last request's path through the system, step by step, in virtual time.
#[component]
pub fn Timeline(exchange: Signal<Option<Exchange>>) -> impl IntoView {
    view! {
        <section class="timeline" aria-label="Timeline of the last request">
            <h2>"Timeline of the last request"</h2>
            <ol data-testid="timeline">
                {move || exchange.with(|e| e.as_ref().map(|e| {
                    let start = e.sent_at;
                    e.timeline.iter().map(|s| {
                        let offset = crate::sim::engine::fmt_duration(s.at.since(start));
                        view! {
                            <li class=format!("step actor-{}", s.actor.as_str())>
                                <span class="step-time">{format!("+{offset}")}</span>
                                <span class="step-actor">{s.actor.as_str()}</span>
                                <span class="step-text">{s.text.clone()}</span>
                            </li>
                        }
                    }).collect_view()
                }))}
            </ol>
        </section>
    }
}
