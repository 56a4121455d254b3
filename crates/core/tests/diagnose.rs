//! "Paste your error" (issue 17): the diagnosis from pasted lines to the
//! scenario that writes them.
//!
//! - `round_trip_every_ready_line`: every line any ready scenario (and
//!   retry-lab experiment) writes (each scenario's lines once, numbers
//!   aside) is diagnosed back to a scenario whose run writes it again, equal
//!   but for times, counters and sizes, with the pasted values carried.
//! - `public_corpus`: tests/data/diagnose-corpus.jsonl, real lines quoted in
//!   public issues and Q&A pages; prints recall and precision (run with
//!   `--nocapture` to see the table). Precision must be 100 % and recall at
//!   least 90 % on the lines whose situation the catalog covers.
//! - `stories`: several lines together.
//! - bad input: bounded and refused with a message; `fuzz_diagnose` (the
//!   strategy is in diagnose_fuzz/strategy.rs). Time and heap per call, by
//!   kind of input: tests/diagnose_bounds.rs.

use gateway_core::diagnose::catalog::{self, Source};
use gateway_core::diagnose::{diagnose, DiagnoseError, Diagnosis, Evidence};
use gateway_core::scenarios::{EXPERIMENTS, READY};
use gateway_core::sim::Scenario;
use serde_json::Value;

/// Two lines are the same but for their numbers (times, pids, connection
/// numbers, sizes, durations), month or weekday names and random request
/// ids (Envoy's x-request-id UUID, an ALB's trace id: runs of 16 or more
/// hex digits and dashes with a digit in them).
fn same_but_numbers(a: &str, b: &str) -> bool {
    fn ids_masked(s: &str) -> String {
        let mut out = String::new();
        let mut run = String::new();
        let flush = |run: &mut String, out: &mut String| {
            if run.len() >= 16 && run.bytes().any(|c| c.is_ascii_digit()) && run.bytes().any(|c| c.is_ascii_alphabetic()) {
                out.push('0');
            } else {
                out.push_str(run);
            }
            run.clear();
        };
        for c in s.chars() {
            if c.is_ascii_hexdigit() && !c.is_ascii_uppercase() || c == '-' {
                run.push(c);
            } else {
                flush(&mut run, &mut out);
                out.push(c);
            }
        }
        flush(&mut run, &mut out);
        out
    }
    let (a, b) = (ids_masked(a), ids_masked(b));
    fn shape(s: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut cur = String::new();
        let mut digits = false;
        for c in s.chars() {
            let d = c.is_ascii_digit();
            if d != digits && !cur.is_empty() {
                out.push(if digits { "#".to_string() } else { std::mem::take(&mut cur) });
                cur.clear();
            }
            digits = d;
            cur.push(c);
        }
        if !cur.is_empty() {
            out.push(if digits { "#".to_string() } else { cur });
        }
        const NAMES: &[&str] = &["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
        out.into_iter().map(|p| NAMES.iter().fold(p, |p, n| p.replace(n, "Mon"))).collect()
    }
    shape(&a) == shape(&b)
}

/// Every line the run writes (`all_lines_of`: not capped per run, as the
/// catalog's templates are); the test keeps one per shape.
fn lines_of(sc: &Scenario) -> Vec<(Source, String)> {
    catalog::all_lines_of(&catalog::run(sc).expect("the scenario runs"))
}

/// The diagnosed scenario, run again independently, writes the pasted line
/// (same but for numbers) in the same log.
fn check_reproduces(pasted: &str, src: Source, d: &Diagnosis) -> Result<(), String> {
    let again = Scenario::from_json(&d.scenario.to_json()).map_err(|e| format!("the diagnosed scenario does not parse: {e}"))?;
    let lines = catalog::all_lines_of(&catalog::run(&again).expect("the diagnosed scenario runs"));
    // Slots equal: the carried values are in the line the run writes again.
    let carried: Vec<&String> = d.placed.iter().flat_map(|p| p.carried.iter().map(|(_, v)| v)).collect();
    if lines.iter().any(|(s, l)| *s == src && same_but_numbers(l, pasted) && carried.iter().all(|v| l.contains(v.as_str()))) {
        Ok(())
    } else {
        let near: Vec<&String> = lines.iter().filter(|(s, _)| *s == src).map(|(_, l)| l).take(3).collect();
        Err(format!("{} ({}) does not write it; its {} lines: {near:?}", d.candidate, d.scenario.title, src.as_str()))
    }
}

#[test]
fn round_trip_every_ready_line() {
    let mut checked = 0;
    let mut status_only = 0;
    let mut failures = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut per_scenario = Vec::new();
    for (name, json) in READY.iter().chain(EXPERIMENTS) {
        let mut sc = Scenario::from_json(json).unwrap();
        // The experiments' thousands of requests repeat the same lines.
        sc.clients.requests = sc.clients.requests.min(300);
        let lines = lines_of(&sc);
        let mut shapes = std::collections::HashSet::new();
        let mut new = 0;
        for (src, line) in &lines {
            let (src, line) = (*src, line.clone());
            // Numbers aside, each distinct line once.
            let key: String = line.chars().map(|c| if c.is_ascii_digit() { '#' } else { c }).collect();
            // Each scenario's own lines are all checked, even those another
            // scenario wrote first (a wrong port's line is an app-down line
            // with another port: it must come back with its own port).
            if !shapes.insert((src, key.clone())) {
                continue;
            }
            if seen.insert((src, key)) {
                new += 1;
            }
            checked += 1;
            match diagnose(&line) {
                Ok(d) => {
                    if d.evidence == Evidence::StatusOnly {
                        status_only += 1;
                    }
                    if let Err(e) = check_reproduces(&line, src, &d) {
                        failures.push(format!("{name}: {} line {line:?}: {e}", src.as_str()));
                    }
                }
                Err(e) => failures.push(format!("{name}: {} line {line:?}: {e}", src.as_str())),
            }
        }
        assert!(!shapes.is_empty(), "{name} writes no line");
        per_scenario.push(format!("{name} {} ({new} new)", shapes.len()));
    }
    println!("round trip, distinct lines per scenario (new: not written by a scenario before it): {}", per_scenario.join(", "));
    println!(
        "round trip: {checked} lines (distinct within each scenario, numbers aside; {} distinct across all) of {} ready scenarios and {} experiments; {} failed; {status_only} status-only",
        seen.len(),
        READY.len(),
        EXPERIMENTS.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{} of {checked} lines not diagnosed back:\n{}", failures.len(), failures.join("\n"));
}

/// Every distinct line every catalog candidate writes (each fault × knob
/// variant × flavor × topology: a fault added to the catalog is in here
/// with no edit) is diagnosed back to a scenario that writes it.
#[test]
fn round_trip_every_catalog_line() {
    let cat = catalog::get();
    let mut failures = Vec::new();
    let mut status_only = 0;
    for e in &cat.entries {
        match diagnose(&e.example) {
            Ok(d) => {
                if d.evidence != Evidence::Cause {
                    status_only += 1;
                }
                if let Err(err) = check_reproduces(&e.example, e.source, &d) {
                    failures.push(format!("{} line {:?}: {err}", e.source.as_str(), e.example));
                }
            }
            Err(err) => failures.push(format!("{} line {:?}: {err}", e.source.as_str(), e.example)),
        }
    }
    let faults: std::collections::BTreeSet<&str> = cat.candidates.iter().filter_map(|c| c.fault.as_deref()).collect();
    println!(
        "catalog round trip: {} candidate runs ({} faults), {} distinct lines (templates); {} failed; {status_only} status-only or ambiguous",
        cat.candidates.len(),
        faults.len(),
        cat.entries.len(),
        failures.len()
    );
    for id in gateway_core::sim::FaultKind::catalog().iter().map(|k| k.id()) {
        assert!(faults.contains(id), "the catalog fault {id} has no candidate run");
    }
    assert!(failures.is_empty(), "{} of {} lines not diagnosed back:\n{}", failures.len(), cat.entries.len(), failures.join("\n"));
}

/// The page builds the catalog one candidate at a time in idle slices
/// (`Builder::step`); that gives the catalog `get` builds in one go.
#[test]
fn the_catalog_built_step_by_step_is_the_same() {
    let mut b = catalog::Builder::new();
    let mut steps = 0;
    while b.step() {
        steps += 1;
        assert_eq!(b.progress().0, steps);
    }
    assert!(!b.step());
    assert_eq!(b.progress(), (steps, steps));
    let stepped = b.build();
    let whole = catalog::get();
    assert!(catalog::is_built());
    let labels = |c: &catalog::Catalog| c.candidates.iter().map(|c| c.label.clone()).collect::<Vec<_>>();
    let lines = |c: &catalog::Catalog| c.entries.iter().map(|e| (e.example.clone(), e.candidates.clone(), e.causes)).collect::<Vec<_>>();
    assert_eq!(labels(&stepped), labels(whole));
    assert_eq!(lines(&stepped), lines(whole));
    assert_eq!((stepped.runs, stepped.markers.len()), (whole.runs, whole.markers.len()));
}

#[test]
fn public_corpus() {
    let text = include_str!("data/diagnose-corpus.jsonl");
    let mut covered = 0;
    let mut recognised_covered = 0;
    let mut recognised = 0;
    let mut correct = 0;
    let mut wrong = Vec::new();
    let mut missed = Vec::new();
    let mut rows = Vec::new();
    let mut n = 0;
    for (i, l) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        n += 1;
        let e: Value = serde_json::from_str(l).unwrap_or_else(|err| panic!("corpus line {}: {err}", i + 1));
        let pasted = e["text"].as_str().unwrap();
        let is_covered = e["covered"].as_bool().unwrap();
        let expect: Vec<&str> = e["expect"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
        assert!(e["source"].as_str().is_some_and(|s| s.starts_with("https://")), "corpus line {}: a source URL", i + 1);
        if is_covered {
            covered += 1;
        }
        let got = diagnose(pasted);
        let verdict = match &got {
            Ok(d) if d.evidence == Evidence::Cause => {
                recognised += 1;
                if is_covered {
                    recognised_covered += 1;
                }
                let f = d.fault.clone().unwrap_or_else(|| "none".into());
                if expect.contains(&f.as_str()) {
                    correct += 1;
                    format!("ok   {f}")
                } else {
                    wrong.push(format!("corpus line {}: diagnosed {f} ({}), the source says {:?}: {pasted}", i + 1, d.candidate, e["cause"]));
                    format!("WRONG {f}")
                }
            }
            Ok(_) => {
                if is_covered {
                    missed.push(format!("corpus line {}: status only: {pasted}", i + 1));
                }
                "status only".to_string()
            }
            Err(err) => {
                if is_covered {
                    missed.push(format!("corpus line {}: {err}: {pasted}", i + 1));
                }
                match err {
                    DiagnoseError::Unusable(_) => "unusable".into(),
                    DiagnoseError::NotRecognised { .. } => "not recognised".into(),
                }
            }
        };
        let first: String = pasted.chars().take(90).collect();
        rows.push(format!("{:>3} {:<8} {:<8} {:<32} {}", i + 1, e["proxy"].as_str().unwrap_or(""), if is_covered { "covered" } else { "not yet" }, verdict, first.replace('\n', "⏎")));
    }
    println!("{}", rows.join("\n"));
    let recall = recognised_covered as f64 / covered.max(1) as f64 * 100.0;
    let precision = correct as f64 / recognised.max(1) as f64 * 100.0;
    println!(
        "corpus: {n} entries, {covered} whose situation the catalog covers, {} marked not expressible yet; recognised {recognised_covered} of {covered} covered (recall {recall:.1} %); {correct} of {recognised} recognised right (precision {precision:.1} %)",
        n - covered
    );
    for m in &missed {
        println!("missed: {m}");
    }
    assert!(n >= 60, "the corpus has {n} entries; at least 60");
    assert!(wrong.is_empty(), "wrong diagnoses (precision must be 100 %):\n{}", wrong.join("\n"));
    assert!(recall >= 90.0, "recall {recall:.1} % < 90 %:\n{}", missed.join("\n"));
}

fn ok(text: &str) -> Diagnosis {
    match diagnose(text) {
        Ok(d) => d,
        Err(e) => panic!("not diagnosed: {e:?}\n{text}"),
    }
}

#[test]
fn stories() {
    // connect() failed twice, then no live upstreams: two servers, both down.
    let d = ok("2024/03/02 10:00:01 [error] 31#31: *7 connect() failed (111: Connection refused) while connecting to upstream, client: 10.0.0.9, server: shop.example, request: \"GET /cart HTTP/1.1\", upstream: \"http://10.0.1.5:8080/cart\", host: \"shop.example\"\n\
2024/03/02 10:00:01 [error] 31#31: *7 connect() failed (111: Connection refused) while connecting to upstream, client: 10.0.0.9, server: shop.example, request: \"GET /cart HTTP/1.1\", upstream: \"http://10.0.1.6:8080/cart\", host: \"shop.example\"\n\
2024/03/02 10:00:02 [error] 31#31: *9 no live upstreams while connecting to upstream, client: 10.0.0.9, server: shop.example, request: \"GET /cart HTTP/1.1\", upstream: \"http://backend/cart\", host: \"shop.example\"");
    assert_eq!(d.placed.len(), 3, "{d:#?}");
    assert!(d.unplaced.is_empty());
    assert_eq!(d.scenario.upstream.servers.len(), 2);
    assert_eq!(d.scenario.upstream.name, "backend");
    assert_eq!(d.scenario.clients.path, "/cart");
    assert_eq!(d.scenario.proxy.server_name, "shop.example");

    // The app's own log with nginx's premature close: the crash is the cause.
    let d = ok("Nov 21 04:43:44 web1 app[2817]: Uncaught TypeError: Cannot read properties of undefined (reading 'id')\n\
2026/11/21 04:43:44 [error] 4453#4453: *1 upstream prematurely closed connection while reading response header from upstream, client: 127.0.0.1, server: localhost, request: \"GET /users HTTP/1.1\", upstream: \"http://127.0.0.1:3000/users\", host: \"localhost\"");
    assert_eq!(d.fault.as_deref(), Some("crash_mid_request"));
    assert_eq!(d.placed.len(), 2);

    // A 499 then a later 504: a client that gave up, then nginx's own timeout.
    let d = ok("203.0.113.4 - - [02/Mar/2024:10:00:15 +0000] \"GET /report HTTP/1.1\" 499 0 \"-\" \"curl/8.5.0\"\n\
2024/03/02 10:01:00 [error] 31#31: *3 upstream timed out (110: Connection timed out) while reading response header from upstream, client: 203.0.113.4, server: _, request: \"GET /report HTTP/1.1\", upstream: \"http://127.0.0.1:8000/report\", host: \"reports.example\"\n\
203.0.113.4 - - [02/Mar/2024:10:01:00 +0000] \"GET /report HTTP/1.1\" 504 167 \"-\" \"curl/8.5.0\"");
    println!("499 then 504: {} placed {} unplaced {:?}", d.candidate, d.placed.len(), d.unplaced);
    assert!(d.placed.len() >= 2, "{d:#?}");
    assert!(d.fault.as_deref().is_some_and(|f| ["slow_app", "db_pool_exhausted", "overload"].contains(&f)));

    // An unrelated line beside a known one is reported, not dropped.
    let d = ok("kernel: usb 1-1: new high-speed USB device number 2 using xhci_hcd\n2026/11/21 04:43:44 [crit] 4453#4453: *1 connect() to unix:/run/php/php8.2-fpm.sock failed (13: Permission denied) while connecting to upstream, client: 127.0.0.1, server: localhost, request: \"GET / HTTP/1.1\", upstream: \"fastcgi://unix:/run/php/php8.2-fpm.sock:\", host: \"localhost\"");
    assert_eq!(d.fault.as_deref(), Some("unix_socket_permission"));
    assert_eq!(d.unplaced.len(), 1);
    assert_eq!(d.unplaced[0].line, 1);
    assert!(d.scenario.faults[0].kind == gateway_core::sim::FaultKind::UnixSocketPermission { path: "/run/php/php8.2-fpm.sock".into() });
}

#[test]
fn haproxy_lines() {
    let d = ok("Mar  2 10:00:00 lb1 haproxy[812]: 192.0.2.10:51234 [02/Mar/2024:10:00:00.120] www api/web2 0/0/-1/-1/3003 503 216 - - SC-- 12/12/0/0/3 0/0 \"GET /health HTTP/1.1\"");
    assert_eq!(d.flavor, gateway_core::sim::scenario::Flavor::Haproxy);
    assert_eq!(d.scenario.clients.ip, "192.0.2.10");
    let d = ok("192.0.2.10:51234 [02/Mar/2024:10:00:00.120] www api/web2 0/0/0/-1/60001 504 194 - - sH-- 1/1/0/0/0 0/0 \"POST /orders HTTP/1.1\"");
    assert!(d.fault.as_deref().is_some_and(|f| ["slow_app", "db_pool_exhausted", "overload"].contains(&f)), "{}", d.candidate);
}

#[test]
fn status_only_is_not_a_cause() {
    for text in ["HTTP/1.1 502 Bad Gateway", "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx/1.18.0</center></body></html>"] {
        match diagnose(text) {
            Ok(d) => assert_eq!(d.evidence, Evidence::StatusOnly, "{text}: {}", d.candidate),
            Err(DiagnoseError::NotRecognised { .. }) => {}
            Err(e) => panic!("{text}: {e:?}"),
        }
    }
}

#[test]
fn unrelated_and_bad_input() {
    for text in [
        "Dec  6 04:00:00 host sshd[1234]: Accepted publickey for root from 10.0.0.1 port 50000 ssh2",
        "Exception in thread \"main\" java.lang.NullPointerException",
        "hello world",
        "\u{1b}[31merror\u{1b}[0m: something went wrong",
    ] {
        assert!(matches!(diagnose(text), Err(DiagnoseError::NotRecognised { .. })), "{text}");
    }
    for text in ["", "   \n\t\n", "\0\u{1}\u{2}\u{3}binary\0\0"] {
        assert!(matches!(diagnose(text), Err(DiagnoseError::Unusable(_))), "{text:?}");
    }
    let big = "x".repeat(10 * 1024 * 1024);
    assert!(matches!(diagnose(&big), Err(DiagnoseError::Unusable(m)) if m.contains("at most")));
    let many = "2026/11/21 04:43:44 [error] 1#1: *1 upstream prematurely closed connection while reading response header from upstream\n".repeat(100_000);
    assert!(matches!(diagnose(&many), Err(DiagnoseError::Unusable(m)) if m.contains("lines") || m.contains("bytes")));
}

// ---- Fuzzing: no panic, no hang, a message for every refusal ----------------

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

#[path = "diagnose_fuzz/strategy.rs"]
mod strategy;
use strategy::{arb_paste, fuzz_cases, seeds};

#[test]
fn fuzz_diagnose() {
    use std::time::{Duration, Instant};
    // The catalog is built once, outside the timings.
    let t0 = Instant::now();
    let cat = catalog::get();
    let build = t0.elapsed();
    let cases = fuzz_cases();
    let mut r = TestRunner::new(Config { cases, failure_persistence: None, max_shrink_iters: 200, ..Config::default() });
    let stats = std::cell::RefCell::new((0u64, Duration::ZERO, Duration::ZERO, [0u64; 4], 0usize));
    r.run(&arb_paste(seeds()), |text| {
        let t = Instant::now();
        let got = diagnose(&text);
        let took = t.elapsed();
        let mut s = stats.borrow_mut();
        s.0 += 1;
        s.1 += took;
        if took > s.2 {
            s.2 = took;
            s.4 = text.len();
        }
        match &got {
            Ok(d) => {
                s.3[if d.evidence == Evidence::Cause { 0 } else { 1 }] += 1;
                prop_assert!(d.scenario.validate().is_ok(), "an invalid scenario");
                prop_assert!(!d.placed.is_empty());
            }
            Err(DiagnoseError::NotRecognised { message, .. }) => {
                s.3[2] += 1;
                prop_assert!(!message.is_empty());
            }
            Err(DiagnoseError::Unusable(m)) => {
                s.3[3] += 1;
                prop_assert!(!m.is_empty());
            }
        }
        // A bound on work per call, generous for a debug build on a shared machine.
        prop_assert!(took < Duration::from_secs(5), "{took:?} for {} bytes", text.len());
        Ok(())
    })
    .unwrap();
    let s = stats.borrow();
    println!(
        "fuzz_diagnose: catalog built in {:.1} ms ({} runs, {} templates); {} calls, mean {:.2} ms, max {:.2} ms (a {}-byte paste); cause {}, status-only/ambiguous {}, not recognised {}, unusable {}",
        build.as_secs_f64() * 1e3,
        cat.runs,
        cat.entries.len(),
        s.0,
        s.1.as_secs_f64() * 1e3 / s.0.max(1) as f64,
        s.2.as_secs_f64() * 1e3,
        s.4,
        s.3[0],
        s.3[1],
        s.3[2],
        s.3[3]
    );
}

/// What the catalog's first build costs, candidate by candidate (run with
/// `--ignored --nocapture`; the figures are in docs/DIAGNOSE.md).
#[test]
#[ignore]
fn catalog_cost() {
    use std::time::Instant;
    let mut rows = Vec::new();
    let t0 = Instant::now();
    for (label, _, mut sc) in catalog::scenarios() {
        catalog::apply_probes(&mut sc);
        let t = Instant::now();
        let lines = catalog::run(&sc).map(|s| catalog::all_lines_of(&s).len()).unwrap_or(0);
        rows.push((t.elapsed(), label, lines));
    }
    let total = t0.elapsed();
    rows.sort_by(|a, b| b.0.cmp(&a.0));
    for (t, label, lines) in rows.iter().take(12) {
        println!("catalog_cost: {:>8.2} ms  {label} ({lines} lines)", t.as_secs_f64() * 1e3);
    }
    let t = Instant::now();
    catalog::get();
    println!("catalog_cost: {} candidate runs in {:.1} ms; the whole build (with templates and the 499 twins) {:.1} ms", rows.len(), total.as_secs_f64() * 1e3, t.elapsed().as_secs_f64() * 1e3);
}

/// The worst inputs the size caps admit, timed once each.
#[test]
fn bounded_work_on_the_largest_inputs() {
    use std::time::Instant;
    catalog::get();
    let key = "upstream prematurely closed connection while reading response header from upstream";
    let cases: Vec<(&str, String)> = vec![
        ("200 lines of one error", format!("2026/11/21 04:43:44 [error] 1#1: *1 {key}, client: 1.2.3.4, server: x, request: \"GET / HTTP/1.1\", upstream: \"http://1.2.3.4:80/\", host: \"x\"\n").repeat(200)),
        ("200 lines of every key literal", catalog::get().entries.iter().map(|e| e.template.key_text().to_string()).collect::<Vec<_>>().join(" ").chars().take(4000).collect::<String>().repeat(1) + "\n"),
        ("one 4 KiB line of slashes after a socket prefix", format!("connect() to unix:{} failed (13: Permission denied)", "/a".repeat(2000))),
        ("256 KiB of one character", "a".repeat(256 * 1024 - 1)),
        ("200 lines of salad", (0..200).map(|i| format!("{key} {i} \"GET /x HTTP/1.1\" 502 157 \"-\" unix:/a:/b {key}")).collect::<Vec<_>>().join("\n")),
    ];
    for (name, text) in cases {
        let t = Instant::now();
        let got = diagnose(&text);
        let took = t.elapsed();
        let outcome = match got {
            Ok(d) => format!("recognised {} ({} placed)", d.candidate, d.placed.len()),
            Err(e) => e.to_string(),
        };
        println!("bounded: {name}: {} bytes in {:.1} ms: {outcome}", text.len(), took.as_secs_f64() * 1e3);
        assert!(took.as_secs() < 20, "{name}: {took:?}");
    }
}

/// What the layers in front of the proxy write (issue 19, item 5): a
/// Cloudflare Logpush record and Cloudflare's own error page are
/// recognised as the chain that writes them; an ALB layer's entry too.
/// The record below is **constructed from Cloudflare's field reference**
/// (developers.cloudflare.com/logs/reference/log-fields/zone/http_requests/),
/// not copied from a real log: its Ray ID, data centre, times and
/// addresses differ from any the engine writes.
#[test]
fn cloudflare_and_alb_layer_lines() {
    let record = r#"{"ClientIP":"203.0.113.50","ClientRequestHost":"blog.example.org","ClientRequestMethod":"GET","ClientRequestURI":"/feed","EdgeColoCode":"SJC","EdgeEndTimestamp":"2025-03-04T05:06:07.891Z","EdgeResponseStatus":521,"EdgeStartTimestamp":"2025-03-04T05:06:07.800Z","OriginIP":"198.18.0.20","OriginResponseDurationMs":0,"OriginResponseStatus":0,"RayID":"8f1e2d3c4b5a6978"}"#;
    let d = ok(record);
    println!("record 521: {} · {:?} · {:?}", d.candidate, d.cause, d.placed.iter().map(|p| &p.carried).collect::<Vec<_>>());
    assert_eq!(d.evidence, Evidence::Cause, "{d:#?}");
    assert_eq!(d.placed[0].source, Source::CloudflareLog);
    assert!(matches!(d.scenario.layers.first(), Some(gateway_core::sim::layer::Layer::Cloudflare(_))), "{}", d.candidate);
    check_reproduces(record, Source::CloudflareLog, &d).unwrap();
    assert_eq!(d.scenario.clients.host, "blog.example.org");

    for (text, want) in [
        ("shop.example.com | 521: Web server is down", 521),
        ("Error code 522", 522),
        ("www.example.net | 524: A timeout occurred", 524),
        ("Error code 520", 520),
        // Cloudflare's TLS to the origin (its ssl_mode and the origin's TLS).
        ("anime.sh | 525: SSL handshake failed", 525),
        ("www.ntechit.de | 526: Invalid SSL certificate", 526),
        ("Error code 525", 525),
    ] {
        let d = ok(text);
        println!("{text:?}: {} · {:?} · alternatives {:?}", d.candidate, d.cause, d.alternatives);
        assert_eq!(d.evidence, Evidence::Cause, "{text}: {d:#?}");
        assert_eq!(d.placed[0].source, Source::Page);
        check_reproduces(text, Source::Page, &d).unwrap();
        let run = catalog::run(&d.scenario).unwrap();
        assert!(run.exchanges().iter().any(|e| e.response.as_ref().is_some_and(|r| r.status == want)), "{text}: {} answers no {want}", d.candidate);
    }
    // An ALB layer's entry is the ALB flavor's format (the same source, the
    // access log). Its fields say what the ALB's target did: behind the
    // chain the target is nginx (`502 502`: nginx answered 502; `-1 -1 460`:
    // Cloudflare closed before nginx answered), which the ALB flavor, whose
    // target is the app, does not write: the chain answers.
    for name in ["chain_app_down", "chain_slow_origin"] {
        let sc = Scenario::from_json(READY.iter().find(|(n, _)| *n == name).unwrap().1).unwrap();
        let sim = catalog::run(&sc).unwrap();
        let alb = sim.world().layer_logs[1].lines().next().unwrap().clone();
        let d = ok(&alb);
        println!("{name}'s ALB line: {} ({:?})", d.candidate, d.evidence);
        assert_eq!(d.evidence, Evidence::Cause);
        check_reproduces(&alb, Source::AccessLog, &d).unwrap();
        if name == "chain_slow_origin" {
            assert!(d.candidate.starts_with("scenario chain_slow_origin"), "{}", d.candidate);
        }
    }
    // Cloudflare's branded 502 says only the status.
    assert!(diagnose("shop.example.com | 502: Bad gateway").map_or(true, |d| d.evidence != Evidence::Cause));
}

/// Cloudflare's 523 (its DNS record points at an address with no route) and
/// an ALB layer's 503 without registered targets: the pasted page title,
/// `Error code 523`, a Logpush record with `EdgeResponseStatus` 523, and an
/// ALB entry with elb_status_code 503 and target `-` load the ready scenario
/// that writes them, whose cause and fix come from the layer's setting.
/// The record is **constructed from Cloudflare's field reference**, as the
/// 521 one above: other Ray ID, data centre, times, client and host.
#[test]
fn cloudflare_523_and_alb_503_without_targets() {
    let record = r#"{"ClientIP":"198.51.100.7","ClientRequestHost":"www.example.org","ClientRequestMethod":"GET","ClientRequestURI":"/","EdgeColoCode":"AMS","EdgeEndTimestamp":"2025-06-01T10:00:00.052Z","EdgeResponseStatus":523,"EdgeStartTimestamp":"2025-06-01T10:00:00.031Z","OriginIP":"","OriginResponseDurationMs":21,"OriginResponseStatus":0,"RayID":"94a1b2c3d4e5f607"}"#;
    let mut cases: Vec<(String, Source, &str, u16)> = vec![
        (record.to_string(), Source::CloudflareLog, "chain_origin_unreachable", 523),
        ("www.example.org | 523: Origin is unreachable".into(), Source::Page, "chain_origin_unreachable", 523),
        ("Error code 523".into(), Source::Page, "chain_origin_unreachable", 523),
    ];
    // The ALB layer's own entry (as chain_no_targets writes it).
    let sc = Scenario::from_json(READY.iter().find(|(n, _)| *n == "chain_no_targets").unwrap().1).unwrap();
    let alb = catalog::run(&sc).unwrap().world().layer_logs[0].lines().next().unwrap().clone();
    assert!(alb.contains(" - -1 -1 -1 503 - "), "{alb}");
    cases.push((alb, Source::AccessLog, "chain_no_targets", 503));
    // The same entry as another deployment writes it (constructed: other load balancer,
    // time, client, host, path, agent, target group and trace id).
    let other = r#"http 2025-06-01T10:00:00.123456Z app/prod-web/0a1b2c3d4e5f6789 198.51.100.7:51234 - -1 -1 -1 503 - 112 300 "GET http://www.example.org:80/checkout HTTP/1.1" "Mozilla/5.0" - - arn:aws:elasticloadbalancing:eu-west-1:210987654321:targetgroup/web-v2/1234567890abcdef "Root=1-683c2410-0123456789abcdef01234567" "-" "-" 0 2025-06-01T10:00:00.123456Z "forward" "-" "-" "-" "-" "-" "-""#;
    cases.push((other.to_string(), Source::AccessLog, "chain_no_targets", 503));
    for (text, src, scenario, want) in cases {
        let d = ok(&text);
        println!("{text:?}: {} · {:?} · fix {:?} · alternatives {:?}", d.candidate, d.cause, d.fix, d.alternatives);
        assert_eq!(d.evidence, Evidence::Cause, "{text}: {d:#?}");
        assert_eq!(d.placed[0].source, src, "{text}");
        assert!(d.candidate.starts_with(&format!("scenario {scenario}")), "{text}: {}", d.candidate);
        // The other deployment's ids (load balancer, target group ARN) are slots, not carried
        // into the scenario: its run writes the engine's own, so only the status is checked.
        if !text.contains("app/prod-web/") {
            check_reproduces(&text, src, &d).unwrap();
        }
        let run = catalog::run(&d.scenario).unwrap();
        assert!(run.exchanges().iter().any(|e| e.status() == Some(want)), "{text}: {} answers no {want}", d.candidate);
        let (cause, fix) = (d.cause.clone().unwrap_or_default(), d.fix.clone().unwrap_or_default());
        if want == 523 {
            assert!(cause.contains("no route") && fix.starts_with("Point the DNS record back at the proxy"), "{cause} / {fix}");
        } else {
            assert!(cause.contains("no registered targets") && fix.starts_with("Register the target"), "{cause} / {fix}");
        }
    }
}
