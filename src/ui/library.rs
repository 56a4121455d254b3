//! Ready scenarios compiled into the page (the same files as scenarios/).

pub use crate::scenarios::READY as SCENARIOS;
