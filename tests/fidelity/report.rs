//! Writes docs/FIDELITY.md from a harness run. Nothing in that file is
//! written by hand.

#![allow(dead_code)]

use std::fmt::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use super::harness::{counts, message_kind, show_counts, Diff, RunObs, Variant};

pub enum Outcome {
    Match,
    /// Each difference, with the allow-list reason when it is a known one.
    Mismatch(Vec<(Diff, Option<&'static str>)>),
    Cannot(String),
    Harness(String),
}

pub struct Cell {
    pub outcome: Outcome,
    pub variant: Option<Variant>,
    pub engine: Option<RunObs>,
    pub real: Option<RunObs>,
    pub secs: f64,
    /// Runs it took (a mismatch is run once more before it counts).
    pub runs: u32,
}

impl Cell {
    /// Differences that are not on the allow-list.
    pub fn unexpected(&self) -> Vec<&Diff> {
        match &self.outcome {
            Outcome::Mismatch(d) => d.iter().filter(|(_, a)| a.is_none()).map(|(d, _)| d).collect(),
            _ => Vec::new(),
        }
    }
}

pub struct Row {
    pub file: String,
    pub faults: Vec<&'static str>,
    pub cells: Vec<Cell>,
}

pub struct Header {
    pub columns: Vec<String>,
    pub versions: Vec<String>,
    pub total_secs: f64,
    pub stale_allowances: Vec<String>,
}

/// `2026-11-21 04:43 UTC` from the system clock.
pub fn now_utc() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + (m <= 2) as i64;
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02} UTC", rem / 3_600, rem % 3_600 / 60)
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn code(s: &str) -> String {
    if s.contains('`') { format!("``{}``", cell(s)) } else { format!("`{}`", cell(s)) }
}

fn short(c: &Cell) -> String {
    let n = c.real.as_ref().map(|r| r.reqs.len()).unwrap_or(0);
    let retried = if c.runs > 1 { ", after a retry" } else { "" };
    match &c.outcome {
        Outcome::Match => format!("match ({n} request{}{retried})", if n == 1 { "" } else { "s" }),
        Outcome::Mismatch(d) => {
            let fields = |allowed: bool| {
                let mut f: Vec<String> = d
                    .iter()
                    .filter(|(_, a)| a.is_some() == allowed)
                    .map(|(d, _)| match d.request {
                        Some(r) => format!("{} (#{r})", d.field),
                        None => d.field.clone(),
                    })
                    .collect();
                f.dedup();
                f.join(", ")
            };
            let (bad, known) = (fields(false), fields(true));
            match (bad.is_empty(), known.is_empty()) {
                (true, _) => format!("known mismatch (allow-listed): {known}"),
                (false, true) => format!("**MISMATCH**: {bad}"),
                (false, false) => format!("**MISMATCH**: {bad}; known: {known}"),
            }
        }
        Outcome::Cannot(r) => format!("not reproducible on loopback: {}", cell(r)),
        Outcome::Harness(e) => format!("**harness error**: {}", cell(e)),
    }
}

pub fn render(h: &Header, rows: &[Row], allowances: &[(String, String)]) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# Fidelity: the engine against the real proxies\n");
    let _ = writeln!(
        o,
        "**Generated** by `cargo test --test fidelity -- --nocapture` (`tests/fidelity.rs`). Do not edit: every run rewrites this file.\n"
    );
    let _ = writeln!(o, "- Generated: {}", now_utc());
    for v in &h.versions {
        let _ = writeln!(o, "- {v}");
    }
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let _ = writeln!(o, "- Kernel: Linux {}", kernel.trim());
    let _ = writeln!(o, "- Harness run time: {:.1} s\n", h.total_secs);

    let total: usize = rows.len() * h.columns.len();
    let count = |f: &dyn Fn(&Outcome) -> bool| rows.iter().flat_map(|r| &r.cells).filter(|c| f(&c.outcome)).count();
    let matched = count(&|o| matches!(o, Outcome::Match));
    let known = count(&|o| matches!(o, Outcome::Mismatch(d) if d.iter().all(|(_, a)| a.is_some())));
    let bad = count(&|o| matches!(o, Outcome::Mismatch(d) if d.iter().any(|(_, a)| a.is_none())));
    let cannot = count(&|o| matches!(o, Outcome::Cannot(_)));
    let broken = count(&|o| matches!(o, Outcome::Harness(_)));
    let _ = writeln!(
        o,
        "**Summary:** {total} cells: {matched} match, {known} known mismatch (allow-listed engine bugs), {bad} unexpected mismatch, {cannot} not reproducible on loopback, {broken} harness error.\n"
    );

    let _ = writeln!(o, "## Method\n");
    for line in [
        "For every file in `scenarios/` and every proxy column, the harness derives a *variant* of the scenario, runs the engine on it, and runs the real proxy on the configuration the engine renders for it (`conf::render(&effective(&variant), &paths)`, included as the `http {}` part of a minimal `nginx.conf` with `daemon off`, one worker and every path in a temporary directory).",
        "The variant changes only what a real run needs: proxy timeouts above 1 s become 1 s, a slow app or a hung pool answers after 2 s, long keep-alive and deploy timings are shortened as listed per scenario, every address moves to a free port on 127.0.0.1 (unix sockets and DNS too), and the scenario's client arrivals become explicit requests at the engine's own arrival times, each with its own path (`?r=N`) so that log lines can be matched to requests. Both sides run the same variant.",
        "The upstream side is built from real sockets (`tests/fidelity/upstream.rs`): an app is a listener and a pool of worker threads; a request waits unread in the kernel's accept queue while all workers are busy. What the app writes for a request is the engine's own `AppReply` for that fault (`Fault::on_request`), put on the wire byte for byte; process deaths, resets, refusals and SYN drops are done by the kernel (closing the listener, `SO_LINGER 0`, a full backlog-0 accept queue).",
        "The client is a plain HTTP/1.1 client over `TcpStream`, one connection per request, sent at the variant's times. It records the status (or: no connection, HTTP/0.9 bytes, a body cut short) and the body bytes.",
        "Compared per request: client status, body bytes, the access.log line (time removed), the request's error.log lines (time, pid#tid and `*N` removed, ports shown as `PORT`, the temporary directory as `$TMP`, limit_req's `excess` within 0.02), and upstream attempts. Per run: stderr (start-up failures) and error.log lines of no request. Real attempts are counted as the requests the upstream apps read plus the error.log lines of failed connects and TLS handshakes (`while connecting to upstream`, except `no live upstreams`, and `while SSL handshaking to upstream`): nginx's own config cannot be changed to log `$upstream_addr`.",
        "Overload scenarios are compared on aggregates: the share of each client status and of each error.log message, within the tolerance shown.",
        "A cell that mismatches is run once more; the second run counts. The test fails on any mismatch that is not on the allow-list in `tests/fidelity.rs`.",
    ] {
        let _ = writeln!(o, "- {line}");
    }

    let _ = writeln!(o, "\n## Results\n");
    let _ = write!(o, "| # | Fault | Scenario |");
    for c in &h.columns {
        let _ = write!(o, " {c} |");
    }
    let _ = write!(o, "\n|---|---|---|");
    for _ in &h.columns {
        let _ = write!(o, "---|");
    }
    let _ = writeln!(o);
    for (i, r) in rows.iter().enumerate() {
        let faults = if r.faults.is_empty() { "(none)".to_string() } else { r.faults.join(", ") };
        let _ = write!(o, "| {} | {} | `{}` |", i + 1, faults, r.file);
        for c in &r.cells {
            let _ = write!(o, " {} |", short(c));
        }
        let _ = writeln!(o);
    }

    let _ = writeln!(o, "\n## Allow-list (known engine bugs)\n");
    if allowances.is_empty() {
        let _ = writeln!(o, "Empty.");
    }
    for (what, why) in allowances {
        let _ = writeln!(o, "- {what}: {why}");
    }
    for s in &h.stale_allowances {
        let _ = writeln!(o, "- Not seen in this run (stale entry?): {s}");
    }

    let _ = writeln!(o, "\n## Details\n");
    for (i, r) in rows.iter().enumerate() {
        let _ = writeln!(o, "### {}. `{}`\n", i + 1, r.file);
        for (c, col) in r.cells.iter().zip(&h.columns) {
            let _ = writeln!(o, "**{col}:** {} ({:.1} s)\n", short(c), c.secs);
            if let Some(v) = &c.variant {
                if !v.notes.is_empty() {
                    let _ = writeln!(o, "- Variant: {}.", v.notes.join("; "));
                }
            }
            if let Some(real) = &c.real {
                for n in &real.notes {
                    let _ = writeln!(o, "- Real world: {}.", cell(n));
                }
            }
            let _ = writeln!(o);
            if let Outcome::Mismatch(diffs) = &c.outcome {
                let _ = writeln!(o, "| # | Field | Engine | {col} | Allowed because |\n|---|---|---|---|---|");
                for (d, why) in diffs {
                    let n = d.request.map(|n| n.to_string()).unwrap_or_else(|| "-".into());
                    let _ = writeln!(o, "| {n} | {} | {} | {} | {} |", d.field, code(&d.engine), code(&d.real), why.unwrap_or("**not allowed**"));
                }
                let _ = writeln!(o);
            }
            if let (Some(v), Some(real)) = (&c.variant, &c.real) {
                if v.aggregate {
                    let st = counts(real.reqs.iter().map(|r| r.status.as_str()));
                    let kinds: Vec<String> = real.reqs.iter().flat_map(|r| r.errors.iter().map(|e| message_kind(e))).collect();
                    let _ = writeln!(o, "Observed for real: statuses {}; error.log {}.", show_counts(&st), show_counts(&counts(kinds.iter().map(String::as_str))));
                    if let Some(e) = &c.engine {
                        let st = counts(e.reqs.iter().map(|r| r.status.as_str()));
                        let kinds: Vec<String> = e.reqs.iter().flat_map(|r| r.errors.iter().map(|e| message_kind(e))).collect();
                        let _ = writeln!(o, "Engine: statuses {}; error.log {}.\n", show_counts(&st), show_counts(&counts(kinds.iter().map(String::as_str))));
                    }
                    continue;
                }
                let _ = writeln!(o, "Observed for real ({col}):\n");
                let _ = writeln!(o, "| # | At (ms) | Request | Status | Body bytes | Attempts | error.log |\n|---|---|---|---|---|---|---|");
                for (n, q) in real.reqs.iter().enumerate().take(30) {
                    let errs = if q.errors.is_empty() { "".to_string() } else { q.errors.iter().map(|e| code(e)).collect::<Vec<_>>().join("<br>") };
                    let _ = writeln!(o, "| {} | {} | `{}` | {} | {} | {} | {} |", n + 1, q.at_ms, q.line, cell(&q.status), q.body, q.attempts, errs);
                }
                if real.reqs.len() > 30 {
                    let _ = writeln!(o, "| … | | {} more | | | | |", real.reqs.len() - 30);
                }
                for s in &real.stderr {
                    let _ = writeln!(o, "\nstderr: {}", code(s));
                }
                let _ = writeln!(o);
            }
        }
    }
    o
}
