//! What HAProxy refuses in the client's request itself: a request head
//! that does not fit in its buffer (`tune.bufsize` minus `tune.maxrewrite`,
//! 16384 − 1024 by default) gets 400 with termination state `PR--` and the
//! request logged as `<BADREQ>`. HAProxy has no limit on the body size
//! (it streams bodies), so a large upload simply goes through.
//! Measured on a real HAProxy 2.6.12: docs/research/nginx-1.22-observations-4.md §1.

use crate::sim::http::{client_request_head, Header, Response};
use crate::sim::world::{Actor, ClientResult, ReqId, World};

use super::{pages, Haproxy, FRONTEND};

/// `tune.maxrewrite`'s default: kept free in the buffer for header rewrites.
pub const MAXREWRITE: u64 = 1024;

/// The HTX size of a request head of `raw` bytes with `headers` header
/// lines: HTX drops each line's ": " and CRLF but adds an 8-byte block
/// (4 more bytes a line), plus 79 for the start line and end-of-headers
/// blocks and the HTX header. Fitted on the real one: with 4 headers the
/// largest head that passes is 15265 raw bytes, with 6 it is 15257.
pub fn htx_request_size(raw: usize, headers: usize) -> u64 {
    (raw + 4 * headers + 79) as u64
}

impl Haproxy {
    /// True if HAProxy answered the request itself (400 `PR--`).
    pub(super) fn refuse_request(&mut self, w: &mut World, id: ReqId) -> bool {
        let request = w.exchanges[id].request.clone();
        let agent = w.ops.get(w.exchanges[id].op).and_then(|o| o.user_agent.clone()).unwrap_or_else(|| w.scenario.clients.user_agent.clone());
        let head = client_request_head(&request, &agent);
        let headers = head.split("\r\n").skip(1).filter(|l| !l.is_empty()).count();
        let size = htx_request_size(head.len(), headers);
        let bufsize = w.scenario.proxy.haproxy.bufsize;
        let limit = bufsize.saturating_sub(MAXREWRITE);
        if size <= limit {
            return false;
        }
        w.exchanges[id].proxy.done = true;
        w.exchanges[id].logged_status = Some(400);
        if w.keep_details {
            let ex = &w.exchanges[id];
            let line = format!(
                "{}:{} [{}] {FRONTEND} {FRONTEND}/<NOSRV> -1/-1/-1/-1/0 400 0 - - PR-- 1/1/0/0/0 0/0 \"<BADREQ>\"",
                ex.client_ip,
                40_000 + ex.client_connection % 20_000,
                w.clock.haproxy_accept(ex.sent_at),
            );
            w.access_log.push(line.clone());
            w.exchanges[id].access_line = Some(line);
            let cookie = if request.cookie_bytes > 0 { format!(" (its Cookie alone is {} bytes)", request.cookie_bytes) } else { String::new() };
            w.exchanges[id].explanation = Some(format!(
                "The request's headers{cookie} take {size} bytes in HAProxy's buffer, more than tune.bufsize ({bufsize}) minus tune.maxrewrite ({MAXREWRITE}): HAProxy cannot parse the request, answers 400 Bad request itself and logs it as <BADREQ> with termination state PR-- (proxy, request phase) and no server. \
                 Fix: tune.bufsize {} in the global section, or make the client send smaller headers. (nginx refuses a single header line above 8 KiB already, with 400 \"Request Header Or Cookie Too Large\".)",
                (size + MAXREWRITE).next_power_of_two()
            ));
        }
        let (reason, body) = pages::error_page(400);
        let response = Response {
            status: 400,
            reason: reason.into(),
            headers: vec![
                Header::new("content-length", body.len().to_string()),
                Header::new("cache-control", "no-cache"),
                Header::new("content-type", "text/html"),
                Header::new("connection", "close"),
            ],
            body: body.into(),
        };
        note!(w, id, Actor::Proxy, "cannot fit the request head ({size} bytes) in its buffer: 400 (PR--)");
        let ex = &mut w.exchanges[id];
        ex.response = Some(response);
        ex.client_result = Some(ClientResult::Response);
        let hop = w.hop();
        w.schedule(hop, crate::sim::world::Event::ClientReceive(id));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_largest_heads_that_passed_the_real_haproxy_just_fit() {
        assert_eq!(htx_request_size(15_265, 4), 16_384 - MAXREWRITE);
        assert_eq!(htx_request_size(15_257, 6), 16_384 - MAXREWRITE);
    }
}
