//! `gateway-previews [FILE]`: writes the embed's static previews
//! (`gateway_core::preview`, issue 20) as JSON to FILE, or to standard
//! output. Trunk's post-build hook (`scripts/trunk-post-build`) runs it
//! into the build's `previews.json`, which `public/preview.js` draws before
//! the WebAssembly has loaded. Exit status: 0, or 1 with a message.

use std::process::ExitCode;

fn main() -> ExitCode {
    let previews = match gateway_core::preview::all() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("gateway-previews: {e}");
            return ExitCode::from(1);
        }
    };
    let json = match serde_json::to_string(&previews) {
        Ok(j) => j,
        Err(e) => {
            eprintln!("gateway-previews: {e}");
            return ExitCode::from(1);
        }
    };
    match std::env::args().nth(1) {
        Some(path) => match std::fs::write(&path, json + "\n") {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("gateway-previews: cannot write {path}: {e}");
                ExitCode::from(1)
            }
        },
        None => {
            println!("{json}");
            ExitCode::SUCCESS
        }
    }
}
