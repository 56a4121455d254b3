//! Gateway Lab: a faithful in-browser simulator of HTTP gateway errors.
//!
//! `sim` is the engine (pure, deterministic, no web imports); `shell` is the
//! diagnosis terminal's shell over it (pure too); `ui` renders both with
//! Leptos. `bench` names the scenarios the performance figures are measured
//! on (docs/PERFORMANCE.md). See ARCHITECTURE.md.

pub mod bench;
pub mod embed_api;
pub mod lesson;
pub mod link;
pub mod scenarios;
pub mod shell;
pub mod sim;
pub mod ui;
