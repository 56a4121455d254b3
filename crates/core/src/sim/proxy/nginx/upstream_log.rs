//! The access.log format with the upstream fields (`access_log_format:
//! "upstreaminfo"`), ingress-nginx's `upstreaminfo` without its own
//! variables: after the combined fields, `$request_length $request_time
//! $upstream_addr $upstream_response_length $upstream_response_time
//! $upstream_status`. Each `$upstream_*` lists every attempt of the request
//! (ngx_http_upstream_addr_variable and friends): ", " between the servers
//! of one upstream group and " : " between groups (an internal redirect to
//! another location, which the engine never makes); "-" everywhere when no
//! upstream was asked. Measured on a real nginx 1.22.1:
//! docs/research/nginx-1.22-observations-4.md §2.

use crate::sim::failure::FailureCause;
use crate::sim::world::{AttemptResult, ReqId, World};

/// The name of the format in the exported config.
pub const NAME: &str = "upstreaminfo";

/// The `log_format` directive the exported config carries.
pub const LOG_FORMAT: &str = "log_format upstreaminfo '$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent \"$http_referer\" \"$http_user_agent\" $request_length $request_time $upstream_addr $upstream_response_length $upstream_response_time $upstream_status';";

/// `1.004` from microseconds (nginx's times have millisecond resolution).
pub fn secs(us: u64) -> String {
    let ms = us / 1_000;
    format!("{}.{:03}", ms / 1_000, ms % 1_000)
}

/// What one entry of the `$upstream_*` lists says.
struct State {
    addr: String,
    length: u64,
    time_us: u64,
    /// None: "-" (the client went away before a status).
    status: Option<u16>,
}

/// The six fields after the combined ones. `no_live`: the request ended on
/// "no live upstreams" (an entry named after the group); `request_length`:
/// the request bytes nginx read; `relayed_body`: the body bytes the last
/// attempt delivered.
pub fn fields(w: &World, id: ReqId, group: Option<&str>, request_length: u64, relayed_body: u64) -> String {
    let ex = &w.exchanges[id];
    let received = ex.sent_at.0 + w.scenario.hop_latency_us;
    let request_time = secs(w.now.0.saturating_sub(received));
    let last = ex.attempts.len().saturating_sub(1);
    let mut states: Vec<State> = ex
        .attempts
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let status = match &a.result {
                AttemptResult::Responded { status } => Some(*status),
                AttemptResult::Failed { cause: FailureCause::Timeout { .. } } => Some(504),
                AttemptResult::Failed { .. } => Some(502),
                AttemptResult::ClientClosed | AttemptResult::InProgress => None,
            };
            let length = if i == last && matches!(a.result, AttemptResult::Responded { .. }) { relayed_body } else { 0 };
            let end = a.ended.unwrap_or(w.now);
            State { addr: a.peer.clone(), length, time_us: end.0.saturating_sub(a.started.0), status }
        })
        .collect();
    if let Some(g) = group {
        states.push(State { addr: g.to_string(), length: 0, time_us: 0, status: Some(502) });
    }
    if states.is_empty() {
        return format!("{request_length} {request_time} - - - -");
    }
    let list = |f: &dyn Fn(&State) -> String| states.iter().map(f).collect::<Vec<_>>().join(", ");
    format!(
        "{request_length} {request_time} {} {} {} {}",
        list(&|s| s.addr.clone()),
        list(&|s| s.length.to_string()),
        list(&|s| secs(s.time_us)),
        list(&|s| s.status.map(|v| v.to_string()).unwrap_or_else(|| "-".into())),
    )
}

/// What the upstream fields of a line say, for the request's explanation
/// (None when there is no upstream in it).
pub fn explain(fields: &str) -> Option<String> {
    let t: Vec<&str> = fields.splitn(3, ' ').collect();
    let rest = t.get(2)?;
    if rest.starts_with('-') {
        return Some("access.log's upstream fields are \"- - - -\": nginx answered without asking any upstream.".into());
    }
    // The status list is last; as many entries as there were attempts.
    let n = rest.matches(", ").count() / 4 + 1;
    let statuses: Vec<&str> = rest.rsplitn(n + 1, ' ').take(n).collect::<Vec<_>>().into_iter().rev().collect();
    let statuses = statuses.join(" ");
    Some(if n > 1 {
        format!("access.log (log_format upstreaminfo) lists all {n} attempts: $upstream_status {statuses}, with each server's address and time (\", \" between the servers of one upstream group), where the combined format shows only the final status.")
    } else {
        format!("access.log (log_format upstreaminfo) shows the one attempt: $upstream_status {statuses}.")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_as_nginx_prints_them() {
        assert_eq!(secs(0), "0.000");
        assert_eq!(secs(1_004_999), "1.004");
        assert_eq!(secs(61_000_000), "61.000");
    }

    #[test]
    fn the_explanation_reads_the_status_list() {
        let f = "77 15.000 127.0.0.1:3000, 127.0.0.1:3001, 127.0.0.1:3002 0, 0, 0 5.000, 5.000, 5.000 504, 504, 504";
        assert!(explain(f).unwrap().contains("all 3 attempts: $upstream_status 504, 504, 504,"), "{:?}", explain(f));
        assert!(explain("77 0.000 127.0.0.1:3000 48 0.025 200").unwrap().contains("$upstream_status 200."));
        assert!(explain("143 0.000 - - - -").unwrap().contains("without asking any upstream"));
    }
}
