//! `worker_connections`: a worker's connection slots (ngx_get_connection).
//! The listening socket and the channel to the master take two; each
//! proxied request holds one for the client and one for its upstream
//! connection. When none is free: on accept, `[alert] N worker_connections
//! are not enough` with no request context and the client's connection is
//! closed unread (a reset, no status, nothing in access.log); on the
//! upstream connect, the same words with the request's context and
//! `while connecting to upstream`, and 500. Measured on a real nginx 1.22.1:
//! docs/research/nginx-1.22-observations-4.md §5.

use crate::sim::log::{Level, LogLine};
use crate::sim::world::{Actor, ClientResult, ConnId, ConnState, Event, ReqId, World};

use super::{Nginx, CONNECTING};

/// Slots taken before any request: the listening socket and the master's channel.
const FIXED: usize = 2;

/// The connections a worker holds (closed ones are dropped lazily, when the
/// count reaches the limit).
#[derive(Default)]
pub struct Slots {
    clients: Vec<ReqId>,
    upstreams: Vec<ConnId>,
}

impl Slots {
    /// True if a slot is free (pruning closed connections when the count says none is).
    fn free(&mut self, w: &World) -> bool {
        let limit = w.scenario.proxy.worker_connections as usize;
        if FIXED + self.clients.len() + self.upstreams.len() < limit {
            return true;
        }
        self.clients.retain(|&id| w.exchanges.get(id).is_some_and(|e| !e.proxy.done));
        self.upstreams.retain(|&c| w.conns.get(c).is_some_and(|c| c.state != ConnState::Closed));
        FIXED + self.clients.len() + self.upstreams.len() < limit
    }
}

fn fix(n: u32) -> String {
    format!(
        "Fix: raise worker_connections in the events block of /etc/nginx/nginx.conf (nginx's default is 512, Debian's nginx.conf says 768; {} here would do), \
         and worker_rlimit_nofile (or LimitNOFILE= in the service) to at least as many, as each connection is a file descriptor (ulimit -n). \
         worker_processes auto gives every core its own set. (HAProxy has no such per-worker table: its maxconn queues connections instead; not modelled here.)",
        (n as u64 * 4).max(1024)
    )
}

impl Nginx {
    /// On accept: true if the client's connection found no slot (the request is over).
    pub(super) fn accept_refused(&mut self, w: &mut World, id: ReqId) -> bool {
        if self.slots.free(w) {
            self.slots.clients.push(id);
            return false;
        }
        let n = w.scenario.proxy.worker_connections;
        // ngx_event_accept: ngx_get_connection fails before the connection has
        // a number; the line is the cycle's, with no *N and no context.
        w.exchanges[id].client_connection = 0;
        w.undo_connection_number();
        note!(w, id, Actor::Proxy, "error.log [alert] {n} worker_connections are not enough");
        let threshold = Level::parse(&w.scenario.proxy.error_log_level).unwrap_or(Level::Error);
        if w.keep_details && Level::Alert <= threshold {
            let pid = w.scenario.proxy.worker_pid;
            let text = format!("{} [alert] {pid}#{pid}: {n} worker_connections are not enough", w.clock.error_log(w.now));
            w.error_log.push(text.clone());
            w.exchanges[id].error_lines.push(LogLine { level: Level::Alert, text });
        }
        w.note(id, Actor::Proxy, "closes the accepted connection unread: the client gets a reset");
        let ex = &mut w.exchanges[id];
        ex.proxy.done = true;
        ex.response = None;
        ex.client_result = Some(ClientResult::Reset);
        if w.keep_details {
            w.exchanges[id].explanation = Some(format!(
                "Every one of the worker's {n} connection slots was taken when this client connected: two go to the listening socket and the master's channel, \
                 and each request being proxied holds two more (its client connection and its upstream connection). nginx accepted the connection, found no slot for it, \
                 logged \"[alert] {n} worker_connections are not enough\" (no request context: it had not read the request) and closed it unread, so the client got a reset \
                 (curl: (56) Recv failure: Connection reset by peer), no HTTP status, and access.log has no line for it. {}",
                fix(n)
            ));
        }
        let hop = w.hop();
        w.schedule(hop, Event::ClientReceive(id));
        true
    }

    /// Before a new upstream connection: true if it found no slot (500 sent).
    pub(super) fn upstream_refused(&mut self, w: &mut World, id: ReqId, peer: &str) -> bool {
        if self.slots.free(w) {
            return false;
        }
        let n = w.scenario.proxy.worker_connections;
        // ngx_event_connect_peer returns NGX_ERROR: ngx_http_upstream_connect
        // finalizes with 500, no next upstream, the peer not counted as failed.
        self.log(w, id, Level::Alert, &format!("{n} worker_connections are not enough"), Some(CONNECTING), Some(peer));
        self.free_peer(w, id, false);
        let why = format!(
            "The client's connection got the last of the worker's {n} connection slots, so when nginx tried to open the connection to {peer} there was none left: \
             two slots go to the listening socket and the master's channel, and each request being proxied holds two (client and upstream), so a slow app fills them fast. \
             nginx logs \"[alert] {n} worker_connections are not enough while connecting to upstream\" and answers 500 Internal Server Error itself (not 502: nothing went wrong with the app, \
             which never saw the request). {}",
            fix(n)
        );
        self.finalize_error(w, id, 500, why);
        true
    }

    /// A new upstream connection takes a slot.
    pub(super) fn upstream_opened(&mut self, conn: ConnId) {
        self.slots.upstreams.push(conn);
    }
}
