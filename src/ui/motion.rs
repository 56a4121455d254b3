//! The replay: the stage's request (the newest, or the one picked) drawn hop
//! by hop over screen time a person can follow, whatever its virtual
//! duration. The engine says what happened and when (`sim::motion::journey`:
//! hops, waits, the proxy timer that governed a wait); this file only maps
//! virtual time to screen time: every hop takes `HOP_MS`, a wait a moment
//! that grows with its length (a minute in about three seconds), and a
//! waiting proxy's timer counts through the virtual time of its wait.
//!
//! The result itself is never delayed: the status, the log line and the
//! explanation show at once; the replay only draws the journey. With
//! `prefers-reduced-motion: reduce` it shows the end state at once (the
//! timer's final value included). Each Send, pick or new run restarts it.

use leptos::prelude::*;

use super::playground::Playground;
use crate::sim::engine::fmt_duration;
use crate::sim::motion::{journey, Journey, Leg, Node};

/// Screen time of one hop, whatever its virtual duration.
pub const HOP_MS: f64 = 450.0;

/// Screen time of a wait of `us` virtual microseconds: a moment for a short
/// one, about 3 s for a minute, never more than 4 s.
pub fn wait_ms(us: u64) -> f64 {
    (300.0 + 12.0 * (us as f64 / 1_000.0).sqrt()).min(4_000.0)
}

/// A waiting proxy's timer as the replay shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct Clock {
    /// `proxy_read_timeout 60s`.
    pub setting: String,
    pub elapsed_us: u64,
    pub limit_us: u64,
    /// It has run out (the end of a wait it ended).
    pub fired: bool,
}

impl Clock {
    /// `waiting 12.4 s`, `timed out at 60.0 s`.
    pub fn reading(&self) -> String {
        let t = fmt_duration(self.elapsed_us);
        if self.fired { format!("timed out at {t}") } else { format!("waiting {t}") }
    }
}

/// Where the replay stands: on the link from `from` to `to`, `f` of the way.
#[derive(Clone, Debug, PartialEq)]
pub struct Frame {
    pub from: Node,
    pub to: Node,
    pub f: f64,
    /// What travels (empty during a wait).
    pub what: String,
    pub clock: Option<Clock>,
    /// The replay has reached its end.
    pub done: bool,
}

/// A journey with the screen time of each leg.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    pub journey: Journey,
    /// Screen milliseconds at the end of each leg (cumulative).
    ends: Vec<f64>,
}

impl Plan {
    pub fn new(journey: Journey) -> Plan {
        let mut t = 0.0;
        let ends = journey
            .legs
            .iter()
            .map(|l| {
                t += match l {
                    Leg::Hop { .. } => HOP_MS,
                    Leg::Wait { start, end, .. } => wait_ms(end.since(*start)),
                };
                t
            })
            .collect();
        Plan { journey, ends }
    }

    pub fn total(&self) -> f64 {
        self.ends.last().copied().unwrap_or(0.0)
    }

    /// The frame `ms` of screen time into the replay (clamped to its end).
    pub fn frame(&self, ms: f64) -> Option<Frame> {
        let legs = &self.journey.legs;
        let i = self.ends.iter().position(|&e| ms < e).unwrap_or(legs.len().checked_sub(1)?);
        let begin = if i == 0 { 0.0 } else { self.ends[i - 1] };
        let f = ((ms - begin) / (self.ends[i] - begin).max(1.0)).clamp(0.0, 1.0);
        let done = ms >= self.total();
        // The dot stays where the last hop left it; the timer shown is the one
        // of the wait under way, or of a wait it ended (until another begins).
        let mut at = (Node::Client, Node::Proxy, 0.0, String::new());
        let mut clock = None;
        for (k, leg) in legs[..=i].iter().enumerate() {
            let now = k == i;
            match leg {
                Leg::Hop { from, to, what, .. } => at = (*from, *to, if now { f } else { 1.0 }, if now { what.clone() } else { String::new() }),
                Leg::Wait { start, end, timer, .. } => {
                    at.3.clear();
                    clock = timer.as_ref().filter(|t| now || t.fired).map(|t| {
                        let v = if now { start.as_micros() + ((end.since(*start)) as f64 * f) as u64 } else { end.as_micros() };
                        let elapsed_us = v.saturating_sub(t.since.as_micros());
                        Clock { setting: t.setting(), elapsed_us, limit_us: t.limit_us, fired: t.fired && (!now || f >= 1.0) }
                    });
                }
            }
        }
        let (from, to, f, mut what) = at;
        if done {
            // The end state: the dot at rest, coloured by the outcome (shown beside it at once).
            what.clear();
        }
        Some(Frame { from, to, f, what, clock, done })
    }
}

/// The replay's pieces in the topology's SVG, painted by [`paint`] (plain
/// elements updated in place every frame: cheaper in the bundle than a
/// reactive view of each attribute).
pub const SKELETON: &str = concat!(
    r#"<g id="motion-timer" class="motion-timer motion-off" data-testid="motion-timer">"#,
    r#"<rect id="motion-cover" class="motion-cover" x="2" y="27" height="35"/>"#,
    r#"<text id="motion-setting" class="topo-detail" x="12" y="40"></text>"#,
    r#"<text id="motion-reading" class="topo-state motion-reading" x="12" y="57"></text>"#,
    r#"<rect id="motion-bar" class="motion-bar" x="2" y="58" height="4"/></g>"#,
    r#"<g id="motion-replay" class="motion motion-off" aria-hidden="true">"#,
    r#"<circle id="motion-dot" class="motion-dot" data-testid="motion-dot" data-state="none" r="8"/>"#,
    r#"<text id="motion-what" class="motion-what"></text></g>"#,
);

/// Where the topology puts the replay's pieces (its layout's coordinates).
pub struct Place {
    pub dot: (f64, f64),
    /// The proxy box's corner and width (the timer covers its last two lines).
    pub proxy: (f64, f64),
    pub box_w: f64,
    /// The stacked (narrow) topology: the label goes beside the dot.
    pub vertical: bool,
}

fn set(id: &str, name: &str, value: &str) {
    if let Some(e) = document().get_element_by_id(id) {
        let _ = e.set_attribute(name, value);
    }
}

fn text(id: &str, value: &str) {
    if let Some(e) = document().get_element_by_id(id) {
        e.set_text_content(Some(value));
    }
}

/// Draws `frame` (None: nothing to replay) on the [`SKELETON`]'s elements.
pub fn paint(frame: Option<&Frame>, outcome: &str, at: &Place) {
    let clock = frame.and_then(|f| f.clock.as_ref());
    set("motion-timer", "class", match clock {
        Some(c) if c.fired => "motion-timer fired",
        Some(_) => "motion-timer",
        None => "motion-timer motion-off",
    });
    if let Some(c) = clock {
        let w = at.box_w - 4.0;
        set("motion-timer", "transform", &super::topology::translate(at.proxy));
        set("motion-cover", "width", &w.to_string());
        text("motion-setting", &format!("{} ", c.setting));
        text("motion-reading", &c.reading());
        set("motion-bar", "width", &(w * (c.elapsed_us as f64 / c.limit_us.max(1) as f64).min(1.0)).to_string());
    }
    let Some(f) = frame else {
        set("motion-replay", "class", "motion motion-off");
        return;
    };
    set("motion-replay", "class", if at.vertical { "motion vertical" } else { "motion" });
    set("motion-replay", "transform", &super::topology::translate(at.dot));
    let class = match f {
        f if f.done => format!("motion-dot {outcome}"),
        f if f.what.is_empty() => "motion-dot waiting".into(),
        _ => "motion-dot".into(),
    };
    set("motion-dot", "class", &class);
    set("motion-dot", "data-state", if f.done { "done" } else { "moving" });
    text("motion-what", &f.what);
}

/// The replay of the stage's request. `moving` names the request while its
/// journey is being drawn (the topology hides its static dot meanwhile).
#[derive(Clone, Copy)]
pub struct Replay {
    pub moving: RwSignal<Option<usize>>,
    st: StoredValue<State>,
    paint: StoredValue<Box<dyn Fn(Option<&Frame>, &'static str)>, LocalStorage>,
}

#[derive(Default)]
struct State {
    key: Option<(u64, usize)>,
    plan: Plan,
    /// The request's outcome class (`ok`, `fail`, ...): the dot's colour at the end.
    outcome: &'static str,
    /// Screen milliseconds into the replay.
    clock: f64,
    /// `prefers-reduced-motion: reduce` when the request was first shown: its end state only.
    still: bool,
    /// The previous animation frame's time; None when no frame is scheduled.
    last: Option<f64>,
}

fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map(|p| p.now()).unwrap_or(0.0)
}

/// `prefers-reduced-motion: reduce` (read when the replay's request changes).
fn reduced_motion() -> bool {
    use wasm_bindgen::JsCast;
    let w = window();
    let f = js_sys::Reflect::get(&w, &"matchMedia".into()).ok().and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    f.and_then(|f| f.call1(&w, &"(prefers-reduced-motion: reduce)".into()).ok())
        .and_then(|m| js_sys::Reflect::get(&m, &"matches".into()).ok())
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}

impl Replay {
    /// Follows the playground's shown request (the picked one, else the
    /// newest) and replays it, calling `paint` with each frame (None:
    /// nothing to replay) and the request's outcome class. Signals `paint`
    /// reads are tracked: a change (the layout) repaints.
    pub fn follow(paint: impl Fn(Option<&Frame>, &'static str) + 'static) -> Replay {
        let pg = Playground::get();
        let r = Replay { moving: RwSignal::new(None), st: StoredValue::new(State::default()), paint: StoredValue::new_local(Box::new(paint)) };
        Effect::new(move |_| {
            pg.revision.track();
            let pick = pg.selected.get();
            let epoch = pg.epoch.get_untracked();
            let shown = pg.with_sim(|s| {
                let ex = s.exchanges();
                let e = pick.and_then(|i| ex.get(i)).or_else(|| ex.last())?;
                Some((e.id, e.outcome_class().css(), journey(&s.world().scenario, e, s.now())))
            });
            let start = r.st.try_update_value(|s| {
                let Some((id, outcome, journey)) = shown else {
                    *s = State { last: s.last, ..State::default() };
                    return false;
                };
                if s.key != Some((epoch, id)) {
                    s.key = Some((epoch, id));
                    s.clock = 0.0;
                    s.still = reduced_motion();
                }
                s.plan = Plan::new(journey);
                s.outcome = outcome;
                s.clock = if s.still { s.plan.total() } else { s.clock.min(s.plan.total()) };
                let go = s.clock < s.plan.total() && s.last.is_none();
                if go {
                    s.last = Some(now_ms());
                }
                go
            });
            r.draw();
            if start == Some(true) {
                r.next();
            }
        });
        r
    }

    fn draw(self) {
        let (frame, moving, outcome) = self.st.with_value(|s| {
            let moving = s.key.filter(|_| s.clock < s.plan.total()).map(|k| k.1);
            (s.plan.frame(s.clock), moving, s.outcome)
        });
        if self.moving.get_untracked() != moving {
            self.moving.set(moving);
        }
        self.paint.with_value(|p| p(frame.as_ref(), outcome));
    }

    fn next(self) {
        request_animation_frame(move || self.tick());
    }

    /// One animation frame: advance the replay by the screen time since the
    /// previous one (at most 100 ms, so a busy or hidden page slows it rather
    /// than skipping hops), draw, and ask for the next frame until the end.
    fn tick(self) {
        let t = now_ms();
        let go = self.st.try_update_value(|s| {
            let Some(last) = s.last else { return false };
            s.clock = (s.clock + (t - last).clamp(0.0, 100.0)).min(s.plan.total());
            let go = s.clock < s.plan.total();
            s.last = go.then_some(t);
            go
        });
        self.draw();
        if go == Some(true) {
            self.next();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::motion::Timer;
    use crate::sim::time::SimTime;

    fn hop(from: Node, to: Node, a: u64, b: u64) -> Leg {
        Leg::Hop { from, to, start: SimTime(a), end: SimTime(b), what: "x".into() }
    }

    #[test]
    fn short_and_long_waits_get_watchable_screen_time() {
        assert!(wait_ms(400) >= 300.0 && wait_ms(400) < 320.0);
        let minute = wait_ms(60_000_000);
        assert!((2_500.0..=4_000.0).contains(&minute), "{minute}");
        assert_eq!(wait_ms(3_600_000_000), 4_000.0);
    }

    #[test]
    fn the_timer_counts_through_the_wait_and_stays_once_it_fired() {
        let up = Node::Upstream { app: Some(0) };
        let timer = Timer { name: "proxy_read_timeout", limit_us: 60_000_000, since: SimTime(300), fired: true };
        let plan = Plan::new(Journey {
            legs: vec![
                hop(Node::Client, Node::Proxy, 0, 100),
                hop(Node::Proxy, up, 100, 400),
                Leg::Wait { at: up, start: SimTime(400), end: SimTime(60_000_300), timer: Some(timer) },
                hop(Node::Proxy, Node::Client, 60_000_300, 60_000_400),
            ],
            finished: true,
        });
        let w = wait_ms(60_000_000 - 100);
        assert_eq!(plan.total(), 3.0 * HOP_MS + w);
        let f = plan.frame(HOP_MS / 2.0).unwrap();
        assert_eq!((f.from, f.to, f.f, f.clock.is_none()), (Node::Client, Node::Proxy, 0.5, true));
        let mid = plan.frame(2.0 * HOP_MS + w / 2.0).unwrap().clock.unwrap();
        assert!(!mid.fired && (29_000_000..31_000_000).contains(&mid.elapsed_us), "{mid:?}");
        assert_eq!(mid.setting, "proxy_read_timeout 60s");
        let end = plan.frame(1e9).unwrap();
        assert!(end.done && end.f == 1.0 && end.from == Node::Proxy && end.to == Node::Client);
        let c = end.clock.unwrap();
        assert!(c.fired && c.elapsed_us == 60_000_000, "{c:?}");
        assert_eq!(c.reading(), "timed out at 60.0 s");
    }
}
