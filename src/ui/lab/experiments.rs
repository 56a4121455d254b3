//! The retry lab's experiments, compiled in (the files of scenarios/retry_lab/).

pub use crate::scenarios::EXPERIMENTS;
