//! Share links in the page: read the address at start-up, and offer a link
//! to the current scenario (the encoding lives in `crate::link`).

use leptos::prelude::*;

use crate::link::{self, Link};
use crate::sim::Scenario;

/// What the page's address asks for (`?…` and `#…`).
pub fn read_location() -> Link {
    let Some(loc) = web_sys::window().map(|w| w.location()) else { return Link::default() };
    let query = loc.search().unwrap_or_default();
    let hash = loc.hash().unwrap_or_default();
    link::parse(&query, &hash, super::library::SCENARIOS)
}

/// This page's address without query or fragment, plus `#fragment`.
fn page_url(fragment: &str) -> String {
    format!("{}#{fragment}", super::embed::links::page_base())
}

/// The address that reopens this state: the scenario in the fragment (none
/// for the page's default), presenter mode and the theme named at start-up.
/// A page opened on a lesson keeps `lesson=` instead of a fragment: the
/// lesson chooses its own scenario.
pub fn address_for(base: &str, sc: &Scenario, present: bool, theme: Option<&str>, lesson: Option<&str>) -> String {
    let mut params = Vec::new();
    if let Some(l) = lesson {
        params.push(format!("lesson={l}"));
    }
    if let Some(t) = theme {
        params.push(format!("theme={t}"));
    }
    if present {
        params.push("present=1".to_string());
    }
    let query = if params.is_empty() { String::new() } else { format!("?{}", params.join("&")) };
    let fragment = if lesson.is_some() || *sc == crate::scenarios::blank() { String::new() } else { format!("#{}", link::encode_fragment(sc)) };
    format!("{base}{query}{fragment}")
}

/// Keeps the address bar on the current state (`history.replaceState`, so
/// Back still leaves the page rather than stepping through every edit): a
/// reload, or a URL copied from the address bar, opens what is on screen.
pub fn follow_address(scenario: RwSignal<Scenario>, present: RwSignal<bool>, theme: Option<String>, lesson: Option<String>) {
    Effect::new(move |_| {
        let present = present.get();
        let url = scenario.with(|sc| address_for(&super::embed::links::page_base(), sc, present, theme.as_deref(), lesson.as_deref()));
        let Some(w) = web_sys::window() else { return };
        if w.location().href().ok().as_deref() == Some(url.as_str()) {
            return;
        }
        if let Ok(h) = w.history() {
            // A refusal (a sandboxed frame, an opaque origin) leaves the address as it was.
            let _ = h.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
        }
    });
}

/// Why the address could not be used (or parts of it), dismissable.
#[component]
pub fn LinkNotice(message: RwSignal<Option<String>>) -> impl IntoView {
    view! {
        <Show when=move || message.with(|m| m.is_some())>
            <div class="link-notice" role="alert" data-testid="link-notice">
                <span>{move || message.get().unwrap_or_default()}</span>
                <button class="link-notice-close" aria-label="Dismiss" on:click=move |_| message.set(None)>"×"</button>
            </div>
        </Show>
    }
}

/// "Share": a link to exactly this scenario, and a button that copies it.
#[component]
pub fn ShareLink(scenario: RwSignal<Scenario>) -> impl IntoView {
    let url = Memo::new(move |_| scenario.with(|s| page_url(&link::encode_fragment(s))));
    let copied = RwSignal::new(false);
    // Where the clipboard is missing or refuses, the link stays selected in its field.
    let copy = move |_| super::clipboard::copy(&url.get_untracked(), move |ok| copied.set(ok));
    Effect::new(move |_| {
        url.track();
        copied.set(false);
    });
    view! {
        <div class="share">
            <button class="share-button" data-testid="share" on:click=copy>
                {move || if copied.get() { "Link copied" } else { "Copy share link" }}
            </button>
            <input class="share-url" data-testid="share-link" readonly aria-label="Link to this scenario" prop:value=move || url.get() on:focus=move |ev| {
                use wasm_bindgen::JsCast;
                if let Some(el) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) {
                    el.select();
                }
            } />
        </div>
    }
}
