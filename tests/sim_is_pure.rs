//! Enforces ARCHITECTURE.md's first invariant: `src/sim` (the engine) and
//! `src/shell` (the diagnosis terminal's shell over it) import nothing from
//! the web stack and never read a wall clock or ambient randomness.

use std::fs;
use std::path::{Path, PathBuf};

const FORBIDDEN: &[&str] = &[
    "leptos",
    "web_sys",
    "js_sys",
    "wasm_bindgen",
    "gloo",
    "crate::ui",
    "std::time::SystemTime",
    "std::time::Instant",
    "SystemTime::now",
    "Instant::now",
    "OffsetDateTime::now",
    "thread_rng",
    "getrandom",
    "from_entropy",
    "from_os_rng",
];

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

/// Returns `(file, line number, token)` for every forbidden token outside comments.
fn violations(dir: &Path) -> Vec<(String, usize, &'static str)> {
    let mut files = Vec::new();
    rust_files(dir, &mut files);
    files.sort();
    scan(files)
}

fn scan(files: Vec<PathBuf>) -> Vec<(String, usize, &'static str)> {
    let mut found = Vec::new();
    for file in files {
        let text = fs::read_to_string(&file).expect("readable source");
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for token in FORBIDDEN {
                if code.contains(token) {
                    found.push((file.display().to_string(), n + 1, *token));
                }
            }
        }
    }
    found
}

#[test]
fn sim_has_no_web_imports_and_no_wall_clock() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/sim");
    let v = violations(&dir);
    assert!(v.is_empty(), "src/sim must stay pure (see ARCHITECTURE.md); found: {v:#?}");
}

#[test]
fn the_embed_protocol_has_no_web_imports() {
    // src/embed_api.rs decides what a host page's postMessage means; it must
    // stay pure so that its native tests cover it (docs/EMBEDDING.md).
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/embed_api.rs");
    let v = scan(vec![file]);
    assert!(v.is_empty(), "src/embed_api.rs must stay pure; found: {v:#?}");
}

#[test]
fn lessons_and_the_compiled_in_data_have_no_web_imports() {
    // Lesson checks judge the engine natively (tests/lessons.rs); they must not need a browser.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("src/scenarios.rs")];
    rust_files(&root.join("src/lesson"), &mut files);
    let v = scan(files);
    assert!(v.is_empty(), "src/lesson and src/scenarios.rs must stay pure; found: {v:#?}");
}

#[test]
fn shell_has_no_web_imports_and_no_wall_clock() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/shell");
    let mut files = Vec::new();
    rust_files(&dir, &mut files);
    assert!(files.len() >= 7, "the shell's files are scanned: {files:?}");
    let v = violations(&dir);
    assert!(v.is_empty(), "src/shell must stay pure (see ARCHITECTURE.md); found: {v:#?}");
}

#[test]
fn the_guard_catches_a_web_import() {
    // Proves the scan above can fail: a planted import is reported.
    let dir = std::env::temp_dir().join(format!("gateway-lab-purity-{}", std::process::id()));
    fs::create_dir_all(dir.join("nested")).unwrap();
    fs::write(dir.join("ok.rs"), "// leptos in a comment is fine\nuse serde::Serialize;\n").unwrap();
    fs::write(dir.join("nested/bad.rs"), "use web_sys::window;\nfn f() { let _ = std::time::Instant::now(); }\n").unwrap();
    let v = violations(&dir);
    fs::remove_dir_all(&dir).unwrap();
    let tokens: Vec<_> = v.iter().map(|(_, line, t)| (*line, *t)).collect();
    assert!(tokens.contains(&(1, "web_sys")), "{v:?}");
    assert!(tokens.contains(&(2, "Instant::now")), "{v:?}");
    assert!(!v.iter().any(|(f, _, _)| f.ends_with("ok.rs")), "{v:?}");
}
