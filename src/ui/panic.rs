//! When the app panics, the page must not freeze silently. The hook logs
//! the panic (console_error_panic_hook) and puts a plain-DOM overlay over
//! the page with a link that resets to the default scenario. The overlay
//! needs no WebAssembly: after a panic the module is gone (panic = "abort"),
//! so everything in it is static HTML and links.

use wasm_bindgen::JsCast;

/// Installs the hook (once, before mounting).
pub fn install() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        show(&info.to_string());
    }));
}

/// This page without query or fragment (keeping `?embed=1` in an iframe).
fn reset_url() -> String {
    let Some(loc) = web_sys::window().map(|w| w.location()) else { return "./".into() };
    let base = super::embed::links::page_base();
    let embed = loc.search().unwrap_or_default().split(['?', '&']).any(|p| p == "embed=1" || p == "embed");
    if embed { format!("{base}?embed=1") } else { base }
}

fn show(message: &str) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else { return };
    if doc.get_element_by_id("panic-overlay").is_some() {
        return;
    }
    let Ok(overlay) = doc.create_element("div") else { return };
    overlay.set_id("panic-overlay");
    let _ = overlay.set_attribute("role", "alertdialog");
    let _ = overlay.set_attribute("aria-labelledby", "panic-title");
    let _ = overlay.set_attribute("data-testid", "panic-overlay");
    let add = |parent: &web_sys::Element, tag: &str, text: &str| -> Option<web_sys::Element> {
        let el = doc.create_element(tag).ok()?;
        el.set_text_content(Some(text));
        parent.append_child(&el).ok()?;
        Some(el)
    };
    let Some(card) = add(&overlay, "div", "") else { return };
    card.set_class_name("panic-card");
    if let Some(h) = add(&card, "h2", "Gateway Lab stopped") {
        h.set_id("panic-title");
    }
    add(&card, "p", "An internal error stopped the simulation, so this page no longer responds. The scenario in the address bar is unchanged: reload to try it again, or start over from the default scenario.");
    if let Some(pre) = add(&card, "pre", message) {
        pre.set_class_name("panic-message");
    }
    if let Some(actions) = add(&card, "p", "") {
        actions.set_class_name("panic-actions");
        if let Some(a) = add(&actions, "a", "Reset to the default scenario") {
            let _ = a.set_attribute("href", &reset_url());
            let _ = a.set_attribute("data-testid", "panic-reset");
            a.set_class_name("panic-reset");
        }
        if let Some(a) = add(&actions, "a", "Reload this link") {
            let href = web_sys::window().and_then(|w| w.location().href().ok()).unwrap_or_default();
            let _ = a.set_attribute("href", &href);
            let _ = a.set_attribute("onclick", "location.reload(); return false;");
        }
    }
    if let Some(body) = doc.body() {
        let _ = body.append_child(&overlay);
        if let Ok(el) = overlay.dyn_into::<web_sys::HtmlElement>() {
            let _ = el.set_attribute("tabindex", "-1");
            let _ = el.focus();
        }
    }
}

/// A hidden button that panics: compiled only with the `debug-hooks`
/// feature (the test build), never in the published app.
#[cfg(feature = "debug-hooks")]
#[leptos::prelude::component]
pub fn DebugPanic() -> impl leptos::prelude::IntoView {
    use leptos::prelude::*;
    view! {
        <button class="visually-hidden" data-testid="debug-panic" on:click=|_| panic!("debug-hooks: a deliberate panic from the hidden test button")>
            "debug: panic"
        </button>
    }
}
