//! The comparison tab's two views, computed here so the page only renders
//! them (ARCHITECTURE.md, invariant 5):
//!
//! - [`breakages`]: 502 vs 503 vs 504, the same request through three
//!   breakages on the user's configuration;
//! - [`per_proxy`]: one break through every flavor ([`Flavor::ALL`]) side by
//!   side: what the client got, how many tries reached the app, how long the
//!   client waited, the flavor's key log line exactly as the engine writes it
//!   (`embed_api::telling_line`, the line the stage shows), the flavor's
//!   version; or why the flavor does not model the scenario (its
//!   `unsupported()` message, which `Scenario::validate` gives under
//!   `proxy.flavor`).
//!
//! Each card is a fresh [`Session`] on the user's scenario with the flavor
//! and the break swapped in, sent one request as the stage's Send does; a
//! break that one request cannot show (`Fault::pattern`: the keep-alive
//! race, overload) gets its pattern's traffic, as the stage's pattern button
//! sends it, and the card shows the request the stage would show (the first
//! that failed).

use crate::embed_api::{self, Termination};
use crate::session::{Session, SessionError};
use crate::sim::engine::fmt_duration;
use crate::sim::fault::pattern_for;
use crate::sim::scenario::{Clients, Flavor};
use crate::sim::world::{Exchange, OutcomeClass};
use crate::sim::{Fault, FaultKind, RequestSpec, Scenario};
use crate::view;

/// How long the slow app takes in the "slower than the timeouts" break:
/// above every flavor's default response timeout (nginx's
/// `proxy_read_timeout`, HAProxy's `timeout server`, Apache's `ProxyTimeout`
/// and Varnish's `first_byte_timeout` are all 60 s; Caddy has none).
pub const SLOW_MS: u64 = 90_000;

/// The break the per-proxy view runs through every flavor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Break {
    /// The app process is not running: connection refused.
    AppDown,
    /// The app answers after [`SLOW_MS`].
    AppSlow,
    /// The app sends its headers and part of the body, then dies.
    AppResets,
    /// The app answers 503 with `Retry-After` (maintenance mode).
    Maintenance,
    /// The faults of the user's scenario, as they are on the stage.
    Stage,
}

impl Break {
    /// In the order the page offers them.
    pub const ALL: [Break; 5] = [Break::AppDown, Break::AppSlow, Break::AppResets, Break::Maintenance, Break::Stage];

    /// Stable id (the page's select values and test ids).
    pub fn id(self) -> &'static str {
        match self {
            Break::AppDown => "app_down",
            Break::AppSlow => "app_slow",
            Break::AppResets => "app_resets",
            Break::Maintenance => "maintenance",
            Break::Stage => "stage",
        }
    }

    pub fn parse(id: &str) -> Option<Break> {
        Break::ALL.into_iter().find(|b| b.id() == id)
    }

    /// What the page calls it, in no one proxy's words; the stage's break
    /// named by its first fault's title (nginx's words, as the catalog).
    pub fn label(self, base: &Scenario) -> String {
        match self {
            Break::AppDown => "App down (connection refused)".into(),
            Break::AppSlow => format!("App slower than the timeouts ({})", fmt_duration(SLOW_MS * 1_000)),
            Break::AppResets => "App dies mid-response".into(),
            Break::Maintenance => "Maintenance 503 (Retry-After)".into(),
            Break::Stage => match base.faults.first() {
                None => "On the stage: nothing broken".into(),
                Some(f) if base.faults.len() == 1 => format!("On the stage: {}", f.kind.title()),
                Some(f) => format!("On the stage: {} and {} more", f.kind.title(), base.faults.len() - 1),
            },
        }
    }

    /// The faults this break runs with on `base`.
    pub fn faults(self, base: &Scenario) -> Vec<Fault> {
        let one = |k: FaultKind| vec![Fault::from(k)];
        match self {
            Break::AppDown => one(FaultKind::AppDown),
            Break::AppSlow => one(FaultKind::SlowApp { delay_ms: SLOW_MS }),
            Break::AppResets => match FaultKind::from_id("dies_after_headers") {
                Some(k) => one(k),
                None => one(FaultKind::CrashMidRequest),
            },
            Break::Maintenance => one(FaultKind::Maintenance { retry_after_s: 120 }),
            Break::Stage => base.faults.clone(),
        }
    }
}

/// One flavor's card in the per-proxy view.
#[derive(Clone, Debug, PartialEq)]
pub struct Card {
    pub flavor: Flavor,
    /// `nginx`, `HAProxy`, ...
    pub name: &'static str,
    /// The version the scenario runs (`1.22.1`), or "documented, not verified" for a flavor no binary ran for.
    pub version: String,
    pub result: CardResult,
}

#[derive(Clone, Debug, PartialEq)]
pub enum CardResult {
    Ran(Box<Run>),
    /// The flavor refuses the scenario: its `unsupported()` message.
    NotModelled(String),
    /// The scenario is refused for another reason (the message names the field).
    Invalid(String),
}

/// What one request through one flavor did.
#[derive(Clone, Debug, PartialEq)]
pub struct Run {
    /// The status the client got, if any (`None`: no response).
    pub status: Option<u16>,
    /// What the client got, in a few words (`view::headline`): `502 Bad
    /// Gateway`, `No response: connection reset`.
    pub headline: String,
    /// `ok`, `warn`, `fail` (`OutcomeClass::css`).
    pub class: &'static str,
    /// The proxy's tries at the app for this request.
    pub attempts: usize,
    /// Of those, the ones on a new connection (the rest reused a kept-alive one).
    pub connections: usize,
    /// From the request's send to its end, virtual microseconds.
    pub waited_us: u64,
    /// Where the line was written, in the flavor's words (`Apache error.log`).
    pub log: &'static str,
    /// The key log line, exactly as written; `None`: the request left none.
    pub line: Option<String>,
    /// HAProxy: the line's termination state and its meaning.
    pub termination: Option<Termination>,
    pub explanation: String,
    /// The label of the traffic pattern sent, when one request does not show the break.
    pub pattern: Option<String>,
}

impl Run {
    /// `1 attempt, 1 connection`, `4 attempts, 4 connections`, `2 attempts, 1 connection (1 reused)`.
    pub fn tries(&self) -> String {
        let s = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
        let reused = self.attempts - self.connections.min(self.attempts);
        let mut out = format!("{}, {}", s(self.attempts, "attempt"), s(self.connections, "new connection"));
        if reused > 0 {
            out.push_str(&format!(", {reused} reused"));
        }
        out
    }

    /// `30.0 s`, `1.2 ms`.
    pub fn waited(&self) -> String {
        fmt_duration(self.waited_us)
    }
}

/// The version `flavor` runs in `sc` (the config comment's and `-v`'s).
pub fn version(sc: &Scenario, flavor: Flavor) -> String {
    let p = &sc.proxy;
    match flavor {
        Flavor::Nginx => p.version.clone(),
        Flavor::Haproxy => p.haproxy.version.clone(),
        Flavor::Apache => p.apache.version.clone(),
        Flavor::Caddy => p.caddy.version.clone(),
        Flavor::Varnish => p.varnish.version.clone(),
        // No binary ran: the card says where the model comes from instead.
        Flavor::Envoy | Flavor::Alb => "documented, not verified".into(),
    }
}

/// `brk` through every flavor, on the user's scenario `base`.
pub fn per_proxy(base: &Scenario, brk: Break) -> Vec<Card> {
    let faults = brk.faults(base);
    Flavor::ALL
        .into_iter()
        .map(|flavor| {
            let mut sc = base.clone();
            sc.proxy.flavor = flavor;
            sc.faults = faults.clone();
            Card { flavor, name: flavor.display(), version: version(&sc, flavor), result: run_one(sc) }
        })
        .collect()
}

/// One request (or the break's pattern) on a fresh session of `sc`, whose
/// own requests are dropped so that the card shows the break alone.
fn run_one(mut sc: Scenario) -> CardResult {
    sc.clients = Clients { requests: 0, ..sc.clients };
    sc.requests = Vec::new();
    let mut s = match Session::paused(sc) {
        Ok(s) => s,
        Err(SessionError::InvalidScenario(m)) => {
            return match m.strip_prefix("proxy.flavor: ") {
                Some(why) => CardResult::NotModelled(why.to_string()),
                None => CardResult::Invalid(m),
            }
        }
        Err(e) => return CardResult::Invalid(e.to_string()),
    };
    let pattern = pattern_for(s.scenario()).map(|p| p.label);
    let shown = if pattern.is_some() {
        match s.demonstrate() {
            Ok(d) => d.failed.or(d.sent.last().copied()),
            Err(e) => return CardResult::Invalid(e.to_string()),
        }
    } else {
        match s.send(1, 0) {
            Ok(ids) => ids.first().copied(),
            Err(e) => return CardResult::Invalid(e.to_string()),
        }
    };
    let w = s.sim().world();
    match shown.and_then(|id| s.sim().exchanges().get(id)) {
        Some(ex) => CardResult::Ran(Box::new(read(w, ex, pattern))),
        None => CardResult::Invalid("the request was not recorded".into()),
    }
}

fn read(w: &crate::sim::world::World, ex: &Exchange, pattern: Option<String>) -> Run {
    let flavor = w.scenario.proxy.flavor;
    let (log, line) = embed_api::telling_line(w, ex);
    let (headline, class) = view::headline(ex);
    let termination = if flavor == Flavor::Haproxy { line.as_deref().and_then(embed_api::termination) } else { None };
    let waited_us = ex.finished_at.map_or(0, |t| t.as_micros().saturating_sub(ex.sent_at.as_micros()));
    Run {
        status: ex.status(),
        headline,
        class,
        attempts: ex.attempts.len(),
        connections: ex.attempts.iter().filter(|a| !a.reused).count(),
        waited_us,
        log: match log {
            "stderr" => "stderr (journalctl)",
            l => embed_api::log_title_in(l, flavor),
        },
        line,
        termination,
        explanation: embed_api::one_line(ex.explanation.as_deref().unwrap_or_default()),
        pattern,
    }
}

/// One column of 502 vs 503 vs 504.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    /// The fault's title in the proxy's words.
    pub fault: &'static str,
    pub status: String,
    pub log: String,
    pub explanation: String,
    /// The request failed (`OutcomeClass::Failure`).
    pub failed: bool,
}

/// The same request through three breakages (app down, maintenance, slow
/// app), on `base`'s configuration and flavor.
pub fn breakages(base: &Scenario) -> Vec<Column> {
    [FaultKind::AppDown, FaultKind::Maintenance { retry_after_s: 120 }, FaultKind::SlowApp { delay_ms: SLOW_MS }]
        .into_iter()
        .map(|kind| {
            let title = kind.title_in(base.proxy.flavor);
            let s = Scenario {
                faults: vec![Fault::from(kind)],
                clients: Clients { requests: 0, ..base.clients.clone() },
                requests: vec![RequestSpec::default()],
                ..base.clone()
            };
            match crate::sim::run(s) {
                Ok(sim) => match sim.exchanges().get(0) {
                    Some(ex) => {
                        let (_, log) = embed_api::telling_line(sim.world(), ex);
                        Column {
                            fault: title,
                            status: ex.response.as_ref().map(|r| format!("{} {}", r.status, r.reason)).unwrap_or_else(|| "no response".into()),
                            log: log.unwrap_or_default(),
                            explanation: ex.explanation.clone().unwrap_or_default(),
                            failed: ex.outcome_class() == OutcomeClass::Failure,
                        }
                    }
                    None => Column { fault: title, status: "no request".into(), log: String::new(), explanation: String::new(), failed: false },
                },
                Err(e) => Column { fault: title, status: "invalid scenario".into(), log: e.to_string(), explanation: String::new(), failed: false },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cards(brk: Break) -> Vec<Card> {
        per_proxy(&Scenario::default(), brk)
    }

    fn ran(c: &Card) -> &Run {
        match &c.result {
            CardResult::Ran(r) => r,
            other => panic!("{}: {other:?}", c.name),
        }
    }

    #[test]
    fn app_down_differs_by_flavor() {
        let got: Vec<(Flavor, Option<u16>)> = cards(Break::AppDown).iter().map(|c| (c.flavor, ran(c).status)).collect();
        let want = [
            (Flavor::Nginx, Some(502)),
            (Flavor::Haproxy, Some(503)),
            (Flavor::Apache, Some(503)),
            (Flavor::Caddy, Some(502)),
            (Flavor::Varnish, Some(503)),
        ];
        for w in want {
            assert!(got.contains(&w), "{w:?} not in {got:?}");
        }
    }

    #[test]
    fn every_flavor_has_a_card_in_order() {
        let c = cards(Break::AppDown);
        assert_eq!(c.iter().map(|c| c.flavor).collect::<Vec<_>>(), Flavor::ALL.to_vec());
        assert!(c.iter().all(|c| !c.version.is_empty()), "{c:?}");
    }

    #[test]
    fn haproxy_retries_a_refused_connection_and_says_so_in_its_line() {
        let c = cards(Break::AppDown);
        let h = ran(&c[1]);
        assert_eq!(h.attempts, 4, "retries 3 + the first: {h:?}");
        assert_eq!(h.connections, 4);
        assert_eq!(h.termination.as_ref().map(|t| t.code.as_str()), Some("SC--"), "{h:?}");
        assert!(h.line.as_deref().is_some_and(|l| l.contains(" 503 ")), "{h:?}");
        let n = ran(&c[0]);
        assert_eq!(n.attempts, 1);
        assert!(n.line.as_deref().is_some_and(|l| l.contains("connect() failed (111: Connection refused)")), "{n:?}");
        assert_eq!(n.log, "nginx error.log");
    }

    #[test]
    fn key_lines_are_each_flavors_own() {
        let c = cards(Break::AppDown);
        let line = |i: usize| ran(&c[i]).line.clone().unwrap_or_default();
        assert!(line(2).contains("AH00957"), "Apache: {}", line(2));
        assert!(line(3).starts_with('{') && line(3).contains("connection refused"), "Caddy: {}", line(3));
        assert!(line(4).contains("FetchError"), "Varnish: {}", line(4));
    }

    #[test]
    fn the_slow_app_times_out_where_a_timeout_exists() {
        let c = cards(Break::AppSlow);
        let nginx = ran(&c[0]);
        assert_eq!(nginx.status, Some(504));
        assert_eq!(nginx.waited_us / 1_000_000, 60, "{nginx:?}");
        // Caddy has no response timeout by default: the client waits for the app.
        let caddy = ran(&c[3]);
        assert_eq!(caddy.status, Some(200), "{caddy:?}");
        assert!(caddy.waited_us >= SLOW_MS * 1_000, "{caddy:?}");
    }

    #[test]
    fn a_refused_scenario_is_not_modelled_with_the_flavors_message() {
        // A WebSocket client: measured for nginx and HAProxy only.
        let mut base = Scenario::default();
        base.clients.websocket = true;
        let c = per_proxy(&base, Break::AppDown);
        assert!(matches!(c[0].result, CardResult::Ran(_)), "{:?}", c[0]);
        for card in &c[2..] {
            match &card.result {
                CardResult::NotModelled(why) => assert!(why.contains("WebSocket"), "{why}"),
                other => panic!("{}: {other:?}", card.name),
            }
        }
    }

    #[test]
    fn the_stage_break_is_the_scenarios_faults() {
        let mut base = Scenario::default();
        assert_eq!(Break::Stage.label(&base), "On the stage: nothing broken");
        assert!(per_proxy(&base, Break::Stage).iter().all(|c| ran(c).status == Some(200)));
        base.faults = vec![Fault::from(FaultKind::Maintenance { retry_after_s: 30 })];
        assert!(per_proxy(&base, Break::Stage).iter().all(|c| ran(c).status == Some(503)));
    }

    #[test]
    fn a_break_that_needs_a_pattern_sends_it() {
        let mut base = Scenario::default();
        base.faults = vec![Fault::from(FaultKind::from_id("keepalive_mismatch").expect("a catalog fault"))];
        let c = per_proxy(&base, Break::Stage);
        let nginx = ran(&c[0]);
        assert!(nginx.pattern.is_some(), "{nginx:?}");
        assert_eq!(nginx.status, Some(502), "{nginx:?}");
    }

    #[test]
    fn break_ids_round_trip() {
        for b in Break::ALL {
            assert_eq!(Break::parse(b.id()), Some(b));
        }
        assert_eq!(Break::parse("nope"), None);
    }

    #[test]
    fn breakages_are_three_columns_with_lines() {
        let cols = breakages(&Scenario::default());
        assert_eq!(cols.iter().map(|c| c.status.as_str()).collect::<Vec<_>>(), ["502 Bad Gateway", "503 Service Unavailable", "504 Gateway Time-out"]);
        assert!(cols.iter().all(|c| !c.log.is_empty()));
    }
}
