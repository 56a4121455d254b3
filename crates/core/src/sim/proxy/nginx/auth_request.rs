//! `auth_request`: before the request goes to its upstream, nginx sends a
//! subrequest to an authorization service (`location = /auth { internal;
//! proxy_pass …; }`). A 2xx lets the request through; 401 and 403 are
//! passed to the client; anything else, including the 502 or 504 of a
//! subrequest whose upstream failed, becomes **500** for the client with
//! `auth request unexpected status: N while sending to client`, after the
//! subrequest's own line (`connect() failed …`, `upstream sent too big
//! header …`) with a `subrequest: "/auth"` field. Measured on a real nginx
//! 1.22.1: docs/research/nginx-1.22-observations-4.md §3.
//!
//! The authorization service is an app of the scenario listening on the
//! `pass` address, so the catalog's faults target it by name (`app_down`,
//! `oversized_header`, …). The subrequest is worked out at once from that
//! app and its faults (as the terminal's direct curl does), and its result
//! is acted on when the answer is due; the app logs the request then.

use crate::sim::app;
use crate::sim::failure::{FailureCause, TimeoutPhase};
use crate::sim::fault::{ConnectOutcome, Wire};
use crate::sim::log::{nginx_error_line, ErrorContext, Level, LogLine};
use crate::sim::net::{Address, ProxyPass, Target};
use crate::sim::world::{Actor, Event, ProxyTimer, ReqId, World};

use super::{invalid_header_message, Nginx, CONNECTING, READING_HEADER};

/// Where the subrequest stands for one request.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum AuthState {
    #[default]
    NotAsked,
    Waiting(Box<Pending>),
    Allowed,
}

/// The subrequest's result, due at the `AuthDone` timer.
#[derive(Clone, Debug, PartialEq)]
pub struct Pending {
    /// The subrequest's own error line: level, message, action.
    line: Option<(Level, String, &'static str)>,
    /// The status the subrequest ended with (its upstream's, or nginx's 502/504).
    status: u16,
    /// The app that answered, its process generation and its reply (for its log).
    served: Option<(usize, u64, crate::sim::fault::AppReply)>,
}

impl Nginx {
    /// True while the request waits for (or was ended by) its auth subrequest.
    pub(super) fn auth_gate(&mut self, w: &mut World, id: ReqId) -> bool {
        let Some(cfg) = w.scenario.proxy.auth_request.clone() else { return false };
        match self.auth.at(id) {
            AuthState::Allowed => return false,
            AuthState::Waiting(_) => return true,
            AuthState::NotAsked => {}
        }
        let peer = match ProxyPass::parse(&cfg.pass) {
            Ok(ProxyPass { host: Target::Addr(a), .. }) => a,
            _ => return false,
        };
        let hop = w.hop();
        let p = &w.scenario.proxy;
        let (connect_ms, read_ms, buffer) = (p.proxy_connect_timeout_ms, p.proxy_read_timeout_ms, p.proxy_buffer_size);
        let now = w.now;
        let a = app::listener(w, &peer);
        let mut outcome = match (&peer, a) {
            (_, Some(a)) if w.apps[a].running => ConnectOutcome::Accepted,
            (Address::Unix { .. }, None) => ConnectOutcome::NoSuchFile,
            _ => ConnectOutcome::Refused,
        };
        if let Some(a) = a {
            let by_hand = w.apps[a].started_by_hand;
            let (faults, name, rng) = (&w.scenario.faults, &w.scenario.apps[a].name, &mut w.rng);
            if let Some(o) = app::connect_outcome(faults, now, name, by_hand, rng) {
                outcome = o;
            }
        }
        note!(w, id, Actor::Proxy, "auth_request: subrequest \"GET {}\" to {peer}", cfg.uri);
        let peer = peer.to_string();
        let (after, pending) = match outcome {
            ConnectOutcome::Accepted => {
                let a = a.expect("accepted implies a listener");
                let generation = w.apps[a].generation;
                let (cfg_app, faults, rng) = (&w.scenario.apps[a], &w.scenario.faults, &mut w.rng);
                let reply = app::compose_reply(cfg_app, faults, now, rng);
                let answer = 2 * hop + reply.after_us;
                let timeout = read_ms * 1_000;
                let read_timeout = (Level::Error, self.failure_line(&FailureCause::Timeout { phase: TimeoutPhase::ReadHeader }, &peer).1, READING_HEADER);
                match &reply.wire {
                    _ if reply.after_us > timeout || matches!(reply.wire, Wire::Hang) => {
                        (2 * hop + timeout, Pending { line: Some(read_timeout), status: 504, served: None })
                    }
                    Wire::Http { response, bad_header_line, .. } => {
                        let mut len = response.header_block_len();
                        if let Some(l) = bad_header_line {
                            len += l.len() + 2;
                        }
                        let line = if len as u64 > buffer {
                            Some((Level::Error, "upstream sent too big header".to_string(), READING_HEADER))
                        } else {
                            bad_header_line.as_deref().and_then(invalid_header_message).map(|m| (Level::Error, m, READING_HEADER))
                        };
                        let status = if line.is_some() { 502 } else { response.status };
                        (answer, Pending { line, status, served: Some((a, generation, reply.clone())) })
                    }
                    Wire::Garbage(_) => (answer, Pending { line: Some((Level::Error, "upstream sent no valid HTTP/1.0 header".into(), READING_HEADER)), status: 9, served: Some((a, generation, reply.clone())) }),
                    Wire::Crash | Wire::OomKill { .. } => {
                        (answer, Pending { line: Some((Level::Error, "upstream prematurely closed connection".into(), READING_HEADER)), status: 502, served: Some((a, generation, reply.clone())) })
                    }
                    // The subrequest is header-only (auth_request reads the status): a
                    // malformed chunked body after a valid header is not looked at.
                    // From nginx's source, not measured.
                    Wire::BadChunked { response, .. } => (answer, Pending { line: None, status: response.status, served: Some((a, generation, reply.clone())) }),
                    Wire::Hang => unreachable!("handled above"),
                }
            }
            ConnectOutcome::Dropped => {
                let (level, msg) = self.failure_line(&FailureCause::Timeout { phase: TimeoutPhase::Connect }, &peer);
                (hop + connect_ms * 1_000, Pending { line: Some((level, msg, CONNECTING)), status: 504, served: None })
            }
            o => {
                let cause = match o {
                    ConnectOutcome::NoSuchFile => FailureCause::NoSuchFile,
                    ConnectOutcome::PermissionDenied => FailureCause::PermissionDenied,
                    _ => FailureCause::Refused,
                };
                let (level, msg) = self.failure_line(&cause, &peer);
                (2 * hop, Pending { line: Some((level, msg, CONNECTING)), status: 502, served: None })
            }
        };
        *self.auth.at(id) = AuthState::Waiting(Box::new(pending));
        w.schedule(after, Event::ProxyTimer { id, timer: ProxyTimer::AuthDone });
        true
    }

    /// The subrequest's answer is due: let the request through, or end it.
    pub(super) fn auth_done(&mut self, w: &mut World, id: ReqId) {
        let AuthState::Waiting(p) = std::mem::take(self.auth.at(id)) else { return };
        let Some(cfg) = w.scenario.proxy.auth_request.clone() else { return };
        if let Some((a, generation, reply)) = &p.served {
            app::serve_direct(w, *a, *generation, "GET", &cfg.uri, reply);
        }
        let peer = match ProxyPass::parse(&cfg.pass) {
            Ok(ProxyPass { host: Target::Addr(a), .. }) => a.to_string(),
            _ => String::new(),
        };
        if let Some((level, msg, action)) = &p.line {
            let upstream = format!("http://{peer}{}", cfg.uri);
            self.log_subrequest(w, id, *level, msg, action, &cfg.uri, &upstream);
        }
        match p.status {
            200..=299 => {
                note!(w, id, Actor::Proxy, "auth_request: {} allows the request", p.status);
                *self.auth.at(id) = AuthState::Allowed;
                self.start_upstream(w, id);
            }
            s @ (401 | 403) => {
                let why = format!("The authorization service answered {s} to the auth subrequest ({}), so nginx denies the request with {s}; the app never sees it.", cfg.uri);
                self.finalize_error(w, id, s, why);
            }
            s => {
                self.log(w, id, Level::Error, &format!("auth request unexpected status: {s}"), Some("sending to client"), None);
                let cause = match &p.line {
                    Some((_, m, _)) => format!(" The subrequest failed (\"{m}\"), so nginx gave it {s}."),
                    None => format!(" The service itself answered {s}."),
                };
                let why = format!(
                    "auth_request sends every request first to the authorization service ({peer}, location = {}). It did not answer 2xx, 401 or 403: its status was {s}.{cause} \
                     auth_request turns any other status into 500 Internal Server Error for the client, so the 500 hides a gateway error of the auth service: error.log has \"auth request unexpected status: {s}\" after the subrequest's own line (with subrequest: \"{}\"). \
                     Fix the authorization service (start it, make it answer in time, keep its response headers within proxy_buffer_size); the app itself is fine. auth_request is nginx's: HAProxy has no built-in equivalent.",
                    cfg.uri, cfg.uri
                );
                self.finalize_error(w, id, 500, why);
            }
        }
    }

    /// An error.log line of the subrequest: nginx adds `subrequest: "/auth"`
    /// after the request and names the subrequest's upstream.
    fn log_subrequest(&self, w: &mut World, id: ReqId, level: Level, message: &str, action: &str, uri: &str, upstream: &str) {
        note!(w, id, Actor::Proxy, "error.log [{}] {message} (subrequest {uri})", level.as_str());
        let threshold = Level::parse(&w.scenario.proxy.error_log_level).unwrap_or(Level::Error);
        if level > threshold || !w.keep_details {
            return;
        }
        let ex = &w.exchanges[id];
        let request_line = ex.request_line();
        let host = (!ex.request.host.is_empty()).then_some(ex.request.host.as_str());
        let line = nginx_error_line(
            &w.clock.error_log(w.now),
            level,
            w.scenario.proxy.worker_pid,
            ex.client_connection,
            message,
            &ErrorContext {
                client: &ex.client_ip,
                server: w.scenario.proxy.server_name.split_whitespace().next().unwrap_or(""),
                request_line: &request_line,
                action: Some(action),
                upstream: Some(upstream),
                host,
            },
        );
        let marker = format!("request: \"{request_line}\"");
        let line = line.replacen(&marker, &format!("{marker}, subrequest: \"{uri}\""), 1);
        w.error_log.push(line.clone());
        w.exchanges[id].error_lines.push(LogLine { level, text: line });
    }
}
