//! One strategy's controls: a preset, then the knobs that matter.

use leptos::prelude::*;

use crate::sim::scenario::{Backoff, CircuitBreaker, Hedge, Jitter, RetryBudget, RetryPolicy, RetryThrottle};
use crate::ui::number::NumberField;

/// Outcomes offered as "retry on" checkboxes.
const RETRY_ON: &[(&str, &str)] = &[("502", "502"), ("503", "503"), ("504", "504"), ("connect_error", "connection error"), ("timeout", "timeout")];

fn backoff_id(b: Backoff) -> &'static str {
    match b {
        Backoff::None => "none",
        Backoff::Fixed => "fixed",
        Backoff::Linear => "linear",
        Backoff::Exponential => "exponential",
    }
}

fn jitter_id(j: Jitter) -> &'static str {
    match j {
        Jitter::None => "none",
        Jitter::Full => "full",
        Jitter::Equal => "equal",
        Jitter::Decorrelated => "decorrelated",
    }
}

/// Which preset the policy is, if any ("scenario" for the experiment's own).
fn preset_of(p: &RetryPolicy, own: &RetryPolicy) -> String {
    if p == own {
        return "scenario".into();
    }
    RetryPolicy::presets().into_iter().find(|(_, _, q)| q == p).map(|(id, _, _)| id.to_string()).unwrap_or_else(|| "custom".into())
}

/// The snippet the policy is, if it is a preset named after one.
fn snippet_of(p: &RetryPolicy) -> Option<crate::lab::Snippet> {
    RetryPolicy::presets().into_iter().find(|(_, _, q)| q == p).and_then(|(id, _, _)| crate::lab::snippet(id))
}

#[component]
pub fn StrategyEditor(name: &'static str, key: &'static str, policy: RwSignal<RetryPolicy>, own: Signal<RetryPolicy>) -> impl IntoView {
    let id = move |what: &str| format!("lab-{key}-{what}");
    let set = move |f: &dyn Fn(&mut RetryPolicy)| policy.update(|p| f(p));
    let num = move |label: &'static str, what: &'static str, max: u64, get: fn(&RetryPolicy) -> u64, put: fn(&mut RetryPolicy, u64)| {
        let on_text = Callback::new(move |text: String| {
            if let Ok(v) = text.trim().parse::<u64>() {
                set(&|p| put(p, v.min(max)));
            }
        });
        view! { <NumberField label testid=id(what) min="0".to_string() max=max.to_string() value=Signal::derive(move || policy.with(|p| get(p).to_string())) on_text /> }
    };
    let toggle = move |label: &'static str, what: &'static str, get: fn(&RetryPolicy) -> bool, put: fn(&mut RetryPolicy, bool)| {
        view! {
            <label class="check">
                <input type="checkbox" data-testid=id(what) prop:checked=move || policy.with(get) on:change=move |ev| set(&|p| put(p, event_target_checked(&ev))) />
                {label}
            </label>
        }
    };
    view! {
        <fieldset class="lab-strategy" data-testid=id("strategy")>
            <legend>{name}</legend>
            <label class="field wide">
                <span class="field-label">"Strategy"</span>
                <select
                    data-testid=id("preset")
                    prop:value=move || preset_of(&policy.get(), &own.get())
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        if v == "scenario" {
                            policy.set(own.get_untracked());
                        } else if let Some(p) = RetryPolicy::preset(&v) {
                            policy.set(p);
                        }
                    }
                >
                    <option value="scenario">"As in the experiment"</option>
                    {RetryPolicy::presets().into_iter().map(|(id, label, _)| view! { <option value=id>{label}</option> }).collect_view()}
                    <option value="custom" disabled=true>"Custom (edited below)"</option>
                </select>
            </label>
            // A preset named after a snippet shows that code: the preset behaves exactly as it does.
            {move || policy.with(snippet_of).map(|s| view! {
                <figure class="lab-snippet" data-testid=id("snippet")>
                    <figcaption>{s.language} ", as this preset runs it:"</figcaption>
                    <pre><code>{s.code}</code></pre>
                </figure>
            })}
            <div class="lab-knobs">
                <label class="field">
                    <span class="field-label">"Backoff"</span>
                    <select
                        data-testid=id("backoff")
                        prop:value=move || backoff_id(policy.with(|p| p.backoff))
                        on:change=move |ev| {
                            let b = match event_target_value(&ev).as_str() {
                                "fixed" => Backoff::Fixed,
                                "linear" => Backoff::Linear,
                                "exponential" => Backoff::Exponential,
                                _ => Backoff::None,
                            };
                            set(&|p| {
                                p.backoff = b;
                                if b != Backoff::None && p.max_attempts < 2 {
                                    p.max_attempts = 3;
                                }
                            });
                        }
                    >
                        <option value="none">"none (no retries)"</option>
                        <option value="fixed">"fixed"</option>
                        <option value="linear">"linear"</option>
                        <option value="exponential">"exponential"</option>
                    </select>
                </label>
                <label class="field">
                    <span class="field-label">"Jitter"</span>
                    <select
                        data-testid=id("jitter")
                        prop:value=move || jitter_id(policy.with(|p| p.jitter))
                        on:change=move |ev| {
                            let j = match event_target_value(&ev).as_str() {
                                "full" => Jitter::Full,
                                "equal" => Jitter::Equal,
                                "decorrelated" => Jitter::Decorrelated,
                                _ => Jitter::None,
                            };
                            set(&|p| p.jitter = j);
                        }
                    >
                        <option value="none">"none"</option>
                        <option value="full">"full"</option>
                        <option value="equal">"equal"</option>
                        <option value="decorrelated">"decorrelated"</option>
                    </select>
                </label>
                {num("Base (ms)", "base", 86_400_000, |p| p.base_ms, |p, v| p.base_ms = v)}
                {num("Cap (ms)", "cap", 86_400_000, |p| p.cap_ms, |p, v| p.cap_ms = v.max(1))}
                {num("Max tries", "attempts", 100, |p| p.max_attempts as u64, |p, v| p.max_attempts = v.clamp(1, 100) as u32)}
                {num("Try timeout (ms)", "timeout", 86_400_000, |p| p.timeout_ms, |p, v| p.timeout_ms = v)}
                {num("Hedge after (ms)", "hedge", 86_400_000, |p| p.hedge.as_ref().map(|h| h.delay_ms).unwrap_or(0), |p, v| p.hedge = (v > 0).then_some(Hedge { delay_ms: v }))}
            </div>
            <p class="lab-hint">"A try timeout or hedge delay of 0 is off."</p>
            <div class="lab-checks" role="group" aria-label=move || format!("{name}: retry on")>
                <span class="field-label">"Retry on"</span>
                {RETRY_ON
                    .iter()
                    .map(|&(class, label)| {
                        view! {
                            <label class="check">
                                <input
                                    type="checkbox"
                                    data-testid=id(&format!("on-{class}"))
                                    prop:checked=move || policy.with(|p| p.retry_on.iter().any(|c| c == class))
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        set(&|p| {
                                            p.retry_on.retain(|c| c != class);
                                            if on {
                                                p.retry_on.push(class.to_string());
                                            }
                                        });
                                    }
                                />
                                {label}
                            </label>
                        }
                    })
                    .collect_view()}
                <label class="check">
                    <input type="checkbox" data-testid=id("retry-after") prop:checked=move || policy.with(|p| p.honour_retry_after) on:change=move |ev| set(&|p| p.honour_retry_after = event_target_checked(&ev)) />
                    "honour Retry-After"
                </label>
            </div>
            <div class="lab-checks" role="group" aria-label=move || format!("{name}: protections")>
                <span class="field-label">"Protections"</span>
                {toggle("circuit breaker (50 % of 20, open 5 s, 3 probes)", "breaker", |p| p.breaker.is_some(), |p, on| p.breaker = on.then(CircuitBreaker::default))}
                {toggle("retry budget (20 % + 10/s)", "budget", |p| p.budget.is_some(), |p, on| p.budget = on.then(RetryBudget::default))}
                {toggle("gRPC throttle (10 tokens, 0.1)", "throttle", |p| p.throttle.is_some(), |p, on| p.throttle = on.then(RetryThrottle::default))}
            </div>
        </fieldset>
    }
}
