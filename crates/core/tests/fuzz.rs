//! Fuzzing the inputs a stranger controls: the share-link decoder (query and
//! fragment), the scenario JSON parser and validator, and lesson files. The
//! property is "never panics, and every refusal has a message"; accepted
//! scenarios must also start and run a bounded number of events.
//!
//! CI runs FUZZ_CASES (default 10,000) cases per target. The long run:
//!   FUZZ_CASES=10000000 cargo test --release --test fuzz -- --nocapture
//! (see docs/PERFORMANCE.md for the last long run and its figures).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use gateway_core::lesson::Lesson;
use gateway_core::link;
use gateway_core::sim::{Scenario, Simulation};
use gateway_core::scenarios::READY as SCENARIOS;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::Value;

fn cases() -> u32 {
    std::env::var("FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000)
}

fn runner(cases: u32) -> TestRunner {
    // No shrinking budget worth mentioning and no persistence: a fuzz run, not a property file.
    TestRunner::new(Config { cases, failure_persistence: None, max_shrink_iters: 1_000, ..Config::default() })
}

/// Random JSON values, including the awkward ones (huge, negative, fractional, deep).
fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter("JSON has no NaN/inf", |f| f.is_finite()).prop_map(Value::from),
        prop_oneof![Just(0i64), Just(1), Just(-1), Just(u32::MAX as i64 + 1)].prop_map(Value::from),
        "[a-z_:/.0-9 ]{0,24}".prop_map(Value::from),
        any::<String>().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-z_]{1,12}", inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every path to a value inside `v` (JSON pointers).
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match v {
        Value::Object(m) => m.iter().for_each(|(k, x)| pointers(x, format!("{at}/{k}"), out)),
        Value::Array(a) => a.iter().enumerate().for_each(|(i, x)| pointers(x, format!("{at}/{i}"), out)),
        _ => {}
    }
}

/// A value of the same kind as `old`: mostly-valid input that gets past
/// the parser into validation and the engine.
fn same_kind(old: &Value, r: u64, text: &str) -> Value {
    match old {
        Value::Bool(b) => Value::from(!b),
        Value::Number(n) if n.is_f64() => Value::from([0.0, 1e-9, 0.5, 1.0, 1e9, n.as_f64().unwrap_or(0.0) * 2.0][(r % 6) as usize]),
        Value::Number(n) => {
            let x = n.as_u64().unwrap_or(0);
            Value::from([0, 1, 2, x / 2, x.saturating_mul(10), x.saturating_add(1), u32::MAX as u64, r % 100_000][(r % 8) as usize])
        }
        Value::String(_) => Value::from(
            ["", "127.0.0.1:0", "unix:/run/x.sock", "http://app", "https://[::1]:443", "GET", "10.0.0.1:70000", text][(r % 8) as usize],
        ),
        Value::Array(a) if !a.is_empty() && r % 2 == 0 => Value::Array(a.iter().chain(a.iter()).cloned().collect()),
        Value::Array(_) => Value::Array(Vec::new()),
        other => other.clone(),
    }
}

/// A ready scenario (with every default filled in, so that every field can
/// be hit) with one value replaced: by one of the same kind (3 in 4) or by
/// any JSON value, or a key added.
fn arb_mutated_scenario() -> impl Strategy<Value = String> {
    (0..SCENARIOS.len(), prop::collection::vec((any::<prop::sample::Index>(), any::<u64>()), 1..4), arb_json(), 0u8..8, "[a-z_]{1,12}", "[ -~]{0,16}").prop_map(
        |(i, picks, value, how, key, text)| {
            let mut v: Value = serde_json::to_value(Scenario::from_json(SCENARIOS[i].1).unwrap()).unwrap();
            let mut ps = Vec::new();
            pointers(&v, String::new(), &mut ps);
            for (pick, r) in picks {
                let p = pick.get(&ps).clone();
                match (v.pointer_mut(&p), how) {
                    (Some(Value::Object(m)), 0) => {
                        m.insert(key.clone(), value.clone());
                    }
                    (Some(slot), 1) => *slot = value.clone(),
                    (Some(slot), _) => *slot = same_kind(slot, r, &text),
                    (None, _) => {}
                }
            }
            v.to_string()
        },
    )
}

/// Parses, validates and, when accepted, starts the scenario and runs a few thousand events.
fn exercise_scenario(text: &str) -> Result<(), TestCaseError> {
    match Scenario::from_json(text) {
        Ok(s) => {
            let mut sim = match Simulation::new(s) {
                Ok(sim) => sim,
                Err(e) => {
                    prop_assert!(!e.to_string().is_empty());
                    return Ok(());
                }
            };
            for _ in 0..2_000 {
                if !sim.step() {
                    break;
                }
            }
            let _ = sim.transcript();
        }
        Err(e) => prop_assert!(!e.to_string().is_empty(), "a refusal without a message"),
    }
    Ok(())
}

#[test]
fn scenario_parser_survives_mutated_scenarios() {
    use std::sync::atomic::{AtomicU64, Ordering};
    let accepted = AtomicU64::new(0);
    let n = cases();
    let mut r = runner(n);
    r.run(&arb_mutated_scenario(), |text| {
        if Scenario::from_json(&text).is_ok() {
            accepted.fetch_add(1, Ordering::Relaxed);
        }
        exercise_scenario(&text)
    })
    .unwrap();
    // The mutations must reach the engine, not only the parser's refusals.
    let a = accepted.load(Ordering::Relaxed);
    eprintln!("mutated scenarios: {a} of {n} accepted and run");
    assert!(a * 10 >= n as u64, "only {a} of {n} mutated scenarios were accepted");
}

/// Found by `scenario_parser_survives_mutated_scenarios` (CI, 2026-12-06): the ALB flavor's access
/// line multiplied a calendar second past year 9999 by 1,000,000 and overflowed, for a request sent
/// at 9.2e15 ms of virtual time. Every flavor runs it now (Caddy's and Envoy's log times did the same).
#[test]
fn a_request_at_the_end_of_virtual_time_does_not_overflow_a_log_time() {
    let text = r#"{"apps":[{"backlog":511,"body":"[{\"id\":1,\"name\":\"Ada\"},{\"id\":2,\"name\":\"Linus\"}]\n","headers_timeout_ms":66000,"keepalive_timeout_ms":65000,"latency_jitter_ms":0,"latency_ms":25,"listen":"127.0.0.1:3000","name":"app","pid":2817,"restart_ms":1000,"shed_queue_above":0,"tls":false,"workers":16}],"clients":{"arrival":"uniform","body_bytes":0,"burst_size":100,"count":1,"host":"localhost","ip":"127.0.0.1","method":"GET","path":"/users","rate_per_s":1.0,"requests":0,"retry":{"backoff":"none","base_ms":1000,"breaker":null,"budget":null,"cap_ms":30000,"deadline_ms":0,"hedge":null,"honour_retry_after":false,"jitter":"none","max_attempts":1,"multiplier":2.0,"retry_on":["502","503","504","connect_error"],"sleep_after_last":false,"throttle":null,"timeout_ms":0},"user_agent":"curl/8.5.0"},"description":"The fix: keepAliveTimeout 65000 and headersTimeout 66000 in the Node app, above the ALB's 60 s idle timeout, so the ALB closes idle connections first. Six 200s over one connection. Documented, not verified.","duration_ms":0,"faults":[],"hop_latency_us":1000,"proxy":{"access_log_format":"combined","apache":{"proxy_timeout_ms":60000,"retry_s":60,"ttl_s":0,"version":"2.4.71"},"auth_request":null,"caddy":{"dial_timeout_ms":3000,"lb_try_duration_ms":0,"lb_try_interval_ms":250,"response_header_timeout_ms":0,"version":"2.6.2"},"client_max_body_size":1048576,"error_log_level":"error","flavor":"alb","haproxy":{"abortonclose":false,"bufsize":16384,"redispatch":false,"retries":3,"timeout_client_ms":60000,"timeout_connect_ms":5000,"timeout_server_ms":60000,"version":"2.6.12"},"large_client_header_buffers_count":4,"large_client_header_buffers_size":8192,"limit_req":null,"listen":80,"localhost_ipv6":true,"proxy_buffer_size":4096,"proxy_buffers_count":8,"proxy_buffers_size":4096,"proxy_connect_timeout_ms":60000,"proxy_http_version":"1.0","proxy_next_upstream":["error","timeout"],"proxy_next_upstream_timeout_ms":0,"proxy_next_upstream_tries":0,"proxy_pass":"http://app","proxy_read_timeout_ms":60000,"proxy_send_timeout_ms":60000,"proxy_set_header":{},"proxy_ssl_name":"","proxy_ssl_server_name":false,"proxy_ssl_verify":false,"resolver":null,"resolver_timeout_ms":30000,"server_name":"localhost","server_tokens":true,"varnish":{"connect_timeout_ms":3500,"first_byte_timeout_ms":60000,"version":"7.1.1"},"version":"1.22.1","worker_connections":512,"worker_pid":4453},"requests":[[9221576800630746],{"at_ms":2000,"body_bytes":0,"host":"localhost","method":"GET","path":"/users"},{"at_ms":7026,"body_bytes":0,"host":"localhost","method":"GET","path":"/users"},{"at_ms":8000,"body_bytes":0,"host":"localhost","method":"GET","path":"/users"},{"at_ms":13028,"body_bytes":0,"host":"localhost","method":"GET","path":"/users"},{"at_ms":14000,"body_bytes":0,"host":"localhost","method":"GET","path":"/users"}],"seed":1,"start_unix":1795236224,"title":"ALB in front of Node: keepAliveTimeout above the idle timeout","upstream":{"keepalive":0,"keepalive_timeout_ms":60000,"name":"app","servers":[{"address":"127.0.0.1:3000","backup":false,"down":false,"fail_timeout_ms":10000,"max_fails":1,"weight":1}]},"version":3}"#;
    for flavor in ["nginx", "haproxy", "apache", "caddy", "varnish", "envoy", "alb"] {
        let mut v: Value = serde_json::from_str(text).unwrap();
        v["proxy"]["flavor"] = Value::from(flavor);
        exercise_scenario(&v.to_string()).unwrap();
    }
}

#[test]
fn scenario_parser_survives_arbitrary_text() {
    let mut r = runner(cases());
    let text = prop_oneof![any::<String>(), arb_json().prop_map(|v| v.to_string()), "\\{\"version\":1,[ -~]{0,80}\\}"];
    r.run(&text, |t| exercise_scenario(&t)).unwrap();
}

/// Fragments: random text, random base64 of random bytes or JSON, and real
/// links cut, re-typed or with a character flipped.
fn arb_fragment() -> impl Strategy<Value = String> {
    let real = (0..SCENARIOS.len(), any::<prop::sample::Index>(), any::<u8>(), 0u8..4).prop_map(|(i, at, byte, how)| {
        let s = Scenario::from_json(SCENARIOS[i].1).unwrap();
        let mut f = link::encode_fragment(&s).into_bytes();
        let k = at.index(f.len());
        match how {
            0 => f.truncate(k),
            1 => f[k] = byte,
            2 => f.insert(k, byte),
            _ => f.retain(|c| *c != b'_'),
        }
        String::from_utf8_lossy(&f).into_owned()
    });
    prop_oneof![
        any::<String>(),
        prop::collection::vec(any::<u8>(), 0..300).prop_map(|b| format!("s=1.{}", URL_SAFE_NO_PAD.encode(b))),
        arb_json().prop_map(|v| format!("s=1.{}", URL_SAFE_NO_PAD.encode(v.to_string()))),
        arb_mutated_scenario().prop_map(|t| format!("#s=1.{}", URL_SAFE_NO_PAD.encode(t))),
        real,
    ]
}

fn arb_query() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        Just("fault"), Just("flavor"), Just("retry"), Just("seed"), Just("theme"), Just("embed"),
        Just("lesson"), Just("view"), Just("present"), Just("start"), Just("x"),
    ];
    let value = prop_oneof![any::<String>(), "[a-z_0-9%+=&-]{0,20}", Just("app_down".to_string()), Just("18446744073709551616".to_string())];
    prop_oneof![
        any::<String>(),
        prop::collection::vec((key, value), 0..6).prop_map(|kv| format!("?{}", kv.into_iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&"))),
    ]
}

#[test]
fn link_decoder_survives_anything() {
    let mut r = runner(cases());
    r.run(&(arb_query(), arb_fragment()), |(q, f)| {
        let l = link::parse(&q, &f, SCENARIOS);
        // Whatever it returns is usable: an accepted scenario validates and starts.
        if let Some(s) = &l.scenario {
            prop_assert!(s.validate().is_ok());
            prop_assert!(Simulation::new(s.clone()).is_ok());
        }
        for p in &l.problems {
            prop_assert!(!p.is_empty());
        }
        Ok(())
    })
    .unwrap();
}

#[test]
fn lesson_parser_survives_anything() {
    let base = gateway_core::lesson::catalog::LESSONS[0].1;
    let mutated = (any::<prop::sample::Index>(), arb_json()).prop_map(move |(pick, value)| {
        let mut v: Value = serde_json::from_str(base).unwrap();
        let mut ps = Vec::new();
        pointers(&v, String::new(), &mut ps);
        let p = pick.get(&ps).clone();
        if let Some(slot) = v.pointer_mut(&p) {
            *slot = value;
        }
        v.to_string()
    });
    let mut r = runner(cases());
    r.run(&prop_oneof![any::<String>(), mutated], |t| {
        if let Err(e) = Lesson::from_json(&t) {
            prop_assert!(!e.is_empty());
        }
        Ok(())
    })
    .unwrap();
}
