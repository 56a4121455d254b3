//! Invalid scenario documents are refused with a message that names the
//! field and the problem; none of them panics.

use gateway_lab::sim::Scenario;

mod common;

fn err(doc: &str) -> String {
    Scenario::from_json(doc).expect_err(doc).to_string()
}

#[test]
fn messages_name_the_field() {
    let cases: &[(&str, &str)] = &[
        ("{", "scenario: EOF while parsing"),
        ("[]", "scenario: invalid type: the document must be a JSON object"),
        ("{}", "version: missing: add \"version\": 1"),
        (r#"{"version":1,"faults":[{"type":"wrong_port","probability":0.5}]}"#, "faults[0].probability: wrong_port does not use probability"),
        (r#"{"version":1,"faults":[{"type":"rate_limited","from_ms":100}]}"#, "faults[0].from_ms: rate_limited does not use from_ms/until_ms"),
        (r#"{"version":1,"apps":[{"name":"a"},{"name":"a","listen":"127.0.0.1:3001"}]}"#, "apps[1].name: \"a\" is used by another app"),
        (r#"{"version":99}"#, "version: 99 is not supported (this build reads version 1)"),
        (r#"{"version":1,"bogus":1}"#, "bogus: unknown field `bogus`"),
        (r#"{"version":1,"proxy":{"proxy_read_timeout_ms":"60s"}}"#, "proxy.proxy_read_timeout_ms: invalid type: string \"60s\""),
        (r#"{"version":1,"proxy":{"proxy_read_timeout_ms":0}}"#, "proxy.proxy_read_timeout_ms: must be between 1 and"),
        (r#"{"version":1,"proxy":{"proxy_pass":"ftp://x"}}"#, "proxy.proxy_pass: must start with http:// or https://"),
        (r#"{"version":1,"proxy":{"proxy_next_upstream":["error","http_999"]}}"#, "proxy.proxy_next_upstream[1]: unknown condition \"http_999\""),
        (r#"{"version":1,"proxy":{"proxy_http_version":"2"}}"#, "proxy.proxy_http_version: must be \"1.0\" or \"1.1\""),
        (r#"{"version":1,"proxy":{"error_log_level":"loud"}}"#, "proxy.error_log_level: must be one of"),
        (r#"{"version":1,"clients":{"rate_per_s":-1}}"#, "clients.rate_per_s: must be a number in (0, 1000000]"),
        (r#"{"version":1,"clients":{"retry":{"breaker":{"failure_rate_percent":0}}}}"#, "clients.retry.breaker.failure_rate_percent: must be in (0, 100]"),
        (r#"{"version":1,"clients":{"retry":{"breaker":{"window":"sliding"}}}}"#, "clients.retry.breaker.window: unknown variant `sliding`"),
        (r#"{"version":1,"clients":{"retry":{"budget":{"ttl_ms":0}}}}"#, "clients.retry.budget.ttl_ms: must be between 1 ms and one hour"),
        (r#"{"version":1,"clients":{"retry":{"throttle":{"max_tokens":5000}}}}"#, "clients.retry.throttle.max_tokens: must be in (0, 1000]"),
        (r#"{"version":1,"clients":{"retry":{"hedge":{"delay":5}}}}"#, "clients.retry.hedge.delay: unknown field `delay`"),
        (r#"{"version":1,"clients":{"arrival":"synchronised","burst_size":0}}"#, "clients.burst_size: must be between 1 and 1000000"),
        (r#"{"version":1,"clients":{"method":"get"}}"#, "clients.method: must be an upper-case method"),
        (r#"{"version":1,"clients":{"path":"users"}}"#, "clients.path: must start with '/'"),
        (r#"{"version":1,"requests":[{},{"path":"x y"}]}"#, "requests[1].path: must start with '/'"),
        (r#"{"version":1,"upstream":{"servers":[{},{"address":"127.0.0.1"}]}}"#, "upstream.servers[1].address: expected host:port or unix:/path"),
        (r#"{"version":1,"upstream":{"servers":[{"weight":0}]}}"#, "upstream.servers[0].weight: must be between 1 and 1000"),
        (r#"{"version":1,"upstream":{"servers":[]}}"#, "upstream.servers: an upstream block needs at least one server"),
        (r#"{"version":1,"apps":[{"workers":0}]}"#, "apps[0].workers: must be between 1 and 100000"),
        (r#"{"version":1,"apps":[{"listen":"unix:relative.sock"}]}"#, "apps[0].listen: unix socket path must be absolute"),
        (r#"{"version":1,"faults":[{"type":"melted"}]}"#, "faults[0]: unknown variant `melted`"),
        (r#"{"version":1,"faults":[{"type":"slow_app","delay":5}]}"#, "faults[0]: unknown field `delay`"),
        (r#"{"version":1,"faults":[{"type":"app_down","probability":2}]}"#, "faults[0].probability: must be between 0 and 1, got 2"),
        (r#"{"version":1,"faults":[{"type":"app_down","from_ms":10,"until_ms":5}]}"#, "faults[0].until_ms: must not be before from_ms"),
        (r#"{"version":1,"faults":[{"type":"app_down","target":"db"}]}"#, "faults[0].target: no app named \"db\""),
        (r#"{"version":1,"faults":[{"type":"dies_after_headers","content_length":10,"sent_bytes":10}]}"#, "faults[0].sent_bytes: must be below content_length"),
        (r#"{"version":1,"faults":[{"type":"dns_failure","host":"10.0.0.1"}]}"#, "faults[0].host: must be a DNS name"),
    ];
    for (doc, expected) in cases {
        let e = err(doc);
        assert!(e.starts_with(expected) || e.contains(expected), "{doc}\n  got:      {e}\n  expected: {expected}");
    }
}

#[test]
fn every_shipped_scenario_is_valid_and_documented() {
    let mut n = 0;
    for path in common::scenario_files() {
        let text = std::fs::read_to_string(&path).unwrap();
        let s = Scenario::from_json(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(!s.title.is_empty() && !s.description.is_empty(), "{}: needs a title and a description", path.display());
        n += 1;
    }
    assert!(n >= 21, "{n} scenario files");
}
