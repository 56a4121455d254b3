//! "Predict the status": the learner answers first; only then does the
//! page run the scenario and reveal what the engine did (status, log line,
//! explanation). The answer is not in the data. In presenter mode the
//! answer stays hidden until the presenter reveals it (R). Challenges run a
//! retry-lab experiment with the learner's strategy and judge the metrics.

use leptos::prelude::*;

use crate::lesson::{self, catalog, Question, Verdict};
use crate::sim::scenario::{RetryPolicy, Scenario};
use crate::sim::Simulation;

use super::lab::run::{self as lab_run, Load};
use super::lab::strategy::StrategyEditor;
use super::playground::Playground;
use super::presenter::Training;

/// What the engine did with a question's scenario.
#[derive(Clone, Debug, PartialEq)]
struct Revealed {
    status: Option<u16>,
    line: String,
    explanation: String,
}

fn run_question(q: &Question) -> Result<Revealed, String> {
    let text = catalog::scenario_text(&q.scenario).ok_or_else(|| format!("no ready scenario {:?}", q.scenario))?;
    let mut sim = Simulation::new(Scenario::from_json(text).map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    sim.run();
    let e = lesson::asked(q, &sim).ok_or("the scenario has no such request")?;
    Ok(Revealed {
        status: e.status(),
        // The same line the embed reports: the most severe error.log line, else the access line.
        line: crate::embed_api::log_line(e, sim.world().scenario.proxy.flavor).1.unwrap_or_default(),
        explanation: e.explanation.clone().unwrap_or_default(),
    })
}

#[component]
pub fn Quiz() -> impl IntoView {
    let pg = Playground::get();
    let training = Training::get();
    let address = super::share::Address::get();
    let quiz = catalog::quiz();
    let (questions, challenges, problem) = match quiz {
        Ok(q) => (q.questions, q.challenges, None),
        Err(e) => (Vec::new(), Vec::new(), Some(e)),
    };
    let questions = StoredValue::new(questions);
    let n = questions.with_value(|q| q.len());
    let has_questions = n != 0;
    let current = RwSignal::new(0usize);
    let answer = RwSignal::new(None::<u16>);
    let revealed = RwSignal::new(None::<Result<Revealed, String>>);
    let score = RwSignal::new((0u32, 0u32));

    let question = move || questions.with_value(|qs| qs.get(current.get()).cloned());
    let reveal = move || {
        if revealed.with_untracked(|r| r.is_some()) || answer.get_untracked().is_none() {
            return;
        }
        let Some(q) = questions.with_value(|qs| qs.get(current.get_untracked()).cloned()) else { return };
        let r = run_question(&q);
        if let Ok(r) = &r {
            score.update(|(right, asked)| {
                *asked += 1;
                if r.status == answer.get_untracked() {
                    *right += 1;
                }
            });
        }
        revealed.set(Some(r));
    };
    let choose = move |status: u16| {
        if revealed.with_untracked(|r| r.is_some()) {
            return;
        }
        answer.set(Some(status));
        // Alone, the learner sees the answer at once; in a room, the presenter reveals it.
        if !training.present.get_untracked() {
            reveal();
        }
    };
    Effect::new(move |prev: Option<u64>| {
        let n = training.reveal.get();
        if prev.is_some_and(|p| p != n) {
            reveal();
        }
        n
    });
    let go = move |i: usize| {
        current.set(i % n.max(1));
        answer.set(None);
        revealed.set(None);
    };

    view! {
        <section id="quiz" class="quiz" aria-label="Quiz" data-testid="quiz">
            <h2>"Predict the status"</h2>
            {problem.map(|e| view! { <p class="lesson-broken" role="alert">{e}</p> })}
            <Show when=move || has_questions>
                <div class="quiz-question" data-testid="quiz-question" data-question=move || question().map(|q| q.id).unwrap_or_default()>
                    <p class="quiz-count">{move || format!("Question {} of {n}", current.get() + 1)}
                        <span class="quiz-score" data-testid="quiz-score">{move || { let (r, a) = score.get(); if a == 0 { String::new() } else { format!(" · {r} of {a} right") } }}</span>
                    </p>
                    <p class="quiz-prompt" data-testid="quiz-prompt">{move || question().map(|q| q.prompt).unwrap_or_default()}</p>
                    <div class="quiz-choices" role="group" aria-label="Your answer">
                        {move || question().map(|q| q.choices).unwrap_or_default().into_iter().map(|c| {
                            let state = move || {
                                let picked = answer.get() == Some(c);
                                match revealed.get() {
                                    Some(Ok(r)) if r.status == Some(c) => "quiz-choice right",
                                    Some(Ok(_)) if picked => "quiz-choice wrong",
                                    _ if picked => "quiz-choice picked",
                                    _ => "quiz-choice",
                                }
                            };
                            view! {
                                <button class=state data-testid="quiz-choice" data-status=c.to_string() aria-pressed=move || (answer.get() == Some(c)).to_string()
                                    disabled=move || revealed.with(|r| r.is_some()) on:click=move |_| choose(c)>{c.to_string()}</button>
                            }
                        }).collect_view()}
                    </div>
                    <Show when=move || training.present.get() && answer.get().is_some() && revealed.with(|r| r.is_none())>
                        <button class="quiz-reveal-button" data-testid="quiz-reveal-button" on:click=move |_| reveal()>"Reveal (R)"</button>
                    </Show>
                    {move || revealed.get().map(|r| match r {
                        Ok(r) => {
                            let right = r.status == answer.get_untracked();
                            view! {
                                <div class="quiz-reveal" data-testid="quiz-reveal" data-right=right.to_string()>
                                    <p class="quiz-verdict" data-testid="quiz-verdict">{if right { "Right." } else { "Not quite." }}
                                        " The engine answered " <strong data-testid="quiz-status">{r.status.map(|s| s.to_string()).unwrap_or_else(|| "no status".into())}</strong> "."</p>
                                    <pre class="quiz-log" data-testid="quiz-log">{r.line}</pre>
                                    <p class="quiz-explain" data-testid="quiz-explain">{r.explanation}</p>
                                </div>
                            }.into_any()
                        }
                        Err(e) => view! { <p class="lesson-broken" role="alert">{e}</p> }.into_any(),
                    })}
                    <div class="quiz-nav">
                        <button data-testid="quiz-open" disabled=move || revealed.with(|r| r.is_none())
                            on:click=move |_| {
                                if let Some(q) = question() {
                                    leptos::task::spawn_local(async move {
                                        if pg.load_named(&q.scenario).await.is_ok() {
                                            if let Some(a) = address { a.push(); }
                                        }
                                        // The stage shows the scenario: bring it into view, focus Send.
                                        super::app::show_stage();
                                    });
                                }
                            }>"Open it in the playground"</button>
                        <button data-testid="quiz-next" on:click=move |_| go(current.get_untracked() + 1)>"Next question"</button>
                    </div>
                </div>
            </Show>
            <Challenges challenges=challenges />
        </section>
    }
}

#[component]
fn Challenges(challenges: Vec<lesson::Challenge>) -> impl IntoView {
    let challenges = StoredValue::new(challenges);
    let chosen = RwSignal::new(0usize);
    let policy = RwSignal::new(RetryPolicy::default());
    let verdict = RwSignal::new(None::<Result<Verdict, String>>);
    let challenge = move || challenges.with_value(|cs| cs.get(chosen.get()).cloned());
    let base = move || challenge().and_then(|c| catalog::experiment_text(&c.experiment)).and_then(|t| Scenario::from_json(t).ok());
    let own = Signal::derive(move || base().map(|b| b.clients.retry).unwrap_or_default());
    let run = move |_| {
        let (Some(c), Some(b)) = (challenge(), base()) else { return };
        let mut load = Load::of(&b.clients);
        if let Some(n) = c.requests {
            load.requests = n;
        }
        verdict.set(Some(lab_run::run(&b, &load, &policy.get_untracked()).map(|(m, _)| c.pass.judge(&m))));
    };
    view! {
        <div class="challenges" data-testid="challenges">
            <h3>"Challenges"</h3>
            <label class="field">
                <span class="field-label">"Challenge"</span>
                <select data-testid="challenge-select" prop:value=move || chosen.get().to_string()
                    on:change=move |ev| { if let Ok(i) = event_target_value(&ev).parse() { chosen.set(i); verdict.set(None); } }>
                    {challenges.with_value(|cs| cs.iter().enumerate().map(|(i, c)| view! { <option value=i.to_string()>{c.title.clone()}</option> }).collect_view())}
                </select>
            </label>
            <p class="challenge-text" data-testid="challenge-text">{move || challenge().map(|c| c.text).unwrap_or_default()}</p>
            <StrategyEditor name="Your strategy" key="ch" policy=policy own=own />
            <button class="challenge-run" data-testid="challenge-run" on:click=run>"Run the challenge"</button>
            {move || verdict.get().map(|v| match v {
                Ok(v) => view! {
                    <div class="challenge-verdict" data-testid="challenge-verdict" data-passed=v.passed.to_string()>
                        <p><strong>{if v.passed { "Passed." } else { "Not yet." }}</strong></p>
                        <ul>{v.lines.into_iter().map(|(ok, l)| view! { <li class=if ok { "ok" } else { "fail" }>{if ok { "✓ " } else { "✗ " }}{l}</li> }).collect_view()}</ul>
                    </div>
                }.into_any(),
                Err(e) => view! { <p class="lesson-broken" role="alert">{e}</p> }.into_any(),
            })}
        </div>
    }
}
