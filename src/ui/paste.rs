//! "Paste a line from your logs" (issue 17 item 4): pasted log lines →
//! `crate::diagnose::verdict` → the reproducing scenario, loaded through the
//! Session (its requests run, so the stage's status, log line, why and fix
//! follow by themselves), with the pasted line shown beside the reproduced
//! one (differences marked), the cause and fix in the engine's words, and the
//! lesson on that situation when one exists.
//!
//! Two views share one `Paste`: `PasteBox` (the field at the top of the
//! stage, and a one-line verdict or "not recognised" with the nearest
//! candidates) and `PasteReport` (the comparison, under the stage's result,
//! so the status and log line stay in the first screen).
//!
//! The diagnosis itself is not in the main wasm module (issue 20): it is the
//! chunk `diagnose` of `lazy.rs` (`lazy::catalog_slice`, `lazy::verdict`,
//! `lazy::candidate_scenario`), fetched when the box gets focus or a paste
//! is submitted (or `?paste=`), behind a visible "Loading the log reader…";
//! a chunk that cannot be downloaded leaves a message with "Try again".
//!
//! The catalog the engine matches against costs about a second to build in
//! wasm (docs/DIAGNOSE.md): once the chunk is in, it is built one candidate
//! run at a time in slices of at most `SLICE_MS` between which the browser
//! handles input and paints (`catalog::Builder`), behind a visible
//! "preparing…"; a paste submitted before that (or `?paste=`) starts or
//! joins that build and is diagnosed when it ends, so the page never stops
//! answering for the whole build.

use leptos::prelude::*;

use leptos::task::spawn_local;

use crate::diagnose::{input::MAX_BYTES, Diagnosis, DiagnoseError, Nearest};
use crate::sim::FaultKind;

use super::lazy::{self, LoadFailed};
use super::lessons::LessonRun;
use super::playground::Playground;
use super::share::Address;

/// The catalog the matcher needs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Catalog {
    Unbuilt,
    /// The diagnosis' wasm chunk is downloading (the first slice has not come back).
    Loading,
    Preparing,
    Ready,
    /// The diagnosis' chunk could not be downloaded ("Try again" starts over).
    Failed,
}

/// What the last Diagnose found.
#[derive(Clone, PartialEq)]
enum Found {
    Diagnosis(Box<Diagnosis>),
    NotRecognised { message: String, nearest: Vec<Nearest> },
    Unusable(String),
}

/// The paste box's state, shared by its two views.
#[derive(Clone, Copy)]
pub struct Paste {
    text: RwSignal<String>,
    /// The field is expanded to a textarea.
    open: RwSignal<bool>,
    catalog: RwSignal<Catalog>,
    /// A diagnosis is under way (waiting for the catalog or the matcher).
    busy: RwSignal<bool>,
    found: RwSignal<Option<Found>>,
    /// A candidate loaded from "not recognised" (its label).
    loaded: RwSignal<Option<String>>,
    /// Where the run was (epoch, requests) when a paste was not recognised:
    /// until another run or request, the stage shows a run from before it.
    missed: RwSignal<Option<(u64, usize)>>,
    /// The run (`Playground::epoch`) the diagnosis loaded: another run (a
    /// lesson, a ready scenario, Back, Reset) retires the report.
    run: StoredValue<Option<u64>>,
    /// A Diagnose waiting for the catalog: the text, and whether it pushes a history entry.
    pending: StoredValue<Option<(String, bool)>>,
    // The page's context, taken when the box is made (event handlers run without an owner).
    pg: Playground,
    address: Option<Address>,
    lessons: Option<LessonRun>,
}

/// `s` with its first letter in capitals.
fn sentence(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The longest the catalog's build holds the main thread at a time (one
/// candidate run may take longer: a run is not cut).
const SLICE_MS: f64 = 12.0;

pub(super) fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map(|p| p.now()).unwrap_or(0.0)
}

/// Runs `f` after the browser has painted (the "preparing…" state shows
/// before the main thread is busy for a second).
fn after_paint(f: impl FnOnce() + 'static) {
    gloo_timers::callback::Timeout::new(40, f).forget();
}

impl Paste {
    pub fn new(pg: Playground, address: Option<Address>, lessons: Option<LessonRun>) -> Paste {
        Paste {
            pg,
            address,
            lessons,
            text: RwSignal::new(String::new()),
            open: RwSignal::new(false),
            catalog: RwSignal::new(Catalog::Unbuilt),
            busy: RwSignal::new(false),
            found: RwSignal::new(None),
            loaded: RwSignal::new(None),
            missed: RwSignal::new(None),
            run: StoredValue::new(None),
            pending: StoredValue::new(None),
        }
    }

    /// Starts building the catalog in slices (once; again after a failed
    /// download): the first slice loads the diagnosis' chunk.
    fn prepare(self) {
        if !matches!(self.catalog.get_untracked(), Catalog::Unbuilt | Catalog::Failed) {
            return;
        }
        self.catalog.set(Catalog::Loading);
        after_paint(move || self.build_slice());
    }

    /// Runs candidates for at most `SLICE_MS` (in the chunk), then yields
    /// to the browser and goes on in the next task.
    fn build_slice(self) {
        spawn_local(async move {
            match lazy::catalog_slice(SLICE_MS).await {
                Ok(true) => self.catalog_ready(),
                Ok(false) => {
                    self.catalog.set(Catalog::Preparing);
                    gloo_timers::callback::Timeout::new(0, move || self.build_slice()).forget();
                }
                Err(LoadFailed) => self.load_failed(),
            }
        });
    }

    /// The diagnosis' chunk did not download: say so, with "Try again"; a
    /// Diagnose that waited stays pending for it.
    fn load_failed(self) {
        self.catalog.set(Catalog::Failed);
        self.busy.set(false);
    }

    /// "Try again" after a failed download: loads the chunk again, and goes
    /// on with the Diagnose that waited, if any.
    fn retry(self) {
        if self.pending.with_value(Option::is_some) {
            self.busy.set(true);
        }
        self.prepare();
    }

    /// Diagnoses the box's text and loads what it found (`push`: a new
    /// history entry, as for every discrete choice; not when the address
    /// itself asked, `?paste=`).
    pub fn submit(self, push: bool) {
        let text = self.text.get_untracked();
        if text.trim().is_empty() || self.busy.get_untracked() {
            return;
        }
        self.busy.set(true);
        if self.catalog.get_untracked() == Catalog::Ready {
            after_paint(move || self.diagnose_now(text, push));
        } else {
            // The catalog is built in slices, the page answering between them; the diagnosis
            // follows (`build_slice`).
            self.pending.set_value(Some((text, push)));
            self.prepare();
        }
    }

    /// The catalog is built: a Diagnose that waited for it goes on.
    fn catalog_ready(self) {
        self.catalog.set(Catalog::Ready);
        if let Some((text, push)) = self.pending.try_update_value(Option::take).flatten() {
            after_paint(move || self.diagnose_now(text, push));
        }
    }

    /// Diagnoses `text` (the catalog is built) and loads what it found.
    fn diagnose_now(self, text: String, push: bool) {
        spawn_local(async move {
            match lazy::verdict(text.clone()).await {
                Ok(verdict) => self.show_verdict(verdict, push),
                Err(LoadFailed) => {
                    self.pending.set_value(Some((text, push)));
                    self.load_failed();
                }
            }
        });
    }

    /// Loads what the diagnosis found and shows it.
    fn show_verdict(self, verdict: Result<Diagnosis, DiagnoseError>, push: bool) {
        let (pg, address, lessons) = (self.pg, self.address, self.lessons);
        self.catalog.set(Catalog::Ready);
        self.loaded.set(None);
        let found = match verdict {
            Ok(d) => {
                if let Some(l) = lessons {
                    l.leave();
                }
                if pg.run(|s| s.load(d.scenario.clone())).is_ok() && push {
                    if let Some(a) = address {
                        a.push();
                    }
                }
                self.run.set_value(Some(pg.epoch.get_untracked()));
                // The field folds back to one line: the stage's answer is what matters now.
                self.open.set(false);
                Found::Diagnosis(Box::new(d))
            }
            Err(DiagnoseError::NotRecognised { message, nearest }) => Found::NotRecognised { message, nearest },
            Err(DiagnoseError::Unusable(m)) => Found::Unusable(m),
        };
        let m = pg.mark();
        self.missed.set((!matches!(found, Found::Diagnosis(_))).then_some((m.epoch, m.requests)));
        self.found.set(Some(found));
        self.busy.set(false);
    }

    /// Loads a nearest candidate (its catalog run's scenario).
    fn load_candidate(self, label: String) {
        spawn_local(async move {
            let sc = match lazy::candidate_scenario(label.clone()).await {
                Ok(Some(sc)) => sc,
                Ok(None) => return,
                Err(LoadFailed) => return self.load_failed(),
            };
            if let Some(l) = self.lessons {
                l.leave();
            }
            if self.pg.run(|s| s.load(sc)).is_ok() {
                if let Some(a) = self.address {
                    a.push();
                }
                self.loaded.set(Some(label));
            }
        });
    }

    /// Opens the page on a diagnosis of `text` (`?paste=`).
    pub fn open_on(self, text: String) {
        self.text.set(text);
        self.submit(false);
    }

    /// The stage runs a recognised paste's reproduction (the report shows).
    pub fn recognised(self) -> bool {
        self.found.with(|f| matches!(f, Some(Found::Diagnosis(_))))
    }

    /// The last paste was not recognised (or not usable) and the stage still
    /// shows the run from before it: no run was loaded and no request sent
    /// since (reactive).
    pub fn stale(self) -> bool {
        let Some((epoch, requests)) = self.missed.get() else { return false };
        self.pg.revision.track();
        let m = self.pg.mark();
        self.loaded.with(Option::is_none) && m.epoch == epoch && m.requests == requests
    }
}

/// Over the stage's answer while `paste.stale()`: says that it is not the
/// paste's.
#[component]
pub fn StaleNote(paste: Paste) -> impl IntoView {
    view! {
        <Show when=move || paste.stale()>
            <p class="stale-note" role="status" data-testid="stage-stale">
                <strong>"Not from your paste. "</strong>
                "Your lines were not recognised, so nothing was loaded: the answer below is the run from before. Pick one of the nearest situations above, or send a request."
            </p>
        </Show>
    }
}

/// A candidate's label in words (`catalog::Candidate::label`: `ID (knob) ·
/// flavor · 2 servers`, `no fault · nginx`, `scenario NAME · haproxy`): the
/// fault's title for that proxy, then the rest in brackets.
fn candidate_words(label: &str) -> String {
    let mut parts = label.split(" · ");
    let head = parts.next().unwrap_or_default();
    let rest: Vec<&str> = parts.collect();
    let flavor = rest.iter().find_map(|r| crate::sim::scenario::Flavor::parse(r)).unwrap_or_default();
    let (id, knob) = match head.split_once(" (") {
        Some((id, k)) => (id, Some(k.trim_end_matches(')'))),
        None => (head, None),
    };
    let title = if id == "no fault" {
        "Healthy upstream".to_string()
    } else if let Some(name) = id.strip_prefix("scenario ") {
        format!("Ready scenario “{}”", name.replace('_', " "))
    } else {
        FaultKind::from_id(id).map(|k| k.title_in(flavor).to_string()).unwrap_or_else(|| id.replace('_', " "))
    };
    let extra: Vec<&str> = knob.into_iter().chain(rest.into_iter().map(|r| crate::sim::scenario::Flavor::parse(r).map_or(r, |f| f.display()))).collect();
    if extra.is_empty() {
        title
    } else {
        format!("{title} ({})", extra.join(", "))
    }
}

/// The field at the top of the stage, and what the last Diagnose said when
/// it found no reproduction.
#[component]
pub fn PasteBox(paste: Paste) -> impl IntoView {
    let Paste { text, open, catalog, busy, found, loaded, .. } = paste;
    let expanded = move || open.get() || busy.get();
    // The report speaks of the run the diagnosis loaded; once another run replaces it, it goes.
    Effect::new(move |_| {
        let epoch = paste.pg.epoch.get();
        if paste.run.get_value() != Some(epoch) && found.with_untracked(|f| matches!(f, Some(Found::Diagnosis(_)))) {
            paste.run.set_value(None);
            found.set(None);
        }
    });
    let status = move || match (busy.get(), catalog.get()) {
        (_, Catalog::Loading) => "Loading the log reader…",
        (_, Catalog::Preparing) => "Preparing the catalog of situations…",
        (true, _) => "Diagnosing…",
        _ => "",
    };
    view! {
        <section class="paste" class:paste-open=expanded aria-label="Diagnose a log line" data-testid="paste">
            <div class="paste-row">
                <textarea
                    id="paste-text"
                    class="paste-text"
                    data-testid="paste-text"
                    aria-label="Paste a line from your logs"
                    aria-describedby="paste-hint"
                    placeholder="Paste a line from your logs (nginx error.log, HAProxy's log, curl -v…)"
                    spellcheck="false"
                    autocomplete="off"
                    maxlength=MAX_BYTES.to_string()
                    rows=move || if expanded() { "4" } else { "1" }
                    prop:value=move || text.get()
                    on:input=move |ev| text.set(event_target_value(&ev))
                    on:focus=move |_| {
                        open.set(true);
                        paste.prepare();
                    }
                    on:blur=move |_| {
                        if text.with_untracked(|t| t.trim().is_empty()) {
                            open.set(false);
                        }
                    }
                    on:keydown=move |ev| {
                        if ev.key() == "Enter" && (ev.ctrl_key() || ev.meta_key()) {
                            ev.prevent_default();
                            paste.submit(true);
                        }
                    }
                ></textarea>
                <button
                    class="paste-go"
                    data-testid="paste-diagnose"
                    aria-keyshortcuts="Control+Enter Meta+Enter"
                    disabled=move || busy.get()
                    on:click=move |_| paste.submit(true)
                >"Diagnose"</button>
            </div>
            <p id="paste-hint" class="paste-hint" class:paste-hint-shown=expanded role="status" data-testid="paste-status">
                {move || match status() {
                    "" => "One or more lines; Ctrl+Enter diagnoses. The matching run loads in the stage below.".to_string(),
                    s => s.to_string(),
                }}
            </p>
            {move || found.with(|f| match f {
                Some(Found::Diagnosis(d)) => {
                    let title = d.fault.as_deref().and_then(FaultKind::from_id).map(|k| k.title_in(d.flavor).to_string()).unwrap_or_else(|| "A healthy run".into());
                    let flavor = d.flavor.display();
                    let lines = d.placed.len();
                    view! {
                        <p class="paste-verdict" data-testid="paste-verdict">
                            <strong>"Recognised: "</strong>{format!("{title}, under {flavor}. ")}
                            <span>{format!("The stage runs the reproduction; your {} and the reproduced one are compared ", if lines == 1 { "line" } else { "lines" })}</span>
                            // A button, not `#paste-report`: the fragment is the scenario's (`#s=1.…`).
                            <button class="paste-jump" on:click=move |_| {
                                if let Some(el) = document().get_element_by_id("paste-report") {
                                    el.scroll_into_view();
                                }
                            }>"below the fix"</button>"."
                        </p>
                    }.into_any()
                }
                Some(Found::NotRecognised { message, nearest }) => {
                    let nearest = nearest.clone();
                    view! {
                        <div class="paste-verdict paste-miss" data-testid="paste-not-recognised">
                            <p>{sentence(message)}{if nearest.is_empty() { "." } else { ". The nearest situations the engine knows:" }}</p>
                            <div class="paste-nearest">
                                {nearest.into_iter().map(|n| {
                                    let label = n.candidate.clone();
                                    let is_loaded = { let label = label.clone(); move || loaded.with(|l| l.as_deref() == Some(label.as_str())) };
                                    view! {
                                        <button
                                            class="paste-candidate"
                                            data-testid="paste-candidate"
                                            title=n.line.clone()
                                            aria-pressed=move || if is_loaded() { "true" } else { "false" }
                                            on:click=move |_| paste.load_candidate(label.clone())
                                        >{candidate_words(&n.candidate)}</button>
                                    }
                                }).collect_view()}
                            </div>
                        </div>
                    }.into_any()
                }
                Some(Found::Unusable(m)) => view! {
                    <p class="paste-verdict paste-miss" role="alert" data-testid="paste-unusable">{sentence(m)}</p>
                }.into_any(),
                None => ().into_any(),
            })}
            {move || (catalog.get() == Catalog::Failed).then(|| view! {
                <div class="paste-verdict paste-miss paste-failed" role="alert" data-testid="paste-failed">
                    <p>"Could not load the log reader: its part of the simulator did not download. Check the connection and try again."</p>
                    <button type="button" class="btn" data-testid="paste-retry" on:click=move |_| paste.retry()>"Try again"</button>
                </div>
            })}
        </section>
    }
}

/// A piece of a line: its text, and whether the other line differs there.
type Piece = (String, bool);

/// Words (letters, digits, `_`) and single other characters.
fn tokens(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices() {
        if c.is_alphanumeric() || c == '_' {
            start.get_or_insert(i);
        } else {
            if let Some(b) = start.take() {
                out.push(&s[b..i]);
            }
            out.push(&s[i..i + c.len_utf8()]);
        }
    }
    if let Some(b) = start {
        out.push(&s[b..]);
    }
    out
}

/// Longest pair of lines (in tokens multiplied) compared token by token;
/// longer ones are shown unmarked.
const MAX_CELLS: usize = 400_000;

/// The two lines cut into pieces, marked where they differ (a longest
/// common subsequence of tokens: what is not in it differs).
fn marked(a: &str, b: &str) -> (Vec<Piece>, Vec<Piece>) {
    let (x, y) = (tokens(a), tokens(b));
    let whole = |s: &str| vec![(s.to_string(), false)];
    if x.len().saturating_mul(y.len()) > MAX_CELLS {
        return (whole(a), whole(b));
    }
    let (n, m) = (x.len(), y.len());
    // lcs[i][j]: the common length of x[i..] and y[j..].
    let mut lcs = vec![0u32; (n + 1) * (m + 1)];
    let at = |i: usize, j: usize| i * (m + 1) + j;
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[at(i, j)] = if x[i] == y[j] { lcs[at(i + 1, j + 1)] + 1 } else { lcs[at(i + 1, j)].max(lcs[at(i, j + 1)]) };
        }
    }
    let (mut pa, mut pb): (Vec<Piece>, Vec<Piece>) = (Vec::new(), Vec::new());
    let push = |v: &mut Vec<Piece>, t: &str, diff: bool| match v.last_mut() {
        Some((s, d)) if *d == diff => s.push_str(t),
        _ => v.push((t.to_string(), diff)),
    };
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && x[i] == y[j] {
            push(&mut pa, x[i], false);
            push(&mut pb, y[j], false);
            i += 1;
            j += 1;
        } else if j >= m || (i < n && lcs[at(i + 1, j)] >= lcs[at(i, j + 1)]) {
            push(&mut pa, x[i], true);
            i += 1;
        } else {
            push(&mut pb, y[j], true);
            j += 1;
        }
    }
    (pa, pb)
}

fn pieces_view(pieces: Vec<Piece>) -> impl IntoView {
    pieces.into_iter().map(|(t, diff)| if diff { view! { <mark>{t}</mark> }.into_any() } else { t.into_any() }).collect_view()
}

/// Placed lines shown in the report (the rest are counted).
const SHOWN_PAIRS: usize = 4;

/// The comparison: each pasted line beside the line the reproduction writes
/// in its place, differences marked; the cause and fix; lines not placed;
/// the lesson on that situation.
#[component]
pub fn PasteReport(paste: Paste) -> impl IntoView {
    let found = paste.found;
    // A diagnosis names the lesson on its situation: the lessons are read (the codec chunk, once)
    // when the first one shows; the line appears when they are.
    Effect::new(move |_| {
        if let (Some(run), true) = (paste.lessons, found.with(|f| matches!(f, Some(Found::Diagnosis(_))))) {
            leptos::task::spawn_local(async move {
                let _ = run.load().await;
            });
        }
    });
    // The lesson whose steps ask for this fault (lessons/*.json, read by the engine's lesson module).
    let lesson_for = move |fault: &str| -> Option<(usize, String)> {
        let run = paste.lessons?;
        run.with_lessons(|ls| ls.iter().enumerate().find(|(_, l)| l.faults().iter().any(|f| f == fault)).map(|(i, l)| (i, l.title.clone())))
    };
    move || {
        found.with(|f| {
            let Some(Found::Diagnosis(d)) = f else { return ().into_any() };
            let pairs = d.placed.iter().take(SHOWN_PAIRS).map(|p| {
                let (yours, theirs) = marked(&p.pasted, &p.reproduced);
                let differences = p.differences.clone();
                view! {
                    <div class="paste-pair" data-testid="paste-pair">
                        <div class="paste-side">
                            <span class="paste-label">{format!("Your line {}", p.line)}</span>
                            <code class="paste-line" data-testid="paste-pasted">{pieces_view(yours)}</code>
                        </div>
                        <div class="paste-side">
                            <span class="paste-label">{format!("Reproduced ({})", p.source.as_str())}</span>
                            <code class="paste-line" data-testid="paste-reproduced">{pieces_view(theirs)}</code>
                        </div>
                        <p class="paste-diffs" data-testid="paste-differences">
                            {if differences.is_empty() {
                                "No difference that points to another cause: the marked parts vary from one set-up to another (times, ids, counters, names, a log prefix).".to_string()
                            } else {
                                format!("Differs beyond times, ids and counters: {}.", differences.join("; "))
                            }}
                        </p>
                    </div>
                }
            }).collect_view();
            let more = d.placed.len().saturating_sub(SHOWN_PAIRS);
            let unplaced = d.unplaced.iter().take(5).map(|u| view! {
                <li><code>{format!("line {}: {}", u.line, u.text)}</code>" — "{u.reason.clone()}</li>
            }).collect_view();
            let has_unplaced = !d.unplaced.is_empty();
            let lesson = d.fault.as_deref().and_then(lesson_for);
            let alternatives = d.alternatives.iter().take(4).map(|a| candidate_words(a)).collect::<Vec<_>>().join("; ");
            view! {
                <section id="paste-report" class="paste-report" aria-label="Your lines and the reproduction" data-testid="paste-report">
                    <h2>"Your lines and the reproduction"</h2>
                    {pairs}
                    {(more > 0).then(|| view! { <p class="paste-more">{format!("…and {more} more placed lines.")}</p> })}
                    {has_unplaced.then(|| view! {
                        <div class="paste-unplaced" data-testid="paste-unplaced">
                            <p>"Not placed in this run:"</p>
                            <ul>{unplaced}</ul>
                        </div>
                    })}
                    <dl class="paste-why">
                        {d.cause.clone().map(|c| view! { <dt>"Cause"</dt><dd data-testid="paste-cause">{c}</dd> })}
                        {d.fix.clone().map(|c| view! { <dt>"Fix"</dt><dd data-testid="paste-fix">{c}</dd> })}
                        {(!alternatives.is_empty()).then(|| view! { <dt>"Also writes these lines"</dt><dd>{alternatives}</dd> })}
                    </dl>
                    {lesson.map(|(i, title)| view! {
                        <p class="paste-lesson">
                            <button class="paste-lesson-go" data-testid="paste-lesson" on:click=move |_| {
                                if let Some(run) = paste.lessons {
                                    run.start(i, true);
                                    // The lesson's bar is above the stage.
                                    window().scroll_to_with_x_and_y(0.0, 0.0);
                                }
                            }>{format!("Lesson: {title}")}</button>
                        </p>
                    })}
                </section>
            }
            .into_any()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(p: &[Piece], diff: bool) -> String {
        p.iter().filter(|(_, d)| *d == diff).map(|(t, _)| t.as_str()).collect::<Vec<_>>().join("|")
    }

    #[test]
    fn differing_spans_are_marked() {
        let (a, b) = marked("connect() to unix:/run/php/php8.2-fpm.sock failed, client: 1.2.3.4", "connect() to unix:/run/php/php8.2-fpm.sock failed, client: 127.0.0.1");
        assert_eq!(text(&a, true), "1|2|3|4");
        assert_eq!(text(&b, true), "127|0|0|1");
        let whole: String = a.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(whole, "connect() to unix:/run/php/php8.2-fpm.sock failed, client: 1.2.3.4");
        let (a, b) = marked("same", "same");
        assert_eq!((a.len(), b.len(), a[0].1), (1, 1, false));
        let (a, _) = marked("", "x");
        assert!(a.is_empty());
    }

    #[test]
    fn candidate_labels_in_words() {
        assert!(!candidate_words("app_down · haproxy").is_empty());
        assert_eq!(candidate_words("nope · nginx"), "nope (nginx)");
        assert_eq!(candidate_words("no fault · haproxy · 2 servers"), "Healthy upstream (HAProxy, 2 servers)");
        assert_eq!(candidate_words("scenario proxy_failover · nginx"), "Ready scenario “proxy failover” (nginx)");
        assert_eq!(candidate_words("nope (mode=x) · nginx"), "nope (mode=x, nginx)");
    }
}
