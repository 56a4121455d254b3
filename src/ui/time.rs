use leptos::prelude::*;

/// Speeds offered: virtual time per wall-clock time. `None` is "instant":
/// every request runs to completion at once.
pub const SPEEDS: &[(&str, Option<f64>)] = &[
    ("slow motion (0.01×)", Some(0.01)),
    ("0.1×", Some(0.1)),
    ("real time (1×)", Some(1.0)),
    ("10×", Some(10.0)),
    ("100×", Some(100.0)),
    ("instant", None),
];

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
    let instant = move || SPEEDS.get(speed.get()).and_then(|s| s.1).is_none();
    view! {
        <section class="time" aria-label="Time controls">
            <button
                class="time-btn"
                data-testid="play-pause"
                aria-pressed=move || playing.get().to_string()
                disabled=instant
                on:click=move |_| playing.update(|p| *p = !*p)
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
                            if i < SPEEDS.len() {
                                speed.set(i);
                            }
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
