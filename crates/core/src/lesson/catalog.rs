//! The lessons and the quiz, compiled in (the files of `lessons/`;
//! `tests/lessons.rs` keeps this list equal to the directory).

use super::{Lesson, Quiz};

/// (file stem, JSON text), in teaching order.
pub const LESSONS: &[(&str, &str)] = &[
    ("01-app-not-running", include_str!("../../../../lessons/01-app-not-running.json")),
    ("02-wrong-port-or-socket", include_str!("../../../../lessons/02-wrong-port-or-socket.json")),
    ("03-crash-and-oom", include_str!("../../../../lessons/03-crash-and-oom.json")),
    ("04-timeouts-504", include_str!("../../../../lessons/04-timeouts-504.json")),
    ("05-overload-503", include_str!("../../../../lessons/05-overload-503.json")),
    ("06-keepalive-mismatch", include_str!("../../../../lessons/06-keepalive-mismatch.json")),
    ("07-oversized-headers", include_str!("../../../../lessons/07-oversized-headers.json")),
    ("08-deploy-restarts", include_str!("../../../../lessons/08-deploy-restarts.json")),
    ("09-502-503-504", include_str!("../../../../lessons/09-502-503-504.json")),
    ("10-php-fpm-socket", include_str!("../../../../lessons/10-php-fpm-socket.json")),
    ("11-gunicorn-timeout", include_str!("../../../../lessons/11-gunicorn-timeout.json")),
];

/// A lesson as the Lessons tab lists it before any lesson is read (build.rs writes [`INDEX`] from
/// the files at build time, so listing them needs no JSON reader in the page's main module).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The file stem (`01-app-not-running`), as in [`LESSONS`].
    pub name: &'static str,
    /// The lesson's `id` (`lesson=` in a link); empty if build.rs could not read the file.
    pub id: &'static str,
    pub title: &'static str,
    pub summary: &'static str,
    /// Each step's `goal`.
    pub goals: &'static [&'static str],
}

include!(concat!(env!("OUT_DIR"), "/lesson_index.rs"));

pub const QUIZ: &str = include_str!("../../../../lessons/quiz.json");

/// Every lesson that parses and validates, and a message for each that does not.
pub fn lessons() -> (Vec<Lesson>, Vec<String>) {
    let mut ok = Vec::new();
    let mut bad = Vec::new();
    for (name, text) in LESSONS {
        match Lesson::from_json(text) {
            Ok(l) => ok.push(l),
            Err(e) => bad.push(format!("lessons/{name}.json: {e}")),
        }
    }
    (ok, bad)
}

pub fn quiz() -> Result<Quiz, String> {
    Quiz::from_json(QUIZ).map_err(|e| format!("lessons/quiz.json: {e}"))
}

/// A ready scenario's JSON (`scenarios/NAME.json`).
pub fn scenario_text(name: &str) -> Option<&'static str> {
    crate::scenarios::READY.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// A retry-lab experiment's JSON (`scenarios/retry_lab/NAME.json`).
pub fn experiment_text(name: &str) -> Option<&'static str> {
    crate::scenarios::EXPERIMENTS.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}
