//! Invalid scenario documents are refused with a message that names the
//! field and the problem; none of them panics.

use gateway_core::sim::Scenario;

mod common;

fn err(doc: &str) -> String {
    Scenario::from_json(doc).expect_err(doc).to_string()
}

#[test]
fn messages_name_the_field() {
    let cases: &[(&str, &str)] = &[
        ("{", "scenario: EOF while parsing"),
        ("[]", "scenario: invalid type: the document must be a JSON object"),
        ("{}", "version: missing: add \"version\": 3"),
        (r#"{"version":1,"faults":[{"type":"wrong_port","probability":0.5}]}"#, "faults[0].probability: wrong_port does not use probability"),
        (r#"{"version":1,"faults":[{"type":"rate_limited","from_ms":100}]}"#, "faults[0].from_ms: rate_limited does not use from_ms/until_ms"),
        (r#"{"version":1,"apps":[{"name":"a"},{"name":"a","listen":"127.0.0.1:3001"}]}"#, "apps[1].name: \"a\" is used by another app"),
        (r#"{"version":99}"#, "version: 99 is not supported (this build reads version 3)"),
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
        (r#"{"version":1,"apps":[{"latency_jitter_ms":18446744073709551615}]}"#, "apps[0].latency_jitter_ms: must be at most one day"),
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

/// The parsers name the field from serde_json's error position (`sim::json_path`) instead of
/// tracking the path while parsing (`serde_path_to_error`, which doubled the deserialization code
/// in the wasm bundle). This checks, on every shipped scenario and lesson with each field in turn
/// given a wrong value, an unknown key added or a key removed, that the field named is the one
/// `serde_path_to_error` names, and the message the same apart from its line and column.
#[test]
fn parse_errors_name_the_field_serde_path_to_error_names() {
    use gateway_core::lesson::{Lesson, Quiz};
    use serde_json::Value;

    /// (path, message without its line and column) of the error, if `text` is refused.
    fn old_way<T: serde::de::DeserializeOwned>(text: &str) -> Option<(String, String)> {
        let de = &mut serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize::<_, T>(de).err().map(|e| (e.path().to_string(), without_position(&e.inner().to_string())))
    }
    fn new_way<T: serde::de::DeserializeOwned>(text: &str) -> Option<(String, String)> {
        serde_json::from_str::<T>(text).err().map(|e| (gateway_core::sim::json_path::error_path(text, &e), without_position(&e.to_string())))
    }
    fn without_position(m: &str) -> String {
        m.find(" at line ").map_or(m, |i| &m[..i]).to_string()
    }
    // Every variant of `doc` with one change at one place.
    fn mutants(doc: &Value) -> Vec<Value> {
        let wrong = [
            Value::from("str"), Value::from(5), Value::from(-1), Value::from(1.5), Value::from(true), Value::Null,
            serde_json::json!([]), serde_json::json!({}), serde_json::json!([1]), serde_json::json!({"zz": 1}), serde_json::json!([{}]),
        ];
        fn walk(v: &Value, at: &mut Vec<String>, out: &mut Vec<(Vec<String>, bool)>) {
            match v {
                Value::Object(m) => {
                    out.push((at.clone(), true));
                    for (k, x) in m {
                        at.push(k.clone());
                        out.push((at.clone(), false));
                        walk(x, at, out);
                        at.pop();
                    }
                }
                Value::Array(a) => {
                    for (i, x) in a.iter().enumerate() {
                        at.push(i.to_string());
                        out.push((at.clone(), false));
                        walk(x, at, out);
                        at.pop();
                    }
                }
                _ => {}
            }
        }
        let mut places = Vec::new();
        walk(doc, &mut Vec::new(), &mut places);
        let mut out = Vec::new();
        for (place, is_object) in places {
            let pointer: String = place.iter().map(|p| format!("/{}", p.replace('~', "~0").replace('/', "~1"))).collect();
            if is_object {
                let mut d = doc.clone();
                d.pointer_mut(&pointer).unwrap().as_object_mut().unwrap().insert("zz_unknown".into(), Value::from(1));
                out.push(d);
                continue;
            }
            for w in &wrong {
                let mut d = doc.clone();
                *d.pointer_mut(&pointer).unwrap() = w.clone();
                out.push(d);
            }
            let (parent, last) = pointer.rsplit_once('/').unwrap();
            let mut d = doc.clone();
            if let Some(m) = d.pointer_mut(parent).and_then(Value::as_object_mut) {
                m.remove(&last.replace("~1", "/").replace("~0", "~"));
                out.push(d);
            }
        }
        out
    }
    // Same message; the same path, or a longer one that starts with it (more specific: an object
    // given for a name, `"arrival": {"zz": 1}`, is refused at its key `zz`).
    fn compare<T: serde::de::DeserializeOwned>(name: &str, doc: &Value, same: &mut usize, longer: &mut usize) {
        for m in mutants(doc) {
            for text in [serde_json::to_string(&m).unwrap(), serde_json::to_string_pretty(&m).unwrap()] {
                let (old, new) = (old_way::<T>(&text), new_way::<T>(&text));
                assert_eq!(old.is_some(), new.is_some(), "{name}: {text}");
                let (Some((old_path, old_msg)), Some((new_path, new_msg))) = (old, new) else { continue };
                assert_eq!(new_msg, old_msg, "{name}: {text}");
                if new_path == old_path {
                    *same += 1;
                } else {
                    let more = new_path.strip_prefix(old_path.as_str()).is_some_and(|rest| rest.starts_with(['.', '[']))
                        || (old_path == "." && new_path != ".");
                    assert!(more, "{name}: {text}\n  serde_path_to_error: {old_path}: {old_msg}\n  json_path:           {new_path}: {new_msg}");
                    *longer += 1;
                }
            }
        }
    }

    let (mut same, mut longer) = (0, 0);
    for path in common::scenario_files() {
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        compare::<Scenario>(&path.display().to_string(), &doc, &mut same, &mut longer);
    }
    for path in common::json_files("lessons") {
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        if path.ends_with("quiz.json") {
            compare::<Quiz>("quiz.json", &doc, &mut same, &mut longer);
        } else {
            compare::<Lesson>(&path.display().to_string(), &doc, &mut same, &mut longer);
        }
    }
    println!("refused documents: {same} name the same field as serde_path_to_error, {longer} a field inside it");
    assert!(same > 10_000 && longer < same / 10, "{same} same, {longer} longer");
}
