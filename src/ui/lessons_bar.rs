//! The lesson bar: the step in progress (goal, text, its check, Show me,
//! Next step, Leave) directly above the stage, so the step and the status and
//! log line it talks about are on one screen. At the end: the next lesson.

use leptos::prelude::*;

use crate::lesson::Action;

use super::lessons::LessonRun;

#[component]
pub fn LessonBar() -> impl IntoView {
    let run = LessonRun::get();
    let passed = run.passed;
    let show_hint = run.show_hint;
    let step = move || run.step();
    view! {
        <Show when=move || run.progress.with(|p| p.is_some())>
            <section class="lesson-bar" aria-label="Lesson step" data-testid="lesson" data-lesson=move || run.lesson().map(|l| l.id).unwrap_or_default()>
                <ol class="lesson-steps" aria-label="Steps">
                    {move || {
                        let (Some(p), Some(l)) = (run.progress.get(), run.lesson()) else { return Vec::new() };
                        l.steps.iter().enumerate().map(|(i, s)| {
                            let state = if i < p.step { "done" } else if i == p.step { "current" } else { "todo" };
                            view! { <li class=format!("lesson-step-dot {state}") title=s.goal.clone() aria-current=(i == p.step).then_some("step")>{s.goal.clone()}</li> }
                        }).collect::<Vec<_>>()
                    }}
                </ol>
                <div class="lesson-current" data-testid="lesson-step" data-step=move || run.progress.get().map(|p| p.step + 1).unwrap_or(0)>
                    <h2 class="lesson-goal">
                        <span class="lesson-title">{move || run.lesson().map(|l| l.title).unwrap_or_default()}</span>
                        {move || run.progress.get().zip(run.lesson()).map(|(p, l)| format!("Step {} of {}: {}", p.step + 1, l.steps.len(), l.steps[p.step].goal)).unwrap_or_default()}
                    </h2>
                    <p class="lesson-text">{move || step().map(|s| s.text).unwrap_or_default()}</p>
                    <Show when=move || show_hint.get()>
                        <p class="lesson-hint" data-testid="lesson-hint">{move || step().and_then(|s| s.hint).unwrap_or_default()}</p>
                    </Show>
                    <Show when=move || passed.get() && step().is_some_and(|s| s.explain.is_some())>
                        <p class="lesson-explain" data-testid="lesson-explain">{move || step().and_then(|s| s.explain).unwrap_or_default()}</p>
                    </Show>
                    <div class="lesson-actions">
                        <p class="lesson-check" data-testid="lesson-check" data-passed=move || passed.get().to_string() aria-live="polite">
                            {move || if passed.get() { "✓ Done." } else { "Not yet: the page checks each request and command." }}
                        </p>
                        <Show when=move || step().is_some_and(|s| s.hint.is_some())>
                            <button class="lesson-link" data-testid="lesson-hint-button" on:click=move |_| show_hint.update(|h| *h = !*h)>
                                {move || if show_hint.get() { "Hide the hint" } else { "Hint" }}
                            </button>
                        </Show>
                        <button class="lesson-show" data-testid="lesson-show" on:click=move |_| run.show_me() disabled=move || passed.get()
                            title=move || step().map(|s| s.solution.iter().map(Action::describe).collect::<Vec<_>>().join(", then ")).unwrap_or_default()>
                            "Show me"
                        </button>
                        <Show when=move || !run.last_step()>
                            <button class="lesson-next" data-testid="lesson-next" disabled=move || !passed.get() on:click=move |_| run.next()>"Next step"</button>
                        </Show>
                        <Show when=move || passed.get() && run.last_step()>
                            <span class="lesson-complete" data-testid="lesson-complete">
                                {move || run.lesson().map(|l| format!("Lesson complete: {}.", l.title)).unwrap_or_default()}
                            </span>
                            {move || run.next_lesson().map(|(_, title)| view! {
                                <button class="lesson-next" data-testid="lesson-next-lesson" on:click=move |_| run.next()>{format!("Next lesson: {title}")}</button>
                            })}
                        </Show>
                        <button class="lesson-leave" data-testid="lesson-leave" on:click=move |_| run.leave()>"Leave"</button>
                    </div>
                    {move || run.error.get().map(|e| view! { <p class="lesson-broken" role="alert">{e}</p> })}
                </div>
            </section>
        </Show>
    }
}
