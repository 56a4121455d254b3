//! Guided lessons: the lesson in progress and its commands (start, Show me,
//! next step, next lesson, leave), shared through context. The page checks
//! each step against the simulation (`crate::lesson`); the content is data
//! (`lessons/*.json`). `lessons_list.rs` (the Lessons tab: pick and start)
//! and `lessons_bar.rs` (the current step, above the stage) show it.

use leptos::prelude::*;

use crate::lesson::{Lesson, Mark, Step};

use super::playground::Playground;
use super::presenter::Training;
use super::lazy::LoadFailed;
use super::share::Address;

/// A lesson in progress.
#[derive(Clone, Debug, PartialEq)]
pub struct Progress {
    pub lesson: usize,
    pub step: usize,
    /// Where the current step began.
    mark: Mark,
}

#[derive(Clone, Copy)]
pub struct LessonRun {
    pg: Playground,
    address: Option<Address>,
    /// The lessons that parse, once read (`load`: the codec chunk reads them, issue 20).
    lessons: RwSignal<Vec<Lesson>>,
    /// A message for each lesson that does not parse.
    pub broken: RwSignal<Vec<String>>,
    loaded: RwSignal<bool>,
    /// The lesson chosen in the list: a position in `catalog::INDEX` (the list is there before
    /// the lessons are read).
    pub chosen: RwSignal<usize>,
    /// A lesson chosen in the list is being read (the codec chunk) and started.
    pub starting: RwSignal<bool>,
    pub progress: RwSignal<Option<Progress>>,
    pub show_hint: RwSignal<bool>,
    /// Why a lesson could not start, or which "Show me" action was refused.
    pub error: RwSignal<Option<String>>,
    /// Whether the current step's check passes.
    pub passed: Memo<bool>,
}

impl LessonRun {
    /// Provides the context and listens to the presenter's N key. The lessons are read by `load`.
    pub fn new() -> LessonRun {
        let pg = Playground::get();
        let training = Training::get();
        let lessons = RwSignal::new(Vec::<Lesson>::new());
        let progress = RwSignal::new(None::<Progress>);
        let passed = Memo::new(move |_| {
            let p = progress.get()?;
            let s = lessons.with(|ls| ls.get(p.lesson).and_then(|l| l.steps.get(p.step).cloned()))?;
            Some(pg.passes(&s.check, p.mark))
        });
        let passed = Memo::new(move |_| passed.get() == Some(true));
        let run = LessonRun { pg, address: Address::get(), lessons, broken: RwSignal::new(Vec::new()), loaded: RwSignal::new(false), chosen: RwSignal::new(0), starting: RwSignal::new(false), progress, show_hint: RwSignal::new(false), error: RwSignal::new(None), passed };
        provide_context(run);
        // The presenter's "N" key: the next step, or the next lesson at the end.
        Effect::new(move |prev: Option<u64>| {
            let n = training.next_step.get();
            if prev.is_some_and(|p| p != n) {
                untrack(|| run.next());
            }
            n
        });
        run
    }

    pub fn get() -> LessonRun {
        expect_context::<LessonRun>()
    }

    /// The lessons (tracked; none until `load` has read them).
    pub fn with_lessons<T>(self, f: impl FnOnce(&[Lesson]) -> T) -> T {
        self.lessons.with(|ls| f(ls))
    }

    /// Reads the lessons (`catalog::lessons`, in the codec chunk) unless they were.
    pub async fn load(self) -> Result<(), LoadFailed> {
        if self.loaded.get_untracked() {
            return Ok(());
        }
        let (ok, bad) = super::codec::lessons().await?;
        if !self.loaded.get_untracked() {
            self.lessons.set(ok);
            self.broken.set(bad);
            self.loaded.set(true);
        }
        Ok(())
    }

    /// Whether a lesson has this id (false until `load`).
    pub fn knows(self, id: &str) -> bool {
        self.lessons.with_untracked(|ls| ls.iter().any(|l| l.id == id))
    }

    fn begin_step(self, lesson: usize, step: usize) {
        self.show_hint.set(false);
        self.error.set(None);
        self.progress.set(Some(Progress { lesson, step, mark: self.pg.mark() }));
    }

    /// Starts lesson `i` from its own scenario. `push`: a user's choice (a
    /// new history entry); not when the address itself asked for it.
    pub fn start(self, i: usize, push: bool) {
        leptos::task::spawn_local(self.begin(i, push));
    }

    /// Starts the lesson at position `pos` of the Lessons tab's list (`catalog::INDEX`): reads
    /// the lessons first if nobody has (the codec chunk), saying so while it does.
    pub fn start_listed(self, pos: usize) {
        let Some(entry) = crate::lesson::catalog::INDEX.get(pos) else { return };
        if self.starting.get_untracked() {
            return;
        }
        self.starting.set(true);
        self.error.set(None);
        leptos::task::spawn_local(async move {
            if self.load().await.is_err() {
                self.error.set(Some("The lessons could not load their part of the simulator: check the connection and try again.".into()));
            } else if let Some(i) = self.lessons.with_untracked(|ls| ls.iter().position(|l| l.id == entry.id)) {
                self.begin(i, true).await;
            } else {
                // The file is listed but did not read as a lesson: `broken` says why.
                let why = self.broken.with_untracked(|b| b.iter().find(|m| m.contains(entry.name)).cloned());
                self.error.set(Some(why.unwrap_or_else(|| format!("The lesson \"{}\" could not be read.", entry.title))));
            }
            self.starting.set(false);
        });
    }

    /// `start`, done when the lesson's scenario is loaded (read in the codec chunk).
    pub async fn begin(self, i: usize, push: bool) {
        let Some(l) = self.lessons.with_untracked(|ls| ls.get(i).cloned()) else { return };
        let pg = self.pg;
        // The room keeps its seed: everyone on the same link sees the same run.
        let seed = pg.scenario.with_untracked(|s| s.seed);
        let loaded = match super::codec::lesson_scenario(l.clone(), seed).await {
            Ok(Ok(sc)) => pg.load(sc).await.map_err(|e| e.to_string()),
            Ok(Err(e)) => Err(e),
            Err(LoadFailed) => Err("The lesson could not load its part of the simulator: check the connection and try again.".to_string()),
        };
        if let Err(e) = loaded {
            self.error.set(Some(e));
            return;
        }
        if let Some(pos) = crate::lesson::catalog::INDEX.iter().position(|e| e.id == l.id) {
            self.chosen.set(pos);
        }
        self.begin_step(i, 0);
        if let Some(a) = self.address {
            a.lesson.set(Some(l.id.clone()));
            if push {
                a.push();
            }
        }
    }

    /// Starts the lesson with this id (from the address), once the lessons are read.
    pub async fn start_id(self, id: &str) -> Result<(), LoadFailed> {
        self.load().await?;
        if let Some(i) = self.lessons.with_untracked(|ls| ls.iter().position(|l| l.id == id)) {
            self.begin(i, false).await;
        }
        Ok(())
    }

    pub fn leave(self) {
        self.progress.set(None);
        self.error.set(None);
        if let Some(a) = self.address {
            a.lesson.set(None);
        }
    }

    pub fn lesson(self) -> Option<Lesson> {
        let p = self.progress.get()?;
        self.lessons.with(|ls| ls.get(p.lesson).cloned())
    }

    pub fn step(self) -> Option<Step> {
        let p = self.progress.get()?;
        self.lessons.with(|ls| ls.get(p.lesson).and_then(|l| l.steps.get(p.step).cloned()))
    }

    pub fn last_step(self) -> bool {
        self.progress.get().zip(self.lesson()).is_some_and(|(p, l)| p.step + 1 >= l.steps.len())
    }

    /// The lesson after the one in progress: (index, title).
    pub fn next_lesson(self) -> Option<(usize, String)> {
        let i = self.progress.get()?.lesson + 1;
        self.lessons.with(|ls| ls.get(i).map(|l| (i, l.title.clone())))
    }

    /// The next step once this one passes; at the end of a lesson, the next lesson.
    pub fn next(self) {
        if !self.passed.get_untracked() {
            return;
        }
        let Some(p) = self.progress.get_untracked() else { return };
        let n = self.lessons.with_untracked(|ls| ls.get(p.lesson).map(|l| l.steps.len()).unwrap_or(0));
        if p.step + 1 < n {
            self.begin_step(p.lesson, p.step + 1);
        } else if let Some((i, _)) = untrack(|| self.next_lesson()) {
            self.start(i, true);
        }
    }

    /// "Show me" performs the step's solution on the page's Session, the same
    /// commands the buttons run; the first refused one stops it and says why.
    pub fn show_me(self) {
        let Some(st) = untrack(|| self.step()) else { return };
        let pg = self.pg;
        let error = self.error;
        error.set(None);
        // The actions run from a chunk loaded on the first "Show me" (`lazy::perform`, issue 20).
        leptos::task::spawn_local(async move {
            match super::lazy::perform(pg, st.solution.clone()).await {
                Ok(refused) => error.set(refused),
                Err(super::lazy::LoadFailed) => error.set(Some("\"Show me\" could not load its part of the simulator: check the connection and try again.".into())),
            }
        });
    }
}
