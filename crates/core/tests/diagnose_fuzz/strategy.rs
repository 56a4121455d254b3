//! The pasted-text strategy shared by the diagnose fuzz runs
//! (`tests/diagnose.rs` `fuzz_diagnose`, `tests/diagnose_bounds.rs`).
#![allow(dead_code)]

use gateway_core::diagnose::catalog;
use proptest::prelude::*;
use serde_json::Value;

/// Cases per fuzz run: `FUZZ_CASES`, 300 by default.
pub fn fuzz_cases() -> u32 {
    std::env::var("FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(300)
}

/// Real lines to mutate: the corpus and every catalog template's example.
pub fn seeds() -> Vec<String> {
    let mut v: Vec<String> = include_str!("../data/diagnose-corpus.jsonl")
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|e| e["text"].as_str().map(str::to_string))
        .collect();
    v.extend(catalog::get().entries.iter().map(|e| e.example.clone()));
    v
}

/// Pasted text as a stranger might send it: real lines mutated (cut,
/// spliced, repeated, sprinkled with escapes and control bytes), word
/// salad from the templates' own words, or any string at all.
pub fn arb_paste(seeds: Vec<String>) -> impl Strategy<Value = String> {
    let n = seeds.len();
    let noise = prop_oneof![
        Just("\u{1b}[31m".to_string()),
        Just("\u{1b}]0;x\u{7}".to_string()),
        Just("\0".to_string()),
        Just("\r".to_string()),
        Just("\u{202e}".to_string()),
        Just("\"".to_string()),
        Just(", client: ".to_string()),
        Just(" while ".to_string()),
        Just("$".to_string()),
        Just("...".to_string()),
        Just("/".repeat(64)),
        "[ -~]{0,12}".prop_map(|s| s),
        any::<char>().prop_map(|c| c.to_string()),
    ];
    let mutated = (0..n, prop::collection::vec((any::<prop::sample::Index>(), 0u8..5, noise), 0..6), 1usize..4).prop_map({
        let seeds = seeds.clone();
        move |(i, edits, times)| {
            let mut s = seeds[i].repeat(times);
            for (at, how, piece) in edits {
                let mut cut = at.index(s.len() + 1);
                while !s.is_char_boundary(cut) {
                    cut -= 1;
                }
                match how {
                    0 => s.insert_str(cut, &piece),
                    1 => s.truncate(cut),
                    2 => {
                        let end = (cut + piece.len()).min(s.len());
                        let mut end2 = end;
                        while !s.is_char_boundary(end2) {
                            end2 -= 1;
                        }
                        s.replace_range(cut..end2.max(cut), &piece);
                    }
                    3 => s = s.chars().map(|c| if c.is_ascii_digit() { '9' } else { c }).collect(),
                    _ => s.push('\n'),
                }
            }
            s
        }
    });
    let words: Vec<String> = seeds.iter().flat_map(|l| l.split(' ').map(str::to_string).collect::<Vec<_>>()).collect();
    let salad = prop::collection::vec(any::<prop::sample::Index>(), 1..120).prop_map(move |ix| ix.iter().map(|i| i.get(&words).as_str()).collect::<Vec<_>>().join(" "));
    let repeated = (0..n, 1usize..300).prop_map({
        let seeds = seeds.clone();
        move |(i, k)| seeds[i].chars().take(40).collect::<String>().repeat(k)
    });
    prop_oneof![4 => mutated, 2 => salad, 1 => repeated, 1 => any::<String>(), 1 => prop::collection::vec(any::<u8>(), 0..2000).prop_map(|b| String::from_utf8_lossy(&b).into_owned())]
}

