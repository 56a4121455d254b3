//! AWS Application Load Balancer: documented, not verified (it is a
//! service; nothing here was run). Sources: docs/research/envoy-cloudflare-alb-sources.md §3.

pub mod log;
