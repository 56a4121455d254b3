//! The proxies under test. One [`ProxyUnderTest`] per flavour: it starts the
//! real program on the configuration the engine stands for, stops it, and
//! reads its log formats (the engine writes the same formats, so the same
//! parsers read both sides). A flavour is one implementation in `flavors()`:
//! the harness and the report take it as one more column (nginx, HAProxy).

#![allow(dead_code)]

use std::fs::File;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use gateway_core::sim::proxy::haproxy;
use gateway_core::sim::proxy::nginx::conf::{render, Paths};
use gateway_core::sim::scenario::Flavor;
use gateway_core::sim::Scenario;

use super::upstream::sys;

/// What a stopped proxy left behind.
#[derive(Clone, Debug, Default)]
pub struct RawLogs {
    pub error: Vec<String>,
    pub access: Vec<String>,
    pub stderr: Vec<String>,
    /// It was accepting connections.
    pub started: bool,
    /// It did not stop on the polite signal (a note for the report).
    pub forced_stop: Option<String>,
}

/// One access.log entry, in the flavour's own format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Access {
    pub request_line: String,
    /// The line with its time stamp removed (and, for HAProxy, the client
    /// port, the concurrency counters and the timer values).
    pub normalised: String,
    /// Timers left out of `normalised` because they are compared within a
    /// tolerance: (name, ms). HAProxy's `Tc`, `Tr`, `Ta` when not -1.
    pub times: Vec<(String, i64)>,
    /// Failed connection attempts the line itself reports (HAProxy: the
    /// `%rc` retries, plus one when the session ended in the connect phase).
    pub failed_connects: u32,
}

pub trait RunningProxy {
    fn stop(self: Box<Self>) -> RawLogs;
}

pub trait ProxyUnderTest {
    /// Column title, e.g. `nginx 1.22.1`.
    fn column(&self) -> String;
    /// Which engine model stands for it.
    fn engine_flavor(&self) -> Flavor;
    /// `nginx -v`, for the report; Err when it is not installed.
    fn version(&self) -> Result<String, String>;
    /// Writes the configuration the engine renders for `effective` into
    /// `dir` and starts the program. A program that refuses to start is not
    /// an error: the logs say why.
    fn start(&self, effective: &Scenario, dir: &Path, paths: &Paths) -> Result<Box<dyn RunningProxy>, String>;
    /// The request line an error.log line belongs to, if any.
    fn request_of(&self, error_line: &str) -> Option<String>;
    /// The line without time, process ids and connection numbers, ports
    /// replaced by `PORT` and `tmp` by `$TMP`. None for lines that are not
    /// modelled (start-up notices, info-level keep-alive chatter).
    fn normalise_error(&self, line: &str, tmp: &str) -> Option<String>;
    fn parse_access(&self, line: &str) -> Option<Access>;
    /// A normalised error.log line that reports a failed connection attempt
    /// (the upstream never read the request on it).
    fn is_failed_attempt(&self, normalised: &str) -> bool;
    /// Name of the per-request log line in the report (`access.log`).
    fn log_name(&self) -> &'static str {
        "access.log"
    }
    /// Name of the log lines that belong to no request.
    fn stray_name(&self) -> &'static str {
        "error.log (no request)"
    }
    /// The per-request table of the report shows the raw log line (HAProxy,
    /// whose only log is that line) rather than the error.log lines.
    fn details_show_access(&self) -> bool {
        false
    }
    /// Fields the planted difference of the self-check must show.
    fn self_check_fields(&self) -> &'static [&'static str] {
        &["status", "body bytes", "access.log", "error.log"]
    }
    /// For a flavor whose error log names a request only by the client's
    /// address (Apache's `[client 127.0.0.1:PORT]`): the client port each
    /// line belongs to. None: the flavor names the request (`request_of`).
    fn client_ports(&self, _lines: &[String]) -> Option<Vec<Option<u16>>> {
        None
    }
    /// What an overload run counts per request from its (normalised) log
    /// line, if anything (HAProxy: status, termination state, retried).
    fn aggregate_key(&self, _normalised_access: &str) -> Option<String> {
        None
    }
}

/// Replaces `:1234` after a host or address with `:PORT` (not after `CONF`).
pub fn mask_ports(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b':' && i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b']') && !out.ends_with("CONF") {
            let digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
            let after = b.get(i + 1 + digits).copied();
            if (1..=5).contains(&digits) && !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'.') {
                out.push_str(":PORT");
                i += 1 + digits;
                continue;
            }
        }
        let ch = s[i..].chars().next().unwrap();
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

/// `selinux_connect_denied`: the proxy runs under a seccomp filter that
/// makes its connect() calls fail with EACCES, as SELinux's policy does
/// (its workers inherit it). SELinux itself is not available here.
fn deny_connect_if_asked(cmd: &mut Command, effective: &Scenario) {
    if effective.faults.iter().any(|f| matches!(f.kind, gateway_core::sim::FaultKind::SelinuxConnectDenied)) {
        // SAFETY: the closure only calls prctl (async-signal-safe) in the child.
        unsafe {
            cmd.pre_exec(sys::deny_connect);
        }
    }
}

/// True when the exported config names `localhost` (in `proxy_pass` or a
/// `server` line): what it resolves to depends on the host's /etc/hosts.
pub fn names_localhost(sc: &Scenario) -> bool {
    use gateway_core::sim::net::{Address, ProxyPass, Target};
    let is_lh = |a: &str| Address::parse(a).ok().is_some_and(|a| a.host() == Some("localhost"));
    match ProxyPass::parse(&sc.proxy.proxy_pass).map(|p| p.host) {
        Ok(Target::Addr(a)) => a.host() == Some("localhost"),
        Ok(Target::Group(g)) => g == sc.upstream.name && sc.upstream.servers.iter().any(|s| is_lh(&s.address)),
        Err(_) => false,
    }
}

/// `localhost` in the config: the proxy runs in its own mount namespace
/// whose /etc/hosts is Debian's (`127.0.0.1 localhost` and `::1 localhost
/// ip6-localhost ip6-loopback`) with `proxy.localhost_ipv6` on, or
/// `127.0.0.1 localhost` only with it off. This machine's own /etc/hosts
/// has no `::1 localhost` and is not touched. Needs root (true: it ran).
fn own_hosts_if_asked(cmd: &mut Command, effective: &Scenario, dir: &Path) -> Result<bool, String> {
    if !names_localhost(effective) {
        return Ok(false);
    }
    if !sys::is_root() {
        return Err("`localhost` in the config needs root here: the proxy gets its own /etc/hosts in a private mount namespace".into());
    }
    let text = if effective.proxy.localhost_ipv6 {
        "127.0.0.1\tlocalhost\n127.0.1.1\tweb1\n\n# The following lines are desirable for IPv6 capable hosts\n::1     localhost ip6-localhost ip6-loopback\nff02::1 ip6-allnodes\nff02::2 ip6-allrouters\n"
    } else {
        "127.0.0.1\tlocalhost\n127.0.1.1\tweb1\n"
    };
    let hosts = dir.join("hosts");
    std::fs::write(&hosts, text).map_err(|e| e.to_string())?;
    let ns = super::upstream::hosts_ns::Paths::new(&hosts);
    // SAFETY: the closure only calls unshare and mount in the child.
    unsafe {
        cmd.pre_exec(move || ns.enter());
    }
    Ok(true)
}

// ---------------------------------------------------------------------------
// nginx

pub struct Nginx {
    pub bin: PathBuf,
}

impl Nginx {
    pub fn find() -> Option<Nginx> {
        ["/usr/sbin/nginx", "/usr/bin/nginx"].iter().map(PathBuf::from).find(|p| p.exists()).map(|bin| Nginx { bin })
    }

    /// The main nginx.conf around the rendered file (which goes in `http {}`,
    /// as a conf.d file does): foreground, one worker, everything in `dir`.
    /// `worker_connections`: the scenario's when it sets one (not nginx's
    /// default 512), else 4096, so that load cells never run out.
    fn main_conf(dir: &Path, site: &Path, worker_connections: u32, user: &str) -> String {
        let d = dir.display();
        format!(
            "{user}daemon off;\nmaster_process on;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/logs/main-error.log notice;\n\
             events {{ worker_connections {worker_connections}; }}\n\
             http {{\n    client_body_temp_path {d}/tmp/body;\n    proxy_temp_path {d}/tmp/proxy;\n    fastcgi_temp_path {d}/tmp/fastcgi;\n    uwsgi_temp_path {d}/tmp/uwsgi;\n    scgi_temp_path {d}/tmp/scgi;\n    include {};\n}}\n",
            site.display()
        )
    }
}

struct RunningNginx {
    child: Child,
    dir: PathBuf,
    started: bool,
    stopped: bool,
}

impl Drop for RunningNginx {
    /// A panic between start and stop must not leave nginx running.
    fn drop(&mut self) {
        if !self.stopped {
            sys::signal(-(self.child.id() as i32), sys::SIGKILL);
            let _ = self.child.wait();
        }
    }
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path).unwrap_or_default().lines().map(str::to_string).collect()
}

impl RunningProxy for RunningNginx {
    fn stop(mut self: Box<Self>) -> RawLogs {
        let pgid = self.child.id() as i32;
        if matches!(self.child.try_wait(), Ok(None)) {
            sys::signal(-pgid, sys::SIGTERM);
            let deadline = Instant::now() + Duration::from_secs(5);
            while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        // Whatever is left of the group (a worker of a killed master) goes too.
        sys::signal(-pgid, sys::SIGKILL);
        let _ = self.child.wait();
        self.stopped = true;
        RawLogs {
            error: lines(&self.dir.join("logs/error.log")),
            access: lines(&self.dir.join("logs/access.log")),
            stderr: lines(&self.dir.join("stderr.log")),
            started: self.started,
            forced_stop: None,
        }
    }
}

impl ProxyUnderTest for Nginx {
    fn column(&self) -> String {
        match self.version() {
            Ok(v) => v.trim_start_matches("nginx version: ").replace('/', " "),
            Err(_) => "nginx".into(),
        }
    }

    fn engine_flavor(&self) -> Flavor {
        Flavor::Nginx
    }

    fn version(&self) -> Result<String, String> {
        let out = Command::new(&self.bin).arg("-v").output().map_err(|e| format!("{}: {e}", self.bin.display()))?;
        let text = String::from_utf8_lossy(&out.stderr).trim().to_string();
        if text.is_empty() { Err("nginx -v printed nothing".into()) } else { Ok(text) }
    }

    fn start(&self, effective: &Scenario, dir: &Path, paths: &Paths) -> Result<Box<dyn RunningProxy>, String> {
        for d in ["logs", "tmp"] {
            std::fs::create_dir_all(dir.join(d)).map_err(|e| e.to_string())?;
        }
        let site = dir.join("gateway-lab.conf");
        std::fs::write(&site, render(effective, paths).text).map_err(|e| e.to_string())?;
        // With a real app server (PHP-FPM's socket owner and mode are the
        // subject), the worker runs as Debian's nginx does: www-data.
        let servers = effective.apps.iter().any(|a| a.server != gateway_core::sim::server::ServerKind::Node);
        let user = if servers && super::upstream::sys::is_root() { "user www-data www-data;\n" } else { "" };
        std::fs::write(dir.join("nginx.conf"), Self::main_conf(dir, &site, if effective.proxy.worker_connections == 512 { 4096 } else { effective.proxy.worker_connections }, user)).map_err(|e| e.to_string())?;
        let stderr = File::create(dir.join("stderr.log")).map_err(|e| e.to_string())?;
        let mut cmd = Command::new(&self.bin);
        cmd.arg("-p").arg(dir).arg("-c").arg(dir.join("nginx.conf")).stdin(Stdio::null()).stdout(Stdio::null()).stderr(stderr).process_group(0);
        own_hosts_if_asked(&mut cmd, effective, dir)?;
        deny_connect_if_asked(&mut cmd, effective);
        let mut child = cmd.spawn().map_err(|e| format!("{}: {e}", self.bin.display()))?;
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, effective.proxy.listen));
        let deadline = Instant::now() + Duration::from_secs(10);
        let started = loop {
            if let Ok(Some(_)) = child.try_wait() {
                break false; // refused to start: stderr says why
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
                break true;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err("nginx neither started listening nor exited within 10 s".into());
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        Ok(Box::new(RunningNginx { child, dir: dir.to_path_buf(), started, stopped: false }))
    }

    fn request_of(&self, line: &str) -> Option<String> {
        let start = line.find(", request: \"")? + 12;
        let end = line[start..].find('"')? + start;
        Some(line[start..end].to_string())
    }

    fn normalise_error(&self, line: &str, tmp: &str) -> Option<String> {
        // `2026/11/21 04:43:44 [error] 4453#4453: *1 message...`
        let open = line.find('[')?;
        let close = line[open..].find("] ")? + open;
        let level = &line[open..=close];
        let mut rest = &line[close + 2..];
        if let Some(colon) = rest.find(": ") {
            if rest[..colon].split('#').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())) {
                rest = &rest[colon + 2..];
            }
        }
        if let Some(r) = rest.strip_prefix('*') {
            let n = r.bytes().take_while(u8::is_ascii_digit).count();
            if n > 0 && r[n..].starts_with(' ') {
                rest = &r[n + 1..];
            }
        }
        // Not modelled: info-level chatter about client connections.
        if level == "[info]" && (rest.contains("closed keepalive connection") || rest.contains("while waiting for request")) {
            return None;
        }
        if level == "[notice]" {
            return None;
        }
        let mut text = format!("{level} {rest}");
        text = text.replace(&format!("{tmp}/gateway-lab.conf"), "CONF").replace(gateway_core::sim::proxy::nginx::CONF_PATH, "CONF");
        text = text.replace(tmp, "$TMP");
        Some(mask_ports(&text))
    }

    fn parse_access(&self, line: &str) -> Option<Access> {
        // `127.0.0.1 - - [21/Nov/2026:04:43:44 +0000] "GET /users HTTP/1.1" 502 157 "-" "curl/8.5.0"`
        let t0 = line.find(" [")?;
        let t1 = line[t0..].find("] ")? + t0;
        let q0 = line[t1..].find('"')? + t1 + 1;
        let q1 = line[q0..].find('"')? + q0;
        let (normalised, times) = upstream_times(&format!("{} [TIME]{}", &line[..t0], &line[t1 + 1..]));
        Some(Access { request_line: line[q0..q1].to_string(), normalised, times, failed_connects: 0 })
    }

    fn is_failed_attempt(&self, l: &str) -> bool {
        // One [error]/[crit] line per failed connect or handshake; the [warn]
        // "temporarily disabled" line that may follow is about the same try.
        // An auth_request subrequest's connection is not one of the request's attempts.
        (l.starts_with("[error] ") || l.starts_with("[crit] "))
            && !l.contains(", subrequest: \"")
            && ((l.contains(" while connecting to upstream") && !l.contains("no live upstreams")) || l.contains(" while SSL handshaking to upstream"))
    }
}

/// The `upstreaminfo` fields after the combined ones (`$request_length
/// $request_time $upstream_addr $upstream_response_length
/// $upstream_response_time $upstream_status`, each `$upstream_*` a list
/// joined by ", " or " : "): the two times become `T` and are compared
/// within the time tolerance. A combined line comes back as it is.
pub fn upstream_times(line: &str) -> (String, Vec<(String, i64)>) {
    // After the user agent, the last quoted field.
    let Some(end) = line.rfind('"') else { return (line.to_string(), Vec::new()) };
    let rest = line[end + 1..].trim_start();
    if rest.is_empty() {
        return (line.to_string(), Vec::new());
    }
    let tokens: Vec<&str> = rest.split(' ').collect();
    if tokens.len() < 6 {
        return (line.to_string(), Vec::new());
    }
    // Groups: a list goes on while a token ends in ',' or a ':' joins two.
    let mut lists: Vec<Vec<&str>> = vec![vec![tokens[0]], vec![tokens[1]]];
    let mut cur: Vec<&str> = Vec::new();
    for (i, t) in tokens[2..].iter().enumerate() {
        cur.push(t);
        let next = tokens.get(i + 3).copied();
        if !(t.ends_with(',') || *t == ":" || next == Some(":")) {
            lists.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        lists.push(cur);
    }
    let ms = |v: &str| -> Option<i64> {
        let v = v.trim_end_matches(',');
        let (s, f) = v.split_once('.')?;
        Some(s.parse::<i64>().ok()? * 1_000 + f.parse::<i64>().ok()?)
    };
    let mut times = Vec::new();
    let mut timed = |name: String, v: &str| -> String {
        match ms(v) {
            Some(t) => {
                times.push((name, t));
                format!("T{}", if v.ends_with(',') { "," } else { "" })
            }
            None => v.to_string(),
        }
    };
    let request_time = timed("request_time".into(), lists[1][0]);
    let upstream: Vec<String> = match lists.get(4) {
        Some(l) => l.iter().enumerate().map(|(i, v)| if *v == ":" { v.to_string() } else { timed(format!("upstream_response_time[{i}]"), v) }).collect(),
        None => Vec::new(),
    };
    let mut out: Vec<String> = vec![lists[0].join(" "), request_time];
    for (i, l) in lists.iter().enumerate().skip(2) {
        out.push(if i == 4 { upstream.join(" ") } else { l.join(" ") });
    }
    (format!("{} {}", line[..=end].to_string(), out.join(" ")), times)
}

// ---------------------------------------------------------------------------
// HAProxy

pub struct Haproxy {
    pub bin: PathBuf,
}

/// Where the engine's HAProxy says its configuration is.
pub const HAPROXY_CONF_PATH: &str = "/etc/haproxy/haproxy.cfg";

impl Haproxy {
    pub fn find() -> Option<Haproxy> {
        ["/usr/sbin/haproxy", "/usr/bin/haproxy"].iter().map(PathBuf::from).find(|p| p.exists()).map(|bin| Haproxy { bin })
    }
}

/// uid and gid of `nobody` (HAProxy runs as it when the test runs as root,
/// like nginx's worker: the rendered haproxy.cfg has no `user` line).
fn nobody() -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    let l = passwd.lines().find(|l| l.starts_with("nobody:"))?;
    let f: Vec<&str> = l.split(':').collect();
    Some((f.get(2)?.parse().ok()?, f.get(3)?.parse().ok()?))
}

/// A TCP socket in LISTEN state on `port` (any address), from /proc/net.
/// Probing with connect() would make HAProxy log a `<BADREQ>` line.
pub fn listening(port: u16) -> bool {
    ["/proc/net/tcp", "/proc/net/tcp6"].iter().any(|f| {
        std::fs::read_to_string(f).unwrap_or_default().lines().skip(1).any(|l| {
            let c: Vec<&str> = l.split_whitespace().collect();
            c.len() > 3
                && c[3] == "0A"
                && c[1].rsplit_once(':').and_then(|(_, p)| u16::from_str_radix(p, 16).ok()) == Some(port)
        })
    })
}

struct RunningHaproxy {
    child: Child,
    dir: PathBuf,
    started: bool,
    stopped: bool,
}

impl Drop for RunningHaproxy {
    fn drop(&mut self) {
        if !self.stopped {
            sys::signal(-(self.child.id() as i32), sys::SIGKILL);
            let _ = self.child.wait();
        }
    }
}

const SIGUSR1: i32 = 10;

impl RunningProxy for RunningHaproxy {
    fn stop(mut self: Box<Self>) -> RawLogs {
        let pgid = self.child.id() as i32;
        // Soft stop (SIGUSR1); SIGTERM (hard stop) if sessions are still
        // open after 3 s.
        let mut forced_stop = None;
        for (sig, wait) in [(SIGUSR1, 3_000), (sys::SIGTERM, 1_000)] {
            if matches!(self.child.try_wait(), Ok(None)) {
                if sig == sys::SIGTERM {
                    forced_stop = Some("HAProxy was still running 3 s after SIGUSR1 (soft stop) and was stopped with SIGTERM".to_string());
                }
                sys::signal(pgid, sig);
                let deadline = Instant::now() + Duration::from_millis(wait);
                while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
        }
        sys::signal(-pgid, sys::SIGKILL);
        let _ = self.child.wait();
        self.stopped = true;
        // stdout holds the log: httplog lines, and the few other lines
        // HAProxy logs (server state changes, shutdown notices).
        let (access, other): (Vec<String>, Vec<String>) = lines(&self.dir.join("stdout.log")).into_iter().partition(|l| parse_httplog(l).is_some());
        RawLogs { error: other, access, stderr: lines(&self.dir.join("stderr.log")), started: self.started, forced_stop }
    }
}

/// Parses one `option httplog` line:
/// `%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq "%r"`.
pub fn parse_httplog(line: &str) -> Option<Access> {
    let q = line.find(" \"")?;
    let request = line[q + 2..].strip_suffix('"')?;
    let f: Vec<&str> = line[..q].split(' ').collect();
    if f.len() != 12 || !(f[1].starts_with('[') && f[1].ends_with(']')) {
        return None;
    }
    let (ip, port) = f[0].rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    let t: Vec<i64> = f[4].split('/').map(|x| x.parse().ok()).collect::<Option<_>>()?;
    let c: Vec<&str> = f[10].split('/').collect();
    if t.len() != 5 || c.len() != 5 {
        return None;
    }
    let rc = c[4];
    let retries: u32 = rc.trim_start_matches('+').parse().ok()?;
    let server = f[3].split_once('/')?.1;
    let tsc = f[9].as_bytes();
    let failed = if server == "<NOSRV>" { 0 } else { retries + u32::from(tsc.get(1) == Some(&b'C')) };
    let mut times = Vec::new();
    let mut timer = |i: usize, name: &str| {
        if t[i] < 0 {
            t[i].to_string()
        } else {
            times.push((name.to_string(), t[i]));
            name.to_string()
        }
    };
    let timers = format!("{}/{}/{}/{}/{}", t[0], t[1], timer(2, "Tc"), timer(3, "Tr"), timer(4, "Ta"));
    let normalised = format!(
        "{ip}:PORT [TIME] {} {} {timers} {} {} {} {} {} */*/*/*/{rc} {} \"{request}\"",
        f[2], f[3], f[5], f[6], f[7], f[8], f[9], f[11]
    );
    Some(Access { request_line: request.to_string(), normalised, times, failed_connects: failed })
}

impl ProxyUnderTest for Haproxy {
    fn column(&self) -> String {
        match self.version() {
            Ok(v) => {
                let n = v.split_whitespace().nth(2).unwrap_or("");
                format!("HAProxy {}", n.split('-').next().unwrap_or(n))
            }
            Err(_) => "HAProxy".into(),
        }
    }

    fn engine_flavor(&self) -> Flavor {
        Flavor::Haproxy
    }

    fn version(&self) -> Result<String, String> {
        let out = Command::new(&self.bin).arg("-v").output().map_err(|e| format!("{}: {e}", self.bin.display()))?;
        let text = String::from_utf8_lossy(&out.stdout);
        let first = text.lines().next().unwrap_or("").trim();
        // `HAProxy version 2.6.12-1+deb12u4 2026/10/17 - https://haproxy.org/`
        let first = first.split(" - ").next().unwrap_or(first).to_string();
        if first.is_empty() { Err("haproxy -v printed nothing".into()) } else { Ok(first) }
    }

    fn start(&self, effective: &Scenario, dir: &Path, paths: &Paths) -> Result<Box<dyn RunningProxy>, String> {
        let cfg = dir.join("haproxy.cfg");
        let hp = haproxy::conf::Paths { ca_file: paths.ca_file.clone() };
        std::fs::write(&cfg, haproxy::conf::render_with(effective, &hp).text).map_err(|e| e.to_string())?;
        let stdout = File::create(dir.join("stdout.log")).map_err(|e| e.to_string())?;
        let stderr = File::create(dir.join("stderr.log")).map_err(|e| e.to_string())?;
        let mut cmd = Command::new(&self.bin);
        cmd.arg("-db").arg("-f").arg(&cfg).stdin(Stdio::null()).stdout(stdout).stderr(stderr).process_group(0);
        // The mount namespace needs root in the child: HAProxy then stays
        // root (nobody only matters for the unix socket permission cells).
        if !own_hosts_if_asked(&mut cmd, effective, dir)? && sys::is_root() {
            let (uid, gid) = nobody().ok_or("no user nobody in /etc/passwd")?;
            cmd.uid(uid).gid(gid);
        }
        deny_connect_if_asked(&mut cmd, effective);
        let mut child = cmd.spawn().map_err(|e| format!("{}: {e}", self.bin.display()))?;
        let deadline = Instant::now() + Duration::from_secs(10);
        let started = loop {
            if let Ok(Some(_)) = child.try_wait() {
                break false; // refused to start: stderr says why
            }
            if listening(effective.proxy.listen) {
                break true;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err("haproxy neither started listening nor exited within 10 s".into());
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        Ok(Box::new(RunningHaproxy { child, dir: dir.to_path_buf(), started, stopped: false }))
    }

    fn request_of(&self, _line: &str) -> Option<String> {
        None
    }

    fn normalise_error(&self, line: &str, tmp: &str) -> Option<String> {
        // stderr: `[ALERT]    (12281) : config : [FILE:18] : message`;
        // stdout (the log): the message alone.
        let line = line.trim_end();
        let (level, mut rest) = match line.strip_prefix('[').and_then(|l| l.split_once(']')) {
            Some((level, rest)) => (format!("[{level}] "), rest.trim_start()),
            None => (String::new(), line),
        };
        if let Some(r) = rest.strip_prefix('(') {
            if let Some((pid, after)) = r.split_once(") : ") {
                if pid.bytes().all(|b| b.is_ascii_digit()) {
                    rest = after;
                }
            }
        }
        // Not modelled: the version banner, and the shutdown summary.
        if level == "[NOTICE] " || (rest.starts_with("Proxy ") && rest.contains(" stopped (cumulated conns: ")) {
            return None;
        }
        let mut text = format!("{level}{rest}");
        text = text.replace(&format!("{tmp}/haproxy.cfg"), "CONF").replace(HAPROXY_CONF_PATH, "CONF");
        text = text.replace(tmp, "$TMP");
        Some(mask_ports(&text))
    }

    fn parse_access(&self, line: &str) -> Option<Access> {
        parse_httplog(line)
    }

    fn is_failed_attempt(&self, _l: &str) -> bool {
        false
    }

    fn log_name(&self) -> &'static str {
        "httplog"
    }

    fn stray_name(&self) -> &'static str {
        "log (no request)"
    }

    fn details_show_access(&self) -> bool {
        true
    }

    fn self_check_fields(&self) -> &'static [&'static str] {
        &["status", "body bytes", "httplog", "attempts"]
    }

    fn aggregate_key(&self, normalised: &str) -> Option<String> {
        let f: Vec<&str> = normalised.split(' ').collect();
        let rc = f.get(10)?.rsplit('/').next()?;
        Some(format!("{} {}{}", f.get(5)?, f.get(9)?, if rc == "0" { "" } else { " retried" }))
    }
}

// ---------------------------------------------------------------------------
// Apache httpd 2.4 (mod_proxy_http)

pub struct Apache {
    pub bin: PathBuf,
}

impl Apache {
    pub fn find() -> Option<Apache> {
        ["/usr/sbin/apache2"].iter().map(PathBuf::from).find(|p| p.exists()).map(|bin| Apache { bin })
    }

    /// The main config around the exported site (which is `Include`d
    /// unchanged): one child process (`ServerLimit 1`, so the pooled backend
    /// connections are the same for every request, as on a quiet server),
    /// the modules the site needs, every path in `dir`.
    pub fn main_conf(dir: &Path, site: &Path, listen: u16) -> String {
        let d = dir.display();
        let m = "/usr/lib/apache2/modules";
        let mut s = format!("ServerRoot {d}\nDefine APACHE_LOG_DIR {d}/logs\nListen 127.0.0.1:{listen}\nPidFile {d}/httpd.pid\nDefaultRuntimeDir {d}/run\nMutex file:{d}/run default\n");
        for (name, file) in [
            ("mpm_event_module", "mod_mpm_event.so"),
            ("authz_core_module", "mod_authz_core.so"),
            ("log_config_module", "mod_log_config.so"),
            ("proxy_module", "mod_proxy.so"),
            ("proxy_http_module", "mod_proxy_http.so"),
            ("proxy_balancer_module", "mod_proxy_balancer.so"),
            ("slotmem_shm_module", "mod_slotmem_shm.so"),
            ("lbmethod_byrequests_module", "mod_lbmethod_byrequests.so"),
        ] {
            if name == "log_config_module" && !Path::new(&format!("{m}/{file}")).exists() {
                continue; // built in
            }
            s.push_str(&format!("LoadModule {name} {m}/{file}\n"));
        }
        if sys::is_root() {
            s.push_str("User nobody\nGroup nogroup\n");
        }
        s.push_str(&format!("ServerName localhost\nErrorLog {d}/logs/main-error.log\nLogLevel warn\n"));
        s.push_str("LogFormat \"%h %l %u %t \\\"%r\\\" %>s %b \\\"%{Referer}i\\\" \\\"%{User-Agent}i\\\"\" combined\n");
        s.push_str("StartServers 1\nServerLimit 1\nThreadLimit 150\nThreadsPerChild 150\nMaxRequestWorkers 150\nMinSpareThreads 1\nMaxSpareThreads 150\n");
        s.push_str(&format!("Include {}\n", site.display()));
        s
    }
}

struct RunningApache {
    child: Child,
    dir: PathBuf,
    started: bool,
    stopped: bool,
}

impl Drop for RunningApache {
    fn drop(&mut self) {
        if !self.stopped {
            sys::signal(-(self.child.id() as i32), sys::SIGKILL);
            let _ = self.child.wait();
        }
    }
}

impl RunningProxy for RunningApache {
    fn stop(mut self: Box<Self>) -> RawLogs {
        let pgid = self.child.id() as i32;
        if matches!(self.child.try_wait(), Ok(None)) {
            sys::signal(pgid, sys::SIGTERM);
            let deadline = Instant::now() + Duration::from_secs(5);
            while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        sys::signal(-pgid, sys::SIGKILL);
        let _ = self.child.wait();
        self.stopped = true;
        RawLogs {
            error: lines(&self.dir.join("logs/error.log")),
            access: lines(&self.dir.join("logs/access.log")),
            stderr: lines(&self.dir.join("stderr.log")).into_iter().chain(lines(&self.dir.join("logs/main-error.log"))).collect(),
            started: self.started,
            forced_stop: None,
        }
    }
}

/// `[Sun Dec 06 07:00:42.551571 2026] [proxy:error] [pid 1:tid 2] rest` → (`[proxy:error]`, `2`, rest).
fn apache_parts(line: &str) -> Option<(&str, &str, &str)> {
    let rest = line.strip_prefix('[')?;
    let rest = &rest[rest.find("] [")? + 2..];
    let close = rest.find("] ")?;
    let module = &rest[..=close];
    let rest = &rest[close + 2..];
    let rest = rest.strip_prefix("[pid ")?;
    let close = rest.find("] ")?;
    let tid = rest[..close].split_once(":tid ").map(|(_, t)| t).unwrap_or("");
    Some((module, tid, &rest[close + 2..]))
}

impl ProxyUnderTest for Apache {
    fn column(&self) -> String {
        match self.version() {
            // `Server version: Apache/2.4.71 (Debian)`
            Ok(v) => v.split_whitespace().nth(2).map(|n| n.replace('/', " ").replace("Apache", "Apache httpd")).unwrap_or_else(|| "Apache httpd".into()),
            Err(_) => "Apache httpd".into(),
        }
    }

    fn engine_flavor(&self) -> Flavor {
        Flavor::Apache
    }

    fn version(&self) -> Result<String, String> {
        let out = Command::new(&self.bin).arg("-v").output().map_err(|e| format!("{}: {e}", self.bin.display()))?;
        let text = String::from_utf8_lossy(&out.stdout);
        let first = text.lines().next().unwrap_or("").trim().to_string();
        if first.is_empty() { Err("apache2 -v printed nothing".into()) } else { Ok(first) }
    }

    fn start(&self, effective: &Scenario, dir: &Path, _paths: &Paths) -> Result<Box<dyn RunningProxy>, String> {
        for d in ["logs", "run"] {
            std::fs::create_dir_all(dir.join(d)).map_err(|e| e.to_string())?;
        }
        if sys::is_root() {
            // The child (nobody) writes nothing here; the parent opens the logs as root.
            let _ = std::fs::set_permissions(dir.join("run"), std::os::unix::fs::PermissionsExt::from_mode(0o777));
        }
        let site = dir.join("gateway-lab.conf");
        std::fs::write(&site, gateway_core::sim::proxy::apache::conf::render(effective)).map_err(|e| e.to_string())?;
        let conf = dir.join("httpd.conf");
        std::fs::write(&conf, Self::main_conf(dir, &site, effective.proxy.listen)).map_err(|e| e.to_string())?;
        let stderr = File::create(dir.join("stderr.log")).map_err(|e| e.to_string())?;
        let mut cmd = Command::new(&self.bin);
        cmd.arg("-d").arg(dir).arg("-f").arg(&conf).arg("-DFOREGROUND").stdin(Stdio::null()).stdout(Stdio::null()).stderr(stderr).process_group(0);
        deny_connect_if_asked(&mut cmd, effective);
        let mut child = cmd.spawn().map_err(|e| format!("{}: {e}", self.bin.display()))?;
        let deadline = Instant::now() + Duration::from_secs(10);
        let started = loop {
            if let Ok(Some(_)) = child.try_wait() {
                break false;
            }
            if listening(effective.proxy.listen) {
                break true;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err("apache2 neither started listening nor exited within 10 s".into());
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        // The child process opens its listener after the parent: give it a moment.
        std::thread::sleep(Duration::from_millis(200));
        Ok(Box::new(RunningApache { child, dir: dir.to_path_buf(), started, stopped: false }))
    }

    fn request_of(&self, _line: &str) -> Option<String> {
        None
    }

    fn client_ports(&self, lines: &[String]) -> Option<Vec<Option<u16>>> {
        // A line without `[client …]` (AH00957, AH00959) belongs to the
        // request of the next line of the same thread that has one.
        let parsed: Vec<(Option<&str>, Option<u16>)> = lines
            .iter()
            .map(|l| match apache_parts(l) {
                Some((_, tid, rest)) => {
                    let port = rest.find("[client ").and_then(|i| {
                        let c = &rest[i + 8..];
                        let end = c.find(']')?;
                        c[..end].rsplit_once(':')?.1.parse().ok()
                    });
                    (Some(tid), port)
                }
                None => (None, None),
            })
            .collect();
        Some(
            (0..parsed.len())
                .map(|i| match parsed[i] {
                    (_, Some(p)) => Some(p),
                    (Some(tid), None) => parsed[i + 1..].iter().find(|(t, p)| *t == Some(tid) && p.is_some()).and_then(|(_, p)| *p),
                    _ => None,
                })
                .collect(),
        )
    }

    fn normalise_error(&self, line: &str, tmp: &str) -> Option<String> {
        let Some((module, _, rest)) = apache_parts(line) else {
            return Some(mask_ports(&line.replace(tmp, "$TMP")));
        };
        // Not modelled: start-up and shutdown notices (AH00489, AH00094,
        // AH00491, AH00492, AH00493), below the site's LogLevel.
        if module.ends_with(":notice]") || module.ends_with(":info]") || module.ends_with(":debug]") {
            return None;
        }
        let text = format!("{module} {rest}").replace(tmp, "$TMP");
        Some(mask_ports(&text))
    }

    fn parse_access(&self, line: &str) -> Option<Access> {
        // The combined format, as nginx's, but `%t` is when the request arrived.
        let t0 = line.find(" [")?;
        let t1 = line[t0..].find("] ")? + t0;
        let q0 = line[t1..].find('"')? + t1 + 1;
        let q1 = line[q0..].find('"')? + q0;
        Some(Access { request_line: line[q0..q1].to_string(), normalised: format!("{} [TIME]{}", &line[..t0], &line[t1 + 1..]), times: Vec::new(), failed_connects: 0 })
    }

    fn is_failed_attempt(&self, l: &str) -> bool {
        l.contains(" AH00957: ") || l.contains(" AH02454: ")
    }
}

// ---------------------------------------------------------------------------
// Caddy 2.6 (reverse_proxy)

pub struct Caddy {
    pub bin: PathBuf,
}

impl Caddy {
    pub fn find() -> Option<Caddy> {
        ["/usr/bin/caddy"].iter().map(PathBuf::from).find(|p| p.exists()).map(|bin| Caddy { bin })
    }
}

struct RunningCaddy {
    child: Child,
    dir: PathBuf,
    started: bool,
    stopped: bool,
}

impl Drop for RunningCaddy {
    fn drop(&mut self) {
        if !self.stopped {
            sys::signal(-(self.child.id() as i32), sys::SIGKILL);
            let _ = self.child.wait();
        }
    }
}

impl RunningProxy for RunningCaddy {
    fn stop(mut self: Box<Self>) -> RawLogs {
        let pgid = self.child.id() as i32;
        if matches!(self.child.try_wait(), Ok(None)) {
            sys::signal(pgid, sys::SIGTERM);
            let deadline = Instant::now() + Duration::from_secs(5);
            while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        sys::signal(-pgid, sys::SIGKILL);
        let _ = self.child.wait();
        self.stopped = true;
        // The default logger (stderr) carries the error logger's lines and
        // Caddy's own start/stop messages.
        let (error, stderr): (Vec<String>, Vec<String>) = lines(&self.dir.join("stderr.log")).into_iter().partition(|l| l.contains("\"logger\":\"http.log.error"));
        RawLogs { error, access: lines(&self.dir.join("access.log")), stderr, started: self.started, forced_stop: None }
    }
}

/// A Caddy JSON line's `request` object, without the client port; header
/// maps with their keys sorted (Go prints a map in random order).
fn caddy_request(v: &serde_json::Value) -> String {
    let r = &v["request"];
    let mut headers: Vec<(String, String)> = r["headers"].as_object().map(|m| m.iter().map(|(k, v)| (k.clone(), v.to_string())).collect()).unwrap_or_default();
    headers.sort();
    format!(
        "{} {} {} {} host={} headers={}",
        r["remote_ip"].as_str().unwrap_or(""),
        r["proto"].as_str().unwrap_or(""),
        r["method"].as_str().unwrap_or(""),
        r["uri"].as_str().unwrap_or(""),
        r["host"].as_str().unwrap_or("").split(':').next().unwrap_or(""),
        headers.iter().map(|(k, v)| format!("{k}:{v}")).collect::<Vec<_>>().join(",")
    )
}

impl ProxyUnderTest for Caddy {
    fn column(&self) -> String {
        match self.version() {
            Ok(v) => format!("Caddy {}", v.rsplit(' ').next().unwrap_or("").trim_start_matches('v')),
            Err(_) => "Caddy".into(),
        }
    }

    fn engine_flavor(&self) -> Flavor {
        Flavor::Caddy
    }

    fn version(&self) -> Result<String, String> {
        let out = Command::new(&self.bin).arg("version").output().map_err(|e| format!("{}: {e}", self.bin.display()))?;
        // `caddy version` prints the bare version (`2.6.2`).
        let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if text.is_empty() { Err("caddy version printed nothing".into()) } else { Ok(format!("Caddy version {text}")) }
    }

    fn start(&self, effective: &Scenario, dir: &Path, _paths: &Paths) -> Result<Box<dyn RunningProxy>, String> {
        let conf = dir.join("Caddyfile");
        let access = dir.join("access.log");
        std::fs::write(&conf, gateway_core::sim::proxy::caddy::conf::render_with(effective, &access.display().to_string())).map_err(|e| e.to_string())?;
        let stderr = File::create(dir.join("stderr.log")).map_err(|e| e.to_string())?;
        let mut cmd = Command::new(&self.bin);
        if sys::is_root() {
            // As the caddy user would: not root (a root-owned 0600 socket is refused).
            let (uid, gid) = nobody().ok_or("no user nobody in /etc/passwd")?;
            for d in [dir.to_path_buf(), dir.join("data"), dir.join("config")] {
                let _ = std::fs::create_dir_all(&d);
                let _ = std::fs::set_permissions(&d, std::os::unix::fs::PermissionsExt::from_mode(0o777));
            }
            cmd.uid(uid).gid(gid);
        }
        cmd.arg("run").arg("--config").arg(&conf).arg("--adapter").arg("caddyfile")
            .env("HOME", dir).env("XDG_DATA_HOME", dir.join("data")).env("XDG_CONFIG_HOME", dir.join("config"))
            .stdin(Stdio::null()).stdout(Stdio::null()).stderr(stderr).process_group(0);
        deny_connect_if_asked(&mut cmd, effective);
        let mut child = cmd.spawn().map_err(|e| format!("{}: {e}", self.bin.display()))?;
        let deadline = Instant::now() + Duration::from_secs(10);
        let started = loop {
            if let Ok(Some(_)) = child.try_wait() {
                break false;
            }
            if listening(effective.proxy.listen) {
                break true;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err("caddy neither started listening nor exited within 10 s".into());
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        Ok(Box::new(RunningCaddy { child, dir: dir.to_path_buf(), started, stopped: false }))
    }

    fn request_of(&self, line: &str) -> Option<String> {
        let v: serde_json::Value = serde_json::from_str(line).ok()?;
        let r = &v["request"];
        Some(format!("{} {} {}", r["method"].as_str()?, r["uri"].as_str()?, r["proto"].as_str()?))
    }

    fn normalise_error(&self, line: &str, tmp: &str) -> Option<String> {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            return Some(mask_ports(&line.replace(tmp, "$TMP")));
        };
        let logger = v["logger"].as_str().unwrap_or("");
        // Not modelled: Caddy's own start-up and shutdown messages.
        if !logger.starts_with("http.log.error") {
            return None;
        }
        let text = format!(
            "[{}] {} {} ({}) {} {}",
            v["level"].as_str().unwrap_or(""),
            logger,
            v["msg"].as_str().unwrap_or(""),
            v["status"],
            caddy_request(&v),
            v["err_trace"].as_str().unwrap_or("")
        );
        // The resolver is the host's (/etc/resolv.conf), not the scenario's.
        let text = match (text.find(" on "), text.find(": no such host")) {
            (Some(a), Some(b)) if text.contains("lookup ") && a < b => format!("{} on RESOLVER{}", &text[..a], &text[b..]),
            _ => text,
        };
        Some(mask_ports(&text.replace(tmp, "$TMP")))
    }

    fn parse_access(&self, line: &str) -> Option<Access> {
        let v: serde_json::Value = serde_json::from_str(line).ok()?;
        let request_line = self.request_of(line)?;
        let mut resp: Vec<(String, String)> = v["resp_headers"].as_object().map(|m| m.iter().filter(|(k, _)| k.as_str() != "Date").map(|(k, v)| (k.clone(), v.to_string())).collect()).unwrap_or_default();
        resp.sort();
        let normalised = format!(
            "[{}] {} {} {} size={} status={} user_id={} resp_headers={}",
            v["level"].as_str().unwrap_or(""),
            v["logger"].as_str().unwrap_or(""),
            v["msg"].as_str().unwrap_or(""),
            caddy_request(&v),
            v["size"],
            v["status"],
            v["user_id"],
            resp.iter().map(|(k, v)| format!("{k}:{v}")).collect::<Vec<_>>().join(",")
        );
        let ms = v["duration"].as_f64().map(|d| (d * 1_000.0).round() as i64);
        Some(Access { request_line, normalised, times: ms.map(|m| vec![("duration".to_string(), m)]).unwrap_or_default(), failed_connects: 0 })
    }

    fn is_failed_attempt(&self, l: &str) -> bool {
        l.contains(" dial ") && (l.contains("connect: ") || l.contains("i/o timeout"))
    }
}

// ---------------------------------------------------------------------------
// Varnish 7.1

pub struct Varnish {
    pub bin: PathBuf,
}

impl Varnish {
    pub fn find() -> Option<Varnish> {
        // varnishd runs as root here (it drops to its own users); not otherwise.
        if !sys::is_root() {
            return None;
        }
        ["/usr/sbin/varnishd"].iter().map(PathBuf::from).find(|p| p.exists()).map(|bin| Varnish { bin })
    }
}

struct RunningVarnish {
    child: Child,
    loggers: Vec<Child>,
    dir: PathBuf,
    started: bool,
    stopped: bool,
}

impl Drop for RunningVarnish {
    fn drop(&mut self) {
        if !self.stopped {
            for c in &mut self.loggers {
                let _ = c.kill();
                let _ = c.wait();
            }
            sys::signal(-(self.child.id() as i32), sys::SIGKILL);
            let _ = self.child.wait();
        }
    }
}

impl RunningProxy for RunningVarnish {
    fn stop(mut self: Box<Self>) -> RawLogs {
        // varnishlog and varnishncsa write a transaction when it ends: let them catch up.
        std::thread::sleep(Duration::from_millis(1_500));
        for c in &mut self.loggers {
            sys::signal(c.id() as i32, sys::SIGTERM);
        }
        for c in &mut self.loggers {
            let deadline = Instant::now() + Duration::from_secs(3);
            while matches!(c.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
        let pgid = self.child.id() as i32;
        sys::signal(pgid, sys::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(5);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        sys::signal(-pgid, sys::SIGKILL);
        let _ = self.child.wait();
        self.stopped = true;
        // varnishlog -g request: keep each backend transaction's records,
        // prefixed with the request they belong to (its BereqURL).
        let mut error = Vec::new();
        let mut group: Vec<String> = Vec::new();
        let mut url: Option<String> = None;
        let mut method = "GET".to_string();
        let flush = |group: &mut Vec<String>, url: &Option<String>, method: &str, error: &mut Vec<String>| {
            if let Some(u) = url {
                for l in group.drain(..) {
                    error.push(format!("{method} {u} HTTP/1.1\t{l}"));
                }
            }
            group.clear();
        };
        for l in lines(&self.dir.join("varnishlog.log")) {
            if l.starts_with("**  << BeReq") {
                flush(&mut group, &url, &method, &mut error);
                url = None;
                group.push(l.trim_end().to_string());
            } else if l.starts_with("--  ") && !group.is_empty() {
                if let Some(u) = l.strip_prefix("--  BereqURL") {
                    url = Some(u.trim().to_string());
                }
                if let Some(m) = l.strip_prefix("--  BereqMethod") {
                    method = m.trim().to_string();
                }
                group.push(l.trim_end().to_string());
            } else if l.starts_with('*') || l.starts_with("-   ") {
                flush(&mut group, &url, &method, &mut error);
                url = None;
            }
        }
        flush(&mut group, &url, &method, &mut error);
        RawLogs { error, access: lines(&self.dir.join("access.log")), stderr: lines(&self.dir.join("stderr.log")).into_iter().filter(|l| !l.trim().is_empty()).collect(), started: self.started, forced_stop: None }
    }
}

impl ProxyUnderTest for Varnish {
    fn column(&self) -> String {
        match self.version() {
            // `varnishd (varnish-7.1.1 revision …)`
            Ok(v) => v.split("varnish-").nth(1).and_then(|r| r.split_whitespace().next()).map(|n| format!("Varnish {n}")).unwrap_or_else(|| "Varnish".into()),
            Err(_) => "Varnish".into(),
        }
    }

    fn engine_flavor(&self) -> Flavor {
        Flavor::Varnish
    }

    fn version(&self) -> Result<String, String> {
        let out = Command::new(&self.bin).arg("-V").output().map_err(|e| format!("{}: {e}", self.bin.display()))?;
        let text = String::from_utf8_lossy(&out.stderr).lines().next().unwrap_or("").trim().to_string();
        if text.is_empty() { Err("varnishd -V printed nothing".into()) } else { Ok(text) }
    }

    fn start(&self, effective: &Scenario, dir: &Path, _paths: &Paths) -> Result<Box<dyn RunningProxy>, String> {
        let vcl = dir.join("default.vcl");
        std::fs::write(&vcl, gateway_core::sim::proxy::varnish::conf::render(effective)).map_err(|e| e.to_string())?;
        let n = dir.join("n");
        let stderr = File::create(dir.join("stderr.log")).map_err(|e| e.to_string())?;
        let mut cmd = Command::new(&self.bin);
        cmd.arg("-F").arg("-n").arg(&n).arg("-a").arg(format!("127.0.0.1:{}", effective.proxy.listen)).arg("-f").arg(&vcl).arg("-s").arg("malloc,32m")
            .stdin(Stdio::null()).stdout(Stdio::null()).stderr(stderr).process_group(0);
        deny_connect_if_asked(&mut cmd, effective);
        let mut child = cmd.spawn().map_err(|e| format!("{}: {e}", self.bin.display()))?;
        let deadline = Instant::now() + Duration::from_secs(15);
        let started = loop {
            if let Ok(Some(_)) = child.try_wait() {
                break false; // the VCL did not compile: stderr says why
            }
            if listening(effective.proxy.listen) {
                break true;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err("varnishd neither started listening nor exited within 15 s".into());
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let mut loggers = Vec::new();
        if started {
            for (tool, file, args) in [("varnishlog", "varnishlog.log", vec!["-g", "request"]), ("varnishncsa", "access.log", vec![])] {
                let out = File::create(dir.join(file)).map_err(|e| e.to_string())?;
                let c = Command::new("stdbuf").arg("-oL").arg(tool).arg("-n").arg(&n).args(&args).stdin(Stdio::null()).stdout(out).stderr(Stdio::null()).spawn().map_err(|e| format!("{tool}: {e}"))?;
                loggers.push(c);
            }
            std::thread::sleep(Duration::from_millis(800));
        }
        Ok(Box::new(RunningVarnish { child, loggers, dir: dir.to_path_buf(), started, stopped: false }))
    }

    fn request_of(&self, line: &str) -> Option<String> {
        line.split_once('\t').map(|(r, _)| r.to_string())
    }

    fn client_ports(&self, lines: &[String]) -> Option<Vec<Option<u16>>> {
        // Lines name their request themselves (`request_of`); the engine's
        // lines of no request are those no exchange wrote.
        Some(vec![None; lines.len()])
    }

    fn normalise_error(&self, line: &str, tmp: &str) -> Option<String> {
        let rec = line.split_once('\t').map(|(_, l)| l).unwrap_or(line);
        let Some(rest) = rec.strip_prefix("--  ") else {
            // varnishd's stderr: VCC's message; its start-up chatter is not modelled.
            let keep = ["Message from VCC-compiler:", "could not be resolved", "VCL compilation failed", "Running VCC-compiler failed"];
            return keep.iter().any(|k| rec.contains(k)).then(|| rec.replace(tmp, "$TMP").trim().to_string());
        };
        let (tag, value) = rest.split_once(' ').map(|(t, v)| (t, v.trim())).unwrap_or((rest, ""));
        match tag {
            "FetchError" | "BerespStatus" | "BerespReason" => Some(format!("{tag} {value}")),
            // `22 default 127.0.0.1 3000 127.0.0.1 51066 connect`: fd and ports masked.
            "BackendOpen" => {
                let f: Vec<&str> = value.split(' ').collect();
                // Whether a connection was reused is compared through the attempts.
                Some(format!("BackendOpen FD {} {} PORT {} PORT", f.get(1)?, f.get(2)?, f.get(4)?))
            }
            "BackendClose" => {
                let (_, rest) = value.split_once(' ')?;
                Some(format!("BackendClose FD {rest}"))
            }
            _ => None,
        }
    }

    fn parse_access(&self, line: &str) -> Option<Access> {
        let t0 = line.find(" [")?;
        let t1 = line[t0..].find("] ")? + t0;
        let q0 = line[t1..].find('"')? + t1 + 1;
        let q1 = line[q0..].find('"')? + q0;
        // `GET http://localhost/users?r=1 HTTP/1.1` → `GET /users?r=1 HTTP/1.1`.
        let req = &line[q0..q1];
        let mut parts = req.splitn(3, ' ');
        let (m, url, proto) = (parts.next()?, parts.next()?, parts.next()?);
        let path = url.strip_prefix("http://").and_then(|u| u.find('/').map(|i| &u[i..])).unwrap_or(url);
        Some(Access { request_line: format!("{m} {path} {proto}"), normalised: mask_ports(&format!("{} [TIME]{}", &line[..t0], &line[t1 + 1..])), times: Vec::new(), failed_connects: 0 })
    }

    fn is_failed_attempt(&self, l: &str) -> bool {
        l.starts_with("FetchError backend ") && !l.contains("fail errno 0 ")
    }

    fn log_name(&self) -> &'static str {
        "varnishncsa"
    }

    fn stray_name(&self) -> &'static str {
        "varnishlog/stderr (no request)"
    }

    fn self_check_fields(&self) -> &'static [&'static str] {
        &["status", "body bytes", "varnishncsa", "error.log"]
    }
}

/// The proxies the harness compares, one report column each.
pub fn flavors() -> Vec<Box<dyn ProxyUnderTest>> {
    let mut v: Vec<Box<dyn ProxyUnderTest>> = Vec::new();
    if let Some(n) = Nginx::find() {
        v.push(Box::new(n));
    }
    if let Some(h) = Haproxy::find() {
        v.push(Box::new(h));
    }
    if let Some(a) = Apache::find() {
        v.push(Box::new(a));
    }
    if let Some(c) = Caddy::find() {
        v.push(Box::new(c));
    }
    if let Some(x) = Varnish::find() {
        v.push(Box::new(x));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_masked_but_not_line_numbers_or_errnos() {
        assert_eq!(mask_ports("upstream: \"http://127.0.0.1:39123/users?r=1\""), "upstream: \"http://127.0.0.1:PORT/users?r=1\"");
        assert_eq!(mask_ports("host not found in upstream \"app.internal:4000\" in CONF:2"), "host not found in upstream \"app.internal:PORT\" in CONF:2");
        assert_eq!(mask_ports("connect() failed (111: Connection refused)"), "connect() failed (111: Connection refused)");
    }

    #[test]
    fn engine_and_real_lines_normalise_alike() {
        let n = Nginx { bin: PathBuf::from("/usr/sbin/nginx") };
        let engine = "2026/11/21 04:43:44 [error] 4453#4453: *1 connect() failed (111: Connection refused) while connecting to upstream, client: 127.0.0.1, server: localhost, request: \"GET /users?r=1 HTTP/1.1\", upstream: \"http://127.0.0.1:3000/users?r=1\", host: \"localhost\"";
        let real = "2026/11/21 05:20:15 [error] 9378#9378: *7 connect() failed (111: Connection refused) while connecting to upstream, client: 127.0.0.1, server: localhost, request: \"GET /users?r=1 HTTP/1.1\", upstream: \"http://127.0.0.1:41234/users?r=1\", host: \"localhost\"";
        assert_eq!(n.normalise_error(engine, "/tmp/x"), n.normalise_error(real, "/tmp/x"));
        assert_eq!(n.request_of(real).as_deref(), Some("GET /users?r=1 HTTP/1.1"));
        let emerg = "2026/11/21 04:43:44 [emerg] 4452#4452: host not found in upstream \"app.internal:3000\" in /etc/nginx/conf.d/gateway-lab.conf:2";
        assert_eq!(n.normalise_error(emerg, "/tmp/x").unwrap(), "[emerg] host not found in upstream \"app.internal:PORT\" in CONF:2");
        assert_eq!(n.normalise_error("2026/11/21 05:20:15 [info] 9378#9378: *1 client 127.0.0.1 closed keepalive connection", "/tmp/x"), None);
        let a = n.parse_access("127.0.0.1 - - [21/Nov/2026:04:43:44 +0000] \"GET /users?r=1 HTTP/1.1\" 502 157 \"-\" \"curl/8.5.0\"").unwrap();
        assert_eq!(a.request_line, "GET /users?r=1 HTTP/1.1");
        assert_eq!(a.normalised, "127.0.0.1 - - [TIME] \"GET /users?r=1 HTTP/1.1\" 502 157 \"-\" \"curl/8.5.0\"");
    }

    #[test]
    fn httplog_lines_normalise_alike() {
        let h = Haproxy { bin: PathBuf::from("/usr/sbin/haproxy") };
        let engine = "127.0.0.1:40001 [21/Nov/2026:04:43:44.000] fe_main be_app/app1 0/0/-1/-1/1500 503 217 - - SC-- 1/1/0/0/3 0/0 \"GET /users?r=1 HTTP/1.1\"";
        let real = "127.0.0.1:60662 [21/Nov/2026:06:07:59.934] fe_main be_app/app1 0/0/-1/-1/1503 503 217 - - SC-- 2/2/0/0/3 0/0 \"GET /users?r=1 HTTP/1.1\"";
        let (e, r) = (h.parse_access(engine).unwrap(), h.parse_access(real).unwrap());
        assert_eq!(e.normalised, r.normalised);
        assert_eq!(e.normalised, "127.0.0.1:PORT [TIME] fe_main be_app/app1 0/0/-1/-1/Ta 503 217 - - SC-- */*/*/*/3 0/0 \"GET /users?r=1 HTTP/1.1\"");
        assert_eq!((r.times.clone(), r.failed_connects, r.request_line.as_str()), (vec![("Ta".to_string(), 1503)], 4, "GET /users?r=1 HTTP/1.1"));
        let ph = h.parse_access("127.0.0.1:54528 [21/Nov/2026:06:09:31.135] fe be_app/app1 0/0/0/-1/0 502 209 - - PH-- 1/1/0/0/0 0/0 \"GET /garbage HTTP/1.1\"").unwrap();
        assert!(ph.normalised.contains(" 0/0/Tc/-1/Ta 502 209 - - PH-- */*/*/*/0 "), "{}", ph.normalised);
        assert_eq!(ph.failed_connects, 0);
        let redispatched = h.parse_access("127.0.0.1:50024 [21/Nov/2026:06:08:11.647] fe be_app/app2 0/1/1/1/3 200 87 - - ---- 1/1/0/0/+1 0/0 \"GET / HTTP/1.1\"").unwrap();
        assert_eq!(redispatched.failed_connects, 1);
        let denied = h.parse_access("127.0.0.1:57214 [21/Nov/2026:06:13:24.271] fe fe/<NOSRV> 0/-1/-1/-1/0 429 225 - - PR-- 1/1/0/0/0 0/0 \"GET /r2 HTTP/1.1\"").unwrap();
        assert_eq!(denied.failed_connects, 0);
        assert_eq!(h.aggregate_key(&e.normalised).as_deref(), Some("503 SC-- retried"));
        assert_eq!(h.aggregate_key(&denied.normalised).as_deref(), Some("429 PR--"));
        assert!(h.parse_access("Proxy fe_main stopped (cumulated conns: FE: 3, BE: 0).").is_none());
        let alert = "[ALERT]    (12281) : config : [/tmp/x/haproxy.cfg:18] : 'server be_app/app1' : could not resolve address 'app.internal'.";
        let engine = "[ALERT]    (4453) : config : [/etc/haproxy/haproxy.cfg:18] : 'server be_app/app1' : could not resolve address 'app.internal'.";
        assert_eq!(h.normalise_error(alert, "/tmp/x"), h.normalise_error(engine, "/tmp/x"));
        assert_eq!(h.normalise_error(alert, "/tmp/x").unwrap(), "[ALERT] config : [CONF:18] : 'server be_app/app1' : could not resolve address 'app.internal'.");
        assert_eq!(h.normalise_error("[NOTICE]   (12281) : haproxy version is 2.6.12-1+deb12u4", "/tmp/x"), None);
        assert_eq!(h.normalise_error("[WARNING]  (4614) : Proxy GLOBAL stopped (cumulated conns: FE: 0, BE: 0).", "/tmp/x"), None);
        assert_eq!(h.normalise_error("Proxy be_app stopped (cumulated conns: FE: 0, BE: 3).", "/tmp/x"), None);
        assert_eq!(h.normalise_error("backend be_app has no server available!", "/tmp/x").unwrap(), "backend be_app has no server available!");
    }
}

#[cfg(test)]
mod upstream_times_tests {
    use super::upstream_times;

    #[test]
    fn the_times_of_an_upstreaminfo_line_are_taken_out() {
        let l = "127.0.0.1 - - [TIME] \"GET /b HTTP/1.1\" 504 167 \"-\" \"curl/8.5.0\" 79 3.010 127.0.0.1:1, 127.0.0.1:2 0, 0 1.004, 1.001 504, 504";
        let (n, t) = upstream_times(l);
        assert_eq!(n, "127.0.0.1 - - [TIME] \"GET /b HTTP/1.1\" 504 167 \"-\" \"curl/8.5.0\" 79 T 127.0.0.1:1, 127.0.0.1:2 0, 0 T, T 504, 504");
        assert_eq!(t, [("request_time".to_string(), 3010), ("upstream_response_time[0]".to_string(), 1004), ("upstream_response_time[1]".to_string(), 1001)]);
        let dash = "127.0.0.1 - - [TIME] \"POST /g HTTP/1.1\" 413 183 \"-\" \"curl/8.5.0\" 149 0.001 - - - -";
        assert_eq!(upstream_times(dash).0, "127.0.0.1 - - [TIME] \"POST /g HTTP/1.1\" 413 183 \"-\" \"curl/8.5.0\" 149 T - - - -");
        let combined = "127.0.0.1 - - [TIME] \"GET / HTTP/1.1\" 200 48 \"-\" \"curl/8.5.0\"";
        assert_eq!(upstream_times(combined), (combined.to_string(), Vec::new()));
        let groups = "x \"y\" 79 0.000 a:1, a:2 : b:1 0, 0 : 0 0.000, 0.000 : 0.001 502, 502 : 200";
        assert_eq!(upstream_times(groups).0, "x \"y\" 79 T a:1, a:2 : b:1 0, 0 : 0 T, T : T 502, 502 : 200");
    }
}
