//! The real app servers of `App::server` (issue 18): Debian's PHP-FPM 8.2,
//! gunicorn 20.1 and uWSGI 2.0 (with its python3 plugin), started from the
//! scenario's own settings on the variant's address, serving the app's
//! body after its latency. Dropping one stops it (its process group).

#![allow(dead_code)]

use std::fs::File;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use gateway_core::sim::net::Address;
use gateway_core::sim::scenario::App;
use gateway_core::sim::server::gunicorn::WorkerClass;
use gateway_core::sim::server::php_fpm::Pm;
use gateway_core::sim::server::ServerKind;

use super::upstream::sys;

pub struct RealServer {
    child: Child,
    pub name: String,
    /// The server's own log file.
    pub log: PathBuf,
}

impl Drop for RealServer {
    fn drop(&mut self) {
        let pid = self.child.id() as i32;
        // PHP-FPM and gunicorn stop on SIGTERM... uWSGI reloads on it: SIGINT.
        sys::signal(-pid, 2);
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        sys::signal(-pid, sys::SIGKILL);
        let _ = self.child.wait();
    }
}

/// Whether this machine has the server's program.
pub fn available(kind: ServerKind) -> Result<(), String> {
    let (bin, pkg) = match kind {
        ServerKind::Node => return Ok(()),
        ServerKind::PhpFpm => ("/usr/sbin/php-fpm8.2", "php8.2-fpm"),
        ServerKind::Gunicorn => ("/usr/bin/gunicorn", "gunicorn"),
        ServerKind::Uwsgi => ("/usr/bin/uwsgi", "uwsgi-core uwsgi-plugin-python3"),
    };
    if Path::new(bin).exists() {
        Ok(())
    } else {
        Err(format!("{bin} is not installed (apt-get install {pkg})"))
    }
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// A WSGI app answering the app's body after `latency_ms`.
fn wsgi_app(dir: &Path, app: &App) -> Result<(), String> {
    let body: String = app.body.escape_default().collect();
    write(
        &dir.join("app.py"),
        &format!(
            "import time\nBODY = \"{body}\".encode()\ndef app(environ, start_response):\n    time.sleep({})\n    start_response('200 OK', [('Content-Type', 'application/json; charset=utf-8'), ('Content-Length', str(len(BODY)))])\n    return [BODY]\n",
            app.latency_ms as f64 / 1000.0
        ),
    )
}

fn bind_of(app: &App) -> Result<String, String> {
    match Address::parse(&app.listen)? {
        Address::Tcp { host, port } => Ok(format!("{host}:{port}")),
        Address::Unix { path } => Ok(format!("unix:{path}")),
    }
}

fn wait_listening(child: &mut Child, app: &App, name: &str) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Ok(Some(st)) = child.try_wait() {
            return Err(format!("{name} exited at start-up ({st})"));
        }
        let up = match Address::parse(&app.listen)? {
            Address::Tcp { port, .. } => std::net::TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(100)).is_ok(),
            Address::Unix { path } => Path::new(&path).exists(),
        };
        if up {
            // A unix socket exists a moment before its listen(); a worker a moment after.
            std::thread::sleep(Duration::from_millis(300));
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("{name} did not listen on {} within 15 s", app.listen));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Starts app `app`'s server in `dir`; `www` is nginx's `root` (PHP scripts).
pub fn start(app: &App, dir: &Path, www: &Path) -> Result<RealServer, String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).map_err(|e| e.to_string())?;
    let log = dir.join("server.log");
    let out = File::create(dir.join("stdout.log")).map_err(|e| e.to_string())?;
    let err = File::create(dir.join("stderr.log")).map_err(|e| e.to_string())?;
    let mut cmd;
    match app.server {
        ServerKind::Node => return Err("node apps are the harness's own upstreams".into()),
        ServerKind::PhpFpm => {
            let f = &app.php_fpm;
            std::fs::create_dir_all(www).map_err(|e| e.to_string())?;
            std::fs::set_permissions(www, std::fs::Permissions::from_mode(0o755)).map_err(|e| e.to_string())?;
            let body = app.body.replace('\\', "\\\\").replace('\'', "\\'");
            for s in &f.scripts {
                let script = s.split('?').next().unwrap_or(s);
                let path = www.join(script.trim_start_matches('/'));
                if let Some(p) = path.parent() {
                    std::fs::create_dir_all(p).map_err(|e| e.to_string())?;
                }
                write(&path, &format!("<?php usleep({}); echo '{body}';\n", app.latency_ms * 1_000))?;
            }
            let listen = match Address::parse(&app.listen)? {
                Address::Tcp { host, port } => format!("{host}:{port}"),
                Address::Unix { path } => path,
            };
            let pm = match f.pm {
                Pm::Static => "static".to_string(),
                Pm::Dynamic => {
                    let n = f.max_children;
                    let start = n.min(2).max(1);
                    format!("dynamic\npm.start_servers = {start}\npm.min_spare_servers = 1\npm.max_spare_servers = {}", n.min(3).max(start))
                }
                Pm::Ondemand => "ondemand\npm.process_idle_timeout = 10s".to_string(),
            };
            let user = if sys::is_root() { "user = www-data\ngroup = www-data\n" } else { "" };
            let terminate = if f.request_terminate_timeout > 0 { format!("request_terminate_timeout = {}\n", f.request_terminate_timeout) } else { String::new() };
            let conf = format!(
                "[global]\npid = {d}/php-fpm.pid\nerror_log = {log}\ndaemonize = no\n\n[{pool}]\n{user}listen = {listen}\nlisten.owner = {o}\nlisten.group = {g}\nlisten.mode = {m}\npm = {pm}\npm.max_children = {n}\n{terminate}",
                d = dir.display(),
                log = log.display(),
                pool = gateway_core::sim::server::php_fpm::POOL,
                o = f.listen_owner,
                g = f.listen_group,
                m = f.listen_mode,
                n = f.max_children,
            );
            write(&dir.join("php-fpm.conf"), &conf)?;
            cmd = Command::new("/usr/sbin/php-fpm8.2");
            cmd.arg("-F").arg("-y").arg(dir.join("php-fpm.conf")).arg("-p").arg(dir);
        }
        ServerKind::Gunicorn => {
            wsgi_app(dir, app)?;
            let g = &app.gunicorn;
            cmd = Command::new("/usr/bin/gunicorn");
            cmd.arg("--chdir").arg(dir).arg("--bind").arg(bind_of(app)?).arg("--workers").arg(g.workers.to_string());
            cmd.arg("--timeout").arg(g.timeout.to_string()).arg("--keep-alive").arg(g.keepalive.to_string()).arg("--error-logfile").arg(&log);
            if g.worker_class == WorkerClass::Gthread {
                cmd.arg("--worker-class").arg("gthread").arg("--threads").arg(g.threads.to_string());
            }
            cmd.arg("app:app");
        }
        ServerKind::Uwsgi => {
            wsgi_app(dir, app)?;
            let u = &app.uwsgi;
            cmd = Command::new("/usr/bin/uwsgi");
            let socket = bind_of(app)?.trim_start_matches("unix:").to_string();
            cmd.args(["--plugin", "python3", "--master", "--processes"]).arg(u.processes.to_string());
            cmd.arg("--socket").arg(socket).arg("--chdir").arg(dir).arg("--wsgi-file").arg(dir.join("app.py")).args(["--callable", "app"]);
            cmd.arg("--buffer-size").arg(u.buffer_size.to_string()).arg("--logto").arg(&log).arg("--chmod-socket=666");
            if u.harakiri > 0 {
                cmd.arg("--harakiri").arg(u.harakiri.to_string());
            }
            if sys::is_root() {
                cmd.args(["--uid", "www-data", "--gid", "www-data"]);
            }
        }
    }
    cmd.stdin(Stdio::null()).stdout(out).stderr(err).process_group(0);
    let mut child = cmd.spawn().map_err(|e| format!("{}: {e}", app.server.as_str()))?;
    let name = app.server.as_str().to_string();
    if let Err(e) = wait_listening(&mut child, app, &name) {
        let _ = child.kill();
        let _ = child.wait();
        let tail = std::fs::read_to_string(dir.join("stderr.log")).unwrap_or_default() + &std::fs::read_to_string(&log).unwrap_or_default();
        return Err(format!("{e}: {}", tail.lines().rev().take(5).collect::<Vec<_>>().join(" | ")));
    }
    Ok(RealServer { child, name, log })
}
