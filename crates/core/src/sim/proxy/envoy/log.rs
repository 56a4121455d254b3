//! Envoy's default access log line, formatted from typed fields (pure).
//!
//! Documented, not verified. The format string is Envoy's
//! `SubstitutionFormatUtils::DEFAULT_FORMAT` (`source/common/formatter/substitution_formatter.cc`):
//!
//! ```text
//! [%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"\n
//! ```
//!
//! It has no `%RESPONSE_CODE_DETAILS%` (Istio's default adds it). A value that is
//! not set prints `-` (`DefaultUnspecifiedValueString`, same file); several
//! response flags are joined by commas. `START_TIME` prints
//! `2016-04-15T20:17:00.310Z` (usage.rst's example). docs/research/envoy-alb-model.md §1.

use time::macros::format_description;
use time::OffsetDateTime;

/// The response flags the Envoy flavor sets (usage.rst, `%RESPONSE_FLAGS%`), in
/// the order Envoy prints several of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ResponseFlag {
    /// No healthy upstream hosts (503).
    UH,
    /// Upstream request timeout (504).
    UT,
    /// Upstream connection failure (503).
    UF,
    /// Upstream connection termination (503).
    UC,
    /// The upstream response had an HTTP protocol error (502).
    UPE,
    /// Downstream connection termination.
    DC,
    /// The upstream retry limit was reached.
    URX,
}

impl ResponseFlag {
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseFlag::UH => "UH",
            ResponseFlag::UT => "UT",
            ResponseFlag::UF => "UF",
            ResponseFlag::UC => "UC",
            ResponseFlag::UPE => "UPE",
            ResponseFlag::DC => "DC",
            ResponseFlag::URX => "URX",
        }
    }
}

/// One access log entry of the default format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvoyLogEntry {
    /// `%START_TIME%`: when the request started, Unix milliseconds.
    pub start_ms: i64,
    pub method: String,
    pub path: String,
    /// `%PROTOCOL%` (`HTTP/1.1`).
    pub protocol: String,
    /// `%RESPONSE_CODE%`: 0 when no response was sent (the client left).
    pub code: u16,
    pub flags: Vec<ResponseFlag>,
    pub bytes_received: u64,
    pub bytes_sent: u64,
    /// `%DURATION%` in milliseconds.
    pub duration_ms: u64,
    /// `x-envoy-upstream-service-time` of the response, when the upstream answered.
    pub upstream_service_time_ms: Option<u64>,
    pub x_forwarded_for: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    pub authority: Option<String>,
    /// `%UPSTREAM_HOST%` (`127.0.0.1:3000`).
    pub upstream_host: Option<String>,
}

/// `2016-04-15T20:17:00.310Z`.
pub fn start_time(unix_ms: i64) -> String {
    let f = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    OffsetDateTime::from_unix_timestamp(unix_ms.div_euclid(1_000))
        .map(|d| d + time::Duration::milliseconds(unix_ms.rem_euclid(1_000)))
        .ok()
        .and_then(|d| d.format(&f).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00.000Z".into())
}

/// `%RESPONSE_FLAGS%`: `-` for none, else the flags in Envoy's order, comma-separated.
pub fn flags(f: &[ResponseFlag]) -> String {
    if f.is_empty() {
        return "-".into();
    }
    let mut v = f.to_vec();
    v.sort();
    v.dedup();
    v.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(",")
}

fn or_dash(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("-")
}

/// The line, without its trailing newline.
pub fn format(e: &EnvoyLogEntry) -> String {
    format!(
        "[{}] \"{} {} {}\" {} {} {} {} {} {} \"{}\" \"{}\" \"{}\" \"{}\" \"{}\"",
        start_time(e.start_ms),
        e.method,
        e.path,
        e.protocol,
        e.code,
        flags(&e.flags),
        e.bytes_received,
        e.bytes_sent,
        e.duration_ms,
        e.upstream_service_time_ms.map_or_else(|| "-".to_string(), |t| t.to_string()),
        or_dash(&e.x_forwarded_for),
        or_dash(&e.user_agent),
        or_dash(&e.request_id),
        or_dash(&e.authority),
        or_dash(&e.upstream_host),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// usage.rst's example line, field by field (its upstream host is `tcp://10.0.2.1:80`).
    #[test]
    fn the_documented_example_byte_for_byte() {
        let e = EnvoyLogEntry {
            start_ms: 1_460_751_420_310,
            method: "POST".into(),
            path: "/api/v1/locations".into(),
            protocol: "HTTP/2".into(),
            code: 204,
            flags: vec![],
            bytes_received: 154,
            bytes_sent: 0,
            duration_ms: 226,
            upstream_service_time_ms: Some(100),
            x_forwarded_for: Some("10.0.35.28".into()),
            user_agent: Some("nsq2http".into()),
            request_id: Some("cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2".into()),
            authority: Some("locations".into()),
            upstream_host: Some("tcp://10.0.2.1:80".into()),
        };
        assert_eq!(
            format(&e),
            "[2016-04-15T20:17:00.310Z] \"POST /api/v1/locations HTTP/2\" 204 - 154 0 226 100 \"10.0.35.28\" \"nsq2http\" \"cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2\" \"locations\" \"tcp://10.0.2.1:80\""
        );
    }

    /// envoyproxy/envoy#1979's keep-alive race line (its first fields; the thread's copy is cut after the user agent).
    #[test]
    fn the_keepalive_race_line_of_issue_1979() {
        let e = EnvoyLogEntry {
            start_ms: 1_509_093_107_894,
            method: "GET".into(),
            path: "/geolocation".into(),
            protocol: "HTTP/1.1".into(),
            code: 503,
            flags: vec![ResponseFlag::UC],
            bytes_received: 0,
            bytes_sent: 57,
            duration_ms: 3,
            upstream_service_time_ms: None,
            x_forwarded_for: None,
            user_agent: Some("curl".into()),
            request_id: None,
            authority: None,
            upstream_host: None,
        };
        assert!(format(&e).starts_with("[2017-10-27T08:31:47.894Z] \"GET /geolocation HTTP/1.1\" 503 UC 0 57 3 - \"-\" \"cur"), "{}", format(&e));
    }

    /// envoyproxy/envoy#17432 logged `"responseFlags":"UF,URX"`.
    #[test]
    fn several_flags_are_joined_in_envoys_order() {
        assert_eq!(flags(&[ResponseFlag::URX, ResponseFlag::UF]), "UF,URX");
        assert_eq!(flags(&[]), "-");
    }
}
