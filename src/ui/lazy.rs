//! The panels behind tabs, loaded when their tab first opens (issue 20).
//!
//! With the `split` feature (set by the build pipeline, `scripts/wasm-split`, for every wasm
//! build), each function below is a split point of `wasm_split` (the machinery of Leptos 0.8's
//! `#[lazy]`, `leptos::wasm_split`): its code, and what only it reaches, goes into a chunk of its
//! own, fetched the first time the function is called. `fallible` makes a chunk that fails to
//! download an `Err` (shown as a message with a "Try again" button) instead of a panic. Without
//! the feature (native builds, a plain `cargo build`) they are ordinary functions behind the same
//! async signature, so nothing imports `__wasm_split_placeholder__`.
//!
//! `LazyPanel` shows "Loading…" while the chunk downloads.

use leptos::prelude::*;

use crate::sim::{Fault, Scenario};

use super::config::ConfigPanel;
use super::playground::Playground;
use super::share::Address;

/// A chunk could not be loaded (the browser console has the network error).
#[derive(Clone, Copy, Debug)]
pub struct LoadFailed;

impl From<leptos::wasm_split::SplitLoaderError> for LoadFailed {
    fn from(_: leptos::wasm_split::SplitLoaderError) -> Self {
        LoadFailed
    }
}

/// A function whose body goes into the wasm chunk `$chunk` with the `split` feature; either way it
/// is async and returns `Err(LoadFailed)` when its chunk could not be loaded. Functions with the
/// same `$chunk` share one chunk (`codec.rs` uses it too).
macro_rules! split_fn {
    ($chunk:ident, fn $name:ident($($arg:ident: $ty:ty),*) $body:block) => {
        split_fn!($chunk, fn $name($($arg: $ty),*) -> AnyView $body);
    };
    ($chunk:ident, fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty $body:block) => {
        #[cfg(feature = "split")]
        #[leptos::wasm_split::wasm_split($chunk, wasm_split_path = ::leptos::wasm_split, fallible)]
        #[allow(unused_braces)]
        pub fn $name($($arg: $ty),*) -> Result<$ret, $crate::ui::lazy::LoadFailed> {
            Ok($body)
        }
        #[cfg(not(feature = "split"))]
        #[allow(unused_braces)]
        pub async fn $name($($arg: $ty),*) -> Result<$ret, $crate::ui::lazy::LoadFailed> {
            Ok($body)
        }
    };
}
pub(crate) use split_fn;

// A lesson's "Show me" (`lessons::LessonRun::show_me`): its actions may run terminal commands,
// which is how the diagnosis shell (`shell`, about 110 KB of wasm) would otherwise be in the main
// module. Returns the first refused action's message.
split_fn!(show_me, fn perform(pg: Playground, solution: Vec<crate::lesson::Action>) -> Option<String> {
    // A lesson's actions may switch the flavor (this chunk runs them: it registers the flavors).
    crate::sim::proxy::register_flavors();
    let mut refused = None;
    for a in &solution {
        if let Err(e) = pg.run(|s| s.perform(a)) {
            refused = Some(format!("{}: {e}", a.describe()));
            break;
        }
    }
    refused
});

split_fn!(terminal, fn terminal() { view! { <super::terminal::Terminal /> }.into_any() });

// The compare, quiz and lab chunks run every flavor themselves: each registers the flavors
// (`flavors.rs`), whose code wasm-split then puts in a chunk they share.
split_fn!(compare, fn compare(scenario: RwSignal<Scenario>) {
    crate::sim::proxy::register_flavors();
    view! { <super::compare::Compare scenario=scenario /> }.into_any() });

split_fn!(quiz, fn quiz() {
    crate::sim::proxy::register_flavors();
    view! { <super::quiz::Quiz /> }.into_any() });

split_fn!(lab, fn lab(scenario: RwSignal<Scenario>) {
    crate::sim::proxy::register_flavors();
    view! { <super::lab::RetryLab playground=scenario /> }.into_any() });

split_fn!(lessons, fn lessons() { view! { <super::lessons_list::Lessons /> }.into_any() });

split_fn!(build, fn build(scenario: RwSignal<Scenario>, error: RwSignal<Option<String>>, on_change: Callback<Vec<Fault>>, on_load: Callback<String>) {
    view! {
        <super::palette::Palette scenario=scenario error=error on_change=on_change />
        <super::picker::ScenarioPicker scenario=scenario on_load=on_load />
    }
    .into_any()
});

split_fn!(config, fn config(pg: Playground, address: Address) {
    // The config panel switches flavors itself (`Session::apply` below).
    crate::sim::proxy::register_flavors();
    let scenario = pg.scenario;
    let revision = pg.revision;
    let text = Signal::derive(move || {
        revision.track();
        pg.with_sim(|s| super::config::render(&s.world().scenario))
    });
    let on_change = Callback::new(move |next: Scenario| {
        let flavor = scenario.with_untracked(|s| s.proxy.flavor);
        let switched = next.proxy.flavor != flavor;
        if pg.run(|s| s.apply(next)).is_ok() && switched {
            address.push();
        }
    });
    view! { <ConfigPanel text scenario on_change /> }.into_any()
});

/// Set when the address's `view=` opened a tab at start-up: the page scrolled to the tabs before
/// the panel's chunk arrived, so it scrolls again once the panel is drawn (and its height known).
#[derive(Clone, Copy)]
pub struct ScrollWhenLoaded(pub RwSignal<bool>);

/// A panel whose code is loaded on demand: "Loading…" while `load` runs, then the panel, or a
/// clear message with "Try again" if its chunk could not be downloaded. `load` is called once per
/// mount (and again on "Try again"; a failed load is not cached).
#[component]
pub fn LazyPanel<F, Fut>(
    /// What the panel is, for the loading and error messages ("the terminal").
    what: &'static str,
    load: F,
) -> impl IntoView
where
    F: Fn() -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<AnyView, LoadFailed>> + 'static,
{
    let attempt = RwSignal::new(0u32);
    let scroll = use_context::<ScrollWhenLoaded>();
    let fallback = move || {
        view! {
            <p class="panel-loading" role="status" aria-busy="true" data-testid="panel-loading">
                {format!("Loading {what}…")}
            </p>
        }
    };
    view! {
        <Suspense fallback=fallback>
            {move || {
                attempt.track();
                let load = load.clone();
                Suspend::new(leptos::__reexports::send_wrapper::SendWrapper::new(async move {
                    match load().await {
                        Ok(view) => {
                            if let Some(ScrollWhenLoaded(pending)) = scroll {
                                if pending.get_untracked() {
                                    pending.set(false);
                                    // After this frame's render, the panel is in the page.
                                    request_animation_frame(super::tabs::scroll_to_tabs);
                                }
                            }
                            view
                        }
                        Err(LoadFailed) => view! {
                            <div class="panel-failed" role="alert" data-testid="panel-failed">
                                <p>{format!("Could not load {what}: its part of the simulator did not download. Check the connection and try again.")}</p>
                                <button type="button" class="btn" on:click=move |_| attempt.update(|n| *n += 1)>"Try again"</button>
                            </div>
                        }
                        .into_any(),
                    }
                }))
            }}
        </Suspense>
    }
}

// The paste diagnosis (`gateway_core::diagnose`: the candidate catalog and its `Builder`, the
// matcher, `fill`, `template`): used only by the paste box (`paste.rs`) and the embed's `diagnose`
// message, so it is the chunk `diagnose`, fetched when the box is focused or a paste submitted (or
// `?paste=`, or the embed's message), not before the page is interactive. The three functions
// share the one chunk.

thread_local! {
    /// The catalog being built slice by slice by `catalog_slice` (in the chunk's code only).
    static BUILDER: std::cell::RefCell<Option<crate::diagnose::catalog::Builder>> = const { std::cell::RefCell::new(None) };
}

// Builds the diagnosis catalog (`catalog::Builder`, one candidate run per step) for at most
// `budget_ms` of wall clock (a run is not cut); true once it is built (by these slices or by a
// caller that built it at once, the embed's `diagnose`).
split_fn!(diagnose, fn catalog_slice(budget_ms: f64) -> bool {
    // The catalog runs every flavor.
    crate::sim::proxy::register_flavors();
    use crate::diagnose::catalog;
    let start = super::paste::now_ms();
    BUILDER.with(|cell| {
        let mut slot = cell.borrow_mut();
        loop {
            if catalog::is_built() {
                *slot = None;
                break true;
            }
            let b = slot.get_or_insert_with(catalog::Builder::new);
            if !b.step() {
                if let Some(b) = slot.take() {
                    b.finish();
                }
                break true;
            }
            if super::paste::now_ms() - start >= budget_ms {
                break false;
            }
        }
    })
});

// `diagnose::verdict`: the reproducing scenario of pasted lines, or why there is none (builds the
// catalog at once if no slices did).
split_fn!(diagnose, fn verdict(text: String) -> Result<crate::diagnose::Diagnosis, crate::diagnose::DiagnoseError> {
    crate::sim::proxy::register_flavors();
    crate::diagnose::verdict(&text)
});

// `diagnose::candidate_scenario`: the scenario of one of "not recognised"'s nearest candidates.
split_fn!(diagnose, fn candidate_scenario(label: String) -> Option<Scenario> {
    crate::sim::proxy::register_flavors();
    crate::diagnose::candidate_scenario(&label)
});
