//! The Lessons tab: pick a lesson, read its summary, start it. The step in
//! progress shows above the stage (`lessons_bar.rs`), next to its result.

use leptos::prelude::*;

use super::lessons::LessonRun;

#[component]
pub fn Lessons(
    /// A message for each lesson that could not be read.
    broken: Vec<String>,
) -> impl IntoView {
    let run = LessonRun::get();
    let chosen = run.chosen;
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
                        {run.with_lessons(|ls| ls.iter().enumerate().map(|(i, l)| view! { <option value=i.to_string()>{format!("{}. {}", i + 1, l.title)}</option> }).collect_view())}
                    </select>
                </label>
                <button class="lesson-start" data-testid="lesson-start" on:click=move |_| run.start(chosen.get_untracked(), true)>
                    {move || if run.progress.with(|p| p.as_ref().is_some_and(|p| p.lesson == chosen.get())) { "Restart lesson" } else { "Start lesson" }}
                </button>
            </div>
            {(!broken.is_empty()).then(|| view! { <p class="lesson-broken" role="alert">{format!("Some lessons could not be read: {}", broken.join("; "))}</p> })}
            {move || run.progress.with(|p| p.is_none()).then(|| run.error.get().map(|e| view! { <p class="lesson-broken" role="alert">{e}</p> })).flatten()}
            <p class="lesson-summary">{move || run.with_lessons(|ls| ls.get(chosen.get()).map(|l| l.summary.clone()).unwrap_or_default())}</p>
            <ol class="lesson-steps" aria-label="Steps of this lesson">
                {move || run.with_lessons(|ls| ls.get(chosen.get()).map(|l| l.steps.iter().map(|s| view! { <li class="lesson-step-dot">{s.goal.clone()}</li> }).collect::<Vec<_>>()).unwrap_or_default())}
            </ol>
            <p class="lesson-where">"A lesson's current step shows above the stage, next to the status and the log line it talks about."</p>
        </section>
    }
}
