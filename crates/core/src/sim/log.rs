//! Log lines in the exact formats the real programs write, and a bounded
//! buffer to keep them in.

use std::collections::VecDeque;

use serde::Serialize;

/// nginx error.log severity.
/// Ordered from most to least severe, as nginx's `error_log` levels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Emerg,
    Alert,
    Crit,
    Error,
    Warn,
    Notice,
    Info,
    Debug,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Emerg => "emerg",
            Level::Alert => "alert",
            Level::Crit => "crit",
            Level::Error => "error",
            Level::Warn => "warn",
            Level::Notice => "notice",
            Level::Info => "info",
            Level::Debug => "debug",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        [Level::Emerg, Level::Alert, Level::Crit, Level::Error, Level::Warn, Level::Notice, Level::Info, Level::Debug]
            .into_iter()
            .find(|l| l.as_str() == s)
    }
}

/// One error.log line a request produced: its level as data, and the line
/// exactly as nginx writes it (the level is also in the text, formatted from
/// `level`). Pick lines by `level`, never by parsing `[crit]` from the text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LogLine {
    pub level: Level,
    pub text: String,
}

impl std::fmt::Display for LogLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// The request context nginx appends to an error.log line
/// (`ngx_http_log_error`): client, server, request, upstream, host.
pub struct ErrorContext<'a> {
    pub client: &'a str,
    pub server: &'a str,
    pub request_line: &'a str,
    /// `while connecting to upstream`, `while reading response header from upstream`...
    pub action: Option<&'a str>,
    pub upstream: Option<&'a str>,
    pub host: Option<&'a str>,
}

/// `2026/11/21 04:43:44 [error] 4453#4453: *1 <message>, client: ..., server: ..., request: "...", upstream: "...", host: "..."`
pub fn nginx_error_line(
    time: &str,
    level: Level,
    pid: u32,
    connection: u64,
    message: &str,
    ctx: &ErrorContext<'_>,
) -> String {
    let action = ctx.action.map(|a| format!(" while {a}")).unwrap_or_default();
    let mut line = format!(
        "{time} [{}] {pid}#{pid}: *{connection} {message}{action}, client: {}, server: {}, request: \"{}\"",
        level.as_str(),
        ctx.client,
        ctx.server,
        ctx.request_line
    );
    if let Some(up) = ctx.upstream {
        line.push_str(&format!(", upstream: \"{up}\""));
    }
    if let Some(host) = ctx.host {
        line.push_str(&format!(", host: \"{host}\""));
    }
    line
}

/// nginx's predefined `combined` access log format:
/// `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"`
pub fn nginx_combined_line(
    remote_addr: &str,
    time_local: &str,
    request_line: &str,
    status: u16,
    body_bytes_sent: usize,
    user_agent: &str,
) -> String {
    format!("{remote_addr} - - [{time_local}] \"{request_line}\" {status:03} {body_bytes_sent} \"-\" \"{user_agent}\"")
}

/// A log that keeps only the newest `capacity` lines and counts the rest.
#[derive(Clone, Debug)]
pub struct LogBuffer {
    lines: VecDeque<String>,
    capacity: usize,
    /// Lines ever written, including dropped ones.
    total: u64,
}

impl LogBuffer {
    pub fn new(capacity: usize) -> Self {
        LogBuffer { lines: VecDeque::new(), capacity: capacity.max(1), total: 0 }
    }

    pub fn push(&mut self, line: String) {
        if self.lines.len() == self.capacity {
            self.lines.pop_front();
        }
        self.lines.push_back(line);
        self.total += 1;
    }

    pub fn lines(&self) -> impl DoubleEndedIterator<Item = &String> + ExactSizeIterator {
        self.lines.iter()
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Lines ever written (kept + dropped).
    pub fn total(&self) -> u64 {
        self.total
    }

    pub fn dropped(&self) -> u64 {
        self.total - self.lines.len() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_line_has_nginx_layout() {
        let ctx = ErrorContext {
            client: "127.0.0.1",
            server: "localhost",
            request_line: "GET /users HTTP/1.1",
            action: Some("connecting to upstream"),
            upstream: Some("http://127.0.0.1:3000/users"),
            host: Some("localhost"),
        };
        assert_eq!(
            nginx_error_line("2026/11/21 04:43:44", Level::Error, 4453, 1, "connect() failed (111: Connection refused)", &ctx),
            "2026/11/21 04:43:44 [error] 4453#4453: *1 connect() failed (111: Connection refused) while connecting to upstream, client: 127.0.0.1, server: localhost, request: \"GET /users HTTP/1.1\", upstream: \"http://127.0.0.1:3000/users\", host: \"localhost\""
        );
    }

    #[test]
    fn buffer_is_bounded() {
        let mut b = LogBuffer::new(3);
        for i in 0..10 {
            b.push(i.to_string());
        }
        assert_eq!(b.lines().cloned().collect::<Vec<_>>(), ["7", "8", "9"]);
        assert_eq!((b.total(), b.dropped()), (10, 7));
    }
}
