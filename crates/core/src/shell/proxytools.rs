//! The proxies' own command-line tools on web1: `nginx -t`, `nginx -s
//! reload`, `nginx -v` (nginx 1.22.1, Debian's build, whose error log
//! before the configuration is read is stderr) and `haproxy -c -f
//! /etc/haproxy/haproxy.cfg`, `haproxy -v` (HAProxy 2.6.12). A
//! configuration test runs the engine's own start-up code on a scratch copy
//! of the run (`Simulation::check_config`), so it fails exactly when, and
//! with the very line with which, the proxy would refuse to start. The
//! texts were checked against the real binaries: docs/research/terminal-actions.md.
//! Only the proxy the scenario runs is installed.

use crate::sim::engine::HAPROXY_VERSION;
use crate::sim::scenario::Flavor;

use super::host::User;
use super::{Ctx, Res};

const NGINX_CONF: &str = "/etc/nginx/nginx.conf";
const HAPROXY_CFG: &str = "/etc/haproxy/haproxy.cfg";

/// The proxy the scenario does not run is not installed.
fn other_proxy(cmd: &str, instead: &str) -> Res {
    Res::with(String::new(), format!("bash: {cmd}: command not found\n(this host's proxy is the other one: try {instead}; help lists the commands)\n"), 127)
}

/// The configuration test of the proxy this host runs.
fn check_command(flavor: Flavor) -> &'static str {
    match flavor {
        Flavor::Nginx => "nginx -t",
        Flavor::Haproxy => "haproxy -c -f /etc/haproxy/haproxy.cfg",
        Flavor::Apache => "apachectl -t",
        Flavor::Caddy => "caddy validate --config /etc/caddy/Caddyfile",
        Flavor::Varnish => "varnishd -C -f /etc/varnish/default.vcl",
        Flavor::Envoy => "curl -s localhost:9901/clusters",
        Flavor::Alb => "aws elbv2 describe-target-health",
    }
}

/// `apachectl -t|configtest|-v|graceful` (also `apache2ctl`, `apache2 -t`):
/// Apache 2.4.71 (Debian). The exported site passes `apache2 -t` (the
/// fidelity harness and `tests/apache_conf.rs` check it with the real binary);
/// the Apache flavor has no start-up failure modelled, so the test passes.
pub(super) fn apachectl(ctx: &mut Ctx<'_>, cmd: &str, args: &[String]) -> Res {
    let f = flavor(ctx);
    if f != Flavor::Apache {
        return other_proxy(cmd, check_command(f));
    }
    let version = &ctx.sim.world().scenario.proxy.apache.version;
    match args.first().map(String::as_str) {
        Some("-t") | Some("configtest") if args.len() == 1 => Res::with(String::new(), "Syntax OK\n".into(), 0),
        Some("-v") | Some("-V") => Res::with(format!("Server version: Apache/{version} (Debian)\nServer built:   2026-11-12T08:58:41\n"), String::new(), 0),
        Some("graceful") | Some("-k") if cmd != "apache2" => {
            if !ctx.sim.world().proxy_running {
                return Res::with(String::new(), "httpd (no pid file) not running\n".into(), 1);
            }
            ctx.sim.reread_proxy_config();
            Res::status(0)
        }
        _ => Res::with(
            String::new(),
            format!("{cmd}: this terminal simulates {cmd} -t (configtest), -v and graceful; use systemctl start|stop|restart|reload apache2 for the service\n"),
            1,
        ),
    }
}

/// `caddy validate [--config FILE] [--adapter caddyfile]`, `caddy version`,
/// `caddy reload`: Caddy 2.6.2 (Debian). The exported Caddyfile passes the
/// real `caddy validate` (`tests/caddy_conf.rs`); the Caddy flavor has no
/// start-up failure modelled.
pub(super) fn caddy(ctx: &mut Ctx<'_>, args: &[String]) -> Res {
    let f = flavor(ctx);
    if f != Flavor::Caddy {
        return other_proxy("caddy", check_command(f));
    }
    let version = ctx.sim.world().scenario.proxy.caddy.version.clone();
    match args.first().map(String::as_str) {
        Some("version") => Res::with(format!("{version}\n"), String::new(), 0),
        Some("validate") => {
            let config = args.windows(2).find(|w| w[0] == "--config" || w[0] == "-c").map(|w| w[1].clone()).unwrap_or_else(|| "/etc/caddy/Caddyfile".into());
            if config != "/etc/caddy/Caddyfile" && config != "Caddyfile" {
                return Res::with(String::new(), format!("Error: reading config file: open {config}: no such file or directory\n"), 1);
            }
            Res::with("Valid configuration\n".into(), String::new(), 0)
        }
        Some("reload") => {
            if !ctx.sim.world().proxy_running {
                return Res::with(String::new(), "Error: sending configuration to instance: performing request: Post \"http://localhost:2019/load\": dial tcp [::1]:2019: connect: connection refused\n".into(), 1);
            }
            ctx.sim.reread_proxy_config();
            Res::status(0)
        }
        _ => Res::with(String::new(), "caddy: this terminal simulates caddy validate --config /etc/caddy/Caddyfile, caddy version and caddy reload; use systemctl start|stop|restart|reload caddy for the service\n".into(), 1),
    }
}

/// `varnishlog -d` (the backend transactions kept in shared memory),
/// `varnishncsa -d` (one line per request), `varnishd -C -f FILE` (compile
/// the VCL: the engine's start-up, so a VCL that does not compile fails with
/// VCC's message), `varnishd -V`.
pub(super) fn varnish(ctx: &mut Ctx<'_>, cmd: &str, args: &[String]) -> Res {
    let f = flavor(ctx);
    if f != Flavor::Varnish {
        return other_proxy(cmd, check_command(f));
    }
    let w = ctx.sim.world();
    let text = |lines: &crate::sim::log::LogBuffer| lines.lines().map(|l| format!("{l}\n")).collect::<String>();
    match (cmd, args.first().map(String::as_str)) {
        ("varnishlog", _) => Res::with(text(&w.error_log), String::new(), 0),
        ("varnishncsa", _) => Res::with(text(&w.access_log), String::new(), 0),
        ("varnishd", Some("-V")) => Res::with(String::new(), format!("varnishd (varnish-{} revision 7cee1c581bead20e88d101ab3d72afb29f14d87a)\n", w.scenario.proxy.varnish.version), 0),
        ("varnishd", Some("-C")) => {
            let pid = ctx.sim.world_mut().spawn_pid();
            let check = ctx.sim.check_config(pid);
            if check.ok {
                Res::with("/* ---===### include/vdef.h ###===--- */\n(the C source of the compiled VCL follows)\n".into(), String::new(), 0)
            } else {
                Res::with(String::new(), check.stderr.iter().map(|l| format!("{l}\n")).collect(), 2)
            }
        }
        _ => Res::with(String::new(), format!("{cmd}: this terminal simulates varnishlog -d, varnishncsa -d, varnishd -C -f /etc/varnish/default.vcl and varnishd -V\n"), 1),
    }
}

fn flavor(ctx: &Ctx<'_>) -> Flavor {
    ctx.sim.world().scenario.proxy.flavor
}

/// `nginx [-t|-T|-q|-v|-V|-s SIGNAL|-c FILE|-g DIRECTIVES|-p PREFIX]`.
pub(super) fn nginx(ctx: &mut Ctx<'_>, args: &[String]) -> Res {
    if flavor(ctx) != Flavor::Nginx {
        return other_proxy("nginx", check_command(flavor(ctx)));
    }
    let (mut test, mut dump, mut quiet, mut version) = (false, false, false, false);
    let mut signal: Option<String> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let Some(flags) = a.strip_prefix('-').filter(|f| !f.is_empty()) else {
            return Res::with(String::new(), format!("nginx: invalid option: \"{a}\"\n"), 1);
        };
        // nginx reads each letter of an option word, and a value either
        // glued to its letter or in the next word.
        let mut chars = flags.chars();
        while let Some(c) = chars.next() {
            match c {
                't' => test = true,
                'T' => {
                    test = true;
                    dump = true;
                }
                'q' => quiet = true,
                'v' | 'V' => version = true,
                'h' | '?' => return Res::with(String::new(), usage(), 0),
                's' | 'c' | 'g' | 'p' | 'e' => {
                    let glued: String = chars.by_ref().collect();
                    let value = if glued.is_empty() { it.next().cloned() } else { Some(glued) };
                    let Some(value) = value else {
                        return Res::with(String::new(), format!("nginx: option \"-{c}\" requires {}\n", requires(c)), 1);
                    };
                    match c {
                        's' => match value.as_str() {
                            "stop" | "quit" | "reopen" | "reload" => signal = Some(value),
                            _ => return Res::with(String::new(), format!("nginx: invalid option: \"-s {value}\"\n"), 1),
                        },
                        'c' if value != NGINX_CONF => {
                            return Res::with(String::new(), format!("nginx: this lab's nginx reads {NGINX_CONF} only (not {value})\n"), 1)
                        }
                        'p' if value.trim_end_matches('/') != "/usr/share/nginx" => {
                            return Res::with(String::new(), "nginx: this lab's nginx runs with its default prefix only (-p /usr/share/nginx)\n".into(), 1)
                        }
                        _ => {} // -g DIRECTIVES and -e FILE: nothing the lab's answers depend on
                    }
                    break;
                }
                other => return Res::with(String::new(), format!("nginx: invalid option: \"{other}\"\n"), 1),
            }
        }
    }
    if version {
        return Res::with(String::new(), "nginx version: nginx/1.22.1\n".into(), 0);
    }
    if ctx.user != User::Root {
        return Res::with(
            String::new(),
            "nginx: this terminal runs nginx's tools as root only (its error log, pid file and certificates are root's)\n".into(),
            1,
        );
    }
    if dump {
        return Res::with(
            String::new(),
            "nginx -T is not simulated: this lab models only /etc/nginx/conf.d/gateway-lab.conf (cat it); nginx -t tests the configuration\n".into(),
            1,
        );
    }
    if test {
        return nginx_test(ctx, quiet);
    }
    match signal.as_deref() {
        Some("reload") => nginx_reload(ctx),
        Some("reopen") => nginx_signal(ctx, false),
        Some(other) => Res::with(
            String::new(),
            format!("nginx -s {other} is not simulated here; stop nginx with systemctl stop nginx\n"),
            1,
        ),
        None => Res::with(
            String::new(),
            "starting a second nginx by hand is not simulated here; use systemctl start|restart|reload nginx, or nginx -t\n".into(),
            1,
        ),
    }
}

fn requires(c: char) -> &'static str {
    match c {
        's' => "signal name",
        'c' | 'e' => "file name",
        'g' => "parameters",
        _ => "prefix path",
    }
}

fn usage() -> String {
    "\
nginx version: nginx/1.22.1
Usage: nginx [-?hvVtTq] [-s signal] [-p prefix]
             [-e filename] [-c filename] [-g directives]

Options:
  -?,-h         : this help
  -v            : show version and exit
  -V            : show version and configure options then exit
  -t            : test configuration and exit
  -T            : test configuration, dump it and exit
  -q            : suppress non-error messages during configuration testing
  -s signal     : send signal to a master process: stop, quit, reopen, reload
  -p prefix     : set prefix path (default: /usr/share/nginx/)
  -e filename   : set error log file (default: stderr)
  -c filename   : set configuration file (default: /etc/nginx/nginx.conf)
  -g directives : set global directives out of configuration file

"
    .to_string()
}

/// `nginx -t [-q]`: what nginx 1.22.1 prints on stderr.
fn nginx_test(ctx: &mut Ctx<'_>, quiet: bool) -> Res {
    let pid = ctx.sim.world_mut().spawn_pid();
    let check = ctx.sim.check_config(pid);
    let mut err = String::new();
    for l in &check.stderr {
        err.push_str(l);
        err.push('\n');
    }
    if check.ok {
        if !quiet {
            err.push_str(&format!("nginx: the configuration file {NGINX_CONF} syntax is ok\n"));
            err.push_str(&format!("nginx: configuration file {NGINX_CONF} test is successful\n"));
        }
        Res::with(String::new(), err, 0)
    } else {
        err.push_str(&format!("nginx: configuration file {NGINX_CONF} test failed\n"));
        Res::with(String::new(), err, 1)
    }
}

/// `nginx -s reload`: the signaller reads the configuration first (a
/// failure stops it there, and the running nginx keeps its configuration),
/// then signals the master named in /run/nginx.pid, which re-reads it.
fn nginx_reload(ctx: &mut Ctx<'_>) -> Res {
    nginx_signal(ctx, true)
}

fn nginx_signal(ctx: &mut Ctx<'_>, reload: bool) -> Res {
    let pid = ctx.sim.world_mut().spawn_pid();
    let check = ctx.sim.check_config(pid);
    if !check.ok {
        let err: String = check.stderr.iter().map(|l| format!("{l}\n")).collect();
        return Res::with(String::new(), err, 1);
    }
    let w = ctx.sim.world();
    let date = w.clock.error_log(w.now);
    let mut err = format!("{date} [notice] {pid}#{pid}: signal process started\n");
    if !w.proxy_running {
        err.push_str(&format!("{date} [error] {pid}#{pid}: open() \"/run/nginx.pid\" failed (2: No such file or directory)\n"));
        return Res::with(String::new(), err, 1);
    }
    if reload {
        ctx.sim.reread_proxy_config();
    }
    Res::with(String::new(), err, 0)
}

/// `haproxy -c [-q] -f FILE`, `haproxy -v`.
pub(super) fn haproxy(ctx: &mut Ctx<'_>, args: &[String]) -> Res {
    if flavor(ctx) != Flavor::Haproxy {
        return other_proxy("haproxy", check_command(flavor(ctx)));
    }
    let (mut check, mut quiet, mut version) = (false, false, false);
    let mut files: Vec<String> = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-c" => check = true,
            "-q" => quiet = true,
            "-v" | "-vv" => version = true,
            "-V" => quiet = false,
            "-f" => match it.next() {
                Some(f) => files.push(f.clone()),
                None => return Res::with(String::new(), haproxy_usage(), 1),
            },
            s if s.starts_with("-f") && s.len() > 2 => files.push(s[2..].to_string()),
            _ => return Res::with(String::new(), haproxy_usage(), 1),
        }
    }
    if version {
        return Res::with(haproxy_version(), String::new(), 0);
    }
    if !check {
        return Res::with(
            String::new(),
            "starting a second HAProxy by hand is not simulated here; use systemctl start|restart|reload haproxy, or haproxy -c -f /etc/haproxy/haproxy.cfg\n".into(),
            1,
        );
    }
    if files.is_empty() {
        return Res::with(haproxy_version(), haproxy_usage(), 1);
    }
    let pid = ctx.sim.world_mut().spawn_pid();
    let notices = format!(
        "[NOTICE]   ({pid}) : haproxy version is {HAPROXY_VERSION}\n[NOTICE]   ({pid}) : path to executable is /usr/sbin/haproxy\n"
    );
    if let Some(missing) = files.iter().find(|f| f.as_str() != HAPROXY_CFG) {
        if quiet {
            return Res::status(1);
        }
        let err = format!("{notices}[ALERT]    ({pid}) : config : Cannot open configuration file/directory {missing} : No such file or directory\n");
        return Res::with(String::new(), err, 1);
    }
    let result = ctx.sim.check_config(pid);
    if result.ok {
        return Res::with(if quiet { String::new() } else { "Configuration file is valid\n".into() }, String::new(), 0);
    }
    if quiet {
        return Res::status(1);
    }
    let mut err = notices;
    for l in &result.stderr {
        err.push_str(l);
        err.push('\n');
    }
    Res::with(String::new(), err, 1)
}

fn haproxy_version() -> String {
    format!(
        "HAProxy version {HAPROXY_VERSION} 2026/10/17 - https://haproxy.org/\n\
Status: long-term supported branch - will stop receiving fixes around Q2 2027.\n\
Known bugs: http://www.haproxy.org/bugs/bugs-2.6.12.html\n\
Running on: Linux 6.1.0-27-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.115-1 x86_64\n"
    )
}

fn haproxy_usage() -> String {
    "Usage : haproxy [-f <cfgfile|cfgdir>]* [ -vdVD ] [ -n <maxconn> ] [ -N <maxpconn> ]\n        \
[ -p <pidfile> ] [ -m <max megs> ] [ -C <dir> ] [-- <cfgfile>*]\n        \
-v displays version ; -vv shows known build options.\n        \
-q quiet mode : don't display messages\n        \
-c check mode : only check config files and exit\n        \
(this terminal simulates -c, -q, -f and -v; see help)\n"
        .to_string()
}

/// Envoy's admin interface on `localhost:9901` (`/clusters`, `/stats`), for
/// the Envoy flavor: counters by the names Envoy's docs give
/// (docs/research/envoy-alb-model.md §1.6), counted from the requests the
/// run keeps. None when the URL is not the admin interface.
pub(super) fn envoy_admin(ctx: &Ctx<'_>, host: &str, port: u16, path: &str) -> Option<Res> {
    let w = ctx.sim.world();
    if w.scenario.proxy.flavor != Flavor::Envoy || port != 9901 || !matches!(host, "localhost" | "127.0.0.1") {
        return None;
    }
    use crate::sim::failure::{FailureCause, TimeoutPhase};
    use crate::sim::world::AttemptResult;
    #[derive(Default)]
    struct Host {
        cx_total: u64,
        cx_connect_fail: u64,
        rq_total: u64,
        rq_success: u64,
        rq_error: u64,
        rq_timeout: u64,
    }
    let hosts = crate::sim::proxy::envoy::conf::hosts(&w.scenario);
    let mut per: Vec<Host> = hosts.iter().map(|_| Host::default()).collect();
    let (mut connect_timeout, mut destroy_with_active, mut retries, mut rq_503, mut rq_504) = (0u64, 0u64, 0u64, 0u64, 0u64);
    for ex in w.exchanges.iter() {
        retries += ex.attempts.len().saturating_sub(1) as u64;
        match ex.logged_status {
            Some(503) => rq_503 += 1,
            Some(504) => rq_504 += 1,
            _ => {}
        }
        for a in &ex.attempts {
            let Some(h) = hosts.iter().position(|h| *h == a.peer).and_then(|i| per.get_mut(i)) else { continue };
            if !a.reused {
                h.cx_total += 1;
            }
            match &a.result {
                AttemptResult::Failed { cause: FailureCause::Refused } => h.cx_connect_fail += 1,
                AttemptResult::Failed { cause: FailureCause::Timeout { phase: TimeoutPhase::Connect } } => {
                    h.cx_connect_fail += 1;
                    connect_timeout += 1;
                }
                AttemptResult::Failed { cause: FailureCause::Timeout { .. } } => {
                    h.rq_total += 1;
                    h.rq_timeout += 1;
                }
                AttemptResult::Failed { cause: FailureCause::PrematureClose | FailureCause::Reset } => {
                    h.rq_total += 1;
                    h.rq_error += 1;
                    destroy_with_active += 1;
                }
                AttemptResult::Failed { .. } => {
                    h.rq_total += 1;
                    h.rq_error += 1;
                }
                AttemptResult::Responded { status } => {
                    h.rq_total += 1;
                    if *status >= 500 { h.rq_error += 1 } else { h.rq_success += 1 }
                }
                AttemptResult::InProgress | AttemptResult::ClientClosed => h.rq_total += 1,
            }
        }
    }
    let mut out = String::new();
    match path.split('?').next().unwrap_or("") {
        "/clusters" => {
            for (h, c) in hosts.iter().zip(&per) {
                for (k, v) in [("cx_total", c.cx_total), ("cx_connect_fail", c.cx_connect_fail), ("rq_total", c.rq_total), ("rq_success", c.rq_success), ("rq_error", c.rq_error), ("rq_timeout", c.rq_timeout)] {
                    out.push_str(&format!("app::{h}::{k}::{v}\n"));
                }
                out.push_str(&format!("app::{h}::health_flags::healthy\napp::{h}::weight::1\n"));
            }
        }
        "/stats" => {
            let total = |f: fn(&Host) -> u64| per.iter().map(f).sum::<u64>();
            for (k, v) in [
                ("upstream_cx_connect_fail", total(|h| h.cx_connect_fail)),
                ("upstream_cx_connect_timeout", connect_timeout),
                ("upstream_cx_destroy_remote_with_active_rq", destroy_with_active),
                ("upstream_cx_total", total(|h| h.cx_total)),
                ("upstream_rq_503", rq_503),
                ("upstream_rq_504", rq_504),
                ("upstream_rq_retry", retries),
                ("upstream_rq_timeout", total(|h| h.rq_timeout)),
                ("upstream_rq_total", total(|h| h.rq_total)),
            ] {
                out.push_str(&format!("cluster.app.{k}: {v}\n"));
            }
        }
        p => return Some(Res::with(format!("invalid path. admin commands are: /clusters, /stats (the ones this terminal simulates; {p} is not one)\n"), String::new(), 0)),
    }
    Some(Res::with(out, String::new(), 0))
}
