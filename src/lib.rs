//! Gateway Lab's web app: Leptos components (`ui`) over `gateway_core`, which
//! holds the engine, the shell, lessons, share links, the embed protocol and
//! the `Session` that carries every command. The core's modules are
//! re-exported so the UI names them as `crate::sim`, `crate::session`, ...
//! See ARCHITECTURE.md.

pub use gateway_core::{bench, compare, diagnose, embed_api, lab, lesson, link, scenarios, session, shell, sim, view};

pub mod ui;
