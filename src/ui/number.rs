//! A labelled number input bound to a value: the markup the lab's load, the
//! strategy editors and the proxy's directives share. Each caller parses and
//! checks the text itself (whole or fractional, its own range and scaling).

use leptos::prelude::*;

#[component]
pub fn NumberField(
    label: &'static str,
    testid: String,
    min: String,
    max: String,
    /// The value shown, as text.
    #[prop(into)]
    value: Signal<String>,
    /// Called with the field's text when the user changes it.
    on_text: Callback<String>,
) -> impl IntoView {
    view! {
        <label class="field">
            <span class="field-label">{label}</span>
            <input
                type="number"
                min=min
                max=max
                data-testid=testid
                prop:value=move || value.get()
                on:change=move |ev| on_text.run(event_target_value(&ev))
            />
        </label>
    }
}
