//! The comparison tab: 502 vs 503 vs 504 (three breakages on the current
//! configuration) and the per-proxy view (one break through every flavor,
//! a card each). The engine computes both (`gateway_core::compare`); this
//! file only renders them.

use leptos::prelude::*;

use crate::compare::{breakages, per_proxy, Break, Card, CardResult};
use crate::sim::Scenario;

/// 502 vs 503 vs 504 side by side, then the per-proxy view.
#[component]
pub fn Compare(scenario: RwSignal<Scenario>) -> impl IntoView {
    let shown = RwSignal::new(false);
    let columns = Memo::new(move |_| if shown.get() { scenario.with(breakages) } else { Vec::new() });
    view! {
        <section id="compare" class="compare" aria-label="502 vs 503 vs 504">
            <div class="compare-head">
                <h2>"502 vs 503 vs 504"</h2>
                <button class="compare-run" data-testid="compare-run" aria-expanded=move || shown.get().to_string() on:click=move |_| shown.update(|s| *s = !*s)>
                    {move || if shown.get() { "Hide" } else { "Same request, three breakages" }}
                </button>
            </div>
            <div class="compare-grid" data-testid="compare">
                <For
                    each=move || columns.get()
                    key=|c| (c.fault, c.status.clone(), c.log.clone())
                    children=move |c| {
                        let class = if c.failed { "compare-col fail" } else { "compare-col" };
                        view! {
                            <article class=class data-testid="compare-col">
                                <h3>{c.fault}</h3>
                                <p class="compare-status">{c.status}</p>
                                <code class="compare-log">{c.log}</code>
                                <p class="compare-why">{c.explanation}</p>
                            </article>
                        }
                    }
                />
            </div>
        </section>
        <PerProxy scenario=scenario />
    }
}

/// One break through every proxy: a card per flavor (`Flavor::ALL`).
#[component]
fn PerProxy(scenario: RwSignal<Scenario>) -> impl IntoView {
    let chosen = RwSignal::new(Break::AppDown);
    // Computed while the tab is open only: a scenario edit elsewhere re-runs nothing here until
    // the tab is back (the stage's overload break through five proxies took 228 ms in wasm).
    let tabs = use_context::<super::tabs::Tabs>();
    let open = move || tabs.is_none_or(|t| Some(t.current.get()) == super::tabs::index("compare"));
    let cards = Memo::new(move |prev: Option<&Vec<Card>>| {
        if !open() {
            return prev.cloned().unwrap_or_default();
        }
        let b = chosen.get();
        scenario.with(|s| per_proxy(s, b))
    });
    // One sentence a screen reader hears when the cards change.
    let summary = move || {
        let label = scenario.with(|s| chosen.get().label(s));
        let parts: Vec<String> = cards.with(|cs| {
            cs.iter()
                .map(|c| match &c.result {
                    CardResult::Ran(r) => format!("{} {}", c.name, r.headline),
                    CardResult::NotModelled(_) => format!("{} not modelled", c.name),
                    CardResult::Invalid(_) => format!("{} refused the scenario", c.name),
                })
                .collect()
        });
        format!("{label}: {}.", parts.join("; "))
    };
    view! {
        <section class="proxies" id="compare-proxies" aria-labelledby="proxies-title" data-testid="compare-proxies">
            <div class="compare-head">
                <h2 id="proxies-title">"The same break through every proxy"</h2>
                <label class="field proxies-pick">
                    <span class="field-label">"Break"</span>
                    <select data-testid="proxies-break"
                        prop:value=move || chosen.get().id()
                        on:change=move |ev| {
                            if let Some(b) = Break::parse(&event_target_value(&ev)) {
                                chosen.set(b);
                            }
                        }>
                        {Break::ALL.into_iter().map(|b| {
                            let label = move || scenario.with(|s| b.label(s));
                            view! { <option value=b.id() selected=move || chosen.get() == b>{label}</option> }
                        }).collect_view()}
                    </select>
                </label>
            </div>
            <p class="proxies-note">"One request on your configuration, each proxy with its own defaults: what the client got, the proxy's tries at the app, how long the client waited, and the line the proxy wrote."</p>
            <p class="visually-hidden" aria-live="polite" data-testid="proxies-summary">{summary}</p>
            <ul class="proxies-grid" role="list">
                <For each=move || cards.get() key=card_key children=card />
            </ul>
        </section>
    }
}

/// A card is redrawn when its flavor's answer changed (no Debug formatting in the bundle).
fn card_key(c: &Card) -> (&'static str, String) {
    let what = match &c.result {
        CardResult::Ran(r) => format!("{}\n{}\n{}\n{}\n{}\n{}", r.headline, r.line.as_deref().unwrap_or_default(), r.tries(), r.waited_us, r.explanation, r.pattern.as_deref().unwrap_or_default()),
        CardResult::NotModelled(m) | CardResult::Invalid(m) => m.clone(),
    };
    (c.flavor.as_str(), what)
}

fn card(c: Card) -> impl IntoView {
    let id = format!("proxy-card-{}", c.flavor.as_str());
    let (class, body) = match c.result {
        CardResult::Ran(r) => {
            let class = format!("proxy-card {}", r.class);
            let pattern = r.pattern.clone().map(|p| view! { <p class="proxy-pattern">{format!("Sent as the pattern “{p}”; shown: the request that failed.")}</p> });
            let termination = r.termination.clone().map(|t| view! { <p class="proxy-termination" data-testid="proxy-termination">{t.sentence}</p> });
            let line = match r.line.clone() {
                Some(l) => view! { <code class="proxy-line" data-testid="proxy-line">{l}</code> }.into_any(),
                None => view! { <p class="proxy-line-none" data-testid="proxy-line">"(no line for this request)"</p> }.into_any(),
            };
            let why = (!r.explanation.is_empty()).then(|| {
                let e = r.explanation.clone();
                view! { <details class="proxy-why"><summary>"Why"</summary><p>{e}</p></details> }
            });
            let body = view! {
                <p class="proxy-status" data-testid="proxy-status" data-status=r.status.map(|s| s.to_string()).unwrap_or_default()>{r.headline.clone()}</p>
                <p class="proxy-log-title">{r.log}</p>
                {line}
                {termination}
                <dl class="proxy-facts">
                    <div><dt>"Tries at the app"</dt><dd data-testid="proxy-tries">{r.tries()}</dd></div>
                    <div><dt>"Client waited"</dt><dd data-testid="proxy-waited">{r.waited()}</dd></div>
                </dl>
                {pattern}
                {why}
            }
            .into_any();
            (class, body)
        }
        CardResult::NotModelled(why) => (
            "proxy-card not-modelled".to_string(),
            view! {
                <p class="proxy-status" data-testid="proxy-status" data-status="">"not modelled"</p>
                <p class="proxy-refusal" data-testid="proxy-refusal">{format!("not modelled: {why}")}</p>
            }
            .into_any(),
        ),
        CardResult::Invalid(why) => (
            "proxy-card not-modelled".to_string(),
            view! {
                <p class="proxy-status" data-testid="proxy-status" data-status="">"refused"</p>
                <p class="proxy-refusal" data-testid="proxy-refusal">{why}</p>
            }
            .into_any(),
        ),
    };
    let version = (!c.version.is_empty()).then(|| view! { <span class="proxy-version" data-testid="proxy-version">{c.version.clone()}</span> });
    let labelled_by = id.clone();
    view! {
        <li class=class data-testid="proxy-card" data-flavor=c.flavor.as_str() aria-labelledby=labelled_by>
            <h3 id=id class="proxy-name">{c.name}" "{version}</h3>
            {body}
        </li>
    }
}
