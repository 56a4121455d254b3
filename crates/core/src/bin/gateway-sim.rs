//! Native runner: `gateway-sim SCENARIO.json` prints the run's transcript
//! (per request: status, attempts and timeline; then nginx stderr, the
//! client console, error.log, access.log and the app log).
//!
//! `gateway-sim --summary FILE` prints one line per request instead;
//! `--metrics` prints the retry lab's figures (success, latency
//! percentiles, amplification...). `--preset ID` and `--jitter J` replace
//! the clients' retry policy (or only its jitter) before the run.
//! `-` reads the scenario from standard input. Exit status: 0 on success,
//! 2 for unusable input (with a message naming the field).
//!
//! `--sample SEED` runs scenario number SEED of the property generator
//! (`sim::sample::random_scenario`) instead of a file. `--corpus N` prints
//! `INDEX SHA256` for scenarios 0..N of that generator, the hash being the
//! SHA-256 of the transcript (what `--sample INDEX` prints); the page's
//! `?bench=corpus&n=N` runs the same scenarios in the browser and
//! e2e/determinism.test.mjs compares both.
//!
//! `gateway-sim diagnose [FILE|-]` reads pasted log lines (nginx error.log
//! or access.log, HAProxy's httplog, the app's log, `curl -v`, an error
//! page) and prints the scenario whose run writes them (docs/DIAGNOSE.md):
//! exit 0 recognised (the scenario on stdout, what was placed on stderr),
//! 3 not recognised (one line and the nearest candidates on stderr), 2
//! unusable input.

use std::io::Read;
use std::process::ExitCode;

use gateway_core::sim::metrics::Metrics;
use gateway_core::sim::scenario::{Jitter, RetryPolicy};
use gateway_core::sim::sample::random_scenario;
use gateway_core::sim::{Scenario, Simulation};
use sha2::{Digest, Sha256};

const USAGE: &str = "usage: gateway-sim [--summary|--metrics] [--preset ID] [--jitter none|full|equal|decorrelated] SCENARIO.json|-|--sample SEED\n       gateway-sim --corpus N\n       gateway-sim diagnose [FILE|-]";

/// Most scenarios `--corpus` runs.
const MAX_CORPUS: u64 = 1_000_000;

/// `INDEX SHA256` of the transcript of each of the generator's scenarios 0..n.
fn corpus(n: u64) -> ExitCode {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for i in 0..n {
        let transcript = match gateway_core::sim::run(random_scenario(i)) {
            Ok(sim) => sim.transcript(),
            Err(e) => {
                eprintln!("gateway-sim: generated scenario {i} is invalid: {e}");
                return ExitCode::FAILURE;
            }
        };
        let hash: String = Sha256::digest(transcript.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
        if writeln!(out, "{i} {hash}").is_err() {
            return ExitCode::FAILURE;
        }
    }
    if out.flush().is_err() {
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// The scenario's text: the file, or standard input for `-`.
fn read(path: &str) -> Result<String, ExitCode> {
    if path == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).map_err(|e| {
            eprintln!("gateway-sim: cannot read standard input: {e}");
            ExitCode::from(2)
        })?;
        Ok(s)
    } else {
        std::fs::read_to_string(path).map_err(|e| {
            eprintln!("gateway-sim: cannot read {path}: {e}");
            ExitCode::from(2)
        })
    }
}

/// `gateway-sim diagnose [FILE|-]`.
fn diagnose(path: Option<String>) -> ExitCode {
    use gateway_core::diagnose::{diagnose, DiagnoseError};
    let path = path.unwrap_or_else(|| "-".into());
    // Bytes, not UTF-8: binary input gets diagnose's own message.
    let bytes = if path == "-" {
        let mut b = Vec::new();
        std::io::stdin().take(gateway_core::diagnose::input::MAX_BYTES as u64 + 1).read_to_end(&mut b).map(|_| b)
    } else {
        std::fs::File::open(&path).and_then(|f| {
            let mut b = Vec::new();
            f.take(gateway_core::diagnose::input::MAX_BYTES as u64 + 1).read_to_end(&mut b).map(|_| b)
        })
    };
    let bytes = match bytes {
        Ok(b) => b,
        Err(e) => {
            eprintln!("gateway-sim: cannot read {path}: {e}");
            return ExitCode::from(2);
        }
    };
    let text = String::from_utf8_lossy(&bytes);
    // Status-only or ambiguous lines name no cause: "not recognised" here.
    let result = diagnose(&text).and_then(|d| match d.refusal() {
        None => Ok(d),
        Some(e) => Err(e),
    });
    match result {
        Ok(d) => {
            println!("{}", d.scenario.to_json());
            eprintln!("recognised: {} ({})", d.scenario.title.trim_start_matches("Diagnosed: "), d.candidate);
            if let Some(c) = &d.cause {
                eprintln!("cause: {c}");
            }
            if let Some(f) = &d.fix {
                eprintln!("fix: {f}");
            }
            for p in &d.placed {
                eprintln!("line {} placed ({}):", p.line, p.source.as_str());
                eprintln!("  pasted     {}", p.pasted);
                eprintln!("  reproduced {}", p.reproduced);
                for (what, v) in &p.carried {
                    eprintln!("  carried    {what} = {v}");
                }
                for d in &p.differences {
                    eprintln!("  differs    {d}");
                }
            }
            for u in &d.unplaced {
                eprintln!("line {} not placed: {} ({})", u.line, u.text, u.reason);
            }
            if !d.alternatives.is_empty() {
                eprintln!("the same lines also come from: {}", d.alternatives.join("; "));
            }
            ExitCode::SUCCESS
        }
        Err(DiagnoseError::Unusable(m)) => {
            eprintln!("gateway-sim: {m}");
            ExitCode::from(2)
        }
        Err(DiagnoseError::NotRecognised { message, nearest }) => {
            eprintln!("gateway-sim: {message}");
            for n in nearest {
                if n.line.is_empty() {
                    eprintln!("  nearest: {}", n.candidate);
                } else {
                    eprintln!("  nearest: {}: {}", n.candidate, n.line);
                }
            }
            ExitCode::from(3)
        }
    }
}

fn main() -> ExitCode {
    if std::env::args().nth(1).as_deref() == Some("diagnose") {
        let mut rest = std::env::args().skip(2);
        let path = rest.next();
        if rest.next().is_some() {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
        return diagnose(path);
    }
    let mut summary = false;
    let mut metrics = false;
    let mut preset = None;
    let mut jitter = None;
    let mut path = None;
    let mut sample = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--summary" => summary = true,
            "--metrics" => metrics = true,
            "--preset" => match args.next().and_then(|id| RetryPolicy::preset(&id)) {
                Some(p) => preset = Some(p),
                None => {
                    let ids: Vec<&str> = RetryPolicy::presets().iter().map(|p| p.0).collect();
                    eprintln!("gateway-sim: --preset needs one of {}", ids.join(", "));
                    return ExitCode::from(2);
                }
            },
            "--jitter" => {
                jitter = match args.next().as_deref() {
                    Some("none") => Some(Jitter::None),
                    Some("full") => Some(Jitter::Full),
                    Some("equal") => Some(Jitter::Equal),
                    Some("decorrelated") => Some(Jitter::Decorrelated),
                    _ => {
                        eprintln!("gateway-sim: --jitter needs none, full, equal or decorrelated");
                        return ExitCode::from(2);
                    }
                }
            }
            "--sample" => match args.next().and_then(|n| n.parse::<u64>().ok()) {
                Some(n) => sample = Some(n),
                None => {
                    eprintln!("gateway-sim: --sample needs a number (the generator's seed)");
                    return ExitCode::from(2);
                }
            },
            "--corpus" => {
                return match args.next().and_then(|n| n.parse::<u64>().ok()).filter(|n| *n <= MAX_CORPUS) {
                    Some(n) => corpus(n),
                    None => {
                        eprintln!("gateway-sim: --corpus needs a count from 0 to {MAX_CORPUS}");
                        ExitCode::from(2)
                    }
                };
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            _ if path.is_none() => path = Some(arg),
            _ => {
                eprintln!("{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let (path, parsed) = match (path, sample) {
        (Some(_), Some(_)) | (None, None) => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
        // Not through JSON: the very scenario the generator made.
        (None, Some(n)) => (format!("--sample {n}"), Ok(random_scenario(n))),
        (Some(path), None) => match read(&path) {
            Ok(text) => {
                let parsed = Scenario::from_json(&text);
                (path, parsed)
            }
            Err(code) => return code,
        },
    };
    let scenario = match parsed {
        Ok(mut s) => {
            if let Some(p) = preset {
                s.clients.retry = p;
            }
            if let Some(j) = jitter {
                s.clients.retry.jitter = j;
            }
            s
        }
        Err(e) => {
            eprintln!("gateway-sim: {path}: {e}");
            return ExitCode::from(2);
        }
    };
    let mut sim = match Simulation::new(scenario) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("gateway-sim: {path}: {e}");
            return ExitCode::from(2);
        }
    };
    if metrics {
        sim.world_mut().measure_only();
    }
    sim.run();
    if metrics {
        let m = Metrics::of(sim.world());
        println!("requests          {}", m.ops);
        println!("success           {:.2} % ({} of {})", m.success_rate * 100.0, m.ops_ok, m.ops_finished);
        println!("latency p50/p95/p99  {:.1} / {:.1} / {:.1} ms", m.latency_ms.p50, m.latency_ms.p95, m.latency_ms.p99);
        println!("amplification     {:.3} upstream attempts per request = {:.3} tries sent × {:.3} proxy attempts", m.amplification, m.tries_per_op, m.attempts_per_try);
        println!("upstream attempts {}", m.upstream_attempts);
        println!("retries / hedges  {} / {} ({} copies cancelled)", m.retries, m.hedges, m.hedges_cancelled);
        println!("client timeouts   {}", m.timeouts);
        println!("breaker rejected  {}; budget denied {}; throttle denied {}", m.breaker_rejections, m.budget_denied, m.throttle_denied);
        println!("outcomes          {:?}", m.outcomes);
        if !m.breaker.is_empty() {
            let spans: Vec<String> = m.breaker.iter().map(|b| format!("{} {:.1}-{:.1} s", b.state.as_str(), b.from_ms as f64 / 1e3, b.to_ms as f64 / 1e3)).collect();
            println!("breaker           {}", spans.join(", "));
        }
        println!("virtual time      {:.1} s, {} events", m.end_ms as f64 / 1e3, sim.world().events_processed);
        return ExitCode::SUCCESS;
    }
    if summary {
        for ex in sim.exchanges() {
            let status = ex.logged_status.map(|s| format!("{s:03}")).unwrap_or_else(|| "---".into());
            println!("#{:<5} {} {} attempts={} {}", ex.id + 1, status, ex.request_line(), ex.attempts.len(), ex.console.join(" "));
        }
        let st = &sim.world().stats;
        println!("requests={} finished={} upstream_attempts={} by_status={:?}", st.requests_sent, st.requests_finished, st.upstream_attempts, st.by_status);
    } else {
        print!("{}", sim.transcript());
    }
    ExitCode::SUCCESS
}
