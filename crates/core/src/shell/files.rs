//! The files the lab models on web1 and the tools that read them: `cat`,
//! `tail`, `head` and `ls`. nginx's logs (`/var/log/nginx/error.log`,
//! `access.log`) are the engine's logs; the proxy's configuration
//! (`/etc/nginx/conf.d/gateway-lab.conf` or `/etc/haproxy/haproxy.cfg`) is
//! rendered from the effective scenario; each app that listens on a unix
//! socket has its socket file. With the HAProxy flavor nginx is not
//! installed (HAProxy logs to the journal: `journalctl -u haproxy`). Paths
//! elsewhere are not modelled, and the tools say so rather than invent.

use std::borrow::Cow;
use crate::sim::proxy::{apache, caddy, haproxy, nginx, varnish};
use crate::sim::scenario::Flavor;
use crate::sim::time::SimTime;
use crate::sim::world::World;

use super::host::{self, socket_files};
use super::{Ctx, Res};

/// What the tools say of a path the lab does not model: what it does model
/// on this host (only the proxy the scenario runs is installed).
pub(super) fn not_modelled(ctx: &Ctx<'_>) -> &'static str {
    match ctx.sim.world().scenario.proxy.flavor {
        Flavor::Nginx => "not modelled in this lab (it models /var/log/nginx, /etc/nginx/conf.d and the apps' sockets)",
        Flavor::Haproxy => "not modelled in this lab (it models /etc/haproxy and the apps' sockets; HAProxy logs to journalctl -u haproxy)",
        Flavor::Apache => "not modelled in this lab (it models /var/log/apache2, /etc/apache2/sites-available and the apps' sockets)",
        Flavor::Varnish => "not modelled in this lab (it models /etc/varnish/default.vcl and the apps' sockets; Varnish logs to shared memory: varnishlog, varnishncsa)",
        Flavor::Caddy => "not modelled in this lab (it models /etc/caddy, /var/log/caddy/access.log and the apps' sockets; Caddy's errors go to journalctl -u caddy)",
        Flavor::Envoy => "not modelled in this lab (it models /etc/envoy/envoy.yaml, /var/log/envoy/access.log, the admin interface on localhost:9901 and the apps' sockets)",
        Flavor::Alb => "not modelled in this lab (the load balancer is an AWS service: its access log is /var/log/alb/access.log, copied from S3, and its settings /root/alb.sh)",
    }
}

const LOG_DIR: &str = "/var/log/nginx";
const ERROR_LOG: &str = "/var/log/nginx/error.log";
const ACCESS_LOG: &str = "/var/log/nginx/access.log";
const HAPROXY_CFG: &str = "/etc/haproxy/haproxy.cfg";

/// What opening a path finds.
pub(super) enum Input {
    Text(String),
    Directory,
    Socket,
    Missing,
    NotModelled,
}

/// `error.log` and `access.log` stand for the proxy's logs (as from
/// /var/log/nginx or /var/log/apache2); other relative names are taken from `/`.
fn normalize(path: &str) -> String {
    normalize_in(path, LOG_DIR)
}

fn normalize_in(path: &str, log_dir: &str) -> String {
    let p = match path {
        "error.log" | "access.log" => format!("{log_dir}/{path}"),
        p if p.starts_with('/') => p.to_string(),
        p => format!("/root/{p}"),
    };
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    format!("/{}", parts.join("/"))
}

/// The proxy's log directory, error log and access log, if it writes files.
fn log_files(w: &World) -> Option<(&'static str, &'static str, &'static str)> {
    match w.scenario.proxy.flavor {
        Flavor::Nginx => Some((LOG_DIR, ERROR_LOG, ACCESS_LOG)),
        Flavor::Apache => Some(("/var/log/apache2", apache::ERROR_LOG, apache::ACCESS_LOG)),
        // Caddy's errors go to the journal; only the access log is a file.
        Flavor::Caddy => Some(("/var/log/caddy", "", caddy::ACCESS_LOG)),
        Flavor::Envoy => Some(("/var/log/envoy", "", crate::sim::proxy::envoy::ACCESS_LOG)),
        Flavor::Alb => Some(("/var/log/alb", "", crate::sim::proxy::alb::conf::LOG_COPY)),
        Flavor::Haproxy | Flavor::Varnish => None,
    }
}

/// The proxy's configuration directory.
fn conf_root(w: &World) -> &'static str {
    match w.scenario.proxy.flavor {
        Flavor::Nginx => "/etc/nginx",
        Flavor::Haproxy => "/etc/haproxy",
        Flavor::Apache => "/etc/apache2",
        Flavor::Caddy => "/etc/caddy",
        Flavor::Varnish => "/etc/varnish",
        Flavor::Envoy => "/etc/envoy",
        Flavor::Alb => "/root",
    }
}

fn log_text(lines: &crate::sim::log::LogBuffer) -> String {
    let mut s = String::new();
    for l in lines.lines() {
        s.push_str(l);
        s.push('\n');
    }
    s
}

fn config_path(w: &World) -> &'static str {
    match w.scenario.proxy.flavor {
        Flavor::Nginx => nginx::CONF_PATH,
        Flavor::Haproxy => HAPROXY_CFG,
        Flavor::Apache => apache::conf::SITE_PATH,
        Flavor::Caddy => caddy::conf::PATH,
        Flavor::Varnish => varnish::conf::PATH,
        Flavor::Envoy => crate::sim::proxy::envoy::conf::PATH,
        Flavor::Alb => crate::sim::proxy::alb::conf::PATH,
    }
}

fn config_text(w: &World) -> String {
    match w.scenario.proxy.flavor {
        Flavor::Nginx => nginx::conf::render(&w.scenario, &nginx::conf::Paths::default()).text,
        Flavor::Haproxy => haproxy::conf::render(&w.scenario).text,
        Flavor::Apache => apache::conf::render(&w.scenario),
        Flavor::Caddy => caddy::conf::render(&w.scenario),
        Flavor::Varnish => varnish::conf::render(&w.scenario),
        Flavor::Envoy => crate::sim::proxy::envoy::conf::render(&w.scenario),
        Flavor::Alb => crate::sim::proxy::alb::conf::render(&w.scenario),
    }
}

/// Directories the lab knows the full content of.
fn known_dir(w: &World, path: &str) -> Option<Vec<Entry>> {
    let conf_dir = config_path(w).rsplit_once('/').map(|(d, _)| d.to_string()).unwrap_or_default();
    if let Some((dir, error, access)) = log_files(w).filter(|(dir, ..)| path == *dir) {
        let _ = dir;
        return Some([access, error].iter().filter(|f| !f.is_empty()).filter_map(|f| entry(w, f)).collect());
    }
    if path == conf_dir {
        return entry(w, config_path(w)).map(|e| vec![e]);
    }
    let socks: Vec<Entry> = socket_files(w)
        .into_iter()
        .filter(|s| s.path.rsplit_once('/').map(|(d, _)| d) == Some(path))
        .filter_map(|s| entry(w, &s.path))
        .collect();
    // Each app's /run/<name> exists (it is bind-mounted into its container),
    // with or without a socket in it.
    let app_dir = w.scenario.apps.iter().any(|a| format!("/run/{}", a.name) == path);
    if !socks.is_empty() || app_dir {
        return Some(socks);
    }
    None
}

/// Paths under which the lab knows every file (so a missing one is missing).
fn known_root(w: &World, path: &str) -> bool {
    let mut roots: Vec<String> = vec!["/etc/varnish".into(), "/etc/haproxy".into(), "/etc/nginx".into(), "/etc/apache2".into(), "/etc/caddy".into(), LOG_DIR.into(), "/var/log/apache2".into(), "/var/log/caddy".into(), "/run".into()];
    roots.extend(socket_files(w).iter().filter_map(|s| s.path.rsplit_once('/').map(|(d, _)| d.to_string())));
    roots.iter().any(|r| path == r || path.starts_with(&format!("{r}/")))
}

pub(super) fn read(ctx: &Ctx<'_>, path: &str) -> Input {
    read_world(ctx.sim.world(), path)
}

fn read_world(w: &World, path: &str) -> Input {
    let logs = log_files(w);
    let path = normalize_in(path, logs.map(|l| l.0).unwrap_or(LOG_DIR));
    match (path.as_str(), logs) {
        (p, Some((_, error, _))) if p == error => return Input::Text(log_text(&w.error_log)),
        (p, Some((_, _, access))) if p == access => return Input::Text(log_text(&w.access_log)),
        (p, _) if p == config_path(w) => return Input::Text(config_text(w)),
        _ => {}
    }
    if socket_files(w).iter().any(|s| s.path == path) {
        return Input::Socket;
    }
    let root = conf_root(w);
    let conf_dirs = ["/etc/nginx/conf.d", "/etc/apache2/sites-available"];
    if known_dir(w, &path).is_some() || path == root || conf_dirs.iter().any(|d| path == *d && d.starts_with(root)) {
        return Input::Directory;
    }
    if known_root(w, &path) {
        // /etc/nginx/nginx.conf and friends exist on a real host but are not
        // rendered here; under the proxy's own directory, say so.
        if path.starts_with(root) || path == "/run" {
            return Input::NotModelled;
        }
        return Input::Missing;
    }
    Input::NotModelled
}

/// One line of `ls -l`.
struct Entry {
    mode: Cow<'static, str>,
    links: u32,
    owner: Cow<'static, str>,
    group: Cow<'static, str>,
    size: u64,
    /// 1 KiB blocks in use (ls's `total`).
    blocks: u64,
    mtime: String,
    name: String,
}

/// The metadata of a file the lab models.
fn entry(w: &World, path: &str) -> Option<Entry> {
    let p = host::proxy(w);
    let start = w.clock.ls(p.since);
    let name = path.to_string();
    let apache = w.scenario.proxy.flavor == Flavor::Apache;
    if let Some((_, error, access)) = log_files(w).filter(|(_, e, a)| (path == *e && !e.is_empty()) || path == *a) {
        let (buf, last) = if path == error {
            let mtime = if apache { apache_error_mtime } else { error_log_mtime };
            (&w.error_log, w.error_log.lines().last().and_then(|l| mtime(l)))
        } else {
            let _ = access;
            (&w.access_log, w.access_log.lines().last().and_then(|l| access_log_mtime(l)))
        };
        return Some(Entry {
            mode: "-rw-r-----".into(),
            links: 1,
            owner: (if apache { "root" } else if w.scenario.proxy.flavor == Flavor::Caddy { "caddy" } else { "www-data" }).into(),
            group: "adm".into(),
            size: buf.lines().map(|l| l.len() as u64 + 1).sum(),
            blocks: buf.lines().map(|l| l.len() as u64 + 1).sum::<u64>().div_ceil(4096) * 4,
            mtime: last.unwrap_or(start),
            name,
        });
    }
    if path == config_path(w) {
        return Some(Entry {
            mode: "-rw-r--r--".into(),
            links: 1,
            owner: "root".into(),
            group: "root".into(),
            size: config_text(w).len() as u64,
            blocks: 4,
            mtime: w.clock.ls(SimTime::ZERO),
            name,
        });
    }
    let s = socket_files(w).into_iter().find(|s| s.path == path)?;
    if let Some(cfg) = w.scenario.apps.get(s.app).filter(|c| c.server == crate::sim::server::ServerKind::PhpFpm && !s.private) {
        // PHP-FPM's master creates it with listen.owner, listen.group, listen.mode.
        let f = &cfg.php_fpm;
        return Some(Entry {
            mode: f.mode_string().into(),
            links: 1,
            owner: f.listen_owner.clone().into(),
            group: f.listen_group.clone().into(),
            size: 0,
            blocks: 0,
            mtime: w.clock.ls(s.created),
            name,
        });
    }
    Some(Entry {
        mode: if s.private { "srw-------" } else { "srw-rw----" }.into(),
        links: 1,
        owner: "app".into(),
        group: if s.private { "app" } else { host::User::proxy(w.scenario.proxy.flavor).name() }.into(),
        size: 0,
        blocks: 0,
        mtime: w.clock.ls(s.created),
        name,
    })
}

const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// `2026/11/21 04:43:44 [error] ...` → `Nov 21 04:43`.
fn error_log_mtime(line: &str) -> Option<String> {
    let (date, rest) = line.split_once(' ')?;
    let mut d = date.split('/');
    let (_, m, day) = (d.next()?, d.next()?, d.next()?);
    let month = MONTHS.get(m.parse::<usize>().ok()?.checked_sub(1)?)?;
    let hm = rest.get(..5)?;
    Some(format!("{month} {:>2} {hm}", day.trim_start_matches('0')))
}

/// `[Sun Dec 06 07:00:42.551571 2026] ...` → `Dec  6 07:00`.
fn apache_error_mtime(line: &str) -> Option<String> {
    let inside = line.strip_prefix('[')?;
    let mut f = inside.split(' ');
    let (_, month, day, time) = (f.next()?, f.next()?, f.next()?, f.next()?);
    Some(format!("{month} {:>2} {}", day.trim_start_matches('0'), time.get(..5)?))
}

/// `... [21/Nov/2026:04:43:44 +0000] ...` → `Nov 21 04:43`.
fn access_log_mtime(line: &str) -> Option<String> {
    let inside = line.split_once('[')?.1;
    let mut parts = inside.splitn(3, '/');
    let (day, month, rest) = (parts.next()?, parts.next()?, parts.next()?);
    let hm = rest.get(5..10)?;
    Some(format!("{month} {:>2} {hm}", day.trim_start_matches('0')))
}

fn directory_entry(path: &str, mtime: String, entries: usize) -> Entry {
    let run = path.starts_with("/run");
    Entry {
        mode: "drwxr-xr-x".into(),
        links: 2,
        owner: if path.starts_with("/run/") { "app" } else { "root" }.into(),
        group: if path.starts_with("/run/") { "app" } else if path == LOG_DIR { "adm" } else { "root" }.into(),
        // tmpfs reports 40 + 20 per entry; ext4 one block.
        size: if run { 40 + 20 * entries as u64 } else { 4096 },
        blocks: if run { 0 } else { 4 },
        mtime,
        name: path.to_string(),
    }
}

/// `cat FILE...` (or stdin).
pub(super) fn cat(ctx: &mut Ctx<'_>, args: &[String], stdin: Option<String>) -> Res {
    let files_: Vec<&String> = args.iter().filter(|a| !a.starts_with('-') || a.as_str() == "-").collect();
    if let Some(bad) = args.iter().find(|a| a.starts_with('-') && a.len() > 1) {
        return Res::with(String::new(), format!("cat: option {bad} is not simulated here\n"), 1);
    }
    if files_.is_empty() {
        return match stdin {
            Some(s) => Res::with(s, String::new(), 0),
            None => Res::with(String::new(), "cat: reading the keyboard is not simulated here: name a file\n".into(), 1),
        };
    }
    let mut r = Res::ok();
    for f in files_ {
        match read(ctx, f) {
            Input::Text(t) => {
                r.out(t);
            }
            Input::Directory => {
                r.err(format!("cat: {f}: Is a directory\n"));
                r.status = 1;
            }
            Input::Socket => {
                r.err(format!("cat: {f}: No such device or address\n"));
                r.status = 1;
            }
            Input::Missing => {
                r.err(format!("cat: {f}: No such file or directory\n"));
                r.status = 1;
            }
            Input::NotModelled => {
                r.err(format!("cat: {f}: {}\n", not_modelled(ctx)));
                r.status = 1;
            }
        }
    }
    r
}

/// How many lines `head`/`tail` keep.
#[derive(Clone, Copy)]
enum Count {
    /// `N`: head's first N lines, tail's last N.
    Last(usize),
    /// `tail -n +N`: from line N on.
    From(usize),
    /// `head -n -N`: every line but the last N.
    AllBut(usize),
}

fn parse_count(tool: &str, v: &str) -> Result<Count, String> {
    let bad = || format!("{tool}: invalid number of lines: '{v}'\n");
    if let Some(n) = v.strip_prefix('+') {
        return n.parse().map(Count::From).map_err(|_| bad());
    }
    if let Some(n) = v.strip_prefix('-') {
        let n = n.parse().map_err(|_| bad())?;
        return Ok(if tool == "head" { Count::AllBut(n) } else { Count::Last(n) });
    }
    v.parse().map(Count::Last).map_err(|_| bad())
}

/// `tail`/`head` options: `-n N`, `-nN`, `-N`, `--lines=N`; tail's `-f` is
/// refused (the simulation moves only when asked).
fn head_tail(ctx: &mut Ctx<'_>, tool: &str, args: &[String], stdin: Option<String>) -> Res {
    let mut count = Count::Last(10);
    let mut names = Vec::new();
    let mut quiet = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let next_value = |it: &mut std::slice::Iter<'_, String>| it.next().cloned();
        match a.as_str() {
            "-n" | "--lines" => match next_value(&mut it) {
                Some(v) => match parse_count(tool, &v) {
                    Ok(c) => count = c,
                    Err(e) => return Res::with(String::new(), e, 1),
                },
                None => {
                    return Res::with(String::new(), format!("{tool}: option requires an argument -- 'n'\nTry '{tool} --help' for more information.\n"), 1)
                }
            },
            "-f" | "-F" | "--follow" if tool == "tail" => {
                return Res::with(
                    String::new(),
                    "tail: -f is not simulated: the simulated world moves only when you act (send a request, play the clock); run tail again to see new lines\n".into(),
                    1,
                );
            }
            "-q" | "--quiet" | "--silent" => quiet = true,
            s if s.starts_with("--lines=") => match parse_count(tool, &s[8..]) {
                Ok(c) => count = c,
                Err(e) => return Res::with(String::new(), e, 1),
            },
            s if s.starts_with("-n") && s.len() > 2 => match parse_count(tool, &s[2..]) {
                Ok(c) => count = c,
                Err(e) => return Res::with(String::new(), e, 1),
            },
            s if s.starts_with('-') && s.len() > 1 && s[1..].bytes().all(|b| b.is_ascii_digit()) => {
                count = Count::Last(s[1..].parse().unwrap_or(usize::MAX));
            }
            s if s.starts_with('-') && s.len() > 1 => {
                let c = s.chars().nth(1).unwrap_or('-');
                return Res::with(String::new(), format!("{tool}: invalid option -- '{c}'\nTry '{tool} --help' for more information.\n"), 1);
            }
            s => names.push(s.to_string()),
        }
    }
    let take = |text: &str| -> String {
        let lines: Vec<&str> = text.lines().collect();
        let keep: &[&str] = match (tool, count) {
            ("head", Count::Last(n)) | ("head", Count::From(n)) => &lines[..n.min(lines.len())],
            (_, Count::AllBut(n)) => &lines[..lines.len().saturating_sub(n)],
            (_, Count::Last(n)) => &lines[lines.len().saturating_sub(n)..],
            (_, Count::From(n)) => &lines[n.saturating_sub(1).min(lines.len())..],
        };
        keep.iter().map(|l| format!("{l}\n")).collect()
    };
    if names.is_empty() {
        return match stdin {
            Some(s) => Res::with(take(&s), String::new(), 0),
            None => Res::with(String::new(), format!("{tool}: reading the keyboard is not simulated here: name a file\n"), 1),
        };
    }
    let mut r = Res::ok();
    let many = names.len() > 1 && !quiet;
    let mut first = true;
    for f in &names {
        match read(ctx, f) {
            Input::Text(t) => {
                if many {
                    r.out(format!("{}==> {f} <==\n", if first { "" } else { "\n" }));
                }
                first = false;
                r.out(take(&t));
            }
            Input::Directory => {
                r.err(format!("{tool}: error reading '{f}': Is a directory\n"));
                r.status = 1;
            }
            Input::Socket => {
                r.err(format!("{tool}: cannot open '{f}' for reading: No such device or address\n"));
                r.status = 1;
            }
            Input::Missing => {
                r.err(format!("{tool}: cannot open '{f}' for reading: No such file or directory\n"));
                r.status = 1;
            }
            Input::NotModelled => {
                r.err(format!("{tool}: {f}: {}\n", not_modelled(ctx)));
                r.status = 1;
            }
        }
    }
    r
}

pub(super) fn tail(ctx: &mut Ctx<'_>, args: &[String], stdin: Option<String>) -> Res {
    head_tail(ctx, "tail", args, stdin)
}

pub(super) fn head(ctx: &mut Ctx<'_>, args: &[String], stdin: Option<String>) -> Res {
    head_tail(ctx, "head", args, stdin)
}

/// `ls [-l] [-a] [-d] [-h] PATH...`.
pub(super) fn ls(ctx: &mut Ctx<'_>, args: &[String]) -> Res {
    let (mut long, mut all, mut dir_itself) = (false, false, false);
    let mut paths = Vec::new();
    for a in args {
        if a.starts_with("--") {
            return Res::with(String::new(), format!("ls: option {a} is not simulated here\n"), 2);
        }
        if let Some(flags) = a.strip_prefix('-').filter(|f| !f.is_empty()) {
            for c in flags.chars() {
                match c {
                    'l' => long = true,
                    'a' | 'A' => all = true,
                    'd' => dir_itself = true,
                    'h' | 'n' => {}
                    x => {
                        return Res::with(String::new(), format!("ls: invalid option -- '{x}'\nTry 'ls --help' for more information.\n"), 2)
                    }
                }
            }
        } else {
            paths.push(a.clone());
        }
    }
    if paths.is_empty() {
        // The working directory, /root, is not part of the model.
        return Res::with(String::new(), format!("ls: /root: {}\n", not_modelled(ctx)), 2);
    }
    let w = ctx.sim.world();
    let mut r = Res::ok();
    let mut blocks_out = Vec::new();
    for p in &paths {
        let norm = normalize(p);
        let input = read_world(w, &norm);
        match input {
            Input::Missing => {
                r.err(format!("ls: cannot access '{p}': No such file or directory\n"));
                r.status = 2;
            }
            Input::NotModelled => {
                r.err(format!("ls: {p}: {}\n", not_modelled(ctx)));
                r.status = 2;
            }
            Input::Directory if !dir_itself => {
                let mut entries = known_dir(w, &norm).unwrap_or_default();
                entries.sort_by(|a, b| a.name.cmp(&b.name));
                for e in &mut entries {
                    e.name = e.name.rsplit('/').next().unwrap_or(&e.name).to_string();
                }
                let newest = entries.iter().map(|e| e.mtime.clone()).max().unwrap_or_else(|| w.clock.ls(SimTime::ZERO));
                if all {
                    let mut dot = directory_entry(&norm, newest, entries.len());
                    dot.name = ".".into();
                    let mut up = directory_entry(norm.rsplit_once('/').map(|(d, _)| if d.is_empty() { "/" } else { d }).unwrap_or("/"), w.clock.ls(SimTime::ZERO), 20);
                    up.name = "..".into();
                    up.links = if norm.starts_with("/run") { 24 } else { 12 };
                    entries.insert(0, up);
                    entries.insert(0, dot);
                }
                let header = if paths.len() > 1 { format!("{p}:\n") } else { String::new() };
                blocks_out.push(format!("{header}{}", listing(&entries, long, true)));
            }
            Input::Directory => {
                let mut e = directory_entry(&norm, w.clock.ls(SimTime::ZERO), known_dir(w, &norm).map(|v| v.len()).unwrap_or(1));
                e.name = p.clone();
                blocks_out.push(listing(&[e], long, false));
            }
            Input::Text(_) | Input::Socket => {
                if let Some(mut e) = entry(w, &norm) {
                    e.name = p.clone();
                    blocks_out.push(listing(&[e], long, false));
                }
            }
        }
    }
    r.out(blocks_out.join("\n"));
    r
}

/// GNU ls's long format: columns padded to the widest entry.
fn listing(entries: &[Entry], long: bool, total: bool) -> String {
    if !long {
        if entries.is_empty() {
            return String::new();
        }
        return format!("{}\n", entries.iter().map(|e| e.name.as_str()).collect::<Vec<_>>().join("  "));
    }
    let lw = entries.iter().map(|e| e.links.to_string().len()).max().unwrap_or(1);
    let ow = entries.iter().map(|e| e.owner.len()).max().unwrap_or(1);
    let gw = entries.iter().map(|e| e.group.len()).max().unwrap_or(1);
    let sw = entries.iter().map(|e| e.size.to_string().len()).max().unwrap_or(1);
    let mut out = String::new();
    if total {
        let blocks: u64 = entries.iter().map(|e| e.blocks).sum();
        out.push_str(&format!("total {blocks}\n"));
    }
    for e in entries {
        out.push_str(&format!(
            "{} {:>lw$} {:<ow$} {:<gw$} {:>sw$} {} {}\n",
            e.mode, e.links, e.owner, e.group, e.size, e.mtime, e.name
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_log_times_for_mtime() {
        assert_eq!(error_log_mtime("2026/11/21 04:43:44 [error] 4453#4453: *1 x").as_deref(), Some("Nov 21 04:43"));
        assert_eq!(access_log_mtime("127.0.0.1 - - [01/Dec/2026:08:00:01 +0000] \"GET / HTTP/1.1\" 200").as_deref(), Some("Dec  1 08:00"));
        assert_eq!(error_log_mtime("garbage"), None);
        assert_eq!(access_log_mtime("[x"), None);
    }

    #[test]
    fn normalizes_paths() {
        assert_eq!(normalize("error.log"), ERROR_LOG);
        assert_eq!(normalize("/var/log/nginx/../nginx/./access.log"), ACCESS_LOG);
        assert_eq!(normalize("/"), "/");
        assert_eq!(normalize("x"), "/root/x");
    }
}
