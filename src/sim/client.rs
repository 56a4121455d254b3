//! The clients: open-loop arrivals and what a client (curl) prints.

use super::engine::fmt_duration;
use super::scenario::{Arrival, Backoff, Jitter, RequestSpec, RetryPolicy};
use super::time::SimTime;
use super::world::{Actor, ClientResult, Event, ReqId, World};

/// Schedules the first open-loop arrival, if the scenario asks for any.
pub fn start(w: &mut World) {
    if w.scenario.clients.requests > 0 {
        w.schedule_at(SimTime::ZERO, Event::ClientArrival);
    }
}

/// The address of the client host that sends request number `n`.
pub fn client_ip(w: &World, n: u64) -> String {
    let c = &w.scenario.clients;
    if c.count <= 1 {
        return c.ip.clone();
    }
    let i = n % c.count as u64;
    format!("10.0.{}.{}", i / 250, i % 250 + 1)
}

/// One open-loop arrival: send a request and schedule the next one.
pub fn on_arrival(w: &mut World, sent_so_far: &mut u64) {
    let c = w.scenario.clients.clone();
    let duration = w.scenario.duration_ms;
    if *sent_so_far >= c.requests as u64 || (duration > 0 && w.now_ms() >= duration) {
        return;
    }
    let spec = RequestSpec {
        at_ms: w.now_ms(),
        method: c.method.clone(),
        path: c.path.clone(),
        host: c.host.clone(),
        body_bytes: c.body_bytes,
    };
    let ip = client_ip(w, *sent_so_far);
    let now = w.now;
    w.add_request(spec, ip, now);
    *sent_so_far += 1;
    if *sent_so_far < c.requests as u64 {
        let mean_us = 1_000_000.0 / c.rate_per_s;
        let gap = match c.arrival {
            Arrival::Uniform => mean_us,
            Arrival::Poisson => {
                // Inverse-CDF of the exponential distribution.
                let u = (w.rng.between(1, 1 << 53) as f64) / ((1u64 << 53) as f64);
                -mean_us * u.ln()
            }
        };
        w.schedule(gap.max(1.0) as u64, Event::ClientArrival);
    }
}

/// The client writes its request (or fails to connect to the proxy).
pub fn on_send(w: &mut World, id: ReqId) {
    w.stats.requests_sent += 1;
    let line = w.exchanges[id].request_line();
    w.note(id, Actor::Client, format!("sends \"{line}\""));
    let hop = w.hop();
    if !w.proxy_running {
        w.note(id, Actor::Kernel, "nginx is not running: nothing listens on the proxy's port, RST");
        w.exchanges[id].client_result = Some(ClientResult::ConnectFailed);
        w.exchanges[id].explanation = Some(
            "nginx is not running: it refused to start because its configuration could not be loaded (see the [emerg] line in error.log). \
             The client cannot even connect, so there is no HTTP status at all."
                .into(),
        );
        w.schedule(2 * hop, Event::ClientReceive(id));
        return;
    }
    w.schedule(hop, Event::ProxyReceive(id));
}

/// What the client got, curl-style.
pub fn on_receive(w: &mut World, id: ReqId) {
    let now = w.now;
    let ex = &mut w.exchanges[id];
    if ex.finished_at.is_some() {
        return;
    }
    ex.finished_at = Some(now);
    let took = now.since(ex.sent_at);
    let listen = w.scenario.proxy.listen;
    let host = if ex.request.host.is_empty() { "localhost".to_string() } else { ex.request.host.clone() };
    let (line, status) = match (&ex.client_result, &ex.response) {
        (Some(ClientResult::ConnectFailed), _) => (
            format!("curl: (7) Failed to connect to {host} port {listen} after {} ms: Couldn't connect to server", took / 1_000),
            0,
        ),
        (Some(ClientResult::Http09), _) => ("curl: (1) Received HTTP/0.9 when not allowed".to_string(), 9),
        (Some(ClientResult::Truncated { received, expected }), Some(r)) => (
            format!(
                "{} {} → {}, then curl: (18) {}",
                ex.request.method,
                ex.request.path,
                r.status_line(),
                match expected {
                    Some(expected) => format!("transfer closed with {} bytes remaining to read", expected.saturating_sub(*received)),
                    // Chunked: curl cannot know how much is missing.
                    None => "transfer closed with outstanding read data remaining".to_string(),
                }
            ),
            r.status,
        ),
        (_, Some(r)) => (
            format!("{} {} → {} ({} bytes, {})", ex.request.method, ex.request.path, r.status_line(), r.body_bytes(), fmt_duration(took)),
            r.status,
        ),
        (_, None) => ("(no response)".to_string(), 0),
    };
    ex.console.push(line.clone());
    w.console.push(line);
    w.stats.requests_finished += 1;
    *w.stats.by_status.entry(status).or_insert(0) += 1;
    let text = match status {
        0 | 9 => "gets no HTTP response".to_string(),
        s => format!("receives {s} after {}", fmt_duration(took)),
    };
    w.note(id, Actor::Client, text);
    decide(w, id);
}

/// The outcome class a retry policy's `retry_on` names.
fn outcome_class(ex: &super::world::Exchange) -> String {
    match (&ex.client_result, &ex.response) {
        (Some(ClientResult::ConnectFailed), _) => "connect_error".into(),
        (Some(ClientResult::Http09), _) | (Some(ClientResult::Truncated { .. }), _) | (_, None) => "error".into(),
        (_, Some(r)) => r.status.to_string(),
    }
}

/// After a try: retry it, or end the operation.
fn decide(w: &mut World, id: ReqId) {
    let policy = w.scenario.clients.retry.clone();
    let ex = &w.exchanges[id];
    let op = ex.op;
    let class = outcome_class(ex);
    let ok = matches!(ex.client_result, Some(ClientResult::Response)) && ex.status().is_some_and(|s| s < 400);
    let retry_after_ms = ex
        .response
        .as_ref()
        .and_then(|r| r.header("Retry-After"))
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|s| s * 1_000);
    let try_no = ex.try_no;
    let wants = !ok
        && policy.backoff != Backoff::None
        && try_no + 1 < policy.max_attempts
        && policy.retry_on.iter().any(|c| *c == class);
    let wait_us = if wants { wait(w, op, try_no, &policy, retry_after_ms) } else { 0 };
    let started = w.ops[op].started;
    let in_time = policy.deadline_ms == 0 || w.now.plus_us(wait_us).since(started) < policy.deadline_ms * 1_000;
    if wants && in_time {
        w.ops[op].last_wait_us = wait_us;
        w.stats.client_retries += 1;
        w.note(id, Actor::Client, format!("retries ({class}) in {}", fmt_duration(wait_us)));
        w.schedule(wait_us, Event::ClientRetry { op });
        return;
    }
    let now = w.now;
    let o = &mut w.ops[op];
    o.finished = Some(now);
    o.ok = ok;
    w.stats.ops_finished += 1;
    if ok {
        w.stats.ops_ok += 1;
    }
}

/// The wait before retry `try_no + 1`, in µs.
fn wait(w: &mut World, op: usize, try_no: u32, p: &RetryPolicy, retry_after_ms: Option<u64>) -> u64 {
    let base = p.base_ms as f64;
    let cap = p.cap_ms.max(1) as f64;
    let raw = match p.backoff {
        Backoff::None => 0.0,
        Backoff::Fixed => base,
        Backoff::Linear => base * (try_no as f64 + 1.0),
        Backoff::Exponential => base * p.multiplier.powi(try_no.min(60) as i32),
    }
    .min(cap);
    let raw_us = (raw * 1_000.0) as u64;
    let mut us = match p.jitter {
        Jitter::None => raw_us,
        Jitter::Full => w.rng.between(0, raw_us),
        Jitter::Equal => raw_us / 2 + w.rng.between(0, raw_us / 2),
        Jitter::Decorrelated => {
            let prev = w.ops[op].last_wait_us.max(p.base_ms * 1_000);
            w.rng.between(p.base_ms * 1_000, prev.saturating_mul(3)).min(p.cap_ms * 1_000)
        }
    };
    if let (true, Some(ra)) = (p.honour_retry_after, retry_after_ms) {
        us = us.max(ra * 1_000);
    }
    us
}

/// A retry: the same request again, from the same client.
pub fn on_retry(w: &mut World, op: usize) {
    let Some(&last) = w.ops[op].tries.last() else { return };
    let request = RequestSpec { at_ms: w.now_ms(), ..w.exchanges[last].request.clone() };
    let ip = w.exchanges[last].client_ip.clone();
    let try_no = w.exchanges[last].try_no + 1;
    let now = w.now;
    w.add_try(op, try_no, request, ip, now);
}
