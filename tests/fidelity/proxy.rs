//! The proxies under test. One [`ProxyUnderTest`] per flavour: it starts the
//! real program on the configuration the engine stands for, stops it, and
//! reads its log formats (the engine writes the same formats, so the same
//! parsers read both sides). Adding a flavour (HAProxy) is one more
//! implementation in `flavors()`: the harness and the report take it as one
//! more column.

#![allow(dead_code)]

use std::fs::File;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use gateway_lab::sim::proxy::nginx::conf::{render, Paths};
use gateway_lab::sim::scenario::Flavor;
use gateway_lab::sim::Scenario;

use super::upstream::sys;

/// What a stopped proxy left behind.
#[derive(Clone, Debug, Default)]
pub struct RawLogs {
    pub error: Vec<String>,
    pub access: Vec<String>,
    pub stderr: Vec<String>,
    /// It was accepting connections.
    pub started: bool,
}

/// One access.log entry, in the flavour's own format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Access {
    pub request_line: String,
    /// The line with its time stamp removed.
    pub normalised: String,
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
}

/// Replaces `:1234` after a host or address with `:PORT` (not after `CONF`).
pub fn mask_ports(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b':' && i > 0 && b[i - 1].is_ascii_alphanumeric() && !out.ends_with("CONF") {
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
    fn main_conf(dir: &Path, site: &Path) -> String {
        let d = dir.display();
        format!(
            "daemon off;\nmaster_process on;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/logs/main-error.log notice;\n\
             events {{ worker_connections 4096; }}\n\
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
        std::fs::write(dir.join("nginx.conf"), Self::main_conf(dir, &site)).map_err(|e| e.to_string())?;
        let stderr = File::create(dir.join("stderr.log")).map_err(|e| e.to_string())?;
        let mut child = Command::new(&self.bin)
            .arg("-p")
            .arg(dir)
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .process_group(0)
            .spawn()
            .map_err(|e| format!("{}: {e}", self.bin.display()))?;
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
        text = text.replace(&format!("{tmp}/gateway-lab.conf"), "CONF").replace(gateway_lab::sim::proxy::nginx::CONF_PATH, "CONF");
        text = text.replace(tmp, "$TMP");
        Some(mask_ports(&text))
    }

    fn parse_access(&self, line: &str) -> Option<Access> {
        // `127.0.0.1 - - [21/Nov/2026:04:43:44 +0000] "GET /users HTTP/1.1" 502 157 "-" "curl/8.5.0"`
        let t0 = line.find(" [")?;
        let t1 = line[t0..].find("] ")? + t0;
        let q0 = line[t1..].find('"')? + t1 + 1;
        let q1 = line[q0..].find('"')? + q0;
        Some(Access {
            request_line: line[q0..q1].to_string(),
            normalised: format!("{} [TIME]{}", &line[..t0], &line[t1 + 1..]),
        })
    }

    fn is_failed_attempt(&self, l: &str) -> bool {
        // One [error]/[crit] line per failed connect or handshake; the [warn]
        // "temporarily disabled" line that may follow is about the same try.
        (l.starts_with("[error] ") || l.starts_with("[crit] "))
            && ((l.contains(" while connecting to upstream") && !l.contains("no live upstreams")) || l.contains(" while SSL handshaking to upstream"))
    }
}

/// The proxies the harness compares, one report column each.
pub fn flavors() -> Vec<Box<dyn ProxyUnderTest>> {
    let mut v: Vec<Box<dyn ProxyUnderTest>> = Vec::new();
    if let Some(n) = Nginx::find() {
        v.push(Box::new(n));
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
}
