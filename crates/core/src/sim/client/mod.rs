//! The clients: open-loop arrivals, what a client (curl) prints, and what
//! it does after a try: retry with backoff, time out, hedge, or stop. The
//! circuit breaker, retry budget and throttle live in `guards`.

pub mod guards;

use super::engine::fmt_duration;
use super::rng::SimRng;
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
    let c = &w.scenario.clients;
    let (requests, rate_per_s, arrival) = (c.requests as u64, c.rate_per_s, c.arrival);
    let duration = w.scenario.duration_ms;
    if *sent_so_far >= requests || (duration > 0 && w.now_ms() >= duration) {
        return;
    }
    // One request spec for the whole burst.
    let spec = std::sync::Arc::new(RequestSpec {
        at_ms: w.now_ms(),
        method: c.method.clone(),
        path: c.path.clone(),
        host: c.host.clone(),
        body_bytes: c.body_bytes,
        cookie_bytes: c.cookie_bytes,
        websocket: c.websocket,
    });
    let now = w.now;
    let burst = if arrival == Arrival::Synchronised { c.burst_size.max(1) as u64 } else { 1 };
    for _ in 0..burst.min(requests - *sent_so_far) {
        let ip = client_ip(w, *sent_so_far);
        w.add_request(spec.clone(), ip, now);
        *sent_so_far += 1;
    }
    if *sent_so_far < requests {
        let mean_us = 1_000_000.0 / rate_per_s;
        let gap = match arrival {
            Arrival::Uniform => mean_us,
            Arrival::Synchronised => mean_us * burst as f64,
            Arrival::Poisson => {
                // Inverse-CDF of the exponential distribution.
                let u = (w.arrival_rng.between(1, 1 << 53) as f64) / ((1u64 << 53) as f64);
                -mean_us * u.ln()
            }
        };
        w.schedule(gap.max(1.0) as u64, Event::ClientArrival);
    }
}

/// The client writes its request (or fails to connect to the proxy, or its
/// circuit breaker keeps it from trying).
pub fn on_send(w: &mut World, id: ReqId) {
    if w.exchanges[id].finished_at.is_some() {
        return; // abandoned before it went out
    }
    let op = w.exchanges[id].op;
    if w.ops[op].finished.is_some() {
        // A hedge or retry scheduled before the operation ended another way.
        finish_unsent(w, id, ClientResult::Cancelled, "(not sent: the request had already ended)");
        return;
    }
    let now = w.now;
    // A command-line tool's one-off request has no retry policy or guards.
    let tool = w.ops[op].user_agent.is_some();
    if let Some(b) = w.guards.breaker.as_mut().filter(|_| !tool) {
        match b.admit(now) {
            Some(probe) => w.exchanges[id].probe = probe,
            None => {
                w.stats.breaker_rejections += 1;
                w.note(id, Actor::Client, "circuit breaker is open: the request is not sent");
                finish_unsent(w, id, ClientResult::Rejected, "circuit breaker open: request not sent");
                decide(w, id);
                return;
            }
        }
    }
    let policy = &w.scenario.clients.retry;
    let (timeout_ms, hedge, deadline_ms) = (policy.timeout_ms, policy.hedge.clone(), policy.deadline_ms);
    let max_attempts = policy.max_attempts as usize;
    let (timeout_ms, hedge, deadline_ms) = if tool { (0, None, 0) } else { (timeout_ms, hedge, deadline_ms) };
    if w.exchanges[id].try_no == 0 && !tool {
        if let Some(b) = w.guards.budget.as_mut() {
            b.deposit(now);
        }
        if deadline_ms > 0 {
            w.schedule(deadline_ms.saturating_mul(1_000), Event::ClientDeadline { op });
        }
    }
    if timeout_ms > 0 {
        w.schedule(timeout_ms * 1_000, Event::ClientTimeout(id));
    }
    if let Some(h) = hedge {
        let tries = w.ops[op].tries.len();
        if tries < max_attempts {
            w.schedule(h.delay_ms * 1_000, Event::ClientHedge { op, tries });
        }
    }
    w.stats.requests_sent += 1;
    note!(w, id, Actor::Client, "sends \"{}\"", w.exchanges[id].request_line());
    let hop = w.hop();
    if super::layer::applies(w, id) {
        // Through the layers in front of the proxy (`sim::layer`).
        super::layer::forward(w, id);
        return;
    }
    if !w.proxy_running {
        // Where a start-up failure is written: the proxy's stderr, which journald keeps
        // (error.log is not open yet when the configuration fails to load).
        let (name, line) = match w.scenario.proxy.flavor {
            crate::sim::scenario::Flavor::Nginx => ("nginx", "the [emerg] line nginx printed on stderr: journalctl -u nginx"),
            crate::sim::scenario::Flavor::Haproxy => ("haproxy", "the [ALERT] lines haproxy printed on stderr: journalctl -u haproxy"),
            crate::sim::scenario::Flavor::Apache => ("apache2", "what apachectl printed when the unit started: journalctl -u apache2"),
            crate::sim::scenario::Flavor::Caddy => ("caddy", "what caddy printed when it started: journalctl -u caddy"),
            crate::sim::scenario::Flavor::Varnish => ("varnishd", "the VCL compiler's message varnishd printed: journalctl -u varnish"),
            crate::sim::scenario::Flavor::Envoy => ("envoy", "what envoy printed when it started: journalctl -u envoy"),
            crate::sim::scenario::Flavor::Alb => ("the load balancer", "the load balancer's state in the AWS console"),
        };
        note!(w, id, Actor::Kernel, "{name} is not running: nothing listens on the proxy's port, RST");
        w.exchanges[id].client_result = Some(ClientResult::ConnectFailed);
        // Stopped by hand (`systemctl stop`), or refused to start.
        w.exchanges[id].explanation = Some(if w.proxy_stopped {
            format!(
                "{name}.service is stopped (systemctl stop): nothing listens on the proxy's port, so the kernel refuses the connection. \
                 There is no HTTP status at all. systemctl start {name} brings it back."
            )
        } else {
            format!(
                "{name} is not running: it refused to start because its configuration could not be loaded (see {line}). \
                 The client cannot even connect, so there is no HTTP status at all."
            )
        });
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
    let status = match (&ex.client_result, &ex.response) {
        (Some(ClientResult::ConnectFailed), _) => 0,
        (Some(ClientResult::Http09), _) => 9,
        (_, Some(r)) => r.status,
        (_, None) => 0,
    };
    if w.keep_details {
        let line = console_line(ex, w.scenario.proxy.listen, took);
        ex.console.push(line.clone());
        w.console.push(line);
    }
    w.stats.requests_finished += 1;
    *w.stats.by_status.entry(status).or_insert(0) += 1;
    match status {
        0 | 9 => w.note(id, Actor::Client, "gets no HTTP response"),
        s => note!(w, id, Actor::Client, "receives {s} after {}", fmt_duration(took)),
    }
    decide(w, id);
    w.compact(id);
}

/// The line curl prints for try `ex`, which took `took` µs (`listen`: the
/// proxy's port).
fn console_line(ex: &super::world::Exchange, listen: u16, took: u64) -> String {
    let host = if ex.request.host.is_empty() { "localhost" } else { ex.request.host.as_str() };
    match (&ex.client_result, &ex.response) {
        (Some(ClientResult::ConnectFailed), _) => {
            format!("curl: (7) Failed to connect to {host} port {listen} after {} ms: Couldn't connect to server", took / 1_000)
        }
        (Some(ClientResult::Http09), _) => "curl: (1) Received HTTP/0.9 when not allowed".to_string(),
        (Some(ClientResult::Reset), _) => "curl: (56) Recv failure: Connection reset by peer".to_string(),
        // The connection closed before a byte of the response arrived.
        (Some(ClientResult::Truncated { .. }), None) => "curl: (52) Empty reply from server".to_string(),
        (Some(ClientResult::Truncated { received, expected }), Some(r)) => format!(
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
        (_, Some(r)) => format!("{} {} → {} ({} bytes, {})", ex.request.method, ex.request.path, r.status_line(), r.body_bytes(), fmt_duration(took)),
        (_, None) => "(no response)".to_string(),
    }
}

/// Ends a try without an HTTP answer (no status: counted under 0). `line`
/// is what the client prints (only made when the run keeps details).
fn end_try(w: &mut World, id: ReqId, result: ClientResult, line: impl FnOnce() -> String) {
    let now = w.now;
    let ex = &mut w.exchanges[id];
    ex.finished_at = Some(now);
    ex.client_result = Some(result);
    if w.keep_details {
        let line = line();
        ex.console.push(line.clone());
        w.console.push(line);
    }
    w.stats.requests_finished += 1;
    *w.stats.by_status.entry(0).or_insert(0) += 1;
}

/// Ends a try that never reached the proxy.
fn finish_unsent(w: &mut World, id: ReqId, result: ClientResult, line: &str) {
    end_try(w, id, result, || line.to_string());
    w.compact(id);
}

/// The per-try timeout: the client gives up on this try and closes the
/// connection (curl: "Operation timed out").
pub fn on_timeout(w: &mut World, id: ReqId) {
    if w.exchanges[id].finished_at.is_some() {
        return;
    }
    let ms = w.scenario.clients.retry.timeout_ms;
    w.stats.client_timeouts += 1;
    abandon(w, id, ClientResult::TimedOut, || format!("curl: (28) Operation timed out after {ms} milliseconds with 0 bytes received"));
    note!(w, id, Actor::Client, "gives up after {} and closes the connection", fmt_duration(ms * 1_000));
    decide(w, id);
    w.compact(id);
}

/// A tool's client gives up on try `id` now (curl's `--max-time`): it
/// closes the connection, prints `line`, and the operation ends.
pub fn give_up(w: &mut World, id: ReqId, line: String) {
    if w.exchanges[id].finished_at.is_some() {
        return;
    }
    w.stats.client_timeouts += 1;
    abandon(w, id, ClientResult::TimedOut, || line);
    w.note(id, Actor::Client, "gives up (--max-time) and closes the connection");
    let op = w.exchanges[id].op;
    if w.ops[op].finished.is_none() {
        end_op(w, op, false, "timeout".into());
    }
    w.compact(id);
}

/// The overall deadline: tries still open are abandoned and the operation
/// ends as timed out.
pub fn on_deadline(w: &mut World, op: usize) {
    if w.ops[op].finished.is_some() {
        return;
    }
    let ms = w.scenario.clients.retry.deadline_ms;
    let open: Vec<ReqId> = w.ops[op].tries.iter().copied().filter(|&t| w.exchanges[t].finished_at.is_none()).collect();
    for t in open {
        w.stats.client_timeouts += 1;
        abandon(w, t, ClientResult::TimedOut, || format!("deadline of {ms} ms exceeded: the client gives up"));
        w.note(t, Actor::Client, "the overall deadline has passed: closes the connection");
    }
    end_op(w, op, false, "timeout".into());
}

/// The client closes a try's connection before the answer came.
fn abandon(w: &mut World, id: ReqId, result: ClientResult, line: impl FnOnce() -> String) {
    let cancelled = result == ClientResult::Cancelled;
    end_try(w, id, result, line);
    if cancelled && w.exchanges[id].probe {
        if let Some(b) = w.guards.breaker.as_mut() {
            b.forget_probe();
        }
    }
    if super::layer::client_gone(w, id) {
        return;
    }
    if w.proxy_running {
        let hop = w.hop();
        w.schedule(hop, Event::ProxyClientAbort(id));
    }
}

/// A hedge: if `op` still has `tries` tries and no answer, send another copy.
pub fn on_hedge(w: &mut World, op: usize, tries: usize) {
    if w.ops[op].finished.is_some() || w.ops[op].tries.len() != tries {
        return;
    }
    if another_try_denied(w).is_some() {
        return;
    }
    w.stats.hedges += 1;
    let last = w.ops[op].tries[tries - 1];
    note!(w, last, Actor::Client, "no answer yet: sends a hedged copy of \"{}\"", w.exchanges[last].request_line());
    on_retry(w, op);
}

/// Retries and hedges must get past the throttle, then the budget (which
/// is charged when it allows). Some(why) if one of them refuses.
fn another_try_denied(w: &mut World) -> Option<&'static str> {
    if w.guards.throttle.as_ref().is_some_and(|t| !t.allows()) {
        w.stats.throttle_denied += 1;
        return Some("retry throttled: the token bucket is below half");
    }
    let now = w.now;
    if w.guards.budget.as_mut().is_some_and(|b| !b.try_withdraw(now)) {
        w.stats.budget_denied += 1;
        return Some("retry budget exhausted: no retry");
    }
    None
}

/// The outcome class a retry policy's `retry_on` names.
pub fn outcome_class(ex: &super::world::Exchange) -> String {
    match (&ex.client_result, &ex.response) {
        (Some(ClientResult::ConnectFailed), _) => "connect_error".into(),
        (Some(ClientResult::TimedOut), _) => "timeout".into(),
        (Some(ClientResult::Cancelled), _) => "cancelled".into(),
        (Some(ClientResult::Rejected), _) => "breaker_open".into(),
        (Some(ClientResult::Http09), _) | (Some(ClientResult::Truncated { .. }), _) | (Some(ClientResult::Reset), _) | (_, None) => "error".into(),
        (_, Some(r)) => r.status.to_string(),
    }
}

/// Whether an outcome counts as a failure for the breaker and the throttle:
/// server errors, broken responses, connection errors and timeouts (not 4xx).
pub fn is_failure(class: &str) -> bool {
    class.starts_with('5') || matches!(class, "connect_error" | "error" | "timeout")
}

/// After a try: feed the guards, then retry, hedge again, wait for the
/// other copies, or end the operation.
fn decide(w: &mut World, id: ReqId) {
    let ex = &w.exchanges[id];
    let (op, class, probe) = (ex.op, outcome_class(ex), ex.probe);
    let ok = ex.succeeded();
    let retry_after_ms = ex
        .response
        .as_ref()
        .and_then(|r| r.header("Retry-After"))
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|s| s.saturating_mul(1_000));
    if w.ops[op].user_agent.is_some() {
        // A tool's one-off request: no guards to feed, no retry.
        if w.ops[op].finished.is_none() && class != "cancelled" {
            end_op(w, op, ok, class);
        }
        return;
    }
    let now = w.now;
    let p = &w.scenario.clients.retry;
    let retryable = !ok && p.retry_on.contains(&class);
    let (hedged, backoff, max_attempts, deadline_us) = (p.hedge.is_some(), p.backoff, p.max_attempts as usize, p.deadline_ms.saturating_mul(1_000));
    if class != "breaker_open" && class != "cancelled" {
        let failed = is_failure(&class);
        if let Some(b) = w.guards.breaker.as_mut() {
            let before = b.state;
            b.record(now, probe, failed);
            if b.state != before {
                let text = format!("circuit breaker: {} → {}", before.as_str(), b.state.as_str());
                w.note(id, Actor::Client, text);
            }
        }
        // gRFC A6: only failures with a retryable status take a token;
        // successes give some back; other outcomes leave the bucket alone.
        if let Some(t) = w.guards.throttle.as_mut() {
            if ok {
                t.record(false);
            } else if retryable {
                t.record(true);
            }
        }
    }
    if w.ops[op].finished.is_some() || class == "cancelled" {
        return;
    }
    let in_flight = w.ops[op].tries.iter().any(|&t| w.exchanges[t].finished_at.is_none());
    if ok {
        end_op(w, op, true, class);
        return;
    }
    if class == "breaker_open" {
        // A copy the breaker kept back; another may still answer.
        if !in_flight {
            end_op(w, op, false, class);
        }
        return;
    }
    if !retryable {
        end_op(w, op, false, class);
        return;
    }
    let tries = w.ops[op].tries.len();
    let started = w.ops[op].started;
    let past_deadline = |wait_us: u64| deadline_us > 0 && now.plus_us(wait_us).since(started) >= deadline_us;
    if hedged {
        // gRPC hedging: after a non-fatal failure the next copy goes at once,
        // even while others are still out.
        if tries < max_attempts && !past_deadline(0) && another_try_denied(w).is_none() {
            w.stats.hedges += 1;
            note!(w, id, Actor::Client, "{class}: sends the next hedged copy at once");
            on_retry(w, op);
        } else if !in_flight {
            end_op(w, op, false, class);
        }
        return;
    }
    if in_flight {
        return;
    }
    if backoff == Backoff::None {
        end_op(w, op, false, class);
        return;
    }
    if tries >= max_attempts {
        // A loop that sleeps at the end of each turn sleeps after the last
        // failure too, and only then gives up (`on_retry` ends it).
        if !w.scenario.clients.retry.sleep_after_last {
            end_op(w, op, false, class);
            return;
        }
        let wait_us = wait(&mut w.retry_rng, &w.scenario.clients.retry, w.ops[op].last_wait_us, tries as u32 - 1, retry_after_ms);
        if past_deadline(wait_us) {
            end_op(w, op, false, class);
            return;
        }
        w.ops[op].last_wait_us = wait_us;
        note!(w, id, Actor::Client, "{class}: sleeps {} after the last try, then gives up", fmt_duration(wait_us));
        w.schedule(wait_us, Event::ClientRetry { op });
        return;
    }
    let wait_us = wait(&mut w.retry_rng, &w.scenario.clients.retry, w.ops[op].last_wait_us, tries as u32 - 1, retry_after_ms);
    if past_deadline(wait_us) {
        end_op(w, op, false, class);
        return;
    }
    if let Some(why) = another_try_denied(w) {
        w.note(id, Actor::Client, why);
        end_op(w, op, false, class);
        return;
    }
    w.ops[op].last_wait_us = wait_us;
    w.stats.client_retries += 1;
    note!(w, id, Actor::Client, "retries ({class}) in {}", fmt_duration(wait_us));
    w.schedule(wait_us, Event::ClientRetry { op });
}

/// The operation is over; copies still in flight are abandoned.
fn end_op(w: &mut World, op: usize, ok: bool, class: String) {
    let now = w.now;
    let o = &mut w.ops[op];
    o.finished = Some(now);
    o.ok = ok;
    o.outcome = class;
    w.stats.ops_finished += 1;
    if ok {
        w.stats.ops_ok += 1;
    }
    let open: Vec<ReqId> = w.ops[op].tries.iter().copied().filter(|&t| w.exchanges[t].finished_at.is_none()).collect();
    for t in open {
        w.stats.hedges_cancelled += 1;
        abandon(w, t, ClientResult::Cancelled, || "(cancelled: another copy answered first)".to_string());
        w.note(t, Actor::Client, "another copy answered first: closes this connection");
    }
}

/// The wait before retry `try_no + 1`, in µs.
fn wait(rng: &mut SimRng, p: &RetryPolicy, last_wait_us: u64, try_no: u32, retry_after_ms: Option<u64>) -> u64 {
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
        Jitter::Full => rng.between(0, raw_us),
        Jitter::Equal => raw_us / 2 + rng.between(0, raw_us / 2),
        Jitter::Decorrelated => {
            let prev = last_wait_us.max(p.base_ms * 1_000);
            rng.between(p.base_ms * 1_000, prev.saturating_mul(3)).min(p.cap_ms.max(1) * 1_000)
        }
    };
    if let (true, Some(ra)) = (p.honour_retry_after, retry_after_ms) {
        us = us.max(ra.saturating_mul(1_000));
    }
    us.min(MAX_WAIT_US)
}

/// No wait is longer than a day (a huge Retry-After, an absurd multiplier).
const MAX_WAIT_US: u64 = 86_400_000_000;

/// A retry: the same request again, from the same client.
pub fn on_retry(w: &mut World, op: usize) {
    if w.ops[op].finished.is_some() {
        return; // the deadline passed during the wait
    }
    let Some(&last) = w.ops[op].tries.last() else { return };
    if w.ops[op].tries.len() >= w.scenario.clients.retry.max_attempts as usize {
        // The sleep after the last failure is over (`sleep_after_last`): the caller gives up.
        let class = outcome_class(&w.exchanges[last]);
        end_op(w, op, false, class);
        return;
    }
    let (previous, at_ms) = (&w.exchanges[last].request, w.now_ms());
    let request = if previous.at_ms == at_ms { previous.clone() } else { RequestSpec { at_ms, ..RequestSpec::clone(previous) }.into() };
    let ip = w.exchanges[last].client_ip.clone();
    let try_no = w.exchanges[last].try_no + 1;
    let now = w.now;
    w.add_try(op, try_no, request, ip, now);
}
