//! `gateway-previews [FILE]`: writes the embed's static previews
//! (`gateway_core::preview`, issue 20) as JSON to FILE, or to standard
//! output. Trunk's post-build hook (`scripts/trunk-post-build`) runs it
//! into the build's `previews.json`, which `public/preview.js` draws before
//! the WebAssembly has loaded. With FILE, the previews of the flavors after
//! nginx and HAProxy go to files of their own next to it
//! (`previews-apache.json`, …, named in FILE's `files`; `preview::split`);
//! on standard output, everything in one object.
//!
//! `gateway-previews --page INDEX.html`: writes the page's start
//! (`gateway_core::preview::page`) into INDEX.html in place of
//! `__GATEWAY_LAB_PAGE_PREVIEW__` (inside a `<script type="application/json">`,
//! so every `<` is written `\u003c`), which `public/boot.js` draws while the
//! WebAssembly downloads. Exit status: 0, or 1 with a message.

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

/// The page's start into `index` (see the module's doc).
fn page(index: &Path) -> Result<(), String> {
    const MARK: &str = "__GATEWAY_LAB_PAGE_PREVIEW__";
    let html = std::fs::read_to_string(index).map_err(|e| format!("cannot read {}: {e}", index.display()))?;
    if !html.contains(MARK) {
        return Err(format!("{} has no {MARK} to replace", index.display()));
    }
    let json = serde_json::to_string(&gateway_core::preview::page()?).map_err(|e| e.to_string())?;
    let html = html.replace(MARK, &json.replace('<', "\\u003c"));
    std::fs::write(index, html).map_err(|e| format!("cannot write {}: {e}", index.display()))
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    if let Some("--page") = args.next().as_deref() {
        return match args.next() {
            Some(index) => match page(Path::new(&index)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(e),
            },
            None => fail("--page wants the path of the build's index.html"),
        };
    }
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
