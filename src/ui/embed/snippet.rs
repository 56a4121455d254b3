//! The full page's "Embed" button: a dialog with the `<iframe>` snippet for
//! the current scenario (optionally click-to-start), a copy button and a
//! preview link.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::links;
use crate::sim::Scenario;

/// Copies `text`; where the clipboard is missing or refuses (an insecure
/// page, a sandboxed frame), selects the text and says how to copy it.
fn copy_text(text: &str, status: RwSignal<String>, area: NodeRef<leptos::html::Textarea>) {
    let fallback = move || {
        if let Some(a) = area.get_untracked() {
            let _ = a.focus();
            a.select();
        }
        status.set("Selected: press Ctrl+C (⌘C on a Mac) to copy".into());
    };
    crate::ui::clipboard::copy(text, move |ok| if ok { status.set("Copied".into()) } else { fallback() });
}

#[component]
pub fn EmbedSnippet(scenario: RwSignal<Scenario>) -> impl IntoView {
    let base = links::page_base();
    let click_to_start = RwSignal::new(false);
    let src = Memo::new(move |_| scenario.with(|s| links::embed_src(&base, s, click_to_start.get())));
    let html = Memo::new(move |_| scenario.with(|s| links::iframe_snippet(&src.get(), &links::frame_title(s))));
    let status = RwSignal::new(String::new());
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    let area = NodeRef::<leptos::html::Textarea>::new();
    Effect::new(move |_| {
        html.track();
        status.set(String::new());
    });
    let open = move |_| {
        let Some(d) = dialog.get_untracked() else { return };
        if d.show_modal().is_err() {
            d.set_open(true);
        }
        if let Some(a) = area.get_untracked() {
            let _ = a.focus();
            a.select();
        }
    };
    let close = move |_| {
        if let Some(d) = dialog.get_untracked() {
            d.close();
        }
    };
    view! {
        <button class="share-button" data-testid="embed-button" aria-haspopup="dialog" on:click=open>"Embed"</button>
        <dialog class="embed-dialog" node_ref=dialog aria-labelledby="embed-dialog-title" data-testid="embed-dialog">
            <h2 id="embed-dialog-title">"Embed this scenario"</h2>
            <p class="embed-dialog-intro">
                "Paste this HTML into a documentation page. The frame (600 × 400) opens on exactly this scenario, without the site around it, and links back here. Parameters and the message API: docs/EMBEDDING.md."
            </p>
            <textarea
                class="embed-snippet"
                data-testid="embed-snippet"
                node_ref=area
                readonly
                rows="5"
                aria-label="HTML of the embed"
                spellcheck="false"
                prop:value=move || html.get()
                on:focus=move |ev| {
                    if let Some(el) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlTextAreaElement>().ok()) {
                        el.select();
                    }
                }
            ></textarea>
            <label class="check">
                <input
                    type="checkbox"
                    data-testid="embed-click-to-start"
                    prop:checked=move || click_to_start.get()
                    on:change=move |ev| click_to_start.set(event_target_checked(&ev))
                />
                "Click to start: nothing runs until the reader clicks “Run this example” (for long pages)"
            </label>
            <div class="embed-dialog-actions">
                <button class="send" data-testid="embed-copy" on:click=move |_| copy_text(&html.get_untracked(), status, area)>"Copy HTML"</button>
                <a class="log-action" data-testid="embed-preview" href=move || src.get() target="_blank" rel="noopener">"Preview ↗"</a>
                <span class="embed-copy-status" role="status" data-testid="embed-copy-status">{move || status.get()}</span>
                <button class="embed-dialog-close" data-testid="embed-close" on:click=close>"Close"</button>
            </div>
        </dialog>
    }
}
