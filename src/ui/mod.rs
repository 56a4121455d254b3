//! The Leptos front end. It renders what `sim` produced and never decides
//! HTTP semantics itself. One component per file.

mod app;
mod app_server;
mod clipboard;
mod codec;
mod flavors;
mod bench;
mod compare;
mod config;
mod controls;
mod embed;
mod fix;
mod lazy;
pub mod lab;
pub mod library;
mod layers;
mod lessons;
mod lessons_bar;
mod lessons_list;
mod logs;
mod motion;
mod number;
mod palette;
mod paste;
mod panic;
mod picker;
pub mod playground;
mod presenter;
mod quiz;
mod requests;
mod response;
mod share;
mod tabs;
mod telling;
mod terminal;
mod theme;
mod time;
mod timeline;
mod topology;

pub use app::App;

/// Mounts the app on `<body>` (called by `main`).
pub fn start() {
    panic::install();
    // `?bench=CASE`: the hidden benchmark page (scripts/bench), not the app.
    if let Some(req) = bench::requested() {
        return bench::mount(req);
    }
    leptos::mount::mount_to_body(App);
}
