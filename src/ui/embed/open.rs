//! "Open in Gateway Lab ↗": the full page on the embed's current scenario
//! (and its theme, lesson and view), in a new tab. A sandbox without `allow-popups` blocks new tabs; then the
//! address is shown to copy instead.

use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};

use super::links;
use crate::link::Link;
use crate::sim::Scenario;

#[component]
pub fn OpenFull(scenario: RwSignal<Scenario>, link: Link) -> impl IntoView {
    let base = links::page_base();
    let keep = links::kept_params(&link);
    let href = Memo::new(move |_| scenario.with(|s| links::full_url(&base, &keep, s)));
    let blocked = RwSignal::new(false);
    let open = move |ev: web_sys::MouseEvent| {
        // Middle clicks and modified clicks stay the browser's.
        if ev.button() != 0 || ev.ctrl_key() || ev.meta_key() || ev.shift_key() || ev.alt_key() {
            return;
        }
        ev.prevent_default();
        let tab = web_sys::window().and_then(|w| w.open_with_url_and_target(&href.get_untracked(), "_blank").ok().flatten());
        match tab {
            // The new tab must not be able to reach back into this frame.
            Some(tab) => {
                let _ = tab.set_opener(&JsValue::NULL);
            }
            None => blocked.set(true),
        }
    };
    view! {
        <a class="embed-open" data-testid="embed-open" href=move || href.get() target="_blank" rel="noopener" on:click=open>
            "Open in Gateway Lab ↗"
        </a>
        <Show when=move || blocked.get()>
            <div class="embed-blocked" role="status" data-testid="embed-open-blocked">
                <span>"This frame may not open tabs. Copy the address:"</span>
                <input readonly aria-label="Address of this scenario in Gateway Lab" prop:value=move || href.get() on:focus=move |ev| {
                    if let Some(el) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) {
                        el.select();
                    }
                } />
                <button class="embed-blocked-close" aria-label="Close" on:click=move |_| blocked.set(false)>"×"</button>
            </div>
        </Show>
    }
}
