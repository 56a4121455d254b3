//! The upstream application server. Healthy behaviour is here; every
//! deviation comes from the active faults (`sim::fault`).

use super::fault::{AppReply, ConnectOutcome};
use super::http::{reason_phrase, Header, Response};
use super::world::{Actor, Event, ReqId, World};

/// The app's state as the topology shows it: the first active fault's, or
/// `listening`.
pub fn state(w: &World) -> &'static str {
    w.scenario.faults.first().map(|f| f.kind.app_state()).unwrap_or("listening")
}

/// Whether the app host accepts the proxy's connection.
pub fn on_syn(w: &mut World, id: ReqId, attempt: u32) {
    let outcome = w
        .scenario
        .faults
        .iter()
        .find_map(|f| f.on_connect())
        .unwrap_or(ConnectOutcome::Accepted);
    match outcome {
        ConnectOutcome::Accepted => {
            let port = w.scenario.app.port;
            w.note(id, Actor::App, format!("accepts the connection on :{port}"));
        }
        ConnectOutcome::Refused => {
            w.note(id, Actor::App, "nothing listens on the port: the kernel answers RST");
        }
    }
    let hop = w.hop();
    w.schedule(hop, Event::ProxyConnectResult { id, attempt, outcome });
}

/// The app has read the request and decides what to answer and when.
pub fn on_request(w: &mut World, id: ReqId, attempt: u32) {
    let app = &w.scenario.app;
    let (lo, hi) = (
        app.latency_ms.saturating_sub(app.latency_jitter_ms),
        app.latency_ms.saturating_add(app.latency_jitter_ms),
    );
    let body = app.body.clone();
    let after_us = w.rng.between(lo * 1_000, hi * 1_000);
    let mut reply = AppReply {
        after_us,
        response: Response {
            status: 200,
            reason: reason_phrase(200).into(),
            headers: vec![
                Header::new("Content-Type", "application/json; charset=utf-8"),
                Header::new("Content-Length", body.len().to_string()),
            ],
            body,
        },
        note: None,
    };
    for f in &w.scenario.faults {
        reply = f.on_request(reply);
    }
    let after_us = reply.after_us;
    let line = w.exchanges[id].request_line();
    w.note(id, Actor::App, format!("reads \"{line}\" and starts working on it"));
    w.exchanges[id].pending_reply = Some(reply);
    w.schedule(after_us, Event::AppWrite { id, attempt });
}

/// The app writes its response and logs the request, whether or not the
/// proxy is still waiting for it.
pub fn on_write(w: &mut World, id: ReqId, attempt: u32) {
    let Some(reply) = w.exchanges[id].pending_reply.take() else { return };
    let ex = &w.exchanges[id];
    let took_ms = reply.after_us / 1_000;
    let proxy_gone = ex.attempts.get(attempt as usize).is_some_and(|a| a.ended.is_some());
    let mut line = format!(
        "{} {} {} {} {} {}ms",
        w.clock.iso(w.now),
        if reply.response.status >= 500 { "warn" } else { "info" },
        ex.request.method,
        ex.request.path,
        reply.response.status,
        took_ms
    );
    if let Some(note) = reply.note {
        line.push_str(&format!(" ({note})"));
    }
    if proxy_gone {
        line.push_str(" — the proxy had already closed the connection; the response went nowhere");
    }
    w.app_log.push(line);
    let status = reply.response.status;
    if proxy_gone {
        w.note(id, Actor::App, format!("finishes after {took_ms} ms and writes {status} to a closed connection"));
        return;
    }
    w.note(id, Actor::App, format!("answers {status} after {took_ms} ms"));
    w.exchanges[id].pending_reply = Some(reply);
    let hop = w.hop();
    w.schedule(hop, Event::ProxyUpstreamResponse { id, attempt });
}
