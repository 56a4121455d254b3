//! Gateway Lab: a faithful in-browser simulator of HTTP gateway errors.
//!
//! `sim` is the engine (pure, deterministic, no web imports); `ui` renders
//! it with Leptos. `bench` names the scenarios the performance figures are
//! measured on (docs/PERFORMANCE.md). See ARCHITECTURE.md.

pub mod bench;
pub mod lesson;
pub mod link;
pub mod sim;
pub mod ui;
