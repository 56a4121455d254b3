//! The Lessons tab: pick a lesson, read its summary, start it. The step in
//! progress shows above the stage (`lessons_bar.rs`), next to its result.

use leptos::prelude::*;

use super::lessons::LessonRun;
use crate::lesson::catalog::INDEX;

#[component]
pub fn Lessons() -> impl IntoView {
    let run = LessonRun::get();
    let chosen = run.chosen;
    // The list, the summary and the goals come from `catalog::INDEX` (build.rs): no lesson is
    // read (the codec chunk) until one is started.
    let entry = move || INDEX.get(chosen.get()).copied();
    let broken = run.broken;
    view! {
        <section id="lessons" class="lessons" aria-label="Lessons" data-testid="lessons">
            <div class="lessons-head">
                <label class="field">
                    <span class="field-label">"Guided lesson"</span>
                    <select
                        data-testid="lesson-select"
                        prop:value=move || chosen.get().to_string()
                        on:change=move |ev| {
                            if let Ok(i) = event_target_value(&ev).parse::<usize>() {
                                chosen.set(i);
                            }
                        }
                    >
                        {INDEX.iter().enumerate().map(|(i, e)| view! { <option value=i.to_string()>{format!("{}. {}", i + 1, e.title)}</option> }).collect_view()}
                    </select>
                </label>
                <button
                    class="lesson-start"
                    data-testid="lesson-start"
                    disabled=move || run.starting.get()
                    aria-busy=move || run.starting.get().then_some("true")
                    on:click=move |_| run.start_listed(chosen.get_untracked())
                >
                    {move || if run.starting.get() {
                        "Loading the lesson…"
                    } else if run.lesson().is_some_and(|l| entry().is_some_and(|e| e.id == l.id)) {
                        "Restart lesson"
                    } else {
                        "Start lesson"
                    }}
                </button>
            </div>
            {move || broken.with(|b| (!b.is_empty()).then(|| view! { <p class="lesson-broken" role="alert">{format!("Some lessons could not be read: {}", b.join("; "))}</p> }))}
            {move || run.progress.with(|p| p.is_none()).then(|| run.error.get().map(|e| view! { <p class="lesson-broken" role="alert">{e}</p> })).flatten()}
            <p class="lesson-summary">{move || entry().map(|e| e.summary).unwrap_or_default()}</p>
            <ol class="lesson-steps" aria-label="Steps of this lesson">
                {move || entry().map(|e| e.goals.iter().map(|g| view! { <li class="lesson-step-dot">{*g}</li> }).collect::<Vec<_>>()).unwrap_or_default()}
            </ol>
            <p class="lesson-where">"A lesson's current step shows above the stage, next to the status and the log line it talks about."</p>
        </section>
    }
}
