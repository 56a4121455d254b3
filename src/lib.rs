//! Gateway Lab: a faithful in-browser simulator of HTTP gateway errors.
//!
//! `sim` is the engine (pure, deterministic, no web imports); `ui` renders
//! it with Leptos. See ARCHITECTURE.md.

pub mod embed_api;
pub mod lesson;
pub mod link;
pub mod scenarios;
pub mod sim;
pub mod ui;
