//! The ready scenarios and the retry lab's experiments, compiled in: the
//! files of `scenarios/` and `scenarios/retry_lab/` (`tests/ui_library.rs`
//! keeps these lists equal to the directories). Data only, no web imports.

use crate::sim::scenario::{Clients, Scenario};

/// Where the page and lessons start: healthy, no requests sent yet.
pub fn blank() -> Scenario {
    Scenario { clients: Clients { requests: 0, ..Clients::default() }, ..Scenario::default() }
}

/// (file stem, JSON text).
pub const READY: &[(&str, &str)] = &[
    ("alb_node_keepalive_fixed", include_str!("../../../scenarios/alb_node_keepalive_fixed.json")),
    ("alb_node_keepalive_race", include_str!("../../../scenarios/alb_node_keepalive_race.json")),
    ("app_down", include_str!("../../../scenarios/app_down.json")),
    ("auth_request_failure", include_str!("../../../scenarios/auth_request_failure.json")),
    ("chain_app_down", include_str!("../../../scenarios/chain_app_down.json")),
    ("chain_no_targets", include_str!("../../../scenarios/chain_no_targets.json")),
    ("chain_origin_refused", include_str!("../../../scenarios/chain_origin_refused.json")),
    ("chain_origin_tls", include_str!("../../../scenarios/chain_origin_tls.json")),
    ("chain_origin_unreachable", include_str!("../../../scenarios/chain_origin_unreachable.json")),
    ("chain_slow_origin", include_str!("../../../scenarios/chain_slow_origin.json")),
    ("connect_black_hole", include_str!("../../../scenarios/connect_black_hole.json")),
    ("crash_mid_request", include_str!("../../../scenarios/crash_mid_request.json")),
    ("db_pool_error", include_str!("../../../scenarios/db_pool_error.json")),
    ("db_pool_exhausted", include_str!("../../../scenarios/db_pool_exhausted.json")),
    ("dies_after_headers", include_str!("../../../scenarios/dies_after_headers.json")),
    ("dns_failure", include_str!("../../../scenarios/dns_failure.json")),
    ("dns_failure_startup", include_str!("../../../scenarios/dns_failure_startup.json")),
    ("envoy_keepalive_race", include_str!("../../../scenarios/envoy_keepalive_race.json")),
    ("gunicorn_sync_keepalive", include_str!("../../../scenarios/gunicorn_sync_keepalive.json")),
    ("gunicorn_worker_timeout", include_str!("../../../scenarios/gunicorn_worker_timeout.json")),
    ("healthy", include_str!("../../../scenarios/healthy.json")),
    ("invalid_chunked", include_str!("../../../scenarios/invalid_chunked.json")),
    ("invalid_header", include_str!("../../../scenarios/invalid_header.json")),
    ("keepalive_mismatch", include_str!("../../../scenarios/keepalive_mismatch.json")),
    ("localhost_ipv6", include_str!("../../../scenarios/localhost_ipv6.json")),
    ("maintenance", include_str!("../../../scenarios/maintenance.json")),
    ("not_http", include_str!("../../../scenarios/not_http.json")),
    ("oom_kill", include_str!("../../../scenarios/oom_kill.json")),
    ("overload", include_str!("../../../scenarios/overload.json")),
    ("overload_shedding", include_str!("../../../scenarios/overload_shedding.json")),
    ("oversized_header", include_str!("../../../scenarios/oversized_header.json")),
    ("php_fpm_max_children", include_str!("../../../scenarios/php_fpm_max_children.json")),
    ("php_fpm_primary_script_unknown", include_str!("../../../scenarios/php_fpm_primary_script_unknown.json")),
    ("php_fpm_request_terminate_timeout", include_str!("../../../scenarios/php_fpm_request_terminate_timeout.json")),
    ("php_fpm_socket_missing", include_str!("../../../scenarios/php_fpm_socket_missing.json")),
    ("php_fpm_socket_permission", include_str!("../../../scenarios/php_fpm_socket_permission.json")),
    ("plain_http_to_tls", include_str!("../../../scenarios/plain_http_to_tls.json")),
    ("rate_limited", include_str!("../../../scenarios/rate_limited.json")),
    ("request_too_large", include_str!("../../../scenarios/request_too_large.json")),
    ("rolling_deploy", include_str!("../../../scenarios/rolling_deploy.json")),
    ("selinux_connect_denied", include_str!("../../../scenarios/selinux_connect_denied.json")),
    ("slow_app", include_str!("../../../scenarios/slow_app.json")),
    ("sni_required", include_str!("../../../scenarios/sni_required.json")),
    ("tls_cert_invalid", include_str!("../../../scenarios/tls_cert_invalid.json")),
    ("tls_cert_unverified", include_str!("../../../scenarios/tls_cert_unverified.json")),
    ("tls_handshake_failure", include_str!("../../../scenarios/tls_handshake_failure.json")),
    ("unix_socket_missing", include_str!("../../../scenarios/unix_socket_missing.json")),
    ("unix_socket_permission", include_str!("../../../scenarios/unix_socket_permission.json")),
    ("upstream_fields", include_str!("../../../scenarios/upstream_fields.json")),
    ("uwsgi_buffer_size", include_str!("../../../scenarios/uwsgi_buffer_size.json")),
    ("uwsgi_harakiri", include_str!("../../../scenarios/uwsgi_harakiri.json")),
    ("websocket_idle_timeout", include_str!("../../../scenarios/websocket_idle_timeout.json")),
    ("websocket_upgrade", include_str!("../../../scenarios/websocket_upgrade.json")),
    ("worker_connections", include_str!("../../../scenarios/worker_connections.json")),
    ("wrong_port", include_str!("../../../scenarios/wrong_port.json")),
];

/// (file stem, JSON text).
pub const EXPERIMENTS: &[(&str, &str)] = &[
    ("retry_storm", include_str!("../../../scenarios/retry_lab/retry_storm.json")),
    ("flaky_503", include_str!("../../../scenarios/retry_lab/flaky_503.json")),
    ("outage", include_str!("../../../scenarios/retry_lab/outage.json")),
    ("slow_tail", include_str!("../../../scenarios/retry_lab/slow_tail.json")),
    ("proxy_failover", include_str!("../../../scenarios/retry_lab/proxy_failover.json")),
];
