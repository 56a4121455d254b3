//! Helpers shared by several test binaries: the shipped scenario files, and
//! the real proxies' config checks. (Each binary uses some of them.)
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The `.json` files directly in `dir` (relative to the crate), sorted.
pub fn json_files(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

/// Every shipped scenario: the catalog's and the retry lab's experiments.
pub fn scenario_files() -> Vec<PathBuf> {
    let mut files = json_files("scenarios");
    files.extend(json_files("scenarios/retry_lab"));
    files
}
use std::process::Command;

/// The real `name` binary in /usr/sbin or /usr/bin, or None when the
/// environment variable `skip` is set. Panics when it is missing: the
/// README's test command installs it, so a missing proxy is a failure.
pub fn proxy_binary(name: &str, skip: &str) -> Option<PathBuf> {
    if std::env::var_os(skip).is_some() {
        return None;
    }
    for dir in ["/usr/sbin", "/usr/bin"] {
        let p = Path::new(dir).join(name);
        if p.exists() {
            return Some(p);
        }
    }
    panic!("{name} is not installed: run ./scripts/setup test (or set {skip}=1 to skip)");
}

/// A throwaway self-signed CA certificate in `dir`, for configs that name one.
pub fn self_signed_ca(dir: &Path) -> PathBuf {
    let key = dir.join("ca.key");
    let crt = dir.join("ca.pem");
    let ok = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=gateway-lab-test-ca"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&crt)
        .output()
        .expect("openssl runs")
        .status
        .success();
    assert!(ok, "openssl could not make a test CA");
    crt
}
