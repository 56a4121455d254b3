//! `systemctl status` / `is-active` and `journalctl` (systemd 252). The
//! apps' journal is the engine's app log (journald's short format); a
//! unit's lines are those its process wrote (`app[2817]: …`) and those
//! systemd wrote about it (`systemd[1]: app.service: …`). Kernel lines (the
//! OOM killer's) are not part of a unit's journal: `journalctl -k` shows
//! them. The proxy's journal is its start (or failed start) and what it
//! printed on stderr; HAProxy also logs its requests there.

use crate::sim::app::{Exit, ExitCause, JobResult, UnitAction};
use crate::sim::engine::proxy_unit;
use crate::sim::scenario::Flavor;
use crate::sim::time::SimTime;
use crate::sim::world::{UnitEntry, World};

use super::host::{self, AppView, ProxyView, Service, User};
use super::{Ctx, Res};
/// systemd's TasksMax default on a small VM (15 % of pid_max's threads).
const TASKS_LIMIT: u32 = 4644;

/// A unit the lab knows.
enum Unit {
    App(AppView),
    Proxy(ProxyView),
    /// The other proxy's unit: not installed on this host.
    Absent(String),
}

fn unit_named(w: &World, name: &str) -> Option<Unit> {
    let base = name.strip_suffix(".service").unwrap_or(name);
    if let Some(a) = host::app_named(w, base) {
        return Some(Unit::App(a));
    }
    let p = host::proxy(w);
    match base {
        // An ALB is a managed AWS service: no unit on this host.
        _ if p.flavor == Flavor::Alb => None,
        b if b == p.unit => Some(Unit::Proxy(p)),
        "nginx" | "haproxy" | "apache2" => Some(Unit::Absent(format!("{base}.service"))),
        _ => None,
    }
}

/// systemd's relative time (`format_timestamp_relative`).
pub(super) fn ago(us: u64) -> String {
    const SEC: u64 = 1_000_000;
    const MIN: u64 = 60 * SEC;
    const HOUR: u64 = 60 * MIN;
    const DAY: u64 = 24 * HOUR;
    const WEEK: u64 = 7 * DAY;
    const MONTH: u64 = 2_629_800 * SEC;
    const YEAR: u64 = 31_557_600 * SEC;
    let d = us;
    if d >= YEAR {
        let (y, m) = (d / YEAR, (d % YEAR) / MONTH);
        format!("{y} {} {m} {} ago", if y == 1 { "year" } else { "years" }, if m == 1 { "month" } else { "months" })
    } else if d >= MONTH {
        let (m, dd) = (d / MONTH, (d % MONTH) / DAY);
        format!("{m} {} {dd} {} ago", if m == 1 { "month" } else { "months" }, if dd == 1 { "day" } else { "days" })
    } else if d >= WEEK {
        let (wk, dd) = (d / WEEK, (d % WEEK) / DAY);
        format!("{wk} {} {dd} {} ago", if wk == 1 { "week" } else { "weeks" }, if dd == 1 { "day" } else { "days" })
    } else if d >= 2 * DAY {
        format!("{} days ago", d / DAY)
    } else if d >= 25 * HOUR {
        format!("1 day {}h ago", (d - DAY) / HOUR)
    } else if d >= 6 * HOUR {
        format!("{}h ago", d / HOUR)
    } else if d >= HOUR {
        format!("{}h {}min ago", d / HOUR, (d % HOUR) / MIN)
    } else if d >= 5 * MIN {
        format!("{}min ago", d / MIN)
    } else if d >= MIN {
        format!("{}min {}s ago", d / MIN, (d % MIN) / SEC)
    } else if d >= SEC {
        format!("{}s ago", d / SEC)
    } else if d >= 1_000 {
        format!("{}ms ago", d / 1_000)
    } else if d > 0 {
        format!("{d}us ago")
    } else {
        "now".to_string()
    }
}

fn since(w: &World, t: SimTime) -> String {
    format!("since {}; {}", w.clock.systemd(t), ago(w.now.since(t)))
}

/// `systemctl [status|is-active|is-failed] UNIT...`.
pub(super) fn systemctl(ctx: &mut Ctx<'_>, args: &[String]) -> Res {
    let mut full = false;
    let mut lines = 10usize;
    let mut words = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-l" | "--full" => full = true,
            "--no-pager" | "--no-legend" | "-q" | "--quiet" => {}
            "-n" | "--lines" => match it.next().and_then(|v| v.parse().ok()) {
                Some(n) => lines = n,
                None => return Res::with(String::new(), "Failed to parse number of lines\n".into(), 1),
            },
            s if s.starts_with("--lines=") => match s[8..].parse() {
                Ok(n) => lines = n,
                Err(_) => return Res::with(String::new(), "Failed to parse number of lines\n".into(), 1),
            },
            s if s.starts_with("-n") && s.len() > 2 => match s[2..].parse() {
                Ok(n) => lines = n,
                Err(_) => return Res::with(String::new(), "Failed to parse number of lines\n".into(), 1),
            },
            s if s.starts_with('-') => return Res::with(String::new(), format!("systemctl: unrecognized option '{s}'\n"), 1),
            s => words.push(s.to_string()),
        }
    }
    let Some(verb) = words.first().cloned() else {
        return Res::with(String::new(), "systemctl without a command lists every unit; that is not simulated here (try systemctl status app)\n".into(), 1);
    };
    let units = &words[1..];
    match verb.as_str() {
        "status" => {
            if units.is_empty() {
                return Res::with(String::new(), "systemctl status without a unit shows the whole system; that is not simulated here (try systemctl status app)\n".into(), 1);
            }
            let width = if full || ctx.piped { None } else { Some(ctx.cols) };
            let w = ctx.sim.world();
            let mut out = Vec::new();
            let mut err = String::new();
            let mut status = 0;
            for u in units {
                match unit_named(w, u) {
                    Some(Unit::App(a)) => {
                        out.push(app_status(w, &a, lines, width));
                        if !a.running() {
                            status = status.max(3);
                        }
                    }
                    Some(Unit::Proxy(p)) => {
                        out.push(proxy_status(w, &p, lines, width));
                        if !p.running {
                            status = status.max(3);
                        }
                    }
                    Some(Unit::Absent(name)) => {
                        err.push_str(&format!("Unit {name} could not be found.\n"));
                        status = 4;
                    }
                    None => {
                        let name = if u.contains('.') { u.clone() } else { format!("{u}.service") };
                        err.push_str(&format!("Unit {name} could not be found.\n"));
                        status = 4;
                    }
                }
            }
            Res::with(out.join("\n"), err, status)
        }
        "is-active" | "is-failed" => {
            if units.is_empty() {
                return Res::with(String::new(), "Too few arguments.\n".into(), 1);
            }
            let w = ctx.sim.world();
            let mut out = String::new();
            let mut any = false;
            for u in units {
                let state = match unit_named(w, u) {
                    Some(Unit::App(a)) => match a.service {
                        Service::Running { .. } => "active",
                        Service::Stopped { .. } => "inactive",
                        Service::AutoRestart { .. } => "activating",
                    },
                    Some(Unit::Proxy(p)) if p.running => "active",
                    Some(Unit::Proxy(p)) if p.stopped => "inactive",
                    Some(Unit::Proxy(_)) => "failed",
                    _ => "inactive",
                };
                any |= if verb == "is-active" { state == "active" } else { state == "failed" };
                out.push_str(state);
                out.push('\n');
            }
            Res::with(out, String::new(), if any { 0 } else if verb == "is-active" { 3 } else { 1 })
        }
        "start" | "stop" | "restart" | "reload" | "try-restart" | "reload-or-restart" => act(ctx, &verb, units),
        "kill" | "enable" | "disable" | "mask" | "unmask" | "daemon-reload" | "edit" | "reset-failed" => Res::with(
            String::new(),
            format!("systemctl {verb} is not simulated here; systemctl start, stop, restart and reload are (change the configuration with the page's controls)\n"),
            1,
        ),
        "list-units" | "list-unit-files" | "cat" | "show" => {
            Res::with(String::new(), format!("systemctl {verb} is not simulated here; try systemctl status UNIT\n"), 1)
        }
        other => Res::with(String::new(), format!("Unknown command verb {other}.\n"), 1),
    }
}

/// `systemctl start|stop|restart|reload|try-restart|reload-or-restart
/// UNIT...`: the job runs in the engine (`Simulation::app_unit`,
/// `Simulation::proxy_unit`); systemctl prints nothing when it is done,
/// and systemd 252's messages when it is not.
fn act(ctx: &mut Ctx<'_>, verb: &str, units: &[String]) -> Res {
    if units.is_empty() {
        return Res::with(String::new(), "Too few arguments.\n".into(), 1);
    }
    let mut err = String::new();
    let mut status = 0;
    for u in units {
        let name = if u.contains('.') { u.clone() } else { format!("{u}.service") };
        let unit = unit_named(ctx.sim.world(), u);
        let (target, running) = match &unit {
            Some(Unit::App(a)) => (Some(Some(a.index)), a.running()),
            Some(Unit::Proxy(p)) => (Some(None), p.running),
            _ => (None, false),
        };
        let Some(target) = target else {
            err.push_str(&format!("Failed to {verb} {name}: Unit {name} not found.\n"));
            status = 5;
            continue;
        };
        if ctx.user != User::Root {
            // polkit asks for a password; the terminal has none to give.
            err.push_str(&format!("Failed to {verb} {name}: Interactive authentication required.\nSee system logs and 'systemctl status {name}' for details.\n"));
            status = status.max(1);
            continue;
        }
        let action = match verb {
            "start" => UnitAction::Start,
            "stop" => UnitAction::Stop,
            "restart" => UnitAction::Restart,
            "reload" => UnitAction::Reload,
            // Restart only a running unit.
            "try-restart" if !running => continue,
            "try-restart" => UnitAction::Restart,
            // Units without ExecReload= restart.
            _ if target.is_some() => UnitAction::Restart,
            _ if running => UnitAction::Reload,
            _ => UnitAction::Start,
        };
        let result = match target {
            Some(a) => ctx.sim.app_unit(a, action),
            None => ctx.sim.proxy_unit(action),
        };
        let unit = name.clone();
        match result {
            JobResult::Done => {}
            JobResult::Failed if action == UnitAction::Reload => {
                err.push_str(&format!("Job for {unit} failed.\nSee \"systemctl status {unit}\" and \"journalctl -xeu {unit}\" for details.\n"));
                status = status.max(1);
            }
            JobResult::Failed => {
                err.push_str(&format!("Job for {unit} failed because the control process exited with error code.\nSee \"systemctl status {unit}\" and \"journalctl -xeu {unit}\" for details.\n"));
                status = status.max(1);
            }
            JobResult::NotActive => {
                err.push_str(&format!("{unit} is not active, cannot reload.\n"));
                status = status.max(1);
            }
            JobResult::NotApplicable => {
                err.push_str(&format!("Failed to reload {unit}: Job type reload is not applicable for unit {unit}.\n"));
                status = status.max(1);
            }
        }
    }
    Res::with(String::new(), err, status)
}

/// `service NAME start|stop|restart|reload|status` (Debian's wrapper
/// around systemctl).
pub(super) fn service(ctx: &mut Ctx<'_>, args: &[String]) -> Res {
    match args {
        [name, verb] if matches!(verb.as_str(), "start" | "stop" | "restart" | "reload" | "try-restart" | "status") => {
            systemctl(ctx, &[verb.clone(), name.clone()])
        }
        [name, verb] if verb == "force-reload" => systemctl(ctx, &["reload-or-restart".into(), name.clone()]),
        [name, verb, ..] => Res::with(String::new(), format!("service {name} {verb}: not simulated here; try service {name} start|stop|restart|reload|status\n"), 1),
        _ => Res::with(String::new(), "Usage: service < option > | --status-all | [ service_name [ command | --full-restart ] ]\n".into(), 1),
    }
}

/// Cuts a line to the terminal width with an ellipsis, as systemctl does
/// without `--full`.
fn fit(line: &str, width: Option<usize>) -> String {
    match width {
        Some(wd) if line.chars().count() > wd => {
            let mut s: String = line.chars().take(wd.saturating_sub(1)).collect();
            s.push('…');
            s
        }
        _ => line.to_string(),
    }
}

fn exit_detail(exit: &Exit) -> &'static str {
    match exit.cause {
        ExitCause::Crashed => "code=exited, status=1/FAILURE",
        ExitCause::OomKilled => "code=killed, signal=KILL",
        ExitCause::Stopped => "code=killed, signal=TERM",
    }
}

fn app_status(w: &World, a: &AppView, lines: usize, width: Option<usize>) -> String {
    let unit = a.unit();
    let mut s = String::new();
    let dot = match a.service {
        Service::Running { .. } | Service::AutoRestart { .. } => "●",
        Service::Stopped { .. } => "○",
    };
    let server = super::ps::server_view(w, a.index);
    match server.description {
        Some(d) => s.push_str(&format!("{dot} {unit} - {d}\n")),
        None => s.push_str(&format!("{dot} {unit}\n")),
    }
    s.push_str(&format!("     Loaded: loaded ({}/{unit}; enabled; preset: enabled)\n", server.unit_dir));
    if let Some(d) = server.docs {
        s.push_str(&format!("       Docs: {d}\n"));
    }
    let exec = server.exec.as_str();
    match a.service {
        Service::Running { since: t, .. } => {
            s.push_str(&format!("     Active: active (running) {}\n", since(w, t)));
            if let Some(post) = &server.exec_start_post {
                s.push_str(&format!("    Process: {} ExecStartPost={post} (code=exited, status=0/SUCCESS)\n", a.pid.wrapping_add(1_000)));
            }
            s.push_str(&format!("   Main PID: {} ({})\n", a.pid, server.comm));
            if let Some(st) = &server.status {
                s.push_str(&format!("     Status: \"{st}\"\n"));
            }
            s.push_str(&format!("      Tasks: {} (limit: {TASKS_LIMIT})\n", server.tasks));
            s.push_str(&format!("     Memory: {}\n", server.memory));
            s.push_str("        CPU: 1.093s\n");
            s.push_str(&format!("     CGroup: /system.slice/{unit}\n"));
            let n = server.processes.len();
            for (i, (pid, _, cmd)) in server.processes.iter().enumerate() {
                let branch = if i + 1 == n { "└─" } else { "├─" };
                // systemd quotes a title a process set itself (nginx's, PHP-FPM's).
                let cmd = if server.comm == "php-fpm8.2" { format!("\"{cmd}\"") } else { cmd.clone() };
                s.push_str(&fit(&format!("             {branch}{pid} {cmd}"), width));
                s.push('\n');
            }
        }
        Service::AutoRestart { exit } => {
            let result = match exit.cause {
                ExitCause::OomKilled => "oom-kill",
                ExitCause::Crashed => "exit-code",
                ExitCause::Stopped => "success",
            };
            s.push_str(&format!("     Active: activating (auto-restart) (Result: {result}) {}\n", since(w, exit.at)));
            s.push_str(&format!("    Process: {} ExecStart={exec} ({})\n", a.pid, exit_detail(&exit)));
            s.push_str(&format!("   Main PID: {} ({})\n", a.pid, exit_detail(&exit)));
            s.push_str("        CPU: 1.093s\n");
        }
        Service::Stopped { since: None } => {
            s.push_str("     Active: inactive (dead)\n");
        }
        Service::Stopped { since: Some(t) } => {
            s.push_str(&format!("     Active: inactive (dead) {}\n", since(w, t)));
            let exit = Exit { at: t, cause: ExitCause::Stopped };
            s.push_str(&format!("    Process: {} ExecStart={exec} ({})\n", a.pid, exit_detail(&exit)));
            s.push_str(&format!("   Main PID: {} ({})\n", a.pid, exit_detail(&exit)));
            s.push_str("        CPU: 1.093s\n");
        }
    }
    let journal = app_journal(w, a);
    if lines > 0 && !journal.is_empty() {
        s.push('\n');
        for l in &journal[journal.len().saturating_sub(lines)..] {
            s.push_str(&fit(l, width));
            s.push('\n');
        }
    }
    s
}

/// Envoy's command line (the docs' example: `envoy -c envoy.yaml`).
pub(super) const ENVOY_CMD: &str = "/usr/bin/envoy -c /etc/envoy/envoy.yaml";

fn proxy_status(w: &World, p: &ProxyView, lines: usize, width: Option<usize>) -> String {
    let (desc, docs, pre, start) = match p.flavor {
        Flavor::Nginx => (
            proxy_unit(Flavor::Nginx).1,
            vec!["man:nginx(8)"],
            "/usr/sbin/nginx -t -q -g daemon on; master_process on;",
            "/usr/sbin/nginx -g daemon on; master_process on;",
        ),
        Flavor::Varnish => (
            proxy_unit(Flavor::Varnish).1,
            vec!["https://varnish-cache.org/docs/", "man:varnishd"],
            "",
            "/usr/sbin/varnishd -j unix,user=vcache -F -a :6081 -T localhost:6082 -f /etc/varnish/default.vcl -S /etc/varnish/secret -s malloc,256m",
        ),
        Flavor::Caddy => (
            proxy_unit(Flavor::Caddy).1,
            vec!["https://caddyserver.com/docs/"],
            "",
            "/usr/bin/caddy run --environ --config /etc/caddy/Caddyfile",
        ),
        // unit_named never gives the ALB (not on this host); Envoy's unit is the one its docs suggest.
        Flavor::Envoy | Flavor::Alb => (proxy_unit(p.flavor).1, vec!["https://www.envoyproxy.io/docs/envoy/latest/"], "", ENVOY_CMD),
        Flavor::Apache => (
            proxy_unit(Flavor::Apache).1,
            vec!["https://httpd.apache.org/docs/2.4/"],
            "",
            "/usr/sbin/apachectl start",
        ),
        Flavor::Haproxy => (
            proxy_unit(Flavor::Haproxy).1,
            vec!["man:haproxy(1)", "file:/usr/share/doc/haproxy/configuration.txt.gz"],
            "/usr/sbin/haproxy -Ws -f $CONFIG -c -q $EXTRAOPTS",
            "",
        ),
    };
    let unit = format!("{}.service", p.unit);
    let mut s = String::new();
    let dot = if p.running {
        "●"
    } else if p.stopped {
        "○"
    } else {
        "×"
    };
    s.push_str(&format!("{dot} {unit} - {desc}\n"));
    s.push_str(&format!("     Loaded: loaded (/lib/systemd/system/{unit}; enabled; preset: enabled)\n"));
    if p.running {
        s.push_str(&format!("     Active: active (running) {}\n", since(w, p.since)));
    } else if p.stopped {
        s.push_str(&format!("     Active: inactive (dead) {}\n", since(w, p.since)));
    } else {
        s.push_str(&format!("     Active: failed (Result: exit-code) {}\n", since(w, p.since)));
    }
    for (i, d) in docs.iter().enumerate() {
        s.push_str(&format!("   {:>9} {d}\n", if i == 0 { "Docs:" } else { "" }));
    }
    let pre_pid = if p.running || p.stopped { p.master_pid.saturating_sub(2) } else { p.master_pid };
    if p.running {
        if !pre.is_empty() {
            s.push_str(&format!("    Process: {pre_pid} ExecStartPre={pre} (code=exited, status=0/SUCCESS)\n"));
        }
        if !start.is_empty() {
            s.push_str(&format!("    Process: {} ExecStart={start} (code=exited, status=0/SUCCESS)\n", p.master_pid.saturating_sub(1)));
        }
        s.push_str(&format!("   Main PID: {} ({})\n", p.master_pid, p.unit));
        s.push_str(&format!("      Tasks: 2 (limit: {TASKS_LIMIT})\n"));
        s.push_str(if p.flavor == Flavor::Nginx { "     Memory: 3.6M\n" } else { "     Memory: 9.8M\n" });
        s.push_str("        CPU: 37ms\n");
        s.push_str(&format!("     CGroup: /system.slice/{unit}\n"));
        match p.flavor {
            Flavor::Nginx => {
                s.push_str(&fit(&format!("             ├─{} \"nginx: master process /usr/sbin/nginx -g daemon on; master_process on;\"", p.master_pid), width));
                s.push('\n');
                s.push_str(&fit(&format!("             └─{} \"nginx: worker process\"", p.worker_pid), width));
                s.push('\n');
            }
            Flavor::Varnish => {
                s.push_str(&fit(&format!("             ├─{} /usr/sbin/varnishd -j unix,user=vcache -F -a :6081 -T localhost:6082 -f /etc/varnish/default.vcl -S /etc/varnish/secret -s malloc,256m", p.master_pid), width));
                s.push('\n');
                s.push_str(&fit(&format!("             └─{} /usr/sbin/varnishd -j unix,user=vcache -F -a :6081 -T localhost:6082 -f /etc/varnish/default.vcl -S /etc/varnish/secret -s malloc,256m", p.worker_pid), width));
                s.push('\n');
            }
            Flavor::Caddy => {
                s.push_str(&fit(&format!("             └─{} /usr/bin/caddy run --environ --config /etc/caddy/Caddyfile", p.worker_pid), width));
                s.push('\n');
            }
            Flavor::Envoy | Flavor::Alb => {
                s.push_str(&fit(&format!("             └─{} {ENVOY_CMD}", p.worker_pid), width));
                s.push('\n');
            }
            Flavor::Apache => {
                s.push_str(&fit(&format!("             ├─{} /usr/sbin/apache2 -k start", p.master_pid), width));
                s.push('\n');
                s.push_str(&fit(&format!("             └─{} /usr/sbin/apache2 -k start", p.worker_pid), width));
                s.push('\n');
            }
            Flavor::Haproxy => {
                let cmd = "/usr/sbin/haproxy -Ws -f /etc/haproxy/haproxy.cfg -p /run/haproxy.pid -S /run/haproxy-master.sock";
                s.push_str(&fit(&format!("             ├─{} {cmd}", p.master_pid), width));
                s.push('\n');
                s.push_str(&fit(&format!("             └─{} {cmd}", p.worker_pid), width));
                s.push('\n');
            }
        }
    } else if p.stopped {
        // Stopped by hand: every process it ran exited cleanly.
        let ok = "(code=exited, status=0/SUCCESS)";
        if !pre.is_empty() {
            s.push_str(&format!("    Process: {pre_pid} ExecStartPre={pre} {ok}\n"));
        }
        match p.flavor {
            Flavor::Nginx => {
                s.push_str(&format!("    Process: {} ExecStart={start} {ok}\n", p.master_pid.saturating_sub(1)));
                s.push_str(&format!(
                    "    Process: {} ExecStop=/sbin/start-stop-daemon --quiet --stop --retry QUIT/5 --pidfile /run/nginx.pid {ok}\n",
                    p.worker_pid.saturating_add(1)
                ));
            }
            Flavor::Haproxy => {
                s.push_str(&format!("    Process: {} ExecStart=/usr/sbin/haproxy -Ws -f $CONFIG -p $PIDFILE $EXTRAOPTS {ok}\n", p.master_pid));
            }
            Flavor::Caddy | Flavor::Varnish | Flavor::Envoy | Flavor::Alb => {}
            Flavor::Apache => {
                s.push_str(&format!("    Process: {} ExecStart=/usr/sbin/apachectl start {ok}\n", p.master_pid.saturating_sub(1)));
                s.push_str(&format!("    Process: {} ExecStop=/usr/sbin/apachectl graceful-stop {ok}\n", p.worker_pid.saturating_add(1)));
            }
        }
        s.push_str(&format!("   Main PID: {} {ok}\n", p.master_pid));
        s.push_str("        CPU: 37ms\n");
    } else {
        if pre.is_empty() {
            s.push_str(&format!("    Process: {pre_pid} ExecStart={start} (code=exited, status=1/FAILURE)\n"));
        } else {
            s.push_str(&format!("    Process: {pre_pid} ExecStartPre={pre} (code=exited, status=1/FAILURE)\n"));
        }
        s.push_str("        CPU: 11ms\n");
    }
    let journal = proxy_journal(w, p);
    if lines > 0 && !journal.is_empty() {
        s.push('\n');
        for l in &journal[journal.len().saturating_sub(lines)..] {
            s.push_str(&fit(l, width));
            s.push('\n');
        }
    }
    s
}

/// The journal lines of an app's unit, oldest first.
fn app_journal(w: &World, a: &AppView) -> Vec<String> {
    let own = format!(" {}[", a.name);
    // gunicorn's processes write to the unit's journal under their own name.
    let program = (w.scenario.apps.get(a.index).is_some_and(|c| c.server == crate::sim::server::ServerKind::Gunicorn)).then_some(" gunicorn[");
    let about = format!("{}.service", a.name);
    w.app_log
        .lines()
        .filter(|l| {
            let rest = l.get(16..).unwrap_or("");
            rest.split_once(": ").is_some_and(|(head, msg)| {
                let tag = head.split_once(' ').map(|(_, t)| t).unwrap_or("");
                (format!(" {tag}").starts_with(&own))
                    || program.is_some_and(|p| format!(" {tag}").starts_with(p))
                    || (tag == "systemd[1]" && (msg.starts_with(&format!("{about}:")) || msg.ends_with(&format!(" {about}.")) || msg.ends_with(&format!(" {about}..."))))
            })
        })
        .cloned()
        .collect()
}

/// The proxy unit's journal: its start (or failed start) and its stderr;
/// HAProxy's request log goes there too (`log stdout`). Once a service
/// command acted on the unit, the starts, stops and reloads it recorded
/// (`World::proxy_journal`), in order.
fn proxy_journal(w: &World, p: &ProxyView) -> Vec<String> {
    if w.proxy_journal.is_empty() {
        let stderr: Vec<&String> = w.proxy_stderr.lines().collect();
        let mut out = start_lines(w, p, p.since, p.running, &stderr);
        if p.running && p.flavor == Flavor::Haproxy {
            out.extend(haproxy_requests(w, p, &w.clock.journal(p.since)));
        }
        if p.flavor == Flavor::Caddy {
            out.extend(caddy_errors(w, p, &w.clock.journal(p.since)));
        }
        return out;
    }
    let mut out = Vec::new();
    let dropped = w.proxy_stderr.dropped();
    for e in &w.proxy_journal {
        match e {
            UnitEntry::Start { at, ok, stderr: (from, to) } => {
                let (lo, hi) = (from.saturating_sub(dropped) as usize, to.saturating_sub(dropped) as usize);
                let stderr: Vec<&String> = w.proxy_stderr.lines().skip(lo).take(hi.saturating_sub(lo)).collect();
                out.extend(start_lines(w, p, *at, *ok, &stderr));
            }
            UnitEntry::Line(l) => out.push(l.clone()),
        }
    }
    if p.flavor == Flavor::Haproxy || p.flavor == Flavor::Caddy {
        // Its requests' lines, where their times put them.
        let t = w.clock.journal(w.proxy_since);
        if p.flavor == Flavor::Haproxy {
            out.extend(haproxy_requests(w, p, &t));
        } else {
            out.extend(caddy_errors(w, p, &t));
        }
        let mut keyed: Vec<(Option<(usize, String)>, String)> = Vec::new();
        let mut last = None;
        for l in out {
            let k = journal_key(&l).or(last.clone());
            last = k.clone();
            keyed.push((k, l));
        }
        keyed.sort_by(|a, b| a.0.cmp(&b.0));
        out = keyed.into_iter().map(|(_, l)| l).collect();
    }
    out
}

/// One start of the proxy's unit, at `at`: systemd's lines and what the
/// proxy printed on stderr.
fn start_lines(w: &World, p: &ProxyView, at: SimTime, ok: bool, stderr: &[&String]) -> Vec<String> {
    let host = host::HOSTNAME;
    let t = w.clock.journal(at);
    let (unit, desc) = proxy_unit(p.flavor);
    let mut out = vec![format!("{t} {host} systemd[1]: Starting {unit} - {desc}...")];
    let tag = match p.flavor {
        Flavor::Nginx => format!("nginx[{}]", p.master_pid),
        Flavor::Haproxy => format!("haproxy[{}]", p.worker_pid),
        Flavor::Apache => format!("apachectl[{}]", p.master_pid.saturating_sub(1)),
        Flavor::Caddy => format!("caddy[{}]", p.worker_pid),
        Flavor::Varnish => format!("varnishd[{}]", p.master_pid),
        Flavor::Envoy | Flavor::Alb => format!("envoy[{}]", p.worker_pid),
    };
    for l in stderr {
        let when = nginx_time_to_journal(l).unwrap_or_else(|| t.clone());
        out.push(format!("{when} {host} {tag}: {l}"));
    }
    if ok {
        if p.flavor == Flavor::Haproxy {
            out.push(format!("{t} {host} haproxy[{}]: [NOTICE]   ({}) : New worker ({}) forked", p.master_pid, p.master_pid, p.worker_pid));
            out.push(format!("{t} {host} haproxy[{}]: [NOTICE]   ({}) : Loading success.", p.master_pid, p.master_pid));
        }
        out.push(format!("{t} {host} systemd[1]: Started {unit} - {desc}."));
    } else {
        if p.flavor == Flavor::Nginx {
            out.push(format!("{t} {host} {tag}: nginx: configuration file /etc/nginx/nginx.conf test failed"));
        }
        out.push(format!("{t} {host} systemd[1]: {unit}: Control process exited, code=exited, status=1/FAILURE"));
        out.push(format!("{t} {host} systemd[1]: {unit}: Failed with result 'exit-code'."));
        out.push(format!("{t} {host} systemd[1]: Failed to start {unit} - {desc}."));
    }
    out
}

/// HAProxy's request log lines (`log stdout`), as its journal shows them.
/// Caddy's error logger writes to stderr, which the journal keeps: each
/// JSON line at the time of its `ts`.
fn caddy_errors(w: &World, p: &ProxyView, fallback: &str) -> Vec<String> {
    let host = host::HOSTNAME;
    let start = w.clock.unix(SimTime::ZERO);
    w.error_log
        .lines()
        .map(|l| {
            let ts = l.split("\"ts\":").nth(1).and_then(|r| r.split(|c: char| c != '.' && !c.is_ascii_digit()).next()).and_then(|v| v.parse::<f64>().ok());
            let when = ts.map(|t| w.clock.journal(SimTime((((t - start as f64).max(0.0)) * 1e6) as u64))).unwrap_or_else(|| fallback.to_string());
            format!("{when} {host} caddy[{}]: {l}", p.worker_pid)
        })
        .collect()
}

fn haproxy_requests(w: &World, p: &ProxyView, fallback: &str) -> Vec<String> {
    let host = host::HOSTNAME;
    w.access_log
        .lines()
        .map(|l| {
            let when = haproxy_time_to_journal(l).unwrap_or_else(|| fallback.to_string());
            format!("{when} {host} haproxy[{}]: {l}", p.worker_pid)
        })
        .collect()
}

/// A journal line's time as a sortable key: (month, `DD HH:MM:SS`).
fn journal_key(l: &str) -> Option<(usize, String)> {
    let month = MONTHS.iter().position(|m| l.starts_with(m))?;
    let rest = l.get(4..15)?;
    let (day, time) = rest.split_once(' ')?;
    Some((month, format!("{:0>2} {time}", day.trim())))
}

const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// `2026/11/21 04:43:44 [emerg] …` → `Nov 21 04:43:44`.
fn nginx_time_to_journal(l: &str) -> Option<String> {
    let (date, rest) = l.split_once(' ')?;
    let mut d = date.split('/');
    let (_, m, day) = (d.next()?, d.next()?, d.next()?);
    let month = MONTHS.get(m.parse::<usize>().ok()?.checked_sub(1)?)?;
    Some(format!("{month} {day} {}", rest.get(..8)?))
}

/// `… [21/Nov/2026:04:43:44.123] …` → `Nov 21 04:43:44`.
fn haproxy_time_to_journal(l: &str) -> Option<String> {
    let inside = l.split_once('[')?.1;
    let mut parts = inside.splitn(3, '/');
    let (day, month, rest) = (parts.next()?, parts.next()?, parts.next()?);
    Some(format!("{month} {day} {}", rest.get(5..13)?))
}

/// `journalctl [-u UNIT]... [-n N] [-k] [--no-pager] [-e] [-b] [-x]`.
pub(super) fn journalctl(ctx: &mut Ctx<'_>, args: &[String]) -> Res {
    let mut units: Vec<String> = Vec::new();
    let mut lines: Option<usize> = None;
    let mut kernel = false;
    let mut note = String::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-u" | "--unit" => match it.next() {
                Some(u) => units.push(u.clone()),
                None => return Res::with(String::new(), "journalctl: option requires an argument -- 'u'\n".into(), 1),
            },
            "-n" | "--lines" => match it.next().and_then(|v| v.parse().ok()) {
                Some(n) => lines = Some(n),
                None => return Res::with(String::new(), "Failed to parse lines\n".into(), 1),
            },
            "-k" | "--dmesg" => kernel = true,
            "--no-pager" | "-b" | "--boot" | "-q" | "--quiet" => {}
            "-e" | "--pager-end" => lines = Some(lines.unwrap_or(1000)),
            "-f" | "--follow" => {
                return Res::with(String::new(), "journalctl: -f is not simulated: the simulated world moves only when you act; run journalctl again to see new lines\n".into(), 1)
            }
            s if s.starts_with("--unit=") => units.push(s[7..].to_string()),
            s if s.starts_with("--lines=") => match s[8..].parse() {
                Ok(n) => lines = Some(n),
                Err(_) => return Res::with(String::new(), "Failed to parse lines\n".into(), 1),
            },
            s if s.starts_with('-') && !s.starts_with("--") && s.len() > 1 => {
                // Bundled short options: -xeu app, -n20, -ke.
                let flags: Vec<char> = s.chars().skip(1).collect();
                let mut i = 0;
                while i < flags.len() {
                    match flags[i] {
                        'x' => note = "journalctl: -x (the message catalog's explanations) is not simulated; the lines are shown without them\n".into(),
                        'e' => lines = Some(lines.unwrap_or(1000)),
                        'k' => kernel = true,
                        'b' | 'q' => {}
                        'u' | 'n' => {
                            let rest: String = flags[i + 1..].iter().collect();
                            let v = if rest.is_empty() { it.next().cloned() } else { Some(rest) };
                            let Some(v) = v else {
                                return Res::with(String::new(), format!("journalctl: option requires an argument -- '{}'\n", flags[i]), 1);
                            };
                            if flags[i] == 'u' {
                                units.push(v);
                            } else {
                                match v.parse() {
                                    Ok(n) => lines = Some(n),
                                    Err(_) => return Res::with(String::new(), "Failed to parse lines\n".into(), 1),
                                }
                            }
                            break;
                        }
                        'f' => {
                            return Res::with(String::new(), "journalctl: -f is not simulated: the simulated world moves only when you act; run journalctl again to see new lines\n".into(), 1)
                        }
                        c => return Res::with(String::new(), format!("journalctl: invalid option -- '{c}'\n"), 1),
                    }
                    i += 1;
                }
            }
            s => return Res::with(String::new(), format!("journalctl: matches such as \"{s}\" are not simulated here; use -u UNIT\n"), 1),
        }
    }
    let w = ctx.sim.world();
    let mut out: Vec<String> = Vec::new();
    if kernel {
        out.extend(w.app_log.lines().filter(|l| l.get(16..).is_some_and(|r| r.split(' ').nth(1) == Some("kernel:"))).cloned());
    } else if units.is_empty() {
        out.extend(w.app_log.lines().cloned());
    } else {
        for u in &units {
            match unit_named(w, u) {
                Some(Unit::App(a)) => out.extend(app_journal(w, &a)),
                Some(Unit::Proxy(p)) => out.extend(proxy_journal(w, &p)),
                _ => {}
            }
        }
    }
    if let Some(n) = lines {
        out = out.split_off(out.len().saturating_sub(n));
    }
    let text = if out.is_empty() { "-- No entries --\n".to_string() } else { out.join("\n") + "\n" };
    Res::with(text, note, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_times_read_like_systemd() {
        assert_eq!(ago(0), "now");
        assert_eq!(ago(512_000), "512ms ago");
        assert_eq!(ago(12_400_000), "12s ago");
        assert_eq!(ago(65_000_000), "1min 5s ago");
        assert_eq!(ago(7 * 60_000_000), "7min ago");
        assert_eq!(ago(3_900_000_000), "1h 5min ago");
        assert_eq!(ago(3 * 86_400_000_000), "3 days ago");
    }

    #[test]
    fn converts_log_times_to_journal_times() {
        assert_eq!(nginx_time_to_journal("2026/11/21 04:43:44 [emerg] 4452#4452: x").as_deref(), Some("Nov 21 04:43:44"));
        assert_eq!(haproxy_time_to_journal("127.0.0.1:40001 [21/Nov/2026:04:43:44.123] fe_main").as_deref(), Some("Nov 21 04:43:44"));
        assert_eq!(nginx_time_to_journal("[ALERT]    (4453) : config"), None);
    }
}
