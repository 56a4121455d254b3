//! Guided lessons: pick one, follow its steps, and the page checks each
//! step against the simulation (`crate::lesson`). The content is data
//! (`lessons/*.json`); this file only shows it and reads the checks.

use leptos::prelude::*;

use crate::lesson::{Action, Lesson, Mark};

use super::playground::Playground;
use super::presenter::Training;

/// A lesson in progress.
#[derive(Clone, Debug, PartialEq)]
struct Progress {
    lesson: usize,
    step: usize,
    /// Where the current step began.
    mark: Mark,
}

#[component]
pub fn Lessons(
    /// The lessons that parse (`catalog::lessons`), and a message for each that does not.
    lessons: Vec<Lesson>,
    broken: Vec<String>,
    /// `?lesson=ID` from the address (already checked against the list).
    initial: Option<String>,
) -> impl IntoView {
    let pg = Playground::get();
    let training = Training::get();
    let lessons = StoredValue::new(lessons);
    let chosen = RwSignal::new(0usize);
    let progress = RwSignal::new(None::<Progress>);
    let show_hint = RwSignal::new(false);
    let show_me_error = RwSignal::new(None::<String>);

    let begin_step = move |lesson: usize, step: usize| {
        show_hint.set(false);
        show_me_error.set(None);
        progress.set(Some(Progress { lesson, step, mark: pg.mark() }));
    };
    let start = move |i: usize| {
        let Some(l) = lessons.with_value(|ls| ls.get(i).cloned()) else { return };
        // The room keeps its seed: everyone on the same link sees the same run.
        let seed = pg.scenario.with_untracked(|s| s.seed);
        let loaded = match crate::lesson::starting_scenario(&l, seed) {
            Ok(sc) => pg.run(|s| s.load(sc)).map_err(|e| e.to_string()),
            Err(e) => Err(e),
        };
        if let Err(e) = loaded {
            show_me_error.set(Some(e));
            return;
        }
        chosen.set(i);
        begin_step(i, 0);
    };
    if let Some(id) = initial {
        if let Some(i) = lessons.with_value(|ls| ls.iter().position(|l| l.id == id)) {
            start(i);
        }
    }

    let lesson = move || progress.get().and_then(|p| lessons.with_value(|ls| ls.get(p.lesson).cloned()));
    let step = move || progress.get().and_then(|p| lessons.with_value(|ls| ls.get(p.lesson).and_then(|l| l.steps.get(p.step).cloned())));
    let passed = Memo::new(move |_| match (progress.get(), step()) {
        (Some(p), Some(s)) => pg.passes(&s.check, p.mark),
        _ => false,
    });
    let last_step = move || progress.get().zip(lesson()).is_some_and(|(p, l): (Progress, Lesson)| p.step + 1 >= l.steps.len());
    let next = move || {
        if !passed.get_untracked() {
            return;
        }
        if let Some(p) = progress.get_untracked() {
            let n = lessons.with_value(|ls| ls.get(p.lesson).map(|l| l.steps.len()).unwrap_or(0));
            if p.step + 1 < n {
                begin_step(p.lesson, p.step + 1);
            }
        }
    };
    // The presenter's "N" key.
    Effect::new(move |prev: Option<u64>| {
        let n = training.next_step.get();
        if prev.is_some_and(|p| p != n) {
            next();
        }
        n
    });
    // "Show me" performs the step's solution on the page's Session, the same
    // commands the buttons run; the first refused one stops it and says why.
    let show_me = move |_| {
        let Some(st) = step() else { return };
        show_me_error.set(None);
        for a in &st.solution {
            if let Err(e) = pg.run(|s| s.perform(a)) {
                show_me_error.set(Some(format!("{}: {e}", a.describe())));
                break;
            }
        }
    };

    view! {
        <section id="lessons" class="lessons" aria-label="Lessons" data-testid="lessons">
            <div class="lessons-head">
                <h2>"Lessons"</h2>
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
                        {lessons.with_value(|ls| ls.iter().enumerate().map(|(i, l)| view! { <option value=i.to_string()>{format!("{}. {}", i + 1, l.title)}</option> }).collect_view())}
                    </select>
                </label>
                <button class="lesson-start" data-testid="lesson-start" on:click=move |_| start(chosen.get_untracked())>
                    {move || if progress.with(|p| p.as_ref().is_some_and(|p| p.lesson == chosen.get())) { "Restart lesson" } else { "Start lesson" }}
                </button>
                <Show when=move || progress.with(|p| p.is_some())>
                    <button class="lesson-leave" data-testid="lesson-leave" on:click=move |_| progress.set(None)>"Leave"</button>
                </Show>
            </div>
            {(!broken.is_empty()).then(|| view! { <p class="lesson-broken" role="alert">{format!("Some lessons could not be read: {}", broken.join("; "))}</p> })}
            <Show
                when=move || progress.with(|p| p.is_some())
                fallback=move || view! {
                    <p class="lesson-summary">{move || lessons.with_value(|ls| ls.get(chosen.get()).map(|l| l.summary.clone()).unwrap_or_default())}</p>
                }
            >
                <div class="lesson" data-testid="lesson" data-lesson=move || lesson().map(|l| l.id).unwrap_or_default()>
                    <p class="lesson-summary">{move || lesson().map(|l| l.summary).unwrap_or_default()}</p>
                    <ol class="lesson-steps" aria-label="Steps">
                        {move || {
                            let (p, l) = (progress.get(), lesson());
                            let (Some(p), Some(l)) = (p, l) else { return Vec::new() };
                            l.steps
                                .iter()
                                .enumerate()
                                .map(|(i, s)| {
                                    let state = if i < p.step { "done" } else if i == p.step { "current" } else { "todo" };
                                    view! { <li class=format!("lesson-step-dot {state}") aria-current=(i == p.step).then_some("step")>{s.goal.clone()}</li> }
                                })
                                .collect::<Vec<_>>()
                        }}
                    </ol>
                    <div class="lesson-current" data-testid="lesson-step" data-step=move || progress.get().map(|p| p.step + 1).unwrap_or(0)>
                        <h3>{move || progress.get().zip(lesson()).map(|(p, l)| format!("Step {} of {}: {}", p.step + 1, l.steps.len(), l.steps[p.step].goal)).unwrap_or_default()}</h3>
                        <p>{move || step().map(|s| s.text).unwrap_or_default()}</p>
                        <Show when=move || step().is_some_and(|s| s.hint.is_some())>
                            <button class="lesson-link" data-testid="lesson-hint-button" on:click=move |_| show_hint.update(|h| *h = !*h)>
                                {move || if show_hint.get() { "Hide the hint" } else { "Hint" }}
                            </button>
                            <Show when=move || show_hint.get()>
                                <p class="lesson-hint" data-testid="lesson-hint">{move || step().and_then(|s| s.hint).unwrap_or_default()}</p>
                            </Show>
                        </Show>
                        <p class="lesson-check" data-testid="lesson-check" data-passed=move || passed.get().to_string() aria-live="polite">
                            {move || if passed.get() { "✓ Done." } else { "Not yet: the page checks each request you send and each command you run." }}
                        </p>
                        <Show when=move || passed.get() && step().is_some_and(|s| s.explain.is_some())>
                            <p class="lesson-explain" data-testid="lesson-explain">{move || step().and_then(|s| s.explain).unwrap_or_default()}</p>
                        </Show>
                        <div class="lesson-actions">
                            <button class="lesson-show" data-testid="lesson-show" on:click=show_me disabled=move || passed.get()
                                title=move || step().map(|s| s.solution.iter().map(Action::describe).collect::<Vec<_>>().join(", then ")).unwrap_or_default()>
                                "Show me"
                            </button>
                            <Show when=move || !last_step()>
                                <button class="lesson-next" data-testid="lesson-next" disabled=move || !passed.get() on:click=move |_| next()>"Next step"</button>
                            </Show>
                        </div>
                        {move || show_me_error.get().map(|e| view! { <p class="lesson-broken" role="alert">{e}</p> })}
                        <Show when=move || passed.get() && last_step()>
                            <p class="lesson-complete" data-testid="lesson-complete">
                                {move || lesson().map(|l| format!("Lesson complete: {}.", l.title)).unwrap_or_default()}
                            </p>
                        </Show>
                    </div>
                </div>
            </Show>
        </section>
    }
}
