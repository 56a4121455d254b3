//! Share links in the page: read the address at start-up, and offer a link
//! to the current scenario (the encoding lives in `crate::link`).

use leptos::prelude::*;

use crate::link::{self, Link};
use crate::sim::Scenario;

/// The page's address: its query (`?…`) and fragment (`#…`).
pub fn location() -> (String, String) {
    let Some(loc) = web_sys::window().map(|w| w.location()) else { return Default::default() };
    (loc.search().unwrap_or_default(), loc.hash().unwrap_or_default())
}

/// What the page's address asks for but its scenario (`link::parse_page`: no JSON is read), and
/// whether it names a scenario, which `read_location` reads.
pub fn read_page() -> (Link, bool) {
    let (query, hash) = location();
    link::parse_page(&query, &hash)
}

/// What the page's address asks for (`?…` and `#…`), its scenario included: read by the codec
/// chunk (`codec::link`), so only a page whose address names a scenario downloads it. The
/// address is taken when the page (or `popstate`) reads it: `Address` may rewrite it meanwhile.
pub async fn read_location((query, hash): (String, String)) -> Result<Link, super::lazy::LoadFailed> {
    super::codec::link(query, hash).await
}

/// The notice for an address's problems (None: it was read in full).
pub fn link_notice(link: &Link) -> Option<String> {
    (!link.problems.is_empty()).then(|| {
        let what = if link.scenario.is_some() { "Parts of this link were ignored" } else { "This link could not be opened, so the page shows the default scenario" };
        format!("{what}: {}.", link.problems.join("; "))
    })
}

/// This page's address without query or fragment, plus `#fragment`.
fn page_url(fragment: &str) -> String {
    format!("{}#{fragment}", super::embed::links::page_base())
}

/// The address that reopens this state: the scenario in the fragment (none
/// for the page's default), presenter mode, the theme named at start-up and
/// the tab (`view=`). A lesson in progress keeps `lesson=` instead of a
/// fragment: the lesson chooses its own scenario.
pub fn address_for(base: &str, sc: &Scenario, present: bool, theme: Option<&str>, lesson: Option<&str>, view: Option<&str>) -> String {
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
    if let Some(v) = view {
        params.push(format!("view={v}"));
    }
    let query = if params.is_empty() { String::new() } else { format!("?{}", params.join("&")) };
    let fragment = if lesson.is_some() || *sc == crate::scenarios::blank() { String::new() } else { format!("#{}", link::encode_fragment(sc)) };
    format!("{base}{query}{fragment}")
}

/// What the address bar shows, kept on the current state: a reload, or a URL
/// copied from the address bar, opens what is on screen. A discrete choice
/// (a fault, a ready scenario, a flavor, a lesson) is a new history entry
/// (`push`); every other change replaces the current one, so Back steps
/// through choices, not through every edit.
#[derive(Clone, Copy)]
pub struct Address {
    scenario: RwSignal<Scenario>,
    present: RwSignal<bool>,
    theme: StoredValue<Option<String>>,
    /// The lesson in progress.
    pub lesson: RwSignal<Option<String>>,
    /// The tab (`view=`), once the address or the user named one.
    pub view: RwSignal<Option<String>>,
}

impl Address {
    pub fn new(scenario: RwSignal<Scenario>, present: RwSignal<bool>, theme: Option<String>, lesson: Option<String>, view: Option<String>) -> Address {
        let a = Address { scenario, present, theme: StoredValue::new(theme), lesson: RwSignal::new(lesson), view: RwSignal::new(view) };
        provide_context(a);
        a
    }

    pub fn get() -> Option<Address> {
        use_context::<Address>()
    }

    /// The address of the current state (tracked).
    fn url(self) -> String {
        let (present, lesson, view) = (self.present.get(), self.lesson.get(), self.view.get());
        self.scenario.with(|sc| self.theme.with_value(|t| address_for(&super::embed::links::page_base(), sc, present, t.as_deref(), lesson.as_deref(), view.as_deref())))
    }

    fn write(url: &str, push: bool) {
        let Some(w) = web_sys::window() else { return };
        if w.location().href().ok().as_deref() == Some(url) {
            return;
        }
        if let Ok(h) = w.history() {
            // A refusal (a sandboxed frame, an opaque origin) leaves the address as it was.
            let _ = if push {
                h.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(url))
            } else {
                h.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(url))
            };
        }
    }

    /// Replaces the address whenever the state changes (not while the address's own scenario is
    /// being opened, `codec::Opening`: a reload then opens it again).
    pub fn follow(self) {
        let opening = super::codec::Opening::get();
        Effect::new(move |_| {
            if opening.is_some_and(|o| o.pending()) {
                return;
            }
            Self::write(&self.url(), false)
        });
    }

    /// A discrete choice was just made: a new history entry for it, now.
    pub fn push(self) {
        Self::write(&untrack(|| self.url()), true);
    }
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
