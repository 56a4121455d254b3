//! Embed mode (`?embed=1`): the playground without the site around it, for
//! an iframe in a documentation page (600×400). The topology, a fault
//! picker, Send / Break / Fix, the newest request's status and its log line,
//! and a link to the full page on the same state. With `start=click`
//! nothing runs until the reader presses "Run this example". When framed,
//! it talks to the host page through postMessage (`api.rs`,
//! `crate::embed_api`, docs/EMBEDDING.md).
//!
//! `snippet.rs` is the other side: the full page's "Embed" button.

mod api;
pub(super) mod links;
mod open;
mod result;
mod snippet;
mod topology;

use leptos::prelude::*;

use crate::embed_api;
use crate::link::Link;
use crate::sim::FaultKind;

use super::playground::Playground;
use super::share::LinkNotice;

pub use snippet::EmbedSnippet;

/// The fault the picker offers when nothing is broken.
const DEFAULT_PICK: &str = "app_down";

/// Starts a click-to-start embed: its scenario runs now, from time zero
/// (App did not run it). The reader's click and any host command start it.
pub(crate) fn start(pg: Playground, started: RwSignal<bool>) {
    started.set(true);
    // Resetting the scenario it opened with cannot fail; were it to, the
    // embed's notice says why.
    let _ = pg.reset();
}

#[component]
pub fn EmbedApp(link: Link, notice: RwSignal<Option<String>>) -> impl IntoView {
    let pg = Playground::get();
    let Playground { scenario, revision, notice: config_error, .. } = pg;
    let started = RwSignal::new(!link.click_to_start);
    // The link's scenario being read by the codec chunk (`codec.rs`): the controls wait, and the
    // host hears `ready` once it is open (`api::connect`).
    let opening = super::codec::Opening::get().expect("App provides the Opening");

    if let Some(theme) = link.theme.as_deref() {
        super::theme::apply(theme);
    }

    let root = NodeRef::<leptos::html::Div>::new();
    if let Some(host) = api::Host::detect(link.origin.clone()) {
        api::connect(pg, host.clone(), started, opening.problems);
        api::report_height(root, host);
    }

    let model = Memo::new(move |_| {
        revision.track();
        pg.with_sim(super::topology::model)
    });
    let last = Memo::new(move |_| {
        revision.track();
        pg.with_sim(|s| s.exchanges().last().cloned())
    });
    let flavor = Signal::derive(move || scenario.with(|s| s.proxy.flavor));
    // No title while the link's scenario is being read (the default's would be the wrong one).
    let title = move || if opening.pending() { String::new() } else { scenario.with(|s| format!("{} · {}", embed_api::title(s), s.proxy.flavor.as_str())) };

    // The picker shows the active fault, or what Break would apply.
    let current = Signal::derive(move || scenario.with(|s| s.faults.first().map(|f| f.kind.id().to_string())));
    let pick = RwSignal::new(current.get_untracked().unwrap_or_else(|| DEFAULT_PICK.into()));
    Effect::new(move |_| {
        if let Some(id) = current.get() {
            pick.set(id);
        }
    });
    let broken = move || current.with(|c| c.is_some());

    let run_example = move || {
        start(pg, started);
        // A scenario without requests of its own gets one.
        if scenario.with_untracked(|s| s.clients.requests == 0 && s.requests.is_empty()) {
            let _ = pg.send();
        }
    };
    // A click while the link's scenario is still being read runs it once it is open.
    let clicked = RwSignal::new(false);
    Effect::new(move |_| {
        if clicked.get() && !opening.pending() {
            clicked.set(false);
            if !started.get_untracked() {
                run_example();
            }
        }
    });
    let begin = move |_| if opening.pending() { clicked.set(true) } else { run_example() };

    view! {
        // `data-testid=embed` once the link's scenario is open (`embed-opening` while the codec chunk reads it).
        <div class="embed" class:waiting=move || !started.get() data-testid=move || if opening.pending() { "embed-opening" } else { "embed" } aria-busy=move || opening.pending().then_some("true") node_ref=root>
            <header class="embed-bar">
                <span class="embed-brand">"Gateway Lab"</span>
                <span class="embed-title" data-testid="embed-title">{title}</span>
                <open::OpenFull scenario link=link.clone() />
            </header>
            <LinkNotice message=notice />
            <Show when=move || !pg.flavors.pending()><super::codec::OpeningNote /></Show>
            // "Loading HAProxy's model…" while the flavors' chunk downloads (`flavors.rs`).
            <super::flavors::FlavorNote />
            // Kept in its place but not shown while the link's scenario is read (it would be the default's).
            <div class="embed-body" inert=move || !started.get() || opening.pending() || pg.flavors.pending() style:visibility=move || opening.pending().then_some("hidden")>
                <topology::CompactTopology model=model.into() />
                <div class="embed-controls" role="group" aria-label="Break the upstream and send a request">
                    <select
                        class="embed-fault"
                        data-testid="embed-fault"
                        aria-label="Fault to break the upstream with"
                        prop:value=move || pick.get()
                        on:change=move |ev| pick.set(event_target_value(&ev))
                    >
                        {FaultKind::catalog()
                            .into_iter()
                            .map(|f| {
                                let id = f.id();
                                view! { <option value=id>{move || f.title_in(flavor.get())}</option> }
                            })
                            .collect_view()}
                    </select>
                    <button class="embed-break" data-testid="embed-break" on:click=move |_| { let _ = pg.break_with(&pick.get_untracked()); }>
                        "Break"
                    </button>
                    <button
                        class="embed-fix"
                        data-testid="embed-fix"
                        disabled=move || !broken()
                        title=move || scenario.with(|s| s.faults.first().map(|f| { let fix = f.fix(s.proxy.flavor); format!("{}: {}", fix.title, fix.detail) }).unwrap_or_else(|| "Nothing is broken".into()))
                        on:click=move |_| { let _ = pg.fix(); }
                    >
                        "Fix"
                    </button>
                    <button class="send" data-testid="embed-send" on:click=move |_| { let _ = pg.send(); }>
                        "Send GET /users"
                    </button>
                </div>
                <Show when=move || config_error.with(|e| e.is_some())>
                    <p class="embed-error" role="alert">{move || config_error.get().unwrap_or_default()}</p>
                </Show>
                <result::LastRequest exchange=last.into() flavor />
            </div>
            <Show when=move || !started.get()>
                <div class="embed-start">
                    <button class="embed-start-button" data-testid="embed-start" on:click=begin>"▶ Run this example"</button>
                    <p class="embed-start-note">{title}</p>
                </div>
            </Show>
        </div>
    }
}
