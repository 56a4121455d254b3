//! The AWS Application Load Balancer's access log entry, one line per request,
//! formatted from typed fields. A pure function: no engine state.
//!
//! Documented, not verified. Source: `awsdocs/elb-application-load-balancers-user-guide`
//! @ `fb242939a8639ebd75f5a9cbd4b33acef51e1367`, `doc_source/load-balancer-access-logs.md`
//! lines 79-112 (the fields, in order, "delimited by spaces"; new fields "are added to the
//! end of the log entry") and lines 229-240 (the example line); the live page is
//! <https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html>.
//! The rules for `-` and `-1` (quoted in docs/research/envoy-cloudflare-alb-sources.md §3.1):
//! - `target:port` is `-` when the request could not be dispatched to a target (line 88);
//! - the three processing times are `-1` when the load balancer could not dispatch the request
//!   or the target did not answer before the idle timeout (lines 89-91);
//! - `target_status_code` is `-` unless a connection was established and the target sent a
//!   response (line 93), and so is `target_status_code_list` (line 110);
//! - `ssl_cipher`/`ssl_protocol` are `-` on an HTTP listener (lines 98-99);
//! - `matched_rule_priority` is 0 for the default action (line 104);
//! - `error_reason` is `-` unless an authenticate action or a Lambda target is involved (line 108);
//! - `classification`/`classification_reason` are `-` for an RFC 7230-compliant request (111-112).

use time::macros::format_description;
use time::OffsetDateTime;

/// The listener's kind, the line's first field (`type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListenerType {
    Http,
    Https,
    H2,
}

impl ListenerType {
    pub fn as_str(self) -> &'static str {
        match self {
            ListenerType::Http => "http",
            ListenerType::Https => "https",
            ListenerType::H2 => "h2",
        }
    }
}

/// One access log entry. `None` is what the documentation prints as `-`
/// (or `-1` for the processing times).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlbLogEntry {
    pub listener: ListenerType,
    /// When the load balancer generated the response to the client, in Unix microseconds (`time`).
    pub time_us: i64,
    /// The load balancer's resource id (`app/my-loadbalancer/50dc6c495c0c9188`).
    pub elb: String,
    /// `client:port`.
    pub client: String,
    /// `target:port`; `None` when the request could not be dispatched to a target.
    pub target: Option<String>,
    /// `request_processing_time` in microseconds; `None` prints `-1`.
    pub request_processing_us: Option<u64>,
    /// `target_processing_time`; `None` prints `-1`.
    pub target_processing_us: Option<u64>,
    /// `response_processing_time`; `None` prints `-1`.
    pub response_processing_us: Option<u64>,
    pub elb_status_code: u16,
    /// `None` (`-`) unless a connection was established and the target sent a response.
    pub target_status_code: Option<u16>,
    pub received_bytes: u64,
    pub sent_bytes: u64,
    /// `method protocol://host:port/uri version`, e.g. `GET http://www.example.com:80/ HTTP/1.1`.
    pub request: String,
    pub user_agent: String,
    pub ssl_cipher: Option<String>,
    pub ssl_protocol: Option<String>,
    pub target_group_arn: String,
    /// The `X-Amzn-Trace-Id` value (`Root=1-58337262-36d228ad5d99923122bbe354`).
    pub trace_id: String,
    pub domain_name: Option<String>,
    pub chosen_cert_arn: Option<String>,
    /// 0 for the default action; `None` prints `-`.
    pub matched_rule_priority: Option<i32>,
    /// When the load balancer received the request, Unix microseconds.
    pub request_creation_time_us: i64,
    /// Comma-separated, e.g. `forward`.
    pub actions_executed: String,
    pub redirect_url: Option<String>,
    pub error_reason: Option<String>,
    /// `target:port_list`: the targets tried; empty prints `-`.
    pub target_port_list: Vec<String>,
    /// `target_status_code_list`; empty prints `-`.
    pub target_status_code_list: Vec<u16>,
    pub classification: Option<String>,
    pub classification_reason: Option<String>,
}

/// `2018-07-02T22:23:00.186641Z`: ISO 8601 with microseconds, as the doc's example prints `time`.
pub fn iso_micros(unix_us: i64) -> String {
    let f = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");
    let secs = unix_us.div_euclid(1_000_000);
    let micros = unix_us.rem_euclid(1_000_000);
    OffsetDateTime::from_unix_timestamp(secs)
        .map(|d| d + time::Duration::microseconds(micros))
        .ok()
        .and_then(|d| d.format(&f).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00.000000Z".into())
}

/// A processing time in seconds with millisecond precision (`0.001`), or `-1`.
fn seconds(us: Option<u64>) -> String {
    match us {
        Some(us) => format!("{}.{:03}", us / 1_000_000, (us % 1_000_000) / 1_000),
        None => "-1".into(),
    }
}

fn dash(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("-")
}

/// A quoted field: `"…"`, `"-"` when absent; a `"` inside is escaped as `\"`.
fn quoted(v: &str) -> String {
    format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The entry as the load balancer writes it: fields in the documented order, separated by spaces.
pub fn format(e: &AlbLogEntry) -> String {
    let list = |v: Vec<String>| if v.is_empty() { "-".to_string() } else { v.join(" ") };
    let fields: Vec<String> = vec![
        e.listener.as_str().into(),
        iso_micros(e.time_us),
        e.elb.clone(),
        e.client.clone(),
        dash(&e.target).into(),
        seconds(e.request_processing_us),
        seconds(e.target_processing_us),
        seconds(e.response_processing_us),
        e.elb_status_code.to_string(),
        e.target_status_code.map_or_else(|| "-".into(), |c| c.to_string()),
        e.received_bytes.to_string(),
        e.sent_bytes.to_string(),
        quoted(&e.request),
        quoted(&e.user_agent),
        dash(&e.ssl_cipher).into(),
        dash(&e.ssl_protocol).into(),
        e.target_group_arn.clone(),
        quoted(&e.trace_id),
        quoted(dash(&e.domain_name)),
        quoted(dash(&e.chosen_cert_arn)),
        e.matched_rule_priority.map_or_else(|| "-".into(), |p| p.to_string()),
        iso_micros(e.request_creation_time_us),
        quoted(&e.actions_executed),
        quoted(dash(&e.redirect_url)),
        quoted(dash(&e.error_reason)),
        quoted(&list(e.target_port_list.clone())),
        quoted(&list(e.target_status_code_list.iter().map(|c| c.to_string()).collect())),
        quoted(dash(&e.classification)),
        quoted(dash(&e.classification_reason)),
    ];
    fields.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documentation's HTTP example (load-balancer-access-logs.md:229-240), field by field.
    fn doc_example() -> AlbLogEntry {
        AlbLogEntry {
            listener: ListenerType::Http,
            time_us: 1_530_570_180_186_641,
            elb: "app/my-loadbalancer/50dc6c495c0c9188".into(),
            client: "192.168.131.39:2817".into(),
            target: Some("10.0.0.1:80".into()),
            request_processing_us: Some(0),
            target_processing_us: Some(1_000),
            response_processing_us: Some(0),
            elb_status_code: 200,
            target_status_code: Some(200),
            received_bytes: 34,
            sent_bytes: 366,
            request: "GET http://www.example.com:80/ HTTP/1.1".into(),
            user_agent: "curl/7.46.0".into(),
            ssl_cipher: None,
            ssl_protocol: None,
            target_group_arn: "arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067".into(),
            trace_id: "Root=1-58337262-36d228ad5d99923122bbe354".into(),
            domain_name: None,
            chosen_cert_arn: None,
            matched_rule_priority: Some(0),
            request_creation_time_us: 1_530_570_168_364_000,
            actions_executed: "forward".into(),
            redirect_url: None,
            error_reason: None,
            target_port_list: vec!["10.0.0.1:80".into()],
            target_status_code_list: vec![200],
            classification: None,
            classification_reason: None,
        }
    }

    #[test]
    fn the_documented_example_byte_for_byte() {
        assert_eq!(
            format(&doc_example()),
            "http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 \"GET http://www.example.com:80/ HTTP/1.1\" \"curl/7.46.0\" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 \"Root=1-58337262-36d228ad5d99923122bbe354\" \"-\" \"-\" 0 2018-07-02T22:22:48.364000Z \"forward\" \"-\" \"-\" \"10.0.0.1:80\" \"200\" \"-\" \"-\""
        );
    }

    /// A target that closed the connection: `response_processing_time` -1,
    /// `target_status_code` `-` (the Knowledge Center's 502 example, its first 18 fields).
    #[test]
    fn a_502_from_a_closed_target_has_dashes_and_minus_one() {
        let e = AlbLogEntry {
            time_us: 1_650_041_570_757_968,
            request_processing_us: Some(1_000),
            target_processing_us: Some(4_205_000),
            response_processing_us: None,
            elb_status_code: 502,
            target_status_code: None,
            received_bytes: 94,
            sent_bytes: 326,
            request: "GET http://example.com:80 HTTP/1.1".into(),
            user_agent: "curl/7.51.0".into(),
            target_status_code_list: vec![],
            ..doc_example()
        };
        let line = format(&e);
        assert!(line.starts_with("http 2022-04-15T16:52:50.757968Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.001 4.205 -1 502 - 94 326 \"GET http://example.com:80 HTTP/1.1\" \"curl/7.51.0\" - - arn:aws:"), "{line}");
        assert!(line.ends_with("\"10.0.0.1:80\" \"-\" \"-\" \"-\""), "{line}");
    }

    #[test]
    fn an_undispatched_request_has_no_target_and_quotes_are_escaped() {
        let e = AlbLogEntry { target: None, target_port_list: vec![], user_agent: "a \"b\"".into(), ..doc_example() };
        let line = format(&e);
        assert!(line.contains(" 192.168.131.39:2817 - 0.000"), "{line}");
        assert!(line.contains("\"a \\\"b\\\"\""), "{line}");
        assert_eq!(line.split(' ').count(), format(&doc_example()).split(' ').count() + 1, "the user agent has one space more: {line}");
    }
}
