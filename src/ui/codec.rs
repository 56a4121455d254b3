//! The JSON readers, split out of the main module (issue 20): serde's Deserialize side (the derive
//! impls of `Scenario`, `Fault`, `Lesson`, …, serde_json's parser and `Value`) is about 259 KB of
//! the main module's code when anything there reads JSON. Every path that reads a scenario, a
//! lesson or a host's message goes through a function below, each a split point of the one chunk
//! `codec` (`lazy::split_fn!`): a share link's scenario (`#s=…`, `?fault=…`), a ready scenario by
//! name, the lessons and a lesson's starting scenario, the embed API's messages. The plain page
//! (`./`) reads none of them before Send is enabled; `link::parse_page` gives it its flags without
//! JSON. Writing JSON (share links, `to_value`) stays in the main module.
//!
//! `Opening` is the state of a link whose scenario is being read: the stage says "Opening the
//! link's scenario…" with Send disabled until the chunk arrives, and a chunk that could not be
//! downloaded leaves a message with "Try again" over the default scenario.

use leptos::prelude::*;

use crate::embed_api::{Message, Reject};
use crate::lesson::Lesson;
use crate::link::Link;
use crate::session::SessionError;
use crate::sim::Scenario;

use super::lazy::split_fn;

split_fn!(codec, fn link(query: String, fragment: String) -> Link {
    crate::link::parse(&query, &fragment, super::library::SCENARIOS)
});

split_fn!(codec, fn lessons() -> (Vec<Lesson>, Vec<String>) { crate::lesson::catalog::lessons() });

split_fn!(codec, fn lesson_scenario(lesson: Lesson, seed: u64) -> Result<Scenario, String> {
    crate::lesson::starting_scenario(&lesson, seed)
});

split_fn!(codec, fn named(name: String) -> Result<Scenario, SessionError> { crate::session::named_scenario(&name) });

split_fn!(codec, fn message(text: String) -> Result<Message, Reject> { crate::embed_api::parse_text(&text) });

/// What the user reads when the codec chunk did not download.
pub const FAILED: &str = "Could not open the link's scenario: its part of the simulator did not download, so the page shows the default scenario. Check the connection and try again.";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenState {
    /// Nothing to read, or read and loaded.
    Done,
    /// The codec chunk is on its way: the stage waits, Send is disabled.
    Pending,
    /// The chunk did not download: the default scenario, a message and "Try again".
    Failed,
}

/// The address's scenario (or lesson) being opened, shared through context.
#[derive(Clone, Copy)]
pub struct Opening {
    pub state: RwSignal<OpenState>,
    /// The address's problems once it has been read in full (an embed's `ready` warnings).
    pub problems: RwSignal<Option<Vec<String>>>,
    retry: StoredValue<Option<Callback<()>>>,
}

impl Opening {
    pub fn new(state: OpenState) -> Opening {
        let o = Opening { state: RwSignal::new(state), problems: RwSignal::new(None), retry: StoredValue::new(None) };
        provide_context(o);
        o
    }

    pub fn get() -> Option<Opening> {
        use_context::<Opening>()
    }

    /// Whether the stage waits (tracked).
    pub fn pending(self) -> bool {
        self.state.get() == OpenState::Pending
    }

    /// What "Try again" runs.
    pub fn on_retry(self, f: Callback<()>) {
        self.retry.set_value(Some(f));
    }
}

/// "Opening the link's scenario…" while the codec chunk downloads; the message and "Try again"
/// if it could not be.
#[component]
pub fn OpeningNote() -> impl IntoView {
    let Some(opening) = Opening::get() else { return ().into_any() };
    view! {
        {move || match opening.state.get() {
            OpenState::Done => ().into_any(),
            OpenState::Pending => view! {
                <p class="panel-loading opening" role="status" aria-busy="true" data-testid="opening">"Opening the link's scenario…"</p>
            }
            .into_any(),
            OpenState::Failed => view! {
                <div class="panel-failed opening" role="alert" data-testid="opening-failed">
                    <p>{FAILED}</p>
                    <button type="button" class="btn" on:click=move |_| {
                        if let Some(f) = opening.retry.get_value() {
                            f.run(());
                        }
                    }>"Try again"</button>
                </div>
            }
            .into_any(),
        }}
    }
    .into_any()
}
