//! What nginx refuses in the client's request itself, before any upstream:
//! `large_client_header_buffers` (a header line, with its CRLF, longer than
//! one buffer: 400 "Request Header Or Cookie Too Large", logged at [info]
//! only) and `client_max_body_size` (a Content-Length above it: 413, logged
//! at [error]). Order and texts as in ngx_http_request.c and
//! ngx_http_core_module.c, measured on a real nginx 1.22.1:
//! docs/research/nginx-1.22-observations-4.md §1.

use crate::sim::http::{Header, Response};
use crate::sim::log::Level;
use crate::sim::scenario::{ProxyConfig, RequestSpec};
use crate::sim::world::{Actor, ClientResult, ReqId, World};

use super::conf::size;
use super::pages::error_page;
use super::Nginx;

/// `NGX_MAX_ERROR_STR - 300`: how much of a too long header line nginx quotes.
const QUOTED_MAX: usize = 2048 - 300;

/// nginx's page for its internal 494 (sent as 400).
pub fn header_too_large_page(version: &str, server_tokens: bool) -> String {
    let tail = if server_tokens { format!("nginx/{version}") } else { "nginx".to_string() };
    format!(
        "<html>\r\n<head><title>400 Request Header Or Cookie Too Large</title></head>\r\n<body>\r\n<center><h1>400 Bad Request</h1></center>\r\n<center>Request Header Or Cookie Too Large</center>\r\n<hr><center>{tail}</center>\r\n</body>\r\n</html>\r\n"
    )
}

/// The first request header line (with its CRLF) longer than `limit`.
fn too_long_line(head: &str, limit: u64) -> Option<&str> {
    head.split("\r\n").skip(1).find(|l| l.len() as u64 + 2 > limit)
}

/// `$request_length`: the request bytes nginx read. A refused header line
/// and what follows it are not counted, nor a body refused by
/// client_max_body_size (measured: 84 and 149 bytes, §2).
pub fn request_length(p: &ProxyConfig, r: &RequestSpec, agent: &str) -> u64 {
    let head = crate::sim::http::client_request_head(r, agent);
    if let Some(line) = too_long_line(&head, p.large_client_header_buffers_size) {
        let at = head.find(line).unwrap_or(head.len());
        return at as u64;
    }
    if p.client_max_body_size > 0 && r.body_bytes > p.client_max_body_size {
        return head.len() as u64;
    }
    head.len() as u64 + r.body_bytes
}

impl Nginx {
    /// Checks the request against the client limits; true if nginx answered
    /// it itself (the request goes no further).
    pub(super) fn refuse_request(&mut self, w: &mut World, id: ReqId) -> bool {
        let p = &w.scenario.proxy;
        let (buffer, max_body) = (p.large_client_header_buffers_size, p.client_max_body_size);
        let (count, error_level) = (p.large_client_header_buffers_count, p.error_log_level.clone());
        let request = w.exchanges[id].request.clone();
        let agent = w.ops.get(w.exchanges[id].op).and_then(|o| o.user_agent.clone()).unwrap_or_else(|| w.scenario.clients.user_agent.clone());
        let head = crate::sim::http::client_request_head(&request, &agent);
        if let Some(line) = too_long_line(&head, buffer) {
            // ngx_http_process_request_headers: the line goes to a large
            // buffer; when it does not fit there either, NGX_HTTP_REQUEST_HEADER_TOO_LARGE.
            let quoted: String = line.chars().take(QUOTED_MAX.min(buffer as usize)).collect();
            let name = line.split(':').next().unwrap_or("").to_string();
            self.log(w, id, Level::Info, &format!("client sent too long header line: \"{quoted}...\""), Some("reading client request headers"), None);
            let seen = if Level::parse(&error_level).is_some_and(|l| l >= Level::Info) {
                "error.log has the [info] line \"client sent too long header line\"".to_string()
            } else {
                format!("nginx writes its line (\"client sent too long header line\") at [info], below this error_log level ({error_level}): error.log stays empty and only access.log shows the 400")
            };
            let why = format!(
                "The request's {name} header line is {} bytes with its CRLF, more than one of nginx's large_client_header_buffers ({count} {}): nginx answers 400 \"Request Header Or Cookie Too Large\" itself and the app never sees the request. {seen}. \
                 Fix: large_client_header_buffers {count} {} in the http or server block (a line must fit in one buffer), or make the client send less (a session id in the cookie instead of the session itself).",
                line.len() + 2,
                size(buffer),
                size((line.len() as u64 + 2).next_power_of_two().max(buffer * 2)),
            );
            let body = header_too_large_page(&w.scenario.proxy.version, w.scenario.proxy.server_tokens);
            self.refuse(w, id, 400, "Bad Request", body, why);
            return true;
        }
        if max_body > 0 && request.body_bytes > max_body {
            // ngx_http_core_find_config_phase: Content-Length above client_max_body_size.
            let n = request.body_bytes;
            self.log(w, id, Level::Error, &format!("client intended to send too large body: {n} bytes"), None, None);
            let why = format!(
                "The request announced a {n}-byte body (Content-Length), more than client_max_body_size ({}; nginx's default is 1m): nginx answers 413 Request Entity Too Large as soon as it has read the headers, without reading the body or contacting the app. \
                 Fix: client_max_body_size {} in the server or location that takes uploads (0 turns the check off), and keep the app's own limit in step.",
                size(max_body),
                size(n.div_ceil(1 << 20).next_power_of_two() << 20),
            );
            let p = &w.scenario.proxy;
            let body = error_page(413, &p.version, p.server_tokens);
            self.refuse(w, id, 413, "Request Entity Too Large", body, why);
            return true;
        }
        false
    }

    /// nginx's own answer to a request it refuses; it closes the connection
    /// (`r->keepalive = 0` for 400 and 413 in ngx_http_special_response_handler).
    fn refuse(&mut self, w: &mut World, id: ReqId, status: u16, reason: &str, body: String, why: String) {
        let [server, date] = self.own_headers(w);
        let response = Response {
            status,
            reason: reason.to_string().into(),
            headers: vec![
                server,
                date,
                Header::new("Content-Type", "text/html"),
                Header::new("Content-Length", body.len().to_string()),
                Header::new("Connection", "close"),
            ],
            body: body.into(),
        };
        note!(w, id, Actor::Proxy, "refuses the request itself: {status} {reason}");
        if w.keep_details {
            w.exchanges[id].explanation = Some(why);
        }
        self.send_to_client(w, id, response, status, ClientResult::Response);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_have_the_sizes_real_nginx_sends() {
        // docs/research/nginx-1.22-observations-4.md §1: 400 233 and 413 183.
        assert_eq!(header_too_large_page("1.22.1", true).len(), 233);
        assert_eq!(error_page(413, "1.22.1", true).len(), 183);
    }

    #[test]
    fn a_line_must_fit_in_one_buffer_with_its_crlf() {
        let head = |n: usize| format!("GET / HTTP/1.1\r\nHost: x\r\nCookie: {}\r\n\r\n", "a".repeat(n));
        assert_eq!(too_long_line(&head(8192 - 10), 8192), None);
        assert!(too_long_line(&head(8192 - 9), 8192).is_some());
    }
}
