//! The retry lab's experiments, compiled in (the files of scenarios/retry_lab/).

/// (file stem, JSON text).
pub const EXPERIMENTS: &[(&str, &str)] = &[
    ("retry_storm", include_str!("../../../scenarios/retry_lab/retry_storm.json")),
    ("flaky_503", include_str!("../../../scenarios/retry_lab/flaky_503.json")),
    ("outage", include_str!("../../../scenarios/retry_lab/outage.json")),
    ("slow_tail", include_str!("../../../scenarios/retry_lab/slow_tail.json")),
    ("proxy_failover", include_str!("../../../scenarios/retry_lab/proxy_failover.json")),
];
