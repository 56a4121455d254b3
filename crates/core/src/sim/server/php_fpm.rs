//! PHP-FPM 8.2 (docs/research/app-servers-observations.md §1): FastCGI on
//! the app's `listen` (a unix socket or TCP), a pool `www` of at most
//! `pm.max_children` children. A request beyond them waits in the socket's
//! backlog (nginx's `fastcgi_read_timeout` runs meanwhile: 504), and a
//! `dynamic` or `ondemand` pool warns once; `static` says nothing. A child
//! still busy at `request_terminate_timeout` is terminated (SIGTERM): nginx
//! reads a reset (`recv() failed (104: …)`, 502). A script that does not
//! exist is "Primary script unknown": 404 `File not found.`.

use serde::{Deserialize, Serialize};

use crate::sim::time::{Clock, SimTime};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Pm {
    Static,
    #[default]
    Dynamic,
    Ondemand,
}

/// The pool's settings, by php-fpm.conf's names. `listen` is the app's own
/// `listen`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PhpFpm {
    pub pm: Pm,
    #[serde(rename = "pm.max_children")]
    pub max_children: u32,
    #[serde(rename = "listen.owner")]
    pub listen_owner: String,
    #[serde(rename = "listen.group")]
    pub listen_group: String,
    /// Octal, as in the pool file (`0660`).
    #[serde(rename = "listen.mode")]
    pub listen_mode: String,
    /// Seconds (0: off, PHP-FPM's default).
    pub request_terminate_timeout: u64,
    /// The scripts that exist under nginx's root (`/index.php`): a request
    /// for another is "Primary script unknown". (Not a php-fpm setting: the
    /// files on disk.)
    pub scripts: Vec<String>,
}

impl Default for PhpFpm {
    fn default() -> Self {
        PhpFpm {
            pm: Pm::Dynamic,
            max_children: 5,
            listen_owner: "www-data".into(),
            listen_group: "www-data".into(),
            listen_mode: "0660".into(),
            request_terminate_timeout: 0,
            scripts: vec!["/index.php".into()],
        }
    }
}

/// The FastCGI params nginx sends, as written in the exported config
/// (Debian's `/etc/nginx/fastcgi_params`, so that the file stands alone),
/// then SCRIPT_FILENAME.
pub const PARAMS: &[(&str, &str)] = &[
    ("QUERY_STRING", "$query_string"),
    ("REQUEST_METHOD", "$request_method"),
    ("CONTENT_TYPE", "$content_type"),
    ("CONTENT_LENGTH", "$content_length"),
    ("SCRIPT_NAME", "$fastcgi_script_name"),
    ("REQUEST_URI", "$request_uri"),
    ("DOCUMENT_URI", "$document_uri"),
    ("DOCUMENT_ROOT", "$document_root"),
    ("SERVER_PROTOCOL", "$server_protocol"),
    ("REQUEST_SCHEME", "$scheme"),
    ("HTTPS", "$https if_not_empty"),
    ("GATEWAY_INTERFACE", "CGI/1.1"),
    ("SERVER_SOFTWARE", "nginx/$nginx_version"),
    ("REMOTE_ADDR", "$remote_addr"),
    ("REMOTE_PORT", "$remote_port"),
    ("REMOTE_USER", "$remote_user"),
    ("SERVER_ADDR", "$server_addr"),
    ("SERVER_PORT", "$server_port"),
    ("SERVER_NAME", "$server_name"),
    ("REDIRECT_STATUS", "200"),
    ("HTTP_HOST", "$host"),
    ("SCRIPT_FILENAME", "$document_root$fastcgi_script_name"),
];

/// The pool's name (Debian's `www.conf`).
pub const POOL: &str = "www";
/// The body PHP-FPM sends for "Primary script unknown" (observed, 16 bytes).
pub const NOT_FOUND_BODY: &str = "File not found.\n";
/// What PHP-FPM writes on FastCGI stderr for it (nginx quotes it).
pub const PRIMARY_SCRIPT_UNKNOWN: &str = "Primary script unknown";

impl PhpFpm {
    pub fn validate(&self, f: &str) -> Result<(), String> {
        if self.max_children == 0 || self.max_children > 100_000 {
            return Err(format!("{f}.pm.max_children: must be between 1 and 100000, got {}", self.max_children));
        }
        if self.request_terminate_timeout > 86_400 {
            return Err(format!("{f}.request_terminate_timeout: must be at most 86400 seconds, got {}", self.request_terminate_timeout));
        }
        let octal = self.listen_mode.len() <= 4 && !self.listen_mode.is_empty() && self.listen_mode.bytes().all(|b| (b'0'..=b'7').contains(&b));
        if !octal {
            return Err(format!("{f}.listen.mode: must be an octal mode such as 0660, got {:?}", self.listen_mode));
        }
        for (n, v) in [("listen.owner", &self.listen_owner), ("listen.group", &self.listen_group)] {
            if v.is_empty() || v.len() > 32 || !v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
                return Err(format!("{f}.{n}: must be a user or group name, got {v:?}"));
            }
        }
        if self.scripts.len() > 64 || self.scripts.iter().any(|s| !s.starts_with('/') || s.len() > 256 || s.bytes().any(|b| b <= b' ')) {
            return Err(format!("{f}.scripts: at most 64 paths such as /index.php"));
        }
        Ok(())
    }

    /// The mode as a number (validated octal).
    pub fn mode(&self) -> u32 {
        u32::from_str_radix(&self.listen_mode, 8).unwrap_or(0o660)
    }

    /// `srw-rw----` for 0660.
    pub fn mode_string(&self) -> String {
        let m = self.mode();
        let mut s = String::from("s");
        for shift in [6, 3, 0] {
            let b = (m >> shift) & 7;
            s.push(if b & 4 != 0 { 'r' } else { '-' });
            s.push(if b & 2 != 0 { 'w' } else { '-' });
            s.push(if b & 1 != 0 { 'x' } else { '-' });
        }
        s
    }

    /// Whether nginx's worker (user and group `www-data`, Debian's) may
    /// connect to the socket: it needs write permission on it.
    pub fn nginx_may_connect(&self) -> bool {
        let m = self.mode();
        (self.listen_owner == "www-data" && m & 0o200 != 0) || (self.listen_group == "www-data" && m & 0o020 != 0) || m & 0o002 != 0
    }

    /// Whether the request path's script exists (`$fastcgi_script_name`:
    /// the path without its query).
    pub fn script_exists(&self, path: &str) -> bool {
        let script = path.split('?').next().unwrap_or(path);
        self.scripts.iter().any(|s| s.split('?').next() == Some(script))
    }

    /// The warning a pool writes when a request finds every child busy
    /// (observed wording per `pm`; `static` writes none).
    pub fn max_children_warning(&self) -> Option<String> {
        let n = self.max_children;
        match self.pm {
            Pm::Static => None,
            Pm::Dynamic => Some(format!("WARNING: [pool {POOL}] server reached pm.max_children setting ({n}), consider raising it")),
            Pm::Ondemand => Some(format!("WARNING: [pool {POOL}] server reached max_children setting ({n}), consider raising it")),
        }
    }

    /// When the master terminates a child that started a request at
    /// `start`: it checks on a heartbeat of a third of the timeout, counted
    /// from its own start `master` (inferred from the measured kill 0.63 s
    /// after a 2 s limit). None when `request_terminate_timeout` is off.
    pub fn terminate_at(&self, master: SimTime, start: SimTime) -> Option<SimTime> {
        if self.request_terminate_timeout == 0 {
            return None;
        }
        let limit = self.request_terminate_timeout * 1_000_000;
        let beat = (limit / 3).max(130_000);
        let due = start.as_micros() + limit;
        let since = due.saturating_sub(master.as_micros());
        Some(SimTime(master.as_micros() + since.div_ceil(beat) * beat))
    }
}

/// A line of PHP-FPM's error log (`/var/log/php8.2-fpm.log`):
/// `[06-Dec-2026 06:58:41] NOTICE: fpm is running, pid 21095`.
pub fn line(clock: &Clock, t: SimTime, msg: &str) -> String {
    format!("[{}] {msg}", clock.php_fpm(t))
}

/// The three lines of a child terminated at `request_terminate_timeout`
/// (observed, §1.5).
pub fn terminate_lines(clock: &Clock, t: SimTime, child: u32, new: u32, script: &str, request: &str, took_us: u64, child_age_us: u64) -> [String; 3] {
    [
        line(clock, t, &format!(
            "WARNING: [pool {POOL}] child {child}, script '{script}' (request: \"{request}\") execution timed out ({}.{:06} sec), terminating",
            took_us / 1_000_000, took_us % 1_000_000
        )),
        line(clock, t, &format!(
            "WARNING: [pool {POOL}] child {child} exited on signal 15 (SIGTERM) after {}.{:06} seconds from start",
            child_age_us / 1_000_000, child_age_us % 1_000_000
        )),
        line(clock, t, &format!("NOTICE: [pool {POOL}] child {new} started")),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_follow_the_process_manager() {
        let mut p = PhpFpm { max_children: 2, ..PhpFpm::default() };
        assert_eq!(p.max_children_warning().unwrap(), "WARNING: [pool www] server reached pm.max_children setting (2), consider raising it");
        p.pm = Pm::Ondemand;
        assert_eq!(p.max_children_warning().unwrap(), "WARNING: [pool www] server reached max_children setting (2), consider raising it");
        p.pm = Pm::Static;
        assert_eq!(p.max_children_warning(), None);
    }

    #[test]
    fn socket_modes() {
        let p = PhpFpm::default();
        assert_eq!(p.mode_string(), "srw-rw----");
        assert!(p.nginx_may_connect());
        let q = PhpFpm { listen_owner: "root".into(), listen_group: "root".into(), ..PhpFpm::default() };
        assert!(!q.nginx_may_connect());
    }

    #[test]
    fn terminate_lines_are_php_fpms() {
        let c = Clock::new(1_796_540_335); // 2026-12-06 06:58:55
        let l = terminate_lines(&c, SimTime::ZERO, 21530, 21540, "/var/www/html/slow.php", "GET /slow.php?s=5", 2_630_065, 4_003_895);
        assert_eq!(l[0], "[06-Dec-2026 06:58:55] WARNING: [pool www] child 21530, script '/var/www/html/slow.php' (request: \"GET /slow.php?s=5\") execution timed out (2.630065 sec), terminating");
        assert_eq!(l[1], "[06-Dec-2026 06:58:55] WARNING: [pool www] child 21530 exited on signal 15 (SIGTERM) after 4.003895 seconds from start");
        assert_eq!(l[2], "[06-Dec-2026 06:58:55] NOTICE: [pool www] child 21540 started");
    }
}
