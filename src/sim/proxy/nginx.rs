//! nginx (1.22) as a reverse proxy: `proxy_pass` to one upstream server.
//! Messages, levels and pages are nginx's own (ngx_http_upstream.c,
//! ngx_http_special_response.c), checked against a real nginx 1.22.1 —
//! see docs/research/nginx-1.22-observations.md.

use crate::sim::fault::ConnectOutcome;
use crate::sim::http::{Header, Response};
use crate::sim::log::{nginx_combined_line, nginx_error_line, ErrorContext, Level};
use crate::sim::world::{Actor, Attempt, AttemptResult, Event, ProxyTimer, ReqId, World};

use super::ProxyFlavor;

#[derive(Default)]
pub struct Nginx;

/// Status line text nginx uses for the responses it generates itself.
pub fn own_reason(status: u16) -> &'static str {
    match status {
        502 => "Bad Gateway",
        503 => "Service Temporarily Unavailable",
        504 => "Gateway Time-out",
        _ => "Internal Server Error",
    }
}

/// nginx's built-in error page (`ngx_http_error_50x_page` + tail). Lines end
/// in CRLF, exactly as nginx sends them.
pub fn error_page(status: u16, version: &str, server_tokens: bool) -> String {
    let title = format!("{status} {}", own_reason(status));
    let tail = if server_tokens { format!("nginx/{version}") } else { "nginx".to_string() };
    format!(
        "<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n<hr><center>{tail}</center>\r\n</body>\r\n</html>\r\n"
    )
}

impl Nginx {
    fn upstream_url(w: &World, id: ReqId) -> String {
        format!("http://{}{}", w.scenario.proxy.proxy_pass, w.exchanges[id].request.path)
    }

    fn log_error(&self, w: &mut World, id: ReqId, level: Level, message: &str) {
        let ex = &w.exchanges[id];
        let request_line = ex.request_line();
        let upstream = Self::upstream_url(w, id);
        let host = (!ex.request.host.is_empty()).then_some(ex.request.host.as_str());
        let line = nginx_error_line(
            &w.clock.error_log(w.now),
            level,
            w.scenario.proxy.worker_pid,
            ex.client_connection,
            message,
            &ErrorContext {
                client: &w.scenario.client.ip,
                server: &w.scenario.proxy.server_name,
                request_line: &request_line,
                upstream: Some(&upstream),
                host,
            },
        );
        w.exchanges[id].error_lines.push(line.clone());
        w.error_log.push(line);
        w.note(id, Actor::Proxy, format!("error.log [{}] {message}", level.as_str()));
    }

    fn connect(&self, w: &mut World, id: ReqId) {
        let attempt = w.exchanges[id].attempts.len() as u32;
        let connection = w.next_connection_number();
        let peer = w.scenario.proxy.proxy_pass.clone();
        w.exchanges[id].attempts.push(Attempt {
            peer: peer.clone(),
            connection,
            started: w.now,
            ended: None,
            result: AttemptResult::InProgress,
        });
        w.note(id, Actor::Proxy, format!("connect() to {peer} (upstream connection *{connection})"));
        let hop = w.hop();
        w.schedule(hop, Event::AppSyn { id, attempt });
        let timeout = w.scenario.proxy.proxy_connect_timeout_ms * 1_000;
        w.schedule(timeout, Event::ProxyTimer { id, timer: ProxyTimer::Connect { attempt } });
    }

    fn end_attempt(w: &mut World, id: ReqId, attempt: u32, result: AttemptResult) {
        let now = w.now;
        if let Some(a) = w.exchanges[id].attempts.get_mut(attempt as usize) {
            a.ended = Some(now);
            a.result = result;
        }
    }

    fn attempt_open(w: &World, id: ReqId, attempt: u32) -> bool {
        w.exchanges[id]
            .attempts
            .get(attempt as usize)
            .is_some_and(|a| a.ended.is_none())
    }

    /// Sends nginx's own error page for `status`.
    fn finalize_with_error(&self, w: &mut World, id: ReqId, status: u16, explanation: String) {
        let p = &w.scenario.proxy;
        let body = error_page(status, &p.version, p.server_tokens);
        let response = Response {
            status,
            reason: own_reason(status).into(),
            headers: vec![
                Header::new("Server", self.server_header(w)),
                Header::new("Date", w.clock.http_date(w.now)),
                Header::new("Content-Type", "text/html"),
                Header::new("Content-Length", body.len().to_string()),
                Header::new("Connection", "keep-alive"),
            ],
            body,
        };
        w.exchanges[id].explanation = Some(explanation);
        self.send_to_client(w, id, response);
    }

    fn server_header(&self, w: &World) -> String {
        let p = &w.scenario.proxy;
        if p.server_tokens {
            format!("nginx/{}", p.version)
        } else {
            "nginx".into()
        }
    }

    /// Writes the response to the client and the access.log line.
    fn send_to_client(&self, w: &mut World, id: ReqId, response: Response) {
        let ex = &w.exchanges[id];
        let line = nginx_combined_line(
            &w.scenario.client.ip,
            &w.clock.time_local(w.now),
            &ex.request_line(),
            response.status,
            response.body_bytes(),
            &w.scenario.client.user_agent,
        );
        w.access_log.push(line.clone());
        w.note(id, Actor::Proxy, format!("sends \"{}\" to the client", response.status_line()));
        let ex = &mut w.exchanges[id];
        ex.access_line = Some(line);
        ex.response = Some(response);
        let hop = w.hop();
        w.schedule(hop, Event::ClientReceive(id));
    }
}

impl ProxyFlavor for Nginx {
    fn on_request(&mut self, w: &mut World, id: ReqId) {
        let line = w.exchanges[id].request_line();
        w.note(id, Actor::Proxy, format!("reads \"{line}\" from client connection *{}", w.exchanges[id].client_connection));
        self.connect(w, id);
    }

    fn on_connect_result(&mut self, w: &mut World, id: ReqId, attempt: u32, outcome: ConnectOutcome) {
        if !Self::attempt_open(w, id, attempt) {
            return;
        }
        match outcome {
            ConnectOutcome::Refused => {
                Self::end_attempt(w, id, attempt, AttemptResult::Refused);
                self.log_error(
                    w,
                    id,
                    Level::Error,
                    "connect() failed (111: Connection refused) while connecting to upstream",
                );
                let peer = w.scenario.proxy.proxy_pass.clone();
                self.finalize_with_error(
                    w,
                    id,
                    502,
                    format!(
                        "Nothing was listening on {peer}, so the kernel refused nginx's connection (ECONNREFUSED, errno 111). \
                         nginx had no response to relay and answered 502 Bad Gateway itself. \
                         Fix: start the app (or point proxy_pass at the port it really listens on)."
                    ),
                );
            }
            ConnectOutcome::Accepted => {
                let line = w.exchanges[id].request_line();
                w.note(id, Actor::Proxy, format!("connected; sends \"{line}\" upstream"));
                let hop = w.hop();
                w.schedule(hop, Event::AppRequest { id, attempt });
                let timeout = w.scenario.proxy.proxy_read_timeout_ms * 1_000;
                w.schedule(timeout, Event::ProxyTimer { id, timer: ProxyTimer::Read { attempt } });
            }
        }
    }

    fn on_upstream_response(&mut self, w: &mut World, id: ReqId, attempt: u32) {
        if !Self::attempt_open(w, id, attempt) {
            return;
        }
        let Some(reply) = w.exchanges[id].pending_reply.take() else { return };
        let upstream = reply.response;
        Self::end_attempt(w, id, attempt, AttemptResult::Responded { status: upstream.status });
        // nginx keeps the upstream's status line and end-to-end headers and
        // adds its own Server, Date and Connection.
        let mut headers = vec![
            Header::new("Server", self.server_header(w)),
            Header::new("Date", w.clock.http_date(w.now)),
        ];
        headers.extend(upstream.headers.iter().cloned());
        headers.push(Header::new("Connection", "keep-alive"));
        let response = Response { headers, ..upstream };
        let explanation = match response.status {
            503 => format!(
                "The app itself answered 503 (it is in maintenance mode{}). nginx relayed it unchanged: \
                 a 503 that comes from the app leaves no line in error.log, only the access.log entry. \
                 Fix: end the maintenance window; clients should honour Retry-After.",
                response.header("Retry-After").map(|v| format!(", Retry-After: {v}")).unwrap_or_default()
            ),
            s if s < 400 => "The app answered in time and nginx relayed its response.".to_string(),
            s => format!("The app answered {s} and nginx relayed it unchanged."),
        };
        w.exchanges[id].explanation = Some(explanation);
        self.send_to_client(w, id, response);
    }

    fn on_timer(&mut self, w: &mut World, id: ReqId, timer: ProxyTimer) {
        match timer {
            ProxyTimer::Connect { attempt } => {
                // Only relevant while the TCP handshake has not completed;
                // the faults of this slice always complete it or refuse it.
                let _ = attempt;
            }
            ProxyTimer::Read { attempt } => {
                if !Self::attempt_open(w, id, attempt) {
                    return;
                }
                Self::end_attempt(w, id, attempt, AttemptResult::TimedOut);
                self.log_error(
                    w,
                    id,
                    Level::Error,
                    "upstream timed out (110: Connection timed out) while reading response header from upstream",
                );
                let t = w.scenario.proxy.proxy_read_timeout_ms;
                self.finalize_with_error(
                    w,
                    id,
                    504,
                    format!(
                        "The app accepted the request but sent no response header within proxy_read_timeout ({t} ms). \
                         nginx gave up, closed the upstream connection and answered 504 Gateway Time-out. \
                         The app may still finish the work later — nobody receives it. \
                         Fix: make the slow path faster, or raise proxy_read_timeout above the app's worst case."
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_page_matches_nginx_byte_count() {
        // nginx 1.22.1 with server_tokens on sends 157 bytes for its 502 page.
        assert_eq!(error_page(502, "1.22.1", true).len(), 157);
        assert!(error_page(504, "1.22.1", false).contains("<center>nginx</center>"));
    }
}
