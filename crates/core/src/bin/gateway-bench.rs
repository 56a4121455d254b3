//! Native counterpart of the page's `?bench=` entry point (src/ui/bench.rs):
//! runs one benchmark case (src/bench.rs) to the end `--runs` times and
//! prints the same JSON line the page writes, timed with `Instant`.
//!
//!     gateway-bench CASE [--requests N] [--runs K]
//!     gateway-bench --list
//!
//! Build it with `--release` (scripts/bench does): a debug build is many
//! times slower. Exit status 2 for unusable arguments.

use std::process::ExitCode;
use std::time::Instant;

use gateway_core::bench::{case, measure, names};

const USAGE: &str = "usage: gateway-bench CASE [--requests N] [--runs K] | --list";

fn main() -> ExitCode {
    let mut name = None;
    let mut requests = None;
    let mut runs: usize = 5;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--list" => {
                for n in names() {
                    let c = case(n).expect("listed");
                    println!("{:<16} {} ({})", c.name, c.what, c.file);
                }
                return ExitCode::SUCCESS;
            }
            "--requests" => match args.next().and_then(|v| v.parse::<u32>().ok()) {
                Some(n) if n > 0 => requests = Some(n),
                _ => return usage("--requests needs a positive whole number"),
            },
            "--runs" => match args.next().and_then(|v| v.parse::<usize>().ok()) {
                Some(n) if n > 0 => runs = n,
                _ => return usage("--runs needs a positive whole number"),
            },
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            _ if name.is_none() && !arg.starts_with('-') => name = Some(arg),
            _ => return usage(&format!("unexpected argument {arg:?}")),
        }
    }
    let Some(name) = name else { return usage("which case?") };
    let Some(c) = case(&name) else {
        return usage(&format!("{name:?} is not a case; cases: {}", names().join(", ")));
    };
    let start = Instant::now();
    match measure(c, requests, runs, || start.elapsed().as_secs_f64() * 1_000.0) {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gateway-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn usage(why: &str) -> ExitCode {
    eprintln!("gateway-bench: {why}\n{USAGE}");
    ExitCode::from(2)
}
