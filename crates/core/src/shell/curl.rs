//! `curl` (7.88.1, Debian 12). Two routes:
//!
//! - **Through the proxy** (the proxy's port on this host): a real simulated
//!   request, sent with `Simulation::send_tool` and run until it ends (or
//!   until `--max-time`, when curl closes the connection and the proxy logs
//!   the client's abort). It is in the access log like any request.
//! - **Straight to an app** (its TCP port or `--unix-socket`): the world
//!   says whether anything listens (refused, no such socket file,
//!   permission denied for a user other than root and the app, a dropped
//!   SYN); the app's faults (`Fault::on_connect`, then `app::compose_reply`
//!   on a copy of the world's PRNG) say what it answers and when. Virtual
//!   time advances while curl waits, and `app::serve_direct` makes the app
//!   log the request, or die of it, as it would for any request.
//!
//! Output follows curl: the body on stdout, `-v` lines and errors on
//! stderr, `curl: (N) …` and exit status N on failure, the progress meter
//! on stderr when stdout is not the terminal.

use crate::sim::app;
use crate::sim::fault::{CertProblem, ConnectOutcome, Wire};
use crate::sim::http::Response;
use crate::sim::net::Address;
use crate::sim::scenario::RequestSpec;
use crate::sim::world::ClientResult;

use super::host::{self, User, CURL_VERSION};
use super::{Ctx, Res};

/// How long curl may wait before this terminal stops waiting for it (a
/// request nothing will ever answer), virtual ms.
const PATIENCE_MS: u64 = 600_000;
/// Linux gives up a connect() after tcp_syn_retries = 6: 1+2+4+…+64 s.
const SYN_GIVE_UP_MS: u64 = 127_000;

#[derive(Default)]
struct Opts {
    verbose: bool,
    silent: bool,
    show_error: bool,
    include: bool,
    fail: bool,
    insecure: bool,
    max_time_ms: Option<u64>,
    connect_timeout_ms: Option<u64>,
    headers: Vec<(String, String)>,
    unix_socket: Option<String>,
    method: Option<String>,
    user_agent: Option<String>,
    output_null: bool,
    write_out: Option<String>,
    url: Option<String>,
}

fn unknown(opt: &str) -> Res {
    Res::with(String::new(), format!("curl: option {opt}: is unknown\ncurl: try 'curl --help' or 'curl --manual' for more information\n"), 2)
}

fn not_simulated(opt: &str) -> Res {
    Res::with(String::new(), format!("curl: option {opt}: not simulated in this terminal (see help)\n"), 2)
}

fn needs_arg(opt: &str) -> Res {
    Res::with(String::new(), format!("curl: option {opt}: requires parameter\ncurl: try 'curl --help' or 'curl --manual' for more information\n"), 2)
}

fn seconds(opt: &str, v: &str) -> Result<u64, Res> {
    match v.parse::<f64>() {
        Ok(s) if s.is_finite() && s >= 0.0 => Ok((s * 1_000.0).min(86_400_000.0) as u64),
        _ => Err(Res::with(String::new(), format!("curl: option {opt}: expected a proper numerical parameter\ncurl: try 'curl --help' or 'curl --manual' for more information\n"), 2)),
    }
}

fn parse_args(args: &[String]) -> Result<Opts, Res> {
    let mut o = Opts::default();
    let mut i = 0;
    // Options that take a value, by their long and short names.
    let takes = |name: &str| matches!(name, "max-time" | "m" | "connect-timeout" | "header" | "H" | "unix-socket" | "request" | "X" | "output" | "o" | "write-out" | "w" | "user-agent" | "A");
    let set = |o: &mut Opts, name: &str, shown: &str, value: Option<String>| -> Result<(), Res> {
        match (name, value) {
            ("verbose" | "v", _) => o.verbose = true,
            ("silent" | "s", _) => o.silent = true,
            ("show-error" | "S", _) => o.show_error = true,
            ("include" | "i", _) => o.include = true,
            ("fail" | "f", _) => o.fail = true,
            ("insecure" | "k", _) => o.insecure = true,
            // 0 means no limit, as in curl.
            ("max-time" | "m", Some(v)) => o.max_time_ms = Some(seconds(shown, &v)?).filter(|&ms| ms > 0),
            ("connect-timeout", Some(v)) => o.connect_timeout_ms = Some(seconds(shown, &v)?).filter(|&ms| ms > 0),
            ("header" | "H", Some(v)) => {
                let (name, value) = match v.split_once(':') {
                    Some((n, val)) => (n.trim().to_string(), val.trim().to_string()),
                    None => (v.trim_end_matches(';').trim().to_string(), String::new()),
                };
                if !name.is_empty() {
                    o.headers.push((name, value));
                }
            }
            ("unix-socket", Some(v)) => o.unix_socket = Some(v),
            ("request" | "X", Some(v)) => o.method = Some(v),
            ("user-agent" | "A", Some(v)) => o.user_agent = Some(v),
            ("output" | "o", Some(v)) => {
                if v != "/dev/null" {
                    return Err(Res::with(String::new(), format!("curl: option {shown}: writing files is not simulated in this terminal (use -o /dev/null)\n"), 2));
                }
                o.output_null = true;
            }
            ("write-out" | "w", Some(v)) => o.write_out = Some(v),
            (n, None) if takes(n) => return Err(needs_arg(shown)),
            ("location" | "L" | "head" | "I" | "data" | "d" | "user" | "u" | "proxy" | "x" | "resolve" | "ipv4" | "4" | "ipv6" | "6"
            | "cookie" | "b" | "cookie-jar" | "c" | "referer" | "e" | "http2" | "http1.0" | "0" | "compressed" | "trace" | "trace-ascii"
            | "cacert" | "cert" | "retry" | "get" | "G" | "form" | "F" | "upload-file" | "T" | "remote-name" | "O" | "progress-bar" | "#", _) => {
                return Err(not_simulated(shown))
            }
            _ => return Err(unknown(shown)),
        }
        Ok(())
    };
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if let Some(long) = a.strip_prefix("--") {
            if long.is_empty() {
                continue;
            }
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) if takes(n) => (n, Some(v.to_string())),
                _ => (long, None),
            };
            let value = if takes(name) && inline.is_none() {
                let v = args.get(i).cloned();
                if v.is_some() {
                    i += 1;
                }
                v
            } else {
                inline
            };
            set(&mut o, name, a, value)?;
        } else if a.starts_with('-') && a.len() > 1 {
            let chars: Vec<char> = a.chars().skip(1).collect();
            let mut k = 0;
            while k < chars.len() {
                let c = chars[k].to_string();
                if takes(&c) {
                    let rest: String = chars[k + 1..].iter().collect();
                    let value = if rest.is_empty() {
                        let v = args.get(i).cloned();
                        if v.is_some() {
                            i += 1;
                        }
                        v
                    } else {
                        Some(rest)
                    };
                    set(&mut o, &c, &format!("-{c}"), value)?;
                    break;
                }
                set(&mut o, &c, &format!("-{c}"), None)?;
                k += 1;
            }
        } else if o.url.is_none() {
            o.url = Some(a.clone());
        } else {
            return Err(Res::with(String::new(), "curl: this terminal takes one URL per curl\n".into(), 2));
        }
    }
    Ok(o)
}

struct Url {
    https: bool,
    host: String,
    port: u16,
    /// Path and query.
    path: String,
}

fn parse_url(raw: &str) -> Result<Url, (i32, String)> {
    let (scheme, rest) = match raw.split_once("://") {
        Some((s, r)) => (s.to_ascii_lowercase(), r),
        None => ("http".to_string(), raw),
    };
    if scheme != "http" && scheme != "https" {
        return Err((1, format!("Protocol \"{scheme}\" not supported or disabled in libcurl")));
    }
    let https = scheme == "https";
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) if rest[i..].starts_with('?') => (&rest[..i], format!("/{}", &rest[i..])),
        Some(i) => (&rest[..i], rest[i..].to_string()),
        None => (rest, "/".to_string()),
    };
    let authority = authority.rsplit_once('@').map(|(_, h)| h).unwrap_or(authority);
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6.split_once(']').ok_or((3, "URL using bad/illegal format or missing URL".to_string()))?;
        let port = after.strip_prefix(':').map(str::to_string);
        (h.to_string(), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p.to_string())),
            None => (authority.to_string(), None),
        }
    };
    let bad = || (3, "URL using bad/illegal format or missing URL".to_string());
    if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    let port = match port.as_deref() {
        None | Some("") => if https { 443 } else { 80 },
        Some(p) => match p.parse::<u32>() {
            Ok(n) if (1..=65_535).contains(&n) => n as u16,
            _ => return Err((3, "URL using bad/illegal format or missing URL".to_string())),
        },
    };
    if path.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    Ok(Url { https, host: host.to_ascii_lowercase(), port, path })
}

/// What curl writes, as it writes it.
struct Printer {
    res: Res,
    verbose: bool,
    silent: bool,
    show_error: bool,
    meter: bool,
    traced_data: bool,
    piped: bool,
}

impl Printer {
    fn info(&mut self, s: &str) {
        if self.verbose {
            self.res.err(format!("* {s}\n"));
        }
    }

    /// curl's final error: `* msg` in verbose mode, `curl: (N) msg` unless
    /// silenced; the exit status.
    fn fail(&mut self, code: i32, msg: &str, elapsed_us: u64, received: u64) {
        self.info(msg);
        self.info("Closing connection 0");
        self.meter_line(elapsed_us, received, None);
        if !self.silent || self.show_error {
            self.res.err(format!("curl: ({code}) {msg}\n"));
        }
        self.res.status = code;
    }

    fn meter_header(&mut self) {
        if self.meter {
            self.res.err("  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current\n                                 Dload  Upload   Total   Spent    Left  Speed\n");
        }
    }

    /// The meter's last state (curl redraws it with \r; the last one stays).
    fn meter_line(&mut self, elapsed_us: u64, received: u64, total: Option<u64>) {
        if !self.meter {
            return;
        }
        let secs = elapsed_us / 1_000_000;
        let speed = if elapsed_us == 0 { received } else { received.saturating_mul(1_000_000) / elapsed_us };
        let pct = |done: u64, all: Option<u64>| match all {
            Some(t) if t > 0 => (done * 100 / t).min(100),
            Some(_) => 100,
            None => 0,
        };
        let total_v = total.unwrap_or(0);
        let done = total.is_some() && received >= total_v;
        let spent = time2str(secs);
        let total_t = if done { time2str(secs) } else { "--:--:--".into() };
        self.res.err(format!(
            "\r{:>3} {}  {:>3} {}  {:>3} {}  {}  {} {} {} {} {}\n",
            pct(received, total),
            max5(total_v),
            pct(received, total),
            max5(received),
            0,
            max5(0),
            max5(speed),
            max5(0),
            total_t,
            spent,
            "--:--:--",
            max5(if done { speed } else { 0 }),
        ));
    }

    fn sent(&mut self, lines: &[String]) {
        if self.verbose {
            for l in lines {
                self.res.err(format!("> {l}\r\n"));
            }
            self.res.err("> \r\n");
        }
    }

    fn response_head(&mut self, status_line: &str, headers: &[String], include: bool) {
        let mut head = format!("{status_line}\r\n");
        for h in headers {
            head.push_str(h);
            head.push_str("\r\n");
        }
        head.push_str("\r\n");
        if self.verbose {
            for l in head.split_inclusive("\r\n") {
                self.res.err(format!("< {l}"));
            }
        }
        if include {
            self.res.out(head);
        }
    }

    fn data(&mut self, body: &str, discard: bool) {
        if body.is_empty() {
            return;
        }
        if self.verbose && self.piped && !self.traced_data {
            self.res.err(format!("{{ [{} bytes data]\n", body.len()));
            self.traced_data = true;
        }
        if !discard {
            self.res.out(body.to_string());
        }
    }
}

/// curl's `time2str`: `--:--:--` for 0, else `H:MM:SS` in 8 columns.
fn time2str(secs: u64) -> String {
    if secs == 0 {
        return "--:--:--".into();
    }
    let (h, m, s) = (secs / 3_600, (secs / 60) % 60, secs % 60);
    if h <= 99 {
        format!("{h:>2}:{m:02}:{s:02}")
    } else {
        format!("{:>3}d {:02}h", h / 24, h % 24)
    }
}

/// curl's `max5data`: a number in five columns.
fn max5(bytes: u64) -> String {
    const K: u64 = 1024;
    const M: u64 = K * K;
    if bytes < 100_000 {
        format!("{bytes:>5}")
    } else if bytes < 10_000 * K {
        format!("{:>4}k", bytes / K)
    } else if bytes < 100 * M {
        format!("{:>2}.{}M", bytes / M, (bytes % M) / (M / 10))
    } else {
        format!("{:>4}M", bytes / M)
    }
}

/// Where a TCP connection to (ip, port) on this host lands.
enum Listener {
    Proxy,
    App(usize),
    Ssh,
    Nobody,
}

fn listener_at(ctx: &Ctx<'_>, ip: &str, port: u16) -> Listener {
    let w = ctx.sim.world();
    if port == 22 {
        return Listener::Ssh;
    }
    let v6 = ip.contains(':');
    // The proxy listens on 0.0.0.0 (IPv4 only).
    if port == w.scenario.proxy.listen && !v6 {
        return Listener::Proxy;
    }
    for a in host::apps(w) {
        if let Some(Address::Tcp { host: h, port: p }) = &a.listen {
            let h = if h == "localhost" { "127.0.0.1" } else { h.as_str() };
            if *p == port && ((h == "0.0.0.0" && !v6) || h == "::" || h == ip) {
                return if a.listening() { Listener::App(a.index) } else { Listener::Nobody };
            }
        }
    }
    Listener::Nobody
}

/// The host names web1 can resolve: itself, localhost, and the upstream
/// names its proxy uses (they point back at this host) unless a DNS fault
/// breaks them.
fn resolve(ctx: &Ctx<'_>, host: &str) -> Result<Vec<String>, Option<u64>> {
    if host == "localhost" {
        // /etc/hosts: `::1 localhost` unless the scenario's host lacks it.
        let ips = crate::sim::proxy::nginx::hosts_addresses(&ctx.sim.world().scenario, host);
        return Ok(ips.iter().map(|s| s.to_string()).collect());
    }
    if host == host::HOSTNAME {
        return Ok(vec!["127.0.1.1".into()]);
    }
    if host == "::1" || host.parse::<std::net::Ipv4Addr>().is_ok() {
        return Ok(vec![host.to_string()]);
    }
    let w = ctx.sim.world();
    if let Some(answer) = w.scenario.faults.iter().find_map(|f| f.dns_answer(host)) {
        // A resolver that never answers: glibc tries twice, 5 s each.
        return Err((answer == crate::sim::fault::DnsAnswer::Timeout).then_some(10_000));
    }
    let known = w.scenario.upstream.servers.iter().chain(&w.base.upstream.servers).any(|s| Address::parse(&s.address).ok().and_then(|a| a.host().map(|h| h == host)).unwrap_or(false));
    if known {
        return Ok(vec!["127.0.0.1".into()]);
    }
    Err(None)
}

fn is_local(ip: &str) -> bool {
    ip == "::1" || ip.parse::<std::net::Ipv4Addr>().is_ok_and(|a| a.is_loopback())
}

pub(super) fn run(ctx: &mut Ctx<'_>, args: &[String]) -> Res {
    let o = match parse_args(args) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let Some(raw) = o.url.clone() else {
        return Res::with(String::new(), "curl: no URL specified!\ncurl: try 'curl --help' or 'curl --manual' for more information\n".into(), 2);
    };
    if o.method.as_deref().is_some_and(|m| valid_method(m) != m) {
        return Res::with(String::new(), "curl: this terminal sends methods in upper case letters (GET, POST, ...)\n".into(), 2);
    }
    let meter = !o.silent && (ctx.piped || o.output_null);
    let mut p = Printer {
        res: Res::ok(),
        verbose: o.verbose,
        silent: o.silent,
        show_error: o.show_error,
        meter,
        traced_data: false,
        piped: ctx.piped || o.output_null,
    };
    let url = match parse_url(&raw) {
        Ok(u) => u,
        Err((code, msg)) => {
            p.meter = false;
            p.fail(code, &msg, 0, 0);
            return p.res;
        }
    };
    if let Some(r) = super::proxytools::envoy_admin(ctx, &url.host, url.port, &url.path) {
        return r;
    }
    p.meter_header();
    let started = ctx.sim.now();
    let outcome = if let Some(path) = o.unix_socket.clone() {
        unix_route(ctx, &o, &url, &path, &mut p)
    } else {
        tcp_route(ctx, &o, &url, &mut p)
    };
    let elapsed = ctx.sim.now().since(started);
    if let Some(fmt) = &o.write_out {
        let text = write_out(fmt, &outcome, elapsed, &url);
        p.res.out(text);
    }
    p.res
}

/// What the transfer came to, for `-w`.
#[derive(Default)]
struct Outcome {
    status: Option<u16>,
    remote_ip: String,
    remote_port: u16,
    size: u64,
    connect_us: u64,
}

fn write_out(fmt: &str, o: &Outcome, elapsed_us: u64, url: &Url) -> String {
    let mut out = String::new();
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some('t') => out.push('\t'),
                Some(x) => {
                    out.push('\\');
                    out.push(x);
                }
                None => out.push('\\'),
            },
            '%' if chars.peek() == Some(&'{') => {
                chars.next();
                let name: String = chars.by_ref().take_while(|&c| c != '}').collect();
                let secs = |us: u64| format!("{}.{:06}", us / 1_000_000, us % 1_000_000);
                let v = match name.as_str() {
                    "http_code" | "response_code" => format!("{:03}", o.status.unwrap_or(0)),
                    "time_total" => secs(elapsed_us),
                    "time_connect" => secs(o.connect_us),
                    "remote_ip" => o.remote_ip.clone(),
                    "remote_port" => o.remote_port.to_string(),
                    "size_download" => o.size.to_string(),
                    "url_effective" => format!("{}://{}{}{}", if url.https { "https" } else { "http" }, url.host, if (url.port == 80 && !url.https) || (url.port == 443 && url.https) { String::new() } else { format!(":{}", url.port) }, url.path),
                    _ => format!("%{{{name}}}"),
                };
                out.push_str(&v);
            }
            c => out.push(c),
        }
    }
    out
}

/// The request headers curl sends.
fn request_lines(o: &Opts, url: &Url, method: &str) -> (Vec<String>, String) {
    let default_host = if (url.port == 80 && !url.https) || (url.port == 443 && url.https) {
        url.host.clone()
    } else if url.host.contains(':') {
        format!("[{}]:{}", url.host, url.port)
    } else {
        format!("{}:{}", url.host, url.port)
    };
    let custom = |n: &str| o.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(n)).map(|(_, v)| v.clone());
    let host = custom("Host").unwrap_or(default_host);
    let ua = o.user_agent.clone().unwrap_or_else(|| format!("curl/{CURL_VERSION}"));
    let mut lines = vec![format!("{method} {} HTTP/1.1", url.path)];
    if !host.is_empty() {
        lines.push(format!("Host: {host}"));
    }
    if custom("User-Agent").is_none() && !ua.is_empty() {
        lines.push(format!("User-Agent: {ua}"));
    }
    if custom("Accept").is_none() {
        lines.push("Accept: */*".into());
    }
    for (k, v) in &o.headers {
        if k.eq_ignore_ascii_case("Host") || v.is_empty() {
            continue;
        }
        lines.push(format!("{k}: {v}"));
    }
    (lines, host)
}

fn method(o: &Opts) -> String {
    o.method.clone().unwrap_or_else(|| "GET".into())
}

fn tcp_route(ctx: &mut Ctx<'_>, o: &Opts, url: &Url, p: &mut Printer) -> Outcome {
    let mut outcome = Outcome::default();
    let ips = match resolve(ctx, &url.host) {
        Ok(ips) => ips,
        Err(wait) => {
            if let Some(ms) = wait {
                let t = ctx.sim.now().plus_ms(ms.min(o.max_time_ms.unwrap_or(u64::MAX)));
                ctx.sim.run_until(t);
            }
            let msg = if o.max_time_ms.is_some_and(|m| m < wait.unwrap_or(0)) {
                format!("Resolving timed out after {} milliseconds", o.max_time_ms.unwrap_or(0))
            } else {
                format!("Could not resolve host: {}", url.host)
            };
            let code = if msg.starts_with("Resolving") { 28 } else { 6 };
            p.fail(code, &msg, 0, 0);
            return outcome;
        }
    };
    let Some(last_ip) = ips.last().cloned() else { return outcome };
    if !ips.iter().all(|ip| is_local(ip) || ip == "127.0.1.1") {
        p.meter = false;
        p.res.err(format!("curl: {} is outside web1, the host this lab simulates\n", url.host));
        p.res.status = 7;
        return outcome;
    }
    let start = ctx.sim.now();
    for ip in &ips {
        // curl 7.88.1: `Trying [::1]:5000...` (measured), the IPv4 one bare.
        let shown = if ip.contains(':') { format!("[{ip}]") } else { ip.clone() };
        p.info(&format!("  Trying {shown}:{}...", url.port));
        let target = listener_at(ctx, ip, url.port);
        outcome.remote_ip = ip.clone();
        outcome.remote_port = url.port;
        match target {
            Listener::Nobody => {
                p.info(&format!("connect to {ip} port {} failed: Connection refused", url.port));
                if *ip == last_ip {
                    let msg = format!("Failed to connect to {} port {} after {} ms: Couldn't connect to server", url.host, url.port, ctx.sim.now().since(start) / 1_000);
                    p.fail(7, &msg, ctx.sim.now().since(start), 0);
                }
            }
            Listener::Ssh => {
                p.info(&format!("Connected to {} ({ip}) port {} (#0)", url.host, url.port));
                let (lines, _) = request_lines(o, url, &method(o));
                p.sent(&lines);
                p.fail(1, "Received HTTP/0.9 when not allowed", ctx.sim.now().since(start), 0);
                return outcome;
            }
            Listener::Proxy => {
                if url.https {
                    p.info(&format!("Connected to {} ({ip}) port {} (#0)", url.host, url.port));
                    tls_client_hello(p);
                    p.fail(35, "error:0A00010B:SSL routines::wrong version number", 0, 0);
                    return outcome;
                }
                via_proxy(ctx, o, url, ip, p, &mut outcome);
                return outcome;
            }
            Listener::App(a) => {
                let addr = Address::Tcp { host: ip.clone(), port: url.port };
                direct(ctx, o, url, a, &addr, ip, p, &mut outcome);
                return outcome;
            }
        }
    }
    outcome
}

fn unix_route(ctx: &mut Ctx<'_>, o: &Opts, url: &Url, path: &str, p: &mut Printer) -> Outcome {
    let mut outcome = Outcome::default();
    p.info(&format!("  Trying {path}:0..."));
    let w = ctx.sim.world();
    let sock = host::socket_files(w).into_iter().find(|s| s.path == path);
    let fail_connect = |p: &mut Printer, why: &str| {
        p.info(&format!("connect to {path} port 0 failed: {why}"));
        let msg = format!("Failed to connect to {} port {} after 0 ms: Couldn't connect to server", url.host, url.port);
        p.fail(7, &msg, 0, 0);
    };
    let Some(sock) = sock else {
        if path == "/run/docker.sock" {
            p.res.err("curl: Docker's API is not simulated in this terminal; use docker ps / docker inspect\n");
            p.res.status = 7;
        } else {
            fail_connect(p, "No such file or directory");
        }
        return outcome;
    };
    if !host::may_connect(&sock, ctx.user, w.scenario.proxy.flavor) {
        fail_connect(p, "Permission denied");
        return outcome;
    }
    let listening = host::app_named(w, &w.scenario.apps[sock.app].name).is_some_and(|a| a.listening());
    if !listening {
        // The file stayed; nobody accepts on it.
        fail_connect(p, "Connection refused");
        return outcome;
    }
    let addr = Address::Unix { path: path.to_string() };
    outcome.remote_ip = path.to_string();
    direct(ctx, o, url, sock.app, &addr, path, p, &mut outcome);
    outcome
}

fn tls_client_hello(p: &mut Printer) {
    p.info("ALPN: offers h2,http/1.1");
    p.info("TLSv1.3 (OUT), TLS handshake, Client hello (1):");
    p.info(" CAfile: /etc/ssl/certs/ca-certificates.crt");
    p.info(" CApath: /etc/ssl/certs");
}

/// A request through the proxy: a real simulated request.
fn via_proxy(ctx: &mut Ctx<'_>, o: &Opts, url: &Url, ip: &str, p: &mut Printer, outcome: &mut Outcome) {
    let m = method(o);
    let (lines, host_header) = request_lines(o, url, &m);
    let ua = o.user_agent.clone().unwrap_or_else(|| format!("curl/{CURL_VERSION}"));
    // `-H "Upgrade: websocket" -H "Connection: Upgrade"`: a WebSocket handshake.
    let header = |n: &str| o.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(n)).map(|(_, v)| v.to_ascii_lowercase());
    let websocket = header("Upgrade").is_some_and(|v| v == "websocket") && header("Connection").is_some_and(|v| v.contains("upgrade"));
    let spec = RequestSpec { at_ms: 0, method: valid_method(&m), path: url.path.clone(), host: host_header, body_bytes: 0, cookie_bytes: 0, websocket };
    let start = ctx.sim.now();
    let id = ctx.sim.send_tool(spec, &ua);
    let deadline = o.max_time_ms.map(|ms| start.plus_ms(ms));
    let mut budget = crate::sim::engine::MAX_EVENTS_PER_RUN;
    loop {
        let done = ctx.sim.exchanges().get(id).is_none_or(|e| e.is_finished());
        if done || budget == 0 {
            break;
        }
        match (ctx.sim.next_event_at(), deadline) {
            (Some(t), Some(d)) if t > d => break,
            (None, _) => break,
            _ => {
                ctx.sim.step();
                budget -= 1;
            }
        }
    }
    let finished = ctx.sim.exchanges().get(id).is_some_and(|e| e.is_finished());
    if !finished {
        // --max-time: curl closes the connection; the proxy hears of it a hop later.
        let d = deadline.unwrap_or(ctx.sim.now());
        ctx.sim.run_until(d);
        let ms = o.max_time_ms.unwrap_or(0);
        // A loopback connection is up within a millisecond.
        let connected = ms >= 1;
        let msg = if connected {
            format!("Operation timed out after {ms} milliseconds with 0 bytes received")
        } else {
            format!("Connection timed out after {ms} milliseconds")
        };
        if connected {
            p.info(&format!("Connected to {} ({ip}) port {} (#0)", url.host, url.port));
            p.sent(&lines);
        }
        ctx.sim.abandon(id, format!("curl: (28) {msg}"));
        let t = ctx.sim.now().plus_ms(1);
        ctx.sim.run_until(t);
        p.fail(28, &msg, ms * 1_000, 0);
        return;
    }
    // Same-instant events (the proxy's own bookkeeping) settle too.
    let now = ctx.sim.now();
    ctx.sim.run_until(now);
    let Some(ex) = ctx.sim.exchanges().get(id).cloned() else { return };
    let took = ex.finished_at.unwrap_or(start).since(ex.sent_at);
    match (&ex.client_result, &ex.response) {
        (Some(ClientResult::ConnectFailed), _) => {
            p.info(&format!("connect to {ip} port {} failed: Connection refused", url.port));
            let msg = format!("Failed to connect to {} port {} after {} ms: Couldn't connect to server", url.host, url.port, took / 1_000);
            p.fail(7, &msg, took, 0);
        }
        (Some(ClientResult::Http09), _) => {
            p.info(&format!("Connected to {} ({ip}) port {} (#0)", url.host, url.port));
            p.sent(&lines);
            p.fail(1, "Received HTTP/0.9 when not allowed", took, 0);
        }
        (Some(ClientResult::Reset), _) => {
            p.info(&format!("Connected to {} ({ip}) port {} (#0)", url.host, url.port));
            p.sent(&lines);
            p.fail(56, "Recv failure: Connection reset by peer", took, 0);
        }
        (Some(ClientResult::TimedOut), _) | (Some(ClientResult::Cancelled), _) | (Some(ClientResult::Rejected), _) | (_, None) => {
            p.info(&format!("Connected to {} ({ip}) port {} (#0)", url.host, url.port));
            p.sent(&lines);
            p.fail(52, "Empty reply from server", took, 0);
        }
        (_, Some(r)) if r.status == 101 => {
            // curl 7.88.1 (no WebSocket support built in): the 101 head, then
            // the tunnel closes without a byte: "Empty reply from server" (52).
            p.info(&format!("Connected to {} ({ip}) port {} (#0)", url.host, url.port));
            p.sent(&lines);
            outcome.status = Some(r.status);
            let headers: Vec<String> = r.headers.iter().map(|h| format!("{}: {}", h.name, h.value)).collect();
            p.response_head(&r.status_line(), &headers, o.include && !o.output_null);
            p.fail(52, "Empty reply from server", took, 0);
        }
        (result, Some(r)) => {
            p.info(&format!("Connected to {} ({ip}) port {} (#0)", url.host, url.port));
            p.sent(&lines);
            outcome.status = Some(r.status);
            let truncated = match result {
                Some(ClientResult::Truncated { received, expected }) => Some((*received, *expected)),
                _ => None,
            };
            respond(p, o, r, None, truncated, took, outcome, &url.host);
        }
    }
}

/// HTTP methods the engine takes (upper-case letters); curl sends others as given.
fn valid_method(m: &str) -> String {
    if !m.is_empty() && m.len() <= 16 && m.bytes().all(|b| b.is_ascii_uppercase()) {
        m.to_string()
    } else {
        "GET".to_string()
    }
}

/// Prints a response that arrived (maybe with its body cut short).
#[allow(clippy::too_many_arguments)]
fn respond(p: &mut Printer, o: &Opts, r: &Response, bad_header: Option<&str>, truncated: Option<(u64, Option<u64>)>, took_us: u64, outcome: &mut Outcome, host: &str) {
    let mut headers: Vec<String> = r.headers.iter().map(|h| format!("{}: {}", h.name, h.value)).collect();
    if let Some(l) = bad_header {
        headers.push(l.to_string());
    }
    if o.fail && r.status >= 400 {
        if p.verbose {
            p.res.err(format!("< {}\r\n", r.status_line()));
        }
        p.fail(22, &format!("The requested URL returned error: {}", r.status), took_us, 0);
        return;
    }
    p.response_head(&r.status_line(), &headers, o.include && !o.output_null);
    let body = match truncated {
        Some((received, _)) => {
            let n = (received as usize).min(r.body.len());
            let mut cut = n;
            while !r.body.is_char_boundary(cut) {
                cut -= 1;
            }
            r.body[..cut].to_string()
        }
        None => r.body.to_string(),
    };
    outcome.size = body.len() as u64;
    p.data(&body, o.output_null);
    let total = r.header("Content-Length").and_then(|v| v.parse::<u64>().ok());
    match truncated {
        Some((received, expected)) => {
            let msg = match expected {
                Some(e) => format!("transfer closed with {} bytes remaining to read", e.saturating_sub(received)),
                None => "transfer closed with outstanding read data remaining".to_string(),
            };
            p.fail(18, &msg, took_us, body.len() as u64);
        }
        None => {
            let close = r.header("Connection").is_some_and(|v| v.eq_ignore_ascii_case("close"));
            p.meter_line(took_us, body.len() as u64, total.or(Some(body.len() as u64)));
            if close {
                p.info("Closing connection 0");
            } else {
                p.info(&format!("Connection #0 to host {host} left intact"));
            }
        }
    }
}

/// A request straight to app `a` (it listens on `addr`).
#[allow(clippy::too_many_arguments)]
fn direct(ctx: &mut Ctx<'_>, o: &Opts, url: &Url, a: usize, addr: &Address, shown_ip: &str, p: &mut Printer, outcome: &mut Outcome) {
    let start = ctx.sim.now();
    let w = ctx.sim.world();
    let cfg = w.scenario.apps[a].clone();
    let faults = w.scenario.faults.clone();
    // A copy of the world's PRNG: the run's own stream stays untouched.
    let mut rng = w.rng.clone();
    let now = w.now;
    let by_hand = w.apps[a].started_by_hand;
    let mut connect = app::connect_outcome(&faults, now, &cfg.name, by_hand, &mut rng).unwrap_or(ConnectOutcome::Accepted);
    if connect == ConnectOutcome::PermissionDenied {
        // The fault is about the proxy's user; over TCP, or as root (or the app), it connects.
        let private_unix = matches!(addr, Address::Unix { .. }) && !matches!(ctx.user, User::Root | User::App);
        if !private_unix {
            connect = ConnectOutcome::Accepted;
        }
    }
    let connect_limit = match (o.connect_timeout_ms, o.max_time_ms) {
        (Some(c), Some(m)) => Some(c.min(m)),
        (c, m) => c.or(m),
    };
    let port_shown = match addr {
        Address::Tcp { port, .. } => *port,
        Address::Unix { .. } => 0,
    };
    match connect {
        ConnectOutcome::Refused | ConnectOutcome::NoSuchFile | ConnectOutcome::PermissionDenied => {
            let why = match connect {
                ConnectOutcome::Refused => "Connection refused",
                ConnectOutcome::NoSuchFile => "No such file or directory",
                _ => "Permission denied",
            };
            p.info(&format!("connect to {shown_ip} port {port_shown} failed: {why}"));
            let msg = format!("Failed to connect to {} port {} after 0 ms: Couldn't connect to server", url.host, url.port);
            p.fail(7, &msg, 0, 0);
            return;
        }
        ConnectOutcome::Dropped => {
            // No SYN-ACK: curl waits for its timeout, or the kernel gives up.
            match connect_limit {
                Some(ms) if ms < SYN_GIVE_UP_MS => {
                    ctx.sim.run_until(start.plus_ms(ms));
                    p.fail(28, &format!("Connection timed out after {ms} milliseconds"), ms * 1_000, 0);
                }
                _ => {
                    ctx.sim.run_until(start.plus_ms(SYN_GIVE_UP_MS));
                    let msg = format!("Failed to connect to {} port {} after {SYN_GIVE_UP_MS} ms: Couldn't connect to server", url.host, url.port);
                    p.fail(28, &msg, SYN_GIVE_UP_MS * 1_000, 0);
                }
            }
            return;
        }
        ConnectOutcome::Accepted => {}
    }
    let peer = match addr {
        Address::Tcp { .. } => shown_ip.to_string(),
        Address::Unix { path } => path.clone(),
    };
    let port = if matches!(addr, Address::Unix { .. }) { url.port } else { port_shown };
    p.info(&format!("Connected to {} ({peer}) port {port} (#0)", url.host));
    outcome.connect_us = 200;
    let generation = ctx.sim.world().apps[a].generation;
    // TLS first, if asked for or spoken.
    if url.https {
        tls_client_hello(p);
        if !cfg.tls {
            p.fail(35, "error:0A00010B:SSL routines::wrong version number", 0, 0);
            return;
        }
        // curl sends SNI for a name, never for an IP address (sni_required).
        let sni = (url.host.trim_start_matches('[').trim_end_matches(']').parse::<std::net::IpAddr>().is_err()).then(|| url.host.clone());
        if let Some(alert) = faults.iter().filter(|f| f.targets(&cfg.name) && f.in_window(now)).find_map(|f| f.tls_alert(sni.as_deref())) {
            // As curl 7.88.1 printed them against a server that requires SNI.
            if alert == 40 {
                p.info("TLSv1.3 (IN), TLS alert, handshake failure (552):");
                p.fail(35, "error:0A000410:SSL routines::sslv3 alert handshake failure", 0, 0);
            } else {
                p.fail(35, "error:0A000458:SSL routines::tlsv1 unrecognized name", 0, 0);
            }
            return;
        }
        p.info("TLSv1.3 (IN), TLS handshake, Server hello (2):");
        p.info("TLSv1.3 (IN), TLS handshake, Encrypted Extensions (8):");
        p.info("TLSv1.3 (IN), TLS handshake, Certificate (11):");
        let problem = faults.iter().filter(|f| f.targets(&cfg.name) && f.in_window(now)).find_map(|f| f.cert_problem());
        match problem {
            Some(pr) if !o.insecure => {
                let (alert, msg) = match pr {
                    CertProblem::Expired => ("certificate expired (557)", "SSL certificate problem: certificate has expired".to_string()),
                    CertProblem::SelfSigned => ("unknown CA (560)", "SSL certificate problem: self-signed certificate".to_string()),
                    CertProblem::HostnameMismatch => ("", format!("SSL: no alternative certificate subject name matches target host name '{}'", url.host)),
                };
                if !alert.is_empty() {
                    p.info(&format!("TLSv1.3 (OUT), TLS alert, {alert}:"));
                }
                p.fail(60, &msg, 0, 0);
                if !p.silent || p.show_error {
                    p.res.err("More details here: https://curl.se/docs/sslcerts.html\n\ncurl failed to verify the legitimacy of the server and therefore could not\nestablish a secure connection to it. To learn more about this situation and\nhow to fix it, please visit the web page mentioned above.\n");
                }
                return;
            }
            _ => {
                p.info("TLSv1.3 (IN), TLS handshake, CERT verify (15):");
                p.info("TLSv1.3 (IN), TLS handshake, Finished (20):");
                p.info("TLSv1.3 (OUT), TLS change cipher, Change cipher spec (1):");
                p.info("TLSv1.3 (OUT), TLS handshake, Finished (20):");
                p.info("SSL connection using TLSv1.3 / TLS_AES_256_GCM_SHA384");
                p.info("ALPN: server accepted http/1.1");
            }
        }
    }
    let m = method(o);
    let (lines, _) = request_lines(o, url, &m);
    p.sent(&lines);
    if cfg.tls && !url.https {
        // Plain HTTP into a TLS listener: the server drops the connection.
        p.fail(52, "Empty reply from server", 1_000, 0);
        return;
    }
    // The app's answer: load shedding first, then a worker's reply.
    let waiting = ctx.sim.world().apps[a].waiting.len();
    let reply = app::shed_reply(&cfg, waiting).unwrap_or_else(|| app::compose_reply(&cfg, &faults, now, &mut rng));
    let due = if matches!(reply.wire, Wire::Hang) { u64::MAX } else { reply.after_us };
    let limit_us = o.max_time_ms.map(|ms| ms * 1_000).unwrap_or(PATIENCE_MS * 1_000);
    if due > limit_us {
        ctx.sim.run_until(start.plus_us(limit_us));
        match o.max_time_ms {
            Some(ms) => p.fail(28, &format!("Operation timed out after {ms} milliseconds with 0 bytes received"), limit_us, 0),
            None => {
                p.meter = false;
                p.res.err(format!("curl: still no answer after {} minutes of virtual time; this terminal stops waiting (use -m SECONDS)\n", PATIENCE_MS / 60_000));
                p.res.status = 130;
            }
        }
        return;
    }
    ctx.sim.run_until(start.plus_us(due));
    let method_for_log = valid_method(&m);
    if !app::serve_direct(ctx.sim.world_mut(), a, generation, &method_for_log, &url.path, &reply) {
        // The process died while the request was in it: the kernel closed the connection.
        p.fail(52, "Empty reply from server", due, 0);
        return;
    }
    match &reply.wire {
        Wire::Http { response, bad_header_line, truncate_body_at } => {
            outcome.status = Some(response.status);
            let truncated = truncate_body_at.map(|n| {
                let expected = if response.is_chunked() { None } else { Some(response.body.len() as u64) };
                (n, expected)
            });
            let mut r = response.clone();
            if let (Some(n), true) = (truncate_body_at, response.is_chunked()) {
                // What curl decodes from the one chunk that was sent.
                r.body = response.body[..(*n as usize).min(response.body.len())].to_string().into();
            }
            respond(p, o, &r, bad_header_line.as_deref(), truncated, due, outcome, &url.host);
        }
        Wire::Garbage(_) => p.fail(1, "Received HTTP/0.9 when not allowed", due, 0),
        Wire::BadChunked { response, .. } => {
            // curl reads the head, then fails on the first chunk-size line.
            outcome.status = Some(response.status);
            let headers: Vec<String> = response.headers.iter().map(|h| format!("{}: {}", h.name, h.value)).collect();
            p.response_head(&response.status_line(), &headers, o.include && !o.output_null);
            p.fail(56, "Illegal or missing hexadecimal sequence in chunked-encoding", due, 0);
        }
        Wire::Crash | Wire::OomKill { .. } | Wire::Hang => p.fail(52, "Empty reply from server", due, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = parse_url("http://localhost/users").unwrap();
        assert_eq!((u.host.as_str(), u.port, u.path.as_str(), u.https), ("localhost", 80, "/users", false));
        let u = parse_url("127.0.0.1:3000").unwrap();
        assert_eq!((u.host.as_str(), u.port, u.path.as_str()), ("127.0.0.1", 3000, "/"));
        let u = parse_url("https://app.internal:3443/a?b=1").unwrap();
        assert_eq!((u.port, u.path.as_str(), u.https), (3443, "/a?b=1", true));
        assert_eq!(parse_url("ftp://x").err().map(|e| e.0), Some(1));
        assert_eq!(parse_url("http://:80/").err().map(|e| e.0), Some(3));
        assert_eq!(parse_url("http://x:99999/").err().map(|e| e.0), Some(3));
        let u = parse_url("http://[::1]:8080/").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("::1", 8080));
    }

    #[test]
    fn meter_fields() {
        assert_eq!(max5(157), "  157");
        assert_eq!(max5(153 * 1024), " 153k");
        assert_eq!(time2str(0), "--:--:--");
        assert_eq!(time2str(60), " 0:01:00");
    }

    #[test]
    fn options() {
        let o = parse_args(&["-sSv".into(), "-m5".into(), "-H".into(), "Host: x".into(), "u".into()]).ok().unwrap();
        assert!(o.silent && o.show_error && o.verbose);
        assert_eq!(o.max_time_ms, Some(5_000));
        assert_eq!(o.headers, vec![("Host".to_string(), "x".to_string())]);
        assert_eq!(o.url.as_deref(), Some("u"));
        assert_eq!(parse_args(&["--bogus".into()]).err().map(|r| r.status), Some(2));
        assert_eq!(parse_args(&["-m".into()]).err().map(|r| r.status), Some(2));
        assert_eq!(parse_args(&["-m".into(), "abc".into()]).err().map(|r| r.status), Some(2));
        assert_eq!(parse_args(&["-L".into()]).err().map(|r| r.status), Some(2));
    }
}
