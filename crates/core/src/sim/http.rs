//! HTTP messages as the simulated parties exchange them.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

/// Text in a message: most of it is constant (header names, reason
/// phrases, error pages) and is borrowed rather than copied per request.
pub type Text = Cow<'static, str>;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub name: Text,
    pub value: Text,
}

impl Header {
    pub fn new(name: impl Into<Text>, value: impl Into<Text>) -> Self {
        Header { name: name.into(), value: value.into() }
    }
}

/// A response as it travels on the wire (from the app to the proxy, or from
/// the proxy to the client).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response {
    pub status: u16,
    /// The reason phrase exactly as sent on the status line.
    pub reason: Text,
    pub headers: Vec<Header>,
    pub body: Text,
}

impl Response {
    pub fn status_line(&self) -> String {
        format!("HTTP/1.1 {} {}", self.status, self.reason)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_ref())
    }

    /// Whether the body is sent with `Transfer-Encoding: chunked`.
    pub fn is_chunked(&self) -> bool {
        self.header("Transfer-Encoding").is_some_and(|v| v.to_ascii_lowercase().split(',').any(|c| c.trim() == "chunked"))
    }

    pub fn body_bytes(&self) -> usize {
        self.body.len()
    }

    /// Bytes of the status line and header block, final CRLF included.
    pub fn header_block_len(&self) -> usize {
        // The status line: "HTTP/1.1 " + the status's digits + " " + the reason.
        let digits = self.status.checked_ilog10().unwrap_or(0) as usize + 1;
        "HTTP/1.1 ".len() + digits + 1 + self.reason.len()
            + 2
            + self.headers.iter().map(|h| h.name.len() + 2 + h.value.len() + 2).sum::<usize>()
            + 2
    }
}

/// One chunk of a chunked body: the size in lower-case hex, CRLF, the
/// data, CRLF.
pub fn chunk(data: &str) -> String {
    format!("{:x}\r\n{data}\r\n", data.len())
}

/// The last chunk of a chunked body (no trailers).
pub const LAST_CHUNK: &str = "0\r\n\r\n";

/// The standard reason phrase an application framework sends.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_block_len_counts_the_status_line() {
        for status in [0, 9, 10, 99, 100, 200, 503, 999, 1000, u16::MAX] {
            let r = Response { status, reason: "Service Unavailable".into(), headers: vec![Header::new("Retry-After", "1")], body: "x".into() };
            assert_eq!(r.header_block_len(), r.status_line().len() + 2 + "Retry-After: 1\r\n".len() + 2, "{status}");
        }
    }
}

/// The request head a client sends for `r` (curl's header order: Host,
/// User-Agent, Accept, the body's Content-Type and Content-Length, then a
/// Cookie). The proxies' request limits measure it; the fidelity harness
/// sends exactly these bytes.
pub fn client_request_head(r: &super::scenario::RequestSpec, user_agent: &str) -> String {
    let mut s = format!("{} {} HTTP/1.1\r\n", r.method, r.path);
    if !r.host.is_empty() {
        s.push_str(&format!("Host: {}\r\n", r.host));
    }
    s.push_str(&format!("User-Agent: {user_agent}\r\nAccept: */*\r\n"));
    if r.body_bytes > 0 {
        s.push_str(&format!("Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n", r.body_bytes));
    }
    if let Some(c) = r.cookie_value() {
        s.push_str(&format!("Cookie: {c}\r\n"));
    }
    if r.websocket {
        // `curl -H Connection:Upgrade -H Upgrade:websocket ...`: after curl's own headers.
        for (k, v) in super::websocket::request_headers() {
            s.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    s.push_str("\r\n");
    s
}
