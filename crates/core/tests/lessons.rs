//! Every lesson can be completed by following its solutions, no step is
//! passed before its solution runs, every quiz answer is among its choices,
//! and every challenge can be passed (and failed).

use gateway_core::lesson::{self, catalog, Action};
use gateway_core::session::Session;
use gateway_core::sim::metrics::Metrics;
use gateway_core::sim::scenario::RetryPolicy;
use gateway_core::sim::{Scenario, Simulation};

/// The lesson as the page starts it, with the room's seed: the page's own
/// `Session` (ui/playground.rs wraps one), at instant speed.
fn start(l: &lesson::Lesson, seed: u64) -> Session {
    Session::new(lesson::starting_scenario(l, seed).unwrap()).unwrap()
}

/// A room may use any seed: every lesson must work with each of these.
const SEEDS: [u64; 5] = [1, 2, 7, 42, 20261121];

#[test]
fn the_list_is_the_directory() {
    let mut files: Vec<String> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../lessons"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json") && n != "quiz.json")
        .map(|n| n.trim_end_matches(".json").to_string())
        .collect();
    files.sort();
    let listed: Vec<String> = catalog::LESSONS.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(files, listed);
    let (ok, bad) = catalog::lessons();
    assert!(bad.is_empty(), "{bad:?}");
    assert!(ok.len() >= 8);
    // The Lessons tab's list (build.rs) is the files, in the same order, with the same words.
    assert_eq!(catalog::INDEX.iter().map(|e| e.name).collect::<Vec<_>>(), files);
    for (e, l) in catalog::INDEX.iter().zip(&ok) {
        assert_eq!((e.id, e.title, e.summary), (l.id.as_str(), l.title.as_str(), l.summary.as_str()), "{}", e.name);
        assert_eq!(e.goals.to_vec(), l.steps.iter().map(|s| s.goal.as_str()).collect::<Vec<_>>(), "{}", e.name);
    }
    let mut ids: Vec<&str> = ok.iter().map(|l| l.id.as_str()).collect();
    ids.dedup();
    assert_eq!(ids.len(), ok.len(), "lesson ids are unique");
}

#[test]
fn every_lesson_can_be_completed_and_no_step_is_passed_before_it_is_done() {
    let (lessons, _) = catalog::lessons();
    for (l, seed) in lessons.iter().flat_map(|l| SEEDS.map(|s| (l, s))) {
        let mut d = start(l, seed);
        for (i, step) in l.steps.iter().enumerate() {
            let mark = d.mark();
            assert!(!step.check.passes(&d.seen(mark)), "{} (seed {seed}) step {}: passes before anything was done", l.id, i + 1);
            let shown = d.terminal().transcript().last().map(|e| e.id);
            for a in &step.solution {
                a.perform(&mut d).unwrap_or_else(|e| panic!("{} step {}: {a:?}: {e}", l.id, i + 1));
            }
            // Every command a solution runs is one the diagnosis shell knows and accepts. (Exit
            // statuses other than 127 are the tools' own: `systemctl status` of a dead unit
            // exits 3 and `ls` of a missing file 2, as they do on a real host.)
            let ran = step.solution.iter().filter(|a| matches!(a, Action::Run(_))).count();
            let outputs: Vec<_> = d.terminal().transcript().iter().filter(|e| shown.is_none_or(|id| e.id > id)).collect();
            assert_eq!(outputs.len(), ran, "{} step {}: every command is on the terminal's screen", l.id, i + 1);
            for out in outputs {
                let refused = out.status == 127 || ["not simulated", "invalid option", "unknown option", "Usage:"].iter().any(|w| out.text.contains(w));
                assert!(!refused, "{} step {}: the shell refused a command: {}", l.id, i + 1, out.text);
                assert!(!out.text.trim().is_empty(), "{} step {}: a command printed nothing", l.id, i + 1);
            }
            let seen = d.seen(mark);
            assert!(
                step.check.passes(&seen),
                "{} (seed {seed}) step {} ({}): the solution does not pass the check; requests of the step: {:?}",
                l.id,
                i + 1,
                step.goal,
                seen.exchanges.iter().map(|e| (e.status(), e.error_lines.first().cloned())).collect::<Vec<_>>()
            );
        }
    }
}

#[test]
fn a_wrong_move_does_not_pass() {
    // Lesson 4, step 1 asks for a 504: a 502 does not do.
    let (lessons, _) = catalog::lessons();
    let l = lessons.iter().find(|l| l.id == "timeouts-504").unwrap();
    let mut d = start(l, 1);
    let mark = d.mark();
    Action::Break("app_down".into()).perform(&mut d).unwrap();
    Action::Send { count: 3, gap_ms: 20 }.perform(&mut d).unwrap();
    assert!(!l.steps[0].check.passes(&d.seen(mark)));
}

#[test]
fn every_quiz_answer_comes_from_the_engine_and_is_offered() {
    let quiz = catalog::quiz().unwrap();
    assert!(quiz.questions.len() >= 6);
    let mut answers = std::collections::BTreeSet::new();
    for q in &quiz.questions {
        let text = catalog::scenario_text(&q.scenario).unwrap_or_else(|| panic!("{}: no scenario {}", q.id, q.scenario));
        let mut sim = Simulation::new(Scenario::from_json(text).unwrap()).unwrap();
        sim.run();
        let e = lesson::asked(q, &sim).unwrap_or_else(|| panic!("{}: no such request", q.id));
        let status = e.status().unwrap_or_else(|| panic!("{}: no status", q.id));
        assert!(q.choices.contains(&status), "{}: the engine says {status}, not among {:?}", q.id, q.choices);
        answers.insert(status);
    }
    assert!(answers.len() >= 3, "the answers are not all the same: {answers:?}");
}

#[test]
fn every_challenge_can_be_passed_and_failed() {
    let quiz = catalog::quiz().unwrap();
    // A strategy that passes each one, found by hand in the lab.
    let winning = |id: &str| -> RetryPolicy {
        match id {
            "flaky-99" => RetryPolicy { retry_on: vec!["502".into(), "503".into(), "connect_error".into(), "error".into()], ..RetryPolicy::preset("exponential_full_jitter").unwrap() },
            "outage-99" => RetryPolicy::python_requests(),
            "tail-200ms" => RetryPolicy::preset("hedged").unwrap(),
            other => panic!("no winning strategy for {other}"),
        }
    };
    for c in &quiz.challenges {
        let text = catalog::experiment_text(&c.experiment).unwrap();
        let base = Scenario::from_json(text).unwrap();
        let run = |p: RetryPolicy| {
            let mut s = base.clone();
            s.clients.retry = p;
            if let Some(n) = c.requests {
                s.clients.requests = n;
            }
            let mut sim = Simulation::new(s).unwrap();
            sim.world_mut().measure_only();
            sim.run();
            Metrics::of(sim.world())
        };
        let win = c.pass.judge(&run(winning(&c.id)));
        assert!(win.passed, "{}: {:?}", c.id, win.lines);
        let lose = c.pass.judge(&run(RetryPolicy::default()));
        assert!(!lose.passed, "{}: no retries passes too: {:?}", c.id, lose.lines);
    }
}
