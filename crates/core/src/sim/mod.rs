//! The deterministic discrete-event engine: the single source of truth for
//! what the clients, the proxy and the apps do.
//!
//! Invariants (enforced by tests/sim_is_pure.rs and tests/engine.rs):
//! - no web imports: nothing from leptos, web-sys, js-sys, wasm-bindgen or gloo;
//! - time is virtual (`SimTime`, integer microseconds); no wall clock;
//! - all randomness comes from one PRNG seeded by `Scenario::seed`;
//! - same scenario ⇒ byte-identical transcript.

/// `note!(w, id, actor, "format", args...)`: `World::note`, but the text is
/// only formatted when the run records timelines (a `measure_only` run does
/// not, and would throw it away).
macro_rules! note {
    ($w:expr, $id:expr, $actor:expr, $($fmt:tt)+) => {
        if $w.record_timelines {
            let text = format!($($fmt)+);
            $w.note($id, $actor, text);
        }
    };
}

pub mod app;
pub mod client;
pub mod engine;
pub mod failure;
pub mod fault;
mod fault_words;
pub mod http;
pub mod json_path;
pub mod layer;
pub mod log;
pub mod metrics;
pub mod migrate;
pub mod motion;
pub mod net;
pub mod proxy;
pub mod queue;
pub mod rng;
pub mod sample;
pub mod scenario;
pub mod server;
pub mod termination;
pub mod time;
pub mod websocket;
pub mod window;
pub mod world;

pub use engine::{run, Simulation};
pub use fault::{Fault, FaultKind};
pub use scenario::{RequestSpec, Scenario, ScenarioError, SCENARIO_VERSION};
