//! Differential fidelity harness: every scenario in `scenarios/` runs in the
//! engine and, on the same variant, against the real proxy (Debian's nginx
//! 1.22.1) with real misbehaving upstreams on loopback. The outcome of every
//! scenario × proxy is written to docs/FIDELITY.md (generated, never edited
//! by hand) when `FIDELITY_WRITE=1` asks for it. The test fails on any
//! mismatch that is not on [`ALLOWED`].
//!
//! Run: `cargo test -p gateway-core --test fidelity -- --nocapture`.
//! - `FIDELITY_WRITE=1` rewrites docs/FIDELITY.md from this run (a plain run
//!   leaves the working tree clean; `./scripts/test --write-fidelity` sets it).
//! - `GATEWAY_LAB_NO_NGINX=1` skips it (like tests/nginx_conf.rs).
//! - `GATEWAY_LAB_NO_HAPROXY=1` leaves out the HAProxy column,
//!   `GATEWAY_LAB_NO_APACHE=1` the Apache one, `GATEWAY_LAB_NO_CADDY=1` the
//!   Caddy one, `GATEWAY_LAB_NO_VARNISH=1` the Varnish one (each is left out
//!   when its program is not installed; Varnish also when not root).
//! - `FIDELITY_FLAVOR=<prefix>` runs only the matching column (`nginx`,
//!   `HAProxy`) and leaves docs/FIDELITY.md alone.
//! - `FIDELITY_ONLY=<substring>` runs only the matching scenario files and
//!   leaves docs/FIDELITY.md alone (for working on one case).
//! - `FIDELITY_KEEP=1` keeps the temporary directories (configs, logs).
//!
//! Modules: `fidelity/upstream.rs` (the scriptable upstreams),
//! `fidelity/proxy.rs` (the proxies under test, one column each),
//! `fidelity/harness.rs` (variants, the real world, the client, comparison),
//! `fidelity/report.rs` (the Markdown).

#[path = "fidelity/harness.rs"]
mod harness;
#[path = "fidelity/proxy.rs"]
mod proxy;
#[path = "fidelity/report.rs"]
mod report;
#[path = "fidelity/servers.rs"]
mod servers;
#[path = "fidelity/upstream.rs"]
mod upstream;

use std::path::Path;
use std::time::Instant;

use gateway_core::sim::scenario::Flavor;
use gateway_core::sim::{FaultKind, Scenario};

use harness::{Diff, NoRun};
use report::{Cell, Outcome, Row};

/// A mismatch that is known and accepted for now. Each needs a reason.
struct Allowed {
    /// Column prefix (`nginx`).
    flavor: &'static str,
    /// Scenario file name.
    scenario: &'static str,
    /// Request number (1-based), or None for any/run-level.
    request: Option<usize>,
    /// Compared field (`status`, `error.log`, `attempts`, ...).
    field: &'static str,
    reason: &'static str,
}

/// `%Tr` of a response HAProxy refuses to parse.
const TR_OF_PH: &str = "for a response HAProxy rejects (502 `PH--`) the engine logs `%Tr` as the time the bad bytes arrived \
     (`0/0/0/31/31 502 209 - - PH--`); real HAProxy 2.6.12 logs `%Tr` = -1, since no valid response header was received \
     (e.g. `0/0/0/-1/25 502 209 - - PH--`; the research notes, §6, show the same). Fixed: the engine logs -1.";

/// `verifyhost` is not in the exported config.
const TLS_NAME_NOT_CHECKED: &str = "the exported `server` line has `ssl verify required ca-file …` but neither `verifyhost` nor `sni`, \
     so HAProxy 2.6.12 does not check the certificate's name (research notes §12e) and the request goes through: 200 with the TLS app's page \
     (s_server's `-www` status page, about 5.2 kB; s_server does not report the request it read, hence 0 real attempts). \
     The engine failed the handshake as for an untrusted certificate: 503 `SC--` after 3 retries (4 attempts).      Fixed: the HAProxy flavor accepts a certificate for another name unless the config checks it.";

/// The TLS app of the harness was `openssl s_server -www` (its own status
/// page, no request reported); it is `-HTTP` now, serving the app's reply.
const S_SERVER_PAGE: &str = "harness limit, now lifted: the TLS upstream was `openssl s_server -www`, which answered with its own status page \
     (about 5.2 kB) instead of the scenario's reply and did not report the requests it read (0 real attempts), so byte counts and attempts \
     could not be compared. It is `openssl s_server -HTTP` now, serving the app's whole reply from a file per request and naming each \
     file it serves: `tls_cert_invalid.json [problem: hostname_mismatch]` × HAProxy matches.";

/// Caddy and the POST of the keep-alive race.
const CADDY_POST_RACE: &str = "the POST of `keepalive_mismatch` (request 3): the engine's Caddy sends it on the pooled connection the app closes at that moment and, as Go's transport does not re-send a non-idempotent request that was written, answers 502 `EOF`; the real Caddy 2.6.2 answered 200 on its first attempt in each of 4 runs, so its POST did not go over the connection at the race (which connection Go's transport picks after the GET it re-sent was not measured). The GET before it (request 2) matches: re-sent on a new connection, 200.";

/// The length of Varnish's 503 page follows its XID.
const VARNISH_XID: &str = "the Guru Meditation page's length depends on how many digits its XID has, and varnishd hands out vxids to its worker threads in blocks of 32768 (measured on a fresh varnishd: the first request 2/3, the next 32770/32771): which thread takes a request is not predictable. The engine numbers the first request 2/3 and the later ones 32770 + 3n (282 bytes); here the real POST's page had a one-digit XID (278 bytes). Status, varnishlog records and attempts match.";

const ALLOWED: &[Allowed] = &[Allowed {
    flavor: "Varnish",
    scenario: "keepalive_mismatch.json",
    request: Some(3),
    field: "body bytes",
    reason: VARNISH_XID,
},
Allowed {
    flavor: "Varnish",
    scenario: "keepalive_mismatch.json",
    request: Some(3),
    field: "varnishncsa",
    reason: VARNISH_XID,
},
Allowed {
    flavor: "Caddy",
    scenario: "keepalive_mismatch.json",
    request: Some(3),
    field: "status",
    reason: CADDY_POST_RACE,
},
Allowed {
    flavor: "Caddy",
    scenario: "keepalive_mismatch.json",
    request: Some(3),
    field: "body bytes",
    reason: CADDY_POST_RACE,
},
Allowed {
    flavor: "Caddy",
    scenario: "keepalive_mismatch.json",
    request: Some(3),
    field: "access.log",
    reason: CADDY_POST_RACE,
},
Allowed {
    flavor: "Caddy",
    scenario: "keepalive_mismatch.json",
    request: Some(3),
    field: "error.log",
    reason: CADDY_POST_RACE,
},
Allowed {
    flavor: "Apache",
    scenario: "overload.json",
    request: None,
    field: "stderr",
    reason: "the engine does not model Apache's worker threads: in the ×0.25 overload run the real Apache (one process, 150 threads, Debian's default MaxRequestWorkers) had every thread waiting on the slow app and wrote `[mpm_event:error] AH00484: server reached MaxRequestWorkers setting` to its main error log. The client statuses and the error-log messages still match on aggregates.",
},
Allowed {
    flavor: "Caddy",
    scenario: "overload.json",
    request: None,
    field: "statuses",
    reason: "not explained yet: in the ×0.25 overload run the engine's Caddy gives about 83 of 500 requests a 502 (`dial tcp …: i/o timeout`: SYNs dropped by the full backlog until `dial_timeout`, 3 s, which the harness does not scale), while the real Caddy 2.6.2 answered all 500 with 200. Go's transport may reuse its kept-alive connections differently from the engine's pool; not measured further.",
}];

/// Engine bugs this harness found that have been fixed since (for the
/// report's record).
const FIXED: &[(&str, &str)] = &[
    ("`invalid_header.json`, `not_http.json` × HAProxy, httplog", TR_OF_PH),
    ("`tls_cert_invalid.json [problem: hostname_mismatch]` × HAProxy, status, bytes, httplog, attempts", TLS_NAME_NOT_CHECKED),
    ("`tls_cert_invalid.json [problem: hostname_mismatch]` × HAProxy, body bytes, httplog, attempts (allowed until then)", S_SERVER_PAGE),
    (
    "`plain_http_to_tls.json` × nginx and HAProxy, status",
    "an app with `tls: true` behind `proxy_pass http://` (a server line without `ssl`) answered 200 in the engine; real nginx 1.22.1 logs \
     `upstream prematurely closed connection while reading response header from upstream` and answers 502 (HAProxy 2.6.12: 502 `SH--`): \
     the app's TLS layer hangs up on a plain request. Fixed: `app::plain_on_tls_port`, and the `plain_http_to_tls` fault.",
    ),
    (
    "`overload_shedding.json` × nginx, statuses",
    "on the ×0.25 variant the engine gave 479 × 200 and 21 × 503 where real nginx with 4 real workers gave about 213 × 200 and 287 × 503: \
     `app::on_write` called `finish_worker` for a load-shedding 503 that never held a worker, so each shed added a phantom worker. \
     Fixed in 58be54e.",
    ),
];

/// The flavors whose `evidence()` is `Documented`: a column each, filled by
/// the engine alone.
fn documented_flavors() -> Vec<Flavor> {
    Flavor::ALL.into_iter().filter(|f| !f.evidence().is_verified()).collect()
}

/// A documented flavor's cell: the statuses the engine answers for the
/// scenario with that flavor (what its documentation leads to expect), or
/// why the flavor does not model it. Never a match: nothing real ran.
fn documented_cell(sc: &Scenario, flavor: Flavor) -> Outcome {
    let mut sc = sc.clone();
    sc.proxy.flavor = flavor;
    if let Err(e) = sc.validate() {
        return Outcome::Cannot(format!("not modelled for {}: {}", flavor.display(), e));
    }
    let mut sim = match gateway_core::sim::Simulation::new(sc) {
        Ok(s) => s,
        Err(e) => return Outcome::Cannot(format!("not modelled for {}: {}", flavor.display(), e)),
    };
    sim.run();
    let statuses: Vec<String> = sim.world().exchanges.iter().map(|e| e.response.as_ref().map(|r| r.status.to_string()).unwrap_or_else(|| "no response".into())).collect();
    let mut counts: Vec<(String, usize)> = Vec::new();
    for s in statuses {
        match counts.iter_mut().find(|(k, _)| *k == s) {
            Some((_, n)) => *n += 1,
            None => counts.push((s, 1)),
        }
    }
    Outcome::Documented(counts.iter().map(|(k, n)| if *n == 1 { k.clone() } else { format!("{k} ×{n}") }).collect::<Vec<_>>().join(", "))
}

fn allowed(column: &str, file: &str, d: &Diff) -> Option<&'static str> {
    ALLOWED
        .iter()
        .find(|a| column.starts_with(a.flavor) && a.scenario == file && a.field == d.field && (a.request.is_none() || a.request == d.request))
        .map(|a| a.reason)
}

fn run_once(file: &str, sc: &Scenario, flavor: &dyn proxy::ProxyUnderTest, tmp: &Path) -> Cell {
    let started = Instant::now();
    let _ = std::fs::remove_dir_all(tmp);
    std::fs::create_dir_all(tmp).unwrap();
    let column = flavor.column();
    let fail = |outcome, variant| Cell { outcome, variant, engine: None, real: None, secs: started.elapsed().as_secs_f64(), runs: 1 };
    let v = match harness::derive(file, sc, tmp, flavor.engine_flavor()) {
        Ok(v) => v,
        Err(NoRun::Cannot(r)) => return fail(Outcome::Cannot(r), None),
        Err(NoRun::Harness(e)) => return fail(Outcome::Harness(e), None),
    };
    let engine = match harness::run_engine(&v, flavor) {
        Ok(e) => e,
        Err(NoRun::Cannot(r)) => return fail(Outcome::Cannot(r), Some(v)),
        Err(NoRun::Harness(e)) => return fail(Outcome::Harness(e), Some(v)),
    };
    let real = match harness::run_real(&v, flavor) {
        Ok(r) => r,
        Err(NoRun::Cannot(r)) => return fail(Outcome::Cannot(r), Some(v)),
        Err(NoRun::Harness(e)) => return fail(Outcome::Harness(e), Some(v)),
    };
    let diffs = harness::compare(&v, &engine, &real, flavor);
    let outcome = if diffs.is_empty() {
        Outcome::Match
    } else {
        Outcome::Mismatch(diffs.into_iter().map(|d| {
            let a = allowed(&column, file, &d);
            (d, a)
        }).collect())
    };
    Cell { outcome, variant: Some(v), engine: Some(engine), real: Some(real), secs: started.elapsed().as_secs_f64(), runs: 1 }
}

/// Extra rows: a scenario file with other knobs of its fault, or an
/// upstream group of two, so that the non-default paths are measured too.
type Extra = (&'static str, &'static str, fn(&mut Scenario));

fn extras() -> Vec<Extra> {
    use gateway_core::sim::fault::{CertProblem, DnsAnswer};
    use gateway_core::sim::scenario::{App, RequestSpec, UpstreamServer};
    fn two_apps(sc: &mut Scenario) {
        sc.apps = vec![
            App { name: "web1".into(), listen: "127.0.0.1:3000".into(), ..App::default() },
            App { name: "web2".into(), listen: "127.0.0.1:3001".into(), pid: 2818, ..App::default() },
        ];
        sc.upstream.servers = ["127.0.0.1:3000", "127.0.0.1:3001"]
            .iter()
            .map(|a| UpstreamServer { address: a.to_string(), ..UpstreamServer::default() })
            .collect();
        sc.proxy.error_log_level = "warn".into();
    }
    vec![
        ("tls_cert_invalid.json", "problem: self_signed", |sc| sc.faults[0].kind = FaultKind::TlsCertInvalid { problem: CertProblem::SelfSigned }),
        ("tls_cert_invalid.json", "problem: hostname_mismatch", |sc| {
            sc.faults[0].kind = FaultKind::TlsCertInvalid { problem: CertProblem::HostnameMismatch }
        }),
        ("dns_failure.json", "answer: servfail", |sc| {
            sc.faults[0].kind = FaultKind::DnsFailure { host: "app.internal".into(), answer: DnsAnswer::Servfail }
        }),
        ("dns_failure.json", "answer: timeout", |sc| {
            sc.faults[0].kind = FaultKind::DnsFailure { host: "app.internal".into(), answer: DnsAnswer::Timeout }
        }),
        ("dies_after_headers.json", "chunked: true", |sc| {
            sc.faults[0].kind = FaultKind::DiesAfterHeaders { content_length: 1_000, sent_bytes: 200, chunked: true }
        }),
        ("rate_limited.json", "burst: 2", |sc| sc.faults[0].kind = FaultKind::RateLimited { rate_per_s: 1.0, burst: 2, nodelay: false }),
        ("rate_limited.json", "burst: 2, nodelay", |sc| sc.faults[0].kind = FaultKind::RateLimited { rate_per_s: 1.0, burst: 2, nodelay: true }),
        ("app_down.json", "two servers, web1 down, error_log warn", |sc| {
            two_apps(sc);
            sc.faults[0].target = Some("web1".into());
            sc.clients.requests = 3;
            sc.clients.rate_per_s = 2.0;
        }),
        ("tls_cert_unverified.json", "problem: self_signed", |sc| sc.faults[0].kind = FaultKind::TlsCertInvalid { problem: CertProblem::SelfSigned }),
        ("tls_cert_unverified.json", "problem: hostname_mismatch", |sc| {
            sc.faults[0].kind = FaultKind::TlsCertInvalid { problem: CertProblem::HostnameMismatch }
        }),
        ("selinux_connect_denied.json", "two servers, error_log warn, 3 requests", |sc| {
            two_apps(sc);
            sc.clients.requests = 3;
            sc.clients.rate_per_s = 2.0;
        }),
        ("localhost_ipv6.json", "nothing listening: both peers refused, then no live upstreams", |sc| {
            sc.faults = vec![gateway_core::sim::Fault::from(FaultKind::AppDown)];
        }),
        ("localhost_ipv6.json", "/etc/hosts without ::1 localhost", |sc| sc.proxy.localhost_ipv6 = false),
        ("websocket_upgrade.json", "app: socket.io", |sc| sc.apps[0].websocket = gateway_core::sim::scenario::WebSocketApp::Socketio),
        ("websocket_upgrade.json", "proxy_http_version 1.1, Upgrade and Connection headers, proxy_read_timeout 2s, error_log info", |sc| {
            sc.proxy.proxy_http_version = "1.1".into();
            sc.proxy.proxy_set_header.insert("Upgrade".into(), "$http_upgrade".into());
            sc.proxy.proxy_set_header.insert("Connection".into(), "upgrade".into());
            sc.proxy.proxy_read_timeout_ms = 2_000;
            sc.proxy.error_log_level = "info".into();
        }),
        ("sni_required.json", "proxy_ssl_server_name on", |sc| sc.proxy.proxy_ssl_server_name = true),
        ("sni_required.json", "proxy_ssl_server_name on, proxy_ssl_name other.example", |sc| {
            sc.proxy.proxy_ssl_server_name = true;
            sc.proxy.proxy_ssl_name = "other.example".into();
        }),
        ("sni_required.json", "proxy_pass https://127.0.0.1:3000, proxy_ssl_server_name on", |sc| {
            sc.proxy.proxy_pass = "https://127.0.0.1:3000".into();
            sc.proxy.proxy_ssl_server_name = true;
        }),
        ("sni_required.json", "proxy_pass https://127.0.0.1:3000, proxy_ssl_server_name on, proxy_ssl_name app", |sc| {
            sc.proxy.proxy_pass = "https://127.0.0.1:3000".into();
            sc.proxy.proxy_ssl_server_name = true;
            sc.proxy.proxy_ssl_name = "app".into();
        }),
        ("slow_app.json", "two servers, web2 slow, GETs and a POST, error_log warn", |sc| {
            two_apps(sc);
            sc.faults[0].target = Some("web2".into());
            sc.clients.requests = 0;
            sc.requests = vec![
                RequestSpec { at_ms: 0, ..RequestSpec::default() },
                RequestSpec { at_ms: 1_500, ..RequestSpec::default() },
                RequestSpec { at_ms: 2_000, method: "POST".into(), path: "/orders".into(), body_bytes: 64, ..RequestSpec::default() },
            ];
        }),
        ("request_too_large.json", "error_log info", |sc| sc.proxy.error_log_level = "info".into()),
        ("upstream_fields.json", "web1 down, web2 slow, web3 healthy, two requests", |sc| {
            sc.faults[0].target = Some("web2".into());
            sc.faults.push(gateway_core::sim::Fault { target: Some("web1".into()), ..FaultKind::AppDown.into() });
            sc.clients.requests = 0;
            sc.requests = vec![RequestSpec { at_ms: 0, ..RequestSpec::default() }, RequestSpec { at_ms: 3_000, ..RequestSpec::default() }];
        }),
        ("auth_request_failure.json", "auth service up", |sc| sc.faults.clear()),
        ("auth_request_failure.json", "auth service sends a 6000-byte header", |sc| {
            sc.faults[0].kind = FaultKind::OversizedHeader { header_bytes: 6_000 };
        }),
        ("worker_connections.json", "worker_connections 4: the client connection finds no slot", |sc| sc.proxy.worker_connections = 4),
        ("php_fpm_max_children.json", "pm: ondemand", |sc| sc.apps[0].php_fpm.pm = gateway_core::sim::server::php_fpm::Pm::Ondemand),
        ("php_fpm_max_children.json", "pm: static", |sc| sc.apps[0].php_fpm.pm = gateway_core::sim::server::php_fpm::Pm::Static),
        ("uwsgi_buffer_size.json", "a 3000-byte cookie fits", |sc| sc.requests[1].cookie_bytes = 3_000),
    ]
}

/// Catalog position of a scenario's first fault (no fault first).
fn catalog_rank(sc: &Scenario) -> usize {
    let catalog: Vec<&str> = FaultKind::catalog().iter().map(|f| f.id()).collect();
    sc.faults.first().map(|f| 1 + catalog.iter().position(|id| *id == f.kind.id()).unwrap_or(99)).unwrap_or(0)
}

#[test]
fn engine_matches_the_real_proxies() {
    if std::env::var_os("GATEWAY_LAB_NO_NGINX").is_some() {
        eprintln!("fidelity: skipped (GATEWAY_LAB_NO_NGINX is set)");
        return;
    }
    let flavors: Vec<Box<dyn proxy::ProxyUnderTest>> =
        proxy::flavors()
            .into_iter()
            .filter(|f| std::env::var_os("GATEWAY_LAB_NO_HAPROXY").is_none() || f.engine_flavor() != Flavor::Haproxy)
            .filter(|f| std::env::var_os("GATEWAY_LAB_NO_APACHE").is_none() || f.engine_flavor() != Flavor::Apache)
            .filter(|f| std::env::var_os("GATEWAY_LAB_NO_CADDY").is_none() || f.engine_flavor() != Flavor::Caddy)
            .filter(|f| std::env::var_os("GATEWAY_LAB_NO_VARNISH").is_none() || f.engine_flavor() != Flavor::Varnish)
            .collect();
    assert!(flavors.iter().any(|f| f.engine_flavor() == Flavor::Nginx), "nginx is not installed: run ./scripts/setup test (or set GATEWAY_LAB_NO_NGINX=1 to skip)");
    assert!(
        std::env::var_os("GATEWAY_LAB_NO_HAPROXY").is_some() || flavors.iter().any(|f| f.engine_flavor() == Flavor::Haproxy),
        "haproxy is not installed: run ./scripts/setup test (or set GATEWAY_LAB_NO_HAPROXY=1 to leave out its column)"
    );
    let flavor_only = std::env::var("FIDELITY_FLAVOR").ok();
    let flavors: Vec<Box<dyn proxy::ProxyUnderTest>> =
        flavors.into_iter().filter(|f| flavor_only.as_deref().is_none_or(|o| f.column().to_lowercase().starts_with(&o.to_lowercase()))).collect();
    let only = std::env::var("FIDELITY_ONLY").ok();
    let started = Instant::now();
    let root = std::env::temp_dir().join(format!("gwlab-fidelity-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    // nginx's worker (nobody, when the test runs as root) must reach the
    // unix sockets under this directory.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755)).unwrap();

    let manifest = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let mut files: Vec<(usize, String, Scenario)> = std::fs::read_dir(manifest.join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .filter(|p| only.as_deref().is_none_or(|o| p.file_name().unwrap().to_string_lossy().contains(o)))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            let sc = Scenario::from_json(&std::fs::read_to_string(&p).unwrap()).unwrap_or_else(|e| panic!("{name}: {e}"));
            (catalog_rank(&sc), name, sc)
        })
        .collect();
    let base: Vec<(usize, String, Scenario)> = files.clone();
    for (file, label, change) in extras() {
        if let Some((rank, _, sc)) = base.iter().find(|(_, f, _)| f == file) {
            let mut sc = sc.clone();
            change(&mut sc);
            sc.validate().unwrap_or_else(|e| panic!("{file} [{label}]: {e}"));
            files.push((*rank, format!("{file} [{label}]"), sc));
        }
    }
    files.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));

    let mut columns: Vec<String> = flavors.iter().map(|f| f.column()).collect();
    columns.extend(documented_flavors().into_iter().map(|f| format!("{} ({})", f.display(), gateway_core::sim::scenario::Evidence::BADGE)));
    // The comparison must have teeth: a planted difference has to show.
    let mut self_checks = Vec::new();
    for (c, flavor) in flavors.iter().enumerate() {
        let app_down = files.iter().find(|f| f.1 == "app_down.json").map(|f| f.2.clone()).unwrap_or_else(|| {
            Scenario::from_json(&std::fs::read_to_string(manifest.join("scenarios/app_down.json")).unwrap()).unwrap()
        });
        let detected = self_check(&app_down, flavor.as_ref(), &root.join(format!("self-check-{c}")));
        eprintln!("fidelity: self-check × {}: {detected:?}", columns[c]);
        let fields = detected.unwrap_or_else(|e| panic!("self-check × {}: {e}", columns[c]));
        for needed in flavor.self_check_fields() {
            assert!(fields.iter().any(|f| f == needed), "self-check × {}: a planted difference in {needed} went unnoticed: {fields:?}", columns[c]);
        }
        self_checks.push(format!(
            "{}: `app_down.json` with the real app left running (the engine still says it is down) was reported as different in: {}",
            columns[c],
            fields.join(", ")
        ));
    }
    let mut rows = Vec::new();
    for (n, (_, file, sc)) in files.iter().enumerate() {
        let mut cells = Vec::new();
        for (c, flavor) in flavors.iter().enumerate() {
            let tmp = root.join(format!("{n}-{c}"));
            let mut cell = run_once(file, sc, flavor.as_ref(), &tmp);
            if !cell.unexpected().is_empty() {
                let first = cell.secs;
                eprintln!("fidelity: {file} × {}: mismatch, running it once more", columns[c]);
                for d in cell.unexpected() {
                    eprintln!("    first run #{:?} {}: engine {} / real {}", d.request, d.field, d.engine, d.real);
                }
                cell = run_once(file, sc, flavor.as_ref(), &tmp);
                cell.secs += first;
                cell.runs = 2;
                // A loaded machine makes the real side late, never early: when all that is left
                // are real response times above the engine's (or limit_req excess values below
                // them), up to two more runs may find one without the scheduling delay. The last run counts, whatever it says.
                while cell.runs < 4 && only_late_times(&cell) {
                    let so_far = cell.secs;
                    eprintln!("fidelity: {file} × {}: only what late real arrivals give is left, run {}", columns[c], cell.runs + 1);
                    let runs = cell.runs;
                    cell = run_once(file, sc, flavor.as_ref(), &tmp);
                    cell.secs += so_far;
                    cell.runs = runs + 1;
                }
            }
            eprintln!("fidelity: {file} × {}: {} ({:.1} s)", columns[c], summary(&cell), cell.secs);
            cells.push(cell);
        }
        // The documented flavors: the engine alone, never called a match.
        for (k, f) in documented_flavors().into_iter().enumerate() {
            let t = Instant::now();
            let cell = Cell { outcome: documented_cell(sc, f), variant: None, engine: None, real: None, secs: t.elapsed().as_secs_f64(), runs: 1 };
            eprintln!("fidelity: {file} × {}: {}", columns[flavors.len() + k], summary(&cell));
            cells.push(cell);
        }
        rows.push(Row { file: file.clone(), faults: harness::fault_ids(sc), cells });
    }

    let seen = |a: &Allowed| {
        rows.iter().any(|r| {
            r.file == a.scenario
                && r.cells.iter().zip(&columns).any(|(c, col)| {
                    col.starts_with(a.flavor)
                        && matches!(&c.outcome, Outcome::Mismatch(d) if d.iter().any(|(d, why)| why.is_some() && d.field == a.field))
                })
        })
    };
    let stale: Vec<String> =
        ALLOWED.iter().filter(|a| !seen(a)).map(|a| format!("{} × {} {} {:?}", a.scenario, a.flavor, a.field, a.request)).collect();
    // One report entry per (scenario, column, request, reason), its fields listed.
    let mut allowances: Vec<(String, String)> = Vec::new();
    let mut last: Option<(&str, &str, Option<usize>, &str)> = None;
    for a in ALLOWED {
        let key = (a.scenario, a.flavor, a.request, a.reason);
        if last == Some(key) {
            let entry = allowances.last_mut().expect("pushed with the key");
            entry.0 = format!("{}, {}", entry.0, a.field);
            continue;
        }
        let req = a.request.map(|r| format!("request #{r}: ")).unwrap_or_default();
        allowances.push((format!("`{}` × {}, {req}{}", a.scenario, a.flavor, a.field), a.reason.to_string()));
        last = Some(key);
    }
    let header = report::Header {
        columns: columns.clone(),
        versions: flavors
            .iter()
            .map(|f| f.version().unwrap_or_else(|e| e))
            .chain(std::iter::once(
                std::process::Command::new("openssl")
                    .arg("version")
                    .output()
                    .map(|o| format!("openssl (TLS upstreams): {}", String::from_utf8_lossy(&o.stdout).trim()))
                    .unwrap_or_else(|_| "openssl: not found".into()),
            ))
            // The real app servers of the PHP-FPM, gunicorn and uWSGI scenarios.
            .chain([("/usr/sbin/php-fpm8.2", "-v"), ("/usr/bin/gunicorn", "--version"), ("/usr/bin/uwsgi", "--version")].into_iter().map(|(bin, arg)| {
                std::process::Command::new(bin)
                    .arg(arg)
                    .output()
                    .map(|o| {
                        let t = String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
                        format!("{bin} (app server): {}", t.lines().next().unwrap_or("").trim())
                    })
                    .unwrap_or_else(|_| format!("{bin}: not found"))
            }))
            .collect(),
        total_secs: started.elapsed().as_secs_f64(),
        stale_allowances: stale.clone(),
        self_checks,
    };
    // docs/FIDELITY.md is rewritten only when asked (FIDELITY_WRITE=1 or `./scripts/test
    // --write-fidelity`): a test run leaves the working tree clean.
    let write = std::env::var_os("FIDELITY_WRITE").is_some_and(|v| v == "1");
    if write && only.is_none() && flavor_only.is_none() {
        let text = report::render(&header, &rows, &allowances, FIXED);
        std::fs::write(manifest.join("docs/FIDELITY.md"), text).unwrap();
        eprintln!("fidelity: wrote docs/FIDELITY.md");
    } else if !write {
        eprintln!("fidelity: docs/FIDELITY.md left as it is (FIDELITY_WRITE=1 rewrites it)");
    }
    if std::env::var_os("FIDELITY_KEEP").is_none() {
        let _ = std::fs::remove_dir_all(&root);
    } else {
        eprintln!("fidelity: kept {}", root.display());
    }
    eprintln!("fidelity: {} scenario(s) × {} proxy(ies) in {:.1} s", rows.len(), columns.len(), started.elapsed().as_secs_f64());

    let mut failures = Vec::new();
    for r in &rows {
        for (c, col) in r.cells.iter().zip(&columns) {
            match &c.outcome {
                Outcome::Harness(e) => failures.push(format!("{} × {col}: harness error: {e}", r.file)),
                _ => {
                    for d in c.unexpected() {
                        let req = d.request.map(|n| format!(" #{n}")).unwrap_or_default();
                        failures.push(format!("{} × {col}{req} {}:\n    engine: {}\n    real:   {}", r.file, d.field, d.engine, d.real));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} unexpected difference(s) between the engine and the real proxies:\n{}", failures.len(), failures.join("\n"));
}

/// Runs `app_down.json` with the engine as is and the real world without
/// the fault; returns the fields the comparison flagged.
fn self_check(sc: &Scenario, flavor: &dyn proxy::ProxyUnderTest, tmp: &Path) -> Result<Vec<String>, String> {
    let _ = std::fs::remove_dir_all(tmp);
    std::fs::create_dir_all(tmp).unwrap();
    let err = |e: NoRun| format!("{e:?}");
    let v = harness::derive("app_down.json", sc, tmp, flavor.engine_flavor()).map_err(err)?;
    let engine = harness::run_engine(&v, flavor).map_err(err)?;
    let mut planted = v.clone();
    planted.scenario.faults.clear();
    let real = harness::run_real(&planted, flavor).map_err(err)?;
    let mut fields: Vec<String> = harness::compare(&v, &engine, &real, flavor).into_iter().map(|d| d.field).collect();
    fields.dedup();
    Ok(fields)
}

fn summary(c: &Cell) -> String {
    match &c.outcome {
        Outcome::Match => "match".into(),
        Outcome::Mismatch(d) => {
            let bad = d.iter().filter(|(_, a)| a.is_none()).count();
            format!("{} difference(s), {bad} not allowed", d.len())
        }
        Outcome::Cannot(r) => format!("not reproducible: {r}"),
        Outcome::Harness(e) => format!("HARNESS ERROR: {e}"),
        Outcome::Documented(s) => format!("documented, not verified: {s}"),
    }
}

/// Every unexpected difference is what machine load adds: a response time where the real proxy
/// was slower than the engine (`"N ms"` on both sides), or error.log lines that differ only in
/// limit_req `excess:` values lower in the real (its requests arrived late, so the bucket had
/// drained more: `harness::late_excess_only`). Nothing else qualifies.
fn only_late_times(cell: &Cell) -> bool {
    let ms = |s: &str| s.strip_suffix(" ms").and_then(|n| n.trim().parse::<f64>().ok());
    let unexpected = cell.unexpected();
    !unexpected.is_empty()
        && unexpected.iter().all(|d| match d.field.as_str() {
            "response time" => matches!((ms(&d.engine), ms(&d.real)), (Some(e), Some(r)) if r > e),
            "error.log" => harness::late_excess_only(&d.engine, &d.real),
            _ => false,
        })
}
