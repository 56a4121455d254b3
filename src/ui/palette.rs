use leptos::prelude::*;
use serde_json::Value;

use crate::sim::{Fault, FaultKind, Scenario};

/// The whole catalog as a palette: any number of faults at once, each with
/// its one-line cause and controls for its knobs. The knobs are read from
/// the fault's own serde form, so the palette has no per-fault code.
#[component]
pub fn Palette(scenario: RwSignal<Scenario>, error: RwSignal<Option<String>>, on_change: Callback<Vec<Fault>>) -> impl IntoView {
    // Titles, causes and knob labels in the chosen proxy's words (the core's `title_in`, `cause_in`, `knob_label`).
    let flavor = move || scenario.with(|s| s.proxy.flavor);
    let active = move |id: &str| scenario.with(|s| s.faults.iter().position(|f| f.kind.id() == id));
    // A fault the chosen proxy does not model on this scenario: `Scenario::validate` refuses it
    // under `proxy.flavor` with the flavor's `unsupported()` message, which the palette shows in
    // place of the cause (in the other proxy's words on purpose: "limit_req is nginx's…").
    let refused = Memo::new(move |_| {
        scenario.with(|s| {
            FaultKind::catalog()
                .into_iter()
                .map(|k| {
                    let probe = Scenario { faults: vec![Fault::from(k.clone())], ..s.clone() };
                    let why = probe.validate().err().and_then(|e| e.0.strip_prefix("proxy.flavor: ").map(str::to_string));
                    (k.id(), why)
                })
                .collect::<Vec<_>>()
        })
    });
    let refusal = move |id: &str| refused.with(|r| r.iter().find(|(i, _)| *i == id).and_then(|(_, why)| why.clone()));
    let toggle = move |kind: FaultKind| {
        let mut faults = scenario.get_untracked().faults;
        match faults.iter().position(|f| f.kind.id() == kind.id()) {
            Some(i) => {
                faults.remove(i);
            }
            None => faults.push(Fault::from(kind)),
        }
        on_change.run(faults);
    };
    let set_knob = move |index: usize, key: String, value: Value| {
        let mut faults = scenario.get_untracked().faults;
        let Some(f) = faults.get(index) else { return };
        let Ok(Value::Object(mut obj)) = serde_json::to_value(f) else { return };
        obj.insert(key, value);
        match serde_json::from_value::<Fault>(Value::Object(obj)) {
            Ok(changed) => {
                faults[index] = changed;
                on_change.run(faults);
            }
            Err(e) => error.set(Some(format!("faults[{index}]: {e}"))),
        }
    };
    view! {
        <details class="palette" data-testid="palette">
            <summary>
                <span class="palette-title">"All faults (combine several, tune their knobs)"</span>
                <span class="palette-count" data-testid="active-faults">
                    {move || scenario.with(|s| match s.faults.len() {
                        0 => "nothing broken".to_string(),
                        1 => "1 active".to_string(),
                        n => format!("{n} active"),
                    })}
                </span>
            </summary>
            <p class="palette-error" role="alert" data-testid="config-error">{move || error.get().unwrap_or_default()}</p>
            <ul class="palette-list">
                {FaultKind::catalog().into_iter().map(|kind| {
                    let id = kind.id();
                    let k2 = kind.clone();
                    let (k3, k4) = (kind.clone(), kind.clone());
                    view! {
                        <li class=move || match (active(id).is_some(), refusal(id).is_some()) {
                                (true, _) => "fault on",
                                (false, true) => "fault refused",
                                _ => "fault",
                            }
                            data-refused=move || refusal(id).is_some().then_some("true")>
                            <label class="fault-toggle">
                                <input
                                    type="checkbox"
                                    data-testid=format!("palette-{id}")
                                    prop:checked=move || active(id).is_some()
                                    disabled=move || refusal(id).is_some() && active(id).is_none()
                                    on:change=move |_| toggle(k2.clone())
                                />
                                <span class="fault-title" data-testid=format!("palette-title-{id}")>{move || k3.title_in(flavor())}</span>
                            </label>
                            <span class="fault-cause" data-testid=format!("palette-cause-{id}")>{move || match refusal(id) {
                                Some(why) => format!("Not modelled under {}: {why}", flavor().display()),
                                None => k4.cause_in(flavor()).to_string(),
                            }}</span>
                            <Show when=move || active(id).is_some()>
                                <div class="knobs">
                                    {move || {
                                        let Some(index) = active(id) else { return Vec::new() };
                                        let fault = scenario.with(|s| s.faults[index].clone());
                                        let Ok(Value::Object(obj)) = serde_json::to_value(&fault) else { return Vec::new() };
                                        let f = flavor();
                                        obj.into_iter()
                                            .filter(|(k, _)| k != "type")
                                            .filter_map(|(key, value)| fault.kind.knob_label(&key, f).map(|label| knob(id, index, key, label, value, set_knob)))
                                            .collect::<Vec<_>>()
                                    }}
                                </div>
                            </Show>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </details>
    }
}

/// One input for one knob, typed by its JSON value.
fn knob(
    id: &'static str,
    index: usize,
    key: String,
    label: String,
    value: Value,
    set: impl Fn(usize, String, Value) + Copy + Send + Sync + 'static,
) -> AnyView {
    let testid = format!("knob-{id}-{key}");
    match value {
        Value::Bool(b) => {
            let k = key.clone();
            view! {
                <label class="knob">
                    <input type="checkbox" data-testid=testid prop:checked=b
                        on:change=move |ev| set(index, k.clone(), Value::Bool(event_target_checked(&ev))) />
                    <span>{label}</span>
                </label>
            }
            .into_any()
        }
        Value::Number(n) => {
            let k = key.clone();
            view! {
                <label class="knob">
                    <span>{label}</span>
                    <input type="number" step="any" data-testid=testid prop:value=n.to_string()
                        on:change=move |ev| {
                            let text = event_target_value(&ev);
                            let v = text.parse::<u64>().map(Value::from).or_else(|_| text.parse::<f64>().map(Value::from));
                            if let Ok(v) = v {
                                set(index, k.clone(), v);
                            }
                        } />
                </label>
            }
            .into_any()
        }
        Value::String(s) => {
            let k = key.clone();
            view! {
                <label class="knob">
                    <span>{label}</span>
                    <input type="text" data-testid=testid prop:value=s
                        on:change=move |ev| set(index, k.clone(), Value::String(event_target_value(&ev))) />
                </label>
            }
            .into_any()
        }
        _ => view! { <span></span> }.into_any(),
    }
}
