//! The proxy flavors other than nginx, loaded on demand (issue 20).
//!
//! In the browser gateway-core is built with `split-flavors`: the engine starts HAProxy, Apache,
//! Caddy, Varnish, Envoy and the ALB through a registry (`sim::proxy::register_flavors`) and
//! refuses a scenario of one of them until it is filled (`SessionError::FlavorNotLoaded`). The
//! main module never calls `register_flavors`, so their code (event handlers, log formatting) is
//! not in it: `register` below is the split point of the chunk `flavors` that calls it. Every path
//! of the main module that may open another flavor (a link, an embed's scenario or `load`, a ready
//! scenario, a lesson, back/forward) goes through `Playground::with_flavor`, which awaits it here;
//! chunks that run other flavors themselves (compare, the retry lab, the quiz, the diagnosis, the
//! benchmarks, the config and build tabs, "Show me") call `register_flavors` directly
//! (`lazy.rs`), and wasm-split puts that code in a chunk they share.
//!
//! While the chunk downloads the stage says "Loading HAProxy's model…" with Send disabled; a chunk
//! that does not download leaves a message and "Try again" (which re-runs the command).

use leptos::prelude::*;

use crate::sim::scenario::Flavor;

use super::lazy::{split_fn, LoadFailed};

split_fn!(flavors, fn register() -> () { crate::sim::proxy::register_flavors() });

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlavorState {
    /// Nothing waits for a flavor.
    Ready,
    /// The flavors' chunk is on its way for a command on this flavor: Send is disabled.
    Loading(Flavor),
    /// The chunk did not download: a message and "Try again".
    Failed(Flavor),
}

/// The flavors' loading state, shared through the `Playground`.
#[derive(Clone, Copy)]
pub struct Flavors {
    pub state: RwSignal<FlavorState>,
    retry: StoredValue<Option<Callback<()>>>,
}

impl Default for Flavors {
    fn default() -> Self {
        Flavors { state: RwSignal::new(FlavorState::Ready), retry: StoredValue::new(None) }
    }
}

impl Flavors {
    /// Whether a command waits for the chunk (tracked).
    pub fn pending(self) -> bool {
        matches!(self.state.get(), FlavorState::Loading(_))
    }

    /// Makes `flavor` runnable: at once if its code is loaded, else once the chunk has arrived.
    /// `retry` is what "Try again" runs if it does not.
    pub async fn ensure(self, flavor: Flavor, retry: Callback<()>) -> Result<(), LoadFailed> {
        if crate::sim::proxy::loaded(flavor) {
            return Ok(());
        }
        self.state.set(FlavorState::Loading(flavor));
        match register().await {
            Ok(()) => {
                self.state.set(FlavorState::Ready);
                self.retry.set_value(None);
                Ok(())
            }
            Err(LoadFailed) => {
                self.retry.set_value(Some(retry));
                self.state.set(FlavorState::Failed(flavor));
                Err(LoadFailed)
            }
        }
    }

    /// The notice of an earlier failure goes once another command succeeds without the chunk.
    pub fn clear_failure(self) {
        if matches!(self.state.get_untracked(), FlavorState::Failed(_)) {
            self.state.set(FlavorState::Ready);
            self.retry.set_value(None);
        }
    }
}

/// What the user reads when the flavors' chunk did not download.
pub fn failed_message(flavor: Flavor) -> String {
    format!(
        "Could not load {}'s model: its part of the simulator did not download, so the page stays on the scenario it had. Check the connection and try again.",
        flavor.display()
    )
}

/// "Loading HAProxy's model…" while the chunk downloads; the message and "Try again" if it could
/// not be.
#[component]
pub fn FlavorNote() -> impl IntoView {
    let flavors = super::playground::Playground::get().flavors;
    view! {
        {move || match flavors.state.get() {
            FlavorState::Ready => ().into_any(),
            FlavorState::Loading(f) => view! {
                <p class="panel-loading opening" role="status" aria-busy="true" data-testid="flavor-loading">{format!("Loading {}'s model…", f.display())}</p>
            }
            .into_any(),
            FlavorState::Failed(f) => view! {
                <div class="panel-failed opening" role="alert" data-testid="flavor-failed">
                    <p>{failed_message(f)}</p>
                    <button type="button" class="btn" on:click=move |_| {
                        if let Some(r) = flavors.retry.get_value() {
                            r.run(());
                        }
                    }>"Try again"</button>
                </div>
            }
            .into_any(),
        }}
    }
}
