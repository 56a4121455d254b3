//! `gateway-previews [FILE]`: writes the embed's static previews
//! (`gateway_core::preview`, issue 20) as JSON to FILE, or to standard
//! output. Trunk's post-build hook (`scripts/trunk-post-build`) runs it
//! into the build's `previews.json`, which `public/preview.js` draws before
//! the WebAssembly has loaded. With FILE, the previews of the flavors after
//! nginx and HAProxy go to files of their own next to it
//! (`previews-apache.json`, …, named in FILE's `files`; `preview::split`);
//! on standard output, everything in one object. Exit status: 0, or 1 with
//! a message.

use std::path::Path;
use std::process::ExitCode;

fn fail(e: impl std::fmt::Display) -> ExitCode {
    eprintln!("gateway-previews: {e}");
    ExitCode::from(1)
}

fn write(path: &Path, previews: &gateway_core::preview::Previews) -> Result<(), String> {
    let json = serde_json::to_string(previews).map_err(|e| e.to_string())?;
    std::fs::write(path, json + "\n").map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn main() -> ExitCode {
    match std::env::args().nth(1) {
        Some(path) => {
            let (main, others) = match gateway_core::preview::split() {
                Ok(p) => p,
                Err(e) => return fail(e),
            };
            let path = Path::new(&path);
            let dir = path.parent().unwrap_or(Path::new("."));
            for (file, previews) in &others {
                if let Err(e) = write(&dir.join(file), previews) {
                    return fail(e);
                }
            }
            match write(path, &main) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(e),
            }
        }
        None => match gateway_core::preview::all().and_then(|p| serde_json::to_string(&p).map_err(|e| e.to_string())) {
            Ok(json) => {
                println!("{json}");
                ExitCode::SUCCESS
            }
            Err(e) => fail(e),
        },
    }
}
