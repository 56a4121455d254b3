//! `ps aux` (procps 4.0, Debian 12), and the per-server facts the other
//! tools share (`systemctl status`'s header and CGroup, the processes):
//! each app is its server program (`sim::server`). The process titles and
//! users of PHP-FPM and gunicorn are those `ps` showed in
//! docs/research/app-servers-observations.md (§1.0, §2.1); the unit files
//! are Debian's `php8.2-fpm.service` (read there) and the gunicorn deploy
//! docs' hand-written `gunicorn.service` (inferred, §5). CPU, memory and
//! sizes are fixed, plausible values, as elsewhere on this host.

use crate::sim::server::gunicorn::WorkerClass;
use crate::sim::server::php_fpm::Pm;
use crate::sim::server::ServerKind;
use crate::sim::time::SimTime;
use crate::sim::world::World;

use super::host::{self, DOCKERD_PID, SSHD_PID};
use super::{Ctx, Res};

/// How systemd and ps see an app's server.
pub struct ServerView {
    pub description: Option<&'static str>,
    pub unit_dir: &'static str,
    pub docs: Option<&'static str>,
    pub exec: String,
    pub exec_start_post: Option<String>,
    /// The main process's name (`Main PID: 2817 (node)`).
    pub comm: &'static str,
    /// `Status:` (a `Type=notify` unit's status text).
    pub status: Option<String>,
    pub tasks: u32,
    pub memory: &'static str,
    /// (pid, user, command line), the main process first.
    pub processes: Vec<(u32, &'static str, String)>,
}

const FPM_CONF: &str = "/etc/php/8.2/fpm/php-fpm.conf";

fn bind(listen: &str) -> String {
    listen.to_string()
}

/// The server of app `a` as systemd and ps show it now.
pub fn server_view(w: &World, a: usize) -> ServerView {
    let cfg = &w.scenario.apps[a];
    let p = &w.apps[a];
    let pid = cfg.pid;
    // At most this many workers are listed (a pool of 100000 static children would be 100000 lines).
    let worker_pids = |n: usize| -> Vec<u32> {
        let n = n.min(512);
        let mut v: Vec<u32> = (0..n).map(|i| p.slot_pids.get(i).copied().unwrap_or(pid.wrapping_add(1 + i as u32))).collect();
        v.sort_unstable();
        v
    };
    match cfg.server {
        ServerKind::Node => ServerView {
            description: None,
            unit_dir: "/etc/systemd/system",
            docs: None,
            exec: "/usr/local/bin/node server.js".into(),
            exec_start_post: None,
            comm: "node",
            status: None,
            tasks: 11,
            memory: "46.2M",
            processes: vec![(pid, "app", "node server.js".into())],
        },
        ServerKind::PhpFpm => {
            let f = &cfg.php_fpm;
            // Children alive: static keeps max_children, dynamic its
            // start_servers (Debian: 2) or more while busy, ondemand only busy ones.
            let busy = p.busy.min(f.max_children);
            let children = match f.pm {
                Pm::Static => f.max_children,
                Pm::Dynamic => busy.max(2.min(f.max_children)),
                Pm::Ondemand => busy,
            };
            let mut processes = vec![(pid, "root", format!("php-fpm: master process ({FPM_CONF})"))];
            for c in worker_pids(children as usize) {
                processes.push((c, "www-data", "php-fpm: pool www".into()));
            }
            ServerView {
                description: Some("The PHP 8.2 FastCGI Process Manager"),
                unit_dir: "/lib/systemd/system",
                docs: Some("man:php-fpm8.2(8)"),
                exec: format!("/usr/sbin/php-fpm8.2 --nodaemonize --fpm-config {FPM_CONF}"),
                exec_start_post: Some("-/usr/lib/php/php-fpm-socket-helper install /run/php/php-fpm.sock /etc/php/8.2/fpm/pool.d/www.conf 82".into()),
                comm: "php-fpm8.2",
                status: Some(format!("Processes active: {busy}, idle: {}, Requests: {}, slow: 0, Traffic: 0req/sec", children - busy, p.taken)),
                tasks: 1 + children,
                memory: "18.9M",
                processes,
            }
        }
        ServerKind::Gunicorn => {
            let g = &cfg.gunicorn;
            let mut args = format!("--workers {} --timeout {} --bind {}", g.workers, g.timeout, bind(&cfg.listen));
            if g.worker_class == WorkerClass::Gthread {
                args.push_str(&format!(" --worker-class gthread --threads {} --keep-alive {}", g.threads, g.keepalive));
            }
            let cmd = format!("/usr/bin/python3 /usr/bin/gunicorn {args} app.wsgi");
            let mut processes = vec![(pid, "www-data", cmd.clone())];
            for c in worker_pids(g.workers as usize) {
                processes.push((c, "www-data", cmd.clone()));
            }
            ServerView {
                description: Some("gunicorn daemon"),
                unit_dir: "/etc/systemd/system",
                docs: None,
                exec: format!("/usr/bin/gunicorn {args} app.wsgi"),
                exec_start_post: None,
                comm: "gunicorn",
                status: None,
                tasks: 1 + g.workers,
                memory: "52.4M",
                processes,
            }
        }
        ServerKind::Uwsgi => {
            let u = &cfg.uwsgi;
            let mut args = format!("--plugin python3 --master --processes {} --socket {} --buffer-size {}", u.processes, bind(&cfg.listen), u.buffer_size);
            if u.harakiri > 0 {
                args.push_str(&format!(" --harakiri {}", u.harakiri));
            }
            let cmd = format!("/usr/bin/uwsgi {args} --wsgi-file app.py");
            let mut processes = vec![(pid, "www-data", cmd.clone())];
            for c in worker_pids(u.processes as usize) {
                processes.push((c, "www-data", cmd.clone()));
            }
            ServerView {
                description: None,
                unit_dir: "/etc/systemd/system",
                docs: None,
                exec: cmd.clone(),
                exec_start_post: None,
                comm: "uwsgi",
                status: None,
                tasks: 1 + u.processes,
                memory: "31.7M",
                processes,
            }
        }
    }
}

/// `HH:MM` of an instant (ps's START for a process of today).
fn start_time(w: &World, t: SimTime) -> String {
    w.clock.ls(t).rsplit(' ').next().unwrap_or("").to_string()
}

pub(super) fn ps(ctx: &mut Ctx<'_>, args: &[String]) -> Res {
    let w = ctx.sim.world();
    let flags: Vec<&str> = args.iter().map(String::as_str).collect();
    if !matches!(flags.as_slice(), ["aux"] | ["-aux"] | ["auxww"] | ["-ef"] | ["axu"]) {
        return Res::with(String::new(), "ps: this terminal simulates ps aux (and ps -ef, shown the same way)\n".into(), 1);
    }
    let boot = start_time(w, SimTime::ZERO);
    let mut rows: Vec<(&str, u32, &str, &str, u32, u32, &str, String, String)> = vec![
        ("root", 1, "0.0", "0.1", 167_744, 12_416, "Ss", boot.clone(), "/sbin/init".into()),
        ("root", SSHD_PID, "0.0", "0.0", 15_432, 9_312, "Ss", boot.clone(), "sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups".into()),
        ("root", DOCKERD_PID, "0.1", "0.9", 1_847_552, 78_904, "Ssl", boot.clone(), "/usr/sbin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock".into()),
    ];
    let px = host::proxy(w);
    if px.running {
        let since = start_time(w, px.since);
        match px.flavor {
            crate::sim::scenario::Flavor::Nginx => {
                rows.push(("root", px.master_pid, "0.0", "0.0", 10_364, 1_716, "Ss", since.clone(), "nginx: master process /usr/sbin/nginx -g daemon on; master_process on;".into()));
                rows.push(("www-data", px.worker_pid, "0.0", "0.0", 11_028, 3_792, "S", since, "nginx: worker process".into()));
            }
            crate::sim::scenario::Flavor::Haproxy => {
                let cmd = "/usr/sbin/haproxy -Ws -f /etc/haproxy/haproxy.cfg -p /run/haproxy.pid -S /run/haproxy-master.sock";
                rows.push(("root", px.master_pid, "0.0", "0.1", 84_376, 9_840, "Ss", since.clone(), cmd.into()));
                rows.push(("haproxy", px.worker_pid, "0.0", "0.2", 91_216, 18_064, "Sl", since, cmd.into()));
            }
            // The same command lines as `systemctl status` shows (systemd.rs).
            crate::sim::scenario::Flavor::Apache => {
                rows.push(("root", px.master_pid, "0.0", "0.1", 6_812, 4_320, "Ss", since.clone(), "/usr/sbin/apache2 -k start".into()));
                rows.push(("www-data", px.worker_pid, "0.0", "0.1", 1_932_600, 4_672, "Sl", since, "/usr/sbin/apache2 -k start".into()));
            }
            crate::sim::scenario::Flavor::Caddy => {
                rows.push(("caddy", px.worker_pid, "0.0", "0.4", 1_281_400, 38_416, "Ssl", since, "/usr/bin/caddy run --environ --config /etc/caddy/Caddyfile".into()));
            }
            crate::sim::scenario::Flavor::Envoy => {
                rows.push(("envoy", px.worker_pid, "0.1", "1.2", 2_210_940, 96_212, "Ssl", since, super::systemd::ENVOY_CMD.into()));
            }
            // The load balancer runs on AWS's side: no process on this host.
            crate::sim::scenario::Flavor::Alb => {}
            crate::sim::scenario::Flavor::Varnish => {
                let cmd = "/usr/sbin/varnishd -j unix,user=vcache -F -a :6081 -T localhost:6082 -f /etc/varnish/default.vcl -S /etc/varnish/secret -s malloc,256m";
                rows.push(("vcache", px.master_pid, "0.0", "0.1", 19_380, 6_112, "SLs", since.clone(), cmd.into()));
                rows.push(("vcache", px.worker_pid, "0.0", "0.9", 285_540, 88_020, "SLl", since, cmd.into()));
            }
        }
    }
    for v in host::apps(w) {
        let Some(started) = v.started() else { continue };
        let since = start_time(w, started);
        let sv = server_view(w, v.index);
        for (i, (pid, user, cmd)) in sv.processes.into_iter().enumerate() {
            let (vsz, rss, stat) = match (w.scenario.apps[v.index].server, i) {
                (ServerKind::Node, _) => (1_023_420, 47_316, "Ssl"),
                (ServerKind::PhpFpm, 0) => (201_612, 21_400, "Ss"),
                (ServerKind::PhpFpm, _) => (201_932, 8_548, "S"),
                (ServerKind::Gunicorn, 0) => (35_252, 29_380, "Ss"),
                (ServerKind::Gunicorn, _) => (35_620, 26_084, "S"),
                (ServerKind::Uwsgi, 0) => (61_448, 24_312, "Ss"),
                (ServerKind::Uwsgi, _) => (61_448, 19_020, "S"),
            };
            rows.push((user, pid, "0.0", "0.1", vsz, rss, stat, since.clone(), cmd));
        }
    }
    let mut out = String::from("USER         PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND\n");
    for (user, pid, cpu, mem, vsz, rss, stat, start, cmd) in rows {
        out.push_str(&format!("{user:<8} {pid:>6} {cpu:>4} {mem:>4} {vsz:>6} {rss:>5} {:<8} {stat:<4} {start:>5} {:>6} {cmd}\n", "?", "0:00"));
    }
    Res::with(out, String::new(), 0)
}
