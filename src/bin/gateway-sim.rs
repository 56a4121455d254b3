//! Native runner: `gateway-sim SCENARIO.json` prints the run's transcript
//! (per request: status, attempts and timeline; then nginx stderr, the
//! client console, error.log, access.log and the app log).
//!
//! `gateway-sim --summary FILE` prints one line per request instead;
//! `-` reads the scenario from standard input. Exit status: 0 on success,
//! 2 for unusable input (with a message naming the field).

use std::io::Read;
use std::process::ExitCode;

use gateway_lab::sim::{Scenario, Simulation};

const USAGE: &str = "usage: gateway-sim [--summary] SCENARIO.json|-";

fn main() -> ExitCode {
    let mut summary = false;
    let mut path = None;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--summary" => summary = true,
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
    let Some(path) = path else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let text = if path == "-" {
        let mut s = String::new();
        if let Err(e) = std::io::stdin().read_to_string(&mut s) {
            eprintln!("gateway-sim: cannot read standard input: {e}");
            return ExitCode::from(2);
        }
        s
    } else {
        match std::fs::read_to_string(&path) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("gateway-sim: cannot read {path}: {e}");
                return ExitCode::from(2);
            }
        }
    };
    let scenario = match Scenario::from_json(&text) {
        Ok(s) => s,
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
    sim.run();
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
