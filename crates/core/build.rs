//! The Lessons tab's list, read from `lessons/*.json` at build time (issue 20).
//!
//! The page lists the lessons (title, summary, the goal of each step) the moment its Lessons tab
//! opens, which is the default tab. Reading the files at run time takes serde's JSON reader and
//! `Scenario`'s `Deserialize` (the `codec` chunk and its shared chunks, ~95 KB brotli) that a
//! reader who never starts a lesson does not need. So this writes `OUT_DIR/lesson_index.rs`: one
//! `Entry` per file, in file-name order (the order of `lesson::catalog::LESSONS`, which
//! `tests/lessons.rs` keeps equal to the directory and to this index). Starting a lesson still
//! reads the whole file through `Lesson::from_json`, which validates it; a file this script cannot
//! read is listed under its file name, and the page says why when the lesson is started.
use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../lessons");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    names.retain(|n| n.ends_with(".json") && n != "quiz.json");
    names.sort();
    let mut out = String::from("/// The lessons as the Lessons tab lists them (written by build.rs).\npub const INDEX: &[Entry] = &[\n");
    for file in &names {
        let path = dir.join(file);
        println!("cargo:rerun-if-changed={}", path.display());
        let name = file.trim_end_matches(".json");
        let v: serde_json::Value = std::fs::read_to_string(&path).ok().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default();
        let text = |key: &str| v[key].as_str().unwrap_or_default().to_string();
        let title = Some(text("title")).filter(|t| !t.is_empty()).unwrap_or_else(|| name.to_string());
        let goals: Vec<String> = v["steps"].as_array().map(|s| s.iter().map(|s| s["goal"].as_str().unwrap_or_default().to_string()).collect()).unwrap_or_default();
        // `{:?}` of a str is a valid Rust string literal.
        let _ = writeln!(out, "    Entry {{ name: {name:?}, id: {:?}, title: {title:?}, summary: {:?}, goals: &{goals:?} }},", text("id"), text("summary"));
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("lesson_index.rs");
    std::fs::write(dest, out).expect("OUT_DIR is writable");
}
