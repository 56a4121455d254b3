//! The lab's SVG charts: tries by outcome over time, upstream load against
//! the apps' capacity, and the circuit breaker's states. Both strategies
//! are drawn on the same scales so they can be compared by eye.

use leptos::prelude::*;

use crate::sim::client::guards::BreakerState;
use crate::sim::metrics::Metrics;

const W: f64 = 600.0;
const H: f64 = 150.0;
const LEFT: f64 = 46.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 18.0;
const BOTTOM: f64 = 20.0;

/// (css class, legend label, which outcome classes belong to it).
type Group = (&'static str, &'static str, fn(&str) -> bool);

/// Outcome groups, in stacking order.
pub const GROUPS: &[Group] = &[
    ("o-ok", "2xx/3xx", |c| c.starts_with('2') || c.starts_with('3')),
    ("o-4xx", "4xx", |c| c.starts_with('4')),
    ("o-502", "502", |c| c == "502"),
    ("o-503", "503", |c| c == "503"),
    ("o-504", "504", |c| c == "504"),
    ("o-5xx", "other 5xx", |c| c.starts_with('5') && !matches!(c, "502" | "503" | "504")),
    ("o-timeout", "client timeout", |c| c == "timeout"),
    ("o-conn", "connection error", |c| matches!(c, "connect_error" | "error")),
    ("o-breaker", "breaker open", |c| c == "breaker_open"),
    ("o-cancel", "hedge cancelled", |c| c == "cancelled"),
];

fn group_of(class: &str) -> usize {
    GROUPS.iter().position(|g| (g.2)(class)).unwrap_or(GROUPS.len() - 1)
}

/// Per-second rates of each group in each bucket.
fn rates(m: &Metrics) -> Vec<(u64, [f64; 10])> {
    let per_s = 1_000.0 / m.bucket_ms.max(1) as f64;
    m.buckets
        .iter()
        .map(|b| {
            let mut r = [0.0; 10];
            for (class, n) in &b.outcomes {
                r[group_of(class)] += *n as f64 * per_s;
            }
            (b.start_ms, r)
        })
        .collect()
}

/// The largest stacked rate (tries ended per second) of a run.
pub fn peak_tries_per_s(m: &Metrics) -> f64 {
    rates(m).iter().map(|(_, r)| r.iter().sum::<f64>()).fold(0.0, f64::max)
}

/// The largest upstream attempt rate of a run, per second.
pub fn peak_load_per_s(m: &Metrics) -> f64 {
    let per_s = 1_000.0 / m.bucket_ms.max(1) as f64;
    m.buckets.iter().map(|b| b.upstream_attempts as f64 * per_s).fold(0.0, f64::max)
}

/// A round axis maximum at or above `v`.
pub fn nice_max(v: f64) -> f64 {
    if v <= 0.0 {
        return 1.0;
    }
    let mag = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * mag).find(|&m| m >= v).unwrap_or(10.0 * mag)
}

fn x_of(ms: f64, end_ms: f64) -> f64 {
    LEFT + (W - LEFT - RIGHT) * (ms / end_ms.max(1.0))
}

fn y_of(v: f64, max: f64) -> f64 {
    TOP + (H - TOP - BOTTOM) * (1.0 - (v / max).min(1.0))
}

fn fmt_num(v: f64) -> String {
    if v >= 10_000.0 { format!("{:.0}k", v / 1_000.0) } else if v >= 1_000.0 { format!("{:.1}k", v / 1_000.0) } else { format!("{v:.0}") }
}

fn axes(end_ms: f64, y_max: f64, unit: &'static str) -> impl IntoView {
    let y_ticks = [0.0, y_max / 2.0, y_max];
    let x_ticks = [0.0, end_ms / 2.0, end_ms];
    view! {
        <g class="axis">
            <line x1=LEFT y1=H - BOTTOM x2=W - RIGHT y2=H - BOTTOM />
            <line x1=LEFT y1=TOP x2=LEFT y2=H - BOTTOM />
            {y_ticks.iter().map(|&v| {
                let y = y_of(v, y_max);
                view! {
                    <line class="grid" x1=LEFT y1=y x2=W - RIGHT y2=y />
                    <text x=LEFT - 4.0 y=y + 4.0 text-anchor="end">{fmt_num(v)}</text>
                }
            }).collect_view()}
            {x_ticks.iter().enumerate().map(|(i, &ms)| {
                let anchor = ["start", "middle", "end"][i];
                view! { <text x=x_of(ms, end_ms) y=H - 5.0 text-anchor=anchor>{format!("{:.0} s", ms / 1_000.0)}</text> }
            }).collect_view()}
            <text x=LEFT y=11 class="unit">{unit}</text>
        </g>
    }
}

/// Stacked bars: tries ended per second, by outcome.
#[component]
pub fn OutcomeChart(metrics: Metrics, end_ms: u64, y_max: f64, label: String) -> impl IntoView {
    let end = end_ms as f64;
    let bw = metrics.bucket_ms as f64;
    let bars = rates(&metrics)
        .into_iter()
        .flat_map(|(start, r)| {
            let mut acc = 0.0;
            let x = x_of(start as f64, end);
            let w = (x_of(start as f64 + bw, end).min(W - RIGHT) - x - 0.5).max(0.5);
            r.into_iter()
                .enumerate()
                .filter(|(_, v)| *v > 0.0)
                .map(|(g, v)| {
                    let y1 = y_of(acc + v, y_max);
                    let y0 = y_of(acc, y_max);
                    acc += v;
                    let class = GROUPS[g].0;
                    view! { <rect class=class x=x y=y1 width=w height=(y0 - y1).max(0.0) /> }
                })
                .collect::<Vec<_>>()
        })
        .collect_view();
    view! {
        <svg class="chart" viewBox=format!("0 0 {W} {H}") role="img" aria-label=label>
            {axes(end, y_max, "tries ended per second, by outcome")}
            <g>{bars}</g>
        </svg>
    }
}

/// Upstream attempts per second against what the apps can serve.
#[component]
pub fn LoadChart(metrics: Metrics, end_ms: u64, y_max: f64, label: String) -> impl IntoView {
    let end = end_ms as f64;
    let per_s = 1_000.0 / metrics.bucket_ms.max(1) as f64;
    let bw = metrics.bucket_ms as f64;
    let points = metrics
        .buckets
        .iter()
        .flat_map(|b| {
            let y = y_of(b.upstream_attempts as f64 * per_s, y_max);
            [(x_of(b.start_ms as f64, end), y), (x_of(b.start_ms as f64 + bw, end).min(W - RIGHT), y)]
        })
        .map(|(x, y)| format!("{x:.1},{y:.1}"))
        .collect::<Vec<_>>()
        .join(" ");
    let cap = metrics.capacity_per_s;
    let cap_y = y_of(cap, y_max);
    view! {
        <svg class="chart" viewBox=format!("0 0 {W} {H}") role="img" aria-label=label>
            {axes(end, y_max, "upstream attempts per second")}
            <polyline class="load" points=points />
            <line class="capacity" x1=LEFT y1=cap_y x2=W - RIGHT y2=cap_y />
            <text class="capacity-label" x=W - RIGHT - 4.0 y=cap_y - 4.0 text-anchor="end">{format!("app capacity ≈ {}/s", fmt_num(cap))}</text>
        </svg>
    }
}

/// The breaker's states as a band over time.
#[component]
pub fn BreakerBand(metrics: Metrics, end_ms: u64) -> impl IntoView {
    let end = end_ms as f64;
    let spans = metrics
        .breaker
        .iter()
        .map(|s| {
            let x = x_of(s.from_ms as f64, end);
            let w = (x_of(s.to_ms as f64, end) - x).max(2.0);
            let class = match s.state {
                BreakerState::Closed => "b-closed",
                BreakerState::Open => "b-open",
                BreakerState::HalfOpen => "b-half",
            };
            view! { <rect class=class x=x y=4 width=w height=16><title>{format!("{} from {:.1} s to {:.1} s", s.state.as_str(), s.from_ms as f64 / 1e3, s.to_ms as f64 / 1e3)}</title></rect> }
        })
        .collect_view();
    let opens = metrics.breaker.iter().filter(|s| s.state == BreakerState::Open).count();
    view! {
        <svg class="chart band" viewBox=format!("0 0 {W} 24") role="img" aria-label=format!("circuit breaker: opened {opens} times")>
            <text x=LEFT - 4.0 y=16 text-anchor="end" class="band-label">"breaker"</text>
            {spans}
        </svg>
    }
}

/// The legend for the outcome colours present in either run.
#[component]
pub fn Legend(present: Vec<usize>, breaker: bool) -> impl IntoView {
    let breaker = breaker.then(|| {
        view! {
            <li><span class="swatch b-closed"></span>"breaker closed"</li>
            <li><span class="swatch b-half"></span>"half-open"</li>
            <li><span class="swatch b-open"></span>"open"</li>
        }
    });
    view! {
        <ul class="legend" aria-label="Outcome colours">
            {present.into_iter().map(|g| view! { <li><span class=format!("swatch {}", GROUPS[g].0)></span>{GROUPS[g].1}</li> }).collect_view()}
            <li><span class="swatch load-swatch"></span>"upstream attempts/s"</li>
            <li><span class="swatch capacity-swatch"></span>"app capacity"</li>
            {breaker}
        </ul>
    }
}

/// Which outcome groups a run has.
pub fn groups_present(m: &Metrics) -> Vec<usize> {
    let mut seen = [false; 10];
    for b in &m.buckets {
        for class in b.outcomes.keys() {
            seen[group_of(class)] = true;
        }
    }
    (0..10).filter(|&g| seen[g]).collect()
}
