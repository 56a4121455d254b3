//! The page's hidden benchmark entry point: `?bench=CASE[&requests=N][&runs=K]`
//! runs a benchmark case (src/bench.rs) to the end K times in this page,
//! timed with `performance.now()`, instead of mounting the app.
//! `?bench=memory[&keep=all]` runs `bench::long_run` (a simulated hour of
//! load) and reports the wasm memory after each 5 simulated minutes. The JSON
//! result (the same line `gateway-bench` prints natively) goes into
//! `[data-testid=bench-result]`; `scripts/bench` reads it from headless
//! Chromium on the release build.
//!
//! `?bench=corpus&n=N` runs scenarios 0..N of the property generator
//! (`sim::sample::random_scenario`) and leaves their transcripts in
//! `window.__gatewayCorpus` (an array of strings) for
//! e2e/determinism.test.mjs, which hashes them in JavaScript and compares
//! them with `gateway-sim --corpus N`. `&perturb=I` makes scenario I from
//! another seed, so that test can show it notices one differing scenario.

use leptos::prelude::*;

use crate::bench::{case, measure, names};

/// What the address asks for.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    pub case: String,
    pub requests: Option<u32>,
    pub runs: usize,
    /// `keep=all`: the memory run keeps every request.
    pub keep_all: bool,
    /// `n=N`: scenarios in the corpus run (at most `MAX_CORPUS`).
    pub n: u32,
    /// `perturb=I`: the corpus run makes scenario I from another seed.
    pub perturb: Option<u64>,
}

/// Most runs one page load does.
const MAX_RUNS: usize = 50;

/// Most scenarios one corpus run does.
const MAX_CORPUS: u32 = 100_000;

/// Reads `bench`, `requests` and `runs` from a query string (`?a=b&c=d`);
/// None when there is no `bench` parameter.
pub fn parse(search: &str) -> Option<Request> {
    let mut req = Request { case: String::new(), requests: None, runs: 1, keep_all: false, n: 1_000, perturb: None };
    let mut found = false;
    for pair in search.trim_start_matches('?').split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "bench" => {
                found = true;
                req.case = v.to_string();
            }
            "requests" => req.requests = v.parse().ok().filter(|n| *n > 0),
            "runs" => req.runs = v.parse().ok().filter(|n| *n > 0).unwrap_or(1).min(MAX_RUNS),
            "keep" => req.keep_all = v == "all",
            "n" => req.n = v.parse().ok().unwrap_or(req.n).min(MAX_CORPUS),
            "perturb" => req.perturb = v.parse().ok(),
            _ => {}
        }
    }
    found.then_some(req)
}

/// The benchmark the page's address asks for, if any.
pub fn requested() -> Option<Request> {
    let search = web_sys::window()?.location().search().ok()?;
    parse(&search)
}

fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map(|p| p.now()).unwrap_or(0.0)
}

/// Bytes of the wasm linear memory (it grows in 64 KiB pages and never
/// shrinks, so a flat figure means the heap never needed more).
fn wasm_memory_bytes() -> u64 {
    use wasm_bindgen::JsCast;
    wasm_bindgen::memory()
        .dyn_into::<js_sys::WebAssembly::Memory>()
        .ok()
        .and_then(|m| m.buffer().dyn_into::<js_sys::ArrayBuffer>().ok())
        .map_or(0, |b| b.byte_length() as u64)
}

/// Runs the generator's scenarios 0..n to the end and leaves their
/// transcripts in `window.__gatewayCorpus`; returns a summary.
fn corpus(n: u32, perturb: Option<u64>) -> String {
    use crate::sim::sample::random_scenario;
    let start = now_ms();
    let transcripts = js_sys::Array::new();
    let mut bytes = 0usize;
    for i in 0..u64::from(n) {
        let seed = if perturb == Some(i) { i + (1 << 32) } else { i };
        match crate::sim::run(random_scenario(seed)) {
            Ok(sim) => {
                let t = sim.transcript();
                bytes += t.len();
                transcripts.push(&t.into());
            }
            Err(e) => return serde_json::json!({ "error": format!("generated scenario {i} is invalid: {e}") }).to_string(),
        }
    }
    let ms = now_ms() - start;
    if js_sys::Reflect::set(&js_sys::global(), &"__gatewayCorpus".into(), &transcripts).is_err() {
        return serde_json::json!({ "error": "cannot set window.__gatewayCorpus" }).to_string();
    }
    serde_json::json!({ "case": "corpus", "n": n, "perturb": perturb, "bytes": bytes, "ms": ms.round() }).to_string()
}

fn run(req: &Request) -> String {
    if req.case == "corpus" {
        return corpus(req.n, req.perturb);
    }
    if req.case == "memory" {
        // A simulated hour of the healthy case at 50 requests/s as the
        // playground runs it (`?bench=memory&keep=all` keeps every request).
        let Some(healthy) = case("healthy") else { return String::new() };
        let sc = crate::bench::steady(healthy.scenario(None), 50.0, 3_600);
        let samples = crate::bench::long_run(sc, 3_600, 300, req.keep_all, wasm_memory_bytes);
        let growth = crate::bench::growth_mb_per_hour(&samples);
        return serde_json::json!({
            "case": "memory",
            "rate": 50,
            "seconds": 3_600,
            "keep_all": req.keep_all,
            "samples": samples,
            "growth_mb_per_hour": (growth * 100.0).round() / 100.0,
        })
        .to_string();
    }
    let Some(c) = case(&req.case) else {
        return serde_json::json!({ "error": format!("{:?} is not a benchmark case; cases: {}", req.case, names().join(", ")) })
            .to_string();
    };
    measure(c, req.requests, req.runs, now_ms).unwrap_or_else(|e| serde_json::json!({ "error": e }).to_string())
}

super::lazy::split_fn!(bench, fn run_split(req: Request) -> String {
    // The corpus and the cases run every flavor (`flavors.rs`).
    crate::sim::proxy::register_flavors();
    run(&req)
});

/// Mounts the benchmark page on `<body>` (instead of the app).
pub fn mount(req: Request) {
    leptos::mount::mount_to_body(move || view! { <Bench req=req.clone() /> });
}

/// Runs the benchmark once the page has painted, then shows its JSON.
#[component]
pub fn Bench(req: Request) -> impl IntoView {
    let result = RwSignal::new(String::new());
    let label = format!("benchmark {} × {}", req.case, req.runs);
    // The benchmarks run from a chunk of their own (`lazy::split_fn!`, issue 20): their cases are
    // scenarios read from JSON, which the main module never reads (ARCHITECTURE.md, invariant 12).
    gloo_timers::callback::Timeout::new(0, move || {
        leptos::task::spawn_local(async move {
            let out = run_split(req).await.unwrap_or_else(|_| serde_json::json!({ "error": "the benchmark's part of the simulator did not download" }).to_string());
            result.set(out);
        })
    })
    .forget();
    view! {
        <main class="bench">
            <h1>{label}</h1>
            <Show when=move || result.with(|r| r.is_empty())>
                <p data-testid="bench-running">"running…"</p>
            </Show>
            <pre data-testid="bench-result">{move || result.get()}</pre>
        </main>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_parameters() {
        assert_eq!(parse(""), None);
        assert_eq!(parse("?fault=slow_app"), None);
        assert_eq!(
            parse("?bench=retry_storm&requests=100000&runs=5"),
            Some(Request { case: "retry_storm".into(), requests: Some(100_000), runs: 5, keep_all: false, n: 1_000, perturb: None })
        );
        assert_eq!(parse("?bench=healthy&requests=x&runs=0"), Some(Request { case: "healthy".into(), requests: None, runs: 1, keep_all: false, n: 1_000, perturb: None }));
        assert_eq!(parse("?bench=healthy&runs=1000").unwrap().runs, MAX_RUNS);
        assert!(parse("?bench=memory&keep=all").unwrap().keep_all);
        let c = parse("?bench=corpus&n=50&perturb=7").unwrap();
        assert_eq!((c.case.as_str(), c.n, c.perturb), ("corpus", 50, Some(7)));
        assert_eq!(parse("?bench=corpus&n=9999999").unwrap().n, MAX_CORPUS);
        assert_eq!(parse("?bench=corpus&n=x").unwrap().n, 1_000);
    }
}
