//! Presenter mode for live sessions: large type, keyboard shortcuts, the
//! room's seed on screen, and answers that stay hidden until the presenter
//! reveals them. The shortcuts act only in presenter mode (a reader's
//! Space still scrolls the page) and never while typing in a field.

use leptos::ev;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::playground::Playground;

/// Shared by the presenter bar, the lessons and the quiz.
#[derive(Clone, Copy)]
pub struct Training {
    pub present: RwSignal<bool>,
    /// Bumped by the "next lesson step" shortcut.
    pub next_step: RwSignal<u64>,
    /// Bumped by the "reveal" shortcut.
    pub reveal: RwSignal<u64>,
    pub show_keys: RwSignal<bool>,
}

impl Training {
    pub fn new(present: bool) -> Self {
        Training { present: RwSignal::new(present), next_step: RwSignal::new(0), reveal: RwSignal::new(0), show_keys: RwSignal::new(false) }
    }

    pub fn get() -> Self {
        expect_context::<Training>()
    }
}

/// (keys, what they do): the help overlay and the handler agree on these.
pub const SHORTCUTS: &[(&str, &str)] = &[
    ("Space", "play / pause the clock"),
    ("S or →", "step one event"),
    ("Enter", "send a request"),
    ("N", "next lesson step (once done); at the end, the next lesson"),
    ("R", "reveal the quiz answer"),
    ("F", "apply the fix"),
    ("P", "leave presenter mode"),
    ("?", "show or hide these keys"),
];

/// Whether the key event comes from a field the user is typing in.
fn typing(ev: &web_sys::KeyboardEvent) -> bool {
    ev.target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT") || el.has_attribute("contenteditable"))
}

/// Whether the key belongs to a focused control: Enter or Space to a button
/// or a link (they activate on them), the arrows, Home and End to a tab (they
/// move between tabs). The shortcut must not override it.
fn on_control(ev: &web_sys::KeyboardEvent) -> bool {
    let Some(el) = ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else { return false };
    let tab = el.get_attribute("role").is_some_and(|r| r == "tab");
    match ev.key().as_str() {
        "Enter" | " " => tab || matches!(el.tag_name().as_str(), "BUTTON" | "A" | "SUMMARY") || el.get_attribute("role").is_some_and(|r| r == "button"),
        "ArrowLeft" | "ArrowRight" | "Home" | "End" => tab,
        _ => false,
    }
}

/// Installs the keyboard shortcuts (once, in `App`).
pub fn install_shortcuts(pg: Playground, t: Training) {
    let handle = window_event_listener(ev::keydown, move |ev| {
        if !t.present.get_untracked() || typing(&ev) || on_control(&ev) || ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
            return;
        }
        let handled = match ev.key().as_str() {
            " " => {
                pg.set_playing(!pg.playing.get_untracked());
                true
            }
            "s" | "S" | "ArrowRight" => {
                pg.step();
                true
            }
            // A refused command shows as the page's notice (Playground::run).
            "Enter" => {
                let _ = pg.send();
                true
            }
            "n" | "N" => {
                t.next_step.update(|n| *n += 1);
                true
            }
            "r" | "R" => {
                t.reveal.update(|n| *n += 1);
                true
            }
            "f" | "F" => {
                let _ = pg.fix();
                true
            }
            "p" | "P" | "Escape" => {
                t.present.set(false);
                true
            }
            "?" => {
                t.show_keys.update(|v| *v = !*v);
                true
            }
            _ => false,
        };
        if handled {
            ev.prevent_default();
        }
    });
    // The page lives as long as the app: keep the listener.
    std::mem::forget(handle);
}

/// The masthead button.
#[component]
pub fn PresenterToggle() -> impl IntoView {
    let t = Training::get();
    view! {
        <button
            class="presenter-toggle"
            data-testid="presenter-toggle"
            aria-pressed=move || t.present.get().to_string()
            on:click=move |_| t.present.update(|p| *p = !*p)
        >
            {move || if t.present.get() { "Leave presenter mode" } else { "Presenter mode" }}
        </button>
    }
}

/// The bar at the top in presenter mode: the room's seed and the keys.
#[component]
pub fn PresenterBar() -> impl IntoView {
    let t = Training::get();
    let pg = Playground::get();
    view! {
        <Show when=move || t.present.get()>
            <div class="presenter-bar" data-testid="presenter-bar" role="region" aria-label="Presenter">
                <span class="room-seed" data-testid="room-seed">
                    "Room seed " <strong>{move || pg.scenario.with(|s| s.seed)}</strong>
                </span>
                <span class="presenter-hint">"Everyone who opens the share link runs the same scenario with this seed: the same requests, the same answers."</span>
                <button class="presenter-keys-button" on:click=move |_| t.show_keys.update(|v| *v = !*v)>"Keys (?)"</button>
            </div>
            <Show when=move || t.show_keys.get()>
                <div class="presenter-keys" data-testid="presenter-keys" role="dialog" aria-label="Keyboard shortcuts">
                    <dl>
                        {SHORTCUTS.iter().map(|(k, what)| view! { <dt><kbd>{*k}</kbd></dt><dd>{*what}</dd> }).collect_view()}
                    </dl>
                </div>
            </Show>
        </Show>
    }
}
