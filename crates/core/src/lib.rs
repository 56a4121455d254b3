//! Gateway Lab's core: everything that does not touch the browser.
//!
//! `sim` is the engine (pure, deterministic); `shell` is the diagnosis
//! terminal's shell over it; `session` is the one set of commands that
//! drives a run, whoever calls (a button, a key, a lesson, an embedding
//! page, a test); `lesson`, `link`, `embed_api` and `scenarios` are data and
//! protocols around it. `bench` names the scenarios the performance figures
//! are measured on (docs/PERFORMANCE.md). This crate's dependency tree has no
//! leptos, web-sys, js-sys, wasm-bindgen or gloo: the compiler keeps it pure.
//! See ARCHITECTURE.md.

pub mod bench;
pub mod compare;
pub mod diagnose;
pub mod lab;
pub mod embed_api;
pub mod lesson;
pub mod link;
pub mod scenarios;
pub mod session;
pub mod shell;
pub mod preview;
pub mod sim;
pub mod view;
