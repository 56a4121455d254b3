//! Node.js 20 (`http.createServer`): the generic app every scenario had
//! before server kinds existed, and still the default. Its behaviour is
//! `sim::app`'s own (workers, backlog, `keepalive_timeout_ms`); its log
//! line is the app's journal line written there.
//!
//! Measured (docs/research/app-servers-observations.md §4): Node v20.20.2
//! advertises `Keep-Alive: timeout=5` but closes an idle socket 6.00–6.12 s
//! after the response (keepAliveTimeout + 1 s). The engine closes at
//! `keepalive_timeout_ms` as it always did, so that older scenarios keep
//! their meaning; a scenario that wants Node's real close sets
//! `keepalive_timeout_ms` to 6000.

/// The idle close Node 20 really does for a `keepAliveTimeout` (ms).
pub fn real_idle_close_ms(keep_alive_timeout_ms: u64) -> u64 {
    keep_alive_timeout_ms + 1_000
}
