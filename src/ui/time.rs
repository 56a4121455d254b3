use leptos::prelude::*;

use super::playground::{Playground, SPEEDS};
use crate::session::Speed;

/// Play, pause, step one event, speed, reset, seed.
#[component]
pub fn TimeControls(
    playing: RwSignal<bool>,
    speed: RwSignal<usize>,
    seed: Signal<u64>,
    clock: Signal<String>,
    pending: Signal<usize>,
    on_step: Callback<()>,
    on_reset: Callback<()>,
    on_seed: Callback<u64>,
) -> impl IntoView {
    let pg = Playground::get();
    let instant = move || SPEEDS.get(speed.get()).is_none_or(|s| s.1 == Speed::Instant);
    view! {
        <section class="time" aria-label="Time controls">
            <button
                class="time-btn"
                data-testid="play-pause"
                aria-pressed=move || playing.get().to_string()
                disabled=instant
                on:click=move |_| pg.set_playing(!playing.get_untracked())
            >
                {move || if playing.get() { "Pause" } else { "Play" }}
            </button>
            <button class="time-btn" data-testid="step" on:click=move |_| on_step.run(())>"Step one event"</button>
            <label class="field inline">
                <span class="field-label">"Speed"</span>
                <select
                    data-testid="speed"
                    prop:value=move || speed.get().to_string()
                    on:change=move |ev| {
                        if let Ok(i) = event_target_value(&ev).parse::<usize>() {
                            pg.set_speed(i);
                        }
                    }
                >
                    {SPEEDS.iter().enumerate().map(|(i, (name, _))| view! { <option value=i.to_string()>{*name}</option> }).collect_view()}
                </select>
            </label>
            <label class="field inline">
                <span class="field-label">"Seed"</span>
                <input
                    type="number"
                    min="0"
                    data-testid="seed"
                    prop:value=move || seed.get().to_string()
                    on:change=move |ev| {
                        if let Ok(s) = event_target_value(&ev).parse::<u64>() {
                            on_seed.run(s);
                        }
                    }
                />
            </label>
            <button class="time-btn" data-testid="reset" on:click=move |_| on_reset.run(())>"Reset"</button>
            <span class="clock" data-testid="clock" aria-live="off">{move || clock.get()}</span>
            <span class="pending" data-testid="pending">{move || match pending.get() {
                0 => String::new(),
                1 => "1 request in flight".to_string(),
                n => format!("{n} requests in flight"),
            }}</span>
        </section>
    }
}
