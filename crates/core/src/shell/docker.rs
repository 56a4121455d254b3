//! `docker ps`, `docker inspect` and `docker logs` (Docker 20.10, Debian
//! 12's docker.io). Each app is the container named after it (see
//! host.rs); its state follows the same process systemd supervises.
//! Docker 20.10 sets `State.OOMKilled` when a container stops and does not
//! clear it when the container starts again: after an OOM kill it stays
//! `true` while the restarted app runs, until the next exit.

use time::OffsetDateTime;

use crate::sim::time::SimTime;
use crate::sim::world::World;

use super::host::{self, exit_code, hex_id, AppView, Service};
use super::{Ctx, Res};

/// The containers were created this long before the run began.
const CREATED_BEFORE_S: i64 = 3 * 86_400;

pub(super) fn run(ctx: &mut Ctx<'_>, args: &[String]) -> Res {
    let Some(sub) = args.first() else {
        return Res::with(String::new(), "\nUsage:  docker [OPTIONS] COMMAND\n\nA self-sufficient runtime for containers\n\nThis terminal simulates: docker ps, docker inspect, docker logs\n".into(), 0);
    };
    let rest = &args[1..];
    match sub.as_str() {
        "ps" | "container" if sub == "ps" || rest.first().map(String::as_str) == Some("ls") => {
            let rest = if sub == "ps" { rest } else { &rest[1..] };
            ps(ctx.sim.world(), rest)
        }
        "inspect" => inspect(ctx.sim.world(), rest),
        "logs" => logs(ctx.sim.world(), rest),
        "restart" | "start" | "stop" | "kill" | "rm" | "run" | "exec" => Res::with(
            String::new(),
            format!("docker {sub}: this terminal only observes the simulated world; change it with the page's controls (break, fix, send)\n"),
            1,
        ),
        other => Res::with(
            String::new(),
            format!("docker: '{other}' is not a docker command (in this terminal: ps, inspect, logs).\nSee 'docker --help'\n"),
            1,
        ),
    }
}

/// Go's `units.HumanDuration`.
fn human_duration(us: u64) -> String {
    let seconds = us / 1_000_000;
    let minutes = seconds / 60;
    let hours = (us as f64 / 3_600_000_000.0 + 0.5) as u64;
    if seconds < 1 {
        "Less than a second".into()
    } else if seconds == 1 {
        "1 second".into()
    } else if seconds < 60 {
        format!("{seconds} seconds")
    } else if minutes == 1 {
        "About a minute".into()
    } else if minutes < 60 {
        format!("{minutes} minutes")
    } else if hours == 1 {
        "About an hour".into()
    } else if hours < 48 {
        format!("{hours} hours")
    } else if hours < 24 * 7 * 2 {
        format!("{} days", hours / 24)
    } else if hours < 24 * 30 * 2 {
        format!("{} weeks", hours / 24 / 7)
    } else if hours < 24 * 365 * 2 {
        format!("{} months", hours / 24 / 30)
    } else {
        format!("{} years", us / 3_600_000_000 / 24 / 365)
    }
}

fn container_id(w: &World, a: &AppView) -> String {
    hex_id(&format!("container/{}/{}", a.name, w.base.seed), 64)
}

fn status_text(w: &World, a: &AppView) -> String {
    match a.service {
        Service::Running { since, .. } => format!("Up {}", human_duration(w.now.since(since))),
        _ => match a.last_exit {
            Some(e) => format!("Exited ({}) {} ago", exit_code(&e), human_duration(w.now.since(e.at))),
            // Never started (the unit was not started since the host booted).
            None => "Created".to_string(),
        },
    }
}

/// Go's tabwriter as docker uses it: min width 10, padding 3; the last
/// column is not padded.
fn table(rows: &[Vec<String>]) -> String {
    let cols = rows.first().map(Vec::len).unwrap_or(0);
    let mut width = vec![0usize; cols];
    for r in rows {
        for (i, c) in r.iter().enumerate().take(cols.saturating_sub(1)) {
            width[i] = width[i].max((c.chars().count() + 3).max(10));
        }
    }
    let mut out = String::new();
    for r in rows {
        let mut line = String::new();
        for (i, c) in r.iter().enumerate() {
            line.push_str(c);
            if i + 1 < cols {
                line.push_str(&" ".repeat(width[i].saturating_sub(c.chars().count())));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn ps(w: &World, args: &[String]) -> Res {
    let (mut all, mut quiet) = (false, false);
    for a in args {
        match a.as_str() {
            "-a" | "--all" => all = true,
            "-q" | "--quiet" => quiet = true,
            "-aq" | "-qa" => {
                all = true;
                quiet = true;
            }
            s => return Res::with(String::new(), format!("unknown flag: {s}\nSee 'docker ps --help'.\n"), 125),
        }
    }
    let now = w.now;
    let created_ago = now.as_micros() + CREATED_BEFORE_S as u64 * 1_000_000;
    let mut rows = vec![["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"].iter().map(|s| s.to_string()).collect::<Vec<_>>()];
    let mut ids = String::new();
    // docker lists the newest container first; these were created together.
    for a in host::apps(w).into_iter().rev() {
        if !all && !a.running() {
            continue;
        }
        let id = container_id(w, &a);
        ids.push_str(&id[..12]);
        ids.push('\n');
        rows.push(vec![
            id[..12].to_string(),
            format!("{}:latest", a.name),
            "\"docker-entrypoint.s…\"".into(),
            format!("{} ago", human_duration(created_ago)),
            status_text(w, &a),
            String::new(),
            a.name.clone(),
        ]);
    }
    if quiet {
        return Res::with(ids, String::new(), 0);
    }
    Res::with(table(&rows), String::new(), 0)
}

/// Go's RFC 3339 with nanoseconds for a calendar instant.
fn rfc3339_unix(secs: i64, nanos: u32) -> String {
    let dt = OffsetDateTime::from_unix_timestamp(secs.clamp(0, 253_402_300_799)).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    crate::sim::time::rfc3339_nano(dt, nanos)
}

fn inspect(w: &World, args: &[String]) -> Res {
    let names: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    if let Some(flag) = args.iter().find(|a| a.starts_with('-')) {
        return Res::with(String::new(), format!("docker inspect {flag}: not simulated here (docker inspect NAME, then grep)\n"), 1);
    }
    if names.is_empty() {
        return Res::with(String::new(), "\"docker inspect\" requires at least 1 argument.\nSee 'docker inspect --help'.\n\nUsage:  docker inspect [OPTIONS] NAME|ID [NAME|ID...]\n\nReturn low-level information on Docker objects\n".into(), 1);
    }
    let mut objects = Vec::new();
    let mut err = String::new();
    for n in names {
        let found = host::apps(w).into_iter().find(|a| a.name == *n || container_id(w, a).starts_with(n.as_str()) && n.len() >= 3);
        match found {
            Some(a) => objects.push(container_json(w, &a)),
            None => err.push_str(&format!("Error: No such object: {n}\n")),
        }
    }
    let out = if objects.is_empty() { "[]\n".to_string() } else { format!("[\n{}\n]\n", objects.join(",\n")) };
    let status = if err.is_empty() { 0 } else { 1 };
    Res::with(out, err, status)
}

fn container_json(w: &World, a: &AppView) -> String {
    let start = w.base.start_unix;
    let created = rfc3339_unix(start - CREATED_BEFORE_S, 482_903_541);
    let id = container_id(w, a);
    let image = hex_id(&format!("image/{}", a.name), 64);
    let running = a.running();
    let exit = a.last_exit;
    let started = match a.service {
        Service::Running { since, .. } => since,
        _ => w.apps.get(a.index).map(|p| p.started).unwrap_or(SimTime::ZERO),
    };
    let finished = exit.map(|e| w.clock.rfc3339_nano(e.at)).unwrap_or_else(|| "0001-01-01T00:00:00Z".into());
    let oom = exit.is_some_and(|e| e.cause == crate::sim::app::ExitCause::OomKilled);
    let code = if running { 0 } else { exit.map(|e| exit_code(&e)).unwrap_or(0) };
    let pid = if running { a.pid } else { 0 };
    let status = match (running, exit) {
        (true, _) => "running",
        (false, Some(_)) => "exited",
        (false, None) => "created",
    };
    let name = &a.name;
    format!(
        r#"    {{
        "Id": "{id}",
        "Created": "{created}",
        "Path": "docker-entrypoint.sh",
        "Args": [
            "node",
            "server.js"
        ],
        "State": {{
            "Status": "{status}",
            "Running": {running},
            "Paused": false,
            "Restarting": false,
            "OOMKilled": {oom},
            "Dead": false,
            "Pid": {pid},
            "ExitCode": {code},
            "Error": "",
            "StartedAt": "{started}",
            "FinishedAt": "{finished}"
        }},
        "Image": "sha256:{image}",
        "Name": "/{name}",
        "RestartCount": 0,
        "Driver": "overlay2",
        "Platform": "linux",
        "HostConfig": {{
            "Binds": [
                "/run/{name}:/run/{name}"
            ],
            "NetworkMode": "host",
            "RestartPolicy": {{
                "Name": "no",
                "MaximumRetryCount": 0
            }},
            "AutoRemove": false,
            "Memory": 0,
            "OomKillDisable": false,
            "OomScoreAdj": 0
        }},
        "Config": {{
            "Hostname": "{host}",
            "User": "app",
            "Cmd": [
                "node",
                "server.js"
            ],
            "Image": "{name}:latest",
            "WorkingDir": "/srv/app",
            "Entrypoint": [
                "docker-entrypoint.sh"
            ]
        }}
    }}"#,
        started = if running || exit.is_some() { w.clock.rfc3339_nano(started) } else { "0001-01-01T00:00:00Z".to_string() },
        host = host::HOSTNAME,
    )
}

fn logs(w: &World, args: &[String]) -> Res {
    let mut tail: Option<usize> = None;
    let mut name = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--tail" | "-n" => match it.next().map(|v| if v == "all" { Ok(usize::MAX) } else { v.parse::<usize>() }) {
                Some(Ok(n)) => tail = Some(n),
                _ => return Res::with(String::new(), "invalid value for --tail\n".into(), 125),
            },
            s if s.starts_with("--tail=") => match s[7..].parse() {
                Ok(n) => tail = Some(n),
                Err(_) => return Res::with(String::new(), "invalid value for --tail\n".into(), 125),
            },
            "-f" | "--follow" => {
                return Res::with(String::new(), "docker logs -f is not simulated: the simulated world moves only when you act; run docker logs again\n".into(), 1)
            }
            s if s.starts_with('-') => return Res::with(String::new(), format!("unknown flag: {s}\nSee 'docker logs --help'.\n"), 125),
            s => name = Some(s.to_string()),
        }
    }
    let Some(name) = name else {
        return Res::with(String::new(), "\"docker logs\" requires exactly 1 argument.\nSee 'docker logs --help'.\n\nUsage:  docker logs [OPTIONS] CONTAINER\n\nFetch the logs of a container\n".into(), 1);
    };
    let Some(a) = host::apps(w).into_iter().find(|a| a.name == name) else {
        return Res::with(String::new(), format!("Error: No such container: {name}\n"), 1);
    };
    // What the process printed: its own lines, without journald's prefix.
    let lines = host::own_lines(w, a.index);
    let keep = tail.unwrap_or(usize::MAX).min(lines.len());
    let out: String = lines[lines.len() - keep..].iter().map(|l| format!("{l}\n")).collect();
    Res::with(out, String::new(), 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_docker() {
        assert_eq!(human_duration(400_000), "Less than a second");
        assert_eq!(human_duration(1_000_000), "1 second");
        assert_eq!(human_duration(12_000_000), "12 seconds");
        assert_eq!(human_duration(90_000_000), "About a minute");
        assert_eq!(human_duration(3 * 86_400_000_000), "3 days");
    }

    #[test]
    fn table_pads_like_tabwriter() {
        let t = table(&[
            vec!["CONTAINER ID".into(), "IMAGE".into(), "PORTS".into(), "NAMES".into()],
            vec!["0123456789ab".into(), "app:latest".into(), String::new(), "app".into()],
        ]);
        assert_eq!(t, "CONTAINER ID   IMAGE        PORTS     NAMES\n0123456789ab   app:latest             app\n");
    }

    #[test]
    fn go_times() {
        assert_eq!(rfc3339_unix(1_795_236_224, 0), "2026-11-21T04:43:44Z");
        assert_eq!(rfc3339_unix(1_795_236_224, 482_903_541), "2026-11-21T04:43:44.482903541Z");
    }
}
