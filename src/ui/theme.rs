use leptos::prelude::*;

/// System, light or dark: sets `data-theme` on `<html>` (style/main.css
/// reads it; "system" removes it and the media query decides).
#[component]
pub fn ThemePicker(#[prop(into)] initial: String) -> impl IntoView {
    let theme = RwSignal::new(initial);
    Effect::new(move |_| theme.with(|t| apply(t)));
    view! {
        <label class="field inline theme">
            <span class="field-label">"Theme"</span>
            <select data-testid="theme" prop:value=move || theme.get() on:change=move |ev| theme.set(event_target_value(&ev))>
                <option value="system">"System"</option>
                <option value="light">"Light"</option>
                <option value="dark">"Dark"</option>
            </select>
        </label>
    }
}

/// Puts `theme` ("light", "dark", or "system": the media query decides) on `<html>`.
pub fn apply(theme: &str) {
    if let Some(root) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.document_element()) {
        let _ = if theme == "system" { root.remove_attribute("data-theme") } else { root.set_attribute("data-theme", theme) };
    }
}
