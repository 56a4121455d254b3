//! Memory over a long run: a steady load for a simulated hour with the
//! playground's settings (every request's details and timeline kept, not
//! `measure_only`), sampled every simulated 5 minutes. A counting allocator
//! gives the live heap; `/proc/self/status` gives the resident set.
//!
//!     cargo bench --bench memory                       # healthy, 50 requests/s, 3600 s
//!     cargo bench --bench memory -- --scenario scenarios/overload.json
//!     cargo bench --bench memory -- --rate 50 --seconds 3600 --sample-s 300 --budget-mb-per-hour 5
//!     cargo bench --bench memory -- --measure-only    # as the retry lab runs (details dropped)
//!
//! Prints one line per sample, then the growth (least-squares slope of the
//! live heap over virtual time, MB per simulated hour). With
//! `--budget-mb-per-hour X` it exits 1 when the slope is above X: the form a
//! memory budget can take once exchanges and connections are bounded.
//! `scripts/bench --memory` runs it.

use std::process::ExitCode;

use gateway_core::sim::time::SimTime;
use gateway_core::sim::world::{Conn, Exchange};
use gateway_core::sim::engine::INTERACTIVE_RETAIN;
use gateway_core::sim::{Scenario, Simulation};

#[path = "support/heap.rs"]
mod counting;

#[global_allocator]
static ALLOC: counting::Counting = counting::Counting;

const MB: f64 = 1024.0 * 1024.0;

/// (VmRSS, VmHWM) in bytes, from /proc/self/status (Linux); zeros elsewhere.
fn rss() -> (u64, u64) {
    let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

struct Args {
    scenario: String,
    rate: f64,
    seconds: u64,
    sample_s: u64,
    budget: Option<f64>,
    measure_only: bool,
    keep_all: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args { scenario: concat!(env!("CARGO_MANIFEST_DIR"), "/../../scenarios/healthy.json").into(), rate: 50.0, seconds: 3_600, sample_s: 300, budget: None, measure_only: false, keep_all: false };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |what: &str| it.next().ok_or(format!("{what} needs a value"));
        match arg.as_str() {
            "--bench" => {} // cargo bench passes it
            "--measure-only" => a.measure_only = true,
            "--keep-all" => a.keep_all = true,
            "--scenario" => a.scenario = value("--scenario")?,
            "--rate" => a.rate = value("--rate")?.parse().map_err(|_| "--rate needs a number")?,
            "--seconds" => a.seconds = value("--seconds")?.parse().map_err(|_| "--seconds needs a whole number")?,
            "--sample-s" => a.sample_s = value("--sample-s")?.parse().map_err(|_| "--sample-s needs a whole number")?,
            "--budget-mb-per-hour" => {
                a.budget = Some(value("--budget-mb-per-hour")?.parse().map_err(|_| "--budget-mb-per-hour needs a number")?)
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if a.rate <= 0.0 || a.seconds == 0 || a.sample_s == 0 {
        return Err("--rate, --seconds and --sample-s must be positive".into());
    }
    Ok(a)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("memory: {e}");
            return ExitCode::from(2);
        }
    };
    let text = match std::fs::read_to_string(&args.scenario) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("memory: cannot read {}: {e}", args.scenario);
            return ExitCode::from(2);
        }
    };
    let sc = match Scenario::from_json(&text) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("memory: {}: {e}", args.scenario);
            return ExitCode::from(2);
        }
    };
    // A steady load for the whole run, the playground's settings otherwise.
    let sc = gateway_core::bench::steady(sc, args.rate, args.seconds);
    let before = counting::live();
    let made = if args.keep_all { Simulation::new(sc) } else { Simulation::interactive(sc) };
    let mut sim = match made {
        Ok(s) => s,
        Err(e) => {
            eprintln!("memory: {}: {e}", args.scenario);
            return ExitCode::from(2);
        }
    };
    if args.measure_only {
        sim.world_mut().measure_only();
    }
    println!(
        "memory: {} at {} requests/s for {} s of virtual time, {}, {}",
        args.scenario,
        args.rate,
        args.seconds,
        if args.measure_only { "measure_only (the retry lab's settings)" } else { "details kept (the playground's settings)" },
        if args.keep_all { "every request kept".to_string() } else { format!("the newest {INTERACTIVE_RETAIN} requests kept (Simulation::interactive)") }
    );
    println!(
        "{:>7} {:>10} {:>10} {:>9} {:>9} {:>10} {:>10} {:>8} {:>12}",
        "virt_s", "heap_MB", "peak_MB", "rss_MB", "hwm_MB", "requests", "kept", "conns", "events"
    );
    let mut points = Vec::new();
    let mut t = 0;
    loop {
        let heap = counting::live().saturating_sub(before) as f64 / MB;
        let peak = counting::peak() as f64 / MB;
        let (rss, hwm) = rss();
        let w = sim.world();
        println!(
            "{:>7} {:>10.1} {:>10.1} {:>9.1} {:>9.1} {:>10} {:>10} {:>8} {:>12}",
            t,
            heap,
            peak,
            rss as f64 / MB,
            hwm as f64 / MB,
            w.exchanges.len(),
            w.exchanges.kept(),
            w.conns.kept(),
            w.events_processed
        );
        points.push((t as f64 / 3_600.0, heap));
        if t >= args.seconds {
            break;
        }
        t = (t + args.sample_s).min(args.seconds);
        sim.run_until(SimTime::from_ms(t * 1_000));
    }
    // The first sample is the empty start: the slope is taken from the
    // second on, once the kept window has filled (a bounded run's heap
    // rises for its first seconds, then stays).
    let settled = if points.len() > 2 { &points[1..] } else { &points[..] };
    let per_hour = gateway_core::bench::slope(settled);
    let w = sim.world();
    let heap = counting::live().saturating_sub(before) as f64;
    println!(
        "growth: {per_hour:.2} MB per simulated hour (least squares over the {} samples from {} s on); {:.0} bytes of heap per request kept ({} kept of {} requests, {} of {} connections)",
        settled.len(),
        (settled[0].0 * 3_600.0).round(),
        heap / w.exchanges.kept().max(1) as f64,
        w.exchanges.kept(),
        w.exchanges.len(),
        w.conns.kept(),
        w.conns.len()
    );
    println!(
        "of which the slots themselves: exchanges {:.1} MB ({} B each × capacity {}), connections {:.1} MB ({} B each × capacity {}); the rest is what they own (timelines, log copies, headers, bodies, strings) and the logs",
        (w.exchanges.capacity() * std::mem::size_of::<Option<Exchange>>()) as f64 / MB,
        std::mem::size_of::<Option<Exchange>>(),
        w.exchanges.capacity(),
        (w.conns.capacity() * std::mem::size_of::<Option<Conn>>()) as f64 / MB,
        std::mem::size_of::<Option<Conn>>(),
        w.conns.capacity()
    );
    if let Some(b) = args.budget {
        if per_hour > b {
            println!("✗ memory grows {per_hour:.1} MB per simulated hour > budget {b} MB");
            return ExitCode::from(1);
        }
        println!("✓ memory grows {per_hour:.1} MB per simulated hour <= budget {b} MB");
    }
    ExitCode::SUCCESS
}
