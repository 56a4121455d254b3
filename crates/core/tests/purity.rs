//! ARCHITECTURE.md's first three invariants, for the whole core crate.
//!
//! 1. No web stack: `gateway-core`'s dependency tree has no leptos, web-sys,
//!    js-sys, wasm-bindgen or gloo. The compiler enforces it (the crate cannot
//!    name what it does not depend on); this test keeps the manifest honest by
//!    reading `cargo tree`.
//! 2. and 3. Time is virtual and randomness comes from the seeded PRNG: no
//!    wall clock and no OS entropy in the crate's library sources. The sources
//!    are read as Rust tokens (with `syn`), so comments and string literals
//!    never hide code nor count as code. Only the native benchmark runner
//!    (`src/bin/gateway-bench.rs`) reads a clock, to time the engine. (The
//!    constant `OffsetDateTime::UNIX_EPOCH` is allowed: it reads no clock.)

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use proc_macro2::{TokenStream, TokenTree};
use quote::ToTokens;

const WEB_CRATES: &[&str] = &["leptos", "web-sys", "js-sys", "wasm-bindgen", "gloo", "gloo-timers"];

/// Identifiers that read a wall clock or the OS's entropy.
const FORBIDDEN_IDENTS: &[&str] = &[
    "SystemTime",
    "Instant",
    "now_utc",
    "now_local",
    "thread_rng",
    "ThreadRng",
    "OsRng",
    "getrandom",
    "from_entropy",
    "from_os_rng",
    "rng", // rand::rng(), the thread-local generator (only as `rand::rng`)
];

/// Files allowed to time things in wall-clock time.
const CLOCK_ALLOWED: &[&str] = &["src/bin/gateway-bench.rs"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("the source directory is readable") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every identifier of `ts` in order, with the one before it (`rand` :: `rng`).
fn idents(ts: TokenStream, out: &mut Vec<String>) {
    for tt in ts {
        match tt {
            TokenTree::Ident(i) => out.push(i.to_string()),
            TokenTree::Group(g) => idents(g.stream(), out),
            _ => {}
        }
    }
}

/// The forbidden identifiers in one source text.
fn violations_in(text: &str) -> Result<Vec<&'static str>, String> {
    let file = syn::parse_file(text).map_err(|e| e.to_string())?;
    let mut ids = Vec::new();
    idents(file.into_token_stream(), &mut ids);
    let mut found = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        for f in FORBIDDEN_IDENTS {
            if id == f {
                let prev = if i > 0 { ids[i - 1].as_str() } else { "" };
                let next = ids.get(i + 1).map(String::as_str).unwrap_or("");
                // `rng` alone is a common variable name; only `rand::rng` is the thread-local one.
                if *f == "rng" && prev != "rand" {
                    continue;
                }
                // `Instant` is also a word (`Speed::Instant`); the clock is `time::Instant` or `Instant::now`.
                if *f == "Instant" && prev != "time" && next != "now" {
                    continue;
                }
                found.push(*f);
            }
        }
    }
    Ok(found)
}

#[test]
fn the_core_has_no_wall_clock_and_no_os_entropy() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    files.sort();
    assert!(files.len() > 40, "the whole crate is scanned: {} files", files.len());
    let mut bad = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(root).unwrap().display().to_string();
        if CLOCK_ALLOWED.contains(&rel.as_str()) {
            continue;
        }
        let text = fs::read_to_string(f).unwrap();
        match violations_in(&text) {
            Ok(v) if v.is_empty() => {}
            Ok(v) => bad.push(format!("{rel}: {v:?}")),
            Err(e) => bad.push(format!("{rel}: does not parse: {e}")),
        }
    }
    assert!(bad.is_empty(), "the core must use virtual time and the seeded PRNG only (ARCHITECTURE.md):\n{}", bad.join("\n"));
}

#[test]
fn the_guard_reads_code_not_comments_or_strings() {
    // Code after a URL in a string is code (the old grep stopped at the first `//`).
    let v = violations_in("fn f() { let u = \"http://x\"; let t = std::time::Instant::now(); }").unwrap();
    assert_eq!(v, vec!["Instant"]);
    // Words in comments and strings are not code.
    let v = violations_in("// Instant::now() in a comment\n/* SystemTime */ fn f() -> &'static str { \"thread_rng\" }").unwrap();
    assert!(v.is_empty(), "{v:?}");
    // OS entropy and the thread-local generator are caught; a variable named rng is not.
    assert_eq!(violations_in("fn f() { let r = rand::rng(); let s = Xo::from_os_rng(); }").unwrap(), vec!["rng", "from_os_rng"]);
    assert!(violations_in("fn f(rng: &mut R) { rng.next(); }").unwrap().is_empty());
    // The clock type by its path or its now(), not a variant that happens to be called Instant.
    assert_eq!(violations_in("use std::time::Instant; fn f() { Instant::now(); }").unwrap(), vec!["Instant", "Instant"]);
    assert!(violations_in("enum Speed { Instant } fn f(s: Speed) -> bool { matches!(s, Speed::Instant) }").unwrap().is_empty());
}

#[test]
fn the_core_depends_on_no_web_crate() {
    let out = Command::new(env!("CARGO"))
        .args(["tree", "-p", "gateway-core", "--edges", "normal,build", "--prefix", "none", "--format", "{p}"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(out.status.success(), "cargo tree failed: {}", String::from_utf8_lossy(&out.stderr));
    let tree = String::from_utf8(out.stdout).unwrap();
    let names: Vec<&str> = tree.lines().filter_map(|l| l.split_whitespace().next()).collect();
    assert!(names.contains(&"gateway-core") && names.contains(&"serde"), "the tree was read: {names:?}");
    let web: Vec<&&str> = names.iter().filter(|n| WEB_CRATES.contains(n) || n.starts_with("leptos") || n.starts_with("gloo") || n.starts_with("wasm-bindgen")).collect();
    assert!(web.is_empty(), "gateway-core must not depend on the web stack; found {web:?}");
}
