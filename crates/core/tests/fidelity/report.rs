//! Writes docs/FIDELITY.md from a harness run. Nothing in that file is
//! written by hand.

#![allow(dead_code)]

use std::fmt::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use super::harness::{counts, message_kind, show_counts, Diff, RunObs, Variant};

/// What the harness does not measure, or measures only approximately.
const LIMITS: &[&str] = &[
    "Not compared: response headers other than the status line's code (`Server`, `Retry-After`, ...), the app's log, nginx's `*N` connection numbers, and error.log lines below the scenario's `error_log` level (they are not written).",
    "Keep-alive race (`keepalive_mismatch`): the engine's race lasts about two simulated hops; on loopback it cannot be hit by timing. The real app emulates it deterministically: a request that arrives on a kept-alive connection idle for at least `keepalive_timeout - 30 ms` is read and the connection closed with FIN (the idle close itself happens at `keepalive_timeout + 30 ms`). The research notes reproduced the race the same way (`race-fin`). HAProxy cannot hit the race: with its default `http-reuse safe` the first request of a client connection never goes over an idle server connection, and every harness request is the first of its connection; the engine's HAProxy opens a new connection too, so the cell compares three plain 200s.",
    "Overload: times are scaled by 0.25 and the comparison is on aggregates (client statuses; error.log messages for nginx, httplog status + termination state + retried or not for HAProxy); attempts and per-request outcomes are not compared, because which request gets which outcome depends on real scheduling.",
    "Worker threads: a real app serves one request at a time per worker thread; a kept-alive connection holds no worker between requests (it is parked until its next request arrives, then queues for a worker), as in an event-loop app and in the engine. HAProxy needs this: it keeps server connections idle after a response (`http-reuse safe`), and its idle pool would otherwise eat the 4 workers of the overload scenarios.",
    "TLS upstreams are `openssl s_server -HTTP`, serving the engine's healthy reply (status line, headers, body) from one file per request path; its stderr names each file served (the attempts) and each plain HTTP request it refused (`plain_http_to_tls`). For `sni_required` the TLS upstream is a Python `ssl` server whose `sni_callback` answers alert 40 without SNI and 112 for another name (s_server accepts a ClientHello without SNI). For `selinux_connect_denied` the proxy runs under a seccomp filter that makes its `connect()` fail with EACCES (SELinux is not available here).",
    "`dns_failure_startup`: nginx resolves `upstream` names at start-up with getaddrinfo, which the harness cannot point at its own DNS server without changing the config; it relies on the system resolver answering NXDOMAIN for `app.internal` (`.internal` is reserved for private use).",
    "nginx listens on `0.0.0.0:PORT` because `proxy.listen` is a bare port in the rendered config, which the harness runs unchanged. The upstreams listen on 127.0.0.1 only.",
    "Scheduled changes (a rolling deploy's window) happen 10 ms early on the real side so that a request sent exactly at a boundary sees the new state, as in the engine.",
    "After HTTP/0.9 bytes nginx keeps the (HTTP/1.1) client connection open; the client stops reading after 300 ms of silence.",
    "HAProxy, httplog: the concurrency counters `%ac/%fc/%bc/%sc` are not compared (shown as `*/*/*/*`). The engine always logs `1/1/0/0`; a real run logs the sessions open at that moment, e.g. `3/3/1/1` when `oom_kill.json`'s three requests overlap. The retries field `%rc` after them is compared.",
    "HAProxy, attempts: a refused connect (nothing listens), a SYN dropped by the black hole's full accept queue, or a unix socket that is missing or forbidden leaves no trace on the upstream side, and HAProxy has no error log. Real attempts are therefore the requests the upstream apps read plus the failed connects the request's own httplog line reports: `%rc` retries, plus one when the session ended in the connect phase (`SC`/`sC`) with a server chosen. The strace-based count of the research notes (one non-blocking `connect()` per attempt) was not used: it slows HAProxy down and cannot tell which request a connect belongs to when requests overlap.",
    "HAProxy is started as `nobody` (uid/gid from /etc/passwd) when the test runs as root: the exported haproxy.cfg has no `user` line, and an HAProxy running as root would connect to the root-owned 0600 socket of `unix_socket_permission.json`, where the engine (like nginx's worker) is refused.",
    "`localhost` in the exported config (`localhost_ipv6.json`): the proxy runs in a private mount namespace whose /etc/hosts is bind-mounted over the real one (in `pre_exec`: `unshare(CLONE_NEWNS)`, `/` made private, then the bind mount; needs root), with Debian's file (`::1 localhost`) when `proxy.localhost_ipv6` is on and `127.0.0.1 localhost` only when it is off; this machine's own /etc/hosts has no `::1 localhost` and is not touched. Nothing listens on `[::1]:PORT`, so that connect is refused, as for an app bound to 127.0.0.1 only. HAProxy then runs as root (the namespace needs it), not as nobody.",
    "WebSocket (`websocket_upgrade.json`): the real app answers every request as the handshake it stands for (all requests of these rows are handshakes): 101 and a silent open connection when `Upgrade: websocket` and `Connection: upgrade` reach it, else its refusal (426 or 400). For a 101 the response time is taken at the EOF that ends the tunnel (curl's time_total), not at the 101's last byte.",
    "HAProxy's readiness is read from /proc/net/tcp (a LISTEN socket on the port): a probe connection would be logged as a `<BADREQ>` line.",
    "`dns_failure*` × HAProxy: the exported haproxy.cfg has no `resolvers` section, so HAProxy resolves the server name once at start-up with libc, through the system resolver; the NXDOMAIN cases rely on it answering NXDOMAIN for `app.internal`, as for nginx's `dns_failure_startup`. The harness's own DNS server is not consulted.",
];

pub enum Outcome {
    Match,
    /// Each difference, with the allow-list reason when it is a known one.
    Mismatch(Vec<(Diff, Option<&'static str>)>),
    Cannot(String),
    Harness(String),
    /// A documented flavor (`Flavor::evidence()` is `Documented`): no real
    /// program ran, so nothing was compared; the text is what the engine
    /// answers (the status the documentation leads to expect).
    Documented(String),
}

pub struct Cell {
    pub outcome: Outcome,
    pub variant: Option<Variant>,
    pub engine: Option<RunObs>,
    pub real: Option<RunObs>,
    pub secs: f64,
    /// Runs it took (a mismatch is run once more before it counts).
    pub runs: u32,
}

impl Cell {
    /// Differences that are not on the allow-list.
    pub fn unexpected(&self) -> Vec<&Diff> {
        match &self.outcome {
            Outcome::Mismatch(d) => d.iter().filter(|(_, a)| a.is_none()).map(|(d, _)| d).collect(),
            _ => Vec::new(),
        }
    }
}

pub struct Row {
    pub file: String,
    pub faults: Vec<&'static str>,
    pub cells: Vec<Cell>,
}

pub struct Header {
    pub columns: Vec<String>,
    pub versions: Vec<String>,
    pub total_secs: f64,
    pub stale_allowances: Vec<String>,
    /// What the planted-difference check reported, per column.
    pub self_checks: Vec<String>,
}

/// `2026-11-21 04:43 UTC` from the system clock.
pub fn now_utc() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + (m <= 2) as i64;
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02} UTC", rem / 3_600, rem % 3_600 / 60)
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn code(s: &str) -> String {
    if s.contains('`') { format!("``{}``", cell(s)) } else { format!("`{}`", cell(s)) }
}

fn short(c: &Cell) -> String {
    let n = c.real.as_ref().map(|r| r.reqs.len()).unwrap_or(0);
    let retried = if c.runs > 1 { ", after a retry" } else { "" };
    match &c.outcome {
        Outcome::Match => format!("match ({n} request{}{retried})", if n == 1 { "" } else { "s" }),
        Outcome::Mismatch(d) => {
            let fields = |allowed: bool| {
                let mut f: Vec<String> = d
                    .iter()
                    .filter(|(_, a)| a.is_some() == allowed)
                    .map(|(d, _)| match d.request {
                        Some(r) => format!("{} (#{r})", d.field),
                        None => d.field.clone(),
                    })
                    .collect();
                f.dedup();
                f.join(", ")
            };
            let (bad, known) = (fields(false), fields(true));
            let clip = |s: &str| {
                let s = cell(s);
                if s.chars().count() > 70 { format!("{}…", s.chars().take(70).collect::<String>()) } else { s }
            };
            let first = d
                .iter()
                .find(|(_, a)| a.is_none())
                .map(|(d, _)| format!(" (first: engine `{}` vs real `{}`)", clip(&d.engine), clip(&d.real)))
                .unwrap_or_default();
            match (bad.is_empty(), known.is_empty()) {
                (true, _) => format!("known mismatch (allow-listed): {known}"),
                (false, true) => format!("**MISMATCH**: {bad}{first}"),
                (false, false) => format!("**MISMATCH**: {bad}{first}; known: {known}"),
            }
        }
        Outcome::Cannot(r) if r.starts_with("not modelled for ") || r.starts_with("documented only") => cell(r),
        Outcome::Cannot(r) => format!("not reproducible on loopback: {}", cell(r)),
        Outcome::Harness(e) => format!("**harness error**: {}", cell(e)),
        Outcome::Documented(s) => format!("documented, not verified (expected: {})", cell(s)),
    }
}

/// What an overload cell is compared on, for the report.
fn aggregates(obs: &RunObs) -> String {
    let st = counts(obs.reqs.iter().map(|r| r.status.as_str()));
    if obs.show_access {
        let kinds = counts(obs.reqs.iter().map(|r| r.log_kind.as_deref().unwrap_or("(no line)")));
        return format!("statuses {}; httplog status + termination state {}", show_counts(&st), show_counts(&kinds));
    }
    let kinds: Vec<String> = obs.reqs.iter().flat_map(|r| r.errors.iter().map(|e| message_kind(e))).collect();
    format!("statuses {}; error.log {}", show_counts(&st), show_counts(&counts(kinds.iter().map(String::as_str))))
}

pub fn render(h: &Header, rows: &[Row], allowances: &[(String, String)], fixed: &[(&str, &str)]) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# Fidelity: the engine against the real proxies\n");
    let _ = writeln!(
        o,
        "**Generated** by `cargo test --test fidelity -- --nocapture` (`tests/fidelity.rs`). Do not edit: every run rewrites this file.\n"
    );
    let _ = writeln!(o, "- Generated: {}", now_utc());
    for v in &h.versions {
        let _ = writeln!(o, "- {v}");
    }
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let _ = writeln!(o, "- Kernel: Linux {}", kernel.trim());
    let _ = writeln!(o, "- Harness run time: {:.1} s\n", h.total_secs);

    let total: usize = rows.len() * h.columns.len();
    // Counts over the cells of one column (None: all columns).
    let count = |col: Option<usize>, f: &dyn Fn(&Outcome) -> bool| {
        rows.iter().flat_map(|r| r.cells.iter().enumerate()).filter(|(c, cell)| col.is_none_or(|k| k == *c) && f(&cell.outcome)).count()
    };
    type Kind<'a> = (&'a str, &'a dyn Fn(&Outcome) -> bool);
    let kinds: [Kind; 6] = [
        ("match", &|o| matches!(o, Outcome::Match)),
        ("known mismatch (allow-listed, reason given)", &|o| matches!(o, Outcome::Mismatch(d) if d.iter().all(|(_, a)| a.is_some()))),
        ("unexpected mismatch", &|o| matches!(o, Outcome::Mismatch(d) if d.iter().any(|(_, a)| a.is_none()))),
        ("not reproducible on loopback or not modelled for the flavor", &|o| matches!(o, Outcome::Cannot(_))),
        ("harness error", &|o| matches!(o, Outcome::Harness(_))),
        ("documented, not verified (no real program ran: nothing compared)", &|o| matches!(o, Outcome::Documented(_))),
    ];
    let all: Vec<usize> = kinds.iter().map(|(_, f)| count(None, *f)).collect();
    // The documented columns (Envoy, ALB) run no real program: none of their cells is compared.
    let compared = total - h.columns.iter().filter(|c| c.contains("documented, not verified")).count() * rows.len();
    let parts: Vec<String> = kinds.iter().zip(&all).map(|((k, _), n)| format!("{n} {k}")).collect();
    let pct = |n: usize, of: usize| if of == 0 { 0.0 } else { 100.0 * n as f64 / of as f64 };
    let _ = writeln!(
        o,
        "**Summary:** {total} cells (fault scenario × proxy): {}. {:.0} % of the cells compared with a real program ({} cells; the documented columns compare nothing) match on every compared field; every other cell is explained below (an allow-listed engine bug, or why it cannot be reproduced).\n",
        parts.join(", "),
        pct(all[0], compared),
        compared
    );
    let _ = writeln!(o, "| Column | Cells | Match | Known mismatch | Unexpected mismatch | Not reproducible / not modelled | Harness error | Documented, not verified |\n|---|---|---|---|---|---|---|---|");
    for (c, col) in h.columns.iter().enumerate() {
        let n: Vec<usize> = kinds.iter().map(|(_, f)| count(Some(c), *f)).collect();
        let _ = writeln!(o, "| {col} | {} | {} ({:.0} %) | {} | {} | {} | {} | {} |", rows.len(), n[0], pct(n[0], rows.len()), n[1], n[2], n[3], n[4], n[5]);
    }
    let _ = writeln!(o);

    let _ = writeln!(o, "## Method\n");
    for line in [
        "For every file in `scenarios/` and every proxy column, the harness derives a *variant* of the scenario, runs the engine on it (with `proxy.flavor` set to the column's flavour), and runs the real proxy on the configuration the engine renders for it, unchanged:",
        "  - nginx: `nginx::conf::render(&effective(&variant), &paths)`, included as the `http {}` part of a minimal `nginx.conf` with `daemon off`, one worker and every path in a temporary directory;",
        "  - Apache httpd: `apache::conf::render(&effective(&variant))` (the site Debian would keep in /etc/apache2/sites-available) `Include`d unchanged from a minimal main config that loads the modules `a2enmod proxy proxy_http proxy_balancer lbmethod_byrequests` would, defines `APACHE_LOG_DIR` as the temporary directory and runs one process (`ServerLimit 1`, 150 threads: Debian's MaxRequestWorkers in one process, so pooled backend connections are shared by every request, as on a quiet server), `apache2 -DFOREGROUND`, as `nobody` when the test runs as root. Stopped with SIGTERM.",
        "  - Caddy: `caddy::conf::render_with(&effective(&variant), access_log)` written as `Caddyfile` (the access log path moved into the temporary directory) and run with `caddy run --config Caddyfile --adapter caddyfile`, as `nobody` when the test runs as root, `HOME` and the XDG directories in the temporary directory. Its error logger is the default logger (stderr, the journal on a real host). Stopped with SIGTERM.",
        "  - Varnish: `varnish::conf::render(&effective(&variant))` written as `default.vcl` and run with `varnishd -F -n DIR -a 127.0.0.1:PORT -f default.vcl -s malloc,32m` (as root; varnishd drops to its own users), with `varnishlog -g request` and `varnishncsa` attached to it for the run (their output read 1.5 s after the last request). Its per-request log is varnishncsa's line; its \"error log\" is the backend transaction's records in varnishlog (`FetchError`, `BackendOpen` without the fd, ports and connect/reuse, `BackendClose` without the fd, `BerespStatus`, `BerespReason`; the other records are not compared), matched to a request by its `BereqURL`. Real attempts: requests the apps read plus `FetchError backend …: fail errno` records other than errno 0. Stopped with SIGTERM.",
        "  - Envoy and the AWS ALB (`Flavor::evidence()` is `Documented`): no real program runs (no Envoy package in this machine's Debian sources; the ALB is a service). Their columns are the engine alone, run on the scenario with that flavor: each cell says \"documented, not verified (expected: …)\" with the statuses the engine gives, or why the flavor does not model the scenario. Nothing is compared, so none of these cells is a match; each behaviour's source is in docs/research/envoy-alb-model.md.",
        "  - HAProxy: `haproxy::conf::render_with(&effective(&variant), &Paths { ca_file })` written as `haproxy.cfg` and run in the foreground, `haproxy -db -f haproxy.cfg`. Its log is its stdout (`log stdout format raw local0` is in the rendered file), its start-up messages its stderr. It is stopped with SIGUSR1 (soft stop), or SIGTERM if sessions are still open 3 s later.",
        "The variant changes only what a real run needs: nginx's proxy timeouts above 1 s become 1 s; HAProxy's `timeout connect` above 500 ms becomes 500 ms (which also makes its turn-around delay between retries, `min(timeout connect, 1 s)`, 500 ms) and `timeout server` above 1 s becomes 1 s; a slow app or a hung pool answers after 2 s, long keep-alive and deploy timings are shortened as listed per scenario, every address moves to a free port on 127.0.0.1 (unix sockets and DNS too), and the scenario's client arrivals become explicit requests at the engine's own arrival times, each with its own path (`?r=N`) so that log lines can be matched to requests. Both sides of a cell run the same variant.",
        "The upstream side is built from real sockets (`tests/fidelity/upstream.rs`): an app is a listener and a pool of worker threads; a request waits unread in the kernel's accept queue while all workers are busy. What the app writes for a request is the engine's own `AppReply` for that fault (`Fault::on_request`), put on the wire byte for byte; process deaths, resets, refusals and SYN drops are done by the kernel (closing the listener, `SO_LINGER 0`, a full backlog-0 accept queue).",
        "An app whose `server` is not node (issue 18) is the real program instead (`tests/fidelity/servers.rs`), started from the scenario's own settings on the variant's address: Debian's `php-fpm8.2` (a pool file with `pm`, `pm.max_children`, `listen.owner/group/mode`, `request_terminate_timeout`; the scripts under nginx's `root` sleep the app's latency and echo its body), `gunicorn` and `uwsgi --plugin python3` (a WSGI app that does the same). The proxy's read timeout is lowered to 8 s only, a kill timeout above 2 s becomes 2 s (the latency 5 s), and response times are compared within 1 s more, because the servers kill on their master's tick (gunicorn, uWSGI: 1 s; PHP-FPM: a third of `request_terminate_timeout`), whose phase the engine cannot know. nginx's worker runs as www-data, as Debian's does (PHP-FPM's socket owner is the subject). Such a server reports no request it read: a request counts as read when nginx's connect to it did not fail. Its own key lines (PHP-FPM's `WARNING:` lines, gunicorn's `WORKER TIMEOUT`, uWSGI's `HARAKIRI ON WORKER` and `invalid request block size`) are compared with the engine's app log, digits masked.",
        "The client is a plain HTTP/1.1 client over `TcpStream`, one connection per request, sent at the variant's times. It records the status (or: no connection, HTTP/0.9 bytes, a body cut short of its Content-Length, a chunked body without its last chunk) and the body bytes (a chunked body decoded).",
        "Compared per request (nginx): client status, body bytes, the access.log line (time removed), the request's error.log lines (time, pid#tid and `*N` removed, ports shown as `PORT`, the temporary directory as `$TMP`, limit_req's `excess` within 0.02), upstream attempts, and the response time (within 100 ms + 10%). Per run: stderr (start-up failures) and error.log lines of no request. Real attempts are counted as the requests the upstream apps read (including requests still unread in the accept queue when the app died, peeked before the reset) plus the `[error]`/`[crit]` lines of failed connects and TLS handshakes (`while connecting to upstream`, except `no live upstreams`, and `while SSL handshaking to upstream`): nginx's own config cannot be changed to log `$upstream_addr`.",
        "Compared per request (HAProxy): client status, body bytes, the httplog line, upstream attempts, and the response time (within 100 ms + 10%). In the httplog line the client port, the accept date and the concurrency counters are masked; the frontend, `backend/server`, `%TR` and `%Tw`, status, bytes (`%B`, HTX size), termination state, retries (`%rc`, with the `+` of a redispatch), queue positions and request line must be equal; `%Tc`, `%Tr` and `%Ta` must both be `-1` or both be times within 100 ms + 10%. Per run: stderr (start-up failures: `[ALERT]`/`[WARNING]` lines without the pid, the config path shown as `CONF`; `[NOTICE]` banners and the shutdown summary are not modelled) and log lines that belong to no request. Real attempts are the requests the upstream apps read plus the failed connects the httplog line reports (see the limits).",
        "Compared per request (Apache): client status, body bytes, the access.log line (combined format; `%t` is when the request arrived), the request's error.log lines (time and `[pid N:tid M]` removed, ports shown as `PORT`), upstream attempts, and the response time (within 100 ms + 10%). Apache's error log names a request only by the client's address (`[client 127.0.0.1:PORT]`): the harness client records its own port for each request, and a line without `[client …]` (AH00957, AH02454, AH00959) belongs to the request of the next line of the same thread (`tid`) that has one. Real attempts are the requests the upstream apps read plus the AH00957/AH02454 lines (failed connects). Per run: apache2's stderr and its main error log (start-up and shutdown notices are not modelled).",
        "Compared per request (Caddy): client status, body bytes, the access line and the request's error lines (JSON; compared field by field without `ts`, `duration`, `err_id` and the client port, header maps with sorted keys since Go prints maps in random order, ports as `PORT`, and the resolver address of a DNS error as `RESOLVER`: it is the host's /etc/resolv.conf, not the scenario's), the access line's `duration` within 100 ms + 10%, upstream attempts (requests the apps read plus dial errors in the error lines), and the response time. Per run: Caddy's other stderr lines (its own start and stop messages, not modelled) are left out.",
        "Overload scenarios are compared on aggregates: the share of each client status and of each error.log message (nginx) or each httplog status + termination state + retried-or-not (HAProxy), within the tolerance shown.",
        "A cell that mismatches is run once more; when all that is left then are real response times slower than the engine's, or limit_req `excess` values below the engine's (what late arrivals on a loaded machine give, never the reverse), it runs up to twice more. The last run counts. The test fails on any mismatch that is not on the allow-list in `tests/fidelity.rs`.",
    ] {
        if line.starts_with("  - ") {
            let _ = writeln!(o, "{line}");
        } else {
            let _ = writeln!(o, "- {line}");
        }
    }
    for c in &h.self_checks {
        let _ = writeln!(o, "- Self-check, {c}.");
    }

    let _ = writeln!(o, "\n### Limits of the harness\n");
    for line in LIMITS {
        let _ = writeln!(o, "- {line}");
    }

    let _ = writeln!(o, "\n## Results\n");
    let _ = write!(o, "| # | Fault | Scenario |");
    for c in &h.columns {
        let _ = write!(o, " {c} |");
    }
    let _ = write!(o, "\n|---|---|---|");
    for _ in &h.columns {
        let _ = write!(o, "---|");
    }
    let _ = writeln!(o);
    for (i, r) in rows.iter().enumerate() {
        let faults = if r.faults.is_empty() { "(none)".to_string() } else { r.faults.join(", ") };
        let _ = write!(o, "| {} | {} | `{}` |", i + 1, faults, r.file);
        for c in &r.cells {
            let _ = write!(o, " {} |", short(c));
        }
        let _ = writeln!(o);
    }

    let _ = writeln!(o, "\n## Allow-list (known mismatches, each with its reason)\n");
    if allowances.is_empty() {
        let _ = writeln!(o, "Empty: every difference fails the test.");
    }
    for (what, why) in allowances {
        let _ = writeln!(o, "- {what}: {why}");
    }
    for s in &h.stale_allowances {
        let _ = writeln!(o, "- Not seen in this run (stale entry?): {s}");
    }
    if !fixed.is_empty() {
        let _ = writeln!(o, "\nEngine bugs this harness found that have been fixed since:\n");
        for (what, how) in fixed {
            let _ = writeln!(o, "- {what}: {how}");
        }
    }

    let _ = writeln!(o, "\n## Details\n");
    for (i, r) in rows.iter().enumerate() {
        let _ = writeln!(o, "### {}. `{}`\n", i + 1, r.file);
        for (c, col) in r.cells.iter().zip(&h.columns) {
            let _ = writeln!(o, "**{col}:** {} ({:.1} s)\n", short(c), c.secs);
            if let Some(v) = &c.variant {
                if !v.notes.is_empty() {
                    let _ = writeln!(o, "- Variant: {}.", v.notes.join("; "));
                }
            }
            if let Some(real) = &c.real {
                for n in &real.notes {
                    let _ = writeln!(o, "- Real world: {}.", cell(n));
                }
            }
            let _ = writeln!(o);
            if let Outcome::Mismatch(diffs) = &c.outcome {
                let _ = writeln!(o, "| # | Field | Engine | {col} | Allowed because |\n|---|---|---|---|---|");
                for (d, why) in diffs {
                    let n = d.request.map(|n| n.to_string()).unwrap_or_else(|| "-".into());
                    let _ = writeln!(o, "| {n} | {} | {} | {} | {} |", d.field, code(&d.engine), code(&d.real), why.unwrap_or("**not allowed**"));
                }
                let _ = writeln!(o);
            }
            if let (Some(v), Some(real)) = (&c.variant, &c.real) {
                if v.aggregate {
                    let _ = writeln!(o, "Observed for real: {}.", aggregates(real));
                    if let Some(e) = &c.engine {
                        let _ = writeln!(o, "Engine: {}.\n", aggregates(e));
                    }
                    continue;
                }
                let _ = writeln!(o, "Observed for real ({col}):\n");
                let log = if real.show_access { "httplog (as logged)" } else { "error.log" };
                let _ = writeln!(o, "| # | At (ms) | Request | Status | Body bytes | Attempts | Time (ms) | {log} |\n|---|---|---|---|---|---|---|---|");
                for (n, q) in real.reqs.iter().enumerate().take(30) {
                    let errs = if real.show_access {
                        if q.raw_access == "-" { "(no line)".to_string() } else { code(&q.raw_access) }
                    } else if q.errors.is_empty() {
                        "".to_string()
                    } else {
                        q.errors.iter().map(|e| code(e)).collect::<Vec<_>>().join("<br>")
                    };
                    let _ = writeln!(o, "| {} | {} | `{}` | {} | {} | {} | {} | {} |", n + 1, q.at_ms, q.line, cell(&q.status), q.body, q.attempts, q.ms, errs);
                }
                if real.reqs.len() > 30 {
                    let _ = writeln!(o, "| … | | {} more | | | | | |", real.reqs.len() - 30);
                }
                for s in &real.stderr {
                    let _ = writeln!(o, "\nstderr: {}", code(s));
                }
                let _ = writeln!(o);
            }
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mismatch_cell_names_the_field_and_both_values() {
        let d = Diff { request: Some(2), field: "status".into(), engine: "502".into(), real: "200".into() };
        let c = Cell { outcome: Outcome::Mismatch(vec![(d.clone(), None)]), variant: None, engine: None, real: None, secs: 0.1, runs: 2 };
        assert_eq!(short(&c), "**MISMATCH**: status (#2) (first: engine `502` vs real `200`)");
        let known = Cell { outcome: Outcome::Mismatch(vec![(d, Some("engine bug, reported"))]), variant: None, engine: None, real: None, secs: 0.1, runs: 1 };
        assert_eq!(short(&known), "known mismatch (allow-listed): status (#2)");
        let h = Header { columns: vec!["nginx 1.22.1".into()], versions: vec![], total_secs: 1.0, stale_allowances: vec![], self_checks: vec![] };
        let doc = render(&h, &[Row { file: "x.json".into(), faults: vec!["app_down"], cells: vec![c] }], &[], &[]);
        assert!(doc.contains("| 1 | app_down | `x.json` | **MISMATCH**: status (#2)"), "{doc}");
        assert!(doc.contains("| 2 | status | `502` | `200` | **not allowed** |"), "{doc}");
        assert!(doc.contains("0 match, 0 known mismatch (allow-listed, reason given), 1 unexpected mismatch"), "{doc}");
        assert!(doc.contains("| nginx 1.22.1 | 1 | 0 (0 %) | 0 | 1 | 0 | 0 |"), "{doc}");
    }

    #[test]
    fn dates_are_civil() {
        let d = now_utc();
        assert_eq!(d.len(), "2026-11-21 04:43 UTC".len(), "{d}");
        assert!(d.starts_with("20"), "{d}");
    }
}
