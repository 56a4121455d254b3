//! The host the terminal runs on, as its tools see it. Every tool asks this
//! module, so `systemctl`, `docker`, `ss`, `ls` and `curl` tell one story
//! about the same state of the world:
//!
//! - The proxy (nginx or HAProxy, the scenario's flavor) runs on `web1` as
//!   `nginx.service` / `haproxy.service`: master PID `worker_pid - 1`,
//!   worker `worker_pid`, listening on `0.0.0.0:<listen>`.
//! - Each app runs as `node server.js` (PID `apps[].pid`, user `app`) in a
//!   Docker container named after the app (image `<name>:latest`, host
//!   network, `/run/<name>` bind-mounted for its socket), supervised by the
//!   systemd unit `<name>.service`, which restarts it `restart_ms` after it
//!   dies. systemd and Docker describe the same process: systemd sees it as
//!   the unit's main process, Docker as the container's. (A real unit that
//!   runs `docker start -a` would name the docker client as its main
//!   process; the lab keeps the app's PID, which is what the engine's
//!   journal lines name.)
//! - The unit has no `Description=`, so systemd names it `app.service`.
//! - An app whose server (`App::server`, `sim::server`) is not node is that
//!   program: gunicorn (a master and its workers, `/usr/bin/python3
//!   /usr/bin/gunicorn …` for each, as `ps aux` showed them in
//!   docs/research/app-servers-observations.md §2.1), PHP-FPM (`php-fpm:
//!   master process (/etc/php/8.2/fpm/php-fpm.conf)` as root and `php-fpm:
//!   pool www` children as www-data, §1.0; its socket `listen.owner`,
//!   `listen.group`, `listen.mode`), uWSGI. The layout of `systemctl status
//!   php8.2-fpm` (Debian's unit file and the `Status:` strings the binary
//!   holds) and of a hand-written `gunicorn.service` is inferred there (§5):
//!   no systemd ran where it was measured.
//! - Memory, CPU and task figures are fixed, plausible values: the
//!   simulation does not model them.

use crate::sim::app::{self, Exit, ExitCause};
use crate::sim::fault::ServiceFault;
use crate::sim::net::Address;
use crate::sim::scenario::Flavor;
use crate::sim::time::SimTime;
use crate::sim::world::World;

pub const HOSTNAME: &str = "web1";
/// Debian 12's curl.
pub const CURL_VERSION: &str = "7.88.1";
/// sshd, always there (the admin logged in through it).
pub const SSHD_PID: u32 = 612;
/// dockerd (it owns /run/docker.sock).
pub const DOCKERD_PID: u32 = 701;

/// The proxy's service.
pub struct ProxyView {
    pub flavor: Flavor,
    /// `nginx` or `haproxy`.
    pub unit: &'static str,
    pub running: bool,
    /// Stopped by hand (`systemctl stop`): inactive, not failed.
    pub stopped: bool,
    /// Running since, failed since, or stopped since.
    pub since: SimTime,
    pub master_pid: u32,
    pub worker_pid: u32,
    pub port: u16,
}

pub fn proxy(w: &World) -> ProxyView {
    let p = &w.scenario.proxy;
    ProxyView {
        flavor: p.flavor,
        unit: match p.flavor {
            Flavor::Apache => "apache2",
            Flavor::Varnish => "varnish",
            f => f.as_str(),
        },
        running: w.proxy_running,
        stopped: w.proxy_stopped && !w.proxy_running,
        since: w.proxy_since,
        master_pid: p.worker_pid.saturating_sub(1),
        worker_pid: p.worker_pid,
        port: p.listen,
    }
}

/// What systemd knows about an app's unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    /// The process runs (since `since`); `listening` is false while a
    /// freshly (re)started process is still booting.
    Running { since: SimTime, listening: bool },
    /// Stopped since `since` (None: not started since the host booted,
    /// before the run began).
    Stopped { since: Option<SimTime> },
    /// The process died; systemd restarts it after `RestartSec`.
    AutoRestart { exit: Exit },
}

pub struct AppView {
    pub index: usize,
    pub name: String,
    pub pid: u32,
    pub listen: Option<Address>,
    pub service: Service,
    /// The last process exit (crash, OOM kill or stop), for Docker.
    pub last_exit: Option<Exit>,
    pub restarts: u32,
    /// systemd's `RestartSec`, ms.
    pub restart_ms: u64,
}

impl AppView {
    pub fn unit(&self) -> String {
        format!("{}.service", self.name)
    }

    /// Whether a process exists now.
    pub fn running(&self) -> bool {
        matches!(self.service, Service::Running { .. })
    }

    /// Whether its socket accepts connections now.
    pub fn listening(&self) -> bool {
        matches!(self.service, Service::Running { listening: true, .. })
    }

    /// When the current (or last) process started.
    pub fn started(&self) -> Option<SimTime> {
        match self.service {
            Service::Running { since, .. } => Some(since),
            _ => None,
        }
    }
}

/// Every app on the host, in scenario order.
pub fn apps(w: &World) -> Vec<AppView> {
    (0..w.scenario.apps.len().min(w.apps.len())).map(|a| app_view(w, a)).collect()
}

fn app_view(w: &World, a: usize) -> AppView {
    let cfg = &w.scenario.apps[a];
    let p = &w.apps[a];
    let stop = p.last_exit.filter(|e| e.cause == ExitCause::Stopped);
    let service = match app::service_fault(w, a) {
        Some(ServiceFault::Stopped { since }) => {
            let at = stop.map(|e| e.at).unwrap_or(SimTime::ZERO).max(since);
            // Stopped from the very start with no recorded stop: it was not
            // started since the host booted.
            Service::Stopped { since: (at > SimTime::ZERO || stop.is_some()).then_some(at) }
        }
        _ if p.stopped.is_some() => Service::Stopped { since: p.stopped },
        _ if !p.running => match p.last_exit {
            Some(exit) => Service::AutoRestart { exit },
            None => Service::Stopped { since: None },
        },
        fault => {
            let restarted = w
                .scenario
                .faults
                .iter()
                .filter_map(|f| f.service_restarted_at(w.now, &cfg.name))
                .max()
                .unwrap_or(SimTime::ZERO);
            let since = p.started.max(restarted);
            match fault {
                Some(ServiceFault::Starting { since: s }) => Service::Running { since: since.max(s), listening: false },
                _ => Service::Running { since, listening: true },
            }
        }
    };
    // A deploy or the end of an app_down window replaced the process too.
    let last_exit = p.last_exit;
    AppView {
        index: a,
        name: cfg.name.clone(),
        pid: cfg.pid,
        listen: Address::parse(&cfg.listen).ok(),
        service,
        last_exit,
        restarts: p.restarts,
        restart_ms: cfg.restart_ms,
    }
}

/// The app whose unit or container is called `name` (`app`, `app.service`).
pub fn app_named(w: &World, name: &str) -> Option<AppView> {
    let base = name.strip_suffix(".service").unwrap_or(name);
    w.scenario.apps.iter().position(|a| a.name == base).filter(|&a| a < w.apps.len()).map(|a| app_view(w, a))
}

/// The user a command runs as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum User {
    Root,
    /// nginx's worker user (Debian's web user, present with either proxy).
    WwwData,
    /// HAProxy's user (Debian's haproxy package creates it; absent under nginx).
    Haproxy,
    /// Caddy's user (Debian's caddy package creates it).
    Caddy,
    /// Varnish's worker user (Debian's varnish package: vcache).
    Varnish,
    /// The app's own user.
    App,
}

impl User {
    /// The user called `name` on a host that runs `flavor`'s proxy.
    pub fn parse(name: &str, flavor: Flavor) -> Option<User> {
        match name {
            "root" | "0" => Some(User::Root),
            "www-data" | "33" => Some(User::WwwData),
            "haproxy" | "108" if flavor == Flavor::Haproxy => Some(User::Haproxy),
            "caddy" if flavor == Flavor::Caddy => Some(User::Caddy),
            "vcache" if flavor == Flavor::Varnish => Some(User::Varnish),
            "app" | "1000" => Some(User::App),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            User::Root => "root",
            User::WwwData => "www-data",
            User::Haproxy => "haproxy",
            User::Caddy => "caddy",
            User::Varnish => "vcache",
            User::App => "app",
        }
    }

    /// The user the proxy's workers run as (and the group of a shared socket).
    pub fn proxy(flavor: Flavor) -> User {
        match flavor {
            Flavor::Nginx => User::WwwData,
            Flavor::Haproxy => User::Haproxy,
            Flavor::Apache => User::WwwData,
            Flavor::Caddy => User::Caddy,
            Flavor::Varnish => User::Varnish,
            // Envoy's unit runs as root unless told otherwise; the ALB reaches the apps over the network.
            Flavor::Envoy | Flavor::Alb => User::Root,
        }
    }
}

/// A unix socket file an app listens on, with its mode: `srw-rw----
/// app:www-data` normally (`app:haproxy` under HAProxy: the proxy's group); `srw------- app:app` when a fault made the app
/// create it for itself only (`unix_socket_permission`).
pub struct SocketFile {
    pub path: String,
    pub app: usize,
    pub private: bool,
    /// When it was created (the process that listens started).
    pub created: SimTime,
}

/// The socket files on the host: one per app that listens on a unix
/// socket. The file stays when the process dies (it was not unlinked).
pub fn socket_files(w: &World) -> Vec<SocketFile> {
    apps(w)
        .into_iter()
        .filter_map(|v| match &v.listen {
            Some(Address::Unix { path }) => {
                let name = &w.scenario.apps[v.index].name;
                let private = w
                    .scenario
                    .faults
                    .iter()
                    .any(|f| matches!(f.kind, crate::sim::FaultKind::UnixSocketPermission { .. }) && f.targets(name));
                Some(SocketFile { path: path.clone(), app: v.index, private, created: v.started().unwrap_or(SimTime::ZERO) })
            }
            _ => None,
        })
        .collect()
}

/// Whether `user` may connect to `sock` on a host that runs `flavor`'s
/// proxy: root and the owner always; the socket's group (the proxy's user)
/// unless the app made it private; others never (mode 0660 or 0600).
pub fn may_connect(sock: &SocketFile, user: User, flavor: Flavor) -> bool {
    user == User::Root || user == User::App || (!sock.private && user == User::proxy(flavor))
}

/// A Docker-style exit code for an exit.
pub fn exit_code(exit: &Exit) -> i32 {
    match exit.cause {
        ExitCause::Crashed => 1,
        ExitCause::OomKilled => 137,
        ExitCause::Stopped => 143,
    }
}

/// A deterministic hex string of `len` digits for `seed` (container and
/// image ids).
pub fn hex_id(seed: &str, len: usize) -> String {
    let mut out = String::new();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in seed.bytes() {
        h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
    }
    while out.len() < len {
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        out.push_str(&format!("{h:016x}"));
    }
    out.truncate(len);
    out
}

/// The lines app `a`'s own process wrote (what `docker logs` shows): a
/// node app's journal messages under its tag, gunicorn's stderr lines (in
/// the journal as `gunicorn[pid]`), PHP-FPM's and uWSGI's own log lines
/// (written as their files hold them).
pub fn own_lines(w: &World, a: usize) -> Vec<String> {
    let Some(cfg) = w.scenario.apps.get(a) else { return Vec::new() };
    let tag = format!(" {}[{}]: ", cfg.name, cfg.pid);
    let journal = |l: &String| l.get(16..).is_some_and(|r| r.starts_with(HOSTNAME) || r.starts_with("web"));
    use crate::sim::server::ServerKind;
    w.app_log
        .lines()
        .filter_map(|l| match cfg.server {
            ServerKind::Node => l.split_once(&tag).map(|(_, m)| m.to_string()),
            ServerKind::Gunicorn => l.split_once(" gunicorn[").and_then(|(_, r)| r.split_once("]: ")).map(|(_, m)| m.to_string()),
            ServerKind::PhpFpm | ServerKind::Uwsgi => (!journal(l)).then(|| l.clone()),
        })
        .collect()
}
