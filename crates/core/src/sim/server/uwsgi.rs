//! uWSGI 2.0.21 (docs/research/app-servers-observations.md §3): the uwsgi
//! protocol (nginx's `uwsgi_pass`). A request block (every uwsgi var:
//! 2 + key + 2 + value bytes) larger than `buffer-size` is refused: uWSGI
//! logs `invalid request block size: N (max 4096)...skip` and closes, and
//! nginx reads a reset (502). `harakiri` kills a worker busy for longer
//! (SIGKILL): nginx sees the connection close (502).

use serde::{Deserialize, Serialize};

use crate::sim::time::{Clock, SimTime};

/// uWSGI's options, by its own names (`--processes`, `--buffer-size`,
/// `--harakiri`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Uwsgi {
    pub processes: u32,
    /// Bytes (4096).
    #[serde(rename = "buffer-size")]
    pub buffer_size: u64,
    /// Seconds (0: off, the default).
    pub harakiri: u64,
}

impl Default for Uwsgi {
    fn default() -> Self {
        Uwsgi { processes: 1, buffer_size: 4096, harakiri: 0 }
    }
}

impl Uwsgi {
    pub fn validate(&self, f: &str) -> Result<(), String> {
        if self.processes == 0 || self.processes > 1_000 {
            return Err(format!("{f}.processes: must be between 1 and 1000, got {}", self.processes));
        }
        if !(1024..=65_535).contains(&self.buffer_size) {
            return Err(format!("{f}.buffer-size: must be between 1024 and 65535 bytes, got {}", self.buffer_size));
        }
        if self.harakiri > 86_400 {
            return Err(format!("{f}.harakiri: must be at most 86400 seconds, got {}", self.harakiri));
        }
        Ok(())
    }

    /// When the master kills a worker that started a request at `start`:
    /// it checks once a second, in whole seconds (`uwsgi_now()`), and kills
    /// once the current second is past the request's second + `harakiri`.
    /// Measured with `harakiri 2`: 3.07–3.19 s after the request (inferred:
    /// the master's ticks fall on whole seconds since its start `master`).
    pub fn harakiri_at(&self, master: SimTime, start: SimTime) -> Option<SimTime> {
        if self.harakiri == 0 {
            return None;
        }
        let since = start.as_micros().saturating_sub(master.as_micros()) / 1_000_000;
        Some(SimTime(master.as_micros() + (since + self.harakiri + 1) * 1_000_000))
    }
}

/// What nginx's uwsgi module sends for a request: Debian's `uwsgi_params`
/// (written out in the exported config; `HTTPS` only when not empty, and
/// `HTTP_HOST` as `$host`), then each request header as `HTTP_*` (Host is
/// not sent twice).
pub struct UwsgiRequest<'a> {
    pub method: &'a str,
    /// Path and query.
    pub uri: &'a str,
    pub host: &'a str,
    pub user_agent: &'a str,
    pub cookie: Option<&'a str>,
    pub remote_addr: &'a str,
    /// Digits of the client's port (an ephemeral port: 5).
    pub remote_port_digits: usize,
    pub server_port: u16,
    pub server_name: &'a str,
    pub document_root: &'a str,
}

/// The uwsgi params nginx sends, as written in the exported config
/// (Debian's `/etc/nginx/uwsgi_params`).
pub const PARAMS: &[(&str, &str)] = &[
    ("QUERY_STRING", "$query_string"),
    ("REQUEST_METHOD", "$request_method"),
    ("CONTENT_TYPE", "$content_type"),
    ("CONTENT_LENGTH", "$content_length"),
    ("REQUEST_URI", "$request_uri"),
    ("PATH_INFO", "$document_uri"),
    ("DOCUMENT_ROOT", "$document_root"),
    ("SERVER_PROTOCOL", "$server_protocol"),
    ("REQUEST_SCHEME", "$scheme"),
    ("HTTPS", "$https if_not_empty"),
    ("REMOTE_ADDR", "$remote_addr"),
    ("REMOTE_PORT", "$remote_port"),
    ("SERVER_PORT", "$server_port"),
    ("SERVER_NAME", "$server_name"),
    ("HTTP_HOST", "$host"),
];

/// The request block's vars (name, value length) and its size in bytes:
/// the sum of 2 + key + 2 + value (observed: 353 bytes for a plain GET /,
/// + 4 + 11 + value for a Cookie).
pub fn block(r: &UwsgiRequest) -> (usize, u64) {
    let (path, query) = r.uri.split_once('?').unwrap_or((r.uri, ""));
    let host = r.host.split(':').next().unwrap_or("");
    let port = r.server_port.to_string();
    let mut vars: Vec<(&str, usize)> = vec![
        ("QUERY_STRING", query.len()),
        ("REQUEST_METHOD", r.method.len()),
        ("CONTENT_TYPE", 0),
        ("CONTENT_LENGTH", 0),
        ("REQUEST_URI", r.uri.len()),
        ("PATH_INFO", path.len()),
        ("DOCUMENT_ROOT", r.document_root.len()),
        ("SERVER_PROTOCOL", "HTTP/1.1".len()),
        ("REQUEST_SCHEME", "http".len()),
        ("REMOTE_ADDR", r.remote_addr.len()),
        ("REMOTE_PORT", r.remote_port_digits),
        ("SERVER_PORT", port.len()),
        ("SERVER_NAME", r.server_name.len()),
        ("HTTP_HOST", host.len()),
        ("HTTP_USER_AGENT", r.user_agent.len()),
        ("HTTP_ACCEPT", "*/*".len()),
    ];
    if let Some(c) = r.cookie {
        vars.push(("HTTP_COOKIE", c.len()));
    }
    let bytes = vars.iter().map(|(k, v)| 4 + k.len() as u64 + *v as u64).sum();
    (vars.len(), bytes)
}

/// `invalid request block size: 4370 (max 4096)...skip` (observed; no
/// time, no pid).
pub fn block_line(size: u64, max: u64) -> String {
    format!("invalid request block size: {size} (max {max})...skip")
}

/// The request log line (observed format):
/// `[pid: N|app: 0|req: 1/1] 127.0.0.1 () {32 vars in 353 bytes} [Sun Dec  6 07:10:00 2026] GET / => generated 3 bytes in 0 msecs (HTTP/1.1 200) 2 headers in 64 bytes (1 switches on core 0)`.
#[allow(clippy::too_many_arguments)]
pub fn request_line(clock: &Clock, started: SimTime, pid: u32, total: u64, worker: u64, remote: &str, vars: usize, bytes: u64, method: &str, uri: &str, body: usize, msecs: u64, status: u16, headers: usize, header_bytes: usize) -> String {
    format!(
        "[pid: {pid}|app: 0|req: {total}/{worker}] {remote} () {{{} vars in {bytes} bytes}} [{}] {method} {uri} => generated {body} bytes in {msecs} msecs (HTTP/1.1 {status}) {headers} headers in {header_bytes} bytes (1 switches on core 0)",
        vars * 2,
        clock.ctime(started)
    )
}

/// The master's lines when harakiri kills worker `n` (pid `pid`) and
/// respawns it as `new` (observed, §3.2).
pub fn harakiri_lines(clock: &Clock, t: SimTime, n: u32, pid: u32, new: u32, remote: &str, request: &str, since_unix: i64) -> Vec<String> {
    let c = clock.ctime(t);
    vec![
        format!("{c} - *** HARAKIRI ON WORKER {n} (pid: {pid}, try: 1) ***"),
        format!("{c} - HARAKIRI !!! worker {n} status !!!"),
        format!("{c} - HARAKIRI [core 0] {remote} - {request} since {since_unix}"),
        format!("{c} - HARAKIRI !!! end of worker {n} status !!!"),
        format!("DAMN ! worker {n} (pid: {pid}) died, killed by signal 9 :( trying respawn ..."),
        format!("Respawned uWSGI worker {n} (new pid: {new})"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(cookie: Option<&str>) -> UwsgiRequest<'_> {
        UwsgiRequest {
            method: "GET",
            uri: "/",
            host: "127.0.0.1:18801",
            user_agent: "gwlab-test/1",
            cookie,
            remote_addr: "127.0.0.1",
            remote_port_digits: 5,
            server_port: 18801,
            server_name: "localhost",
            document_root: "/tmp/r18-app/uw_bufsize/www",
        }
    }

    #[test]
    fn block_sizes_match_the_measured_ones() {
        assert_eq!(block(&req(None)), (16, 353));
        let c3000 = format!("a={}", "x".repeat(3000));
        assert_eq!(block(&req(Some(&c3000))), (17, 3370));
        let c4000 = format!("a={}", "x".repeat(4000));
        assert_eq!(block(&req(Some(&c4000))).1, 4370);
    }

    #[test]
    fn harakiri_fires_after_the_next_whole_second() {
        let u = Uwsgi { harakiri: 2, ..Uwsgi::default() };
        assert_eq!(u.harakiri_at(SimTime::ZERO, SimTime(70_000)), Some(SimTime(3_000_000)));
    }
}
