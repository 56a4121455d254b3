//! One strategy's result table.

use leptos::prelude::*;

use crate::sim::metrics::Metrics;
use crate::sim::scenario::Flavor;

fn ms(v: f64) -> String {
    if v >= 1_000.0 { format!("{:.2} s", v / 1_000.0) } else { format!("{v:.0} ms") }
}

/// (metric id, label, value) rows.
pub fn rows(m: &Metrics, flavor: Flavor) -> Vec<(&'static str, &'static str, String)> {
    let outcomes = m.outcomes.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join(" · ");
    vec![
        (
            "success",
            "Success rate",
            if m.ops_finished == 0 { "— (no request finished)".to_string() } else { format!("{:.2} % ({} of {})", m.success_rate * 100.0, m.ops_ok, m.ops_finished) },
        ),
        ("latency", "Latency p50 / p95 / p99", format!("{} / {} / {}", ms(m.latency_ms.p50), ms(m.latency_ms.p95), ms(m.latency_ms.p99))),
        (
            "amplification",
            "Upstream attempts per request",
            format!("{:.2} = {:.2} client tries sent × {:.2} proxy attempts each", m.amplification, m.tries_per_op, m.attempts_per_try),
        ),
        ("attempts", "Upstream attempts", m.upstream_attempts.to_string()),
        ("retries", "Client retries / hedges", format!("{} / {}", m.retries, m.hedges)),
        ("timeouts", crate::lab::timeouts_label(flavor), m.timeouts.to_string()),
        ("guards", "Breaker rejections / budget / throttle", format!("{} / {} / {}", m.breaker_rejections, m.budget_denied, m.throttle_denied)),
        ("outcomes", "Requests ended with", outcomes),
    ]
}

#[component]
pub fn ResultTable(name: String, testid: &'static str, metrics: Metrics, note: String, flavor: Flavor) -> impl IntoView {
    view! {
        <table class="lab-table" data-testid=testid>
            <caption>{name}</caption>
            <tbody>
                {rows(&metrics, flavor)
                    .into_iter()
                    .map(|(id, label, value)| view! { <tr data-metric=id><th scope="row">{label}</th><td>{value}</td></tr> })
                    .collect_view()}
            </tbody>
            <tfoot><tr><td colspan="2" class="lab-note">{note}</td></tr></tfoot>
        </table>
    }
}
